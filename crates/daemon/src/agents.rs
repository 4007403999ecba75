//! The bridge between the node's [`Output::Exec`](tandem_node::Output) requests and the
//! executor ([`tandem_exec::Executor`]): one task owns the executor, submits and cancels
//! operations by the node's call numbers, and passes results back translated into
//! [`OpOutcome`]s (Pacemaker's rc and op-status numbers).
//!
//! ```text
//!  main loop ──Run{call, ExecOp} / Cancel{call}──▶ task ──submit/cancel──▶ Executor
//!  main loop ◀──────────(call, OpOutcome)─────────  task ◀──Event::Result── Executor
//!  main loop ◀─────────────────────────────────────── WatchNote ─────────────── Executor
//! ```
//!
//! Watch notes (a watcher started, saw something, failed, was stopped) go straight to the
//! main loop for the log: a recovery that a watcher started, rather than the monitor's
//! interval, is visible there ([`note_line`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use tandem_exec::{
    AgentId, Class, Event, ExecConfig, ExecOptions, ExecStatus, Executor, InProcess, OpKey,
    OpRequest, OpResult, Runner, WatchEnd, WatchEvent, WatchNote,
};
use tandem_node::outcome::op_status;
use tandem_node::{CallId, ExecOp, OpOutcome};
use tandem_totem::Level;
use tokio::sync::mpsc;

/// Commands waiting for the executor task.
const MAX_QUEUED_COMMANDS: usize = 1024;

/// What the main loop asks of the executor task.
pub enum Command {
    Run { call: CallId, op: ExecOp },
    Cancel { call: CallId },
}

/// The executor task's channels, as the main loop holds them.
pub struct Channels {
    /// Where to send commands.
    pub commands: mpsc::Sender<Command>,
    /// Where results arrive.
    pub results: mpsc::UnboundedReceiver<(CallId, OpOutcome)>,
    /// What watchers did, for the log.
    pub notes: mpsc::Receiver<WatchNote>,
}

/// Starts the executor task (watchers on); the actions `in_process` takes run in this
/// process ([`tandem_exec::inproc`]).
pub fn start(config: ExecConfig, in_process: Option<Arc<dyn InProcess>>) -> Channels {
    let (cmd_tx, cmd_rx) = mpsc::channel(MAX_QUEUED_COMMANDS);
    // Unbounded: at most one result per operation run, and the node bounds operations.
    let (res_tx, res_rx) = mpsc::unbounded_channel();
    let mut runner = Runner::new(config);
    if let Some(agents) = in_process {
        runner = runner.with_in_process(agents);
    }
    let (executor, events, notes) = Executor::start_with(Arc::new(runner), ExecOptions::default());
    tokio::spawn(drive(executor, events, cmd_rx, res_tx));
    Channels {
        commands: cmd_tx,
        results: res_rx,
        notes,
    }
}

/// The log line for a watch note: level and text (subsystem `execd`).
pub fn note_line(n: &WatchNote) -> (Level, String) {
    let op = format!("{}_{}_{}", n.key.rsc_id, n.key.action, n.key.interval_ms);
    let detail = if n.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", n.detail)
    };
    match n.event {
        WatchEvent::Started => (Level::Debug, format!("Watching {op}{detail}")),
        WatchEvent::Stopped => (Level::Debug, format!("Stopped watching {op}{detail}")),
        WatchEvent::Ended(WatchEnd::Fired) => (
            Level::Notice,
            format!("Watcher of {op} saw a change; running the monitor now{detail}"),
        ),
        WatchEvent::Ended(WatchEnd::Failed) => (
            Level::Warning,
            format!("Watcher of {op} failed; running the monitor now{detail}"),
        ),
        WatchEvent::Ended(WatchEnd::Unsupported) => (
            Level::Debug,
            format!(
                "{op}: the agent has no watcher; the monitor's interval alone detects failures{detail}"
            ),
        ),
        WatchEvent::Ended(WatchEnd::Expired) => (
            Level::Debug,
            format!("Watcher of {op} reached its lifetime; starting a new one{detail}"),
        ),
    }
}

