//! The event loop: the main loop owns the state machine, reads the link sockets itself,
//! takes requests from the IPC listener's tasks and results from the executor's, acts on the
//! node's outputs and sleeps until its next timer (one `timerfd`, [`crate::deadline`]). The
//! core never sees the clock: the loop passes microseconds since start.
//!
//! The state machine is [`tandem_node::Node`] (totem, the replicated CIB, the DC's
//! controller and this node's executor side); the loop adds the executor's results
//! ([`crate::agents`]) as inputs, writes the CIB with [`CibStore`] before acting on any later
//! output — or, for status-only changes, hands it to the writer thread
//! ([`crate::cibwriter`]) and goes on — and answers IPC clients when the node replies.
//! SIGTERM asks for a graceful shutdown (resources move away first); a second SIGTERM exits
//! at once. Either way the writer thread writes the last pending status change before the
//! process ends.
//!
//! Each turn takes one event: a datagram, an IPC request, an executor result or note, the
//! due timer, a failed status write's log line, or a signal. An idle node's thread wakes up only for these — once per
//! datagram and once per due deadline (no task and channel per socket, no timer re-filed
//! each turn), which is most of its idle CPU.
//! * **No event is lost between branches.** Every branch of the `select!` is cancel-safe:
//!   a datagram leaves its socket only in the poll that returns it ([`Links::recv`]), a
//!   channel message only when received, and the timer's expiry is read only when its
//!   branch wins ([`Deadline::wait`]); a fired timer whose branch lost stays readable for the
//!   next turn, and re-arming it for another deadline discards the stale expiry.
//! * **Fairness.** `select!` polls its branches in a random order, so a flood of datagrams
//!   cannot starve IPC, the executor or the timer; among the links, the one after the last
//!   that had a datagram is read first.
//! * **What bounds the work.** Datagrams wait in the kernel's socket receive buffer
//!   ([`SOCKET_BUFFER_BYTES`] asked for each link), not in the daemon: one is taken per
//!   turn, and beyond the buffer the kernel drops them, which totem handles as any loss
//!   (retransmission). IPC requests wait in a channel of [`MAX_QUEUED_REQUESTS`].
//! * **Timers.** The earliest deadline of the node and the cluster layer arms the one
//!   timer, re-armed only when that deadline changes; it never fires before the loop's
//!   clock reaches the deadline, and a deadline already past fires at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tandem_node::{ClientId, Node, NodeParams, NodeTimer, Now};
use tandem_totem::{Input, Level, NodeId, Output, Params, Time, TimerKind};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UdpSocket, UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::agents::{self, Command};
use crate::bench::BenchRun;
use crate::cibstore::CibStore;
use crate::cibwriter::CibWriter;
use crate::deadline::Deadline;
use crate::ipc::{self, Request, Response};
use crate::logger::Logger;
use crate::setup::{DaemonOptions, Setup, load, persist_ring_seq};

/// IPC requests waiting for the main loop.
const MAX_QUEUED_REQUESTS: usize = 64;
/// Longest an IPC client may take to send its request line.
const IPC_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The process group every daemon joins for `tandem` benchmarks.
pub const BENCH_GROUP: &str = "tandem-bench";

struct Packet {
    link: u8,
    from: SocketAddr,
    bytes: Vec<u8>,
}

type IpcJob = (Request, oneshot::Sender<Response>);

/// One deadline per timer of the cluster layer and of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Totem(TimerKind),
    Node(NodeTimer),
}

