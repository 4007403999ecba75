#![allow(clippy::unwrap_used)]
//! Acceptance: every CIB of the scheduler corpus (`../shared/scheduler-corpus/xml` beside the
//! workspace, or `$TANDEM_CORPUS_DIR`) loads, and `CIB_file=X tandem cib query` prints it back
//! equal under C14N (comments kept, indentation ignored). Skipped, with a note, when the
//! corpus is not there. About 679 runs of the binary: a few seconds in release mode.

mod common;

use std::path::PathBuf;

use common::*;
use tandem_xml::{C14nOptions, Document};

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
fn every_corpus_cib_round_trips_through_cib_query() {
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
    assert!(!files.is_empty(), "{} holds no .xml files", dir.display());
    let mut failures = Vec::new();
    for file in &files {
        let input = std::fs::read_to_string(file).unwrap();
        let o = tandem()
            .env("CIB_file", file)
            .args(["cib", "query"])
            .output()
            .unwrap();
        if code(&o) != 0 {
            failures.push(format!(
                "{}: exit {}: {}",
                file.display(),
                code(&o),
                stderr(&o)
            ));
            continue;
        }
        let want = Document::parse(&input).unwrap().c14n(C14nOptions::COMPARE);
        let got = match Document::parse(&stdout(&o)) {
            Ok(d) => d.c14n(C14nOptions::COMPARE),
            Err(e) => {
                failures.push(format!("{}: output does not parse: {e}", file.display()));
                continue;
            }
        };
        if want != got {
            failures.push(format!("{}: differs under C14N", file.display()));
        }
    }
    println!("{} corpus CIBs, {} failures", files.len(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
