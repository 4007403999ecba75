//! The smaller configuration sections: fencing topology, alerts, tags and ACLs.

use tandem_xml::{Document, NodeId};

use crate::ids::IdIndex;
use crate::nvset::{NvSet, unpack_nvsets};
use crate::problem::Problems;

/// What a fencing level applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum FencingTarget {
    Node(String),
    Pattern(String),
    Attribute { name: String, value: String },
}

/// A `fencing-level`: devices tried together, levels in ascending index.
#[derive(Clone, Debug, PartialEq)]
pub struct FencingLevel {
    pub id: String,
    pub index: u32,
    pub target: FencingTarget,
    pub devices: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlertRecipient {
    pub id: String,
    pub value: String,
    pub meta: Vec<NvSet>,
    pub instance: Vec<NvSet>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub id: String,
    pub path: String,
    pub description: Option<String>,
    /// `select_nodes`, `select_fencing`, `select_resources`, `select_attributes` present;
    /// empty means everything.
    pub select: Vec<String>,
    /// Attribute names listed under `select_attributes`.
    pub select_attribute_names: Vec<String>,
    pub meta: Vec<NvSet>,
    pub instance: Vec<NvSet>,
    pub recipients: Vec<AlertRecipient>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub id: String,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AclPermission {
    pub id: String,
    /// `read`, `write` or `deny`.
    pub kind: String,
    pub xpath: Option<String>,
    pub reference: Option<String>,
    pub object_type: Option<String>,
    pub attribute: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AclRole {
    pub id: String,
    pub description: Option<String>,
    pub permissions: Vec<AclPermission>,
}

/// An `acl_target` (a user) or `acl_group` and the roles it has.
#[derive(Clone, Debug, PartialEq)]
pub struct AclSubject {
    pub id: String,
    pub name: Option<String>,
    pub is_group: bool,
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Acls {
    pub subjects: Vec<AclSubject>,
    pub roles: Vec<AclRole>,
}

pub fn unpack_topology(doc: &Document, n: NodeId, problems: &mut Problems) -> Vec<FencingLevel> {
    let mut levels = Vec::new();
    for l in doc.children_named(n, "fencing-level") {
        let id = doc.attr(l, "id").unwrap_or("").to_string();
        let object = format!("fencing-level {id}");
        let index = match doc.attr(l, "index") {
            Some(i) => match i.trim().parse::<u32>() {
                Ok(i) if (1..=9).contains(&i) => i,
                _ => {
                    problems.error(
                        &object,
                        format!(
                            "index {i:?} is not valid (expected a number from 1 to 9); the level is ignored"
                        ),
                    );
                    continue;
                }
            },
            None => {
                problems.error(
                    &object,
                    "no index given (expected a number from 1 to 9); the level is ignored",
                );
                continue;
            }
        };
        let target = if let Some(t) = doc.attr(l, "target") {
            FencingTarget::Node(t.to_string())
        } else if let Some(p) = doc.attr(l, "target-pattern") {
            FencingTarget::Pattern(p.to_string())
        } else if let (Some(a), Some(v)) =
            (doc.attr(l, "target-attribute"), doc.attr(l, "target-value"))
        {
            FencingTarget::Attribute {
                name: a.to_string(),
                value: v.to_string(),
            }
        } else {
            problems.error(
                &object,
                "no target: give target, target-pattern, or target-attribute with target-value",
            );
            continue;
        };
        let devices: Vec<String> = doc
            .attr(l, "devices")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect();
        if devices.is_empty() {
            problems.error(&object, "no devices listed");
        }
        levels.push(FencingLevel {
            id,
            index,
            target,
            devices,
        });
    }
    levels
}

pub fn unpack_alerts(
    doc: &Document,
    n: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Vec<Alert> {
    doc.children_named(n, "alert")
        .map(|a| {
            let id = doc.attr(a, "id").unwrap_or("").to_string();
            let path = doc.attr(a, "path").unwrap_or_else(|| {
                problems.error(format!("alert {id}"), "no `path` to the alert agent given");
                ""
            });
            let select_node = doc.child_named(a, "select");
            Alert {
                path: path.to_string(),
                description: doc.attr(a, "description").map(str::to_string),
                select: select_node
                    .map(|s| doc.elements(s).map(|e| doc.name(e).to_string()).collect())
                    .unwrap_or_default(),
                select_attribute_names: select_node
                    .and_then(|s| doc.child_named(s, "select_attributes"))
                    .map(|s| {
                        doc.children_named(s, "attribute")
                            .filter_map(|x| doc.attr(x, "name").map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                meta: unpack_nvsets(doc, a, "meta_attributes", ids, problems),
                instance: unpack_nvsets(doc, a, "instance_attributes", ids, problems),
                recipients: doc
                    .children_named(a, "recipient")
                    .map(|r| AlertRecipient {
                        id: doc.attr(r, "id").unwrap_or("").to_string(),
                        value: doc.attr(r, "value").unwrap_or("").to_string(),
                        meta: unpack_nvsets(doc, r, "meta_attributes", ids, problems),
                        instance: unpack_nvsets(doc, r, "instance_attributes", ids, problems),
                    })
                    .collect(),
                id,
            }
        })
        .collect()
}

pub fn unpack_tags(doc: &Document, n: NodeId) -> Vec<Tag> {
    doc.children_named(n, "tag")
        .map(|t| Tag {
            id: doc.attr(t, "id").unwrap_or("").to_string(),
            members: doc
                .children_named(t, "obj_ref")
                .filter_map(|o| doc.attr(o, "id").map(str::to_string))
                .collect(),
        })
        .collect()
}

pub fn unpack_acls(doc: &Document, n: NodeId, problems: &mut Problems) -> Acls {
    let mut acls = Acls::default();
    for e in doc.elements(n) {
        let id = doc.attr(e, "id").unwrap_or("").to_string();
        match doc.name(e) {
            kind @ ("acl_target" | "acl_group" | "acl_user") => acls.subjects.push(AclSubject {
                name: doc.attr(e, "name").map(str::to_string),
                is_group: kind == "acl_group",
                roles: doc
                    .children_named(e, "role")
                    .filter_map(|r| doc.attr(r, "id").map(str::to_string))
                    .collect(),
                id,
            }),
            "acl_role" => acls.roles.push(AclRole {
                description: doc.attr(e, "description").map(str::to_string),
                permissions: doc
                    .children_named(e, "acl_permission")
                    .map(|p| {
                        let kind = doc.attr(p, "kind").unwrap_or("").to_string();
                        if !["read", "write", "deny"].contains(&kind.as_str()) {
                            problems.error(
                                format!("acl_permission {}", doc.attr(p, "id").unwrap_or("")),
                                format!("kind {kind:?} is not read, write or deny"),
                            );
                        }
                        AclPermission {
                            id: doc.attr(p, "id").unwrap_or("").to_string(),
                            kind,
                            xpath: doc.attr(p, "xpath").map(str::to_string),
                            reference: doc.attr(p, "reference").map(str::to_string),
                            object_type: doc.attr(p, "object-type").map(str::to_string),
                            attribute: doc.attr(p, "attribute").map(str::to_string),
                        }
                    })
                    .collect(),
                id,
            }),
            _ => {}
        }
    }
    acls
}
