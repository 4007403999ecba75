//! `tandem-exec`: the executor. It runs resource agents — OCF agents, LSB init scripts,
//! systemd units, and fence agents — the way Pacemaker's `pacemaker-execd` does, so the
//! agents users already have (Debian's `resource-agents`, `fence-agents`, their own units and
//! scripts) run unmodified.
//!
//! ```text
//!  OpRequest ─▶ Runner::run ─┬─ ocf ────▶ $OCF_ROOT/resource.d/P/T ACTION   (env: OCF_RESKEY_*)
//!  (rsc, agent, action,      ├─ lsb ────▶ /etc/init.d/T start|stop|status
//!   interval, timeout,       ├─ systemd ▶ D-Bus StartUnit/StopUnit/ActiveState (+ drop-in)
//!   params, meta)            ├─ service ▶ lsb if the script exists, else systemd
//!                            └─ stonith ▶ /usr/sbin/fence_X, key=value on stdin
//!                                  │
//!                                  ▼
//!  OpResult { rc (OCF semantics), status (done/timeout/...), exit reason, stdout, stderr,
//!             started, duration }
//!
//!  Executor = ExecQueue (pure: one op per resource, recurring monitors, report on change,
//!                        watchers)
//!           + a tokio task that runs what the queue asks for
//! ```
//!
//! Event-driven failure detection ([`watch`]): beside a recurring monitor whose agent has a
//! watcher, the executor runs `AGENT watch` — a long-running, non-standard action that exits
//! as soon as it sees the resource fail (Tandem's `IPaddr`: its address deleted, from
//! netlink events; `process`: its process exited, from a pidfd) — and then runs the monitor
//! at once, so a failure is reported in milliseconds rather than at the next interval. The
//! monitor stays the source of truth and the safety net. An agent says it has a watcher
//! either with `<action name="watch"/>` in its meta-data (OCF 1.1 allows any action name) or
//! by listing `methods` there and printing `watch` from its `methods` action. Tandem's agents
//! use the second way: Debian's `ocf-tester` validates meta-data with `xmllint --valid`
//! against the OCF 1.0 `ra-api-1.dtd`, whose action names are a fixed list (an unknown name
//! fails the test) that includes `methods` — an action resource-agents' own `pgsql`,
//! `named` or `LVM` already list, so Pacemaker, crmsh and pcs meet it every day; Pacemaker's
//! controller takes only the reload actions from `<actions>`. Agents that say neither are
//! never asked to `watch`.
//!
//! A driver that *is* some agents — the `tandem` binary is `ocf:tandem:*` — may hand the
//! runner an [`InProcess`] ([`inproc`]): the actions it takes (the built-in agents'
//! monitors) then run on a thread of the executor's process with the environment a child
//! would get, and their answers go through the same translation, timeout and cancellation;
//! every other action runs as a process.
//!
//! Processes run in their own process group through `posix_spawn` (never a shell; parameters
//! go through the environment or stdin), their output is captured up to a limit, and at the
//! timeout the whole group gets SIGTERM and, after a grace period, SIGKILL; orphans are reaped
//! because the executor is their subreaper ([`reaper`]).
//!
//! Specifications followed: the OCF Resource Agent API 1.1 (environment, exit codes, exit
//! reasons, meta-data), LSB Core "Init Script Actions" (status codes), systemd's
//! `org.freedesktop.systemd1` D-Bus API, fence-agents' FenceAgentAPI. Deviations from
//! Pacemaker: the systemd drop-in is named `50-tandem.conf` and orders units before
//! `tandem.service`; only one OCF root directory is searched (Pacemaker searches a list).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use tandem_exec::{AgentId, ExecConfig, OcfRc, OpRequest, Runner};
//! let runner = Runner::new(ExecConfig::default());
//! let req = OpRequest::new("vip", AgentId::ocf("nobody", "Missing").unwrap(), "start");
//! let result = runner.run(&req, std::future::pending()).await;
//! assert_eq!(result.rc, OcfRc::NotInstalled);
//! assert_eq!(
//!     result.exit_reason.as_deref(),
//!     Some("ocf:nobody:Missing is not installed: /usr/lib/ocf/resource.d/nobody/Missing does not exist")
//! );
//! # });
//! ```

// A driver crate: it owns the clock, the environment and child processes (the queue logic in
// `queue` stays clear of all three, so it can move into a core crate).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod discover;
pub mod env;
mod error;
mod executor;
pub mod inproc;
pub mod lsb;
pub mod metadata;
pub mod ocf;
pub mod process;
pub mod queue;
pub mod rc;
pub mod reaper;
mod runner;
pub mod stonith;
pub mod systemd;
mod types;
pub mod watch;

pub use error::ExecError;
pub use executor::{
    Event, ExecOptions, Executor, MAX_PENDING_EVENTS, WATCH_CAPABILITY_TTL, WATCH_MAX_LIFETIME,
    WatchEvent, WatchNote,
};
pub use inproc::{InProcess, InProcessExit, MAX_IN_PROCESS_RUNNING};
pub use metadata::{
    ActionInfo, AgentMetadata, OpConfig, ParamInfo, check_op_timeouts, parse_duration_ms,
};
pub use queue::{CallId, ExecQueue, OpKey};
pub use rc::OcfRc;
pub use runner::{ExecConfig, METADATA_TIMEOUT, METHODS_TIMEOUT, Runner};
pub use systemd::{Bus, SystemdConfig};
pub use types::{
    AgentId, Class, DEFAULT_TIMEOUT_MS, ExecStatus, MAX_NAME_LEN, OpRequest, OpResult,
};
pub use watch::WatchEnd;
