//! The per-node state machine: [`Totem::handle`] takes one input, returns the outputs.
//!
//! Handlers are split by role: `peers` (heartbeats, liveness, links), `membership`
//! (gather → propose → accept → commit → flush → install), `order` (sequencer, delivery,
//! NACKs, acknowledgements, local submissions), `groups` (process groups, sync, quorum).

mod groups;
mod membership;
mod order;
mod peers;
mod types;

use std::collections::{BTreeMap, VecDeque};

pub use types::*;

use crate::NodeId;
use crate::quorum::VoteQuorum;
use crate::seal::{Opener, Reject, Sealer};
use crate::wire::{Commit, Message, Propose, RingId};

use groups::Groups;
use order::{Pending, RingLog, Sequencer};
use peers::Peer;

/// Where the membership protocol is.
#[derive(Debug, Clone)]
enum Phase {
    /// A view is installed and messages flow.
    Operational,
    /// Something changed; collecting who is alive. The coordinator proposes once the join
    /// window has passed.
    Gather { since: Time },
    /// We are the coordinator and wait for every proposed member to accept.
    Proposing {
        proposal: Propose,
        accepts: BTreeMap<NodeId, crate::wire::Report>,
    },
    /// We accepted a proposal and wait for its commit.
    Accepted { proposal: Propose },
    /// We have the commit and fetch the old-view messages the flush needs.
    Recovering { commit: Commit, cutoff: u64 },
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::Operational => "operational",
            Phase::Gather { .. } => "gather",
            Phase::Proposing { .. } => "proposing",
            Phase::Accepted { .. } => "accepted",
            Phase::Recovering { .. } => "recovering",
        }
    }
}

/// One node's membership, ordering, process-group and quorum state.
pub struct Totem {
    p: Params,
    now: Time,
    sealer: Sealer,
    opener: Opener,
    peers: BTreeMap<NodeId, Peer>,
    /// The installed view (before the first one: a "boot ring" `(me, 0)` of just us).
    ring: RingId,
    members: Vec<NodeId>,
    installed_any: bool,
    /// Highest ring sequence seen anywhere or used by us.
    max_ring_seq: u64,
    /// Highest ring sequence handed to the driver to persist.
    persisted_seq: u64,
    phase: Phase,
    /// Start of the current membership attempt (consensus deadline base).
    attempt_since: Time,
    last_commit: Option<Commit>,
    log: RingLog,
    prev_log: Option<RingLog>,
    sequencer: Option<Sequencer>,
    /// Data for a ring we are about to install.
    future: Vec<crate::wire::Data>,
    pending: VecDeque<Pending>,
    next_local_id: u64,
    next_sender_seq: u64,
    groups: Groups,
    /// Messages of the current view held back until its sync barrier.
    held: Vec<crate::wire::Data>,
    /// Per sender: the (boot, local id) of the last message delivered (duplicate filter).
    last_delivered: BTreeMap<NodeId, (u64, u64)>,
    quorum: VoteQuorum,
    join_counts: BTreeMap<NodeId, u32>,
    stats: Stats,
    next_hello: Time,
    next_retransmit: Option<Time>,
    lms_at: Option<Time>,
    /// The last [`Output::Safe`] reported.
    safe_reported: (RingId, u64),
    armed: BTreeMap<TimerKind, Time>,
    out: Vec<Output>,
    started: bool,
}

impl Totem {
    pub fn new(p: Params) -> Totem {
        let known: Vec<NodeId> = p.nodes.iter().map(|n| n.id).collect();
        let me = p.me;
        let my_votes = p.nodes.iter().find(|n| n.id == me).map_or(1, |n| n.votes);
        let quorum = VoteQuorum::new(p.quorum.clone(), me, my_votes, p.expected_votes);
        let peers = p
            .nodes
            .iter()
            .filter(|n| n.id != me)
            .map(|n| (n.id, Peer::new(&n.links)))
            .collect();
        let boot_ring = RingId { rep: me, seq: 0 };
        Totem {
            sealer: Sealer::new(&p.authkey, &p.cluster_name, me, p.boot_id),
            opener: Opener::new(&p.authkey, &p.cluster_name, me, known),
            peers,
            ring: boot_ring,
            members: vec![me],
            installed_any: false,
            max_ring_seq: p.persisted_ring_seq,
            persisted_seq: p.persisted_ring_seq,
            phase: Phase::Gather { since: 0 },
            attempt_since: 0,
            last_commit: None,
            log: RingLog::new(boot_ring),
            prev_log: None,
            sequencer: None,
            future: Vec::new(),
            pending: VecDeque::new(),
            next_local_id: 1,
            next_sender_seq: 1,
            groups: Groups::default(),
            held: Vec::new(),
            last_delivered: BTreeMap::new(),
            quorum,
            join_counts: BTreeMap::new(),
            stats: Stats::default(),
            next_hello: 0,
            next_retransmit: None,
            lms_at: None,
            safe_reported: (boot_ring, 0),
            armed: BTreeMap::new(),
            out: Vec::new(),
            started: false,
            now: 0,
            p,
        }
    }

