//! The arena document: nodes live in one `Vec`, addressed by [`NodeId`], linked to their
//! parent and siblings. Element and attribute names are interned (a CIB has a few hundred
//! distinct names and hundreds of thousands of uses).
//!
//! Detaching a node leaves it in the arena (its id stays valid, so it can be re-inserted,
//! which the patch undo log relies on); [`Document::compacted`] copies the live tree into a
//! fresh arena when a long-lived document has accumulated garbage.

use indexmap::IndexSet;

/// A node in a [`Document`]. Only meaningful for the document that created it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct NodeId(u32);

impl NodeId {
    /// The index of this node in its arena (stable for the document's lifetime).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An interned element or attribute name.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Name(u32);

/// One attribute of an element, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    pub name: Name,
    pub value: Box<str>,
}

/// What a node is. Text is stored unescaped; the writers escape it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// The document itself: parent of the root element and of top-level comments.
    Document,
    Element {
        name: Name,
        attrs: Vec<Attr>,
    },
    Text(Box<str>),
    CData(Box<str>),
    Comment(Box<str>),
    /// A processing instruction: `<?target content?>`.
    Pi {
        target: Box<str>,
        content: Box<str>,
    },
    /// A reference to an entity that is neither predefined nor a character reference,
    /// kept by name so that it is written back as it came.
    EntityRef(Box<str>),
    /// The raw text of an `<?xml ...?>` declaration (without the delimiters).
    Decl(Box<str>),
    /// The raw text of a `<!DOCTYPE ...>` (without the delimiters).
    DocType(Box<str>),
}

#[derive(Clone, Debug)]
struct NodeData {
    kind: NodeKind,
    parent: Option<NodeId>,
    first_child: Option<NodeId>,
    last_child: Option<NodeId>,
    prev: Option<NodeId>,
    next: Option<NodeId>,
}

/// An XML document held as an arena of nodes.
#[derive(Clone, Debug)]
pub struct Document {
    nodes: Vec<NodeData>,
    names: IndexSet<Box<str>>,
}

/// The most nodes one document may hold. A 20 MB CIB has about 70,000; this bound keeps a
/// hostile input from exhausting memory and keeps `NodeId` at 32 bits.
pub const MAX_NODES: usize = 50_000_000;

impl Default for Document {
    fn default() -> Self {
        Self::new()
    }
}

impl Document {
    /// An empty document (only the document node).
    pub fn new() -> Self {
        let mut doc = Document {
            nodes: Vec::new(),
            names: IndexSet::new(),
        };
        doc.push(NodeKind::Document);
        doc
    }

    /// A document whose root element is `name`, with no attributes or children.
    pub fn with_root(name: &str) -> Self {
        let mut doc = Self::new();
        let root = doc.create_element(name);
        doc.append_child(doc.document_node(), root);
        doc
    }

    /// The document node (parent of the root element).
    pub fn document_node(&self) -> NodeId {
        NodeId(0)
    }

    /// The root element, if the document has one.
    pub fn root(&self) -> Option<NodeId> {
        self.children(self.document_node())
            .find(|&n| self.is_element(n))
    }

    /// Number of nodes in the arena (including detached ones).
    pub fn arena_len(&self) -> usize {
        self.nodes.len()
    }

    // ---- names -------------------------------------------------------------------------

    /// Interns `name` and returns its handle.
    pub fn intern(&mut self, name: &str) -> Name {
        if let Some(i) = self.names.get_index_of(name) {
            return Name(i as u32);
        }
        let (i, _) = self.names.insert_full(name.into());
        Name(i as u32)
    }

    /// The handle of `name` if some node uses it.
    pub fn lookup_name(&self, name: &str) -> Option<Name> {
        self.names.get_index_of(name).map(|i| Name(i as u32))
    }

    /// The text of an interned name.
    pub fn name_str(&self, name: Name) -> &str {
        self.names
            .get_index(name.0 as usize)
            .map(|s| &**s)
            .unwrap_or("")
    }

