//! The replicated CIB operations and how every replica applies them.
//!
//! Each operation is a pure function of the CIB and the operation (plus the facts the
//! message carries: the origin's name and clock), so every replica that applies the same
//! sequence gets the same CIB and accepts or refuses each operation the same way. Versions
//! are numbered by [`Cib::successor`]: a changed configuration bumps `epoch`, a change
//! confined to `status` bumps `num_updates`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tandem_cib::{Cib, NO_STONITH, Severity, verify_at};
use tandem_totem::NodeId;
use tandem_xml::{Document, NodeId as XmlId};

use crate::controller::{FailCountChange, FailCountUpdate, OpRecord, RscOpEntry};

/// A node's membership flags as the DC writes them into its `node_state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    pub id: NodeId,
    pub uname: String,
    pub member: bool,
    /// The node left cleanly (a graceful shutdown): `expected="down"`.
    pub clean_down: bool,
}

/// An [`OpRecord`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordWire {
    pub rsc_id: String,
    pub class: String,
    pub provider: Option<String>,
    pub kind: String,
    /// `lrm_rsc_op` ids and their attributes.
    pub entries: Vec<(String, Vec<(String, String)>)>,
    pub drop_recurring: bool,
}

impl From<OpRecord> for RecordWire {
    fn from(r: OpRecord) -> RecordWire {
        RecordWire {
            rsc_id: r.rsc_id,
            class: r.class,
            provider: r.provider,
            kind: r.kind,
            entries: r.entries.into_iter().map(|e| (e.id, e.attrs)).collect(),
            drop_recurring: r.drop_recurring,
        }
    }
}

impl From<RecordWire> for OpRecord {
    fn from(r: RecordWire) -> OpRecord {
        OpRecord {
            rsc_id: r.rsc_id,
            class: r.class,
            provider: r.provider,
            kind: r.kind,
            entries: r
                .entries
                .into_iter()
                .map(|(id, attrs)| RscOpEntry { id, attrs })
                .collect(),
            drop_recurring: r.drop_recurring,
        }
    }
}

impl RecordWire {
    /// An attribute of the record's main entry.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.entries
            .first()
            .and_then(|(_, a)| a.iter().find(|(k, _)| k == name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the record carries a failure entry (`RSC_last_failure_0`).
    pub fn is_failure(&self) -> bool {
        self.entries
            .iter()
            .any(|(id, _)| id.ends_with("_last_failure_0"))
    }
}

/// A [`FailCountUpdate`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailWire {
    pub count_attr: String,
    pub last_failure_attr: String,
    /// Set to INFINITY (else add one).
    pub infinity: bool,
}

impl From<FailCountUpdate> for FailWire {
    fn from(u: FailCountUpdate) -> FailWire {
        FailWire {
            count_attr: u.count_attr,
            last_failure_attr: u.last_failure_attr,
            infinity: u.change == FailCountChange::Infinity,
        }
    }
}

/// One replicated change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CibOp {
    /// Replace the configuration if the live CIB is at `base` (admin_epoch, epoch).
    Commit {
        base: (u64, u64),
        configuration: String,
    },
    /// `cibadmin --replace`: the configuration and admin_epoch/epoch of `xml`.
    Replace { xml: String },
    /// Set or delete transient attributes of a node.
    Attrs {
        node: String,
        set: Vec<(String, Option<String>)>,
    },
    /// Forget failures (and the history that shows them) so the DC probes again.
    Cleanup {
        resource: Option<String>,
        node: Option<String>,
    },
    /// An operation result recorded by the node that ran it (or a timeout the DC
    /// records), with the fail-count change it calls for.
    Record {
        node: String,
        record: RecordWire,
        fail: Option<FailWire>,
    },
    /// A node's own executor history after a sync (`lrm` element; `None`: empty).
    History { node: String, lrm: Option<String> },
    /// The DC's record of a node it had fenced: cleanly down (`expected="down"`), with no
    /// resource history and no transient attributes.
    Fenced { node: String },
    /// The DC's view of membership and quorum.
    Membership {
        dc: NodeId,
        quorate: bool,
        nodes: Vec<NodeRow>,
    },
}

