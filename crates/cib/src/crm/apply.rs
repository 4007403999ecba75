//! Applying definitions to a CIB document: ids assigned crmsh's way, elements placed in
//! their sections, group and clone members moved into their container. Every function here
//! either succeeds or leaves the document as it was (they work on a copy).

use tandem_xml::{Document, NodeId, NodeKind};

use super::ast::{COMMENT, Elem, FenceTarget, Located, NvSection, Object, TEXT};
use super::error::{ApplyError, Pos};
use super::ids::IdSet;
use super::objects::{ObjectKind, find_object, find_object_except_nodes, kind_of, section};

/// What to do when an object of the same id exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Refuse (interactive definitions, one-shot commands).
    Create,
    /// Replace it (`load update`).
    Update,
}

/// Applies definitions in order, all or nothing. Returns informational notes.
pub fn define_all(
    doc: &mut Document,
    objects: &[Located<Object>],
    mode: Mode,
) -> Result<Vec<String>, ApplyError> {
    let mut work = doc.clone();
    let mut ids = IdSet::of(&work);
    let mut notes = Vec::new();
    for o in objects {
        define_one(&mut work, &mut ids, &o.value, mode, o.pos, &mut notes)?;
    }
    *doc = work;
    Ok(notes)
}

/// Applies one definition.
pub fn define(
    doc: &mut Document,
    object: &Object,
    mode: Mode,
    pos: Pos,
) -> Result<Vec<String>, ApplyError> {
    let mut work = doc.clone();
    let mut ids = IdSet::of(&work);
    let mut notes = Vec::new();
    define_one(&mut work, &mut ids, object, mode, pos, &mut notes)?;
    *doc = work;
    Ok(notes)
}

fn define_one(
    doc: &mut Document,
    ids: &mut IdSet,
    object: &Object,
    mode: Mode,
    pos: Pos,
    _notes: &mut Vec<String>,
) -> Result<(), ApplyError> {
    let resolved = resolve_refs(doc, object);
    let object = &resolved;
    match object {
        Object::NvSet { section: s, set } => define_nvset(doc, ids, *s, set),
        Object::Xml(e) if e.name == "fencing-topology" => {
            let old = old_topology(doc, ids, mode, pos)?;
            let mut e = e.clone();
            check_given_ids(&e, ids, pos, true)?;
            ids.assign(&mut e, "fencing");
            let n = build(doc, &e);
            put_topology(doc, n, old);
            Ok(())
        }
        Object::Fencing(levels) => {
            let old = old_topology(doc, ids, mode, pos)?;
            let mut e = fencing_element(doc, levels);
            ids.assign(&mut e, "fencing");
            let n = build(doc, &e);
            put_topology(doc, n, old);
            Ok(())
        }
        Object::Group { elem, members } => define_group(doc, ids, elem, members, mode, pos),
        Object::Bundle(e) => define_bundle(doc, ids, e, mode, pos),
        Object::Xml(e) if defaults_section(e).is_some() => {
            let (sec, set) = defaults_section(e).expect("checked");
            let home = section(doc, sec, true).expect("created");
            let id = set.id().unwrap_or_default();
            let existing = doc.elements(home).find(|&n| doc.attr(n, "id") == Some(id));
            place(doc, ids, set, home, existing, mode, pos, sec)
        }
        Object::Clone { elem, child } => define_clone(doc, ids, elem, child, mode, pos),
        Object::Node(e) => {
            let id = e.id().unwrap_or_default();
            let uname = e.get("uname").unwrap_or_default();
            let nodes = section(doc, "nodes", true).expect("created");
            let existing = doc
                .children_named(nodes, "node")
                .find(|&n| doc.attr(n, "id") == Some(id) || doc.attr(n, "uname") == Some(uname));
            place(doc, ids, e, nodes, existing, mode, pos, "node")
        }
        Object::Primitive(e)
        | Object::Constraint(e)
        | Object::Tag(e)
        | Object::Alert(e)
        | Object::Acl(e)
        | Object::Xml(e) => define_element(doc, ids, object, e, mode, pos),
    }
}

