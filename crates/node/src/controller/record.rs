//! The operation history a node writes into `status` for a finished operation — the
//! `lrm_rsc_op` elements under `node_state/lrm/lrm_resources/lrm_resource` — in the shape the
//! scheduler's unpack reads back.
//!
//! Which entries an operation writes (as Pacemaker keeps them):
//!
//! | operation | entry replaced |
//! |---|---|
//! | one-shot (start, stop, probe, ...) | `RSC_last_0` |
//! | recurring monitor | `RSC_monitor_INTERVAL` |
//! | any failure, in addition | `RSC_last_failure_0` |
//!
//! A successful stop also drops the resource's recurring entries on that node: the executor
//! cancels a resource's recurring operations when it stops it, and cancelled operations
//! leave no history. A probe that finds the resource running is not a failure (the scheduler
//! reads it as "active here").
//!
//! `op-digest` is the digest of the parameters the operation ran with
//! ([`OpSpec::params`]); for a start that is the same set the scheduler digests when it
//! checks for a changed definition, so an unchanged definition is not restarted and a
//! changed one is.

use tandem_cib::{Cib, LoadError};
use tandem_scheduler::digest::params_digest;
use tandem_scheduler::unpack::ops::rc;
use tandem_xml::{Document, NodeId};

use super::spec::OpSpec;
use crate::outcome::{OpOutcome, op_status};
use crate::time::Now;

/// The feature set written with each record (the schema generation of the history format).
pub const CRM_FEATURE_SET: &str = "3.19.0";

/// `crm-debug-origin` of a result the executing node records.
pub const ORIGIN_RESULT: &str = "do_update_resource";

/// `crm-debug-origin` of a failure the DC records for an action whose result never came.
pub const ORIGIN_TIMEOUT: &str = "controld_record_action_timeout";

/// Whether `outcome` is the result the transition expected.
pub fn is_expected(outcome: &OpOutcome, target_rc: i32) -> bool {
    outcome.op_status == op_status::DONE && outcome.rc == target_rc
}

/// One `lrm_rsc_op`: its id and its attributes in Pacemaker's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RscOpEntry {
    pub id: String,
    pub attrs: Vec<(String, String)>,
}

/// What to write into one node's `lrm_resource` for one finished operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpRecord {
    /// `lrm_resource` id, class, provider and type.
    pub rsc_id: String,
    pub class: String,
    pub provider: Option<String>,
    pub kind: String,
    /// Entries inserted, or replacing the entry with the same id.
    pub entries: Vec<RscOpEntry>,
    /// Remove the resource's recurring entries first (a successful stop).
    pub drop_recurring: bool,
}

/// Where a record could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the CIB document has no <cib> root element to record the operation under")]
    NoRoot,
    #[error("{0}")]
    Load(#[from] LoadError),
}

/// The record of `spec` finished on `node` (uname) with `outcome`; `call_id` is the
/// executing node's call counter. `last-run` and `last-rc-change` are the outcome's start
/// (for a recurring monitor the node records only results whose rc changed, so its start
/// is when the rc changed).
pub fn op_record(spec: &OpSpec, node: &str, outcome: &OpOutcome, call_id: i64) -> OpRecord {
    build(spec, node, outcome, call_id, ORIGIN_RESULT)
}

/// The failure the DC records when `spec`'s result did not arrive within its timeout plus
/// `cluster-delay` (Pacemaker records such an action as timed out, so that the scheduler
/// recovers the resource). Call id -1: no executor call is known.
pub fn timeout_record(spec: &OpSpec, node: &str, waited_ms: u64, now: Now) -> OpRecord {
    let outcome = OpOutcome {
        rc: rc::ERR_GENERIC,
        op_status: op_status::TIMEOUT,
        exit_reason: Some(format!(
            "no result from {node} within {waited_ms} ms (operation timeout plus cluster-delay)"
        )),
        started_epoch_s: now.epoch_s,
        exec_time_ms: waited_ms,
        queue_time_ms: 0,
    };
    build(spec, node, &outcome, -1, ORIGIN_TIMEOUT)
}

