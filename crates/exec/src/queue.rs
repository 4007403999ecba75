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
//!   its completion is reported as `Cancelled`;
//! * `RunNow` runs a recurring operation at once instead of at its next due time (if it is
//!   running, it runs again right after; if it is queued, nothing changes);
//! * a recurring `monitor` has a watcher ([`crate::watch`]): `StartWatch` after a successful
//!   result, `StopWatch` when it fails, is cancelled or replaced, or a stopping action of the
//!   resource starts; `WatchEnded` tells the queue a watcher exited, which runs the monitor
//!   at once.

use std::collections::{BTreeMap, VecDeque};

use crate::rc::OcfRc;
use crate::types::{ExecStatus, OpRequest, OpResult};
use crate::watch::{Effect, WATCH_STOPPING_ACTIONS, Watch, WatchEnd};

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
    /// Run a recurring operation now rather than at its next due time (something suggests
    /// its result changed). If it is running it runs again as soon as it finishes; if it is
    /// queued nothing changes. Refused for unknown and one-shot operations.
    RunNow(OpKey),
    /// The watcher of recurring operation `call_id` (asked for with `StartWatch`) ended.
    /// Stale ends (of a watcher that was stopped or replaced) change nothing.
    WatchEnded {
        /// The recurring operation's call id.
        call_id: CallId,
        /// How it ended.
        end: WatchEnd,
    },
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
    /// Start the watcher of the recurring monitor `call_id` (`request` is the monitor's;
    /// the watcher runs the `watch` action with it); answer with `WatchEnded` when it ends,
    /// unless it was stopped.
    StartWatch {
        /// The recurring monitor's call id.
        call_id: CallId,
        /// The monitor.
        request: OpRequest,
    },
    /// Stop (kill) the watcher of the recurring monitor `call_id`; no `WatchEnded` is needed.
    StopWatch {
        /// The recurring monitor's call id.
        call_id: CallId,
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
    /// `RunNow` came while it was running: run again as soon as it finishes.
    run_again: bool,
    /// Its watcher (monitors only, when watching is on).
    watch: Option<Watch>,
}

impl Recurring {
    /// Applies a watch transition's effect that is about this operation's watcher process.
    fn watch_effect(&self, effect: Effect, out: &mut Vec<Output>) {
        match effect {
            Effect::Start => out.push(Output::StartWatch {
                call_id: self.call_id,
                request: self.request.clone(),
            }),
            Effect::Stop => out.push(Output::StopWatch {
                call_id: self.call_id,
            }),
            Effect::None | Effect::RunMonitor => {}
        }
    }
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
    watching: bool,
}

impl ExecQueue {
    /// An empty queue with watchers for recurring monitors; call ids start at 1.
    pub fn new() -> ExecQueue {
        ExecQueue::with_watch(true)
    }

    /// An empty queue; `watching` says whether recurring monitors get watchers
    /// (`StartWatch`/`StopWatch`).
    pub fn with_watch(watching: bool) -> ExecQueue {
        ExecQueue {
            next_call_id: 1,
            watching,
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
            Input::RunNow(key) => self.run_now(&key, &mut out),
            Input::WatchEnded { call_id, end } => self.watch_ended(now_ms, call_id, end, &mut out),
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
            // A resubmitted recurring operation replaces the old one (whose watcher goes).
            let mut replaced = Vec::new();
            self.cancel(&key, &mut replaced);
            out.extend(
                replaced
                    .into_iter()
                    .filter(|o| matches!(o, Output::StopWatch { .. })),
            );
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
                    run_again: false,
                    watch: (self.watching && req.action == "monitor").then(Watch::default),
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
                .map(|mut rec| {
                    if let Some(w) = &mut rec.watch {
                        let effect = w.stop();
                        rec.watch_effect(effect, out);
                    }
                    rec.call_id
                })
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
            let running = result.status == ExecStatus::Done
                && matches!(result.rc, OcfRc::Ok | OcfRc::RunningPromoted);
            if rec.last_reported != Some(outcome) {
                rec.last_reported = Some(outcome);
                out.push(Output::Report {
                    call_id,
                    key: run.key,
                    result,
                });
            }
            if let Some(w) = &mut rec.watch {
                let effect = w.monitor_result(now_ms, running);
                rec.watch_effect(effect, out);
            }
            if std::mem::take(&mut rec.run_again) {
                rsc.queue.push_back((call_id, rec.request.clone()));
            } else {
                rec.next_due_ms = Some(now_ms.saturating_add(rec.request.interval_ms));
            }
        }
        pump(rsc, out);
    }

