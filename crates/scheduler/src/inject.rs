//! What-if changes applied to a CIB's status before scheduling, as crm_simulate's `-u`,
//! `-d`, `-f` (node up, down, failed) and `-i` (inject an operation result) do.

use tandem_xml::{Document, NodeId};

/// One injected change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Injection {
    NodeUp(String),
    NodeDown(String),
    NodeFail(String),
    /// `rsc_task_interval@node=rc[:status]`.
    Op {
        rsc: String,
        task: String,
        interval_ms: u64,
        node: String,
        rc: i32,
        status: i32,
    },
}

/// A malformed `-i` specification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot read operation {spec:?}: expected RSC_TASK_INTERVAL@NODE=RC[:STATUS], e.g. web_monitor_10000@node1=7"
)]
pub struct SpecError {
    pub spec: String,
}

impl Injection {
    /// Parses an `-i` operation specification.
    pub fn parse_op(spec: &str) -> Result<Injection, SpecError> {
        let err = || SpecError {
            spec: spec.to_string(),
        };
        let (key, result) = spec.split_once('=').ok_or_else(err)?;
        let (key, node) = key.split_once('@').ok_or_else(err)?;
        let (rc, status) = match result.split_once(':') {
            Some((r, s)) => (r, s.parse().map_err(|_| err())?),
            None => (result, 0),
        };
        let rc = rc.trim().parse().map_err(|_| err())?;
        let (rest, interval) = key.rsplit_once('_').ok_or_else(err)?;
        let interval_ms = interval.parse().map_err(|_| err())?;
        let (rsc, task) = rest.rsplit_once('_').ok_or_else(err)?;
        if rsc.is_empty() || task.is_empty() || node.is_empty() {
            return Err(err());
        }
        Ok(Injection::Op {
            rsc: rsc.to_string(),
            task: task.to_string(),
            interval_ms,
            node: node.to_string(),
            rc,
            status,
        })
    }
}

fn child_or_create(doc: &mut Document, parent: NodeId, name: &str, id: &str) -> NodeId {
    if let Some(c) = doc.child_named(parent, name) {
        return c;
    }
    let c = doc.create_element_with(name, &[("id", id)]);
    doc.append_child(parent, c);
    c
}

fn node_id_for(doc: &Document, uname: &str) -> String {
    let root = doc.root().expect("a CIB has a root");
    doc.descend(root, &["configuration", "nodes"])
        .and_then(|nodes| {
            doc.children_named(nodes, "node")
                .find(|&n| doc.attr(n, "uname") == Some(uname))
                .and_then(|n| doc.attr(n, "id").map(str::to_string))
        })
        .unwrap_or_else(|| uname.to_string())
}

fn node_state(doc: &mut Document, uname: &str) -> NodeId {
    let root = doc.root().expect("a CIB has a root");
    let status = child_or_create(doc, root, "status", "status");
    let existing = doc
        .children_named(status, "node_state")
        .find(|&n| doc.attr(n, "uname") == Some(uname));
    if let Some(n) = existing {
        return n;
    }
    let id = node_id_for(doc, uname);
    let n = doc.create_element_with("node_state", &[("id", &id), ("uname", uname)]);
    doc.append_child(status, n);
    n
}

fn set_all(doc: &mut Document, n: NodeId, attrs: &[(&str, &str)]) {
    for (k, v) in attrs {
        doc.set_attr(n, k, v);
    }
}

/// Applies one change to the document.
pub fn apply(doc: &mut Document, inj: &Injection) {
    match inj {
        Injection::NodeUp(name) => {
            let n = node_state(doc, name);
            set_all(
                doc,
                n,
                &[
                    ("in_ccm", "true"),
                    ("crmd", "online"),
                    ("join", "member"),
                    ("expected", "member"),
                ],
            );
        }
        Injection::NodeDown(name) => {
            let n = node_state(doc, name);
            set_all(
                doc,
                n,
                &[
                    ("in_ccm", "false"),
                    ("crmd", "offline"),
                    ("join", "down"),
                    ("expected", "down"),
                ],
            );
        }
        Injection::NodeFail(name) => {
            let n = node_state(doc, name);
            set_all(
                doc,
                n,
                &[
                    ("in_ccm", "false"),
                    ("crmd", "offline"),
                    ("join", "down"),
                    ("expected", "member"),
                ],
            );
        }
        Injection::Op {
            rsc,
            task,
            interval_ms,
            node,
            rc,
            status,
        } => {
            inject_op(doc, rsc, task, *interval_ms, node, *rc, *status);
        }
    }
}

fn max_call_id(doc: &Document, lrm_resource: NodeId) -> i64 {
    doc.children_named(lrm_resource, "lrm_rsc_op")
        .filter_map(|o| doc.attr(o, "call-id").and_then(|c| c.parse::<i64>().ok()))
        .max()
        .unwrap_or(0)
}

fn inject_op(
    doc: &mut Document,
    rsc: &str,
    task: &str,
    interval_ms: u64,
    node: &str,
    rc: i32,
    status: i32,
) {
    let ns = node_state(doc, node);
    let lrm = child_or_create(doc, ns, "lrm", node);
    let lrs = child_or_create(doc, lrm, "lrm_resources", "lrm_resources");
    let existing = doc
        .children_named(lrs, "lrm_resource")
        .find(|&r| doc.attr(r, "id") == Some(rsc));
    let lr = match existing {
        Some(r) => r,
        None => {
            let r = doc.create_element_with("lrm_resource", &[("id", rsc)]);
            doc.append_child(lrs, r);
            r
        }
    };
    let call = (max_call_id(doc, lr) + 1).to_string();
    let probe = task == "monitor" && interval_ms == 0;
    let target = if probe { 7 } else { 0 };
    let key = format!("0:0:{target}:00000000-0000-0000-0000-000000000000");
    let magic = format!("{status}:{rc};{key}");
    let op_id = if interval_ms > 0 {
        format!("{rsc}_{task}_{interval_ms}")
    } else {
        format!("{rsc}_last_0")
    };
    let existing_op = doc
        .children_named(lr, "lrm_rsc_op")
        .find(|&o| doc.attr(o, "id") == Some(op_id.as_str()));
    let op = match existing_op {
        Some(o) => o,
        None => {
            let o = doc.create_element_with("lrm_rsc_op", &[("id", &op_id)]);
            doc.append_child(lr, o);
            o
        }
    };
    let interval = interval_ms.to_string();
    set_all(
        doc,
        op,
        &[
            ("operation_key", &format!("{rsc}_{task}_{interval_ms}")),
            ("operation", task),
            ("transition-key", &key),
            ("transition-magic", &magic),
            ("call-id", &call),
            ("rc-code", &rc.to_string()),
            ("op-status", &status.to_string()),
            ("interval", &interval),
            ("on_node", node),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_op_specs() {
        assert_eq!(
            Injection::parse_op("web_server_monitor_10000@node1=7").unwrap(),
            Injection::Op {
                rsc: "web_server".into(),
                task: "monitor".into(),
                interval_ms: 10_000,
                node: "node1".into(),
                rc: 7,
                status: 0
            }
        );
        assert!(Injection::parse_op("nonsense").is_err());
        assert!(Injection::parse_op("a_start_x@n=0").is_err());
    }
}
