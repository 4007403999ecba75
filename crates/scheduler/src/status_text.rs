//! Cluster status as crm_simulate prints it ("Current cluster status" / "Revised Cluster
//! Status"): the node list and the resource list, in crm_mon's layout.

use std::cmp::Ordering;

use tandem_cib::Role;

use crate::model::{NodeIx, RscIx, Variant, World};

/// Compares names the way status lists sort them: runs of digits by value.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let lx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ly = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (nx, ny) = (&x[..lx], &y[..ly]);
                let tx: &[u8] = {
                    let z = nx.iter().take_while(|&&c| c == b'0').count();
                    &nx[z.min(nx.len().saturating_sub(1))..]
                };
                let ty: &[u8] = {
                    let z = ny.iter().take_while(|&&c| c == b'0').count();
                    &ny[z.min(ny.len().saturating_sub(1))..]
                };
                let o = tx.len().cmp(&ty.len()).then(tx.cmp(ty));
                if o != Ordering::Equal {
                    return o;
                }
                x = &x[lx..];
                y = &y[ly..];
            }
            (Some(c), Some(d)) => {
                let o = c.to_ascii_lowercase().cmp(&d.to_ascii_lowercase());
                if o != Ordering::Equal {
                    return o;
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

/// Per clone, the nodes a "Stopped:" line may name: those in its table when the status has
/// been read and no constraint applied yet (every node of a symmetric cluster).
pub fn clone_display_nodes(w: &World) -> Vec<Vec<NodeIx>> {
    w.rscs
        .iter()
        .map(|r| {
            if r.variant != Variant::Clone {
                return Vec::new();
            }
            (0..w.nodes.len())
                .filter(|&n| r.allowed[n].is_some())
                .collect()
        })
        .collect()
}

fn sorted_nodes(w: &World) -> Vec<NodeIx> {
    let mut v: Vec<NodeIx> = (0..w.nodes.len()).collect();
    v.sort_by(|&a, &b| natural_cmp(&w.nodes[a].uname, &w.nodes[b].uname));
    v
}

/// The node list block.
pub fn node_list(w: &World) -> String {
    let mut out = String::from("  * Node List:\n");
    out.push_str(&node_entries(w, 2));
    out
}

/// The node list's entries, at nesting `level` (crm_simulate nests them one deeper than
/// crm_mon does).
pub fn node_entries(w: &World, level: usize) -> String {
    let mut out = String::new();
    let mut online = Vec::new();
    let mut offline = Vec::new();
    for n in sorted_nodes(w) {
        let node = &w.nodes[n];
        let active = w
            .rscs
            .iter()
            .any(|r| r.is_primitive() && r.running_on.contains(&n));
        let special = if node.unclean {
            Some(if node.online {
                "UNCLEAN (online)".to_string()
            } else {
                "UNCLEAN (offline)".to_string()
            })
        } else if node.pending {
            Some("pending".to_string())
        } else if !node.online {
            None
        } else if node.standby || node.standby_onfail {
            let what = if node.standby_onfail && !node.standby {
                "standby (on-fail)"
            } else {
                "standby"
            };
            Some(if active {
                format!("{what} (with active resources)")
            } else {
                what.to_string()
            })
        } else if node.maintenance {
            Some("maintenance".to_string())
        } else {
            health_word(w, n).map(|h| format!("online (health is {h})"))
        };
        match special {
            Some(s) => out.push_str(&format!("{}* Node {}: {s}\n", indent(level), node.uname)),
            None if node.online => online.push(node.uname.clone()),
            None => offline.push(node.uname.clone()),
        }
    }
    if !online.is_empty() {
        out.push_str(&format!(
            "{}* Online: [ {} ]\n",
            indent(level),
            online.join(" ")
        ));
    }
    if !offline.is_empty() {
        out.push_str(&format!(
            "{}* OFFLINE: [ {} ]\n",
            indent(level),
            offline.join(" ")
        ));
    }
    out
}

/// The node list grouped by node (crm_mon `-n`): each node's state, then the primitives
/// active on it, at nesting `level`.
pub fn nodes_with_resources(w: &World, level: usize) -> String {
    let mut out = String::new();
    for n in sorted_nodes(w) {
        let node = &w.nodes[n];
        let state = node_state_word(w, n);
        out.push_str(&format!(
            "{}* Node {}: {state}:\n",
            indent(level),
            node.uname
        ));
        out.push_str(&format!("{}* Resources:\n", indent(level + 1)));
        for (r, rsc) in w.rscs.iter().enumerate() {
            if rsc.is_primitive() && rsc.running_on.contains(&n) {
                out.push_str(&primitive_line_with(w, r, level + 2, false));
            }
        }
    }
    out
}

/// A node's state as the grouped node list names it.
fn node_state_word(w: &World, n: NodeIx) -> String {
    let node = &w.nodes[n];
    let active = w
        .rscs
        .iter()
        .any(|r| r.is_primitive() && r.running_on.contains(&n));
    if node.unclean {
        return if node.online {
            "UNCLEAN (online)"
        } else {
            "UNCLEAN (offline)"
        }
        .to_string();
    }
    if node.pending {
        return "pending".to_string();
    }
    if !node.online {
        return "OFFLINE".to_string();
    }
    if node.standby || node.standby_onfail {
        let what = if node.standby_onfail && !node.standby {
            "standby (on-fail)"
        } else {
            "standby"
        };
        return if active {
            format!("{what} (with active resources)")
        } else {
            what.to_string()
        };
    }
    if node.maintenance {
        return "maintenance".to_string();
    }
    match health_word(w, n) {
        Some(h) => format!("online (health is {h})"),
        None => "online".to_string(),
    }
}

/// RED or YELLOW when a health strategy is in use and a `#health*` attribute says so.
fn health_word(w: &World, n: NodeIx) -> Option<&'static str> {
    if !w.node_health {
        return None;
    }
    let colours: Vec<String> = w.nodes[n]
        .attrs
        .iter()
        .filter(|(k, _)| k.starts_with("#health"))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .collect();
    if colours.iter().any(|c| c == "red") {
        Some("RED")
    } else if colours.iter().any(|c| c == "yellow") {
        Some("YELLOW")
    } else {
        None
    }
}

/// The resource list block.
pub fn resource_list(w: &World, clone_nodes: &[Vec<NodeIx>]) -> String {
    let mut out = String::from("  * Full List of Resources:\n");
    out.push_str(&resource_entries(w, clone_nodes, 2, true));
    out
}

/// The resource list's entries at nesting `level`; without `inactive`, only what is active
/// (crm_mon without `-r`). Empty if there is nothing to list.
pub fn resource_entries(
    w: &World,
    clone_nodes: &[Vec<NodeIx>],
    level: usize,
    inactive: bool,
) -> String {
    let p = Printer {
        w,
        clone_nodes,
        inactive,
    };
    let mut out = String::new();
    for &r in &w.tops {
        p.print_rsc(r, level, &mut out);
    }
    out
}

/// What the resource list shows.
struct Printer<'a> {
    w: &'a World,
    clone_nodes: &'a [Vec<NodeIx>],
    inactive: bool,
}

