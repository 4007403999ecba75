//! This node's own side: the operations it runs for the DC, the history it recorded (which
//! it re-reports after a sync), and graceful shutdown.

use std::collections::BTreeMap;

use tandem_totem::{Level, NodeId};
use tandem_xml::Document;

use crate::cibops::{CibOp, FailWire, RecordWire};
use crate::controller::{OpSpec, fail_count_update, op_record};
use crate::types::{CallId, ExecOp, NodeTimer, Output};
use crate::wire::ExecMsg;
use crate::{Node, OpOutcome};

/// How long a graceful shutdown may take before the node leaves anyway (Pacemaker's
/// `shutdown-escalation` default, 20 minutes).
pub const SHUTDOWN_ESCALATION_MS: u64 = 20 * 60 * 1000;

/// The local state.
#[derive(Debug)]
pub struct Local {
    /// `<cib><status><node_state><lrm>` holding only what this node recorded since it
    /// started: the truth about its executor, re-reported after a sync.
    pub(crate) mine: Document,
    /// A graceful shutdown is under way.
    pub(crate) shutting_down: bool,
    pub(crate) calls: Calls,
    exited: bool,
}

impl Local {
    pub fn new(me: NodeId, name: &str) -> Local {
        let mut mine = Document::with_root("cib");
        let root = mine.root().expect("with_root makes a root");
        let status = mine.create_element("status");
        mine.append_child(root, status);
        let id = me.to_string();
        let ns = mine.create_element_with("node_state", &[("id", &id), ("uname", name)]);
        mine.append_child(status, ns);
        let lrm = mine.create_element_with("lrm", &[("id", &id)]);
        mine.append_child(ns, lrm);
        let lrs = mine.create_element("lrm_resources");
        mine.append_child(lrm, lrs);
        Local {
            mine,
            shutting_down: false,
            calls: Calls::default(),
            exited: false,
        }
    }
}

impl Node {
    /// A CIB operation was applied: keep our own history in step with cleanups.
    pub(crate) fn local_op_applied(&mut self, op: &CibOp) {
        if let CibOp::Cleanup { resource, node } = op
            && node.as_deref().is_none_or(|n| n == self.name)
        {
            crate::cibops::cleanup_doc(&mut self.local.mine, resource.as_deref(), Some(&self.name));
        }
    }

    pub(crate) fn start_shutdown(&mut self) {
        if self.local.shutting_down {
            return;
        }
        self.local.shutting_down = true;
        self.log(
            Level::Notice,
            "controller",
            "Requesting shutdown: resources move away first".into(),
        );
        self.request_shutdown_attr();
        let at = self.now.after_ms(SHUTDOWN_ESCALATION_MS);
        self.set_timer(NodeTimer::ShutdownEscalation, at);
    }

    /// After a sync round (and the operations held during it): a shutdown under way whose
    /// request the CIB lacks (the round dropped it, or the winning CIB never had it) is
    /// asked for again.
    pub(crate) fn shutdown_after_round(&mut self) {
        if self.local.shutting_down
            && !self.local.exited
            && self.sync.is_done()
            && !self.node_was_shutting_down(&self.name.clone())
        {
            self.request_shutdown_attr();
        }
    }

    fn request_shutdown_attr(&mut self) {
        self.send_op(
            CibOp::Attrs {
                node: self.name.clone(),
                set: vec![("shutdown".into(), Some(self.now.epoch_s.to_string()))],
            },
            None,
        );
    }

    pub(crate) fn shutdown_escalated(&mut self) {
        if self.local.shutting_down && !self.local.exited {
            self.log(
                Level::Error,
                "controller",
                "Shutdown escalation: leaving with resources still active".into(),
            );
            self.exit();
        }
    }

    /// Leaves once the shutdown request is in the CIB and nothing runs here any more.
    pub(crate) fn check_shutdown_done(&mut self) {
        if !self.local.shutting_down || self.local.exited || !self.sync.is_done() {
            return;
        }
        if !self.node_was_shutting_down(&self.name.clone()) {
            return;
        }
        if self.active_resources().is_empty() {
            self.log(
                Level::Notice,
                "controller",
                "No resources active here any more: shutting down".into(),
            );
            self.exit();
        }
    }

    fn exit(&mut self) {
        self.local.exited = true;
        self.fail_unsafe_replies();
        self.out.push(crate::Output::Exit);
    }

    /// Resources whose last recorded operation here leaves them active.
    pub(crate) fn active_resources(&self) -> Vec<String> {
        crate::cibops::active_resources(&self.local.mine, &self.me.to_string())
    }
}

