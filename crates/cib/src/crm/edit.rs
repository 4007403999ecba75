//! `delete` and `rename`, with crmsh's treatment of what refers to the object: constraints
//! left without their resource ("hanging") are deleted, sets and tags lose the member,
//! references follow a rename, and deleting a group or clone keeps its members (references
//! to the container move to its first member).

use tandem_xml::{Document, NodeId};

use super::error::{ApplyError, Pos};
use super::ids::IdSet;
use super::objects::{ObjectKind, find_object, kind_of};
use super::parse::is_id;

/// Constraint attributes that name a resource.
const RSC_ATTRS: &[&str] = &["rsc", "with-rsc", "first", "then"];

/// Deletes objects, all or nothing. Returns notes about what else changed.
pub fn delete(doc: &mut Document, ids: &[String], pos: Pos) -> Result<Vec<String>, ApplyError> {
    let mut work = doc.clone();
    let mut notes = Vec::new();
    for id in ids {
        if find_object(&work, id).is_none() {
            return Err(ApplyError::new(pos, format!("object {id} does not exist")));
        }
    }
    for id in ids {
        // An earlier deletion may have taken this one with it (a group's last member).
        let Some(n) = find_object(&work, id) else {
            continue;
        };
        delete_one(&mut work, n, pos, &mut notes)?;
    }
    *doc = work;
    Ok(notes)
}

fn delete_one(
    doc: &mut Document,
    n: NodeId,
    pos: Pos,
    notes: &mut Vec<String>,
) -> Result<(), ApplyError> {
    let id = doc.attr(n, "id").unwrap_or("").to_string();
    let kind = kind_of(doc, n);
    let parent = doc.parent(n).expect("an object has a parent");
    match kind {
        Some(ObjectKind::Group | ObjectKind::Clone | ObjectKind::Ms | ObjectKind::Bundle) => {
            if kind == Some(ObjectKind::Group) && doc.name(parent) != "resources" {
                return Err(ApplyError::new(
                    pos,
                    format!(
                        "group {id} is inside {} {}; delete that first",
                        doc.name(parent),
                        doc.attr(parent, "id").unwrap_or("")
                    ),
                ));
            }
            let members: Vec<NodeId> = doc
                .elements(n)
                .filter(|&c| super::objects::is_resource(doc, c))
                .collect();
            if let Some(&first) = members.first() {
                let to = doc.attr(first, "id").unwrap_or("").to_string();
                redirect(doc, &id, &to, notes);
            }
            for m in members {
                doc.detach(m);
                doc.insert_before(n, m);
            }
            doc.detach(n);
            drop_references(doc, &[id], notes);
        }
        Some(ObjectKind::Primitive) => {
            doc.detach(n);
            let mut gone = vec![id];
            // Pacemaker has no empty containers: one left without members goes too.
            let mut at = Some(parent);
            while let Some(p) = at {
                let empty = !doc.elements(p).any(|c| super::objects::is_resource(doc, c));
                if !matches!(doc.name(p), "group" | "clone" | "master") || !empty {
                    break;
                }
                let pid = doc.attr(p, "id").unwrap_or("").to_string();
                notes.push(format!(
                    "{} {pid} is empty and was deleted too",
                    doc.name(p)
                ));
                at = doc.parent(p);
                doc.detach(p);
                gone.push(pid);
            }
            drop_references(doc, &gone, notes);
        }
        _ => {
            doc.detach(n);
            if kind == Some(ObjectKind::Template) {
                drop_references(doc, &[id], notes);
            }
        }
    }
    Ok(())
}

