//! crmsh's `crm resource` commands on the cluster's CIB, with `crm_resource`'s semantics:
//!
//! * `start`/`stop`/`promote`/`demote` set the `target-role` meta-attribute, `manage`/
//!   `unmanage` set `is-managed` (on the resource, removed from its members, as crmsh does);
//!   `restart` stops, waits until the cluster reports it stopped, and starts again.
//! * `move`/`ban` add `cli-prefer-RSC` / `cli-ban-RSC-on-NODE` location constraints (score
//!   INFINITY / -INFINITY, `role="Started"`, a date rule for a lifetime); `clear` removes
//!   them. `move` without a node bans the resource from the node it runs on.
//! * `cleanup` forgets failures, `failcount` shows or forgets fail counts, `locate` and
//!   `status` say where resources run, `why` explains it ([`crate::why`]).
//!
//! Every command works on any [`CibSource`]: a CIB file or the running cluster.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tandem_cib::time::Duration as IsoDuration;
use tandem_cib::{Cib, DateTime};
use tandem_scheduler::{Transition, schedule};
use tandem_xml::Document;

use crate::cibedit;
use crate::cibsource::CibSource;

/// How long `restart` waits for the resource to stop in the running cluster.
pub const RESTART_STOP_TIMEOUT: Duration = Duration::from_secs(120);
/// How often `restart` looks again while waiting.
pub const RESTART_POLL: Duration = Duration::from_millis(500);

/// The commands this module runs (crmsh's names and aliases).
pub const COMMANDS: &[&str] = &[
    "start",
    "stop",
    "restart",
    "promote",
    "demote",
    "manage",
    "unmanage",
    "maintenance",
    "param",
    "meta",
    "utilization",
    "move",
    "migrate",
    "ban",
    "clear",
    "unmove",
    "unmigrate",
    "unban",
    "cleanup",
    "locate",
    "failcount",
    "status",
    "show",
    "list",
    "why",
    "scores",
];

/// Runs crmsh resource command `words` (`["move", "IP", "node3"]`); prints what it says
/// and returns the exit status.
pub fn run(words: &[String], source: &CibSource) -> anyhow::Result<u8> {
    let Some(verb) = words.first() else {
        bail!("no resource command given");
    };
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let now = super::ra::now();
    let out = match verb.as_str() {
        "start" => set_role(source, &args, "Started", now)?,
        "stop" => set_role(source, &args, "Stopped", now)?,
        "promote" => set_role(source, &args, "Promoted", now)?,
        "demote" => set_role(source, &args, "Unpromoted", now)?,
        "manage" => set_meta_cmd(source, &args, "is-managed", "true", now)?,
        "unmanage" => set_meta_cmd(source, &args, "is-managed", "false", now)?,
        "maintenance" => maintenance_cmd(source, &args, now)?,
        "param" => attr_cmd(source, &args, "instance_attributes", now)?,
        "meta" => attr_cmd(source, &args, "meta_attributes", now)?,
        "utilization" => attr_cmd(source, &args, "utilization", now)?,
        "restart" => restart(source, &args, now)?,
        "move" | "migrate" => move_cmd(source, &args, now)?,
        "ban" => ban_cmd(source, &args, now)?,
        "clear" | "unmove" | "unmigrate" | "unban" => clear_cmd(source, &args, now)?,
        "cleanup" => cleanup_cmd(source, &args)?,
        "locate" => locate_cmd(source, &args, now)?,
        "failcount" => failcount_cmd(source, &args)?,
        "status" | "show" | "list" => status_cmd(source, &args, now)?,
        "scores" => {
            if !args.is_empty() {
                bail!("usage: scores");
            }
            let cib = source.load()?;
            tandem_scheduler::report::scores_text(&schedule(&cib, now))
        }
        "why" => {
            let [rsc] = args[..] else {
                bail!("usage: why RSC");
            };
            let cib = source.load()?;
            crate::why::explain(&cib, rsc, now)?
        }
        other => bail!("{other}: not a resource command"),
    };
    print!("{out}");
    Ok(0)
}

