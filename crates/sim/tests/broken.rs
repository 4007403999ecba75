//! The checkers are not decoration: with the flush at view changes switched off (a
//! simulation-only knob), virtual synchrony breaks and the checker says so.

#![allow(clippy::unwrap_used)]

use tandem_totem::Knobs;

#[test]
fn skipping_the_flush_is_caught() {
    let broken = Knobs { skip_flush: true };
    let mut caught = Vec::new();
    for seed in 0..40 {
        let o = tandem_sim::run_seed(seed, broken);
        if o.violations
            .iter()
            .any(|v| v.checker == "virtual_synchrony")
        {
            caught.push(seed);
        }
    }
    // Seeds 3 (partition + loss) and others lose messages at a view change without the flush.
    assert!(
        caught.len() >= 5,
        "only {} of 40 seeds caught the broken flush: {caught:?}",
        caught.len()
    );
    // The same seeds pass with the real protocol.
    for seed in caught.iter().take(5) {
        let o = tandem_sim::run_seed(*seed, Knobs::default());
        assert!(o.violations.is_empty(), "seed {seed}: {:?}", o.violations);
    }
}
