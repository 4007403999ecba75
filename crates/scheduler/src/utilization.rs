//! Node capacity for `placement-strategy` other than `default`: a resource fits a node only
//! if, for every utilization attribute it needs, the node has that much left.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use tandem_cib::options::PlacementStrategy;

use crate::model::{NodeIx, World};

/// Remaining capacity per node (empty when the strategy ignores utilization).
#[derive(Clone, Debug, Default)]
pub struct Capacity {
    enabled: bool,
    remaining: Vec<BTreeMap<String, i64>>,
}

impl Capacity {
    pub fn new(w: &World, strategy: PlacementStrategy) -> Capacity {
        Capacity {
            enabled: strategy != PlacementStrategy::Default,
            remaining: w.nodes.iter().map(|n| n.utilization.clone()).collect(),
        }
    }

    /// Whether utilization is taken into account at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether `need` fits on node `n` (always, when utilization is ignored).
    pub fn fits(&self, n: NodeIx, need: &BTreeMap<String, i64>) -> bool {
        if !self.enabled {
            return true;
        }
        need.iter()
            .all(|(k, v)| *v <= 0 || self.remaining[n].get(k).copied().unwrap_or(0) >= *v)
    }

    pub fn consume(&mut self, n: NodeIx, need: &BTreeMap<String, i64>) {
        if !self.enabled {
            return;
        }
        for (k, v) in need {
            if let Some(left) = self.remaining[n].get_mut(k) {
                *left -= v;
            } else {
                self.remaining[n].insert(k.clone(), -v);
            }
        }
    }

    pub fn release(&mut self, n: NodeIx, need: &BTreeMap<String, i64>) {
        if !self.enabled {
            return;
        }
        for (k, v) in need {
            *self.remaining[n].entry(k.clone()).or_insert(0) += v;
        }
    }

    /// Compares free capacity: `Greater` when `a` has more free capacity than `b` in more
    /// attributes.
    pub fn compare_free(&self, a: NodeIx, b: NodeIx) -> Ordering {
        if !self.enabled {
            return Ordering::Equal;
        }
        let mut score = 0i32;
        for (k, va) in &self.remaining[a] {
            let vb = self.remaining[b].get(k).copied().unwrap_or(0);
            score += match va.cmp(&vb) {
                Ordering::Greater => 1,
                Ordering::Less => -1,
                Ordering::Equal => 0,
            };
        }
        for (k, vb) in &self.remaining[b] {
            if !self.remaining[a].contains_key(k) && *vb > 0 {
                score -= 1;
            }
        }
        score.cmp(&0)
    }
}
