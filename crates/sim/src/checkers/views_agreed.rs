//! Guarantee 2: two nodes that install the same ring id have the same member list.

use std::collections::BTreeMap;

use tandem_totem::NodeId;
use tandem_totem::wire::RingId;

use super::Violation;
use crate::history::History;

pub fn check(h: &History) -> Vec<Violation> {
    let mut seen: BTreeMap<RingId, (Vec<NodeId>, NodeId)> = BTreeMap::new();
    let mut out = Vec::new();
    for (inc, views) in &h.views {
        for v in views {
            match seen.get(&v.view.ring) {
                None => {
                    seen.insert(v.view.ring, (v.view.members.clone(), inc.node));
                }
                Some((m, first)) if *m != v.view.members => out.push(Violation {
                    checker: "views_agreed",
                    detail: format!(
                        "ring {} has members {:?} on node {} but {:?} on node {}",
                        v.view.ring, m, first, v.view.members, inc.node
                    ),
                }),
                Some(_) => {}
            }
            if !v.view.members.contains(&inc.node) {
                out.push(Violation {
                    checker: "views_agreed",
                    detail: format!(
                        "node {} installed ring {} without itself",
                        inc.node, v.view.ring
                    ),
                });
            }
        }
    }
    out
}
