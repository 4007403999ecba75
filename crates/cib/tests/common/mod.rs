//! What `show` → `load replace` must preserve, as one comparable string.

use tandem_cib::{Cib, crm};
use tandem_xml::{C14nOptions, Document, NodeId};

/// The configuration section under C14N (comments and ids included), with what crm text
/// does not carry taken out, as in crmsh: the order of the objects within a section (`show`
/// sorts them), comments between objects, and empty optional sections.
pub fn comparable_configuration(doc: &Document) -> String {
    let conf = doc
        .root()
        .and_then(|r| doc.child_named(r, "configuration"))
        .expect("a CIB has a configuration");
    let order: Vec<NodeId> = crm::sorted_objects(doc)
        .into_iter()
        .map(|o| o.node)
        .collect();
    let rank = |n: NodeId| order.iter().position(|&o| o == n).unwrap_or(usize::MAX);
    let mut out = Document::new();
    let top = out.create_element("configuration");
    out.append_child(out.document_node(), top);
    let mut sections: Vec<NodeId> = doc.elements(conf).collect();
    sections.sort_by(|a, b| doc.name(*a).cmp(doc.name(*b)));
    for s in sections {
        let name = doc.name(s);
        let required = matches!(name, "crm_config" | "nodes" | "resources" | "constraints");
        if !required && doc.elements(s).next().is_none() {
            continue;
        }
        if name == "fencing-topology" {
            let c = out.import(doc, s);
            out.append_child(top, c);
            continue;
        }
        let sec = out.create_element(name);
        for (k, v) in doc.attrs(s) {
            out.set_attr(sec, k, v);
        }
        out.append_child(top, sec);
        let mut objects: Vec<NodeId> = doc.elements(s).collect();
        objects.sort_by_key(|&n| rank(n));
        for o in objects {
            let c = out.import(doc, o);
            out.append_child(sec, c);
        }
    }
    out.c14n(C14nOptions::COMPARE)
}

/// Shows `doc`, loads the text into an empty CIB with `load replace`, and compares; then
/// applies the same text as an unchanged `edit` session and checks that the configuration
/// is exactly as it was (objects in place, nothing else touched). The error names the
/// objects that came back different.
pub fn show_load_round_trip(doc: &Document) -> Result<(), String> {
    let text = crm::show_all(doc);
    let mut edited = doc.clone();
    crm::apply_edit(&mut edited, &crm::object_ids(doc), &text)
        .map_err(|e| format!("the shown text does not apply as an edit: {e}\n{text}"))?;
    let conf = |d: &Document| {
        let c = d
            .root()
            .and_then(|r| d.child_named(r, "configuration"))
            .expect("configuration");
        d.node_c14n(c, C14nOptions::COMPARE)
    };
    if conf(&edited) != conf(doc) {
        return Err(format!(
            "an unchanged edit changed the configuration:\n  want: {}\n  got:  {}",
            conf(doc),
            conf(&edited)
        ));
    }
    let mut back = Cib::empty().into_document();
    crm::load(&mut back, &text, crm::LoadMethod::Replace)
        .map_err(|e| format!("the shown text does not load: {e}\n{text}"))?;
    if comparable_configuration(&back) == comparable_configuration(doc) {
        return Ok(());
    }
    let mut diffs = Vec::new();
    for o in crm::sorted_objects(doc) {
        let want = doc.node_c14n(o.node, C14nOptions::COMPARE);
        let got = crm::find_object(&back, &o.id).map(|n| back.node_c14n(n, C14nOptions::COMPARE));
        if got.as_deref() != Some(want.as_str()) {
            diffs.push(format!(
                "{} {}:\n  shown: {}\n  want:  {want}\n  got:   {}",
                o.kind.keyword(),
                o.id,
                crm::show(doc, std::slice::from_ref(&o.id))
                    .unwrap_or_default()
                    .trim_end(),
                got.unwrap_or_else(|| "(missing)".into())
            ));
        }
    }
    if diffs.is_empty() {
        diffs.push(format!(
            "the configurations differ outside the objects:\n  want: {}\n  got:  {}",
            comparable_configuration(doc),
            comparable_configuration(&back)
        ));
    }
    Err(diffs.join("\n"))
}

/// How many top-level objects `show` writes in the `xml` form.
#[allow(dead_code)] // used by crm_lossless.rs only
pub fn xml_objects(doc: &Document) -> usize {
    crm::show_all(doc)
        .lines()
        .filter(|l| l.starts_with("xml "))
        .count()
}
