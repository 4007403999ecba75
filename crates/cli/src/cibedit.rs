//! Edits of a CIB document that the resource and node commands make, written as Pacemaker's
//! tools write them (the same ids, sets and attributes), so that a CIB changed by Tandem
//! reads as one changed by `crm_resource`, `crm_attribute` or `attrd`.
//!
//! Every function takes the document, changes it in place and says what it did; none does
//! I/O. Where the edit goes (a file, the running cluster) is [`crate::cibsource`]'s business.

use anyhow::{Context, bail};
use tandem_cib::Cib;
use tandem_xml::{Document, NodeId};

/// The resource elements whose ids are resources.
const RESOURCE_ELEMENTS: &[&str] = &["primitive", "group", "clone", "master", "bundle"];

/// Children a new attribute block is inserted before.
const BLOCKS_AFTER_SETS: &[&str] = &[
    "operations",
    "primitive",
    "group",
    "clone",
    "master",
    "bundle",
];

fn root(doc: &Document) -> anyhow::Result<NodeId> {
    doc.root().context("the CIB has no root element")
}

/// A child element `name` of `parent`, created (appended) if missing.
fn child_or_create(doc: &mut Document, parent: NodeId, name: &str) -> NodeId {
    if let Some(c) = doc.child_named(parent, name) {
        return c;
    }
    let c = doc.create_element(name);
    doc.append_child(parent, c);
    c
}

/// The `configuration/SECTION` element, created if missing.
pub fn section(doc: &mut Document, name: &str) -> anyhow::Result<NodeId> {
    let root = root(doc)?;
    let conf = doc
        .child_named(root, "configuration")
        .context("the CIB has no <configuration> section")?;
    Ok(child_or_create(doc, conf, name))
}

/// The resource element with this id.
pub fn resource_element(doc: &Document, id: &str) -> Option<NodeId> {
    let root = doc.root()?;
    let resources = doc.descend(root, &["configuration", "resources"])?;
    doc.descendants(resources)
        .find(|&n| RESOURCE_ELEMENTS.contains(&doc.name(n)) && doc.attr(n, "id") == Some(id))
}

/// Sets (`Some`) or deletes (`None`) nvpair `name` in the first `set_tag` block of `owner`,
/// creating the block as `set_id` if there is none. Returns whether anything changed.
pub fn set_nvpair(
    doc: &mut Document,
    owner: NodeId,
    set_tag: &str,
    set_id: &str,
    name: &str,
    value: Option<&str>,
) -> bool {
    let existing = doc
        .children_named(owner, set_tag)
        .flat_map(|s| doc.children_named(s, "nvpair").collect::<Vec<_>>())
        .filter(|&p| doc.attr(p, "name") == Some(name))
        .collect::<Vec<_>>();
    let Some(value) = value else {
        for &p in &existing {
            doc.detach(p);
        }
        return !existing.is_empty();
    };
    if let Some(&p) = existing.first() {
        if doc.attr(p, "value") == Some(value) {
            return false;
        }
        doc.set_attr(p, "value", value);
        return true;
    }
    let set = match doc.child_named(owner, set_tag) {
        Some(s) => s,
        None => {
            let s = doc.create_element_with(set_tag, &[("id", set_id)]);
            // Attribute blocks go before a resource's operations and members, where crm
            // syntax puts them.
            let before = doc
                .elements(owner)
                .find(|&c| BLOCKS_AFTER_SETS.contains(&doc.name(c)));
            match before {
                Some(b) => doc.insert_before(b, s),
                None => doc.append_child(owner, s),
            }
            s
        }
    };
    let set_name = doc.attr(set, "id").unwrap_or(set_id).to_string();
    let pair_id = unique_id(doc, &format!("{set_name}-{name}"));
    let pair = doc.create_element_with(
        "nvpair",
        &[("id", &pair_id), ("name", name), ("value", value)],
    );
    doc.append_child(set, pair);
    true
}

/// `want`, or `want-1`, `want-2`, ... if an element already has that id.
fn unique_id(doc: &Document, want: &str) -> String {
    let Some(root) = doc.root() else {
        return want.to_string();
    };
    let taken = |id: &str| doc.find_by_id(root, id).is_some();
    if !taken(want) {
        return want.to_string();
    }
    (1..)
        .map(|i| format!("{want}-{i}"))
        .find(|id| !taken(id))
        .expect("some suffix is free")
}

/// The meta-attribute a resource command sets, and where it ends up.
#[derive(Debug, PartialEq, Eq)]
pub struct MetaChange {
    /// The resource whose meta-attributes were changed.
    pub target: String,
    /// Lines to tell the user (`crm_resource` prints them too).
    pub notes: Vec<String>,
    pub changed: bool,
}

