//! `tandem daemon`: run this node's cluster layer until SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct DaemonArgs {
    /// corosync.conf to use (default /etc/tandem/corosync.conf, else /etc/corosync/corosync.conf).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Shared key (default /etc/tandem/authkey, else /etc/corosync/authkey).
    #[arg(long, value_name = "FILE")]
    pub authkey: Option<PathBuf>,
    /// Persistent state (the highest ring id used).
    #[arg(long, value_name = "DIR", default_value = tandem_daemon::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
    /// This node's id, when it cannot be found from the host name or addresses
    /// (several nodes on one host, e.g. 127.0.0.1-3).
    #[arg(long, value_name = "N")]
    pub node_id: Option<u32>,
    /// Where OCF resource agents live (default /usr/lib/ocf).
    #[arg(long, value_name = "DIR", env = "OCF_ROOT")]
    pub ocf_root: Option<PathBuf>,
    /// Do not ask for realtime scheduling (by default the daemon runs SCHED_RR when
    /// permitted, so busy CPUs do not delay its heartbeats; like corosync -p).
    #[arg(long)]
    pub no_realtime: bool,
}

pub fn run(a: DaemonArgs, run_dir: PathBuf) -> anyhow::Result<ExitCode> {
    tandem_daemon::run(tandem_daemon::DaemonOptions {
        config: a.config,
        authkey: a.authkey,
        state_dir: a.state_dir,
        run_dir,
        node_id: a.node_id,
        ocf_root: a.ocf_root,
        realtime: !a.no_realtime,
    })?;
    Ok(ExitCode::SUCCESS)
}
