//! The command tree. One file per command; this file only wires them together.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cibsource::CibSource;

mod cib;
mod cmap;
pub mod configure;
mod daemon;
mod keygen;
mod links;
mod mon;
pub mod node;
mod quorum;
pub mod ra;
pub mod resource;
pub mod rsc;
mod sandbox;
mod sandbox_net;
mod simulate;
pub mod status;
pub mod verify;

#[derive(Parser, Debug)]
#[command(
    name = "tandem",
    version,
    about = "High-availability cluster stack: membership, CIB, scheduler, executor — one daemon, one CLI"
)]
pub struct Cli {
    /// Work on this CIB file instead of the running cluster (like Pacemaker's `CIB_file`).
    #[arg(long = "cib", global = true, env = "CIB_file", value_name = "PATH")]
    pub cib_file: Option<PathBuf>,

    /// Run directory of the local daemon to talk to.
    #[arg(
        long,
        global = true,
        env = "TANDEM_RUN_DIR",
        value_name = "DIR",
        default_value = "/run/tandem"
    )]
    pub run_dir: PathBuf,

    /// Read shell commands from FILE (like `crm -f FILE`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// Without a command: the interactive crm shell (`crm(live)# `).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Whole-CIB operations (like `cibadmin`).
    #[command(subcommand)]
    Cib(cib::CibCommand),
    /// Check a CIB for errors (like `crm_verify`).
    Verify(verify::VerifyArgs),
    /// Show what the scheduler would do with a CIB, and simulate it (like `crm_simulate`).
    Simulate(simulate::SimulateArgs),
    /// Change the configuration with crm configure commands (like `crm configure`).
    Configure(configure::ConfigureArgs),
    /// Resource agents: classes, lists, meta-data; install Tandem's own (like `crm ra`).
    Ra(ra::RaArgs),
    /// Resource actions; `force-*` run one action here, bypassing the cluster (like `crm_resource`).
    Resource(resource::ResourceArgs),
    /// The running cluster's status (like `crm status`).
    Status(status::StatusArgs),
    /// The cluster's status, refreshed every few seconds until Ctrl-C; -1 once (like `crm_mon`).
    Mon(mon::MonArgs),
    /// The running cluster's nodes: standby, online, ... (like `crm node`).
    Node(node::NodeArgs),
    /// Run this node's daemon (membership, ordered delivery, quorum) until SIGTERM.
    Daemon(daemon::DaemonArgs),
    /// Quorum and membership (like `corosync-quorumtool`).
    Quorum(quorum::QuorumArgs),
    /// Runtime and configuration keys (like `corosync-cmapctl`).
    Cmap(cmap::CmapArgs),
    /// Link status (like `corosync-cfgtool -s`).
    Links(links::LinksArgs),
    /// Write a new authkey (like `corosync-keygen`).
    Keygen(keygen::KeygenArgs),
    /// A real N-node cluster on this machine (127.0.0.1..N, or one network namespace per node
    /// with a floating IP: --netns) with example resources, to try Tandem; Ctrl-C or
    /// `tandem sandbox down` removes it.
    Sandbox(sandbox::SandboxArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let source = CibSource::new(cli.cib_file.as_deref(), &cli.run_dir);
    if let Some(path) = &cli.script {
        return crate::shell::run_file(&source, path);
    }
    match cli.command {
        None => crate::shell::run_interactive(&source, None),
        Some(Command::Cib(c)) => cib::run(c, &source),
        Some(Command::Verify(args)) => verify::run(args, &source),
        Some(Command::Simulate(a)) => simulate::run(a, &source),
        Some(Command::Configure(args)) => configure::run(args, &source),
        Some(Command::Ra(args)) => ra::run(args),
        Some(Command::Resource(args)) => resource::run(args, &source),
        Some(Command::Status(a)) => status::run(a, &source),
        Some(Command::Mon(a)) => mon::run(a, &source),
        Some(Command::Node(a)) => node::run(a, &source),
        Some(Command::Daemon(a)) => daemon::run(a, cli.run_dir),
        Some(Command::Quorum(a)) => quorum::run(a, &cli.run_dir),
        Some(Command::Cmap(a)) => cmap::run(a, &cli.run_dir),
        Some(Command::Links(a)) => links::run(a, &cli.run_dir),
        Some(Command::Keygen(a)) => keygen::run(a),
        Some(Command::Sandbox(a)) => sandbox::run(a),
    }
}
