//! Resource state from the operation history: where each resource (clone instance) is
//! active, in which role, whether it failed, and what its failures demand.

use std::collections::BTreeMap;

use tandem_cib::Role;
use tandem_cib::status::ResourceHistory;

use crate::build::{Ctx, new_rsc};
use crate::model::{Agent, NodeIx, OnFail, RscIx, Variant, World};
use crate::unpack::ops::{Replay, ReplayCtx, replay};

/// Per-history facts kept for later stages (probes, digests, cancellations).
#[derive(Clone, Debug)]
pub struct Seen {
    pub rsc: RscIx,
    pub node: NodeIx,
    /// Index of the node_state in `cib.status.nodes` and of the history in it.
    pub state: usize,
    pub history: usize,
    pub replay: Replay,
}

/// What unpacking the history produced besides the resource states.
#[derive(Clone, Debug, Default)]
pub struct HistoryFacts {
    pub seen: Vec<Seen>,
    /// (resource or clone, node): never run here (hard error).
    pub bans: Vec<(RscIx, NodeIx)>,
    /// Resources (or clones) a fatal error stops everywhere.
    pub fatal: Vec<RscIx>,
}

/// Unpacks the history of every node whose history counts.
pub fn unpack_history(w: &mut World, ctx: &Ctx<'_>) -> HistoryFacts {
    let mut facts = HistoryFacts::default();
    let clone_children = clone_child_index(w);
    for (si, state) in ctx.cib.status.nodes.iter().enumerate() {
        if state.remote_node {
            continue;
        }
        let by_id = w.nodes.iter().position(|n| n.id == state.id);
        let by_name = || state.uname.as_deref().and_then(|u| w.node_named(u));
        let Some(node) = by_id.or_else(by_name) else {
            continue;
        };
        let n = &w.nodes[node];
        if !n.online && !n.unclean && !n.pending {
            continue;
        }
        for (hi, h) in state.resources.iter().enumerate() {
            let Some(rsc) = resolve(w, ctx, h, node, &clone_children, &mut facts, si, hi) else {
                continue;
            };
            let _ = rsc;
        }
    }
    for r in 0..w.rscs.len() {
        let rsc = &w.rscs[r];
        let multiple = rsc.multiply_active(&w.nodes);
        match rsc.multiple_active {
            crate::model::MultipleActive::Block if multiple => w.rscs[r].blocked = true,
            crate::model::MultipleActive::StopOnly if multiple => w.rscs[r].stop_on_fail = true,
            _ => {}
        }
        // Resources on a node in maintenance are left exactly as they are.
        if w.rscs[r].running_on.iter().any(|&n| w.nodes[n].maintenance) {
            w.rscs[r].managed = false;
        }
    }
    facts
}

/// Maps a clone child's configured id (a primitive id, for groups each member id) to the
/// clone.
fn clone_child_index(w: &World) -> BTreeMap<String, RscIx> {
    let mut out = BTreeMap::new();
    for (ix, r) in w.rscs.iter().enumerate() {
        if r.variant == Variant::Clone {
            for &inst in &r.children {
                for p in w.primitives_of(inst) {
                    out.entry(w.rscs[p].base_id.clone()).or_insert(ix);
                }
            }
        }
    }
    out
}

