//! `tandem configure ...`: the crm configure language as one-shot commands
//! (`tandem configure primitive vip IPaddr2 params ip=10.0.0.100`, `tandem configure show`),
//! and the staging and commit rules the interactive shell shares.
//!
//! A change is written only if the resulting CIB loads and `verify` finds no error in it (as
//! crmsh refuses to commit what `crm_verify` rejects); it is written as the successor of the
//! CIB it was made from (epoch + 1), atomically, and only if nobody changed the CIB in the
//! meantime. A refused change leaves the CIB file byte for byte as it was.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use tandem_cib::crm::{self, Command, Located, Outcome};
use tandem_cib::{Cib, Problem, Severity, verify_at};
use tandem_xml::Document;

use crate::cibsource::{CibSource, read_cib_text};

#[derive(Args, Debug, Default)]
pub struct ConfigureArgs {
    /// A crm configure command and its arguments, as you would type it in the shell
    /// (`primitive vip IPaddr2 params ip=10.0.0.100`, `show`, `load update FILE`); none opens
    /// the interactive shell at the configure level.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub words: Vec<String>,
}

pub fn run(args: ConfigureArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    if args.words.is_empty() {
        return crate::shell::run_interactive(source, Some("configure"));
    }
    // `xml` takes the rest verbatim: quoting it for the shell splitter would end up in the
    // XML.
    let text = if args.words[0].eq_ignore_ascii_case("xml") {
        args.words.join(" ")
    } else {
        join_words(&args.words)
    };
    let mut cmds = crm::parse(&text).map_err(|e| anyhow::anyhow!(e.in_file("command line")))?;
    let Some(cmd) = cmds.pop() else {
        bail!("no command given");
    };
    let mut staged = Staged::load(source)?;
    let printed = staged.execute(&cmd, "command line", &mut std::io::stdout())?;
    if let Some(code) = printed {
        return Ok(code);
    }
    if staged.dirty {
        staged.commit(source, false)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds crm text from command-line words the shell already split, quoting the words
/// that would otherwise split again (`params description="a b"` arrives as one word).
pub fn join_words(words: &[String]) -> String {
    let quote = |w: &String| {
        let plain = !w.is_empty()
            && !w.starts_with('#')
            && !w
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
        if plain {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', r"'\''"))
        }
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// The CIB a configure session works on: the one it started from and the staged changes.
pub struct Staged {
    pub base: Cib,
    pub doc: Document,
    /// True when `doc` differs from `base` by commands not yet committed.
    pub dirty: bool,
}

impl Staged {
    pub fn load(source: &CibSource) -> anyhow::Result<Staged> {
        let base = source.load()?;
        let doc = base.document().clone();
        Ok(Staged {
            base,
            doc,
            dirty: false,
        })
    }

    /// Runs one configure command on the staged CIB. Returns `Some(exit code)` for commands
    /// that finish the work themselves (`verify`), `None` otherwise.
    pub fn execute(
        &mut self,
        cmd: &Located<Command>,
        origin: &str,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Option<ExitCode>> {
        match &cmd.value {
            Command::Verify => {
                let cib = Cib::from_document(self.doc.clone())?;
                let problems = check(&cib);
                for p in &problems {
                    writeln!(out, "{p}")?;
                }
                // crmsh's advice: operation timeouts below what the agent recommends.
                let dirs = crate::cmd::ra::AgentDirs::from_env();
                for w in crate::cmd::ra::advised_timeout_warnings(&cib, &dirs) {
                    eprintln!("WARNING: {w}");
                }
                let errors = problems.iter().any(|p| p.severity == Severity::Error);
                return Ok(Some(if errors {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                }));
            }
            Command::Commit { .. } => return Ok(None),
            Command::Load { method, xml, path } => {
                let text = read_cib_text(Path::new(path))?;
                if *xml {
                    self.load_xml(&text, *method, path)?;
                } else {
                    crm::load(&mut self.doc, &text, *method)
                        .map_err(|e| anyhow::anyhow!(e.in_file(path)))?;
                }
                self.dirty = true;
                return Ok(None);
            }
            Command::Edit(ids) => {
                if crate::shell::edit::edit(&mut self.doc, ids)? {
                    self.dirty = true;
                }
                return Ok(None);
            }
            _ => {}
        }
        match crm::execute(&mut self.doc, cmd).map_err(|e| anyhow::anyhow!(e.in_file(origin)))? {
            Outcome::Output(text) => write!(out, "{text}")?,
            Outcome::Changed(notes) => {
                for n in notes {
                    eprintln!("INFO: {n}");
                }
                self.dirty = true;
            }
            Outcome::NotPure => {}
        }
        Ok(None)
    }

    /// `load xml update|replace FILE`: a CIB (or configuration) in XML.
    fn load_xml(&mut self, text: &str, method: crm::LoadMethod, path: &str) -> anyhow::Result<()> {
        let new = Cib::parse(text).map_err(|e| anyhow::anyhow!("{path}:{e}"))?;
        let new_doc = new.document();
        let mut work = self.doc.clone();
        if method == crm::LoadMethod::Replace {
            crm::erase(&mut work);
        }
        let mut objects = Vec::new();
        for o in crm::all_objects(new_doc) {
            let e = crm::elem_from_doc(new_doc, o.node);
            objects.push(Located {
                pos: crm::Pos::START,
                value: crm::Object::Xml(e),
            });
        }
        crm::define_all(&mut work, &objects, crm::Mode::Update)
            .map_err(|e| anyhow::anyhow!(e.in_file(path)))?;
        self.doc = work;
        Ok(())
    }

    /// Verifies and writes the staged CIB. On refusal nothing is written and the staged
    /// changes stay, so they can be fixed.
    pub fn commit(&mut self, source: &CibSource, force: bool) -> anyhow::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let next = self
            .base
            .successor(self.doc.clone())
            .context("the changed CIB does not load; nothing was committed")?;
        let problems = check(&next);
        let errors: Vec<&Problem> = problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .collect();
        for p in problems.iter().filter(|p| p.severity == Severity::Warning) {
            eprintln!("WARNING: {}", p.message_line());
        }
        if !errors.is_empty() && !force {
            let lines: Vec<String> = errors.iter().map(|p| p.message_line()).collect();
            bail!(
                "commit refused, nothing was written: the configuration has errors\n  {}\n\
                 (fix them, or use `commit force` to write it anyway)",
                lines.join("\n  ")
            );
        }
        // The store refuses a CIB changed since `base` was read (the file's version, the
        // cluster's epoch), writing nothing.
        source.store(&self.base, &next)?;
        // The cluster numbers and stamps the change itself: go on from what it holds (from
        // our own successor if it cannot be read back, which only costs a stale refusal).
        let next = match source {
            CibSource::Live { .. } => source.load().unwrap_or(next),
            CibSource::File { .. } => next,
        };
        self.doc = next.document().clone();
        self.base = next;
        self.dirty = false;
        Ok(())
    }
}

/// `verify` on a CIB: its loading problems and the checks of `tandem verify`, each once.
pub fn check(cib: &Cib) -> Vec<Problem> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    verify_at(cib, tandem_cib::DateTime::from_epoch(now))
}

/// A problem as one line: `object: message`.
trait MessageLine {
    fn message_line(&self) -> String;
}

impl MessageLine for Problem {
    fn message_line(&self) -> String {
        if self.object.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.object, self.message)
        }
    }
}
