//! The DC (designated controller): chosen from the synced CIB and the group, it keeps
//! `node_state`, `have-quorum` and `dc-uuid` up to date.
//!
//! Choice: at the end of every sync round all members hold the same CIB and the same member
//! list, so they all compute the same DC without an election: the node named by the CIB's
//! `dc-uuid` if it is still a member (the current DC stays), else the member with the lowest
//! node id.
//!
//! After a round the DC computes only once every member of the round re-reported its
//! executor history (each member sends its `CibOp::History` as it finishes the round): the
//! CIB that won the round may hold a member's history from before it left — a node back
//! from a reboot, a cable pulled and plugged back, the minority of a healed partition —
//! showing resources it has stopped since (in a CIB that lost) or that died with its
//! previous boot. Computed with it, a resource running on another node is active twice and
//! is restarted there for nothing. Pacemaker's DC likewise replaces a joining node's history
//! with the one the node sends in its join before it computes. The wait is bounded
//! ([`HISTORY_REPORT_WAIT_MS`]): reports arrive in the total order right after the round,
//! so the bound only matters if one is lost with its sender, and then the DC computes with
//! what it has (a late report makes it compute again).

use std::collections::BTreeSet;

use tandem_totem::{Level, NodeId};

use crate::Node;
use crate::cibops::{CibOp, FailWire, NodeRow, RecordWire};
use crate::controller::{Controller, ControllerOut, OpRecord, parse_transition_key};
use crate::types::NodeTimer;
use crate::wire::{Body, ExecMsg};

/// Debounce between a change and the scheduler run it triggers: changes delivered together
/// (a burst of records, a sync round's reports) share one run. Short, because it is on the
/// path of every recovery and every administrative move; correctness does not depend on it —
/// every change that can alter the placement asks for a run of its own when it is applied,
/// and a run started on older information is aborted and redone.
pub const SCHEDULE_DEBOUNCE_MS: u64 = 10;

/// Follow-up runs in a row: after a transition that ran operations completes, the DC runs
/// the scheduler once more on the state it produced, since the placement computed before a
/// recovery can differ from the one computed after it (resources are placed in an order
/// that depends on where they run and whether they failed; without stickiness a
/// balanced placement may then prefer another node). Bounded, so that a placement that
/// never settles waits for the next change instead of moving resources forever.
pub const MAX_FOLLOW_UP_RUNS: u32 = 3;

/// How long the DC waits, after a sync round, for the members' history reports before it
/// computes anyway. Every member sends its report as it finishes the round and reports are
/// delivered in the total order (within a token rotation or two on a working ring), so this
/// is a safety net, not a delay anyone waits out: a member whose report does not come leaves
/// the view soon (a new round resets the wait). Long enough for a member slowed by a loaded
/// machine or a lossy link (totem retransmits), short next to the failure detection of a
/// member that died (the token timeout plus consensus, over a second).
pub const HISTORY_REPORT_WAIT_MS: u64 = 2_000;

/// What only the DC keeps.
#[derive(Debug, Default)]
pub struct DcState {
    /// The membership last written (avoids rewriting an unchanged one).
    last_rows: Option<(bool, Vec<NodeRow>)>,
    controller: Option<Controller>,
    /// Number of the last transition started.
    transition: u64,
    /// Why the scheduler must run again (the first reason since the last run).
    pending: Option<String>,
    /// The running transition was told to stop.
    aborted: bool,
    schedule_at: Option<u64>,
    /// The running transition dispatched an operation.
    dispatched: bool,
    /// Follow-up runs since the last change from outside ([`MAX_FOLLOW_UP_RUNS`]).
    follow_ups: u32,
    /// Members of the last round whose history report has not been applied yet: the
    /// scheduler does not run while this is not empty (see the module documentation).
    awaiting_reports: BTreeSet<String>,
    /// The wait was logged (once per round).
    told_waiting: bool,
}

