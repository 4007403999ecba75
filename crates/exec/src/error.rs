//! Errors of the executor's API (an agent's failure is not an error: it is an [`OpResult`]
//! with a non-zero rc).
//!
//! [`OpResult`]: crate::OpResult

use std::path::PathBuf;

/// Something the caller asked for that cannot be done. None of these change any state.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// An agent name that is not well formed.
    #[error("agent {spec}: {why}")]
    BadAgent {
        /// What was given.
        spec: String,
        /// What was expected.
        why: String,
    },
    /// An agent's meta-data is not what the OCF API describes.
    #[error("meta-data of {agent}: {why}")]
    BadMetadata {
        /// The agent.
        agent: String,
        /// What is wrong, with the XML position where there is one.
        why: String,
    },
    /// A duration that is not a number with an optional unit.
    #[error("invalid duration {value:?}: {why}")]
    BadDuration {
        /// What was given.
        value: String,
        /// What was expected.
        why: &'static str,
    },
    /// A directory of agents could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The systemd manager could not be reached or answered with an error.
    #[error("systemd over D-Bus: {0}")]
    Dbus(String),
    /// The executor's queue refused a submission or cancellation.
    #[error("refused: {0}")]
    Rejected(String),
    /// The executor has shut down.
    #[error("the executor has stopped")]
    Stopped,
}
