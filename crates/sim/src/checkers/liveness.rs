//! Guarantee 5 (liveness), checked in the calm phase after the faults stop:
//! * nodes that can talk form one view within the convergence bound;
//! * after a `kill -9` of one node, every survivor installs a view without it within
//!   effective token + consensus (+ the network's delay and 100 ms of slack);
//! * at the end everyone alive shares one view, and every message broadcast by a node that
//!   stayed up was delivered back to it.

use std::collections::BTreeSet;

use tandem_totem::{NodeId, ms};

use super::Violation;
use crate::history::History;

/// Allowed beyond the detection bound for network delay and processing.
const SLACK: u64 = ms(100);

pub fn check(h: &History) -> Vec<Violation> {
    let mut out = Vec::new();
    let v = |detail: String| Violation {
        checker: "liveness",
        detail,
    };
    for (i, (t, snap)) in h.snapshots.iter().enumerate() {
        let label = if i == 0 {
            "after the calm phase converged"
        } else {
            "at the end"
        };
        let alive: Vec<NodeId> = snap.iter().map(|s| s.0).collect();
        for (id, ring, members, forming) in snap {
            if *forming || *members != alive || *ring != snap[0].1 {
                out.push(v(format!(
                    "{label} (t={} ms): node {id} is in ring {ring} members {members:?} forming={forming}, alive nodes are {alive:?}",
                    t / 1000
                )));
                break;
            }
        }
    }
    if let Some((killed, at)) = h.probe_kill {
        for inc in &h.alive_at_end {
            let views = h.views.get(inc).map(|v| v.as_slice()).unwrap_or(&[]);
            let had_it = views
                .iter()
                .rev()
                .find(|v| v.at <= at)
                .is_some_and(|v| v.view.members.contains(&killed));
            if !had_it {
                continue;
            }
            match views
                .iter()
                .find(|v| v.at > at && !v.view.members.contains(&killed))
            {
                Some(v) if v.at - at <= h.detection_bound + SLACK => {}
                Some(x) => out.push(v(format!(
                    "node {} removed killed node {killed} after {} ms (bound {} ms)",
                    inc.node,
                    (x.at - at) / 1000,
                    (h.detection_bound + SLACK) / 1000
                ))),
                None => out.push(v(format!(
                    "node {} never removed killed node {killed}",
                    inc.node
                ))),
            }
        }
    }
    // A sender's message may have been delivered in a view the sender was cut off from;
    // it is then suppressed as a duplicate when resubmitted. Not lost is what matters.
    let delivered: BTreeSet<&Vec<u8>> = h
        .deliveries
        .values()
        .flatten()
        .map(|d| &d.payload)
        .collect();
    let survivors: BTreeSet<_> = h.alive_at_end.iter().copied().collect();
    for inc in &survivors {
        let missing: Vec<String> = h
            .broadcasts
            .iter()
            .filter(|(p, (_, by, _))| by == inc && !delivered.contains(p))
            .map(|(p, _)| String::from_utf8_lossy(p).into_owned())
            .take(5)
            .collect();
        if !missing.is_empty() {
            out.push(v(format!(
                "node {} broadcasts were never delivered anywhere: {missing:?}",
                inc.node
            )));
        }
    }
    out
}