pub(crate) struct Daemon {
    pub(crate) setup: Setup,
    pub(crate) node: Node,
    start: Instant,
    timers: BTreeMap<Slot, Time>,
    store: CibWriter,
    exec: mpsc::Sender<Command>,
    clients: BTreeMap<ClientId, oneshot::Sender<Response>>,
    next_client: ClientId,
    /// The node finished a graceful shutdown.
    exiting: bool,
    sockets: BTreeMap<u8, Arc<UdpSocket>>,
    pub(crate) logger: Logger,
    pub(crate) bench: Option<BenchRun>,
    pub(crate) dropped_unlisted: u64,
    pub(crate) send_errors: u64,
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(opts: DaemonOptions) -> anyhow::Result<()> {
    // Before the runtime starts any thread: only this thread (the main loop's) runs realtime.
    let realtime = opts.realtime.then(crate::realtime::enable);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async_main(opts, realtime))
}

/// The log line saying how the main loop is scheduled.
fn realtime_line(realtime: Option<std::io::Result<()>>) -> (Level, String) {
    use crate::realtime::REALTIME_PRIORITY;
    match realtime {
        Some(Ok(())) => (
            Level::Notice,
            format!("Realtime scheduling: SCHED_RR priority {REALTIME_PRIORITY}"),
        ),
        Some(Err(e)) => (
            Level::Warning,
            format!(
                "Could not set realtime scheduling (SCHED_RR priority {REALTIME_PRIORITY}): {e}; \
                 running as an ordinary process, so a busy CPU may delay heartbeats and a live \
                 node may look dead to its peers"
            ),
        ),
        None => (
            Level::Notice,
            "Realtime scheduling not requested (--no-realtime)".into(),
        ),
    }
}

/// Microseconds since the Unix epoch (0 for a clock before it).
fn unix_now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn boot_id() -> u64 {
    // Milliseconds since the epoch (monotonic across restarts of a sane clock) in the high
    // bits, process id and sub-millisecond time in the low bits for uniqueness.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ((now.as_millis() as u64) << 20)
        ^ ((u64::from(std::process::id()) << 10) | u64::from(now.subsec_nanos() % 1024))
}

