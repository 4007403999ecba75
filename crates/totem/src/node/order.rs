//! Total order within a view: the ring's representative is the sequencer.
//!
//! Members send [`Submit`]s (FIFO per sender and view); the sequencer assigns consecutive
//! seqs and sends [`Data`] to every member; members deliver the contiguous prefix, NACK
//! gaps, and acknowledge what they delivered. The minimum acknowledged seq is *stable*:
//! every member delivered it, so everyone may drop it. Until then every member keeps every
//! message it delivered — that is what makes the flush at a view change possible.
//!
//! Stability is also what the application's *safe* delivery needs (Corosync's "safe"
//! guarantee: every member of the view has the message): members acknowledge at the end
//! of every input that delivered something, the sequencer announces a risen stable mark at
//! once ([`Message::Stable`]), and each node reports its safe point — stable and delivered
//! here — as [`Output::Safe`]. A message becomes safe one round trip after an agreed
//! delivery at the sequencer, two elsewhere; acknowledgements and announcements are
//! batched per input, so a burst costs one of each.

use std::collections::BTreeMap;

use super::{Output, Phase, Refused, Time, Totem, ms};
use crate::NodeId;
use crate::wire::{
    Body, Data, MAX_GROUP_NAME, MAX_NACK_SEQS, MAX_PAYLOAD_BYTES, Message, RingId, Submit,
};

/// Messages the sequencer lets be ordered but not yet stable; beyond this, submissions
/// wait (flow control), so every member's store stays bounded.
pub const MAX_IN_FLIGHT: u64 = 2048;
/// Local messages waiting to be ordered; beyond this, broadcasts are refused.
pub const MAX_PENDING: usize = 8192;
/// Submissions one node has outstanding at the sequencer at once.
pub const MAX_OUTSTANDING_SUBMITS: usize = 256;
/// Oldest undelivered submissions re-sent per retransmit tick: enough to repair a lost
/// submission (the sequencer needs them in FIFO order anyway), few enough never to flood.
const RESUBMIT_PER_TICK: usize = 16;
/// Payload bytes one node has outstanding at the sequencer: a burst larger than a socket's
/// receive buffer would only be dropped there and repaired at retransmit speed.
pub const MAX_SUBMIT_BYTES_IN_FLIGHT: usize = 128 * 1024;

fn body_len(b: &Body) -> usize {
    match b {
        Body::App { payload, .. } => payload.len(),
        _ => 64,
    }
}
/// Members acknowledge after this many deliveries (and on every retransmit tick).
const ACK_EVERY: u64 = 16;
/// Data for a view we are about to install that we keep meanwhile.
const MAX_FUTURE: usize = 4096;

/// One view's messages as this node holds them.
#[derive(Debug, Clone)]
pub(super) struct RingLog {
    pub(super) ring: RingId,
    pub(super) delivered: u64,
    /// Everything up to here was dropped (stable and delivered).
    pub(super) pruned: u64,
    pub(super) stable: u64,
    pub(super) store: BTreeMap<u64, Data>,
    /// Highest seq known to exist (from data or the sequencer's heartbeat).
    pub(super) max_seen: u64,
    /// Delivery stops while a new view is being formed.
    pub(super) frozen: bool,
    last_ack: u64,
}

impl RingLog {
    pub(super) fn new(ring: RingId) -> RingLog {
        RingLog {
            ring,
            delivered: 0,
            pruned: 0,
            stable: 0,
            store: BTreeMap::new(),
            max_seen: 0,
            frozen: false,
            last_ack: 0,
        }
    }

    fn raise_stable(&mut self, stable: u64) {
        self.stable = self.stable.max(stable);
        let upto = self.stable.min(self.delivered);
        if upto > self.pruned {
            self.store = self.store.split_off(&(upto + 1));
            self.pruned = upto;
        }
    }
}

