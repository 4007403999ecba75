//! The cluster status in `crm_mon -1`'s text layout (Pacemaker 2.1), as `crm status` and
//! `tandem status` print it:
//!
//! ```text
//! Cluster Summary:            stack, DC and quorum, times, node and resource counts
//! Node List:                  the scheduler's node states (shared with crm_simulate)
//! Full List of Resources:     the scheduler's resource states (Active Resources without -r)
//! Migration Summary:          fail counts (crmsh `failcounts`)
//! Operations:                 the recorded operations (crmsh `ops`)
//! Failed Resource Actions:    failed operations still in the history
//! ```
//!
//! The node and resource blocks are [`tandem_scheduler::status_text`]'s, the same lines
//! `tandem simulate` prints as crm_simulate does, one level less indented. Failed actions use
//! the technical form (`RSC_monitor_10000 on NODE 'not running' (7): call=…`) that
//! crm_mon prints with `--show-detail` and distribution builds print by default.
//! Times are printed in UTC.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use tandem_cib::status::OpHistory;
use tandem_cib::{Cib, DateTime};
use tandem_daemon::ipc::ClusterInfo;
use tandem_scheduler::Transition;
use tandem_scheduler::model::World;
use tandem_scheduler::status_text::{node_entries, nodes_with_resources, resource_entries};
use tandem_scheduler::unpack::ops::is_failure;

/// What the cluster itself (not the CIB) says: where we are, who is DC, quorum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterView {
    /// The node this command runs on, when talking to the running cluster.
    pub local_node: Option<String>,
    /// The DC's node name.
    pub dc: Option<String>,
    pub quorate: bool,
    /// "WHEN by USER via CLIENT on NODE", WHEN as ctime prints it.
    pub last_change: Option<LastChange>,
    /// The stack to name when the CIB does not (`cluster-infrastructure`).
    pub default_stack: &'static str,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LastChange {
    pub when: String,
    pub user: Option<String>,
    pub client: Option<String>,
    pub origin: Option<String>,
}

impl ClusterView {
    /// What the cluster (or, for a file, [`file_cluster_info`]) reports.
    pub fn from_info(info: &ClusterInfo) -> ClusterView {
        let live = !info.local_node.is_empty();
        let non_empty = |v: &str| (!v.is_empty()).then(|| v.to_string());
        ClusterView {
            local_node: non_empty(&info.local_node),
            dc: info.dc.clone(),
            quorate: info.quorate,
            last_change: info.last_change.as_ref().map(|c| LastChange {
                when: DateTime::from_epoch(c.epoch_s).ctime(),
                user: non_empty(&c.user),
                client: non_empty(&c.client),
                origin: non_empty(&c.origin_node),
            }),
            default_stack: if live { "tandem" } else { "unknown" },
        }
    }
}

/// What a CIB file says about the cluster it was taken from: the DC is `dc-uuid`'s node,
/// quorum is `have-quorum`, the members are the nodes whose `node_state` is in the
/// membership, the last change is the one recorded on `<cib>`. There is no local node.
pub fn file_cluster_info(cib: &Cib, xml: String) -> ClusterInfo {
    let uname_of = |id: &str| {
        cib.config
            .nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.uname.clone())
            .or_else(|| {
                cib.status
                    .nodes
                    .iter()
                    .find(|s| s.id == id)
                    .and_then(|s| s.uname.clone())
            })
    };
    let attr = |n: &str| cib.root_attr(n).unwrap_or_default().to_string();
    let last_change = cib
        .root_attr("cib-last-written")
        .and_then(parse_ctime)
        .map(|t| tandem_daemon::ipc::LastChange {
            epoch_s: t.epoch_secs,
            user: attr("update-user"),
            client: attr("update-client"),
            origin_node: attr("update-origin"),
        });
    ClusterInfo {
        cib: xml,
        local_node: String::new(),
        dc: cib.root_attr("dc-uuid").and_then(uname_of),
        quorate: cib.have_quorum(),
        members: cib
            .status
            .nodes
            .iter()
            .filter(|s| s.in_membership())
            .filter_map(|s| s.uname.clone())
            .collect(),
        ring: String::new(),
        last_change,
        transition_active: false,
    }
}

