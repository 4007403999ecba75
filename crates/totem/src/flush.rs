//! The flush plan: which old-view messages every member of a new view delivers before
//! installing it, computed identically by every member from the commit's reports.
//!
//! For each old ring R, let S be the new members coming from R and L the smallest
//! `delivered` among them. Every member still holds `held_from..=delivered`, and
//! `held_from - 1` (the stable mark it learned) is at most every member's `delivered`, so
//! the union of what S holds covers `L+1 ..= max delivered` without a gap. The cutoff is the
//! end of the gap-free run of the union from L+1: at least every member's `delivered`, so no
//! member ever has to "undeliver", and every member of S ends at the same cutoff — the
//! virtual synchrony guarantee.

use std::collections::BTreeMap;

use crate::NodeId;
use crate::wire::{Report, RingId};

/// The plan for one old ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingPlan {
    /// Smallest `delivered` among the members from this ring.
    pub low: u64,
    /// Every member from this ring delivers up to and including this seq.
    pub cutoff: u64,
    /// (member, its report's ranges) for holder lookup.
    holders: Vec<(NodeId, Vec<(u64, u64)>)>,
}

impl RingPlan {
    /// The lowest-id member that holds `seq` (who retransmits it).
    pub fn holder(&self, seq: u64) -> Option<NodeId> {
        self.holders
            .iter()
            .filter(|(_, ranges)| ranges.iter().any(|(a, b)| *a <= seq && seq <= *b))
            .map(|(id, _)| *id)
            .min()
    }
}

fn ranges_of(r: &Report) -> Vec<(u64, u64)> {
    let mut v = Vec::with_capacity(r.extra.len() + 1);
    if r.held_from <= r.delivered {
        v.push((r.held_from, r.delivered));
    }
    v.extend(r.extra.iter().copied().filter(|(a, b)| a <= b));
    v
}

/// Computes the plan for every old ring present in `reports`.
pub fn plan(reports: &[(NodeId, Report)]) -> BTreeMap<RingId, RingPlan> {
    let mut by_ring: BTreeMap<RingId, Vec<(NodeId, &Report)>> = BTreeMap::new();
    for (id, r) in reports {
        by_ring.entry(r.old_ring).or_default().push((*id, r));
    }
    let mut out = BTreeMap::new();
    for (ring, members) in by_ring {
        let low = members.iter().map(|(_, r)| r.delivered).min().unwrap_or(0);
        let holders: Vec<(NodeId, Vec<(u64, u64)>)> =
            members.iter().map(|(id, r)| (*id, ranges_of(r))).collect();
        let mut all: Vec<(u64, u64)> = holders
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        all.sort_unstable();
        let mut cutoff = low;
        for (a, b) in all {
            if a <= cutoff + 1 && b > cutoff {
                cutoff = b;
            }
        }
        out.insert(
            ring,
            RingPlan {
                low,
                cutoff,
                holders,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(old: u64, held_from: u64, delivered: u64, extra: &[(u64, u64)]) -> Report {
        Report {
            old_ring: RingId { rep: 1, seq: old },
            delivered,
            held_from,
            extra: extra.to_vec(),
        }
    }

    #[test]
    fn cutoff_covers_every_delivered_prefix_and_stops_at_the_first_gap() {
        let p = plan(&[
            (1, rep(4, 3, 10, &[(12, 12)])),
            (2, rep(4, 5, 6, &[(7, 9), (11, 11)])),
            (3, rep(4, 6, 8, &[])),
        ]);
        let r = &p[&RingId { rep: 1, seq: 4 }];
        assert_eq!(r.low, 6);
        // 7..=10 from nodes 1/2, 11 from node 2, 12 from node 1: contiguous to 12.
        assert_eq!(r.cutoff, 12);
        assert_eq!(r.holder(7), Some(1));
        assert_eq!(r.holder(11), Some(2));
        assert_eq!(r.holder(13), None);
    }

    #[test]
    fn separate_old_rings_get_separate_plans() {
        let p = plan(&[(1, rep(4, 1, 3, &[(5, 6)])), (2, rep(8, 1, 0, &[]))]);
        assert_eq!(
            p[&RingId { rep: 1, seq: 4 }].cutoff,
            3,
            "4 is missing everywhere"
        );
        assert_eq!(p[&RingId { rep: 1, seq: 8 }].cutoff, 0);
    }
}
