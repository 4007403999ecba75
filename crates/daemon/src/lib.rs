//! `tandem-daemon`: the driver that runs Tandem's cluster layer on a real machine.
//!
//! ```text
//!   UDP socket per link ──datagrams──▶ ┐
//!   Unix socket tandem.sock ─requests─▶ ├─▶ main loop ──Input──▶ Totem::handle ──Output──┐
//!   timers (one deadline per kind) ───▶ ┘       ▲                                         │
//!        ▲                                       └── send_to / persist ringid / log ◀─────┘
//!        └───────────────────── SetTimer ◀────────────────────────────────────────────────┘
//! ```
//!
//! The daemon owns sockets, the clock, files and the log; every decision is made by
//! [`tandem_totem::Totem`]. Paths (config, authkey, state and run directories) are all
//! options, so several daemons run side by side on 127.0.0.x for tests and demos. The
//! local IPC protocol is in [`ipc`]; the CIB on disk in [`cibstore`].
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
//! };
//! tandem_daemon::run(opts).unwrap(); // until SIGTERM
//! ```

// A driver crate: it owns the clock and the environment.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod agents;
mod bench;
pub mod cibstore;
pub mod durable;
pub mod ipc;
mod logger;
mod run;
mod setup;
mod status;

pub use logger::timestamp;
pub use run::{BENCH_GROUP, run};
pub use setup::{
    COROSYNC_AUTHKEY, COROSYNC_CONFIG, DEFAULT_AUTHKEY, DEFAULT_CONFIG, DEFAULT_RUN_DIR,
    DEFAULT_STATE_DIR, DaemonOptions, persist_ring_seq,
};
