//! Invariant 1: one DC per view. Once a view is settled — every member of the ring is up,
//! has installed that ring, sees the same group members and finished the CIB sync of that
//! membership's round — all members name the
//! same DC, and the DC is one of them.

use std::collections::{BTreeMap, BTreeSet};

use tandem_totem::NodeId;
use tandem_totem::wire::RingId;

use super::{Checker, History, Moment, Violation, at_ms};

/// What one member of a ring says: (node, synced for this membership, DC it names).
type Said = (NodeId, bool, Option<String>);

#[derive(Default)]
pub struct OneDc {
    /// Rings already reported (one violation per ring is enough).
    reported: BTreeSet<RingId>,
}

impl Checker for OneDc {
    fn step(&mut self, m: &Moment<'_>, _h: &History, out: &mut Vec<Violation>) {
        // ring → (members, [(node, synced, dc)])
        let mut rings: BTreeMap<RingId, (Vec<NodeId>, Vec<Said>)> = BTreeMap::new();
        for l in &m.nodes {
            let s = l.node.totem().status();
            if s.forming {
                continue;
            }
            let e = rings
                .entry(s.ring)
                .or_insert_with(|| (s.members.clone(), Vec::new()));
            e.1.push((l.id, l.synced(), l.node.dc_name()));
        }
        for (ring, (members, seen)) in rings {
            let settled = members
                .iter()
                .all(|id| seen.iter().any(|(n, synced, _)| n == id && *synced));
            if !settled || self.reported.contains(&ring) {
                continue;
            }
            let dcs: BTreeSet<Option<String>> = seen.iter().map(|s| s.2.clone()).collect();
            let member_names: Vec<String> = members.iter().map(|id| format!("n{id}")).collect();
            let ok = match dcs.iter().next() {
                Some(Some(dc)) if dcs.len() == 1 => member_names.contains(dc),
                _ => false,
            };
            if !ok {
                self.reported.insert(ring);
                let views: Vec<String> = seen
                    .iter()
                    .map(|(n, _, dc)| format!("n{n} says {}", dc.as_deref().unwrap_or("none")))
                    .collect();
                out.push(Violation {
                    checker: "one_dc",
                    detail: format!(
                        "{}: settled ring {ring} with members {member_names:?} has no single DC among them: {}",
                        at_ms(m.now),
                        views.join(", ")
                    ),
                });
            }
        }
    }
}
