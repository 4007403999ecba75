//! Closed-loop tests: schedule → execute (controller) → record (op_record into the CIB) →
//! reschedule, which must find nothing left to do.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use tandem_cib::Cib;
use tandem_scheduler::{Transition, schedule};

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

/// Work the controller handed out.
enum Job {
    Exec(String, OpSpec),
    Fence(String, String),
}

impl Job {
    fn name(&self) -> String {
        match self {
            Job::Exec(node, op) => name(node, op),
            Job::Fence(node, action) => format!("fence {node} ({action})"),
        }
    }
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
            // Above every call id in the fixtures' histories: an executor's call ids grow.
            call: 100,
            next_id: 0,
            log: Vec::new(),
        }
    }

    fn take(&mut self, out: Vec<ControllerOut>) -> Vec<Job> {
        let jobs = out
            .iter()
            .filter_map(|o| match o {
                ControllerOut::Exec { node, op } => Some(Job::Exec(node.clone(), op.clone())),
                ControllerOut::Fence { node, action } => {
                    Some(Job::Fence(node.clone(), action.clone()))
                }
                _ => None,
            })
            .collect();
        self.log.extend(out);
        jobs
    }

    /// Fencing succeeds: the DC records the node as down and forgets its history.
    fn fence(&mut self, node: &str) -> Vec<Job> {
        let id = self
            .cib
            .config
            .nodes
            .iter()
            .find(|n| n.uname == node)
            .map(|n| n.id.clone())
            .unwrap();
        let mut doc = self.cib.document().clone();
        fenced(&mut doc, &id, node).unwrap();
        self.cib = self.cib.successor(doc).unwrap();
        let out = self.ctl.fence_result(node, true, now(1));
        self.take(out)
    }

    /// Counts a failure as the node layer does (attrd).
    fn count_failure(&mut self, node: &str, op: &OpSpec, o: &OpOutcome) {
        let fatal = self
            .cib
            .config
            .cluster_options(now(0).date(), &mut Default::default());
        let Some(u) = fail_count_update(op, o, fatal.start_failure_is_fatal) else {
            return;
        };
        let id = op.meta["on_node_uuid"].clone();
        let mut doc = self.cib.document().clone();
        let root = doc.root().unwrap();
        let status = doc.child_named(root, "status").unwrap();
        let state = doc
            .children_named(status, "node_state")
            .find(|&n| doc.attr(n, "id") == Some(id.as_str()))
            .unwrap();
        let ta = match doc.child_named(state, "transient_attributes") {
            Some(t) => t,
            None => {
                let t = doc.create_element_with("transient_attributes", &[("id", &id)]);
                doc.append_child(state, t);
                t
            }
        };
        let ia = match doc.child_named(ta, "instance_attributes") {
            Some(i) => i,
            None => {
                let i = doc
                    .create_element_with("instance_attributes", &[("id", &format!("status-{id}"))]);
                doc.append_child(ta, i);
                i
            }
        };
        let current = doc
            .children_named(ia, "nvpair")
            .find(|&n| doc.attr(n, "name") == Some(u.count_attr.as_str()));
        let value = u.change.apply(current.and_then(|n| doc.attr(n, "value")));
        for (name, value) in [
            (u.count_attr.clone(), value),
            (u.last_failure_attr.clone(), EPOCH.to_string()),
        ] {
            let nv = doc.create_element_with(
                "nvpair",
                &[
                    ("id", &format!("status-{id}-{name}")),
                    ("name", &name),
                    ("value", &value),
                ],
            );
            let old = doc
                .children_named(ia, "nvpair")
                .find(|&n| doc.attr(n, "name") == Some(name.as_str()));
            if let Some(old) = old {
                doc.detach(old);
            }
            doc.append_child(ia, nv);
        }
        let _ = node;
        self.cib = self.cib.successor(doc).unwrap();
    }

    /// Records the outcome in the CIB as the executing node would, and reports it.
    fn complete(&mut self, node: &str, op: &OpSpec, o: &OpOutcome) -> Vec<Job> {
        self.call += 1;
        self.count_failure(node, op, o);
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
            waves.push(wave.iter().map(Job::name).collect());
            let mut next = Vec::new();
            for job in wave {
                match job {
                    Job::Exec(node, op) => {
                        let o = answer(&op, &node);
                        next.extend(self.complete(&node, &op, &o));
                    }
                    Job::Fence(node, _) => next.extend(self.fence(&node)),
                }
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
        let left: Vec<String> = (0..t.graph.actions.len())
            .filter(|&a| t.graph.actions[a].in_graph())
            .map(|a| label(&t, a))
            .collect();
        if !left.is_empty() {
            eprintln!("left to do: {left:?}\n{}", self.cib.to_xml());
        }
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

#[test]
fn clone_with_colocated_ip_settles() {
    let resources = format!(
        r#"{}<clone id="web-clone">{}</clone>"#,
        dummy("vip", ""),
        dummy("web", "")
    );
    let constraints = r#"<rsc_colocation id="vip-with-web" rsc="vip" with-rsc="web-clone" score="INFINITY"/><rsc_order id="web-then-vip" first="web-clone" then="vip" kind="Mandatory"/>"#;
    let mut l = Loop::new(cib(&resources, constraints, "", ""));
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&[
                "vip_monitor_0@n1",
                "vip_monitor_0@n2",
                "web_monitor_0@n1",
                "web_monitor_0@n2"
            ]),
            w(&["web_start_0@n1", "web_start_0@n2"]),
            w(&[
                "web_monitor_10000@n1",
                "vip_start_0@n1",
                "web_monitor_10000@n2"
            ]),
            w(&["vip_monitor_10000@n1"]),
        ]
    );
    assert_eq!(l.finished(), vec![(true, None)]);
    assert!(l.settled());
}

