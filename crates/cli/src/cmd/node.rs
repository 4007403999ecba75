//! `tandem node ...` (`crm node standby`, `online`, ...): crmsh's node commands, written as
//! `crm_attribute` writes them:
//!
//! * `standby [NODE] [reboot|forever]`, `online [NODE]`: the `standby` node attribute —
//!   permanent (`forever`, the default: the node's `instance_attributes` in the
//!   configuration) or until the node restarts (`reboot`: a transient attribute); `online`
//!   sets the permanent one to `off` and drops a transient one.
//! * `maintenance [NODE]`, `ready [NODE]`: the permanent `maintenance` attribute.
//! * `attribute`, `utilization`, `status-attr` `NODE set|delete|show NAME [VALUE]`: a
//!   permanent attribute, a capacity, a transient attribute.
//! * `show`/`status [NODE]`: the nodes with their attributes.
//!
//! Without a NODE, the command acts on this node (the running cluster's local node, or — on
//! a CIB file — the node named like this host).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use tandem_cib::Cib;

use crate::cibedit::{self, NodeSet};
use crate::cibsource::CibSource;

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// The node command and its arguments (`standby node1`, `online`, `attribute ...`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "COMMAND"
    )]
    pub words: Vec<String>,
}

/// crmsh's node commands Tandem has.
pub const COMMANDS: &[&str] = &[
    "standby",
    "online",
    "maintenance",
    "ready",
    "attribute",
    "utilization",
    "status-attr",
    "show",
    "status",
];

pub fn run(args: NodeArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    print!("{}", run_words(&args.words, source)?);
    Ok(ExitCode::SUCCESS)
}

