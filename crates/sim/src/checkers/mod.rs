//! Invariant checkers, one per file, each encoding one guarantee of ARCHITECTURE.md §4
//! (totem). They run over the [`History`] of a finished run.

mod integrity;
mod liveness;
mod ring_increasing;
mod safe_delivery;
mod total_order;
mod views_agreed;
mod virtual_synchrony;

use crate::history::History;

/// A broken guarantee, with enough detail to start debugging from the replayed seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub checker: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.checker, self.detail)
    }
}

/// Runs every checker; an empty list means the run kept every guarantee.
pub fn check_all(h: &History) -> Vec<Violation> {
    let mut v = Vec::new();
    v.extend(views_agreed::check(h));
    v.extend(ring_increasing::check(h));
    v.extend(total_order::check(h));
    v.extend(virtual_synchrony::check(h));
    v.extend(safe_delivery::check(h));
    v.extend(integrity::check(h));
    v.extend(liveness::check(h));
    v
}
