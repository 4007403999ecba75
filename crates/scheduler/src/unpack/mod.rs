//! Stage 1b: the status section — node states and resource states.

pub mod history;
pub mod nodes;
pub mod ops;
