//! crm_simulate's whole text report: cluster status, transition summary, the simulated
//! execution and the revised status.

use std::fmt::Write as _;

use crate::{Transition, World, execute, status_text};

/// The status block (node list and resource list) of `w`.
pub fn status_block(w: &World, t: &Transition) -> String {
    let mut s = status_text::node_list(w);
    s.push('\n');
    s.push_str(&status_text::resource_list(w, &t.clone_nodes));
    s
}

/// The allocation score lines, as `crm_simulate -s` prints them.
pub fn scores_text(t: &Transition) -> String {
    let mut s = String::new();
    // An instance tried on its current node and then placed again was logged twice; the
    // scores that decided are the last ones.
    let mut last = std::collections::BTreeMap::new();
    for (i, l) in t.scores.iter().enumerate() {
        last.insert((l.stage, l.rsc.as_str(), l.node.as_str()), i);
    }
    for (i, l) in t.scores.iter().enumerate() {
        if last.get(&(l.stage, l.rsc.as_str(), l.node.as_str())) != Some(&i) {
            continue;
        }
        let _ = writeln!(
            s,
            "{}: {} allocation score on {}: {}",
            l.stage, l.rsc, l.node, l.score
        );
    }
    s
}

/// What to include in a report.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportOptions {
    /// Cluster status before (and, when simulating, after).
    pub status: bool,
    pub scores: bool,
    /// Simulate the execution (`-S`).
    pub simulate: bool,
}

/// The report, without the leading "effective date" line.
pub fn report(t: &Transition, o: ReportOptions) -> String {
    let mut out = String::new();
    if o.status {
        out.push_str("Current cluster status:\n");
        out.push_str(&status_block(&t.world, t));
        out.push('\n');
    }
    if o.scores {
        out.push_str(&scores_text(t));
    }
    out.push_str("Transition Summary:\n");
    out.push_str(&t.summary_text());
    if o.simulate && o.status {
        out.push('\n');
        out.push_str("Executing Cluster Transition:\n");
        let (lines, revised) = execute::execute(t);
        out.push_str(&lines);
        out.push('\n');
        out.push_str("Revised Cluster Status:\n");
        out.push_str(&status_block(&revised, t));
    }
    out
}