/// Reads a time as `ctime` writes it (`Wed Sep  2 22:02:53 2020`, UTC), as
/// `cib-last-written` holds it.
pub fn parse_ctime(text: &str) -> Option<DateTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let f: Vec<&str> = text.split_whitespace().collect();
    let [_, mon, day, time, year] = f[..] else {
        return None;
    };
    let month = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
    let hms: Vec<u32> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms[..] else {
        return None;
    };
    Some(DateTime::from_civil(
        year.parse().ok()?,
        month,
        day.parse().ok()?,
        h,
        m,
        sec,
    ))
}

/// crmsh's `status` options, as crm_mon flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-r`: inactive resources too ("Full List of Resources").
    pub inactive: bool,
    /// `-f`: the Migration Summary.
    pub failcounts: bool,
    /// `-o`: the Operations section.
    pub ops: bool,
    /// `-t`: timing details of operations.
    pub timing: bool,
    /// `-A`: node attributes.
    pub attributes: bool,
    /// `-n`: resources listed under the node they run on.
    pub bynode: bool,
    /// `--output-as xml`: the status as crm_mon's XML.
    pub xml: bool,
}

impl Options {
    /// crmsh's option words (`crm status full ...`); no word at all means `inactive`,
    /// as crmsh passes `-r` then. Unknown words are refused by name.
    pub fn from_words(words: &[String]) -> anyhow::Result<Options> {
        let mut o = Options::default();
        if words.is_empty() {
            o.inactive = true;
        }
        for w in words {
            match w.as_str() {
                "inactive" | "-r" | "--inactive" => o.inactive = true,
                "failcounts" | "-f" | "--failcounts" => o.failcounts = true,
                "ops" | "-o" | "--operations" => o.ops = true,
                "timing" | "-t" | "--timing-details" => {
                    o.timing = true;
                    o.ops = true;
                }
                "-A" | "--show-node-attributes" | "attributes" => o.attributes = true,
                "bynode" | "-n" | "--group-by-node" => o.bynode = true,
                "xml" | "--as-xml" | "-X" | "--output-as=xml" => o.xml = true,
                // crmsh's `full` is crm_mon -ncrft (tickets are not shown by tandem).
                "full" => {
                    o.bynode = true;
                    o.inactive = true;
                    o.failcounts = true;
                    o.timing = true;
                    o.ops = true;
                }
                "-1" | "--one-shot" => {}
                other => anyhow::bail!(
                    "status {other}: not an option tandem status has (it has inactive, \
                     bynode, failcounts, ops, timing, attributes, full, xml)"
                ),
            }
        }
        Ok(o)
    }
}

/// The whole status text.
pub fn render(cib: &Cib, t: &Transition, view: &ClusterView, o: Options, now: DateTime) -> String {
    let w = &t.world;
    let mut out = summary(cib, w, view, now);
    if !w.nodes.is_empty() {
        out.push_str("\nNode List:\n");
        out.push_str(&if o.bynode {
            nodes_with_resources(w, 1)
        } else {
            node_entries(w, 1)
        });
    }
    if o.bynode {
        if o.inactive {
            out.push_str("\nInactive Resources:\n");
            let inactive = inactive_entries(t);
            out.push_str(if inactive.is_empty() {
                "  * No inactive resources\n"
            } else {
                &inactive
            });
        }
    } else {
        out.push_str(if o.inactive {
            "\nFull List of Resources:\n"
        } else {
            "\nActive Resources:\n"
        });
        let rscs = resource_entries(w, &t.clone_nodes, 1, o.inactive);
        if rscs.is_empty() {
            out.push_str(if w.rscs.is_empty() || o.inactive {
                "  * No resources\n"
            } else {
                "  * No active resources\n"
            });
        }
        out.push_str(&rscs);
    }
    if o.attributes {
        out.push_str(&attributes(cib, w));
    }
    let failures = failed_actions(cib, w, now);
    if o.failcounts {
        out.push_str(&migration_summary(cib, w));
    }
    if o.ops {
        out.push_str(&operations(cib, w, o.timing));
    }
    if !failures.is_empty() {
        out.push_str("\nFailed Resource Actions:\n");
        for f in &failures {
            let _ = writeln!(out, "  * {}", f.line());
        }
    }
    out
}