#[test]
fn move_stops_then_starts_and_settles() {
    let status = r#"<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="1"><lrm_resources><lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="a_last_0" operation_key="a_start_0" operation="start" transition-key="3:1:0:1" transition-magic="0:0;3:1:0:1" call-id="3" rc-code="0" op-status="0" interval="0" op-digest="x" on_node="n1"/><lrm_rsc_op id="a_monitor_10000" operation_key="a_monitor_10000" operation="monitor" transition-key="4:1:0:1" transition-magic="0:0;4:1:0:1" call-id="4" rc-code="0" op-status="0" interval="10000" on_node="n1"/></lrm_resource></lrm_resources></lrm></node_state><node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="2"><lrm_resources><lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="a_last_0" operation_key="a_monitor_0" operation="monitor" transition-key="1:1:7:1" transition-magic="0:7;1:1:7:1" call-id="1" rc-code="7" op-status="0" interval="0" on_node="n2"/></lrm_resource></lrm_resources></lrm></node_state>"#;
    let prefer = r#"<rsc_location id="cli-prefer-a" rsc="a" node="n2" score="INFINITY"/>"#;
    let mut l = Loop::new(cib(&dummy("a", ""), prefer, "", status));
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&["a_stop_0@n1"]),
            w(&["a_start_0@n2"]),
            w(&["a_monitor_10000@n2"])
        ]
    );
    assert_eq!(l.finished(), vec![(true, None)]);
    assert!(l.settled());
    // The stop dropped the recurring entry on n1; n2 has its own.
    let ops = |n: usize| -> Vec<String> {
        l.cib.status.nodes[n].resources[0]
            .ops
            .iter()
            .map(|o| o.id.clone())
            .collect()
    };
    assert_eq!(ops(0), w(&["a_last_0"]));
    assert_eq!(ops(1), w(&["a_last_0", "a_monitor_10000"]));
}

#[test]
fn failed_start_recovers_elsewhere_and_settles() {
    let status = r#"<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="1"><instance_attributes id="status-1"><nvpair id="status-1-fc" name="fail-count-a#start_0" value="INFINITY"/></instance_attributes></transient_attributes><lrm id="1"><lrm_resources><lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="a_last_0" operation_key="a_start_0" operation="start" transition-key="10:1:0:1" transition-magic="0:1;10:1:0:1" call-id="10" rc-code="1" op-status="0" interval="0" on_node="n1"/><lrm_rsc_op id="a_last_failure_0" operation_key="a_start_0" operation="start" transition-key="10:1:0:1" transition-magic="0:1;10:1:0:1" call-id="10" rc-code="1" op-status="0" interval="0" on_node="n1"/></lrm_resource></lrm_resources></lrm></node_state><node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="2"><lrm_resources><lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="a_last_0" operation_key="a_monitor_0" operation="monitor" transition-key="1:1:7:1" transition-magic="0:7;1:1:7:1" call-id="1" rc-code="7" op-status="0" interval="0" on_node="n2"/></lrm_resource></lrm_resources></lrm></node_state>"#;
    let mut l = Loop::new(cib(&dummy("a", ""), "", "", status));
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&["a_stop_0@n1"]),
            w(&["a_start_0@n2"]),
            w(&["a_monitor_10000@n2"])
        ]
    );
    assert_eq!(l.finished(), vec![(true, None)]);
    assert!(l.settled());
}

fn fresh_group(options: &str) -> Cib {
    let group = format!(
        r#"<group id="g">{}{}{}</group>"#,
        dummy("a", ""),
        dummy("b", ""),
        dummy("c", "")
    );
    cib(&group, "", options, "")
}

fn execs(out: &[ControllerOut]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            ControllerOut::Exec { node, op } => Some(name(node, op)),
            _ => None,
        })
        .collect()
}

