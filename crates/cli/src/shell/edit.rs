//! `edit`: the configuration (or some objects) as crm text in `$EDITOR`; what is saved is
//! parsed and applied, mistakes are shown and, on a terminal, the user may edit again.
//! There is no timeout on the editor: it is the user's own interactive program.

use std::io::IsTerminal;
use std::process::Command;

use anyhow::{Context, bail};
use tandem_cib::crm;
use tandem_xml::Document;

/// Edits `doc` in place; returns whether it changed.
pub fn edit(doc: &mut Document, ids: &[String]) -> anyhow::Result<bool> {
    let text = crm::show(doc, ids).map_err(|id| anyhow::anyhow!("object {id} does not exist"))?;
    let shown: Vec<String> = if ids.is_empty() {
        crm::object_ids(doc)
    } else {
        ids.to_vec()
    };
    let path = std::env::temp_dir().join(format!("tandem-edit-{}.crm", std::process::id()));
    std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    let result = edit_loop(doc, &shown, &text, &path);
    let _ = std::fs::remove_file(&path);
    result
}

fn edit_loop(
    doc: &mut Document,
    shown: &[String],
    original: &str,
    path: &std::path::Path,
) -> anyhow::Result<bool> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_string());
    loop {
        // Through the shell, so that EDITOR may carry arguments (`EDITOR="code -w"`).
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(path)
            .status()
            .with_context(|| format!("cannot run the editor {editor}"))?;
        if !status.success() {
            bail!("the editor {editor} failed ({status}); nothing was changed");
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if text == original {
            return Ok(false);
        }
        match crm::apply_edit(doc, shown, &text) {
            Ok(notes) => {
                for n in notes {
                    eprintln!("INFO: {n}");
                }
                return Ok(true);
            }
            Err(e) => {
                let msg = e.in_file(&path.display().to_string());
                if !std::io::stdin().is_terminal() {
                    bail!("{msg}; nothing was changed");
                }
                eprintln!("ERROR: {msg}");
                if !ask("Edit again")? {
                    eprintln!("INFO: nothing was changed");
                    return Ok(false);
                }
            }
        }
    }
}

fn ask(question: &str) -> anyhow::Result<bool> {
    loop {
        eprint!("{question} (y/n)? ");
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            return Ok(false);
        }
        match line.trim() {
            "y" | "Y" | "yes" => return Ok(true),
            "n" | "N" | "no" => return Ok(false),
            _ => {}
        }
    }
}
