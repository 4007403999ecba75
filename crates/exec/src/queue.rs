//! The executor's queue logic as a pure state machine: one operation at a time per resource,
//! recurring operations at their interval, results of recurring operations reported when they
//! change.
//!
//! ```text
//!            Submit / Cancel / Finished / Tick  (+ now, in ms)
//!                          │
//!                 ┌────────▼─────────┐
//!                 │    ExecQueue     │  per resource: running op, FIFO queue, recurring ops
//!                 └────────┬─────────┘
//!                          ▼
//!   Accepted · Rejected · Run · Abort · Report · Cancelled · SetTimer
//! ```
//!
//! No clock, no I/O, no randomness: the time comes with each input, processes are started by
//! whoever drives it (the [`crate::Executor`] today, the daemon's `Node` state machine
//! later), so the same inputs always give the same outputs. This module uses only `std` and
//! the request/result types, so it can move into a core crate unchanged.
//!
//! Rules (as Pacemaker's executor):
//! * operations of one resource run one at a time, in submission order;
//! * a recurring operation runs once when submitted, then `interval` after each completion;
//! * a recurring operation's result is reported the first time and whenever (rc, status)
//!   differs from the last reported one; one-shot results are always reported;
//! * cancelling a recurring operation removes it; if it is running, an `Abort` is emitted and
//!   its completion is reported as `Cancelled`.

use std::collections::{BTreeMap, VecDeque};

use crate::rc::OcfRc;
use crate::types::{ExecStatus, OpRequest, OpResult};

/// Operations queued behind the running one, per resource. The controller sends a handful at
/// a time (probe, start, monitors, notifications); more means a runaway client.
pub const MAX_QUEUED_PER_RESOURCE: usize = 64;

/// Recurring operations per resource (monitors per role and depth; a resource has a few).
pub const MAX_RECURRING_PER_RESOURCE: usize = 16;

/// Resources with queued, running or recurring operations at once.
pub const MAX_RESOURCES: usize = 100_000;

/// Identifies one submitted operation for its whole life (a recurring one keeps its id).
pub type CallId = u64;

/// What identifies an operation of a resource: `(resource, action, interval)`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpKey {
    /// The resource.
    pub rsc_id: String,
    /// The action.
    pub action: String,
    /// The interval in milliseconds (0 for one-shot).
    pub interval_ms: u64,
}

impl OpKey {
    /// The key of a request.
    pub fn of(req: &OpRequest) -> OpKey {
        OpKey {
            rsc_id: req.rsc_id.clone(),
            action: req.action.clone(),
            interval_ms: req.interval_ms,
        }
    }
}

/// An input to the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A new operation. A recurring one with the key of an existing one replaces it.
    Submit(OpRequest),
    /// Stop a recurring operation, or drop a queued one-shot operation.
    Cancel(OpKey),
    /// A `Run` finished.
    Finished {
        /// The run's call id.
        call_id: CallId,
        /// Its result.
        result: OpResult,
    },
    /// The timer set by `SetTimer` expired.
    Tick,
}

/// An output of the queue, for the driver to carry out or pass on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// The submitted operation got this call id.
    Accepted {
        /// Its call id.
        call_id: CallId,
        /// Its key.
        key: OpKey,
    },
    /// The submission or cancellation was refused; nothing changed.
    Rejected {
        /// The operation's key.
        key: OpKey,
        /// Why.
        reason: String,
    },
    /// Start the agent for this operation; answer with `Finished`.
    Run {
        /// The call id to finish.
        call_id: CallId,
        /// What to run.
        request: OpRequest,
    },
    /// Kill the running operation `call_id` (it will still finish, as cancelled).
    Abort {
        /// The call id.
        call_id: CallId,
    },
    /// A result to record.
    Report {
        /// The call id.
        call_id: CallId,
        /// The operation.
        key: OpKey,
        /// Its result.
        result: OpResult,
    },
    /// The operation was cancelled and will not run again.
    Cancelled {
        /// The call id.
        call_id: CallId,
        /// The operation.
        key: OpKey,
    },
    /// Send `Tick` at this time (ms); replaces any earlier request.
    SetTimer {
        /// When.
        at_ms: u64,
    },
}