/// Sets meta-attribute `name` of resource `rsc` as `crm_resource --meta` does, and removes
/// it from the resource's descendants (as crmsh does for `start`/`stop`, so a member's own
/// value does not override the one just set): a clone's primitive that does not carry the
/// attribute itself is changed through its clone; a clone whose primitive carries it
/// changes the primitive.
pub fn set_meta(
    doc: &mut Document,
    rsc: &str,
    name: &str,
    value: Option<&str>,
) -> anyhow::Result<MetaChange> {
    let el = resource_element(doc, rsc)
        .with_context(|| format!("resource {rsc} is not defined in the CIB"))?;
    let mut notes = Vec::new();
    let has = |doc: &Document, n: NodeId| {
        doc.children_named(n, "meta_attributes")
            .flat_map(|s| doc.children_named(s, "nvpair").collect::<Vec<_>>())
            .any(|p| doc.attr(p, "name") == Some(name))
    };
    let parent = doc.parent(el).filter(|&p| is_clone(doc, p));
    let mut target = el;
    if let Some(p) = parent.filter(|_| !has(doc, el)) {
        let pid = doc.attr(p, "id").unwrap_or_default().to_string();
        notes.push(format!(
            "Performing update of '{name}' on '{pid}', the parent of '{rsc}'"
        ));
        target = p;
    } else if is_clone(doc, el) {
        let child = doc
            .elements(el)
            .find(|&c| doc.name(c) == "primitive" && has(doc, c));
        if let Some(c) = child {
            let cid = doc.attr(c, "id").unwrap_or_default().to_string();
            notes.push(format!(
                "A value for '{name}' already exists in child '{cid}', performing update on \
                 that instead of '{rsc}'"
            ));
            target = c;
        }
    }
    let target_id = doc.attr(target, "id").unwrap_or_default().to_string();
    let mut changed = set_nvpair(
        doc,
        target,
        "meta_attributes",
        &format!("{target_id}-meta_attributes"),
        name,
        value,
    );
    let below: Vec<NodeId> = doc
        .descendants(target)
        .filter(|&n| n != target && RESOURCE_ELEMENTS.contains(&doc.name(n)))
        .collect();
    for n in below {
        changed |= set_nvpair(doc, n, "meta_attributes", "", name, None);
    }
    Ok(MetaChange {
        target: target_id,
        notes,
        changed,
    })
}

fn is_clone(doc: &Document, n: NodeId) -> bool {
    matches!(doc.name(n), "clone" | "master")
}

/// The id a node is known by in the CIB (its `node` entry, else its `node_state`).
pub fn node_id(doc: &Document, uname: &str) -> Option<String> {
    let root = doc.root()?;
    let by = |parent: Option<NodeId>, tag: &str| {
        let parent = parent?;
        doc.children_named(parent, tag)
            .find(|&n| doc.attr(n, "uname") == Some(uname))
            .and_then(|n| doc.attr(n, "id").map(str::to_string))
    };
    by(doc.descend(root, &["configuration", "nodes"]), "node")
        .or_else(|| by(doc.child_named(root, "status"), "node_state"))
}

fn require_node_id(doc: &Document, uname: &str) -> anyhow::Result<String> {
    node_id(doc, uname).with_context(|| format!("node {uname} is not part of the cluster"))
}

/// Which block of a node's configuration entry an attribute lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeSet {
    /// `instance_attributes` (`crm_attribute -t nodes`): standby, maintenance, ...
    Attributes,
    /// `utilization` (`crm_attribute -z`).
    Utilization,
}

impl NodeSet {
    fn tag(self) -> &'static str {
        match self {
            NodeSet::Attributes => "instance_attributes",
            NodeSet::Utilization => "utilization",
        }
    }

    fn set_id(self, node_id: &str) -> String {
        match self {
            NodeSet::Attributes => format!("nodes-{node_id}"),
            NodeSet::Utilization => format!("nodes-{node_id}-utilization"),
        }
    }
}

/// Sets or deletes a permanent node attribute, as `crm_attribute -t nodes` writes it:
/// `<node id=ID><instance_attributes id="nodes-ID"><nvpair id="nodes-ID-NAME" …/>`.
pub fn set_node_attr(
    doc: &mut Document,
    uname: &str,
    set: NodeSet,
    name: &str,
    value: Option<&str>,
) -> anyhow::Result<bool> {
    let id = require_node_id(doc, uname)?;
    let nodes = section(doc, "nodes")?;
    let found = doc
        .children_named(nodes, "node")
        .find(|&n| doc.attr(n, "uname") == Some(uname));
    let node = match found {
        Some(n) => n,
        None if value.is_none() => return Ok(false),
        None => {
            let n = doc.create_element_with("node", &[("id", &id), ("uname", uname)]);
            doc.append_child(nodes, n);
            n
        }
    };
    Ok(set_nvpair(
        doc,
        node,
        set.tag(),
        &set.set_id(&id),
        name,
        value,
    ))
}

