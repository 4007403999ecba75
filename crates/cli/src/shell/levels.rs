//! The level table: which levels the shell has, the commands of each, and their help.
//! A new level is a module with its dispatch function, a [`Level`] variant and a row in
//! [`LEVELS`].

/// A level of the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Root,
    Configure,
    Ra,
    Resource,
    Node,
}

impl Level {
    /// The level's name, as typed and as the prompt shows it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Root => "",
            Level::Configure => "configure",
            Level::Ra => "ra",
            Level::Resource => "resource",
            Level::Node => "node",
        }
    }

    /// The levels that can be entered from this one (crmsh's tree: `ra` is also a child
    /// of `configure`).
    pub fn children(self) -> &'static [Level] {
        match self {
            Level::Root => &[Level::Configure, Level::Ra, Level::Resource, Level::Node],
            Level::Configure => &[Level::Ra],
            Level::Ra | Level::Resource | Level::Node => &[],
        }
    }

    /// The child level called `name`.
    pub fn child(self, name: &str) -> Option<Level> {
        let name = name.trim_end_matches('/');
        self.children()
            .iter()
            .copied()
            .find(|l| l.name().eq_ignore_ascii_case(name))
    }

    fn def(self) -> &'static LevelDef {
        LEVELS
            .iter()
            .find(|l| l.level == self)
            .expect("every level has a row")
    }
}

/// A command's help: its name, usage line and description.
pub struct CommandHelp {
    pub name: &'static str,
    pub usage: &'static str,
    pub text: &'static str,
}

pub struct LevelDef {
    pub level: Level,
    pub summary: &'static str,
    pub commands: &'static [CommandHelp],
    /// crmsh commands of the level without their own help row (aliases and variants of the
    /// ones described).
    pub cluster_commands: &'static [&'static str],
}

/// Commands every level has.
pub const COMMON: &[CommandHelp] = &[
    CommandHelp {
        name: "help",
        usage: "help [COMMAND]",
        text: "List the commands of this level, or explain one.",
    },
    CommandHelp {
        name: "cd",
        usage: "cd [LEVEL|..]",
        text: "Enter a level (`cd configure`), go up one (`cd ..`, or `cd` alone), or to the top \
               (`cd /`).",
    },
    CommandHelp {
        name: "up",
        usage: "up",
        text: "Go up one level (also `end`, `back`). Leaving `configure` with changes not \
               committed asks whether to commit them.",
    },
    CommandHelp {
        name: "ls",
        usage: "ls",
        text: "List the commands of this level.",
    },
    CommandHelp {
        name: "quit",
        usage: "quit",
        text: "Leave the shell (also `exit`, `bye`), asking first about changes not committed.",
    },
];

pub const LEVELS: &[LevelDef] = &[
    LevelDef {
        level: Level::Root,
        summary: "The top level. Enter `configure` to change the cluster configuration, `ra` \
                  for resource agents, `resource` and `node` for the running cluster.",
        commands: super::root::HELP,
        cluster_commands: &[],
    },
    LevelDef {
        level: Level::Configure,
        summary: "Change the cluster configuration with crm configure commands. Changes are \
                  staged until `commit`; `verify` checks them first. `ra` enters the resource \
                  agent level.",
        commands: super::configure::HELP,
        cluster_commands: &[],
    },
    LevelDef {
        level: Level::Ra,
        summary: "Resource agents: their classes, the agents of a class, an agent's \
                  parameters and advised timeouts.",
        commands: super::ra::HELP,
        cluster_commands: &[],
    },
    LevelDef {
        level: Level::Resource,
        summary: "Resources: start, stop, move, ban, clear, cleanup, locate, why, ...; the \
                  force-* commands run one action of a resource here, as the cluster would \
                  run it.",
        commands: super::resource::HELP,
        cluster_commands: crate::cmd::rsc::COMMANDS,
    },
    LevelDef {
        level: Level::Node,
        summary: "Nodes: standby, online, maintenance, ready and their attributes.",
        commands: super::node::HELP,
        cluster_commands: crate::cmd::node::COMMANDS,
    },
];

/// `help` or `help COMMAND` at a level.
pub fn help(level: Level, topic: Option<&str>) -> Result<String, String> {
    let def = level.def();
    let Some(topic) = topic else {
        let mut out = format!("{}\n\nCommands:\n", def.summary);
        for c in def.commands.iter().chain(COMMON) {
            let first = c.text.split(". ").next().unwrap_or(c.text);
            out.push_str(&format!(
                "  {:<18}{}\n",
                c.name,
                first.trim_end_matches('.')
            ));
        }
        out.push_str("\nType `help COMMAND` for details.\n");
        return Ok(out);
    };
    let found = def
        .commands
        .iter()
        .chain(COMMON)
        .find(|c| c.name == topic)
        .or_else(|| alias(topic).and_then(|a| COMMON.iter().find(|c| c.name == a)));
    match found {
        Some(c) => Ok(format!("usage: {}\n\n{}\n", c.usage, wrap(c.text))),
        None if def.cluster_commands.contains(&topic) => Ok(format!(
            "usage: {topic} ...\n\n{}\n",
            wrap(
                "an alias or a variant of a command described by `help` at this level (start \
                 for stop/promote/demote/manage/unmanage, move for migrate, clear for \
                 unmove/unmigrate/unban, status for show/list, param for meta/utilization)."
            )
        )),
        None => Err(format!(
            "no help for {topic}: it is not a command of this level"
        )),
    }
}

fn alias(name: &str) -> Option<&'static str> {
    Some(match name {
        "exit" | "bye" => "quit",
        "end" | "back" => "up",
        _ => return None,
    })
}

/// `ls`: the command names of a level.
pub fn list(level: Level) -> String {
    format!("{}\n", names(level).join(" "))
}

/// A level's command names: its own, crmsh's that need the cluster, the common ones.
fn names(level: Level) -> Vec<&'static str> {
    let def = level.def();
    let mut v: Vec<&str> = def.commands.iter().map(|c| c.name).collect();
    for c in def.cluster_commands {
        if !v.contains(c) {
            v.push(c);
        }
    }
    v.extend(COMMON.iter().map(|c| c.name));
    v
}

/// The names completion offers as a first word.
pub fn command_names(level: Level) -> Vec<&'static str> {
    let mut v = names(level);
    v.extend(
        level
            .children()
            .iter()
            .map(|l| l.name())
            .filter(|n| !v.contains(n))
            .collect::<Vec<_>>(),
    );
    v.extend(["exit", "bye", "end", "back"]);
    v
}

/// True if `name` is a command of `level` (its own, not the common ones).
pub fn has_command(level: Level, name: &str) -> bool {
    level.def().commands.iter().any(|c| c.name == name)
}

/// Wraps help text at 80 columns.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    for para in text.split("\n\n") {
        let mut col = 0;
        for word in para.split_whitespace() {
            if col + word.len() + 1 > 80 && col > 0 {
                out.push('\n');
                col = 0;
            } else if col > 0 {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += word.len();
        }
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out
}
