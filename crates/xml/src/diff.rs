//! Differences between two documents as a [`Patch`], and applying a patch.
//!
//! A patch is a list of operations applied in order; each names its target by a [`Path`]
//! valid at the moment it is applied. The diff emits, for every parent whose children
//! changed, first the deletions (from the last position down, so earlier positions stay
//! valid), then creations and moves in ascending final position (so that when position `i`
//! is filled, positions before it are already final), then attribute changes and the same
//! work for each surviving child. Children are matched by element name and `id` attribute
//! (by name and order where there is no `id`), comments and text by their content.
//!
//! Applying is all or nothing: every operation records how to undo itself, and a failure
//! rolls back what was done before returning the error.
//!
//! The XML form (our own, close in spirit to Pacemaker's v2 patchsets):
//! ```xml
//! <patch format="tandem-1">
//!   <delete parent="/cib/configuration/resources" position="3"/>
//!   <create parent="/cib/configuration/resources" position="2"><primitive id="vip"/></create>
//!   <move parent="/cib/configuration/constraints" from="4" to="1"/>
//!   <modify path="/cib"><attr name="epoch" value="7"/></modify>
//! </patch>
//! ```
//! `modify` carries the element's complete attribute list in order.

use std::collections::BTreeMap;

use crate::dom::{Attr, Document, NodeId, NodeKind};
use crate::error::PatchError;
use crate::path::{Path, Step};

/// The value of the `format` attribute of a patch's root element.
pub const PATCH_FORMAT: &str = "tandem-1";

/// One operation of a [`Patch`].
#[derive(Clone, Debug)]
pub enum Op {
    /// Remove the child at `position` of `parent`.
    Delete { parent: Path, position: usize },
    /// Insert a copy of `node`'s first top-level node as child `position` of `parent`.
    Create {
        parent: Path,
        position: usize,
        node: Document,
    },
    /// Move the child at `from` to `to` (positions counted before the move, then after).
    Move {
        parent: Path,
        from: usize,
        to: usize,
    },
    /// Replace the attribute list of the element at `path`.
    Modify {
        path: Path,
        attrs: Vec<(String, String)>,
    },
}

/// An ordered list of operations turning one document into another.
#[derive(Clone, Debug, Default)]
pub struct Patch {
    pub ops: Vec<Op>,
}

impl Document {
    /// The patch that turns `self` into `target`.
    pub fn diff(&self, target: &Document) -> Patch {
        let mut d = Differ {
            a: self,
            b: target,
            ops: Vec::new(),
        };
        d.children(
            self.document_node(),
            target.document_node(),
            &Path::default(),
        );
        Patch { ops: d.ops }
    }
}

struct Differ<'a> {
    a: &'a Document,
    b: &'a Document,
    ops: Vec<Op>,
}

/// What identifies a child across the two documents: kind, name, id or content, and the
/// occurrence number among children with the same key.
type Key<'d> = (u8, &'d str, &'d str, usize);

fn keys<'d>(doc: &'d Document, kids: &[NodeId]) -> Vec<Key<'d>> {
    let mut seen: BTreeMap<(u8, &str, &str), usize> = BTreeMap::new();
    kids.iter()
        .map(|&k| {
            let base: (u8, &str, &str) = match doc.kind(k) {
                NodeKind::Element { .. } => (0, doc.name(k), doc.attr(k, "id").unwrap_or("\u{0}")),
                NodeKind::Text(t) => (1, "", t),
                NodeKind::CData(t) => (2, "", t),
                NodeKind::Comment(t) => (3, "", t),
                NodeKind::Pi { target, content } => (4, target, content),
                NodeKind::EntityRef(n) => (5, n, ""),
                NodeKind::Decl(r) => (6, "", r),
                NodeKind::DocType(r) => (7, "", r),
                NodeKind::Document => (8, "", ""),
            };
            let n = seen.entry(base).or_insert(0);
            *n += 1;
            (base.0, base.1, base.2, *n)
        })
        .collect()
}