fn finished_of(out: &[ControllerOut]) -> Vec<(bool, Option<String>)> {
    out.iter()
        .filter_map(|o| match o {
            ControllerOut::Finished {
                complete, reason, ..
            } => Some((*complete, reason.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn probe_finding_the_resource_running_aborts_and_the_loop_settles() {
    let mut l = Loop::new(fresh_group(""));
    // b already runs on n2 (started outside the cluster): its probe there finds it.
    let found = |op: &OpSpec, node: &str| {
        if op.rsc_id == "b" && node == "n2" && op.is_probe() {
            done(0)
        } else {
            done(op.target_rc)
        }
    };
    let waves = l.transition(&found);
    // The start of a, enabled by its probes, was in flight when the abort came: it finishes;
    // nothing new starts.
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
        ]
    );
    assert_eq!(
        l.finished(),
        vec![(
            false,
            Some(
                "Transition 1 aborted: b_monitor_0 on n2 returned rc=0 status=0 (expected rc=7)"
                    .to_string()
            )
        )]
    );
    // Recomputed with what the probe found: b moves to n1 behind a.
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&["a_monitor_10000@n1", "b_stop_0@n2"]),
            w(&["b_start_0@n1"]),
            w(&["b_monitor_10000@n1", "c_start_0@n1"]),
            w(&["c_monitor_10000@n1"]),
        ]
    );
    assert!(l.settled());
}