/// The sequencer's state (only on the ring's representative).
#[derive(Debug, Clone)]
pub(super) struct Sequencer {
    pub(super) next_seq: u64,
    expected: BTreeMap<NodeId, u64>,
    acks: BTreeMap<NodeId, u64>,
    /// Submissions that arrived before their FIFO predecessors (bounded per sender by
    /// [`MAX_OUTSTANDING_SUBMITS`]).
    early: BTreeMap<(NodeId, u64), Submit>,
    /// The stable mark last announced to the members.
    announced: u64,
}

impl Sequencer {
    pub(super) fn new(members: &[NodeId]) -> Sequencer {
        Sequencer {
            next_seq: 1,
            expected: members.iter().map(|m| (*m, 1)).collect(),
            acks: members.iter().map(|m| (*m, 0)).collect(),
            early: BTreeMap::new(),
            announced: 0,
        }
    }

    pub(super) fn debug(&self) -> String {
        format!(
            "next {} expected {:?} acks {:?}",
            self.next_seq, self.expected, self.acks
        )
    }

    fn stable(&self) -> u64 {
        self.acks.values().copied().min().unwrap_or(0)
    }
}

/// A local broadcast not yet delivered back to us.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    local_id: u64,
    body: Body,
    /// FIFO number in the current view (0: not submitted in this view yet).
    sender_seq: u64,
    last_sent: Option<Time>,
}

impl Pending {
    pub(super) fn local_id(&self) -> u64 {
        self.local_id
    }

    pub(super) fn is_sync(&self) -> bool {
        matches!(self.body, Body::Sync { .. })
    }
}

impl Totem {
    pub(super) fn queue(&mut self, body: Body, front: bool) -> Result<(), Refused> {
        // The view's sync message goes first and is never refused: without it the view's
        // barrier never passes and nothing queued would ever be ordered.
        if !front && self.pending.len() >= MAX_PENDING {
            return Err(Refused::Busy(self.pending.len()));
        }
        let p = Pending {
            local_id: self.next_local_id,
            body,
            sender_seq: 0,
            last_sent: None,
        };
        self.next_local_id += 1;
        if front {
            self.pending.push_front(p);
        } else {
            self.pending.push_back(p);
        }
        Ok(())
    }

    pub(super) fn broadcast(&mut self, group: String, payload: Vec<u8>) {
        let r = if payload.len() > MAX_PAYLOAD_BYTES {
            Err(Refused::TooLarge {
                len: payload.len(),
                max: MAX_PAYLOAD_BYTES,
            })
        } else if group.len() > MAX_GROUP_NAME {
            Err(Refused::GroupName(MAX_GROUP_NAME))
        } else {
            self.queue(Body::App { group, payload }, false)
        };
        if let Err(e) = r {
            self.out.push(Output::Refused(e));
        }
    }

    /// A view was installed: every pending message is submitted afresh in FIFO order.
    pub(super) fn restart_submissions(&mut self) {
        self.next_sender_seq = 1;
        for p in self.pending.iter_mut() {
            p.sender_seq = 0;
            p.last_sent = None;
        }
    }

    /// Sends submissions that are new or due for retransmission.
    pub(super) fn pump_submits(&mut self, retransmit_due: bool) {
        let rep = self.ring.rep;
        let ring = self.ring;
        let now = self.now;
        let every = ms(self.retransmit_ms());
        let mut to_send = Vec::new();
        let mut resent = 0;
        let mut bytes = 0;
        for (i, p) in self
            .pending
            .iter_mut()
            .take(MAX_OUTSTANDING_SUBMITS)
            .enumerate()
        {
            bytes += body_len(&p.body);
            if i > 0 && bytes > MAX_SUBMIT_BYTES_IN_FLIGHT {
                break; // the window is full; acknowledged deliveries open it again
            }
            let stale = p.last_sent.is_some_and(|t| now >= t + every);
            let due =
                p.last_sent.is_none() || (retransmit_due && stale && resent < RESUBMIT_PER_TICK);
            if !due {
                continue;
            }
            if p.last_sent.is_some() {
                resent += 1;
            }
            if p.sender_seq == 0 {
                p.sender_seq = self.next_sender_seq;
                self.next_sender_seq += 1;
            }
            p.last_sent = Some(now);
            to_send.push(Submit {
                ring,
                sender_seq: p.sender_seq,
                local_id: p.local_id,
                body: p.body.clone(),
            });
        }
        if to_send.is_empty() {
            return;
        }
        for s in to_send {
            if rep == self.p.me {
                self.sequence(self.p.me, s);
            } else {
                self.stats.submits_sent += 1;
                self.send(rep, &Message::Submit(s));
            }
        }
        self.want_retransmit();
    }

