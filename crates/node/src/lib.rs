//! `tandem-node`: one node's whole logic composed into a deterministic state machine —
//! the cluster layer ([`tandem_totem::Totem`]), the replicated CIB, transient attributes,
//! the DC's controller (running [`tandem_scheduler::schedule`] and executing its graph) and
//! the requests this node's executor must run.
//!
//! A core crate (ARCHITECTURE.md §2): no I/O, no clock, no randomness. The daemon feeds it
//! packets, timer expiries, local requests and executor results; it answers with packets to
//! send, timers to arm, CIB writes, operations to run and replies.
//!
//! ```text
//!  Input::Totem(packet/timer/Start) ─▶ ┌──────────────── Node ────────────────┐
//!  Input::Timer(NodeTimer)          ─▶ │ Totem ─Deliver(group "tandem-node")─▶ │ ─▶ Output::Totem(Send/SetTimer/…)
//!  Input::Request{client, req}      ─▶ │   sync rounds · CIB ops (cibops)      │ ─▶ Output::PersistCib (before replies) / PersistStatus
//!  Input::ExecDone{call, outcome}   ─▶ │   DC: membership, scheduler,          │ ─▶ Output::Exec / CancelExec
//!  Input::Shutdown                  ─▶ │       controller · local executor side│ ─▶ Output::Reply / Log / Exit
//!                                      └───────────────────────────────────────┘
//! ```
//!
//! # Using it (the driver's contract)
//!
//! ```text
//! let mut node = Node::new(NodeParams { totem: params, names, cib: store.load()? });
//! let outs = node.handle(now, Input::Totem(tandem_totem::Input::Start)); // joins the group
//! // then, for every event: outs = node.handle(Now { mono_us, epoch_s }, input);
//! ```
//!
//! * Carry out the outputs in order. [`Output::PersistCib`] must be durable before any later
//!   output is acted on (a [`Output::Reply`] after it acknowledges the change), like totem's
//!   `PersistRingSeq`. [`Output::PersistStatus`] need not: write it when the disk gets to
//!   it, never over a later one (each persist carries the node's whole current CIB: keep
//!   only the latest pending one, and drop it when a `PersistCib` comes), and before a
//!   graceful exit ([`Output::Exit`], SIGTERM). See "Durability" below.
//! * Timers: one deadline per [`NodeTimer`] and per totem `TimerKind`; a new `SetTimer`
//!   replaces the previous deadline of that timer. Feed [`Input::Timer`] /
//!   `Input::Totem(Timer(kind))` when it is due.
//! * [`Output::Exec`]`{call, op}`: run `op` (a recurring one until [`Output::CancelExec`]);
//!   answer each result with [`Input::ExecDone`]`{call, outcome}` — for a recurring one, the
//!   first result and each one that differs from the previous (the executor's "report on
//!   change"). Results of cancelled calls are ignored.
//! * [`Output::Exit`]: a graceful shutdown finished; stop the process.
//! * [`Input::Request`] is answered by exactly one [`Output::Reply`] with the same client
//!   (immediately for queries and refusals; for changes once applied and *safe*, see
//!   [`safe`]).
//! * Status for tools: [`Node::totem`], [`Node::cib`], [`Node::dc_name`], [`Node::is_synced`].
//!
//! The simulator runs N nodes this way on a virtual clock; `harness.rs` (tests) is a small
//! in-memory example with virtual agents, crashes and partitions.
//!
//! # Replication (ARCHITECTURE §4)
//!
//! Every change is a [`cibops::CibOp`] broadcast in the group and applied by every replica
//! in delivery order ([`cibops::apply`] is a pure function of the CIB and the message), so
//! replicas accept and refuse the same operations. The node that sent a client's request
//! answers it when the request is delivered back, applied ([`Output::PersistCib`] comes
//! first) and *safe* — delivered to every member of the view ([`safe`]): a change answered
//! on its agreed delivery alone could die with a node or a view that was already cut off. Group membership changes start a sync round ([`sync`]): the highest
//! `(admin_epoch, epoch, num_updates)` wins, ties to the lowest node id; the winner's CIB
//! is broadcast in parts below totem's payload limit; each node then re-reports its own
//! executor history into `status`. Operations delivered during a round wait for its end.
//!
//! Messages are versioned postcard ([`wire`]).
//!
//! # Durability: what must be on disk before the node goes on
//!
//! Every applied change is written to disk as the whole CIB. Most are written *before* the
//! next output ([`Output::PersistCib`]): configuration changes, the DC's membership and
//! fencing records, every change a client asked for (its answer says every member holds
//! it), and the CIBs a sync round installs. Operation records and history reports —
//! the changes of every step of a transition (a stop, a start, a monitor's result) — are
//! [`Output::PersistStatus`]: the node goes on (sends, acknowledges, runs the next
//! operation) while the driver writes them, so the disk is off the path of a failover's
//! every step. A crash may lose the last few of them; that is safe because they are
//! status only (same configuration, same epochs, a lower `num_updates`), nobody was told
//! they are durable, and Tandem rebuilds them: the node restarts from an earlier CIB of its
//! own, as if it had crashed a moment sooner; members holding the newer CIB win the next
//! sync round; every member re-reports its executor's history after each round, and a
//! restarted node's history starts empty and is probed ([`cibops::CibOp::durable`]).
//! The disk never goes back: every persist of either kind carries the node's current CIB,
//! and a durable write supersedes a pending status write. So the CIB on disk after a
//! crash is at least as recent as the last durable one, with the node's latest
//! configuration.

pub mod cibops;
pub mod controller;
mod dc;
mod local;
mod node;
pub mod outcome;
pub mod safe;
pub mod sync;
pub mod time;
pub mod types;
pub mod wire;

#[cfg(test)]
mod harness;
#[cfg(test)]
mod tests;

pub use node::Node;
pub use outcome::OpOutcome;
pub use time::Now;
pub use types::{
    CallId, ClientId, ClusterInfo, ExecOp, Input, LastChange, NodeParams, NodeTimer, Output,
    Request, Response,
};