/// Whether the outcome is a failure of `spec` (recorded as `RSC_last_failure_0`).
pub fn is_failure(spec: &OpSpec, outcome: &OpOutcome) -> bool {
    if is_expected(outcome, spec.target_rc) {
        return false;
    }
    // A probe that finds the resource active tells where it runs; it did not fail.
    let found_running = spec.is_probe()
        && outcome.op_status == op_status::DONE
        && matches!(outcome.rc, rc::OK | rc::RUNNING_PROMOTED);
    !found_running
}

fn build(spec: &OpSpec, node: &str, outcome: &OpOutcome, call_id: i64, origin: &str) -> OpRecord {
    let entry_id = if spec.interval_ms > 0 {
        spec.operation_key()
    } else {
        format!("{}_last_0", spec.rsc_id)
    };
    let attrs = entry_attrs(spec, node, outcome, call_id, origin);
    let mut entries = vec![RscOpEntry {
        id: entry_id,
        attrs: attrs.clone(),
    }];
    let failed = is_failure(spec, outcome);
    if failed {
        entries.push(RscOpEntry {
            id: format!("{}_last_failure_0", spec.rsc_id),
            attrs,
        });
    }
    OpRecord {
        rsc_id: spec.rsc_id.clone(),
        class: spec.class.clone(),
        provider: spec.provider.clone(),
        kind: spec.kind.clone(),
        entries,
        drop_recurring: spec.action == "stop" && !failed,
    }
}

