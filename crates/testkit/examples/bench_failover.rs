//! `bench/failover`: issue 7's failover benchmark on a real (virtual) network — three
//! `tandem daemon`s in network namespaces at Tandem's default timing (no `token` in
//! corosync.conf), the testkit's example group (VIP `ocf:tandem:IPaddr` + web server
//! `ocf:tandem:process`, stickiness 100, fencing off), and a prober in the client namespace
//! opening a TCP connection to the VIP every 20 ms (the web server answers with its node's
//! name).
//!
//! ```text
//! bench_failover --tandem PATH [--trials N] [--starts N] [--idle S] [--soak S] [--only LIST]
//!                [--logs DIR] [--probe-read MS]
//!   LIST: comma-separated of kill, isolate, vipdel10, vipdel1, standby, start, idle, soak
//! ```
//!
//! Experiments (each trial starts from a steady cluster: the VIP answered from one node for
//! [`STEADY`]; the time is from the fault to the first probe answered as the experiment
//! wants, so it carries the probes' resolution — the interval, or the connect timeout while
//! the VIP points at a dead machine). The probes are the testkit's fast ones
//! (`ProbeConfig::fast`: connect timeout 30 ms, read timeout 100 ms, below TCP's minimum
//! retransmission timeout, so a connection an outage catches open fails instead of
//! answering late; `--probe-read MS` sets another read timeout):
//! * `kill`: SIGKILL to every process of the node answering (daemon, agents, web server;
//!   its kernel keeps the VIP address) → first answer from another node. The node is then
//!   powered off (addresses forgotten, as a reboot does) and booted again.
//! * `isolate`: every cable of that node pulled → first answer from another node; then the
//!   cables go back in (the node had stopped its resources when it lost quorum).
//! * `vipdel10` / `vipdel1`: `ip addr del VIP` on that node with the VIP's monitor at 10 s /
//!   1 s → the first answer after the outage it causes (the watcher notices; the group is
//!   restarted in place): the first answered probe started after the deletion, once a
//!   probe that was open at the deletion or started after it failed
//!   (`tandem_testkit::probe::recovery`); a trial in which no probe failed is an error
//!   ("the probes did not see the outage"), not a time. Then `resource cleanup`.
//! * `standby`: `tandem node standby NODE` → first answer from another node; then `node
//!   online`.
//! * `start`: every daemon stopped, then started together (the configuration is in each
//!   node's CIB on disk, as after a reboot of the whole cluster) → first answer.
//! * `idle`: RSS of each daemon, and CPU over the idle period of each node's processes
//!   (daemon, agents it ran and reaped, services), with the prober stopped.
//! * `soak`: a fresh cluster, every node's packets impaired (2 % loss, 20 ms ± 20 ms delay),
//!   both cores kept busy by two spinning processes; the prober (with timeouts long enough
//!   for TCP to repair a lost packet) runs throughout. Reported: changes of the answering
//!   node, outages, membership changes and resource operations in the logs.
//!
//! Everything is torn down at the end, also on error (the testkit's `Drop`s; the spinners
//! are killed by their guard).

#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tandem_testkit::config::TANDEM_DEFAULT_TOKEN;
use tandem_testkit::netns::{self, VIP_RSC};
use tandem_testkit::probe::{self, Answer, ProbeConfig, Prober, Recovery, Sample};
use tandem_testkit::{Impairment, NetSpec, NetnsCluster, procs};

/// The VIP answered from one node for this long before a fault.
const STEADY: Duration = Duration::from_millis(1500);
/// How long one experiment may take before it counts as failed.
const LIMIT: Duration = Duration::from_secs(30);
/// Probes during the soak: long enough for TCP to retransmit a lost SYN (1 s) or segment,
/// so a single lost packet is not counted as an outage.
const SOAK_TIMEOUT: Duration = Duration::from_secs(3);
/// The soak's impairment of every node's packets.
const SOAK_LOSS_PCT: u8 = 2;
const SOAK_DELAY: Duration = Duration::from_millis(20);
const SOAK_JITTER: Duration = Duration::from_millis(20);
/// Clock ticks per second in /proc/PID/stat (USER_HZ, 100 on Linux whatever the kernel's HZ).
const USER_HZ: f64 = 100.0;
/// Spinning processes during the soak (one per core of the project's machine).
const SPINNERS: usize = 2;

