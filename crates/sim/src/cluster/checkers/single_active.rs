//! Invariant 2 (runs with fencing enabled only): a primitive is never active on two nodes
//! at once. "Active" is the simulated agents' real state — a start counts from the moment
//! it begins, a stop until it completes — not what the CIB records. A node the cluster
//! lost is fenced (powered off, its resources die with it) before its resources start
//! elsewhere, and a partition without quorum starts nothing, so with fencing on this holds
//! at every instant, whatever partitions, losses and crashes happen.

use std::collections::BTreeSet;

use super::{Checker, History, Moment, Violation, at_ms};

#[derive(Default)]
pub struct SingleActive {
    /// Resources currently active on two or more nodes (reported when that began).
    doubled: BTreeSet<String>,
}

impl Checker for SingleActive {
    fn step(&mut self, m: &Moment<'_>, _h: &History, out: &mut Vec<Violation>) {
        for rsc in m.resources {
            let on: Vec<String> = m
                .nodes
                .iter()
                .filter(|l| l.agents.active.contains(rsc))
                .map(|l| {
                    format!(
                        "n{} ({}quorate)",
                        l.id,
                        if l.quorate() { "" } else { "not " }
                    )
                })
                .collect();
            if on.len() < 2 {
                self.doubled.remove(rsc);
                continue;
            }
            if self.doubled.insert(rsc.clone()) {
                out.push(Violation {
                    checker: "single_active",
                    detail: format!(
                        "{}: {rsc} is active on {} nodes at once: {}",
                        at_ms(m.now),
                        on.len(),
                        on.join(", ")
                    ),
                });
            }
        }
    }
}