#[test]
fn timeout_fails_the_action_records_it_and_aborts() {
    // cluster-delay 60s (the default) + start timeout 20s (the default).
    let cib = cib(&dummy("a", ""), "", "", "");
    let t = schedule(&cib, now(0).date());
    let mut c = Controller::new("1");
    let out = c.start(1, &t, now(0));
    assert_eq!(execs(&out), w(&["a_monitor_0@n1", "a_monitor_0@n2"]));
    // Probe timeout 20s + cluster-delay 60s.
    assert!(out.contains(&ControllerOut::Timer { at_us: 80_000_000 }));
    let keys: Vec<(String, String)> = out
        .iter()
        .filter_map(|o| match o {
            ControllerOut::Exec { node, op } => Some((node.clone(), op.transition_key.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(keys[0].1, "2:1:7:1");
    // n1 answers; n2 never does.
    let out = c.op_result("n1", &keys[0].1, 7, 0, now(5_000_000));
    assert!(execs(&out).is_empty(), "the start waits for both probes");
    // Early: nothing expires; the timer is asked for again.
    assert_eq!(
        c.timer(now(79_999_999)),
        vec![ControllerOut::Timer { at_us: 80_000_000 }]
    );
    let out = c.timer(now(80_000_000));
    let records: Vec<&OpRecord> = out
        .iter()
        .filter_map(|o| match o {
            ControllerOut::Record { node, record, .. } if node == "n2" => Some(record),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].to_xml(),
        r#"<lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="a_last_0" operation_key="a_monitor_0" operation="monitor" crm-debug-origin="controld_record_action_timeout" crm_feature_set="3.19.0" transition-key="3:1:7:1" transition-magic="2:1;3:1:7:1" exit-reason="no result from n2 within 80000 ms (operation timeout plus cluster-delay)" on_node="n2" call-id="-1" rc-code="1" op-status="2" interval="0" last-run="1700000000" last-rc-change="1700000000" exec-time="80000" queue-time="0" op-digest="b51f09cbafbecf58ea871bdecf0b8ebf"/><lrm_rsc_op id="a_last_failure_0" operation_key="a_monitor_0" operation="monitor" crm-debug-origin="controld_record_action_timeout" crm_feature_set="3.19.0" transition-key="3:1:7:1" transition-magic="2:1;3:1:7:1" exit-reason="no result from n2 within 80000 ms (operation timeout plus cluster-delay)" on_node="n2" call-id="-1" rc-code="1" op-status="2" interval="0" last-run="1700000000" last-rc-change="1700000000" exec-time="80000" queue-time="0" op-digest="b51f09cbafbecf58ea871bdecf0b8ebf"/></lrm_resource>"#
    );
    assert!(execs(&out).is_empty());
    assert_eq!(
        finished_of(&out),
        vec![(
            false,
            Some(
                "Transition 1 aborted: a_monitor_0 on n2 did not report a result within 80000 ms (action timeout plus cluster-delay)"
                    .to_string()
            )
        )]
    );
    assert!(c.is_idle());
}

#[test]
fn batch_limit_bounds_the_actions_in_flight() {
    let mut l = Loop::new(fresh_group(
        r#"<nvpair id="o-b" name="batch-limit" value="2"/>"#,
    ));
    let waves = l.transition(&success);
    // Two at a time; each result frees a slot for the next ready action, in the same order
    // as without a limit.
    assert_eq!(
        waves,
        vec![
            w(&["a_monitor_0@n1", "a_monitor_0@n2"]),
            w(&["b_monitor_0@n1", "b_monitor_0@n2"]),
            w(&["c_monitor_0@n1", "c_monitor_0@n2"]),
            w(&["a_start_0@n1"]),
            w(&["a_monitor_10000@n1", "b_start_0@n1"]),
            w(&["b_monitor_10000@n1", "c_start_0@n1"]),
            w(&["c_monitor_10000@n1"]),
        ]
    );
    assert!(l.settled());
}

#[test]
fn abort_waits_for_actions_in_flight() {
    let cib = fresh_group("");
    let t = schedule(&cib, now(0).date());
    let mut c = Controller::new("1");
    let out = c.start(7, &t, now(0));
    let dispatched: Vec<(String, OpSpec)> = out
        .iter()
        .filter_map(|o| match o {
            ControllerOut::Exec { node, op } => Some((node.clone(), op.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(dispatched.len(), 6);
    let out = c.abort("the configuration changed", now(1));
    assert!(
        finished_of(&out).is_empty(),
        "six probes are still in flight"
    );
    for (i, (node, op)) in dispatched.iter().enumerate() {
        let out = c.op_result(node, &op.transition_key, 7, 0, now(2));
        assert!(execs(&out).is_empty(), "nothing new after an abort");
        if i < 5 {
            assert!(finished_of(&out).is_empty());
            assert!(!c.is_idle());
        } else {
            assert_eq!(
                finished_of(&out),
                vec![(
                    false,
                    Some("Transition 7 aborted: the configuration changed".to_string())
                )]
            );
        }
    }
    assert!(c.is_idle());
}

#[test]
fn results_of_other_transitions_and_nodes() {
    let cib = fresh_group("");
    let t = schedule(&cib, now(0).date());
    let mut c = Controller::new("1");
    let out = c.start(2, &t, now(0));
    let dispatched: Vec<(String, String)> = out
        .iter()
        .filter_map(|o| match o {
            ControllerOut::Exec { node, op } => Some((node.clone(), op.transition_key.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(dispatched.len(), 6);
    let (n1, key1) = dispatched[0].clone();
    assert_eq!((n1.as_str(), key1.as_str()), ("n1", "10:2:7:1"));
    // A success recorded by an older transition, or by another DC, changes nothing.
    for key in ["10:1:7:1", "10:2:7:2"] {
        let out = c.op_result("n1", key, 7, 0, now(1));
        assert!(out.is_empty(), "{key}: {out:?}");
    }
    // Our key reported by the wrong node is not the action's result.
    assert!(c.op_result("n2", &key1, 7, 0, now(1)).is_empty());
    // A failure recorded by an older transition aborts this one.
    c.op_result("n1", "4:1:0:1", 1, 0, now(1));
    for (i, (node, key)) in dispatched.iter().enumerate() {
        let out = c.op_result(node, key, 7, 0, now(2));
        assert!(execs(&out).is_empty());
        let done = finished_of(&out);
        if i < 5 {
            assert!(done.is_empty());
        } else {
            assert_eq!(
                done,
                vec![(
                    false,
                    Some("Transition 2 aborted: an operation outside this transition failed on n1 (4:1:0:1: rc=1 status=0)".to_string())
                )]
            );
        }
    }
}

#[test]
fn empty_transition_finishes_at_once() {
    let mut l = Loop::new(fresh_group(""));
    l.transition(&success);
    let t = schedule(&l.cib, now(0).date());
    let mut c = Controller::new("1");
    let out = c.start(9, &t, now(0));
    assert_eq!(finished_of(&out), vec![(true, None)]);
    assert!(c.is_idle());
}

#[test]
fn changed_definition_restarts_unchanged_does_not() {
    let mut l = Loop::new(cib(&dummy("a", ""), "", "", ""));
    l.transition(&success);
    assert!(l.settled());
    let changed = l
        .cib
        .to_xml()
        .replace(r#"value="/run/a""#, r#"value="/run/a2""#);
    l.cib = Cib::parse(&changed).unwrap();
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&["a_stop_0@n1"]),
            w(&["a_start_0@n1"]),
            w(&["a_monitor_10000@n1"])
        ]
    );
    assert!(l.settled());
}

#[test]
fn clone_instance_spec() {
    let resources = format!(
        r#"<clone id="web-clone"><meta_attributes id="wc-m"><nvpair id="wc-m1" name="clone-max" value="2"/></meta_attributes>{}</clone>"#,
        dummy(
            "web",
            r#"<op id="web-start" name="start" interval="0" timeout="40s"/>"#
        )
    );
    let cib = cib(&resources, "", "", "");
    let t = schedule(&cib, now(0).date());
    let start = (0..t.graph.actions.len())
        .find(|&a| {
            let act = &t.graph.actions[a];
            act.in_graph() && act.task == Task::Start && !act.pseudo
        })
        .unwrap();
    let spec = spec::op_spec(&t, start, 3, "1", now(0).date()).unwrap();
    let meta: Vec<(&str, &str)> = spec
        .meta
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(spec.rsc_id, "web");
    assert_eq!(spec.timeout_ms, 40_000);
    assert_eq!(spec.transition_key, format!("{start}:3:0:1"));
    assert_eq!(
        meta,
        vec![
            ("clone", "0"),
            ("clone_max", "2"),
            ("clone_node_max", "1"),
            ("globally_unique", "false"),
            ("notify", "false"),
            ("on_node", "n1"),
            ("on_node_uuid", "1"),
            ("timeout", "40000"),
        ]
    );
    assert_eq!(
        spec.params.get("state").map(String::as_str),
        Some("/run/web")
    );
}

#[test]
fn failed_start_counts_bans_and_recovers_elsewhere() {
    let mut l = Loop::new(cib(&dummy("a", ""), "", "", ""));
    let fail_start_on_n1 = |op: &OpSpec, node: &str| {
        if op.action == "start" && node == "n1" {
            OpOutcome {
                exit_reason: Some("cannot create /run/a".to_string()),
                ..done(1)
            }
        } else {
            done(op.target_rc)
        }
    };
    let waves = l.transition(&fail_start_on_n1);
    assert_eq!(
        waves,
        vec![
            w(&["a_monitor_0@n1", "a_monitor_0@n2"]),
            w(&["a_start_0@n1"])
        ]
    );
    assert_eq!(
        l.finished(),
        vec![(
            false,
            Some(
                "Transition 1 aborted: a_start_0 on n1 returned rc=1 status=0 (expected rc=0)"
                    .to_string()
            )
        )]
    );
    let attrs = &l.cib.status.nodes[0].transient[0].pairs;
    let names: Vec<(&str, &str)> = attrs
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        names,
        vec![
            ("fail-count-a#start_0", "INFINITY"),
            ("last-failure-a#start_0", "1700000000")
        ]
    );
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&["a_stop_0@n1"]),
            w(&["a_start_0@n2"]),
            w(&["a_monitor_10000@n2"])
        ]
    );
    assert!(l.settled());
}

#[test]
fn failed_monitor_increments_and_recovers_in_place() {
    let mut l = Loop::new(cib(&dummy("a", ""), "", "", ""));
    l.transition(&success);
    // The recurring monitor on n1 reports "not running": the node records it with the
    // monitor's own transition key; it counts once, and the resource restarts in place.
    let t = schedule(&l.cib, now(0).date());
    assert!(t.graph.actions.iter().all(|a| !a.in_graph()));
    let spec = {
        let first = schedule(&cib(&dummy("a", ""), "", "", ""), now(0).date());
        let m = (0..first.graph.actions.len())
            .find(|&a| first.graph.actions[a].in_graph() && first.graph.actions[a].interval_ms > 0)
            .unwrap();
        spec::op_spec(&first, m, 1, "1", now(0).date()).unwrap()
    };
    l.complete("n1", &spec, &done(7));
    let monitor_failure = fail_count_update(&spec, &done(7), true).unwrap();
    assert_eq!(monitor_failure.count_attr, "fail-count-a#monitor_10000");
    assert_eq!(monitor_failure.change, FailCountChange::Increment);
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&["a_stop_0@n1"]),
            w(&["a_start_0@n1"]),
            w(&["a_monitor_10000@n1"])
        ]
    );
    assert!(l.settled());
    // The failure stays on record for "Failed Resource Actions" until a cleanup.
    let n1: Vec<(String, i32)> = l.cib.status.nodes[0].resources[0]
        .ops
        .iter()
        .map(|o| (o.id.clone(), o.rc_code))
        .collect();
    assert_eq!(
        n1,
        vec![
            ("a_last_0".to_string(), 0),
            ("a_last_failure_0".to_string(), 7),
            ("a_monitor_10000".to_string(), 0)
        ]
    );
}

#[test]
fn fencing_a_lost_node_then_recovery_settles() {
    let status = r#"<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="1"><lrm_resources><lrm_resource id="fence" class="stonith" type="fence_dummy"><lrm_rsc_op id="fence_last_0" operation_key="fence_start_0" operation="start" transition-key="1:1:0:1" transition-magic="0:0;1:1:0:1" call-id="1" rc-code="0" op-status="0" interval="0" on_node="n1" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="a_last_0" operation_key="a_monitor_0" operation="monitor" transition-key="2:1:7:1" transition-magic="0:7;2:1:7:1" call-id="2" rc-code="7" op-status="0" interval="0" on_node="n1"/></lrm_resource></lrm_resources></lrm></node_state><node_state id="2" uname="n2" in_ccm="false" crmd="offline" join="down" expected="member"><lrm id="2"><lrm_resources><lrm_resource id="a" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="a_last_0" operation_key="a_start_0" operation="start" transition-key="3:1:0:1" transition-magic="0:0;3:1:0:1" call-id="3" rc-code="0" op-status="0" interval="0" on_node="n2"/></lrm_resource></lrm_resources></lrm></node_state>"#;
    let resources = format!(
        r#"<primitive id="fence" class="stonith" type="fence_dummy"/>{}"#,
        dummy("a", "")
    );
    let options = r#"<nvpair id="o-f2" name="stonith-enabled" value="true"/>"#;
    let text = cib(&resources, "", options, status).to_xml().replace(
        r#"name="fencing-enabled" value="false""#,
        r#"name="fencing-enabled" value="true""#,
    );
    let mut l = Loop::new(Cib::parse(&text).unwrap());
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&["fence n2 (reboot)"]),
            w(&["a_start_0@n1"]),
            w(&["a_monitor_10000@n1"])
        ]
    );
    assert_eq!(l.finished(), vec![(true, None)]);
    assert!(l.settled());
}