struct Args {
    tandem: PathBuf,
    trials: usize,
    starts: usize,
    idle: Duration,
    soak: Duration,
    only: Vec<String>,
    /// Where to copy the daemons' logs before teardown.
    logs: Option<PathBuf>,
    /// The timed probes' read timeout, if not the fast probes' own.
    probe_read: Option<Duration>,
}

const EXPERIMENTS: [&str; 8] = [
    "kill", "isolate", "vipdel10", "vipdel1", "standby", "start", "idle", "soak",
];

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        tandem: PathBuf::new(),
        trials: 10,
        starts: 10,
        idle: Duration::from_secs(60),
        soak: Duration::from_secs(600),
        only: EXPERIMENTS.iter().map(|s| s.to_string()).collect(),
        logs: None,
        probe_read: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--tandem" => a.tandem = PathBuf::from(value()?),
            "--trials" => a.trials = value()?.parse().context("--trials: a number")?,
            "--starts" => a.starts = value()?.parse().context("--starts: a number")?,
            "--idle" => a.idle = Duration::from_secs(value()?.parse().context("--idle: seconds")?),
            "--soak" => a.soak = Duration::from_secs(value()?.parse().context("--soak: seconds")?),
            "--only" => {
                a.only = value()?.split(',').map(str::to_string).collect();
                if let Some(bad) = a.only.iter().find(|e| !EXPERIMENTS.contains(&e.as_str())) {
                    bail!(
                        "--only: unknown experiment {bad} (known: {})",
                        EXPERIMENTS.join(", ")
                    );
                }
            }
            "--logs" => a.logs = Some(PathBuf::from(value()?)),
            "--probe-read" => {
                let ms = value()?.parse().context("--probe-read: milliseconds")?;
                a.probe_read = Some(Duration::from_millis(ms));
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if a.tandem.as_os_str().is_empty() {
        bail!("--tandem PATH is required");
    }
    Ok(a)
}

fn main() -> anyhow::Result<()> {
    let a = parse_args()?;
    if let Err(why) = netns::can_build() {
        bail!("cannot run: {why}");
    }
    let wants = |e: &str| a.only.iter().any(|o| o == e);
    let timed_names = [
        "kill", "isolate", "vipdel10", "vipdel1", "standby", "start", "idle",
    ];
    if timed_names.iter().any(|e| wants(e)) {
        let mut c = cluster(&a.tandem, "bench")?;
        let r = timed(&mut c, &a);
        // The logs are kept whether the experiments succeeded or not.
        save_logs(&c, a.logs.as_deref(), "bench")?;
        r?;
    }
    if wants("soak") {
        soak(&a.tandem, a.soak, a.logs.as_deref())?;
    }
    Ok(())
}

/// The experiments on one cluster, in order.
fn timed(c: &mut NetnsCluster, a: &Args) -> anyhow::Result<()> {
    let wants = |e: &str| a.only.iter().any(|o| o == e);
    let p = fast_prober(c, a.probe_read)?;
    for (name, exp) in [
        ("kill", Exp::Kill),
        ("isolate", Exp::Isolate),
        ("vipdel10", Exp::VipDel(10)),
        ("vipdel1", Exp::VipDel(1)),
        ("standby", Exp::Standby),
    ] {
        if wants(name) {
            trials(c, &p, name, exp, a.trials)?;
        }
    }
    if wants("start") {
        starts(c, &p, a.starts)?;
    }
    drop(p);
    if wants("idle") {
        idle(c, a.idle)?;
    }
    Ok(())
}

/// A running 3-node cluster at Tandem's default timing with the example group.
fn cluster(tandem: &Path, tag: &str) -> anyhow::Result<NetnsCluster> {
    let mut spec = NetSpec::new(tandem, 3, tag);
    spec.token_ms = TANDEM_DEFAULT_TOKEN;
    let c = NetnsCluster::up(&spec)?;
    println!(
        "# cluster {} (3 nodes, Tandem's default timing)",
        c.dir().display()
    );
    Ok(c)
}

fn fast_prober(c: &NetnsCluster, read: Option<Duration>) -> anyhow::Result<Prober> {
    let mut cfg = ProbeConfig::fast(netns::web_addr(), Some(&c.client_ns()));
    if let Some(read) = read {
        cfg.read_timeout = read;
    }
    Prober::start(cfg)
}

#[derive(Clone, Copy, Debug)]
enum Exp {
    Kill,
    Isolate,
    /// Monitor interval of the VIP, seconds.
    VipDel(u32),
    Standby,
}

