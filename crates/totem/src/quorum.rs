//! votequorum: who may act when the cluster is split.
//!
//! A replica of Corosync's votequorum rules (votequorum.5, `exec/votequorum.c`), driven by
//! the same two events Corosync feeds it: a configuration change (the new view) and
//! *nodeinfo* messages that every member broadcasts, in the total order, after each view
//! change (votes, expected votes, quorate, wait-for-all status). Because every member
//! processes the same nodeinfo sequence, every member reaches the same verdict.
//!
//! * `quorum = max(⌊(highest_expected + 2) / 2⌋, ⌊(total_votes + 2) / 2⌋)`, never lowered
//!   except by `set_expected` (`tandem quorum -e`) or the last-man-standing timer.
//! * `expected_votes` is raised to `total_votes` whenever more votes are seen.
//! * two_node: with ≤ 2 members, quorum is 1.
//! * wait_for_all: not quorate until all expected votes were seen at once; set at start and
//!   whenever quorum is lost; cleared on joining a quorate partition.
//! * last_man_standing: after members leave a quorate partition, once the window expires
//!   and the partition is still quorate, expected votes := current members (may decrease).
//! * auto_tie_breaker: on an exact half split (`total_votes == expected / 2`), the half
//!   holding the tie-breaker node of the last quorate membership (lowest, highest, or the
//!   first listed id present) stays quorate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::NodeId;
use crate::config::{AtbNode, QuorumOptions};

/// What each member announces after every view change (votequorum's nodeinfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub votes: u32,
    pub expected_votes: u32,
    pub quorate: bool,
    pub wait_for_all_status: bool,
    pub first_trans: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct QNode {
    votes: u32,
    expected_votes: u32,
    member: bool,
}

/// A quorum verdict and the numbers behind it (what `tandem quorum -s` prints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumStatus {
    pub enabled: bool,
    pub quorate: bool,
    pub quorum: u32,
    pub expected_votes: u32,
    pub highest_expected: u32,
    pub total_votes: u32,
    pub two_node: bool,
    pub wait_for_all: bool,
    pub wait_for_all_status: bool,
    pub last_man_standing: bool,
    pub auto_tie_breaker: bool,
    /// (node, votes) of the current members.
    pub members: Vec<(NodeId, u32)>,
}

/// What the caller must do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuorumEffects {
    /// (Re)arm the last-man-standing timer for this many ms.
    pub arm_lms_timer_ms: Option<u64>,
    /// Quorate changed (new value).
    pub quorate_changed: Option<bool>,
}

/// votequorum's state on one node.
#[derive(Debug, Clone)]
pub struct VoteQuorum {
    opts: QuorumOptions,
    me: NodeId,
    nodes: BTreeMap<NodeId, QNode>,
    quorum: u32,
    quorate: bool,
    wait_for_all_status: bool,
    first_trans: bool,
    lms_armed: bool,
    tie_breaker: Option<NodeId>,
}