impl CibOp {
    /// Whether transient attributes may change.
    pub fn touches_attrs(&self) -> bool {
        matches!(
            self,
            CibOp::Attrs { .. }
                | CibOp::Record { .. }
                | CibOp::Cleanup { .. }
                | CibOp::Fenced { .. }
        )
    }

    /// Whether the configuration (not just `status`) may change.
    pub fn touches_config(&self) -> bool {
        matches!(
            self,
            CibOp::Commit { .. } | CibOp::Replace { .. } | CibOp::Membership { .. }
        )
    }

    /// Whether the CIB this operation changes must be on disk before the node goes on
    /// ([`crate::Output::PersistCib`]) — false for operation records and history reports,
    /// written when the disk gets to it ([`crate::Output::PersistStatus`]).
    ///
    /// Why losing those in a crash is safe: they change only `status` (the lrm history
    /// and, for a failure, the fail-count transient attributes), never the configuration
    /// or the version's epochs; no client is ever answered on them; and Tandem rebuilds
    /// them — every member re-reports its executor's history (`History`) at the end of
    /// every sync round, a restarted node's executor starts empty and the DC probes it,
    /// transient attributes die with their node's boot and are re-asserted by their owners
    /// after every round. A node that restarts from a disk lacking the last few of them
    /// holds an older CIB of its own past (a lower `num_updates`, the same configuration):
    /// as if it had crashed a moment earlier. Its peers hold the newer one in memory and
    /// win the sync round; if every holder died, what is lost is history a restarted
    /// cluster re-learns by probing (Pacemaker does not write `status` to disk at all).
    /// Everything else stays durable: configuration changes, the DC's membership and
    /// fencing records, and every change a client asked for (`Attrs`, `Cleanup`), whose
    /// answer says it is on the disk of every member.
    pub fn durable(&self) -> bool {
        !matches!(self, CibOp::Record { .. } | CibOp::History { .. })
    }
}

/// Facts of the message that every replica sees the same.
pub struct Ctx<'a> {
    /// The origin node's name.
    pub origin: &'a str,
    /// The origin's wall clock when it sent the operation.
    pub epoch_s: i64,
    /// Node names by id (the nodelist).
    pub names: &'a BTreeMap<NodeId, String>,
    /// The DC at this point of the order; `Membership` from anyone else is stale.
    pub dc: Option<NodeId>,
    /// Sender of the message.
    pub sender: NodeId,
    /// The boot of each member of the ring the operation is applied in (learnt from the
    /// round's sync messages): transient attributes set for a member are tagged with its
    /// boot ([`BOOT_ATTR`]).
    pub boots: &'a BTreeMap<NodeId, u64>,
}

/// The `nvpair` attribute naming the boot of its node that a transient attribute was set
/// for (absent: set while that node was not a member, so for whichever life it is in).
/// A node's transient attributes die with it: once it is a member again with another
/// boot, those of earlier boots are removed ([`forget_earlier_lives`]).
pub const BOOT_ATTR: &str = "tandem-boot";

/// The boot tag for a transient attribute of node `id` (`node_state` id).
fn boot_of(ctx: &Ctx<'_>, id: &str) -> Option<u64> {
    id.parse::<NodeId>()
        .ok()
        .and_then(|n| ctx.boots.get(&n))
        .copied()
}

