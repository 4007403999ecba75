//! Invariant checkers of the whole-node simulation, one per file, each encoding one
//! guarantee of the node layer (issue 6, ARCHITECTURE.md §4). They look at the whole
//! cluster after every event of the run ([`Checker::step`]) and once at the end of the
//! calm phase ([`Checker::end`]).

mod acked_kept;
mod one_dc;
mod settles;
mod single_active;
mod version_monotonic;

use tandem_node::Node;
use tandem_totem::{NodeId, Time};

pub use crate::checkers::Violation;

use super::agents::Agents;
use super::history::{History, Stats};

/// One live (powered) node at a moment.
pub struct Live<'a> {
    pub id: NodeId,
    pub boot: u32,
    pub node: &'a Node,
    /// The real state of its resources.
    pub agents: &'a Agents,
}

impl Live<'_> {
    /// Whether the node is in a quorate partition (as its cluster layer says).
    pub fn quorate(&self) -> bool {
        let q = self.node.totem().status().quorum;
        !q.enabled || q.quorate
    }

    /// Whether the node finished the CIB sync of its current membership: a formed ring,
    /// the node layer's group equal to the ring's members (the group change may trail the
    /// view), and the round's sync done.
    pub fn synced(&self) -> bool {
        let s = self.node.totem().status();
        !s.forming && self.node.is_synced() && self.node.group_members() == s.members.as_slice()
    }
}

/// The whole cluster at one moment.
pub struct Moment<'a> {
    pub now: Time,
    pub nodes: Vec<Live<'a>>,
    /// The simulated primitives (fence device excluded).
    pub resources: &'a [String],
    /// Nodes in the cluster, live or not.
    pub all_nodes: usize,
}

/// One invariant.
pub trait Checker {
    /// After every event of the run.
    fn step(&mut self, _m: &Moment<'_>, _h: &History, _out: &mut Vec<Violation>) {}
    /// At the end of the calm phase (no faults for a while, every node up).
    fn end(&mut self, _m: &Moment<'_>, _h: &History, _out: &mut Vec<Violation>) {}
    /// Adds what the checker counted to the run's summary.
    fn stats(&self, _s: &mut Stats) {}
}

/// Every checker of a run.
pub struct Checkers {
    all: Vec<Box<dyn Checker>>,
}

impl Checkers {
    /// `fencing`: the run has fencing enabled (the single-active invariant applies).
    pub fn new(fencing: bool) -> Checkers {
        let mut all: Vec<Box<dyn Checker>> = vec![
            Box::new(one_dc::OneDc::default()),
            Box::new(version_monotonic::VersionMonotonic::default()),
            Box::new(acked_kept::AckedKept::default()),
            Box::new(settles::Settles),
        ];
        if fencing {
            all.push(Box::new(single_active::SingleActive::default()));
        }
        Checkers { all }
    }

    pub fn step(&mut self, m: &Moment<'_>, h: &History, out: &mut Vec<Violation>) {
        for c in &mut self.all {
            c.step(m, h, out);
        }
    }

    pub fn stats(&self, s: &mut Stats) {
        for c in &self.all {
            c.stats(s);
        }
    }

    pub fn end(&mut self, m: &Moment<'_>, h: &History, out: &mut Vec<Violation>) {
        for c in &mut self.all {
            c.step(m, h, out);
            c.end(m, h, out);
        }
    }
}

/// Milliseconds of virtual time, for messages.
pub fn at_ms(t: Time) -> String {
    format!("t={:.3} ms", t as f64 / 1000.0)
}