    fn run_now(&mut self, key: &OpKey, out: &mut Vec<Output>) {
        let rkey = (key.action.clone(), key.interval_ms);
        match self.resources.get_mut(&key.rsc_id) {
            Some(rsc) if rsc.recurring.contains_key(&rkey) => run_now_in(rsc, &rkey, out),
            _ => out.push(Output::Rejected {
                key: key.clone(),
                reason: if key.interval_ms == 0 {
                    format!(
                        "{} of {} is not a recurring operation; only those can be run now",
                        key.action, key.rsc_id
                    )
                } else {
                    format!(
                        "no recurring operation {} every {}ms of {} to run now",
                        key.action, key.interval_ms, key.rsc_id
                    )
                },
            }),
        }
    }

    fn watch_ended(&mut self, now_ms: u64, call_id: CallId, end: WatchEnd, out: &mut Vec<Output>) {
        for rsc in self.resources.values_mut() {
            let Some(rkey) = rsc
                .recurring
                .iter()
                .find(|(_, rec)| rec.call_id == call_id)
                .map(|(k, _)| k.clone())
            else {
                continue;
            };
            let rec = rsc.recurring.get_mut(&rkey).expect("just found");
            let Some(w) = &mut rec.watch else { return };
            match w.ended(now_ms, end) {
                Effect::RunMonitor => run_now_in(rsc, &rkey, out),
                effect => rec.watch_effect(effect, out),
            }
            return;
        }
    }

