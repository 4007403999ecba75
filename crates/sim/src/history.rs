//! What happened in a run, recorded for the invariant checkers.

use std::collections::BTreeMap;

use tandem_totem::wire::RingId;
use tandem_totem::{NodeId, Time, ViewChange};

/// One node process lifetime (a crash ends it, a restart begins the next).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Incarnation {
    pub node: NodeId,
    pub boot: u32,
}

/// Identity of a broadcast message: who sent it, in which boot, its per-boot id.
pub type MsgKey = (NodeId, u64, u64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub at: Time,
    pub ring: RingId,
    pub seq: u64,
    /// The seq whose safety covers this delivery (see `tandem_totem::Delivery`).
    pub safe_at: u64,
    pub key: MsgKey,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub at: Time,
    pub view: ViewChange,
}

/// A safe point a node reported: every member of `ring` delivered up to `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeMark {
    pub at: Time,
    pub ring: RingId,
    pub seq: u64,
}

/// (node, ring, members, forming) of one live node at a moment.
pub type NodeSnapshot = (NodeId, RingId, Vec<NodeId>, bool);

/// Everything the checkers look at.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub views: BTreeMap<Incarnation, Vec<Installed>>,
    pub deliveries: BTreeMap<Incarnation, Vec<Delivered>>,
    /// The safe points each incarnation reported, in order.
    pub safe: BTreeMap<Incarnation, Vec<SafeMark>>,
    /// payload → the node that broadcast it (payloads are unique per run).
    pub broadcasts: BTreeMap<Vec<u8>, (NodeId, Incarnation, Time)>,
    /// When each incarnation ended by a crash.
    pub crashed_at: BTreeMap<Incarnation, Time>,
    /// Start of the calm phase (no faults) and end of the run.
    pub calm_from: Time,
    pub end: Time,
    /// Liveness probe: node killed in the calm phase and when.
    pub probe_kill: Option<(NodeId, Time)>,
    /// Failure detection bound: effective token + consensus.
    pub detection_bound: Time,
    /// Convergence bound once the network is calm.
    pub convergence_bound: Time,
    /// Incarnations alive at the end of the run.
    pub alive_at_end: Vec<Incarnation>,
    /// (time, [(node, ring, members, forming)]) of every node alive at that time: taken
    /// once the calm phase had time to converge, and at the end.
    pub snapshots: Vec<(Time, Vec<NodeSnapshot>)>,
    /// Packets forged or tampered by the simulated attacker that nodes accepted (must be 0).
    pub forged_accepted: u64,
}

impl History {
    /// Deliveries of one incarnation grouped by ring, in delivery order.
    pub fn by_ring(&self, inc: Incarnation) -> BTreeMap<RingId, Vec<&Delivered>> {
        let mut m: BTreeMap<RingId, Vec<&Delivered>> = BTreeMap::new();
        for d in self
            .deliveries
            .get(&inc)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
        {
            m.entry(d.ring).or_default().push(d);
        }
        m
    }
}
