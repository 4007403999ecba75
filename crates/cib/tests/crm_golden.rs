#![allow(clippy::unwrap_used)]
//! Golden tests of the crm language: statements in `tests/crm/*.crm` (or a CIB in
//! `tests/crm/*.xml`), the expected `show` output in `*.show` (checked against crmsh, see
//! `tests/crm/README.md`). Every file is also round-tripped: the shown text, loaded into an
//! empty CIB, gives the same XML and shows the same again.

mod common;

use std::path::{Path, PathBuf};

use tandem_cib::{Cib, crm};
use tandem_xml::{C14nOptions, Document};

fn apply_all(text: &str, origin: &str) -> Document {
    let mut doc = Cib::empty().into_document();
    let cmds = crm::parse(text).unwrap_or_else(|e| panic!("{}", e.in_file(origin)));
    for cmd in cmds {
        crm::execute(&mut doc, &cmd).unwrap_or_else(|e| panic!("{}", e.in_file(origin)));
    }
    doc
}

/// Every object's canonical XML, in `show` order: two configurations that hold the same
/// objects compare equal whatever order their elements are in.
fn configuration_c14n(doc: &Document) -> Vec<(String, String)> {
    crm::sorted_objects(doc)
        .into_iter()
        .map(|o| (o.id, doc.node_c14n(o.node, C14nOptions::COMPARE)))
        .collect()
}

fn inputs(extension: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crm");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    v.sort();
    v
}

fn cases() -> Vec<PathBuf> {
    let v = inputs("crm");
    assert!(v.len() >= 8, "the golden inputs are missing");
    v
}

/// Compares with the golden file, or rewrites it under UPDATE_GOLDEN=1; a difference is
/// pushed to `failures`.
fn check_golden(input: &Path, shown: &str, failures: &mut Vec<String>) {
    let golden = input.with_extension("show");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, shown).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    if shown != expected {
        failures.push(format!(
            "{}:\n--- expected\n{expected}\n--- got\n{shown}",
            golden.display()
        ));
    }
}

#[test]
fn cibs_show_as_crmsh_shows_them_and_load_back() {
    let mut failures = Vec::new();
    let files = inputs("xml");
    assert!(!files.is_empty(), "the golden CIBs are missing");
    for input in files {
        let cib = Cib::parse(&std::fs::read_to_string(&input).unwrap()).unwrap();
        check_golden(&input, &crm::show_all(cib.document()), &mut failures);
        if let Err(e) = common::show_load_round_trip(cib.document()) {
            failures.push(format!("{}: {e}", input.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn show_matches_golden_files() {
    let mut failures = Vec::new();
    for input in cases() {
        let text = std::fs::read_to_string(&input).unwrap();
        let doc = apply_all(&text, &input.display().to_string());
        check_golden(&input, &crm::show_all(&doc), &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shown_text_loads_back_to_the_same_configuration() {
    for input in cases() {
        let text = std::fs::read_to_string(&input).unwrap();
        let doc = apply_all(&text, &input.display().to_string());
        let shown = crm::show_all(&doc);
        let again = apply_all(&shown, &format!("{} (shown)", input.display()));
        assert_eq!(crm::show_all(&again), shown, "{}", input.display());
        assert_eq!(
            configuration_c14n(&again),
            configuration_c14n(&doc),
            "{}: the XML differs after a round trip",
            input.display()
        );
        // And `load update` of the same text over the configuration changes nothing.
        let mut updated = doc.clone();
        crm::load(&mut updated, &shown, crm::LoadMethod::Update).unwrap();
        assert_eq!(
            configuration_c14n(&updated),
            configuration_c14n(&doc),
            "{}",
            input.display()
        );
        let mut replaced = Cib::empty().into_document();
        crm::load(&mut replaced, &shown, crm::LoadMethod::Replace).unwrap();
        assert_eq!(crm::show_all(&replaced), shown, "{}", input.display());
        if let Err(e) = common::show_load_round_trip(&doc) {
            panic!("{}: {e}", input.display());
        }
    }
}

#[test]
fn loaded_cibs_are_valid_and_carry_crmsh_ids() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crm/tutorial_digitalocean.crm"),
    )
    .unwrap();
    let doc = apply_all(&text, "tutorial_digitalocean.crm");
    let cib = Cib::from_document(doc).unwrap();
    assert!(cib.problems.is_empty(), "{:?}", cib.problems);
    let d = cib.document();
    for id in [
        "cib-bootstrap-options-no-quorum-policy",
        "Nginx-instance_attributes-httpd",
        "Nginx-monitor-10s",
        "Nginx-start-0",
        "FloatIP-instance_attributes",
    ] {
        assert!(
            d.find_by_id(cib.root(), id).is_some(),
            "no element has id {id}"
        );
    }
    let clone = cib.config.find_resource("Nginx-clone").unwrap();
    assert_eq!(clone.rsc.kind(), "clone");
    assert_eq!(
        cib.config.find_resource("Nginx").unwrap().parent,
        Some("Nginx-clone")
    );
}
