//! `tandem-testkit`: real Tandem clusters on one machine — one `tandem daemon` process per
//! node on 127.0.0.1..N — built, watched and torn down in one place. `tandem sandbox` and
//! the end-to-end tests both use it.
//!
//! ```text
//!  DIR/corosync.conf          nodelist 127.0.0.1..N (node1..nodeN), one UDP port, token 1 s
//!  DIR/authkey                one key shared by every node
//!  DIR/ocf/resource.d/tandem/ Tandem's built-in agents (links to the tandem binary)
//!  DIR/nodeK/state/           the daemon's --state-dir (ring id, CIB)
//!  DIR/nodeK/run/             the daemon's --run-dir (tandem.sock): TANDEM_RUN_DIR for tools
//!  DIR/nodeK/rsctmp/          HA_RSCTMP: agents' state and pid files, private to the node
//!  DIR/nodeK/daemon.log       the daemon's log (stderr)
//! ```
//!
//! Every daemon runs in its own process group (a Ctrl-C in the terminal reaches only the
//! process that owns the cluster, which then tears down in order) with `TANDEM_SANDBOX=DIR`
//! and `TANDEM_SANDBOX_NODE=nodeK` in its environment. Agents and the services they start
//! inherit both, so teardown — and a simulated node crash — finds every process that
//! belongs to the cluster, or to one node, by reading `/proc/PID/environ` ([`procs`]),
//! even when a resource's process left its parent's process group.
//!
//! [`LoopbackCluster`] tears everything down when dropped (tests), or on request
//! ([`LoopbackCluster::teardown`]); [`LoopbackCluster::detach`] leaves it running and
//! returns a [`record::Record`] from which [`record::teardown`] can stop it later
//! (`tandem sandbox down`).
//!
//! [`netns::NetnsCluster`] is the same cluster on a real virtual network — one network
//! namespace per node on a bridge, a client namespace, a floating IP and a web server —
//! with fault injection (crash, pause, cables, loss/delay/jitter, partitions); a
//! [`probe::Prober`] in the client namespace records which node answers on the floating IP.

// A driver crate: it owns processes, files, sockets and the clock.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod cluster;
pub mod cmd;
pub mod config;
pub mod netns;
pub mod nfqueue;
pub mod placement;
pub mod probe;
pub mod procs;
pub mod record;
pub mod serve;
pub mod wait;

pub use cluster::{LoopbackCluster, Spec};
pub use netns::{Impairment, NetSpec, NetnsCluster};
pub use placement::{Placement, placement};
pub use probe::{ProbeConfig, Prober};
pub use wait::eventually;

/// Environment variable naming the cluster directory a process belongs to.
pub const MARKER_VAR: &str = "TANDEM_SANDBOX";
/// Environment variable naming the node a process belongs to (`node2`).
pub const NODE_VAR: &str = "TANDEM_SANDBOX_NODE";
