//! `tandem status` (`crm status`, `crm_mon -1`): the cluster's status in crm_mon's layout —
//! of the running cluster, or of the status recorded in a CIB file (`CIB_file=PATH` or
//! `--cib PATH`, as crm_mon reads one).

use std::process::ExitCode;

use clap::Args;

use crate::cibsource::CibSource;
use crate::crmmon::{self, Options};

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// crmsh's options (`full`, `bynode`, `inactive`, `ops`, `timing`, `failcounts`, `attributes`,
    /// `xml`);
    /// none means `inactive`, as with crmsh.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "OPTION"
    )]
    pub options: Vec<String>,
}

pub fn run(args: StatusArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    print!("{}", text(&args.options, source)?);
    Ok(ExitCode::SUCCESS)
}

/// The status text for crmsh option words `words`.
pub fn text(words: &[String], source: &CibSource) -> anyhow::Result<String> {
    let options = Options::from_words(words)?;
    let (cib, view) = source.status_input()?;
    let now = crate::cmd::ra::now();
    let t = tandem_scheduler::schedule(&cib, now);
    if options.xml {
        let request = crate::output::request_line();
        return Ok(crate::crmmon_xml::render(&cib, &t, &view, now, &request));
    }
    Ok(crmmon::render(&cib, &t, &view, options, now))
}
