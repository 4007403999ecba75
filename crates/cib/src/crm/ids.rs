//! Ids the way crmsh makes them, so that what `show` prints loads back to the same XML:
//! a name-value pair is `SET-NAME`, an operation `RSC-NAME-INTERVAL`, an attribute set
//! `OWNER-instance_attributes` (`-meta_attributes`, `-utilization`), a rule `CONSTRAINT-rule`,
//! its expressions `RULE-expression`, `RULE-expression-0`, ...; an id already taken gets the
//! first free `-0`, `-1`, ... suffix.

use std::collections::BTreeSet;

use tandem_xml::{Document, NodeId};

use super::ast::Elem;

/// The most `-N` suffixes tried for one id. Far more than any real configuration needs; it
/// bounds the loop on a document that somehow holds every candidate.
pub const MAX_ID_SUFFIX: usize = 100_000;

/// Elements that never carry an id (or whose `id` names another object).
const IDLESS: &[&str] = &[
    "operations",
    "fencing-topology",
    "resource_ref",
    "obj_ref",
    "network",
    "docker",
    "podman",
    "rkt",
    "storage",
];

/// The middle part crmsh puts in generated ids, by element.
fn sub_prefix(element: &str) -> Option<&'static str> {
    Some(match element {
        "instance_attributes" => "instance_attributes",
        "meta_attributes" => "meta_attributes",
        "utilization" => "utilization",
        "operations" => "ops",
        "rule" => "rule",
        "expression" | "date_expression" => "expression",
        "duration" => "duration",
        "date_spec" => "date_spec",
        _ => return None,
    })
}

/// Every id used in a document's configuration (not `status`, whose ids repeat by design).
#[derive(Clone, Debug, Default)]
pub struct IdSet(pub BTreeSet<String>);

impl IdSet {
    pub fn of(doc: &Document) -> IdSet {
        let mut set = BTreeSet::new();
        if let Some(root) = doc.root()
            && let Some(conf) = doc.child_named(root, "configuration")
        {
            for n in doc.descendants(conf) {
                if IDLESS.contains(&doc.name(n)) || doc.name(n) == "node" {
                    continue;
                }
                if let Some(id) = doc.attr(n, "id") {
                    set.insert(id.to_string());
                }
            }
        }
        IdSet(set)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.contains(id)
    }

    pub fn insert(&mut self, id: &str) {
        self.0.insert(id.to_string());
    }

    /// Forgets every id in the subtree at `n` (it is being removed or replaced).
    pub fn forget(&mut self, doc: &Document, n: NodeId) {
        for d in doc.descendants(n) {
            if let Some(id) = doc.attr(d, "id") {
                self.0.remove(id);
            }
        }
    }

    /// A fresh id for `e` below an owner whose id is `prefix`.
    fn generate(&mut self, e: &Elem, prefix: &str) -> String {
        // An id cannot start with a digit (node ids can: they are not XML ids).
        let prefix = if !prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_digit()) {
            format!("num-{prefix}")
        } else {
            prefix.to_string()
        };
        let base = match (e.name.as_str(), e.get("name")) {
            ("nvpair", Some(name)) => format!("{prefix}-{name}"),
            ("op", Some(name)) => match e.get("interval") {
                Some(i) => format!("{prefix}-{name}-{i}"),
                None => format!("{prefix}-{name}"),
            },
            (element, _) => match sub_prefix(element) {
                Some(sub) => format!("{prefix}-{sub}"),
                None => prefix,
            },
        };
        let mut id = base.clone();
        if self.contains(&id) {
            for n in 0..MAX_ID_SUFFIX {
                id = format!("{base}-{n}");
                if !self.contains(&id) {
                    break;
                }
            }
        }
        self.insert(&id);
        id
    }

    /// Gives every element of `e` that needs one an id, recursively; `prefix` is the id of
    /// the owner (crmsh's hint for elements created without one).
    pub fn assign(&mut self, e: &mut Elem, prefix: &str) {
        let needs = !IDLESS.contains(&e.name.as_str()) && e.get("id-ref").is_none();
        if needs {
            match e.id() {
                Some(id) => {
                    let id = id.to_string();
                    if e.name != "node" {
                        self.insert(&id);
                    }
                }
                None if e.name == "node" && e.get("uname").is_some() => {
                    let uname = e.get("uname").unwrap_or_default().to_string();
                    e.set("id", &uname);
                }
                None => {
                    let id = self.generate(e, prefix);
                    e.set("id", &id);
                }
            }
        }
        let next = if e.name == "node" {
            e.get("uname").or(e.id()).unwrap_or(prefix).to_string()
        } else {
            e.id().unwrap_or(prefix).to_string()
        };
        for c in &mut e.children {
            self.assign(c, &next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_crmsh() {
        let mut ids = IdSet::default();
        let mut p = Elem::new("primitive").with("id", "IP");
        let mut ia = Elem::new("instance_attributes");
        ia.children
            .push(Elem::new("nvpair").with("name", "ip").with("value", "1"));
        let mut ops = Elem::new("operations");
        ops.children.push(
            Elem::new("op")
                .with("name", "monitor")
                .with("interval", "30s"),
        );
        p.children = vec![ia, ops];
        ids.assign(&mut p, "rsc");
        assert_eq!(p.children[0].id(), Some("IP-instance_attributes"));
        assert_eq!(
            p.children[0].children[0].id(),
            Some("IP-instance_attributes-ip")
        );
        assert_eq!(p.children[1].id(), None, "operations carry no id");
        assert_eq!(p.children[1].children[0].id(), Some("IP-monitor-30s"));

        let mut rule = Elem::new("rule");
        rule.children = vec![Elem::new("expression"), Elem::new("date_expression")];
        let mut loc = Elem::new("rsc_location").with("id", "l");
        loc.children.push(rule);
        ids.assign(&mut loc, "location");
        let r = &loc.children[0];
        assert_eq!(r.id(), Some("l-rule"));
        assert_eq!(r.children[0].id(), Some("l-rule-expression"));
        assert_eq!(r.children[1].id(), Some("l-rule-expression-0"));

        let mut n = Elem::new("node").with("id", "1").with("uname", "n1");
        n.children.push(Elem::new("instance_attributes"));
        ids.assign(&mut n, "node");
        assert_eq!(n.children[0].id(), Some("n1-instance_attributes"));
        let mut set = Elem::new("resource_set");
        ids.assign(&mut set, "1");
        assert_eq!(set.id(), Some("num-1"));
    }
}
