//! `tandem cib`: whole-CIB operations, like `cibadmin`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::cibsource::{CibSource, load_file};

#[derive(Subcommand, Debug)]
pub enum CibCommand {
    /// Print an empty, valid CIB (like `cibadmin --empty`).
    New,
    /// Print the whole CIB (like `cibadmin -Q`).
    Query,
    /// Replace the whole CIB with the one in FILE (like `cibadmin -R -x FILE`). Refused if
    /// FILE is older than the current CIB; numbered as a new epoch if its version is the
    /// same but its configuration differs.
    Replace {
        /// The new CIB.
        file: PathBuf,
    },
}

pub fn run(cmd: CibCommand, source: &CibSource) -> anyhow::Result<ExitCode> {
    match cmd {
        CibCommand::New => print!("{}", tandem_cib::EMPTY_CIB),
        CibCommand::Query => print!("{}", source.load()?.to_xml()),
        CibCommand::Replace { file } => {
            let new = load_file(&file)?;
            let current = source.load()?;
            let next = current.successor(new.into_document())?;
            source.store(&next)?;
            eprintln!(
                "CIB replaced: version {} -> {}",
                current.version, next.version
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
