//! The top level (`crm(live)# `): the levels, and `status`.

use tandem_cib::crm::Statement;

use super::Shell;
use super::levels::{CommandHelp, Level, command_names};

pub fn dispatch(shell: &mut Shell<'_>, st: &Statement) {
    let first = &st.words[0];
    match first.text.to_ascii_lowercase().as_str() {
        "status" => {
            let words: Vec<String> = st.words[1..].iter().map(|w| w.text.clone()).collect();
            match crate::cmd::status::text(&words, shell.source) {
                Ok(text) => print!("{text}"),
                Err(e) => shell.command_error(&e),
            }
        }
        other => shell.error(format!(
            "{other}: No such command (at this level: {})",
            command_names(Level::Root).join(", ")
        )),
    }
}

/// The top level's commands and their help.
pub const HELP: &[CommandHelp] = &[
    CommandHelp {
        name: "configure",
        usage: "configure [COMMAND ...]",
        text: "Enter the configure level, or run one configure command from here \
               (`configure show`).",
    },
    CommandHelp {
        name: "ra",
        usage: "ra [COMMAND ...]",
        text: "Enter the resource agent level (classes, list, info, providers), or run one of \
               its commands from here (`ra classes`).",
    },
    CommandHelp {
        name: "resource",
        usage: "resource [COMMAND ...]",
        text: "Enter the resource level: start, stop, move, ban, clear, cleanup, locate, why, \
               ...; force-start, force-stop, force-check, force-promote, force-demote run one \
               action of a resource here.",
    },
    CommandHelp {
        name: "node",
        usage: "node [COMMAND ...]",
        text: "Enter the node level (standby, online, maintenance, ready, attribute, ...).",
    },
    CommandHelp {
        name: "status",
        usage: "status [full|bynode|inactive|ops|timing|failcounts|attributes|xml]",
        text: "The cluster's status, as crm_mon -1 shows it (of the CIB file when one is \
               given).",
    },
];