async fn async_main(
    opts: DaemonOptions,
    realtime: Option<std::io::Result<()>>,
) -> anyhow::Result<()> {
    let setup = load(&opts)?;
    let me = setup.me;
    let node_name = setup
        .cfg
        .node(me)
        .map(|n| n.display_name())
        .unwrap_or_default();
    let log_file = setup
        .cfg
        .logging
        .to_logfile
        .then(|| setup.cfg.logging.logfile.clone())
        .flatten();
    let (mut logger, problem) = Logger::new(
        node_name,
        setup.cfg.logging.to_stderr,
        log_file.as_deref(),
        setup.cfg.logging.debug,
        setup.cfg.logging.timestamp_hires,
    );
    if let Some(p) = problem {
        logger.say(Level::Warning, "MAIN", p);
    }
    for w in &setup.cfg.warnings {
        logger.say(Level::Warning, "MAIN", w.to_string());
    }
    logger.say(
        Level::Notice,
        "MAIN",
        format!(
            "Tandem cluster layer {} starting (node {me}, config {})",
            env!("CARGO_PKG_VERSION"),
            setup.config_path.display()
        ),
    );
    let params = Params::from_config(
        &setup.cfg,
        me,
        boot_id(),
        setup.authkey.clone(),
        setup.persisted_ring_seq,
    )
    .context("local node missing from the nodelist")?;
    let (level, line) = realtime_line(realtime);
    logger.say(level, "MAIN", line);
    let timing = params.timing;
    let source = if timing.tandem_default_token {
        "Tandem's default, no token in the configuration"
    } else {
        "configured"
    };
    logger.say(Level::Notice, "TOTEM", format!(
        "token {} ms (effective; {source}), consensus {} ms, join {} ms; transmit/receive security: XChaCha20-Poly1305, HKDF-SHA256",
        timing.token_ms, timing.consensus_ms, timing.join_ms
    ));
    let mut sockets = BTreeMap::new();
    for ((node, link), addr) in &setup.addrs {
        if *node != me {
            continue;
        }
        let sock = UdpSocket::bind(addr)
            .await
            .with_context(|| format!("cannot bind link {link} to {addr}"))?;
        logger.say(
            Level::Notice,
            "TOTEM",
            format!(
                "The network interface [{}] is now up (link {link}, port {}).",
                addr.ip(),
                addr.port()
            ),
        );
        if let Some(problem) = enlarge_buffers(&sock) {
            logger.say(Level::Warning, "TOTEM", problem);
        }
        sockets.insert(*link, Arc::new(sock));
    }
    std::fs::create_dir_all(&opts.run_dir)
        .with_context(|| format!("cannot create run directory {}", opts.run_dir.display()))?;
    let sock_path = ipc::socket_path(&opts.run_dir);
    if std::os::unix::net::UnixStream::connect(&sock_path).is_ok() {
        anyhow::bail!(
            "another tandem daemon is running with run directory {} (its socket answers)",
            opts.run_dir.display()
        );
    }
    let _ = std::fs::remove_file(&sock_path); // stale, from a daemon that died
    let listener = UnixListener::bind(&sock_path)
        .with_context(|| format!("cannot listen on {}", sock_path.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sock_path, std::fs::Permissions::from_mode(0o660))?;
    }
    let (ipc_tx, mut ipc_rx) = mpsc::channel::<IpcJob>(MAX_QUEUED_REQUESTS);
    tokio::spawn(accept_loop(listener, ipc_tx));
    let store = CibStore::open(&opts.state_dir)?;
    let cib = store.load()?;
    match &cib {
        Some(c) => logger.say(
            Level::Notice,
            "cib",
            format!(
                "Loaded the CIB (version {}) from {}",
                c.version,
                store.cib_path().display()
            ),
        ),
        None => logger.say(
            Level::Notice,
            "cib",
            "No CIB on disk: starting from an empty one (version 0.0.0) to take the cluster's"
                .into(),
        ),
    }
    let names = setup
        .cfg
        .nodes
        .iter()
        .map(|n| (n.nodeid, n.display_name()))
        .collect();
    let mut exec_config = tandem_exec::ExecConfig::default();
    if let Some(root) = &opts.ocf_root {
        exec_config.ocf_root = root.clone();
    }
    let (write_errors_tx, mut write_errors) = mpsc::unbounded_channel::<String>();
    let store =
        CibWriter::start(store, write_errors_tx).context("cannot start the CIB writer thread")?;
    let agents::Channels {
        commands: exec,
        results: mut exec_rx,
        notes: mut watch_rx,
    } = agents::start(exec_config, opts.in_process.clone());
    // The loop's time 0, and where on it the heartbeats fall: on the wall clock's multiples
    // of their interval, as on every node whose clock agrees (`Params::hello_phase_for`).
    let start = Instant::now();
    let mut params = params;
    params.hello_phase = params.hello_phase_for(unix_now_us());
    let mut d = Daemon {
        node: Node::new(NodeParams {
            totem: params,
            names,
            cib,
        }),
        setup,
        start,
        timers: BTreeMap::new(),
        store,
        exec,
        clients: BTreeMap::new(),
        next_client: 1,
        exiting: false,
        sockets,
        logger,
        bench: None,
        dropped_unlisted: 0,
        send_errors: 0,
    };
    d.input(Input::Start);
    d.input(Input::JoinGroup(BENCH_GROUP.into()));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // One listener for the whole loop: `tokio::signal::ctrl_c()` in the `select!` would
    // register a new one on every event (a measurable share of the idle CPU).
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut signalled = false;
    let mut deadline = Deadline::new(d.start).context("cannot create the main loop's timer")?;
    // The loop reads the link sockets itself (no task per socket, no channel): a datagram
    // costs one wake-up of the thread.
    let mut links = Links::new(&d.sockets);
    while !d.exiting {
        deadline
            .set(d.timers.values().min().copied())
            .context("cannot arm the main loop's timer")?;
        let stop = tokio::select! {
            p = links.recv() => { d.packet(p); false }
            Some((req, reply)) = ipc_rx.recv() => { d.request(req, reply); false }
            Some((call, outcome)) = exec_rx.recv() => {
                d.node_input(tandem_node::Input::ExecDone { call, outcome });
                false
            }
            Some(line) = write_errors.recv() => {
                d.logger.say(Level::Error, "cib", line);
                false
            }
            Some(note) = watch_rx.recv() => {
                let (level, text) = agents::note_line(&note);
                d.logger.say(level, "execd", text);
                false
            }
            r = deadline.wait() => {
                r.context("the main loop's timer failed")?;
                d.fire_timers();
                false
            }
            _ = term.recv() => true,
            _ = int.recv() => true,
        };
        if stop {
            if signalled {
                d.logger.say(
                    Level::Warning,
                    "MAIN",
                    "Second signal: exiting at once".into(),
                );
                break;
            }
            signalled = true;
            d.logger.say(
                Level::Notice,
                "MAIN",
                "Shutdown requested: moving resources away first (signal again to exit at once)"
                    .into(),
            );
            d.node_input(tandem_node::Input::Shutdown);
        }
    }
    // The last status-only changes still pending reach the disk before the process ends.
    let Daemon {
        store, mut logger, ..
    } = d;
    store.finish();
    while let Ok(line) = write_errors.try_recv() {
        logger.say(Level::Error, "cib", line);
    }
    logger.say(
        Level::Notice,
        "MAIN",
        "Tandem cluster layer shutting down".into(),
    );
    let _ = std::fs::remove_file(&sock_path);
    Ok(())
}

