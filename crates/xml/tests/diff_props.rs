#![allow(clippy::unwrap_used)]
//! Property tests: any document written and re-read is the same document, and for any two
//! documents, `a.diff(b)` applied to `a` gives `b` — directly and through the patch's XML form.

use proptest::prelude::*;
use tandem_xml::{C14nOptions, Document, NodeId, Patch};

/// A generated tree: names from a small alphabet so that ids and names collide often.
#[derive(Clone, Debug)]
enum Tree {
    Element {
        name: &'static str,
        attrs: Vec<(&'static str, String)>,
        kids: Vec<Tree>,
    },
    Text(String),
    Comment(String),
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-c]{1,2}".prop_map(|s| s),
        "[ a-z<>&\"'\t\n]{0,6}".prop_map(|s| s),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        4 => (prop::sample::select(vec!["p", "q", "r"]), prop::collection::vec((prop::sample::select(vec!["id", "a", "b", "c"]), value()), 0..4))
            .prop_map(|(name, attrs)| Tree::Element { name, attrs: dedup(attrs), kids: vec![] }),
        1 => "[a-z&<]{1,5}".prop_map(Tree::Text),
        1 => "[a-z ]{0,5}".prop_map(Tree::Comment),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        (
            prop::sample::select(vec!["p", "q", "r"]),
            prop::collection::vec((prop::sample::select(vec!["id", "a", "b"]), value()), 0..3),
            prop::collection::vec(inner, 0..6),
        )
            .prop_map(|(name, attrs, kids)| Tree::Element {
                name,
                attrs: dedup(attrs),
                kids,
            })
    })
}

fn dedup(attrs: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in attrs {
        if !out.iter().any(|(o, _)| *o == k) {
            out.push((k, v));
        }
    }
    out
}

fn build(doc: &mut Document, parent: NodeId, t: &Tree) {
    let node = match t {
        Tree::Element { name, attrs, kids } => {
            let el = doc.create_element(name);
            for (k, v) in attrs {
                doc.set_attr(el, k, v);
            }
            doc.append_child(parent, el);
            for k in kids {
                build(doc, el, k);
            }
            return;
        }
        Tree::Text(s) => doc.create_text(s),
        Tree::Comment(s) => doc.create_comment(s),
    };
    doc.append_child(parent, node);
}

fn document(kids: &[Tree]) -> Document {
    let mut doc = Document::with_root("cib");
    let root = doc.root().unwrap();
    for k in kids {
        build(&mut doc, root, k);
    }
    // Parse our own output so that the document is in the form a parser produces (adjacent
    // texts merged, blank text dropped).
    Document::parse(&doc.to_pretty_string()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn written_documents_read_back_equal(kids in prop::collection::vec(tree(), 0..5)) {
        let doc = document(&kids);
        let again = Document::parse(&doc.to_pretty_string()).unwrap();
        prop_assert_eq!(again.c14n(C14nOptions::COMPARE), doc.c14n(C14nOptions::COMPARE));
        prop_assert_eq!(again.to_pretty_string(), doc.to_pretty_string());
    }

    #[test]
    fn patches_turn_a_into_b(a in prop::collection::vec(tree(), 0..5), b in prop::collection::vec(tree(), 0..5)) {
        let da = document(&a);
        let db = document(&b);
        let patch = da.diff(&db);
        let mut applied = da.clone();
        patch.apply(&mut applied).unwrap();
        prop_assert_eq!(applied.to_pretty_string(), db.to_pretty_string());

        let reread = Patch::from_document(&Document::parse(&patch.to_document().to_pretty_string()).unwrap()).unwrap();
        let mut applied2 = da.clone();
        reread.apply(&mut applied2).unwrap();
        prop_assert_eq!(applied2.to_pretty_string(), db.to_pretty_string());
        prop_assert!(db.diff(&applied).is_empty());
    }
}
