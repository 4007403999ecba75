//! Times start / monitor / stop of floating-IP agents through the executor, as the daemon
//! would run them: `bench/ipaddr.sh` runs this inside a network namespace.
//!
//! ```text
//! bench_ipaddr OCF_ROOT ITERATIONS NIC IP AGENT...     (AGENT: ocf:tandem:IPaddr ...)
//! ```
//!
//! Prints one line per agent and action: mean, median, p90, min and max in milliseconds.
// A benchmark driver: it reads the clock.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tandem_exec::{AgentId, ExecConfig, OcfRc, OpRequest, Runner};

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = samples.len();
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / n as f64;
    format!(
        "{mean:8.2} {:8.2} {:8.2} {:8.2} {:8.2}",
        ms(samples[n / 2]),
        ms(samples[(n * 9 / 10).min(n - 1)]),
        ms(samples[0]),
        ms(samples[n - 1])
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: bench_ipaddr OCF_ROOT ITERATIONS NIC IP AGENT...");
        std::process::exit(2);
    }
    let ocf_root = PathBuf::from(&args[1]);
    let iterations: usize = args[2].parse().expect("ITERATIONS is a number");
    let (nic, ip) = (&args[3], &args[4]);
    let runner = Runner::new(ExecConfig {
        ocf_root,
        ..ExecConfig::default()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{:<22} {:<16} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "agent", "action", "mean", "median", "p90", "min", "max"
    );
    for spec in &args[5..] {
        let agent: AgentId = spec.parse().expect("an agent name");
        let op = |action: &str, interval: u64| {
            OpRequest::new("vip", agent.clone(), action)
                .interval_ms(interval)
                .param("ip", ip)
                .param("cidr_netmask", "24")
                .param("nic", nic)
        };
        let plan = [
            ("start", op("start", 0), OcfRc::Ok),
            ("monitor (running)", op("monitor", 10_000), OcfRc::Ok),
            ("stop", op("stop", 0), OcfRc::Ok),
            (
                "monitor (stopped)",
                op("monitor", 10_000),
                OcfRc::NotRunning,
            ),
        ];
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); plan.len()];
        // One warm-up round (page cache, first-run costs) not counted.
        for round in 0..=iterations {
            for (i, (name, req, want)) in plan.iter().enumerate() {
                let t0 = Instant::now();
                let r = rt.block_on(runner.run(req, std::future::pending()));
                let took = t0.elapsed();
                assert_eq!(
                    r.rc, *want,
                    "{spec} {name}: {:?} {}",
                    r.exit_reason, r.stderr
                );
                if round > 0 {
                    samples[i].push(took);
                }
            }
        }
        for ((name, _, _), s) in plan.iter().zip(samples) {
            println!("{spec:<22} {name:<16} {}", stats(s));
        }
    }
}
