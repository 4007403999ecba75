//! Invariant 3: an acknowledged CIB change is never lost while a quorate partition
//! persists.
//!
//! The node layer answers a change only once it is *safe* — every member of the view
//! delivered (applied and persisted) it — so a change acknowledged by node X in a quorate
//! ring R is held by every member of R at that moment, whatever happens to X or to R next.
//! From then on every node in a quorate partition that has finished the CIB sync of ring R
//! or a later one must hold it: checked whenever such a node's CIB version or ring changes,
//! and on every node at the end of the run. A node still in an earlier ring may not have
//! seen R yet and is not checked.
//!
//! Exempt: changes acknowledged while X had no quorum (a partition without quorum may lose
//! the next sync), changes acknowledged before a moment when no node at all was in a
//! quorate partition, and transient attributes of a node that went down since (a node's
//! transient attributes die with it, as in Pacemaker).
//!
//! Lost configuration changes are reported as `acked_kept`, lost transient attributes as
//! `acked_attr_kept`.

use std::collections::{BTreeMap, BTreeSet};

use tandem_cib::Version;
use tandem_node::cibops::transient_attr;
use tandem_totem::wire::RingId;
use tandem_totem::{NodeId, Time};
use tandem_xml::Document;

use super::{Checker, History, Live, Moment, Violation, at_ms};
use crate::cluster::history::{Ack, Change};

#[derive(Default)]
pub struct AckedKept {
    /// The last moment no live node was in a quorate partition.
    gap_at: Time,
    /// Per node: (boot, version, ring) when last checked.
    checked: BTreeMap<NodeId, (u32, Version, RingId)>,
    /// Acknowledgements already reported lost.
    reported: BTreeSet<usize>,
}

fn markers(doc: &Document) -> BTreeSet<String> {
    let Some(r) = doc.root() else {
        return BTreeSet::new();
    };
    doc.descendants(r)
        .filter(|&n| doc.name(n) == "nvpair")
        .filter_map(|n| doc.attr(n, "id"))
        .filter(|id| id.starts_with("sim-mark-"))
        .map(str::to_string)
        .collect()
}

fn kept(ack: &Ack, doc: &Document, marks: &mut Option<BTreeSet<String>>) -> bool {
    match &ack.change {
        Change::Marker(id) => marks.get_or_insert_with(|| markers(doc)).contains(id),
        Change::Attr {
            target_name,
            name,
            value,
            ..
        } => transient_attr(doc, target_name, name).as_deref() == Some(value.as_str()),
    }
}

/// Whether a transient attribute's target still runs the boot it was set in.
fn target_alive(ack: &Ack, m: &Moment<'_>) -> bool {
    match &ack.change {
        Change::Marker(_) => true,
        Change::Attr {
            target,
            target_boot,
            ..
        } => m
            .nodes
            .iter()
            .any(|t| t.id == *target && t.boot == *target_boot),
    }
}

impl AckedKept {
    fn check_node(
        &mut self,
        l: &Live<'_>,
        m: &Moment<'_>,
        h: &History,
        end: bool,
        out: &mut Vec<Violation>,
    ) {
        let ring = l.node.totem().status().ring;
        let doc = l.node.cib().document();
        let mut marks = None;
        for (k, ack) in h.acks.iter().enumerate() {
            if !ack.quorate
                || self.reported.contains(&k)
                || (!end && ring.seq < ack.ring.seq)
                || ack.at <= self.gap_at
                || !target_alive(ack, m)
                || kept(ack, doc, &mut marks)
            {
                continue;
            }
            self.reported.insert(k);
            out.push(Violation {
                // Transient attributes are reported apart (a different mechanism keeps
                // them: boot tags and the sync round's clean-up, see tandem_node::sync).
                checker: match ack.change {
                    Change::Marker(_) => "acked_kept",
                    Change::Attr { .. } => "acked_attr_kept",
                },
                detail: format!(
                    "{}: n{} (quorate, synced in ring {ring}, CIB {}) lacks {:?}, acknowledged by n{} at {} in ring {}",
                    at_ms(m.now),
                    l.id,
                    l.node.cib().version,
                    ack.change,
                    ack.node,
                    at_ms(ack.at),
                    ack.ring
                ),
            });
        }
    }
}

impl Checker for AckedKept {
    fn step(&mut self, m: &Moment<'_>, h: &History, out: &mut Vec<Violation>) {
        if !m.nodes.iter().any(Live::quorate) {
            self.gap_at = m.now;
        }
        for l in &m.nodes {
            if !l.quorate() || !l.synced() {
                continue;
            }
            let key = (l.boot, l.node.cib().version, l.node.totem().status().ring);
            if self.checked.get(&l.id) == Some(&key) {
                continue;
            }
            self.checked.insert(l.id, key);
            self.check_node(l, m, h, false, out);
        }
    }

    fn end(&mut self, m: &Moment<'_>, h: &History, out: &mut Vec<Violation>) {
        for l in &m.nodes {
            self.check_node(l, m, h, true, out);
        }
    }
}
