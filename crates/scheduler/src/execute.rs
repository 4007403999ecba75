//! Simulated execution of a transition, as crm_simulate does it: every action in the graph
//! "succeeds" as soon as everything ordered before it has, and the state it produces is
//! applied to a copy of the cluster.

use std::fmt::Write as _;

use tandem_cib::Role;

use crate::Transition;
use crate::graph::{ActIx, Task};
use crate::model::{Variant, World};

/// The printed action lines and the cluster state after the transition.
pub fn execute(t: &Transition) -> (String, World) {
    let order = execution_order(t);
    let mut out = String::new();
    let mut w = t.world.clone();
    for a in order {
        out.push_str(&describe(t, a));
        apply_action(t, &mut w, a);
    }
    finish(t, &mut w);
    (out, w)
}

/// Actions in waves: everything whose predecessors (in the graph) have completed, in
/// creation order within a wave.
pub fn execution_order(t: &Transition) -> Vec<ActIx> {
    let g = &t.graph;
    let n = g.actions.len();
    let in_graph: Vec<bool> = g.actions.iter().map(|a| a.in_graph()).collect();
    let mut waiting = vec![0usize; n];
    for e in &g.edges {
        if in_graph[e.first] && in_graph[e.then] {
            waiting[e.then] += 1;
        }
    }
    let mut order = Vec::new();
    let mut ready: Vec<ActIx> = (0..n).filter(|&a| in_graph[a] && waiting[a] == 0).collect();
    while !ready.is_empty() {
        ready.sort_by_key(|&a| wave_rank(t, a));
        let mut next = Vec::new();
        for &a in &ready {
            order.push(a);
            for &ei in &g.by_first[a] {
                let th = g.edges[ei].then;
                if in_graph[th] {
                    waiting[th] -= 1;
                    if waiting[th] == 0 {
                        next.push(th);
                    }
                }
            }
        }
        ready = next;
    }
    order
}

fn wave_rank(t: &Transition, a: ActIx) -> (u8, usize) {
    let act = &t.graph.actions[a];
    let class = match act.task {
        Task::Monitor if act.interval_ms == 0 => 0,
        Task::Fence => 2,
        _ => 1,
    };
    (class, a)
}

fn describe(t: &Transition, a: ActIx) -> String {
    let act = &t.graph.actions[a];
    let w = &t.world;
    let mut s = String::new();
    match act.task {
        Task::Fence => {
            let node = act.node.map(|n| w.nodes[n].uname.as_str()).unwrap_or("");
            let _ = writeln!(
                s,
                "  * Fencing {node} ({})",
                act.fence_action.as_deref().unwrap_or("reboot")
            );
        }
        _ if act.pseudo => {
            let rsc = act.rsc.map(|r| w.rscs[r].id.as_str()).unwrap_or("");
            let _ = writeln!(s, "  * Pseudo action:   {rsc}_{}_0", act.task.name());
        }
        _ => {
            let rsc = act.rsc.map(|r| w.rscs[r].id.as_str()).unwrap_or("");
            let node = act.node.map(|n| w.nodes[n].uname.as_str()).unwrap_or("");
            let task = if act.interval_ms > 0 {
                format!("{}={}", act.task.name(), act.interval_ms)
            } else {
                act.task.name().to_string()
            };
            let _ = writeln!(s, "  * Resource action: {rsc:<15} {task} on {node}");
        }
    }
    s
}

fn apply_action(t: &Transition, w: &mut World, a: ActIx) {
    let act = &t.graph.actions[a];
    match act.task {
        Task::Fence => {
            if let Some(n) = act.node {
                let node = &mut w.nodes[n];
                node.unclean = false;
                node.online = false;
                node.pending = false;
                for r in &mut w.rscs {
                    r.running_on.retain(|&x| x != n);
                }
            }
        }
        Task::Stop if !act.pseudo || act.node.is_some() => {
            if let (Some(r), Some(n)) = (act.rsc, act.node) {
                let rsc = &mut w.rscs[r];
                rsc.running_on.retain(|&x| x != n);
                if rsc.running_on.is_empty() {
                    rsc.role = Role::Stopped;
                    rsc.failed = false;
                }
            }
        }
        Task::Start => {
            if let (Some(r), Some(n)) = (act.rsc, act.node) {
                let rsc = &mut w.rscs[r];
                if !rsc.running_on.contains(&n) {
                    rsc.running_on.push(n);
                }
                rsc.role = Role::Started;
                rsc.failed = false;
            }
        }
        _ => {}
    }
}

/// After the transition: orphans that stopped disappear from the status.
fn finish(t: &Transition, w: &mut World) {
    let _ = t;
    let tops = w.tops.clone();
    w.tops = tops
        .into_iter()
        .filter(|&r| {
            !(w.rscs[r].orphan && !w.rscs[r].is_active() && w.rscs[r].variant == Variant::Primitive)
        })
        .collect();
}
