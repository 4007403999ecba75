//! The level table: which levels the shell has, the commands of each, and their help.
//! A new level (`resource`, `node`, `ra`, `status`) is a module with its dispatch function,
//! a [`Level`] variant and a row in [`LEVELS`].

/// A level of the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Root,
    Configure,
}

impl Level {
    pub fn by_name(name: &str) -> Option<Level> {
        match name.trim_end_matches('/') {
            "configure" => Some(Level::Configure),
            "" | ".." | "/" | "root" => Some(Level::Root),
            _ => None,
        }
    }

    /// What the prompt shows after `crm(live)`.
    pub fn prompt_part(self) -> &'static str {
        match self {
            Level::Root => "",
            Level::Configure => "configure",
        }
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
        text: "Enter a level (`cd configure`), or go up one (`cd ..`, or `cd` alone).",
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
        summary: "The top level. Enter `configure` to change the cluster configuration.",
        commands: &[CommandHelp {
            name: "configure",
            usage: "configure [COMMAND ...]",
            text: "Enter the configure level, or run one configure command from here \
                   (`configure show`).",
        }],
    },
    LevelDef {
        level: Level::Configure,
        summary: "Change the cluster configuration with crm configure commands. Changes are \
                  staged until `commit`; `verify` checks them first.",
        commands: super::configure::HELP,
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
    let names: Vec<&str> = level
        .def()
        .commands
        .iter()
        .chain(COMMON)
        .map(|c| c.name)
        .collect();
    format!("{}\n", names.join(" "))
}

/// The names completion offers as a first word.
pub fn command_names(level: Level) -> Vec<&'static str> {
    let mut v: Vec<&str> = level
        .def()
        .commands
        .iter()
        .chain(COMMON)
        .map(|c| c.name)
        .collect();
    v.extend(["exit", "bye", "end", "back"]);
    v
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
