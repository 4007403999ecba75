#![allow(clippy::unwrap_used)]
//! Golden tests: every `golden/NAME.xml` is scheduled and simulated, and the whole report
//! (status, transition summary, execution, revised status) must equal `golden/NAME.summary`.
//! `UPDATE_GOLDEN=1 cargo test -p tandem-scheduler --test golden` rewrites the expectations
//! (review the diff before committing it).

use std::path::Path;

use tandem_cib::{Cib, DateTime};
use tandem_scheduler::report::{ReportOptions, report};
use tandem_scheduler::schedule;

/// "Now" for cases without an `execution-date`: fixed, so results never depend on the clock.
const DEFAULT_NOW: i64 = 1_700_000_000;

#[test]
fn golden_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "xml").then_some(p)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 3, "golden cases are missing");
    let mut failures = Vec::new();
    for xml in &names {
        let cib = Cib::parse(&std::fs::read_to_string(xml).unwrap()).unwrap();
        let now = cib
            .execution_date()
            .unwrap_or(DateTime::from_epoch(DEFAULT_NOW));
        let t = schedule(&cib, now);
        let got = report(
            &t,
            ReportOptions {
                status: true,
                scores: false,
                simulate: true,
            },
        );
        let expected_path = xml.with_extension("summary");
        if update {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}\n--- got\n{got}",
                xml.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
