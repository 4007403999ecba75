//! Resources: primitives, groups, clones (promotable ones included; the legacy `<master>` is
//! read as a promotable clone), bundles, and the templates primitives may be built from.

use tandem_xml::{Document, NodeId};

use crate::ids::IdIndex;
use crate::nvset::{NvSet, unpack_nvsets};
use crate::problem::Problems;
use crate::time::parse_ms;
use crate::types::{KNOWN_CLASSES, Role, parse_bool};

/// A configured operation (`<op>`).
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub id: String,
    pub name: String,
    /// The interval as written (`30s`), and in milliseconds.
    pub interval: String,
    pub interval_ms: u64,
    pub timeout: Option<String>,
    pub role: Option<Role>,
    pub on_fail: Option<String>,
    pub enabled: Option<bool>,
    /// Every XML attribute in document order (digests and `show` need them all).
    pub attrs: Vec<(String, String)>,
    pub meta: Vec<NvSet>,
    pub instance: Vec<NvSet>,
}

impl Operation {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The timeout in ms, if set and valid.
    pub fn timeout_ms(&self) -> Option<u64> {
        self.timeout.as_deref().and_then(|t| parse_ms(t).ok())
    }
}

/// A `<primitive>` (with any template already merged in).
#[derive(Clone, Debug, PartialEq)]
pub struct Primitive {
    pub id: String,
    pub class: String,
    pub provider: Option<String>,
    /// The agent type (`type` attribute).
    pub agent: String,
    pub template: Option<String>,
    pub description: Option<String>,
    pub instance: Vec<NvSet>,
    pub meta: Vec<NvSet>,
    pub utilization: Vec<NvSet>,
    pub ops: Vec<Operation>,
    pub node: NodeId,
}

impl Primitive {
    /// `class:provider:type`, or `class:type` without a provider — as crm_mon prints it.
    pub fn agent_spec(&self) -> String {
        match &self.provider {
            Some(p) => format!("{}:{}:{}", self.class, p, self.agent),
            None => format!("{}:{}", self.class, self.agent),
        }
    }
}

/// A `<group>`: primitives kept together and started in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub id: String,
    pub description: Option<String>,
    pub children: Vec<Primitive>,
    pub meta: Vec<NvSet>,
    pub instance: Vec<NvSet>,
    pub utilization: Vec<NvSet>,
    pub node: NodeId,
}

/// A `<clone>` (or legacy `<master>`) of a primitive or group.
#[derive(Clone, Debug, PartialEq)]
pub struct Clone {
    pub id: String,
    pub description: Option<String>,
    pub child: Box<Resource>,
    pub meta: Vec<NvSet>,
    pub instance: Vec<NvSet>,
    /// Written as `<master>`: promotable whatever its meta-attributes say.
    pub legacy_master: bool,
    pub node: NodeId,
}

/// An element's attributes in document order.
pub type AttrList = Vec<(String, String)>;

/// A `<bundle>`: a container image run as replicas, with an optional primitive inside.
#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    pub id: String,
    pub description: Option<String>,
    /// `docker`, `podman` or `rkt`, with its attributes in order.
    pub container: Option<(String, AttrList)>,
    /// The `<network>` attributes and its `port-mapping` children's attributes.
    pub network: Option<(AttrList, Vec<AttrList>)>,
    /// Each `storage-mapping`'s attributes.
    pub storage: Vec<AttrList>,
    pub primitive: Option<Primitive>,
    pub meta: Vec<NvSet>,
    pub node: NodeId,
}

impl Bundle {
    pub fn container_attr(&self, name: &str) -> Option<&str> {
        self.container
            .as_ref()?
            .1
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Any resource at the top of `<resources>` or inside a clone.
#[derive(Clone, Debug, PartialEq)]
pub enum Resource {
    Primitive(Primitive),
    Group(Group),
    Clone(Clone),
    Bundle(Bundle),
}

impl Resource {
    pub fn id(&self) -> &str {
        match self {
            Resource::Primitive(p) => &p.id,
            Resource::Group(g) => &g.id,
            Resource::Clone(c) => &c.id,
            Resource::Bundle(b) => &b.id,
        }
    }

    pub fn meta(&self) -> &[NvSet] {
        match self {
            Resource::Primitive(p) => &p.meta,
            Resource::Group(g) => &g.meta,
            Resource::Clone(c) => &c.meta,
            Resource::Bundle(b) => &b.meta,
        }
    }

    /// The element name users know this kind by.
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Primitive(_) => "primitive",
            Resource::Group(_) => "group",
            Resource::Clone(c) if c.legacy_master => "master",
            Resource::Clone(_) => "clone",
            Resource::Bundle(_) => "bundle",
        }
    }

