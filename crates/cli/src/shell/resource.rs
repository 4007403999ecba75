//! The resource level (`crm(live)resource# `): the `force-*` commands of `tandem resource`
//! (one action of a resource, run here as the cluster would run it); crmsh's other resource
//! commands act on the running cluster and say so until one runs.

use clap::Parser;
use tandem_cib::crm::Statement;

use super::Shell;
use super::levels::{CommandHelp, Level, command_names};
use crate::cibsource::NoCluster;
use crate::cmd::resource::{ResourceArgs, run_code};

/// A line of the level, parsed as `tandem resource` parses its arguments.
#[derive(Parser, Debug)]
#[command(name = "resource")]
struct Line {
    #[command(flatten)]
    args: ResourceArgs,
}

/// crmsh's resource commands that act on the running cluster.
pub const CLUSTER_COMMANDS: &[&str] = &[
    "status",
    "show",
    "list",
    "start",
    "stop",
    "restart",
    "promote",
    "demote",
    "manage",
    "unmanage",
    "maintenance",
    "move",
    "migrate",
    "ban",
    "clear",
    "unmove",
    "unmigrate",
    "unban",
    "cleanup",
    "refresh",
    "locate",
    "failcount",
    "param",
    "meta",
    "utilization",
    "operations",
    "constraints",
    "scores",
    "trace",
    "untrace",
];

/// `tandem resource`'s own commands.
const FORCE: &[&str] = &[
    "force-start",
    "force-stop",
    "force-check",
    "force-promote",
    "force-demote",
];

pub fn dispatch(shell: &mut Shell<'_>, st: &Statement) {
    let word = st.words[0].text.to_ascii_lowercase();
    if let Some(e) = needs_cluster(&word, shell.source.run_dir()) {
        return shell.command_error(&anyhow::Error::new(e));
    }
    if !FORCE.contains(&word.as_str()) {
        return shell.error(format!(
            "{word}: No such command (at this level: {})",
            command_names(Level::Resource).join(", ")
        ));
    }
    let argv =
        std::iter::once("resource".to_string()).chain(st.words.iter().map(|w| w.text.clone()));
    let args = match Line::try_parse_from(argv) {
        Ok(l) => l.args,
        Err(e) => return shell.error(super::clap_message(&e)),
    };
    match run_code(args, shell.source) {
        // The report is printed; the agent's code is the command's status.
        Ok(0) => {}
        Ok(code) => shell.fail(code),
        Err(e) => shell.command_error(&e),
    }
}

/// The error for a crmsh resource command that needs the running cluster, if `word` is one.
pub fn needs_cluster(word: &str, run_dir: &std::path::Path) -> Option<NoCluster> {
    CLUSTER_COMMANDS.contains(&word).then(|| NoCluster {
        run_dir: run_dir.to_path_buf(),
        hint: "this resource command acts on the running cluster (force-start, force-stop, \
               force-check, force-promote and force-demote work here, on a CIB file)",
    })
}

pub const HELP: &[CommandHelp] = &[
    CommandHelp {
        name: "force-start",
        usage: "force-start RSC [--timeout DURATION]",
        text: "Run the resource's start action on this node with the parameters the cluster \
               would give it (crm_resource --force-start); the status is the agent's.",
    },
    CommandHelp {
        name: "force-stop",
        usage: "force-stop RSC [--timeout DURATION]",
        text: "Run the resource's stop action on this node (crm_resource --force-stop).",
    },
    CommandHelp {
        name: "force-check",
        usage: "force-check RSC [--check-level N] [--timeout DURATION]",
        text: "Run the resource's monitor action on this node (crm_resource --force-check).",
    },
    CommandHelp {
        name: "force-promote",
        usage: "force-promote RSC [--timeout DURATION]",
        text: "Run the resource's promote action on this node (crm_resource --force-promote).",
    },
    CommandHelp {
        name: "force-demote",
        usage: "force-demote RSC [--timeout DURATION]",
        text: "Run the resource's demote action on this node (crm_resource --force-demote).",
    },
    CommandHelp {
        name: "status",
        usage: "status [RSC]",
        text: "Where resources run (also show, list). Needs the running cluster.",
    },
    CommandHelp {
        name: "start",
        usage: "start RSC",
        text: "Start a resource (also stop, restart, promote, demote). Needs the running \
               cluster.",
    },
    CommandHelp {
        name: "cleanup",
        usage: "cleanup [RSC] [NODE]",
        text: "Forget failures (also refresh). Needs the running cluster.",
    },
    CommandHelp {
        name: "move",
        usage: "move RSC [NODE] [LIFETIME]",
        text: "Move a resource (also migrate, ban, clear, unmove). Needs the running cluster.",
    },
];