/// The resources with nothing active, as the full list shows them (crm_mon `-n -r`).
fn inactive_entries(t: &Transition) -> String {
    let w = &t.world;
    let mut only = w.clone();
    only.tops
        .retain(|&r| w.primitives_of(r).iter().all(|&p| !w.rscs[p].is_active()));
    resource_entries(&only, &t.clone_nodes, 1, true)
}

fn summary(cib: &Cib, w: &World, view: &ClusterView, now: DateTime) -> String {
    let mut out = String::from("Cluster Summary:\n");
    let prop = |name: &str| {
        let ctx = tandem_cib::RuleContext::at(now);
        tandem_cib::nvset::evaluate(&cib.config.crm_config, &ctx, None)
            .get(name)
            .cloned()
    };
    let stack = prop("cluster-infrastructure").unwrap_or_else(|| view.default_stack.to_string());
    let _ = writeln!(out, "  * Stack: {stack}");
    match &view.dc {
        Some(dc) => {
            let version = prop("dc-version").unwrap_or_else(|| dc_version(view).to_string());
            let quorum = if view.quorate {
                "partition with quorum"
            } else {
                "partition WITHOUT quorum"
            };
            let _ = writeln!(out, "  * Current DC: {dc} (version {version}) - {quorum}");
        }
        None => out.push_str("  * Current DC: NONE\n"),
    }
    let on = view
        .local_node
        .as_deref()
        .map(|n| format!(" on {n}"))
        .unwrap_or_default();
    let _ = writeln!(out, "  * Last updated: {}{on}", now.ctime());
    let _ = writeln!(out, "  * Last change:  {}", last_change_text(view));
    let n = w.nodes.len();
    let _ = writeln!(out, "  * {n} node{} configured", plural(n));
    out.push_str(&resource_count(w));
    out.push_str(&management_notice(t_options(cib, now)));
    out
}

/// The DC's version when the CIB does not record one: ours in a running Tandem cluster
/// (every node runs the same binary), unknown for a file.
pub fn dc_version(view: &ClusterView) -> &'static str {
    if view.local_node.is_some() {
        env!("CARGO_PKG_VERSION")
    } else {
        "unknown"
    }
}

fn t_options(cib: &Cib, now: DateTime) -> tandem_cib::ClusterOptions {
    cib.config.cluster_options(now, &mut Default::default())
}

/// The banner crm_mon prints under the summary when the cluster does not manage resources.
fn management_notice(o: tandem_cib::ClusterOptions) -> String {
    if o.maintenance_mode {
        "\n              *** Resource management is DISABLED ***\n  The cluster will not \
         attempt to start, stop or recover services\n"
            .to_string()
    } else if o.stop_all_resources {
        "\n              *** Resource management is DISABLED ***\n  The cluster will keep \
         all resources stopped\n"
            .to_string()
    } else {
        String::new()
    }
}