/// The user and host recorded as the author of a change (`Last change: … by USER via
/// CLIENT on NODE`).
pub fn author() -> (String, String) {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_string());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    (user, host)
}

/// Loads the CIB, applies `edit` to its document and stores the result (refused if the
/// CIB changed meanwhile). `edit` returns whether it changed anything; nothing is stored
/// if not.
fn change<T>(
    source: &CibSource,
    client: &str,
    now: DateTime,
    edit: impl FnOnce(&Cib, &mut Document) -> anyhow::Result<(bool, T)>,
) -> anyhow::Result<T> {
    let base = source.load()?;
    let mut doc = base.document().clone();
    let (changed, value) = edit(&base, &mut doc)?;
    if changed {
        let (user, host) = author();
        cibedit::stamp(&mut doc, &now.ctime(), &user, client, &host);
        let next = base
            .successor(doc)
            .context("the changed CIB does not load; nothing was written")?;
        source.store(&base, &next)?;
    }
    Ok(value)
}

fn one_rsc<'a>(args: &[&'a str], usage: &str) -> anyhow::Result<&'a str> {
    match args {
        [rsc] => Ok(rsc),
        _ => bail!("usage: {usage}"),
    }
}

fn set_role(
    source: &CibSource,
    args: &[&str],
    role: &str,
    now: DateTime,
) -> anyhow::Result<String> {
    let rsc = one_rsc(args, "start|stop|promote|demote RSC")?;
    if matches!(role, "Promoted" | "Unpromoted") {
        let cib = source.load()?;
        if !is_promotable(&cib, rsc) {
            bail!("{rsc} is not a promotable resource (promote and demote need one)");
        }
    }
    set_meta_cmd(source, &[rsc], "target-role", role, now)
}

fn is_promotable(cib: &Cib, rsc: &str) -> bool {
    let t = schedule(cib, DateTime::from_epoch(0));
    let w = &t.world;
    w.rsc(rsc).is_some_and(|r| {
        let clone = if w.rscs[r].clone.is_some() {
            Some(r)
        } else {
            w.clone_of(r)
        };
        clone.is_some_and(|c| {
            w.rscs[c]
                .meta
                .get("promotable")
                .is_some_and(|v| tandem_cib::types::parse_bool(v) == Some(true))
        }) || cib.config.find_resource(rsc).is_some_and(|e| match e.rsc {
            tandem_cib::RscRef::Clone(c) => c.legacy_master,
            _ => false,
        })
    })
}

fn set_meta_cmd(
    source: &CibSource,
    args: &[&str],
    name: &str,
    value: &str,
    now: DateTime,
) -> anyhow::Result<String> {
    let rsc = one_rsc(args, "COMMAND RSC")?;
    let notes = change(source, "crm_resource", now, |_, doc| {
        let c = cibedit::set_meta(doc, rsc, name, Some(value))?;
        Ok((c.changed, c.notes))
    })?;
    for n in notes {
        eprintln!("INFO: {n}");
    }
    Ok(String::new())
}

/// `maintenance RSC [on|off]`: the resource's `maintenance` meta-attribute.
fn maintenance_cmd(source: &CibSource, args: &[&str], now: DateTime) -> anyhow::Result<String> {
    let (rsc, value) = match args {
        [rsc] | [rsc, "on" | "true"] => (*rsc, "true"),
        [rsc, "off" | "false"] => (*rsc, "false"),
        _ => bail!("usage: maintenance RSC [on|off]"),
    };
    set_meta_cmd(source, &[rsc], "maintenance", value, now)
}

