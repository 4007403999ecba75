//! The bridge between the node's [`Output::Exec`](tandem_node::Output) requests and the
//! executor ([`tandem_exec::Executor`]): one task owns the executor, submits and cancels
//! operations by the node's call numbers, and passes results back translated into
//! [`OpOutcome`]s (Pacemaker's rc and op-status numbers).
//!
//! ```text
//!  main loop ──Run{call, ExecOp} / Cancel{call}──▶ task ──submit/cancel──▶ Executor
//!  main loop ◀──────────(call, OpOutcome)─────────  task ◀──Event::Result── Executor
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use tandem_exec::{
    AgentId, Class, Event, ExecConfig, ExecStatus, Executor, OpKey, OpRequest, OpResult, Runner,
};
use tandem_node::outcome::op_status;
use tandem_node::{CallId, ExecOp, OpOutcome};
use tokio::sync::mpsc;

/// Commands waiting for the executor task.
const MAX_QUEUED_COMMANDS: usize = 1024;

/// What the main loop asks of the executor task.
pub enum Command {
    Run { call: CallId, op: ExecOp },
    Cancel { call: CallId },
}

/// Starts the executor task; returns where to send commands and where results arrive.
pub fn start(
    config: ExecConfig,
) -> (
    mpsc::Sender<Command>,
    mpsc::UnboundedReceiver<(CallId, OpOutcome)>,
) {
    let (cmd_tx, cmd_rx) = mpsc::channel(MAX_QUEUED_COMMANDS);
    // Unbounded: at most one result per operation run, and the node bounds operations.
    let (res_tx, res_rx) = mpsc::unbounded_channel();
    let (executor, events) = Executor::start(Arc::new(Runner::new(config)));
    tokio::spawn(drive(executor, events, cmd_rx, res_tx));
    (cmd_tx, res_rx)
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