/// Waits until the probes have seen answers only, all from one node, for [`STEADY`]; that
/// node's number.
fn steady(c: &NetnsCluster, p: &Prober) -> anyhow::Result<usize> {
    let s = p.wait_until("a steady service", Duration::from_secs(120), |s| {
        steady_node(s, p.now()).is_some()
    })?;
    let name = steady_node(&s, p.now()).expect("just seen");
    c.index_of(&name)
        .with_context(|| format!("{name} is not a node of this cluster"))
}

fn steady_node(s: &[Sample], now: Duration) -> Option<String> {
    let from = now.checked_sub(STEADY)?;
    let recent: Vec<&Sample> = s.iter().filter(|x| x.at >= from).collect();
    let first = recent.first()?.node()?.to_string();
    // At least one probe per 100 ms of the window, every one answered by the same node.
    let enough = recent.len() as u128 >= STEADY.as_millis() / 100;
    (enough && recent.iter().all(|x| x.node() == Some(first.as_str()))).then_some(first)
}

fn set_vip_monitor(c: &NetnsCluster, interval_s: u32) -> anyhow::Result<()> {
    let crm = format!(
        "primitive {VIP_RSC} ocf:tandem:IPaddr params ip={} cidr_netmask={} op monitor interval={interval_s}s timeout=20s\n",
        netns::vip(),
        netns::PREFIX_LEN
    );
    c.configure(1, &crm)
}

fn trials(c: &mut NetnsCluster, p: &Prober, name: &str, exp: Exp, n: usize) -> anyhow::Result<()> {
    if let Exp::VipDel(s) = exp {
        set_vip_monitor(c, s)?;
    }
    let mut times = Vec::new();
    for t in 1..=n {
        let on = steady(c, p)?;
        let victim = c.name(on);
        let t0 = p.now();
        let started = Instant::now();
        fault(c, exp, on)?;
        let applied = p.now();
        let fault_ms = started.elapsed().as_secs_f64() * 1000.0;
        let at = match exp {
            Exp::VipDel(_) => wait_recovered(p, t0, applied)?,
            _ => p
                .wait_until(
                    &format!("an answer from a node other than {victim}"),
                    LIMIT,
                    |s| probe::first_answer(s, t0, |n| n != victim).is_some(),
                )
                .map(|s| {
                    probe::first_answer(&s, t0, |n| n != victim)
                        .expect("seen")
                        .at
                })?,
        };
        let ms = (at - t0).as_secs_f64() * 1000.0;
        times.push(ms);
        let to = p
            .samples()
            .iter()
            .find(|s| s.at >= at)
            .and_then(|s| s.node().map(str::to_string))
            .unwrap_or_default();
        println!(
            "{name} trial {t}: {victim} -> {to} in {ms:.0} ms (fault applied in {fault_ms:.0} ms){}",
            caught_open(&p.samples(), t0)
        );
        restore(c, exp, on)?;
    }
    if let Exp::VipDel(_) = exp {
        set_vip_monitor(c, 10)?;
    }
    report(name, &times);
    Ok(())
}

fn fault(c: &mut NetnsCluster, exp: Exp, on: usize) -> anyhow::Result<()> {
    match exp {
        Exp::Kill => c.crash(on),
        Exp::Isolate => c.isolate(on),
        Exp::VipDel(_) => {
            let cidr = format!("{}/{}", netns::vip(), netns::PREFIX_LEN);
            tandem_testkit::cmd::ip(&["-n", &c.node_ns(on), "addr", "del", &cidr, "dev", "eth0"])
                .map(|_| ())
        }
        Exp::Standby => c.tool_ok(1, &["node", "standby", &c.name(on)]).map(|_| ()),
    }
}

/// The first answered probe after the outage caused by the fault that began at `t0` and
/// was in effect at `applied` ([`probe::recovery`]).
fn wait_recovered(p: &Prober, t0: Duration, applied: Duration) -> anyhow::Result<Duration> {
    let s = p.wait_until("the VIP to answer again", LIMIT, |s| {
        probe::recovery(s, t0, applied) != Recovery::Pending
    })?;
    match probe::recovery(&s, t0, applied) {
        Recovery::At(at) => Ok(at),
        other => {
            let longest = s
                .iter()
                .filter(|x| x.end() >= t0 && x.at <= applied)
                .max_by_key(|x| x.took)
                .map(|x| format!("{:?} after {} ms", x.answer, x.took.as_millis()))
                .unwrap_or_default();
            bail!(
                "the probes did not see the outage ({other:?}; the longest probe open at the fault: {longest}); the probes saw: {}",
                probe::summary(&s)
            )
        }
    }
}

