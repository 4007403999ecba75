//! `bundle`, `alert` and the ACL commands (`role`, `acl_target`/`user`, `acl_group`), with
//! crmsh 4's syntax.

use super::acl::{SPECS, expand_shortcut};
use super::ast::{Elem, Object};
use super::error::SyntaxError;
use super::parse::{Parser, is_id};

/// The words that start a part of a bundle.
const BUNDLE_PARTS: &[&str] = &[
    "docker",
    "rkt",
    "podman",
    "network",
    "storage",
    "primitive",
    "meta",
];
/// The words that end an alert's attribute list.
const ALERT_PARTS: &[&str] = &["attributes", "meta", "select", "to"];
/// What an alert may select.
const SELECTORS: &[&str] = &["nodes", "fencing", "resources", "attributes"];
/// ACL rights.
const RIGHTS: &[&str] = &["read", "write", "deny"];

impl Parser<'_> {
    /// `bundle ID [description=D] CONTAINER K=V... [network K=V... [port-mapping K=V...]...]
    /// [storage [storage-mapping K=V...]...] [primitive RSC] [meta K=V...]`
    pub(super) fn bundle(&mut self) -> Result<Object, SyntaxError> {
        let mut e = Elem::new("bundle").with("id", &self.ident("a bundle id")?);
        self.description(&mut e);
        while let Some(w) = self.peek() {
            let kw = w.text.to_ascii_lowercase();
            if w.quoted || !BUNDLE_PARTS.contains(&kw.as_str()) {
                break;
            }
            self.i += 1;
            match kw.as_str() {
                "primitive" => {
                    let id = self.ident("the id of the primitive to put in the bundle")?;
                    e.children.push(Elem::new("primitive").with("id", &id));
                }
                "meta" => e
                    .children
                    .push(self.attr_list_until("meta_attributes", BUNDLE_PARTS)?),
                "network" => e
                    .children
                    .push(self.bundle_part("network", "port-mapping")?),
                "storage" => e
                    .children
                    .push(self.bundle_part("storage", "storage-mapping")?),
                container => e.children.push(self.bundle_part(container, "")?),
            }
        }
        if let Some(w) = self.peek() {
            return Err(self.error_at(
                w,
                "docker, podman, rkt, network, storage, primitive or meta",
            ));
        }
        if !e
            .children
            .iter()
            .any(|c| matches!(c.name.as_str(), "docker" | "rkt" | "podman"))
        {
            return Err(self.error("a container: docker, podman or rkt with its settings"));
        }
        Ok(Object::Bundle(e))
    }

    /// `NAME K=V... [MAPPING K=V...]...`: the element's attributes, then its mappings.
    fn bundle_part(&mut self, name: &str, mapping: &str) -> Result<Elem, SyntaxError> {
        let mut e = Elem::new(name);
        while let Some(w) = self.peek() {
            if !w.quoted && BUNDLE_PARTS.contains(&w.text.to_ascii_lowercase().as_str()) {
                break;
            }
            if !mapping.is_empty() && !w.quoted && w.text.eq_ignore_ascii_case(mapping) {
                e.children.push(Elem::new(mapping));
                self.i += 1;
                continue;
            }
            let Some((k, v)) = w.text.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                let also = if mapping.is_empty() {
                    String::new()
                } else {
                    format!(" or {mapping}")
                };
                return Err(self.error(format!("NAME=VALUE{also}")));
            };
            match e.children.last_mut() {
                Some(m) => m.set(k, v),
                None => e.set(k, v),
            }
            self.i += 1;
        }
        Ok(e)
    }

    /// `alert ID PATH [description=D] [attributes ..] [meta ..] [select KIND... ]
    /// [to [{] RECIPIENT [attributes ..] [meta ..] [}]]...`
    pub(super) fn alert(&mut self) -> Result<Object, SyntaxError> {
        let id = self.ident("an alert id")?;
        let path = self.word("the path of the alert agent")?;
        let mut e = Elem::new("alert").with("id", &id).with("path", &path.text);
        self.description(&mut e);
        let mut recipients = 0;
        while let Some(w) = self.peek() {
            let kw = w.text.to_ascii_lowercase();
            match kw.as_str() {
                _ if w.quoted => break,
                "attributes" | "meta" => {
                    self.i += 1;
                    let element = if kw == "meta" {
                        "meta_attributes"
                    } else {
                        "instance_attributes"
                    };
                    e.children.push(self.attr_list_until(element, ALERT_PARTS)?);
                }
                "select" => {
                    self.i += 1;
                    e.children.push(self.alert_select()?);
                }
                "to" => {
                    self.i += 1;
                    recipients += 1;
                    e.children
                        .push(self.recipient(&format!("{id}-recipient-{recipients}"))?);
                }
                _ => break,
            }
        }
        if self.peek().is_some() {
            return Err(self.error("attributes, meta, select or to"));
        }
        Ok(Object::Alert(e))
    }

    /// `select nodes fencing resources attributes { NAME... }`.
    fn alert_select(&mut self) -> Result<Elem, SyntaxError> {
        let mut sel = Elem::new("select");
        while let Some(w) = self.peek() {
            let kw = w.text.to_ascii_lowercase();
            if w.quoted || !SELECTORS.contains(&kw.as_str()) {
                break;
            }
            if kw == "attributes" {
                // `attributes` without `{` is the attribute list of the alert.
                if self.st.words.get(self.i + 1).is_none_or(|b| b.text != "{") {
                    break;
                }
                self.i += 2;
                let mut attrs = Elem::new("select_attributes");
                loop {
                    let a = self.word("an attribute name or }")?;
                    if a.text == "}" && !a.quoted {
                        break;
                    }
                    attrs
                        .children
                        .push(Elem::new("attribute").with("name", &a.text));
                }
                sel.children.push(attrs);
                continue;
            }
            self.i += 1;
            sel.children.push(Elem::new(&format!("select_{kw}")));
        }
        if sel.children.is_empty() {
            return Err(
                self.error("what to select: nodes, fencing, resources or attributes { ... }")
            );
        }
        Ok(sel)
    }

    /// `[{] RECIPIENT [description=D] [attributes ..] [meta ..] [}]` with the id crmsh gives.
    fn recipient(&mut self, id: &str) -> Result<Elem, SyntaxError> {
        let brace = self.peek().is_some_and(|w| w.text == "{" && !w.quoted);
        if brace {
            self.i += 1;
        }
        let value = self.word("the recipient (a path, an address, ...)")?;
        let mut r = Elem::new("recipient")
            .with("id", id)
            .with("value", &value.text);
        self.description(&mut r);
        let until: &[&str] = if brace {
            &["attributes", "meta", "select", "to", "}"]
        } else {
            ALERT_PARTS
        };
        while self.at_kw("attributes") || self.at_kw("meta") {
            let element = if self.at_kw("meta") {
                "meta_attributes"
            } else {
                "instance_attributes"
            };
            self.i += 1;
            r.children.push(self.attr_list_until(element, until)?);
        }
        if brace {
            match self.peek() {
                Some(w) if w.text == "}" && !w.quoted => self.i += 1,
                _ => return Err(self.error("} closing the recipient")),
            }
        }
        Ok(r)
    }

    /// `role ID [description=D] (read|write|deny) [ID:] SPEC... ...`
    pub(super) fn acl_role(&mut self) -> Result<Object, SyntaxError> {
        let mut e = Elem::new("acl_role").with("id", &self.ident("a role id")?);
        self.description(&mut e);
        while self.peek().is_some() {
            self.acl_permissions(&mut e)?;
        }
        if e.children.is_empty() {
            return Err(self.error("read, write or deny and what it applies to"));
        }
        Ok(Object::Acl(e))
    }

    /// One right and its specifications; several permissions when several kinds of
    /// specification are given (crmsh splits `read ref:a tag:b` into two).
    fn acl_permissions(&mut self, role: &mut Elem) -> Result<(), SyntaxError> {
        let w = self.word("read, write or deny")?;
        let kind = w.text.to_ascii_lowercase();
        if w.quoted || !RIGHTS.contains(&kind.as_str()) {
            return Err(self.error_at(w, "read, write or deny"));
        }
        let mut p = Elem::new("acl_permission").with("kind", &kind);
        if let Some(id) = self.permission_id() {
            p.set("id", &id);
        }
        self.description(&mut p);
        let mut specs: Vec<(&'static str, String)> = Vec::new();
        while let Some(w) = self.peek() {
            let (typ, val) = match w.text.split_once(':') {
                Some((t, v)) => (t, Some(v)),
                None => (w.text.as_str(), None),
            };
            let Some((attr, value)) = spec(typ, val) else {
                if SPECS.iter().any(|(s, _)| *s == typ) || super::acl::is_shortcut(typ) {
                    return Err(self.error_at(w, format!("{typ}:VALUE")));
                }
                break;
            };
            specs.retain(|(a, _)| *a != attr);
            specs.push((attr, value));
            self.i += 1;
        }
        let get = |a: &str| specs.iter().find(|(k, _)| *k == a).map(|(_, v)| v.clone());
        if specs.is_empty() {
            return Err(self.error(
                "what the right applies to: xpath:XPATH, ref:ID, type:TAG [attr:NAME], or a \
                 shortcut (meta:RSC, params:RSC, utilization:RSC, location:RSC, property, \
                 node, nodeattr, nodeutil, status, cib)",
            ));
        }
        if get("attribute").is_some() && get("object-type").is_none() {
            return Err(self.error("type:TAG (attr: only goes with type:)"));
        }
        let before = role.children.len();
        for (attr, extra) in [
            ("xpath", None),
            ("reference", None),
            ("object-type", Some("attribute")),
        ] {
            if let Some(v) = get(attr) {
                let mut one = p.clone().with(attr, &v);
                if let Some(x) = extra.and_then(|x| get(x).map(|v| (x, v))) {
                    one.set(x.0, &x.1);
                }
                role.children.push(one);
            }
        }
        // An id written for a permission that became several belongs to the first.
        for extra in role.children.iter_mut().skip(before + 1) {
            extra.attrs.retain(|(k, _)| k != "id");
        }
        Ok(())
    }

    /// `ID:` or `$id=ID` right after a right.
    fn permission_id(&mut self) -> Option<String> {
        let w = self.peek()?;
        let id = match w.text.strip_prefix("$id=") {
            Some(id) => id,
            None => w.text.strip_suffix(':').filter(|_| !w.quoted)?,
        };
        if !is_id(id) {
            return None;
        }
        self.i += 1;
        Some(id.to_string())
    }

    /// `acl_target ID [role:]ROLE...` (also `user`, and `acl_group` with `element`
    /// `acl_group`).
    pub(super) fn acl_subject(&mut self, element: &str) -> Result<Object, SyntaxError> {
        let what = if element == "acl_group" {
            "a group name"
        } else {
            "a user name"
        };
        let mut e = Elem::new(element).with("id", &self.ident(what)?);
        while let Some(w) = self.peek() {
            let name = w.text.strip_prefix("role:").unwrap_or(&w.text);
            if RIGHTS.contains(&w.text.to_ascii_lowercase().as_str()) {
                return Err(self.error_at(
                    w,
                    "a role id (rights go in a role: define `role ID read ...` and name it here)",
                ));
            }
            if !is_id(name) {
                return Err(self.error_at(w, "a role id"));
            }
            e.children.push(Elem::new("role").with("id", name));
            self.i += 1;
        }
        Ok(Object::Acl(e))
    }
}

/// A specification word as the permission attribute it sets.
fn spec(typ: &str, val: Option<&str>) -> Option<(&'static str, String)> {
    if let Some((_, attr)) = SPECS.iter().find(|(s, _)| *s == typ) {
        return Some((attr, val.filter(|v| !v.is_empty())?.to_string()));
    }
    expand_shortcut(typ, val).map(|x| ("xpath", x))
}
