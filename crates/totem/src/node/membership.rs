//! Forming views: gather → propose → accept → commit → flush → install.
//!
//! * **Gather**: a member failed, a node appeared, or a member is forming. Delivery of the old
//!   view freezes. After the join window the lowest alive node (the coordinator) proposes
//!   `ring = (itself, max seq seen + 4)` with the alive set; the sequence is persisted first.
//! * **Accept**: a proposed member accepts a proposal newer than anything it has seen and
//!   replies with its flush report; older proposals get a `Reject` carrying the newest seq.
//! * **Commit**: when every proposed member accepted, the coordinator sends the reports to
//!   all; every member computes the same [flush plan](crate::flush).
//! * **Recover and install**: a member fetches the old-view messages up to its ring's cutoff
//!   (holders push them, NACKs repair losses), delivers them, then installs the view.
//! * A step that makes no progress within `consensus` excludes the node it waited for (for
//!   one token timeout) and starts over with a higher sequence.

use std::collections::BTreeSet;

use super::order::RingLog;
use super::{Level, Output, Phase, Totem, ViewChange, ms};
use crate::NodeId;
use crate::flush;
use crate::wire::{Commit, MAX_REPORT_RANGES, Message, Propose, Report, RingId};

impl Totem {
    pub(super) fn start_gather(&mut self, reason: &str) {
        self.log(
            Level::Debug,
            "TOTEM",
            format!("entering GATHER state from {}: {reason}", self.phase.name()),
        );
        self.log.frozen = true;
        self.phase = Phase::Gather { since: self.now };
        self.attempt_since = self.now;
        self.send_hellos();
    }

    pub(super) fn phase_deadline(&self) -> Option<super::Time> {
        let consensus = self.attempt_since + ms(self.p.timing.consensus_ms);
        match &self.phase {
            Phase::Operational => None,
            Phase::Gather { since } => {
                let join = since + ms(self.p.timing.join_ms);
                Some(if self.now < join { join } else { consensus })
            }
            _ => Some(consensus),
        }
    }

    pub(super) fn on_phase_deadline(&mut self) {
        let consensus_over = self.now >= self.attempt_since + ms(self.p.timing.consensus_ms);
        if !consensus_over {
            return; // the join window: `after` proposes if we coordinate
        }
        let until = self.now + ms(self.p.timing.token_ms);
        let stuck_on: Vec<NodeId> = match &self.phase {
            Phase::Operational => return,
            Phase::Gather { .. } => self.alive_set().into_iter().take(1).collect(),
            Phase::Proposing { proposal, accepts } => proposal
                .members
                .iter()
                .copied()
                .filter(|m| !accepts.contains_key(m))
                .collect(),
            Phase::Accepted { proposal } => vec![proposal.ring.rep],
            Phase::Recovering { .. } => Vec::new(),
        };
        let me = self.p.me;
        for id in stuck_on.into_iter().filter(|id| *id != me) {
            if let Some(p) = self.peers.get_mut(&id) {
                p.excluded_until = until;
            }
            self.log(
                Level::Notice,
                "TOTEM",
                format!("no consensus with node {id}; forming without it"),
            );
        }
        self.start_gather("consensus timeout");
    }

