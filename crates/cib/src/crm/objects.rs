//! The configuration seen as crm objects: which elements are objects, their kinds, and the
//! order `show` lists them in.

use tandem_xml::{Document, NodeId};

/// The kinds of object crm knows, in the order crmsh's `show` lists them (objects of the
/// same rank are sorted by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Node,
    Template,
    Primitive,
    Bundle,
    Group,
    Ms,
    Clone,
    Tag,
    Location,
    Colocation,
    Order,
    Ticket,
    Fencing,
    Property,
    RscDefaults,
    OpDefaults,
    AclRole,
    AclTarget,
    AclGroup,
    /// A Pacemaker 1.1 `acl_user` (`user` reads as `acl_target` now).
    AclUser,
    Alert,
}

impl ObjectKind {
    /// The crm keyword that defines this kind.
    pub fn keyword(self) -> &'static str {
        match self {
            ObjectKind::Node => "node",
            ObjectKind::Template => "rsc_template",
            ObjectKind::Primitive => "primitive",
            ObjectKind::Bundle => "bundle",
            ObjectKind::Group => "group",
            ObjectKind::Ms => "ms",
            ObjectKind::Clone => "clone",
            ObjectKind::Tag => "tag",
            ObjectKind::Location => "location",
            ObjectKind::Colocation => "colocation",
            ObjectKind::Order => "order",
            ObjectKind::Ticket => "rsc_ticket",
            ObjectKind::Fencing => "fencing_topology",
            ObjectKind::Property => "property",
            ObjectKind::RscDefaults => "rsc_defaults",
            ObjectKind::OpDefaults => "op_defaults",
            ObjectKind::AclRole => "role",
            ObjectKind::AclTarget => "acl_target",
            ObjectKind::AclGroup => "acl_group",
            ObjectKind::AclUser => "user",
            ObjectKind::Alert => "alert",
        }
    }

    /// crmsh's sort rank (kinds sharing a rank are interleaved, sorted by id).
    pub fn rank(self) -> u8 {
        match self {
            ObjectKind::Node => 0,
            ObjectKind::Template => 1,
            ObjectKind::Primitive => 2,
            ObjectKind::Bundle => 3,
            ObjectKind::Group => 4,
            ObjectKind::Ms => 5,
            ObjectKind::Clone => 6,
            ObjectKind::Tag => 8,
            ObjectKind::Location | ObjectKind::Colocation | ObjectKind::Order => 9,
            ObjectKind::Ticket | ObjectKind::Fencing => 10,
            ObjectKind::Property => 11,
            ObjectKind::RscDefaults => 12,
            ObjectKind::OpDefaults => 13,
            ObjectKind::AclRole => 14,
            ObjectKind::AclTarget | ObjectKind::AclGroup | ObjectKind::AclUser => 15,
            ObjectKind::Alert => 16,
        }
    }

    pub fn is_resource(self) -> bool {
        matches!(
            self,
            ObjectKind::Template
                | ObjectKind::Primitive
                | ObjectKind::Bundle
                | ObjectKind::Group
                | ObjectKind::Ms
                | ObjectKind::Clone
        )
    }
}

/// One object of the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    /// The id `show`/`delete` use (a node's id, `fencing_topology` for the topology).
    pub id: String,
    pub node: NodeId,
}

/// The section element `name` of the configuration, created (appended) when `create`.
pub fn section(doc: &mut Document, name: &str, create: bool) -> Option<NodeId> {
    let root = doc.root()?;
    let conf = doc.child_named(root, "configuration")?;
    if let Some(s) = doc.child_named(conf, name) {
        return Some(s);
    }
    if !create {
        return None;
    }
    let s = doc.create_element(name);
    doc.append_child(conf, s);
    Some(s)
}

fn config_section(doc: &Document, name: &str) -> Option<NodeId> {
    doc.root()
        .and_then(|r| doc.descend(r, &["configuration", name]))
}

