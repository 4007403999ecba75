//! `shutdown-lock`: resources of a node that shuts down cleanly stay with that node (they
//! stop and wait for it instead of moving), until `shutdown-lock-limit` passes.

use tandem_cib::{Cib, ClusterOptions, DateTime, Score};

use crate::constraints::add_location;
use crate::model::{NodeIx, RscIx, World};

/// Resources locked to a node, as (resource, node).
pub fn shutdown_locks(
    w: &World,
    cib: &Cib,
    options: &ClusterOptions,
    now: DateTime,
) -> Vec<(RscIx, NodeIx)> {
    let mut out = Vec::new();
    if !options.shutdown_lock {
        return out;
    }
    // Resources active on a node that is shutting down now.
    for (r, rsc) in w.rscs.iter().enumerate() {
        if !rsc.is_primitive() || rsc.is_fencing_device || w.clone_of(r).is_some() {
            continue;
        }
        if let Some(n) = rsc.current()
            && w.nodes[n].shutdown
        {
            out.push((r, n));
        }
    }
    // Locks recorded when a node shut down earlier.
    let limit_secs = (options.shutdown_lock_limit_ms / 1000) as i64;
    for state in &cib.status.nodes {
        let node = w
            .nodes
            .iter()
            .position(|n| n.id == state.id || Some(n.uname.as_str()) == state.uname.as_deref());
        let Some(n) = node else { continue };
        for h in &state.resources {
            let Some(when) = h.shutdown_lock else {
                continue;
            };
            if limit_secs > 0 && now.epoch_secs >= when + limit_secs {
                continue;
            }
            if let Some(r) = w.rsc(&h.id)
                && !out.contains(&(r, n))
            {
                out.push((r, n));
            }
        }
    }
    out
}

/// Bans each locked resource from every node but its own.
pub fn apply_locks(w: &mut World, locks: &[(RscIx, NodeIx)]) {
    w.trace_source = crate::model::ScoreSource::ShutdownLock;
    for &(r, n) in locks {
        for other in 0..w.nodes.len() {
            if other != n {
                add_location(w, r, other, Score::MINUS_INFINITY);
            }
        }
    }
}
