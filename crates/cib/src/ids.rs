//! The index of every `id` in a document, for `id-ref` resolution and duplicate detection.

use std::collections::BTreeMap;

use tandem_xml::{Document, NodeId};

use crate::problem::Problems;

/// Every element with an `id` attribute, by id (the first in document order wins; later ones
/// are recorded as duplicates).
#[derive(Debug, Default)]
pub struct IdIndex {
    pub by_id: BTreeMap<String, NodeId>,
    /// (id, the later element carrying it) for every repeated id.
    pub duplicates: Vec<(String, NodeId)>,
}

/// How many `id-ref` hops are followed before giving up (a reference loop).
pub const MAX_REF_HOPS: usize = 16;

impl IdIndex {
    /// Indexes every element below the root, except the `status` section (whose ids repeat by
    /// design: every node has an `lrm_resource` of the same id).
    pub fn build(doc: &Document) -> IdIndex {
        let mut index = IdIndex::default();
        let Some(root) = doc.root() else { return index };
        let status = doc.child_named(root, "status");
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if Some(n) == status {
                continue;
            }
            // These elements' `id` names another object rather than defining one; a `node`'s
            // id is the cluster layer's node id, a separate name space (a remote node shares
            // its id with the connection resource that runs it).
            let is_reference = matches!(doc.name(n), "resource_ref" | "obj_ref" | "role" | "node");
            if let Some(id) = doc.attr(n, "id").filter(|_| !is_reference) {
                if index.by_id.contains_key(id) {
                    index.duplicates.push((id.to_string(), n));
                } else {
                    index.by_id.insert(id.to_string(), n);
                }
            }
            let kids: Vec<NodeId> = doc.elements(n).collect();
            stack.extend(kids.into_iter().rev());
        }
        index
    }

    pub fn get(&self, id: &str) -> Option<NodeId> {
        self.by_id.get(id).copied()
    }

    /// If `node` carries `id-ref`, the element it refers to (which must be called
    /// `expected`); otherwise `node` itself. Broken references are reported and `node` is
    /// returned, so the caller sees an empty element rather than failing.
    pub fn follow_ref(
        &self,
        doc: &Document,
        node: NodeId,
        expected: &str,
        problems: &mut Problems,
    ) -> NodeId {
        let mut at = node;
        for _ in 0..MAX_REF_HOPS {
            let Some(target) = doc.attr(at, "id-ref") else {
                return at;
            };
            let object = format!(
                "{} {}",
                doc.name(node),
                doc.attr(node, "id").unwrap_or(target)
            );
            match self.get(target) {
                Some(t) if doc.name(t) == expected || expected.is_empty() => at = t,
                Some(t) => {
                    problems.error(
                        object,
                        format!(
                            "id-ref {target:?} refers to a <{}>, expected a <{expected}>",
                            doc.name(t)
                        ),
                    );
                    return node;
                }
                None => {
                    problems.error(
                        object,
                        format!("id-ref {target:?} refers to nothing: no element has that id"),
                    );
                    return node;
                }
            }
        }
        problems.error(
            format!("{} {}", doc.name(node), doc.attr(node, "id").unwrap_or("")),
            "id-ref chain loops",
        );
        node
    }
}
