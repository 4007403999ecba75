//! Safe delivery (Corosync's "safe" guarantee, what the node layer answers clients on): when
//! a node reports ring R safe up to seq S, every member of R has already delivered every
//! message of R it delivered whose safety point (`safe_at`: its seq, or the sync barrier's
//! for a message held until then) is at most S. A member that never installed R, or lacks
//! such a message at that moment, is a violation; a member that crashed after delivering
//! counts as having delivered.

use std::collections::BTreeMap;

use tandem_totem::wire::RingId;
use tandem_totem::{NodeId, Time};

use super::Violation;
use crate::history::{History, Incarnation};

/// Per ring: the members and, for each seq delivered by anyone, the safety point and the
/// delivery time at each member incarnation.
#[derive(Default)]
struct RingFacts {
    members: Vec<NodeId>,
    /// Member node → the incarnation that installed the ring.
    incs: BTreeMap<NodeId, Incarnation>,
    /// seq → (safe_at, delivery time per member node).
    seqs: BTreeMap<u64, (u64, BTreeMap<NodeId, Time>)>,
}

fn facts(h: &History) -> BTreeMap<RingId, RingFacts> {
    let mut rings: BTreeMap<RingId, RingFacts> = BTreeMap::new();
    for (inc, views) in &h.views {
        for v in views {
            let f = rings.entry(v.view.ring).or_default();
            f.members.clone_from(&v.view.members);
            f.incs.insert(inc.node, *inc);
        }
    }
    for (inc, dels) in &h.deliveries {
        for d in dels {
            let f = rings.entry(d.ring).or_default();
            let e = f.seqs.entry(d.seq).or_insert((d.safe_at, BTreeMap::new()));
            e.0 = e.0.max(d.safe_at);
            e.1.insert(inc.node, d.at);
        }
    }
    rings
}

pub fn check(h: &History) -> Vec<Violation> {
    let mut out = Vec::new();
    let rings = facts(h);
    // Per ring, the latest time by which every member delivered the messages whose safety
    // point is at most S, as a step function of S (`None`: some member never did).
    let mut bound: BTreeMap<RingId, Vec<(u64, Option<Time>)>> = BTreeMap::new();
    for (ring, f) in &rings {
        let mut by_safe: BTreeMap<u64, Option<Time>> = BTreeMap::new();
        for (safe_at, times) in f.seqs.values() {
            let all = f
                .members
                .iter()
                .map(|m| times.get(m).copied())
                .try_fold(0, |acc: Time, t| t.map(|t| acc.max(t)));
            let e = by_safe.entry(*safe_at).or_insert(Some(0));
            *e = match (*e, all) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        let mut steps = Vec::new();
        let mut acc = Some(0);
        for (s, t) in by_safe {
            acc = match (acc, t) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
            steps.push((s, acc));
        }
        bound.insert(*ring, steps);
    }
    for (inc, marks) in &h.safe {
        for m in marks {
            let Some(steps) = bound.get(&m.ring) else {
                continue;
            };
            // The last step at or below the mark's seq covers every message it promises.
            let idx = steps.partition_point(|(s, _)| *s <= m.seq);
            if idx == 0 {
                continue;
            }
            let (s, t) = steps[idx - 1];
            if t.is_none_or(|t| t > m.at) {
                let f = &rings[&m.ring];
                out.push(Violation {
                    checker: "safe_delivery",
                    detail: format!(
                        "node {} (boot {}) reported ring {} safe up to {} at {} us, but not every member of {:?} had delivered the messages safe at or below {s} by then (installed by {:?})",
                        inc.node,
                        inc.boot,
                        m.ring,
                        m.seq,
                        m.at,
                        f.members,
                        f.incs.keys().collect::<Vec<_>>()
                    ),
                });
                break; // one per incarnation is enough to start debugging
            }
        }
    }
    out
}