impl Differ<'_> {
    fn children(&mut self, a_parent: NodeId, b_parent: NodeId, path: &Path) {
        let a_kids: Vec<NodeId> = self.a.children(a_parent).collect();
        let b_kids: Vec<NodeId> = self.b.children(b_parent).collect();
        let a_keys = keys(self.a, &a_kids);
        let b_keys = keys(self.b, &b_kids);
        let a_pos: BTreeMap<Key<'_>, usize> =
            a_keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        let matched: Vec<Option<usize>> = b_keys.iter().map(|k| a_pos.get(k).copied()).collect();
        let mut a_kept = vec![false; a_kids.len()];
        for &j in matched.iter().flatten() {
            a_kept[j] = true;
        }

        for j in (0..a_kids.len()).rev() {
            if !a_kept[j] {
                self.ops.push(Op::Delete {
                    parent: path.clone(),
                    position: j,
                });
            }
        }
        self.place(&a_kept, &matched, &b_kids, path);

        for (i, m) in matched.iter().enumerate() {
            let (Some(j), b_kid) = (*m, b_kids[i]) else {
                continue;
            };
            if !self.b.is_element(b_kid) {
                continue;
            }
            let child_path = Path::of(self.b, b_kid);
            if self.a.attrs(a_kids[j]).ne(self.b.attrs(b_kid)) {
                let attrs = self
                    .b
                    .attrs(b_kid)
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                self.ops.push(Op::Modify {
                    path: child_path.clone(),
                    attrs,
                });
            }
            self.children(a_kids[j], b_kid, &child_path);
        }
    }

    /// Emits creations and moves so that the surviving and new children end in `b`'s order.
    fn place(
        &mut self,
        a_kept: &[bool],
        matched: &[Option<usize>],
        b_kids: &[NodeId],
        path: &Path,
    ) {
        let in_order = matched
            .iter()
            .flatten()
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0] < w[1]);
        if in_order {
            // Survivors keep their relative order: inserting the new children at their final
            // positions, lowest first, is enough.
            for (i, m) in matched.iter().enumerate() {
                if m.is_none() {
                    self.ops.push(Op::Create {
                        parent: path.clone(),
                        position: i,
                        node: self.b.extract(b_kids[i]),
                    });
                }
            }
            return;
        }
        // Otherwise simulate the child list to know where each survivor is when its turn comes.
        let mut current: Vec<Option<usize>> = a_kept
            .iter()
            .enumerate()
            .filter(|(_, k)| **k)
            .map(|(j, _)| Some(j))
            .collect();
        for (i, m) in matched.iter().enumerate() {
            match m {
                None => {
                    self.ops.push(Op::Create {
                        parent: path.clone(),
                        position: i,
                        node: self.b.extract(b_kids[i]),
                    });
                    current.insert(i, None);
                }
                Some(j) => {
                    let k = current
                        .iter()
                        .position(|s| *s == Some(*j))
                        .expect("survivor is in the list");
                    if k != i {
                        self.ops.push(Op::Move {
                            parent: path.clone(),
                            from: k,
                            to: i,
                        });
                        let s = current.remove(k);
                        current.insert(i, s);
                    }
                }
            }
        }
    }
}

/// How to undo one applied operation.
enum Undo {
    Reinsert {
        parent: NodeId,
        position: usize,
        node: NodeId,
    },
    Detach(NodeId),
    MoveBack {
        parent: NodeId,
        now_at: usize,
        was_at: usize,
    },
    Attrs {
        node: NodeId,
        old: Vec<Attr>,
    },
}

