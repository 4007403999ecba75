//! The crm configure language (crmsh's syntax): parse it, apply it to a CIB document, and
//! print a configuration back as crm text.
//!
//! ```text
//!   crm text ──lex──▶ statements (words with line:column)
//!            ──parse──▶ Command (Define(Object) | Delete | Rename | Show | Verify | Commit
//!                               | Load | Edit)
//!   Define ──apply::define──▶ CIB Document (ids generated as crmsh does, members moved
//!                             into groups and clones)
//!   Document ──show──▶ crm text, byte for byte what `crm configure show` prints
//! ```
//!
//! Nothing here does I/O: `load` takes the file's text, `edit` and `commit` are the shell's
//! business. Every failure leaves the document unchanged and says where (`line:column`),
//! what was found and what was expected.
//!
//! ```
//! use tandem_cib::{Cib, crm};
//! let mut doc = Cib::empty().into_document();
//! let text = r#"primitive IP ocf:heartbeat:IPaddr2 params ip=10.0.10.200 cidr_netmask="24" op monitor interval="30s""#;
//! for cmd in crm::parse(text).unwrap() {
//!     crm::execute(&mut doc, &cmd).unwrap();
//! }
//! assert_eq!(
//!     crm::show(&doc, &[]).unwrap(),
//!     "primitive IP IPaddr2 \\\n\tparams ip=10.0.10.200 cidr_netmask=24 \\\n\top monitor interval=30s\n"
//! );
//! let err = crm::parse("primitive IP ocf:heartbeat:IPaddr2 params ip=\"10").unwrap_err();
//! assert_eq!(err.to_string(), "1:49: found the end of the text, expected a closing \" for the quote opened at 1:46");
//! ```
//!
//! `show` loses nothing: text that does not load back to exactly an object's XML (ids and
//! comments included) is replaced by that object's `xml` form, as crmsh does for what it
//! cannot express (nested rules, ids of rule expressions or resource sets, unknown
//! attributes, ...); see `lossless.rs`.
//!
//! Differences from crmsh, on purpose: `ms` writes a promotable `<clone>` (Pacemaker 2's
//! form) rather than the deprecated `<master>`; resource agents are not looked up (there is
//! no agent metadata in a core crate), so a bare type or `ocf:TYPE` always means the
//! `heartbeat` provider; a group member or clone child must exist already (crmsh drops the
//! missing ones with an error message but creates the container). `show` writes the ids
//! that loading would not give back (`params $id=vip-ia $vip-ip:ip=...`, `op monitor
//! interval=10s id=...`), where crmsh leaves them out and keeps them only while editing the
//! live object; it checks each object's text exactly (crmsh ignores the order of children),
//! so a container whose members sit before its attribute sets is shown as `xml`; a node's
//! `type="normal"` is written (`node n1:normal`), crmsh leaves it out; `user` defines an
//! `acl_target` (Pacemaker 2 has no `acl_user`) and `acl_group` is the ACL group (crmsh's
//! `group` is the resource group).

mod acl;
mod apply;
mod ast;
mod edit;
mod error;
mod ids;
mod lex;
mod lossless;
mod objects;
mod parse;
mod parse_attrs;
mod parse_cons;
mod parse_more;
mod show;
mod show_more;

use tandem_xml::Document;

pub use apply::{Mode, build, define, define_all, elem_from_doc};
pub use ast::{COMMENT, Command, Elem, FenceTarget, LoadMethod, Located, NvSection, Object, TEXT};
pub use edit::{delete, rename};
pub use error::{ApplyError, CrmError, Pos, SyntaxError};
pub use ids::{IdSet, MAX_ID_SUFFIX, generated_base};
pub use lex::{MAX_TEXT_BYTES, MAX_WORDS, Statement, Word, split};
pub use objects::{
    ObjectKind, ObjectRef, all_objects, find_object, kind_of, object_ids, resource_ids,
    sorted_objects,
};
pub use parse::{agent_spec, attach_comments, is_id, parse, parse_definitions, parse_statement};
pub use show::{needs_no_quotes, quote, show, show_object, show_xml};

/// What a pure command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The document changed; the notes say what else changed with it.
    Changed(Vec<String>),
    /// Text to print (`show`).
    Output(String),
    /// A command the caller must carry out (`verify`, `commit`, `load`, `edit`).
    NotPure,
}