/// `param|meta|utilization RSC set|delete|show NAME [VALUE]`, as `crm_resource
/// --set-parameter/--delete-parameter/--get-parameter` (with `--meta`, `--utilization`):
/// the resource's first block of that kind, created as `RSC-instance_attributes` (...).
fn attr_cmd(
    source: &CibSource,
    args: &[&str],
    set_tag: &str,
    now: DateTime,
) -> anyhow::Result<String> {
    let usage = "RSC set|delete|show NAME [VALUE]";
    let (rsc, op, name, value) = match args {
        [rsc, op, name] => (*rsc, *op, *name, None),
        [rsc, op, name, value] => (*rsc, *op, *name, Some(*value)),
        _ => bail!("usage: {usage}"),
    };
    match (op, value) {
        ("show", None) => {
            let cib = source.load()?;
            let el = cibedit::resource_element(cib.document(), rsc)
                .with_context(|| format!("resource {rsc} is not defined in the CIB"))?;
            let doc = cib.document();
            let found = doc
                .children_named(el, set_tag)
                .flat_map(|s| doc.children_named(s, "nvpair").collect::<Vec<_>>())
                .find(|&p| doc.attr(p, "name") == Some(name))
                .and_then(|p| doc.attr(p, "value"));
            match found {
                Some(v) => Ok(format!("{v}\n")),
                None => bail!("resource {rsc} has no {set_tag} {name}"),
            }
        }
        ("set", Some(_)) | ("delete", None) => {
            change(source, "crm_resource", now, |_, doc| {
                let el = cibedit::resource_element(doc, rsc)
                    .with_context(|| format!("resource {rsc} is not defined in the CIB"))?;
                let set_id = format!("{rsc}-{set_tag}");
                Ok((
                    cibedit::set_nvpair(doc, el, set_tag, &set_id, name, value),
                    (),
                ))
            })?;
            Ok(String::new())
        }
        _ => bail!("usage: {usage}"),
    }
}

/// The nodes the resource (any of its primitives) is active on, per the scheduler.
fn active_nodes(t: &Transition, rsc: &str) -> anyhow::Result<Vec<String>> {
    let w = &t.world;
    let r = w
        .rsc(rsc)
        .with_context(|| format!("resource {rsc} is not defined in the CIB"))?;
    let mut nodes: Vec<String> = Vec::new();
    for p in w.primitives_of(r) {
        for &n in &w.rscs[p].running_on {
            let name = w.nodes[n].uname.clone();
            if !nodes.contains(&name) {
                nodes.push(name);
            }
        }
    }
    Ok(nodes)
}

fn restart(source: &CibSource, args: &[&str], now: DateTime) -> anyhow::Result<String> {
    let rsc = one_rsc(args, "restart RSC")?;
    set_meta_cmd(source, &[rsc], "target-role", "Stopped", now)?;
    if matches!(source, CibSource::Live { .. }) {
        wait_stopped(source, rsc)?;
    } else {
        eprintln!("INFO: {rsc}: a CIB file has no cluster acting on it; not waiting for the stop");
    }
    set_meta_cmd(source, &[rsc], "target-role", "Started", super::ra::now())
}

/// Waits until the running cluster reports `rsc` stopped everywhere.
fn wait_stopped(source: &CibSource, rsc: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + RESTART_STOP_TIMEOUT;
    loop {
        let cib = source.load()?;
        let t = schedule(&cib, super::ra::now());
        if active_nodes(&t, rsc)?.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{rsc} did not stop within {} s; it is left with target-role=Stopped (start it \
                 with `tandem resource start {rsc}`)",
                RESTART_STOP_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(RESTART_POLL);
    }
}

/// `move`/`ban`'s arguments: RSC [NODE] [LIFETIME] [force].
struct Placement<'a> {
    rsc: &'a str,
    node: Option<&'a str>,
    lifetime: Option<IsoDuration>,
    force: bool,
}

fn placement<'a>(args: &[&'a str], usage: &str) -> anyhow::Result<Placement<'a>> {
    let Some((&rsc, rest)) = args.split_first() else {
        bail!("usage: {usage}");
    };
    let mut p = Placement {
        rsc,
        node: None,
        lifetime: None,
        force: false,
    };
    for &a in rest {
        if a == "force" || a == "--force" {
            p.force = true;
        } else if a.starts_with('P') && p.lifetime.is_none() {
            p.lifetime = Some(IsoDuration::parse(a).map_err(|e| {
                anyhow::anyhow!("lifetime {a}: {e} (an ISO 8601 duration like PT1H)")
            })?);
        } else if p.node.is_none() {
            p.node = Some(a);
        } else {
            bail!("usage: {usage}");
        }
    }
    Ok(p)
}

