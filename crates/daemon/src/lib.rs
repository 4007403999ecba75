//! `tandem-daemon`: the driver that runs a Tandem node on a real machine.
//!
//! ```text
//!   UDP socket per link ──datagrams──▶ ┐
//!   Unix socket tandem.sock ─requests─▶ │
//!   executor results (agents) ────────▶ ├─▶ main loop ──Input──▶ Node::handle ──Output──┐
//!   timerfd at the earliest deadline ─▶ ┘       ▲                                        │
//!        ▲                                       └─ send_to / persist ringid / save CIB ◀┤
//!        │                                          run or cancel agents / reply / log ◀─┤
//!        └───────────────────── SetTimer ◀───────────────────────────────────────────────┘
//! ```
//!
//! The daemon owns sockets, the clock, files, child processes and the log; every decision
//! is made by [`tandem_node::Node`] (which wraps [`tandem_totem::Totem`]). Operations run
//! through [`tandem_exec::Executor`]; the CIB is written by [`cibstore`] before any later
//! output is acted on — except status-only changes (operation records, history reports),
//! which a writer thread writes meanwhile (`cibwriter`). Paths (config, authkey, state and run directories, the OCF root) are
//! all options, so several daemons run side by side on 127.0.0.x for tests and demos. The
//! local IPC protocol is in [`ipc`].
//!
//! `unsafe` is denied in the workspace; this crate allows it in two modules, each call
//! with its `SAFETY` argument: `realtime` (`sched_setscheduler(2)` for the main thread's
//! `SCHED_RR`, and `sched_getscheduler(2)` in its test) and `deadline` (registering the main
//! loop's `timerfd` with tokio's reactor, which needs the descriptor to stay open for as long
//! as the registration).
//!
//! ```no_run
//! use tandem_daemon::DaemonOptions;
//! let opts = DaemonOptions {
//!     config: Some("/tmp/n1/corosync.conf".into()),
//!     authkey: Some("/tmp/n1/authkey".into()),
//!     state_dir: "/tmp/n1/state".into(),
//!     run_dir: "/tmp/n1/run".into(),
//!     node_id: Some(1),
//!     ocf_root: None,
//!     realtime: true,
//!     in_process: None, // the `tandem` binary passes its built-in agents here
//! };
//! tandem_daemon::run(opts).unwrap(); // until SIGTERM
//! ```

// A driver crate: it owns the clock and the environment.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod agents;
mod bench;
pub mod cibstore;
mod cibwriter;
mod deadline;
pub mod durable;
pub mod ipc;
mod logger;
mod realtime;
mod run;
mod setup;
mod status;

pub use logger::timestamp;
pub use run::{BENCH_GROUP, run};
pub use setup::{
    COROSYNC_AUTHKEY, COROSYNC_CONFIG, DEFAULT_AUTHKEY, DEFAULT_CONFIG, DEFAULT_RUN_DIR,
    DEFAULT_STATE_DIR, DaemonOptions, persist_ring_seq,
};
