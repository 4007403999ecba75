//! `tandem cib`: whole-CIB operations, like `cibadmin`.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum CibCommand {
    /// Print an empty, valid CIB (like `cibadmin --empty`).
    New,
}

pub fn run(cmd: CibCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CibCommand::New => {
            print!("{}", tandem_cib::EMPTY_CIB);
            Ok(ExitCode::SUCCESS)
        }
    }
}
