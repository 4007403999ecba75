//! CIB sync at membership changes.
//!
//! Every view totem installs starts a *round* (named by the ring and its members, so every
//! member names it the same; every node joins the group as it starts, so the view's
//! members are the group's once the view's sync barrier has passed). Rounds follow views
//! rather than group changes because a node that restarts quickly may stay in the group
//! as the others see it — only the new view tells them it needs a sync. The round's
//! messages come after the view's barrier in the total order, as everything else of the
//! view does, so all members hold the same operations during the round. In the total order:
//!
//! 1. each member broadcasts its CIB version and digest (`SyncVersion`);
//! 2. once all members' versions are delivered, everyone picks the same winner: the highest
//!    `admin_epoch` (an administrator's override), then the CIB of the partition that had
//!    quorum last (the highest sequence of a ring in which a member finished a sync with
//!    quorum), then the highest `(epoch, num_updates)`, ties going to the lowest node id. Without the first key a partition without quorum
//!    (whose status churn, or a change only it delivered, gave it a higher version) won the
//!    merge and the quorate side's acknowledged changes were lost (simulator seed 54);
//!    a partition without quorum changes no configuration, so nothing acknowledged is lost
//!    when its CIB loses;
//! 3. if every digest equals the winner's, the round is over; otherwise the winner
//!    broadcasts its CIB (`SyncCib`, in parts if large) and everyone adopts it on delivery;
//! 4. every member re-asserts the transient attributes the members hold and the round's CIB
//!    lacks (as Pacemaker's attrd re-writes its values after an election: the winning CIB
//!    keeps its values, a value some member saw deleted stays deleted, see
//!    [`crate::cibops::reassert_attrs`]), then removes the members' transient attributes of
//!    an earlier life (set for another boot of theirs, see
//!    [`crate::cibops::forget_earlier_lives`]) — the same change at the same point of the
//!    order everywhere (every member's `SyncVersion` carries its attributes), so nothing is
//!    broadcast for it; each node
//!    then re-reports its own executor history, and the operations held during the round
//!    are applied in delivery order (an attribute set for a restarted node while it was
//!    joining is applied after the clean-up, so it is kept).
//!
//! Since the round ends at the same point of the total order on every member, every member
//! applies the same operations to the same CIB afterwards. A new round drops what the old
//! one held (see [`Node::drop_held`](crate::Node)).

use std::collections::{BTreeMap, BTreeSet};

use tandem_cib::Cib;
use tandem_totem::{Level, NodeId};

use crate::Node;
use crate::cibops::{AttrEntry, CibOp};
use crate::wire::{Body, Round};

type Triple = (u64, u64, u64);
/// What decides a round's winner: (admin_epoch, last quorate ring sequence, CIB version).
type Rank = (u64, u64, Triple);

/// Where the sync of the current round is.
#[derive(Debug, Default)]
pub struct Sync {
    /// `None`: not in the group yet (nothing applied, everything held).
    round: Option<Round>,
    versions: BTreeMap<NodeId, (Rank, String)>,
    /// The boot of each member, from its `SyncVersion` (complete once the round is done).
    pub(crate) boots: BTreeMap<NodeId, u64>,
    /// Each member's transient attributes and the ones they saw deleted, from their
    /// `SyncVersion`s (re-asserted at the end of the round).
    pub(crate) attr_tables: BTreeMap<NodeId, Vec<AttrEntry>>,
    pub(crate) attr_deleted: BTreeSet<(String, String)>,
    winner: Option<NodeId>,
    /// The winner's CIB has the same content as ours had at the round's start.
    kept_mine: bool,
    done: bool,
    /// Rounds completed since this node started.
    pub(crate) completed: u64,
    /// Sequence of the last ring in which this node finished a sync round with quorum
    /// (or gained quorum synced); 0 since it started until then.
    pub(crate) quorate_seq: u64,
}

impl Sync {
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The round under way (or just completed).
    #[cfg(test)]
    pub(crate) fn round(&self) -> Option<&Round> {
        self.round.as_ref()
    }

