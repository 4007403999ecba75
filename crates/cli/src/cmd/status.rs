//! `tandem status` (`crm status`): the running cluster's status. There is no cluster to ask
//! yet, so it says so and exits 102, as Pacemaker's tools do when they cannot connect.

use std::process::ExitCode;

use clap::Args;

use crate::cibsource::CibSource;

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// crmsh's options (`full`, `bynode`, `inactive`, `ops`, `timing`, `failcounts`,
    /// `verbose`, `xml`, `brief`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "OPTION"
    )]
    pub options: Vec<String>,
}

pub fn run(_args: StatusArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    Err(crate::shell::status_needs_cluster(source.run_dir()).into())
}
