//! `tandem-sim`: a deterministic simulator for Tandem's cluster layer.
//!
//! ```text
//!  seed ──▶ ChaCha8Rng ──▶ Scenario (nodes, links, loss, dup, delay, partitions, crashes,
//!                                   link faults, attacker, broadcast rate)
//!                          │
//!                          ▼
//!   event queue ordered by (virtual time, seq) ──▶ Totem::handle(now, input) on node i
//!        ▲                                              │
//!        └──── packets (lost / duplicated / delayed / partitioned), timers ◀──┘ outputs
//!                          │
//!                          ▼
//!               History ──▶ checkers (one per guarantee) ──▶ violations
//! ```
//!
//! A run is a chaos phase (every fault of the scenario) followed by a calm phase (perfect
//! network, crashed nodes restarted) in which liveness is checked, including a `kill -9`
//! probe against the failure-detection bound. The same seed always produces the same run;
//! a failing run names its seed, and `TANDEM_SIM_SEED=<seed>` replays just that one.
//!
//! ```
//! let outcome = tandem_sim::run_seed(7, tandem_totem::Knobs::default());
//! assert!(outcome.violations.is_empty(), "{:?}", outcome.violations);
//! ```

// A test crate: it reads TANDEM_SIM_SEED from the environment.
#![allow(clippy::disallowed_methods)]

pub mod checkers;
pub mod cluster;
pub mod history;
mod world;

pub use checkers::{Violation, check_all};
pub use history::History;
pub use world::{Scenario, World};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

/// The result of one seeded run.
#[derive(Debug)]
pub struct Outcome {
    pub seed: u64,
    pub scenario: Scenario,
    pub violations: Vec<Violation>,
    pub views_installed: usize,
    pub messages_delivered: usize,
}

/// Runs one seed: draws a scenario, simulates it, checks every invariant.
pub fn run_seed(seed: u64, knobs: tandem_totem::Knobs) -> Outcome {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5eed_5eed_5eed);
    let mut scenario = Scenario::random(&mut rng);
    scenario.knobs = knobs;
    let mut w = World::new(seed, scenario.clone());
    w.run();
    let violations = check_all(&w.history);
    Outcome {
        seed,
        scenario,
        violations,
        views_installed: w.history.views.values().map(|v| v.len()).sum(),
        messages_delivered: w.history.deliveries.values().map(|v| v.len()).sum(),
    }
}

/// The seeds to run: `TANDEM_SIM_SEED` (one seed, replay) or `start..start + count`.
pub fn seeds(start: u64, count: u64) -> Vec<u64> {
    match std::env::var("TANDEM_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(s) => vec![s],
        None => (start..start + count).collect(),
    }
}

/// Runs seeds and returns the failing outcomes, printing each with its replay line.
pub fn run_seeds(seeds: &[u64], knobs: tandem_totem::Knobs) -> Vec<Outcome> {
    let mut failed = Vec::new();
    for &seed in seeds {
        let o = run_seed(seed, knobs);
        if !o.violations.is_empty() {
            eprintln!("TANDEM_SIM_SEED={seed} failed: {:?}", o.scenario);
            for v in &o.violations {
                eprintln!("  {v}");
            }
            failed.push(o);
        }
    }
    failed
}
