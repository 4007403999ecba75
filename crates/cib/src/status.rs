//! The `status` section: what each node's controller and executor reported — membership
//! flags, transient attributes, and the history of every resource operation.

use tandem_xml::{Document, NodeId};

use crate::ids::IdIndex;
use crate::nvset::{NvSet, unpack_nvsets};
use crate::problem::Problems;

/// One recorded operation (`lrm_rsc_op`). Every field Pacemaker writes is kept; timing fields
/// accept both the current (`last-rc-change`) and the old (`last_rc_change`) spelling.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct OpHistory {
    pub id: String,
    pub operation_key: Option<String>,
    pub operation: String,
    pub crm_feature_set: Option<String>,
    pub transition_key: Option<String>,
    pub transition_magic: Option<String>,
    pub call_id: i64,
    pub rc_code: i32,
    pub op_status: i32,
    pub interval_ms: u64,
    pub last_run: Option<i64>,
    pub last_rc_change: Option<i64>,
    pub exec_time_ms: Option<u64>,
    pub queue_time_ms: Option<u64>,
    pub op_digest: Option<String>,
    pub op_force_restart: Option<String>,
    pub op_restart_digest: Option<String>,
    pub op_secure_params: Option<String>,
    pub op_secure_digest: Option<String>,
    pub exit_reason: Option<String>,
    pub on_node: Option<String>,
    pub migrate_source: Option<String>,
    pub migrate_target: Option<String>,
    pub node: Option<NodeId>,
}

/// The history of one resource on one node (`lrm_resource`).
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceHistory {
    pub id: String,
    pub class: Option<String>,
    pub provider: Option<String>,
    pub agent: Option<String>,
    pub container: Option<String>,
    /// `shutdown-lock`: when the node was cleanly shut down with the resource locked to it.
    pub shutdown_lock: Option<i64>,
    pub ops: Vec<OpHistory>,
}

/// One node's entry (`node_state`).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeState {
    pub id: String,
    pub uname: Option<String>,
    /// `in_ccm`: `true`/`false`, or (newer Pacemaker) the time it joined the membership.
    pub in_ccm: Option<String>,
    /// `crmd`: `online`/`offline`, or (newer) the time the controller joined.
    pub crmd: Option<String>,
    /// `join`: member, down, pending, banned.
    pub join: Option<String>,
    /// `expected`: the join state the DC expects.
    pub expected: Option<String>,
    pub shutdown: Option<String>,
    pub remote_node: bool,
    pub node_fenced: Option<String>,
    pub node_in_maintenance: Option<String>,
    pub attrs: Vec<(String, String)>,
    /// `transient_attributes` blocks (fail counts, promotion scores, standby for this boot).
    pub transient: Vec<NvSet>,
    pub resources: Vec<ResourceHistory>,
}

impl NodeState {
    /// Whether the node is in the membership: `true`, or a join timestamp (newer CIBs).
    pub fn in_membership(&self) -> bool {
        match self.in_ccm.as_deref() {
            Some(v) => {
                v == "true" || v == "yes" || v == "1" || v.parse::<i64>().is_ok_and(|t| t > 0)
            }
            None => false,
        }
    }

