//! `crm_verify`'s checks: everything that makes Pacemaker ignore part of a configuration or
//! refuse to start resources, found before the cluster finds it.
//!
//! ```text
//!   Cib ──verify_at(now)──▶ Vec<Problem>   (unpacking problems + the checks below,
//!                                            each finding once, in section order)
//!   &[Problem] ──Verdict::of──▶ Valid | Warnings | Errors ──summary()──▶ crm_verify's last line
//! ```
//!
//! Checks, by section: cluster option values and unknown names; duplicate node ids and
//! names; resource classes, operations (same name and interval twice, intervals on actions
//! that never recur, attribute values), meta-attribute values, promotable clones of agents
//! that cannot promote, groups holding more than primitives; fencing enabled without a
//! fence device (Pacemaker's three-line message, word for word); constraints and resource
//! sets naming nothing, and their action/kind/loss-policy values; fencing levels naming no
//! fence device, or repeating an index; tags and ACLs naming nothing; `id-ref`s anywhere;
//! rules without expressions. Unpacking adds malformed scores, intervals, roles, dates and
//! duplicate ids.
//!
//! What Pacemaker's `crm_verify` also does that we do not: validate against the RELAX NG
//! schema (we check the same things semantically, and keep unknown content rather than
//! refusing it), and run the scheduler over `status` (`tandem simulate` does that).
//!
//! ```
//! use tandem_cib::{Cib, verify, Verdict};
//! let cib = Cib::parse(r#"<cib><configuration><crm_config/><nodes/><resources/>
//!     <constraints/></configuration><status/></cib>"#).unwrap();
//! let problems = verify(&cib);
//! let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
//! assert_eq!(lines[0], "error: Resource start-up disabled since no STONITH resources have been defined");
//! assert_eq!(Verdict::of(&problems).summary(), Some("Errors found during check: config not valid"));
//! ```

mod refs;
mod values;

use std::collections::{BTreeMap, BTreeSet};

use crate::cib::{Cib, RscRef};
use crate::ids::IdIndex;
use crate::problem::{Problem, Problems, Severity};
use crate::resources::{Operation, Primitive, Resource};
use crate::rules::{Expression, Rule};
use crate::time::{DateTime, format_ms};

pub use values::{ValueKind, check as check_value_kind};

/// The three lines every Pacemaker user has seen, word for word: fencing is enabled (the
/// default) and no fence device is configured, so no resource will start.
pub const NO_STONITH: [&str; 3] = [
    "Resource start-up disabled since no STONITH resources have been defined",
    "Either configure some or disable STONITH with the stonith-enabled option",
    "NOTE: Clusters with shared data need STONITH to ensure data integrity",
];

/// Checks `cib`, evaluating time-based rules in `crm_config` (which decide, for example,
/// whether fencing is enabled) at the CIB's `execution-date`, or at the Unix epoch when it
/// records none. Callers that know the time use [`verify_at`].
pub fn verify(cib: &Cib) -> Vec<Problem> {
    verify_at(cib, cib.execution_date().unwrap_or(DateTime::from_epoch(0)))
}

/// Checks `cib` as of `now`. Every finding names its object and says what to do; each is
/// reported once.
pub fn verify_at(cib: &Cib, now: DateTime) -> Vec<Problem> {
    let mut p = Problems::default();
    let config = &cib.config;
    let ids = IdIndex::build(cib.document());
    let known = refs::Known::of(config);

    values::check_cluster_options(&config.crm_config, &mut p);
    check_nodes(cib, &mut p);
    for template in &config.templates {
        check_primitive(template, &format!("template {}", template.id), None, &mut p);
    }
    for entry in config.all_resources() {
        check_resource(cib, entry.rsc, &mut p);
    }
    check_fencing_device(cib, now, &mut p);
    values::check_sets(
        &config.rsc_defaults,
        values::RESOURCE_META,
        "rsc_defaults",
        &mut p,
    );
    values::check_sets(&config.op_defaults, values::OP_META, "op_defaults", &mut p);
    refs::check_constraints(config, &known, &mut p);
    refs::check_topology(config, &known, &mut p);
    refs::check_tags_and_acls(cib, &ids, &mut p);
    refs::check_id_refs(cib.document(), &ids, &mut p);
    check_rules(cib, &ids, &mut p);

    let mut seen = BTreeSet::new();
    cib.problems
        .iter()
        .cloned()
        .chain(p.0)
        .filter(|q| seen.insert((q.severity, q.object.clone(), q.message.clone())))
        .collect()
}

