//! The DC's controller: executes one scheduler [`Transition`] at a time.
//!
//! ```text
//!  start(id, transition) ─▶ every in-graph action whose in-graph inputs are all confirmed
//!                           is dispatched (probes first, fencing last, by action id):
//!                             pseudo   → confirmed at once (may enable more actions)
//!                             resource → Exec { node, OpSpec }     ┐ at most batch-limit
//!                             fencing  → Fence { node, action }    ┘ in flight (0: no limit)
//!  op_result / fence_result ─▶ confirmed (rc == target rc) → dispatch what it enables
//!                              unexpected → the transition aborts
//!  timer ─▶ an action in flight longer than its timeout + cluster-delay failed → abort
//!           (and the DC records it as timed out: ControllerOut::Record)
//!  node_left ─▶ that node's actions in flight failed → abort
//!  abort(reason) ─▶ nothing new is dispatched
//!  ═▶ Finished { complete } once nothing is in flight and nothing more will be dispatched
//! ```
//!
//! Execution follows the graph exactly as the scheduler's own simulation does
//! (`tandem_scheduler::execute::execution_order`): an action waits for *all* its in-graph
//! inputs. One-or-more orderings (`min_inputs`) are decided when the graph is built: inputs
//! that cannot run are not in the graph, and the pseudo action waits for those that are.
//!
//! Transition keys are Pacemaker's `action-id:transition-id:target-rc:dc-uuid` (action id =
//! the action's index in the graph, as in the graph XML); a result reaches the controller
//! through the record the executing node writes into `status` ([`op_record`]), whose
//! `transition-key` names the action. Probes expect 7 (not running): one that finds the
//! resource running is unexpected, so the DC recomputes with that knowledge, as Pacemaker.
//! A recurring monitor is dispatched once — the executing node keeps it running — and is
//! confirmed by its first result.
//!
//! Cancelling recurring operations: the scheduler emits no cancel actions; the executing
//! node cancels a resource's recurring monitors itself when it stops the resource (the stop's
//! record drops their entries, see [`record`]).
//!
//! A pure state machine: time comes in as [`Now`]; deadlines are on the monotonic clock.

pub mod failcount;
pub mod record;
pub mod spec;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::outcome::op_status as status;
use tandem_scheduler::Transition;
use tandem_scheduler::graph::{ActIx, Task};

pub use failcount::{FailCountChange, FailCountUpdate, fail_count_update};
pub use record::{
    OpRecord, RecordError, RscOpEntry, fenced, is_expected, is_failure, op_record, timeout_record,
};
pub use spec::{OpSpec, ParsedKey, lrm_id, parse_transition_key, transition_key};

use crate::time::Now;

/// `fencing-max-attempts` when not set (Pacemaker's default).
pub const DEFAULT_FENCING_MAX_ATTEMPTS: u32 = 10;

/// What the controller asks of the node layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControllerOut {
    /// Run `op` on node `node` (by uname).
    Exec {
        node: String,
        op: OpSpec,
    },
    /// Fence `node` (`reboot`, `off`); answer with [`Controller::fence_result`].
    Fence {
        node: String,
        action: String,
    },
    /// Write this record into `node`'s status (Pacemaker records an action whose result
    /// never came as timed out, so the scheduler recovers it). `node_id` is the node's id.
    Record {
        node: String,
        node_id: String,
        record: OpRecord,
    },
    /// Call [`Controller::timer`] at this monotonic time (only the latest one matters).
    Timer {
        at_us: u64,
    },
    /// The transition is over: `complete` if every action was confirmed; otherwise it was
    /// aborted (`reason` says why) and the DC recomputes.
    Finished {
        id: u64,
        complete: bool,
        reason: Option<String>,
    },
    Log(String),
}

/// What an action does when dispatched.
#[derive(Clone, Debug)]
enum Work {
    Pseudo,
    Exec {
        node: String,
        node_id: String,
        op: Box<OpSpec>,
    },
    Fence {
        node: String,
        action: String,
        timeout_ms: u64,
    },
    /// A resource action the graph gives no node (cannot be dispatched).
    Undispatchable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Waiting,
    InFlight { deadline_us: u64 },
    Confirmed,
    Failed,
}

/// One in-graph action.
#[derive(Clone, Debug)]
struct Step {
    label: String,
    work: Work,
    state: State,
    /// In-graph inputs not yet confirmed.
    waiting: usize,
    /// In-graph actions ordered after this one (an edge may repeat).
    then: Vec<ActIx>,
    /// Dispatch precedence within the ready set: probes, then the rest, fencing last.
    rank: u8,
}

