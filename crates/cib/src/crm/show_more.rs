//! `show` for bundles, alerts and ACLs, as crmsh 4 prints them.

use tandem_xml::NodeId;

use super::acl::shortcut_of;
use super::objects::ObjectKind;
use super::show::{Render, nvpair_text, quote};

impl Render<'_> {
    /// `bundle ID \ docker K=V... \ network K=V... port-mapping K=V... \ storage
    /// storage-mapping K=V... \ primitive RSC \ meta ...`
    pub(super) fn bundle(&self, n: NodeId) -> Option<Vec<String>> {
        let mut parts = vec![format!("bundle {}", self.attr(n, "id").unwrap_or(""))];
        self.description(n, &mut parts);
        for c in self.doc.elements(n) {
            let name = self.doc.name(c);
            match name {
                "docker" | "rkt" | "podman" | "network" | "storage" => {
                    let mut line = vec![name.to_string()];
                    line.extend(self.attr_pairs(c));
                    for m in self.doc.elements(c) {
                        let mapping = self.doc.name(m);
                        if !matches!(mapping, "port-mapping" | "storage-mapping")
                            || self.doc.elements(m).next().is_some()
                        {
                            return None;
                        }
                        line.push(mapping.to_string());
                        line.extend(self.attr_pairs(m));
                    }
                    parts.push(line.join(" "));
                }
                "primitive" => parts.push(format!("primitive {}", self.attr(c, "id")?)),
                "meta_attributes" => parts.push(self.set_line("meta", c)),
                _ => return None,
            }
        }
        Some(parts)
    }

    /// Every attribute of `n` as `K=V`.
    fn attr_pairs(&self, n: NodeId) -> Vec<String> {
        self.doc
            .attrs(n)
            .map(|(k, v)| nvpair_text(k, Some(v)))
            .collect()
    }

    /// `alert ID PATH \ attributes ... \ meta ... \ select ... \ to [{] RECIPIENT ... [}]`;
    /// a recipient is braced when attribute sets of the alert follow it (crmsh's rule).
    pub(super) fn alert(&self, n: NodeId) -> Option<Vec<String>> {
        let id = self.attr(n, "id").unwrap_or("");
        let path = self.attr(n, "path").unwrap_or("");
        let mut parts = vec![format!("alert {id} \"{}\"", path.replace('"', "\\\""))];
        self.description(n, &mut parts);
        let kids: Vec<NodeId> = self.doc.elements(n).collect();
        let first_recipient = kids.iter().position(|&c| self.doc.name(c) == "recipient");
        let braced = first_recipient.is_some_and(|at| {
            kids[at + 1..]
                .iter()
                .any(|&c| matches!(self.doc.name(c), "instance_attributes" | "meta_attributes"))
        });
        for c in kids {
            match self.doc.name(c) {
                "instance_attributes" => parts.push(self.set_line("attributes", c)),
                "meta_attributes" => parts.push(self.set_line("meta", c)),
                "select" => parts.push(self.select(c)?),
                "recipient" => parts.push(self.recipient(c, braced)?),
                _ => return None,
            }
        }
        Some(parts)
    }

    fn select(&self, n: NodeId) -> Option<String> {
        let mut s = vec!["select".to_string()];
        for c in self.doc.elements(n) {
            let kind = self.doc.name(c).strip_prefix("select_")?;
            s.push(kind.to_string());
            if kind == "attributes" {
                s.push("{".to_string());
                for a in self.doc.elements(c) {
                    s.push(self.attr(a, "name")?.to_string());
                }
                s.push("}".to_string());
            }
        }
        Some(s.join(" "))
    }

    fn recipient(&self, n: NodeId, braced: bool) -> Option<String> {
        let mut s = vec!["to".to_string()];
        if braced {
            s.push("{".to_string());
        }
        let value = self.attr(n, "value").unwrap_or("");
        s.push(format!("\"{}\"", value.replace('"', "\\\"")));
        if let Some(d) = self.attr(n, "description") {
            s.push(nvpair_text("description", Some(d)));
        }
        for c in self.doc.elements(n) {
            match self.doc.name(c) {
                "instance_attributes" => s.push(self.set_line("attributes", c)),
                "meta_attributes" => s.push(self.set_line("meta", c)),
                _ => return None,
            }
        }
        if braced {
            s.push("}".to_string());
        }
        Some(s.join(" "))
    }

    /// `role ID \ RIGHT SPEC... \ ...` (Pacemaker 2's `acl_permission` elements).
    pub(super) fn acl_role(&self, n: NodeId) -> Option<Vec<String>> {
        let mut parts = vec![format!("role {}", self.attr(n, "id").unwrap_or(""))];
        self.description(n, &mut parts);
        for p in self.doc.elements(n) {
            if self.doc.name(p) != "acl_permission" {
                return None;
            }
            let mut s = vec![self.attr(p, "kind")?.to_string()];
            if let Some(id) = self.shown_id(p) {
                s.push(nvpair_text("$id", Some(id)));
            }
            if let Some(d) = self.attr(p, "description") {
                s.push(nvpair_text("description", Some(d)));
            }
            if let Some(x) = self.attr(p, "xpath") {
                s.push(shortcut_of(x).unwrap_or_else(|| format!("xpath:{}", quote(x))));
            }
            for (attr, word) in [
                ("reference", "ref"),
                ("attribute", "attr"),
                ("object-type", "type"),
            ] {
                if let Some(v) = self.attr(p, attr) {
                    s.push(format!("{word}:{}", quote(v)));
                }
            }
            parts.push(s.join(" "));
        }
        Some(parts)
    }

    /// `acl_target ID \ ROLE \ ...` (and `acl_group`).
    pub(super) fn acl_subject(&self, n: NodeId, kind: ObjectKind) -> Option<Vec<String>> {
        if self.doc.attrs(n).any(|(k, _)| k != "id") {
            return None;
        }
        let mut parts = vec![format!(
            "{} {}",
            kind.keyword(),
            self.attr(n, "id").unwrap_or("")
        )];
        for r in self.doc.elements(n) {
            if self.doc.name(r) != "role" {
                return None;
            }
            parts.push(self.attr(r, "id")?.to_string());
        }
        Some(parts)
    }
}