/// What `crm_verify` concludes from a list of problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Warnings,
    Errors,
}

impl Verdict {
    pub fn of(problems: &[Problem]) -> Verdict {
        match problems.iter().map(|p| p.severity).max() {
            None => Verdict::Valid,
            Some(Severity::Warning) => Verdict::Warnings,
            Some(Severity::Error) => Verdict::Errors,
        }
    }

    /// `crm_verify`'s closing line (Pacemaker 2.1's wording), `None` when all is well.
    pub fn summary(self) -> Option<&'static str> {
        match self {
            Verdict::Valid => None,
            Verdict::Warnings => Some("Warnings found during check: config may not be valid"),
            Verdict::Errors => Some("Errors found during check: config not valid"),
        }
    }
}

/// Node ids and names must each be unique (ids of `<node>` live in their own name space,
/// so the general duplicate-id check skips them).
fn check_nodes(cib: &Cib, p: &mut Problems) {
    let mut by_id: BTreeMap<&str, &str> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, &str> = BTreeMap::new();
    for node in &cib.config.nodes {
        let object = format!("node {}", node.id);
        if let Some(other) = by_id.insert(&node.id, &node.uname) {
            p.error(
                &object,
                format!(
                    "node id {:?} is also used by node {other}; give every node its own id",
                    node.id
                ),
            );
        }
        if let Some(other) = by_name.insert(&node.uname, &node.id) {
            p.error(
                &object,
                format!(
                    "node name {:?} is also used by node {other}; give every node its own name",
                    node.uname
                ),
            );
        }
    }
}

fn check_resource(cib: &Cib, rsc: RscRef<'_>, p: &mut Problems) {
    let object = format!("{} {}", rsc.kind(), rsc.id());
    match rsc {
        RscRef::Primitive(prim) => {
            let template = prim
                .template
                .as_deref()
                .and_then(|t| cib.config.templates.iter().find(|x| x.id == t));
            check_primitive(prim, &object, template, p);
            return;
        }
        RscRef::Group(g) => check_group_members(cib, g.node, &object, p),
        RscRef::Clone(c) => {
            let promotable = c.legacy_master
                || c.meta.iter().any(|s| {
                    s.get("promotable")
                        .and_then(crate::types::parse_bool)
                        .unwrap_or(false)
                });
            if promotable {
                for prim in c.child.primitives() {
                    if prim.class != "ocf" {
                        p.error(
                            &object,
                            format!(
                                "is promotable, but {} uses a {} agent and only ocf agents can \
                                 be promoted; use an ocf agent or make it an ordinary clone",
                                prim.id, prim.class
                            ),
                        );
                    }
                }
            }
        }
        RscRef::Bundle(_) => {}
    }
    values::check_sets(rsc.meta(), values::RESOURCE_META, &object, p);
}

/// A group holds primitives only; anything else inside it is ignored by unpacking.
fn check_group_members(cib: &Cib, node: tandem_xml::NodeId, object: &str, p: &mut Problems) {
    let doc = cib.document();
    for child in doc.elements(node) {
        let name = doc.name(child);
        if matches!(name, "clone" | "master" | "group" | "bundle") {
            p.error(
                object,
                format!(
                    "contains a <{name}> ({}), but only primitives can be group members; \
                     move it out of the group",
                    doc.attr(child, "id").unwrap_or("")
                ),
            );
        }
    }
}

/// Actions that cannot recur; Pacemaker ignores a recurring one.
const ONE_SHOT_ACTIONS: &[&str] = &[
    "start",
    "stop",
    "promote",
    "demote",
    "migrate_to",
    "migrate_from",
    "reload-agent",
];