fn request(op: &ExecOp) -> Result<OpRequest, String> {
    let class: Class = op.class.parse().map_err(|e| format!("{e}"))?;
    let agent =
        AgentId::new(class, op.provider.as_deref(), &op.kind).map_err(|e| format!("{e}"))?;
    Ok(OpRequest {
        rsc_id: op.rsc_id.clone(),
        agent,
        action: op.action.clone(),
        interval_ms: op.interval_ms,
        timeout_ms: op.timeout_ms,
        params: op.params.clone(),
        meta: op.meta.clone(),
    })
}

/// Pacemaker's op-status for an executor status.
fn status_code(s: ExecStatus) -> i32 {
    match s {
        ExecStatus::Done => op_status::DONE,
        ExecStatus::Pending => op_status::PENDING,
        ExecStatus::Cancelled => op_status::CANCELLED,
        ExecStatus::Timeout => op_status::TIMEOUT,
        ExecStatus::NotSupported => op_status::NOT_SUPPORTED,
        ExecStatus::Error => op_status::ERROR,
        ExecStatus::NotInstalled => op_status::NOT_INSTALLED,
    }
}

pub fn outcome(r: &OpResult) -> OpOutcome {
    OpOutcome {
        rc: r.rc.code(),
        op_status: status_code(r.status),
        exit_reason: r.exit_reason.clone(),
        started_epoch_s: r
            .started
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
        exec_time_ms: r.duration.as_millis() as u64,
        queue_time_ms: 0,
    }
}

/// An operation that could not even be submitted (bad agent name, queue full).
fn refused(reason: String) -> OpOutcome {
    OpOutcome {
        rc: 3, // unimplemented feature
        op_status: op_status::NOT_SUPPORTED,
        exit_reason: Some(reason),
        started_epoch_s: std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
        exec_time_ms: 0,
        queue_time_ms: 0,
    }
}

async fn drive(
    executor: Executor,
    mut events: mpsc::Receiver<Event>,
    mut cmds: mpsc::Receiver<Command>,
    results: mpsc::UnboundedSender<(CallId, OpOutcome)>,
) {
    // node call ↔ executor call, and the key to cancel by.
    let mut by_exec: BTreeMap<tandem_exec::CallId, CallId> = BTreeMap::new();
    let mut keys: BTreeMap<CallId, (OpKey, tandem_exec::CallId)> = BTreeMap::new();
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(Command::Run { call, op }) => {
                    let req = match request(&op) {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = results.send((call, refused(e)));
                            continue;
                        }
                    };
                    let key = OpKey::of(&req);
                    match executor.submit(req).await {
                        Ok(exec_call) => {
                            by_exec.insert(exec_call, call);
                            keys.insert(call, (key, exec_call));
                        }
                        Err(e) => {
                            let _ = results.send((call, refused(e.to_string())));
                        }
                    }
                }
                Some(Command::Cancel { call }) => {
                    if let Some((key, exec_call)) = keys.remove(&call) {
                        by_exec.remove(&exec_call);
                        let _ = executor.cancel(key).await;
                    }
                }
                None => return,
            },
            Some(ev) = events.recv() => match ev {
                Event::Result { call_id, key, result } => {
                    let Some(&call) = by_exec.get(&call_id) else { continue };
                    if key.interval_ms == 0 {
                        by_exec.remove(&call_id);
                        keys.remove(&call);
                    }
                    let _ = results.send((call, outcome(&result)));
                }
                Event::Cancelled { call_id, .. } => {
                    if let Some(call) = by_exec.remove(&call_id) {
                        keys.remove(&call);
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(event: WatchEvent, detail: &str) -> WatchNote {
        WatchNote {
            call_id: 7,
            key: OpKey {
                rsc_id: "vip".into(),
                action: "monitor".into(),
                interval_ms: 10_000,
            },
            event,
            detail: detail.into(),
        }
    }

    #[test]
    fn a_fired_watcher_is_logged_as_a_notice_with_its_words() {
        assert_eq!(
            note_line(&note(
                WatchEvent::Ended(WatchEnd::Fired),
                "192.0.2.10/24 removed from va"
            )),
            (
                Level::Notice,
                "Watcher of vip_monitor_10000 saw a change; running the monitor now: 192.0.2.10/24 removed from va".into()
            )
        );
        assert_eq!(
            note_line(&note(WatchEvent::Ended(WatchEnd::Failed), "")),
            (
                Level::Warning,
                "Watcher of vip_monitor_10000 failed; running the monitor now".into()
            )
        );
        assert_eq!(note_line(&note(WatchEvent::Started, "")).0, Level::Debug);
    }
}
