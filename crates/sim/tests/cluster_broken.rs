//! The whole-node checkers are not decoration: with the simulated daemon writing the CIB
//! to disk only every other time the node asks (a test-only switch, `--broken-persist`),
//! restarted nodes come back with an older CIB than they had persisted, and the
//! version checker says so.

#![allow(clippy::unwrap_used)]

use tandem_sim::cluster::{Broken, run_seed};

#[test]
fn lazy_persistence_is_caught() {
    let broken = Broken { lazy_persist: true };
    // Whether a seed restarts a node right after a write the lazy disk skipped is chance
    // (about one seed in four): seeds are tried until four caught it, among at most 32.
    let mut caught = Vec::new();
    for seed in 0..32 {
        let o = run_seed(seed, broken);
        if o.violations
            .iter()
            .any(|v| v.checker == "version_monotonic")
        {
            caught.push(seed);
            if caught.len() == 4 {
                break;
            }
        }
    }
    assert!(
        caught.len() >= 4,
        "only {} of 32 seeds caught the lazy disk: {caught:?}",
        caught.len()
    );
    // The same seeds keep the version with the real disk.
    for seed in caught.iter().take(4) {
        let o = run_seed(*seed, Broken::default());
        let v: Vec<_> = o
            .violations
            .iter()
            .filter(|v| v.checker == "version_monotonic")
            .collect();
        assert!(v.is_empty(), "seed {seed}: {v:?}");
    }
}