    pub fn me(&self) -> NodeId {
        self.p.me
    }

    /// Feeds one input; returns what the driver must do, in order.
    pub fn handle(&mut self, now: Time, input: Input) -> Vec<Output> {
        self.now = now.max(self.now);
        match input {
            Input::Start if self.started => {}
            Input::Start => {
                self.started = true;
                self.phase = Phase::Gather { since: self.now };
                self.attempt_since = self.now;
                self.log.frozen = true;
                self.send_hellos();
            }
            Input::Packet { link, bytes } => self.on_packet(link, &bytes),
            Input::Timer(kind) => self.on_timer(kind),
            Input::Broadcast { group, payload } => self.broadcast(group, payload),
            Input::JoinGroup(g) => self.join_group(g),
            Input::LeaveGroup(g) => self.leave_group(g),
            Input::SetExpectedVotes(v) => self.request_expected(v),
        }
        self.after();
        std::mem::take(&mut self.out)
    }

    fn on_timer(&mut self, kind: TimerKind) {
        self.armed.remove(&kind);
        match kind {
            TimerKind::Heartbeat => {
                if self.now >= self.next_hello {
                    self.send_hellos();
                }
            }
            TimerKind::Failure => {}
            TimerKind::Phase => self.on_phase_deadline(),
            TimerKind::Retransmit => {
                if self.next_retransmit.is_some_and(|t| self.now >= t) {
                    self.next_retransmit = None;
                    self.retransmit();
                }
            }
            TimerKind::LastManStanding => {
                if self.lms_at.is_some_and(|t| self.now >= t) {
                    self.lms_at = None;
                    let fx = self.quorum.on_lms_timer();
                    self.quorum_effects(fx);
                }
            }
        }
    }

    fn on_packet(&mut self, link: u8, bytes: &[u8]) {
        self.stats.packets_in += 1;
        let opened = match self.opener.open(bytes) {
            Ok(o) => o,
            Err(r) => {
                match r {
                    Reject::Size => self.stats.rejected_size += 1,
                    Reject::Version => self.stats.rejected_version += 1,
                    Reject::UnknownSender => self.stats.rejected_unknown_sender += 1,
                    Reject::Auth => self.stats.rejected_auth += 1,
                    Reject::Replay => self.stats.rejected_replay += 1,
                    Reject::Malformed => self.stats.rejected_malformed += 1,
                }
                return;
            }
        };
        let Some(msg) = Message::decode(&opened.body) else {
            self.stats.rejected_malformed += 1;
            return;
        };
        let from = opened.sender;
        self.heard(from, link, opened.boot_id);
        match msg {
            Message::Hello(h) => self.on_hello(from, opened.seq, h),
            Message::Propose(p) => self.on_propose(from, p),
            Message::Accept { ring, report } => self.on_accept(from, ring, report),
            Message::Reject { ring, max_ring_seq } => self.on_reject(ring, max_ring_seq),
            Message::Commit(c) => self.on_commit(from, c),
            Message::Submit(s) => self.on_submit(from, s),
            Message::Data(d) => self.on_data(d),
            Message::Nack { ring, seqs } => self.on_nack(from, ring, &seqs),
            Message::Ack { ring, delivered } => self.on_ack(from, ring, delivered),
            Message::Stable { ring, stable } => self.on_stable(from, ring, stable),
        }
    }

    /// Seals and sends `msg` to `to` on the links the link mode picks.
    fn send(&mut self, to: NodeId, msg: &Message) {
        let body = msg.encode();
        for link in self.links_for(to) {
            let bytes = self.sealer.seal(&body);
            self.stats.packets_out += 1;
            self.out.push(Output::Send { to, link, bytes });
        }
    }

