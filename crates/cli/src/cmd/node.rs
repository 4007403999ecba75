//! `tandem node ...` (`crm node standby`, `online`, ...): commands on the running cluster's
//! nodes. There is no cluster to ask yet, so each says so and exits 102.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use crate::cibsource::CibSource;

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// The node command and its arguments (`standby node1`, `online`, `attribute ...`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "COMMAND"
    )]
    pub words: Vec<String>,
}

pub fn run(args: NodeArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    let verb = args.words[0].to_ascii_lowercase();
    match crate::shell::node_needs_cluster(&verb, source.run_dir()) {
        Some(e) => Err(e.into()),
        None => bail!(
            "{verb}: no such node command (crmsh's are standby, online, maintenance, ready, \
             status, show, attribute, utilization, status-attr, clearstate, delete, fence, \
             server)"
        ),
    }
}