    pub(super) fn on_submit(&mut self, from: NodeId, s: Submit) {
        self.stats.submits_received += 1;
        if s.ring == self.ring
            && matches!(self.phase, Phase::Operational)
            && self.members.contains(&from)
        {
            self.sequence(from, s);
        }
    }

    /// Orders `s` if it is the sender's next; keeps it if it is early (a predecessor was lost
    /// or is still in flight) or if flow control holds the sequencer back.
    fn sequence(&mut self, from: NodeId, s: Submit) {
        let Some(sq) = self.sequencer.as_mut() else {
            return;
        };
        let expected = sq.expected.get(&from).copied().unwrap_or(1);
        if s.sender_seq < expected || s.sender_seq >= expected + MAX_OUTSTANDING_SUBMITS as u64 {
            return; // already ordered (the sender repairs its gap with a NACK), or absurd
        }
        sq.early.insert((from, s.sender_seq), s);
        self.drain_submits(from);
    }

    /// Orders every kept submission of `from` that is next in its FIFO order.
    fn drain_submits(&mut self, from: NodeId) {
        let boot = if from == self.p.me {
            Some(self.p.boot_id)
        } else {
            self.peer_boot(from)
        };
        let Some(boot) = boot else { return };
        loop {
            let stable = self.log.stable;
            let Some(sq) = self.sequencer.as_mut() else {
                return;
            };
            if sq.next_seq > sq.stable().max(stable) + MAX_IN_FLIGHT {
                return; // flow control: resumes when acknowledgements raise the stable mark
            }
            let expected = sq.expected.get(&from).copied().unwrap_or(1);
            let Some(s) = sq.early.remove(&(from, expected)) else {
                return;
            };
            let seq = sq.next_seq;
            sq.next_seq += 1;
            sq.expected.insert(from, expected + 1);
            let d = Data {
                ring: self.ring,
                seq,
                stable: sq.stable(),
                sender: from,
                sender_boot: boot,
                local_id: s.local_id,
                body: s.body,
            };
            for m in self.members.clone() {
                if m != self.p.me {
                    self.send(m, &Message::Data(d.clone()));
                }
            }
            self.on_data(d);
        }
    }

    pub(super) fn on_data(&mut self, d: Data) {
        if d.ring != self.ring {
            let installing = match &self.phase {
                Phase::Recovering { commit, .. } => commit.ring == d.ring,
                Phase::Accepted { proposal } => proposal.ring == d.ring,
                _ => false,
            };
            if installing && self.future.len() < MAX_FUTURE {
                self.future.push(d);
            }
            return;
        }
        self.log.max_seen = self.log.max_seen.max(d.seq);
        let stable = d.stable;
        if d.seq > self.log.delivered && !self.log.store.contains_key(&d.seq) {
            self.log.store.insert(d.seq, d);
        }
        self.log.raise_stable(stable);
        if !self.log.frozen {
            self.deliver_ready();
        } else if matches!(self.phase, Phase::Recovering { .. }) {
            self.try_complete();
        }
        if self.log.max_seen > self.log.delivered && !self.log.frozen {
            self.want_retransmit();
        }
    }

    fn deliver_ready(&mut self) {
        while let Some(d) = self.log.store.get(&(self.log.delivered + 1)).cloned() {
            self.deliver(d);
        }
        if self.log.delivered >= self.log.last_ack + ACK_EVERY {
            self.send_ack();
        } else if self.log.delivered > self.log.last_ack {
            self.want_retransmit(); // the ack goes out on the next tick at the latest
        }
    }

