//! The DC (designated controller): chosen from the synced CIB and the group, it keeps
//! `node_state`, `have-quorum` and `dc-uuid` up to date.
//!
//! Choice: at the end of every sync round all members hold the same CIB and the same member
//! list, so they all compute the same DC without an election: the node named by the CIB's
//! `dc-uuid` if it is still a member (the current DC stays), else the member with the lowest
//! node id.

use tandem_totem::{Level, NodeId};

use crate::Node;
use crate::cibops::{CibOp, NodeRow};
use crate::types::NodeTimer;

/// What only the DC keeps.
#[derive(Debug, Default)]
pub struct DcState {
    /// The membership last written (avoids rewriting an unchanged one).
    last_rows: Option<(bool, Vec<NodeRow>)>,
}

impl Node {
    /// Computes the DC at the end of a sync round.
    pub(crate) fn choose_dc(&mut self) {
        let recorded = self
            .cib
            .root_attr("dc-uuid")
            .and_then(|v| v.parse::<NodeId>().ok())
            .filter(|id| self.members.contains(id));
        let dc = recorded.or_else(|| self.members.iter().min().copied());
        if dc != self.dc {
            let name = dc.map(|d| self.uname(d)).unwrap_or_default();
            if dc == Some(self.me) {
                self.log(
                    Level::Notice,
                    "controller",
                    format!("Node {name} (this node) is the DC"),
                );
            } else {
                self.log(Level::Info, "controller", format!("Node {name} is the DC"));
            }
            self.dc_state = DcState::default();
        }
        self.dc = dc;
    }

    pub(crate) fn is_dc(&self) -> bool {
        self.dc == Some(self.me) && self.sync.is_done()
    }

    /// A new round started: until it ends nothing is decided.
    pub(crate) fn dc_round_started(&mut self) {}

    /// The round ended (the DC is chosen): the DC writes membership and quorum.
    pub(crate) fn dc_synced(&mut self) {
        if self.is_dc() {
            self.write_membership();
        }
    }

    pub(crate) fn dc_quorum_changed(&mut self) {
        if self.is_dc() {
            self.write_membership();
        }
    }

    fn write_membership(&mut self) {
        let rows: Vec<NodeRow> = self
            .names
            .iter()
            .map(|(id, uname)| NodeRow {
                id: *id,
                uname: uname.clone(),
                member: self.members.contains(id),
                clean_down: !self.members.contains(id) && self.node_was_shutting_down(uname),
            })
            .collect();
        let key = (self.quorate, rows.clone());
        let recorded_dc = self.cib.root_attr("dc-uuid") == Some(self.me.to_string().as_str());
        if self.dc_state.last_rows.as_ref() == Some(&key) && recorded_dc {
            return;
        }
        self.dc_state.last_rows = Some(key);
        self.send_op(
            CibOp::Membership {
                dc: self.me,
                quorate: self.quorate,
                nodes: rows,
            },
            None,
        );
    }

    /// Whether `uname` has the `shutdown` attribute set in the CIB.
    pub(crate) fn node_was_shutting_down(&self, uname: &str) -> bool {
        crate::cibops::transient_attr(self.cib.document(), uname, "shutdown")
            .is_some_and(|v| v != "0")
    }

    /// An operation was applied (on every node; the DC reacts).
    pub(crate) fn dc_op_applied(&mut self, _op: &CibOp, _changed: bool) {}

    pub(crate) fn dc_timer(&mut self, _t: NodeTimer) {}

    pub(crate) fn transition_active(&self) -> bool {
        false
    }
}