/// The transition being executed.
#[derive(Clone, Debug)]
struct Run {
    id: u64,
    steps: BTreeMap<ActIx, Step>,
    ready: BTreeSet<(u8, ActIx)>,
    in_flight: usize,
    batch_limit: usize,
    cluster_delay_ms: u64,
    abort: Option<String>,
    armed: Option<u64>,
    fencing_max_attempts: u32,
    /// Aborted because fencing failed too often.
    give_up: bool,
}

/// Executes transitions on the DC, one at a time.
#[derive(Clone, Debug)]
pub struct Controller {
    dc_uuid: String,
    run: Option<Run>,
    /// Failed fencing attempts per target since its last successful fencing.
    fence_failures: BTreeMap<String, u32>,
    /// The last transition gave up on fencing (see [`Controller::retry_wanted`]).
    gave_up: bool,
}

impl Controller {
    /// A controller for the DC whose node id (uuid) is `dc_uuid`.
    pub fn new(dc_uuid: &str) -> Controller {
        Controller {
            dc_uuid: dc_uuid.to_string(),
            run: None,
            fence_failures: BTreeMap::new(),
            gave_up: false,
        }
    }

    /// No transition is being executed.
    pub fn is_idle(&self) -> bool {
        self.run.is_none()
    }

    /// After a transition ended: whether the DC should recompute at once. Not when it was
    /// aborted because fencing a node failed `fencing-max-attempts` times in a row: then,
    /// as Pacemaker, the DC waits for something else to change (a CIB update, a node
    /// joining, the recheck timer) before it tries again.
    pub fn retry_wanted(&self) -> bool {
        !self.gave_up
    }

    /// The id of the transition being executed.
    pub fn transition_id(&self) -> Option<u64> {
        self.run.as_ref().map(|r| r.id)
    }

    /// Starts executing `t`, numbered `id`. A transition still running is replaced; the
    /// node layer starts a new one only once the controller is idle.
    pub fn start(&mut self, id: u64, t: &Transition, now: Now) -> Vec<ControllerOut> {
        let run = Run::new(id, t, &self.dc_uuid, now);
        self.gave_up = false;
        let mut out = vec![ControllerOut::Log(format!(
            "Transition {id}: {} actions to execute",
            run.steps.len()
        ))];
        self.run = Some(run);
        self.advance(now, &mut out);
        out
    }

    /// A result recorded for `transition_key` on `node` (uname). A result that is not one
    /// of this transition's actions in flight (another transition's, another DC's, a later
    /// result of a confirmed recurring monitor) is ignored unless it reports a failure,
    /// which aborts the running transition: the scheduler must see it.
    pub fn op_result(
        &mut self,
        node: &str,
        transition_key: &str,
        rc: i32,
        op_status: i32,
        now: Now,
    ) -> Vec<ControllerOut> {
        let mut out = Vec::new();
        let Some(run) = self.run.as_mut() else {
            return out;
        };
        if op_status == status::PENDING {
            return out;
        }
        let Some(key) = parse_transition_key(transition_key) else {
            out.push(ControllerOut::Log(format!(
                "Ignoring a result from {node} with an unreadable transition key {transition_key:?}"
            )));
            return out;
        };
        let expected = op_status == status::DONE && rc == key.target_rc;
        let ours = key.transition == run.id && key.dc_uuid == self.dc_uuid;
        let cancelled = op_status == status::CANCELLED;
        let step = run
            .steps
            .get(&key.action)
            .filter(|s| ours && matches!(&s.work, Work::Exec { node: n, .. } if n == node));
        match step.map(|s| (s.state, s.label.clone())) {
            Some((State::InFlight { .. }, label)) if expected => {
                run.confirm(key.action);
                out.push(ControllerOut::Log(format!(
                    "Action {} ({label}) on {node} confirmed",
                    key.action
                )));
            }
            Some((State::InFlight { .. }, _)) if cancelled => {}
            Some((State::InFlight { .. }, label)) => {
                run.fail(key.action);
                run.set_abort(format!(
                    "{label} on {node} returned rc={rc} status={op_status} (expected rc={})",
                    key.target_rc
                ));
            }
            Some((_, label)) if !expected && !cancelled => {
                run.set_abort(format!(
                    "{label} on {node} now reports rc={rc} status={op_status}"
                ));
            }
            None if !expected && !cancelled => {
                run.set_abort(format!(
                    "an operation outside this transition failed on {node} ({transition_key}: rc={rc} status={op_status})"
                ));
            }
            _ => {}
        }
        self.advance(now, &mut out);
        out
    }