fn strip_instance(id: &str) -> (&str, Option<usize>) {
    match id.rsplit_once(':') {
        Some((base, n)) => match n.parse() {
            Ok(n) => (base, Some(n)),
            Err(_) => (id, None),
        },
        None => (id, None),
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve(
    w: &mut World,
    ctx: &Ctx<'_>,
    h: &ResourceHistory,
    node: NodeIx,
    clone_children: &BTreeMap<String, RscIx>,
    facts: &mut HistoryFacts,
    si: usize,
    hi: usize,
) -> Option<RscIx> {
    let (base, num) = strip_instance(&h.id);
    let direct = w
        .rsc(&h.id)
        .filter(|&r| w.rscs[r].is_primitive() && w.clone_of(r).is_none());
    let template = direct.or_else(|| {
        clone_children.get(base).and_then(|&c| {
            w.primitives_of(c)
                .into_iter()
                .find(|&p| w.rscs[p].base_id == base)
        })
    });
    let on_fail_rsc = template;
    let on_fail_for = |task: &str, interval: u64| -> OnFail {
        let configured = on_fail_rsc.and_then(|r| {
            w.rscs[r]
                .ops
                .iter()
                .find(|o| o.name == task && o.interval_ms == interval)
                .and_then(|o| o.on_fail)
        });
        configured.unwrap_or(match task {
            "stop" if w.fencing_enabled => OnFail::Fence,
            "stop" => OnFail::Block,
            _ => OnFail::Restart,
        })
    };
    let failure_timeout_ms = template.map(|r| w.rscs[r].failure_timeout_ms).unwrap_or(0);
    let rctx = ReplayCtx {
        now: ctx.now,
        failure_timeout_ms,
        on_fail_for: &on_fail_for,
    };
    let rep = replay(&h.ops, &rctx);
    let active = rep.role.is_some_and(|r| r != Role::Stopped);
    let target = match (direct, clone_children.get(base).copied()) {
        (Some(r), _) => Some(r),
        (None, Some(clone)) => {
            let unique = w.rscs[clone].clone.as_ref().is_some_and(|c| c.unique);
            if unique {
                Some(unique_instance(w, ctx, clone, base, num))
            } else {
                anonymous_instance(w, ctx, clone, base, node, active)
            }
        }
        (None, None) if active => Some(orphan(w, h, ctx.options.stop_removed_resources)),
        (None, None) => None,
    };
    let ban_target = match (direct, clone_children.get(base).copied()) {
        (Some(r), _) => Some(r),
        (None, Some(clone)) => Some(clone),
        _ => target,
    };
    if let Some(b) = ban_target {
        if rep.ban {
            facts.bans.push((b, node));
        }
        if rep.fatal {
            facts.fatal.push(b);
        }
    }
    let r = target?;
    attach(w, r, node, &rep);
    facts.seen.push(Seen {
        rsc: r,
        node,
        state: si,
        history: hi,
        replay: rep,
    });
    Some(r)
}

fn attach(w: &mut World, r: RscIx, node: NodeIx, rep: &Replay) {
    let mut active = rep.role.is_some_and(|role| role != Role::Stopped);
    let fencing = w.fencing_enabled;
    // Fencing the node recovers a soft failure there; a hard one (agent missing, bad
    // configuration) stays on record.
    let fenceable = w.nodes[node].unclean
        && fencing
        && rep.severity == Some(crate::unpack::ops::Severity::Soft);
    // A failed stop inside a container is dealt with by recovering the container: the
    // resource counts as stopped.
    if rep.failed
        && rep.failed_task.as_deref() == Some("stop")
        && crate::containers::container_of(w, r).is_some()
    {
        active = false;
        w.rscs[r].failed = true;
    }
    let rsc = &mut w.rscs[r];
    if active {
        if !rsc.running_on.contains(&node) {
            rsc.running_on.push(node);
        }
        let role = rep.role.unwrap_or(Role::Started);
        if rsc.role == Role::Stopped || role > rsc.role {
            rsc.role = role;
        }
    }
    if rep.pending.is_some() && rsc.pending_task.is_none() {
        rsc.pending_task = rep.pending.clone();
    }
    if rep.failure_ignored {
        rsc.failure_ignored = true;
    }
    if !rep.failed || !active {
        return;
    }
    // Fencing the node recovers whatever failed there: the resource simply moves.
    if fenceable {
        return;
    }
    rsc.failed = true;
    let id = rsc.id.clone();
    match rep.on_fail.unwrap_or(OnFail::Restart) {
        OnFail::Block => rsc.blocked = true,
        OnFail::Stop => rsc.stop_on_fail = true,
        OnFail::Standby => w.nodes[node].standby_onfail = true,
        OnFail::Fence if fencing => {
            let n = &mut w.nodes[node];
            n.unclean = true;
            if n.fence_reason.is_none() {
                n.fence_reason = Some(format!("{} failed there", base_name(&id)));
            }
        }
        OnFail::Fence => rsc.blocked = true,
        OnFail::Ignore | OnFail::Demote | OnFail::Restart => {}
    }
}

/// The id Pacemaker names in "failed there": the instance id for clones.
fn base_name(id: &str) -> &str {
    id
}

fn unique_instance(
    w: &mut World,
    ctx: &Ctx<'_>,
    clone: RscIx,
    base: &str,
    num: Option<usize>,
) -> RscIx {
    let n = num.unwrap_or(0);
    let id = format!("{base}:{n}");
    if let Some(r) = w.rsc(&id).filter(|&r| w.clone_of(r) == Some(clone)) {
        return r;
    }
    new_orphan_instance(w, ctx, clone, base, n)
}

/// Picks the instance an anonymous clone's history belongs to: the instance already active
/// on this node (another member of a cloned group), else the lowest-numbered instance not
/// active anywhere, else a new orphan instance.
fn anonymous_instance(
    w: &mut World,
    ctx: &Ctx<'_>,
    clone: RscIx,
    base: &str,
    node: NodeIx,
    active: bool,
) -> Option<RscIx> {
    let instances = w.rscs[clone].children.clone();
    let member = |w: &World, inst: RscIx| {
        w.primitives_of(inst)
            .into_iter()
            .find(|&p| w.rscs[p].base_id == base)
    };
    let on_node = |w: &World, inst: RscIx| {
        w.primitives_of(inst)
            .iter()
            .any(|&p| w.rscs[p].running_on.contains(&node))
    };
    for &inst in &instances {
        if on_node(w, inst)
            && let Some(m) = member(w, inst)
            && !w.rscs[m].running_on.contains(&node)
        {
            return Some(m);
        }
    }
    if !active {
        return None;
    }
    for &inst in &instances {
        let idle = w
            .primitives_of(inst)
            .iter()
            .all(|&p| w.rscs[p].running_on.is_empty());
        if idle && !w.rscs[inst].orphan {
            return member(w, inst);
        }
    }
    let n = instances.len();
    let inst = new_orphan_instance(w, ctx, clone, base, n);
    Some(inst)
}

fn new_orphan_instance(w: &mut World, ctx: &Ctx<'_>, clone: RscIx, base: &str, n: usize) -> RscIx {
    let template = w
        .primitives_of(clone)
        .into_iter()
        .find(|&p| w.rscs[p].base_id == base);
    let id = format!("{base}:{n}");
    let ix = w.rscs.len();
    let top = w.rscs[clone].top;
    let mut rsc = match template {
        Some(t) => {
            let mut r = w.rscs[t].clone();
            r.running_on.clear();
            r.role = Role::Stopped;
            r.failed = false;
            r.allowed = vec![None; w.nodes.len()];
            r
        }
        None => new_rsc(
            &id,
            base,
            Variant::Primitive,
            Some(clone),
            top,
            w.nodes.len(),
        ),
    };
    rsc.id = id.clone();
    rsc.parent = Some(clone);
    rsc.children.clear();
    rsc.orphan = true;
    let _ = ctx;
    w.rscs.push(rsc);
    w.rscs[clone].children.push(ix);
    w.by_id.entry(id).or_insert(ix);
    ix
}

fn orphan(w: &mut World, h: &ResourceHistory, stop_removed: bool) -> RscIx {
    if let Some(r) = w.rsc(&h.id) {
        return r;
    }
    let ix = w.rscs.len();
    let mut rsc = new_rsc(&h.id, &h.id, Variant::Primitive, None, ix, w.nodes.len());
    rsc.orphan = true;
    // With stop-removed-resources=false a removed resource is left alone where it runs.
    rsc.managed = stop_removed;
    rsc.agent = Agent {
        class: h.class.clone().unwrap_or_default(),
        provider: h.provider.clone(),
        kind: h.agent.clone().unwrap_or_default(),
    };
    rsc.is_fencing_device = rsc.agent.class == "stonith";
    w.rscs.push(rsc);
    w.tops.push(ix);
    w.by_id.insert(h.id.clone(), ix);
    ix
}