impl Node {
    /// Computes the DC at the end of a sync round.
    pub(crate) fn choose_dc(&mut self) {
        let recorded = self
            .cib
            .root_attr("dc-uuid")
            .and_then(|v| v.parse::<NodeId>().ok())
            .filter(|id| self.members.contains(id));
        let dc = recorded.or_else(|| self.members.iter().min().copied());
        if dc != self.dc {
            let name = dc.map(|d| self.uname(d)).unwrap_or_default();
            if dc == Some(self.me) {
                self.log(
                    Level::Notice,
                    "controller",
                    format!("Node {name} (this node) is the DC"),
                );
            } else {
                self.log(Level::Info, "controller", format!("Node {name} is the DC"));
            }
            self.dc_state = DcState::default();
        }
        self.dc = dc;
    }

    pub(crate) fn is_dc(&self) -> bool {
        self.dc == Some(self.me) && self.sync.is_done()
    }

    /// A new round started: operations in flight on departed nodes are lost, and the
    /// running transition stops dispatching (the DC may change).
    pub(crate) fn dc_round_started(&mut self, departed: &[NodeId]) {
        for d in departed {
            let name = self.uname(*d);
            // Its report will not come (it sends one after the next round it is in).
            self.dc_state.awaiting_reports.remove(&name);
            let now = self.now;
            if let Some(c) = self.dc_state.controller.as_mut() {
                let outs = c.node_left(&name, now);
                self.controller_outs(outs);
            }
        }
        self.request_schedule("the cluster membership changed");
    }

    /// A member's sync message says where it has been since it was last synced (the ring
    /// of its last completed round and every ring installed since). A member of our last
    /// completed round whose path differs from ours was apart from us in between — cut off
    /// and back within our view changes, possibly across rounds that never completed — so
    /// it may have missed what was sent in that ring after it left, the DC's operation
    /// requests among them: what the DC had in flight there is lost, as for a node that
    /// left (simulator seeds 1391, 5020: the transition waited out a start's timeout plus
    /// cluster-delay).
    pub(crate) fn dc_member_came_from(
        &mut self,
        member: NodeId,
        round: &crate::wire::Round,
        came_from: &[tandem_totem::wire::RingId],
    ) {
        if member == self.me
            || came_from == self.path.as_slice()
            || !self.synced_members.contains(&member)
            || !self.sync.is_round(round)
        {
            return;
        }
        let name = self.uname(member);
        let now = self.now;
        if let Some(c) = self.dc_state.controller.as_mut() {
            let outs = c.node_left(&name, now);
            self.controller_outs(outs);
        }
    }

    pub(crate) fn start_failure_is_fatal(&self) -> bool {
        self.cib
            .config
            .cluster_options(self.now.date(), &mut Default::default())
            .start_failure_is_fatal
    }

    /// The round ended (the DC is chosen): the DC writes membership and quorum, and
    /// recomputes.
    pub(crate) fn dc_synced(&mut self) {
        if self.is_dc() {
            // The round may have replaced the CIB with one whose node states are older than
            // what this DC last wrote: always write them again.
            self.dc_state.last_rows = None;
            self.await_reports();
            self.write_membership();
            self.request_schedule("the cluster membership changed");
        } else if self.dc_state.controller.is_some() {
            self.dc_state = DcState::default();
        }
    }

    /// Every member of the round just finished is to re-report its history before the
    /// scheduler runs (bounded by [`HISTORY_REPORT_WAIT_MS`]).
    fn await_reports(&mut self) {
        self.dc_state.awaiting_reports = self.members.iter().map(|m| self.uname(*m)).collect();
        self.dc_state.told_waiting = false;
        let at = self.now.after_ms(HISTORY_REPORT_WAIT_MS);
        self.set_timer(NodeTimer::Reports, at);
    }

    /// `node`'s history report was delivered (applied or refused — either way the only one
    /// of this round): once every member's is in, the run the wait held back goes ahead.
    pub(crate) fn dc_report_delivered(&mut self, node: &str) {
        if self.dc_state.awaiting_reports.remove(node) && self.dc_state.awaiting_reports.is_empty()
        {
            self.schedule_held_run();
        }
    }