impl Patch {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Applies every operation to `doc`, or none of them.
    pub fn apply(&self, doc: &mut Document) -> Result<(), PatchError> {
        let mut undo = Vec::with_capacity(self.ops.len());
        for (step, op) in self.ops.iter().enumerate() {
            if let Err(e) = apply_one(doc, op, step, &mut undo) {
                for u in undo.into_iter().rev() {
                    rollback(doc, u);
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

fn resolve(doc: &Document, path: &Path, step: usize) -> Result<NodeId, PatchError> {
    path.resolve(doc).ok_or_else(|| PatchError::NoSuchPath {
        step,
        path: path.to_string(),
    })
}

fn child_at(
    doc: &Document,
    parent: NodeId,
    position: usize,
    path: &Path,
    step: usize,
) -> Result<NodeId, PatchError> {
    doc.nth_child(parent, position)
        .ok_or_else(|| PatchError::NoSuchPosition {
            step,
            path: path.to_string(),
            position,
        })
}

fn apply_one(
    doc: &mut Document,
    op: &Op,
    step: usize,
    undo: &mut Vec<Undo>,
) -> Result<(), PatchError> {
    match op {
        Op::Delete { parent, position } => {
            let p = resolve(doc, parent, step)?;
            let node = child_at(doc, p, *position, parent, step)?;
            doc.detach(node);
            undo.push(Undo::Reinsert {
                parent: p,
                position: *position,
                node,
            });
        }
        Op::Create {
            parent,
            position,
            node,
        } => {
            let p = resolve(doc, parent, step)?;
            let src = node.first_child(node.document_node()).ok_or_else(|| {
                PatchError::Malformed(format!("step {step}: `create` has nothing to create"))
            })?;
            let copy = doc.import(node, src);
            if !doc.insert_at(p, *position, copy) {
                return Err(PatchError::NoSuchPosition {
                    step,
                    path: parent.to_string(),
                    position: *position,
                });
            }
            undo.push(Undo::Detach(copy));
        }
        Op::Move { parent, from, to } => {
            let p = resolve(doc, parent, step)?;
            let node = child_at(doc, p, *from, parent, step)?;
            doc.detach(node);
            if !doc.insert_at(p, *to, node) {
                let restored = doc.insert_at(p, *from, node);
                debug_assert!(restored);
                return Err(PatchError::NoSuchPosition {
                    step,
                    path: parent.to_string(),
                    position: *to,
                });
            }
            undo.push(Undo::MoveBack {
                parent: p,
                now_at: *to,
                was_at: *from,
            });
        }
        Op::Modify { path, attrs } => {
            let node = resolve(doc, path, step)?;
            if !doc.is_element(node) {
                return Err(PatchError::NotAnElement {
                    step,
                    path: path.to_string(),
                });
            }
            let new = attrs
                .iter()
                .map(|(k, v)| Attr {
                    name: doc.intern(k),
                    value: v.as_str().into(),
                })
                .collect();
            let old = doc.replace_attrs(node, new);
            undo.push(Undo::Attrs { node, old });
        }
    }
    Ok(())
}

fn rollback(doc: &mut Document, u: Undo) {
    match u {
        Undo::Reinsert {
            parent,
            position,
            node,
        } => {
            let ok = doc.insert_at(parent, position, node);
            debug_assert!(ok, "undo of a delete must fit where the node was");
        }
        Undo::Detach(node) => doc.detach(node),
        Undo::MoveBack {
            parent,
            now_at,
            was_at,
        } => {
            if let Some(node) = doc.nth_child(parent, now_at) {
                doc.detach(node);
                let ok = doc.insert_at(parent, was_at, node);
                debug_assert!(ok);
            }
        }
        Undo::Attrs { node, old } => {
            doc.replace_attrs(node, old);
        }
    }
}

// ---- XML form ------------------------------------------------------------------------------

impl Patch {
    /// The patch as an XML document (see the module documentation).
    pub fn to_document(&self) -> Document {
        let mut out = Document::with_root("patch");
        let root = out.root().expect("with_root has a root");
        out.set_attr(root, "format", PATCH_FORMAT);
        for op in &self.ops {
            let el = match op {
                Op::Delete { parent, position } => out.create_element_with(
                    "delete",
                    &[
                        ("parent", &parent.to_string()),
                        ("position", &position.to_string()),
                    ],
                ),
                Op::Create {
                    parent,
                    position,
                    node,
                } => {
                    let el = out.create_element_with(
                        "create",
                        &[
                            ("parent", &parent.to_string()),
                            ("position", &position.to_string()),
                        ],
                    );
                    if let Some(src) = node.first_child(node.document_node()) {
                        match node.kind(src) {
                            NodeKind::Text(t) => {
                                out.set_attr(el, "text", t);
                            }
                            NodeKind::CData(t) => {
                                out.set_attr(el, "cdata", t);
                            }
                            NodeKind::EntityRef(n) => {
                                out.set_attr(el, "entity", n);
                            }
                            _ => {
                                let copy = out.import(node, src);
                                out.append_child(el, copy);
                            }
                        }
                    }
                    el
                }
                Op::Move { parent, from, to } => out.create_element_with(
                    "move",
                    &[
                        ("parent", &parent.to_string()),
                        ("from", &from.to_string()),
                        ("to", &to.to_string()),
                    ],
                ),
                Op::Modify { path, attrs } => {
                    let el = out.create_element_with("modify", &[("path", &path.to_string())]);
                    for (k, v) in attrs {
                        let a = out.create_element_with("attr", &[("name", k), ("value", v)]);
                        out.append_child(el, a);
                    }
                    el
                }
            };
            out.append_child(root, el);
        }
        out
    }

    /// Reads a patch from its XML form.
    pub fn from_document(doc: &Document) -> Result<Patch, PatchError> {
        let bad = |m: String| PatchError::Malformed(m);
        let root = doc.root().ok_or_else(|| bad("no root element".into()))?;
        if doc.name(root) != "patch" || doc.attr(root, "format") != Some(PATCH_FORMAT) {
            return Err(bad(format!(
                "expected <patch format=\"{PATCH_FORMAT}\">, found <{}>",
                doc.name(root)
            )));
        }
        let mut ops = Vec::new();
        for (i, el) in doc.elements(root).enumerate() {
            let attr = |name: &str| {
                doc.attr(el, name).ok_or_else(|| {
                    bad(format!(
                        "operation {i} (<{}>) has no `{name}`",
                        doc.name(el)
                    ))
                })
            };
            let number = |name: &str| -> Result<usize, PatchError> {
                attr(name)?
                    .parse()
                    .map_err(|_| bad(format!("operation {i}: `{name}` is not a number")))
            };
            let path = |name: &str| -> Result<Path, PatchError> {
                Path::parse(attr(name)?).map_err(|e| bad(format!("operation {i}: {e}")))
            };
            let op = match doc.name(el) {
                "delete" => Op::Delete {
                    parent: path("parent")?,
                    position: number("position")?,
                },
                "move" => Op::Move {
                    parent: path("parent")?,
                    from: number("from")?,
                    to: number("to")?,
                },
                "modify" => Op::Modify {
                    path: path("path")?,
                    attrs: doc
                        .children_named(el, "attr")
                        .map(|a| match (doc.attr(a, "name"), doc.attr(a, "value")) {
                            (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
                            _ => Err(bad(format!(
                                "operation {i}: <attr> needs `name` and `value`"
                            ))),
                        })
                        .collect::<Result<_, _>>()?,
                },
                "create" => {
                    let mut node = Document::new();
                    let kind = if let Some(t) = doc.attr(el, "text") {
                        Some(NodeKind::Text(t.into()))
                    } else if let Some(t) = doc.attr(el, "cdata") {
                        Some(NodeKind::CData(t.into()))
                    } else {
                        doc.attr(el, "entity")
                            .map(|n| NodeKind::EntityRef(n.into()))
                    };
                    let created = match kind {
                        Some(k) => node.create(k),
                        None => {
                            let src = doc
                                .first_child(el)
                                .ok_or_else(|| bad(format!("operation {i}: <create> is empty")))?;
                            node.import(doc, src)
                        }
                    };
                    node.append_child(node.document_node(), created);
                    Op::Create {
                        parent: path("parent")?,
                        position: number("position")?,
                        node,
                    }
                }
                other => return Err(bad(format!("operation {i}: unknown operation <{other}>"))),
            };
            ops.push(op);
        }
        Ok(Patch { ops })
    }

    /// Number of operations of each kind: (deletes, creates, moves, modifies).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for op in &self.ops {
            match op {
                Op::Delete { .. } => c.0 += 1,
                Op::Create { .. } => c.1 += 1,
                Op::Move { .. } => c.2 += 1,
                Op::Modify { .. } => c.3 += 1,
            }
        }
        c
    }
}

/// A step naming element `name` by `id` (for building paths by hand).
pub fn id_step(name: &str, id: &str) -> Step {
    Step::Id {
        name: name.to_string(),
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::C14nOptions;

    fn check(a: &str, b: &str) -> Patch {
        let da = Document::parse(a).unwrap();
        let db = Document::parse(b).unwrap();
        let patch = da.diff(&db);
        let mut applied = da.clone();
        patch.apply(&mut applied).unwrap();
        assert_eq!(
            applied.c14n(C14nOptions::COMPARE),
            db.c14n(C14nOptions::COMPARE)
        );
        assert_eq!(
            applied.to_pretty_string(),
            db.to_pretty_string(),
            "attribute order too"
        );
        // through the XML form
        let text = patch.to_document().to_pretty_string();
        let reread = Patch::from_document(&Document::parse(&text).unwrap()).unwrap();
        let mut applied2 = da.clone();
        reread.apply(&mut applied2).unwrap();
        assert_eq!(applied2.to_pretty_string(), db.to_pretty_string());
        patch
    }

    #[test]
    fn identical_documents_give_an_empty_patch() {
        assert!(
            check(
                "<a x=\"1\"><b id=\"1\"/></a>",
                "<a x=\"1\">\n<b id=\"1\"/></a>"
            )
            .is_empty()
        );
    }

    #[test]
    fn attribute_add_change_remove_and_order() {
        let p = check("<a x=\"1\" y=\"2\"/>", "<a y=\"2\" x=\"1\" z=\"3\"/>");
        assert_eq!(p.counts(), (0, 0, 0, 1));
    }

    #[test]
    fn children_created_deleted_and_moved() {
        let p = check(
            "<r><p id=\"a\"/><p id=\"b\"/><p id=\"c\"/><!--x--><q/></r>",
            "<r><p id=\"c\"/><p id=\"new\"><i/></p><p id=\"a\" v=\"1\"/><q/><!--y--></r>",
        );
        let (del, create, _moves, modify) = p.counts();
        assert_eq!((del, create, modify), (2, 2, 1));
    }

    #[test]
    fn text_and_nested_changes() {
        check(
            "<r><a>one</a><b><c id=\"1\"><d/></c></b></r>",
            "<r><a>two</a><b><c id=\"1\"><d k=\"v\"/><e/></c></b></r>",
        );
    }

    #[test]
    fn root_replacement() {
        check("<a/>", "<b><c/></b>");
    }

    #[test]
    fn failed_patch_leaves_document_unchanged() {
        let mut doc = Document::parse("<r><a id=\"1\"/><b/></r>").unwrap();
        let before = doc.to_pretty_string();
        let patch = Patch {
            ops: vec![
                Op::Delete {
                    parent: Path::parse("/r").unwrap(),
                    position: 0,
                },
                Op::Modify {
                    path: Path::parse("/r/b").unwrap(),
                    attrs: vec![("k".into(), "v".into())],
                },
                Op::Move {
                    parent: Path::parse("/r").unwrap(),
                    from: 0,
                    to: 0,
                },
                Op::Delete {
                    parent: Path::parse("/r/zzz").unwrap(),
                    position: 0,
                },
            ],
        };
        let err = patch.apply(&mut doc).unwrap_err();
        assert_eq!(
            err,
            PatchError::NoSuchPath {
                step: 3,
                path: "/r/zzz".into()
            }
        );
        assert_eq!(doc.to_pretty_string(), before);
    }

    #[test]
    fn malformed_patches_are_refused_with_reasons() {
        let e = Patch::from_document(
            &Document::parse("<patch format=\"tandem-1\"><delete parent=\"/r\"/></patch>").unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed patch: operation 0 (<delete>) has no `position`"
        );
        let e = Patch::from_document(&Document::parse("<diff/>").unwrap()).unwrap_err();
        assert!(e.to_string().contains("expected <patch"), "{e}");
    }
}
