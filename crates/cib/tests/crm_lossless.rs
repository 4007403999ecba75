#![allow(clippy::unwrap_used)]
//! `show` loses nothing: for every CIB of the scheduler corpus (`../shared/scheduler-corpus/
//! xml` beside the workspace, or `$TANDEM_CORPUS_DIR`; skipped with a note when absent),
//! the crm text `show` prints, loaded with `load replace` into an empty CIB, gives back the
//! same configuration under C14N, ids and comments included (see
//! `common::comparable_configuration` for what crm text does not carry). The generated CIBs
//! of `roundtrip_props.rs` are checked the same way there.
//!
//! Cost: the 679 corpus CIBs in about a second in a release build.

mod common;

use std::path::PathBuf;

use tandem_cib::Cib;

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("TANDEM_CORPUS_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scheduler-corpus/xml")
        }
    };
    dir.is_dir().then_some(dir)
}

#[test]
fn every_corpus_cib_shows_as_text_that_loads_back_the_same() {
    let Some(dir) = corpus_dir() else {
        println!("note: no scheduler corpus beside the workspace (nor TANDEM_CORPUS_DIR); skipped");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let (mut objects, mut xml) = (0, 0);
    for file in &files {
        let cib = Cib::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
        let doc = cib.document();
        objects += tandem_cib::crm::sorted_objects(doc).len();
        xml += common::xml_objects(doc);
        if let Err(e) = common::show_load_round_trip(doc) {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    println!(
        "{} corpus CIBs, {objects} objects, {xml} shown as xml, {} failures",
        files.len(),
        failures.len()
    );
    // Every failure's first line, then the first few in full.
    let heads: Vec<&str> = failures.iter().filter_map(|f| f.lines().next()).collect();
    assert!(
        failures.is_empty(),
        "{}\n\n{}\n({} of {} CIBs failed)",
        heads.join("\n"),
        failures
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        failures.len(),
        files.len()
    );
}
