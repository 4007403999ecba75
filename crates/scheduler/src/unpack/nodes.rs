//! Node states from `node_state` entries: online, offline, pending, unclean (and why),
//! standby, maintenance, shutdown — and node attributes, transient ones included.

use tandem_cib::nvset::evaluate_into;
use tandem_cib::status::NodeState;
use tandem_cib::types::parse_bool;
use tandem_cib::{Cib, RuleContext};

use crate::build::Ctx;
use crate::model::{Node, World};

/// What `node_state` says about a node, reduced to the facts the decision needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Membership {
    /// No `in_ccm` recorded: the cluster layer never reported the node.
    NeverSeen,
    Member,
    NotMember,
}

/// The verdict for one node.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Online,
    Offline,
    Pending,
    Unclean(&'static str),
}

/// Unpacks every configured node's state.
pub fn unpack_nodes(w: &mut World, ctx: &Ctx<'_>) {
    let cib = ctx.cib;
    w.have_quorum = cib.have_quorum();
    let dc_uuid = cib.root_attr("dc-uuid");
    for ix in 0..w.nodes.len() {
        let state = find_state(cib, &w.nodes[ix].id, &w.nodes[ix].uname);
        let node = &mut w.nodes[ix];
        if let Some(s) = state {
            let rctx = RuleContext::at(ctx.now);
            let mut transient = std::collections::BTreeMap::new();
            evaluate_into(&mut transient, &s.transient, &rctx, None);
            for (k, v) in transient {
                node.attrs.insert(k, v);
            }
        }
        let verdict = match state {
            None if ctx.options.fencing_enabled && ctx.options.startup_fencing => {
                Verdict::Unclean("node is unclean")
            }
            None => Verdict::Offline,
            Some(s) if ctx.options.fencing_enabled => verdict_fencing(s, node),
            Some(s) => verdict_no_fencing(s),
        };
        let seen_up =
            state.is_some_and(|s| membership(s) == Membership::Member && s.controller_up());
        apply_verdict(node, verdict, seen_up);
        node.is_dc = dc_uuid.is_some_and(|d| d == node.id);
        node.attrs
            .insert("#is_dc".to_string(), node.is_dc.to_string());
        if node.attr("standby").and_then(parse_bool) == Some(true) {
            node.standby = true;
        }
        if node.attr("maintenance").and_then(parse_bool) == Some(true)
            || state.is_some_and(|s| s.node_in_maintenance.as_deref() == Some("1"))
        {
            node.maintenance = true;
        }
        if ctx.options.maintenance_mode {
            node.maintenance = true;
        }
        if node.online && shutdown_requested(state, node) {
            node.shutdown = true;
        }
        if ctx.options.fencing_enabled && node.unclean && node.fence_reason.is_none() {
            node.fence_reason = Some("node is unclean".to_string());
        }
        if !ctx.options.fencing_enabled {
            node.fence_reason = None;
        }
    }
    if let Some(d) = dc_uuid {
        w.dc = w.nodes.iter().position(|n| n.id == d);
    }
}

fn find_state<'a>(cib: &'a Cib, id: &str, uname: &str) -> Option<&'a NodeState> {
    cib.status.nodes.iter().find(|s| s.id == id).or_else(|| {
        cib.status
            .nodes
            .iter()
            .find(|s| s.id.is_empty() && s.uname.as_deref() == Some(uname))
    })
}

fn membership(s: &NodeState) -> Membership {
    match s.in_ccm.as_deref() {
        None => Membership::NeverSeen,
        Some(_) if s.in_membership() => Membership::Member,
        Some(_) => Membership::NotMember,
    }
}

fn shutdown_requested(s: Option<&NodeState>, node: &Node) -> bool {
    let nonzero = |v: &str| !v.is_empty() && v != "0";
    node.attr("shutdown").is_some_and(nonzero)
        || s.and_then(|s| s.shutdown.as_deref()).is_some_and(nonzero)
}

fn terminate_requested(node: &Node) -> bool {
    node.attr("terminate")
        .is_some_and(|v| parse_bool(v) == Some(true) || v.parse::<i64>().is_ok_and(|t| t > 0))
}

/// The decision table used when fencing is enabled. Each row is a documented behaviour of
/// Pacemaker's scheduler (see the comments in the corpus case `stonith-4`).
fn verdict_fencing(s: &NodeState, node: &Node) -> Verdict {
    let member = membership(s);
    let crmd = s.controller_up();
    let join = s.join.as_deref().unwrap_or("");
    let expected_down = matches!(s.expected.as_deref(), None | Some("down"));
    if member == Membership::NeverSeen {
        return Verdict::Unclean("peer has not been seen by the cluster");
    }
    if join == "banned" {
        return Verdict::Unclean("peer failed Pacemaker membership criteria");
    }
    if terminate_requested(node) {
        if member != Membership::Member && !crmd && join == "down" {
            return Verdict::Offline;
        }
        return Verdict::Unclean("fencing was requested");
    }
    if member == Membership::Member && crmd && join == "member" {
        // Fully joined, whatever the controller expects next (it may be shutting down).
        return Verdict::Online;
    }
    if expected_down {
        return if member == Membership::Member || crmd {
            Verdict::Pending
        } else {
            Verdict::Offline
        };
    }
    if member == Membership::NotMember {
        if shutdown_requested(Some(s), node) && !crmd {
            return Verdict::Offline;
        }
        return Verdict::Unclean("peer is no longer part of the cluster");
    }
    if !crmd {
        return Verdict::Unclean("peer process is no longer available");
    }
    match join {
        "member" => Verdict::Online,
        "pending" | "down" => Verdict::Pending,
        _ => Verdict::Unclean("peer was in an unknown state"),
    }
}

/// Without fencing a node is either usable or not: nothing is ever unclean.
fn verdict_no_fencing(s: &NodeState) -> Verdict {
    let member = membership(s) == Membership::Member;
    let crmd = s.controller_up();
    match (member, crmd, s.join.as_deref()) {
        (true, true, Some("member")) => Verdict::Online,
        (true, true, _) if s.expected.as_deref() == Some("member") => Verdict::Pending,
        _ => Verdict::Offline,
    }
}

fn apply_verdict(node: &mut Node, v: Verdict, seen_up: bool) {
    match v {
        Verdict::Online => node.online = true,
        Verdict::Offline => {}
        Verdict::Pending => {
            node.pending = true;
        }
        Verdict::Unclean(why) => {
            node.unclean = true;
            node.online = seen_up;
            node.fence_reason = Some(why.to_string());
        }
    }
}

/// Whether a node can host resources at all.
pub fn finish_usability(w: &mut World) {
    for n in &mut w.nodes {
        n.usable = n.online
            && !n.unclean
            && !n.pending
            && !n.standby
            && !n.standby_onfail
            && !n.shutdown
            && !n.maintenance;
    }
}
