//! `tandem`: one binary for the whole stack — the daemon, the crm-style shell and the tools
//! Pacemaker and Corosync users know.
//!
//! Invoked under another name (through a link called `crm`, `crm_verify`, `cibadmin`, ...)
//! it behaves as that tool: see [`compat`]. Each command lives in its own file under `cmd/`.

// A driver crate: it owns the clock, the environment and the terminal.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod cibsource;
mod cmd;
mod compat;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let args = compat::translate(args);
    let cli = cmd::Cli::parse_from(args);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tandem: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
