//! Process groups (like Corosync's CPG) and the per-view sync round.
//!
//! Group membership changes only through the total order, so every member sees the same
//! sequence of group views: `Join`/`Leave` messages, and after each view change one `Sync`
//! message from every member announcing its groups (and its votequorum nodeinfo). A member
//! that left the view leaves every group at once.

use std::collections::{BTreeMap, BTreeSet};

use super::{Level, Output, Totem};
use crate::NodeId;
use crate::quorum::{NodeInfo, QuorumEffects};
use crate::wire::{Body, MAX_GROUP_NAME, MAX_GROUPS, RingId};

#[derive(Debug, Clone, Default)]
pub(super) struct Groups {
    local: BTreeSet<String>,
    members: BTreeMap<String, BTreeSet<NodeId>>,
    /// Members whose Sync was delivered in this view, with their delivered tables.
    synced: BTreeMap<NodeId, Vec<(NodeId, u64, u64)>>,
    sync_done: bool,
    /// The boot of each node as its last Sync announced it: a member that restarted
    /// between two views (too fast for anyone to see it leave) left its groups with its
    /// old process, so it leaves them and joins again, as Corosync's CPG reports it.
    boots: BTreeMap<NodeId, u64>,
}

impl Groups {
    pub(super) fn sync_done(&self) -> bool {
        self.sync_done
    }

    pub(super) fn is_local(&self, g: &str) -> bool {
        self.local.contains(g)
    }

    pub(super) fn snapshot(&self) -> BTreeMap<String, Vec<NodeId>> {
        self.members
            .iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(g, m)| (g.clone(), m.iter().copied().collect()))
            .collect()
    }
}

impl Totem {
    fn group_changed(&mut self, group: &str) {
        let members: Vec<NodeId> = self
            .groups
            .members
            .get(group)
            .map(|m| m.iter().copied().collect())
            .unwrap_or_default();
        if self.groups.local.contains(group) {
            self.out.push(Output::GroupChanged {
                group: group.to_string(),
                members,
            });
        }
    }

    /// The view's sync barrier completed: every member now holds the same group
    /// memberships (a joining node learns the others' only from their Syncs), so each local
    /// group's members are reported again, changed or not — the one point of the total
    /// order where all members agree on them. Changes reported before it may differ from
    /// node to node within the view; later ones come from Join/Leave in the total order.
    pub(super) fn groups_agreed(&mut self) {
        let local: Vec<String> = self.groups.local.iter().cloned().collect();
        for g in local {
            self.group_changed(&g);
        }
    }

    /// A view was installed: departed nodes leave every group; a sync round starts.
    pub(super) fn groups_on_view(&mut self) {
        let members = self.members.clone();
        let mut changed = Vec::new();
        for (g, m) in self.groups.members.iter_mut() {
            let before = m.len();
            m.retain(|id| members.contains(id));
            if m.len() != before {
                changed.push(g.clone());
            }
        }
        for g in changed {
            self.group_changed(&g);
        }
        self.groups.synced.clear();
        self.groups.sync_done = false;
        let groups: Vec<String> = self.groups.local.iter().cloned().collect();
        let info = self.quorum.nodeinfo();
        let delivered = self
            .last_delivered
            .iter()
            .map(|(n, (b, l))| (*n, *b, *l))
            .collect();
        self.held.clear();
        if self
            .queue(
                Body::Sync {
                    groups,
                    info,
                    delivered,
                },
                true,
            )
            .is_err()
        {
            self.log(
                Level::Error,
                "MAIN",
                "sync message could not be queued".into(),
            );
        }
    }