/// A note for the trial's line when the outage's first failed probe had started before the
/// fault: the outage caught its connection open.
fn caught_open(s: &[Sample], t0: Duration) -> String {
    s.iter()
        .find(|x| x.node().is_none() && x.end() >= t0)
        .filter(|x| x.at < t0)
        .map(|x| match &x.answer {
            Answer::Failed(f) => format!(
                " [the probe open at the fault failed: {} after {} ms]",
                f.name(),
                x.took.as_millis()
            ),
            Answer::Node(_) => String::new(),
        })
        .unwrap_or_default()
}

fn restore(c: &mut NetnsCluster, exp: Exp, on: usize) -> anyhow::Result<()> {
    match exp {
        Exp::Kill => {
            c.power_off(on)?;
            c.boot(on)?;
            c.wait_view(&[1, 2, 3], LIMIT)
        }
        Exp::Isolate => {
            c.heal_node(on)?;
            c.wait_view(&[1, 2, 3], LIMIT)
        }
        Exp::VipDel(_) => c.tool_ok(1, &["resource", "cleanup", VIP_RSC]).map(|_| ()),
        Exp::Standby => c.tool_ok(1, &["node", "online", &c.name(on)]).map(|_| ()),
    }
}

/// Every daemon stopped (SIGTERM, graceful), then all started together → first answer.
fn starts(c: &mut NetnsCluster, p: &Prober, n: usize) -> anyhow::Result<()> {
    let mut times = Vec::new();
    for t in 1..=n {
        steady(c, p)?;
        for i in 1..=3 {
            c.stop(i);
        }
        // The last node stopped its resources; wait until nothing answers.
        let quiet = p.now();
        p.wait_until("the service to stop", LIMIT, |s| {
            s.iter().any(|x| x.at >= quiet && x.node().is_none())
        })?;
        let t0 = p.now();
        c.start_all()?;
        let s = p.wait_until("the VIP to answer after the start", LIMIT, |s| {
            probe::first_answer(s, t0, |_| true).is_some()
        })?;
        let at = probe::first_answer(&s, t0, |_| true).expect("seen").at;
        let ms = (at - t0).as_secs_f64() * 1000.0;
        times.push(ms);
        println!("start trial {t}: daemons started -> VIP answering in {ms:.0} ms");
        c.wait_view(&[1, 2, 3], LIMIT)?;
    }
    report("start", &times);
    Ok(())
}