fn last_change_text(view: &ClusterView) -> String {
    let Some(c) = &view.last_change else {
        return String::new();
    };
    let mut s = c.when.clone();
    for (word, v) in [("by", &c.user), ("via", &c.client), ("on", &c.origin)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            let _ = write!(s, " {word} {v}");
        }
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "M resource instances configured (K DISABLED, B BLOCKED from further action due to
/// failure)": every primitive, each clone instance counted.
fn resource_count(w: &World) -> String {
    let prims: Vec<_> = w.rscs.iter().filter(|r| r.is_primitive()).collect();
    let n = prims.len();
    let disabled = prims
        .iter()
        .filter(|r| r.target_role == tandem_cib::Role::Stopped)
        .count();
    let blocked = prims.iter().filter(|r| r.blocked).count();
    let mut notes = Vec::new();
    if disabled > 0 {
        notes.push(format!("{disabled} DISABLED"));
    }
    if blocked > 0 {
        notes.push(format!(
            "{blocked} BLOCKED from further action due to failure"
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    format!("  * {n} resource instance{} configured{notes}\n", plural(n))
}

/// One failed operation, as listed under "Failed Resource Actions".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedAction {
    pub op_key: String,
    pub node: String,
    pub rc: i32,
    pub op_status: i32,
    pub call_id: i64,
    pub exit_reason: Option<String>,
    pub last_rc_change: Option<i64>,
    pub queue_ms: Option<u64>,
    pub exec_ms: Option<u64>,
    pub interval_ms: u64,
    /// The operation (`monitor`).
    pub task: String,
}

impl FailedAction {
    fn from_op(op: &OpHistory, node: &str) -> FailedAction {
        FailedAction {
            op_key: op.operation_key.clone().unwrap_or_else(|| op.id.clone()),
            node: node.to_string(),
            rc: op.rc_code,
            op_status: op.op_status,
            call_id: op.call_id,
            exit_reason: op.exit_reason.clone().filter(|r| !r.is_empty()),
            last_rc_change: op.last_rc_change,
            queue_ms: op.queue_time_ms,
            exec_ms: op.exec_time_ms,
            interval_ms: op.interval_ms,
            task: op.operation.clone(),
        }
    }

    /// `RSC_monitor_10000 on NODE 'not running' (7): call=12, status='complete',
    /// exitreason='…', last-rc-change='Wed Sep  2 22:02:53 2020', queued=0ms, exec=132ms`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} on {} '{}' ({}): call={}, status='{}'",
            self.op_key,
            self.node,
            rc_text(self.rc),
            self.rc,
            self.call_id,
            exec_status_text(self.op_status)
        );
        if let Some(r) = &self.exit_reason {
            let _ = write!(s, ", exitreason='{r}'");
        }
        if let Some(t) = self.last_rc_change {
            let _ = write!(s, ", last-rc-change='{}'", DateTime::from_epoch(t).ctime());
        }
        if let Some(q) = self.queue_ms {
            let _ = write!(s, ", queued={q}ms");
        }
        if let Some(e) = self.exec_ms {
            let _ = write!(s, ", exec={e}ms");
        }
        s
    }
}

/// The name Pacemaker gives an OCF exit code.
pub fn rc_text(rc: i32) -> &'static str {
    match tandem_exec::OcfRc::from_code(rc) {
        Some(rc) => rc.description(),
        None => "unknown",
    }
}

/// The name Pacemaker gives an executor status (`op-status`).
pub fn exec_status_text(status: i32) -> &'static str {
    match status {
        -1 => "pending",
        0 => "complete",
        1 => "Cancelled",
        2 => "Timed Out",
        3 => "NOT SUPPORTED",
        4 => "Error",
        5 => "Hard error",
        6 => "Fatal error",
        7 => "Not installed",
        8 => "Internal communication failure",
        9 => "Cannot execute now",
        10 => "No fence device",
        11 => "CIB secrets unavailable",
        _ => "UNKNOWN!",
    }
}

/// Whether the history of this `node_state` counts: the scheduler reads only nodes that are
/// up, unclean or joining.
fn history_counts(w: &World, state_id: &str, uname: Option<&str>) -> Option<String> {
    let n = w
        .nodes
        .iter()
        .position(|n| n.id == state_id)
        .or_else(|| uname.and_then(|u| w.node_named(u)))?;
    let node = &w.nodes[n];
    (node.online || node.unclean || node.pending).then(|| node.uname.clone())
}

