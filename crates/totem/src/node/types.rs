//! What goes into and comes out of [`Totem::handle`](super::Totem::handle).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::NodeId;
use crate::authkey::AuthKey;
use crate::config::{ClusterConfig, LinkMode, QuorumOptions, Timing};
use crate::quorum::QuorumStatus;
use crate::wire::RingId;

/// Time as the driver sees it: microseconds since an origin of its choosing (the daemon:
/// its start; the simulator: virtual time 0). Only differences matter.
pub type Time = u64;

/// Milliseconds to [`Time`] units.
pub const fn ms(v: u64) -> Time {
    v * 1000
}

/// The timers the core asks for. The driver keeps one deadline per kind; a new
/// [`Output::SetTimer`] for a kind replaces the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TimerKind {
    /// Send heartbeats on every link.
    Heartbeat,
    /// The earliest moment a peer or link could be declared dead.
    Failure,
    /// The join window or the consensus deadline of a membership change.
    Phase,
    /// Retransmissions: proposals, accepts, NACKs, submits, recovery.
    Retransmit,
    /// votequorum's last-man-standing window.
    LastManStanding,
}

/// Simulation-only switches that break the protocol on purpose, so tests can show that the
/// invariant checkers catch the breakage ("buggify"). Never set in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Knobs {
    /// Install a new view without delivering the agreed old-view messages (no flush).
    pub skip_flush: bool,
}

/// One node of the nodelist, as the protocol sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeParams {
    pub id: NodeId,
    pub votes: u32,
    /// Link numbers on which this node has an address.
    pub links: Vec<u8>,
}

/// Everything a [`Totem`](super::Totem) needs to start.
#[derive(Debug, Clone)]
pub struct Params {
    pub me: NodeId,
    /// Fresh for every start of the process (clock + OS randomness in the daemon).
    pub boot_id: u64,
    pub cluster_name: String,
    pub authkey: AuthKey,
    pub nodes: Vec<NodeParams>,
    pub link_mode: LinkMode,
    /// `knet_link_priority` per link (default 0 each); higher wins in passive mode.
    pub link_priority: BTreeMap<u8, u8>,
    pub timing: Timing,
    pub quorum: QuorumOptions,
    pub expected_votes: u32,
    /// The highest ring sequence this node ever used, from its state directory.
    pub persisted_ring_seq: u64,
    /// Where heartbeats fall in time: at every time ≡ `hello_phase` (mod the heartbeat
    /// interval), µs. The daemon derives it from the wall clock so that nodes whose clocks
    /// agree send theirs at the same instants (see [`Params::hello_phase_for`]); 0 by default.
    pub hello_phase: Time,
    pub knobs: Knobs,
}

impl Params {
    /// Parameters for node `me` of a loaded corosync.conf.
    pub fn from_config(
        cfg: &ClusterConfig,
        me: NodeId,
        boot_id: u64,
        authkey: AuthKey,
        persisted_ring_seq: u64,
    ) -> Option<Params> {
        cfg.node(me)?;
        let nodes = cfg
            .nodes
            .iter()
            .map(|n| NodeParams {
                id: n.nodeid,
                votes: n.quorum_votes,
                links: n.addrs.keys().copied().collect(),
            })
            .collect::<Vec<_>>();
        let total: u32 = nodes.iter().map(|n| n.votes).sum();
        Some(Params {
            me,
            boot_id,
            cluster_name: cfg.cluster_name().to_string(),
            authkey,
            nodes,
            link_mode: cfg.totem.link_mode,
            link_priority: cfg
                .totem
                .interfaces
                .iter()
                .filter_map(|(l, i)| i.knet_link_priority.map(|p| (*l, p)))
                .collect(),
            timing: cfg.timing(),
            quorum: cfg.quorum.clone(),
            expected_votes: cfg.quorum.expected_votes.unwrap_or(total),
            persisted_ring_seq,
            hello_phase: 0,
            knobs: Knobs::default(),
        })
    }

    /// The [`Params::hello_phase`] that puts this node's heartbeats on the wall clock's
    /// multiples of the heartbeat interval, for a node whose time 0 is `unix_us` µs after
    /// the Unix epoch. Nodes whose clocks agree (NTP, or one host) then send their heartbeats
    /// together, and each takes its peers' heartbeats in the wake-up it sends its own in, or
    /// the one right after, instead of one wake-up per peer at a phase of its own. Clocks
    /// that disagree cost nothing but that saving: the interval is the same either way.
    pub fn hello_phase_for(&self, unix_us: u64) -> Time {
        super::peers::wall_clock_phase(ms(self.timing.ping_interval_ms), unix_us)
    }
}

