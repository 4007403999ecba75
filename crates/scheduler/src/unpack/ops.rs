//! One resource's operation history on one node, replayed in call order into a role and a
//! failure state.

use tandem_cib::status::OpHistory;
use tandem_cib::{DateTime, Role};

use crate::model::OnFail;

/// OCF exit codes the scheduler distinguishes.
pub mod rc {
    pub const OK: i32 = 0;
    pub const ERR_GENERIC: i32 = 1;
    pub const ERR_ARGS: i32 = 2;
    pub const ERR_UNIMPLEMENTED: i32 = 3;
    pub const ERR_PERM: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_CONFIGURED: i32 = 6;
    pub const NOT_RUNNING: i32 = 7;
    pub const RUNNING_PROMOTED: i32 = 8;
    pub const FAILED_PROMOTED: i32 = 9;
    pub const DEGRADED: i32 = 190;
    pub const DEGRADED_PROMOTED: i32 = 191;
    /// What the executor records for an operation still in flight.
    pub const PENDING: i32 = 193;
}

/// Executor op-status values.
pub mod status {
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

/// How bad a failure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Recover in place or elsewhere.
    Soft,
    /// Ban the resource from this node.
    Hard,
    /// Stop the resource everywhere.
    Fatal,
}

/// The replayed state.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    pub role: Option<Role>,
    pub failed: bool,
    /// The most severe failure's on-fail and severity (of failures not superseded).
    pub on_fail: Option<OnFail>,
    pub severity: Option<Severity>,
    /// The failed operation's task (`stop`, `start`, `monitor`...).
    pub failed_task: Option<String>,
    /// Ban from this node (hard error seen at any time, even if later ops succeeded).
    pub ban: bool,
    /// Stop everywhere (fatal error).
    pub fatal: bool,
    /// An operation still in flight.
    pub pending: Option<String>,
    /// A probe found the resource in this state (for probes: seen at all).
    pub probed: bool,
    /// Recurring operations recorded as active (name, interval), for cancellation.
    pub recurring: Vec<(String, u64)>,
    /// The last successful start/monitor digest seen, for restart-on-change.
    pub last_start: Option<usize>,
    /// Something succeeded after the last failure, so it no longer needs recovery.
    pub migrate: Option<(String, String)>,
    /// A failure was ignored (`on-fail=ignore`): status shows "failure ignored".
    pub failure_ignored: bool,
}

/// The target rc the controller expected (third field of the transition key).
pub fn expected_rc(op: &OpHistory) -> Option<i32> {
    let key = op.transition_key.as_deref()?;
    key.split(':').nth(2)?.parse().ok()
}

fn is_probe(op: &OpHistory) -> bool {
    op.operation == "monitor" && op.interval_ms == 0
}

/// Classifies a finished operation: `Ok(role after it)` or `Err(severity)`.
fn classify(op: &OpHistory) -> Result<Option<Role>, Severity> {
    let probe = is_probe(op);
    let target = expected_rc(op).unwrap_or(if probe { rc::NOT_RUNNING } else { rc::OK });
    // An "error" status whose exit code is the expected one is a success (older executors
    // recorded probes that found nothing this way).
    let status = if op.op_status == status::ERROR && op.rc_code == target {
        status::DONE
    } else {
        op.op_status
    };
    match status {
        status::DONE => {}
        status::TIMEOUT | status::ERROR => return Err(Severity::Soft),
        status::NOT_SUPPORTED | status::ERROR_HARD | status::NOT_INSTALLED => {
            return Err(Severity::Hard);
        }
        status::ERROR_FATAL => return Err(Severity::Fatal),
        _ => return Err(Severity::Soft),
    }
    let code = op.rc_code;
    let running_role = |promoted: bool| {
        Some(if promoted {
            Role::Promoted
        } else {
            Role::Started
        })
    };
    match op.operation.as_str() {
        "monitor" => match code {
            rc::OK | rc::DEGRADED if probe || target == rc::OK || target == code => {
                Ok(running_role(false))
            }
            rc::RUNNING_PROMOTED | rc::DEGRADED_PROMOTED
                if probe || target == rc::RUNNING_PROMOTED =>
            {
                Ok(running_role(true))
            }
            rc::NOT_RUNNING if probe || target == rc::NOT_RUNNING => Ok(Some(Role::Stopped)),
            // A role=Stopped monitor found it running: active where it must not be.
            rc::OK | rc::DEGRADED if target == rc::NOT_RUNNING => Err(Severity::Soft),
            rc::OK | rc::DEGRADED => Ok(running_role(false)),
            _ => Err(severity_of(code)),
        },
        _ if code == target || (code == rc::OK && target == rc::OK) => {
            Ok(match op.operation.as_str() {
                "start" | "migrate_from" | "reload" | "reload-agent" => Some(Role::Started),
                "stop" => Some(Role::Stopped),
                "promote" => Some(Role::Promoted),
                "demote" => Some(Role::Unpromoted),
                "migrate_to" => Some(Role::Stopped),
                _ => None,
            })
        }
        _ => Err(severity_of(code)),
    }
}

