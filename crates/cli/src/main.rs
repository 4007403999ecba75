//! `tandem`: one binary for the whole stack — the daemon, the crm-style shell and the tools
//! Pacemaker and Corosync users know.
//!
//! Invoked under another name (through a link called `crm`, `crm_verify`, `cibadmin`, ...)
//! it behaves as that tool: see [`compat`]. Each command lives in its own file under `cmd/`.

// A driver crate: it owns the clock, the environment and the terminal.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod cibedit;
mod cibsource;
mod cmd;
mod compat;
mod crmmon;
mod crmmon_xml;
mod live;
mod output;
mod shell;
mod why;

use std::process::ExitCode;

use clap::Parser;

/// Pacemaker's CRM_EX_USAGE: the command line was wrong.
const EXIT_USAGE: u8 = 64;
/// Pacemaker's CRM_EX_DISCONNECT: the cluster could not be reached.
pub(crate) const EXIT_DISCONNECT: u8 = 102;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Run through a link named after one of Tandem's agents (`resource.d/tandem/IPaddr`, as
    // `tandem ra install` makes them), this binary is that OCF agent.
    if let Some(code) = tandem_agents::dispatch(&args) {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let args = match compat::translate(args) {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let cli = match cmd::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; usage errors exit as Pacemaker's tools do
            // (CRM_EX_USAGE), not with clap's 2, which old crm_verify used for "errors found".
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tandem: error: {e:#}");
            if e.downcast_ref::<cibsource::NoCluster>().is_some() {
                ExitCode::from(EXIT_DISCONNECT)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
