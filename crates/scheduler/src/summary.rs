//! The "Transition Summary": one line per resource whose state changes (Start, Stop, Move,
//! Recover, Restart, ...) and one per node to fence, in crm_simulate's wording.

use crate::Transition;
use crate::graph::{Action, Task};
use crate::model::{RscIx, Variant};

/// One summary line, before formatting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `Start`, `Stop`, `Move`, `Recover`, `Restart`, `Fence (reboot)`, ...
    pub verb: String,
    pub rsc: String,
    /// `node`, or `from -> to`.
    pub details: String,
    /// `due to ...`, `blocked`, or empty.
    pub note: String,
}

fn note_for(a: &Action) -> String {
    match (&a.reason, a.runnable) {
        (Some(r), true) => format!("due to {r}"),
        (Some(r), false) => format!("due to {r} (blocked)"),
        (None, false) => "blocked".to_string(),
        (None, true) => String::new(),
    }
}

/// The changes of one transition, fencing first, then resources in configuration order.
pub fn changes(t: &Transition) -> Vec<Change> {
    let mut out = Vec::new();
    for a in t.graph.actions.iter().filter(|a| a.task == Task::Fence) {
        if !a.in_graph() {
            continue;
        }
        let Some(n) = a.node else { continue };
        out.push(Change {
            verb: format!("Fence ({})", a.fence_action.as_deref().unwrap_or("reboot")),
            rsc: t.world.nodes[n].uname.clone(),
            details: String::new(),
            note: a.reason.clone().unwrap_or_default(),
        });
    }
    for &top in &t.world.tops {
        for p in t.world.primitives_of(top) {
            primitive_change(t, p, &mut out);
        }
    }
    out
}

fn primitive_change(t: &Transition, r: RscIx, out: &mut Vec<Change>) {
    let w = &t.world;
    let rsc = &w.rscs[r];
    let acts = &t.actions.rsc[r];
    let name = |n: usize| w.nodes[n].uname.clone();
    let mut push = |verb: &str, details: String, note: String| {
        out.push(Change {
            verb: verb.to_string(),
            rsc: rsc.id.clone(),
            details,
            note,
        })
    };
    let start = acts.start.map(|a| &t.graph.actions[a]);
    let stop_on = |n: usize| {
        acts.stops
            .iter()
            .find(|&&(sn, _)| sn == n)
            .map(|&(_, a)| &t.graph.actions[a])
    };
    if !rsc.managed || rsc.blocked {
        return;
    }
    let instance_start = w
        .clone_of(r)
        .and_then(|c| {
            w.rscs[c]
                .children
                .iter()
                .copied()
                .find(|&i| i == r || w.rscs[r].parent == Some(i))
        })
        .and_then(|i| t.actions.rsc[i].pstart.or(t.actions.rsc[i].start));
    if rsc.assigned.is_some() && instance_start.is_some_and(|a| t.graph.actions[a].no_peer) {
        if let Some(c) = rsc.current() {
            push("Stop", name(c), String::new());
        }
        return;
    }
    if rsc.multiply_active(&w.nodes) {
        match (rsc.assigned, start) {
            (Some(n), Some(s)) if s.runnable && rsc.running_on.contains(&n) && rsc.failed => {
                let note = if rsc.multiple_active == crate::model::MultipleActive::StopUnexpected {
                    "due to being multiply active".to_string()
                } else {
                    String::new()
                };
                push("Recover", name(n), note)
            }
            (Some(n), Some(s)) if s.runnable && rsc.running_on.contains(&n) => {
                push("Restart", name(n), String::new())
            }
            (Some(n), Some(s)) if s.runnable => {
                let from = rsc.running_on.first().map(|&c| name(c)).unwrap_or_default();
                push("Move", format!("{from} -> {}", name(n)), String::new())
            }
            _ => {
                for &n in &rsc.running_on {
                    if let Some(s) = stop_on(n) {
                        push("Stop", name(n), note_for(s));
                    }
                }
            }
        }
        return;
    }
    let cur = rsc
        .running_on
        .iter()
        .copied()
        .find(|&n| !w.nodes[n].unclean)
        .or(rsc.current());
    let Some(cur) = cur else {
        if let (Some(n), Some(s)) = (rsc.assigned, start)
            && !s.optional
        {
            let note = if s.runnable {
                String::new()
            } else {
                note_for(s)
            };
            push("Start", name(n), note);
        }
        return;
    };
    let Some(stop) = stop_on(cur) else { return };
    match (rsc.assigned, start) {
        (Some(n), Some(s)) if n == cur => {
            if s.optional && stop.optional {
                return;
            }
            if !s.runnable {
                let note = if stop.runnable {
                    note_for(s).replace(" (blocked)", "")
                } else {
                    note_for(stop)
                };
                push("Stop", name(cur), note);
            } else if rsc.failed {
                push("Recover", name(cur), String::new());
            } else {
                push("Restart", name(cur), note_for(s));
            }
        }
        (Some(n), Some(s)) => {
            if !s.runnable {
                push("Stop", name(cur), note_for(s).replace(" (blocked)", ""));
            } else if rsc.failed {
                push(
                    "Recover",
                    format!("{} -> {}", name(cur), name(n)),
                    String::new(),
                );
            } else {
                let (verb, note) = migration(t, r, cur);
                push(verb, format!("{} -> {}", name(cur), name(n)), note);
            }
        }
        _ => {
            if !stop.optional || !stop.runnable {
                push("Stop", name(cur), note_for(stop));
            }
        }
    }
}

/// Whether a move can be a live migration (`allow-migrate`, not on a node being fenced),
/// and the note for one that cannot because an earlier group member cannot.
fn migration(t: &Transition, r: RscIx, cur: usize) -> (&'static str, String) {
    let w = &t.world;
    let migratable = |x: RscIx| {
        w.rscs[x]
            .meta
            .get("allow-migrate")
            .and_then(|v| tandem_cib::types::parse_bool(v))
            .unwrap_or(false)
    };
    if !migratable(r) || w.nodes[cur].unclean {
        return ("Move", String::new());
    }
    if let Some(g) = w.group_of(r) {
        for &m in &w.rscs[g].children {
            if m == r {
                break;
            }
            if !migratable(m) && w.rscs[m].is_active() && w.rscs[m].assigned != w.rscs[m].current()
            {
                return (
                    "Move",
                    format!("due to unmigrateable {} stop", w.rscs[m].id),
                );
            }
        }
    }
    ("Migrate", String::new())
}

/// Formats the changes as crm_simulate prints them (without the header).
pub fn format_changes(changes: &[Change]) -> String {
    let width = changes
        .iter()
        .filter(|c| !c.verb.starts_with("Fence"))
        .map(|c| c.rsc.len())
        .max()
        .unwrap_or(0)
        + 4;
    let mut out = String::new();
    for c in changes {
        if c.verb.starts_with("Fence") {
            out.push_str(&format!("  * {} {} '{}'\n", c.verb, c.rsc, c.note));
            continue;
        }
        let mut line = format!("  * {:<10} {:<width$} ( {} )", c.verb, c.rsc, c.details);
        if !c.note.is_empty() {
            line.push_str("  ");
            line.push_str(&c.note);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Whether a resource is a clone (for callers that print per-variant).
pub fn is_clone(t: &Transition, r: RscIx) -> bool {
    t.world.rscs[r].variant == Variant::Clone
}
