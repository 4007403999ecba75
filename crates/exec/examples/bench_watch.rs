//! Time from `ip addr del` of a floating IP to the executor's failed monitor result, through
//! the executor exactly as the daemon runs it: `bench/watch.sh` runs this inside a network
//! namespace, with Tandem's agents installed under OCF_ROOT.
//!
//! ```text
//! bench_watch OCF_ROOT TRIALS NIC IP MODE:INTERVAL_MS...
//!   MODE watch: watchers on (the default); poll: watchers off (the monitor alone)
//! ```
//!
//! Each trial: start the address, start a recurring monitor, wait until its first result
//! (and, with watchers, until the watcher runs, plus 200 ms for it to subscribe; without, a
//! delay that spreads the deletions evenly over the monitor's interval), then delete the
//! address with `ip addr del` and time until the monitor reports "not running". Prints the
//! median, mean, p90, min and max in milliseconds per mode.
// A benchmark driver: it reads the clock.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tandem_exec::{
    AgentId, Event, ExecConfig, ExecOptions, Executor, OcfRc, OpKey, OpRequest, Runner, WatchEvent,
    WatchNote,
};
use tokio::sync::mpsc::Receiver;

/// The longest wait for any one step (a failed trial aborts the benchmark).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Time for a started watcher to subscribe to netlink before the deletion.
const SETTLE: Duration = Duration::from_millis(200);

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = samples.len();
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / n as f64;
    format!(
        "{:8.1} {mean:8.1} {:8.1} {:8.1} {:8.1}",
        ms(samples[n / 2]),
        ms(samples[(n * 9 / 10).min(n - 1)]),
        ms(samples[0]),
        ms(samples[n - 1])
    )
}

async fn result(events: &mut Receiver<Event>) -> OcfRc {
    match tokio::time::timeout(STEP_TIMEOUT, events.recv())
        .await
        .expect("an executor event in time")
        .expect("the executor runs")
    {
        Event::Result { result, .. } => result.rc,
        Event::Cancelled { .. } => OcfRc::Ok,
    }
}

async fn started(notes: &mut Receiver<WatchNote>) {
    loop {
        let n = tokio::time::timeout(STEP_TIMEOUT, notes.recv())
            .await
            .expect("a watch note in time")
            .expect("the executor runs");
        if n.event == WatchEvent::Started {
            return;
        }
    }
}

struct Bench {
    agent: AgentId,
    nic: String,
    ip: String,
}

impl Bench {
    fn op(&self, action: &str, interval_ms: u64) -> OpRequest {
        OpRequest::new("vip", self.agent.clone(), action)
            .interval_ms(interval_ms)
            .param("ip", &self.ip)
            .param("cidr_netmask", "24")
            .param("nic", &self.nic)
            .param("arp_count", "1")
    }

    async fn trial(
        &self,
        exec: &Executor,
        events: &mut Receiver<Event>,
        notes: &mut Receiver<WatchNote>,
        watch: bool,
        interval_ms: u64,
        phase: Duration,
    ) -> Duration {
        exec.submit(self.op("start", 0)).await.unwrap();
        assert_eq!(result(events).await, OcfRc::Ok, "start");
        let monitor = self.op("monitor", interval_ms);
        exec.submit(monitor.clone()).await.unwrap();
        assert_eq!(result(events).await, OcfRc::Ok, "first monitor");
        if watch {
            started(notes).await;
            tokio::time::sleep(SETTLE).await;
        } else {
            tokio::time::sleep(phase).await;
        }
        let t0 = Instant::now();
        let deleted = std::process::Command::new("ip")
            .args(["addr", "del", &format!("{}/24", self.ip), "dev", &self.nic])
            .status()
            .unwrap();
        assert!(deleted.success(), "ip addr del");
        assert_eq!(result(events).await, OcfRc::NotRunning, "failed monitor");
        let took = t0.elapsed();
        exec.cancel(OpKey::of(&monitor)).await.unwrap();
        result(events).await; // Cancelled
        exec.submit(self.op("stop", 0)).await.unwrap();
        assert_eq!(result(events).await, OcfRc::Ok, "stop");
        took
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: bench_watch OCF_ROOT TRIALS NIC IP MODE:INTERVAL_MS...");
        std::process::exit(2);
    }
    let ocf_root = PathBuf::from(&args[1]);
    let trials: u32 = args[2].parse().expect("TRIALS is a number");
    let bench = Bench {
        agent: AgentId::ocf("tandem", "IPaddr").unwrap(),
        nic: args[3].clone(),
        ip: args[4].clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{:<7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "mode", "interval", "median", "mean", "p90", "min", "max"
    );
    for spec in &args[5..] {
        let (mode, interval) = spec.split_once(':').expect("MODE:INTERVAL_MS");
        let watch = match mode {
            "watch" => true,
            "poll" => false,
            other => panic!("unknown mode {other}: watch or poll"),
        };
        let interval_ms: u64 = interval.parse().expect("INTERVAL_MS is a number");
        let runner = Arc::new(Runner::new(ExecConfig {
            ocf_root: ocf_root.clone(),
            ..ExecConfig::default()
        }));
        let samples = rt.block_on(async {
            let (exec, mut events, mut notes) = Executor::start_with(runner, ExecOptions { watch });
            let mut samples = Vec::new();
            // One warm-up trial (page cache, first meta-data) not counted.
            for i in 0..=trials {
                let phase = Duration::from_millis(interval_ms * u64::from(i) / u64::from(trials));
                let took = bench
                    .trial(&exec, &mut events, &mut notes, watch, interval_ms, phase)
                    .await;
                if i > 0 {
                    samples.push(took);
                }
            }
            samples
        });
        println!("{mode:<7} {:>7}ms {}", interval_ms, stats(samples));
    }
}