/// The failed operations still in the history, node by node in `status` order, each
/// once (a failure is often recorded twice: as the last result and as the last failure).
/// Failures older than their resource's `failure-timeout` are left out, as they no longer
/// count.
pub fn failed_actions(cib: &Cib, w: &World, now: DateTime) -> Vec<FailedAction> {
    let mut out = Vec::new();
    for state in &cib.status.nodes {
        let Some(uname) = history_counts(w, &state.id, state.uname.as_deref()) else {
            continue;
        };
        let mut seen: BTreeSet<(String, i64)> = BTreeSet::new();
        for h in &state.resources {
            let timeout_ms = w
                .rsc(crate::cibedit::strip_instance(&h.id))
                .map(|r| w.rscs[r].failure_timeout_ms)
                .unwrap_or(0);
            let mut ops: Vec<&OpHistory> = h.ops.iter().filter(|o| is_failure(o)).collect();
            ops.sort_by_key(|o| o.call_id);
            for op in ops {
                if expired(op, timeout_ms, now) {
                    continue;
                }
                let f = FailedAction::from_op(op, &uname);
                if seen.insert((f.op_key.clone(), f.call_id)) {
                    out.push(f);
                }
            }
        }
    }
    out
}

fn expired(op: &OpHistory, timeout_ms: u64, now: DateTime) -> bool {
    let when = op.last_rc_change.or(op.last_run);
    timeout_ms > 0 && when.is_some_and(|t| now.epoch_secs >= t + (timeout_ms / 1000) as i64)
}

/// A node's fail counts per resource (attribute `fail-count-RSC#OP_INTERVAL`, summed over
/// operations) and its latest `last-failure-RSC…`.
pub fn fail_counts(cib: &Cib, uname: &str) -> Vec<(String, i64, Option<i64>)> {
    let Some(state) = cib
        .status
        .nodes
        .iter()
        .find(|s| s.uname.as_deref() == Some(uname))
    else {
        return Vec::new();
    };
    let mut out: Vec<(String, i64, Option<i64>)> = Vec::new();
    for p in state.transient.iter().flat_map(|s| s.pairs.iter()) {
        let (rest, is_count) = match (
            p.name.strip_prefix("fail-count-"),
            p.name.strip_prefix("last-failure-"),
        ) {
            (Some(r), _) => (r, true),
            (_, Some(r)) => (r, false),
            _ => continue,
        };
        let rsc = rest.split_once('#').map_or(rest, |(r, _)| r).to_string();
        let text = p.value.as_deref().unwrap_or_default();
        let value = if is_count {
            parse_count(text)
        } else {
            text.trim().parse::<i64>().unwrap_or(0)
        };
        let entry = match out.iter_mut().position(|e| e.0 == rsc) {
            Some(i) => &mut out[i],
            None => {
                out.push((rsc, 0, None));
                out.last_mut().expect("just pushed")
            }
        };
        if is_count {
            entry.1 = entry
                .1
                .saturating_add(value)
                .min(tandem_cib::INFINITY as i64);
        } else {
            entry.2 = Some(entry.2.map_or(value, |t| t.max(value)));
        }
    }
    out
}

/// A fail count's value: a number, or INFINITY.
fn parse_count(v: &str) -> i64 {
    tandem_cib::Score::parse(v)
        .map(|s| i64::from(s.value()))
        .unwrap_or(0)
}

fn migration_threshold(w: &World, rsc: &str) -> i64 {
    w.rsc(crate::cibedit::strip_instance(rsc))
        .map(|r| w.rscs[r].migration_threshold)
        .unwrap_or(tandem_cib::INFINITY as i64)
}

/// "Migration Summary": per node with failures, each resource's threshold, fail count and
/// last failure.
fn migration_summary(cib: &Cib, w: &World) -> String {
    let mut out = String::from("\nMigration Summary:\n");
    for node in sorted_unames(w) {
        let counts = fail_counts(cib, &node);
        if counts.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  * Node: {node}:");
        for (rsc, count, last) in counts {
            let mut line = format!(
                "    * {rsc}: migration-threshold={}",
                migration_threshold(w, &rsc)
            );
            if count > 0 {
                let _ = write!(line, " fail-count={}", count_text(count));
            }
            if let Some(t) = last.filter(|&t| t > 0) {
                let _ = write!(line, " last-failure='{}'", DateTime::from_epoch(t).ctime());
            }
            let _ = writeln!(out, "{line}:");
        }
    }
    out
}