fn entry_attrs(
    spec: &OpSpec,
    node: &str,
    outcome: &OpOutcome,
    call_id: i64,
    origin: &str,
) -> Vec<(String, String)> {
    let magic = format!(
        "{}:{};{}",
        outcome.op_status, outcome.rc, spec.transition_key
    );
    let mut attrs: Vec<(&str, String)> = vec![
        ("operation_key", spec.operation_key()),
        ("operation", spec.action.clone()),
        ("crm-debug-origin", origin.to_string()),
        ("crm_feature_set", CRM_FEATURE_SET.to_string()),
        ("transition-key", spec.transition_key.clone()),
        ("transition-magic", magic),
        (
            "exit-reason",
            outcome.exit_reason.clone().unwrap_or_default(),
        ),
        ("on_node", node.to_string()),
        ("call-id", call_id.to_string()),
        ("rc-code", outcome.rc.to_string()),
        ("op-status", outcome.op_status.to_string()),
        ("interval", spec.interval_ms.to_string()),
        ("last-rc-change", outcome.started_epoch_s.to_string()),
        ("exec-time", outcome.exec_time_ms.to_string()),
        ("queue-time", outcome.queue_time_ms.to_string()),
        ("op-digest", params_digest(&spec.params)),
    ];
    if spec.interval_ms == 0 {
        // Pacemaker keeps `last-run` for one-shot operations; failure expiry reads either.
        attrs.insert(12, ("last-run", outcome.started_epoch_s.to_string()));
    }
    attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

impl OpRecord {
    /// The record as an `lrm_resource` element holding the new `lrm_rsc_op` entries.
    pub fn to_xml(&self) -> String {
        let mut doc = Document::new();
        let top = doc.document_node();
        let lr = self.resource_element(&mut doc);
        doc.append_child(top, lr);
        for e in &self.entries {
            let op = doc.create_element_with("lrm_rsc_op", &[("id", e.id.as_str())]);
            for (k, v) in &e.attrs {
                doc.set_attr(op, k, v);
            }
            doc.append_child(lr, op);
        }
        doc.node_to_compact_string(lr)
    }

    fn resource_element(&self, doc: &mut Document) -> NodeId {
        let lr = doc.create_element_with("lrm_resource", &[("id", self.rsc_id.as_str())]);
        self.set_agent(doc, lr);
        lr
    }

    fn set_agent(&self, doc: &mut Document, lr: NodeId) {
        doc.set_attr(lr, "class", &self.class);
        match &self.provider {
            Some(p) => {
                doc.set_attr(lr, "provider", p);
            }
            None => {
                doc.remove_attr(lr, "provider");
            }
        }
        doc.set_attr(lr, "type", &self.kind);
    }

    /// Writes the record into a CIB document: under the `node_state` of node `node_id`
    /// (created, with `uname`, if missing), its `lrm`, `lrm_resources` and this resource's
    /// `lrm_resource` (created if missing), replacing the entries with the same ids.
    pub fn apply_to(
        &self,
        doc: &mut Document,
        node_id: &str,
        uname: &str,
    ) -> Result<(), RecordError> {
        let root = doc.root().ok_or(RecordError::NoRoot)?;
        let status = child(doc, root, "status", None);
        let state = node_state(doc, status, node_id, uname);
        let lrm = child(doc, state, "lrm", Some(node_id));
        let lrs = child(doc, lrm, "lrm_resources", None);
        let existing = doc
            .children_named(lrs, "lrm_resource")
            .find(|&r| doc.attr(r, "id") == Some(self.rsc_id.as_str()));
        let lr = match existing {
            Some(r) => {
                self.set_agent(doc, r);
                r
            }
            None => {
                let r = self.resource_element(doc);
                doc.append_child(lrs, r);
                r
            }
        };
        if self.drop_recurring {
            // The last failure stays on record (until a cleanup) even when it was a
            // recurring monitor's.
            let failure_id = format!("{}_last_failure_0", self.rsc_id);
            let recurring: Vec<NodeId> = doc
                .children_named(lr, "lrm_rsc_op")
                .filter(|&o| {
                    doc.attr(o, "interval").is_some_and(|i| i.trim() != "0")
                        && doc.attr(o, "id") != Some(failure_id.as_str())
                })
                .collect();
            for o in recurring {
                doc.detach(o);
            }
        }
        for e in &self.entries {
            let found = doc
                .children_named(lr, "lrm_rsc_op")
                .find(|&o| doc.attr(o, "id") == Some(e.id.as_str()));
            let op = match found {
                Some(o) => {
                    doc.replace_attrs(o, Vec::new());
                    o
                }
                None => {
                    let o = doc.create_element("lrm_rsc_op");
                    doc.append_child(lr, o);
                    o
                }
            };
            doc.set_attr(op, "id", &e.id);
            for (k, v) in &e.attrs {
                doc.set_attr(op, k, v);
            }
        }
        Ok(())
    }

    /// `cib` with the record applied, numbered as a status update (`num_updates` + 1).
    pub fn apply_to_cib(&self, cib: &Cib, node_id: &str, uname: &str) -> Result<Cib, RecordError> {
        let mut doc = cib.document().clone();
        self.apply_to(&mut doc, node_id, uname)?;
        Ok(cib.successor(doc)?)
    }
}

fn child(doc: &mut Document, parent: NodeId, name: &str, id: Option<&str>) -> NodeId {
    if let Some(c) = doc.child_named(parent, name) {
        return c;
    }
    let c = match id {
        Some(id) => doc.create_element_with(name, &[("id", id)]),
        None => doc.create_element(name),
    };
    doc.append_child(parent, c);
    c
}

fn node_state(doc: &mut Document, status: NodeId, node_id: &str, uname: &str) -> NodeId {
    let by_id = doc
        .children_named(status, "node_state")
        .find(|&n| doc.attr(n, "id") == Some(node_id));
    let by_name = || {
        doc.children_named(status, "node_state")
            .find(|&n| doc.attr(n, "id").is_none() && doc.attr(n, "uname") == Some(uname))
    };
    if let Some(n) = by_id.or_else(by_name) {
        return n;
    }
    let n = doc.create_element_with("node_state", &[("id", node_id), ("uname", uname)]);
    doc.append_child(status, n);
    n
}

/// Records that node `node_id` (`uname`) was fenced, as Pacemaker's DC does: its
/// `node_state` shows it down as expected (`in_ccm="false" crmd="offline" join="down"
/// expected="down"`), and its resource history and transient attributes are erased —
/// nothing runs there any more, and it starts afresh when it rejoins.
pub fn fenced(doc: &mut Document, node_id: &str, uname: &str) -> Result<(), RecordError> {
    let root = doc.root().ok_or(RecordError::NoRoot)?;
    let status = child(doc, root, "status", None);
    let state = node_state(doc, status, node_id, uname);
    for (k, v) in [
        ("in_ccm", "false"),
        ("crmd", "offline"),
        ("join", "down"),
        ("expected", "down"),
    ] {
        doc.set_attr(state, k, v);
    }
    let gone: Vec<NodeId> = doc
        .elements(state)
        .filter(|&c| doc.is(c, "lrm") || doc.is(c, "transient_attributes"))
        .collect();
    for c in gone {
        doc.detach(c);
    }
    Ok(())
}
