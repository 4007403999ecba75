//! `tandem status xml` (`crm_mon --output-as xml`): the same status as a
//! `<pacemaker-result>` document, with the elements and attributes Pacemaker 2.1's crm_mon
//! writes for the summary, the nodes, the resources and the failed actions — what scripts
//! and monitoring checks read.

use tandem_cib::{Cib, DateTime, Role};
use tandem_scheduler::Transition;
use tandem_scheduler::model::{Variant, World};
use tandem_xml::{Document, NodeId};

use crate::crmmon::{ClusterView, exec_status_text, failed_actions, rc_text};
use crate::output::PACEMAKER_API_VERSION;

fn b(v: bool) -> &'static str {
    if v { "true" } else { "false" }
}

fn child(doc: &mut Document, parent: NodeId, name: &str, attrs: &[(&str, &str)]) -> NodeId {
    let n = doc.create_element_with(name, attrs);
    doc.append_child(parent, n);
    n
}

/// The status document; `request` is the command line echoed in `request`.
pub fn render(
    cib: &Cib,
    t: &Transition,
    view: &ClusterView,
    now: DateTime,
    request: &str,
) -> String {
    let mut doc = Document::with_root("pacemaker-result");
    let root = doc.root().expect("with_root made a root");
    doc.set_attr(root, "api-version", PACEMAKER_API_VERSION);
    doc.set_attr(root, "request", request);
    summary(&mut doc, root, cib, &t.world, view, now);
    nodes(&mut doc, root, &t.world);
    resources(&mut doc, root, &t.world);
    failures(&mut doc, root, cib, &t.world, now);
    child(
        &mut doc,
        root,
        "status",
        &[("code", "0"), ("message", "OK")],
    );
    doc.to_pretty_string()
}

fn summary(
    doc: &mut Document,
    root: NodeId,
    cib: &Cib,
    w: &World,
    view: &ClusterView,
    now: DateTime,
) {
    let s = child(doc, root, "summary", &[]);
    let ctx = tandem_cib::RuleContext::at(now);
    let props = tandem_cib::nvset::evaluate(&cib.config.crm_config, &ctx, None);
    let stack = props
        .get("cluster-infrastructure")
        .cloned()
        .unwrap_or_else(|| view.default_stack.to_string());
    child(doc, s, "stack", &[("type", &stack)]);
    match &view.dc {
        Some(dc) => {
            let version = props
                .get("dc-version")
                .cloned()
                .unwrap_or_else(|| crate::crmmon::dc_version(view).to_string());
            let id = w
                .node_named(dc)
                .map(|n| w.nodes[n].id.clone())
                .unwrap_or_default();
            child(
                doc,
                s,
                "current_dc",
                &[
                    ("present", "true"),
                    ("version", &version),
                    ("name", dc),
                    ("id", &id),
                    ("with_quorum", b(view.quorate)),
                ],
            );
        }
        None => {
            child(doc, s, "current_dc", &[("present", "false")]);
        }
    }
    let updated = now.ctime();
    let mut upd: Vec<(&str, &str)> = vec![("time", &updated)];
    if let Some(n) = &view.local_node {
        upd.push(("origin", n));
    }
    child(doc, s, "last_update", &upd);
    let c = view.last_change.clone().unwrap_or_default();
    child(
        doc,
        s,
        "last_change",
        &[
            ("time", &c.when),
            ("user", c.user.as_deref().unwrap_or_default()),
            ("client", c.client.as_deref().unwrap_or_default()),
            ("origin", c.origin.as_deref().unwrap_or_default()),
        ],
    );
    child(
        doc,
        s,
        "nodes_configured",
        &[("number", &w.nodes.len().to_string())],
    );
    let prims: Vec<_> = w.rscs.iter().filter(|r| r.is_primitive()).collect();
    let disabled = prims
        .iter()
        .filter(|r| r.target_role == Role::Stopped)
        .count();
    let blocked = prims.iter().filter(|r| r.blocked).count();
    child(
        doc,
        s,
        "resources_configured",
        &[
            ("number", &prims.len().to_string()),
            ("disabled", &disabled.to_string()),
            ("blocked", &blocked.to_string()),
        ],
    );
    let o = cib.config.cluster_options(now, &mut Default::default());
    let policy = match o.no_quorum_policy {
        tandem_cib::options::NoQuorumPolicy::Ignore => "ignore",
        tandem_cib::options::NoQuorumPolicy::Freeze => "freeze",
        tandem_cib::options::NoQuorumPolicy::Stop => "stop",
        tandem_cib::options::NoQuorumPolicy::Demote => "demote",
        tandem_cib::options::NoQuorumPolicy::Fence => "fence",
    };
    child(
        doc,
        s,
        "cluster_options",
        &[
            ("stonith-enabled", b(o.fencing_enabled)),
            ("symmetric-cluster", b(o.symmetric_cluster)),
            ("no-quorum-policy", policy),
            ("maintenance-mode", b(o.maintenance_mode)),
            ("stop-all-resources", b(o.stop_all_resources)),
        ],
    );
}

