//! Tab completion: command names of the current level as the first word, then object ids
//! of the staged configuration and the keywords of crm definitions.

use std::cell::RefCell;
use std::rc::Rc;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use tandem_cib::crm;
use tandem_xml::Document;

use super::levels::{Level, command_names};

/// Keywords offered after the first word at the configure level.
const KEYWORDS: &[&str] = &[
    "params",
    "meta",
    "utilization",
    "op",
    "op_params",
    "op_meta",
    "rule",
    "attributes",
    "monitor",
    "start",
    "stop",
    "promote",
    "demote",
    "interval=",
    "timeout=",
    "on-fail=",
    "inf:",
    "-inf:",
    "Mandatory:",
    "Optional:",
    "Serialize:",
    "symmetrical=false",
    "and",
    "or",
    "defined",
    "not_defined",
    "#uname",
    "eq",
    "ne",
    "lt",
    "gt",
    "lte",
    "gte",
    "date",
    "xml",
    "force",
    "update",
    "replace",
    // bundle, alert, ACL
    "docker",
    "podman",
    "network",
    "port-mapping",
    "storage",
    "storage-mapping",
    "primitive",
    "select",
    "to",
    "read",
    "write",
    "deny",
    "xpath:",
    "ref:",
    "type:",
    "attr:",
];

/// What completion offers, refreshed before each prompt.
#[derive(Clone, Default)]
pub struct State(Rc<RefCell<Words>>);

#[derive(Default)]
struct Words {
    commands: Vec<String>,
    ids: Vec<String>,
    configure: bool,
}

impl State {
    pub fn update(&self, level: Level, doc: Option<&Document>) {
        let mut w = self.0.borrow_mut();
        w.commands = command_names(level).iter().map(|s| s.to_string()).collect();
        w.configure = level == Level::Configure;
        w.ids = doc.map(crm::object_ids).unwrap_or_default();
        if let Some(d) = doc {
            for r in crm::resource_ids(d) {
                if !w.ids.contains(&r) {
                    w.ids.push(r);
                }
            }
        }
    }

    /// The candidates for the word that ends at the end of `line`.
    pub fn candidates(&self, line: &str) -> (usize, Vec<String>) {
        let start = line
            .rfind(|c: char| c.is_whitespace())
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &line[start..];
        let w = self.0.borrow();
        let first = line[..start].trim().is_empty();
        let pool: Vec<&str> = if first {
            w.commands.iter().map(String::as_str).collect()
        } else if w.configure {
            w.ids
                .iter()
                .map(String::as_str)
                .chain(KEYWORDS.iter().copied())
                .collect()
        } else {
            w.commands
                .iter()
                .map(String::as_str)
                .chain(["configure"])
                .collect()
        };
        let mut out: Vec<String> = pool
            .into_iter()
            .filter(|c| c.starts_with(word))
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        (start, out)
    }
}

/// The rustyline helper (completion only).
pub struct CrmHelper {
    state: State,
}

impl CrmHelper {
    pub fn new(state: State) -> CrmHelper {
        CrmHelper { state }
    }
}

impl Completer for CrmHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = self.state.candidates(&line[..pos]);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for CrmHelper {
    type Hint = String;
}
impl Highlighter for CrmHelper {}
impl Validator for CrmHelper {}
impl Helper for CrmHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_commands_then_ids() {
        let s = State::default();
        let mut doc = tandem_cib::Cib::empty().into_document();
        for c in crm::parse("primitive vip IPaddr2 params ip=1.2.3.4\nprimitive web systemd:httpd")
            .unwrap()
        {
            crm::execute(&mut doc, &c).unwrap();
        }
        s.update(Level::Configure, Some(&doc));
        assert_eq!(s.candidates("pri"), (0, vec!["primitive".to_string()]));
        assert_eq!(s.candidates("delete v"), (7, vec!["vip".to_string()]));
        assert_eq!(
            s.candidates("group g vip we"),
            (12, vec!["web".to_string()])
        );
        s.update(Level::Root, None);
        assert_eq!(s.candidates("conf"), (0, vec!["configure".to_string()]));
    }
}
