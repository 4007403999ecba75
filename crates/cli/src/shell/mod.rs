//! The interactive crm shell: `tandem` with no subcommand (or `crm`) opens `crm(live)# `;
//! `configure` enters `crm(live)configure# `, where crm configure commands are staged until
//! `commit`; `ra` (also inside `configure`: `crm(live)configure ra# `), `resource` and `node`
//! are the other levels; `cd ..`, `up` and `end` leave a level, `quit`, `exit` and `bye` the
//! shell. A line may start with level names (`configure show`, `ra list ocf`): the command
//! runs there and the shell comes back, as in crmsh.
//!
//! ```text
//!   terminal ──rustyline (editing, history, completion)──┐
//!   crm -f FILE / piped stdin ──whole text──────────────┴─▶ statements (crm lexer)
//!        ──▶ level table (root, configure, ...) ──▶ Staged CIB ──commit──▶ CibSource
//! ```
//!
//! Every level is a module with its own command table ([`levels::LEVELS`]). The prompt names the
//! CIB: `live` for the running cluster, the file's name for `CIB_file` (crmsh shows
//! `live` even then, and a shadow CIB's name otherwise; a file is closer to a shadow CIB).
//!
//! Read from a file or a pipe (scripts, tests), there are no prompts and no questions:
//! leaving the configure level with changes commits them, as crmsh does in batch mode, and
//! the exit status is that of the first command that failed: 1, or 102 when it needed the
//! running cluster (as the one-shot commands exit).

mod complete;
mod configure;
pub mod edit;
pub mod levels;
mod node;
mod ra;
mod resource;
mod root;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};
use tandem_cib::crm::{self, Statement};

use crate::cibsource::CibSource;
use crate::cmd::configure::Staged;
use levels::Level;

/// The most lines kept in the history file.
pub const MAX_HISTORY: usize = 1000;
/// The largest script read with `-f` (a configuration script is kilobytes).
pub const MAX_SCRIPT_BYTES: u64 = 64 * 1024 * 1024;

/// Where commands come from.
enum Input {
    /// A terminal: rustyline, prompts, questions.
    Terminal(Box<Editor<complete::CrmHelper, FileHistory>>),
    /// A script or a pipe, already split into statements.
    Batch(std::vec::IntoIter<Statement>),
}

/// A shell session.
pub struct Shell<'s> {
    source: &'s CibSource,
    /// The levels entered, below the top.
    stack: Vec<Level>,
    staged: Option<Staged>,
    input: Input,
    /// For messages: the script's name, `<stdin>`, or empty for the terminal.
    origin: String,
    /// The exit status of the first command that failed.
    failed: Option<u8>,
    done: bool,
    completion: complete::State,
}

/// Opens the shell on the terminal (or reads standard input when it is not one), starting
/// at `start` (`Some("configure")` for `tandem configure` with no arguments).
pub fn run_interactive(source: &CibSource, start: Option<&str>) -> anyhow::Result<ExitCode> {
    if !std::io::stdin().is_terminal() {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read standard input")?;
        if let Some(level) = start {
            text = format!("{level}\n{text}");
        }
        return run_script(source, &text, "<stdin>");
    }
    let completion = complete::State::default();
    let config = Config::builder()
        .max_history_size(MAX_HISTORY)
        .context("history size")?
        // Commands go into the history; answers to questions (y/n) do not.
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: Editor<complete::CrmHelper, FileHistory> =
        Editor::with_config(config).context("cannot set up line editing on this terminal")?;
    editor.set_helper(Some(complete::CrmHelper::new(completion.clone())));
    if let Some(h) = history_path() {
        // A missing or unreadable history is not worth failing for.
        let _ = editor.load_history(&h);
    }
    let mut shell = Shell {
        source,
        stack: Vec::new(),
        staged: None,
        input: Input::Terminal(Box::new(editor)),
        origin: String::new(),
        failed: None,
        done: false,
        completion,
    };
    if let Some(level) = start {
        // A failure is reported and recorded; the shell stays at the top.
        let _ = shell.enter(level);
    }
    let code = shell.run();
    if let (Input::Terminal(editor), Some(h)) = (&mut shell.input, history_path()) {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(&h);
    }
    Ok(code)
}