    /// The fencing of `node` (uname) succeeded (`ok`) or failed.
    pub fn fence_result(&mut self, node: &str, ok: bool, now: Now) -> Vec<ControllerOut> {
        let mut out = Vec::new();
        let Some(run) = self.run.as_mut() else {
            return out;
        };
        let found = run.steps.iter().find_map(|(&a, s)| {
            let fencing = matches!(&s.work, Work::Fence { node: n, .. } if n == node);
            (fencing && matches!(s.state, State::InFlight { .. })).then_some(a)
        });
        let Some(a) = found else {
            out.push(ControllerOut::Log(format!(
                "Ignoring a fencing result for {node}: no fencing of it is in flight"
            )));
            return out;
        };
        if ok {
            self.fence_failures.remove(node);
            run.confirm(a);
            out.push(ControllerOut::Log(format!("Fencing of {node} confirmed")));
        } else {
            let failures = self.fence_failures.entry(node.to_string()).or_insert(0);
            *failures += 1;
            run.fail(a);
            let max = run.fencing_max_attempts;
            if *failures >= max && run.abort.is_none() {
                run.give_up = true;
                run.set_abort(format!(
                    "fencing of {node} failed {failures} times (fencing-max-attempts={max}): giving up until something else changes"
                ));
            } else {
                run.set_abort(format!("fencing of {node} failed"));
            }
        }
        self.advance(now, &mut out);
        out
    }

    /// Node `node` (uname) left the membership: its operations in flight will never
    /// report, so they fail now and the transition aborts (its fencing, if the graph has
    /// one, stays in flight: that is how such a node is dealt with).
    pub fn node_left(&mut self, node: &str, now: Now) -> Vec<ControllerOut> {
        let mut out = Vec::new();
        let Some(run) = self.run.as_mut() else {
            return out;
        };
        let lost: Vec<ActIx> = run
            .steps
            .iter()
            .filter(|(_, s)| {
                matches!(s.state, State::InFlight { .. })
                    && matches!(&s.work, Work::Exec { node: n, .. } if n == node)
            })
            .map(|(&a, _)| a)
            .collect();
        for &a in &lost {
            run.fail(a);
        }
        if !lost.is_empty() {
            let what = lost.len();
            out.push(ControllerOut::Log(format!(
                "{what} actions in flight on {node} are lost: the node left"
            )));
            run.set_abort(format!("node {node} left the cluster"));
        }
        self.advance(now, &mut out);
        out
    }

    /// A timer the controller asked for expired (early or late calls are harmless).
    pub fn timer(&mut self, now: Now) -> Vec<ControllerOut> {
        let mut out = Vec::new();
        let Some(run) = self.run.as_mut() else {
            return out;
        };
        run.armed = None;
        let expired: Vec<ActIx> = run
            .steps
            .iter()
            .filter(|(_, s)| matches!(s.state, State::InFlight { deadline_us } if deadline_us <= now.mono_us))
            .map(|(&a, _)| a)
            .collect();
        for a in expired {
            run.time_out(a, now, &mut out);
        }
        self.advance(now, &mut out);
        out
    }

    /// Stop dispatching; `Finished` follows once the actions in flight are done or timed
    /// out. Without a transition this does nothing.
    pub fn abort(&mut self, reason: &str, now: Now) -> Vec<ControllerOut> {
        let mut out = Vec::new();
        let Some(run) = self.run.as_mut() else {
            return out;
        };
        run.set_abort(reason.to_string());
        self.advance(now, &mut out);
        out
    }

    /// Dispatches what may run, then reports the end or the next deadline.
    fn advance(&mut self, now: Now, out: &mut Vec<ControllerOut>) {
        let Some(run) = self.run.as_mut() else {
            return;
        };
        run.dispatch(now, out);
        if run.in_flight == 0 && (run.abort.is_some() || run.ready.is_empty()) {
            let run = self.run.take().expect("checked above");
            self.gave_up = run.give_up;
            run.finish(out);
            return;
        }
        let next = run.next_deadline();
        if let Some(at_us) = next
            && next != run.armed
        {
            run.armed = next;
            out.push(ControllerOut::Timer { at_us });
        }
    }
}

