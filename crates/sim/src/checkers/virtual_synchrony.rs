//! Guarantee 4 (virtual synchrony): two nodes that pass together from view V to view V'
//! delivered the same set of messages in V.

use std::collections::{BTreeMap, BTreeSet};

use tandem_totem::wire::RingId;

use super::Violation;
use crate::history::{History, Incarnation, MsgKey};

/// One incarnation passing from a view to the next, with what it delivered in the first.
type Passed = (Incarnation, BTreeSet<MsgKey>);

pub fn check(h: &History) -> Vec<Violation> {
    let mut out = Vec::new();
    // (V, V') → [(incarnation, messages delivered in V)]
    let mut passes: BTreeMap<(RingId, RingId), Vec<Passed>> = BTreeMap::new();
    for (inc, views) in &h.views {
        let by_ring = h.by_ring(*inc);
        for pair in views.windows(2) {
            let (v, next) = (pair[0].view.ring, pair[1].view.ring);
            let set: BTreeSet<MsgKey> = by_ring
                .get(&v)
                .map(|d| d.iter().map(|d| d.key).collect())
                .unwrap_or_default();
            passes.entry((v, next)).or_default().push((*inc, set));
        }
    }
    for ((v, next), group) in passes {
        let (first, want) = &group[0];
        for (inc, got) in &group[1..] {
            if got != want {
                let only_first: Vec<&MsgKey> = want.difference(got).take(5).collect();
                let only_other: Vec<&MsgKey> = got.difference(want).take(5).collect();
                out.push(Violation {
                    checker: "virtual_synchrony",
                    detail: format!(
                        "nodes {} and {} passed from ring {v} to {next} with different message sets in {v}: only on {}: {:?}, only on {}: {:?}",
                        first.node, inc.node, first.node, only_first, inc.node, only_other
                    ),
                });
            }
        }
    }
    out
}