impl Printer<'_> {
    fn shown(&self, r: RscIx) -> bool {
        self.inactive
            || self
                .w
                .primitives_of(r)
                .iter()
                .any(|&p| self.w.rscs[p].is_active())
    }

    fn print_rsc(&self, r: RscIx, level: usize, out: &mut String) {
        if self.shown(r) {
            print_rsc(self, r, level, out);
        }
    }
}

fn indent(level: usize) -> String {
    "  ".repeat(level)
}

fn primitive_line(w: &World, r: RscIx, level: usize) -> String {
    primitive_line_with(w, r, level, true)
}

/// A primitive's line; without `with_nodes`, the state alone (the node list grouped by
/// node names the node already).
fn primitive_line_with(w: &World, r: RscIx, level: usize, with_nodes: bool) -> String {
    let rsc = &w.rscs[r];
    let mut state = match rsc.current() {
        None => "Stopped".to_string(),
        Some(n) => {
            let pending = rsc.pending_task.as_deref().and_then(pending_state);
            let role = if rsc.failed {
                "FAILED".to_string()
            } else if let Some(p) = pending {
                p.to_string()
            } else {
                match rsc.role {
                    Role::Promoted => "Promoted".to_string(),
                    Role::Unpromoted => "Unpromoted".to_string(),
                    _ => "Started".to_string(),
                }
            };
            let nodes: Vec<&str> = rsc
                .running_on
                .iter()
                .map(|&m| w.nodes[m].uname.as_str())
                .collect();
            if !with_nodes {
                role
            } else if nodes.len() > 1 {
                format!("{role} [ {} ]", nodes.join(" "))
            } else {
                format!("{role} {}", w.nodes[n].uname)
            }
        }
    };
    if rsc.orphan {
        state = format!("ORPHANED {state}");
    }
    let mut flags = Vec::new();
    // A recurring monitor in flight (pending probes are not shown).
    if rsc.pending_task.as_deref() == Some("monitor") && rsc.is_active() {
        flags.push("Monitoring");
    }
    if rsc.current().is_some_and(|n| w.nodes[n].unclean) {
        flags.push("UNCLEAN");
    }
    if rsc.target_role == Role::Stopped && !rsc.orphan {
        flags.push("disabled");
    }
    if rsc.failure_ignored {
        flags.push("failure ignored");
    }
    if rsc.maintenance || rsc.current().is_some_and(|n| w.nodes[n].maintenance) {
        flags.push("maintenance");
    } else if !rsc.managed {
        flags.push("unmanaged");
    } else if rsc.blocked && rsc.is_active() {
        flags.push("blocked");
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" ({})", flags.join(", "))
    };
    format!(
        "{}* {}\t({}):\t {state}{flags}\n",
        indent(level),
        if with_nodes { &rsc.id } else { shown_id(w, r) },
        rsc.agent.spec()
    )
}