    /// Whether `round` is the round under way (or just completed).
    pub(crate) fn is_round(&self, round: &Round) -> bool {
        self.round.as_ref() == Some(round)
    }
}

fn triple(c: &Cib) -> Triple {
    (
        c.version.admin_epoch,
        c.version.epoch,
        c.version.num_updates,
    )
}

impl Node {
    pub(crate) fn start_round(&mut self, round: Round) {
        self.sync.round = Some(round.clone());
        self.sync.versions.clear();
        self.sync.boots.clear();
        self.sync.attr_tables.clear();
        self.sync.attr_deleted.clear();
        self.sync.winner = None;
        self.sync.kept_mine = false;
        self.sync.done = false;
        // A node that has not completed a round since it started has no attribute memory
        // (its CIB from disk may hold values deleted since): it re-asserts nothing.
        let attrs = if self.sync.completed > 0 {
            crate::cibops::transient_table(self.cib.document())
        } else {
            Vec::new()
        };
        let body = Body::SyncVersion {
            round,
            version: triple(&self.cib),
            digest: self.cib.document().digest(),
            quorate_seq: self.sync.quorate_seq,
            came_from: self.path.clone(),
            attrs,
            deleted: self.attr_deleted.iter().cloned().collect(),
        };
        self.broadcast(&body, None);
    }

    pub(crate) fn on_sync_version(
        &mut self,
        from: NodeId,
        boot: u64,
        round: Round,
        rank: Rank,
        digest: String,
    ) {
        if self.sync.done || self.sync.round.as_ref() != Some(&round) {
            return;
        }
        if !round.members.contains(&from) {
            return;
        }
        self.sync.versions.insert(from, (rank, digest));
        self.sync.boots.insert(from, boot);
        if self.sync.winner.is_some() || self.sync.versions.len() < round.members.len() {
            return;
        }
        // Highest rank; among equals the lowest node id (BTreeMap iterates ascending).
        let (winner, ((_, _, wv), wd)) = self
            .sync
            .versions
            .iter()
            .fold(
                None::<(NodeId, &(Rank, String))>,
                |best, (id, v)| match best {
                    Some((_, b)) if b.0 >= v.0 => best,
                    _ => Some((*id, v)),
                },
            )
            .map(|(id, v)| (id, v.clone()))
            .expect("a round has members");
        self.sync.winner = Some(winner);
        self.sync.kept_mine = self
            .sync
            .versions
            .get(&self.me)
            .is_some_and(|(_, d)| *d == wd);
        let all_same = self.sync.versions.values().all(|(_, d)| *d == wd);
        if all_same {
            self.log(
                Level::Info,
                "cib",
                format!(
                    "CIB in sync at version {}.{}.{} on {} node(s)",
                    wv.0,
                    wv.1,
                    wv.2,
                    round.members.len()
                ),
            );
            self.finish_round(false);
        } else if winner == self.me {
            self.log(
                Level::Notice,
                "cib",
                format!(
                    "Sending our CIB (version {}.{}.{}) to the {} member(s) that differ",
                    wv.0,
                    wv.1,
                    wv.2,
                    self.sync
                        .versions
                        .values()
                        .filter(|(_, d)| *d != wd)
                        .count()
                ),
            );
            self.raise_version_above_members();
            let xml = self.cib.to_xml();
            self.broadcast(&Body::SyncCib { round, xml }, None);
        }
    }

