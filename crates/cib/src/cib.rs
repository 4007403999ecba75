//! The whole CIB: the XML document (the source of truth, kept faithfully) and the typed view
//! derived from it.

use std::collections::BTreeMap;
use std::fmt;

use tandem_xml::{Document, NodeId, ParseError};

use crate::constraints::{Constraint, unpack_constraint};
use crate::extras::{
    Acls, Alert, FencingLevel, Tag, unpack_acls, unpack_alerts, unpack_tags, unpack_topology,
};
use crate::ids::IdIndex;
use crate::nodes::{NodeConfig, unpack_node};
use crate::nvset::{NvSet, evaluate, evaluate_into, unpack_nvsets};
use crate::options::ClusterOptions;
use crate::problem::{Problem, Problems};
use crate::resources::{
    Bundle, Clone, Group, Primitive, Resource, unpack_primitive, unpack_resource,
};
use crate::rules::RuleContext;
use crate::status::{Status, unpack_status};
use crate::time::DateTime;
use crate::types::parse_bool;

/// The version triple; a higher triple is a newer CIB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub admin_epoch: u64,
    pub epoch: u64,
    pub num_updates: u64,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            self.admin_epoch, self.epoch, self.num_updates
        )
    }
}

/// The CIB could not be loaded at all. (Problems in its content do not stop loading; they
/// are listed in [`Cib::problems`].)
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Xml(#[from] ParseError),
    #[error("the root element is <{found}>, expected <cib>")]
    NotACib { found: String },
    #[error("<cib> has no <configuration> section")]
    NoConfiguration,
    #[error("{attribute}={value:?} on <cib> is not a non-negative integer")]
    BadVersion {
        attribute: &'static str,
        value: String,
    },
    #[error("the new CIB (version {new}) is older than the current one ({current})")]
    Older { new: Version, current: Version },
}

/// The configuration section, typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Configuration {
    pub crm_config: Vec<NvSet>,
    pub nodes: Vec<NodeConfig>,
    pub resources: Vec<Resource>,
    pub templates: Vec<Primitive>,
    pub constraints: Vec<Constraint>,
    pub rsc_defaults: Vec<NvSet>,
    pub op_defaults: Vec<NvSet>,
    pub fencing_levels: Vec<FencingLevel>,
    pub alerts: Vec<Alert>,
    pub tags: Vec<Tag>,
    pub acls: Acls,
}

/// A reference to any resource, wherever it sits in the tree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RscRef<'a> {
    Primitive(&'a Primitive),
    Group(&'a Group),
    Clone(&'a Clone),
    Bundle(&'a Bundle),
}

impl<'a> RscRef<'a> {
    pub fn id(self) -> &'a str {
        match self {
            RscRef::Primitive(p) => &p.id,
            RscRef::Group(g) => &g.id,
            RscRef::Clone(c) => &c.id,
            RscRef::Bundle(b) => &b.id,
        }
    }

    pub fn meta(self) -> &'a [NvSet] {
        match self {
            RscRef::Primitive(p) => &p.meta,
            RscRef::Group(g) => &g.meta,
            RscRef::Clone(c) => &c.meta,
            RscRef::Bundle(b) => &b.meta,
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            RscRef::Primitive(_) => "primitive",
            RscRef::Group(_) => "group",
            RscRef::Clone(c) if c.legacy_master => "master",
            RscRef::Clone(_) => "clone",
            RscRef::Bundle(_) => "bundle",
        }
    }
}

/// A resource and the id of the resource containing it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RscEntry<'a> {
    pub rsc: RscRef<'a>,
    pub parent: Option<&'a str>,
}

