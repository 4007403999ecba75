//! The scheduler on arbitrary CIBs.
//!
//! Properties checked on every input that loads as a CIB:
//! * scheduling never panics, whatever the configuration and status say;
//! * it is deterministic: scheduling the same CIB twice gives the same report, scores and
//!   transition-graph XML;
//! * the simulated execution lists every action of the graph at most once, and only actions
//!   that are in the graph (required and runnable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_cib::{Cib, DateTime};
use tandem_scheduler::report::{ReportOptions, report};
use tandem_scheduler::{execute, graph_xml, schedule};

/// A fixed "now": time is an input of the scheduler, never read from a clock.
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cib) = Cib::parse(text) else {
        return;
    };
    let now = DateTime::from_epoch(NOW);
    let options = ReportOptions {
        status: true,
        scores: true,
        simulate: true,
    };
    let t = schedule(&cib, now);
    let first = report(&t, options);
    let again = schedule(&cib, now);
    assert_eq!(report(&again, options), first, "scheduling is deterministic");
    assert_eq!(
        graph_xml::graph_xml(&again),
        graph_xml::graph_xml(&t),
        "the graph is deterministic"
    );
    let order = execute::execution_order(&t);
    let mut seen = vec![false; t.graph.actions.len()];
    for a in order {
        assert!(t.graph.actions[a].in_graph(), "only graph actions execute");
        assert!(!seen[a], "an action executes once");
        seen[a] = true;
    }
});