    /// The wait for the members' reports is over: a run held back by it is due now.
    fn schedule_held_run(&mut self) {
        if self.is_dc() && self.dc_state.pending.is_some() && self.dc_state.schedule_at.is_none() {
            let at = self.now.after_ms(SCHEDULE_DEBOUNCE_MS);
            self.dc_state.schedule_at = Some(at);
            self.set_timer(NodeTimer::Schedule, at);
        }
    }

    pub(crate) fn dc_quorum_changed(&mut self) {
        if self.is_dc() {
            self.write_membership();
        }
    }

    fn write_membership(&mut self) {
        let rows: Vec<NodeRow> = self
            .names
            .iter()
            .map(|(id, uname)| NodeRow {
                id: *id,
                uname: uname.clone(),
                member: self.members.contains(id),
                clean_down: !self.members.contains(id) && self.node_was_shutting_down(uname),
            })
            .collect();
        let key = (self.quorate, rows.clone());
        let recorded_dc = self.cib.root_attr("dc-uuid") == Some(self.me.to_string().as_str());
        if self.dc_state.last_rows.as_ref() == Some(&key) && recorded_dc {
            return;
        }
        self.dc_state.last_rows = Some(key);
        self.send_op(
            CibOp::Membership {
                dc: self.me,
                quorate: self.quorate,
                nodes: rows,
            },
            None,
        );
    }

    /// Whether `uname` has the `shutdown` attribute set in the CIB.
    pub(crate) fn node_was_shutting_down(&self, uname: &str) -> bool {
        crate::cibops::transient_attr(self.cib.document(), uname, "shutdown")
            .is_some_and(|v| v != "0")
    }

    /// An operation was applied (on every node; the DC reacts).
    pub(crate) fn dc_op_applied(&mut self, op: &CibOp, changed: bool) {
        if !self.is_dc() {
            return;
        }
        match op {
            CibOp::Record { node, record, .. } => self.dc_record(node, record),
            // The run asked for when the membership was sent may have happened before it
            // was applied (on information without it).
            CibOp::Membership { .. } if changed => {
                self.request_schedule("the membership was recorded")
            }
            CibOp::History { node, .. } => {
                self.confirm_from_history(node);
                if changed {
                    self.request_schedule(&format!("{node} reported its resource history"))
                }
            }
            CibOp::Commit { .. } | CibOp::Replace { .. } if changed => {
                // A new configuration may lack the members' <node> entries or the DC's
                // properties: write them again (nothing changes if they are there).
                self.dc_state.last_rows = None;
                self.write_membership();
                self.request_schedule("the configuration changed")
            }
            CibOp::Attrs { node, set } if changed => {
                let names: Vec<&str> = set.iter().map(|(n, _)| n.as_str()).collect();
                self.request_schedule(&format!(
                    "transient attribute {} of {node} changed",
                    names.join(", ")
                ))
            }
            CibOp::Cleanup { .. } if changed => self.request_schedule("resource cleanup"),
            _ => {}
        }
    }

    /// `node` re-reported its history: results of the running transition's actions in it
    /// reach the controller, as Pacemaker's controller reads every operation of an `lrm`
    /// section a node writes. A result whose own record was applied while this node was
    /// not yet the DC of the view (during a sync round) reaches the controller no other
    /// way, and the transition would wait out the action's timeout.
    fn confirm_from_history(&mut self, node: &str) {
        let Some(t) = self
            .dc_state
            .controller
            .as_ref()
            .and_then(Controller::transition_id)
        else {
            return;
        };
        let results = history_results(self.cib.document(), node, t);
        let now = self.now;
        for (key, rc, status) in results {
            if let Some(c) = self.dc_state.controller.as_mut() {
                let outs = c.op_result(node, &key, rc, status, now);
                self.controller_outs(outs);
            }
        }
    }