/// An anonymous clone's instances are all called by the configured id.
fn shown_id(w: &World, r: RscIx) -> &str {
    let anonymous = w
        .clone_of(r)
        .and_then(|c| w.rscs[c].clone.as_ref())
        .is_some_and(|c| !c.unique);
    if anonymous {
        &w.rscs[r].base_id
    } else {
        &w.rscs[r].id
    }
}

/// The state shown instead of the role while an operation is in flight.
fn pending_state(task: &str) -> Option<&'static str> {
    Some(match task {
        "start" => "Starting",
        "stop" => "Stopping",
        "migrate_to" | "migrate_from" => "Migrating",
        "promote" => "Promoting",
        "demote" => "Demoting",
        _ => return None,
    })
}

fn print_rsc(p: &Printer<'_>, r: RscIx, level: usize, out: &mut String) {
    let w = p.w;
    let rsc = &w.rscs[r];
    match rsc.variant {
        Variant::Primitive => out.push_str(&primitive_line(w, r, level)),
        Variant::Group => {
            out.push_str(&format!("{}* Resource Group: {}", indent(level), rsc.id));
            if !rsc.managed && rsc.children.iter().all(|&c| !w.rscs[c].managed) {
                out.push_str(" (unmanaged)");
            }
            if rsc.target_role == Role::Stopped {
                out.push_str(" (disabled)");
            }
            out.push(':');
            out.push('\n');
            for &c in rsc.children.iter().filter(|&&c| p.shown(c)) {
                out.push_str(&primitive_line(w, c, level + 1));
            }
        }
        Variant::Clone => print_clone(p, r, level, out),
    }
}

