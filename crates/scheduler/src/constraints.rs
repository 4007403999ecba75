//! Stage 2: constraints resolved to resource indices — tags and templates expanded, resource
//! sets turned into pairs, location rules evaluated per node into scores.

use std::collections::BTreeMap;

use tandem_cib::constraints::{
    Colocation as CibColocation, Constraint, LocationTarget, Order as CibOrder, OrderKind,
    ResourceSet,
};
use tandem_cib::rules::Rule;
use tandem_cib::{Role, RuleContext, Score};

use crate::build::Ctx;
use crate::model::{NodeIx, RscIx, Variant, World};
use crate::pattern::Pattern;

/// A colocation between two resources: `dependent` is placed relative to `primary`.
#[derive(Clone, Debug)]
pub struct Coloc {
    pub id: String,
    pub dependent: RscIx,
    pub primary: RscIx,
    pub score: Score,
    pub dependent_role: Option<Role>,
    pub primary_role: Option<Role>,
    pub node_attribute: String,
    pub influence: bool,
}

/// An ordering between actions of two resources (or sets expanded to pairs).
#[derive(Clone, Debug)]
pub struct OrderC {
    pub id: String,
    pub first: RscIx,
    pub first_action: String,
    pub then: RscIx,
    pub then_action: String,
    pub kind: OrderKind,
    pub symmetrical: bool,
    /// Only one of the "first" side needs to be runnable (require-all=false sets, clone-min).
    pub one_or_more: Option<usize>,
}

/// An ordered set with `require-all=false`: "then" may start once any one member of
/// "firsts" has.
#[derive(Clone, Debug)]
pub struct SetOneOrMore {
    /// `one-or-more:SET-ID`, the name reasons print.
    pub label: String,
    pub firsts: Vec<RscIx>,
    pub first_action: String,
    pub thens: Vec<RscIx>,
    pub then_action: String,
    pub kind: OrderKind,
    pub symmetrical: bool,
}

/// Everything the later stages use, by index.
#[derive(Clone, Debug, Default)]
pub struct Constraints {
    pub colocs: Vec<Coloc>,
    /// Per resource: the colocations where it is the dependent / the primary.
    pub as_dependent: Vec<Vec<usize>>,
    pub as_primary: Vec<Vec<usize>>,
    pub orders: Vec<OrderC>,
    pub one_or_more: Vec<SetOneOrMore>,
    /// (resource, node) pairs where discovery (probing) is disabled.
    pub no_discovery: Vec<(RscIx, NodeIx)>,
    /// Resources with an `exclusive` discovery constraint, and the nodes it names.
    pub exclusive: BTreeMap<RscIx, Vec<NodeIx>>,
}

/// Resolves a configured id to resources: tags to their members, templates to the
/// primitives built from them.
pub struct Resolver<'a> {
    w: &'a World,
    ctx: &'a Ctx<'a>,
    templates: BTreeMap<&'a str, Vec<RscIx>>,
}

