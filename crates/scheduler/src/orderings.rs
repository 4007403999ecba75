//! Stage 5: orderings — inside a resource (stop before start), inside groups and clones,
//! fencing before the recovery of what ran on the fenced node, and the configured order
//! constraints; then the fixed point that spreads "required" and "unrunnable" along them.

use tandem_cib::constraints::OrderKind;

use crate::actions::ActionMap;
use crate::constraints::{Constraints, OrderC};
use crate::graph::{ActIx, Flags, Graph, Task};
use crate::model::{RscIx, Variant, World};

/// The most times the fixed point may revisit actions (a guard against a cycle bug; the
/// pass is monotone, so it needs at most a few visits per action).
pub const MAX_PROPAGATION_STEPS_PER_ACTION: usize = 64;

const RESTART: Flags = Flags {
    implies_then: true,
    implies_first: true,
    runnable_left: true,
    restart: true,
    optional: false,
    asymmetric: false,
};

const RUNNABLE_ONLY: Flags = Flags {
    implies_then: false,
    implies_first: false,
    runnable_left: true,
    restart: false,
    optional: false,
    asymmetric: false,
};

const IMPLIES_FIRST: Flags = Flags {
    implies_then: false,
    implies_first: true,
    runnable_left: true,
    restart: false,
    optional: false,
    asymmetric: false,
};

/// Adds every ordering.
pub fn create_orderings(w: &World, g: &mut Graph, map: &ActionMap, cons: &Constraints) {
    for r in 0..w.rscs.len() {
        match w.rscs[r].variant {
            Variant::Primitive => primitive_orderings(w, g, map, r),
            Variant::Group => group_orderings(w, g, map, r),
            Variant::Clone => clone_orderings(w, g, map, r),
        }
    }
    fencing_orderings(w, g, map);
    for o in &cons.orders {
        constraint_ordering(w, g, map, o);
    }
    for s in &cons.one_or_more {
        set_one_or_more(g, map, s);
    }
}

fn primitive_orderings(w: &World, g: &mut Graph, map: &ActionMap, r: RscIx) {
    let a = &map.rsc[r];
    let Some(start) = a.start else { return };
    let start_node = g.actions[start].node;
    for &(n, stop) in &a.stops {
        let flags = if Some(n) == start_node {
            RESTART
        } else {
            RUNNABLE_ONLY
        };
        g.order(stop, start, flags);
    }
    for &m in &a.monitors {
        g.order(start, m, Flags::MANDATORY);
    }
    for &p in &a.probes {
        g.order(p, start, RUNNABLE_ONLY);
    }
    let _ = w;
}

fn group_orderings(w: &World, g: &mut Graph, map: &ActionMap, r: RscIx) {
    let e = &map.rsc[r];
    let (Some(ps), Some(run), Some(pst), Some(stopped)) = (e.pstart, e.running, e.pstop, e.stopped)
    else {
        return;
    };
    g.order(stopped, ps, Flags::ORDER_ONLY);
    let members = &w.rscs[r].children;
    let mut prev: Option<RscIx> = None;
    for &m in members {
        let (Some(mstart), Some(mrun)) = (start_of(map, m), running_of(map, m)) else {
            continue;
        };
        g.order(ps, mstart, RUNNABLE_ONLY);
        g.order(mrun, run, Flags::MANDATORY);
        for s in stops_of(map, m) {
            g.order(pst, s, Flags::MANDATORY);
        }
        for s in stopped_of(map, m) {
            g.order(s, stopped, Flags::MANDATORY);
        }
        if let Some(p) = prev {
            if let Some(prun) = running_of(map, p) {
                g.order(prun, mstart, Flags::MANDATORY);
            }
            for s in stops_of(map, m) {
                for ps2 in stopped_of(map, p) {
                    let _ = ps2;
                }
                for pstop in stops_of(map, p) {
                    g.order(s, pstop, IMPLIES_FIRST);
                }
            }
        }
        prev = Some(m);
    }
}