fn instance_is_plain(w: &World, i: RscIx) -> bool {
    w.primitives_of(i).iter().all(|&p| {
        let r = &w.rscs[p];
        !r.failed
            && r.managed
            && !r.orphan
            && r.running_on.len() <= 1
            && !r.blocked
            && !r.running_on.first().is_some_and(|&n| w.nodes[n].unclean)
    }) && {
        // A group instance is plain only if all members share one state.
        let prims = w.primitives_of(i);
        let first = prims.first().map(|&p| w.rscs[p].current());
        prims.iter().all(|&p| Some(w.rscs[p].current()) == first)
    }
}

fn print_clone(p: &Printer<'_>, r: RscIx, level: usize, out: &mut String) {
    let (w, clone_nodes) = (p.w, p.clone_nodes);
    let rsc = &w.rscs[r];
    let child = rsc
        .children
        .first()
        .map(|&c| w.rscs[c].base_id.clone())
        .unwrap_or_default();
    let unique = rsc.clone.as_ref().is_some_and(|c| c.unique);
    let mut tags = Vec::new();
    if unique {
        tags.push("unique");
    }
    if !rsc.managed {
        tags.push("unmanaged");
    }
    if rsc.target_role == Role::Stopped {
        tags.push("disabled");
    }
    let tags = if tags.is_empty() {
        String::new()
    } else {
        format!(" ({})", tags.join(", "))
    };
    out.push_str(&format!(
        "{}* Clone Set: {} [{child}]{tags}:\n",
        indent(level),
        rsc.id
    ));
    let mut started: Vec<NodeIx> = Vec::new();
    for &i in &rsc.children {
        let irsc = &w.rscs[i];
        let active = w.primitives_of(i).iter().any(|&p| w.rscs[p].is_active());
        if !unique && active && instance_is_plain(w, i) {
            if let Some(n) = w
                .primitives_of(i)
                .first()
                .and_then(|&p| w.rscs[p].current())
            {
                started.push(n);
            }
            continue;
        }
        if !active && (!unique || !p.inactive) {
            continue;
        }
        match irsc.variant {
            Variant::Primitive => out.push_str(&primitive_line(w, i, level + 1)),
            _ => {
                out.push_str(&format!(
                    "{}* Resource Group: {}:\n",
                    indent(level + 1),
                    irsc.id
                ));
                for &m in &irsc.children {
                    out.push_str(&primitive_line(w, m, level + 2));
                }
            }
        }
    }
    started.sort_by(|&a, &b| natural_cmp(&w.nodes[a].uname, &w.nodes[b].uname));
    if !started.is_empty() {
        let names: Vec<&str> = started.iter().map(|&n| w.nodes[n].uname.as_str()).collect();
        out.push_str(&format!(
            "{}* Started: [ {} ]\n",
            indent(level + 1),
            names.join(" ")
        ));
    }
    // A "Stopped:" line only while some instances are not active.
    let active_instances = rsc
        .children
        .iter()
        .filter(|&&i| w.primitives_of(i).iter().any(|&q| w.rscs[q].is_active()))
        .count();
    let max = rsc.clone.as_ref().map_or(usize::MAX, |c| c.max);
    if unique || !p.inactive || active_instances >= max {
        return;
    }
    let active_nodes: Vec<NodeIx> = rsc
        .children
        .iter()
        .flat_map(|&i| w.primitives_of(i))
        .flat_map(|p| w.rscs[p].running_on.clone())
        .collect();
    let mut stopped: Vec<NodeIx> = clone_nodes
        .get(r)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !active_nodes.contains(n))
        .collect();
    stopped.sort_by(|&a, &b| natural_cmp(&w.nodes[a].uname, &w.nodes[b].uname));
    if !stopped.is_empty() {
        let names: Vec<&str> = stopped.iter().map(|&n| w.nodes[n].uname.as_str()).collect();
        let disabled = if rsc.target_role == Role::Stopped {
            " (disabled)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{}* Stopped{disabled}: [ {} ]\n",
            indent(level + 1),
            names.join(" ")
        ));
    }
}