/// Applies `op` to `cib`: the new CIB (same version if nothing changed) or why it was
/// refused (nothing changes).
pub fn apply(cib: &Cib, op: &CibOp, ctx: &Ctx<'_>) -> Result<Cib, String> {
    let mut doc = cib.document().clone();
    match op {
        CibOp::Commit {
            base,
            configuration,
        } => return commit(cib, *base, configuration, ctx),
        CibOp::Replace { xml } => return replace(cib, xml, ctx),
        CibOp::Attrs { node, set } => {
            let id = node_id(cib, ctx.names, node)?;
            set_attrs(&mut doc, &id, node, set, boot_of(ctx, &id));
        }
        CibOp::Cleanup { resource, node } => {
            if let Some(n) = node {
                node_id(cib, ctx.names, n)?;
            }
            cleanup_doc(&mut doc, resource.as_deref(), node.as_deref());
        }
        CibOp::Record { node, record, fail } => {
            let id = node_id(cib, ctx.names, node)?;
            OpRecord::from(record.clone())
                .apply_to(&mut doc, &id, node)
                .map_err(|e| e.to_string())?;
            if let Some(f) = fail {
                count_failure(&mut doc, &id, node, f, ctx.epoch_s, boot_of(ctx, &id));
            }
        }
        CibOp::History { node, lrm } => {
            let id = node_id(cib, ctx.names, node)?;
            history(&mut doc, &id, node, lrm.as_deref())?;
        }
        CibOp::Membership { dc, quorate, nodes } => {
            if ctx.dc != Some(ctx.sender) || ctx.sender != *dc {
                return Err(format!(
                    "membership update from node {} which is not the DC",
                    ctx.sender
                ));
            }
            membership(&mut doc, *dc, *quorate, nodes);
        }
        CibOp::Fenced { node } => {
            if ctx.dc != Some(ctx.sender) {
                return Err(format!(
                    "fencing record from node {} which is not the DC",
                    ctx.sender
                ));
            }
            let id = node_id(cib, ctx.names, node)?;
            crate::controller::record::fenced(&mut doc, &id, node).map_err(|e| e.to_string())?;
        }
    }
    cib.successor(doc.compacted()).map_err(|e| e.to_string())
}

/// The node id (`node_state` id) of node `name`: from the nodelist, else the configuration.
fn node_id(cib: &Cib, names: &BTreeMap<NodeId, String>, name: &str) -> Result<String, String> {
    if let Some((id, _)) = names.iter().find(|(_, n)| n.as_str() == name) {
        return Ok(id.to_string());
    }
    cib.config
        .nodes
        .iter()
        .find(|n| n.uname == name)
        .map(|n| n.id.clone())
        .ok_or_else(|| format!("node {name:?} is not in the cluster's node list"))
}

fn root(doc: &Document) -> XmlId {
    doc.root().expect("a loaded CIB has a root")
}

/// The first child `name` of `parent` with `id` (or any, when `id` is `None`), created if
/// missing.
fn ensure(doc: &mut Document, parent: XmlId, name: &str, id: Option<&str>) -> XmlId {
    let found = doc
        .children_named(parent, name)
        .find(|&c| id.is_none() || doc.attr(c, "id") == id);
    if let Some(c) = found {
        return c;
    }
    let c = match id {
        Some(id) => doc.create_element_with(name, &[("id", id)]),
        None => doc.create_element(name),
    };
    doc.append_child(parent, c);
    c
}

fn status(doc: &mut Document) -> XmlId {
    let r = root(doc);
    ensure(doc, r, "status", None)
}

fn node_state(doc: &mut Document, id: &str, uname: &str) -> XmlId {
    let st = status(doc);
    let ns = ensure(doc, st, "node_state", Some(id));
    if doc.attr(ns, "uname").is_none() {
        doc.set_attr(ns, "uname", uname);
    }
    ns
}

fn find_node_state(doc: &Document, id: &str) -> Option<XmlId> {
    let st = doc.child_named(root(doc), "status")?;
    doc.children_named(st, "node_state")
        .find(|&n| doc.attr(n, "id") == Some(id))
}

/// Pacemaker's id sanitising: characters not allowed in an XML id become `.`.
pub fn sanitize_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '.'
            }
        })
        .collect()
}