fn clone_orderings(w: &World, g: &mut Graph, map: &ActionMap, r: RscIx) {
    let e = &map.rsc[r];
    let (Some(ps), Some(run), Some(pst), Some(stopped)) = (e.pstart, e.running, e.pstop, e.stopped)
    else {
        return;
    };
    g.order(stopped, ps, Flags::ORDER_ONLY);
    let ordered = w.rscs[r].clone.as_ref().is_some_and(|c| c.ordered);
    let mut prev: Option<RscIx> = None;
    for &i in &w.rscs[r].children {
        let (Some(istart), Some(irun)) = (start_of(map, i), running_of(map, i)) else {
            continue;
        };
        g.order(ps, istart, RUNNABLE_ONLY);
        g.order(irun, run, Flags::MANDATORY);
        for s in stops_of(map, i) {
            g.order(pst, s, Flags::MANDATORY);
        }
        for s in stopped_of(map, i) {
            g.order(s, stopped, Flags::MANDATORY);
        }
        if ordered
            && let Some(p) = prev
            && let Some(prun) = running_of(map, p)
        {
            g.order(prun, istart, Flags::ORDER_ONLY);
        }
        prev = Some(i);
    }
}

/// The action that starts `r` (a primitive's start, a container's pseudo start).
pub fn start_of(map: &ActionMap, r: RscIx) -> Option<ActIx> {
    map.rsc[r].pstart.or(map.rsc[r].start)
}

/// The action marking `r` started (a primitive's start, a container's `running`).
pub fn running_of(map: &ActionMap, r: RscIx) -> Option<ActIx> {
    map.rsc[r].running.or(map.rsc[r].start)
}

/// The actions that stop `r`.
pub fn stops_of(map: &ActionMap, r: RscIx) -> Vec<ActIx> {
    match map.rsc[r].pstop {
        Some(p) => vec![p],
        None => map.rsc[r].stops.iter().map(|&(_, a)| a).collect(),
    }
}

/// The actions marking `r` stopped.
pub fn stopped_of(map: &ActionMap, r: RscIx) -> Vec<ActIx> {
    match map.rsc[r].stopped {
        Some(p) => vec![p],
        None => map.rsc[r].stops.iter().map(|&(_, a)| a).collect(),
    }
}

fn fencing_orderings(w: &World, g: &mut Graph, map: &ActionMap) {
    for (n, fence) in map.fence.iter().enumerate() {
        let Some(f) = *fence else { continue };
        for r in 0..w.rscs.len() {
            for &(sn, stop) in &map.rsc[r].stops {
                if sn == n {
                    g.order(f, stop, RUNNABLE_ONLY);
                }
            }
        }
    }
}

fn actions_for(map: &ActionMap, r: RscIx, task: &str, as_first: bool) -> Vec<ActIx> {
    match task {
        "start" => {
            if as_first {
                running_of(map, r).into_iter().collect()
            } else {
                start_of(map, r).into_iter().collect()
            }
        }
        "stop" => {
            if as_first {
                stopped_of(map, r)
            } else {
                stops_of(map, r)
            }
        }
        _ => Vec::new(),
    }
}

fn inverse(task: &str) -> &str {
    match task {
        "start" => "stop",
        "stop" => "start",
        "promote" => "demote",
        "demote" => "promote",
        other => other,
    }
}

fn interleaved(w: &World, o: &OrderC) -> bool {
    let (f, t) = (&w.rscs[o.first], &w.rscs[o.then]);
    f.variant == Variant::Clone
        && t.variant == Variant::Clone
        && t.clone.as_ref().is_some_and(|c| c.interleave)
}

fn constraint_ordering(w: &World, g: &mut Graph, map: &ActionMap, o: &OrderC) {
    let (mut fwd, rev) = match o.kind {
        OrderKind::Mandatory => (Flags::MANDATORY, IMPLIES_FIRST),
        OrderKind::Optional => (Flags::ORDER_ONLY, Flags::ORDER_ONLY),
        OrderKind::Serialize => return,
    };
    let symmetric = o.symmetrical;
    fwd.asymmetric = !symmetric;
    let clone_min = w.rscs[o.first].clone.as_ref().map(|c| c.min).unwrap_or(0);
    if o.first_action == "start" && (clone_min > 0 || o.one_or_more.is_some()) {
        one_or_more_ordering(w, g, map, o, clone_min.max(1), fwd);
        return;
    }
    if interleaved(w, o) {
        interleaved_ordering(w, g, map, o, fwd, rev, symmetric);
        return;
    }
    for f in actions_for(map, o.first, &o.first_action, true) {
        for t in actions_for(map, o.then, &o.then_action, false) {
            g.order(f, t, fwd);
        }
    }
    if symmetric && o.first_action == "start" && o.then_action == "start" {
        let (ti, fi) = (inverse(&o.then_action), inverse(&o.first_action));
        for t in actions_for(map, o.then, ti, true) {
            for f in actions_for(map, o.first, fi, false) {
                g.order(t, f, rev);
            }
        }
    }
}