/// Sets or deletes a transient node attribute in `status`, as the attribute manager writes
/// it: `<node_state id=ID><transient_attributes id=ID><instance_attributes id="status-ID">
/// <nvpair id="status-ID-NAME" …/>`.
pub fn set_transient_attr(
    doc: &mut Document,
    uname: &str,
    name: &str,
    value: Option<&str>,
) -> anyhow::Result<bool> {
    let id = require_node_id(doc, uname)?;
    let root = root(doc)?;
    let status = child_or_create(doc, root, "status");
    let found = doc
        .children_named(status, "node_state")
        .find(|&n| doc.attr(n, "id") == Some(id.as_str()));
    let state = match found {
        Some(s) => s,
        None if value.is_none() => return Ok(false),
        None => {
            let s = doc.create_element_with("node_state", &[("id", &id), ("uname", uname)]);
            doc.append_child(status, s);
            s
        }
    };
    let transient = match doc.child_named(state, "transient_attributes") {
        Some(t) => t,
        None if value.is_none() => return Ok(false),
        None => {
            let t = doc.create_element_with("transient_attributes", &[("id", &id)]);
            doc.append_child(state, t);
            t
        }
    };
    Ok(set_nvpair(
        doc,
        transient,
        "instance_attributes",
        &format!("status-{id}"),
        name,
        value,
    ))
}

/// A permanent (`Some(false)`), transient (`Some(true)`) node attribute's value.
pub fn node_attr(cib: &Cib, uname: &str, set: NodeSet, name: &str) -> Option<String> {
    let node = cib.config.nodes.iter().find(|n| n.uname == uname)?;
    let sets = match set {
        NodeSet::Attributes => &node.instance,
        NodeSet::Utilization => &node.utilization,
    };
    first_value(sets, name)
}

/// A transient attribute's value.
pub fn transient_attr(cib: &Cib, uname: &str, name: &str) -> Option<String> {
    let state = cib
        .status
        .nodes
        .iter()
        .find(|s| s.uname.as_deref() == Some(uname))?;
    first_value(&state.transient, name)
}

fn first_value(sets: &[tandem_cib::nvset::NvSet], name: &str) -> Option<String> {
    sets.iter()
        .flat_map(|s| s.pairs.iter())
        .find(|p| p.name == name)
        .and_then(|p| p.value.clone())
}

/// Whether attribute `attr` (`fail-count-web#monitor_10000`, `last-failure-web`) belongs
/// to one of the resources in `ids` (every resource when `ids` is `None`).
fn is_failure_attr(attr: &str, ids: Option<&[String]>) -> bool {
    let rest = attr
        .strip_prefix("fail-count-")
        .or_else(|| attr.strip_prefix("last-failure-"));
    let Some(rest) = rest else {
        return false;
    };
    let Some(ids) = ids else {
        return true;
    };
    let rsc = rest.split_once('#').map_or(rest, |(r, _)| r);
    let base = strip_instance(rsc);
    ids.iter().any(|id| id == rsc || id == base)
}

/// `web:2` → `web`.
pub fn strip_instance(id: &str) -> &str {
    match id.rsplit_once(':') {
        Some((base, n)) if n.parse::<u32>().is_ok() => base,
        _ => id,
    }
}

/// The primitive ids at or below resource `rsc`.
pub fn primitive_ids(cib: &Cib, rsc: &str) -> anyhow::Result<Vec<String>> {
    let Some(entry) = cib.config.find_resource(rsc) else {
        bail!("resource {rsc} is not defined in the CIB");
    };
    let all = cib.config.all_resources();
    let mut ids = vec![entry.rsc.id().to_string()];
    // Descendants: entries whose parent chain reaches `rsc`.
    let mut grew = true;
    while grew {
        grew = false;
        for e in &all {
            let id = e.rsc.id().to_string();
            if e.parent.is_some_and(|p| ids.iter().any(|i| i == p)) && !ids.contains(&id) {
                ids.push(id);
                grew = true;
            }
        }
    }
    Ok(ids)
}

/// What [`cleanup`] removed, per node: (node, resources).
pub type Cleaned = Vec<(String, Vec<String>)>;

