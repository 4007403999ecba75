//! Guarantee 1: the ring ids a node installs strictly increase — across restarts too,
//! because the highest ring sequence is persisted.

use super::Violation;
use crate::history::History;

pub fn check(h: &History) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut last: std::collections::BTreeMap<u32, tandem_totem::wire::RingId> = Default::default();
    // `views` is ordered by (node, boot), so each node's incarnations come in boot order.
    for (inc, views) in &h.views {
        for v in views {
            if let Some(prev) = last.get(&inc.node)
                && v.view.ring.seq <= prev.seq
            {
                out.push(Violation {
                    checker: "ring_increasing",
                    detail: format!(
                        "node {} (boot {}) installed ring {} after ring {}",
                        inc.node, inc.boot, v.view.ring, prev
                    ),
                });
            }
            last.insert(inc.node, v.view.ring);
        }
    }
    out
}
