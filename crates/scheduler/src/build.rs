//! Stage 1a: the configuration as a [`World`] — nodes and the resource tree, clones expanded
//! into their instances, every meta-attribute resolved to its effective value.

use std::collections::BTreeMap;

use tandem_cib::nvset::{NvSet, evaluate, evaluate_into};
use tandem_cib::resources::{Operation, Primitive, Resource};
use tandem_cib::time::parse_ms;
use tandem_cib::types::parse_bool;
use tandem_cib::{Cib, ClusterOptions, DateTime, Role, RuleContext, Score};

use crate::model::{
    Agent, CloneMeta, MultipleActive, Node, OnFail, OpDef, Requires, Rsc, RscIx, Variant, World,
};

/// The default operation timeout (Pacemaker's 20 s).
pub const DEFAULT_OP_TIMEOUT_MS: u64 = 20_000;

/// The most instances one clone may have: a typo like `clone-max=1000000000` must not
/// exhaust memory. Real clusters have at most a few hundred nodes.
pub const MAX_CLONE_INSTANCES: usize = 10_000;

/// Inputs shared by the builders.
pub struct Ctx<'a> {
    pub cib: &'a Cib,
    pub now: DateTime,
    pub options: &'a ClusterOptions,
}

/// Builds nodes and resources from the configuration.
pub fn build_world(ctx: &Ctx<'_>) -> World {
    let mut w = World {
        fencing_enabled: ctx.options.fencing_enabled,
        ignore_quorum: ctx.options.no_quorum_policy == tandem_cib::options::NoQuorumPolicy::Ignore,
        node_health: !matches!(ctx.options.node_health_strategy.as_str(), "" | "none"),
        ..World::default()
    };
    for n in &ctx.cib.config.nodes {
        if n.kind != tandem_cib::nodes::NodeKind::Member || w.node_by_name.contains_key(&n.uname) {
            continue;
        }
        let mut attrs = BTreeMap::new();
        attrs.insert("#uname".to_string(), n.uname.clone());
        attrs.insert("#id".to_string(), n.id.clone());
        attrs.insert("#kind".to_string(), "cluster".to_string());
        if let Some(name) = &ctx.options.cluster_name {
            attrs.insert("#cluster-name".to_string(), name.clone());
        }
        let rctx = RuleContext::at(ctx.now);
        evaluate_into(&mut attrs, &n.instance, &rctx, None);
        let utilization = numeric(&evaluate(&n.utilization, &rctx, None));
        let ix = w.nodes.len();
        w.node_by_name.insert(n.uname.clone(), ix);
        w.nodes.push(Node {
            id: n.id.clone(),
            uname: n.uname.clone(),
            attrs,
            utilization,
            ..Node::default()
        });
    }
    let node_count = w.nodes.len();
    for r in &ctx.cib.config.resources {
        let top = add_resource(&mut w, ctx, r, None, &[], node_count);
        w.tops.push(top);
    }
    w
}

/// Parses the numeric values of a utilization block (others are ignored, as Pacemaker does).
pub fn numeric(values: &BTreeMap<String, String>) -> BTreeMap<String, i64> {
    values
        .iter()
        .filter_map(|(k, v)| v.trim().parse::<i64>().ok().map(|n| (k.clone(), n)))
        .collect()
}

fn meta_of(
    ctx: &Ctx<'_>,
    own: &[NvSet],
    inherited: &[&[NvSet]],
    agent: Option<&Agent>,
) -> BTreeMap<String, String> {
    let mut rctx = RuleContext::at(ctx.now);
    if let Some(a) = agent {
        rctx.resource = Some((&a.class, a.provider.as_deref(), &a.kind));
    }
    let mut out = BTreeMap::new();
    evaluate_into(&mut out, own, &rctx, None);
    for sets in inherited.iter().rev() {
        evaluate_into(&mut out, *sets, &rctx, None);
    }
    evaluate_into(&mut out, &ctx.cib.config.rsc_defaults, &rctx, None);
    out
}

