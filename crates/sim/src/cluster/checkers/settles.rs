//! Invariant 5: every transition eventually settles when faults stop. At the end of the
//! calm phase (a perfect network, every node up for a while, no client requests):
//! * all nodes are in one ring with every node, synced, with identical CIBs;
//! * they agree on a DC, which is idle, and the scheduler run on the final CIB has nothing
//!   to do (an empty transition);
//! * the CIB tells the truth: a resource is recorded active on a node exactly where the
//!   simulated agents run it;
//! * every client request sent to a node that stayed up was answered.

use tandem_node::Now;
use tandem_node::cibops::active_resources;

use super::{Checker, History, Moment, Violation, at_ms};
use crate::cluster::world::EPOCH0;

pub struct Settles;

impl Checker for Settles {
    fn end(&mut self, m: &Moment<'_>, h: &History, out: &mut Vec<Violation>) {
        let mut v = |detail: String| {
            out.push(Violation {
                checker: "settles",
                detail: format!("{} (end of the calm phase): {detail}", at_ms(m.now)),
            })
        };
        if m.nodes.len() != m.all_nodes {
            v(format!(
                "only {} of {} nodes are up",
                m.nodes.len(),
                m.all_nodes
            ));
            return;
        }
        let ids: Vec<u32> = m.nodes.iter().map(|l| l.id).collect();
        for l in &m.nodes {
            let s = l.node.totem().status();
            if s.members != ids || !l.synced() {
                v(format!(
                    "n{} is in ring {} with members {:?} (forming {}, group {:?}, synced {}), the cluster is {ids:?}",
                    l.id,
                    s.ring,
                    s.members,
                    s.forming,
                    l.node.group_members(),
                    l.node.is_synced()
                ));
                return;
            }
        }
        let first = &m.nodes[0];
        let digest = first.node.cib().document().digest();
        for l in &m.nodes[1..] {
            if l.node.cib().document().digest() != digest {
                v(format!(
                    "n{} has CIB {} and n{} has CIB {}, with different contents",
                    first.id,
                    first.node.cib().version,
                    l.id,
                    l.node.cib().version
                ));
                return;
            }
        }
        let dcs: Vec<Option<String>> = m.nodes.iter().map(|l| l.node.dc_name()).collect();
        let Some(dc_name) = dcs[0].clone().filter(|_| dcs.iter().all(|d| *d == dcs[0])) else {
            v(format!("the nodes do not agree on a DC: {dcs:?}"));
            return;
        };
        let Some(dc) = m.nodes.iter().find(|l| l.node.name() == dc_name) else {
            v(format!("the DC {dc_name} is not up"));
            return;
        };
        if dc.node.transition_active() {
            v(format!("the DC {dc_name} is still executing a transition"));
        }
        let now = Now::new(m.now, EPOCH0 + (m.now / 1_000_000) as i64);
        let t = tandem_scheduler::schedule(dc.node.cib(), now.date());
        let work: Vec<String> = t
            .graph
            .actions
            .iter()
            .filter(|a| a.in_graph())
            .map(|a| {
                let rsc = a
                    .rsc
                    .map(|r| t.world.rscs[r].id.clone())
                    .unwrap_or_default();
                let node = a
                    .node
                    .map(|n| t.world.nodes[n].uname.clone())
                    .unwrap_or_default();
                format!("{:?} {rsc} {}ms on {node}", a.task, a.interval_ms)
            })
            .collect();
        if !work.is_empty() {
            v(format!(
                "the scheduler still has work on the final CIB {}: {}",
                dc.node.cib().version,
                work.join(", ")
            ));
        }
        let doc = first.node.cib().document();
        for l in &m.nodes {
            let recorded = active_resources(doc, &l.id.to_string());
            let real: Vec<String> = l.agents.active.iter().cloned().collect();
            let mut recorded_sorted = recorded.clone();
            recorded_sorted.sort();
            if recorded_sorted != real {
                v(format!(
                    "on n{} the CIB records {recorded_sorted:?} active, the agents run {real:?}",
                    l.id
                ));
            }
        }
        for (client, p) in &h.pending {
            let stayed = m.nodes.iter().any(|l| l.id == p.node && l.boot == p.boot);
            if stayed {
                v(format!(
                    "client {client}'s request ({:?}) to n{}, sent at {}, was never answered",
                    p.change,
                    p.node,
                    at_ms(p.at)
                ));
            }
        }
    }
}
