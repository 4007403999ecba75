//! References between objects: constraints and resource sets naming resources, fencing
//! levels naming fence devices, tags and ACLs naming objects, and `id-ref`s anywhere.
//! A reference to nothing makes Pacemaker ignore the object that holds it.

use std::collections::BTreeMap;

use tandem_xml::Document;

use crate::cib::{Cib, Configuration};
use crate::constraints::{Constraint, LocationTarget, ResourceSet};
use crate::extras::FencingTarget;
use crate::ids::IdIndex;
use crate::problem::Problems;
use crate::resources::Primitive;

/// Every resource (at any depth) by id.
pub struct Known<'a> {
    pub resources: BTreeMap<&'a str, &'static str>,
    pub primitives: BTreeMap<&'a str, &'a Primitive>,
    pub templates: Vec<&'a str>,
    pub tags: Vec<&'a str>,
}

impl<'a> Known<'a> {
    pub fn of(config: &'a Configuration) -> Known<'a> {
        let mut known = Known {
            resources: BTreeMap::new(),
            primitives: BTreeMap::new(),
            templates: config.templates.iter().map(|t| t.id.as_str()).collect(),
            tags: config.tags.iter().map(|t| t.id.as_str()).collect(),
        };
        for entry in config.all_resources() {
            known.resources.insert(entry.rsc.id(), entry.rsc.kind());
            if let crate::cib::RscRef::Primitive(p) = entry.rsc {
                known.primitives.insert(&p.id, p);
            }
        }
        known
    }

    /// Whether a constraint may name `id`: a resource, a template (all primitives made
    /// from it) or a tag (all resources it lists).
    fn constrainable(&self, id: &str) -> bool {
        self.resources.contains_key(id) || self.templates.contains(&id) || self.tags.contains(&id)
    }
}

const ACTIONS: &[&str] = &["start", "stop", "promote", "demote"];
const LOSS_POLICIES: &[&str] = &["stop", "demote", "fence", "freeze"];
const SET_KINDS: &[&str] = &["Mandatory", "Optional", "Serialize"];

pub fn check_constraints(config: &Configuration, known: &Known<'_>, problems: &mut Problems) {
    for c in &config.constraints {
        let object = format!("{} {}", element_name(c), c.id());
        let missing = |id: &str, problems: &mut Problems| {
            if !known.constrainable(id) {
                problems.error(
                    &object,
                    format!(
                        "resource {id:?} does not exist; create it or correct the constraint \
                         (until then the constraint is ignored)"
                    ),
                );
            }
        };
        let (direct, sets): (Vec<&str>, &[ResourceSet]) = match c {
            Constraint::Location(l) => match &l.target {
                LocationTarget::Resource(r) => (vec![r.as_str()], &[]),
                LocationTarget::Pattern(_) => (vec![], &[]),
                LocationTarget::Sets(s) => (vec![], s.as_slice()),
            },
            Constraint::Colocation(co) => (
                co.rsc
                    .iter()
                    .chain(&co.with_rsc)
                    .map(String::as_str)
                    .collect(),
                &co.sets,
            ),
            Constraint::Order(o) => (
                o.first.iter().chain(&o.then).map(String::as_str).collect(),
                &o.sets,
            ),
            Constraint::Ticket(t) => (t.rsc.iter().map(String::as_str).collect(), &t.sets),
        };
        for id in direct {
            missing(id, problems);
        }
        for set in sets {
            check_set(set, &object, known, problems);
        }
        check_constraint_values(c, &object, problems);
    }
}

fn element_name(c: &Constraint) -> &'static str {
    match c {
        Constraint::Location(_) => "rsc_location",
        Constraint::Colocation(_) => "rsc_colocation",
        Constraint::Order(_) => "rsc_order",
        Constraint::Ticket(_) => "rsc_ticket",
    }
}

fn check_set(set: &ResourceSet, object: &str, known: &Known<'_>, problems: &mut Problems) {
    for id in &set.resources {
        if !known.constrainable(id) {
            problems.error(
                object,
                format!(
                    "resource {id:?} in resource_set {} does not exist; create it or remove it \
                     from the set",
                    set.id
                ),
            );
        }
    }
    if let Some(a) = &set.action
        && !ACTIONS.contains(&a.as_str())
    {
        problems.error(
            object,
            format!(
                "resource_set {}: action={a:?} is not valid (expected one of {})",
                set.id,
                ACTIONS.join(", ")
            ),
        );
    }
    if let Some(k) = &set.kind
        && !SET_KINDS.iter().any(|x| x.eq_ignore_ascii_case(k))
    {
        problems.error(
            object,
            format!(
                "resource_set {}: kind={k:?} is not valid (expected one of {})",
                set.id,
                SET_KINDS.join(", ")
            ),
        );
    }
}