fn add_resource(
    w: &mut World,
    ctx: &Ctx<'_>,
    r: &Resource,
    parent: Option<RscIx>,
    inherited: &[&[NvSet]],
    node_count: usize,
) -> RscIx {
    match r {
        Resource::Primitive(p) => add_primitive(w, ctx, p, parent, inherited, None),
        Resource::Group(g) => {
            let meta = meta_of(ctx, &g.meta, inherited, None);
            let ix = push(w, ctx, &g.id, &g.id, Variant::Group, parent, meta);
            let mut inh: Vec<&[NvSet]> = inherited.to_vec();
            inh.push(&g.meta);
            for c in &g.children {
                let cix = add_primitive(w, ctx, c, Some(ix), &inh, None);
                w.rscs[ix].children.push(cix);
            }
            ix
        }
        Resource::Clone(c) => {
            let meta = meta_of(ctx, &c.meta, inherited, None);
            let ix = push(w, ctx, &c.id, &c.id, Variant::Clone, parent, meta);
            let cm = clone_meta(&w.rscs[ix].meta, node_count);
            let max = cm.max;
            w.rscs[ix].clone = Some(cm);
            let mut inh: Vec<&[NvSet]> = inherited.to_vec();
            inh.push(&c.meta);
            for i in 0..max {
                let cix = add_instance(w, ctx, &c.child, ix, &inh, i);
                w.rscs[ix].children.push(cix);
            }
            ix
        }
        Resource::Bundle(b) => {
            // Bundles are outside this scheduler's scope for now: the bundle is kept as an
            // unmanaged, empty group so that it is listed and its constraints resolve.
            let meta = meta_of(ctx, &b.meta, inherited, None);
            let ix = push(w, ctx, &b.id, &b.id, Variant::Group, parent, meta);
            w.rscs[ix].managed = false;
            ix
        }
    }
}

/// Adds instance `i` of a clone's child.
pub fn add_instance(
    w: &mut World,
    ctx: &Ctx<'_>,
    child: &Resource,
    clone: RscIx,
    inherited: &[&[NvSet]],
    i: usize,
) -> RscIx {
    match child {
        Resource::Primitive(p) => add_primitive(w, ctx, p, Some(clone), inherited, Some(i)),
        Resource::Group(g) => {
            let meta = meta_of(ctx, &g.meta, inherited, None);
            let id = format!("{}:{i}", g.id);
            let ix = push(w, ctx, &id, &g.id, Variant::Group, Some(clone), meta);
            let mut inh: Vec<&[NvSet]> = inherited.to_vec();
            inh.push(&g.meta);
            for c in &g.children {
                let cix = add_primitive(w, ctx, c, Some(ix), &inh, Some(i));
                w.rscs[ix].children.push(cix);
            }
            ix
        }
        // Clones of clones and bundles in clones are not valid configurations; keep a
        // placeholder primitive-less group so indices stay consistent.
        Resource::Clone(_) | Resource::Bundle(_) => {
            let id = format!("{}:{i}", child.id());
            push(
                w,
                ctx,
                &id,
                child.id(),
                Variant::Group,
                Some(clone),
                BTreeMap::new(),
            )
        }
    }
}