/// Socket buffer size asked for on every link socket (knet asks for 8 MiB too): bursts of
/// large messages must not overflow the kernel's default ~208 KiB.
const SOCKET_BUFFER_BYTES: usize = 8 << 20;

/// Raises the socket buffers: beyond `net.core.rmem_max` when we may (root), else as far as
/// the limit allows. Returns a warning if the buffers stay small.
fn enlarge_buffers(sock: &UdpSocket) -> Option<String> {
    use rustix::net::sockopt;
    let forced = sockopt::set_socket_recv_buffer_size_force(sock, SOCKET_BUFFER_BYTES).is_ok()
        && sockopt::set_socket_send_buffer_size_force(sock, SOCKET_BUFFER_BYTES).is_ok();
    if forced {
        return None;
    }
    let _ = sockopt::set_socket_recv_buffer_size(sock, SOCKET_BUFFER_BYTES);
    let _ = sockopt::set_socket_send_buffer_size(sock, SOCKET_BUFFER_BYTES);
    let got = sockopt::socket_recv_buffer_size(sock).unwrap_or(0);
    (got < SOCKET_BUFFER_BYTES).then(|| {
        format!("socket receive buffer is {got} bytes (asked {SOCKET_BUFFER_BYTES}); raise net.core.rmem_max for large messages")
    })
}

/// Receive errors skipped in a row on one socket before the loop lets other events in.
const MAX_RECV_ERRORS_IN_A_ROW: usize = 64;

/// This node's link sockets, read by the main loop itself.
struct Links {
    socks: Vec<(u8, Arc<UdpSocket>)>,
    /// The socket looked at first by the next receive: the one after the last that had a
    /// datagram, so a flood on one link cannot starve the others.
    next: usize,
    /// One datagram: a byte longer than the largest packet, so a longer one is seen as such
    /// (and refused by the cluster layer) rather than cut to a valid length.
    buf: Vec<u8>,
}

impl Links {
    fn new(sockets: &BTreeMap<u8, Arc<UdpSocket>>) -> Links {
        Links {
            socks: sockets.iter().map(|(l, s)| (*l, s.clone())).collect(),
            next: 0,
            buf: vec![0; tandem_totem::seal::MAX_PACKET_BYTES + 1],
        }
    }

