//! Crash safety of the replicated, persisted CIB with real daemons: three daemons on
//! 127.0.0.1-3, a writer committing a stream of configuration changes (each sets
//! `cluster-name` to `c<N>`, N counting up) through the daemons' sockets, and `kill -9` of
//! one daemon at a random moment of that stream, [`kills`] times (one node at a time, so a
//! quorate partition always exists). After every kill, once the survivors have seen the
//! node leave (as after a real crash and reboot), the daemon is started again on the same
//! state directory, and:
//! * it starts — its CIB on disk is never unreadable (a daemon refuses a damaged CIB and
//!   exits, which fails the test with its log);
//! * every node's CIB, the restarted one included once it rejoined, holds a change at least
//!   as new as the last one acknowledged before the kill — no acknowledged change is lost
//!   while quorum holds.
//!
//! `TANDEM_CRASH_KILLS` sets the number of kills (default 200); `TANDEM_CRASH_SEED` replays
//! the kill timings of a printed seed (the process scheduling still varies).

// A test of real processes: it owns the clock and waits.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Scratch;
use tandem_cib::Cib;
use tandem_daemon::ipc::{self, Request, Response};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");
const NODES: usize = 3;
/// Kills unless `TANDEM_CRASH_KILLS` says otherwise (the acceptance asks for at least 200).
const DEFAULT_KILLS: usize = 200;
/// The kill lands this long (uniformly random, milliseconds) after the writer's stream was
/// seen to progress.
const MAX_KILL_DELAY_MS: u64 = 400;
/// How long a cluster may take to (re)form and agree on a CIB on a busy machine.
const REJOIN_DEADLINE: Duration = Duration::from_secs(120);
/// How long the writer may go without an acknowledged commit before the test fails.
const PROGRESS_DEADLINE: Duration = Duration::from_secs(120);
/// Lines of each log a failure shows.
const TAIL_LINES: usize = 60;
/// "No node is being killed" in the shared victim slot.
const NO_VICTIM: usize = usize::MAX;

fn kills() -> usize {
    std::env::var("TANDEM_CRASH_KILLS")
        .map(|s| s.parse().unwrap())
        .unwrap_or(DEFAULT_KILLS)
}

fn seed() -> u64 {
    match std::env::var("TANDEM_CRASH_SEED") {
        Ok(s) => s.parse().unwrap(),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            (t.as_nanos() as u64) | 1
        }
    }
}

/// xorshift64*: reproducible kill timings from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn config(port: u16) -> String {
    let mut s = format!(
        "totem {{\n version: 2\n cluster_name: crash{port}\n token: 1000\n token_coefficient: 0\n interface {{\n  linknumber: 0\n  mcastport: {port}\n }}\n}}\nquorum {{\n provider: corosync_votequorum\n}}\nnodelist {{\n"
    );
    for i in 1..=NODES {
        s.push_str(&format!(
            " node {{\n  ring0_addr: 127.0.0.{i}\n  name: n{i}\n  nodeid: {i}\n }}\n"
        ));
    }
    s.push_str("}\nlogging {\n to_stderr: yes\n}\n");
    s
}