/// Runs a script (`crm -f FILE`, piped input).
pub fn run_script(source: &CibSource, text: &str, origin: &str) -> anyhow::Result<ExitCode> {
    let statements = match crm::split(text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ERROR: {}", e.in_file(origin));
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut shell = Shell {
        source,
        stack: Vec::new(),
        staged: None,
        input: Input::Batch(statements.into_iter()),
        origin: origin.to_string(),
        failed: None,
        done: false,
        completion: complete::State::default(),
    };
    Ok(shell.run())
}

/// `crm -f FILE`.
pub fn run_file(source: &CibSource, path: &Path) -> anyhow::Result<ExitCode> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_SCRIPT_BYTES {
        anyhow::bail!(
            "{} is {} bytes, more than the {MAX_SCRIPT_BYTES} a script may have",
            path.display(),
            meta.len()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    run_script(source, &text, &path.display().to_string())
}

fn history_path() -> Option<std::path::PathBuf> {
    let home = std::env::var_os("HOME")?;
    Some(Path::new(&home).join(".config/tandem/history"))
}

impl Shell<'_> {
    fn run(&mut self) -> ExitCode {
        while !self.done {
            let Some(st) = self.next_statement() else {
                break;
            };
            self.dispatch(&st);
        }
        // The end of the input leaves every level, as `quit` does.
        if !self.done {
            self.quit();
        }
        ExitCode::from(self.failed.unwrap_or(0))
    }

    /// The current level.
    fn level(&self) -> Level {
        self.stack.last().copied().unwrap_or(Level::Root)
    }

    fn interactive(&self) -> bool {
        matches!(self.input, Input::Terminal(_))
    }

    /// `crm(live)configure# ` or, for a CIB file, `crm(cib.xml)configure# `.
    fn prompt(&self) -> String {
        let cib = match self.source {
            CibSource::File { path: p, .. } => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "file".to_string()),
            CibSource::Live { .. } => "live".to_string(),
        };
        let path: Vec<&str> = self.stack.iter().map(|l| l.name()).collect();
        format!("crm({cib}){}# ", path.join(" "))
    }

    /// The next statement: from the script, or read from the terminal (joining lines that
    /// end in a backslash). `None` at the end of the input.
    fn next_statement(&mut self) -> Option<Statement> {
        let prompt = self.prompt();
        self.completion
            .update(self.level(), self.staged.as_ref().map(|s| &s.doc));
        match &mut self.input {
            Input::Batch(it) => it.next(),
            Input::Terminal(editor) => loop {
                let mut line = match editor.readline(&prompt) {
                    Ok(l) => l,
                    Err(rustyline::error::ReadlineError::Interrupted) => continue,
                    Err(_) => return None,
                };
                while line.ends_with('\\') {
                    match editor.readline("> ") {
                        Ok(more) => {
                            line.push('\n');
                            line.push_str(&more);
                        }
                        Err(_) => return None,
                    }
                }
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                match crm::split(&line) {
                    Ok(mut sts) if !sts.is_empty() => return Some(sts.remove(0)),
                    Ok(_) => continue,
                    Err(e) => {
                        // Not `self.error`: the editor borrows `self.input`.
                        eprintln!("ERROR: {e}");
                        self.failed.get_or_insert(1);
                    }
                }
            },
        }
    }

    /// Asks a yes/no question on the terminal; a script answers `yes`.
    fn ask(&mut self, question: &str) -> bool {
        match &mut self.input {
            Input::Batch(_) => true,
            Input::Terminal(editor) => loop {
                match editor.readline(&format!("{question} (y/n)? ")) {
                    Ok(a) if a.trim().eq_ignore_ascii_case("y") || a.trim() == "yes" => {
                        return true;
                    }
                    Ok(a) if a.trim().eq_ignore_ascii_case("n") || a.trim() == "no" => {
                        return false;
                    }
                    Ok(_) => continue,
                    Err(_) => return false,
                }
            },
        }
    }

    fn error(&mut self, message: impl std::fmt::Display) {
        self.error_code(message, 1);
    }

    /// Reports an error; the first one decides the exit status.
    fn error_code(&mut self, message: impl std::fmt::Display, code: u8) {
        eprintln!("ERROR: {message}");
        self.fail(code);
    }

    /// Records a failed command that said why itself.
    fn fail(&mut self, code: u8) {
        self.failed.get_or_insert(code);
    }

    /// Reports an error of a command (`anyhow`), with the exit status the one-shot command
    /// would have (102 when the running cluster was needed).
    fn command_error(&mut self, e: &anyhow::Error) {
        let code = if e.downcast_ref::<crate::cibsource::NoCluster>().is_some() {
            crate::EXIT_DISCONNECT
        } else {
            1
        };
        self.error_code(format!("{e:#}"), code);
    }

    /// Where a statement came from, for error messages (`FILE:` or nothing).
    fn located(&self, e: &dyn LocatedError) -> String {
        if self.origin.is_empty() {
            e.plain()
        } else {
            e.in_file(&self.origin)
        }
    }

    fn dispatch(&mut self, st: &Statement) {
        let first = &st.words[0];
        let word = first.text.to_ascii_lowercase();
        // Commands every level has.
        match word.as_str() {
            "quit" | "exit" | "bye" => return self.quit(),
            "help" | "?" => {
                let topic = st.words.get(1).map(|w| w.text.as_str());
                return match levels::help(self.level(), topic) {
                    Ok(text) => print!("{text}"),
                    Err(e) => {
                        // Not `self.error`: the editor borrows `self.input`.
                        eprintln!("ERROR: {e}");
                        self.failed.get_or_insert(1);
                    }
                };
            }
            "up" | "end" | "back" => {
                self.leave();
                return;
            }
            "cd" => {
                match st.words.get(1).map(|w| w.text.as_str()) {
                    None | Some("..") | Some("../") => {
                        self.leave();
                    }
                    Some("/") => while !self.stack.is_empty() && self.leave() {},
                    Some(level) => {
                        self.enter(level);
                    }
                }
                return;
            }
            "ls" => {
                print!("{}", levels::list(self.level()));
                return;
            }
            _ => {}
        }
        // Level names first: `configure`, `configure show`, `ra list ocf`.
        let depth = self.stack.len();
        let mut taken = 0;
        while let Some(w) = st.words.get(taken) {
            if self.level().child(&w.text).is_none() {
                break;
            }
            if !self.enter(&w.text) {
                return self.back_out(depth);
            }
            taken += 1;
        }
        if taken == st.words.len() {
            return;
        }
        let rest = if taken == 0 {
            st.clone()
        } else {
            drop_words(st, taken)
        };
        match self.level() {
            Level::Root => root::dispatch(self, &rest),
            Level::Configure => configure::dispatch(self, &rest),
            Level::Ra => ra::dispatch(self, &rest),
            Level::Resource => resource::dispatch(self, &rest),
            Level::Node => node::dispatch(self, &rest),
        }
        if taken > 0 {
            self.back_out(depth);
        }
    }

    /// Leaves levels until `depth` are left (after a command run through level names).
    fn back_out(&mut self, depth: usize) {
        while self.stack.len() > depth {
            if !self.leave() {
                break;
            }
        }
    }

    /// Enters a child level of the current one by name; false if that failed.
    fn enter(&mut self, name: &str) -> bool {
        let Some(level) = self.level().child(name) else {
            self.error(format!("{name}: no such level here"));
            return false;
        };
        if level == Level::Configure && self.staged.is_none() {
            match Staged::load(self.source) {
                Ok(s) => self.staged = Some(s),
                Err(e) => {
                    self.command_error(&e);
                    return false;
                }
            }
        }
        self.stack.push(level);
        true
    }

    /// Leaves the current level; leaving `configure` with staged changes commits them
    /// (a script) or asks (the terminal). False if it stayed.
    fn leave(&mut self) -> bool {
        if self.level() == Level::Configure && !self.settle_changes() {
            return false;
        }
        self.stack.pop();
        true
    }

    /// Deals with staged changes before leaving; false to stay.
    fn settle_changes(&mut self) -> bool {
        let dirty = self.staged.as_ref().is_some_and(|s| s.dirty);
        if !dirty {
            self.staged = None;
            return true;
        }
        if !self.ask("There are changes pending. Do you want to commit them") {
            self.staged = None;
            return true;
        }
        if self.commit(false) {
            self.staged = None;
            return true;
        }
        // In a script there is nobody to fix the changes: report and drop them.
        if !self.interactive() {
            self.staged = None;
            return true;
        }
        false
    }

    fn quit(&mut self) {
        while !self.stack.is_empty() {
            if !self.leave() {
                return;
            }
        }
        self.done = true;
        if self.interactive() {
            println!("bye");
        }
    }

    /// Commits the staged changes; false (and an error) if refused.
    fn commit(&mut self, force: bool) -> bool {
        let Some(staged) = self.staged.as_mut() else {
            return true;
        };
        match staged.commit(self.source, force) {
            Ok(()) => true,
            Err(e) => {
                self.error(format!("{e:#}"));
                false
            }
        }
    }
}