    pub fn node(&self) -> NodeId {
        match self {
            Resource::Primitive(p) => p.node,
            Resource::Group(g) => g.node,
            Resource::Clone(c) => c.node,
            Resource::Bundle(b) => b.node,
        }
    }

    /// Every primitive in this resource, in document order.
    pub fn primitives(&self) -> Vec<&Primitive> {
        match self {
            Resource::Primitive(p) => vec![p],
            Resource::Group(g) => g.children.iter().collect(),
            Resource::Clone(c) => c.child.primitives(),
            Resource::Bundle(b) => b.primitive.iter().collect(),
        }
    }

    /// This resource and every resource inside it (pre-order), with its parent's id.
    pub fn walk<'a>(
        &'a self,
        parent: Option<&'a str>,
        out: &mut Vec<(&'a Resource, Option<&'a str>)>,
    ) {
        out.push((self, parent));
        if let Resource::Clone(c) = self {
            c.child.walk(Some(&c.id), out);
        }
    }
}

// ---- unpacking ---------------------------------------------------------------------------

fn text_attr(doc: &Document, n: NodeId, name: &str) -> Option<String> {
    doc.attr(n, name).map(str::to_string)
}

fn all_attrs(doc: &Document, n: NodeId) -> Vec<(String, String)> {
    doc.attrs(n)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Reads `<operations>` (following `id-ref` on the block and on each `op`).
fn unpack_ops(
    doc: &Document,
    parent: NodeId,
    owner: &str,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Vec<Operation> {
    let mut ops = Vec::new();
    for block in doc.children_named(parent, "operations") {
        let block = ids.follow_ref(doc, block, "operations", problems);
        for op in doc.children_named(block, "op") {
            let op = ids.follow_ref(doc, op, "op", problems);
            ops.push(unpack_op(doc, op, owner, ids, problems));
        }
    }
    ops
}

fn unpack_op(
    doc: &Document,
    op: NodeId,
    owner: &str,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Operation {
    let id = doc.attr(op, "id").unwrap_or("").to_string();
    let name = doc.attr(op, "name").unwrap_or("").to_string();
    let object = format!("op {id} of {owner}");
    if name.is_empty() {
        problems.error(&object, "no `name` given (start, stop, monitor, ...)");
    }
    let interval = doc.attr(op, "interval").unwrap_or("0").to_string();
    let interval_ms = parse_ms(&interval).unwrap_or_else(|e| {
        problems.error(&object, format!("interval: {e}"));
        0
    });
    let timeout = text_attr(doc, op, "timeout");
    if let Some(t) = &timeout
        && let Err(e) = parse_ms(t)
    {
        problems.error(&object, format!("timeout: {e}"));
    }
    let role = doc
        .attr(op, "role")
        .and_then(|r| Role::parse_or_report(r, &object, problems));
    let enabled = doc.attr(op, "enabled").and_then(|v| {
        let b = parse_bool(v);
        if b.is_none() {
            problems.error(&object, format!("enabled={v:?} is not a boolean"));
        }
        b
    });
    Operation {
        id,
        name,
        interval,
        interval_ms,
        timeout,
        role,
        on_fail: text_attr(doc, op, "on-fail"),
        enabled,
        attrs: all_attrs(doc, op),
        meta: unpack_nvsets(doc, op, "meta_attributes", ids, problems),
        instance: unpack_nvsets(doc, op, "instance_attributes", ids, problems),
    }
}

/// Reads a `<primitive>` (or `<template>`), merging the template it names.
pub fn unpack_primitive(
    doc: &Document,
    n: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Primitive {
    let id = doc.attr(n, "id").unwrap_or("").to_string();
    let object = format!("primitive {id}");
    let mut p = Primitive {
        id: id.clone(),
        class: doc.attr(n, "class").unwrap_or("").to_string(),
        provider: text_attr(doc, n, "provider"),
        agent: doc.attr(n, "type").unwrap_or("").to_string(),
        template: text_attr(doc, n, "template"),
        description: text_attr(doc, n, "description"),
        instance: unpack_nvsets(doc, n, "instance_attributes", ids, problems),
        meta: unpack_nvsets(doc, n, "meta_attributes", ids, problems),
        utilization: unpack_nvsets(doc, n, "utilization", ids, problems),
        ops: unpack_ops(doc, n, &object, ids, problems),
        node: n,
    };
    if let Some(t) = p.template.clone() {
        match ids
            .get(&t)
            .filter(|&tn| doc.name(tn) == "template" || doc.name(tn) == "rsc_template")
        {
            Some(tn) => merge_template(&mut p, doc, tn, ids, problems),
            None => problems.error(&object, format!("template {t:?} does not exist")),
        }
    }
    if doc.name(n) == "primitive" {
        check_agent(&p, &object, problems);
    }
    p
}

/// A primitive's own definitions win over its template's: class, provider and type fill in
/// what the primitive lacks; the template's option blocks come after the primitive's (lower
/// precedence at equal score); template operations are added unless the primitive defines
/// one with the same name and interval.
fn merge_template(
    p: &mut Primitive,
    doc: &Document,
    tn: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
) {
    let t = unpack_primitive(doc, tn, ids, problems);
    if p.class.is_empty() {
        p.class = t.class;
    }
    if p.provider.is_none() {
        p.provider = t.provider;
    }
    if p.agent.is_empty() {
        p.agent = t.agent;
    }
    p.instance.extend(t.instance);
    p.meta.extend(t.meta);
    p.utilization.extend(t.utilization);
    for op in t.ops {
        if !p
            .ops
            .iter()
            .any(|o| o.name == op.name && o.interval_ms == op.interval_ms)
        {
            p.ops.push(op);
        }
    }
}

fn check_agent(p: &Primitive, object: &str, problems: &mut Problems) {
    if p.class.is_empty() {
        problems.error(
            object,
            "no resource class given (expected ocf, lsb, systemd, service or stonith)",
        );
    } else if !KNOWN_CLASSES.contains(&p.class.as_str()) {
        problems.error(
            object,
            format!(
                "unknown resource class {:?}: expected ocf, lsb, systemd, service or stonith",
                p.class
            ),
        );
    } else if p.class == "ocf" && p.provider.is_none() {
        problems.error(
            object,
            "class ocf needs a provider (e.g. ocf:heartbeat:IPaddr2)",
        );
    }
    if p.agent.is_empty() {
        problems.error(object, "no agent type given");
    }
}

/// Reads any resource element; `None` for elements that are not resources.
pub fn unpack_resource(
    doc: &Document,
    n: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Option<Resource> {
    let id = doc.attr(n, "id").unwrap_or("").to_string();
    Some(match doc.name(n) {
        "primitive" => Resource::Primitive(unpack_primitive(doc, n, ids, problems)),
        "group" => {
            let children: Vec<Primitive> = doc
                .elements(n)
                .filter(|&c| doc.name(c) == "primitive")
                .map(|c| unpack_primitive(doc, c, ids, problems))
                .collect();
            if children.is_empty() {
                problems.warning(format!("group {id}"), "the group has no members");
            }
            Resource::Group(Group {
                id,
                description: text_attr(doc, n, "description"),
                children,
                meta: unpack_nvsets(doc, n, "meta_attributes", ids, problems),
                instance: unpack_nvsets(doc, n, "instance_attributes", ids, problems),
                utilization: unpack_nvsets(doc, n, "utilization", ids, problems),
                node: n,
            })
        }
        kind @ ("clone" | "master") => {
            let object = format!("{kind} {id}");
            let inner: Vec<NodeId> = doc
                .elements(n)
                .filter(|&c| matches!(doc.name(c), "primitive" | "group"))
                .collect();
            let Some(&first) = inner.first() else {
                problems.error(&object, "contains no primitive or group");
                return None;
            };
            if inner.len() > 1 {
                problems.error(
                    &object,
                    "contains more than one resource; only the first is used",
                );
            }
            let child = unpack_resource(doc, first, ids, problems)?;
            Resource::Clone(Clone {
                id,
                description: text_attr(doc, n, "description"),
                child: Box::new(child),
                meta: unpack_nvsets(doc, n, "meta_attributes", ids, problems),
                instance: unpack_nvsets(doc, n, "instance_attributes", ids, problems),
                legacy_master: kind == "master",
                node: n,
            })
        }
        "bundle" => unpack_bundle(doc, n, id, ids, problems),
        _ => return None,
    })
}

fn unpack_bundle(
    doc: &Document,
    n: NodeId,
    id: String,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Resource {
    let container = doc
        .elements(n)
        .find(|&c| matches!(doc.name(c), "docker" | "podman" | "rkt"))
        .map(|c| (doc.name(c).to_string(), all_attrs(doc, c)));
    if container.is_none() {
        problems.error(
            format!("bundle {id}"),
            "no container runtime (<docker>, <podman> or <rkt>) given",
        );
    }
    let network = doc.child_named(n, "network").map(|net| {
        (
            all_attrs(doc, net),
            doc.children_named(net, "port-mapping")
                .map(|m| all_attrs(doc, m))
                .collect(),
        )
    });
    let storage = doc
        .children_named(n, "storage")
        .flat_map(|s| {
            doc.children_named(s, "storage-mapping")
                .map(|m| all_attrs(doc, m))
                .collect::<Vec<_>>()
        })
        .collect();
    Resource::Bundle(Bundle {
        id,
        description: text_attr(doc, n, "description"),
        container,
        network,
        storage,
        primitive: doc
            .child_named(n, "primitive")
            .map(|p| unpack_primitive(doc, p, ids, problems)),
        meta: unpack_nvsets(doc, n, "meta_attributes", ids, problems),
        node: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(xml: &str) -> (Vec<Resource>, Problems) {
        let doc = Document::parse(xml).unwrap();
        let ids = IdIndex::build(&doc);
        let mut p = Problems::default();
        let rs = doc
            .elements(doc.root().unwrap())
            .filter_map(|n| unpack_resource(&doc, n, &ids, &mut p))
            .collect();
        (rs, p)
    }

    #[test]
    fn primitives_groups_clones_and_legacy_master() {
        let (rs, p) = load(
            r#"<resources>
              <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
                <instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="10.0.0.1"/></instance_attributes>
                <operations><op id="vip-mon" name="monitor" interval="30s" timeout="20s"/></operations>
              </primitive>
              <group id="g"><primitive id="a" class="lsb" type="httpd"/><primitive id="b" class="systemd" type="nginx"/></group>
              <clone id="c"><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/></clone>
              <master id="ms"><primitive id="s" class="ocf" provider="pacemaker" type="Stateful"/></master>
            </resources>"#,
        );
        assert!(p.0.is_empty(), "{:?}", p.0);
        assert_eq!(rs.len(), 4);
        let Resource::Primitive(vip) = &rs[0] else {
            panic!()
        };
        assert_eq!(vip.agent_spec(), "ocf:heartbeat:IPaddr2");
        assert_eq!(vip.ops[0].interval_ms, 30_000);
        assert_eq!(vip.ops[0].timeout_ms(), Some(20_000));
        assert_eq!(
            rs[1]
                .primitives()
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(rs[3].kind(), "master");
        let Resource::Clone(ms) = &rs[3] else {
            panic!()
        };
        assert!(ms.legacy_master);
    }

    #[test]
    fn templates_fill_in_and_primitive_wins() {
        let (rs, p) = load(
            r#"<resources>
              <template id="t" class="ocf" provider="heartbeat" type="apache">
                <operations><op id="t-mon" name="monitor" interval="10s"/><op id="t-start" name="start" interval="0" timeout="40s"/></operations>
              </template>
              <primitive id="web" template="t"><operations><op id="w-mon" name="monitor" interval="10s" timeout="5s"/></operations></primitive>
            </resources>"#,
        );
        assert!(p.0.is_empty(), "{:?}", p.0);
        let Resource::Primitive(web) = &rs[0] else {
            panic!()
        };
        assert_eq!(web.agent_spec(), "ocf:heartbeat:apache");
        assert_eq!(
            web.ops.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
            vec!["w-mon", "t-start"]
        );
    }

    #[test]
    fn problems_name_the_object() {
        let (_, p) = load(
            r#"<resources><primitive id="x" class="ocf" type="Dummy"><operations><op id="o" name="monitor" interval="often"/></operations></primitive><primitive id="y" class="bogus" type="z"/></resources>"#,
        );
        let text: Vec<String> = p.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "error: op o of primitive x: interval: \"often\" is not a time interval (e.g. 30s, 500ms, 1m, PT1M or a number of seconds)",
                "error: primitive x: class ocf needs a provider (e.g. ocf:heartbeat:IPaddr2)",
                "error: primitive y: unknown resource class \"bogus\": expected ocf, lsb, systemd, service or stonith",
            ]
        );
    }
}