/// A `cli-prefer`/`cli-ban` location constraint as crm_resource writes it.
fn cli_location(id: &str, rsc: &str, node: &str, score: &str, until: Option<&str>) -> Document {
    let mut doc = Document::with_root("rsc_location");
    let root = doc.root().expect("with_root made a root");
    doc.set_attr(root, "id", id);
    doc.set_attr(root, "rsc", rsc);
    doc.set_attr(root, "role", "Started");
    let Some(until) = until else {
        doc.set_attr(root, "node", node);
        doc.set_attr(root, "score", score);
        return doc;
    };
    // cli-prefer-RSC's rule is cli-prefer-rule-RSC, cli-ban-RSC-on-N's is cli-ban-RSC-on-N-rule.
    let (rule_id, expr_id, life_id) = match id.strip_prefix("cli-prefer-") {
        Some(r) => (
            format!("cli-prefer-rule-{r}"),
            format!("cli-prefer-expr-{r}"),
            format!("cli-prefer-lifetime-end-{r}"),
        ),
        None => (
            format!("{id}-rule"),
            format!("{id}-expr"),
            format!("{id}-lifetime"),
        ),
    };
    let rule = doc.create_element_with(
        "rule",
        &[("id", &rule_id), ("score", score), ("boolean-op", "and")],
    );
    doc.append_child(root, rule);
    let expr = doc.create_element_with(
        "expression",
        &[
            ("id", &expr_id),
            ("attribute", "#uname"),
            ("operation", "eq"),
            ("value", node),
            ("type", "string"),
        ],
    );
    doc.append_child(rule, expr);
    let date = doc.create_element_with(
        "date_expression",
        &[("id", &life_id), ("operation", "lt"), ("end", until)],
    );
    doc.append_child(rule, date);
    doc
}

fn require_node(cib: &Cib, node: &str) -> anyhow::Result<()> {
    if cibedit::node_id(cib.document(), node).is_none() {
        bail!("node {node} is not part of the cluster");
    }
    Ok(())
}

fn until(p: &Placement<'_>, now: DateTime) -> Option<String> {
    p.lifetime.as_ref().map(|d| now.plus(d).to_string())
}

fn move_cmd(source: &CibSource, args: &[&str], now: DateTime) -> anyhow::Result<String> {
    let p = placement(args, "move RSC [NODE] [LIFETIME] [force]")?;
    let Some(node) = p.node else {
        return ban_current(source, &p, now);
    };
    let end = until(&p, now);
    change(source, "crm_resource", now, |cib, doc| {
        require_node(cib, node)?;
        let t = schedule(cib, now);
        let current = active_nodes(&t, p.rsc)?;
        if current == [node] && !p.force {
            bail!(
                "{} is already active on {node} (add force to add the constraint anyway)",
                p.rsc
            );
        }
        let ban = format!("cli-ban-{}-on-{node}", p.rsc);
        cibedit::remove_constraints(doc, |id| id == ban)?;
        let c = cli_location(
            &format!("cli-prefer-{}", p.rsc),
            p.rsc,
            node,
            "INFINITY",
            end.as_deref(),
        );
        cibedit::put_constraint(doc, &c)?;
        Ok((true, ()))
    })?;
    eprintln!("INFO: Move constraint created for {} to {node}", p.rsc);
    if let Some(e) = end {
        eprintln!("INFO: Migration will take effect until: {e}");
    }
    Ok(String::new())
}

/// `move RSC` with no node, and `ban RSC` with no node: ban from the one node it runs on.
fn ban_current(source: &CibSource, p: &Placement<'_>, now: DateTime) -> anyhow::Result<String> {
    let cib = source.load()?;
    let t = schedule(&cib, now);
    let current = active_nodes(&t, p.rsc)?;
    match current.as_slice() {
        [node] => ban_on(source, p, node, now),
        [] => bail!(
            "{} is not running anywhere, so there is no node to move it away from; name a \
             node",
            p.rsc
        ),
        many => bail!(
            "{} is active on {} nodes ({}); name the node to ban it from",
            p.rsc,
            many.len(),
            many.join(", ")
        ),
    }
}

