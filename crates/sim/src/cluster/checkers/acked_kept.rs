//! Invariant 3: an acknowledged CIB change is never lost while a quorate partition
//! persists.
//!
//! A change acknowledged to a client by node X in ring R is *kept by a persisting quorate
//! partition* once X, still in the same boot, has finished the CIB sync of a later quorate
//! ring: totem's virtual synchrony then guarantees every member that came along from R
//! delivered the change too. From then on every node in a quorate partition must hold it:
//! checked whenever such a node has finished the CIB sync of a ring later than R (members of
//! R itself may still be delivering it), and on every node at the end of the run.
//!
//! Exempt, and counted in the summary instead ([`Stats::acks_in_dying_views`]): a change
//! acknowledged in a view that did not last — X crashed, or its next view had no quorum,
//! before it reached a later quorate ring. Totem delivers in agreed order (a sender may
//! deliver its own message before anyone else received it), so a node that is already cut
//! off can acknowledge a change nobody else will ever see; only a "safe" delivery (all
//! members received it) would close that window. Also exempt: changes acknowledged before a
//! moment when no node at all was in a quorate partition, and transient attributes of a node
//! that went down since (a node's transient attributes die with it, as in Pacemaker).
//!
//! Lost configuration changes are reported as `acked_kept`, lost transient attributes as
//! `acked_attr_kept`.

use std::collections::{BTreeMap, BTreeSet};

use tandem_cib::Version;
use tandem_node::cibops::transient_attr;
use tandem_totem::wire::RingId;
use tandem_totem::{NodeId, Time};
use tandem_xml::Document;

use super::{Checker, History, Live, Moment, Stats, Violation, at_ms};
use crate::cluster::history::{Ack, Change};

/// Where an acknowledgement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// The answering node has not reached a later ring yet.
    Open,
    /// It reached a later quorate ring: the change must be kept.
    Persisting,
    /// Its view did not last (see the module documentation).
    Dying,
}

#[derive(Default)]
pub struct AckedKept {
    /// The last moment no live node was in a quorate partition.
    gap_at: Time,
    fates: Vec<Fate>,
    /// Per node: (boot, version, ring) when last checked.
    checked: BTreeMap<NodeId, (u32, Version, RingId)>,
    /// Acknowledgements already reported lost.
    reported: BTreeSet<usize>,
    dying: u64,
    dying_lost: u64,
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
    /// Settles the fate of open acknowledgements.
    fn update_fates(&mut self, m: &Moment<'_>, h: &History) {
        self.fates.resize(h.acks.len(), Fate::Open);
        for (k, ack) in h.acks.iter().enumerate() {
            if self.fates[k] != Fate::Open {
                continue;
            }
            if !ack.quorate || ack.at <= self.gap_at {
                self.fates[k] = Fate::Dying;
                self.dying += u64::from(ack.quorate);
                continue;
            }
            let x = m.nodes.iter().find(|l| l.id == ack.node);
            self.fates[k] = match x {
                Some(l) if l.boot != ack.boot => Fate::Dying,
                None => Fate::Dying,
                Some(l) if l.synced() && l.node.totem().status().ring.seq > ack.ring.seq => {
                    if l.quorate() {
                        Fate::Persisting
                    } else {
                        Fate::Dying
                    }
                }
                Some(_) => Fate::Open,
            };
            if self.fates[k] == Fate::Dying {
                self.dying += 1;
            }
        }
    }

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
            if self.fates[k] != Fate::Persisting
                || self.reported.contains(&k)
                || (!end && ring.seq <= ack.ring.seq)
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
        self.update_fates(m, h);
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
        if let Some(l) = m.nodes.first() {
            let doc = l.node.cib().document();
            let mut marks = None;
            self.dying_lost = h
                .acks
                .iter()
                .zip(&self.fates)
                .filter(|(a, f)| {
                    **f == Fate::Dying
                        && a.quorate
                        && target_alive(a, m)
                        && !kept(a, doc, &mut marks)
                })
                .count() as u64;
        }
    }

    fn stats(&self, s: &mut Stats) {
        s.acks_in_dying_views += self.dying;
        s.dying_view_acks_lost += self.dying_lost;
    }
}
