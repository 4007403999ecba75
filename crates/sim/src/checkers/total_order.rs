//! Guarantee 3: within a view every member delivers the same messages in the same order:
//! at each sequence number the same message, and no member skips one that another
//! delivered before a later one (each member's deliveries are a prefix of the ring's order).

use std::collections::BTreeMap;

use tandem_totem::wire::RingId;

use super::Violation;
use crate::history::{History, MsgKey};

pub fn check(h: &History) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut order: BTreeMap<RingId, BTreeMap<u64, MsgKey>> = BTreeMap::new();
    for (inc, dels) in &h.deliveries {
        for d in dels {
            let at = order.entry(d.ring).or_default();
            match at.get(&d.seq) {
                Some(k) if *k != d.key => out.push(Violation {
                    checker: "total_order",
                    detail: format!(
                        "ring {} seq {}: node {} delivered {:?}, another node {:?}",
                        d.ring, d.seq, inc.node, d.key, k
                    ),
                }),
                Some(_) => {}
                None => {
                    at.insert(d.seq, d.key);
                }
            }
        }
    }
    for inc in h.deliveries.keys() {
        for (ring, dels) in h.by_ring(*inc) {
            let all = &order[&ring];
            let mine: Vec<u64> = dels.iter().map(|d| d.seq).collect();
            let Some(last) = mine.last() else { continue };
            let expected: Vec<u64> = all.keys().copied().filter(|s| s <= last).collect();
            if mine != expected {
                out.push(Violation {
                    checker: "total_order",
                    detail: format!("node {} (boot {}) in ring {ring} delivered seqs {:?}, the ring's order up to there is {:?}", inc.node, inc.boot, short(&mine), short(&expected)),
                });
            }
        }
    }
    out
}

fn short(v: &[u64]) -> String {
    if v.len() <= 12 {
        format!("{v:?}")
    } else {
        format!("{:?}..{:?} ({} seqs)", &v[..6], &v[v.len() - 6..], v.len())
    }
}