#[test]
fn node_leaving_fails_its_actions_in_flight() {
    let cib = fresh_group("");
    let t = schedule(&cib, now(0).date());
    let mut c = Controller::new("1");
    let out = c.start(4, &t, now(0));
    let on_n1: Vec<String> = out
        .iter()
        .filter_map(|o| match o {
            ControllerOut::Exec { node, op } if node == "n1" => Some(op.transition_key.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(on_n1.len(), 3);
    let out = c.node_left("n2", now(1));
    assert!(
        finished_of(&out).is_empty(),
        "the probes on n1 are still in flight"
    );
    for (i, key) in on_n1.iter().enumerate() {
        let out = c.op_result("n1", key, 7, 0, now(2));
        assert!(execs(&out).is_empty());
        if i == 2 {
            assert_eq!(
                finished_of(&out),
                vec![(
                    false,
                    Some("Transition 4 aborted: node n2 left the cluster".to_string())
                )]
            );
        }
    }
    assert!(c.is_idle());
}

#[test]
fn fail_count_rules() {
    let cib = cib(
        &dummy(
            "a",
            r#"<op id="a-start" name="start" interval="0" on-fail="restart"/>"#,
        ),
        "",
        "",
        "",
    );
    let t = schedule(&cib, now(0).date());
    let spec_of = |task: Task, interval: u64| {
        let a = (0..t.graph.actions.len())
            .find(|&a| {
                let act = &t.graph.actions[a];
                act.task == task && act.interval_ms == interval && act.node.is_some() && !act.pseudo
            })
            .unwrap();
        spec::op_spec(&t, a, 1, "1", now(0).date()).unwrap()
    };
    let probe = spec_of(Task::Monitor, 0);
    let start = spec_of(Task::Start, 0);
    let monitor = spec_of(Task::Monitor, 10_000);
    // Probes never count; a probe finding the resource is not even a failure.
    assert_eq!(fail_count_update(&probe, &done(1), true), None);
    assert!(!is_failure(&probe, &done(0)));
    assert!(is_failure(&probe, &done(1)));
    // Starts: INFINITY when start-failure-is-fatal, else one more.
    assert_eq!(
        fail_count_update(&start, &done(1), true).map(|u| u.change),
        Some(FailCountChange::Infinity)
    );
    assert_eq!(
        fail_count_update(&start, &done(1), false).map(|u| u.change),
        Some(FailCountChange::Increment)
    );
    assert_eq!(fail_count_update(&start, &done(0), true), None);
    assert_eq!(
        fail_count_update(&monitor, &done(7), true).map(|u| u.change),
        Some(FailCountChange::Increment)
    );
    // A configured on-fail is passed on; on-fail=ignore failures do not count.
    assert_eq!(start.meta["on_fail"], "restart");
    let mut ignored = monitor.clone();
    ignored
        .meta
        .insert("on_fail".to_string(), "ignore".to_string());
    assert_eq!(fail_count_update(&ignored, &done(7), true), None);
    assert_eq!(FailCountChange::Increment.apply(None), "1");
    assert_eq!(FailCountChange::Increment.apply(Some("2")), "3");
    assert_eq!(
        FailCountChange::Increment.apply(Some("INFINITY")),
        "INFINITY"
    );
    assert_eq!(FailCountChange::Infinity.apply(Some("2")), "INFINITY");
}

/// `rsc` without a clone instance number.
fn strip_instance(rsc: &str) -> &str {
    match rsc.rsplit_once(':') {
        Some((base, n)) if n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => rsc,
    }
}

/// The actions crm_simulate executes in a golden summary, as `rsc action[=ms] on node` (or
/// `fence node (action)`), clone instance numbers dropped, sorted.
fn golden_actions(summary: &str) -> Vec<String> {
    let mut out: Vec<String> = summary
        .lines()
        .filter_map(|l| {
            if let Some(rest) = l.trim().strip_prefix("* Resource action:") {
                let mut it = rest.split_whitespace();
                let (rsc, task, _on, node) = (it.next()?, it.next()?, it.next()?, it.next()?);
                Some(format!("{} {task} on {node}", strip_instance(rsc)))
            } else {
                let rest = l.trim().strip_prefix("* Fencing ")?;
                Some(format!("fence {rest}"))
            }
        })
        .collect();
    out.sort();
    out
}

/// Wave names (`rsc_action_ms@node`) in the golden form.
fn as_golden(waves: &[Vec<String>]) -> Vec<String> {
    let mut out: Vec<String> = waves
        .iter()
        .flatten()
        .map(|n| match n.split_once('@') {
            Some((key, node)) => {
                let (rest, ms) = key.rsplit_once('_').unwrap();
                let (rsc, task) = rest.rsplit_once('_').unwrap();
                let task = if ms == "0" {
                    task.to_string()
                } else {
                    format!("{task}={ms}")
                };
                format!("{} {task} on {node}", strip_instance(rsc))
            }
            None => n.clone(),
        })
        .collect();
    out.sort();
    out
}

/// Every scheduler golden case (checked against crm_simulate): the controller executes
/// exactly the actions crm_simulate executes, the transition completes, and the recorded
/// results leave nothing to do.
#[test]
fn scheduler_goldens_execute_and_settle() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scheduler/tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 20,
        "the golden cases are where they should be"
    );
    let mut executed = 0;
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&case).unwrap();
        let summary = std::fs::read_to_string(case.with_extension("summary")).unwrap();
        let mut l = Loop::new(Cib::parse(&text).unwrap());
        let waves = l.transition(&success);
        assert_eq!(as_golden(&waves), golden_actions(&summary), "{name}");
        executed += golden_actions(&summary).len();
        assert_eq!(l.finished(), vec![(true, None)], "{name}");
        assert!(l.settled(), "{name} settles after one transition");
    }
    assert!(
        executed > 100,
        "{executed} actions: the summaries were read"
    );
}