fn add_primitive(
    w: &mut World,
    ctx: &Ctx<'_>,
    p: &Primitive,
    parent: Option<RscIx>,
    inherited: &[&[NvSet]],
    instance: Option<usize>,
) -> RscIx {
    let agent = Agent {
        class: p.class.clone(),
        provider: p.provider.clone(),
        kind: p.agent.clone(),
    };
    let meta = meta_of(ctx, &p.meta, inherited, Some(&agent));
    let id = match instance {
        Some(i) => format!("{}:{i}", p.id),
        None => p.id.clone(),
    };
    let ix = push(w, ctx, &id, &p.id, Variant::Primitive, parent, meta);
    let rctx = RuleContext::at(ctx.now);
    let params = evaluate(&p.instance, &rctx, None);
    let rsc = &mut w.rscs[ix];
    rsc.is_fencing_device = agent.class == "stonith";
    if rsc.is_fencing_device && !rsc.meta.contains_key("requires") {
        rsc.requires = Requires::Quorum;
    }
    rsc.utilization = numeric(&evaluate(&p.utilization, &rctx, None));
    rsc.ops = p.ops.iter().map(|o| op_def(ctx, o, &agent)).collect();
    rsc.params = params;
    rsc.instance_sets = p.instance.clone();
    rsc.agent = agent;
    ix
}

fn op_def(ctx: &Ctx<'_>, o: &Operation, agent: &Agent) -> OpDef {
    let mut rctx = RuleContext::at(ctx.now);
    rctx.resource = Some((&agent.class, agent.provider.as_deref(), &agent.kind));
    rctx.operation = Some((&o.name, o.interval_ms));
    let mut meta = evaluate(&o.meta, &rctx, None);
    let defaults = evaluate(&ctx.cib.config.op_defaults, &rctx, None);
    let pick = |name: &str, meta: &BTreeMap<String, String>| -> Option<String> {
        o.attr(name)
            .map(str::to_string)
            .or_else(|| meta.get(name).cloned())
            .or_else(|| defaults.get(name).cloned())
    };
    let timeout_ms = pick("timeout", &meta)
        .and_then(|t| parse_ms(&t).ok())
        .unwrap_or(DEFAULT_OP_TIMEOUT_MS);
    let on_fail = pick("on-fail", &meta).and_then(|v| OnFail::parse(&v));
    let enabled = pick("enabled", &meta)
        .and_then(|v| parse_bool(&v))
        .unwrap_or(true);
    let role = o
        .role
        .or_else(|| pick("role", &meta).and_then(|r| Role::parse(&r)));
    meta.retain(|k, _| k != "timeout");
    OpDef {
        name: o.name.clone(),
        interval_ms: o.interval_ms,
        timeout_ms,
        role,
        on_fail,
        enabled,
        params: evaluate(&o.instance, &rctx, None),
        meta,
    }
}

fn push(
    w: &mut World,
    ctx: &Ctx<'_>,
    id: &str,
    base: &str,
    variant: Variant,
    parent: Option<RscIx>,
    meta: BTreeMap<String, String>,
) -> RscIx {
    let ix = w.rscs.len();
    let top = parent.map(|p| w.rscs[p].top).unwrap_or(ix);
    let mut rsc = new_rsc(id, base, variant, parent, top, w.nodes.len());
    apply_meta(&mut rsc, &meta, ctx.options);
    rsc.meta = meta;
    w.by_id.entry(id.to_string()).or_insert(ix);
    w.rscs.push(rsc);
    ix
}

/// A resource with every default in place.
pub fn new_rsc(
    id: &str,
    base: &str,
    variant: Variant,
    parent: Option<RscIx>,
    top: RscIx,
    nodes: usize,
) -> Rsc {
    Rsc {
        id: id.to_string(),
        base_id: base.to_string(),
        variant,
        parent,
        children: Vec::new(),
        top,
        agent: Agent::default(),
        params: BTreeMap::new(),
        instance_sets: Vec::new(),
        meta: BTreeMap::new(),
        ops: Vec::new(),
        utilization: BTreeMap::new(),
        clone: None,
        priority: 0,
        stickiness: Score::ZERO,
        target_role: Role::Started,
        managed: true,
        maintenance: false,
        migration_threshold: tandem_cib::INFINITY as i64,
        failure_timeout_ms: 0,
        multiple_active: MultipleActive::StopStart,
        requires: Requires::Fencing,
        critical: true,
        is_fencing_device: false,
        orphan: false,
        running_on: Vec::new(),
        role: Role::Stopped,
        failed: false,
        blocked: false,
        banned: Vec::new(),
        stop_on_fail: false,
        failure_ignored: false,
        pending_task: None,
        allowed: vec![None; nodes],
        assigned: None,
        next_role: Role::Stopped,
        assigned_done: false,
        assigning: false,
    }
}