impl<'a> Resolver<'a> {
    pub fn new(w: &'a World, ctx: &'a Ctx<'a>) -> Resolver<'a> {
        let mut templates: BTreeMap<&str, Vec<RscIx>> = BTreeMap::new();
        for r in ctx.cib.config.all_resources() {
            if let tandem_cib::RscRef::Primitive(p) = r.rsc
                && let Some(t) = &p.template
                && let Some(ix) = w.rsc(&p.id)
            {
                templates.entry(t.as_str()).or_default().push(ix);
            }
        }
        Resolver { w, ctx, templates }
    }

    pub fn resolve(&self, id: &str) -> Vec<RscIx> {
        self.resolve_depth(id, 0)
    }

    fn resolve_depth(&self, id: &str, depth: usize) -> Vec<RscIx> {
        if let Some(members) = self.ctx.cib.config.tag(id) {
            if depth > 8 {
                return Vec::new();
            }
            return members
                .iter()
                .flat_map(|m| self.resolve_depth(m, depth + 1))
                .collect();
        }
        if let Some(t) = self.templates.get(id) {
            return t.clone();
        }
        match self.w.rsc(id) {
            Some(r) if self.w.rscs[r].id == self.w.rscs[r].base_id => vec![r],
            _ => Vec::new(),
        }
    }
}

/// Resolves every constraint.
pub fn unpack_constraints(w: &mut World, ctx: &Ctx<'_>) -> Constraints {
    let mut out = Constraints::default();
    let mut locations = Vec::new();
    {
        let res = Resolver::new(w, ctx);
        for c in &ctx.cib.config.constraints {
            match c {
                Constraint::Location(l) => {
                    let targets: Vec<(RscIx, Vec<String>)> = match &l.target {
                        LocationTarget::Resource(id) => {
                            res.resolve(id).into_iter().map(|r| (r, vec![])).collect()
                        }
                        LocationTarget::Pattern(p) => pattern_targets(w, p),
                        LocationTarget::Sets(sets) => sets
                            .iter()
                            .flat_map(|s| s.resources.iter().flat_map(|id| res.resolve(id)))
                            .map(|r| (r, vec![]))
                            .collect(),
                    };
                    for (r, groups) in targets {
                        locations.push((r, l.clone(), groups));
                    }
                }
                Constraint::Colocation(c) => colocations(&res, c, &mut out.colocs),
                Constraint::Order(o) => orders(&res, o, &mut out.orders, &mut out.one_or_more),
                Constraint::Ticket(_) => {}
            }
        }
    }
    group_colocations(w, &mut out.colocs);
    w.trace_source = crate::model::ScoreSource::Implicit;
    crate::containers::container_constraints(w, &mut out);
    for (r, l, groups) in locations {
        w.trace_source = crate::model::ScoreSource::Location(l.id.clone());
        apply_location_constraint(w, ctx, r, &l, &groups, &mut out);
    }
    w.trace_source = crate::model::ScoreSource::Other;
    out.as_dependent = vec![Vec::new(); w.rscs.len()];
    out.as_primary = vec![Vec::new(); w.rscs.len()];
    for (i, c) in out.colocs.iter().enumerate() {
        out.as_dependent[c.dependent].push(i);
        out.as_primary[c.primary].push(i);
    }
    out
}

/// Resources whose id matches `pattern` (with their submatches); a leading `!` selects those
/// that do not match.
fn pattern_targets(w: &World, pattern: &str) -> Vec<(RscIx, Vec<String>)> {
    let (negate, pattern) = match pattern.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let Some(p) = Pattern::compile(pattern) else {
        return Vec::new();
    };
    w.rscs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.id == r.base_id && !r.orphan)
        .filter_map(|(ix, r)| match (p.captures(&r.id), negate) {
            (Some(caps), false) => Some((ix, caps)),
            (None, true) => Some((ix, Vec::new())),
            _ => None,
        })
        .collect()
}

fn apply_location_constraint(
    w: &mut World,
    ctx: &Ctx<'_>,
    r: RscIx,
    l: &tandem_cib::constraints::Location,
    groups: &[String],
    out: &mut Constraints,
) {
    if matches!(l.role, Some(Role::Promoted) | Some(Role::Unpromoted)) {
        return;
    }
    let mut scores: Vec<(NodeIx, Score)> = Vec::new();
    if let (Some(node), Some(score)) = (&l.node, l.score)
        && let Some(n) = w.node_named(node)
    {
        scores.push((n, score));
    }
    for rule in &l.rules {
        if matches!(rule.role, Some(Role::Promoted) | Some(Role::Unpromoted)) {
            continue;
        }
        for n in 0..w.nodes.len() {
            if let Some(s) = rule_score(w, ctx, r, rule, n, groups) {
                scores.push((n, s));
            }
        }
    }
    match l.resource_discovery.as_deref() {
        Some("never") => {
            for &(n, _) in &scores {
                out.no_discovery.push((r, n));
            }
        }
        Some("exclusive") => {
            let e = out.exclusive.entry(r).or_default();
            e.extend(scores.iter().map(|&(n, _)| n));
        }
        _ => {}
    }
    for (n, s) in scores {
        add_location(w, r, n, s);
    }
}

