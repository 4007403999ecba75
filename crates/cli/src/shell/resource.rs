//! The resource level (`crm(live)resource# `): crmsh's resource commands (start, stop,
//! move, ban, clear, cleanup, locate, failcount, status, why, ... — `cmd::rsc`) and the
//! `force-*` commands of `tandem resource` (one action of a resource, run here as the
//! cluster would run it).

use clap::Parser;
use tandem_cib::crm::Statement;

use super::Shell;
use super::levels::{CommandHelp, Level, command_names};
use crate::cmd::resource::{ResourceArgs, run_code};

/// A line of the level, parsed as `tandem resource` parses its arguments.
#[derive(Parser, Debug)]
#[command(name = "resource")]
struct Line {
    #[command(flatten)]
    args: ResourceArgs,
}

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
    if crate::cmd::rsc::COMMANDS.contains(&word.as_str()) {
        let mut words: Vec<String> = st.words.iter().map(|w| w.text.clone()).collect();
        words[0] = word;
        return match crate::cmd::rsc::run(&words, shell.source) {
            Ok(0) => {}
            Ok(code) => shell.fail(code),
            Err(e) => shell.command_error(&e),
        };
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
        usage: "status [RSC ...]",
        text: "Where resources run (also show, list): the resource list as `status` prints it, \
               or for each RSC where it runs.",
    },
    CommandHelp {
        name: "start",
        usage: "start RSC",
        text: "Let a resource run: target-role=Started (stop, promote, demote set Stopped, \
               Promoted, Unpromoted; manage and unmanage set is-managed).",
    },
    CommandHelp {
        name: "restart",
        usage: "restart RSC",
        text: "Stop a resource, wait until the cluster reports it stopped, and start it again.",
    },
    CommandHelp {
        name: "move",
        usage: "move RSC [NODE] [LIFETIME] [force]",
        text: "Move a resource to NODE with a cli-prefer-RSC constraint (also migrate); without \
               NODE, ban it from the node it runs on. LIFETIME is an ISO 8601 duration (PT1H).",
    },
    CommandHelp {
        name: "ban",
        usage: "ban RSC [NODE] [LIFETIME] [force]",
        text: "Keep a resource off NODE (default: the node it runs on) with a \
               cli-ban-RSC-on-NODE constraint.",
    },
    CommandHelp {
        name: "clear",
        usage: "clear RSC [NODE]",
        text: "Remove the constraints move and ban made (also unmove, unmigrate, unban).",
    },
    CommandHelp {
        name: "cleanup",
        usage: "cleanup [RSC] [NODE]",
        text: "Forget failures: fail counts and failed operations.",
    },
    CommandHelp {
        name: "locate",
        usage: "locate RSC",
        text: "Where the resource runs.",
    },
    CommandHelp {
        name: "failcount",
        usage: "failcount RSC show|delete|set NODE [VALUE]",
        text: "A resource's fail count on a node.",
    },
    CommandHelp {
        name: "param",
        usage: "param RSC set|delete|show NAME [VALUE]",
        text: "A resource's instance attribute (also meta for meta-attributes, utilization \
               for its utilization).",
    },
    CommandHelp {
        name: "maintenance",
        usage: "maintenance RSC [on|off]",
        text: "Put a resource in maintenance (the cluster neither starts, stops nor monitors \
               it), or take it out.",
    },
    CommandHelp {
        name: "scores",
        usage: "scores",
        text: "Every resource's allocation score on every node, as crm_simulate -s prints them.",
    },
    CommandHelp {
        name: "why",
        usage: "why RSC",
        text: "Why the resource runs where it runs (or does not run): every node's score, what \
               made it, and what blocks the resource.",
    },
];
