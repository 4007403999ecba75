//! Ids the way crmsh makes them, so that what `show` prints loads back to the same XML:
//! a name-value pair is `SET-NAME`, an operation `RSC-NAME-INTERVAL`, an attribute set
//! `OWNER-instance_attributes` (`-meta_attributes`, `-utilization`), a rule `CONSTRAINT-rule`,
//! its expressions `RULE-expression`, `RULE-expression-0`, ...; an id already taken gets the
//! first free `-0`, `-1`, ... suffix.

use std::collections::BTreeSet;
use std::sync::Arc;

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
    // An alert's selection: plain markers.
    "select",
    "select_nodes",
    "select_fencing",
    "select_resources",
    "select_attributes",
    // An ACL target's or group's `<role id="ROLE"/>` names a role; acls-1 `role_ref` too.
    "role",
    "role_ref",
];

/// True for an element that never gets a generated id (its `id`, if any, names another
/// object), and for the `#comment`/`#text` stand-ins of [`Elem`].
pub fn is_idless(element: &str) -> bool {
    IDLESS.contains(&element) || element.starts_with('#')
}

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
///
/// Cheap to clone: the document's ids are shared; a clone records only what it adds and
/// what it forgets.
#[derive(Clone, Debug, Default)]
pub struct IdSet {
    /// The document's ids when the set was made.
    base: Arc<BTreeSet<String>>,
    added: BTreeSet<String>,
    /// Ids of `base` forgotten since.
    forgotten: BTreeSet<String>,
}

impl IdSet {
    pub fn of(doc: &Document) -> IdSet {
        let mut set = BTreeSet::new();
        if let Some(root) = doc.root()
            && let Some(conf) = doc.child_named(root, "configuration")
        {
            for n in doc.descendants(conf) {
                if !doc.is_element(n) || is_idless(doc.name(n)) || doc.name(n) == "node" {
                    continue;
                }
                if let Some(id) = doc.attr(n, "id") {
                    set.insert(id.to_string());
                }
            }
        }
        IdSet {
            base: Arc::new(set),
            ..IdSet::default()
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.added.contains(id) || (self.base.contains(id) && !self.forgotten.contains(id))
    }

    pub fn insert(&mut self, id: &str) {
        self.forgotten.remove(id);
        if !self.base.contains(id) {
            self.added.insert(id.to_string());
        }
    }

    /// Forgets one id.
    pub fn remove(&mut self, id: &str) {
        self.added.remove(id);
        if self.base.contains(id) {
            self.forgotten.insert(id.to_string());
        }
    }

    /// Forgets every id in the subtree at `n` (it is being removed or replaced).
    pub fn forget(&mut self, doc: &Document, n: NodeId) {
        for d in doc.descendants(n) {
            if let Some(id) = doc.attr(d, "id") {
                self.remove(id);
            }
        }
    }

    /// A fresh id for `e` below an owner whose id is `prefix`: [`generated_base`], or the
    /// first of `BASE-0`, `BASE-1`, ... that is free.
    fn generate(&mut self, e: &Elem, prefix: &str) -> String {
        let base = generated_base(&e.name, e.get("name"), e.get("interval"), prefix);
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
    /// the owner (crmsh's hint for elements created without one). The ids written in `e`
    /// are reserved first, so a generated id never takes one written further down.
    pub fn assign(&mut self, e: &mut Elem, prefix: &str) {
        self.reserve(e);
        self.assign_inner(e, prefix);
    }

    /// Reserves the ids written in `e` (not a node's: node ids are not XML ids).
    fn reserve(&mut self, e: &Elem) {
        if needs_id(e)
            && e.name != "node"
            && let Some(id) = e.id()
        {
            self.insert(id);
        }
        for c in &e.children {
            self.reserve(c);
        }
    }

    fn assign_inner(&mut self, e: &mut Elem, prefix: &str) {
        if needs_id(e) && e.id().is_none() {
            if e.name == "node" && e.get("uname").is_some() {
                let uname = e.get("uname").unwrap_or_default().to_string();
                e.set("id", &uname);
            } else {
                let id = self.generate(e, prefix);
                e.set("id", &id);
            }
        }
        // Below an element with an id, that id is the prefix (crmsh names the operations
        // of `operations $id=OPS` `OPS-monitor-10s`).
        let next = if e.name == "node" {
            e.get("uname").or(e.id()).unwrap_or(prefix).to_string()
        } else {
            e.id().unwrap_or(prefix).to_string()
        };
        for c in &mut e.children {
            self.assign_inner(c, &next);
        }
    }
}

/// True if `e` gets an id when it has none.
fn needs_id(e: &Elem) -> bool {
    !is_idless(&e.name) && e.get("id-ref").is_none()
}

/// The id crmsh generates for an element `element` (with `name` and `interval` attributes)
/// below an owner whose id is `prefix`, before any `-N` suffix: `PREFIX-NAME` for a pair,
/// `PREFIX-NAME-INTERVAL` for an operation, `PREFIX-instance_attributes` (and the like) for
/// sets, rules and expressions, `PREFIX` for the rest.
pub fn generated_base(
    element: &str,
    name: Option<&str>,
    interval: Option<&str>,
    prefix: &str,
) -> String {
    // An id cannot start with a digit (node ids can: they are not XML ids).
    let prefix = if !prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_digit()) {
        format!("num-{prefix}")
    } else {
        prefix.to_string()
    };
    match (element, name) {
        ("nvpair", Some(name)) => format!("{prefix}-{name}"),
        ("op", Some(name)) => match interval {
            Some(i) => format!("{prefix}-{name}-{i}"),
            None => format!("{prefix}-{name}"),
        },
        (element, _) => match sub_prefix(element) {
            Some(sub) => format!("{prefix}-{sub}"),
            None => prefix,
        },
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
