//! `tandem-node`: one node's whole logic composed into a deterministic state machine —
//! the cluster layer ([`tandem_totem::Totem`]), the replicated CIB, transient attributes,
//! the DC's controller (running [`tandem_scheduler::schedule`] and executing its graph) and
//! the requests this node's executor must run.
//!
//! A core crate (ARCHITECTURE.md §2): no I/O, no clock, no randomness. The daemon feeds it
//! packets, timer expiries, local requests and executor results; it answers with packets to
//! send, timers to arm, CIB writes, operations to run and replies.

pub mod time;

pub use time::Now;
pub mod outcome;

pub use outcome::OpOutcome;
