//! Operation digests: the MD5 of a resource's parameters in Pacemaker's canonical form,
//! recorded with each operation (`op-digest`). A start whose recorded digest differs from the
//! current parameters' digest means the definition changed: the resource restarts.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use tandem_cib::nvset::evaluate;
use tandem_cib::{Cib, DateTime, RuleContext};

use crate::model::{NodeIx, RscIx, World};
use crate::unpack::history::HistoryFacts;

/// The digest of a parameter set: MD5 of ` <parameters a="1" b="2"/>` plus a newline, names
/// sorted, values XML-escaped.
pub fn params_digest(params: &BTreeMap<String, String>) -> String {
    let mut text = String::from(" <parameters");
    for (k, v) in params {
        text.push(' ');
        text.push_str(k);
        text.push_str("=\"");
        text.push_str(&escape(v));
        text.push('"');
    }
    text.push_str("/>\n");
    let sum = Md5::digest(text.as_bytes());
    sum.iter().map(|b| format!("{b:02x}")).collect()
}

fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The parameters of `r` as seen on node `n` (instance attribute rules may test the node).
pub fn node_params(w: &World, r: RscIx, n: NodeIx, now: DateTime) -> BTreeMap<String, String> {
    let rsc = &w.rscs[r];
    if !rsc.instance_sets.iter().any(|s| s.rule.is_some()) {
        return rsc.params.clone();
    }
    let ctx = RuleContext::at(now).with_node(&w.nodes[n].attrs);
    evaluate(&rsc.instance_sets, &ctx, None)
}

/// Resources whose recorded start digest no longer matches their definition, per node.
pub fn changed_definitions(
    w: &World,
    cib: &Cib,
    facts: &HistoryFacts,
    now: DateTime,
) -> Vec<(RscIx, NodeIx)> {
    let mut out = Vec::new();
    for s in &facts.seen {
        let rsc = &w.rscs[s.rsc];
        if !rsc.running_on.contains(&s.node) || rsc.orphan || !rsc.managed {
            continue;
        }
        let Some(state) = cib.status.nodes.get(s.state) else {
            continue;
        };
        let Some(h) = state.resources.get(s.history) else {
            continue;
        };
        if agent_changed(rsc, h) || s.replay.pending.as_deref() == Some("start") {
            continue;
        }
        let start = h
            .ops
            .iter()
            .filter(|o| {
                matches!(
                    o.operation.as_str(),
                    "start" | "migrate_from" | "reload" | "reload-agent"
                ) && o.rc_code == 0
                    && o.op_status == 0
            })
            .max_by_key(|o| o.call_id);
        let Some(op) = start else { continue };
        let Some(recorded) = &op.op_digest else {
            continue;
        };
        // Secret parameters: the recorded digest covers values the CIB may not show, so
        // compare the digest made without them. A fence device's secure digest also covers
        // settings we cannot reconstruct; it is not compared.
        let secure = op
            .op_secure_params
            .as_deref()
            .map(|names| names.split_whitespace().collect::<Vec<_>>());
        let mut params = node_params(w, s.rsc, s.node, now);
        // The start operation's own instance attributes are part of what it ran with.
        if let Some(def) = rsc
            .ops
            .iter()
            .find(|o| o.name == "start" && o.interval_ms == 0)
        {
            params.extend(def.params.clone());
        }
        let changed = match (&secure, &op.op_secure_digest) {
            (Some(_), _) if rsc.is_fencing_device => false,
            (Some(names), Some(secure_digest)) => {
                let mut visible = params.clone();
                visible.retain(|k, _| !names.contains(&k.as_str()));
                &params_digest(&visible) != secure_digest
            }
            _ => &params_digest(&params) != recorded,
        };
        if changed {
            out.push((s.rsc, s.node));
        }
    }
    out
}

/// The history was written by a different agent (class, provider or type) than configured.
fn agent_changed(rsc: &crate::model::Rsc, h: &tandem_cib::status::ResourceHistory) -> bool {
    let differs = |recorded: &Option<String>, configured: Option<&str>| {
        recorded.as_deref().is_some_and(|r| Some(r) != configured)
    };
    !rsc.agent.class.is_empty()
        && (differs(&h.class, Some(&rsc.agent.class))
            || differs(&h.agent, Some(&rsc.agent.kind))
            || (h.class.is_some() && h.provider.as_deref() != rsc.agent.provider.as_deref()))
}

/// Resources that must restart where they run without a "definition change" to report: the
/// agent changed, or a start was still in flight.
pub fn must_restart(
    w: &World,
    cib: &Cib,
    facts: &HistoryFacts,
    now: DateTime,
) -> Vec<(RscIx, NodeIx)> {
    let mut out = Vec::new();
    for s in &facts.seen {
        let rsc = &w.rscs[s.rsc];
        if !rsc.running_on.contains(&s.node) || rsc.orphan || !rsc.managed {
            continue;
        }
        let Some(h) = cib
            .status
            .nodes
            .get(s.state)
            .and_then(|st| st.resources.get(s.history))
        else {
            continue;
        };
        let pending_start_changed = s.replay.pending.as_deref() == Some("start")
            && h.ops
                .iter()
                .filter(|o| o.operation == "start" && o.op_status == -1)
                .filter_map(|o| o.op_digest.as_ref())
                .any(|d| *d != params_digest(&node_params(w, s.rsc, s.node, now)));
        if agent_changed(rsc, h) || pending_start_changed {
            out.push((s.rsc, s.node));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_pacemakers_digests() {
        assert_eq!(
            params_digest(&BTreeMap::new()),
            "f2317cad3d54cec5d7d7aa7d0bf35cf8"
        );
        let mut p = BTreeMap::new();
        p.insert("ip".to_string(), "127.0.0.12".to_string());
        assert_eq!(params_digest(&p), "d8eeae5f6724dfcab8f57ef54367eb0a");
    }
}
