//! The driver around [`ExecQueue`]: a tokio task that owns the queue, runs the operations it
//! asks for with a [`Runner`], keeps its one timer, and passes results on.
//!
//! ```text
//!  submit/cancel/ ──▶ ┌──────────── task ────────────┐ ──▶ Event (results, cancellations)
//!  run_now            │ ExecQueue.handle(now, input) │ ──▶ WatchNote (watchers: what they saw)
//!                     │   Run   ──▶ spawn Runner::run ──┐
//!                     │   Abort ──▶ fire its cancel     │
//!                     │   SetTimer ──▶ sleep_until      │
//!                     │   StartWatch ──▶ (agent has a watcher?) spawn `AGENT watch` ──┐
//!                     │   StopWatch  ──▶ fire its cancel (kills its process group)    │
//!                     └──────────◀── Finished / WatchEnded ─────────────────────────────┘
//! ```
//!
//! Watchers ([`crate::watch`]): for `StartWatch` the driver first learns, once per agent
//! (cached for [`WATCH_CAPABILITY_TTL`]), whether the agent has one
//! ([`Runner::supports_watch`]); if not, it answers `WatchEnded(Unsupported)` and nothing
//! else happens for that agent. A watcher runs the `watch` action with the monitor's request
//! (same OCF environment) and a lifetime limit of [`WATCH_MAX_LIFETIME`], in its own process
//! group like every agent run, and is killed on `StopWatch` and when the executor stops. Its
//! end is classified for the queue: exit 0 → fired; `OCF_ERR_UNIMPLEMENTED` → unsupported;
//! its lifetime over → expired; anything else → failed.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Duration, Instant, sleep_until};

use crate::error::ExecError;
use crate::queue::{CallId, ExecQueue, Input, OpKey, Output};
use crate::rc::OcfRc;
use crate::reaper;
use crate::runner::Runner;
use crate::types::{AgentId, ExecStatus, OpRequest, OpResult};
use crate::watch::{WATCH_ACTION, WatchEnd};

/// How long one watcher process may run before it is replaced by a fresh one: a bound on
/// every external process, and a way for watchers to pick up an upgraded agent.
pub const WATCH_MAX_LIFETIME: Duration = Duration::from_secs(3600);

/// How long an agent's answer to "do you have a watcher?" is trusted before it is asked
/// again (an agent may be installed or upgraded while the executor runs).
pub const WATCH_CAPABILITY_TTL: Duration = Duration::from_secs(600);

/// Watch notes not yet taken by the consumer; more are dropped (they are informational).
pub const MAX_PENDING_WATCH_NOTES: usize = 256;

/// The longest `detail` of a watch note (the first line of the watcher's output).
pub const MAX_WATCH_NOTE_LEN: usize = 512;

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

/// How an executor runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecOptions {
    /// Run watchers beside recurring monitors of agents that have them ([`crate::watch`]).
    pub watch: bool,
}

impl Default for ExecOptions {
    /// Watchers on.
    fn default() -> ExecOptions {
        ExecOptions { watch: true }
    }
}

/// What happened to a watcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEvent {
    /// Its process was started.
    Started,
    /// It ended by itself (or its agent has none: [`WatchEnd::Unsupported`]).
    Ended(WatchEnd),
    /// It was stopped (monitor cancelled or failed, resource stopping, executor stopping).
    Stopped,
}

/// A note about a watcher, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchNote {
    /// The recurring monitor's call id.
    pub call_id: CallId,
    /// The monitor.
    pub key: OpKey,
    /// What happened.
    pub event: WatchEvent,
    /// The watcher's own words (the first line of its output) or the executor's.
    pub detail: String,
}

enum Command {
    Submit(OpRequest, oneshot::Sender<Result<CallId, String>>),
    Cancel(OpKey, oneshot::Sender<Result<(), String>>),
    RunNow(OpKey, oneshot::Sender<Result<(), String>>),
}

/// A handle to a running executor. Dropping every handle stops it (running agents are killed).
#[derive(Clone)]
pub struct Executor {
    tx: mpsc::Sender<Command>,
}