/// "Then" may start once at least `min` instances of "first" (a clone with `clone-min`, or
/// the members of a `require-all=false` set) are running: a pseudo-action counts them.
fn one_or_more_ordering(
    w: &World,
    g: &mut Graph,
    map: &ActionMap,
    o: &OrderC,
    min: usize,
    fwd: Flags,
) {
    let mut a = crate::graph::Action::new(None, Task::OneOrMore, None);
    a.pseudo = true;
    a.min_inputs = min;
    a.label = Some(format!("clone-one-or-more:{}", o.id));
    let p = g.add(a);
    let firsts: Vec<RscIx> = if w.rscs[o.first].variant == Variant::Clone {
        w.rscs[o.first].children.clone()
    } else {
        vec![o.first]
    };
    for f in firsts {
        if let Some(fr) = running_of(map, f) {
            g.order(fr, p, Flags::MANDATORY);
        }
    }
    for t in actions_for(map, o.then, &o.then_action, false) {
        g.order(p, t, fwd);
    }
}

fn set_one_or_more(g: &mut Graph, map: &ActionMap, s: &crate::constraints::SetOneOrMore) {
    let mut fwd = match s.kind {
        OrderKind::Mandatory => Flags::MANDATORY,
        OrderKind::Optional => Flags::ORDER_ONLY,
        OrderKind::Serialize => return,
    };
    fwd.asymmetric = !s.symmetrical;
    let mut a = crate::graph::Action::new(None, Task::OneOrMore, None);
    a.pseudo = true;
    a.min_inputs = 1;
    a.label = Some(s.label.clone());
    let p = g.add(a);
    for &f in &s.firsts {
        for fa in actions_for(map, f, &s.first_action, true) {
            g.order(fa, p, Flags::MANDATORY);
        }
    }
    for &t in &s.thens {
        for ta in actions_for(map, t, &s.then_action, false) {
            g.order(p, ta, fwd);
        }
    }
}

fn instance_on(w: &World, clone: RscIx, node: Option<usize>) -> Option<RscIx> {
    let n = node?;
    w.rscs[clone].children.iter().copied().find(|&i| {
        w.primitives_of(i)
            .first()
            .is_some_and(|&p| w.rscs[p].assigned == Some(n))
    })
}

fn instance_node(w: &World, i: RscIx) -> Option<usize> {
    let p = *w.primitives_of(i).first()?;
    w.rscs[p].assigned.or(w.rscs[p].current())
}

#[allow(clippy::too_many_arguments)]
fn interleaved_ordering(
    w: &World,
    g: &mut Graph,
    map: &ActionMap,
    o: &OrderC,
    fwd: Flags,
    rev: Flags,
    symmetric: bool,
) {
    for &ti in &w.rscs[o.then].children {
        let Some(fi) = instance_on(w, o.first, instance_node(w, ti)) else {
            // Nothing of `first` on its node: this instance may not run there at all.
            if o.then_action == "start"
                && instance_node(w, ti).is_some()
                && fwd.runnable_left
                && let Some(t) = start_of(map, ti)
            {
                g.actions[t].no_peer = true;
                g.block(t, None);
            }
            continue;
        };
        for f in actions_for(map, fi, &o.first_action, true) {
            for t in actions_for(map, ti, &o.then_action, false) {
                g.order(f, t, fwd);
            }
        }
        if symmetric && o.first_action == "start" && o.then_action == "start" {
            for t in actions_for(map, ti, "stop", true) {
                for f in actions_for(map, fi, "stop", false) {
                    g.order(t, f, rev);
                }
            }
        }
    }
}

fn describe(w: &World, g: &Graph, a: ActIx) -> String {
    let act = &g.actions[a];
    if let Some(l) = &act.label {
        return l.clone();
    }
    // A container's entry pseudo-action passes on why it changed rather than naming itself.
    if act.pseudo
        && act.node.is_none()
        && matches!(act.task, Task::Start | Task::Stop)
        && let Some(r) = &act.reason
    {
        return r
            .split_once(' ')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or(r.clone());
    }
    match act.rsc {
        Some(r) => format!("{} {}", w.rscs[r].id, act.task.name()),
        None => act.task.name().to_string(),
    }
}