fn ban_cmd(source: &CibSource, args: &[&str], now: DateTime) -> anyhow::Result<String> {
    let p = placement(args, "ban RSC [NODE] [LIFETIME] [force]")?;
    match p.node {
        Some(node) => ban_on(source, &p, node, now),
        None => ban_current(source, &p, now),
    }
}

fn ban_on(
    source: &CibSource,
    p: &Placement<'_>,
    node: &str,
    now: DateTime,
) -> anyhow::Result<String> {
    let end = until(p, now);
    let id = format!("cli-ban-{}-on-{node}", p.rsc);
    change(source, "crm_resource", now, |cib, doc| {
        require_node(cib, node)?;
        if cib.config.find_resource(p.rsc).is_none() {
            bail!("resource {} is not defined in the CIB", p.rsc);
        }
        let c = cli_location(&id, p.rsc, node, "-INFINITY", end.as_deref());
        cibedit::put_constraint(doc, &c)?;
        Ok((true, ()))
    })?;
    eprintln!(
        "WARNING: {rsc} is banned from {node} (constraint {id}, score -INFINITY){until}; it stays \
         banned even if {node} is the last node left, until `tandem resource clear {rsc}` removes \
         the constraint",
        rsc = p.rsc,
        until = end.map(|e| format!(" until {e}")).unwrap_or_default()
    );
    Ok(String::new())
}

fn clear_cmd(source: &CibSource, args: &[&str], now: DateTime) -> anyhow::Result<String> {
    let (rsc, node) = match args {
        [rsc] => (*rsc, None),
        [rsc, node] => (*rsc, Some(*node)),
        _ => bail!("usage: clear RSC [NODE]"),
    };
    let prefer = format!("cli-prefer-{rsc}");
    let ban_prefix = format!("cli-ban-{rsc}-on-");
    let removed = change(source, "crm_resource", now, |cib, doc| {
        if cib.config.find_resource(rsc).is_none() {
            bail!("resource {rsc} is not defined in the CIB");
        }
        let gone = cibedit::remove_constraints(doc, |id| {
            id == prefer
                || id
                    .strip_prefix(&ban_prefix)
                    .is_some_and(|n| node.is_none_or(|want| want == n))
        })?;
        Ok((!gone.is_empty(), gone))
    })?;
    if removed.is_empty() {
        eprintln!("INFO: {rsc} has no move or ban constraints to remove");
    } else {
        eprintln!(
            "INFO: Removed migration constraints for {rsc}: {}",
            removed.join(", ")
        );
    }
    Ok(String::new())
}

fn cleanup_cmd(source: &CibSource, args: &[&str]) -> anyhow::Result<String> {
    let cib = source.load()?;
    // A lone argument that names a node and no resource is the node (as crmsh reads it).
    let is_node_only = |a: &str| {
        cib.config.find_resource(a).is_none() && cibedit::node_id(cib.document(), a).is_some()
    };
    let (rsc, node) = match args {
        [] => (None, None),
        [n] if is_node_only(n) => (None, Some(*n)),
        [rsc] => (Some(*rsc), None),
        [rsc, node] => (Some(*rsc), Some(*node)),
        _ => bail!("usage: cleanup [RSC] [NODE]"),
    };
    // What there is to clean, for the report (the running cluster re-probes as well).
    let mut doc = cib.document().clone();
    let cleaned = cibedit::cleanup(&mut doc, rsc, node)?;
    source.cleanup(rsc, node)?;
    let mut out = String::new();
    match (rsc, node) {
        (None, None) => out.push_str("Cleaned up all resources on all nodes\n"),
        (None, Some(n)) => {
            let _ = writeln!(out, "Cleaned up all resources on {n}");
        }
        (Some(r), Some(n)) => {
            let _ = writeln!(out, "Cleaned up {r} on {n}");
        }
        (r, n) => {
            for (node, rscs) in &cleaned {
                if n.is_some_and(|n| n != node) {
                    continue;
                }
                for x in rscs {
                    let _ = writeln!(out, "Cleaned up {x} on {node}");
                }
            }
            if out.is_empty() {
                let what = r.unwrap_or("all resources");
                let _ = writeln!(out, "Cleaned up {what} (no failures were recorded)");
            }
        }
    }
    Ok(out)
}