    /// A membership attempt that can no longer succeed: a proposed member or our coordinator
    /// died, or a holder of messages we still need did. Waiting for consensus would only
    /// delay failure detection.
    pub(super) fn attempt_broken(&self) -> Option<String> {
        match &self.phase {
            Phase::Proposing { proposal, .. } => proposal
                .members
                .iter()
                .find(|m| !self.alive(**m))
                .map(|m| format!("proposed member {m} failed")),
            Phase::Accepted { proposal } => {
                let rep = proposal.ring.rep;
                if !self.alive(rep) {
                    return Some(format!("coordinator {rep} failed"));
                }
                let h = self.peers.get(&rep).and_then(|p| p.hello.as_ref())?;
                // Abandoned: it knows of our proposal yet neither installed nor pursues it.
                // (If it installed it, our commit was lost: retransmitting Accept fetches it.)
                (h.max_ring_seq >= proposal.ring.seq
                    && h.ring != proposal.ring
                    && h.proposal != Some(proposal.ring))
                .then(|| format!("coordinator {rep} abandoned ring {}", proposal.ring))
            }
            Phase::Recovering { .. } => self
                .recovery_missing()
                .into_iter()
                .find(|(h, _)| !self.alive(*h))
                .map(|(h, s)| format!("node {h} holding message {s} failed")),
            Phase::Operational | Phase::Gather { .. } => None,
        }
    }

    pub(super) fn maybe_propose(&mut self) {
        let Phase::Gather { since } = self.phase else {
            return;
        };
        if self.now < since + ms(self.p.timing.join_ms) {
            return;
        }
        let alive = self.alive_set();
        if alive.first() != Some(&self.p.me) {
            return;
        }
        let seq = self.max_ring_seq.max(self.ring.seq) + 4;
        self.max_ring_seq = seq;
        self.persisted_seq = seq;
        self.out.push(Output::PersistRingSeq(seq));
        let proposal = Propose {
            ring: RingId {
                rep: self.p.me,
                seq,
            },
            members: alive,
        };
        let mut accepts = std::collections::BTreeMap::new();
        accepts.insert(self.p.me, self.my_report());
        for m in proposal.members.clone() {
            if m != self.p.me {
                self.send(m, &Message::Propose(proposal.clone()));
            }
        }
        self.phase = Phase::Proposing { proposal, accepts };
        self.want_retransmit();
        self.maybe_commit();
    }

    fn my_report(&self) -> Report {
        let mut extra: Vec<(u64, u64)> = Vec::new();
        for seq in self
            .log
            .store
            .keys()
            .copied()
            .filter(|s| *s > self.log.delivered)
        {
            match extra.last_mut() {
                Some((_, b)) if *b + 1 == seq => *b = seq,
                _ => extra.push((seq, seq)),
            }
        }
        extra.truncate(MAX_REPORT_RANGES);
        Report {
            old_ring: self.ring,
            delivered: self.log.delivered,
            held_from: self.log.pruned + 1,
            extra,
        }
    }

    pub(super) fn on_propose(&mut self, from: NodeId, p: Propose) {
        if from != p.ring.rep || !p.members.contains(&self.p.me) || !self.alive(from) {
            return;
        }
        match &self.phase {
            Phase::Accepted { proposal } if proposal.ring == p.ring => {
                let report = self.my_report();
                self.send(
                    from,
                    &Message::Accept {
                        ring: p.ring,
                        report,
                    },
                );
                return;
            }
            Phase::Recovering { commit, .. } if commit.ring == p.ring => return,
            _ => {}
        }
        if p.ring.seq <= self.max_ring_seq {
            let reject = Message::Reject {
                ring: p.ring,
                max_ring_seq: self.max_ring_seq,
            };
            self.send(from, &reject);
            return;
        }
        self.max_ring_seq = p.ring.seq;
        self.log.frozen = true;
        self.attempt_since = self.now;
        let report = self.my_report();
        self.send(
            from,
            &Message::Accept {
                ring: p.ring,
                report,
            },
        );
        self.phase = Phase::Accepted { proposal: p };
        self.want_retransmit();
        self.send_hellos();
    }

    pub(super) fn on_reject(&mut self, ring: RingId, max_ring_seq: u64) {
        self.max_ring_seq = self.max_ring_seq.max(max_ring_seq);
        if let Phase::Proposing { proposal, .. } = &self.phase
            && proposal.ring == ring
        {
            // Someone has seen a newer ring: propose again above it, same attempt.
            let since = self.now.saturating_sub(ms(self.p.timing.join_ms));
            self.phase = Phase::Gather { since };
            self.maybe_propose();
        }
    }