impl Configuration {
    /// Every resource, containers before their contents, in document order.
    pub fn all_resources(&self) -> Vec<RscEntry<'_>> {
        let mut out = Vec::new();
        for r in &self.resources {
            push_resource(r, None, &mut out);
        }
        out
    }

    /// The resource with this id, at any depth.
    pub fn find_resource(&self, id: &str) -> Option<RscEntry<'_>> {
        self.all_resources().into_iter().find(|e| e.rsc.id() == id)
    }

    /// The meta-attributes of a resource as the scheduler sees them: its own blocks, then
    /// whatever its parents set that it does not, then `rsc_defaults`.
    pub fn resource_meta(&self, id: &str, ctx: &RuleContext<'_>) -> BTreeMap<String, String> {
        let all = self.all_resources();
        let mut out = BTreeMap::new();
        let mut at = all.iter().find(|e| e.rsc.id() == id);
        while let Some(entry) = at {
            evaluate_into(&mut out, entry.rsc.meta(), ctx, None);
            at = entry
                .parent
                .and_then(|p| all.iter().find(|e| e.rsc.id() == p));
        }
        evaluate_into(&mut out, &self.rsc_defaults, ctx, None);
        out
    }

    /// The merged cluster options at `now`.
    pub fn cluster_options(&self, now: DateTime, problems: &mut Problems) -> ClusterOptions {
        let values = evaluate(
            &self.crm_config,
            &RuleContext::at(now),
            Some("cib-bootstrap-options"),
        );
        ClusterOptions::from_values(&values, problems)
    }

    /// The members of a tag, or `None` if `id` is not a tag.
    pub fn tag(&self, id: &str) -> Option<&[String]> {
        self.tags
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.members.as_slice())
    }
}

fn push_resource<'a>(r: &'a Resource, parent: Option<&'a str>, out: &mut Vec<RscEntry<'a>>) {
    match r {
        Resource::Primitive(p) => out.push(RscEntry {
            rsc: RscRef::Primitive(p),
            parent,
        }),
        Resource::Group(g) => {
            out.push(RscEntry {
                rsc: RscRef::Group(g),
                parent,
            });
            for c in &g.children {
                out.push(RscEntry {
                    rsc: RscRef::Primitive(c),
                    parent: Some(&g.id),
                });
            }
        }
        Resource::Clone(c) => {
            out.push(RscEntry {
                rsc: RscRef::Clone(c),
                parent,
            });
            push_resource(&c.child, Some(&c.id), out);
        }
        Resource::Bundle(b) => {
            out.push(RscEntry {
                rsc: RscRef::Bundle(b),
                parent,
            });
            if let Some(p) = &b.primitive {
                out.push(RscEntry {
                    rsc: RscRef::Primitive(p),
                    parent: Some(&b.id),
                });
            }
        }
    }
}

/// A loaded CIB.
#[derive(Clone, Debug)]
pub struct Cib {
    doc: Document,
    pub version: Version,
    pub config: Configuration,
    pub status: Status,
    /// Everything found wrong while reading the content (the CIB loaded anyway).
    pub problems: Vec<Problem>,
}

fn version_attr(doc: &Document, root: NodeId, attribute: &'static str) -> Result<u64, LoadError> {
    match doc.attr(root, attribute) {
        None => Ok(0),
        Some(v) => v.trim().parse().map_err(|_| LoadError::BadVersion {
            attribute,
            value: v.to_string(),
        }),
    }
}

impl Cib {
    /// Parses and loads CIB text.
    pub fn parse(text: &str) -> Result<Cib, LoadError> {
        Cib::from_document(Document::parse(text)?)
    }

    /// Loads a parsed document.
    pub fn from_document(doc: Document) -> Result<Cib, LoadError> {
        let root = doc.root().ok_or(LoadError::NoConfiguration)?;
        if doc.name(root) != "cib" {
            return Err(LoadError::NotACib {
                found: doc.name(root).to_string(),
            });
        }
        let conf = doc
            .child_named(root, "configuration")
            .ok_or(LoadError::NoConfiguration)?;
        let version = Version {
            admin_epoch: version_attr(&doc, root, "admin_epoch")?,
            epoch: version_attr(&doc, root, "epoch")?,
            num_updates: version_attr(&doc, root, "num_updates")?,
        };
        let ids = IdIndex::build(&doc);
        let mut problems = Problems::default();
        let config = unpack_configuration(&doc, conf, &ids, &mut problems);
        let status = match doc.child_named(root, "status") {
            Some(s) => unpack_status(&doc, s, &ids, &mut problems),
            None => Status::default(),
        };
        for (id, n) in &ids.duplicates {
            problems.error(
                format!("{} {id}", doc.name(*n)),
                format!("id {id:?} is used by more than one element; ids must be unique"),
            );
        }
        Ok(Cib {
            doc,
            version,
            config,
            status,
            problems: problems.0,
        })
    }

    /// An empty CIB (see [`crate::EMPTY_CIB`]).
    pub fn empty() -> Cib {
        Cib::parse(crate::EMPTY_CIB).expect("the built-in empty CIB is valid")
    }

