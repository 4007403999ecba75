//! `tandem-sim [--seeds N] [--start S] [--broken-flush]`: the long simulator run of the
//! cluster layer (N totem instances).
//! `tandem-sim --cluster [--seeds N] [--start S] [--broken-persist]`: the long run of whole
//! nodes (replicated CIB, DC, controller, simulated agents and fencer).
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
    let flag = |name: &str| args.iter().any(|a| a == name);
    let count = arg("--seeds").unwrap_or(1000);
    let start = arg("--start").unwrap_or(0);
    let seeds = tandem_sim::seeds(start, count);
    let failed = if flag("--cluster") {
        let broken = tandem_sim::cluster::Broken {
            lazy_persist: flag("--broken-persist"),
        };
        run_cluster(&seeds, start, broken)
    } else {
        let knobs = tandem_totem::Knobs {
            skip_flush: flag("--broken-flush"),
        };
        run_totem(&seeds, start, knobs)
    };
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_totem(seeds: &[u64], start: u64, knobs: tandem_totem::Knobs) -> u64 {
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
    failed
}

fn run_cluster(seeds: &[u64], start: u64, broken: tandem_sim::cluster::Broken) -> u64 {
    let t0 = Instant::now();
    let mut failed = 0u64;
    let mut total = tandem_sim::cluster::Stats::default();
    for (i, seed) in seeds.iter().enumerate() {
        let o = tandem_sim::cluster::run_seed(*seed, broken);
        let s = o.stats;
        total.commits_acked += s.commits_acked;
        total.commits_refused += s.commits_refused;
        total.attrs_acked += s.attrs_acked;
        total.attrs_refused += s.attrs_refused;
        total.ops_run += s.ops_run;
        total.start_failures += s.start_failures;
        total.rsc_deaths += s.rsc_deaths;
        total.fenced += s.fenced;
        total.crashes += s.crashes;
        total.status_writes_lost += s.status_writes_lost;
        total.transitions += s.transitions;
        total.uncertain += s.uncertain;
        if !o.violations.is_empty() {
            failed += 1;
            let sc = &o.scenario;
            println!(
                "TANDEM_SIM_SEED={seed} FAILED ({} nodes, fencing {}, loss {}, dup {}, partitions {}, crashes {}, resources {}, deaths {}, start failures {})",
                sc.nodes,
                sc.fencing,
                sc.loss,
                sc.dup,
                sc.partitions,
                sc.crashes,
                sc.resources,
                sc.rsc_deaths,
                sc.start_failure
            );
            for v in o.violations.iter().take(5) {
                println!("  {v}");
            }
        }
        if (i + 1) % 100 == 0 {
            eprintln!(
                "{} seeds, {failed} failed, {:.0} s",
                i + 1,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "{} whole-node seeds from {start}: {} passed, {failed} failed; {} commits acknowledged ({} refused), {} attribute updates acknowledged ({} refused), {} transitions, {} operations ({} failed starts, {} resource deaths), {} fencings, {} crashes ({} losing a pending status write); {} changes answered \"may or may not be in effect\" (view ended before they were safe, another CIB won); {:.1} s",
        seeds.len(),
        seeds.len() as u64 - failed,
        total.commits_acked,
        total.commits_refused,
        total.attrs_acked,
        total.attrs_refused,
        total.transitions,
        total.ops_run,
        total.start_failures,
        total.rsc_deaths,
        total.fenced,
        total.crashes,
        total.status_writes_lost,
        total.uncertain,
        t0.elapsed().as_secs_f64()
    );
    failed
}
