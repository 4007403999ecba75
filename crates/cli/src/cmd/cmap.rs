//! `tandem cmap [PREFIX]`: the daemon's keys as `key (type) = value` lines, like
//! `corosync-cmapctl`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use tandem_daemon::ipc::{self, Request, Response};

#[derive(Args, Debug)]
pub struct CmapArgs {
    /// Only keys starting with this prefix (e.g. `runtime.members`).
    pub prefix: Option<String>,
    /// Only the key given (like `corosync-cmapctl -g`).
    #[arg(short = 'g', value_name = "KEY")]
    pub get: Option<String>,
    /// Accepted for corosync-cmapctl compatibility (`-b`: binary values as bytes).
    #[arg(short = 'b', hide = true)]
    pub binary: bool,
}

pub fn run(a: CmapArgs, run_dir: &Path) -> anyhow::Result<ExitCode> {
    let prefix = a.get.clone().or(a.prefix);
    let entries = match ipc::call(run_dir, &Request::Cmap { prefix })? {
        Response::Cmap { entries } => entries,
        Response::Error { message } => bail!("{message}"),
        other => bail!("unexpected answer {other:?}"),
    };
    if let Some(k) = a.get {
        return match entries.iter().find(|e| e.key == k) {
            Some(e) => {
                println!("{} ({}) = {}", e.key, e.kind, e.value);
                Ok(ExitCode::SUCCESS)
            }
            None => bail!("Can't get key {k}. Error CS_ERR_NOT_EXIST"),
        };
    }
    for e in entries {
        println!("{} ({}) = {}", e.key, e.kind, e.value);
    }
    Ok(ExitCode::SUCCESS)
}