/// Every constraint and tag element in the configuration.
fn referrers(doc: &Document) -> Vec<NodeId> {
    let Some(conf) = doc.root().and_then(|r| doc.child_named(r, "configuration")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in ["constraints", "tags"] {
        if let Some(sec) = doc.child_named(conf, s) {
            out.extend(doc.elements(sec));
        }
    }
    out
}

fn describe(doc: &Document, n: NodeId) -> String {
    let kind = kind_of(doc, n).map(ObjectKind::keyword).unwrap_or("object");
    format!("{kind}:{}", doc.attr(n, "id").unwrap_or(""))
}

/// Removes references to deleted resources; objects left without resources are deleted.
fn drop_references(doc: &mut Document, gone: &[String], notes: &mut Vec<String>) {
    let is_gone = |v: Option<&str>| v.is_some_and(|v| gone.iter().any(|g| g == v));
    for c in referrers(doc) {
        if RSC_ATTRS.iter().any(|a| is_gone(doc.attr(c, a))) {
            notes.push(format!("hanging {} deleted", describe(doc, c)));
            doc.detach(c);
            continue;
        }
        let mut changed = false;
        let refs: Vec<NodeId> = doc
            .descendants(c)
            .filter(|&r| matches!(doc.name(r), "resource_ref" | "obj_ref"))
            .collect();
        for r in refs {
            if is_gone(doc.attr(r, "id")) {
                let set = doc.parent(r).expect("a reference has a parent");
                doc.detach(r);
                changed = true;
                if doc.name(set) == "resource_set" && doc.elements(set).next().is_none() {
                    doc.detach(set);
                }
            }
        }
        if !changed {
            continue;
        }
        let members = doc
            .descendants(c)
            .filter(|&r| matches!(doc.name(r), "resource_ref" | "obj_ref"))
            .count();
        let simple = RSC_ATTRS.iter().any(|a| doc.attr(c, a).is_some());
        if members == 0 && !simple {
            notes.push(format!("hanging {} deleted", describe(doc, c)));
            doc.detach(c);
        } else {
            notes.push(format!("{} updated", describe(doc, c)));
        }
    }
    // Primitives built from a deleted template keep a dangling reference; verify says so.
}

/// Points every reference to `from` at `to`.
fn redirect(doc: &mut Document, from: &str, to: &str, notes: &mut Vec<String>) {
    for c in referrers(doc) {
        let mut changed = false;
        for a in RSC_ATTRS {
            if doc.attr(c, a) == Some(from) {
                doc.set_attr(c, a, to);
                changed = true;
            }
        }
        let refs: Vec<NodeId> = doc
            .descendants(c)
            .filter(|&r| matches!(doc.name(r), "resource_ref" | "obj_ref"))
            .collect();
        for r in refs {
            if doc.attr(r, "id") == Some(from) {
                doc.set_attr(r, "id", to);
                changed = true;
            }
        }
        if changed {
            notes.push(format!("modified {} from {from} to {to}", describe(doc, c)));
        }
    }
}

/// Renames an object and every reference to it.
pub fn rename(
    doc: &mut Document,
    from: &str,
    to: &str,
    pos: Pos,
) -> Result<Vec<String>, ApplyError> {
    let n = find_object(doc, from)
        .ok_or_else(|| ApplyError::new(pos, format!("object {from} does not exist")))?;
    match kind_of(doc, n) {
        Some(ObjectKind::Node | ObjectKind::Fencing) | None => {
            return Err(ApplyError::new(
                pos,
                format!(
                    "{from} cannot be renamed (nodes and the fencing topology keep their names)"
                ),
            ));
        }
        _ => {}
    }
    if !is_id(to) {
        return Err(ApplyError::new(pos, format!("{to} is not a valid id")));
    }
    if IdSet::of(doc).contains(to) {
        return Err(ApplyError::new(
            pos,
            format!("the id {to} is already used by another element; choose another id"),
        ));
    }
    let mut work = doc.clone();
    let mut notes = Vec::new();
    let n = find_object(&work, from).expect("found above");
    work.set_attr(n, "id", to);
    redirect(&mut work, from, to, &mut notes);
    if work.name(n) == "template"
        && let Some(res) = super::objects::section(&mut work, "resources", false)
    {
        let users: Vec<NodeId> = work
            .descendants(res)
            .filter(|&p| work.attr(p, "template") == Some(from))
            .collect();
        for p in users {
            work.set_attr(p, "template", to);
        }
    }
    *doc = work;
    Ok(notes)
}
