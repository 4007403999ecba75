//! Stage 4: actions — what each resource must do to get from where it is to where it was
//! assigned (start, stop, recurring monitors, probes), the pseudo-actions of groups and
//! clones, and fencing.

use tandem_cib::options::NoQuorumPolicy;
use tandem_cib::{ClusterOptions, Role};

use crate::build::op_timeout;
use crate::graph::{ActIx, Action, Graph, Task};
use crate::model::{NodeIx, RscIx, Variant, World};
use crate::unpack::history::HistoryFacts;

/// The actions of one resource.
#[derive(Clone, Debug, Default)]
pub struct RscActions {
    pub start: Option<ActIx>,
    pub stops: Vec<(NodeIx, ActIx)>,
    /// Containers only: the pseudo markers.
    pub running: Option<ActIx>,
    pub stopped: Option<ActIx>,
    /// Containers only: pseudo start/stop.
    pub pstart: Option<ActIx>,
    pub pstop: Option<ActIx>,
    pub monitors: Vec<ActIx>,
    pub probes: Vec<ActIx>,
}

/// Actions indexed by resource, and fencing by node.
#[derive(Clone, Debug, Default)]
pub struct ActionMap {
    pub rsc: Vec<RscActions>,
    pub fence: Vec<Option<ActIx>>,
}

/// After propagation: a restart nothing else explains is due to the definition change.
pub fn explain_definition_changes(g: &mut Graph, map: &ActionMap, changed: &[(RscIx, NodeIx)]) {
    for &(r, n) in changed {
        if let Some(s) = map.rsc[r].start
            && g.actions[s].node == Some(n)
            && g.actions[s].reason.is_none()
        {
            g.actions[s].reason = Some("resource definition change".to_string());
        }
    }
}

/// Why stops happen when nothing else explains them.
pub struct ActionCtx<'a> {
    pub options: &'a ClusterOptions,
    pub facts: &'a HistoryFacts,
    /// The partition lacks quorum and the policy stops resources.
    pub quorum_stop: bool,
    /// The partition lacks quorum and the policy freezes resources.
    pub freeze: bool,
    /// Resources whose definition changed on a node (restart there).
    pub changed: &'a [(RscIx, NodeIx)],
    /// Resources that must restart where they are for another reason (a container whose
    /// contents failed).
    pub restart: &'a [(RscIx, NodeIx)],
}

/// Creates every action.
pub fn create_actions(w: &World, g: &mut Graph, ctx: &ActionCtx<'_>) -> ActionMap {
    let mut map = ActionMap {
        rsc: vec![RscActions::default(); w.rscs.len()],
        fence: vec![None; w.nodes.len()],
    };
    create_fencing(w, g, ctx, &mut map);
    for r in 0..w.rscs.len() {
        match w.rscs[r].variant {
            Variant::Primitive => primitive_actions(w, g, ctx, r, &mut map),
            Variant::Group | Variant::Clone => container_actions(w, g, r, &mut map),
        }
    }
    map
}

/// Fencing needs quorum, except for a node still in our partition (it can be shot from here).
pub fn can_fence(w: &World, options: &ClusterOptions, n: NodeIx) -> bool {
    w.have_quorum || options.no_quorum_policy == NoQuorumPolicy::Ignore || w.nodes[n].online
}

fn create_fencing(w: &World, g: &mut Graph, ctx: &ActionCtx<'_>, map: &mut ActionMap) {
    if !ctx.options.fencing_enabled {
        return;
    }
    for (n, node) in w.nodes.iter().enumerate() {
        let Some(reason) = &node.fence_reason else {
            continue;
        };
        let mut a = Action::new(None, Task::Fence, Some(n));
        a.optional = false;
        a.runnable = can_fence(w, ctx.options, n);
        a.reason = Some(reason.clone());
        a.fence_action = Some(ctx.options.fencing_action.clone());
        a.timeout_ms = ctx.options.fencing_timeout_ms;
        map.fence[n] = Some(g.add(a));
    }
}

/// Whether the resource's stop on `n` is needed even if it stays.
fn must_stop_on(w: &World, ctx: &ActionCtx<'_>, r: RscIx, n: NodeIx) -> bool {
    let rsc = &w.rscs[r];
    if rsc.blocked {
        return false;
    }
    rsc.assigned != Some(n)
        || rsc.failed
        || rsc.multiply_active(&w.nodes)
        || w.nodes[n].unclean
        || ctx.changed.contains(&(r, n))
        || ctx.restart.contains(&(r, n))
}