fn set_attrs(
    doc: &mut Document,
    id: &str,
    uname: &str,
    set: &[(String, Option<String>)],
    boot: Option<u64>,
) {
    let ns = node_state(doc, id, uname);
    let ta = ensure(doc, ns, "transient_attributes", Some(id));
    let set_id = format!("status-{id}");
    let ia = ensure(doc, ta, "instance_attributes", Some(&set_id));
    for (name, value) in set {
        let existing = doc
            .children_named(ia, "nvpair")
            .find(|&n| doc.attr(n, "name") == Some(name.as_str()));
        let n = match (existing, value) {
            (Some(n), Some(v)) => {
                doc.set_attr(n, "value", v);
                n
            }
            (Some(n), None) => {
                doc.detach(n);
                continue;
            }
            (None, Some(v)) => {
                let nv_id = sanitize_id(&format!("status-{id}-{name}"));
                let n = doc
                    .create_element_with("nvpair", &[("id", &nv_id), ("name", name), ("value", v)]);
                doc.append_child(ia, n);
                n
            }
            (None, None) => continue,
        };
        match boot {
            Some(b) => doc.set_attr(n, BOOT_ATTR, &b.to_string()),
            None => doc.remove_attr(n, BOOT_ATTR),
        };
    }
}

fn attr_value(doc: &Document, id: &str, name: &str) -> Option<String> {
    let ns = find_node_state(doc, id)?;
    let ia = doc.descend(ns, &["transient_attributes", "instance_attributes"])?;
    doc.children_named(ia, "nvpair")
        .find(|&n| doc.attr(n, "name") == Some(name))
        .and_then(|n| doc.attr(n, "value").map(str::to_string))
}

fn count_failure(
    doc: &mut Document,
    id: &str,
    uname: &str,
    f: &FailWire,
    epoch_s: i64,
    boot: Option<u64>,
) {
    let current = attr_value(doc, id, &f.count_attr);
    let change = if f.infinity {
        FailCountChange::Infinity
    } else {
        FailCountChange::Increment
    };
    let count = change.apply(current.as_deref());
    set_attrs(
        doc,
        id,
        uname,
        &[
            (f.count_attr.clone(), Some(count)),
            (f.last_failure_attr.clone(), Some(epoch_s.to_string())),
        ],
        boot,
    );
}

fn history(doc: &mut Document, id: &str, uname: &str, lrm: Option<&str>) -> Result<(), String> {
    let new = match lrm {
        Some(x) => Some(Document::parse(x).map_err(|e| format!("history: {e}"))?),
        None => None,
    };
    let ns = node_state(doc, id, uname);
    for old in doc.children_named(ns, "lrm").collect::<Vec<_>>() {
        doc.detach(old);
    }
    let lrm_el = match &new {
        Some(d) => doc.import(d, d.root().ok_or("history: empty")?),
        None => {
            let l = doc.create_element_with("lrm", &[("id", id)]);
            let r = doc.create_element("lrm_resources");
            doc.append_child(l, r);
            l
        }
    };
    doc.append_child(ns, lrm_el);
    Ok(())
}

/// One transient attribute as a member re-asserts it at a sync round: `node_state` id,
/// uname, name, value and boot tag ([`BOOT_ATTR`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttrEntry {
    pub id: String,
    pub uname: String,
    pub name: String,
    pub value: String,
    pub boot: Option<String>,
}

/// Every transient attribute of `doc`.
pub fn transient_table(doc: &Document) -> Vec<AttrEntry> {
    let Some(st) = doc.child_named(root(doc), "status") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ns in doc.children_named(st, "node_state") {
        let (Some(id), Some(uname)) = (doc.attr(ns, "id"), doc.attr(ns, "uname")) else {
            continue;
        };
        for ia in doc
            .children_named(ns, "transient_attributes")
            .flat_map(|ta| doc.children_named(ta, "instance_attributes"))
        {
            for nv in doc.children_named(ia, "nvpair") {
                let (Some(name), Some(value)) = (doc.attr(nv, "name"), doc.attr(nv, "value"))
                else {
                    continue;
                };
                out.push(AttrEntry {
                    id: id.to_string(),
                    uname: uname.to_string(),
                    name: name.to_string(),
                    value: value.to_string(),
                    boot: doc.attr(nv, BOOT_ATTR).map(str::to_string),
                });
            }
        }
    }
    out
}

