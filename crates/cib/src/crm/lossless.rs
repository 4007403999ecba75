//! Making sure `show` loses nothing, the way crmsh checks it (`cli_use_validate`): an
//! object's crm text is parsed back and rebuilt; if that does not give exactly the object's
//! XML (canonical form, comments and ids included) the object is shown in the `xml` form.
//!
//! Ids first: the text leaves out an id only where loading it gives that id back, i.e. the
//! id is the one crmsh generates (`PRIMITIVE-instance_attributes`, `RSC-monitor-10s`, ...)
//! and no other object could take it first. Every other id is written (`$id=...`), where
//! the syntax has a place for it; where it has none, the check fails and the `xml` form is
//! used.
//!
//! The check rebuilds the object in the id context of the rest of the configuration, so
//! `show` → `load replace` gives back the same configuration: each object identical under
//! C14N. What the text does not carry is the order of objects within a section (`show`
//! sorts them as crmsh does) and comments between objects (crmsh drops them too).

use std::collections::BTreeSet;

use tandem_xml::{C14nOptions, Document, NodeId};

use super::apply::{build, elem_from_doc, fencing_element};
use super::ast::{Command, Elem, NvSection, Object};
use super::ids::{IdSet, MAX_ID_SUFFIX, generated_base, is_idless};
use super::objects::{ObjectKind, ObjectRef, is_resource};
use super::parse::parse;
use super::parse_attrs::make_promotable;
use super::show::{Context, crm_text, xml_text};

/// Stand-in for a container's member when comparing (members are objects of their own).
const MEMBER: &str = "member";

/// An object's text and whether it is the `xml` form.
pub(super) struct Shown {
    pub text: String,
    pub xml: bool,
}

/// The object's crm text if it loads back exactly, else its `xml` form.
pub(super) fn render(doc: &Document, o: &ObjectRef, ctx: &Context) -> Shown {
    // The context the object is rebuilt in: every id but its own.
    let mut others = ctx.ids.clone();
    for id in own_ids(doc, o) {
        others.remove(&id);
    }
    let explicit = explicit_ids(doc, o, &others);
    if let Some(text) = crm_text(doc, o, &explicit)
        && round_trips(doc, o, &text, &others)
    {
        return Shown { text, xml: false };
    }
    Shown {
        text: xml_text(doc, o),
        xml: true,
    }
}

/// True if `c` is a member of the container `parent` (an object of its own).
fn is_member(doc: &Document, parent: NodeId, c: NodeId) -> bool {
    matches!(doc.name(parent), "group" | "clone" | "master" | "bundle") && is_resource(doc, c)
}

/// The ids of the object's elements (its members' excepted).
fn own_ids(doc: &Document, o: &ObjectRef) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![o.node];
    while let Some(n) = stack.pop() {
        let name = doc.name(n);
        if name != "node"
            && !is_idless(name)
            && let Some(id) = doc.attr(n, "id")
        {
            out.push(id.to_string());
        }
        stack.extend(doc.elements(n).filter(|&c| !is_member(doc, n, c)));
    }
    out
}

/// The prefix crm gives the generated ids below an object's root.
fn root_prefix(doc: &Document, o: &ObjectRef) -> String {
    match o.kind {
        ObjectKind::Fencing => "fencing".to_string(),
        ObjectKind::Node => doc
            .attr(o.node, "uname")
            .or(doc.attr(o.node, "id"))
            .unwrap_or("")
            .to_string(),
        _ => doc.attr(o.node, "id").unwrap_or("").to_string(),
    }
}

/// The elements of the object whose id the text must write.
fn explicit_ids(doc: &Document, o: &ObjectRef, others: &IdSet) -> BTreeSet<NodeId> {
    let mut walk = IdWalk {
        doc,
        others,
        own: BTreeSet::new(),
        explicit: BTreeSet::new(),
    };
    if o.kind != ObjectKind::Node
        && let Some(id) = doc.attr(o.node, "id")
    {
        walk.own.insert(id.to_string());
    }
    walk.below(o.node, &root_prefix(doc, o));
    walk.explicit
}

/// Walks an object in the order loading assigns ids.
struct IdWalk<'d> {
    doc: &'d Document,
    /// The ids of the rest of the configuration.
    others: &'d IdSet,
    /// The object's ids met so far.
    own: BTreeSet<String>,
    explicit: BTreeSet<NodeId>,
}