/// Executes a command that needs nothing but the document: definitions, `delete`, `rename`,
/// `show`. On error the document is unchanged.
pub fn execute(doc: &mut Document, cmd: &Located<Command>) -> Result<Outcome, ApplyError> {
    let pos = cmd.pos;
    match &cmd.value {
        Command::Define(o) => define(doc, o, Mode::Create, pos).map(Outcome::Changed),
        Command::Delete(ids) => delete(doc, ids, pos).map(Outcome::Changed),
        Command::Rename { from, to } => rename(doc, from, to, pos).map(Outcome::Changed),
        Command::Show { xml, ids } => {
            let r = if *xml {
                show_xml(doc, ids)
            } else {
                show(doc, ids)
            };
            r.map(Outcome::Output)
                .map_err(|id| ApplyError::new(pos, format!("object {id} does not exist")))
        }
        Command::Verify | Command::Commit { .. } | Command::Load { .. } | Command::Edit(_) => {
            Ok(Outcome::NotPure)
        }
    }
}

/// The order objects are created in when loading a file, so that containers find their
/// members and constraints their resources whatever order the file has (crmsh's processing
/// order).
fn processing_rank(o: &Object) -> u8 {
    match o {
        Object::Node(_) => 0,
        Object::Primitive(e) if e.name == "template" => 1,
        Object::Primitive(_) => 2,
        Object::Xml(e) => match e.name.as_str() {
            "node" => 0,
            "template" => 1,
            "primitive" => 2,
            "bundle" => 3,
            "group" => 4,
            "clone" | "master" => 5,
            "fencing-topology" => 9,
            "acl_role" => 11,
            "acl_target" | "acl_group" | "acl_user" => 12,
            _ => 8,
        },
        Object::Bundle(_) => 3,
        Object::Group { .. } => 4,
        Object::Clone { .. } => 5,
        Object::Tag(_) => 7,
        Object::Constraint(_) => 8,
        Object::Fencing(_) => 9,
        Object::NvSet { .. } => 10,
        Object::Acl(e) if e.name == "acl_role" => 11,
        Object::Acl(_) => 12,
        Object::Alert(_) => 13,
    }
}

/// `load update|replace`: applies the definitions in `text` (the content of the file).
/// `Replace` empties the configuration first. All or nothing.
pub fn load(doc: &mut Document, text: &str, method: LoadMethod) -> Result<Vec<String>, CrmError> {
    let mut objects = parse_definitions(text)?;
    objects.sort_by_key(|o| processing_rank(&o.value));
    let mut work = doc.clone();
    if method == LoadMethod::Replace {
        erase(&mut work);
    }
    let notes = define_all(&mut work, &objects, Mode::Update)?;
    *doc = work;
    Ok(notes)
}

/// Applies the crm text of an `edit` session: objects in `text` replace those of the same
/// id, and the objects that were shown (`shown`) but are no longer in the text are deleted.
/// All or nothing.
pub fn apply_edit(
    doc: &mut Document,
    shown: &[String],
    text: &str,
) -> Result<Vec<String>, CrmError> {
    let mut objects = parse_definitions(text)?;
    objects.sort_by_key(|o| processing_rank(&o.value));
    let mut work = doc.clone();
    let mut notes = define_all(&mut work, &objects, Mode::Update)?;
    // A container written in XML carries its members: they are in the text too.
    let mut kept: Vec<String> = objects.iter().map(|o| o.value.id()).collect();
    for o in &objects {
        if let Object::Xml(e) = &o.value {
            nested_resource_ids(e, &mut kept);
        }
    }
    let gone: Vec<String> = shown
        .iter()
        .filter(|id| !kept.contains(id) && find_object(&work, id).is_some())
        .cloned()
        .collect();
    if !gone.is_empty() {
        notes.extend(delete(&mut work, &gone, Pos::START)?);
    }
    *doc = work;
    Ok(notes)
}

fn nested_resource_ids(e: &Elem, out: &mut Vec<String>) {
    for c in e.elements() {
        if matches!(
            c.name.as_str(),
            "primitive" | "group" | "clone" | "master" | "bundle"
        ) && let Some(id) = c.id()
        {
            out.push(id.to_string());
        }
        nested_resource_ids(c, out);
    }
}

/// Empties the configuration: the four required sections stay, empty; the others go.
pub fn erase(doc: &mut Document) {
    let Some(conf) = doc.root().and_then(|r| doc.child_named(r, "configuration")) else {
        return;
    };
    for s in doc.elements(conf).collect::<Vec<_>>() {
        if matches!(
            doc.name(s),
            "crm_config" | "nodes" | "resources" | "constraints"
        ) {
            for c in doc.children(s).collect::<Vec<_>>() {
                doc.detach(c);
            }
        } else {
            doc.detach(s);
        }
    }
}

/// The configuration as crm text, for `edit`.
pub fn show_all(doc: &Document) -> String {
    show(doc, &[]).expect("showing everything names no missing object")
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;