/// The (`node_state` id, name) of every transient attribute of `doc`.
pub fn transient_keys(doc: &Document) -> std::collections::BTreeSet<(String, String)> {
    transient_table(doc)
        .into_iter()
        .map(|e| (e.id, e.name))
        .collect()
}

/// Pacemaker's attrd re-writes its values after an election; the equivalent at the end of
/// a sync round: the winning CIB keeps every value it has (the partition that had quorum
/// last wins conflicts), and gains each attribute it lacks that a member holds, unless some
/// member saw it deleted (`deleted`); among members holding it, the lowest node id's value.
/// Every member applies this to the same CIB with the same tables. Whether anything changed.
pub fn reassert_attrs(
    doc: &mut Document,
    tables: &BTreeMap<NodeId, Vec<AttrEntry>>,
    deleted: &std::collections::BTreeSet<(String, String)>,
) -> bool {
    let mut have = transient_keys(doc);
    let mut changed = false;
    for entry in tables.values().flatten() {
        let key = (entry.id.clone(), entry.name.clone());
        if have.contains(&key) || deleted.contains(&key) {
            continue;
        }
        set_attrs(
            doc,
            &entry.id,
            &entry.uname,
            &[(entry.name.clone(), Some(entry.value.clone()))],
            None,
        );
        if let Some(b) = &entry.boot
            && let Some(nv) = find_node_state(doc, &entry.id)
                .and_then(|ns| doc.descend(ns, &["transient_attributes", "instance_attributes"]))
                .and_then(|ia| {
                    doc.children_named(ia, "nvpair")
                        .find(|&n| doc.attr(n, "name") == Some(entry.name.as_str()))
                })
        {
            doc.set_attr(nv, BOOT_ATTR, b);
        }
        have.insert(key);
        changed = true;
    }
    changed
}

/// At the end of a sync round, for each member (`boots`: its boot): removes its transient
/// attributes set for another boot (an earlier life: fail counts, a shutdown request, …)
/// and adopts those set while it was away (untagged) for the boot it runs. Every member
/// applies this to the same CIB at the same point of the order. Whether anything changed.
pub fn forget_earlier_lives(doc: &mut Document, boots: &BTreeMap<NodeId, u64>) -> bool {
    let mut changed = false;
    for (member, boot) in boots {
        let Some(ns) = find_node_state(doc, &member.to_string()) else {
            continue;
        };
        let boot = boot.to_string();
        let sets: Vec<XmlId> = doc
            .children_named(ns, "transient_attributes")
            .flat_map(|ta| doc.children_named(ta, "instance_attributes"))
            .collect();
        for ia in sets {
            for nv in doc.children_named(ia, "nvpair").collect::<Vec<_>>() {
                match doc.attr(nv, BOOT_ATTR) {
                    Some(b) if b == boot => {}
                    Some(_) => {
                        doc.detach(nv);
                        changed = true;
                    }
                    None => {
                        doc.set_attr(nv, BOOT_ATTR, &boot);
                        changed = true;
                    }
                }
            }
        }
    }
    changed
}

/// Whether an `lrm_rsc_op` shows a failure: not completed, or an rc other than the one its
/// transition key expected (a probe finding the resource running is not a failure).
pub fn op_failed(doc: &Document, op: XmlId) -> bool {
    let status = doc.attr(op, "op-status").unwrap_or("0");
    if status != "0" {
        return status != "-1" && status != "1";
    }
    let rc = doc.attr(op, "rc-code").unwrap_or("0");
    let target = doc
        .attr(op, "transition-key")
        .and_then(|k| k.split(':').nth(2))
        .unwrap_or("0");
    let probe = doc.attr(op, "operation") == Some("monitor")
        && doc.attr(op, "interval").unwrap_or("0") == "0";
    rc != target && !(probe && matches!(rc, "0" | "7" | "8"))
}