    // ---- reading -----------------------------------------------------------------------

    pub fn kind(&self, id: NodeId) -> &NodeKind {
        &self.nodes[id.index()].kind
    }

    pub(crate) fn kind_mut(&mut self, id: NodeId) -> &mut NodeKind {
        &mut self.nodes[id.index()].kind
    }

    pub fn is_element(&self, id: NodeId) -> bool {
        matches!(self.kind(id), NodeKind::Element { .. })
    }

    /// The element's name, or `""` for any other kind of node.
    pub fn name(&self, id: NodeId) -> &str {
        match self.kind(id) {
            NodeKind::Element { name, .. } => self.name_str(*name),
            _ => "",
        }
    }

    /// True if `id` is an element called `name`.
    pub fn is(&self, id: NodeId, name: &str) -> bool {
        self.name(id) == name && self.is_element(id)
    }

    /// The value of attribute `name` on element `id`.
    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        // Comparing the few short names of one element is cheaper than hashing `name` to
        // find its handle; loading a large CIB calls this about a million times.
        self.attr_list(id)
            .iter()
            .find(|a| self.name_str(a.name) == name)
            .map(|a| &*a.value)
    }

    /// The attributes of element `id` in document order (empty for other nodes).
    pub fn attr_list(&self, id: NodeId) -> &[Attr] {
        match self.kind(id) {
            NodeKind::Element { attrs, .. } => attrs,
            _ => &[],
        }
    }

    /// The attributes of element `id` as `(name, value)` pairs in document order.
    pub fn attrs(&self, id: NodeId) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.attr_list(id)
            .iter()
            .map(|a| (self.name_str(a.name), &*a.value))
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id.index()].parent
    }

    pub fn first_child(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id.index()].first_child
    }

    pub fn last_child(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id.index()].last_child
    }

    pub fn next_sibling(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id.index()].next
    }

    pub fn prev_sibling(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id.index()].prev
    }

    /// All children of `id`, of every kind, in order.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            doc: self,
            next: self.first_child(id),
        }
    }

    /// The element children of `id`.
    pub fn elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(move |&c| self.is_element(c))
    }

    /// The element children of `id` called `name`.
    pub fn children_named<'a>(
        &'a self,
        id: NodeId,
        name: &'a str,
    ) -> impl Iterator<Item = NodeId> + 'a {
        self.children(id).filter(move |&c| self.is(c, name))
    }

    /// The first element child of `id` called `name`.
    pub fn child_named(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.children_named(id, name).next()
    }

    /// Follows a chain of element names down from `id`, taking the first match at each step.
    pub fn descend(&self, id: NodeId, names: &[&str]) -> Option<NodeId> {
        names
            .iter()
            .try_fold(id, |at, name| self.child_named(at, name))
    }

    /// `id` and everything below it, in document (pre-)order.
    pub fn descendants(&self, id: NodeId) -> Descendants<'_> {
        Descendants {
            doc: self,
            root: id,
            next: Some(id),
        }
    }

    /// The first element at or below `start` whose `id` attribute is `value`.
    pub fn find_by_id(&self, start: NodeId, value: &str) -> Option<NodeId> {
        self.descendants(start)
            .find(|&n| self.attr(n, "id") == Some(value))
    }

    /// The position of `id` among all of its parent's children.
    pub fn position(&self, id: NodeId) -> usize {
        let mut n = 0;
        let mut at = self.prev_sibling(id);
        while let Some(p) = at {
            n += 1;
            at = self.prev_sibling(p);
        }
        n
    }

    /// The `index`-th child (of any kind) of `parent`.
    pub fn nth_child(&self, parent: NodeId, index: usize) -> Option<NodeId> {
        self.children(parent).nth(index)
    }

    /// The concatenated text (text, CDATA) directly inside `id`.
    pub fn text(&self, id: NodeId) -> String {
        let mut out = String::new();
        for c in self.children(id) {
            match self.kind(c) {
                NodeKind::Text(t) | NodeKind::CData(t) => out.push_str(t),
                _ => {}
            }
        }
        out
    }

    /// Depth of `id` below the document node (the root element has depth 1).
    pub fn depth(&self, id: NodeId) -> usize {
        let mut d = 0;
        let mut at = self.parent(id);
        while let Some(p) = at {
            d += 1;
            at = self.parent(p);
        }
        d
    }

    // ---- building ----------------------------------------------------------------------

    fn push(&mut self, kind: NodeKind) -> NodeId {
        assert!(self.nodes.len() < MAX_NODES, "document exceeds MAX_NODES");
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(NodeData {
            kind,
            parent: None,
            first_child: None,
            last_child: None,
            prev: None,
            next: None,
        });
        id
    }

    /// True when one more node fits (parsers check this to fail cleanly instead of panicking).
    pub(crate) fn has_room(&self) -> bool {
        self.nodes.len() < MAX_NODES
    }

    /// A new detached node of the given kind.
    pub fn create(&mut self, kind: NodeKind) -> NodeId {
        self.push(kind)
    }

    /// A new detached element with no attributes.
    pub fn create_element(&mut self, name: &str) -> NodeId {
        let name = self.intern(name);
        self.push(NodeKind::Element {
            name,
            attrs: Vec::new(),
        })
    }

    /// A new detached element with the given attributes, in order.
    pub fn create_element_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> NodeId {
        let el = self.create_element(name);
        for (k, v) in attrs {
            self.set_attr(el, k, v);
        }
        el
    }

    pub fn create_text(&mut self, text: &str) -> NodeId {
        self.push(NodeKind::Text(text.into()))
    }

    pub fn create_comment(&mut self, text: &str) -> NodeId {
        self.push(NodeKind::Comment(text.into()))
    }

    /// Sets attribute `name` on element `id`: replaced in place if present (keeping its
    /// position), appended otherwise. Returns the previous value.
    ///
    /// # Panics
    /// If `id` is not an element (a programming error).
    pub fn set_attr(&mut self, id: NodeId, name: &str, value: &str) -> Option<Box<str>> {
        let key = self.intern(name);
        let NodeKind::Element { attrs, .. } = &mut self.nodes[id.index()].kind else {
            panic!("set_attr on a non-element node");
        };
        match attrs.iter_mut().find(|a| a.name == key) {
            Some(a) => Some(std::mem::replace(&mut a.value, value.into())),
            None => {
                attrs.push(Attr {
                    name: key,
                    value: value.into(),
                });
                None
            }
        }
    }

    /// Removes attribute `name` from element `id`, returning its value.
    pub fn remove_attr(&mut self, id: NodeId, name: &str) -> Option<Box<str>> {
        let key = self.lookup_name(name)?;
        let NodeKind::Element { attrs, .. } = &mut self.nodes[id.index()].kind else {
            return None;
        };
        let at = attrs.iter().position(|a| a.name == key)?;
        Some(attrs.remove(at).value)
    }

    /// Replaces the whole attribute list of element `id`, returning the old one.
    pub fn replace_attrs(&mut self, id: NodeId, new: Vec<Attr>) -> Vec<Attr> {
        let NodeKind::Element { attrs, .. } = &mut self.nodes[id.index()].kind else {
            panic!("replace_attrs on a non-element node");
        };
        std::mem::replace(attrs, new)
    }

    /// Renames element `id`.
    pub fn rename(&mut self, id: NodeId, new_name: &str) {
        let key = self.intern(new_name);
        if let NodeKind::Element { name, .. } = &mut self.nodes[id.index()].kind {
            *name = key;
        }
    }

    /// Replaces the text of a text, CDATA or comment node.
    pub fn set_text(&mut self, id: NodeId, text: &str) {
        match &mut self.nodes[id.index()].kind {
            NodeKind::Text(t) | NodeKind::CData(t) | NodeKind::Comment(t) => *t = text.into(),
            _ => panic!("set_text on a node without text"),
        }
    }

    /// True if `ancestor` is `id` or one of its ancestors.
    pub fn is_ancestor_or_self(&self, ancestor: NodeId, id: NodeId) -> bool {
        let mut at = Some(id);
        while let Some(n) = at {
            if n == ancestor {
                return true;
            }
            at = self.parent(n);
        }
        false
    }

    /// Removes `id` (and its subtree) from its parent. The node stays valid and may be
    /// inserted again.
    pub fn detach(&mut self, id: NodeId) {
        let (parent, prev, next) = {
            let n = &self.nodes[id.index()];
            (n.parent, n.prev, n.next)
        };
        let Some(parent) = parent else { return };
        match prev {
            Some(p) => self.nodes[p.index()].next = next,
            None => self.nodes[parent.index()].first_child = next,
        }
        match next {
            Some(n) => self.nodes[n.index()].prev = prev,
            None => self.nodes[parent.index()].last_child = prev,
        }
        let n = &mut self.nodes[id.index()];
        n.parent = None;
        n.prev = None;
        n.next = None;
    }

    /// Appends a detached node as the last child of `parent`.
    pub fn append_child(&mut self, parent: NodeId, child: NodeId) {
        self.assert_insertable(parent, child);
        let last = self.nodes[parent.index()].last_child;
        {
            let c = &mut self.nodes[child.index()];
            c.parent = Some(parent);
            c.prev = last;
            c.next = None;
        }
        match last {
            Some(l) => self.nodes[l.index()].next = Some(child),
            None => self.nodes[parent.index()].first_child = Some(child),
        }
        self.nodes[parent.index()].last_child = Some(child);
    }

    /// Inserts a detached node before `sibling`.
    pub fn insert_before(&mut self, sibling: NodeId, child: NodeId) {
        let parent = self
            .parent(sibling)
            .expect("insert_before a node without a parent");
        self.assert_insertable(parent, child);
        let prev = self.nodes[sibling.index()].prev;
        {
            let c = &mut self.nodes[child.index()];
            c.parent = Some(parent);
            c.prev = prev;
            c.next = Some(sibling);
        }
        self.nodes[sibling.index()].prev = Some(child);
        match prev {
            Some(p) => self.nodes[p.index()].next = Some(child),
            None => self.nodes[parent.index()].first_child = Some(child),
        }
    }

    /// Inserts a detached node so that it becomes child number `index` of `parent`
    /// (appended when `index` equals the number of children).
    ///
    /// Returns false, changing nothing, when `index` is past the end.
    pub fn insert_at(&mut self, parent: NodeId, index: usize, child: NodeId) -> bool {
        match self.nth_child(parent, index) {
            Some(at) => {
                self.insert_before(at, child);
                true
            }
            None if self.children(parent).count() == index => {
                self.append_child(parent, child);
                true
            }
            None => false,
        }
    }

    fn assert_insertable(&self, parent: NodeId, child: NodeId) {
        assert!(
            self.parent(child).is_none(),
            "node is already attached; detach it first"
        );
        assert!(
            !self.is_ancestor_or_self(child, parent),
            "cannot insert a node into itself"
        );
    }

    /// Deep-copies the subtree `id` of `other` into this document (detached).
    pub fn import(&mut self, other: &Document, id: NodeId) -> NodeId {
        let kind = match other.kind(id) {
            NodeKind::Element { name, attrs } => {
                let name = self.intern(other.name_str(*name));
                let attrs = attrs
                    .iter()
                    .map(|a| Attr {
                        name: self.intern(other.name_str(a.name)),
                        value: a.value.clone(),
                    })
                    .collect();
                NodeKind::Element { name, attrs }
            }
            k => k.clone(),
        };
        let copy = self.push(kind);
        let mut child = other.first_child(id);
        while let Some(c) = child {
            let cc = self.import(other, c);
            self.append_child(copy, cc);
            child = other.next_sibling(c);
        }
        copy
    }

    /// Deep-copies the subtree `id` within this document (detached).
    pub fn deep_clone(&mut self, id: NodeId) -> NodeId {
        let kind = self.kind(id).clone();
        let copy = self.push(kind);
        let kids: Vec<NodeId> = self.children(id).collect();
        for c in kids {
            let cc = self.deep_clone(c);
            self.append_child(copy, cc);
        }
        copy
    }

    /// A new document holding the subtree at `id` as its root (or, for the document node,
    /// the whole document).
    pub fn extract(&self, id: NodeId) -> Document {
        let mut out = Document::new();
        if id == self.document_node() {
            for c in self.children(id) {
                let cc = out.import(self, c);
                out.append_child(out.document_node(), cc);
            }
        } else {
            let cc = out.import(self, id);
            out.append_child(out.document_node(), cc);
        }
        out
    }

    /// A copy of this document without detached garbage.
    pub fn compacted(&self) -> Document {
        self.extract(self.document_node())
    }
}