/// Substitutes `%1`..`%9` in rule values with a pattern's submatches.
fn substitute(rule: &Rule, groups: &[String]) -> Rule {
    if groups.is_empty() {
        return rule.clone();
    }
    let mut r = rule.clone();
    for e in &mut r.expressions {
        if let tandem_cib::rules::Expression::Attribute(a) = e
            && let Some(v) = &mut a.value
        {
            for (i, g) in groups.iter().enumerate().rev() {
                *v = v.replace(&format!("%{}", i + 1), g);
            }
        }
    }
    r
}

fn rule_score(
    w: &World,
    ctx: &Ctx<'_>,
    r: RscIx,
    rule: &Rule,
    n: NodeIx,
    groups: &[String],
) -> Option<Score> {
    let node = &w.nodes[n];
    let rsc = &w.rscs[r];
    let mut rctx = RuleContext::at(ctx.now).with_node(&node.attrs);
    // Parameters may themselves depend on the node (rules in instance attributes).
    let params = crate::digest::node_params(w, r, n, ctx.now);
    rctx.params = Some(&params);
    rctx.meta = Some(&rsc.meta);
    let rule = substitute(rule, groups);
    if !rule.evaluate(&rctx) {
        return None;
    }
    if let Some(attr) = &rule.score_attribute {
        return Some(
            node.attr(attr)
                .and_then(|v| Score::parse(v).ok())
                .unwrap_or(Score::ZERO),
        );
    }
    Some(rule.score.unwrap_or(Score::ZERO))
}

/// Adds a location score to a resource and everything inside it.
pub fn add_location(w: &mut World, r: RscIx, n: NodeIx, s: Score) {
    w.record(r, n, s);
    let slot = &mut w.rscs[r].allowed[n];
    *slot = Some(slot.unwrap_or(Score::ZERO) + s);
    let children = w.rscs[r].children.clone();
    for c in children {
        add_location(w, c, n, s);
    }
}

fn colocations(res: &Resolver<'_>, c: &CibColocation, out: &mut Vec<Coloc>) {
    let influence = |dep: RscIx| c.influence.unwrap_or(res.w.rscs[dep].critical);
    let attr = c
        .node_attribute
        .clone()
        .unwrap_or_else(|| "#uname".to_string());
    let mut push = |dep: RscIx, pri: RscIx, score: Score, dr: Option<Role>, pr: Option<Role>| {
        if dep == pri {
            return;
        }
        out.push(Coloc {
            id: c.id.clone(),
            dependent: dep,
            primary: pri,
            score,
            dependent_role: dr,
            primary_role: pr,
            node_attribute: attr.clone(),
            influence: influence(dep),
        });
    };
    if c.sets.is_empty() {
        let (Some(a), Some(b)) = (&c.rsc, &c.with_rsc) else {
            return;
        };
        let (deps, pris) = (res.resolve(a), res.resolve(b));
        // Tags and templates stand for unordered sets; two unordered sets are not colocated
        // member by member (Pacemaker does not either).
        if deps.len() > 1 && pris.len() > 1 {
            return;
        }
        for &dep in &deps {
            for &pri in &pris {
                push(dep, pri, c.score, c.rsc_role, c.with_rsc_role);
            }
        }
        return;
    }
    let sets: Vec<(Vec<RscIx>, &ResourceSet)> = c
        .sets
        .iter()
        .map(|s| {
            (
                s.resources.iter().flat_map(|id| res.resolve(id)).collect(),
                s,
            )
        })
        .collect();
    for (members, s) in &sets {
        let score = s.score.unwrap_or(c.score);
        if s.sequential.unwrap_or(true) {
            for pair in members.windows(2) {
                push(pair[1], pair[0], score, s.role, s.role);
            }
        }
    }
    for pair in sets.windows(2) {
        let (deps, ds) = (&pair[0].0, pair[0].1);
        let (pris, ps) = (&pair[1].0, pair[1].1);
        let primaries: Vec<RscIx> = if ps.sequential.unwrap_or(true) {
            pris.last().copied().into_iter().collect()
        } else {
            pris.clone()
        };
        let dependents: Vec<RscIx> = if ds.sequential.unwrap_or(true) {
            deps.first().copied().into_iter().collect()
        } else {
            deps.clone()
        };
        for &d in &dependents {
            for &p in &primaries {
                push(d, p, c.score, ds.role, ps.role);
            }
        }
    }
}