/// `RSC` matches `RSC` and its clone instances `RSC:N`.
fn rsc_matches(id: &str, wanted: &str) -> bool {
    id == wanted
        || id
            .strip_prefix(wanted)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

/// The resource of a `fail-count-RSC#OP` / `last-failure-RSC#OP` attribute name.
fn failure_attr_rsc(name: &str) -> Option<&str> {
    let rest = name
        .strip_prefix("fail-count-")
        .or_else(|| name.strip_prefix("last-failure-"))?;
    Some(rest.split('#').next().unwrap_or(rest))
}

/// Removes failure attributes and the history of failed (or the named) resources.
pub fn cleanup_doc(doc: &mut Document, resource: Option<&str>, node: Option<&str>) {
    let Some(st) = doc.child_named(root(doc), "status") else {
        return;
    };
    let states: Vec<XmlId> = doc
        .children_named(st, "node_state")
        .filter(|&n| node.is_none() || doc.attr(n, "uname") == node)
        .collect();
    for ns in states {
        let mut failed_rscs: Vec<String> = Vec::new();
        if let Some(ia) = doc.descend(ns, &["transient_attributes", "instance_attributes"]) {
            let doomed: Vec<XmlId> = doc
                .children_named(ia, "nvpair")
                .filter(|&n| {
                    let rsc = doc.attr(n, "name").and_then(failure_attr_rsc);
                    rsc.is_some_and(|r| resource.is_none_or(|w| rsc_matches(r, w)))
                })
                .collect();
            for n in doomed {
                if let Some(r) = doc.attr(n, "name").and_then(failure_attr_rsc) {
                    failed_rscs.push(r.to_string());
                }
                doc.detach(n);
            }
        }
        let Some(lrs) = doc.descend(ns, &["lrm", "lrm_resources"]) else {
            continue;
        };
        let doomed: Vec<XmlId> = doc
            .children_named(lrs, "lrm_resource")
            .filter(|&r| {
                let id = doc.attr(r, "id").unwrap_or("");
                match resource {
                    Some(w) => rsc_matches(id, w),
                    None => {
                        failed_rscs.iter().any(|f| rsc_matches(id, f))
                            || doc
                                .children_named(r, "lrm_rsc_op")
                                .any(|o| op_failed(doc, o))
                    }
                }
            })
            .collect();
        for r in doomed {
            doc.detach(r);
        }
    }
}

/// What the DC records as `dc-version` (Pacemaker records its own version there).
pub const DC_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "-tandem");

/// What the DC records as `cluster-infrastructure`.
pub const CLUSTER_INFRASTRUCTURE: &str = "tandem";

/// Sets a read-only cluster property in `cib-bootstrap-options` (as Pacemaker's DC does),
/// touching nothing when it already has that value.
fn set_bootstrap_option(doc: &mut Document, conf: XmlId, name: &str, value: &str) {
    let crm = ensure(doc, conf, "crm_config", None);
    let set = ensure(
        doc,
        crm,
        "cluster_property_set",
        Some("cib-bootstrap-options"),
    );
    let existing = doc
        .children_named(set, "nvpair")
        .find(|&n| doc.attr(n, "name") == Some(name));
    match existing {
        Some(n) if doc.attr(n, "value") == Some(value) => {}
        Some(n) => {
            doc.set_attr(n, "value", value);
        }
        None => {
            let id = format!("cib-bootstrap-options-{name}");
            let n =
                doc.create_element_with("nvpair", &[("id", &id), ("name", name), ("value", value)]);
            doc.append_child(set, n);
        }
    }
}