/// Resolves the meta-attributes the scheduler acts on.
pub fn apply_meta(rsc: &mut Rsc, meta: &BTreeMap<String, String>, options: &ClusterOptions) {
    let get = |k: &str| meta.get(k).map(String::as_str);
    if let Some(p) = get("priority").and_then(|v| Score::parse(v).ok()) {
        rsc.priority = p.value() as i64;
    }
    if let Some(s) = get("resource-stickiness")
        .or_else(|| get("resource_stickiness"))
        .and_then(|v| Score::parse(v).ok())
    {
        rsc.stickiness = s;
    }
    if let Some(r) = get("target-role").and_then(Role::parse) {
        rsc.target_role = r;
    }
    if let Some(m) = get("is-managed").and_then(parse_bool) {
        rsc.managed = m;
    }
    if let Some(m) = get("maintenance").and_then(parse_bool) {
        rsc.maintenance = m;
        if m {
            rsc.managed = false;
        }
    }
    if options.maintenance_mode {
        rsc.managed = false;
        rsc.maintenance = true;
    }
    if let Some(t) = get("migration-threshold").and_then(|v| Score::parse(v).ok()) {
        rsc.migration_threshold = t.value().max(0) as i64;
    }
    if let Some(t) = get("failure-timeout").and_then(|v| parse_ms(v).ok()) {
        rsc.failure_timeout_ms = t;
    }
    rsc.multiple_active = match get("multiple-active") {
        Some("block") => MultipleActive::Block,
        Some("stop_only") => MultipleActive::StopOnly,
        Some("stop_unexpected") => MultipleActive::StopUnexpected,
        _ => MultipleActive::StopStart,
    };
    rsc.requires = match get("requires") {
        Some("nothing") => Requires::Nothing,
        Some("quorum") => Requires::Quorum,
        Some("unfencing") => Requires::Unfencing,
        Some("fencing") => Requires::Fencing,
        _ if options.fencing_enabled => Requires::Fencing,
        _ => Requires::Quorum,
    };
    if let Some(c) = get("critical").and_then(parse_bool) {
        rsc.critical = c;
    }
}

/// Reads the clone meta-attributes.
pub fn clone_meta(meta: &BTreeMap<String, String>, node_count: usize) -> CloneMeta {
    let int = |k: &str| {
        meta.get(k)
            .and_then(|v| Score::parse(v).ok())
            .map(|s| s.value().max(0) as usize)
    };
    let flag = |k: &str| meta.get(k).and_then(|v| parse_bool(v));
    let max = int("clone-max")
        .unwrap_or(node_count)
        .min(MAX_CLONE_INSTANCES);
    let node_max = int("clone-node-max").unwrap_or(1).min(MAX_CLONE_INSTANCES);
    CloneMeta {
        max,
        node_max,
        min: int("clone-min").unwrap_or(0),
        unique: flag("globally-unique").unwrap_or(node_max > 1),
        interleave: flag("interleave").unwrap_or(false),
        ordered: flag("ordered").unwrap_or(false),
        notify: flag("notify").unwrap_or(false),
    }
}

/// Op timeout for a resource's operation `name` (interval `interval_ms`), as configured or
/// from `op_defaults`, else the default.
pub fn op_timeout(rsc: &Rsc, name: &str, interval_ms: u64) -> u64 {
    rsc.ops
        .iter()
        .find(|o| o.name == name && o.interval_ms == interval_ms)
        .map(|o| o.timeout_ms)
        .unwrap_or(DEFAULT_OP_TIMEOUT_MS)
}