fn primitive_actions(w: &World, g: &mut Graph, ctx: &ActionCtx<'_>, r: RscIx, map: &mut ActionMap) {
    let rsc = &w.rscs[r];
    let controllable = rsc.managed && !rsc.blocked;
    for &n in &rsc.running_on {
        let mut a = Action::new(Some(r), Task::Stop, Some(n));
        a.timeout_ms = op_timeout(rsc, "stop", 0);
        let node = &w.nodes[n];
        if must_stop_on(w, ctx, r, n) {
            a.optional = false;
            if rsc.assigned.is_none() {
                a.reason = Some(stop_reason(w, ctx, r));
            }
            if rsc.multiply_active(&w.nodes)
                && rsc.multiple_active == crate::model::MultipleActive::StopUnexpected
                && rsc.reason_multiple()
            {
                a.reason = Some("being multiply active".to_string());
            }
            if ctx.changed.contains(&(r, n)) && rsc.assigned == Some(n) {
                a.reason = Some("resource definition change".to_string());
            }
        }
        a.fixed = !controllable;
        if node.unclean && ctx.options.fencing_enabled {
            a.pseudo = true;
            a.runnable = controllable || rsc.blocked;
        } else if node.unclean || (!controllable && !a.optional) || rsc.blocked {
            a.runnable = false;
        }
        let ix = g.add(a);
        map.rsc[r].stops.push((n, ix));
    }
    let mut a = Action::new(Some(r), Task::Start, rsc.assigned);
    a.timeout_ms = op_timeout(rsc, "start", 0);
    match rsc.assigned {
        Some(n) => {
            let live: Vec<NodeIx> = rsc
                .running_on
                .iter()
                .copied()
                .filter(|&x| !(w.nodes[x].unclean && w.can_fence(x)))
                .collect();
            let stays = live == [n];
            // A blocked resource is left exactly where it is.
            a.optional = (stays && !must_stop_on(w, ctx, r, n)) || (rsc.blocked && rsc.is_active());
            a.fixed = !controllable;
            if (!controllable && !a.optional) || rsc.blocked {
                a.runnable = false;
                // Blocked in place: what depends on it stays as it is too.
                a.soft_block = rsc.blocked && rsc.is_active();
            }
            let needs_quorum = rsc.requires != crate::model::Requires::Nothing;
            if needs_quorum && !rsc.is_active() && (ctx.quorum_stop || ctx.freeze) {
                a.runnable = false;
                a.reason = Some(
                    if ctx.freeze {
                        "quorum freeze"
                    } else {
                        "no quorum"
                    }
                    .to_string(),
                );
            }
        }
        None => {
            a.runnable = false;
        }
    }
    let start = g.add(a);
    map.rsc[r].start = Some(start);
    if let Some(n) = rsc.assigned {
        monitor_actions(w, g, ctx, r, n, start, map);
    }
}

impl crate::model::Rsc {
    fn reason_multiple(&self) -> bool {
        self.assigned.is_some()
    }
}

fn stop_reason(w: &World, ctx: &ActionCtx<'_>, r: RscIx) -> String {
    let rsc = &w.rscs[r];
    let on_lost_node = rsc
        .running_on
        .iter()
        .any(|&n| w.nodes[n].unclean && w.can_fence(n));
    if ctx.quorum_stop
        && !on_lost_node
        && !rsc.is_fencing_device
        && rsc.requires != crate::model::Requires::Nothing
    {
        return "no quorum".to_string();
    }
    "node availability".to_string()
}

fn monitor_actions(
    w: &World,
    g: &mut Graph,
    ctx: &ActionCtx<'_>,
    r: RscIx,
    n: NodeIx,
    start: ActIx,
    map: &mut ActionMap,
) {
    let rsc = &w.rscs[r];
    let recorded = |name: &str, interval: u64| {
        ctx.facts.seen.iter().any(|s| {
            s.rsc == r
                && s.node == n
                && s.replay
                    .recurring
                    .iter()
                    .any(|(o, i)| o == name && *i == interval)
        })
    };
    for op in &rsc.ops {
        if op.interval_ms == 0 || !op.enabled || op.name != "monitor" {
            continue;
        }
        if matches!(
            op.role,
            Some(Role::Stopped) | Some(Role::Promoted) | Some(Role::Unpromoted)
        ) {
            continue;
        }
        let mut a = Action::new(Some(r), Task::Monitor, Some(n));
        a.interval_ms = op.interval_ms;
        a.timeout_ms = op.timeout_ms;
        a.optional = g.actions[start].optional && recorded(&op.name, op.interval_ms);
        a.runnable = g.actions[start].runnable;
        let m = g.add(a);
        map.rsc[r].monitors.push(m);
    }
}

fn container_actions(w: &World, g: &mut Graph, r: RscIx, map: &mut ActionMap) {
    let mut mk = |task: Task| {
        let mut a = Action::new(Some(r), task, None);
        a.pseudo = true;
        g.add(a)
    };
    let e = &mut map.rsc[r];
    e.pstart = Some(mk(Task::Start));
    e.running = Some(mk(Task::Running));
    e.pstop = Some(mk(Task::Stop));
    e.stopped = Some(mk(Task::Stopped));
    if w.rscs[r].variant == Variant::Clone {
        let running = e.running.expect("just created");
        g.actions[running].min_inputs = 1;
    }
}