    /// A recorded result: the controller confirms or aborts; a failure outside any
    /// transition makes the DC recompute.
    fn dc_record(&mut self, node: &str, record: &RecordWire) {
        let key = record.attr("transition-key").map(str::to_string);
        let rc = record
            .attr("rc-code")
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1);
        let status = record
            .attr("op-status")
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1);
        let now = self.now;
        let idle = self
            .dc_state
            .controller
            .as_ref()
            .is_none_or(Controller::is_idle);
        if let (Some(key), Some(c)) = (key, self.dc_state.controller.as_mut())
            && !idle
        {
            let outs = c.op_result(node, &key, rc, status, now);
            self.controller_outs(outs);
        }
        if record.is_failure() && idle {
            self.request_schedule(&format!(
                "{} failed on {node} (rc={rc})",
                record
                    .entries
                    .first()
                    .map(|e| e.0.as_str())
                    .unwrap_or("an operation")
            ));
        }
    }

    /// Something changed that may change the placement: stop the running transition (it
    /// reports `Finished` once what is in flight is done) and run the scheduler soon.
    pub(crate) fn request_schedule(&mut self, reason: &str) {
        if !self.is_dc() {
            if let Some(c) = self.dc_state.controller.as_mut()
                && !c.is_idle()
            {
                let outs = c.abort(reason, self.now);
                self.controller_outs(outs);
            }
            return;
        }
        if self.dc_state.pending.is_none() {
            self.dc_state.pending = Some(reason.to_string());
        }
        self.dc_state.follow_ups = 0;
        let busy = self
            .dc_state
            .controller
            .as_ref()
            .is_some_and(|c| !c.is_idle());
        if busy && !self.dc_state.aborted {
            self.dc_state.aborted = true;
            let now = self.now;
            let outs = self
                .dc_state
                .controller
                .as_mut()
                .expect("busy implies a controller")
                .abort(reason, now);
            self.controller_outs(outs);
        }
        if self.dc_state.schedule_at.is_none() {
            let at = self.now.after_ms(SCHEDULE_DEBOUNCE_MS);
            self.dc_state.schedule_at = Some(at);
            self.set_timer(NodeTimer::Schedule, at);
        }
    }

    pub(crate) fn dc_timer(&mut self, t: NodeTimer) {
        match t {
            NodeTimer::Schedule => {
                self.dc_state.schedule_at = None;
                self.run_scheduler();
            }
            NodeTimer::Controller => {
                let now = self.now;
                if let Some(c) = self.dc_state.controller.as_mut() {
                    let outs = c.timer(now);
                    self.controller_outs(outs);
                }
            }
            NodeTimer::Recheck => {
                if self.dc_state.pending.is_none() {
                    self.request_schedule("cluster-recheck-interval");
                }
            }
            NodeTimer::Reports => self.reports_overdue(),
            NodeTimer::ShutdownEscalation => {}
        }
    }

    /// [`HISTORY_REPORT_WAIT_MS`] passed since the round: the DC computes without the
    /// reports that did not come.
    fn reports_overdue(&mut self) {
        if self.dc_state.awaiting_reports.is_empty() {
            return;
        }
        let missing = std::mem::take(&mut self.dc_state.awaiting_reports);
        self.log(
            Level::Warning,
            "controller",
            format!(
                "No resource history from {} within {HISTORY_REPORT_WAIT_MS} ms of the membership change; computing without it",
                missing.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
        self.schedule_held_run();
    }

    fn run_scheduler(&mut self) {
        if !self.is_dc() || self.dc_state.pending.is_none() {
            return;
        }
        if self
            .dc_state
            .controller
            .as_ref()
            .is_some_and(|c| !c.is_idle())
        {
            return; // resumed when the running transition finishes
        }
        if !self.dc_state.awaiting_reports.is_empty() {
            // Resumed when the last report is applied (or the wait times out).
            if !std::mem::replace(&mut self.dc_state.told_waiting, true) {
                let names: Vec<&str> = self
                    .dc_state
                    .awaiting_reports
                    .iter()
                    .map(String::as_str)
                    .collect();
                let text = format!(
                    "Waiting for the resource history of {} before computing",
                    names.join(", ")
                );
                self.log(Level::Info, "controller", text);
            }
            return;
        }
        let reason = self.dc_state.pending.take().unwrap_or_default();
        self.dc_state.aborted = false;
        let t = tandem_scheduler::schedule(&self.cib, self.now.date());
        self.dc_state.transition += 1;
        let id = self.dc_state.transition;
        let summary = t.summary_text();
        self.log(
            Level::Notice,
            "schedulerd",
            format!(
                "Calculated transition {id} ({reason}){}",
                if summary.is_empty() {
                    ": nothing to do".to_string()
                } else {
                    format!(":\n{}", summary.trim_end())
                }
            ),
        );
        let me = self.me.to_string();
        let now = self.now;
        let c = self
            .dc_state
            .controller
            .get_or_insert_with(|| Controller::new(&me));
        self.dc_state.dispatched = false;
        let outs = c.start(id, &t, now);
        self.controller_outs(outs);
    }

    fn controller_outs(&mut self, outs: Vec<ControllerOut>) {
        let mut absent = Vec::new();
        for o in outs {
            match o {
                ControllerOut::Exec { node, op } => {
                    self.dc_state.dispatched = true;
                    // The controller logs "Initiating ..." itself.
                    if !self.members.iter().any(|m| self.uname(*m) == node)
                        && !absent.contains(&node)
                    {
                        absent.push(node.clone());
                    }
                    self.broadcast(&Body::Exec(ExecMsg::new(&node, op)), None);
                }
                ControllerOut::Fence { node, action } => {
                    self.log(
                        Level::Notice,
                        "controller",
                        format!("Requesting fencing ({action}) of node {node}"),
                    );
                    self.out.push(crate::Output::Fence { node, action });
                }
                ControllerOut::Record { node, record, .. } => {
                    let fail = timeout_fail(&record, self.start_failure_is_fatal());
                    self.send_op(
                        CibOp::Record {
                            node,
                            record: RecordWire::from(record),
                            fail,
                        },
                        None,
                    );
                }
                ControllerOut::Timer { at_us } => self.set_timer(NodeTimer::Controller, at_us),
                ControllerOut::Finished {
                    id,
                    complete,
                    reason,
                } => self.transition_finished(id, complete, reason),
                ControllerOut::Log(text) => self.log(Level::Info, "controller", text),
            }
        }
        // A node that is not a member never gets the request (the broadcast does not reach
        // it): its actions fail now instead of waiting out their timeouts.
        for node in absent {
            let now = self.now;
            if let Some(c) = self.dc_state.controller.as_mut() {
                let outs = c.node_left(&node, now);
                self.controller_outs(outs);
            }
        }
    }

    /// The fencer answered: the controller confirms (or fails) the fencing action, and a
    /// fenced node is recorded as cleanly down with no resources (its history and transient
    /// attributes are gone with it), as Pacemaker's controller does, so the scheduler
    /// neither fences it again nor thinks its resources still run.
    pub(crate) fn fence_done(&mut self, node: &str, ok: bool) {
        if ok {
            self.log(
                Level::Notice,
                "controller",
                format!("Node {node} was fenced"),
            );
            // A node that is a member again already rebooted and re-reported its own (new)
            // history: erasing it now would hide what it runs since (the confirmation came
            // after it rejoined; the scheduler then started its resources elsewhere too:
            // simulator seed 5104).
            let back = self.members.iter().any(|m| self.uname(*m) == node);
            if self.is_dc() && !back {
                self.send_op(
                    CibOp::Fenced {
                        node: node.to_string(),
                    },
                    None,
                );
            }
        } else {
            self.log(
                Level::Error,
                "controller",
                format!("Fencing of node {node} failed"),
            );
        }
        let now = self.now;
        if let Some(c) = self.dc_state.controller.as_mut() {
            let outs = c.fence_result(node, ok, now);
            self.controller_outs(outs);
        }
    }

    fn transition_finished(&mut self, id: u64, complete: bool, reason: Option<String>) {
        if !complete {
            let why = reason.unwrap_or_else(|| format!("Transition {id} aborted"));
            self.log(Level::Notice, "controller", why.clone());
            let retry = self
                .dc_state
                .controller
                .as_ref()
                .is_none_or(Controller::retry_wanted);
            if retry && self.dc_state.pending.is_none() {
                self.dc_state.pending = Some(why);
            }
        }
        self.dc_state.aborted = false;
        if !self.is_dc() {
            self.dc_state.controller = None;
            return;
        }
        let dispatched = std::mem::take(&mut self.dc_state.dispatched);
        if complete
            && dispatched
            && self.dc_state.pending.is_none()
            && self.dc_state.follow_ups < MAX_FOLLOW_UP_RUNS
        {
            self.dc_state.follow_ups += 1;
            self.dc_state.pending = Some(format!("Transition {id} completed"));
        }
        if self.dc_state.pending.is_some() {
            if self.dc_state.schedule_at.is_none() {
                let at = self.now.after_ms(SCHEDULE_DEBOUNCE_MS);
                self.dc_state.schedule_at = Some(at);
                self.set_timer(NodeTimer::Schedule, at);
            }
        } else {
            let recheck = self
                .cib
                .config
                .cluster_options(self.now.date(), &mut Default::default())
                .cluster_recheck_interval_ms;
            if recheck > 0 {
                let at = self.now.after_ms(recheck);
                self.set_timer(NodeTimer::Recheck, at);
            }
        }
    }

    pub fn transition_active(&self) -> bool {
        self.dc_state
            .controller
            .as_ref()
            .is_some_and(|c| !c.is_idle())
    }
}

/// The fail-count change of an operation the DC records as timed out (Pacemaker's rules,
/// from the record's operation and interval).
fn timeout_fail(record: &OpRecord, start_failure_is_fatal: bool) -> Option<FailWire> {
    let entry = record.entries.first()?;
    let get = |k: &str| {
        entry
            .attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let op = get("operation")?;
    let interval: u64 = get("interval").and_then(|v| v.parse().ok()).unwrap_or(0);
    let infinity = match (op, interval) {
        ("start", 0) => start_failure_is_fatal,
        ("stop", 0) => true,
        ("promote" | "demote", 0) | (_, 1..) => false,
        _ => return None,
    };
    let key = format!("{}#{op}_{interval}", record.rsc_id);
    Some(FailWire {
        count_attr: format!("fail-count-{key}"),
        last_failure_attr: format!("last-failure-{key}"),
        infinity,
    })
}

/// The results in `node`'s operation history (`lrm_rsc_op` entries in its `node_state`)
/// that belong to transition `transition`: transition key, rc, op-status.
fn history_results(
    doc: &tandem_xml::Document,
    node: &str,
    transition: u64,
) -> Vec<(String, i32, i32)> {
    let mut out = Vec::new();
    let Some(status) = doc.root().and_then(|r| doc.child_named(r, "status")) else {
        return out;
    };
    for ns in doc
        .children_named(status, "node_state")
        .filter(|&n| doc.attr(n, "uname") == Some(node))
    {
        let Some(rscs) = doc.descend(ns, &["lrm", "lrm_resources"]) else {
            continue;
        };
        for rsc in doc.children_named(rscs, "lrm_resource") {
            for op in doc.children_named(rsc, "lrm_rsc_op") {
                let Some(key) = doc.attr(op, "transition-key") else {
                    continue;
                };
                if parse_transition_key(key).is_none_or(|k| k.transition != transition) {
                    continue;
                }
                let num = |name| doc.attr(op, name).and_then(|v| v.parse::<i32>().ok());
                if let (Some(rc), Some(st)) = (num("rc-code"), num("op-status")) {
                    out.push((key.to_string(), rc, st));
                }
            }
        }
    }
    out
}