struct Cluster {
    dir: Scratch,
    procs: Vec<Option<Child>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.procs.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Cluster {
    fn new(port: u16) -> Cluster {
        let dir = Scratch::new("cib-crash");
        dir.write("corosync.conf", &config(port));
        let out = Command::new(TANDEM)
            .args(["keygen", "-k"])
            .arg(dir.path("authkey"))
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut c = Cluster {
            dir,
            procs: (0..NODES).map(|_| None).collect(),
        };
        for id in 1..=NODES {
            c.start(id);
        }
        c
    }

    fn run_dir(&self, id: usize) -> PathBuf {
        self.dir.path(&format!("n{id}/run"))
    }

    fn start(&mut self, id: usize) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path(&format!("n{id}.log")))
            .unwrap();
        let child = Command::new(TANDEM)
            .arg("--run-dir")
            .arg(self.run_dir(id))
            .arg("daemon")
            .arg("--config")
            .arg(self.dir.path("corosync.conf"))
            .arg("--authkey")
            .arg(self.dir.path("authkey"))
            .arg("--state-dir")
            .arg(self.dir.path(&format!("n{id}/state")))
            .arg("--node-id")
            .arg(id.to_string())
            .env("OCF_ROOT", self.dir.path("no-agents"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs[id - 1] = Some(child);
    }

    fn kill9(&mut self, id: usize) {
        let mut c = self.procs[id - 1].take().unwrap();
        c.kill().unwrap(); // SIGKILL
        c.wait().unwrap();
    }

    /// The ends of every node's log, for a failure message; the whole logs are kept in a
    /// directory the message names (the cluster's own directory goes with the test).
    fn all_logs(&self) -> String {
        let keep =
            std::env::temp_dir().join(format!("tandem-cib-crash-logs-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&keep);
        let mut out = format!("whole logs in {}\n", keep.display());
        for i in 1..=NODES {
            let log = self.log(i);
            let _ = std::fs::write(keep.join(format!("n{i}.log")), &log);
            let interesting: String = log
                .lines()
                .filter(|l| !l.contains("Configuration updated"))
                .collect::<Vec<_>>()
                .join("\n");
            out.push_str(&format!("--- n{i}.log\n{}\n", tail(&interesting)));
        }
        out
    }

    fn log(&self, id: usize) -> String {
        std::fs::read_to_string(self.dir.path(&format!("n{id}.log"))).unwrap_or_default()
    }

    /// Fails the test if node `id`'s daemon exited (a refused CIB, a crash).
    fn check_alive(&mut self, id: usize) {
        if let Some(status) = self.procs[id - 1].as_mut().unwrap().try_wait().unwrap() {
            panic!(
                "node {id}'s daemon exited ({status}); its log ends:\n{}",
                tail(&self.log(id))
            );
        }
    }

    /// Waits until node `id` answers with a CIB holding a change at least as new as
    /// `counter`, whatever the membership.
    fn wait_counter(&mut self, id: usize, counter: u64) {
        let start = Instant::now();
        loop {
            self.check_alive(id);
            if query(&self.run_dir(id)).is_some_and(|cib| counter_of(&cib) >= counter) {
                return;
            }
            if start.elapsed() > REJOIN_DEADLINE {
                panic!(
                    "survivor {id} lost acknowledged c{counter}: it has {:?}\n{}",
                    query(&self.run_dir(id)).map(|c| counter_of(&c)),
                    self.all_logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until node `id`'s CIB shows node `gone` out of the membership.
    fn wait_missed(&mut self, id: usize, gone: usize) {
        let start = Instant::now();
        let name = format!("n{gone}");
        loop {
            self.check_alive(id);
            let missed = query(&self.run_dir(id)).is_some_and(|cib| {
                cib.status
                    .nodes
                    .iter()
                    .any(|n| n.uname.as_deref() == Some(name.as_str()) && !n.in_membership())
            });
            if missed {
                return;
            }
            if start.elapsed() > REJOIN_DEADLINE {
                panic!(
                    "node {id} did not see n{gone} leave within {REJOIN_DEADLINE:?}\n{}",
                    self.all_logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until node `id` answers with a CIB of all members that holds a change at least
    /// as new as `counter`; returns its counter.
    fn wait_holds(&mut self, id: usize, counter: u64, what: &str) -> u64 {
        let start = Instant::now();
        loop {
            self.check_alive(id);
            if let Some(cib) = query(&self.run_dir(id)) {
                let members = cib
                    .status
                    .nodes
                    .iter()
                    .filter(|n| n.in_membership())
                    .count();
                let held = counter_of(&cib);
                if members == NODES && held >= counter {
                    return held;
                }
            }
            if start.elapsed() > REJOIN_DEADLINE {
                panic!(
                    "node {id} ({what}): no CIB with all members holding c{counter} within {REJOIN_DEADLINE:?}; it has {:?}\n{}",
                    query(&self.run_dir(id)).map(|c| (
                        counter_of(&c),
                        c.status.nodes.iter().filter(|n| n.in_membership()).count()
                    )),
                    self.all_logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

fn query(run_dir: &std::path::Path) -> Option<Cib> {
    match ipc::call(run_dir, &Request::CibQuery) {
        Ok(Response::Cib { xml }) => Cib::parse(&xml).ok(),
        _ => None,
    }
}

/// N of `cluster-name=cN` in the CIB, 0 if not set.
fn counter_of(cib: &Cib) -> u64 {
    cib.config
        .crm_config
        .iter()
        .flat_map(|s| s.pairs.iter())
        .find(|p| p.name == "cluster-name")
        .and_then(|p| p.value.as_deref()?.strip_prefix('c')?.parse().ok())
        .unwrap_or(0)
}

/// The configuration of `cib` with `cluster-name=c<n>` (and fencing off, so it verifies).
fn configuration_with(cib: &Cib, n: u64) -> String {
    let mut doc = cib.document().clone();
    let root = doc.root().unwrap();
    let conf = doc.child_named(root, "configuration").unwrap();
    let crm = doc.child_named(conf, "crm_config").unwrap();
    let set = match doc.child_named(crm, "cluster_property_set") {
        Some(s) => s,
        None => {
            let s =
                doc.create_element_with("cluster_property_set", &[("id", "cib-bootstrap-options")]);
            doc.append_child(crm, s);
            s
        }
    };
    for (id, name, value) in [
        ("o-se", "stonith-enabled", "false".to_string()),
        ("o-cn", "cluster-name", format!("c{n}")),
    ] {
        let existing = doc
            .children_named(set, "nvpair")
            .find(|&p| doc.attr(p, "name") == Some(name));
        match existing {
            Some(p) => {
                doc.set_attr(p, "value", &value);
            }
            None => {
                let p = doc.create_element_with(
                    "nvpair",
                    &[("id", id), ("name", name), ("value", &value)],
                );
                doc.append_child(set, p);
            }
        }
    }
    doc.node_to_pretty_string(conf)
}

/// Shared between the writer and the test.
struct Stream {
    stop: AtomicBool,
    /// The node being killed and restarted, or [`NO_VICTIM`].
    victim: AtomicUsize,
    /// The highest counter a commit of which was acknowledged.
    acked: AtomicU64,
    commits: AtomicU64,
    refused: AtomicU64,
}

/// Commits `cluster-name=c<N>` for N = 1, 2, ... through a node that is not the victim,
/// reading the base version from it first. Only `Committed` counts as acknowledged.
fn writer(runs: Vec<PathBuf>, s: Arc<Stream>) {
    let mut next = 1u64;
    let mut turn = 0usize;
    while !s.stop.load(Ordering::SeqCst) {
        turn += 1;
        let id = turn % NODES;
        if id == s.victim.load(Ordering::SeqCst).wrapping_sub(1) {
            continue;
        }
        let Some(base) = query(&runs[id]) else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let req = Request::CibCommit {
            base_admin_epoch: base.version.admin_epoch,
            base_epoch: base.version.epoch,
            configuration: configuration_with(&base, next),
        };
        match ipc::call_with_timeout(&runs[id], &req, Duration::from_secs(30)) {
            Ok(Response::Committed { .. }) => {
                s.acked.fetch_max(next, Ordering::SeqCst);
                s.commits.fetch_add(1, Ordering::SeqCst);
                next += 1;
            }
            Ok(Response::Error { .. }) => {
                s.refused.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => std::thread::sleep(Duration::from_millis(20)), // killed meanwhile, reforming
        }
    }
}

/// Waits until the writer acknowledged a commit beyond `after`.
fn wait_progress(s: &Stream, after: u64, c: &mut Cluster) {
    let start = Instant::now();
    while s.acked.load(Ordering::SeqCst) <= after {
        assert!(
            start.elapsed() < PROGRESS_DEADLINE,
            "no commit acknowledged beyond c{after} within {PROGRESS_DEADLINE:?}\n{}",
            (1..=NODES)
                .map(|i| format!("--- n{i}\n{}\n", tail(&c.log(i))))
                .collect::<String>()
        );
        for id in 1..=NODES {
            if c.procs[id - 1].is_some() {
                c.check_alive(id);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill9_during_a_stream_of_commits_never_loses_an_acknowledged_change() {
    let kills = kills();
    let seed = seed();
    eprintln!("{kills} kills, timings from TANDEM_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let mut c = Cluster::new(16645);
    for id in 1..=NODES {
        c.wait_holds(id, 0, "formation");
    }
    let stream = Arc::new(Stream {
        stop: AtomicBool::new(false),
        victim: AtomicUsize::new(NO_VICTIM),
        acked: AtomicU64::new(0),
        commits: AtomicU64::new(0),
        refused: AtomicU64::new(0),
    });
    let runs: Vec<PathBuf> = (1..=NODES).map(|id| c.run_dir(id)).collect();
    let w = {
        let s = stream.clone();
        std::thread::spawn(move || writer(runs, s))
    };
    let started = Instant::now();
    for k in 0..kills {
        let victim = k % NODES + 1;
        wait_progress(&stream, stream.acked.load(Ordering::SeqCst), &mut c);
        std::thread::sleep(Duration::from_millis(rng.next() % MAX_KILL_DELAY_MS));
        stream.victim.store(victim, Ordering::SeqCst);
        c.kill9(victim);
        let acked = stream.acked.load(Ordering::SeqCst);
        // The survivors form a quorate partition that keeps every acknowledged change, and
        // see the victim gone before it comes back (as after a real crash and reboot).
        for id in (1..=NODES).filter(|&i| i != victim) {
            c.wait_counter(id, acked);
            c.wait_missed(id, victim);
        }
        c.start(victim);
        for id in 1..=NODES {
            c.wait_holds(
                id,
                acked,
                if id == victim {
                    "restarted"
                } else {
                    "survivor"
                },
            );
        }
        stream.victim.store(NO_VICTIM, Ordering::SeqCst);
    }
    stream.stop.store(true, Ordering::SeqCst);
    w.join().unwrap();
    eprintln!(
        "{kills} kills in {:.0} s: {} commits acknowledged, {} refused (stale base while a node rejoined), last c{}",
        started.elapsed().as_secs_f64(),
        stream.commits.load(Ordering::SeqCst),
        stream.refused.load(Ordering::SeqCst),
        stream.acked.load(Ordering::SeqCst)
    );
}
