//! Invariant 4: the CIB version `(admin_epoch, epoch, num_updates)` never decreases on a
//! node — while it runs, and across a crash: a restarted node starts from at least the
//! version it had asked its disk to keep ([`tandem_node::Output::PersistCib`]) before the
//! crash. Status writes ([`tandem_node::Output::PersistStatus`]) do not count: a crash may
//! lose the last of them, so only `num_updates` above the last durable version may be lost.

use std::collections::{BTreeMap, BTreeSet};

use tandem_cib::Version;
use tandem_totem::NodeId;

use super::{Checker, History, Moment, Violation, at_ms};

fn triple(v: &Version) -> (u64, u64, u64) {
    (v.admin_epoch, v.epoch, v.num_updates)
}

#[derive(Default)]
pub struct VersionMonotonic {
    /// Per node: the boot last seen and the version it had then.
    last: BTreeMap<NodeId, (u32, Version)>,
    reported: BTreeSet<(NodeId, u32)>,
}

impl Checker for VersionMonotonic {
    fn step(&mut self, m: &Moment<'_>, h: &History, out: &mut Vec<Violation>) {
        for l in &m.nodes {
            let v = l.node.cib().version;
            let floor = match self.last.get(&l.id) {
                Some((boot, prev)) if *boot == l.boot => Some((*prev, "it had before")),
                _ => h
                    .persisted_before_boot
                    .get(&(l.id, l.boot))
                    .map(|p| (*p, "it had persisted before restarting")),
            };
            if let Some((prev, what)) = floor
                && triple(&v) < triple(&prev)
                && self.reported.insert((l.id, l.boot))
            {
                out.push(Violation {
                    checker: "version_monotonic",
                    detail: format!(
                        "{}: n{} (boot {}) has CIB version {v}, lower than the {prev} {what}",
                        at_ms(m.now),
                        l.id,
                        l.boot
                    ),
                });
            }
            self.last.insert(l.id, (l.boot, v));
        }
    }
}