#[test]
fn fencing_gives_up_after_max_attempts() {
    let status = r#"<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/><node_state id="2" uname="n2" in_ccm="false" crmd="offline" join="down" expected="member"/>"#;
    let resources = r#"<primitive id="fence" class="stonith" type="fence_dummy"/>"#;
    let options = r#"<nvpair id="o-m" name="fencing-max-attempts" value="2"/>"#;
    let text = cib(resources, "", options, status).to_xml().replace(
        r#"name="fencing-enabled" value="false""#,
        r#"name="fencing-enabled" value="true""#,
    );
    let cib = Cib::parse(&text).unwrap();
    let t = schedule(&cib, now(0).date());
    let mut c = Controller::new("1");
    let attempt = |c: &mut Controller, id: u64| {
        let out = c.start(id, &t, now(0));
        let fences: Vec<&ControllerOut> = out
            .iter()
            .filter(|o| matches!(o, ControllerOut::Fence { .. }))
            .collect();
        assert_eq!(
            fences,
            vec![&ControllerOut::Fence {
                node: "n2".to_string(),
                action: "reboot".to_string()
            }]
        );
        // The fence device's probe (then its start) on n1 run alongside; they succeed.
        let mut all = out.clone();
        let mut done_keys = Vec::new();
        all.extend(c.fence_result("n2", false, now(1)));
        loop {
            let next = all.iter().find_map(|o| match o {
                ControllerOut::Exec { node, op } if !done_keys.contains(&op.transition_key) => {
                    Some((node.clone(), op.transition_key.clone(), op.target_rc))
                }
                _ => None,
            });
            let Some((node, key, rc)) = next else { break };
            done_keys.push(key.clone());
            all.extend(c.op_result(&node, &key, rc, 0, now(2)));
        }
        let out = all;
        finished_of(&out)
    };
    assert_eq!(
        attempt(&mut c, 1),
        vec![(
            false,
            Some("Transition 1 aborted: fencing of n2 failed".to_string())
        )]
    );
    assert!(c.retry_wanted());
    assert_eq!(
        attempt(&mut c, 2),
        vec![(
            false,
            Some("Transition 2 aborted: fencing of n2 failed 2 times (fencing-max-attempts=2): giving up until something else changes".to_string())
        )]
    );
    assert!(!c.retry_wanted());
    // A later success starts the count afresh.
    c.start(3, &t, now(0));
    assert!(c.retry_wanted());
    c.fence_result("n2", true, now(1));
    assert_eq!(
        attempt(&mut c, 4),
        vec![(
            false,
            Some("Transition 4 aborted: fencing of n2 failed".to_string())
        )]
    );
}