fn membership(doc: &mut Document, dc: NodeId, quorate: bool, nodes: &[NodeRow]) {
    let r = root(doc);
    doc.set_attr(r, "have-quorum", if quorate { "1" } else { "0" });
    doc.set_attr(r, "dc-uuid", &dc.to_string());
    let conf = ensure(doc, r, "configuration", None);
    set_bootstrap_option(doc, conf, "dc-version", DC_VERSION);
    set_bootstrap_option(doc, conf, "cluster-infrastructure", CLUSTER_INFRASTRUCTURE);
    let conf_nodes = ensure(doc, conf, "nodes", None);
    for row in nodes.iter().filter(|n| n.member) {
        let id = row.id.to_string();
        let known = doc.children_named(conf_nodes, "node").any(|n| {
            doc.attr(n, "id") == Some(id.as_str()) || doc.attr(n, "uname") == Some(&row.uname)
        });
        if !known {
            let n = doc.create_element_with("node", &[("id", &id), ("uname", &row.uname)]);
            doc.append_child(conf_nodes, n);
        }
    }
    for row in nodes {
        let id = row.id.to_string();
        let ns = node_state(doc, &id, &row.uname);
        let (ccm, crmd, join, expected) = if row.member {
            ("true", "online", "member", "member")
        } else if row.clean_down {
            ("false", "offline", "down", "down")
        } else {
            ("false", "offline", "down", "member")
        };
        if !row.member && doc.attr(ns, "expected") == Some("down") {
            // A node that said goodbye stays expected down once gone.
            doc.set_attr(ns, "expected", "down");
        } else {
            doc.set_attr(ns, "expected", expected);
        }
        doc.set_attr(ns, "in_ccm", ccm);
        doc.set_attr(ns, "crmd", crmd);
        doc.set_attr(ns, "join", join);
    }
}

fn commit(cib: &Cib, base: (u64, u64), configuration: &str, ctx: &Ctx<'_>) -> Result<Cib, String> {
    let live = (cib.version.admin_epoch, cib.version.epoch);
    if live != base {
        return Err(format!(
            "the CIB changed since it was read (epoch {}:{}, now {}:{}); run the command again",
            base.0, base.1, live.0, live.1
        ));
    }
    let conf = Document::parse(configuration).map_err(|e| format!("configuration: {e}"))?;
    let conf_root = conf.root().ok_or("configuration: empty document")?;
    if conf.name(conf_root) != "configuration" {
        return Err(format!(
            "configuration: the root element is <{}>, expected <configuration>",
            conf.name(conf_root)
        ));
    }
    let mut doc = cib.document().clone();
    swap_configuration(&mut doc, &conf, conf_root);
    stamp_change(&mut doc, ctx);
    let new = cib.successor(doc.compacted()).map_err(|e| e.to_string())?;
    check_valid(&new, ctx)?;
    Ok(new)
}

fn replace(cib: &Cib, xml: &str, ctx: &Ctx<'_>) -> Result<Cib, String> {
    let given = Cib::parse(xml).map_err(|e| format!("the new CIB: {e}"))?;
    let (ga, ge) = (given.version.admin_epoch, given.version.epoch);
    let (la, le) = (cib.version.admin_epoch, cib.version.epoch);
    if (ga, ge) < (la, le) {
        return Err(format!(
            "the new CIB's version {ga}.{ge} is older than the live one ({la}.{le}); raise its epoch or admin_epoch"
        ));
    }
    let gdoc = given.document();
    let groot = gdoc.root().expect("a loaded CIB has a root");
    let gconf = gdoc
        .child_named(groot, "configuration")
        .expect("a loaded CIB has a configuration");
    let mut doc = cib.document().clone();
    swap_configuration(&mut doc, gdoc, gconf);
    let r = root(&doc);
    if (ga, ge) > (la, le) {
        doc.set_attr(r, "admin_epoch", &ga.to_string());
        doc.set_attr(r, "epoch", &ge.to_string());
        doc.set_attr(r, "num_updates", "0");
    }
    stamp_change(&mut doc, ctx);
    let new = cib.successor(doc.compacted()).map_err(|e| e.to_string())?;
    check_valid(&new, ctx)?;
    Ok(new)
}

