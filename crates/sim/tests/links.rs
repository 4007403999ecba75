//! Redundant links: with two links per node pair, losing one link (never both) changes no
//! membership — only link status. Deterministic runs without loss, partitions or crashes.

#![allow(clippy::unwrap_used)]

use tandem_sim::{Scenario, World, check_all};
use tandem_totem::{Knobs, ms};

#[test]
fn a_link_failure_alone_changes_no_membership() {
    for seed in 0..20 {
        let sc = Scenario {
            nodes: 3,
            links: 2,
            token_ms: 500,
            chaos_ms: 12_000,
            loss: 0.0,
            dup: 0.0,
            max_delay_us: 2_000,
            partitions: 0,
            crashes: 0,
            link_faults: 3,
            attacks: 0,
            broadcast_every_ms: 40,
            knobs: Knobs::default(),
        };
        let mut w = World::new(seed, sc);
        w.run();
        assert!(
            check_all(&w.history).is_empty(),
            "seed {seed}: {:?}",
            check_all(&w.history)
        );
        // Everyone formed the 3-node view within 2 s of the start and kept it until the
        // calm phase (where the liveness probe kills a node on purpose).
        for (inc, views) in &w.history.views {
            let later: Vec<_> = views
                .iter()
                .filter(|v| v.at > ms(2_000) && v.at < w.history.calm_from)
                .collect();
            assert!(
                later.is_empty(),
                "seed {seed}: node {} changed views after link faults: {:?}",
                inc.node,
                later
            );
            let last = views.iter().rfind(|v| v.at < w.history.calm_from).unwrap();
            assert_eq!(last.view.members, vec![1, 2, 3], "seed {seed}");
        }
    }
}