/// An object that is one element placed in its section (or in place of the one it
/// replaces): primitives, constraints, tags, alerts, ACLs, `xml` objects.
fn define_element(
    doc: &mut Document,
    ids: &mut IdSet,
    object: &Object,
    e: &Elem,
    mode: Mode,
    pos: Pos,
) -> Result<(), ApplyError> {
    let err = |m: String| ApplyError::new(pos, m);
    let id = e.id().unwrap_or_default().to_string();
    // A node may share its id with a resource (a remote node and its connection).
    let existing = if e.name == "node" {
        find_object(doc, &id)
    } else {
        super::objects::find_object_except_nodes(doc, &id)
    };
    let home = home_section(doc, object, e).ok_or_else(|| {
        err(format!(
            "<{}> is not a configuration object crm can place",
            e.name
        ))
    })?;
    if let Some(old) = existing
        && mode == Mode::Update
        && doc.name(old) != e.name
        && !(e.name == "clone" && doc.name(old) == "master")
        && !(e.name.starts_with("acl_") && doc.name(old).starts_with("acl_"))
    {
        return Err(err(format!(
            "{id} is a {}, it cannot be replaced by a {}",
            kind_of(doc, old)
                .map(ObjectKind::keyword)
                .unwrap_or("object"),
            e.name
        )));
    }
    let hint = if e.name == "primitive" { "rsc" } else { "" };
    place(doc, ids, e, home, existing, mode, pos, hint)
}

/// The `fencing-topology` a new one replaces (its ids forgotten); refused when creating.
fn old_topology(
    doc: &Document,
    ids: &mut IdSet,
    mode: Mode,
    pos: Pos,
) -> Result<Option<NodeId>, ApplyError> {
    let Some(old) = doc.child_named(configuration(doc), "fencing-topology") else {
        return Ok(None);
    };
    if mode == Mode::Create {
        return Err(ApplyError::new(
            pos,
            "fencing_topology already exists; delete it first or use load update",
        ));
    }
    ids.forget(doc, old);
    Ok(Some(old))
}

/// Puts a new `fencing-topology` where the old one was, or at the end.
fn put_topology(doc: &mut Document, n: NodeId, old: Option<NodeId>) {
    match old {
        Some(old) => {
            doc.insert_before(old, n);
            doc.detach(old);
        }
        None => {
            let conf = configuration(doc);
            doc.append_child(conf, n);
        }
    }
}

/// Inserts `e` into `parent` (or in place of `existing` when updating).
#[allow(clippy::too_many_arguments)]
fn place(
    doc: &mut Document,
    ids: &mut IdSet,
    e: &Elem,
    parent: NodeId,
    existing: Option<NodeId>,
    mode: Mode,
    pos: Pos,
    hint: &str,
) -> Result<(), ApplyError> {
    let id = e.id().or(e.get("uname")).unwrap_or_default().to_string();
    if let Some(old) = existing {
        if mode == Mode::Create {
            let kind = kind_of(doc, old)
                .map(ObjectKind::keyword)
                .unwrap_or("object");
            return Err(ApplyError::new(
                pos,
                format!("{id} already exists (a {kind}); choose another id, or delete it first"),
            ));
        }
        ids.forget(doc, old);
    } else if e.name != "node" && ids.contains(&id) {
        return Err(ApplyError::new(
            pos,
            format!("the id {id} is already used by another element; choose another id"),
        ));
    }
    let mut e = e.clone();
    check_given_ids(&e, ids, pos, true)?;
    ids.assign(&mut e, hint);
    let n = build(doc, &e);
    match existing {
        Some(old) => {
            // Keep what lives inside a replaced container (a group's or clone's members
            // are not part of its definition), unless the new one (written in XML) brings
            // its own.
            let brings_own = e.elements().any(|c| is_resource_name(&c.name));
            let members: Vec<NodeId> = doc
                .elements(old)
                .filter(|&c| super::objects::is_resource(doc, c) && !brings_own)
                .collect();
            for m in members {
                doc.detach(m);
                doc.append_child(n, m);
            }
            doc.insert_before(old, n);
            doc.detach(old);
        }
        None => doc.append_child(parent, n),
    }
    Ok(())
}

/// Ids written explicitly (`$id=...`) inside a definition must be free.
fn check_given_ids(e: &Elem, ids: &IdSet, pos: Pos, top: bool) -> Result<(), ApplyError> {
    if !top
        && !super::ids::is_idless(&e.name)
        && let Some(id) = e.id()
        && !matches!(e.name.as_str(), "resource_ref" | "obj_ref" | "primitive")
        && ids.contains(id)
    {
        return Err(ApplyError::new(
            pos,
            format!("the id {id} is already used by another element; choose another id"),
        ));
    }
    e.children
        .iter()
        .try_for_each(|c| check_given_ids(c, ids, pos, false))
}