impl Executor {
    /// Starts the executor task on the current tokio runtime, with the default options
    /// (watchers on), and makes this process the subreaper of agents' orphans (see
    /// [`crate::reaper`]).
    pub fn start(runner: Arc<Runner>) -> (Executor, mpsc::Receiver<Event>) {
        let (executor, events, _notes) = Executor::start_with(runner, ExecOptions::default());
        (executor, events)
    }

    /// Starts the executor task with these options; also returns the watch notes (dropped
    /// when not read: at most [`MAX_PENDING_WATCH_NOTES`] wait).
    pub fn start_with(
        runner: Arc<Runner>,
        options: ExecOptions,
    ) -> (Executor, mpsc::Receiver<Event>, mpsc::Receiver<WatchNote>) {
        // Without subreaping the executor still works; orphans then go to init as usual.
        if reaper::become_subreaper().is_ok() {
            let _ = reaper::spawn_reaper_task();
        }
        let (tx, rx) = mpsc::channel(MAX_PENDING_REQUESTS);
        let (events_tx, events_rx) = mpsc::channel(MAX_PENDING_EVENTS);
        let (notes_tx, notes_rx) = mpsc::channel(MAX_PENDING_WATCH_NOTES);
        tokio::spawn(drive(runner, options, rx, events_tx, notes_tx));
        (Executor { tx }, events_rx, notes_rx)
    }

    /// Runs a recurring operation now instead of at its next due time (see
    /// [`Input::RunNow`]); its result is reported as usual (when it changed).
    pub async fn run_now(&self, key: OpKey) -> Result<(), ExecError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::RunNow(key, reply))
            .await
            .map_err(|_| ExecError::Stopped)?;
        answer
            .await
            .map_err(|_| ExecError::Stopped)?
            .map_err(ExecError::Rejected)
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
    watch: Watchers,
}

/// The driver's side of watchers.
struct Watchers {
    /// Running watcher processes, by their monitor's call id.
    running: BTreeMap<CallId, RunningWatch>,
    /// Watchers asked for while their agent's capability is being learned.
    waiting: BTreeMap<CallId, OpRequest>,
    /// Known answers: has a watcher, and when that was learned.
    capable: BTreeMap<AgentId, (bool, Instant)>,
    /// Agents being asked.
    probing: std::collections::BTreeSet<AgentId>,
    /// Distinguishes a watcher from the one before it for the same monitor.
    next_seq: u64,
    done_tx: mpsc::UnboundedSender<(CallId, u64, OpResult)>,
    probe_tx: mpsc::UnboundedSender<(AgentId, bool)>,
    notes: mpsc::Sender<WatchNote>,
}

struct RunningWatch {
    seq: u64,
    key: OpKey,
    abort: oneshot::Sender<()>,
}

