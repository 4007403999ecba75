//! Simulated resource agents and executor of one node: the *real* state of the resources
//! (what runs on the simulated machine), which the checkers compare with what the cluster
//! believes.
//!
//! Deterministic: the world decides durations and injected failures from the run's seed.
//! `start` makes a resource active from the moment it begins (a half-started resource may
//! already run) and a failed start leaves it stopped; `stop` makes it inactive when it
//! completes; `monitor` answers 0 (running) or 7 (not running) from the real state.
//! Recurring operations run at their interval and report only a changed result (as
//! Pacemaker's executor does). A crash or power-off kills everything.

use std::collections::{BTreeMap, BTreeSet};

use tandem_node::{CallId, ExecOp};

/// OCF return codes the simulated agents give.
pub const OCF_SUCCESS: i32 = 0;
pub const OCF_ERR_GENERIC: i32 = 1;
pub const OCF_NOT_RUNNING: i32 = 7;

/// One call the node asked for and has not finished or cancelled.
#[derive(Debug, Clone)]
pub struct Call {
    pub op: ExecOp,
    /// Bumped at every run of a recurring call, so a stale completion is ignored.
    pub run: u64,
    /// The last result reported (recurring calls report only changes).
    pub last_rc: Option<i32>,
}

/// The agents of one simulated machine.
#[derive(Debug, Default)]
pub struct Agents {
    /// Resources running here (by `rsc_id`).
    pub active: BTreeSet<String>,
    pub calls: BTreeMap<CallId, Call>,
}

impl Agents {
    /// Power off: every process dies.
    pub fn kill_all(&mut self) {
        self.active.clear();
        self.calls.clear();
    }

    /// The node asked for `op`; returns the run number of its first run.
    pub fn submit(&mut self, call: CallId, op: ExecOp) -> u64 {
        if op.action == "start" {
            self.active.insert(op.rsc_id.clone());
        }
        self.calls.insert(
            call,
            Call {
                op,
                run: 1,
                last_rc: None,
            },
        );
        1
    }

    pub fn cancel(&mut self, call: CallId) {
        self.calls.remove(&call);
    }

    /// Run `run` of `call` completes; `fail_start` says whether an injected failure hits a
    /// start. Returns the rc to report (`None`: nothing to report — an unchanged recurring
    /// result, or a call cancelled or superseded meanwhile) and whether the call recurs.
    pub fn complete(&mut self, call: CallId, run: u64, fail_start: bool) -> Completion {
        let Some(c) = self.calls.get(&call) else {
            return Completion::default();
        };
        if c.run != run {
            return Completion::default();
        }
        let rsc = c.op.rsc_id.clone();
        let rc = match c.op.action.as_str() {
            "start" if fail_start => {
                self.active.remove(&rsc);
                OCF_ERR_GENERIC
            }
            "start" => OCF_SUCCESS,
            "stop" => {
                self.active.remove(&rsc);
                OCF_SUCCESS
            }
            "monitor" if self.active.contains(&rsc) => OCF_SUCCESS,
            "monitor" => OCF_NOT_RUNNING,
            _ => OCF_SUCCESS,
        };
        let c = self.calls.get_mut(&call).expect("looked up above");
        let interval_ms = c.op.interval_ms;
        let report = c.last_rc != Some(rc);
        c.last_rc = Some(rc);
        if interval_ms == 0 {
            self.calls.remove(&call);
        } else {
            c.run += 1;
        }
        Completion {
            report: report.then_some(rc),
            next_run: (interval_ms > 0).then(|| (c_run(self, call), interval_ms)),
        }
    }

    /// The resource dies behind the cluster's back; returns whether it was running.
    pub fn kill(&mut self, rsc: &str) -> bool {
        self.active.remove(rsc)
    }
}

fn c_run(a: &Agents, call: CallId) -> u64 {
    a.calls.get(&call).map(|c| c.run).unwrap_or(0)
}

/// What a completed run leads to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// The rc to report to the node, if any.
    pub report: Option<i32>,
    /// A recurring call's next run number and interval.
    pub next_run: Option<(u64, u64)>,
}