/// The statement without its first `n` words (level names, plain words): what the level
/// reached runs. The raw text (read by `xml`) loses them too.
fn drop_words(st: &Statement, n: usize) -> Statement {
    let mut rest = st.clone();
    let removed: Vec<_> = rest.words.drain(..n).collect();
    let mut raw = rest.raw.as_str();
    for w in &removed {
        let trimmed = raw.trim_start();
        raw = trimmed
            .get(..w.text.len())
            .filter(|head| head.eq_ignore_ascii_case(&w.text))
            .map_or(trimmed, |_| &trimmed[w.text.len()..]);
    }
    let raw = raw.to_string();
    rest.raw = raw.clone();
    // `configure xml ...`: the XML was split like the rest of the line; read it again as an
    // `xml` statement is read (verbatim), its positions shifted to where it stands.
    if rest
        .words
        .first()
        .is_some_and(|w| w.text.eq_ignore_ascii_case("xml"))
        && let Ok(mut again) = crm::split(&raw)
        && again.len() == 1
    {
        let at = rest.words[0].pos;
        let mut st = again.remove(0);
        for w in &mut st.words {
            if w.pos.line == 1 {
                w.pos.column += at.column - 1;
            }
            w.pos.line += at.line - 1;
        }
        st.comments = rest.comments;
        return st;
    }
    rest
}