    pub fn document(&self) -> &Document {
        &self.doc
    }

    pub fn into_document(self) -> Document {
        self.doc
    }

    /// The root `<cib>` element.
    pub fn root(&self) -> NodeId {
        self.doc.root().expect("a loaded CIB has a root")
    }

    /// An attribute of the root element (`validate-with`, `have-quorum`, `dc-uuid`, ...).
    pub fn root_attr(&self, name: &str) -> Option<&str> {
        self.doc.attr(self.root(), name)
    }

    /// Whether the CIB records that the partition has quorum (absent means it has not).
    pub fn have_quorum(&self) -> bool {
        self.root_attr("have-quorum")
            .and_then(parse_bool)
            .unwrap_or(false)
    }

    /// The `execution-date` recorded in the CIB (seconds since the epoch), which fixes "now"
    /// for simulations of a saved scheduler input.
    pub fn execution_date(&self) -> Option<DateTime> {
        self.root_attr("execution-date")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(DateTime::from_epoch)
    }

    /// A configuration section element (`crm_config`, `resources`, ...).
    pub fn section(&self, name: &str) -> Option<NodeId> {
        let conf = self.doc.child_named(self.root(), "configuration")?;
        self.doc.child_named(conf, name)
    }

    /// The document as indented XML.
    pub fn to_xml(&self) -> String {
        self.doc.to_pretty_string()
    }

    /// Builds the CIB that results from `new_doc` replacing this one, numbering it as
    /// Pacemaker does: a changed configuration bumps `epoch` and zeroes `num_updates`; a
    /// change confined to `status` bumps `num_updates`. A document that carries a newer
    /// version than ours keeps it; one that carries an older version is refused.
    pub fn successor(&self, mut new_doc: Document) -> Result<Cib, LoadError> {
        let probe = Cib::from_document(new_doc.clone())?;
        if probe.version < self.version {
            return Err(LoadError::Older {
                new: probe.version,
                current: self.version,
            });
        }
        if probe.version == self.version {
            let section_digest = |d: &Document, name: &str| {
                d.root()
                    .and_then(|r| d.child_named(r, name))
                    .map(|n| d.node_digest(n))
                    .unwrap_or_default()
            };
            let config_changed = section_digest(&self.doc, "configuration")
                != section_digest(&new_doc, "configuration");
            let status_changed =
                section_digest(&self.doc, "status") != section_digest(&new_doc, "status");
            let mut v = self.version;
            if config_changed {
                v.epoch += 1;
                v.num_updates = 0;
            } else if status_changed {
                v.num_updates += 1;
            }
            let root = new_doc.root().expect("checked by from_document");
            new_doc.set_attr(root, "admin_epoch", &v.admin_epoch.to_string());
            new_doc.set_attr(root, "epoch", &v.epoch.to_string());
            new_doc.set_attr(root, "num_updates", &v.num_updates.to_string());
        }
        Cib::from_document(new_doc)
    }
}

