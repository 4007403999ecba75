//! Configured nodes (`<nodes>`).

use tandem_xml::{Document, NodeId};

use crate::ids::IdIndex;
use crate::nvset::{NvSet, unpack_nvsets};
use crate::problem::Problems;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Member,
    Remote,
    Ping,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeConfig {
    pub id: String,
    pub uname: String,
    pub kind: NodeKind,
    pub description: Option<String>,
    pub instance: Vec<NvSet>,
    pub utilization: Vec<NvSet>,
}

pub fn unpack_node(
    doc: &Document,
    n: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
) -> NodeConfig {
    let id = doc.attr(n, "id").unwrap_or("").to_string();
    let object = format!("node {id}");
    let kind = match doc.attr(n, "type") {
        None | Some("member") | Some("normal") => NodeKind::Member,
        Some("remote") => NodeKind::Remote,
        Some("ping") => NodeKind::Ping,
        Some(other) => {
            problems.error(
                &object,
                format!("type {other:?} is not member, remote or ping"),
            );
            NodeKind::Member
        }
    };
    let uname = doc.attr(n, "uname").map(str::to_string).unwrap_or_else(|| {
        problems.error(&object, "no `uname` (node name) given");
        id.clone()
    });
    NodeConfig {
        id,
        uname,
        kind,
        description: doc.attr(n, "description").map(str::to_string),
        instance: unpack_nvsets(doc, n, "instance_attributes", ids, problems),
        utilization: unpack_nvsets(doc, n, "utilization", ids, problems),
    }
}
