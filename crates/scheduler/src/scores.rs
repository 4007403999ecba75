//! Stage 3a: the node scores every resource starts its assignment with — location
//! constraints (already added by [`crate::constraints`]), bans from failures and fail
//! counts, node health, and stickiness on the current node.

use std::collections::BTreeMap;

use tandem_cib::{ClusterOptions, DateTime, Score};

use crate::constraints::add_location;
use crate::model::{NodeIx, RscIx, Variant, World};
use crate::unpack::history::HistoryFacts;

/// Fills every resource's table with 0 for every node when the cluster is symmetric (an
/// opt-in cluster starts empty: only location constraints let a resource in).
pub fn init_tables(w: &mut World, symmetric: bool) {
    if !symmetric {
        return;
    }
    for r in &mut w.rscs {
        for s in r.allowed.iter_mut() {
            if s.is_none() {
                *s = Some(Score::ZERO);
            }
        }
    }
}

/// Bans from hard errors and fatal errors found in the history.
pub fn apply_history_bans(w: &mut World, facts: &HistoryFacts) {
    w.trace_source = crate::model::ScoreSource::HistoryBan;
    for &(r, n) in &facts.bans {
        add_location(w, r, n, Score::MINUS_INFINITY);
    }
    for &r in &facts.fatal {
        for n in 0..w.nodes.len() {
            add_location(w, r, n, Score::MINUS_INFINITY);
        }
    }
}

/// Sum of fail counts per (resource id, node).
pub fn fail_counts(w: &World) -> BTreeMap<(String, NodeIx), i64> {
    let mut out: BTreeMap<(String, NodeIx), i64> = BTreeMap::new();
    for (n, node) in w.nodes.iter().enumerate() {
        for (k, v) in &node.attrs {
            if let Some(rest) = k.strip_prefix("fail-count-") {
                let rsc = strip_instance(rest.split('#').next().unwrap_or(rest)).to_string();
                if failures_ignored(w, &rsc, rest.split_once('#').map(|(_, op)| op)) {
                    continue;
                }
                let count = Score::parse(v).map(|s| s.value() as i64).unwrap_or(0);
                let e = out.entry((rsc, n)).or_insert(0);
                *e = (*e + count).min(tandem_cib::INFINITY as i64);
            }
        }
    }
    out.retain(|_, c| *c > 0);
    out
}

/// Failures of an operation configured with `on-fail=ignore` do not count.
fn failures_ignored(w: &World, rsc: &str, op: Option<&str>) -> bool {
    let Some((name, interval)) = op.and_then(|o| o.rsplit_once('_')) else {
        return false;
    };
    let Ok(interval) = interval.parse::<u64>() else {
        return false;
    };
    let r = w.rsc(rsc).or_else(|| w.rsc(&format!("{rsc}:0")));
    r.is_some_and(|r| {
        w.rscs[r].ops.iter().any(|o| {
            o.name == name
                && o.interval_ms == interval
                && o.on_fail == Some(crate::model::OnFail::Ignore)
        })
    })
}

/// `rsc:3` -> `rsc`: anonymous clone instances share their fail counts.
fn strip_instance(id: &str) -> &str {
    match id.rsplit_once(':') {
        Some((base, n)) if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => base,
        _ => id,
    }
}

/// Last failure time per (resource id, node), for `failure-timeout`.
pub fn last_failures(w: &World) -> BTreeMap<(String, NodeIx), i64> {
    let mut last: BTreeMap<(String, NodeIx), i64> = BTreeMap::new();
    for (n, node) in w.nodes.iter().enumerate() {
        for (k, v) in &node.attrs {
            if let Some(rest) = k.strip_prefix("last-failure-") {
                let rsc = strip_instance(rest.split('#').next().unwrap_or(rest)).to_string();
                let t = v.trim().parse::<i64>().unwrap_or(0);
                let e = last.entry((rsc, n)).or_insert(0);
                *e = (*e).max(t);
            }
        }
    }
    last
}