#[derive(Debug)]
struct Running {
    call_id: CallId,
    key: OpKey,
    cancelled: bool,
}

#[derive(Debug)]
struct Recurring {
    call_id: CallId,
    request: OpRequest,
    /// When to queue the next run; `None` while queued or running.
    next_due_ms: Option<u64>,
    last_reported: Option<(OcfRc, ExecStatus)>,
}

#[derive(Debug, Default)]
struct Resource {
    running: Option<Running>,
    queue: VecDeque<(CallId, OpRequest)>,
    recurring: BTreeMap<(String, u64), Recurring>,
}

impl Resource {
    fn is_idle(&self) -> bool {
        self.running.is_none() && self.queue.is_empty() && self.recurring.is_empty()
    }
}

/// The queue state machine.
#[derive(Debug, Default)]
pub struct ExecQueue {
    next_call_id: CallId,
    resources: BTreeMap<String, Resource>,
    timer_at_ms: Option<u64>,
}

impl ExecQueue {
    /// An empty queue; call ids start at 1.
    pub fn new() -> ExecQueue {
        ExecQueue {
            next_call_id: 1,
            ..ExecQueue::default()
        }
    }

    /// Feeds one input at time `now_ms`; returns what to do, in order.
    pub fn handle(&mut self, now_ms: u64, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Submit(req) => self.submit(req, &mut out),
            Input::Cancel(key) => self.cancel(&key, &mut out),
            Input::Finished { call_id, result } => self.finished(now_ms, call_id, result, &mut out),
            Input::Tick => self.tick(now_ms, &mut out),
        }
        self.resources.retain(|_, r| !r.is_idle());
        self.rearm(&mut out);
        out
    }

    /// The call ids running now, by resource.
    pub fn running(&self) -> BTreeMap<&str, CallId> {
        self.resources
            .iter()
            .filter_map(|(id, r)| r.running.as_ref().map(|run| (id.as_str(), run.call_id)))
            .collect()
    }

    /// The recurring operations, with their call ids.
    pub fn recurring(&self) -> Vec<(OpKey, CallId)> {
        self.resources
            .values()
            .flat_map(|r| r.recurring.values())
            .map(|rec| (OpKey::of(&rec.request), rec.call_id))
            .collect()
    }

    fn submit(&mut self, req: OpRequest, out: &mut Vec<Output>) {
        let key = OpKey::of(&req);
        let reject = |reason: String| Output::Rejected {
            key: key.clone(),
            reason,
        };
        if !self.resources.contains_key(&req.rsc_id) && self.resources.len() >= MAX_RESOURCES {
            return out.push(reject(format!(
                "more than {MAX_RESOURCES} resources have operations"
            )));
        }
        let recurring_key = (req.action.clone(), req.interval_ms);
        if req.interval_ms > 0 {
            // A resubmitted recurring operation replaces the old one.
            self.cancel(&key, &mut Vec::new());
        }
        let rsc = self.resources.entry(req.rsc_id.clone()).or_default();
        if rsc.queue.len() >= MAX_QUEUED_PER_RESOURCE {
            return out.push(reject(format!(
                "{} operations are already queued for {}",
                MAX_QUEUED_PER_RESOURCE, req.rsc_id
            )));
        }
        if req.interval_ms > 0 && rsc.recurring.len() >= MAX_RECURRING_PER_RESOURCE {
            return out.push(reject(format!(
                "{} already has {} recurring operations",
                req.rsc_id, MAX_RECURRING_PER_RESOURCE
            )));
        }
        let call_id = self.next_call_id;
        self.next_call_id += 1;
        out.push(Output::Accepted {
            call_id,
            key: key.clone(),
        });
        if req.interval_ms > 0 {
            rsc.recurring.insert(
                recurring_key,
                Recurring {
                    call_id,
                    request: req.clone(),
                    next_due_ms: None,
                    last_reported: None,
                },
            );
        }
        rsc.queue.push_back((call_id, req));
        pump(rsc, out);
    }

    fn cancel(&mut self, key: &OpKey, out: &mut Vec<Output>) {
        let Some(rsc) = self.resources.get_mut(&key.rsc_id) else {
            return out.push(Output::Rejected {
                key: key.clone(),
                reason: format!("no operation {} of {} to cancel", key.action, key.rsc_id),
            });
        };
        let call_id = if key.interval_ms > 0 {
            rsc.recurring
                .remove(&(key.action.clone(), key.interval_ms))
                .map(|rec| rec.call_id)
        } else {
            rsc.queue
                .iter()
                .find(|(_, req)| req.action == key.action && req.interval_ms == 0)
                .map(|(id, _)| *id)
        };
        let Some(call_id) = call_id else {
            return out.push(Output::Rejected {
                key: key.clone(),
                reason: format!(
                    "no {} operation {} of {} to cancel",
                    if key.interval_ms > 0 {
                        "recurring"
                    } else {
                        "queued"
                    },
                    key.action,
                    key.rsc_id
                ),
            });
        };
        match &mut rsc.running {
            Some(run) if run.call_id == call_id => {
                run.cancelled = true;
                out.push(Output::Abort { call_id });
            }
            _ => {
                rsc.queue.retain(|(id, _)| *id != call_id);
                out.push(Output::Cancelled {
                    call_id,
                    key: key.clone(),
                });
            }
        }
    }

    fn finished(&mut self, now_ms: u64, call_id: CallId, result: OpResult, out: &mut Vec<Output>) {
        let Some(rsc) = self
            .resources
            .values_mut()
            .find(|r| r.running.as_ref().is_some_and(|run| run.call_id == call_id))
        else {
            return; // a stale completion (never ran, or already finished): nothing to do
        };
        let run = rsc.running.take().expect("found by its running call id");
        if run.cancelled {
            out.push(Output::Cancelled {
                call_id,
                key: run.key,
            });
        } else if run.key.interval_ms == 0 {
            out.push(Output::Report {
                call_id,
                key: run.key,
                result,
            });
        } else if let Some(rec) = rsc
            .recurring
            .get_mut(&(run.key.action.clone(), run.key.interval_ms))
            .filter(|rec| rec.call_id == call_id)
        {
            let outcome = (result.rc, result.status);
            rec.next_due_ms = Some(now_ms.saturating_add(run.key.interval_ms));
            if rec.last_reported != Some(outcome) {
                rec.last_reported = Some(outcome);
                out.push(Output::Report {
                    call_id,
                    key: run.key,
                    result,
                });
            }
        }
        pump(rsc, out);
    }

    fn tick(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        self.timer_at_ms = None;
        for rsc in self.resources.values_mut() {
            let mut due: Vec<(CallId, OpRequest)> = rsc
                .recurring
                .values_mut()
                .filter(|rec| rec.next_due_ms.is_some_and(|t| t <= now_ms))
                .map(|rec| {
                    rec.next_due_ms = None;
                    (rec.call_id, rec.request.clone())
                })
                .collect();
            due.sort_by_key(|(id, _)| *id);
            rsc.queue.extend(due);
            pump(rsc, out);
        }
    }

    fn rearm(&mut self, out: &mut Vec<Output>) {
        let next = self
            .resources
            .values()
            .flat_map(|r| r.recurring.values())
            .filter_map(|rec| rec.next_due_ms)
            .min();
        if let Some(at_ms) = next
            && next != self.timer_at_ms
        {
            out.push(Output::SetTimer { at_ms });
        }
        self.timer_at_ms = next;
    }
}