/// (utime + stime) of `pid`, and (cutime + cstime): its reaped children's.
fn cpu_ticks(pid: i32) -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return (0, 0);
    };
    let f: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, r)| {
            r.split_whitespace()
                .map(|x| x.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    // After the name: state is index 0; utime 11, stime 12, cutime 13, cstime 14.
    let g = |i: usize| f.get(i).copied().unwrap_or(0);
    (g(11) + g(12), g(13) + g(14))
}

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// All CPU ticks of node `i`'s processes: each marked process's own, plus what the daemon
/// reaped (agents, watchers).
fn node_ticks(c: &NetnsCluster, i: usize) -> (u64, u64) {
    let daemon = c.pid(i).and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    let pids = procs::marked(c.dir(), Some(&c.name(i)));
    let own: u64 = pids.iter().map(|&p| cpu_ticks(p).0).sum();
    let (d, reaped) = cpu_ticks(daemon);
    (d, own + reaped)
}

fn idle(c: &mut NetnsCluster, period: Duration) -> anyhow::Result<()> {
    c.wait_view(&[1, 2, 3], LIMIT)?;
    // Let the last trial's recovery and probes of a rejoined node finish.
    std::thread::sleep(Duration::from_secs(10));
    let hz = USER_HZ;
    let before: Vec<(u64, u64)> = (1..=3).map(|i| node_ticks(c, i)).collect();
    let t = Instant::now();
    std::thread::sleep(period);
    let wall = t.elapsed().as_secs_f64();
    for i in 1..=3 {
        let (d0, n0) = before[i - 1];
        let (d1, n1) = node_ticks(c, i);
        let pct = |a: u64, b: u64| b.saturating_sub(a) as f64 / hz / wall * 100.0;
        let pid = c.pid(i).and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
        println!(
            "idle {}: daemon RSS {:.1} MiB, CPU {:.3} % of a core (daemon alone {:.3} %) over {wall:.0} s",
            c.name(i),
            rss_kib(pid) as f64 / 1024.0,
            pct(n0, n1),
            pct(d0, d1)
        );
    }
    Ok(())
}

/// Spinning processes, killed when dropped.
struct Spinners(Vec<Child>);

impl Spinners {
    fn start(n: usize) -> anyhow::Result<Spinners> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(
                Command::new("sh")
                    .args(["-c", "while :; do :; done"])
                    .stdin(Stdio::null())
                    .spawn()
                    .context("cannot start a spinning process")?,
            );
        }
        Ok(Spinners(v))
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Lines of node `i`'s log containing `what`.
fn log_count(c: &NetnsCluster, i: usize, what: &str) -> usize {
    std::fs::read_to_string(c.log_path(i))
        .map(|s| s.lines().filter(|l| l.contains(what)).count())
        .unwrap_or(0)
}

/// Copies every node's log to `DIR/TAG-nodeI.log`.
fn save_logs(c: &NetnsCluster, dir: Option<&Path>, tag: &str) -> anyhow::Result<()> {
    let Some(dir) = dir else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for i in 1..=c.nodes() {
        let to = dir.join(format!("{tag}-{}.log", c.name(i)));
        std::fs::copy(c.log_path(i), &to)
            .with_context(|| format!("cannot copy the log to {}", to.display()))?;
    }
    Ok(())
}

fn soak(tandem: &Path, period: Duration, logs: Option<&Path>) -> anyhow::Result<()> {
    let mut c = cluster(tandem, "soak")?;
    let mut cfg = ProbeConfig::new(netns::web_addr(), Some(&c.client_ns()));
    cfg.connect_timeout = SOAK_TIMEOUT;
    cfg.read_timeout = SOAK_TIMEOUT;
    let p = Prober::start(cfg)?;
    steady(&c, &p)?;
    let imp = Impairment {
        loss_pct: SOAK_LOSS_PCT,
        delay: SOAK_DELAY,
        jitter: SOAK_JITTER,
    };
    for i in 1..=3 {
        c.impair(i, imp)?;
    }
    let memberships: Vec<usize> = (1..=3)
        .map(|i| log_count(&c, i, "A new membership"))
        .collect();
    let ops: Vec<usize> = (1..=3).map(|i| log_count(&c, i, "Initiating")).collect();
    let t0 = p.now();
    let spin = Spinners::start(SPINNERS)?;
    println!(
        "soak: {} s, every node's packets {SOAK_LOSS_PCT} % lost and delayed {} ms ± {} ms, {SPINNERS} spinning processes",
        period.as_secs(),
        SOAK_DELAY.as_millis(),
        SOAK_JITTER.as_millis()
    );
    std::thread::sleep(period);
    drop(spin);
    let samples: Vec<Sample> = p.stop().into_iter().filter(|s| s.at >= t0).collect();
    let changes = probe::changes(&samples).len().saturating_sub(1);
    let outs = probe::outages(&samples);
    let worst = outs
        .iter()
        .filter_map(probe::Outage::duration)
        .max()
        .unwrap_or_default();
    let new_views: usize = (1..=3)
        .map(|i| log_count(&c, i, "A new membership") - memberships[i - 1])
        .sum();
    let new_ops: usize = (1..=3)
        .map(|i| log_count(&c, i, "Initiating") - ops[i - 1])
        .sum();
    println!(
        "soak: {} probes, {} answered; answering node changed {changes} times; {} outages (longest {} ms); {new_views} membership changes and {new_ops} operations initiated (all nodes' logs; recurring monitors are started once, so 0 when nothing moved)",
        samples.len(),
        samples.iter().filter(|s| s.node().is_some()).count(),
        outs.len(),
        worst.as_millis()
    );
    println!(
        "soak: false failovers (answering node changes + outages): {}",
        changes + outs.len()
    );
    save_logs(&c, logs, "soak")?;
    c.teardown()
}

fn report(name: &str, ms: &[f64]) {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return;
    }
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    println!(
        "RESULT {name}: n={} min={:.0} median={median:.0} max={:.0} ms",
        v.len(),
        v[0],
        v[v.len() - 1]
    );
}