/// The section an object belongs in (created if missing).
fn home_section(doc: &mut Document, object: &Object, e: &Elem) -> Option<NodeId> {
    let name = match object {
        Object::Primitive(_) => "resources",
        Object::Constraint(_) => "constraints",
        Object::Tag(_) => "tags",
        Object::Alert(_) => "alerts",
        Object::Acl(_) => "acls",
        _ => match e.name.as_str() {
            "primitive" | "template" | "group" | "clone" | "master" | "bundle" => "resources",
            "rsc_location" | "rsc_colocation" | "rsc_order" | "rsc_ticket" => "constraints",
            "node" => "nodes",
            "tag" => "tags",
            "alert" => "alerts",
            "acl_role" | "acl_target" | "acl_user" | "acl_group" => "acls",
            "cluster_property_set" => "crm_config",
            _ => return None,
        },
    };
    section(doc, name, true)
}

fn configuration(doc: &Document) -> NodeId {
    let root = doc.root().expect("a CIB document has a root");
    doc.child_named(root, "configuration")
        .expect("a loaded CIB has a configuration")
}

/// `property`/`rsc_defaults`/`op_defaults`: pairs merge into the set of that id.
fn define_nvset(
    doc: &mut Document,
    ids: &mut IdSet,
    s: NvSection,
    set: &Elem,
) -> Result<(), ApplyError> {
    let sec = section(doc, s.section(), true).expect("created");
    let set_id = set.id().unwrap_or(s.default_id()).to_string();
    let existing = doc
        .elements(sec)
        .find(|&n| doc.attr(n, "id") == Some(set_id.as_str()));
    let target = match existing {
        Some(t) => t,
        None => {
            let mut shell = Elem::new(&set.name).with("id", &set_id);
            shell.comments = set.comments.clone();
            ids.insert(&set_id);
            let t = build(doc, &shell);
            doc.append_child(sec, t);
            t
        }
    };
    for c in &set.children {
        let name = c.get("name");
        let same = name.and_then(|name| {
            doc.children_named(target, "nvpair")
                .find(|&n| doc.attr(n, "name") == Some(name))
        });
        match (same, c.get("value")) {
            (Some(n), Some(v)) => {
                doc.set_attr(n, "value", v);
            }
            (Some(n), None) => {
                doc.remove_attr(n, "value");
            }
            (None, _) => {
                let mut c = c.clone();
                ids.assign(&mut c, &set_id);
                let n = build(doc, &c);
                doc.append_child(target, n);
            }
        }
    }
    Ok(())
}