/// "unrunnable rsc start" — or nothing when the cause is not a resource's action (fencing).
fn reason_for(w: &World, g: &Graph, a: ActIx, other: ActIx, what: &str) -> Option<String> {
    let act = &g.actions[a];
    if act.rsc.is_none() && act.label.is_none() {
        return None;
    }
    // Within one resource (its stop before its start) there is nothing more to say.
    if act.rsc.is_some() && act.rsc == g.actions[other].rsc && !act.pseudo {
        return None;
    }
    Some(format!("{what} {}", describe(w, g, a)))
}

/// Spreads "required" and "unrunnable" along the orderings until nothing changes.
pub fn propagate(w: &World, g: &mut Graph) {
    let n = g.actions.len();
    let mut queue: Vec<ActIx> = (0..n).rev().collect();
    let mut queued = vec![true; n];
    let mut budget = n.saturating_mul(MAX_PROPAGATION_STEPS_PER_ACTION).max(1024);
    while let Some(a) = queue.pop() {
        queued[a] = false;
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
        let mut changed: Vec<ActIx> = Vec::new();
        for ei in g.by_first[a].clone() {
            let e = g.edges[ei].clone();
            let t = e.then;
            if e.flags.runnable_left && !g.actions[a].runnable && g.actions[t].runnable {
                let min = g.actions[t].min_inputs;
                let blocked = if min > 0 {
                    let ok = g.by_then[t]
                        .iter()
                        .filter(|&&x| g.edges[x].flags.runnable_left)
                        .filter(|&&x| g.actions[g.edges[x].first].runnable)
                        .count();
                    ok < min
                } else {
                    true
                };
                let reason = reason_for(w, g, a, t, "unrunnable");
                if blocked && g.block(t, reason) {
                    g.actions[t].soft_block = e.flags.asymmetric || g.actions[a].soft_block;
                    changed.push(t);
                }
            }
            if e.flags.implies_then
                && !g.actions[a].optional
                && g.require(t, reason_for(w, g, a, t, "required"))
            {
                changed.push(t);
            }
        }
        for ei in g.by_then[a].clone() {
            let e = g.edges[ei].clone();
            let f = e.first;
            if e.flags.implies_first
                && !g.actions[a].optional
                && g.require(f, reason_for(w, g, a, f, "required"))
            {
                changed.push(f);
            }
            if e.flags.restart
                && !g.actions[a].runnable
                && (!g.actions[a].optional || !g.actions[a].soft_block)
                && g.actions[a].task == Task::Start
                && g.actions[f].task == Task::Stop
            {
                let reason = g.actions[a].reason.clone();
                if g.require(f, reason) {
                    changed.push(f);
                }
            }
        }
        for c in changed {
            if !queued[c] {
                queued[c] = true;
                queue.push(c);
            }
        }
    }
}

/// A group's or clone's pseudo-actions appear in the graph when any of its children's
/// corresponding actions do (innermost containers first).
pub fn mark_container_pseudos(w: &World, g: &mut Graph, map: &ActionMap) {
    let mut containers: Vec<RscIx> = (0..w.rscs.len())
        .filter(|&r| w.rscs[r].variant != Variant::Primitive)
        .collect();
    // Children always have higher indices than their container; visit deepest first.
    containers.reverse();
    for r in containers {
        let e = &map.rsc[r];
        let children = &w.rscs[r].children;
        let any = |g: &Graph, pick: &dyn Fn(RscIx) -> Vec<ActIx>| {
            children
                .iter()
                .flat_map(|&c| pick(c))
                .any(|a| g.actions[a].in_graph())
        };
        let starting = any(g, &|c| running_of(map, c).into_iter().collect());
        let stopping = any(g, &|c| stopped_of(map, c));
        for (pseudo, on) in [
            (e.pstart, starting),
            (e.running, starting),
            (e.pstop, stopping),
            (e.stopped, stopping),
        ] {
            if let Some(p) = pseudo
                && on
            {
                g.actions[p].optional = false;
            }
        }
    }
}