    fn tick(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        self.timer_at_ms = None;
        for rsc in self.resources.values_mut() {
            for rec in rsc.recurring.values_mut() {
                if let Some(w) = &mut rec.watch {
                    let effect = w.tick(now_ms);
                    rec.watch_effect(effect, out);
                }
            }
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
            .flat_map(|rec| [rec.next_due_ms, rec.watch.as_ref().and_then(Watch::due_ms)])
            .flatten()
            .min();
        if let Some(at_ms) = next
            && next != self.timer_at_ms
        {
            out.push(Output::SetTimer { at_ms });
        }
        self.timer_at_ms = next;
    }
}

/// Runs the recurring operation `rkey` of `rsc` now (see [`Input::RunNow`]).
fn run_now_in(rsc: &mut Resource, rkey: &(String, u64), out: &mut Vec<Output>) {
    let rec = rsc.recurring.get_mut(rkey).expect("the caller checked");
    if rsc
        .running
        .as_ref()
        .is_some_and(|r| r.call_id == rec.call_id)
    {
        rec.run_again = true;
    } else if rec.next_due_ms.take().is_some() {
        rsc.queue.push_back((rec.call_id, rec.request.clone()));
        pump(rsc, out);
    }
}

/// Starts the next queued operation of an idle resource.
fn pump(rsc: &mut Resource, out: &mut Vec<Output>) {
    if rsc.running.is_some() {
        return;
    }
    if let Some((call_id, request)) = rsc.queue.pop_front() {
        if request.interval_ms == 0 && WATCH_STOPPING_ACTIONS.contains(&request.action.as_str()) {
            for rec in rsc.recurring.values_mut() {
                if let Some(w) = &mut rec.watch {
                    let effect = w.stop();
                    rec.watch_effect(effect, out);
                }
            }
        }
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
        let mut q = ExecQueue::with_watch(false);
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
        let mut q = ExecQueue::with_watch(false);
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
        let mut q = ExecQueue::with_watch(false);
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
        let mut q = ExecQueue::with_watch(false);
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
        let mut q = ExecQueue::with_watch(false);
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
        let mut q = ExecQueue::with_watch(false);
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

    fn finished(q: &mut ExecQueue, now: u64, call_id: CallId, rc: OcfRc) -> Vec<Output> {
        q.handle(
            now,
            Input::Finished {
                call_id,
                result: res(rc),
            },
        )
    }

    fn ended(q: &mut ExecQueue, now: u64, call_id: CallId, end: WatchEnd) -> Vec<Output> {
        q.handle(now, Input::WatchEnded { call_id, end })
    }

    #[test]
    fn run_now_when_idle_running_queued_and_refused() {
        let mut q = ExecQueue::with_watch(false);
        let mon = req("a", "monitor", 10_000);
        q.handle(0, Input::Submit(mon.clone()));
        finished(&mut q, 50, 1, OcfRc::Ok);
        // Idle: runs at once, and no timer is needed while it runs.
        assert_eq!(
            q.handle(100, Input::RunNow(key("a", "monitor", 10_000))),
            [Output::Run {
                call_id: 1,
                request: mon.clone()
            }]
        );
        // Running: runs again as soon as it finishes.
        assert_eq!(
            q.handle(110, Input::RunNow(key("a", "monitor", 10_000))),
            []
        );
        assert_eq!(
            finished(&mut q, 120, 1, OcfRc::NotRunning),
            [
                Output::Report {
                    call_id: 1,
                    key: key("a", "monitor", 10_000),
                    result: res(OcfRc::NotRunning)
                },
                Output::Run {
                    call_id: 1,
                    request: mon.clone()
                },
            ]
        );
        assert_eq!(
            finished(&mut q, 130, 1, OcfRc::NotRunning),
            [Output::SetTimer { at_ms: 10_130 }]
        );
        // Queued behind a stop: runs after it, once.
        q.handle(140, Input::Submit(req("a", "stop", 0)));
        assert_eq!(
            q.handle(150, Input::RunNow(key("a", "monitor", 10_000))),
            []
        );
        assert_eq!(
            q.handle(160, Input::RunNow(key("a", "monitor", 10_000))),
            []
        );
        assert_eq!(
            finished(&mut q, 170, 2, OcfRc::Ok),
            [
                Output::Report {
                    call_id: 2,
                    key: key("a", "stop", 0),
                    result: res(OcfRc::Ok)
                },
                Output::Run {
                    call_id: 1,
                    request: mon.clone()
                },
            ]
        );
        assert_eq!(
            q.handle(180, Input::RunNow(key("a", "monitor", 5_000))),
            [Output::Rejected {
                key: key("a", "monitor", 5_000),
                reason: "no recurring operation monitor every 5000ms of a to run now".into()
            }]
        );
        assert_eq!(
            q.handle(190, Input::RunNow(key("b", "monitor", 0))),
            [Output::Rejected {
                key: key("b", "monitor", 0),
                reason: "monitor of b is not a recurring operation; only those can be run now"
                    .into()
            }]
        );
    }

    #[test]
    fn watcher_starts_after_success_and_its_exit_runs_the_monitor_at_once() {
        let mut q = ExecQueue::new();
        let mon = req("a", "monitor", 10_000);
        let k = key("a", "monitor", 10_000);
        q.handle(0, Input::Submit(mon.clone()));
        assert_eq!(
            finished(&mut q, 10, 1, OcfRc::Ok),
            [
                Output::Report {
                    call_id: 1,
                    key: k.clone(),
                    result: res(OcfRc::Ok)
                },
                Output::StartWatch {
                    call_id: 1,
                    request: mon.clone()
                },
                Output::SetTimer { at_ms: 10_010 },
            ]
        );
        // The address is deleted: the watcher exits, the monitor runs now and reports.
        assert_eq!(
            ended(&mut q, 500, 1, WatchEnd::Fired),
            [Output::Run {
                call_id: 1,
                request: mon.clone()
            }]
        );
        assert_eq!(
            finished(&mut q, 520, 1, OcfRc::NotRunning),
            [
                Output::Report {
                    call_id: 1,
                    key: k.clone(),
                    result: res(OcfRc::NotRunning)
                },
                Output::SetTimer { at_ms: 10_520 },
            ]
        );
        // Running again at the next interval: a new watcher.
        q.handle(10_520, Input::Tick);
        assert_eq!(
            finished(&mut q, 10_530, 1, OcfRc::Ok),
            [
                Output::Report {
                    call_id: 1,
                    key: k.clone(),
                    result: res(OcfRc::Ok)
                },
                Output::StartWatch {
                    call_id: 1,
                    request: mon.clone()
                },
                Output::SetTimer { at_ms: 20_530 },
            ]
        );
        // A spurious exit costs one monitor run (same result: not reported); the watcher
        // comes back after the gap, doubled because the last one lived briefly.
        assert_eq!(
            ended(&mut q, 10_600, 1, WatchEnd::Fired),
            [Output::Run {
                call_id: 1,
                request: mon.clone()
            }]
        );
        assert_eq!(
            finished(&mut q, 10_610, 1, OcfRc::Ok),
            [Output::SetTimer { at_ms: 12_600 }]
        );
        assert_eq!(
            q.handle(12_600, Input::Tick),
            [
                Output::StartWatch {
                    call_id: 1,
                    request: mon.clone()
                },
                Output::SetTimer { at_ms: 20_610 },
            ]
        );
        assert_eq!(ended(&mut q, 12_700, 99, WatchEnd::Fired), [], "stale");
        // A stop stops the watcher before it runs; cancelling the monitor then needs no
        // second StopWatch.
        assert_eq!(
            q.handle(13_000, Input::Submit(req("a", "stop", 0))),
            [
                Output::Accepted {
                    call_id: 2,
                    key: key("a", "stop", 0)
                },
                Output::StopWatch { call_id: 1 },
                Output::Run {
                    call_id: 2,
                    request: req("a", "stop", 0)
                },
            ]
        );
        assert_eq!(
            q.handle(13_010, Input::Cancel(k.clone())),
            [Output::Cancelled {
                call_id: 1,
                key: k.clone()
            }]
        );
    }

    #[test]
    fn watcher_stops_on_cancel_replace_and_failure_and_exits_while_running_rerun() {
        let mut q = ExecQueue::new();
        let mon = req("a", "monitor", 1_000);
        let k = key("a", "monitor", 1_000);
        q.handle(0, Input::Submit(mon.clone()));
        finished(&mut q, 10, 1, OcfRc::Ok);
        // Replaced: the old watcher goes; the new monitor starts its own when it succeeds.
        assert_eq!(
            q.handle(20, Input::Submit(mon.clone())),
            [
                Output::StopWatch { call_id: 1 },
                Output::Accepted {
                    call_id: 2,
                    key: k.clone()
                },
                Output::Run {
                    call_id: 2,
                    request: mon.clone()
                },
            ]
        );
        finished(&mut q, 30, 2, OcfRc::Ok);
        // Exit while the monitor runs: it runs again right after.
        q.handle(1_030, Input::Tick);
        assert_eq!(ended(&mut q, 1_040, 2, WatchEnd::Failed), []);
        // Its restart waits for the gap (exit at 1 040 + 1 000).
        assert_eq!(
            finished(&mut q, 1_050, 2, OcfRc::Ok),
            [
                Output::Run {
                    call_id: 2,
                    request: mon.clone()
                },
                Output::SetTimer { at_ms: 2_040 },
            ]
        );
        assert_eq!(finished(&mut q, 1_060, 2, OcfRc::Ok), []);
        assert_eq!(
            q.handle(2_040, Input::Tick),
            [
                Output::StartWatch {
                    call_id: 2,
                    request: mon.clone()
                },
                Output::SetTimer { at_ms: 2_060 },
            ]
        );
        // A failed monitor stops it.
        q.handle(2_060, Input::Tick);
        assert_eq!(
            finished(&mut q, 2_070, 2, OcfRc::Error),
            [
                Output::Report {
                    call_id: 2,
                    key: k.clone(),
                    result: res(OcfRc::Error)
                },
                Output::StopWatch { call_id: 2 },
                Output::SetTimer { at_ms: 3_070 },
            ]
        );
        q.handle(3_070, Input::Tick);
        finished(&mut q, 3_080, 2, OcfRc::Ok);
        // Cancelled with its watcher running: both go.
        assert_eq!(
            q.handle(3_090, Input::Cancel(k.clone())),
            [
                Output::StopWatch { call_id: 2 },
                Output::Cancelled {
                    call_id: 2,
                    key: k.clone()
                },
            ]
        );
    }

    #[test]
    fn unsupported_watchers_and_other_actions_are_left_alone() {
        let mut q = ExecQueue::new();
        let mon = req("a", "monitor", 1_000);
        q.handle(0, Input::Submit(mon.clone()));
        finished(&mut q, 10, 1, OcfRc::Ok);
        assert_eq!(ended(&mut q, 20, 1, WatchEnd::Unsupported), []);
        q.handle(1_010, Input::Tick);
        assert_eq!(
            finished(&mut q, 1_020, 1, OcfRc::Ok),
            [Output::SetTimer { at_ms: 2_020 }]
        );
        // Only monitors have watchers.
        let other = req("b", "health", 1_000);
        q.handle(1_030, Input::Submit(other));
        assert_eq!(
            finished(&mut q, 1_040, 2, OcfRc::Ok),
            [Output::Report {
                call_id: 2,
                key: key("b", "health", 1_000),
                result: res(OcfRc::Ok)
            }]
        );
    }
}