    /// The next datagram of any link socket. Cancel-safe: a datagram is taken from its
    /// socket only in the poll that returns it, so a `select!` that picks another branch
    /// loses none (it stays in the kernel's socket buffer for the next turn).
    async fn recv(&mut self) -> Packet {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// A receive error (e.g. an ICMP port unreachable reported on the socket) is skipped, as
    /// a lost datagram is: each one is consumed by the call that reports it, so errors
    /// cannot make the loop spin. A socket that keeps failing yields to the loop's other
    /// events between bursts of [`MAX_RECV_ERRORS_IN_A_ROW`].
    fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Packet> {
        use std::task::Poll;
        let n = self.socks.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let (link, sock) = &self.socks[i];
            let mut errors = 0;
            loop {
                let mut rb = tokio::io::ReadBuf::new(&mut self.buf);
                match sock.poll_recv_from(cx, &mut rb) {
                    Poll::Ready(Ok(from)) => {
                        let bytes = rb.filled().to_vec();
                        self.next = (i + 1) % n;
                        return Poll::Ready(Packet {
                            link: *link,
                            from,
                            bytes,
                        });
                    }
                    Poll::Ready(Err(_)) if errors < MAX_RECV_ERRORS_IN_A_ROW => errors += 1,
                    Poll::Ready(Err(_)) => {
                        // Still failing: poll again once the loop has had its turn.
                        cx.waker().wake_by_ref();
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        }
        Poll::Pending
    }
}

async fn accept_loop(listener: UnixListener, tx: mpsc::Sender<IpcJob>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(serve(stream, tx.clone()));
    }
}

async fn serve(stream: UnixStream, tx: mpsc::Sender<IpcJob>) {
    let (r, mut w) = stream.into_split();
    // One byte more than the limit, so a longer line is seen as such rather than cut.
    let mut reader = BufReader::new(r).take(ipc::MAX_IPC_LINE as u64 + 1);
    let mut line = String::new();
    let read = tokio::time::timeout(IPC_READ_TIMEOUT, reader.read_line(&mut line)).await;
    let response = match read {
        Ok(Ok(n)) if n > 0 && n <= ipc::MAX_IPC_LINE => match ipc::decode_request(&line) {
            Ok(req) => {
                let (otx, orx) = oneshot::channel();
                if tx.send((req, otx)).await.is_err() {
                    return;
                }
                orx.await.unwrap_or(Response::Error {
                    message: "daemon is shutting down".into(),
                })
            }
            Err(message) => Response::Error { message },
        },
        Ok(Ok(n)) if n > ipc::MAX_IPC_LINE => Response::Error {
            message: format!(
                "request longer than the {} bytes accepted",
                ipc::MAX_IPC_LINE
            ),
        },
        _ => Response::Error {
            message: "no request received".into(),
        },
    };
    let _ = w.write_all(ipc::encode_response(response).as_bytes()).await;
}

impl Daemon {
    fn now(&self) -> Time {
        self.start.elapsed().as_micros() as Time
    }

    fn clock(&self) -> Now {
        let epoch_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Now::new(self.now(), epoch_s)
    }

    pub(crate) fn input(&mut self, input: Input) -> Vec<Output> {
        let rest = self.input_inner(input);
        self.bench_progress(&rest);
        rest
    }

    /// Feeds a cluster-layer input; returns deliveries of other groups and refusals.
    pub(crate) fn input_inner(&mut self, input: Input) -> Vec<Output> {
        self.node_input(tandem_node::Input::Totem(input))
    }

    /// Feeds the node and performs its outputs, in order; returns the cluster-layer
    /// outputs the caller may care about (deliveries of other groups, refusals).
    pub(crate) fn node_input(&mut self, input: tandem_node::Input) -> Vec<Output> {
        let now = self.clock();
        let outs = self.node.handle(now, input);
        let mut rest = Vec::new();
        for o in outs {
            if let Some(o) = self.act_node(o) {
                rest.push(o);
            }
        }
        rest
    }

    fn act_node(&mut self, o: tandem_node::Output) -> Option<Output> {
        use tandem_node::Output as N;
        match o {
            N::Totem(t) => return self.act(t),
            N::SetTimer { timer, at } => {
                self.timers.insert(Slot::Node(timer), at);
            }
            N::PersistCib(cib) => {
                if let Err(e) = self.store.save(&cib) {
                    self.logger.say(
                        Level::Error,
                        "cib",
                        format!("cannot write the CIB (version {}): {e:#}", cib.version),
                    );
                }
            }
            N::PersistStatus(cib) => self.store.save_later(cib),
            N::Exec { call, op } => {
                if let Err(e) = self.exec.try_send(Command::Run { call, op }) {
                    self.logger.say(
                        Level::Error,
                        "execd",
                        format!("the executor is not taking operations: {e}"),
                    );
                }
            }
            N::CancelExec { call } => {
                let _ = self.exec.try_send(Command::Cancel { call });
            }
            N::Reply { client, resp } => {
                if let Some(tx) = self.clients.remove(&client) {
                    let _ = tx.send(ipc_response(resp));
                }
            }
            N::Log(l) => self.logger.line(&l),
            N::Exit => self.exiting = true,
            N::Fence { node, action } => {
                // This daemon has no fencer: the fencing fails at once (the DC's transition
                // aborts; it asks again on the next run).
                self.logger.say(
                    Level::Error,
                    "controller",
                    format!("Cannot {action} {node}: this daemon has no fencer; the fencing fails"),
                );
                let _ = self.node_input(tandem_node::Input::FenceDone { node, ok: false });
            }
        }
        None
    }

    /// Performs one cluster-layer output; returns the ones the caller may care about
    /// (deliveries of other groups, refusals).
    fn act(&mut self, o: Output) -> Option<Output> {
        match o {
            Output::Send { to, link, bytes } => {
                if let (Some(sock), Some(addr)) =
                    (self.sockets.get(&link), self.setup.addrs.get(&(to, link)))
                    && sock.try_send_to(&bytes, *addr).is_err()
                {
                    self.send_errors += 1;
                }
                None
            }
            Output::SetTimer { timer, at } => {
                self.timers.insert(Slot::Totem(timer), at);
                None
            }
            Output::PersistRingSeq(seq) => {
                if let Err(e) = persist_ring_seq(&self.setup.ring_seq_file, seq) {
                    self.logger.say(
                        Level::Error,
                        "MAIN",
                        format!(
                            "cannot persist ring sequence to {}: {e}",
                            self.setup.ring_seq_file.display()
                        ),
                    );
                }
                None
            }
            Output::Log(l) => {
                self.logger.line(&l);
                None
            }
            Output::ViewInstalled(_)
            | Output::GroupChanged { .. }
            | Output::QuorumChanged { .. }
            | Output::LinkChanged { .. }
            | Output::Safe { .. } => None,
            o @ (Output::Deliver(_) | Output::Refused(_)) => Some(o),
        }
    }

    fn packet(&mut self, p: Packet) {
        let listed = self
            .setup
            .addrs
            .iter()
            .any(|((_, l), a)| *l == p.link && a.ip() == p.from.ip());
        if !listed {
            self.dropped_unlisted += 1; // block_unlisted_ips
            return;
        }
        self.input(Input::Packet {
            link: p.link,
            bytes: p.bytes,
        });
    }

    fn fire_timers(&mut self) {
        let now = self.now();
        let due: Vec<Slot> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            self.timers.remove(&k);
            match k {
                Slot::Totem(t) => {
                    self.input(Input::Timer(t));
                }
                Slot::Node(t) => {
                    self.node_input(tandem_node::Input::Timer(t));
                }
            }
        }
    }

    fn request(&mut self, req: Request, reply: oneshot::Sender<Response>) {
        let r = match req {
            Request::Status => Response::Status(Box::new(crate::status::status(self))),
            Request::Cmap { prefix } => Response::Cmap {
                entries: crate::status::cmap(self, prefix.as_deref()),
            },
            Request::SetExpectedVotes { votes } => {
                let outs = self.input(Input::SetExpectedVotes(votes));
                match outs.into_iter().find_map(|o| {
                    if let Output::Refused(r) = o {
                        Some(r)
                    } else {
                        None
                    }
                }) {
                    Some(r) => Response::Error {
                        message: r.to_string(),
                    },
                    None => Response::Done,
                }
            }
            Request::Bench {
                count,
                size,
                window,
            } => {
                if self.bench.is_some() {
                    Response::Error {
                        message: "a benchmark is already running".into(),
                    }
                } else {
                    self.bench = Some(BenchRun::new(count, size, window, reply));
                    self.bench_progress(&[]);
                    return;
                }
            }
            other => {
                let Some(req) = node_request(other) else {
                    let _ = reply.send(Response::Error {
                        message: "request not served by the node layer".into(),
                    });
                    return;
                };
                let client = self.next_client;
                self.next_client += 1;
                self.clients.insert(client, reply);
                self.node_input(tandem_node::Input::Request { client, req });
                return;
            }
        };
        let _ = reply.send(r);
    }

    pub(crate) fn me(&self) -> NodeId {
        self.setup.me
    }
}

/// An IPC request the node layer answers, in the node's terms.
fn node_request(r: Request) -> Option<tandem_node::Request> {
    use tandem_node::Request as N;
    Some(match r {
        Request::CibQuery => N::CibQuery,
        Request::CibCommit {
            base_admin_epoch,
            base_epoch,
            configuration,
        } => N::CibCommit {
            base_admin_epoch,
            base_epoch,
            configuration,
        },
        Request::CibReplace { xml } => N::CibReplace { xml },
        Request::AttrUpdate { node, name, value } => N::AttrUpdate { node, name, value },
        Request::Cleanup { resource, node } => N::Cleanup { resource, node },
        Request::ClusterStatus => N::ClusterStatus,
        Request::Shutdown => N::Shutdown,
        Request::Status
        | Request::Cmap { .. }
        | Request::SetExpectedVotes { .. }
        | Request::Bench { .. } => return None,
    })
}

/// The node's answer as the IPC protocol has it.
fn ipc_response(r: tandem_node::Response) -> Response {
    use tandem_node::Response as N;
    match r {
        N::Cib { xml } => Response::Cib { xml },
        N::Committed { version } => Response::Committed {
            admin_epoch: version.admin_epoch,
            epoch: version.epoch,
            num_updates: version.num_updates,
        },
        N::Done => Response::Done,
        N::Error { message } => Response::Error { message },
        N::Cluster(info) => Response::Cluster(info),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn socket() -> Arc<UdpSocket> {
        Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"))
    }

    #[tokio::test]
    async fn a_flood_on_one_link_does_not_starve_the_other() {
        let (a, b) = (socket().await, socket().await);
        let links: BTreeMap<u8, Arc<UdpSocket>> = [(0, a.clone()), (1, b.clone())].into();
        let mut links = Links::new(&links);
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        for i in 0..3u8 {
            sender
                .send_to(&[0, i], a.local_addr().expect("addr"))
                .expect("send");
        }
        sender
            .send_to(&[1, 0], b.local_addr().expect("addr"))
            .expect("send");
        let mut got = Vec::new();
        for _ in 0..4 {
            let p = tokio::time::timeout(Duration::from_secs(10), links.recv())
                .await
                .expect("a datagram is waiting");
            assert_eq!(p.link, p.bytes[0]);
            assert_eq!(p.from, sender.local_addr().expect("addr"));
            got.push(p.bytes);
        }
        // Link 1's datagram comes second, not after link 0's flood.
        assert_eq!(got, [vec![0, 0], vec![1, 0], vec![0, 1], vec![0, 2]]);
    }
}
