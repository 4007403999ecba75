//! This node's own side: the operations it runs for the DC, the history it recorded (which
//! it re-reports after a sync), and graceful shutdown.

use tandem_totem::{Level, NodeId};
use tandem_xml::Document;

use crate::Node;
use crate::OpOutcome;
use crate::cibops::CibOp;
use crate::types::NodeTimer;

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

    pub(crate) fn exec_done(&mut self, call: u64, _outcome: OpOutcome) {
        self.log(
            Level::Warning,
            "execd",
            format!("result of unknown operation call {call} ignored"),
        );
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
        self.send_op(
            CibOp::Attrs {
                node: self.name.clone(),
                set: vec![("shutdown".into(), Some(self.now.epoch_s.to_string()))],
            },
            None,
        );
        let at = self.now.after_ms(SHUTDOWN_ESCALATION_MS);
        self.set_timer(NodeTimer::ShutdownEscalation, at);
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
        self.out.push(crate::Output::Exit);
    }

    /// Resources whose last recorded operation here leaves them active.
    pub(crate) fn active_resources(&self) -> Vec<String> {
        crate::cibops::active_resources(&self.local.mine, &self.me.to_string())
    }
}
