//! `tandem cib`: whole-CIB and whole-section operations, like `cibadmin`.
//!
//! `query` prints the CIB or one section (`-o/--scope`, cibadmin's scope names); `replace`
//! swaps in a new CIB or section and numbers the result as Pacemaker does; `new` prints or
//! writes an empty, valid CIB. Every refusal happens before anything is written, and the
//! write itself is atomic, so a refused or failed replace leaves the file byte-for-byte as it
//! was. On the running cluster, a whole CIB is sent as a replace (its configuration and
//! version), a section as a commit against the version it was read at; the daemon refuses
//! an older CIB, a stale base or a configuration with errors, and nothing changes.
//! Exit codes are Pacemaker's: 65 unusable input or a configuration the cluster refuses
//! (CRM_EX_DATAERR), 66 input not readable (CRM_EX_NOINPUT), 102 no cluster
//! (CRM_EX_DISCONNECT), 103 older than the current CIB or changed meanwhile (CRM_EX_OLD),
//! 105 no such section (CRM_EX_NOSUCH).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use tandem_cib::LoadError;
use tandem_xml::{Document, NodeId, NodeKind};

use crate::cibsource::{CibSource, MAX_CIB_FILE_BYTES, NoCluster, read_cib_text, write_atomically};
use crate::live::LiveRefused;
use crate::output::OutputAs;

pub const EXIT_DATA: u8 = 65;
pub const EXIT_NO_INPUT: u8 = 66;
pub const EXIT_DISCONNECT: u8 = 102;
pub const EXIT_OLD: u8 = 103;
pub const EXIT_NO_SUCH: u8 = 105;

#[derive(Subcommand, Debug)]
pub enum CibCommand {
    /// Print (or write to FILE) an empty, valid CIB (like `cibadmin --empty`).
    New(NewArgs),
    /// Print the CIB or one section of it (like `cibadmin -Q [-o SCOPE]`).
    Query(QueryArgs),
    /// Replace the CIB, or one section of it, with new XML (like `cibadmin -R -x FILE
    /// [-o SCOPE]`). A whole CIB older than the current one is refused; one with the same
    /// version but a different configuration becomes the next epoch.
    Replace(ReplaceArgs),
}

#[derive(Args, Debug)]
pub struct NewArgs {
    /// Write the empty CIB to this file instead of printing it.
    pub file: Option<PathBuf>,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Print only this section.
    #[arg(short = 'o', long = "scope", value_enum)]
    pub scope: Option<Scope>,
    /// Output format (`text` and `xml` both print the XML).
    #[arg(long = "output-as", value_enum, default_value_t)]
    pub output_as: OutputAs,
}

#[derive(Args, Debug)]
pub struct ReplaceArgs {
    /// The new CIB (or section, with --scope).
    #[arg(conflicts_with_all = ["xml_text", "xml_pipe"])]
    pub file: Option<PathBuf>,
    /// The new XML as text.
    #[arg(
        short = 'X',
        long = "xml-text",
        value_name = "XML",
        conflicts_with = "xml_pipe"
    )]
    pub xml_text: Option<String>,
    /// Read the new XML from stdin.
    #[arg(short = 'p', long = "xml-pipe")]
    pub xml_pipe: bool,
    /// Replace only this section; the new XML's root must be that section's element.
    #[arg(short = 'o', long = "scope", value_enum)]
    pub scope: Option<Scope>,
}

/// cibadmin's scopes: the sections of the CIB a query or replace may address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scope {
    Configuration,
    Nodes,
    Resources,
    Constraints,
    #[value(name = "crm_config")]
    CrmConfig,
    #[value(name = "rsc_defaults")]
    RscDefaults,
    #[value(name = "op_defaults")]
    OpDefaults,
    #[value(name = "fencing-topology")]
    FencingTopology,
    Acls,
    Tags,
    Alerts,
    Status,
}

