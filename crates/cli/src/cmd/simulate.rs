//! `tandem simulate` (crm_simulate): schedule a CIB file, print what the cluster would do,
//! and simulate executing it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use tandem_cib::{Cib, DateTime};
use tandem_scheduler::inject::{Injection, apply};
use tandem_scheduler::report::{ReportOptions, report};
use tandem_scheduler::schedule;

use crate::cibsource::{CibSource, load_file};

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Read the CIB from this file (crm_simulate -x).
    #[arg(short = 'x', long = "xml-file", value_name = "FILE")]
    pub xml_file: Option<PathBuf>,
    /// Use the running cluster's CIB.
    #[arg(short = 'L', long = "live-check")]
    pub live: bool,
    /// Simulate executing the transition and show the resulting status.
    #[arg(short = 'S', long = "simulate")]
    pub simulate: bool,
    /// Compute the transition without simulating it.
    #[arg(short = 'R', long = "run")]
    pub run: bool,
    /// Show allocation scores.
    #[arg(short = 's', long = "show-scores")]
    pub show_scores: bool,
    /// Show utilization information.
    #[arg(short = 'U', long = "show-utilization")]
    pub show_utilization: bool,
    /// Quiet: print only the allocation scores (with -s), not the status or the summary.
    #[arg(short = 'Q', long = "quiet")]
    pub quiet: bool,
    /// Set the effective time ("now") for rules and failure expiry (ISO 8601).
    #[arg(short = 't', long = "set-datetime", value_name = "DATE")]
    pub date: Option<String>,
    /// Set whether the cluster has quorum (true/false).
    #[arg(short = 'q', long = "quorum", value_name = "BOOL")]
    pub quorum: Option<String>,
    /// Bring a node online.
    #[arg(short = 'u', long = "node-up", value_name = "NODE")]
    pub node_up: Vec<String>,
    /// Take a node offline (cleanly).
    #[arg(short = 'd', long = "node-down", value_name = "NODE")]
    pub node_down: Vec<String>,
    /// Mark a node as failed (it will be fenced).
    #[arg(short = 'f', long = "node-fail", value_name = "NODE")]
    pub node_fail: Vec<String>,
    /// Inject an operation result: RSC_TASK_INTERVAL@NODE=RC.
    #[arg(short = 'i', long = "op-inject", value_name = "OP")]
    pub op_inject: Vec<String>,
    /// Write the transition graph (Pacemaker's transition-graph XML) to this file.
    #[arg(short = 'G', long = "save-graph", value_name = "FILE")]
    pub save_graph: Option<PathBuf>,
}

pub fn run(args: SimulateArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    let mut cib = match (&args.xml_file, args.live) {
        (Some(p), _) => load_file(p)?,
        (None, true) => source.load()?,
        (None, false) => bail!("give a CIB to simulate: -x FILE, or -L for the running cluster"),
    };
    let mut out = String::new();
    let now = match &args.date {
        Some(d) => {
            let t = DateTime::parse(d).map_err(|e| anyhow::anyhow!("-t {d}: {e}"))?;
            if !args.quiet {
                writeln!(out, "Setting effective cluster time: {d}")?;
            }
            t
        }
        None => match cib.execution_date() {
            Some(t) => {
                if !args.quiet {
                    writeln!(out, "Using the original execution date of: {}", iso(t))?;
                }
                t
            }
            None => DateTime::from_epoch(wall_clock()),
        },
    };
    cib = inject_changes(cib, &args)?;
    let t = schedule(&cib, now);
    if args.quiet {
        // -Q: only what was asked for besides (the scores), as crm_simulate -Q does.
        if args.show_scores {
            out.push_str(&tandem_scheduler::report::scores_text(&t));
        }
    } else {
        out.push_str(&report(
            &t,
            ReportOptions {
                status: true,
                scores: args.show_scores,
                simulate: args.simulate,
            },
        ));
    }
    if let Some(path) = &args.save_graph {
        std::fs::write(path, tandem_scheduler::graph_xml::graph_xml(&t))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn iso(t: DateTime) -> String {
    let f = t.fields();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        f.year, f.month, f.monthday, f.hour, f.minute, f.second
    )
}

fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Applies -q, -u, -d, -f and -i to the CIB.
fn inject_changes(cib: Cib, args: &SimulateArgs) -> anyhow::Result<Cib> {
    let mut injections: Vec<Injection> = Vec::new();
    injections.extend(args.node_up.iter().cloned().map(Injection::NodeUp));
    injections.extend(args.node_down.iter().cloned().map(Injection::NodeDown));
    injections.extend(args.node_fail.iter().cloned().map(Injection::NodeFail));
    for spec in &args.op_inject {
        injections.push(Injection::parse_op(spec)?);
    }
    if injections.is_empty() && args.quorum.is_none() {
        return Ok(cib);
    }
    let mut doc = cib.into_document();
    if let Some(q) = &args.quorum {
        let value = match tandem_cib::types::parse_bool(q) {
            Some(true) => "1",
            Some(false) => "0",
            None => bail!("-q {q}: expected true or false"),
        };
        let root = doc.root().context("the CIB has no root element")?;
        doc.set_attr(root, "have-quorum", value);
    }
    for inj in &injections {
        apply(&mut doc, inj);
    }
    Ok(Cib::from_document(doc)?)
}