    /// Returns true when this Sync completed the view's sync barrier.
    pub(super) fn on_sync(
        &mut self,
        from: NodeId,
        boot: u64,
        ring: RingId,
        groups: Vec<String>,
        info: NodeInfo,
        delivered: Vec<(NodeId, u64, u64)>,
    ) -> bool {
        if ring != self.ring
            || !self.members.contains(&from)
            || self.groups.synced.contains_key(&from)
        {
            return false; // a sync of the old view delivered during the flush, or a repeat
        }
        if self
            .groups
            .boots
            .insert(from, boot)
            .is_some_and(|b| b != boot)
        {
            let mut left = Vec::new();
            for (g, m) in self.groups.members.iter_mut() {
                if m.remove(&from) {
                    left.push(g.clone());
                }
            }
            for g in left {
                self.group_changed(&g);
            }
        }
        let mut changed = Vec::new();
        for (g, m) in self.groups.members.iter_mut() {
            if !groups.contains(g) && m.remove(&from) {
                changed.push(g.clone());
            }
        }
        for g in groups {
            if self
                .groups
                .members
                .entry(g.clone())
                .or_default()
                .insert(from)
            {
                changed.push(g);
            }
        }
        for g in changed {
            self.group_changed(&g);
        }
        let fx = self.quorum.on_nodeinfo(from, info);
        self.quorum_effects(fx);
        self.groups.synced.insert(from, delivered);
        if self.groups.sync_done
            || !self
                .members
                .iter()
                .all(|m| self.groups.synced.contains_key(m))
        {
            return false;
        }
        self.groups.sync_done = true;
        let mut table: BTreeMap<NodeId, (u64, u64)> = BTreeMap::new();
        for (n, b, l) in self.groups.synced.values().flatten() {
            let e = table.entry(*n).or_insert((*b, *l));
            *e = (*e).max((*b, *l));
        }
        self.last_delivered = table;
        // Our own messages someone in this view already delivered need no resubmission.
        if let Some((b, l)) = self.last_delivered.get(&self.p.me).copied()
            && b == self.p.boot_id
        {
            self.pending.retain(|p| p.local_id() > l || p.is_sync());
        }
        self.log(
            Level::Notice,
            "MAIN",
            "Completed service synchronization, ready to provide service.".into(),
        );
        true
    }

    pub(super) fn on_group_join(&mut self, from: NodeId, group: String) {
        if self
            .groups
            .members
            .entry(group.clone())
            .or_default()
            .insert(from)
        {
            self.group_changed(&group);
        }
    }

    pub(super) fn on_group_leave(&mut self, from: NodeId, group: String) {
        if self
            .groups
            .members
            .get_mut(&group)
            .is_some_and(|m| m.remove(&from))
        {
            self.group_changed(&group);
        }
    }

    pub(super) fn join_group(&mut self, group: String) {
        if group.len() > MAX_GROUP_NAME {
            self.out
                .push(Output::Refused(super::Refused::GroupName(MAX_GROUP_NAME)));
            return;
        }
        if self.groups.local.len() >= MAX_GROUPS || !self.groups.local.insert(group.clone()) {
            return;
        }
        if let Err(e) = self.queue(Body::Join { group }, false) {
            self.out.push(Output::Refused(e));
        }
    }

    pub(super) fn leave_group(&mut self, group: String) {
        if self.groups.local.remove(&group)
            && let Err(e) = self.queue(Body::Leave { group }, false)
        {
            self.out.push(Output::Refused(e));
        }
    }

    pub(super) fn request_expected(&mut self, votes: u32) {
        let r = self
            .quorum
            .check_expected(votes)
            .map_err(super::Refused::Quorum)
            .and_then(|()| self.queue(Body::SetExpected { votes }, false));
        if let Err(e) = r {
            self.out.push(Output::Refused(e));
        }
    }

    pub(super) fn quorum_effects(&mut self, fx: QuorumEffects) {
        if let Some(ms) = fx.arm_lms_timer_ms {
            self.lms_at = Some(self.now + super::ms(ms));
        }
        if let Some(q) = fx.quorate_changed {
            self.out.push(Output::QuorumChanged { quorate: q });
            let text = if q {
                "This node is within the primary component and will provide service."
            } else {
                "This node is within the non-primary component and will NOT provide any services."
            };
            self.log(Level::Notice, "QUORUM", text.into());
        }
    }
}
