//! The transition graph in Pacemaker's XML form (`crm_simulate -G`): one `synapse` per
//! action with the actions it waits for as `inputs`.

use std::fmt::Write as _;

use tandem_cib::time::format_ms;

use crate::Transition;
use crate::graph::{ActIx, Task};

fn esc(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
        .replace('>', "&gt;")
}

fn key(t: &Transition, a: ActIx) -> String {
    let act = &t.graph.actions[a];
    let rsc = act.rsc.map(|r| t.world.rscs[r].id.as_str()).unwrap_or("");
    format!("{rsc}_{}_{}", act.task.name(), act.interval_ms)
}

fn element(t: &Transition, a: ActIx, out: &mut String, indent: &str) {
    let act = &t.graph.actions[a];
    let w = &t.world;
    let node_attrs = act
        .node
        .map(|n| {
            format!(
                " on_node=\"{}\" on_node_uuid=\"{}\"",
                esc(&w.nodes[n].uname),
                esc(&w.nodes[n].id)
            )
        })
        .unwrap_or_default();
    match act.task {
        Task::Fence => {
            let _ = writeln!(
                out,
                "{indent}<crm_event id=\"{a}\" operation=\"stonith\" operation_key=\"stonith-{}-{}\"{node_attrs}>",
                act.node.map(|n| w.nodes[n].uname.as_str()).unwrap_or(""),
                act.fence_action.as_deref().unwrap_or("reboot"),
            );
            let _ = writeln!(
                out,
                "{indent}  <attributes CRM_meta_stonith_action=\"{}\" CRM_meta_timeout=\"{}\"/>",
                act.fence_action.as_deref().unwrap_or("reboot"),
                act.timeout_ms
            );
            let _ = writeln!(out, "{indent}</crm_event>");
        }
        _ if act.pseudo => {
            let _ = writeln!(
                out,
                "{indent}<pseudo_event id=\"{a}\" operation=\"{}\" operation_key=\"{}\">",
                act.task.name(),
                esc(&key(t, a))
            );
            let _ = writeln!(
                out,
                "{indent}  <attributes CRM_meta_timeout=\"{}\"/>",
                act.timeout_ms
            );
            let _ = writeln!(out, "{indent}</pseudo_event>");
        }
        _ => {
            let r = act.rsc.map(|r| &w.rscs[r]);
            let _ = writeln!(
                out,
                "{indent}<rsc_op id=\"{a}\" operation=\"{}\" operation_key=\"{}\"{node_attrs}>",
                act.task.name(),
                esc(&key(t, a))
            );
            if let Some(r) = r {
                let provider = r
                    .agent
                    .provider
                    .as_deref()
                    .map(|p| format!(" provider=\"{}\"", esc(p)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{indent}  <primitive id=\"{}\" class=\"{}\"{provider} type=\"{}\"/>",
                    esc(&r.id),
                    esc(&r.agent.class),
                    esc(&r.agent.kind)
                );
                let mut attrs = String::new();
                if act.interval_ms > 0 {
                    let _ = write!(attrs, " CRM_meta_interval=\"{}\"", act.interval_ms);
                }
                let _ = write!(attrs, " CRM_meta_timeout=\"{}\"", act.timeout_ms);
                for (k, v) in &r.params {
                    let _ = write!(attrs, " {}=\"{}\"", esc(k), esc(v));
                }
                let _ = writeln!(out, "{indent}  <attributes{attrs}/>");
            }
            let _ = writeln!(out, "{indent}</rsc_op>");
        }
    }
}

/// The graph as XML.
pub fn graph_xml(t: &Transition) -> String {
    let g = &t.graph;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<transition_graph cluster-delay=\"{}\" stonith-timeout=\"{}\" failed-stop-offset=\"INFINITY\" failed-start-offset=\"INFINITY\" transition_id=\"0\">",
        format_ms(t.options.cluster_delay_ms),
        format_ms(t.options.fencing_timeout_ms)
    );
    let in_graph: Vec<ActIx> = (0..g.actions.len())
        .filter(|&a| g.actions[a].in_graph())
        .collect();
    for (sid, &a) in in_graph.iter().enumerate() {
        let _ = writeln!(out, "  <synapse id=\"{sid}\">");
        out.push_str("    <action_set>\n");
        element(t, a, &mut out, "      ");
        out.push_str("    </action_set>\n");
        let inputs: Vec<ActIx> = g.by_then[a]
            .iter()
            .map(|&e| g.edges[e].first)
            .filter(|&f| g.actions[f].in_graph())
            .collect();
        if inputs.is_empty() {
            out.push_str("    <inputs/>\n");
        } else {
            out.push_str("    <inputs>\n");
            for f in inputs {
                out.push_str("      <trigger>\n");
                element(t, f, &mut out, "        ");
                out.push_str("      </trigger>\n");
            }
            out.push_str("    </inputs>\n");
        }
        out.push_str("  </synapse>\n");
    }
    out.push_str("</transition_graph>\n");
    out
}