impl Scope {
    /// The element name of the section.
    pub fn element(self) -> &'static str {
        match self {
            Scope::Configuration => "configuration",
            Scope::Nodes => "nodes",
            Scope::Resources => "resources",
            Scope::Constraints => "constraints",
            Scope::CrmConfig => "crm_config",
            Scope::RscDefaults => "rsc_defaults",
            Scope::OpDefaults => "op_defaults",
            Scope::FencingTopology => "fencing-topology",
            Scope::Acls => "acls",
            Scope::Tags => "tags",
            Scope::Alerts => "alerts",
            Scope::Status => "status",
        }
    }

    /// The element that holds the section (`<cib>` or `<configuration>`), in `doc`.
    fn parent(self, doc: &Document) -> Option<NodeId> {
        let root = doc.root()?;
        match self {
            Scope::Configuration | Scope::Status => Some(root),
            _ => doc.child_named(root, "configuration"),
        }
    }

    /// The section element in `doc`, if present.
    pub fn find(self, doc: &Document) -> Option<NodeId> {
        doc.child_named(self.parent(doc)?, self.element())
    }
}

/// A failure with the exit code it maps to; the message is printed as `tandem: error: ...`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub code: u8,
    pub message: String,
}

fn refuse(code: u8, message: impl Into<String>) -> anyhow::Error {
    Refused {
        code,
        message: message.into(),
    }
    .into()
}

pub fn run(cmd: CibCommand, source: &CibSource) -> anyhow::Result<ExitCode> {
    let result = match cmd {
        CibCommand::New(args) => new(args),
        CibCommand::Query(args) => query(args, source),
        CibCommand::Replace(args) => replace(args, source),
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            let code = if let Some(r) = e.downcast_ref::<Refused>() {
                r.code
            } else if let Some(r) = e.downcast_ref::<LiveRefused>() {
                if r.is_version_conflict() {
                    EXIT_OLD
                } else {
                    EXIT_DATA
                }
            } else if e.downcast_ref::<NoCluster>().is_some() {
                EXIT_DISCONNECT
            } else {
                1
            };
            eprintln!("tandem: error: {e:#}");
            Ok(ExitCode::from(code))
        }
    }
}

fn new(args: NewArgs) -> anyhow::Result<()> {
    let Some(path) = args.file else {
        print!("{}", tandem_cib::EMPTY_CIB);
        return Ok(());
    };
    if path.exists() && !args.force {
        return Err(refuse(
            1,
            format!(
                "{} exists; pass --force to overwrite it with an empty CIB",
                path.display()
            ),
        ));
    }
    write_atomically(&path, tandem_cib::EMPTY_CIB.as_bytes())
}

fn query(args: QueryArgs, source: &CibSource) -> anyhow::Result<()> {
    let cib = source.load()?;
    let doc = cib.document();
    let node = match args.scope {
        None => doc.document_node(),
        Some(scope) => scope.find(doc).ok_or_else(|| {
            refuse(
                EXIT_NO_SUCH,
                format!("the CIB has no <{}> section", scope.element()),
            )
        })?,
    };
    match args.output_as {
        OutputAs::Text | OutputAs::Xml => print!("{}", doc.node_to_pretty_string(node)),
        OutputAs::Json => {
            let value = match args.scope {
                None => to_json(doc, cib.root()),
                Some(_) => to_json(doc, node),
            };
            println!("{value:#}");
        }
    }
    Ok(())
}

/// An element as JSON: `{"element", "attributes", "children"}`; text, CDATA, comments and
/// entity references as `{"text"}`, `{"cdata"}`, `{"comment"}`, `{"entity"}`.
pub fn to_json(doc: &Document, node: NodeId) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    match doc.kind(node) {
        NodeKind::Element { .. } => {
            let attributes: Map<String, Value> = doc
                .attrs(node)
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            let children: Vec<Value> = doc
                .children(node)
                .filter(|&c| !matches!(doc.kind(c), NodeKind::Pi { .. }))
                .map(|c| to_json(doc, c))
                .collect();
            json!({ "element": doc.name(node), "attributes": attributes, "children": children })
        }
        NodeKind::Text(t) => json!({ "text": t.as_ref() }),
        NodeKind::CData(t) => json!({ "cdata": t.as_ref() }),
        NodeKind::Comment(t) => json!({ "comment": t.as_ref() }),
        NodeKind::EntityRef(name) => json!({ "entity": name.as_ref() }),
        other => json!({ "other": format!("{other:?}") }),
    }
}