/// Inputs to the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// First input after construction: sends the first heartbeats and arms timers.
    Start,
    /// A datagram received on a link.
    Packet {
        link: u8,
        bytes: Vec<u8>,
    },
    /// A timer armed by [`Output::SetTimer`] expired.
    Timer(TimerKind),
    /// Broadcast `payload` to process group `group` in total order.
    Broadcast {
        group: String,
        payload: Vec<u8>,
    },
    JoinGroup(String),
    LeaveGroup(String),
    /// `tandem quorum -e N`.
    SetExpectedVotes(u32),
}

/// A view installed on this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewChange {
    pub ring: RingId,
    pub members: Vec<NodeId>,
    pub joined: Vec<NodeId>,
    pub left: Vec<NodeId>,
}

/// A message delivered in total order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub ring: RingId,
    pub seq: u64,
    pub sender: NodeId,
    pub sender_boot: u64,
    pub local_id: u64,
    /// The seq of this view whose safety ([`Output::Safe`]) covers this delivery: `seq`,
    /// or for a message that arrived before the view's sync barrier and was held until
    /// then, the barrier's (a member acknowledges such a message before handing it on).
    pub safe_at: u64,
    pub group: String,
    pub payload: Vec<u8>,
}

/// Severity of a log line (Corosync's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
}

/// A line for the log, with Corosync's subsystem tags (`TOTEM`, `QUORUM`, `KNET`, `MAIN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: Level,
    pub subsys: String,
    pub text: String,
}

/// Why a local request was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Refused {
    #[error("payload of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("{0} messages are already waiting to be ordered; try again")]
    Busy(usize),
    #[error("group name longer than {0} bytes")]
    GroupName(usize),
    #[error("{0}")]
    Quorum(String),
}

/// Outputs: everything the driver must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send {
        to: NodeId,
        link: u8,
        bytes: Vec<u8>,
    },
    SetTimer {
        timer: TimerKind,
        at: Time,
    },
    /// Durably record the highest ring sequence used, before any later output is acted on.
    PersistRingSeq(u64),
    ViewInstalled(ViewChange),
    Deliver(Delivery),
    /// Safe delivery (Corosync's "safe" guarantee): every member of view `ring`, this node
    /// included, has delivered every message of that view up to `seq`. Reported when the
    /// mark rises (after the deliveries it covers); a view may end before its last
    /// messages become safe, and then none is reported for them.
    Safe {
        ring: RingId,
        seq: u64,
    },
    /// The members of a group this node joined: on every change, and again (changed or
    /// not) when a view's sync barrier completes, where all members agree on them.
    GroupChanged {
        group: String,
        members: Vec<NodeId>,
    },
    QuorumChanged {
        quorate: bool,
    },
    LinkChanged {
        node: NodeId,
        link: u8,
        up: bool,
    },
    Refused(Refused),
    Log(LogLine),
}

/// Counters (cmap `stats.*`-like).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub packets_in: u64,
    pub packets_out: u64,
    pub rejected_size: u64,
    pub rejected_version: u64,
    pub rejected_unknown_sender: u64,
    /// Wrong key, another cluster, or tampered.
    pub rejected_auth: u64,
    pub rejected_replay: u64,
    pub rejected_malformed: u64,
    pub delivered: u64,
    pub views_installed: u64,
    pub retransmits: u64,
    pub nacks_sent: u64,
    /// Resubmitted messages skipped because a member had delivered them already.
    pub duplicates_suppressed: u64,
    pub submits_sent: u64,
    pub submits_received: u64,
}

impl Stats {
    pub fn rejected_total(&self) -> u64 {
        self.rejected_size
            + self.rejected_version
            + self.rejected_unknown_sender
            + self.rejected_auth
            + self.rejected_replay
            + self.rejected_malformed
    }
}

/// One link to one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStatus {
    pub link: u8,
    pub connected: bool,
}

/// One peer as this node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerStatus {
    pub id: NodeId,
    pub alive: bool,
    pub member: bool,
    pub join_count: u32,
    pub links: Vec<LinkStatus>,
}

/// A snapshot for tools (`tandem quorum`, `cmap`, `links`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub me: NodeId,
    pub ring: RingId,
    pub members: Vec<NodeId>,
    pub forming: bool,
    pub quorum: QuorumStatus,
    pub peers: Vec<PeerStatus>,
    pub groups: BTreeMap<String, Vec<NodeId>>,
    pub stats: Stats,
}