    fn send_on(&mut self, to: NodeId, link: u8, msg: &Message) {
        let bytes = self.sealer.seal(&msg.encode());
        self.stats.packets_out += 1;
        self.out.push(Output::Send { to, link, bytes });
    }

    fn log(&mut self, level: Level, subsys: &str, text: String) {
        self.out.push(Output::Log(LogLine {
            level,
            subsys: subsys.to_string(),
            text,
        }));
    }

    /// Work common to every input: liveness, membership progress, timers.
    fn after(&mut self) {
        self.expire_peers();
        match self.phase {
            Phase::Operational => {
                if let Some(reason) = self.view_needs_change() {
                    self.start_gather(&reason);
                }
            }
            Phase::Gather { .. } => self.maybe_propose(),
            _ => {
                if let Some(reason) = self.attempt_broken() {
                    self.start_gather(&reason);
                    self.maybe_propose();
                }
            }
        }
        if matches!(self.phase, Phase::Operational) {
            self.pump_submits(false);
        }
        self.advance_safety();
        self.arm_timers();
    }

    fn retransmit_ms(&self) -> u64 {
        self.p
            .timing
            .join_ms
            .clamp(10, self.p.timing.token_retransmit_ms.max(10))
    }

    fn want_retransmit(&mut self) {
        if self.next_retransmit.is_none() {
            self.next_retransmit = Some(self.now + ms(self.retransmit_ms()));
        }
    }

    fn arm_timers(&mut self) {
        let mut want: BTreeMap<TimerKind, Time> = BTreeMap::new();
        want.insert(TimerKind::Heartbeat, self.next_hello);
        if let Some(t) = self.next_failure_check() {
            want.insert(TimerKind::Failure, t);
        }
        if let Some(t) = self.phase_deadline() {
            want.insert(TimerKind::Phase, t);
        }
        if let Some(t) = self.next_retransmit {
            want.insert(TimerKind::Retransmit, t);
        }
        if let Some(t) = self.lms_at {
            want.insert(TimerKind::LastManStanding, t);
        }
        for (kind, at) in want {
            if self.armed.get(&kind) != Some(&at) {
                self.armed.insert(kind, at);
                self.out.push(Output::SetTimer { timer: kind, at });
            }
        }
    }

    /// A snapshot for tools.
    pub fn status(&self) -> Status {
        let peers = self
            .peers
            .iter()
            .map(|(id, p)| PeerStatus {
                id: *id,
                alive: self.alive(*id),
                member: self.members.contains(id),
                join_count: self.join_counts.get(id).copied().unwrap_or(0),
                links: p.link_status(),
            })
            .collect();
        Status {
            me: self.p.me,
            ring: self.ring,
            members: self.members.clone(),
            forming: !matches!(self.phase, Phase::Operational),
            quorum: self.quorum.status(),
            peers,
            groups: self.groups.snapshot(),
            stats: self.stats.clone(),
        }
    }

    /// One line of internal state for debugging traces.
    pub fn debug_summary(&self) -> String {
        format!(
            "ring {} phase {} pending {} (first sender_seq {:?}) delivered {} max_seen {} stored {} stable {} frozen {} seq {:?} nacks {} rexmit {} next_rexmit {:?} now {} stats {:?}",
            self.ring,
            self.phase.name(),
            self.pending.len(),
            order::pending_first(self),
            self.log.delivered,
            self.log.max_seen,
            self.log.store.len(),
            self.log.stable,
            self.log.frozen,
            self.sequencer.as_ref().map(|s| s.debug()),
            self.stats.nacks_sent,
            self.stats.retransmits,
            self.next_retransmit,
            self.now,
            self.stats,
        )
    }

    /// Name of the membership phase (for logs and status).
    pub fn phase_name(&self) -> &'static str {
        self.phase.name()
    }

    pub fn params(&self) -> &Params {
        &self.p
    }

    /// The safe point: every member of the view (`RingId`) delivered every message of it up
    /// to the seq, this node included (the last [`Output::Safe`] reported).
    pub fn safe_point(&self) -> (RingId, u64) {
        self.safe_reported
    }

    /// Whether a view has been installed yet.
    pub fn has_view(&self) -> bool {
        self.installed_any
    }
}

#[cfg(test)]
mod tests;