fn severity_of(code: i32) -> Severity {
    match code {
        rc::ERR_ARGS | rc::ERR_PERM | rc::NOT_INSTALLED | rc::ERR_UNIMPLEMENTED => Severity::Hard,
        rc::NOT_CONFIGURED => Severity::Fatal,
        _ => Severity::Soft,
    }
}

/// Whether a finished operation record is a failure (an unexpected result, or one the
/// executor could not get): what `Failed Resource Actions` lists and cleanup forgets.
/// Operations still in flight and cancelled ones are not failures.
pub fn is_failure(op: &OpHistory) -> bool {
    let in_flight = op.op_status == status::PENDING || op.rc_code == rc::PENDING;
    !in_flight
        && op.op_status != status::CANCELLED
        && op.operation != "notify"
        && classify(op).is_err()
}

/// Inputs the replay needs besides the history itself.
pub struct ReplayCtx<'a> {
    pub now: DateTime,
    pub failure_timeout_ms: u64,
    pub on_fail_for: &'a dyn Fn(&str, u64) -> OnFail,
}

/// Replays `ops` (any order) into a state.
pub fn replay(ops: &[OpHistory], rctx: &ReplayCtx<'_>) -> Replay {
    let mut order: Vec<&OpHistory> = ops
        .iter()
        .filter(|o| o.operation != "notify" && o.op_status != status::CANCELLED)
        .collect();
    order.sort_by_key(|o| {
        let pending = o.call_id < 0 || o.op_status == status::PENDING;
        (pending, o.call_id)
    });
    let mut r = Replay::default();
    for op in order {
        apply_op(&mut r, op, rctx);
    }
    r
}

fn expired(op: &OpHistory, rctx: &ReplayCtx<'_>) -> bool {
    if rctx.failure_timeout_ms == 0 {
        return false;
    }
    let Some(when) = op.last_rc_change.or(op.last_run) else {
        return false;
    };
    let until = when + (rctx.failure_timeout_ms / 1000) as i64;
    rctx.now.epoch_secs >= until
}

fn apply_op(r: &mut Replay, op: &OpHistory, rctx: &ReplayCtx<'_>) {
    if op.op_status == status::PENDING || op.rc_code == rc::PENDING {
        r.pending = Some(op.operation.clone());
        if op.operation == "start" || op.operation == "promote" {
            r.role = Some(Role::Started);
        }
        return;
    }
    if is_probe(op) {
        r.probed = true;
    }
    match classify(op) {
        Ok(role) => {
            if let Some(role) = role {
                let was_failed_stop = r.failed_task.as_deref() == Some("stop");
                // A recurring monitor that succeeds again does not undo an earlier failure.
                let recurring = op.operation == "monitor" && op.interval_ms > 0;
                if !((was_failed_stop && role != Role::Stopped) || (recurring && r.failed)) {
                    r.failed = false;
                    r.on_fail = None;
                    r.severity = None;
                    r.failed_task = None;
                }
                r.role = Some(role);
            }
            if op.operation == "monitor" && op.interval_ms > 0 {
                let k = (op.operation.clone(), op.interval_ms);
                if !r.recurring.contains(&k) {
                    r.recurring.push(k);
                }
            }
        }
        Err(sev) => {
            if expired(op, rctx) {
                return;
            }
            let mut on_fail = (rctx.on_fail_for)(&op.operation, op.interval_ms);
            // An agent the executor cannot find at all is not a failure one may ignore.
            if op.op_status == status::NOT_INSTALLED && on_fail == OnFail::Ignore {
                on_fail = OnFail::Restart;
            }
            if sev == Severity::Hard && on_fail != OnFail::Ignore {
                r.ban = true;
            }
            if sev == Severity::Fatal && on_fail != OnFail::Ignore {
                r.fatal = true;
            }
            if is_probe(op) && op.rc_code == rc::NOT_INSTALLED {
                // Not installed here: it is not running here either.
                r.role = Some(Role::Stopped);
                return;
            }
            if on_fail == OnFail::Ignore {
                r.failure_ignored = true;
                r.role = Some(if op.operation == "stop" {
                    Role::Stopped
                } else {
                    r.role.unwrap_or(Role::Started).max(Role::Started)
                });
                return;
            }
            r.failed = true;
            r.on_fail = Some(on_fail);
            r.severity = Some(sev);
            r.failed_task = Some(op.operation.clone());
            let role = match op.operation.as_str() {
                "demote" => Role::Promoted,
                "promote" => Role::Unpromoted,
                _ if op.rc_code == rc::FAILED_PROMOTED => Role::Promoted,
                _ => Role::Started,
            };
            r.role = Some(match r.role {
                Some(Role::Promoted) if role == Role::Started => Role::Promoted,
                _ => role,
            });
        }
    }
}
