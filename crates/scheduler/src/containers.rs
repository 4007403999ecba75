//! Resources that run inside another resource (meta-attribute `container`, as for guest
//! nodes and old "container" setups): the contents are colocated with and ordered after
//! their container, a failure inside recovers the container too, and a ban on the contents
//! is a ban on the container.

use tandem_cib::Score;
use tandem_cib::constraints::OrderKind;

use crate::constraints::{Coloc, Constraints, OrderC};
use crate::model::{NodeIx, RscIx, World};

/// The container of `r`, if it names one that exists.
pub fn container_of(w: &World, r: RscIx) -> Option<RscIx> {
    let c = w.rscs[r].meta.get("container")?;
    w.rsc(c).filter(|&c| c != r)
}

/// Colocation and ordering of every resource with its container.
pub fn container_constraints(w: &World, out: &mut Constraints) {
    for r in 0..w.rscs.len() {
        if !w.rscs[r].is_primitive() {
            continue;
        }
        let Some(c) = container_of(w, r) else {
            continue;
        };
        out.colocs.push(Coloc {
            id: format!("{}-with-container", w.rscs[r].id),
            dependent: r,
            primary: c,
            score: Score::INFINITY,
            dependent_role: None,
            primary_role: None,
            node_attribute: "#uname".to_string(),
            influence: true,
        });
        out.orders.push(OrderC {
            id: format!("{}-after-container", w.rscs[r].id),
            first: c,
            first_action: "start".to_string(),
            then: r,
            then_action: "start".to_string(),
            kind: OrderKind::Mandatory,
            symmetrical: true,
            one_or_more: None,
        });
    }
}

/// Containers whose contents failed where they run: they restart there.
pub fn failed_contents(w: &World) -> Vec<(RscIx, NodeIx)> {
    let mut out = Vec::new();
    for r in 0..w.rscs.len() {
        if !w.rscs[r].failed {
            continue;
        }
        if let Some(c) = container_of(w, r)
            && let Some(n) = w.rscs[c].current()
            && (w.rscs[r].running_on.contains(&n) || !w.rscs[r].is_active())
            && w.rscs[c].assigned == Some(n)
            && !out.contains(&(c, n))
        {
            out.push((c, n));
        }
    }
    out
}

/// A node banned for the contents is banned for the container.
pub fn share_bans(w: &mut World) {
    w.trace_source = crate::model::ScoreSource::Implicit;
    for r in 0..w.rscs.len() {
        let Some(c) = container_of(w, r) else {
            continue;
        };
        for n in 0..w.nodes.len() {
            if w.rscs[r].allowed[n].is_some_and(|s| s.is_minus_infinity()) {
                crate::constraints::add_location(w, c, n, Score::MINUS_INFINITY);
            }
        }
    }
}