async fn drive(
    runner: Arc<Runner>,
    options: ExecOptions,
    mut rx: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    notes: mpsc::Sender<WatchNote>,
) {
    // Unbounded is safe here: at most one completion per running operation or watcher, and
    // one probe answer per agent in use; all bounded by the queue's resource limits.
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let (watch_done_tx, mut watch_done_rx) = mpsc::unbounded_channel();
    let (probe_tx, mut probe_rx) = mpsc::unbounded_channel();
    let mut d = Driver {
        runner,
        queue: ExecQueue::with_watch(options.watch),
        origin: Instant::now(),
        timer: None,
        aborts: BTreeMap::new(),
        done_tx,
        events,
        watch: Watchers {
            running: BTreeMap::new(),
            waiting: BTreeMap::new(),
            capable: BTreeMap::new(),
            probing: std::collections::BTreeSet::new(),
            next_seq: 0,
            done_tx: watch_done_tx,
            probe_tx,
            notes,
        },
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
                    let _ = reply.send(refusal(&out));
                    d.apply(out).await;
                }
                Some(Command::RunNow(key, reply)) => {
                    let out = d.handle(Input::RunNow(key));
                    let _ = reply.send(refusal(&out));
                    d.apply(out).await;
                }
                None => break,
            },
            Some((call_id, result)) = done_rx.recv() => {
                d.aborts.remove(&call_id);
                d.feed(Input::Finished { call_id, result }).await;
            }
            () = sleep_until(timer.unwrap_or_else(Instant::now)), if timer.is_some() => {
                d.timer = None;
                d.feed(Input::Tick).await;
            }
            Some((call_id, seq, result)) = watch_done_rx.recv() => {
                if let Some(end) = d.watch.ended(call_id, seq, &result) {
                    d.feed(Input::WatchEnded { call_id, end }).await;
                }
            }
            Some((agent, capable)) = probe_rx.recv() => {
                let unsupported = d.watch.learned(&d.runner, agent, capable);
                for call_id in unsupported {
                    d.feed(Input::WatchEnded { call_id, end: WatchEnd::Unsupported }).await;
                }
            }
        }
    }
    // Every handle is gone: cancel what still runs (their tasks kill the agents).
    for (_, abort) in std::mem::take(&mut d.aborts) {
        let _ = abort.send(());
    }
    for (call_id, w) in std::mem::take(&mut d.watch.running) {
        let _ = w.abort.send(());
        d.watch
            .note(call_id, w.key, WatchEvent::Stopped, "the executor stopped");
    }
}