/// Starts the next queued operation of an idle resource.
fn pump(rsc: &mut Resource, out: &mut Vec<Output>) {
    if rsc.running.is_some() {
        return;
    }
    if let Some((call_id, request)) = rsc.queue.pop_front() {
        rsc.running = Some(Running {
            call_id,
            key: OpKey::of(&request),
            cancelled: false,
        });
        out.push(Output::Run { call_id, request });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AgentId;
    use std::time::{Duration, UNIX_EPOCH};

    fn req(rsc: &str, action: &str, interval_ms: u64) -> OpRequest {
        OpRequest::new(rsc, AgentId::ocf("heartbeat", "Dummy").unwrap(), action)
            .interval_ms(interval_ms)
    }

    fn key(rsc: &str, action: &str, interval_ms: u64) -> OpKey {
        OpKey {
            rsc_id: rsc.into(),
            action: action.into(),
            interval_ms,
        }
    }

    fn res(rc: OcfRc) -> OpResult {
        OpResult {
            rc,
            exit_code: Some(rc.code()),
            status: ExecStatus::Done,
            exit_reason: None,
            stdout: String::new(),
            stderr: String::new(),
            output_truncated: false,
            started: UNIX_EPOCH,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn one_at_a_time_per_resource_in_order() {
        let mut q = ExecQueue::new();
        assert_eq!(
            q.handle(0, Input::Submit(req("a", "start", 0))),
            [
                Output::Accepted {
                    call_id: 1,
                    key: key("a", "start", 0)
                },
                Output::Run {
                    call_id: 1,
                    request: req("a", "start", 0)
                },
            ]
        );
        // Same resource: queued behind the start. Other resource: runs at once.
        assert_eq!(
            q.handle(1, Input::Submit(req("a", "stop", 0))),
            [Output::Accepted {
                call_id: 2,
                key: key("a", "stop", 0)
            }]
        );
        assert_eq!(
            q.handle(2, Input::Submit(req("b", "start", 0))),
            [
                Output::Accepted {
                    call_id: 3,
                    key: key("b", "start", 0)
                },
                Output::Run {
                    call_id: 3,
                    request: req("b", "start", 0)
                },
            ]
        );
        assert_eq!(
            q.handle(
                3,
                Input::Finished {
                    call_id: 1,
                    result: res(OcfRc::Ok)
                }
            ),
            [
                Output::Report {
                    call_id: 1,
                    key: key("a", "start", 0),
                    result: res(OcfRc::Ok)
                },
                Output::Run {
                    call_id: 2,
                    request: req("a", "stop", 0)
                },
            ]
        );
        assert_eq!(
            q.handle(
                4,
                Input::Finished {
                    call_id: 2,
                    result: res(OcfRc::Ok)
                }
            ),
            [Output::Report {
                call_id: 2,
                key: key("a", "stop", 0),
                result: res(OcfRc::Ok)
            }]
        );
        // A stale completion changes nothing.
        assert_eq!(
            q.handle(
                5,
                Input::Finished {
                    call_id: 2,
                    result: res(OcfRc::Ok)
                }
            ),
            []
        );
        assert_eq!(q.running(), BTreeMap::from([("b", 3)]));
    }

    #[test]
    fn recurring_runs_at_interval_and_reports_changes_only() {
        let mut q = ExecQueue::new();
        let mon = req("a", "monitor", 10_000);
        assert_eq!(
            q.handle(0, Input::Submit(mon.clone())),
            [
                Output::Accepted {
                    call_id: 1,
                    key: key("a", "monitor", 10_000)
                },
                Output::Run {
                    call_id: 1,
                    request: mon.clone()
                },
            ]
        );
        // First result is reported; the next run is due 10 s after completion.
        assert_eq!(
            q.handle(
                50,
                Input::Finished {
                    call_id: 1,
                    result: res(OcfRc::Ok)
                }
            ),
            [
                Output::Report {
                    call_id: 1,
                    key: key("a", "monitor", 10_000),
                    result: res(OcfRc::Ok)
                },
                Output::SetTimer { at_ms: 10_050 },
            ]
        );
        // An early tick does nothing.
        assert_eq!(
            q.handle(9_000, Input::Tick),
            [Output::SetTimer { at_ms: 10_050 }]
        );
        assert_eq!(
            q.handle(10_050, Input::Tick),
            [Output::Run {
                call_id: 1,
                request: mon.clone()
            }]
        );
        // Same result: not reported again.
        assert_eq!(
            q.handle(
                10_060,
                Input::Finished {
                    call_id: 1,
                    result: res(OcfRc::Ok)
                }
            ),
            [Output::SetTimer { at_ms: 20_060 }]
        );
        assert_eq!(
            q.handle(20_060, Input::Tick),
            [Output::Run {
                call_id: 1,
                request: mon.clone()
            }]
        );
        // A change is reported.
        assert_eq!(
            q.handle(
                20_070,
                Input::Finished {
                    call_id: 1,
                    result: res(OcfRc::NotRunning)
                }
            ),
            [
                Output::Report {
                    call_id: 1,
                    key: key("a", "monitor", 10_000),
                    result: res(OcfRc::NotRunning)
                },
                Output::SetTimer { at_ms: 30_070 },
            ]
        );
        assert_eq!(q.recurring(), [(key("a", "monitor", 10_000), 1)]);
    }

    #[test]
    fn recurring_waits_behind_one_shot_operations() {
        let mut q = ExecQueue::new();
        q.handle(0, Input::Submit(req("a", "monitor", 1_000)));
        q.handle(
            10,
            Input::Finished {
                call_id: 1,
                result: res(OcfRc::Ok),
            },
        );
        assert_eq!(
            q.handle(20, Input::Submit(req("a", "stop", 0))),
            [
                Output::Accepted {
                    call_id: 2,
                    key: key("a", "stop", 0)
                },
                Output::Run {
                    call_id: 2,
                    request: req("a", "stop", 0)
                },
            ]
        );
        // The monitor falls due while the stop runs: it waits.
        assert_eq!(q.handle(1_010, Input::Tick), []);
        assert_eq!(
            q.handle(
                1_500,
                Input::Finished {
                    call_id: 2,
                    result: res(OcfRc::Ok)
                }
            ),
            [
                Output::Report {
                    call_id: 2,
                    key: key("a", "stop", 0),
                    result: res(OcfRc::Ok)
                },
                Output::Run {
                    call_id: 1,
                    request: req("a", "monitor", 1_000)
                },
            ]
        );
    }

    #[test]
    fn cancel_idle_running_and_unknown() {
        let mut q = ExecQueue::new();
        q.handle(0, Input::Submit(req("a", "monitor", 1_000)));
        q.handle(
            10,
            Input::Finished {
                call_id: 1,
                result: res(OcfRc::Ok),
            },
        );
        // Idle recurring: cancelled at once, and the timer is no longer needed.
        assert_eq!(
            q.handle(20, Input::Cancel(key("a", "monitor", 1_000))),
            [Output::Cancelled {
                call_id: 1,
                key: key("a", "monitor", 1_000)
            }]
        );
        assert_eq!(q.handle(1_010, Input::Tick), []);
        // Running recurring: aborted, then reported cancelled when it ends.
        q.handle(2_000, Input::Submit(req("a", "monitor", 1_000)));
        assert_eq!(
            q.handle(2_001, Input::Cancel(key("a", "monitor", 1_000))),
            [Output::Abort { call_id: 2 }]
        );
        assert_eq!(
            q.handle(
                2_002,
                Input::Finished {
                    call_id: 2,
                    result: res(OcfRc::Ok)
                }
            ),
            [Output::Cancelled {
                call_id: 2,
                key: key("a", "monitor", 1_000)
            }]
        );
        assert_eq!(
            q.handle(2_003, Input::Cancel(key("a", "monitor", 5_000))),
            [Output::Rejected {
                key: key("a", "monitor", 5_000),
                reason: "no operation monitor of a to cancel".into()
            }]
        );
        assert!(q.resources.is_empty(), "idle resources are forgotten");
    }

    #[test]
    fn resubmitted_recurring_replaces_the_old_one() {
        let mut q = ExecQueue::new();
        q.handle(0, Input::Submit(req("a", "monitor", 1_000)));
        q.handle(
            10,
            Input::Finished {
                call_id: 1,
                result: res(OcfRc::Ok),
            },
        );
        assert_eq!(
            q.handle(20, Input::Submit(req("a", "monitor", 1_000))),
            [
                Output::Accepted {
                    call_id: 2,
                    key: key("a", "monitor", 1_000)
                },
                Output::Run {
                    call_id: 2,
                    request: req("a", "monitor", 1_000)
                },
            ]
        );
        assert_eq!(q.recurring(), [(key("a", "monitor", 1_000), 2)]);
    }

    #[test]
    fn queue_limit_rejects() {
        let mut q = ExecQueue::new();
        for i in 0..=MAX_QUEUED_PER_RESOURCE {
            q.handle(i as u64, Input::Submit(req("a", "notify", 0)));
        }
        assert_eq!(
            q.handle(100, Input::Submit(req("a", "stop", 0))),
            [Output::Rejected {
                key: key("a", "stop", 0),
                reason: "64 operations are already queued for a".into()
            }]
        );
    }
}
