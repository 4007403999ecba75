//! The top level (`crm(live)# `): the levels, and `status`.

use tandem_cib::crm::Statement;

use super::Shell;
use super::levels::{CommandHelp, Level, command_names};
use crate::cibsource::NoCluster;

pub fn dispatch(shell: &mut Shell<'_>, st: &Statement) {
    let first = &st.words[0];
    match first.text.to_ascii_lowercase().as_str() {
        "status" => {
            let e = anyhow::Error::new(status_needs_cluster(shell.source.run_dir()));
            shell.command_error(&e);
        }
        other => shell.error(format!(
            "{other}: No such command (at this level: {})",
            command_names(Level::Root).join(", ")
        )),
    }
}

/// `status` (crm status, crm_mon) shows the running cluster; there is none yet.
pub fn status_needs_cluster(run_dir: &std::path::Path) -> NoCluster {
    NoCluster {
        run_dir: run_dir.to_path_buf(),
        hint: "status shows the running cluster; `tandem simulate` shows the status recorded \
               in a CIB file (CIB_file=PATH, or -x PATH)",
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
        text: "Enter the resource level: force-start, force-stop, force-check, force-promote, \
               force-demote run one action of a resource here.",
    },
    CommandHelp {
        name: "node",
        usage: "node [COMMAND ...]",
        text: "Enter the node level (standby, online, ...: the running cluster's nodes).",
    },
    CommandHelp {
        name: "status",
        usage: "status [full|bynode|inactive|ops|timing|failcounts|verbose|xml|brief]",
        text: "The running cluster's status (as crm_mon -1). Needs the running cluster; for the \
               status recorded in a CIB file, use `tandem simulate`.",
    },
];