    /// Whether the node's controller is up: `online`, or a join timestamp (newer CIBs).
    pub fn controller_up(&self) -> bool {
        match self.crmd.as_deref() {
            Some(v) => v == "online" || v.parse::<i64>().is_ok_and(|t| t > 0),
            None => false,
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A `ticket_state` in `status/tickets`.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketState {
    pub id: String,
    pub granted: bool,
    pub standby: bool,
    pub last_granted: Option<i64>,
    pub attrs: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    pub nodes: Vec<NodeState>,
    pub tickets: Vec<TicketState>,
}

fn int<T: std::str::FromStr>(doc: &Document, n: NodeId, names: &[&str]) -> Option<T> {
    names
        .iter()
        .find_map(|name| doc.attr(n, name))
        .and_then(|v| v.trim().parse().ok())
}

fn text(doc: &Document, n: NodeId, name: &str) -> Option<String> {
    doc.attr(n, name).map(str::to_string)
}

fn unpack_op(doc: &Document, n: NodeId, object: &str, problems: &mut Problems) -> OpHistory {
    let id = doc.attr(n, "id").unwrap_or("").to_string();
    let required = |name: &str, problems: &mut Problems| -> i64 {
        match doc.attr(n, name).map(|v| v.trim().parse::<i64>()) {
            Some(Ok(v)) => v,
            Some(Err(_)) => {
                problems.error(
                    format!("lrm_rsc_op {id} of {object}"),
                    format!("{name} is not an integer"),
                );
                0
            }
            None => 0,
        }
    };
    OpHistory {
        operation_key: text(doc, n, "operation_key"),
        operation: doc.attr(n, "operation").unwrap_or("").to_string(),
        crm_feature_set: text(doc, n, "crm_feature_set"),
        transition_key: text(doc, n, "transition-key"),
        transition_magic: text(doc, n, "transition-magic"),
        call_id: required("call-id", problems),
        rc_code: required("rc-code", problems) as i32,
        op_status: required("op-status", problems) as i32,
        interval_ms: int(doc, n, &["interval"]).unwrap_or(0),
        last_run: int(doc, n, &["last-run", "last_run"]),
        last_rc_change: int(doc, n, &["last-rc-change", "last_rc_change"]),
        exec_time_ms: int(doc, n, &["exec-time", "exec_time"]),
        queue_time_ms: int(doc, n, &["queue-time", "queue_time"]),
        op_digest: text(doc, n, "op-digest"),
        op_force_restart: text(doc, n, "op-force-restart"),
        op_restart_digest: text(doc, n, "op-restart-digest"),
        op_secure_params: text(doc, n, "op-secure-params"),
        op_secure_digest: text(doc, n, "op-secure-digest"),
        exit_reason: text(doc, n, "exit-reason"),
        on_node: text(doc, n, "on_node"),
        migrate_source: text(doc, n, "migrate_source"),
        migrate_target: text(doc, n, "migrate_target"),
        node: Some(n),
        id,
    }
}

/// Reads the `status` element.
pub fn unpack_status(
    doc: &Document,
    status: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Status {
    let mut out = Status::default();
    for ns in doc.children_named(status, "node_state") {
        let id = doc.attr(ns, "id").unwrap_or("").to_string();
        let object = format!("node_state {id}");
        let transient = doc
            .children_named(ns, "transient_attributes")
            .flat_map(|t| unpack_nvsets(doc, t, "instance_attributes", ids, problems))
            .collect();
        let mut resources = Vec::new();
        for lrm in doc.children_named(ns, "lrm") {
            for lr in doc
                .children_named(lrm, "lrm_resources")
                .flat_map(|l| doc.children_named(l, "lrm_resource"))
            {
                let rid = doc.attr(lr, "id").unwrap_or("").to_string();
                let obj = format!("lrm_resource {rid} on {object}");
                resources.push(ResourceHistory {
                    class: text(doc, lr, "class"),
                    provider: text(doc, lr, "provider"),
                    agent: text(doc, lr, "type"),
                    container: text(doc, lr, "container"),
                    shutdown_lock: int(doc, lr, &["shutdown-lock"]),
                    ops: doc
                        .children_named(lr, "lrm_rsc_op")
                        .map(|o| unpack_op(doc, o, &obj, problems))
                        .collect(),
                    id: rid,
                });
            }
        }
        let flag = doc.attr(ns, "remote_node").is_some_and(|v| v == "true");
        out.nodes.push(NodeState {
            uname: text(doc, ns, "uname"),
            in_ccm: text(doc, ns, "in_ccm"),
            crmd: text(doc, ns, "crmd"),
            join: text(doc, ns, "join"),
            expected: text(doc, ns, "expected"),
            shutdown: text(doc, ns, "shutdown"),
            remote_node: flag,
            node_fenced: text(doc, ns, "node_fenced"),
            node_in_maintenance: text(doc, ns, "node_in_maintenance"),
            attrs: doc
                .attrs(ns)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            transient,
            resources,
            id,
        });
    }
    for t in doc
        .children_named(status, "tickets")
        .flat_map(|t| doc.children_named(t, "ticket_state"))
    {
        out.tickets.push(TicketState {
            id: doc.attr(t, "id").unwrap_or("").to_string(),
            granted: doc.attr(t, "granted").is_some_and(|v| v == "true"),
            standby: doc.attr(t, "standby").is_some_and(|v| v == "true"),
            last_granted: int(doc, t, &["last-granted"]),
            attrs: doc
                .attrs(t)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        });
    }
    out
}