impl IdWalk<'_> {
    fn below(&mut self, n: NodeId, prefix: &str) {
        let doc = self.doc;
        let mut recipients = 0;
        for c in doc.elements(n).filter(|&c| !is_member(doc, n, c)) {
            let name = doc.name(c);
            // As `IdSet::assign`: an element's id, whatever it is, prefixes those below.
            let next = doc.attr(c, "id").unwrap_or(prefix).to_string();
            if !is_idless(name)
                && doc.attr(c, "id-ref").is_none()
                && let Some(id) = doc.attr(c, "id")
            {
                let expected = if name == "recipient" {
                    // The parser names recipients `ALERT-recipient-N`.
                    recipients += 1;
                    Some(format!("{prefix}-recipient-{recipients}"))
                } else {
                    let base =
                        generated_base(name, doc.attr(c, "name"), doc.attr(c, "interval"), prefix);
                    self.generated(&base)
                };
                if expected.as_deref() != Some(id) {
                    self.explicit.insert(c);
                }
                self.own.insert(id.to_string());
            }
            self.below(c, &next);
        }
    }

    /// The id loading generates from `base`, whatever order objects are loaded in: `None`
    /// when it could depend on that order (another object has one of the candidates).
    fn generated(&self, base: &str) -> Option<String> {
        for n in 0..=MAX_ID_SUFFIX {
            let candidate = if n == 0 {
                base.to_string()
            } else {
                format!("{base}-{}", n - 1)
            };
            if self.others.contains(&candidate) {
                return None;
            }
            if !self.own.contains(&candidate) {
                return Some(candidate);
            }
        }
        None
    }
}

/// True if `text` parses into one definition that rebuilds exactly the object's XML.
fn round_trips(doc: &Document, o: &ObjectRef, text: &str, others: &IdSet) -> bool {
    let Ok(cmds) = parse(text) else {
        return false;
    };
    let [cmd] = cmds.as_slice() else {
        return false;
    };
    let Command::Define(object) = &cmd.value else {
        return false;
    };
    let mut ids = others.clone();
    let Some(rebuilt) = rebuild(doc, o, object, &mut ids) else {
        return false;
    };
    let mut original = original_elem(doc, o.node);
    if o.kind == ObjectKind::Ms {
        // `ms` writes a promotable clone (on purpose): compare with that.
        original.name = "clone".to_string();
        make_promotable(&mut original);
        ids.assign(&mut original, "");
    }
    c14n(&rebuilt) == c14n(&original)
}

/// The object as loading `object` would build it (members as stand-ins).
fn rebuild(doc: &Document, o: &ObjectRef, object: &Object, ids: &mut IdSet) -> Option<Elem> {
    let stub = |id: &str| Elem::new(MEMBER).with("id", id);
    let mut e = match object {
        Object::Primitive(e)
        | Object::Constraint(e)
        | Object::Tag(e)
        | Object::Alert(e)
        | Object::Acl(e)
        | Object::Node(e)
        | Object::Xml(e)
        | Object::Bundle(e) => {
            let mut e = e.clone();
            let hint = if e.name == "primitive" { "rsc" } else { "" };
            ids.assign(&mut e, hint);
            e
        }
        Object::Group { elem, members } => {
            let mut e = elem.clone();
            ids.assign(&mut e, "grp");
            e.children.extend(members.iter().map(|m| stub(m)));
            e
        }
        Object::Clone { elem, child } => {
            let mut e = elem.clone();
            ids.assign(&mut e, "grp");
            e.children.push(stub(child));
            e
        }
        Object::NvSet { section, set } => nvset(o.kind, *section, set, ids)?,
        Object::Fencing(levels) => {
            let mut e = fencing_element(doc, levels);
            ids.assign(&mut e, "fencing");
            e
        }
    };
    if e.name == "bundle" {
        for c in &mut e.children {
            if c.name == "primitive" {
                c.name = MEMBER.to_string();
            }
        }
    }
    Some(e)
}

/// A `property`/`rsc_defaults`/`op_defaults` set as loading builds it into an empty
/// section: pairs of one name merged, as `define_nvset` merges them.
fn nvset(kind: ObjectKind, section: NvSection, set: &Elem, ids: &mut IdSet) -> Option<Elem> {
    let same = matches!(
        (kind, section),
        (ObjectKind::Property, NvSection::Property)
            | (ObjectKind::RscDefaults, NvSection::RscDefaults)
            | (ObjectKind::OpDefaults, NvSection::OpDefaults)
    );
    if !same {
        return None;
    }
    let set_id = set.id().unwrap_or(section.default_id()).to_string();
    let mut e = Elem::new(&set.name).with("id", &set_id);
    e.comments = set.comments.clone();
    ids.insert(&set_id);
    for c in &set.children {
        let name = c.get("name");
        let earlier = e
            .children
            .iter_mut()
            .find(|x| x.name == "nvpair" && name.is_some() && x.get("name") == name);
        match earlier {
            Some(x) => match c.get("value") {
                Some(v) => x.set("value", v),
                None => x.attrs.retain(|(k, _)| k != "value"),
            },
            None => {
                let mut c = c.clone();
                ids.assign(&mut c, &set_id);
                e.children.push(c);
            }
        }
    }
    Some(e)
}

/// The object's element, its members as stand-ins.
fn original_elem(doc: &Document, n: NodeId) -> Elem {
    let mut e = elem_from_doc(doc, n);
    if matches!(e.name.as_str(), "group" | "clone" | "master" | "bundle") {
        for c in &mut e.children {
            if matches!(
                c.name.as_str(),
                "primitive" | "group" | "clone" | "master" | "bundle"
            ) {
                *c = Elem::new(MEMBER).with("id", c.id().unwrap_or_default());
            }
        }
    }
    e
}

fn c14n(e: &Elem) -> String {
    let mut d = Document::new();
    let n = build(&mut d, e);
    d.append_child(d.document_node(), n);
    d.c14n(C14nOptions::COMPARE)
}
