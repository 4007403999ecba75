//! `tandem-sim [--seeds N] [--start S] [--broken-flush]`: the long simulator run.
//!
//! Prints one line per failing seed (with `TANDEM_SIM_SEED=...` to replay it) and a
//! summary; exits 1 if any seed failed. `TANDEM_SIM_SEED=S` runs just that seed.

#![allow(clippy::disallowed_methods)]

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let count = arg("--seeds").unwrap_or(1000);
    let start = arg("--start").unwrap_or(0);
    let knobs = tandem_totem::Knobs {
        skip_flush: args.iter().any(|a| a == "--broken-flush"),
    };
    let seeds = tandem_sim::seeds(start, count);
    let t0 = Instant::now();
    let mut failed = 0u64;
    let (mut views, mut msgs) = (0usize, 0usize);
    for (i, seed) in seeds.iter().enumerate() {
        let o = tandem_sim::run_seed(*seed, knobs);
        views += o.views_installed;
        msgs += o.messages_delivered;
        if !o.violations.is_empty() {
            failed += 1;
            println!(
                "TANDEM_SIM_SEED={seed} FAILED ({} nodes, {} links, loss {}, dup {}, partitions {}, crashes {})",
                o.scenario.nodes,
                o.scenario.links,
                o.scenario.loss,
                o.scenario.dup,
                o.scenario.partitions,
                o.scenario.crashes
            );
            for v in o.violations.iter().take(5) {
                println!("  {v}");
            }
        }
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "{} seeds, {failed} failed, {:.0} s",
                i + 1,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "{} seeds from {start}: {} passed, {failed} failed; {views} views installed, {msgs} deliveries checked; {:.1} s",
        seeds.len(),
        seeds.len() as u64 - failed,
        t0.elapsed().as_secs_f64()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