/// Bans every primitive from nodes where its fail count reached `migration-threshold`.
/// Returns the (primitive, node) pairs whose failures expired (to clear their fail count).
pub fn apply_fail_counts(w: &mut World, now: DateTime) -> Vec<(RscIx, NodeIx)> {
    let counts = fail_counts(w);
    let last = last_failures(w);
    let mut expired = Vec::new();
    let mut bans = Vec::new();
    // A container's failures include those of the resources inside it.
    let mut contents: Vec<Vec<RscIx>> = vec![Vec::new(); w.rscs.len()];
    for r in 0..w.rscs.len() {
        if let Some(c) = crate::containers::container_of(w, r) {
            contents[c].push(r);
        }
    }
    for (ix, r) in w.rscs.iter().enumerate() {
        if !r.is_primitive() {
            continue;
        }
        for n in 0..w.nodes.len() {
            let mut count = 0i64;
            let mut newest = 0i64;
            for &who in std::iter::once(&ix).chain(contents[ix].iter()) {
                let name = strip_instance(&w.rscs[who].id).to_string();
                if let Some(c) = counts.get(&(name.clone(), n)) {
                    count = (count + c).min(tandem_cib::INFINITY as i64);
                }
                if let Some(&t) = last.get(&(name, n)) {
                    newest = newest.max(t);
                }
            }
            if count == 0 {
                continue;
            }
            if r.failure_timeout_ms > 0
                && newest > 0
                && now.epoch_secs >= newest + (r.failure_timeout_ms / 1000) as i64
            {
                expired.push((ix, n));
                continue;
            }
            if r.migration_threshold > 0 && count >= r.migration_threshold {
                let target = w.clone_of(ix).unwrap_or(ix);
                bans.push((target, n));
            }
        }
    }
    bans.sort_unstable();
    bans.dedup();
    w.trace_source = crate::model::ScoreSource::FailCount;
    for (r, n) in bans {
        add_location(w, r, n, Score::MINUS_INFINITY);
    }
    w.trace_source = crate::model::ScoreSource::Other;
    expired
}

/// Node health: the `#health*` attributes turned into a score for every resource.
pub fn apply_node_health(w: &mut World, options: &ClusterOptions) {
    let strategy = options.node_health_strategy.as_str();
    if strategy == "none" || strategy.is_empty() {
        return;
    }
    w.trace_source = crate::model::ScoreSource::Health;
    for n in 0..w.nodes.len() {
        let mut total = Score::ZERO;
        let mut any = false;
        for (k, v) in &w.nodes[n].attrs {
            if !k.starts_with("#health") {
                continue;
            }
            any = true;
            let colour = v.trim().to_ascii_lowercase();
            let s = match (strategy, colour.as_str()) {
                ("migrate-on-red", "red") | ("only-green", "red" | "yellow") => {
                    Score::MINUS_INFINITY
                }
                ("migrate-on-red" | "only-green", _) => Score::ZERO,
                (_, "red") => options.node_health_red,
                (_, "yellow") => options.node_health_yellow,
                (_, "green") => options.node_health_green,
                _ => Score::parse(v).unwrap_or(Score::ZERO),
            };
            total += s;
        }
        if matches!(strategy, "progressive" | "custom") {
            total += options.node_health_base;
            any = true;
        }
        if !any || total == Score::ZERO {
            continue;
        }
        let tops = w.tops.clone();
        for r in tops {
            if w.rscs[r]
                .meta
                .get("allow-unhealthy-nodes")
                .map(String::as_str)
                == Some("true")
            {
                continue;
            }
            add_location(w, r, n, total);
        }
    }
}

/// Stickiness: a running, managed resource prefers the node it is on.
pub fn apply_stickiness(w: &mut World) {
    for ix in 0..w.rscs.len() {
        let r = &w.rscs[ix];
        if r.variant != Variant::Primitive || r.running_on.len() != 1 || !r.managed {
            continue;
        }
        let stick = effective_stickiness(w, ix);
        if stick == Score::ZERO {
            continue;
        }
        let n = r.running_on[0];
        // In an opt-in cluster stickiness does not let a resource onto a node it may not use.
        if let Some(s) = &mut w.rscs[ix].allowed[n] {
            *s += stick;
            w.trace_source = crate::model::ScoreSource::Stickiness;
            w.record(ix, n, stick);
        }
    }
}

/// A primitive's stickiness: its own (inherited) value; clone instances default to 1.
pub fn effective_stickiness(w: &World, ix: RscIx) -> Score {
    let r = &w.rscs[ix];
    let set =
        r.meta.contains_key("resource-stickiness") || r.meta.contains_key("resource_stickiness");
    if !set && w.clone_of(ix).is_some() {
        return Score::new(1);
    }
    r.stickiness
}