    pub(super) fn on_accept(&mut self, from: NodeId, ring: RingId, report: Report) {
        if let Phase::Proposing { proposal, accepts } = &mut self.phase
            && proposal.ring == ring
            && proposal.members.contains(&from)
        {
            accepts.insert(from, report);
            self.maybe_commit();
            return;
        }
        if let Some(c) = &self.last_commit
            && c.ring == ring
            && c.members.contains(&from)
        {
            let c = c.clone();
            self.stats.retransmits += 1;
            self.send(from, &Message::Commit(c));
        }
    }

    fn maybe_commit(&mut self) {
        let Phase::Proposing { proposal, accepts } = &self.phase else {
            return;
        };
        if !proposal.members.iter().all(|m| accepts.contains_key(m)) {
            return;
        }
        let commit = Commit {
            ring: proposal.ring,
            members: proposal.members.clone(),
            reports: accepts.iter().map(|(id, r)| (*id, r.clone())).collect(),
        };
        for m in commit.members.clone() {
            if m != self.p.me {
                self.send(m, &Message::Commit(commit.clone()));
            }
        }
        self.last_commit = Some(commit.clone());
        self.begin_recovery(commit);
    }

    pub(super) fn on_commit(&mut self, from: NodeId, c: Commit) {
        let ok = matches!(&self.phase, Phase::Accepted { proposal } if proposal.ring == c.ring)
            && from == c.ring.rep
            && c.members.contains(&self.p.me);
        if ok {
            self.begin_recovery(c);
        }
    }

    fn begin_recovery(&mut self, commit: Commit) {
        let plan = flush::plan(&commit.reports);
        let mine = plan.get(&self.ring);
        let cutoff = match mine {
            Some(_) if self.p.knobs.skip_flush => self.log.delivered,
            Some(rp) => rp.cutoff,
            None => self.log.delivered,
        };
        if let Some(rp) = mine {
            // Push the messages we are the designated holder of to the members lacking them.
            for (id, r) in &commit.reports {
                if *id == self.p.me || r.old_ring != self.ring {
                    continue;
                }
                for seq in r.delivered + 1..=cutoff {
                    if rp.holder(seq) == Some(self.p.me)
                        && let Some(d) = self.log.store.get(&seq).cloned()
                    {
                        self.send(*id, &Message::Data(d));
                    }
                }
            }
        }
        self.phase = Phase::Recovering { commit, cutoff };
        self.want_retransmit();
        self.try_complete();
    }

    /// Old-view seqs still missing before the view can be installed, by holder.
    pub(super) fn recovery_missing(&self) -> Vec<(NodeId, u64)> {
        let Phase::Recovering { commit, cutoff } = &self.phase else {
            return Vec::new();
        };
        let plan = flush::plan(&commit.reports);
        let Some(rp) = plan.get(&self.ring) else {
            return Vec::new();
        };
        (self.log.delivered + 1..=*cutoff)
            .filter(|s| !self.log.store.contains_key(s))
            .filter_map(|s| rp.holder(s).map(|h| (h, s)))
            .collect()
    }

    pub(super) fn try_complete(&mut self) {
        let Phase::Recovering { cutoff, .. } = &self.phase else {
            return;
        };
        let cutoff = *cutoff;
        if (self.log.delivered + 1..=cutoff).any(|s| !self.log.store.contains_key(&s)) {
            return;
        }
        let Phase::Recovering { commit, .. } =
            std::mem::replace(&mut self.phase, Phase::Operational)
        else {
            unreachable!("checked above")
        };
        while self.log.delivered < cutoff {
            let next = self.log.delivered + 1;
            let d = self
                .log
                .store
                .get(&next)
                .cloned()
                .expect("checked contiguous above");
            self.deliver(d);
        }
        self.install(commit);
    }

