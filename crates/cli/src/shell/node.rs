//! The node level (`crm(live)node# `): every command acts on the running cluster's nodes,
//! so until a cluster runs each one says so (and the shell exits 102, as the one-shot
//! `tandem node` does).

use tandem_cib::crm::Statement;

use super::Shell;
use super::levels::{CommandHelp, Level, command_names};
use crate::cibsource::NoCluster;

/// crmsh's node commands.
pub const COMMANDS: &[&str] = &[
    "status",
    "show",
    "standby",
    "online",
    "maintenance",
    "ready",
    "clearstate",
    "delete",
    "fence",
    "attribute",
    "utilization",
    "status-attr",
    "server",
];

pub fn dispatch(shell: &mut Shell<'_>, st: &Statement) {
    let word = st.words[0].text.to_ascii_lowercase();
    match needs_cluster(&word, shell.source.run_dir()) {
        Some(e) => shell.command_error(&anyhow::Error::new(e)),
        None => shell.error(format!(
            "{word}: No such command (at this level: {})",
            command_names(Level::Node).join(", ")
        )),
    }
}

/// The error for node command `word`, or `None` if there is no such command.
pub fn needs_cluster(word: &str, run_dir: &std::path::Path) -> Option<NoCluster> {
    COMMANDS.contains(&word).then(|| NoCluster {
        run_dir: run_dir.to_path_buf(),
        hint: "node commands act on the running cluster's nodes",
    })
}

pub const HELP: &[CommandHelp] = &[
    CommandHelp {
        name: "standby",
        usage: "standby [NODE] [reboot|forever]",
        text: "Put a node in standby (its resources move away). Needs the running cluster.",
    },
    CommandHelp {
        name: "online",
        usage: "online [NODE]",
        text: "Take a node out of standby. Needs the running cluster.",
    },
    CommandHelp {
        name: "maintenance",
        usage: "maintenance [NODE]",
        text: "Put a node in maintenance mode. Needs the running cluster.",
    },
    CommandHelp {
        name: "ready",
        usage: "ready [NODE]",
        text: "Take a node out of maintenance mode. Needs the running cluster.",
    },
    CommandHelp {
        name: "status",
        usage: "status [NODE]",
        text: "The nodes' state. Needs the running cluster (also `show`).",
    },
    CommandHelp {
        name: "show",
        usage: "show [NODE]",
        text: "The nodes and their attributes. Needs the running cluster.",
    },
    CommandHelp {
        name: "attribute",
        usage: "attribute NODE set|delete|show NAME [VALUE]",
        text: "A node attribute (also utilization, status-attr). Needs the running cluster.",
    },
    CommandHelp {
        name: "utilization",
        usage: "utilization NODE set|delete|show NAME [VALUE]",
        text: "A node's capacity. Needs the running cluster.",
    },
    CommandHelp {
        name: "status-attr",
        usage: "status-attr NODE set|delete|show NAME [VALUE]",
        text: "A transient node attribute. Needs the running cluster.",
    },
    CommandHelp {
        name: "clearstate",
        usage: "clearstate NODE",
        text: "Forget a node's recorded state. Needs the running cluster.",
    },
    CommandHelp {
        name: "delete",
        usage: "delete NODE",
        text: "Remove a node from the cluster. Needs the running cluster.",
    },
    CommandHelp {
        name: "fence",
        usage: "fence NODE",
        text: "Fence a node. Needs the running cluster.",
    },
    CommandHelp {
        name: "server",
        usage: "server [NODE]",
        text: "A node's address. Needs the running cluster.",
    },
];