fn count_text(n: i64) -> String {
    if n >= i64::from(tandem_cib::INFINITY) {
        "INFINITY".to_string()
    } else {
        n.to_string()
    }
}

fn sorted_unames(w: &World) -> Vec<String> {
    let mut v: Vec<String> = w.nodes.iter().map(|n| n.uname.clone()).collect();
    v.sort_by(|a, b| tandem_scheduler::status_text::natural_cmp(a, b));
    v
}

/// "Node Attributes": each online node's transient and permanent attributes (not the
/// fail counts), as `NAME : VALUE`.
fn attributes(cib: &Cib, w: &World) -> String {
    let mut out = String::from("\nNode Attributes:\n");
    for n in w.nodes.iter().filter(|n| n.online) {
        let _ = writeln!(out, "  * Node: {}:", n.uname);
        let mut names: Vec<(&String, &String)> = n
            .attrs
            .iter()
            .filter(|(k, _)| !k.starts_with('#') && !is_hidden_attr(k))
            .collect();
        names.sort();
        for (k, v) in names {
            let _ = writeln!(out, "    * {k:<32}\t: {v:<10}");
        }
    }
    let _ = cib;
    out
}

fn is_hidden_attr(name: &str) -> bool {
    name.starts_with("fail-count-")
        || name.starts_with("last-failure-")
        || name == "shutdown"
        || name == "terminate"
        || name == "probe_complete"
}

/// "Operations": every node's recorded operations per resource, in call order.
fn operations(cib: &Cib, w: &World, timing: bool) -> String {
    let mut out = String::from("\nOperations:\n");
    for state in &cib.status.nodes {
        let Some(uname) = history_counts(w, &state.id, state.uname.as_deref()) else {
            continue;
        };
        let _ = writeln!(out, "  * Node: {uname}:");
        for h in &state.resources {
            let mut line = format!(
                "    * {}: migration-threshold={}",
                h.id,
                migration_threshold(w, &h.id)
            );
            if let Some((_, count, last)) = fail_counts(cib, &uname)
                .into_iter()
                .find(|(r, _, _)| r == crate::cibedit::strip_instance(&h.id))
            {
                if count > 0 {
                    let _ = write!(line, " fail-count={}", count_text(count));
                }
                if let Some(t) = last.filter(|&t| t > 0) {
                    let _ = write!(line, " last-failure='{}'", DateTime::from_epoch(t).ctime());
                }
            }
            let _ = writeln!(out, "{line}:");
            let mut ops: Vec<&OpHistory> = h.ops.iter().collect();
            ops.sort_by_key(|o| o.call_id);
            let mut calls = BTreeSet::new();
            // Probes that found nothing and notifications are not worth listing.
            let listed = |o: &&OpHistory| {
                o.operation != "notify"
                    && !(o.operation == "monitor" && o.interval_ms == 0 && o.rc_code == 7)
            };
            for op in ops
                .into_iter()
                .filter(listed)
                .filter(|o| calls.insert(o.call_id))
            {
                out.push_str(&op_line(op, timing));
            }
        }
    }
    out
}

fn op_line(op: &OpHistory, timing: bool) -> String {
    let mut s = format!("      * ({}) {}", op.call_id, op.operation);
    let interval = (op.interval_ms > 0).then(|| format!(" interval=\"{}ms\"", op.interval_ms));
    if timing {
        s.push(':');
        s.push_str(interval.as_deref().unwrap_or_default());
        if let Some(t) = op.last_rc_change.filter(|&t| t > 0) {
            let _ = write!(s, " last-rc-change=\"{}\"", DateTime::from_epoch(t).ctime());
        }
        if let Some(e) = op.exec_time_ms {
            let _ = write!(s, " exec-time=\"{e}ms\"");
        }
        if let Some(q) = op.queue_time_ms {
            let _ = write!(s, " queue-time=\"{q}ms\"");
        }
        let _ = write!(s, " rc={} ({})", op.rc_code, rc_text(op.rc_code));
    } else if let Some(i) = interval {
        s.push(':');
        s.push_str(&i);
    }
    s.push('\n');
    s
}