    fn install(&mut self, commit: Commit) {
        let old: BTreeSet<NodeId> = self.members.iter().copied().collect();
        let new: BTreeSet<NodeId> = commit.members.iter().copied().collect();
        let joined: Vec<NodeId> = new.difference(&old).copied().collect();
        let left: Vec<NodeId> = old.difference(&new).copied().collect();
        let old_log = std::mem::replace(&mut self.log, RingLog::new(commit.ring));
        self.prev_log = Some(old_log);
        self.ring = commit.ring;
        self.members = commit.members.clone();
        self.installed_any = true;
        self.stats.views_installed += 1;
        self.phase = Phase::Operational;
        self.next_retransmit = None;
        if commit.ring.seq > self.persisted_seq {
            // Like Corosync's ringid file: a restarted node never goes back to a lower ring.
            self.persisted_seq = commit.ring.seq;
            self.out.push(Output::PersistRingSeq(commit.ring.seq));
        }
        for id in &joined {
            *self.join_counts.entry(*id).or_insert(0) += 1;
        }
        for p in self.peers.values_mut() {
            p.hello = None;
        }
        self.sequencer =
            (commit.ring.rep == self.p.me).then(|| super::order::Sequencer::new(&commit.members));
        self.log_view(&joined, &left);
        self.out.push(Output::ViewInstalled(ViewChange {
            ring: commit.ring,
            members: commit.members.clone(),
            joined,
            left: left.clone(),
        }));
        let fx = self.quorum.on_view(&commit.members, &left);
        self.quorum_effects(fx);
        self.groups_on_view();
        self.restart_submissions();
        let future = std::mem::take(&mut self.future);
        let ring = self.ring;
        for d in future.into_iter().filter(|d| d.ring == ring) {
            self.on_data(d);
        }
        self.send_hellos();
    }

    fn log_view(&mut self, joined: &[NodeId], left: &[NodeId]) {
        let list = |v: &[NodeId]| {
            v.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut text = format!("A new membership ({}) was formed.", self.ring);
        if !joined.is_empty() {
            text.push_str(&format!(" Members joined: {}", list(joined)));
        }
        if !left.is_empty() {
            text.push_str(&format!(" Members left: {}", list(left)));
        }
        self.log(Level::Notice, "TOTEM", text);
        let members = self.members.clone();
        self.log(
            Level::Notice,
            "QUORUM",
            format!("Members[{}]: {}", members.len(), list(&members)),
        );
    }

    /// Membership-side retransmissions, each retransmit tick.
    pub(super) fn retransmit_membership(&mut self) {
        match self.phase.clone() {
            Phase::Proposing { proposal, accepts } => {
                for m in proposal.members.iter().filter(|m| !accepts.contains_key(m)) {
                    self.stats.retransmits += 1;
                    self.send(*m, &Message::Propose(proposal.clone()));
                }
                self.want_retransmit();
            }
            Phase::Accepted { proposal } => {
                let report = self.my_report();
                self.stats.retransmits += 1;
                self.send(
                    proposal.ring.rep,
                    &Message::Accept {
                        ring: proposal.ring,
                        report,
                    },
                );
                self.want_retransmit();
            }
            Phase::Recovering { .. } => {
                let missing = self.recovery_missing();
                let mut by_holder: std::collections::BTreeMap<NodeId, Vec<u64>> =
                    Default::default();
                for (h, s) in missing {
                    by_holder.entry(h).or_default().push(s);
                }
                for (h, mut seqs) in by_holder {
                    seqs.truncate(crate::wire::MAX_NACK_SEQS);
                    if h != self.p.me {
                        self.stats.nacks_sent += 1;
                        self.send(
                            h,
                            &Message::Nack {
                                ring: self.ring,
                                seqs,
                            },
                        );
                    }
                }
                self.want_retransmit();
            }
            Phase::Operational | Phase::Gather { .. } => {}
        }
    }
}