/// A small deterministic generator for the shuffled-completion test (tests only).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

/// The non-pseudo in-graph actions `a` waits for, looking through pseudo actions.
fn real_inputs(t: &Transition, a: ActIx) -> BTreeSet<ActIx> {
    let g = &t.graph;
    let mut out = BTreeSet::new();
    for &e in &g.by_then[a] {
        let f = g.edges[e].first;
        if !g.actions[f].in_graph() {
            continue;
        }
        if g.actions[f].pseudo {
            out.extend(real_inputs(t, f));
        } else {
            out.insert(f);
        }
    }
    out
}

fn with_batch_limit(cib: &Cib, limit: usize) -> Cib {
    let mut doc = cib.document().clone();
    let root = doc.root().unwrap();
    let set = doc
        .descend(
            root,
            &["configuration", "crm_config", "cluster_property_set"],
        )
        .unwrap();
    let nv = doc.create_element_with(
        "nvpair",
        &[
            ("id", "test-batch-limit"),
            ("name", "batch-limit"),
            ("value", &limit.to_string()),
        ],
    );
    doc.append_child(set, nv);
    Cib::from_document(doc).unwrap()
}

/// Results arriving in any order: an action is never dispatched before everything it is
/// ordered after has completed, no more than batch-limit actions are ever in flight, the
/// transition completes, and the cluster settles.
#[test]
fn shuffled_results_respect_orderings_and_batch_limit() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scheduler/tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    cases.sort();
    let mut rng = Lcg(7);
    let mut runs = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let base = Cib::parse(&std::fs::read_to_string(case).unwrap()).unwrap();
        for round in 0..8 {
            let limit = round % 4; // 0 = no limit
            let cib = if limit == 0 {
                base.clone()
            } else {
                with_batch_limit(&base, limit)
            };
            let t = schedule(&cib, now(0).date());
            let mut l = Loop::new(cib);
            let mut in_flight: Vec<(ActIx, Job)> = Vec::new();
            let mut completed: BTreeSet<ActIx> = BTreeSet::new();
            let ix_of = |job: &Job| -> ActIx {
                match job {
                    Job::Exec(_, op) => parse_transition_key(&op.transition_key).unwrap().action,
                    Job::Fence(node, _) => (0..t.graph.actions.len())
                        .find(|&a| {
                            let act = &t.graph.actions[a];
                            act.task == Task::Fence
                                && act.node.map(|n| t.world.nodes[n].uname.as_str())
                                    == Some(node.as_str())
                        })
                        .unwrap(),
                }
            };
            let out = l.ctl.start(1, &t, now(0));
            let mut fresh = l.take(out);
            loop {
                for job in fresh.drain(..) {
                    let a = ix_of(&job);
                    let missing: Vec<ActIx> =
                        real_inputs(&t, a).difference(&completed).copied().collect();
                    assert!(
                        missing.is_empty(),
                        "{name}: {a} dispatched before {missing:?}"
                    );
                    in_flight.push((a, job));
                }
                if limit > 0 {
                    assert!(
                        in_flight.len() <= limit,
                        "{name}: {} in flight",
                        in_flight.len()
                    );
                }
                if in_flight.is_empty() {
                    break;
                }
                let (a, job) = in_flight.remove(rng.below(in_flight.len()));
                completed.insert(a);
                fresh = match job {
                    Job::Exec(node, op) => l.complete(&node, &op, &done(op.target_rc)),
                    Job::Fence(node, _) => l.fence(&node),
                };
            }
            assert_eq!(l.finished(), vec![(true, None)], "{name}");
            let in_graph = (0..t.graph.actions.len())
                .filter(|&a| t.graph.actions[a].in_graph() && !t.graph.actions[a].pseudo)
                .count();
            assert_eq!(completed.len(), in_graph, "{name}: every action ran once");
            assert!(l.settled(), "{name}");
            runs += 1;
        }
    }
    assert_eq!(runs, cases.len() * 8);
}