    /// The winner by quorum may hold a lower version than a member from a partition
    /// without quorum: its CIB is numbered above every member's before it is sent, so no
    /// node's version ever goes down, and a new epoch (when the configurations may differ)
    /// makes commits based on the losing configuration fail their version check.
    fn raise_version_above_members(&mut self) {
        let Some(top) = self.sync.versions.values().map(|((_, _, v), _)| *v).max() else {
            return;
        };
        let mine = triple(&self.cib);
        if top <= mine {
            return;
        }
        let (a, e, n) = if (top.0, top.1) > (mine.0, mine.1) {
            (top.0, top.1 + 1, 0)
        } else {
            (mine.0, mine.1, top.2 + 1)
        };
        let mut doc = self.cib.document().clone();
        let Some(root) = doc.root() else {
            return;
        };
        doc.set_attr(root, "admin_epoch", &a.to_string());
        doc.set_attr(root, "epoch", &e.to_string());
        doc.set_attr(root, "num_updates", &n.to_string());
        match Cib::from_document(doc) {
            Ok(c) => {
                self.log(
                    Level::Notice,
                    "cib",
                    format!(
                        "Our CIB (version {}) wins by quorum; numbered {a}.{e}.{n}, above every member's",
                        self.cib.version
                    ),
                );
                self.cib = c;
                self.out
                    .push(crate::Output::PersistCib(Box::new(self.cib.clone())));
            }
            Err(err) => self.log(
                Level::Error,
                "cib",
                format!("cannot renumber our CIB: {err}"),
            ),
        }
    }

    pub(crate) fn on_sync_cib(&mut self, from: NodeId, round: Round, xml: &str) {
        if self.sync.done
            || self.sync.round.as_ref() != Some(&round)
            || self.sync.winner != Some(from)
        {
            return;
        }
        let replaced = if from == self.me {
            false
        } else {
            match Cib::parse(xml) {
                Ok(c) => {
                    self.log(
                        Level::Notice,
                        "cib",
                        format!(
                            "Replacing our CIB (version {}) with node {}'s (version {})",
                            self.cib.version,
                            self.uname(from),
                            c.version
                        ),
                    );
                    self.cib = c;
                    self.out
                        .push(crate::Output::PersistCib(Box::new(self.cib.clone())));
                    true
                }
                Err(e) => {
                    self.log(
                        Level::Error,
                        "cib",
                        format!(
                            "the CIB sent by node {} cannot be loaded ({e}); keeping ours",
                            self.uname(from)
                        ),
                    );
                    false
                }
            }
        };
        self.finish_round(replaced);
    }

    fn finish_round(&mut self, replaced: bool) {
        self.sync.done = true;
        self.sync.completed += 1;
        self.path = vec![self.ring];
        self.synced_members = self.members.clone();
        if self.quorate {
            self.sync.quorate_seq = self.ring.seq;
        }
        self.settle_attributes();
        if self.names.keys().all(|id| self.members.contains(id)) {
            // Every node is here: no stale copy of a deleted attribute is left to return.
            self.attr_deleted.clear();
        }
        self.choose_dc();
        self.safe_round_finished(self.sync.kept_mine);
        // Always re-reported: a report broadcast after an earlier round may have been
        // dropped by a round that started before it was delivered. Unchanged, it changes
        // nothing.
        let op = CibOp::History {
            node: self.name.clone(),
            lrm: self.my_lrm_xml(),
        };
        self.send_op(op, None);
        self.resend_dropped();
        if replaced {
            self.log(
                Level::Info,
                "cib",
                "Re-reporting our resource history into the new CIB".into(),
            );
        }
        self.dc_synced();
        self.release_held();
        self.shutdown_after_round();
    }

    /// Re-asserts the members' transient attributes the round's CIB lacks, then removes
    /// those of the members' earlier boots (see the module documentation, step 4).
    fn settle_attributes(&mut self) {
        let mut doc = self.cib.document().clone();
        let added = crate::cibops::reassert_attrs(
            &mut doc,
            &self.sync.attr_tables,
            &self.sync.attr_deleted,
        );
        let forgot = crate::cibops::forget_earlier_lives(&mut doc, &self.sync.boots);
        if !added && !forgot {
            return;
        }
        match self.cib.successor(doc.compacted()) {
            Ok(c) => {
                self.cib = c;
                self.out
                    .push(crate::Output::PersistCib(Box::new(self.cib.clone())));
            }
            Err(e) => self.log(
                Level::Error,
                "cib",
                format!("cannot remove transient attributes of earlier boots: {e}"),
            ),
        }
    }
}