/// A command-line error of a level's command as one line (clap's first, without
/// `error: `).
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// crm errors that can be shown with or without the file name.
trait LocatedError {
    fn plain(&self) -> String;
    fn in_file(&self, origin: &str) -> String;
}

impl LocatedError for crm::SyntaxError {
    fn plain(&self) -> String {
        self.to_string()
    }
    fn in_file(&self, origin: &str) -> String {
        crm::SyntaxError::in_file(self, origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_names_the_cib_and_the_levels() {
        let source = CibSource::new(
            Some(Path::new("/tmp/cib.xml")),
            Path::new("/nonexistent/run"),
        );
        let mut shell = Shell {
            source: &source,
            stack: Vec::new(),
            staged: None,
            input: Input::Batch(Vec::new().into_iter()),
            origin: String::new(),
            failed: None,
            done: false,
            completion: complete::State::default(),
        };
        assert_eq!(shell.prompt(), "crm(cib.xml)# ");
        shell.stack = vec![Level::Configure, Level::Ra];
        assert_eq!(shell.prompt(), "crm(cib.xml)configure ra# ");
        let live = CibSource::new(None, Path::new("/nonexistent/run"));
        shell.source = &live;
        shell.stack = vec![Level::Resource];
        assert_eq!(shell.prompt(), "crm(live)resource# ");
    }

    #[test]
    fn level_words_are_dropped_from_the_raw_text() {
        let st = crm::split("configure xml <tag id='t'><obj_ref id='a'/></tag>")
            .unwrap()
            .remove(0);
        let rest = drop_words(&st, 1);
        assert_eq!(rest.words[0].text, "xml");
        assert!(rest.raw.starts_with("xml <tag"), "{}", rest.raw);
    }
}
