//! corosync.conf: the file Corosync 3 users already have, read unchanged.
//!
//! [`parse`] turns text into a tree of sections; [`ClusterConfig::from_text`] turns the tree
//! into typed options, warning (not failing) on options it does not know, and failing with
//! file, line and option on values it cannot accept. [`Timing`] holds the derived timeouts
//! exactly as Corosync computes them (`runtime.config.totem.*`).

mod model;
mod parse;
pub mod timing;

pub use model::{
    AtbNode, ClusterConfig, Interface, LinkMode, LoggingOptions, MAX_LINKS, MAX_NODES, NodeEntry,
    QuorumOptions, TotemOptions,
};
pub use parse::{Entry, MAX_CONFIG_BYTES, MAX_DEPTH, Section, parse};
pub use timing::{
    DEFAULT_CONSENSUS_FACTOR, DEFAULT_JOIN_MS, DEFAULT_TOKEN_COEFFICIENT_MS, DEFAULT_TOKEN_MS,
    TANDEM_DEFAULT_TOKEN_COEFFICIENT_MS, TANDEM_DEFAULT_TOKEN_MS, Timing,
};

/// A configuration the cluster cannot run with. Nothing was changed: the caller keeps
/// whatever configuration it had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: {section}.{key}: {message}")]
    Value {
        file: String,
        line: usize,
        section: String,
        key: String,
        message: String,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// Something accepted but worth telling the operator (unknown option, ignored setting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}