fn orders(res: &Resolver<'_>, o: &CibOrder, out: &mut Vec<OrderC>, multi: &mut Vec<SetOneOrMore>) {
    let kind = o.effective_kind();
    let mut push = |first: RscIx, fa: &str, then: RscIx, ta: &str, one: Option<usize>| {
        if first == then {
            return;
        }
        out.push(OrderC {
            id: o.id.clone(),
            first,
            first_action: fa.to_string(),
            then,
            then_action: ta.to_string(),
            kind,
            symmetrical: o.effective_symmetrical(),
            one_or_more: one,
        });
    };
    if o.sets.is_empty() {
        let (Some(a), Some(b)) = (&o.first, &o.then) else {
            return;
        };
        let fa = o
            .first_action
            .clone()
            .unwrap_or_else(|| "start".to_string());
        let ta = o.then_action.clone().unwrap_or_else(|| fa.clone());
        let one = (o.require_all == Some(false)).then_some(1);
        for f in res.resolve(a) {
            for t in res.resolve(b) {
                push(f, &fa, t, &ta, one);
            }
        }
        return;
    }
    let sets: Vec<(Vec<RscIx>, &ResourceSet)> = o
        .sets
        .iter()
        .map(|s| {
            (
                s.resources.iter().flat_map(|id| res.resolve(id)).collect(),
                s,
            )
        })
        .collect();
    let action = |s: &ResourceSet| s.action.clone().unwrap_or_else(|| "start".to_string());
    for (members, s) in &sets {
        if s.sequential.unwrap_or(true) {
            for pair in members.windows(2) {
                push(pair[0], &action(s), pair[1], &action(s), None);
            }
        }
    }
    for pair in sets.windows(2) {
        let (firsts, fs) = (&pair[0].0, pair[0].1);
        let (thens, ts) = (&pair[1].0, pair[1].1);
        let require_all = fs.require_all.unwrap_or(true);
        let fl: Vec<RscIx> = if fs.sequential.unwrap_or(true) && require_all {
            firsts.last().copied().into_iter().collect()
        } else {
            firsts.clone()
        };
        let tl: Vec<RscIx> = if ts.sequential.unwrap_or(true) {
            thens.first().copied().into_iter().collect()
        } else {
            thens.clone()
        };
        if !require_all {
            multi.push(SetOneOrMore {
                label: format!("one-or-more:{}", fs.id),
                firsts: fl,
                first_action: action(fs),
                thens: tl,
                then_action: action(ts),
                kind,
                symmetrical: o.effective_symmetrical(),
            });
            continue;
        }
        for &f in &fl {
            for &t in &tl {
                push(f, &action(fs), t, &action(ts), None);
            }
        }
    }
}

/// A group keeps its members together: each member is colocated with the one before it.
fn group_colocations(w: &World, out: &mut Vec<Coloc>) {
    for (ix, r) in w.rscs.iter().enumerate() {
        if r.variant != Variant::Group {
            continue;
        }
        let colocated = r
            .meta
            .get("colocated")
            .and_then(|v| tandem_cib::types::parse_bool(v))
            .unwrap_or(true);
        if !colocated {
            continue;
        }
        for pair in r.children.windows(2) {
            out.push(Coloc {
                id: format!("{}:internal", w.rscs[ix].id),
                dependent: pair[1],
                primary: pair[0],
                score: Score::INFINITY,
                dependent_role: None,
                primary_role: None,
                node_attribute: "#uname".to_string(),
                influence: true,
            });
        }
    }
}
