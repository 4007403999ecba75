//! Whole-node simulation: N [`tandem_node::Node`]s — totem, the replicated CIB, the DC and
//! its controller, attributes — with simulated resource agents, a simulated fencer, disks
//! that survive crashes, a faulty network and a stream of client requests.
//!
//! ```text
//!  seed ──▶ Scenario (nodes, loss, dup, delay, partitions, crashes, fencing, resources,
//!                     resource deaths, start failures, request rate)
//!                │
//!                ▼
//!  event queue (virtual time) ──▶ Node::handle(now, input) on node i ──▶ outputs:
//!     packets ◀── Send (lost / duplicated / delayed / partitioned)
//!     timers  ◀── SetTimer          disk ◀── PersistCib, PersistRingSeq (at once),
//!                                            PersistStatus (20 ms later; lost in a crash)
//!     agents  ◀── Exec / CancelExec ──▶ ExecDone (seeded durations and failures)
//!     fencer  ◀── Fence (power off the target) ──▶ FenceDone
//!     clients ◀── Reply (acknowledgements tracked)
//!                │
//!                ▼ after every event
//!  checkers: one DC per view · never active twice (fencing on) · acknowledged changes
//!            kept · CIB version never decreasing · everything settles after the faults
//! ```
//!
//! A run is a chaos phase followed by a calm phase of [`world::CALM_MS`] (perfect network,
//! every node restarted, no requests) at whose end the cluster must have settled. The same
//! seed always gives the same run; `TANDEM_SIM_SEED=<seed>` replays one, and
//! `TANDEM_SIM_TRACE=1` prints its events, logs and violations with their virtual time.

pub mod agents;
pub mod checkers;
pub mod history;
pub mod scenario;
pub mod world;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

pub use checkers::Violation;
pub use history::Stats;
pub use scenario::{Broken, Scenario};
pub use world::World;

/// The result of one seeded whole-node run.
#[derive(Debug)]
pub struct Outcome {
    pub seed: u64,
    pub scenario: Scenario,
    pub violations: Vec<Violation>,
    pub stats: Stats,
}

/// Runs one seed: draws a scenario, simulates it with every checker watching.
pub fn run_seed(seed: u64, broken: Broken) -> Outcome {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc1a5_7e12_c1a5_7e12);
    let mut scenario = Scenario::random(&mut rng);
    scenario.broken = broken;
    let mut w = World::new(seed, scenario.clone());
    w.run();
    Outcome {
        seed,
        scenario,
        violations: w.violations,
        stats: w.history.stats,
    }
}

/// Runs seeds and returns the failing outcomes, printing each with its replay line.
pub fn run_seeds(seeds: &[u64], broken: Broken) -> Vec<Outcome> {
    let mut failed = Vec::new();
    for &seed in seeds {
        let o = run_seed(seed, broken);
        if !o.violations.is_empty() {
            eprintln!(
                "TANDEM_SIM_SEED={seed} failed (whole nodes): {:?}",
                o.scenario
            );
            for v in &o.violations {
                eprintln!("  {v}");
            }
            failed.push(o);
        }
    }
    failed
}