/// The kind of object element `n` is, if it is one.
pub fn kind_of(doc: &Document, n: NodeId) -> Option<ObjectKind> {
    let parent = doc.parent(n).map(|p| doc.name(p)).unwrap_or("");
    Some(match (doc.name(n), parent) {
        ("node", "nodes") => ObjectKind::Node,
        ("template", _) => ObjectKind::Template,
        ("primitive", _) => ObjectKind::Primitive,
        ("bundle", _) => ObjectKind::Bundle,
        ("group", _) => ObjectKind::Group,
        ("master", _) => ObjectKind::Ms,
        ("clone", _) => ObjectKind::Clone,
        ("tag", "tags") => ObjectKind::Tag,
        ("rsc_location", _) => ObjectKind::Location,
        ("rsc_colocation", _) => ObjectKind::Colocation,
        ("rsc_order", _) => ObjectKind::Order,
        ("rsc_ticket", _) => ObjectKind::Ticket,
        ("fencing-topology", _) => ObjectKind::Fencing,
        ("cluster_property_set", "crm_config") => ObjectKind::Property,
        ("meta_attributes", "rsc_defaults") => ObjectKind::RscDefaults,
        ("meta_attributes", "op_defaults") => ObjectKind::OpDefaults,
        ("acl_role", _) => ObjectKind::AclRole,
        ("acl_target", _) => ObjectKind::AclTarget,
        ("acl_group", _) => ObjectKind::AclGroup,
        ("acl_user", _) => ObjectKind::AclUser,
        ("alert", "alerts") => ObjectKind::Alert,
        _ => return None,
    })
}

/// True if `n` is a resource element (primitive, group, clone, master, bundle).
pub fn is_resource(doc: &Document, n: NodeId) -> bool {
    matches!(
        doc.name(n),
        "primitive" | "group" | "clone" | "master" | "bundle"
    )
}

/// Every object of the configuration, in document order.
pub fn all_objects(doc: &Document) -> Vec<ObjectRef> {
    let mut out = Vec::new();
    let Some(conf) = doc.root().and_then(|r| doc.child_named(r, "configuration")) else {
        return out;
    };
    let mut push = |n: NodeId, kind: ObjectKind| {
        let id = match kind {
            ObjectKind::Fencing => "fencing_topology".to_string(),
            ObjectKind::Node => doc
                .attr(n, "id")
                .or(doc.attr(n, "uname"))
                .unwrap_or("")
                .to_string(),
            _ => doc.attr(n, "id").unwrap_or("").to_string(),
        };
        out.push(ObjectRef { kind, id, node: n });
    };
    for section in doc.elements(conf) {
        if doc.name(section) == "fencing-topology" {
            push(section, ObjectKind::Fencing);
            continue;
        }
        for n in doc.descendants(section) {
            if n == section {
                continue;
            }
            // Objects never nest, except resources inside containers.
            let inside_object = doc
                .parent(n)
                .is_some_and(|p| p != section && !is_resource(doc, p));
            if inside_object {
                continue;
            }
            if let Some(kind) = kind_of(doc, n) {
                push(n, kind);
            }
        }
    }
    out
}

/// The objects sorted as `show` lists them.
pub fn sorted_objects(doc: &Document) -> Vec<ObjectRef> {
    let mut all = all_objects(doc);
    all.sort_by(|a, b| (a.kind.rank(), a.id.as_str()).cmp(&(b.kind.rank(), b.id.as_str())));
    all
}

/// The object element with this id (a node also by its name).
pub fn find_object(doc: &Document, id: &str) -> Option<NodeId> {
    let all = all_objects(doc);
    all.iter().find(|o| o.id == id).map(|o| o.node).or_else(|| {
        all.iter()
            .find(|o| o.kind == ObjectKind::Node && doc.attr(o.node, "uname") == Some(id))
            .map(|o| o.node)
    })
}

/// The object element with this id that is not a node (node ids are not XML ids: a
/// remote node's resource has the node's name).
pub fn find_object_except_nodes(doc: &Document, id: &str) -> Option<NodeId> {
    all_objects(doc)
        .into_iter()
        .find(|o| o.kind != ObjectKind::Node && o.id == id)
        .map(|o| o.node)
}

/// The ids of every object (for completion).
pub fn object_ids(doc: &Document) -> Vec<String> {
    all_objects(doc).into_iter().map(|o| o.id).collect()
}

/// The ids of every resource (primitive, group, clone, ...).
pub fn resource_ids(doc: &Document) -> Vec<String> {
    let Some(res) = config_section(doc, "resources") else {
        return Vec::new();
    };
    doc.descendants(res)
        .filter(|&n| is_resource(doc, n))
        .filter_map(|n| doc.attr(n, "id").map(str::to_string))
        .collect()
}