    fn send_ack(&mut self) {
        self.log.last_ack = self.log.delivered;
        let (ring, delivered) = (self.log.ring, self.log.delivered);
        if ring.rep == self.p.me {
            self.on_ack(self.p.me, ring, delivered);
        } else if self.members.contains(&ring.rep) && ring == self.ring {
            self.send(ring.rep, &Message::Ack { ring, delivered });
        }
    }

    /// Delivers the next message of the current log (in seq order; the caller checks).
    ///
    /// Until every member's `Sync` of the current view has been delivered (the sync
    /// barrier), other messages are held back, then released in order. At the barrier every
    /// member adopts the same duplicate-suppression table (the maximum of what the members
    /// announced), so a message that a member of this view already delivered in another
    /// view — resubmitted by a sender that did not see it delivered — is skipped by all.
    pub(super) fn deliver(&mut self, d: Data) {
        debug_assert_eq!(
            d.seq,
            self.log.delivered + 1,
            "total order: deliver seqs in order"
        );
        self.log.delivered = d.seq;
        self.stats.delivered += 1;
        let ring = self.log.ring;
        if let Body::Sync {
            groups,
            info,
            delivered,
        } = d.body
        {
            if d.sender == self.p.me && d.sender_boot == self.p.boot_id {
                self.pending.retain(|p| p.local_id != d.local_id);
            }
            if self.on_sync(d.sender, d.sender_boot, ring, groups, info, delivered) {
                self.groups_agreed();
                for h in std::mem::take(&mut self.held) {
                    self.apply(h, d.seq);
                }
            }
            return;
        }
        if ring == self.ring && !self.groups.sync_done() {
            self.held.push(d);
            return;
        }
        let seq = d.seq;
        self.apply(d, seq);
    }

    /// Hands `d` to its receiver; `safe_at` is the seq of the delivery that made it
    /// visible (its own, or the sync barrier's for a message held until then).
    fn apply(&mut self, d: Data, safe_at: u64) {
        if d.sender == self.p.me && d.sender_boot == self.p.boot_id {
            self.pending.retain(|p| p.local_id != d.local_id);
        }
        let seen = self.last_delivered.get(&d.sender).copied();
        if seen.is_some_and(|(b, l)| b > d.sender_boot || (b == d.sender_boot && d.local_id <= l)) {
            self.stats.duplicates_suppressed += 1;
            return;
        }
        self.last_delivered
            .insert(d.sender, (d.sender_boot, d.local_id));
        let ring = self.log.ring;
        match d.body {
            Body::App { group, payload } => {
                if self.groups.is_local(&group) {
                    self.out.push(Output::Deliver(super::Delivery {
                        ring,
                        seq: d.seq,
                        sender: d.sender,
                        sender_boot: d.sender_boot,
                        local_id: d.local_id,
                        safe_at,
                        group,
                        payload,
                    }));
                }
            }
            Body::Sync { .. } => {}
            Body::Join { group } => self.on_group_join(d.sender, group),
            Body::Leave { group } => self.on_group_leave(d.sender, group),
            Body::SetExpected { votes } => {
                let fx = self.quorum.set_expected(votes);
                self.quorum_effects(fx);
            }
        }
    }

    pub(super) fn on_ack(&mut self, from: NodeId, ring: RingId, delivered: u64) {
        if ring != self.ring {
            return;
        }
        let Some(sq) = self.sequencer.as_mut() else {
            return;
        };
        if let Some(a) = sq.acks.get_mut(&from) {
            *a = (*a).max(delivered);
        }
        let before = self.log.stable;
        let stable = sq.stable();
        self.log.raise_stable(stable);
        if stable > before {
            for m in self.members.clone() {
                self.drain_submits(m);
            }
        }
    }

