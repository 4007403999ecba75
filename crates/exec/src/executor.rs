//! The driver around [`ExecQueue`]: a tokio task that owns the queue, runs the operations it
//! asks for with a [`Runner`], keeps its one timer, and passes results on.
//!
//! ```text
//!  submit/cancel ──▶ ┌──────────── task ────────────┐ ──▶ Event (results, cancellations)
//!                    │ ExecQueue.handle(now, input) │
//!                    │   Run   ──▶ spawn Runner::run ──┐
//!                    │   Abort ──▶ fire its cancel     │
//!                    │   SetTimer ──▶ sleep_until      │
//!                    └──────────◀── Finished ──────────┘
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Duration, Instant, sleep_until};

use crate::error::ExecError;
use crate::queue::{CallId, ExecQueue, Input, OpKey, Output};
use crate::reaper;
use crate::runner::Runner;
use crate::types::{OpRequest, OpResult};

/// Requests waiting for the executor task; callers wait when it is full.
const MAX_PENDING_REQUESTS: usize = 256;

/// Events not yet taken by the consumer; the executor waits when it is full, so a consumer
/// that stops reading stops the executor rather than growing memory without bound.
pub const MAX_PENDING_EVENTS: usize = 1024;

/// What the executor tells its consumer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An operation's result (for recurring ones: the first, and each change).
    Result {
        /// The call id.
        call_id: CallId,
        /// The operation.
        key: OpKey,
        /// The result.
        result: OpResult,
    },
    /// An operation was cancelled.
    Cancelled {
        /// The call id.
        call_id: CallId,
        /// The operation.
        key: OpKey,
    },
}

enum Command {
    Submit(OpRequest, oneshot::Sender<Result<CallId, String>>),
    Cancel(OpKey, oneshot::Sender<Result<(), String>>),
}

/// A handle to a running executor. Dropping every handle stops it (running agents are killed).
#[derive(Clone)]
pub struct Executor {
    tx: mpsc::Sender<Command>,
}

impl Executor {
    /// Starts the executor task on the current tokio runtime, and makes this process the
    /// subreaper of agents' orphans (see [`crate::reaper`]).
    pub fn start(runner: Arc<Runner>) -> (Executor, mpsc::Receiver<Event>) {
        // Without subreaping the executor still works; orphans then go to init as usual.
        if reaper::become_subreaper().is_ok() {
            let _ = reaper::spawn_reaper_task();
        }
        let (tx, rx) = mpsc::channel(MAX_PENDING_REQUESTS);
        let (events_tx, events_rx) = mpsc::channel(MAX_PENDING_EVENTS);
        tokio::spawn(drive(runner, rx, events_tx));
        (Executor { tx }, events_rx)
    }

    /// Submits an operation; returns its call id once queued.
    pub async fn submit(&self, req: OpRequest) -> Result<CallId, ExecError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Submit(req, reply))
            .await
            .map_err(|_| ExecError::Stopped)?;
        answer
            .await
            .map_err(|_| ExecError::Stopped)?
            .map_err(ExecError::Rejected)
    }

    /// Cancels a recurring operation (or a queued one-shot one).
    pub async fn cancel(&self, key: OpKey) -> Result<(), ExecError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Cancel(key, reply))
            .await
            .map_err(|_| ExecError::Stopped)?;
        answer
            .await
            .map_err(|_| ExecError::Stopped)?
            .map_err(ExecError::Rejected)
    }
}

struct Driver {
    runner: Arc<Runner>,
    queue: ExecQueue,
    origin: Instant,
    timer: Option<Instant>,
    aborts: BTreeMap<CallId, oneshot::Sender<()>>,
    done_tx: mpsc::UnboundedSender<(CallId, OpResult)>,
    events: mpsc::Sender<Event>,
}

async fn drive(runner: Arc<Runner>, mut rx: mpsc::Receiver<Command>, events: mpsc::Sender<Event>) {
    // Unbounded is safe here: at most one completion per running operation, and the number
    // of running operations is bounded by the queue's resource limit.
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut d = Driver {
        runner,
        queue: ExecQueue::new(),
        origin: Instant::now(),
        timer: None,
        aborts: BTreeMap::new(),
        done_tx,
        events,
    };
    loop {
        let timer = d.timer;
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Command::Submit(req, reply)) => {
                    let out = d.handle(Input::Submit(req));
                    let answer = out.iter().find_map(|o| match o {
                        Output::Accepted { call_id, .. } => Some(Ok(*call_id)),
                        Output::Rejected { reason, .. } => Some(Err(reason.clone())),
                        _ => None,
                    });
                    let _ = reply.send(answer.unwrap_or_else(|| Err("no answer from the queue".into())));
                    d.apply(out).await;
                }
                Some(Command::Cancel(key, reply)) => {
                    let out = d.handle(Input::Cancel(key));
                    let refused = out.iter().find_map(|o| match o {
                        Output::Rejected { reason, .. } => Some(reason.clone()),
                        _ => None,
                    });
                    let _ = reply.send(refused.map_or(Ok(()), Err));
                    d.apply(out).await;
                }
                None => break,
            },
            Some((call_id, result)) = done_rx.recv() => {
                d.aborts.remove(&call_id);
                let out = d.handle(Input::Finished { call_id, result });
                d.apply(out).await;
            }
            () = sleep_until(timer.unwrap_or_else(Instant::now)), if timer.is_some() => {
                d.timer = None;
                let out = d.handle(Input::Tick);
                d.apply(out).await;
            }
        }
    }
    // Every handle is gone: cancel what still runs (their tasks kill the agents).
    for (_, abort) in std::mem::take(&mut d.aborts) {
        let _ = abort.send(());
    }
}

impl Driver {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn handle(&mut self, input: Input) -> Vec<Output> {
        let now = self.now_ms();
        self.queue.handle(now, input)
    }

    async fn apply(&mut self, outputs: Vec<Output>) {
        for o in outputs {
            match o {
                Output::Accepted { .. } | Output::Rejected { .. } => {}
                Output::Run { call_id, request } => self.spawn_run(call_id, request),
                Output::Abort { call_id } => {
                    if let Some(abort) = self.aborts.remove(&call_id) {
                        let _ = abort.send(());
                    }
                }
                Output::Report {
                    call_id,
                    key,
                    result,
                } => {
                    let _ = self
                        .events
                        .send(Event::Result {
                            call_id,
                            key,
                            result,
                        })
                        .await;
                }
                Output::Cancelled { call_id, key } => {
                    let _ = self.events.send(Event::Cancelled { call_id, key }).await;
                }
                Output::SetTimer { at_ms } => {
                    self.timer = Some(self.origin + Duration::from_millis(at_ms));
                }
            }
        }
    }

    fn spawn_run(&mut self, call_id: CallId, request: OpRequest) {
        let (abort_tx, abort_rx) = oneshot::channel::<()>();
        self.aborts.insert(call_id, abort_tx);
        let runner = Arc::clone(&self.runner);
        let done = self.done_tx.clone();
        tokio::spawn(async move {
            let cancel = async move {
                // A dropped sender (the executor stopping) cancels too.
                let _ = abort_rx.await;
            };
            let result = runner.run(&request, cancel).await;
            let _ = done.send((call_id, result));
        });
    }
}