/// The `<fencing-topology>` for the written levels; levels without a target apply to every
/// configured node.
pub(super) fn fencing_element(doc: &Document, levels: &[(FenceTarget, String)]) -> Elem {
    let nodes: Vec<String> = doc
        .root()
        .and_then(|r| doc.descend(r, &["configuration", "nodes"]))
        .map(|ns| {
            doc.children_named(ns, "node")
                .filter_map(|n| doc.attr(n, "uname").or(doc.attr(n, "id")))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut expanded: Vec<(FenceTarget, String)> = Vec::new();
    if levels.iter().all(|(t, _)| *t == FenceTarget::AllNodes) {
        for n in &nodes {
            for (_, d) in levels {
                expanded.push((FenceTarget::Node(n.clone()), d.clone()));
            }
        }
    } else {
        expanded = levels.to_vec();
    }
    let mut top = Elem::new("fencing-topology");
    let mut counts: Vec<(FenceTarget, u32)> = Vec::new();
    for (t, devices) in expanded {
        let index = match counts.iter_mut().find(|(k, _)| *k == t) {
            Some((_, c)) => {
                *c += 1;
                *c
            }
            None => {
                counts.push((t.clone(), 1));
                1
            }
        };
        let mut l = Elem::new("fencing-level");
        match &t {
            FenceTarget::Node(n) => l.set("target", n),
            FenceTarget::Pattern(p) => l.set("target-pattern", p),
            FenceTarget::Attribute { name, value } => {
                l.set("target-attribute", name);
                l.set("target-value", value);
            }
            FenceTarget::AllNodes => {}
        }
        l.set("index", &index.to_string());
        l.set("devices", &devices);
        top.children.push(l);
    }
    top
}

fn define_group(
    doc: &mut Document,
    ids: &mut IdSet,
    elem: &Elem,
    members: &[String],
    mode: Mode,
    pos: Pos,
) -> Result<(), ApplyError> {
    let id = elem.id().unwrap_or_default().to_string();
    let resources = section(doc, "resources", true).expect("created");
    let mut anchor = None;
    if let Some(old) = find_object_except_nodes(doc, &id) {
        if mode == Mode::Create || doc.name(old) != "group" {
            return Err(exists(doc, old, &id, pos));
        }
        // Updating: the old members go back to the top level; the new list picks them up.
        for c in doc.elements(old).collect::<Vec<_>>() {
            if super::objects::is_resource(doc, c) {
                doc.detach(c);
                doc.insert_before(old, c);
            }
        }
        ids.forget(doc, old);
        anchor = Some(old);
    } else if ids.contains(&id) {
        return Err(id_taken(&id, pos));
    }
    // A member of the group being replaced was just moved next to it.
    let home = anchor.and_then(|a| doc.parent(a)).unwrap_or(resources);
    let nodes = group_members(doc, &id, members, [resources, home], pos)?;
    let mut e = elem.clone();
    check_given_ids(&e, ids, pos, true)?;
    ids.assign(&mut e, "grp");
    let g = build(doc, &e);
    match anchor {
        Some(old) => {
            doc.insert_before(old, g);
            doc.detach(old);
        }
        None => doc.append_child(resources, g),
    }
    for n in nodes {
        doc.detach(n);
        doc.append_child(g, n);
    }
    Ok(())
}

/// The primitives to move into group `id`: each must exist and sit in one of `homes`.
fn group_members(
    doc: &Document,
    id: &str,
    members: &[String],
    homes: [NodeId; 2],
    pos: Pos,
) -> Result<Vec<NodeId>, ApplyError> {
    let mut nodes = Vec::new();
    for m in members {
        let n = find_object_except_nodes(doc, m).ok_or_else(|| {
            ApplyError::new(
                pos,
                format!("group {id}: resource {m} does not exist; define it first"),
            )
        })?;
        if doc.name(n) != "primitive" {
            return Err(ApplyError::new(
                pos,
                format!(
                    "group {id}: {m} is a {}, a group holds primitives only",
                    doc.name(n)
                ),
            ));
        }
        if let Some(p) = doc.parent(n).filter(|p| !homes.contains(p)) {
            return Err(ApplyError::new(
                pos,
                format!(
                    "group {id}: {m} is already in {} {}; a resource can be in one container only",
                    doc.name(p),
                    doc.attr(p, "id").unwrap_or("")
                ),
            ));
        }
        nodes.push(n);
    }
    Ok(nodes)
}

fn define_clone(
    doc: &mut Document,
    ids: &mut IdSet,
    elem: &Elem,
    child: &str,
    mode: Mode,
    pos: Pos,
) -> Result<(), ApplyError> {
    let id = elem.id().unwrap_or_default().to_string();
    let resources = section(doc, "resources", true).expect("created");
    let mut anchor = None;
    if let Some(old) = find_object_except_nodes(doc, &id) {
        if mode == Mode::Create || !matches!(doc.name(old), "clone" | "master") {
            return Err(exists(doc, old, &id, pos));
        }
        for c in doc.elements(old).collect::<Vec<_>>() {
            if super::objects::is_resource(doc, c) {
                doc.detach(c);
                doc.insert_before(old, c);
            }
        }
        ids.forget(doc, old);
        anchor = Some(old);
    } else if ids.contains(&id) {
        return Err(id_taken(&id, pos));
    }
    let n = find_object_except_nodes(doc, child).ok_or_else(|| {
        ApplyError::new(
            pos,
            format!("clone {id}: resource {child} does not exist; define it first"),
        )
    })?;
    if !matches!(doc.name(n), "primitive" | "group") {
        return Err(ApplyError::new(
            pos,
            format!(
                "clone {id}: {child} is a {}, only a primitive or a group can be cloned",
                doc.name(n)
            ),
        ));
    }
    if doc.parent(n) != Some(resources) {
        let p = doc.parent(n).expect("a resource has a parent");
        return Err(ApplyError::new(
            pos,
            format!(
                "clone {id}: {child} is already in {} {}; a resource can be in one container only",
                doc.name(p),
                doc.attr(p, "id").unwrap_or("")
            ),
        ));
    }
    let mut e = elem.clone();
    check_given_ids(&e, ids, pos, true)?;
    ids.assign(&mut e, "grp");
    let c = build(doc, &e);
    match anchor {
        Some(old) => {
            doc.insert_before(old, c);
            doc.detach(old);
        }
        None => doc.append_child(resources, c),
    }
    doc.detach(n);
    doc.append_child(c, n);
    Ok(())
}

fn exists(doc: &Document, old: NodeId, id: &str, pos: Pos) -> ApplyError {
    let kind = kind_of(doc, old)
        .map(ObjectKind::keyword)
        .unwrap_or("object");
    ApplyError::new(
        pos,
        format!("{id} already exists (a {kind}); choose another id, or delete it first"),
    )
}

fn id_taken(id: &str, pos: Pos) -> ApplyError {
    ApplyError::new(
        pos,
        format!("the id {id} is already used by another element; choose another id"),
    )
}

/// Creates the document nodes for `e` (detached).
pub fn build(doc: &mut Document, e: &Elem) -> NodeId {
    match e.name.as_str() {
        COMMENT => return doc.create_comment(e.get("text").unwrap_or_default()),
        TEXT => return doc.create_text(e.get("text").unwrap_or_default()),
        _ => {}
    }
    let n = doc.create_element(&e.name);
    for (k, v) in &e.attrs {
        doc.set_attr(n, k, v);
    }
    // A comment line is kept as written (`<!--# the web tier-->`), as crmsh keeps it.
    for c in &e.comments {
        let cm = doc.create_comment(c.trim());
        doc.append_child(n, cm);
    }
    for c in &e.children {
        let cn = build(doc, c);
        doc.append_child(n, cn);
    }
    n
}

/// The owned tree of a document element, exactly: comments and text are kept in place as
/// [`COMMENT`] and [`TEXT`] children (an entity reference that is not predefined is kept
/// as text, `&name;`).
pub fn elem_from_doc(doc: &Document, n: NodeId) -> Elem {
    let mut e = Elem::new(doc.name(n));
    e.attrs = doc
        .attrs(n)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for c in doc.children(n) {
        let stand_in = |name: &str, text: &str| Elem::new(name).with("text", text);
        match doc.kind(c) {
            NodeKind::Element { .. } => e.children.push(elem_from_doc(doc, c)),
            NodeKind::Comment(t) => e.children.push(stand_in(COMMENT, t)),
            NodeKind::Text(t) | NodeKind::CData(t) => e.children.push(stand_in(TEXT, t)),
            _ => {}
        }
    }
    e
}

/// True for the element names of resources.
fn is_resource_name(name: &str) -> bool {
    matches!(name, "primitive" | "group" | "clone" | "master" | "bundle")
}

/// For an `xml` object that is a defaults set: its section and the set. crmsh writes an
/// `rsc_defaults` set as a bare `<meta_attributes>`; `show` writes an `op_defaults` set
/// inside `<op_defaults>` (a bare one would read as `rsc_defaults`).
fn defaults_section(e: &Elem) -> Option<(&'static str, &Elem)> {
    match e.name.as_str() {
        "meta_attributes" => Some(("rsc_defaults", e)),
        "rsc_defaults" | "op_defaults" => {
            let mut sets = e.elements();
            let set = sets.next().filter(|s| s.name == "meta_attributes")?;
            let sec = if e.name == "op_defaults" {
                "op_defaults"
            } else {
                "rsc_defaults"
            };
            sets.next().is_none().then_some((sec, set))
        }
        _ => None,
    }
}

/// `bundle`: built from its definition, the named primitive moved in where the text names
/// it. Replacing a bundle puts the old one's primitive back at the top level first.
fn define_bundle(
    doc: &mut Document,
    ids: &mut IdSet,
    elem: &Elem,
    mode: Mode,
    pos: Pos,
) -> Result<(), ApplyError> {
    let id = elem.id().unwrap_or_default().to_string();
    let resources = section(doc, "resources", true).expect("created");
    let mut anchor = None;
    if let Some(old) = find_object_except_nodes(doc, &id) {
        if mode == Mode::Create || doc.name(old) != "bundle" {
            return Err(exists(doc, old, &id, pos));
        }
        for c in doc.elements(old).collect::<Vec<_>>() {
            if super::objects::is_resource(doc, c) {
                doc.detach(c);
                doc.insert_before(old, c);
            }
        }
        ids.forget(doc, old);
        anchor = Some(old);
    } else if ids.contains(&id) {
        return Err(id_taken(&id, pos));
    }
    let mut e = elem.clone();
    let slot = e.children.iter().position(|c| c.name == "primitive");
    let inner = match slot {
        Some(at) => {
            let rsc = e.children.remove(at).id().unwrap_or_default().to_string();
            Some((at, bundle_primitive(doc, &id, &rsc, anchor, pos)?))
        }
        None => None,
    };
    check_given_ids(&e, ids, pos, true)?;
    ids.assign(&mut e, "rsc");
    let b = build(doc, &e);
    match anchor {
        Some(old) => {
            doc.insert_before(old, b);
            doc.detach(old);
        }
        None => doc.append_child(resources, b),
    }
    if let Some((at, p)) = inner {
        doc.detach(p);
        // The comments built first come before the children.
        let placed = doc.insert_at(b, e.comments.len() + at, p);
        assert!(placed, "the slot is within the bundle's children");
    }
    Ok(())
}

/// The primitive a bundle takes in: it must exist at the top level (or in the bundle being
/// replaced, whose resources were just moved next to it).
fn bundle_primitive(
    doc: &Document,
    id: &str,
    rsc: &str,
    anchor: Option<NodeId>,
    pos: Pos,
) -> Result<NodeId, ApplyError> {
    let n = find_object_except_nodes(doc, rsc).ok_or_else(|| {
        ApplyError::new(
            pos,
            format!("bundle {id}: resource {rsc} does not exist; define it first"),
        )
    })?;
    if doc.name(n) != "primitive" {
        return Err(ApplyError::new(
            pos,
            format!(
                "bundle {id}: {rsc} is a {}, a bundle holds one primitive",
                doc.name(n)
            ),
        ));
    }
    let home = anchor.and_then(|a| doc.parent(a));
    let parent = doc.parent(n).expect("a resource has a parent");
    if doc.name(parent) != "resources" && Some(parent) != home {
        return Err(ApplyError::new(
            pos,
            format!(
                "bundle {id}: {rsc} is already in {} {}; a resource can be in one container only",
                doc.name(parent),
                doc.attr(parent, "id").unwrap_or("")
            ),
        ));
    }
    Ok(n)
}

/// Element names whose `$id-ref=` may name a resource instead (crmsh: "the resource's
/// first set of that kind").
const SET_NAMES: &[&str] = &[
    "instance_attributes",
    "meta_attributes",
    "utilization",
    "operations",
    "rule",
];

/// `$id-ref=RSC` for a set means RSC's first set of that kind, as crmsh resolves it.
fn resolve_refs(doc: &Document, object: &Object) -> Object {
    let mut object = object.clone();
    let elem = match &mut object {
        Object::Node(e)
        | Object::Primitive(e)
        | Object::Group { elem: e, .. }
        | Object::Clone { elem: e, .. }
        | Object::Constraint(e)
        | Object::Bundle(e)
        | Object::Alert(e)
        | Object::NvSet { set: e, .. } => e,
        Object::Tag(_) | Object::Acl(_) | Object::Xml(_) | Object::Fencing(_) => {
            return object;
        }
    };
    resolve_in(doc, elem);
    object
}

fn resolve_in(doc: &Document, e: &mut Elem) {
    for c in &mut e.children {
        if SET_NAMES.contains(&c.name.as_str())
            && let Some(r) = c.get("id-ref")
            && let Some(rsc) = find_object_except_nodes(doc, r)
            && super::objects::is_resource(doc, rsc)
            && let Some(set) = doc
                .descendants(rsc)
                .find(|&n| doc.name(n) == c.name && doc.attr(n, "id").is_some())
        {
            let id = doc.attr(set, "id").expect("found with an id").to_string();
            c.set("id-ref", &id);
        }
        resolve_in(doc, c);
    }
}