    pub(super) fn on_nack(&mut self, from: NodeId, ring: RingId, seqs: &[u64]) {
        let log = if self.log.ring == ring {
            &self.log
        } else {
            match &self.prev_log {
                Some(l) if l.ring == ring => l,
                _ => return,
            }
        };
        let found: Vec<Data> = seqs
            .iter()
            .filter_map(|s| log.store.get(s).cloned())
            .collect();
        for d in found {
            self.stats.retransmits += 1;
            self.send(from, &Message::Data(d));
        }
    }

    /// The sequencer's announcement of a risen stable mark.
    pub(super) fn on_stable(&mut self, from: NodeId, ring: RingId, stable: u64) {
        if ring != self.log.ring || from != ring.rep {
            return;
        }
        // Every member delivered up to `stable`: those messages exist, so a gap below it is
        // worth a NACK now rather than at the sequencer's next heartbeat.
        self.log.max_seen = self.log.max_seen.max(stable);
        self.log.raise_stable(stable);
        if self.log.max_seen > self.log.delivered && !self.log.frozen {
            self.want_retransmit();
        }
    }

    /// End of every input: acknowledge what this node delivered, announce a risen stable
    /// mark to the members (sequencer), and report the safe point if it rose.
    pub(super) fn advance_safety(&mut self) {
        if matches!(self.phase, Phase::Operational) && self.log.delivered > self.log.last_ack {
            self.send_ack();
        }
        self.announce_stable();
        let ring = self.log.ring;
        let safe = self.log.stable.min(self.log.delivered);
        let (r, s) = self.safe_reported;
        if safe > 0 && (r != ring || safe > s) {
            self.safe_reported = (ring, safe);
            self.out.push(Output::Safe { ring, seq: safe });
        }
    }

    fn announce_stable(&mut self) {
        let stable = self.log.stable;
        if self.log.ring != self.ring {
            return;
        }
        let Some(sq) = self.sequencer.as_mut() else {
            return;
        };
        if stable <= sq.announced {
            return;
        }
        sq.announced = stable;
        let msg = Message::Stable {
            ring: self.ring,
            stable,
        };
        for m in self.members.clone() {
            if m != self.p.me {
                self.send(m, &msg);
            }
        }
    }

    /// A heartbeat from a member of our ring: the sequencer's progress, a member's ack.
    pub(super) fn on_ring_info(&mut self, from: NodeId, h: &crate::wire::Hello) {
        if from == self.ring.rep {
            self.log.max_seen = self.log.max_seen.max(h.max_seq);
            self.log.raise_stable(h.stable);
            if self.log.max_seen > self.log.delivered && !self.log.frozen {
                self.want_retransmit();
            }
        }
        if self.sequencer.is_some() {
            self.on_ack(from, h.ring, h.delivered);
        }
    }

    /// One retransmit tick: membership messages, gap NACKs, submissions, acks.
    pub(super) fn retransmit(&mut self) {
        self.retransmit_membership();
        if !matches!(self.phase, Phase::Operational) {
            return;
        }
        let missing: Vec<u64> = (self.log.delivered + 1..=self.log.max_seen)
            .filter(|s| !self.log.store.contains_key(s))
            .take(MAX_NACK_SEQS)
            .collect();
        if !missing.is_empty() && self.ring.rep != self.p.me {
            self.stats.nacks_sent += 1;
            let rep = self.ring.rep;
            self.send(
                rep,
                &Message::Nack {
                    ring: self.ring,
                    seqs: missing,
                },
            );
            self.want_retransmit();
        }
        if self.log.delivered > self.log.last_ack {
            self.send_ack();
        }
        if !self.pending.is_empty() {
            self.pump_submits(true);
            self.want_retransmit();
        }
    }

    fn peer_boot(&self, id: NodeId) -> Option<u64> {
        self.peers.get(&id).and_then(|p| p.boot_id())
    }
}

pub(super) fn pending_first(t: &Totem) -> Option<(u64, u64, u64)> {
    t.pending
        .front()
        .map(|p| (p.local_id, p.sender_seq, p.last_sent.unwrap_or(0)))
}