/// `resource X is running on: N` per node, as crm_resource --locate says it.
fn locate_cmd(source: &CibSource, args: &[&str], now: DateTime) -> anyhow::Result<String> {
    let rsc = one_rsc(args, "locate RSC")?;
    let cib = source.load()?;
    let t = schedule(&cib, now);
    locate_text(&t, rsc)
}

pub fn locate_text(t: &Transition, rsc: &str) -> anyhow::Result<String> {
    let w = &t.world;
    let r = w
        .rsc(rsc)
        .with_context(|| format!("resource {rsc} is not defined in the CIB"))?;
    let mut out = String::new();
    let mut seen: Vec<(usize, bool)> = Vec::new();
    for p in w.primitives_of(r) {
        let promoted = w.rscs[p].role == tandem_cib::Role::Promoted;
        for &n in &w.rscs[p].running_on {
            if !seen.contains(&(n, promoted)) {
                seen.push((n, promoted));
            }
        }
    }
    if seen.is_empty() {
        let _ = writeln!(out, "resource {rsc} is NOT running");
    }
    for (n, promoted) in seen {
        let _ = writeln!(
            out,
            "resource {rsc} is running on: {}{}",
            w.nodes[n].uname,
            if promoted { " Promoted" } else { "" }
        );
    }
    Ok(out)
}

fn status_cmd(source: &CibSource, args: &[&str], now: DateTime) -> anyhow::Result<String> {
    let cib = source.load()?;
    let t = schedule(&cib, now);
    match args {
        [] => {
            let s =
                tandem_scheduler::status_text::resource_entries(&t.world, &t.clone_nodes, 1, true);
            Ok(if s.is_empty() {
                "NO resources configured\n".to_string()
            } else {
                s
            })
        }
        rscs => {
            let mut out = String::new();
            for r in rscs {
                out.push_str(&locate_text(&t, r)?);
            }
            Ok(out)
        }
    }
}

/// `failcount RSC show|delete|set NODE [VALUE]`.
fn failcount_cmd(source: &CibSource, args: &[&str]) -> anyhow::Result<String> {
    let (rsc, op, node, value) = match args {
        [rsc, op, node] => (*rsc, *op, *node, None),
        [rsc, op, node, value] => (*rsc, *op, *node, Some(*value)),
        _ => bail!("usage: failcount RSC show|delete|set NODE [VALUE]"),
    };
    let cib = source.load()?;
    require_node(&cib, node)?;
    if cib.config.find_resource(rsc).is_none() {
        bail!("resource {rsc} is not defined in the CIB");
    }
    match (op, value) {
        ("show", None) => {
            let count = crate::crmmon::fail_counts(&cib, node)
                .into_iter()
                .filter(|(r, _, _)| cibedit::strip_instance(r) == rsc)
                .map(|(_, c, _)| c)
                .sum::<i64>()
                .min(i64::from(tandem_cib::INFINITY));
            let shown = if count >= i64::from(tandem_cib::INFINITY) {
                "INFINITY".to_string()
            } else {
                count.to_string()
            };
            Ok(format!(
                "scope=status  name=fail-count-{rsc} value={shown}\n"
            ))
        }
        ("delete", None) | ("set", Some("0")) => {
            source.cleanup(Some(rsc), Some(node))?;
            Ok(String::new())
        }
        ("set", Some(v)) => {
            tandem_cib::Score::parse(v).map_err(|e| anyhow::anyhow!("fail count {v}: {e}"))?;
            source.set_transient_attr(node, &format!("fail-count-{rsc}"), Some(v))?;
            Ok(String::new())
        }
        _ => bail!("usage: failcount RSC show|delete|set NODE [VALUE]"),
    }
}
