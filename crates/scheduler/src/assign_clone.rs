//! Clone instance placement: instances keep the node they are active on when they may, the
//! rest go to the best nodes that still have room (`clone-node-max`), up to `clone-max`.

use tandem_cib::Score;

use crate::assign::Assigner;
use crate::model::{NodeIx, RscIx, Variant};

/// Assigns a clone's instances.
pub fn assign_clone(a: &mut Assigner<'_>, c: RscIx) {
    if a.w.rscs[c].assigned_done || a.w.rscs[c].assigning {
        return;
    }
    a.w.rscs[c].assigning = true;
    for &ci in &a.cons.as_dependent[c] {
        let coloc = a.cons.colocs[ci].clone();
        a.assign(coloc.primary);
        a.apply_coloc(c, &coloc);
    }
    a.log_table("pcmk__clone_assign", c);
    let instances = a.w.rscs[c].children.clone();
    for &i in &instances {
        a.log_table("pcmk__clone_assign", i);
    }
    let (max, node_max) = a.w.rscs[c]
        .clone
        .as_ref()
        .map(|m| (m.max, m.node_max.max(1)))
        .unwrap_or((0, 1));
    let nodes = a.w.nodes.len();
    let unique = a.w.rscs[c].clone.as_ref().is_some_and(|m| m.unique);
    let mut count = vec![0usize; nodes];
    let mut total = 0usize;
    let mut done = vec![false; instances.len()];
    for (k, &i) in instances.iter().enumerate() {
        if a.w.rscs[i].orphan {
            place_instance(a, i, None);
            done[k] = true;
        }
    }
    // Pass 1: instances stay where they are active, if they may.
    for (k, &i) in instances.iter().enumerate() {
        if done[k] || total >= max {
            continue;
        }
        let Some(cur) = instance_current(a, i) else {
            continue;
        };
        if count[cur] >= node_max || !a.w.nodes[cur].usable {
            continue;
        }
        // An anonymous instance keeps its node if it may; a globally unique one goes where it
        // would go now among nodes with room (it keeps its node when that is one of the best).
        let mask: Vec<bool> = if unique {
            (0..nodes).map(|n| count[n] < node_max).collect()
        } else {
            (0..nodes).map(|n| n == cur).collect()
        };
        match assign_instance(a, i, &mask) {
            Some(n) if unique || n == cur => {
                count[n] += 1;
                total += 1;
                done[k] = true;
            }
            _ => unassign_instance(a, i),
        }
    }
    // Pass 2: the rest, best node with room first.
    for (k, &i) in instances.iter().enumerate() {
        if done[k] {
            continue;
        }
        if total >= max {
            place_instance(a, i, None);
            continue;
        }
        let mask: Vec<bool> = (0..nodes).map(|n| count[n] < node_max).collect();
        match assign_instance(a, i, &mask) {
            Some(n) => {
                count[n] += 1;
                total += 1;
            }
            None => place_instance(a, i, None),
        }
    }
    let rsc = &mut a.w.rscs[c];
    rsc.assigning = false;
    rsc.assigned_done = true;
}

/// The node an instance is active on (for a group instance: its first active member's).
fn instance_current(a: &Assigner<'_>, i: RscIx) -> Option<NodeIx> {
    let r = &a.w.rscs[i];
    match r.variant {
        Variant::Primitive if r.running_on.len() == 1 => r.current(),
        Variant::Primitive => None,
        _ => r.children.iter().find_map(|&m| a.w.rscs[m].current()),
    }
}

/// Assigns an instance with only the nodes in `mask` possible.
fn assign_instance(a: &mut Assigner<'_>, i: RscIx, mask: &[bool]) -> Option<NodeIx> {
    let saved = mask_tables(a, i, mask);
    let result = match a.w.rscs[i].variant {
        Variant::Primitive => a.assign_primitive(i),
        _ => {
            for m in a.w.rscs[i].children.clone() {
                a.assign_primitive(m);
            }
            let first = a.w.rscs[i].children.first().copied();
            let node = first.and_then(|f| a.w.rscs[f].assigned);
            let r = &mut a.w.rscs[i];
            r.assigned = node;
            r.assigned_done = true;
            node
        }
    };
    restore_tables(a, saved);
    result
}

type Saved = Vec<(RscIx, Vec<Option<Score>>)>;

fn mask_tables(a: &mut Assigner<'_>, i: RscIx, mask: &[bool]) -> Saved {
    let mut saved = Vec::new();
    let mut stack = vec![i];
    while let Some(r) = stack.pop() {
        saved.push((r, a.w.rscs[r].allowed.clone()));
        for (n, s) in a.w.rscs[r].allowed.iter_mut().enumerate() {
            if !mask[n] && s.is_some() {
                *s = Some(Score::MINUS_INFINITY);
            }
        }
        stack.extend(a.w.rscs[r].children.iter().copied());
    }
    saved
}

fn restore_tables(a: &mut Assigner<'_>, saved: Saved) {
    for (r, t) in saved {
        a.w.rscs[r].allowed = t;
    }
}

fn unassign_instance(a: &mut Assigner<'_>, i: RscIx) {
    let mut stack = vec![i];
    while let Some(r) = stack.pop() {
        if let Some(n) = a.w.rscs[r].assigned
            && a.w.rscs[r].is_primitive()
        {
            a.w.nodes[n].assigned_count = a.w.nodes[n].assigned_count.saturating_sub(1);
            let util = a.w.rscs[r].utilization.clone();
            a.capacity.release(n, &util);
        }
        let rsc = &mut a.w.rscs[r];
        rsc.assigned = None;
        rsc.assigned_done = false;
        rsc.assigning = false;
        stack.extend(rsc.children.iter().copied());
    }
}

fn place_instance(a: &mut Assigner<'_>, i: RscIx, node: Option<NodeIx>) {
    let mut stack = vec![i];
    while let Some(r) = stack.pop() {
        if a.w.rscs[r].is_primitive() {
            a.place(r, node);
        } else {
            let rsc = &mut a.w.rscs[r];
            rsc.assigned = node;
            rsc.assigned_done = true;
            stack.extend(rsc.children.iter().copied());
        }
    }
}
