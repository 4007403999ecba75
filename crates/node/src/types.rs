//! What goes into [`Node::handle`](crate::Node::handle) and what comes out.
//!
//! The IPC requests of the daemon's socket are mirrored here ([`Request`], [`Response`]) so
//! this core crate does not depend on the daemon; the daemon converts one to the other.

use std::collections::BTreeMap;

use tandem_cib::{Cib, Version};
use tandem_totem::NodeId;

use crate::OpOutcome;

/// A local client of the daemon, numbered by the daemon; replies name it.
pub type ClientId = u64;

/// One operation the node asked the daemon to run ([`Output::Exec`]); a recurring one keeps
/// its call for its whole life.
pub type CallId = u64;

/// The node's own timers (totem's are [`tandem_totem::TimerKind`]). The driver keeps one
/// deadline per timer; a new [`Output::SetTimer`] replaces the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeTimer {
    /// The DC's short debounce before running the scheduler after a change.
    Schedule,
    /// The controller's action timeouts.
    Controller,
    /// `cluster-recheck-interval`: the DC re-runs the scheduler even if nothing changed.
    Recheck,
    /// The DC's bound on waiting for the members' history reports after a sync round
    /// (`HISTORY_REPORT_WAIT_MS` in `dc.rs`).
    Reports,
    /// A graceful shutdown that has not finished in time exits anyway.
    ShutdownEscalation,
}

/// Everything [`crate::Node::new`] needs.
#[derive(Debug, Clone)]
pub struct NodeParams {
    pub totem: tandem_totem::Params,
    /// Node names (`uname`) by id: the nodelist's `name`, else its ring0 address.
    pub names: BTreeMap<NodeId, String>,
    /// The CIB loaded from disk; `None` starts from an empty CIB (version 0.0.0) that takes
    /// the cluster's at the first sync.
    pub cib: Option<Cib>,
}

/// A local request (the daemon's IPC requests that concern the node layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The whole CIB, status included.
    CibQuery,
    /// Replace the configuration section, if the live CIB is still at the base version.
    CibCommit {
        base_admin_epoch: u64,
        base_epoch: u64,
        configuration: String,
    },
    /// `cibadmin --replace`: configuration and version of the given CIB.
    CibReplace { xml: String },
    /// Set (`Some`) or delete (`None`) a transient attribute of a node.
    AttrUpdate {
        node: String,
        name: String,
        value: Option<String>,
    },
    /// Clear fail counts and failed history of a resource (or all failed ones) on a node (or
    /// all nodes), which makes the DC probe again.
    Cleanup {
        resource: Option<String>,
        node: Option<String>,
    },
    /// The cluster as this node sees it.
    ClusterStatus,
    /// Graceful shutdown of this node.
    Shutdown,
}

/// Who changed the CIB last (`cib-last-written`, `update-user`, `update-client`,
/// `update-origin`), for "Last change: ... by root via cibadmin on node1". Also the IPC
/// answer's shape (the daemon re-exports it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LastChange {
    /// Seconds since the Unix epoch.
    pub epoch_s: i64,
    pub user: String,
    pub client: String,
    pub origin_node: String,
}

/// The cluster as `tandem status` / `tandem mon` show it (also the IPC answer's shape).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClusterInfo {
    /// The whole CIB, status section included.
    pub cib: String,
    /// This node's name (uname).
    pub local_node: String,
    /// The designated controller, if one is elected.
    pub dc: Option<String>,
    pub quorate: bool,
    /// Names of the nodes in the current membership.
    pub members: Vec<String>,
    /// The ring id, as `tandem quorum` prints it.
    pub ring: String,
    pub last_change: Option<LastChange>,
    /// The DC is executing a transition.
    pub transition_active: bool,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Cib { xml: String },
    Committed { version: Version },
    Done,
    Cluster(Box<ClusterInfo>),
    Error { message: String },
}

/// Inputs to the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Inputs for the cluster layer: `Start` first, packets, its timers, expected votes, and
    /// broadcasts to groups other than the node's own (benchmarks).
    Totem(tandem_totem::Input),
    /// A node timer expired.
    Timer(NodeTimer),
    /// A local client's request; answered by [`Output::Reply`] (maybe much later).
    Request { client: ClientId, req: Request },
    /// An operation asked for by [`Output::Exec`] finished (a recurring one: a run whose
    /// result differs from the previous one, or its first).
    ExecDone { call: CallId, outcome: OpOutcome },
    /// The daemon got SIGTERM: leave gracefully (same as [`Request::Shutdown`]).
    Shutdown,
    /// The fencing asked for by [`Output::Fence`] finished: `ok` when the node is
    /// confirmed off (or rebooted), else it failed.
    FenceDone { node: String, ok: bool },
}

/// Outputs, to be carried out in order.
#[derive(Debug, Clone)]
pub enum Output {
    /// Everything the cluster layer asks for (sends, its timers, `PersistRingSeq`, logs,
    /// and deliveries of other groups).
    Totem(tandem_totem::Output),
    /// Arm a node timer at `at` (monotonic µs, as [`crate::Now::mono_us`]).
    SetTimer { timer: NodeTimer, at: u64 },
    /// Write the CIB to disk before acting on any later output.
    PersistCib(Box<Cib>),
    /// Write the CIB to disk soon, without holding back later outputs: the change since
    /// the previous persist is an operation record or a history report in `status`, which
    /// a node rebuilds after a restart and no client is told about (see
    /// [`crate::cibops::CibOp::durable`]). A crash may lose it; a later [`Output::PersistCib`]
    /// or [`Output::PersistStatus`] (always of the node's current CIB) supersedes it; a
    /// graceful exit writes it first.
    PersistStatus(Box<Cib>),
    /// Run an operation; answer with [`Input::ExecDone`].
    Exec { call: CallId, op: ExecOp },
    /// Stop a recurring operation (no more `ExecDone` for it).
    CancelExec { call: CallId },
    /// The DC asks the fencer to fence node `node` (uname) with `action` (`reboot`,
    /// `off`); answer with [`Input::FenceDone`]. A driver without a fencer answers
    /// `ok: false` at once.
    Fence { node: String, action: String },
    /// Answer a local client.
    Reply { client: ClientId, resp: Response },
    /// A log line (Pacemaker's words), with the subsystem (`cib`, `controller`, `attrd`).
    Log(tandem_totem::LogLine),
    /// The node finished a graceful shutdown: the daemon exits.
    Exit,
}

/// An operation to run: agent, action, interval, timeout, parameters and meta-attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOp {
    pub rsc_id: String,
    pub class: String,
    pub provider: Option<String>,
    pub kind: String,
    pub action: String,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub params: BTreeMap<String, String>,
    pub meta: BTreeMap<String, String>,
}