/// Runs node command `words`; returns what it prints.
pub fn run_words(words: &[String], source: &CibSource) -> anyhow::Result<String> {
    let Some((verb, rest)) = words.split_first() else {
        bail!("no node command given");
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match verb.to_ascii_lowercase().as_str() {
        "standby" => standby(source, &rest),
        "online" => online(source, &rest),
        "maintenance" => permanent_flag(source, &rest, "maintenance", "on"),
        "ready" => permanent_flag(source, &rest, "maintenance", "off"),
        "attribute" => attribute(source, &rest, Scope::Nodes(NodeSet::Attributes)),
        "utilization" => attribute(source, &rest, Scope::Nodes(NodeSet::Utilization)),
        "status-attr" => attribute(source, &rest, Scope::Status),
        "show" | "status" => show(source, &rest),
        other => bail!(
            "{other}: no such node command (tandem has {})",
            COMMANDS.join(", ")
        ),
    }
}

/// The node a command without NODE acts on.
fn this_node(source: &CibSource, cib: &Cib) -> anyhow::Result<String> {
    if let CibSource::Live { .. } = source {
        return source.local_node();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if cibedit::node_id(cib.document(), &host).is_some() {
        return Ok(host);
    }
    bail!("name the node: this host ({host}) is not a node of the CIB file")
}

fn node_arg(source: &CibSource, cib: &Cib, arg: Option<&str>) -> anyhow::Result<String> {
    let node = match arg {
        Some(n) => n.to_string(),
        None => this_node(source, cib)?,
    };
    if cibedit::node_id(cib.document(), &node).is_none() {
        bail!("node {node} is not part of the cluster");
    }
    Ok(node)
}

/// Changes the configuration (a permanent node attribute) as crm_attribute does.
fn set_permanent(
    source: &CibSource,
    node: &str,
    set: NodeSet,
    name: &str,
    value: Option<&str>,
) -> anyhow::Result<()> {
    let base = source.load()?;
    let mut doc = base.document().clone();
    if !cibedit::set_node_attr(&mut doc, node, set, name, value)? {
        return Ok(());
    }
    let now = super::ra::now();
    let (user, host) = super::rsc::author();
    cibedit::stamp(&mut doc, &now.ctime(), &user, "crm_attribute", &host);
    let next = base
        .successor(doc)
        .context("the changed CIB does not load; nothing was written")?;
    source.store(&base, &next)
}

fn standby(source: &CibSource, args: &[&str]) -> anyhow::Result<String> {
    let cib = source.load()?;
    let (node, lifetime) = match args {
        [] => (None, "forever"),
        [l @ ("reboot" | "forever")] => (None, *l),
        [n] => (Some(*n), "forever"),
        [n, l @ ("reboot" | "forever")] => (Some(*n), *l),
        _ => bail!("usage: standby [NODE] [reboot|forever]"),
    };
    let node = node_arg(source, &cib, node)?;
    if lifetime == "reboot" {
        source.set_transient_attr(&node, "standby", Some("on"))?;
    } else {
        set_permanent(source, &node, NodeSet::Attributes, "standby", Some("on"))?;
    }
    Ok(String::new())
}

fn online(source: &CibSource, args: &[&str]) -> anyhow::Result<String> {
    let cib = source.load()?;
    let node = match args {
        [] => node_arg(source, &cib, None)?,
        [n] => node_arg(source, &cib, Some(n))?,
        _ => bail!("usage: online [NODE]"),
    };
    set_permanent(source, &node, NodeSet::Attributes, "standby", Some("off"))?;
    if cibedit::transient_attr(&source.load()?, &node, "standby").is_some() {
        source.set_transient_attr(&node, "standby", None)?;
    }
    Ok(String::new())
}

fn permanent_flag(
    source: &CibSource,
    args: &[&str],
    name: &str,
    value: &str,
) -> anyhow::Result<String> {
    let cib = source.load()?;
    let node = match args {
        [] => node_arg(source, &cib, None)?,
        [n] => node_arg(source, &cib, Some(n))?,
        _ => bail!(
            "usage: {} [NODE]",
            if value == "on" {
                "maintenance"
            } else {
                "ready"
            }
        ),
    };
    set_permanent(source, &node, NodeSet::Attributes, name, Some(value))?;
    Ok(String::new())
}

/// Where an attribute command works.
#[derive(Clone, Copy)]
enum Scope {
    Nodes(NodeSet),
    Status,
}

fn attribute(source: &CibSource, args: &[&str], scope: Scope) -> anyhow::Result<String> {
    let (node, op, name, value) = match args {
        [node, op, name] => (*node, *op, *name, None),
        [node, op, name, value] => (*node, *op, *name, Some(*value)),
        _ => bail!("usage: NODE set|delete|show NAME [VALUE]"),
    };
    let cib = source.load()?;
    let node = node_arg(source, &cib, Some(node))?;
    match (op, value, scope) {
        ("set", Some(v), Scope::Nodes(set)) => set_permanent(source, &node, set, name, Some(v))?,
        ("set", Some(v), Scope::Status) => source.set_transient_attr(&node, name, Some(v))?,
        ("delete", None, Scope::Nodes(set)) => set_permanent(source, &node, set, name, None)?,
        ("delete", None, Scope::Status) => source.set_transient_attr(&node, name, None)?,
        ("show", None, _) => {
            let (scope_name, found) = match scope {
                Scope::Nodes(set) => ("nodes", cibedit::node_attr(&cib, &node, set, name)),
                Scope::Status => ("status", cibedit::transient_attr(&cib, &node, name)),
            };
            let Some(v) = found else {
                bail!("node {node} has no {scope_name} attribute {name}");
            };
            return Ok(format!("scope={scope_name}  name={name} value={v}\n"));
        }
        _ => bail!("usage: NODE set|delete|show NAME [VALUE]"),
    }
    Ok(String::new())
}

/// `NAME(ID): TYPE` and the node's attributes, as `crm node show` prints them.
fn show(source: &CibSource, args: &[&str]) -> anyhow::Result<String> {
    let cib = source.load()?;
    let only = match args {
        [] => None,
        [n] => Some(node_arg(source, &cib, Some(n))?),
        _ => bail!("usage: show [NODE]"),
    };
    let mut out = String::new();
    for n in &cib.config.nodes {
        if only.as_ref().is_some_and(|o| o != &n.uname) {
            continue;
        }
        let kind = match n.kind {
            tandem_cib::nodes::NodeKind::Member => "member",
            tandem_cib::nodes::NodeKind::Remote => "remote",
            tandem_cib::nodes::NodeKind::Ping => "ping",
        };
        let _ = writeln!(out, "{}({}): {kind}", n.uname, n.id);
        for (label, sets) in [("", &n.instance), ("utilization: ", &n.utilization)] {
            for p in sets.iter().flat_map(|s| s.pairs.iter()) {
                let _ = writeln!(
                    out,
                    "\t{label}{}={}",
                    p.name,
                    p.value.as_deref().unwrap_or_default()
                );
            }
        }
    }
    Ok(out)
}