/// The tutorial's standby round trip: the group leaves a node put in standby, and with
/// stickiness stays where it is when the node comes back.
#[test]
fn standby_moves_the_group_and_online_does_not_fail_back() {
    let group = format!(
        r#"<group id="g">{}{}{}</group>"#,
        dummy("a", ""),
        dummy("b", ""),
        dummy("c", "")
    );
    let sticky = cib(&group, "", "", "").to_xml().replace(
        "<constraints/>",
        r#"<constraints/><rsc_defaults><meta_attributes id="rd"><nvpair id="rd-s" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>"#,
    );
    let mut l = Loop::new(Cib::parse(&sticky).unwrap());
    l.transition(&success);
    assert!(l.settled());
    let standby = r#"<node id="1" uname="n1"><instance_attributes id="n1-ia"><nvpair id="n1-standby" name="standby" value="on"/></instance_attributes></node>"#;
    let text = l
        .cib
        .to_xml()
        .replace(r#"<node id="1" uname="n1"/>"#, standby);
    l.cib = Cib::parse(&text).unwrap();
    let waves = l.transition(&success);
    assert_eq!(
        waves,
        vec![
            w(&["c_stop_0@n1"]),
            w(&["b_stop_0@n1"]),
            w(&["a_stop_0@n1"]),
            w(&["a_start_0@n2"]),
            w(&["a_monitor_10000@n2", "b_start_0@n2"]),
            w(&["b_monitor_10000@n2", "c_start_0@n2"]),
            w(&["c_monitor_10000@n2"]),
        ]
    );
    assert!(l.settled());
    let text = l.cib.to_xml().replace(r#"value="on""#, r#"value="off""#);
    l.cib = Cib::parse(&text).unwrap();
    assert!(l.settled(), "back online, nothing fails back");
}