/// Dispatch precedence, as the scheduler's simulation orders a wave.
fn rank(t: &Transition, a: ActIx) -> u8 {
    let act = &t.graph.actions[a];
    match act.task {
        Task::Monitor if act.interval_ms == 0 => 0,
        Task::Fence => 2,
        _ => 1,
    }
}

/// The action's name in logs: Pacemaker's operation key.
fn label(t: &Transition, a: ActIx) -> String {
    let act = &t.graph.actions[a];
    let w = &t.world;
    let node = act.node.map(|n| w.nodes[n].uname.as_str()).unwrap_or("");
    match (act.task, act.rsc, &act.label) {
        (Task::Fence, _, _) => format!(
            "stonith-{node}-{}",
            act.fence_action.as_deref().unwrap_or("reboot")
        ),
        (_, Some(r), _) => format!("{}_{}_{}", w.rscs[r].id, act.task.name(), act.interval_ms),
        (_, None, Some(l)) => l.clone(),
        (_, None, None) => format!("{}_{}", act.task.name(), a),
    }
}

fn work(t: &Transition, a: ActIx, id: u64, dc_uuid: &str, now: Now) -> Work {
    let act = &t.graph.actions[a];
    let w = &t.world;
    if act.pseudo {
        return Work::Pseudo;
    }
    let Some(n) = act.node else {
        return Work::Undispatchable;
    };
    let node = w.nodes[n].uname.clone();
    if act.task == Task::Fence {
        return Work::Fence {
            node,
            action: act
                .fence_action
                .clone()
                .unwrap_or_else(|| t.options.fencing_action.clone()),
            timeout_ms: act.timeout_ms,
        };
    }
    match spec::op_spec(t, a, id, dc_uuid, now.date()) {
        Some(op) => Work::Exec {
            node,
            node_id: w.nodes[n].id.clone(),
            op: Box::new(op),
        },
        None => Work::Undispatchable,
    }
}

impl Run {
    fn new(id: u64, t: &Transition, dc_uuid: &str, now: Now) -> Run {
        let g = &t.graph;
        let mut steps: BTreeMap<ActIx, Step> = (0..g.actions.len())
            .filter(|&a| g.actions[a].in_graph())
            .map(|a| {
                let step = Step {
                    label: label(t, a),
                    work: work(t, a, id, dc_uuid, now),
                    state: State::Waiting,
                    waiting: 0,
                    then: Vec::new(),
                    rank: rank(t, a),
                };
                (a, step)
            })
            .collect();
        for e in &g.edges {
            if steps.contains_key(&e.first) && steps.contains_key(&e.then) {
                steps.get_mut(&e.first).expect("checked").then.push(e.then);
                steps.get_mut(&e.then).expect("checked").waiting += 1;
            }
        }
        let ready = steps
            .iter()
            .filter(|(_, s)| s.waiting == 0)
            .map(|(&a, s)| (s.rank, a))
            .collect();
        let limit = t.options.batch_limit;
        Run {
            id,
            steps,
            ready,
            in_flight: 0,
            batch_limit: if limit <= 0 {
                usize::MAX
            } else {
                limit as usize
            },
            cluster_delay_ms: t.options.cluster_delay_ms,
            abort: None,
            armed: None,
            fencing_max_attempts: t
                .options
                .raw
                .get("fencing-max-attempts")
                .and_then(|v| v.trim().parse().ok())
                .filter(|&n| n > 0)
                .unwrap_or(DEFAULT_FENCING_MAX_ATTEMPTS),
            give_up: false,
        }
    }

    /// The first abort reason counts.
    fn set_abort(&mut self, reason: String) {
        if self.abort.is_none() {
            self.abort = Some(reason);
        }
    }

    fn leave_flight(&mut self, a: ActIx, to: State) {
        let step = self.steps.get_mut(&a).expect("an in-graph action");
        if matches!(step.state, State::InFlight { .. }) {
            self.in_flight -= 1;
        }
        step.state = to;
    }

    /// `a` is done as expected: what waited only for it becomes ready.
    fn confirm(&mut self, a: ActIx) {
        self.leave_flight(a, State::Confirmed);
        let then = self.steps[&a].then.clone();
        for th in then {
            let step = self
                .steps
                .get_mut(&th)
                .expect("edges join in-graph actions");
            step.waiting -= 1;
            if step.waiting == 0 && step.state == State::Waiting {
                self.ready.insert((step.rank, th));
            }
        }
    }

    fn fail(&mut self, a: ActIx) {
        self.leave_flight(a, State::Failed);
    }