/// The new XML for `replace`, and a name for it in messages.
fn replacement_text(args: &ReplaceArgs) -> anyhow::Result<(String, String)> {
    if let Some(path) = &args.file {
        let text = read_cib_text(path).map_err(|e| refuse(EXIT_NO_INPUT, format!("{e:#}")))?;
        return Ok((path.display().to_string(), text));
    }
    if let Some(text) = &args.xml_text {
        return Ok(("<xml-text>".into(), text.clone()));
    }
    if args.xml_pipe {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_CIB_FILE_BYTES + 1)
            .read_to_string(&mut text)?;
        if text.len() as u64 > MAX_CIB_FILE_BYTES {
            return Err(refuse(
                EXIT_DATA,
                format!("stdin holds more than the {MAX_CIB_FILE_BYTES} bytes accepted"),
            ));
        }
        return Ok(("<stdin>".into(), text));
    }
    Err(refuse(
        64,
        "no new XML given: name a FILE, or use -X TEXT or -p (stdin)",
    ))
}

fn replace(args: ReplaceArgs, source: &CibSource) -> anyhow::Result<()> {
    let (name, text) = replacement_text(&args)?;
    let new_doc = Document::parse(&text)
        .map_err(|e| refuse(EXIT_DATA, format!("{name}:{e}; nothing was changed")))?;
    let current = source.load()?;
    let candidate = match args.scope {
        None => new_doc,
        Some(scope) => with_section(current.document(), &new_doc, scope)
            .map_err(|why| refuse(EXIT_DATA, format!("{name}: {why}; nothing was changed")))?,
    };
    let next = current.successor(candidate).map_err(|e| match e {
        LoadError::Older { .. } => refuse(
            EXIT_OLD,
            format!("{name}: {e}; refusing to go back, nothing was changed"),
        ),
        e => refuse(EXIT_DATA, format!("{name}: {e}; nothing was changed")),
    })?;
    let stored = match source {
        CibSource::File { .. } => {
            source.store(&current, &next)?;
            next.version
        }
        CibSource::Live { run_dir } => match args.scope {
            None => crate::live::replace(run_dir, &next)?,
            Some(Scope::Status) => {
                return Err(refuse(
                    EXIT_DATA,
                    "the status section of the running cluster is kept by its nodes and cannot be replaced; nothing was changed",
                ));
            }
            // A section: the configuration with it, against the version it was read at.
            Some(_) => crate::live::commit(run_dir, &current, &next)?,
        },
    };
    eprintln!("CIB replaced: version {} -> {stored}", current.version);
    Ok(())
}

/// `current` with the section `scope` replaced by `new`'s root element.
fn with_section(current: &Document, new: &Document, scope: Scope) -> Result<Document, String> {
    let new_root = new.root().ok_or("the new XML has no root element")?;
    if new.name(new_root) != scope.element() {
        return Err(format!(
            "the root element is <{}>, expected <{}> for --scope {}",
            new.name(new_root),
            scope.element(),
            scope.element()
        ));
    }
    let mut doc = current.clone();
    let parent = scope
        .parent(&doc)
        .ok_or("the current CIB has no <configuration> section")?;
    let imported = doc.import(new, new_root);
    match scope.find(&doc) {
        Some(old) => {
            doc.insert_before(old, imported);
            doc.detach(old);
        }
        None => doc.append_child(parent, imported),
    }
    Ok(doc.compacted())
}
