//! Closed-loop tests: schedule → execute (controller) → record (op_record into the CIB) →
//! reschedule, which must find nothing left to do.

#![allow(clippy::unwrap_used)]

use tandem_cib::Cib;
use tandem_scheduler::schedule;

use super::*;
use crate::OpOutcome;

const EPOCH: i64 = 1_700_000_000;

fn now(mono_us: u64) -> Now {
    Now::new(mono_us, EPOCH)
}

fn cib(resources: &str, constraints: &str, options: &str, status: &str) -> Cib {
    let status = if status.is_empty() {
        NODE_STATES.to_string()
    } else {
        status.to_string()
    };
    Cib::parse(&format!(
        r#"<cib crm_feature_set="3.19.0" validate-with="pacemaker-3.10" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o-f" name="fencing-enabled" value="false"/>{options}</cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{status}</status>
</cib>"#
    ))
    .unwrap()
}

const NODE_STATES: &str = r#"<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/><node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>"#;

fn dummy(id: &str, extra: &str) -> String {
    format!(
        r#"<primitive id="{id}" class="ocf" provider="pacemaker" type="Dummy"><instance_attributes id="{id}-ia"><nvpair id="{id}-s" name="state" value="/run/{id}"/></instance_attributes><operations><op id="{id}-mon" name="monitor" interval="10s" timeout="15s"/>{extra}</operations></primitive>"#
    )
}

/// A cluster driven by the controller; agents answer with `answer`.
struct Loop {
    cib: Cib,
    ctl: Controller,
    call: i64,
    next_id: u64,
    /// Every controller output, in order.
    log: Vec<ControllerOut>,
}

type Answer<'a> = &'a dyn Fn(&OpSpec, &str) -> OpOutcome;

fn done(rc: i32) -> OpOutcome {
    OpOutcome {
        rc,
        op_status: crate::outcome::op_status::DONE,
        exit_reason: None,
        started_epoch_s: EPOCH,
        exec_time_ms: 12,
        queue_time_ms: 0,
    }
}

fn success(op: &OpSpec, _node: &str) -> OpOutcome {
    done(op.target_rc)
}

fn name(node: &str, op: &OpSpec) -> String {
    format!("{}@{node}", op.operation_key())
}

impl Loop {
    fn new(cib: Cib) -> Loop {
        Loop {
            cib,
            ctl: Controller::new("1"),
            call: 0,
            next_id: 0,
            log: Vec::new(),
        }
    }

    fn take(&mut self, out: Vec<ControllerOut>) -> Vec<(String, OpSpec)> {
        let execs = out
            .iter()
            .filter_map(|o| match o {
                ControllerOut::Exec { node, op } => Some((node.clone(), op.clone())),
                _ => None,
            })
            .collect();
        self.log.extend(out);
        execs
    }

    /// Records the outcome in the CIB as the executing node would, and reports it.
    fn complete(&mut self, node: &str, op: &OpSpec, o: &OpOutcome) -> Vec<(String, OpSpec)> {
        self.call += 1;
        let rec = op_record(op, node, o, self.call);
        let node_id = op.meta["on_node_uuid"].clone();
        self.cib = rec.apply_to_cib(&self.cib, &node_id, node).unwrap();
        let out = self
            .ctl
            .op_result(node, &op.transition_key, o.rc, o.op_status, now(1));
        self.take(out)
    }

    /// Schedules and executes one transition in waves: everything dispatched by one wave's
    /// results forms the next wave. Returns the waves.
    fn transition(&mut self, answer: Answer<'_>) -> Vec<Vec<String>> {
        let t = schedule(&self.cib, now(0).date());
        self.next_id += 1;
        let out = self.ctl.start(self.next_id, &t, now(0));
        let mut wave = self.take(out);
        let mut waves = Vec::new();
        while !wave.is_empty() {
            waves.push(wave.iter().map(|(n, op)| name(n, op)).collect());
            let mut next = Vec::new();
            for (node, op) in wave {
                let o = answer(&op, &node);
                next.extend(self.complete(&node, &op, &o));
            }
            wave = next;
        }
        assert!(self.ctl.is_idle(), "the transition finished");
        waves
    }

    fn finished(&self) -> Vec<(bool, Option<String>)> {
        self.log
            .iter()
            .filter_map(|o| match o {
                ControllerOut::Finished {
                    complete, reason, ..
                } => Some((*complete, reason.clone())),
                _ => None,
            })
            .collect()
    }

    /// Nothing left to do: the scheduler's graph has no action to execute.
    fn settled(&self) -> bool {
        let t = schedule(&self.cib, now(0).date());
        t.graph.actions.iter().all(|a| !a.in_graph())
    }
}

fn w(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn group_of_three_starts_in_order_and_settles() {
    let group = format!(
        r#"<group id="g">{}{}{}</group>"#,
        dummy("a", ""),
        dummy("b", ""),
        dummy("c", "")
    );
    let mut l = Loop::new(cib(&group, "", "", ""));
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&[
                "a_monitor_0@n1",
                "a_monitor_0@n2",
                "b_monitor_0@n1",
                "b_monitor_0@n2",
                "c_monitor_0@n1",
                "c_monitor_0@n2"
            ]),
            w(&["a_start_0@n1"]),
            w(&["a_monitor_10000@n1", "b_start_0@n1"]),
            w(&["b_monitor_10000@n1", "c_start_0@n1"]),
            w(&["c_monitor_10000@n1"]),
        ]
    );
    assert_eq!(l.finished(), vec![(true, None)]);
    assert!(l.settled());
}