/// Iterator over the children of a node.
pub struct Children<'a> {
    doc: &'a Document,
    next: Option<NodeId>,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let at = self.next?;
        self.next = self.doc.next_sibling(at);
        Some(at)
    }
}

/// Pre-order iterator over a subtree (iterative: deep documents cannot overflow the stack).
pub struct Descendants<'a> {
    doc: &'a Document,
    root: NodeId,
    next: Option<NodeId>,
}

impl Iterator for Descendants<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let at = self.next?;
        self.next = if let Some(c) = self.doc.first_child(at) {
            Some(c)
        } else {
            let mut up = Some(at);
            let mut found = None;
            while let Some(u) = up {
                if u == self.root {
                    break;
                }
                if let Some(s) = self.doc.next_sibling(u) {
                    found = Some(s);
                    break;
                }
                up = self.doc.parent(u);
            }
            found
        };
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_navigate() {
        let mut doc = Document::with_root("cib");
        let root = doc.root().unwrap();
        let conf = doc.create_element("configuration");
        doc.append_child(root, conf);
        let a = doc.create_element_with("primitive", &[("id", "a"), ("class", "ocf")]);
        let b = doc.create_element_with("primitive", &[("id", "b")]);
        doc.append_child(conf, b);
        doc.insert_before(b, a);
        assert_eq!(doc.elements(conf).collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(doc.position(b), 1);
        assert_eq!(doc.find_by_id(root, "b"), Some(b));
        assert_eq!(doc.attr(a, "class"), Some("ocf"));
        assert_eq!(doc.set_attr(a, "id", "a2").as_deref(), Some("a"));
        assert_eq!(
            doc.attrs(a).collect::<Vec<_>>(),
            vec![("id", "a2"), ("class", "ocf")]
        );
        doc.detach(a);
        assert_eq!(doc.elements(conf).collect::<Vec<_>>(), vec![b]);
        assert!(doc.insert_at(conf, 1, a));
        assert_eq!(doc.elements(conf).collect::<Vec<_>>(), vec![b, a]);
        let c = doc.create_element("c");
        assert!(!doc.insert_at(conf, 5, c), "index past the end is refused");
        assert_eq!(doc.parent(c), None);
        assert_eq!(doc.descendants(root).count(), 4);
        assert_eq!(doc.depth(a), 3);
    }

    #[test]
    #[should_panic(expected = "into itself")]
    fn refuses_cycles() {
        let mut doc = Document::with_root("a");
        let root = doc.root().unwrap();
        let b = doc.create_element("b");
        doc.append_child(root, b);
        doc.detach(root);
        doc.append_child(b, root);
    }
}
