//! How a failed operation changes the resource's fail count on its node — the transient
//! attributes `fail-count-RSC#OP_INTERVAL` and `last-failure-RSC#OP_INTERVAL` that the
//! scheduler weighs against `migration-threshold` — following Pacemaker's rules:
//!
//! * a failed start sets the count to INFINITY when `start-failure-is-fatal` is true (the
//!   default: the resource is banned from the node at once), else adds one;
//! * a failed stop sets it to INFINITY;
//! * a failed recurring monitor, promote or demote adds one;
//! * probes, other one-shot operations, results that are expected (or a probe finding
//!   the resource running) and operations with `on-fail=ignore` do not count.

use super::record::is_failure;
use super::spec::OpSpec;
use crate::outcome::OpOutcome;

/// The value written to a fail count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailCountChange {
    /// Set to INFINITY.
    Infinity,
    /// Add one to the current value.
    Increment,
}

impl FailCountChange {
    /// The new value given the current one (`None`: no count yet). Values are scores:
    /// INFINITY is 1000000 and absorbs further increments.
    pub fn apply(self, current: Option<&str>) -> String {
        match self {
            FailCountChange::Infinity => "INFINITY".to_string(),
            FailCountChange::Increment => {
                let now = current
                    .and_then(|v| tandem_cib::Score::parse(v).ok())
                    .map(|s| s.value().max(0) as i64)
                    .unwrap_or(0);
                if now.saturating_add(1) >= tandem_cib::INFINITY as i64 {
                    "INFINITY".to_string()
                } else {
                    (now + 1).to_string()
                }
            }
        }
    }
}

/// A fail-count update for one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailCountUpdate {
    /// `fail-count-RSC#OP_INTERVAL`.
    pub count_attr: String,
    /// `last-failure-RSC#OP_INTERVAL` (set to the failure's time, epoch seconds).
    pub last_failure_attr: String,
    pub change: FailCountChange,
}

/// The update a result of `spec` calls for, if any.
pub fn fail_count_update(
    spec: &OpSpec,
    outcome: &OpOutcome,
    start_failure_is_fatal: bool,
) -> Option<FailCountUpdate> {
    if !is_failure(spec, outcome) || spec.meta.get("on_fail").is_some_and(|v| v == "ignore") {
        return None;
    }
    let change = match (spec.action.as_str(), spec.interval_ms) {
        ("start", 0) if start_failure_is_fatal => FailCountChange::Infinity,
        ("start", 0) => FailCountChange::Increment,
        ("stop", 0) => FailCountChange::Infinity,
        ("promote" | "demote", 0) => FailCountChange::Increment,
        (_, 0) => return None,
        _ => FailCountChange::Increment,
    };
    let key = format!("{}#{}_{}", spec.rsc_id, spec.action, spec.interval_ms);
    Some(FailCountUpdate {
        count_attr: format!("fail-count-{key}"),
        last_failure_attr: format!("last-failure-{key}"),
        change,
    })
}