fn swap_configuration(doc: &mut Document, from: &Document, conf: XmlId) {
    let r = root(doc);
    let imported = doc.import(from, conf);
    match doc.child_named(r, "configuration") {
        Some(old) => {
            doc.insert_before(old, imported);
            doc.detach(old);
        }
        None => doc.append_child(r, imported),
    }
}

/// Who changed the configuration, on the root as Pacemaker records it.
fn stamp_change(doc: &mut Document, ctx: &Ctx<'_>) {
    let r = root(doc);
    let written = tandem_cib::DateTime::from_epoch(ctx.epoch_s).ctime();
    doc.set_attr(r, "cib-last-written", &written);
    doc.set_attr(r, "update-origin", ctx.origin);
    doc.set_attr(r, "update-client", "cibadmin");
    doc.set_attr(r, "update-user", "root");
}

/// Refuses a configuration with errors. Fencing enabled without a fence device is the one
/// error accepted (Pacemaker accepts it too: resources just do not start until fencing is
/// configured or disabled).
fn check_valid(new: &Cib, ctx: &Ctx<'_>) -> Result<(), String> {
    let problems = verify_at(new, tandem_cib::DateTime::from_epoch(ctx.epoch_s));
    let errors: Vec<String> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error && !NO_STONITH.contains(&p.message.as_str()))
        .map(|p| p.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the new configuration is not valid; nothing was changed:\n{}",
            errors.join("\n")
        ))
    }
}

/// Seconds since the epoch of a `cib-last-written` value (`Mon Dec  7 00:31:44 2026`).
pub fn parse_ctime(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let f: Vec<&str> = text.split_whitespace().collect();
    let [_, mon, day, hms, year] = f.as_slice() else {
        return None;
    };
    let m = MONTHS.iter().position(|x| x == mon)? as u32 + 1;
    let t: Vec<u32> = hms
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [hh, mm, ss] = t.as_slice() else {
        return None;
    };
    let d =
        tandem_cib::DateTime::from_civil(year.parse().ok()?, m, day.parse().ok()?, *hh, *mm, *ss);
    Some(d.epoch_secs)
}

/// The resources of node `id` in `doc` whose last operation (highest `call-id`) leaves them
/// active: anything but a successful stop or a "not running" answer.
pub fn active_resources(doc: &Document, id: &str) -> Vec<String> {
    let Some(ns) = find_node_state(doc, id) else {
        return Vec::new();
    };
    let Some(lrs) = doc.descend(ns, &["lrm", "lrm_resources"]) else {
        return Vec::new();
    };
    doc.children_named(lrs, "lrm_resource")
        .filter(|&r| {
            let last = doc.children_named(r, "lrm_rsc_op").max_by_key(|&o| {
                doc.attr(o, "call-id")
                    .and_then(|c| c.parse::<i64>().ok())
                    .unwrap_or(-1)
            });
            last.is_some_and(|o| {
                let done = doc.attr(o, "op-status") == Some("0");
                let rc = doc.attr(o, "rc-code").unwrap_or("");
                let stopped = done && doc.attr(o, "operation") == Some("stop") && rc == "0";
                let not_running = done && rc == "7";
                !(stopped || not_running)
            })
        })
        .filter_map(|r| doc.attr(r, "id").map(str::to_string))
        .collect()
}

/// A transient attribute of node `uname` (`status/node_state/transient_attributes`).
pub fn transient_attr(doc: &Document, uname: &str, name: &str) -> Option<String> {
    let st = doc.child_named(root(doc), "status")?;
    let ns = doc
        .children_named(st, "node_state")
        .find(|&n| doc.attr(n, "uname") == Some(uname))?;
    let id = doc.attr(ns, "id")?;
    attr_value(doc, id, name)
}
