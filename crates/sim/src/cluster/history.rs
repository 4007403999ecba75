//! What happened in a whole-node run that the checkers need besides the nodes' state:
//! acknowledged client changes, what each node persisted, the requests not yet answered,
//! and counters for the summary.

use std::collections::BTreeMap;

use tandem_cib::Version;
use tandem_totem::wire::RingId;
use tandem_totem::{NodeId, Time};

/// A client change the cluster acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A configuration commit that added the marker `sim-mark-K` (markers are never
    /// removed by later commits, so a correct cluster keeps every acknowledged one).
    Marker(String),
    /// A transient attribute set on `target` (while it ran boot `target_boot`): kept as
    /// long as that boot of the target lives (a restart clears a node's transient
    /// attributes, as Pacemaker's attrd does).
    Attr {
        target: NodeId,
        target_name: String,
        target_boot: u32,
        name: String,
        value: String,
    },
}

/// One acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub at: Time,
    /// The node that answered the client, and whether it was in a quorate partition then.
    pub node: NodeId,
    pub boot: u32,
    pub quorate: bool,
    /// The ring the acknowledging node was in.
    pub ring: RingId,
    pub change: Change,
}

/// A request sent and not answered yet.
#[derive(Debug, Clone)]
pub struct Pending {
    pub node: NodeId,
    pub boot: u32,
    pub at: Time,
    pub change: Change,
}

/// Counters for the run's summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub commits_acked: u64,
    pub commits_refused: u64,
    pub attrs_acked: u64,
    pub attrs_refused: u64,
    pub ops_run: u64,
    pub start_failures: u64,
    pub rsc_deaths: u64,
    pub fenced: u64,
    pub crashes: u64,
    /// Crashes that lost a status write still in progress ([`tandem_node::Output::PersistStatus`]).
    pub status_writes_lost: u64,
    pub transitions: u64,
    /// Changes answered as possibly not in effect: their view ended before they were safe
    /// and the sync that followed agreed on another CIB (counted among the refused).
    pub uncertain: u64,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    pub acks: Vec<Ack>,
    pub pending: BTreeMap<u64, Pending>,
    /// The version of the last CIB each node asked to persist durably (`PersistCib`,
    /// across its boots; a `PersistStatus` may be lost in a crash).
    pub last_persisted: BTreeMap<NodeId, Version>,
    /// For each (node, boot): what that node had asked to persist before this boot.
    pub persisted_before_boot: BTreeMap<(NodeId, u32), Version>,
    /// Start of the calm phase and end of the run.
    pub calm_from: Time,
    pub end: Time,
    pub stats: Stats,
}