/// Probes: a resource with no history on an online node is checked there before it may
/// start anywhere.
pub fn create_probes(
    w: &World,
    g: &mut Graph,
    ctx: &ActionCtx<'_>,
    map: &mut ActionMap,
    no_discovery: &[(RscIx, NodeIx)],
    exclusive: &std::collections::BTreeMap<RscIx, Vec<NodeIx>>,
) {
    if ctx.options.maintenance_mode || !ctx.options.enable_startup_probes {
        return;
    }
    let mut probed = vec![Vec::<NodeIx>::new(); w.rscs.len()];
    for s in &ctx.facts.seen {
        probed[s.rsc].push(s.node);
    }
    // A history of an anonymous clone counts for every instance on that node.
    for top in &w.tops {
        probe_unit(w, g, *top, map, &probed, no_discovery, exclusive);
    }
}

fn discovery_off(
    w: &World,
    r: RscIx,
    n: NodeIx,
    no_discovery: &[(RscIx, NodeIx)],
    exclusive: &std::collections::BTreeMap<RscIx, Vec<NodeIx>>,
) -> bool {
    let mut at = Some(r);
    while let Some(x) = at {
        if no_discovery.contains(&(x, n)) {
            return true;
        }
        if let Some(nodes) = exclusive.get(&x)
            && !nodes.contains(&n)
        {
            return true;
        }
        at = w.rscs[x].parent;
    }
    false
}

fn probe_unit(
    w: &World,
    g: &mut Graph,
    r: RscIx,
    map: &mut ActionMap,
    probed: &[Vec<NodeIx>],
    no_discovery: &[(RscIx, NodeIx)],
    exclusive: &std::collections::BTreeMap<RscIx, Vec<NodeIx>>,
) {
    let rsc = &w.rscs[r];
    match rsc.variant {
        Variant::Group => {
            for &c in &rsc.children {
                probe_unit(w, g, c, map, probed, no_discovery, exclusive);
            }
        }
        Variant::Clone => {
            let unique = rsc.clone.as_ref().is_some_and(|c| c.unique);
            if unique {
                for &c in &rsc.children {
                    probe_unit(w, g, c, map, probed, no_discovery, exclusive);
                }
                return;
            }
            // Anonymous: one probe per node, by the instance assigned there or the first
            // instance not active anywhere.
            for n in 0..w.nodes.len() {
                let node = &w.nodes[n];
                if node.unclean || node.maintenance || !(node.online || node.pending) {
                    continue;
                }
                let prims_of = |i: RscIx| w.primitives_of(i);
                let seen_here = rsc
                    .children
                    .iter()
                    .flat_map(|&i| prims_of(i))
                    .any(|p| probed[p].contains(&n));
                if seen_here {
                    continue;
                }
                let inst = rsc
                    .children
                    .iter()
                    .copied()
                    .filter(|&i| !w.rscs[i].orphan)
                    .find(|&i| prims_of(i).iter().any(|&p| w.rscs[p].assigned == Some(n)))
                    .or_else(|| {
                        rsc.children.iter().copied().find(|&i| {
                            !w.rscs[i].orphan
                                && prims_of(i).iter().all(|&p| {
                                    w.rscs[p].assigned.is_none() && !w.rscs[p].is_active()
                                })
                        })
                    })
                    .or_else(|| rsc.children.first().copied());
                if let Some(inst) = inst {
                    for p in prims_of(inst) {
                        if !discovery_off(w, p, n, no_discovery, exclusive) {
                            add_probe(w, g, p, n, map);
                        }
                    }
                }
            }
        }
        Variant::Primitive => {
            if rsc.orphan {
                return;
            }
            for n in 0..w.nodes.len() {
                let node = &w.nodes[n];
                if node.unclean || node.maintenance || !(node.online || node.pending) {
                    continue;
                }
                if probed[r].contains(&n) || discovery_off(w, r, n, no_discovery, exclusive) {
                    continue;
                }
                add_probe(w, g, r, n, map);
            }
        }
    }
}

fn add_probe(w: &World, g: &mut Graph, r: RscIx, n: NodeIx, map: &mut ActionMap) {
    let mut a = Action::new(Some(r), Task::Monitor, Some(n));
    a.optional = false;
    // A node still joining cannot be probed yet: the resource may not start until it is.
    a.runnable = !w.nodes[n].pending;
    a.timeout_ms = op_timeout(&w.rscs[r], "monitor", 0);
    let ix = g.add(a);
    map.rsc[r].probes.push(ix);
}
