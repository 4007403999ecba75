//! What came of one operation the daemon ran for this node: the executor's result in the
//! numbers Pacemaker records (`rc-code`, `op-status`), with its timing.

use serde::{Deserialize, Serialize};

/// Pacemaker's `op-status` values (`PCMK_EXEC_*`), as recorded in `lrm_rsc_op`.
pub mod op_status {
    pub const PENDING: i32 = -1;
    pub const DONE: i32 = 0;
    pub const CANCELLED: i32 = 1;
    pub const TIMEOUT: i32 = 2;
    pub const NOT_SUPPORTED: i32 = 3;
    pub const ERROR: i32 = 4;
    pub const ERROR_HARD: i32 = 5;
    pub const ERROR_FATAL: i32 = 6;
    pub const NOT_INSTALLED: i32 = 7;
}

/// The result of one run of an operation (for a recurring one: of one of its runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpOutcome {
    /// The OCF return code (`rc-code`).
    pub rc: i32,
    /// How far the operation got ([`op_status`]).
    pub op_status: i32,
    /// The agent's exit reason, if it gave one.
    pub exit_reason: Option<String>,
    /// Wall-clock seconds when the run started (`last-run`, `last-rc-change`).
    pub started_epoch_s: i64,
    /// How long the agent ran (`exec-time`).
    pub exec_time_ms: u64,
    /// How long it waited in the executor's queue (`queue-time`).
    pub queue_time_ms: u64,
}