/// Values inside constraints that unpacking keeps as text.
fn check_constraint_values(c: &Constraint, object: &str, problems: &mut Problems) {
    let mut bad = |name: &str, value: &str, choices: &[&str]| {
        if !choices.contains(&value) {
            problems.error(
                object,
                format!(
                    "{name}={value:?} is not valid (expected one of {})",
                    choices.join(", ")
                ),
            );
        }
    };
    match c {
        Constraint::Order(o) => {
            for (name, value) in [
                ("first-action", &o.first_action),
                ("then-action", &o.then_action),
            ] {
                if let Some(v) = value {
                    bad(name, v, ACTIONS);
                }
            }
        }
        Constraint::Ticket(t) => {
            if let Some(v) = &t.loss_policy {
                bad("loss-policy", v, LOSS_POLICIES);
            }
        }
        Constraint::Location(_) | Constraint::Colocation(_) => {}
    }
    match c {
        Constraint::Colocation(co) if co.rsc.is_some() && co.rsc == co.with_rsc => {
            problems.error(
                object,
                format!(
                    "colocates {} with itself; name two different resources",
                    co.rsc.as_deref().unwrap_or("")
                ),
            );
        }
        Constraint::Order(o) if o.first.is_some() && o.first == o.then => {
            // Ordering one action of a resource after another (promote after demote) is
            // fine; ordering an action after itself is not.
            let first_action = o.first_action.as_deref().unwrap_or("start");
            let then_action = o.then_action.as_deref().unwrap_or(first_action);
            if first_action == then_action {
                problems.error(
                    object,
                    format!(
                        "orders {first_action} of {} after itself; name two different \
                         resources or actions",
                        o.first.as_deref().unwrap_or("")
                    ),
                );
            }
        }
        _ => {}
    }
}

/// Fencing levels: every device must be a fence device; a target has one level per index.
pub fn check_topology(config: &Configuration, known: &Known<'_>, problems: &mut Problems) {
    let mut seen: BTreeMap<(String, u32), &str> = BTreeMap::new();
    for level in &config.fencing_levels {
        let object = format!("fencing-level {}", level.id);
        for device in &level.devices {
            match known.primitives.get(device.as_str()) {
                Some(p) if p.class == "stonith" => {}
                Some(p) => problems.error(
                    &object,
                    format!(
                        "device {device:?} is a {} resource, not a fence device; name a \
                         primitive of class stonith",
                        p.class
                    ),
                ),
                None => problems.error(
                    &object,
                    format!(
                        "device {device:?} does not exist; name a primitive of class stonith \
                         (until then this level cannot fence)"
                    ),
                ),
            }
        }
        let target = match &level.target {
            FencingTarget::Node(n) => format!("node {n}"),
            FencingTarget::Pattern(p) => format!("target-pattern {p}"),
            FencingTarget::Attribute { name, value } => format!("target {name}={value}"),
        };
        if let Some(first) = seen.get(&(target.clone(), level.index)) {
            problems.error(
                &object,
                format!(
                    "level {} for {target} is already defined by fencing-level {first}; give \
                     each level of a target a different index",
                    level.index
                ),
            );
        } else {
            seen.insert((target, level.index), &level.id);
        }
    }
}

/// Tags and ACLs name objects by id.
pub fn check_tags_and_acls(cib: &Cib, ids: &IdIndex, problems: &mut Problems) {
    let config = &cib.config;
    for tag in &config.tags {
        let object = format!("tag {}", tag.id);
        if tag.members.is_empty() {
            problems.error(
                &object,
                "lists no objects; add an obj_ref or remove the tag",
            );
        }
        for m in &tag.members {
            if ids.get(m).is_none() {
                problems.error(
                    &object,
                    format!("refers to {m:?}, which does not exist; remove the obj_ref or create the object"),
                );
            }
        }
    }
    let roles: Vec<&str> = config.acls.roles.iter().map(|r| r.id.as_str()).collect();
    for s in &config.acls.subjects {
        let kind = if s.is_group {
            "acl_group"
        } else {
            "acl_target"
        };
        for r in &s.roles {
            if !roles.contains(&r.as_str()) {
                problems.error(
                    format!("{kind} {}", s.id),
                    format!("role {r:?} does not exist; define an acl_role with that id or remove the reference"),
                );
            }
        }
    }
    for role in &config.acls.roles {
        for p in &role.permissions {
            let object = format!("acl_permission {}", p.id);
            let given = [&p.xpath, &p.reference, &p.object_type]
                .iter()
                .filter(|x| x.is_some())
                .count();
            if given != 1 {
                problems.error(
                    &object,
                    "give exactly one of xpath, reference or object-type",
                );
            }
            if let Some(r) = &p.reference
                && ids.get(r).is_none()
            {
                problems.error(
                    &object,
                    format!(
                        "reference {r:?} refers to nothing; correct the id or remove the permission"
                    ),
                );
            }
        }
    }
}

/// Every `id-ref` in the configuration must name an element of the kind it stands for.
/// Unpacking already reports the references it follows, with the same words; `verify`
/// drops repeated findings, so following them again here costs nothing but catches the
/// references in places unpacking does not read.
pub fn check_id_refs(doc: &Document, ids: &IdIndex, problems: &mut Problems) {
    let Some(root) = doc.root() else { return };
    let Some(conf) = doc.child_named(root, "configuration") else {
        return;
    };
    for n in doc.descendants(conf) {
        if !doc.is_element(n) || doc.attr(n, "id-ref").is_none() {
            continue;
        }
        // Option blocks may stand for a block of another kind, as in unpacking.
        let expected = match doc.name(n) {
            "instance_attributes" | "meta_attributes" | "utilization" | "cluster_property_set" => {
                ""
            }
            name => name,
        };
        ids.follow_ref(doc, n, expected, problems);
    }
}