/// Operations, meta-attributes. `template` (the one this primitive was made from) has been
/// checked on its own; its blocks are not reported again for every primitive using it.
fn check_primitive(prim: &Primitive, object: &str, template: Option<&Primitive>, p: &mut Problems) {
    let own = |set_id: &str| template.is_none_or(|t| t.meta.iter().all(|s| s.id != set_id));
    let inherited = |op: &Operation| template.is_some_and(|t| t.ops.iter().any(|o| o.id == op.id));
    for (i, op) in prim.ops.iter().enumerate() {
        if let Some(first) = prim.ops[..i]
            .iter()
            .find(|o| o.name == op.name && o.interval_ms == op.interval_ms)
            && !(inherited(first) && inherited(op))
        {
            let roles = if first.role != op.role {
                " (even with different roles)"
            } else {
                ""
            };
            let (first_id, name, interval) = (&first.id, &op.name, format_ms(op.interval_ms));
            if op.interval_ms > 0 {
                // Pacemaker schedules neither of them.
                p.error(
                    object,
                    format!(
                        "operations {first_id} and {} are both {name:?} with interval \
                         {interval}, so neither runs; give each recurring operation a \
                         different interval{roles}",
                        op.id
                    ),
                );
            } else {
                p.warning(
                    object,
                    format!(
                        "operations {first_id} and {} are both {name:?} with interval 0; only \
                         {first_id} is used — remove the other",
                        op.id
                    ),
                );
            }
        }
    }
    for op in prim.ops.iter().filter(|op| !inherited(op)) {
        let op_object = format!("op {} of {object}", op.id);
        if op.interval_ms > 0 && ONE_SHOT_ACTIONS.contains(&op.name.as_str()) {
            p.error(
                &op_object,
                format!(
                    "a {} operation cannot recur, so this one (interval={}) is ignored; set \
                     interval=0",
                    op.name, op.interval
                ),
            );
        }
        values::check_op(op, &op_object, p);
    }
    let own_meta: Vec<_> = prim.meta.iter().filter(|s| own(&s.id)).cloned().collect();
    values::check_sets(&own_meta, values::RESOURCE_META, object, p);
    if prim.provider.is_some() && !prim.class.is_empty() && prim.class != "ocf" {
        p.warning(
            object,
            format!(
                "provider={:?} is only used by class ocf and is ignored for class {}; remove it",
                prim.provider.as_deref().unwrap_or(""),
                prim.class
            ),
        );
    }
}

/// Fencing is on (the default) and there is nothing to fence with: Pacemaker starts no
/// resource at all.
fn check_fencing_device(cib: &Cib, now: DateTime, p: &mut Problems) {
    let options = cib.config.cluster_options(now, &mut Problems::default());
    if !options.fencing_enabled {
        return;
    }
    let has_device = cib
        .config
        .resources
        .iter()
        .flat_map(Resource::primitives)
        .any(|prim| prim.class == "stonith");
    if !has_device {
        for line in NO_STONITH {
            p.error("", line);
        }
    }
}

/// Every rule in the configuration, wherever it is, must test something.
fn check_rules(cib: &Cib, ids: &IdIndex, p: &mut Problems) {
    let config = &cib.config;
    let mut rules: Vec<&Rule> = Vec::new();
    for c in &config.constraints {
        if let crate::constraints::Constraint::Location(l) = c {
            rules.extend(&l.rules);
        }
    }
    let mut sets: Vec<&crate::nvset::NvSet> = Vec::new();
    sets.extend(&config.crm_config);
    sets.extend(&config.rsc_defaults);
    sets.extend(&config.op_defaults);
    for n in &config.nodes {
        sets.extend(n.instance.iter().chain(&n.utilization));
    }
    for entry in config.all_resources() {
        sets.extend(entry.rsc.meta());
        if let RscRef::Primitive(prim) = entry.rsc {
            sets.extend(prim.instance.iter().chain(&prim.utilization));
            for op in &prim.ops {
                sets.extend(op.meta.iter().chain(&op.instance));
            }
        }
    }
    rules.extend(sets.iter().filter_map(|s| s.rule.as_ref()));
    for rule in rules {
        check_rule(rule, cib.document(), ids, p);
    }
}

/// Unpacking bounds the nesting (`MAX_RULE_DEPTH`), so the recursion is bounded too.
fn check_rule(rule: &Rule, doc: &tandem_xml::Document, ids: &IdIndex, p: &mut Problems) {
    // A reference to nothing reads as an empty rule; it has been reported as such.
    let broken_ref = ids
        .get(&rule.id)
        .is_some_and(|n| doc.attr(n, "id-ref").is_some());
    if rule.expressions.is_empty() && !broken_ref {
        p.warning(
            format!("rule {}", rule.id),
            "contains no expressions, so it always applies; add an expression or remove the rule",
        );
    }
    for e in &rule.expressions {
        if let Expression::Rule(inner) = e {
            check_rule(inner, doc, ids, p);
        }
    }
}