    /// The next ready action the batch limit allows: anything while below the limit, else
    /// only pseudo actions (they take no slot).
    fn next_ready(&self) -> Option<(u8, ActIx)> {
        if self.in_flight < self.batch_limit {
            return self.ready.first().copied();
        }
        self.ready
            .iter()
            .find(|(_, a)| matches!(self.steps[a].work, Work::Pseudo))
            .copied()
    }

    fn dispatch(&mut self, now: Now, out: &mut Vec<ControllerOut>) {
        while self.abort.is_none() {
            let Some(item) = self.next_ready() else {
                break;
            };
            self.ready.remove(&item);
            let a = item.1;
            let step = &self.steps[&a];
            let label = step.label.clone();
            match step.work.clone() {
                Work::Pseudo => self.confirm(a),
                Work::Exec { node, op, .. } => {
                    let wait = op.timeout_ms.saturating_add(self.cluster_delay_ms);
                    self.launch(a, now.after_ms(wait));
                    out.push(ControllerOut::Log(format!(
                        "Initiating {} operation {label} on {node} (action {a})",
                        op.action
                    )));
                    out.push(ControllerOut::Exec { node, op: *op });
                }
                Work::Fence {
                    node,
                    action,
                    timeout_ms,
                } => {
                    let wait = timeout_ms.saturating_add(self.cluster_delay_ms);
                    self.launch(a, now.after_ms(wait));
                    out.push(ControllerOut::Log(format!(
                        "Requesting fencing ({action}) of node {node} (action {a})"
                    )));
                    out.push(ControllerOut::Fence { node, action });
                }
                Work::Undispatchable => {
                    self.fail(a);
                    self.set_abort(format!("{label} has no node to run on"));
                }
            }
        }
    }

    fn launch(&mut self, a: ActIx, deadline_us: u64) {
        self.steps.get_mut(&a).expect("an in-graph action").state = State::InFlight { deadline_us };
        self.in_flight += 1;
    }

    /// `a` was in flight past its deadline: it failed, and the transition aborts. For a
    /// resource operation the DC records the timeout in the node's history.
    fn time_out(&mut self, a: ActIx, now: Now, out: &mut Vec<ControllerOut>) {
        self.fail(a);
        let step = &self.steps[&a];
        let label = step.label.clone();
        let (node, waited) = match &step.work {
            Work::Exec { node, node_id, op } => {
                let waited = op.timeout_ms.saturating_add(self.cluster_delay_ms);
                out.push(ControllerOut::Record {
                    node: node.clone(),
                    node_id: node_id.clone(),
                    record: timeout_record(op, node, waited, now),
                });
                (node.clone(), waited)
            }
            Work::Fence {
                node, timeout_ms, ..
            } => (
                node.clone(),
                timeout_ms.saturating_add(self.cluster_delay_ms),
            ),
            Work::Pseudo | Work::Undispatchable => (String::new(), 0),
        };
        let reason = format!(
            "{label} on {node} did not report a result within {waited} ms (action timeout plus cluster-delay)"
        );
        out.push(ControllerOut::Log(reason.clone()));
        self.set_abort(reason);
    }

    fn next_deadline(&self) -> Option<u64> {
        self.steps
            .values()
            .filter_map(|s| match s.state {
                State::InFlight { deadline_us } => Some(deadline_us),
                _ => None,
            })
            .min()
    }

    /// Reports the end of the transition.
    fn finish(self, out: &mut Vec<ControllerOut>) {
        let count = |f: fn(&State) -> bool| self.steps.values().filter(|s| f(&s.state)).count();
        let confirmed = count(|s| *s == State::Confirmed);
        let failed = count(|s| *s == State::Failed);
        let skipped = count(|s| *s == State::Waiting);
        let reason = match (&self.abort, skipped) {
            (Some(r), _) => Some(r.clone()),
            (None, 0) => None,
            (None, n) => Some(format!(
                "{n} actions never became runnable (the graph orders them in a cycle)"
            )),
        };
        let id = self.id;
        out.push(ControllerOut::Log(format!(
            "Transition {id} (Complete={confirmed}, Failed={failed}, Skipped={skipped}): {}",
            if reason.is_none() {
                "Complete"
            } else {
                "Stopped"
            }
        )));
        out.push(ControllerOut::Finished {
            id,
            complete: reason.is_none(),
            reason: reason.map(|r| format!("Transition {id} aborted: {r}")),
        });
    }
}