/// Forgets failures of `rsc` (all resources if `None`) on `node` (all nodes if `None`):
/// the failed operation records in `status` and the `fail-count-*`/`last-failure-*`
/// transient attributes. Successful history stays, so the recorded state is unchanged.
pub fn cleanup(
    doc: &mut Document,
    rsc: Option<&str>,
    node: Option<&str>,
) -> anyhow::Result<Cleaned> {
    let cib = Cib::from_document(doc.clone()).context("the CIB does not load")?;
    let ids = match rsc {
        Some(r) => Some(primitive_ids(&cib, r)?),
        None => None,
    };
    if let Some(n) = node
        && node_id(doc, n).is_none()
    {
        bail!("node {n} is not part of the cluster");
    }
    let mut cleaned: Cleaned = Vec::new();
    let mut doomed: Vec<NodeId> = Vec::new();
    for state in &cib.status.nodes {
        let uname = state.uname.clone().unwrap_or_else(|| state.id.clone());
        if node.is_some_and(|n| n != uname) {
            continue;
        }
        let mut here: Vec<String> = Vec::new();
        for h in &state.resources {
            let matches = ids
                .as_ref()
                .is_none_or(|ids| ids.iter().any(|i| i == &h.id || i == strip_instance(&h.id)));
            if !matches {
                continue;
            }
            let failed: Vec<NodeId> = h
                .ops
                .iter()
                .filter(|o| tandem_scheduler::unpack::ops::is_failure(o))
                .filter_map(|o| o.node)
                .collect();
            if !failed.is_empty() {
                here.push(h.id.clone());
                doomed.extend(failed);
            }
        }
        for (p, name) in failure_attrs(doc, &state.id, ids.as_deref()) {
            doomed.push(p);
            let rsc = name
                .strip_prefix("fail-count-")
                .or_else(|| name.strip_prefix("last-failure-"))
                .unwrap_or_default();
            let rsc = strip_instance(rsc.split_once('#').map_or(rsc, |(r, _)| r)).to_string();
            if !here.iter().any(|h| strip_instance(h) == rsc) {
                here.push(rsc);
            }
        }
        if !here.is_empty() {
            cleaned.push((uname, here));
        }
    }
    for n in doomed {
        doc.detach(n);
    }
    Ok(cleaned)
}

/// The fail-count and last-failure nvpairs (element, name) in the transient attributes of
/// the node whose `node_state` has id `state_id`.
fn failure_attrs(doc: &Document, state_id: &str, ids: Option<&[String]>) -> Vec<(NodeId, String)> {
    let Some(status) = doc.root().and_then(|r| doc.child_named(r, "status")) else {
        return Vec::new();
    };
    doc.children_named(status, "node_state")
        .filter(|&s| doc.attr(s, "id") == Some(state_id))
        .flat_map(|s| {
            doc.children_named(s, "transient_attributes")
                .collect::<Vec<_>>()
        })
        .flat_map(|t| doc.descendants(t).collect::<Vec<_>>())
        .filter(|&n| doc.name(n) == "nvpair")
        .filter_map(|n| doc.attr(n, "name").map(|a| (n, a.to_string())))
        .filter(|(_, a)| is_failure_attr(a, ids))
        .collect()
}

/// Adds `constraint` to the constraints section, replacing an element with the same id.
pub fn put_constraint(doc: &mut Document, constraint: &Document) -> anyhow::Result<()> {
    let cons = section(doc, "constraints")?;
    let new_root = constraint.root().context("empty constraint")?;
    let id = constraint
        .attr(new_root, "id")
        .unwrap_or_default()
        .to_string();
    let imported = doc.import(constraint, new_root);
    let found = doc
        .elements(cons)
        .find(|&c| doc.attr(c, "id") == Some(id.as_str()));
    match found {
        Some(old) => {
            doc.insert_before(old, imported);
            doc.detach(old);
        }
        None => doc.append_child(cons, imported),
    }
    Ok(())
}

/// Removes the constraints whose ids satisfy `pick`; returns their ids.
pub fn remove_constraints(
    doc: &mut Document,
    pick: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<String>> {
    let cons = section(doc, "constraints")?;
    let gone: Vec<(NodeId, String)> = doc
        .elements(cons)
        .filter_map(|c| doc.attr(c, "id").map(|id| (c, id.to_string())))
        .filter(|(_, id)| pick(id))
        .collect();
    for (n, _) in &gone {
        doc.detach(*n);
    }
    Ok(gone.into_iter().map(|(_, id)| id).collect())
}

/// Records who changed the CIB, as the CIB manager does (`Last change: … by USER via
/// CLIENT on NODE` in `tandem status`).
pub fn stamp(doc: &mut Document, when: &str, user: &str, client: &str, origin: &str) {
    let Some(root) = doc.root() else {
        return;
    };
    doc.set_attr(root, "cib-last-written", when);
    doc.set_attr(root, "update-origin", origin);
    doc.set_attr(root, "update-client", client);
    doc.set_attr(root, "update-user", user);
}
