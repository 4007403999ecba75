//! The node level (`crm(live)node# `): crmsh's node commands (`cmd::node`).

use tandem_cib::crm::Statement;

use super::Shell;
use super::levels::{CommandHelp, Level, command_names};

pub fn dispatch(shell: &mut Shell<'_>, st: &Statement) {
    let word = st.words[0].text.to_ascii_lowercase();
    if !crate::cmd::node::COMMANDS.contains(&word.as_str()) {
        return shell.error(format!(
            "{word}: No such command (at this level: {})",
            command_names(Level::Node).join(", ")
        ));
    }
    let mut words: Vec<String> = st.words.iter().map(|w| w.text.clone()).collect();
    words[0] = word;
    match crate::cmd::node::run_words(&words, shell.source) {
        Ok(text) => print!("{text}"),
        Err(e) => shell.command_error(&e),
    }
}

pub const HELP: &[CommandHelp] = &[
    CommandHelp {
        name: "standby",
        usage: "standby [NODE] [reboot|forever]",
        text: "Put a node in standby (its resources move away).",
    },
    CommandHelp {
        name: "online",
        usage: "online [NODE]",
        text: "Take a node out of standby.",
    },
    CommandHelp {
        name: "maintenance",
        usage: "maintenance [NODE]",
        text: "Put a node in maintenance mode.",
    },
    CommandHelp {
        name: "ready",
        usage: "ready [NODE]",
        text: "Take a node out of maintenance mode.",
    },
    CommandHelp {
        name: "status",
        usage: "status [NODE]",
        text: "The nodes' state. Also `show`.",
    },
    CommandHelp {
        name: "show",
        usage: "show [NODE]",
        text: "The nodes and their attributes.",
    },
    CommandHelp {
        name: "attribute",
        usage: "attribute NODE set|delete|show NAME [VALUE]",
        text: "A node attribute (also utilization, status-attr).",
    },
    CommandHelp {
        name: "utilization",
        usage: "utilization NODE set|delete|show NAME [VALUE]",
        text: "A node's capacity.",
    },
    CommandHelp {
        name: "status-attr",
        usage: "status-attr NODE set|delete|show NAME [VALUE]",
        text: "A transient node attribute.",
    },
    CommandHelp {
        name: "clearstate",
        usage: "clearstate NODE",
        text: "Forget a node's recorded state.",
    },
    CommandHelp {
        name: "delete",
        usage: "delete NODE",
        text: "Remove a node from the cluster.",
    },
    CommandHelp {
        name: "fence",
        usage: "fence NODE",
        text: "Fence a node.",
    },
    CommandHelp {
        name: "server",
        usage: "server [NODE]",
        text: "A node's address.",
    },
];