fn nodes(doc: &mut Document, root: NodeId, w: &World) {
    let list = child(doc, root, "nodes", &[]);
    for (ix, n) in w.nodes.iter().enumerate() {
        let running = w
            .rscs
            .iter()
            .filter(|r| r.is_primitive() && r.running_on.contains(&ix))
            .count()
            .to_string();
        child(
            doc,
            list,
            "node",
            &[
                ("name", &n.uname),
                ("id", &n.id),
                ("online", b(n.online)),
                ("standby", b(n.standby)),
                ("standby_onfail", b(n.standby_onfail)),
                ("maintenance", b(n.maintenance)),
                ("pending", b(n.pending)),
                ("unclean", b(n.unclean)),
                ("shutdown", b(n.shutdown)),
                ("expected_up", b(n.online || n.unclean)),
                ("is_dc", b(n.is_dc)),
                ("resources_running", &running),
                ("type", "member"),
            ],
        );
    }
}

fn resources(doc: &mut Document, root: NodeId, w: &World) {
    let list = child(doc, root, "resources", &[]);
    for &r in &w.tops {
        resource(doc, list, w, r);
    }
}

fn role_text(w: &World, r: usize) -> &'static str {
    let rsc = &w.rscs[r];
    if !rsc.is_active() {
        return "Stopped";
    }
    match rsc.role {
        Role::Promoted => "Promoted",
        Role::Unpromoted => "Unpromoted",
        _ => "Started",
    }
}

fn resource(doc: &mut Document, parent: NodeId, w: &World, r: usize) {
    let rsc = &w.rscs[r];
    let disabled = b(rsc.target_role == Role::Stopped);
    match rsc.variant {
        Variant::Primitive => {
            let anonymous = w
                .clone_of(r)
                .and_then(|c| w.rscs[c].clone.as_ref())
                .is_some_and(|c| !c.unique);
            let id = if anonymous { &rsc.base_id } else { &rsc.id };
            let mut attrs: Vec<(&str, String)> = vec![
                ("id", id.clone()),
                ("resource_agent", rsc.agent.spec()),
                ("role", role_text(w, r).to_string()),
            ];
            if let Some(t) = rsc.meta.get("target-role") {
                attrs.push(("target_role", t.clone()));
            }
            attrs.extend([
                ("active", b(rsc.is_active()).to_string()),
                ("orphaned", b(rsc.orphan).to_string()),
                ("blocked", b(rsc.blocked).to_string()),
                ("managed", b(rsc.managed).to_string()),
                ("failed", b(rsc.failed).to_string()),
                ("failure_ignored", "false".to_string()),
                ("nodes_running_on", rsc.running_on.len().to_string()),
            ]);
            let pairs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let el = child(doc, parent, "resource", &pairs);
            for &n in &rsc.running_on {
                let node = &w.nodes[n];
                child(
                    doc,
                    el,
                    "node",
                    &[("name", &node.uname), ("id", &node.id), ("cached", "true")],
                );
            }
        }
        Variant::Group => {
            let el = child(
                doc,
                parent,
                "group",
                &[
                    ("id", &rsc.id),
                    ("number_resources", &rsc.children.len().to_string()),
                    ("managed", b(rsc.managed)),
                    ("disabled", disabled),
                ],
            );
            for &c in &rsc.children {
                resource(doc, el, w, c);
            }
        }
        Variant::Clone => {
            let promotable = rsc
                .meta
                .get("promotable")
                .is_some_and(|v| tandem_cib::types::parse_bool(v) == Some(true));
            let unique = rsc.clone.as_ref().is_some_and(|c| c.unique);
            let failed = w.primitives_of(r).iter().any(|&p| w.rscs[p].failed);
            let el = child(
                doc,
                parent,
                "clone",
                &[
                    ("id", &rsc.id),
                    ("multi_state", b(promotable)),
                    ("unique", b(unique)),
                    ("managed", b(rsc.managed)),
                    ("disabled", disabled),
                    ("failed", b(failed)),
                    ("failure_ignored", "false"),
                ],
            );
            for &c in &rsc.children {
                resource(doc, el, w, c);
            }
        }
    }
}

fn failures(doc: &mut Document, root: NodeId, cib: &Cib, w: &World, now: DateTime) {
    let failed = failed_actions(cib, w, now);
    if failed.is_empty() {
        return;
    }
    let list = child(doc, root, "failures", &[]);
    for f in failed {
        let mut attrs: Vec<(&str, String)> = vec![
            ("op_key", f.op_key.clone()),
            ("node", f.node.clone()),
            ("exitstatus", rc_text(f.rc).to_string()),
            ("exitreason", f.exit_reason.clone().unwrap_or_default()),
            ("exitcode", f.rc.to_string()),
            ("call", f.call_id.to_string()),
            ("status", exec_status_text(f.op_status).to_string()),
        ];
        if let Some(t) = f.last_rc_change.filter(|&t| t > 0) {
            attrs.push(("last-rc-change", DateTime::from_epoch(t).to_string()));
            attrs.push(("queued", f.queue_ms.unwrap_or(0).to_string()));
            attrs.push(("exec", f.exec_ms.unwrap_or(0).to_string()));
            attrs.push(("interval", f.interval_ms.to_string()));
            attrs.push(("task", f.task.clone()));
        }
        let pairs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        child(doc, list, "failure", &pairs);
    }
}
