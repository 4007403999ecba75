//! tandem-totem (docs written below once the protocol lands)

pub mod authkey;
pub mod config;
pub mod flush;
mod node;
pub mod quorum;
pub mod seal;
pub mod wire;

pub use node::*;

/// A node id from the nodelist (`nodeid`), never 0.
pub type NodeId = u32;
