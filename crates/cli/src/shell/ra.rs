//! The resource agent level (`crm(live)ra# `, also `crm(live)configure ra# `): `tandem ra`'s
//! commands, typed as in crmsh (`classes`, `list ocf`, `info ocf:heartbeat:IPaddr`,
//! `providers IPaddr2`); `meta` is `info`, as in crmsh.

use clap::Parser;
use tandem_cib::crm::Statement;

use super::Shell;
use super::levels::{CommandHelp, Level, command_names, has_command};
use crate::cmd::ra::{RaArgs, run};

/// A line of the level, parsed as `tandem ra` parses its arguments.
#[derive(Parser, Debug)]
#[command(name = "ra")]
struct Line {
    #[command(flatten)]
    args: RaArgs,
}

pub fn dispatch(shell: &mut Shell<'_>, st: &Statement) {
    let mut word = st.words[0].text.to_ascii_lowercase();
    if word == "meta" {
        word = "info".to_string();
    }
    if !has_command(Level::Ra, &word) {
        return shell.error(format!(
            "{word}: No such command (at this level: {})",
            command_names(Level::Ra).join(", ")
        ));
    }
    let argv = ["ra".to_string(), word]
        .into_iter()
        .chain(st.words[1..].iter().map(|w| w.text.clone()));
    let args = match Line::try_parse_from(argv) {
        Ok(l) => l.args,
        Err(e) => return shell.error(super::clap_message(&e)),
    };
    if let Err(e) = run(args) {
        shell.command_error(&e);
    }
}

pub const HELP: &[CommandHelp] = &[
    CommandHelp {
        name: "classes",
        usage: "classes",
        text: "The agent classes, with the OCF providers (`ocf / heartbeat pacemaker ...`).",
    },
    CommandHelp {
        name: "list",
        usage: "list CLASS [PROVIDER]",
        text: "The agents of a class: `list ocf`, `list ocf heartbeat` (or ocf:heartbeat), \
               `list lsb`, `list systemd`, `list stonith`.",
    },
    CommandHelp {
        name: "info",
        usage: "info [CLASS:[PROVIDER:]]TYPE",
        text: "An agent's description, parameters (* required, [default]) and advised \
               operation timeouts (also `meta`). A bare TYPE or ocf:TYPE is found among the \
               OCF providers, heartbeat first.\n\nExample: info ocf:heartbeat:IPaddr2",
    },
    CommandHelp {
        name: "meta-data",
        usage: "meta-data [CLASS:[PROVIDER:]]TYPE",
        text: "An agent's meta-data XML, as the agent prints it.",
    },
    CommandHelp {
        name: "providers",
        usage: "providers TYPE [CLASS]",
        text: "The OCF providers that have an agent of this type.",
    },
];