impl VoteQuorum {
    /// `my_votes`: this node's `quorum_votes`; `expected`: `quorum.expected_votes` or the
    /// sum of the nodelist's votes.
    pub fn new(opts: QuorumOptions, me: NodeId, my_votes: u32, expected: u32) -> VoteQuorum {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            me,
            QNode {
                votes: my_votes,
                expected_votes: expected,
                member: true,
            },
        );
        let mut q = VoteQuorum {
            wait_for_all_status: opts.wait_for_all,
            opts,
            me,
            nodes,
            quorum: 0,
            quorate: false,
            first_trans: true,
            lms_armed: false,
            tie_breaker: None,
        };
        q.recalculate(false, false);
        q
    }

    pub fn is_quorate(&self) -> bool {
        !self.opts.enabled || self.quorate
    }

    /// This node's nodeinfo, to broadcast after a view change.
    pub fn nodeinfo(&self) -> NodeInfo {
        let us = self.us();
        NodeInfo {
            votes: us.votes,
            expected_votes: us.expected_votes,
            quorate: self.quorate,
            wait_for_all_status: self.wait_for_all_status,
            first_trans: self.first_trans,
        }
    }

    fn us(&self) -> QNode {
        *self
            .nodes
            .get(&self.me)
            .expect("we are always in our own table")
    }

    fn us_mut(&mut self) -> &mut QNode {
        self.nodes
            .get_mut(&self.me)
            .expect("we are always in our own table")
    }

    /// A new view was installed (votequorum's confchg).
    pub fn on_view(&mut self, members: &[NodeId], left: &[NodeId]) -> QuorumEffects {
        let before = self.quorate;
        let mut fx = QuorumEffects::default();
        if members.len() > 1 {
            self.first_trans = false;
        }
        // Nodes outside the view stop counting at once; members whose nodeinfo has not
        // arrived yet count with what we last knew of them until it does.
        let mut lost = false;
        for (id, n) in self.nodes.iter_mut() {
            if *id != self.me && n.member && !members.contains(id) {
                n.member = false;
                lost = true;
            }
        }
        if self.opts.enabled && self.opts.last_man_standing {
            let n = members.len() as u32;
            let atb_side = self.opts.auto_tie_breaker && self.holds_tie_breaker();
            if (n >= self.quorum && !left.is_empty()) || (n <= self.quorum && atb_side) {
                self.lms_armed = true;
                fx.arm_lms_timer_ms = Some(self.opts.last_man_standing_window_ms);
            }
        }
        if lost || !left.is_empty() {
            self.recalculate(false, false);
        }
        if before != self.quorate {
            fx.quorate_changed = Some(self.quorate);
        }
        fx
    }

    /// A member's nodeinfo was delivered (in total order).
    pub fn on_nodeinfo(&mut self, from: NodeId, info: NodeInfo) -> QuorumEffects {
        let before = self.quorate;
        let mut allow_downgrade = false;
        if !self.quorate && info.quorate {
            // Joining a quorate partition: adopt its expected votes, even if lower.
            allow_downgrade = true;
            self.us_mut().expected_votes = info.expected_votes;
        }
        let expected = if info.quorate {
            info.expected_votes
        } else {
            self.us().expected_votes
        };
        let node = self.nodes.entry(from).or_insert(QNode {
            votes: 0,
            expected_votes: 0,
            member: false,
        });
        let changed = info.first_trans
            || !node.member
            || node.votes != info.votes
            || node.expected_votes != expected;
        node.votes = info.votes;
        node.expected_votes = expected;
        node.member = true;
        if self.opts.last_man_standing && info.votes > 1 {
            self.opts.last_man_standing = false;
            self.lms_armed = false;
        }
        if changed {
            self.recalculate(allow_downgrade, false);
        }
        if self.opts.wait_for_all && !info.wait_for_all_status && info.quorate {
            self.wait_for_all_status = false;
        }
        let mut fx = QuorumEffects::default();
        if before != self.quorate {
            fx.quorate_changed = Some(self.quorate);
        }
        fx
    }

    /// The last-man-standing window expired.
    pub fn on_lms_timer(&mut self) -> QuorumEffects {
        let before = self.quorate;
        self.lms_armed = false;
        if self.quorate {
            self.recalculate(true, true);
        }
        QuorumEffects {
            quorate_changed: (before != self.quorate).then_some(self.quorate),
            ..QuorumEffects::default()
        }
    }

    /// `tandem quorum -e N` (delivered in total order to every member).
    pub fn set_expected(&mut self, value: u32) -> QuorumEffects {
        let before = self.quorate;
        for n in self.nodes.values_mut().filter(|n| n.member) {
            if n.expected_votes > value {
                n.expected_votes = value;
            }
        }
        self.recalculate(true, false);
        QuorumEffects {
            quorate_changed: (before != self.quorate).then_some(self.quorate),
            ..QuorumEffects::default()
        }
    }

    /// Whether `set_expected(value)` is allowed: corosync refuses values that would make
    /// the cluster quorate with fewer votes than it has, or zero.
    pub fn check_expected(&self, value: u32) -> Result<(), String> {
        let total = self.total_votes();
        if value == 0 {
            return Err("expected votes must be at least 1".into());
        }
        if value < total {
            return Err(format!(
                "expected votes {value} is less than the {total} votes present"
            ));
        }
        Ok(())
    }

    fn total_votes(&self) -> u32 {
        self.nodes
            .values()
            .filter(|n| n.member)
            .map(|n| n.votes)
            .sum()
    }

    fn holds_tie_breaker(&self) -> bool {
        match self.tie_breaker {
            Some(id) => self.nodes.get(&id).is_some_and(|n| n.member),
            None => self.atb_candidate().is_some(),
        }
    }

    fn atb_candidate(&self) -> Option<NodeId> {
        let members = || {
            self.nodes
                .iter()
                .filter(|(_, n)| n.member)
                .map(|(id, _)| *id)
        };
        match &self.opts.auto_tie_breaker_node {
            AtbNode::Lowest => members().min(),
            AtbNode::Highest => members().max(),
            AtbNode::List(ids) => ids.iter().copied().find(|id| members().any(|m| m == *id)),
        }
    }

    fn recalculate(&mut self, allow_decrease: bool, by_current_nodes: bool) {
        let total = self.total_votes();
        if total > self.us().expected_votes {
            self.us_mut().expected_votes = total;
        }
        let members = self.nodes.values().filter(|n| n.member).count() as u32;
        let max_expected = if by_current_nodes { members } else { 0 };
        let mut highest = 0;
        for n in self.nodes.values_mut().filter(|n| n.member) {
            if max_expected > 0 {
                n.expected_votes = max_expected;
            } else {
                highest = highest.max(n.expected_votes);
            }
        }
        if max_expected > 0 {
            highest = max_expected;
        }
        let mut q = ((highest + 2) / 2).max((total + 2) / 2);
        if !allow_decrease {
            q = q.max(self.quorum);
        }
        if self.opts.two_node && members <= 2 {
            q = 1;
        }
        self.quorum = q;
        self.decide(total);
    }

    fn decide(&mut self, total: u32) {
        if self.opts.wait_for_all && self.wait_for_all_status {
            if total != self.us().expected_votes {
                self.quorate = false;
                return;
            }
            self.wait_for_all_status = false;
        }
        let mut quorate = self.quorum <= total;
        if quorate {
            self.tie_breaker = self.atb_candidate();
        }
        if self.opts.auto_tie_breaker
            && total == self.us().expected_votes / 2
            && self.holds_tie_breaker()
        {
            quorate = true;
        }
        self.quorate = quorate;
        if self.opts.wait_for_all {
            self.wait_for_all_status = !quorate;
        }
    }

    pub fn status(&self) -> QuorumStatus {
        let members: Vec<(NodeId, u32)> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.member)
            .map(|(id, n)| (*id, n.votes))
            .collect();
        QuorumStatus {
            enabled: self.opts.enabled,
            quorate: self.is_quorate(),
            quorum: self.quorum,
            expected_votes: self.us().expected_votes,
            highest_expected: self
                .nodes
                .values()
                .filter(|n| n.member)
                .map(|n| n.expected_votes)
                .max()
                .unwrap_or(0),
            total_votes: self.total_votes(),
            two_node: self.opts.two_node,
            wait_for_all: self.opts.wait_for_all,
            wait_for_all_status: self.wait_for_all_status,
            last_man_standing: self.opts.last_man_standing,
            auto_tie_breaker: self.opts.auto_tie_breaker,
            members,
        }
    }

    /// Whether the LMS timer is pending (for status output).
    pub fn lms_armed(&self) -> bool {
        self.lms_armed
    }
}

#[cfg(test)]
#[path = "quorum_tests.rs"]
mod tests;