fn unpack_configuration(
    doc: &Document,
    conf: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Configuration {
    let section = |name: &str| doc.child_named(conf, name);
    let mut c = Configuration::default();
    if let Some(s) = section("crm_config") {
        c.crm_config = unpack_nvsets(doc, s, "cluster_property_set", ids, problems);
    }
    if let Some(s) = section("nodes") {
        c.nodes = doc
            .children_named(s, "node")
            .map(|n| unpack_node(doc, n, ids, problems))
            .collect();
    }
    if let Some(s) = section("resources") {
        for n in doc.elements(s) {
            match doc.name(n) {
                "template" | "rsc_template" => {
                    c.templates.push(unpack_primitive(doc, n, ids, problems))
                }
                _ => {
                    if let Some(r) = unpack_resource(doc, n, ids, problems) {
                        c.resources.push(r);
                    }
                }
            }
        }
    }
    if let Some(s) = section("constraints") {
        c.constraints = doc
            .elements(s)
            .filter_map(|n| unpack_constraint(doc, n, ids, problems))
            .collect();
    }
    if let Some(s) = section("rsc_defaults") {
        c.rsc_defaults = unpack_nvsets(doc, s, "meta_attributes", ids, problems);
    }
    if let Some(s) = section("op_defaults") {
        c.op_defaults = unpack_nvsets(doc, s, "meta_attributes", ids, problems);
    }
    if let Some(s) = section("fencing-topology") {
        c.fencing_levels = unpack_topology(doc, s, problems);
    }
    if let Some(s) = section("alerts") {
        c.alerts = unpack_alerts(doc, s, ids, problems);
    }
    if let Some(s) = section("tags") {
        c.tags = unpack_tags(doc, s);
    }
    if let Some(s) = section("acls") {
        c.acls = unpack_acls(doc, s, problems);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_empty_cib() {
        let cib = Cib::empty();
        assert_eq!(cib.version, Version::default());
        assert!(cib.problems.is_empty());
        assert!(cib.section("resources").is_some());
    }

    #[test]
    fn refuses_what_is_not_a_cib() {
        assert_eq!(
            Cib::parse("<config/>").unwrap_err().to_string(),
            "the root element is <config>, expected <cib>"
        );
        assert_eq!(
            Cib::parse("<cib/>").unwrap_err(),
            LoadError::NoConfiguration
        );
        assert!(matches!(
            Cib::parse("<cib epoch=\"x\"><configuration/></cib>"),
            Err(LoadError::BadVersion { .. })
        ));
        assert!(matches!(Cib::parse("<cib"), Err(LoadError::Xml(_))));
    }

    #[test]
    fn versions_bump_like_pacemaker() {
        let base = Cib::parse(r#"<cib admin_epoch="0" epoch="5" num_updates="3"><configuration><resources/></configuration><status/></cib>"#).unwrap();
        let mut d = base.document().clone();
        let st = d.descend(d.root().unwrap(), &["status"]).unwrap();
        let ns = d.create_element_with("node_state", &[("id", "1")]);
        d.append_child(st, ns);
        let next = base.successor(d).unwrap();
        assert_eq!(next.version.to_string(), "0.5.4");
        let mut d = next.document().clone();
        let res = d
            .descend(d.root().unwrap(), &["configuration", "resources"])
            .unwrap();
        let p = d.create_element_with("primitive", &[("id", "p"), ("class", "lsb"), ("type", "x")]);
        d.append_child(res, p);
        let next2 = next.successor(d).unwrap();
        assert_eq!(next2.version.to_string(), "0.6.0");
        assert_eq!(next2.root_attr("epoch"), Some("6"));
        let older =
            Cib::parse(r#"<cib admin_epoch="0" epoch="1" num_updates="0"><configuration/></cib>"#)
                .unwrap();
        assert!(matches!(
            next2.successor(older.into_document()),
            Err(LoadError::Older { .. })
        ));
    }

    #[test]
    fn resource_meta_layers_own_parent_and_defaults() {
        let cib = Cib::parse(
            r#"<cib><configuration><resources>
                <group id="g"><meta_attributes id="gm"><nvpair id="g1" name="target-role" value="Stopped"/><nvpair id="g2" name="priority" value="5"/></meta_attributes>
                  <primitive id="a" class="lsb" type="x"><meta_attributes id="am"><nvpair id="a1" name="priority" value="9"/></meta_attributes></primitive>
                </group></resources>
                <rsc_defaults><meta_attributes id="d"><nvpair id="d1" name="resource-stickiness" value="100"/><nvpair id="d2" name="priority" value="1"/></meta_attributes></rsc_defaults>
              </configuration></cib>"#,
        )
        .unwrap();
        let m = cib
            .config
            .resource_meta("a", &RuleContext::at(DateTime::from_epoch(0)));
        assert_eq!(m.get("priority").map(String::as_str), Some("9"));
        assert_eq!(m.get("target-role").map(String::as_str), Some("Stopped"));
        assert_eq!(
            m.get("resource-stickiness").map(String::as_str),
            Some("100")
        );
        assert_eq!(cib.config.find_resource("a").unwrap().parent, Some("g"));
    }

    #[test]
    fn duplicate_ids_are_problems() {
        let cib = Cib::parse(r#"<cib><configuration><resources><primitive id="x" class="lsb" type="a"/><primitive id="x" class="lsb" type="b"/></resources></configuration></cib>"#).unwrap();
        assert_eq!(cib.problems.len(), 1);
        assert_eq!(
            cib.problems[0].to_string(),
            "error: primitive x: id \"x\" is used by more than one element; ids must be unique"
        );
    }
}