/// This node's operations in flight (recurring ones until cancelled).
#[derive(Debug, Default)]
pub struct Calls {
    pub(crate) by_call: BTreeMap<CallId, OpSpec>,
    next_call: CallId,
    /// `call-id` of the records this node writes (Pacemaker's executor call counter).
    next_record: i64,
}

fn exec_op(s: &OpSpec) -> ExecOp {
    ExecOp {
        rsc_id: s.rsc_id.clone(),
        class: s.class.clone(),
        provider: s.provider.clone(),
        kind: s.kind.clone(),
        action: s.action.clone(),
        interval_ms: s.interval_ms,
        timeout_ms: s.timeout_ms,
        params: s.params.clone(),
        meta: s.meta.clone(),
    }
}

/// An rc as `crm_mon` names it.
pub fn rc_name(rc: i32) -> &'static str {
    match rc {
        0 => "ok",
        1 => "error",
        2 => "invalid parameter",
        3 => "unimplemented feature",
        4 => "insufficient privileges",
        5 => "not installed",
        6 => "not configured",
        7 => "not running",
        8 => "promoted",
        9 => "promoted (failed)",
        _ => "unknown",
    }
}

impl Node {
    /// The DC asked someone to run an operation; if it is us, the daemon runs it.
    pub(crate) fn on_exec(&mut self, sender: NodeId, msg: ExecMsg) {
        if msg.target != self.name {
            return;
        }
        if Some(sender) != self.dc {
            self.log(
                Level::Warning,
                "execd",
                format!(
                    "ignoring a {} request from node {} which is not the DC",
                    msg.action,
                    self.uname(sender)
                ),
            );
            return;
        }
        let spec = msg.into_spec();
        // Stopping a resource cancels its recurring operations first; a recurring
        // operation submitted again replaces the previous one.
        let doomed: Vec<CallId> = self
            .local
            .calls
            .by_call
            .iter()
            .filter(|(_, s)| {
                s.interval_ms > 0
                    && s.rsc_id == spec.rsc_id
                    && (spec.action == "stop"
                        || (s.action == spec.action && s.interval_ms == spec.interval_ms))
            })
            .map(|(c, _)| *c)
            .collect();
        for call in doomed {
            self.local.calls.by_call.remove(&call);
            self.out.push(Output::CancelExec { call });
        }
        self.local.calls.next_call += 1;
        let call = self.local.calls.next_call;
        self.log(
            Level::Info,
            "execd",
            format!(
                "Requesting {} on {} (call {call}, transition key {})",
                spec.operation_key(),
                self.name,
                spec.transition_key
            ),
        );
        self.out.push(Output::Exec {
            call,
            op: exec_op(&spec),
        });
        self.local.calls.by_call.insert(call, spec);
    }

    /// The daemon ran one of our operations: record it (replicated) and count a failure.
    pub(crate) fn exec_done(&mut self, call: CallId, outcome: OpOutcome) {
        let Some(spec) = self.local.calls.by_call.get(&call).cloned() else {
            self.log(
                Level::Warning,
                "execd",
                format!("result of unknown or cancelled operation call {call} ignored"),
            );
            return;
        };
        if spec.interval_ms == 0 {
            self.local.calls.by_call.remove(&call);
        }
        if outcome.op_status == crate::outcome::op_status::CANCELLED {
            return;
        }
        self.local.calls.next_record += 1;
        let record = op_record(&spec, &self.name, &outcome, self.local.calls.next_record);
        let level = if record.entries.len() > 1 {
            Level::Warning
        } else {
            Level::Notice
        };
        self.log(
            level,
            "execd",
            format!(
                "Result of {} operation for {} on {}: {} ({}){}",
                spec.action,
                spec.rsc_id,
                self.name,
                outcome.rc,
                rc_name(outcome.rc),
                outcome
                    .exit_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        );
        let me = self.me.to_string();
        let name = self.name.clone();
        if let Err(e) = record.apply_to(&mut self.local.mine, &me, &name) {
            self.log(
                Level::Error,
                "execd",
                format!("cannot keep our history: {e}"),
            );
        }
        let fatal = self
            .cib
            .config
            .cluster_options(self.now.date(), &mut Default::default())
            .start_failure_is_fatal;
        let fail = fail_count_update(&spec, &outcome, fatal).map(FailWire::from);
        self.send_op(
            CibOp::Record {
                node: name,
                record: RecordWire::from(record),
                fail,
            },
            None,
        );
    }
}