/// The refusal among a queue's outputs, if any.
fn refusal(out: &[Output]) -> Result<(), String> {
    out.iter()
        .find_map(|o| match o {
            Output::Rejected { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .map_or(Ok(()), Err)
}

impl Driver {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn handle(&mut self, input: Input) -> Vec<Output> {
        let now = self.now_ms();
        self.queue.handle(now, input)
    }

    /// Handles an input and everything that follows from it.
    async fn feed(&mut self, input: Input) {
        let out = self.handle(input);
        self.apply(out).await;
    }

    /// Carries out the queue's outputs, and the inputs they lead to (a watcher the agent
    /// does not have is answered at once), until there are none.
    async fn apply(&mut self, outputs: Vec<Output>) {
        let mut pending = VecDeque::from(outputs);
        while let Some(o) = pending.pop_front() {
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
                Output::StartWatch { call_id, request } => {
                    if !self.watch.start(&self.runner, call_id, request) {
                        let end = WatchEnd::Unsupported;
                        pending.extend(self.handle(Input::WatchEnded { call_id, end }));
                    }
                }
                Output::StopWatch { call_id } => self.watch.stop(call_id),
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

impl Watchers {
    /// Starts a watcher for the monitor `request`, or asks its agent first. False if the
    /// agent is known to have none.
    fn start(&mut self, runner: &Arc<Runner>, call_id: CallId, request: OpRequest) -> bool {
        let agent = request.agent.clone();
        let known = self
            .capable
            .get(&agent)
            .filter(|(_, at)| at.elapsed() < WATCH_CAPABILITY_TTL)
            .map(|(capable, _)| *capable);
        match known {
            Some(capable) => {
                if capable {
                    self.spawn(runner, call_id, request);
                } else {
                    let detail = format!("{agent} has no watch action");
                    let end = WatchEvent::Ended(WatchEnd::Unsupported);
                    self.note(call_id, OpKey::of(&request), end, &detail);
                }
                capable
            }
            None => {
                self.waiting.insert(call_id, request);
                if self.probing.insert(agent.clone()) {
                    let runner = Arc::clone(runner);
                    let tx = self.probe_tx.clone();
                    tokio::spawn(async move {
                        // An agent that cannot be asked has no watcher; its monitor still runs.
                        let capable = runner.supports_watch(&agent).await.unwrap_or(false);
                        let _ = tx.send((agent, capable));
                    });
                }
                true
            }
        }
    }

    /// An agent's answer came: starts the watchers waiting for it; returns the call ids of
    /// those its agent does not have.
    fn learned(&mut self, runner: &Arc<Runner>, agent: AgentId, capable: bool) -> Vec<CallId> {
        self.probing.remove(&agent);
        self.capable
            .insert(agent.clone(), (capable, Instant::now()));
        let ids: Vec<CallId> = self
            .waiting
            .iter()
            .filter(|(_, r)| r.agent == agent)
            .map(|(id, _)| *id)
            .collect();
        let mut unsupported = Vec::new();
        for id in ids {
            let request = self.waiting.remove(&id).expect("listed above");
            if !self.start(runner, id, request) {
                unsupported.push(id);
            }
        }
        unsupported
    }

    fn spawn(&mut self, runner: &Arc<Runner>, call_id: CallId, monitor: OpRequest) {
        let mut request = monitor;
        request.action = WATCH_ACTION.to_string();
        request.timeout_ms = u64::try_from(WATCH_MAX_LIFETIME.as_millis()).unwrap_or(u64::MAX);
        let key = OpKey::of(&request);
        let (abort_tx, abort_rx) = oneshot::channel::<()>();
        self.next_seq += 1;
        let seq = self.next_seq;
        self.running.insert(
            call_id,
            RunningWatch {
                seq,
                key: key.clone(),
                abort: abort_tx,
            },
        );
        let runner = Arc::clone(runner);
        let done = self.done_tx.clone();
        tokio::spawn(async move {
            let cancel = async move {
                let _ = abort_rx.await;
            };
            let result = runner.run(&request, cancel).await;
            let _ = done.send((call_id, seq, result));
        });
        self.note(call_id, monitor_key(&key), WatchEvent::Started, "watching");
    }

    fn stop(&mut self, call_id: CallId) {
        self.waiting.remove(&call_id);
        if let Some(w) = self.running.remove(&call_id) {
            let _ = w.abort.send(());
            self.note(call_id, monitor_key(&w.key), WatchEvent::Stopped, "stopped");
        }
    }

    /// A watcher process ended: how, for the queue (`None` for one that was stopped or
    /// replaced meanwhile).
    fn ended(&mut self, call_id: CallId, seq: u64, result: &OpResult) -> Option<WatchEnd> {
        if self.running.get(&call_id)?.seq != seq {
            return None;
        }
        let w = self.running.remove(&call_id).expect("looked up above");
        let (end, detail) = classify(result);
        self.note(
            call_id,
            monitor_key(&w.key),
            WatchEvent::Ended(end),
            &detail,
        );
        Some(end)
    }

    fn note(&self, call_id: CallId, key: OpKey, event: WatchEvent, detail: &str) {
        let mut detail = detail.to_string();
        if detail.len() > MAX_WATCH_NOTE_LEN {
            let mut cut = MAX_WATCH_NOTE_LEN;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
        }
        let _ = self.notes.try_send(WatchNote {
            call_id,
            key,
            event,
            detail,
        });
    }
}

/// The monitor's key from its watcher's.
fn monitor_key(watch_key: &OpKey) -> OpKey {
    OpKey {
        action: "monitor".to_string(),
        ..watch_key.clone()
    }
}

/// How a watcher ended, and in whose words.
fn classify(r: &OpResult) -> (WatchEnd, String) {
    let said = r
        .stdout
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string);
    match (r.status, r.exit_code) {
        (ExecStatus::Timeout, _) => (
            WatchEnd::Expired,
            format!(
                "ran for its lifetime limit of {} s; replacing it",
                WATCH_MAX_LIFETIME.as_secs()
            ),
        ),
        (ExecStatus::Done, Some(0)) => (
            WatchEnd::Fired,
            said.unwrap_or_else(|| "exited without saying why".into()),
        ),
        (ExecStatus::Done, _) if r.rc == OcfRc::Unimplemented => (
            WatchEnd::Unsupported,
            "the agent does not implement watch".into(),
        ),
        _ => (
            WatchEnd::Failed,
            format!(
                "failed: {} [{}]{}",
                r.rc,
                r.status.as_str(),
                r.exit_reason
                    .as_deref()
                    .map(|why| format!(": {why}"))
                    .unwrap_or_default()
            ),
        ),
    }
}
