//! `tandem resource why RSC`: where a resource runs and will run, and why — in plain words,
//! from the scheduler's own computation on the CIB (`schedule_traced`), not a second guess:
//!
//! ```text
//! web (ocf:heartbeat:apache): running on node1; it will stay there.
//!
//! Scores (the usable node with the highest score wins; below 0 it may not run there):
//!   * node1: 100  <- chosen
//!       + 100 stickiness (it runs there: resource-stickiness)
//!   * node2: -INFINITY  (standby: runs no resources)
//!       - INFINITY location constraint cli-ban-web-on-node2 (`tandem resource ban`; `tandem resource clear web` removes it)
//!
//! What else matters:
//!   * ...
//! ```
//!
//! Each node's score is the allocation score the scheduler decided with; the lines under
//! it are the contributions it recorded (location constraints by id, failures, fail counts
//! against `migration-threshold`, stickiness, node health, shutdown locks). What the
//! assignment added on top (colocations, group members' preferences) is named as such.

use std::fmt::Write as _;

use anyhow::Context;
use tandem_cib::constraints::Constraint;
use tandem_cib::options::NoQuorumPolicy;
use tandem_cib::{Cib, DateTime, Role, Score};
use tandem_scheduler::model::{Node, Variant, World};
use tandem_scheduler::status_text::natural_cmp;
use tandem_scheduler::{NodeIx, RscIx, ScoreSource, Transition, schedule_traced};

/// The explanation for resource `rsc` in `cib` at `now`.
pub fn explain(cib: &Cib, rsc: &str, now: DateTime) -> anyhow::Result<String> {
    let t = schedule_traced(cib, now);
    let w = &t.world;
    let r = w
        .rsc(rsc)
        .with_context(|| format!("resource {rsc} is not defined in the CIB"))?;
    let mut out = headline(w, r);
    out.push('\n');
    out.push_str(&scores(cib, &t, r, now));
    let notes = notes(cib, &t, r, now);
    if !notes.is_empty() {
        out.push_str("\nWhat else matters:\n");
        for n in notes {
            let _ = writeln!(out, "  * {n}");
        }
    }
    Ok(out)
}

/// The primitive whose placement stands for `r`: itself, a group's first member, a
/// clone's first instance's first member.
fn representative(w: &World, r: RscIx) -> RscIx {
    w.primitives_of(r).first().copied().unwrap_or(r)
}

fn kind(w: &World, r: RscIx) -> String {
    let rsc = &w.rscs[r];
    match rsc.variant {
        Variant::Primitive => rsc.agent.spec(),
        Variant::Group => "group".to_string(),
        Variant::Clone => "clone".to_string(),
    }
}

fn names(w: &World, nodes: &[NodeIx]) -> String {
    let v: Vec<&str> = nodes.iter().map(|&n| w.nodes[n].uname.as_str()).collect();
    v.join(", ")
}

/// "web (ocf:heartbeat:apache): running on node1; it will move to node2."
fn headline(w: &World, r: RscIx) -> String {
    let rsc = &w.rscs[r];
    let (now_on, next_on) = placement(w, r);
    let role_word = |role: Role| match role {
        Role::Promoted => " (promoted)",
        _ => "",
    };
    let prim = &w.rscs[representative(w, r)];
    let state = if now_on.is_empty() {
        "stopped".to_string()
    } else {
        format!(
            "{} on {}{}",
            if prim.failed { "FAILED" } else { "running" },
            names(w, &now_on),
            role_word(prim.role)
        )
    };
    let next = if next_on == now_on {
        if now_on.is_empty() {
            "it will stay stopped".to_string()
        } else {
            "it will stay there".to_string()
        }
    } else if next_on.is_empty() {
        "it will stop".to_string()
    } else if now_on.is_empty() {
        format!("it will start on {}", names(w, &next_on))
    } else {
        format!("it will move to {}", names(w, &next_on))
    };
    format!("{} ({}): {state}; {next}.\n", rsc.id, kind(w, r))
}

/// Where `r`'s primitives run now and where the scheduler put them.
fn placement(w: &World, r: RscIx) -> (Vec<NodeIx>, Vec<NodeIx>) {
    let mut now_on = Vec::new();
    let mut next_on = Vec::new();
    for p in w.primitives_of(r) {
        let rp = &w.rscs[p];
        for &n in &rp.running_on {
            if !now_on.contains(&n) {
                now_on.push(n);
            }
        }
        if let Some(n) = rp.assigned.filter(|_| rp.next_role != Role::Stopped)
            && !next_on.contains(&n)
        {
            next_on.push(n);
        }
    }
    let by_name = |a: &NodeIx, b: &NodeIx| natural_cmp(&w.nodes[*a].uname, &w.nodes[*b].uname);
    now_on.sort_by(by_name);
    next_on.sort_by(by_name);
    (now_on, next_on)
}

/// Why a node cannot run anything, if it cannot.
fn node_unusable(n: &Node) -> Option<&'static str> {
    Some(if n.unclean {
        "unclean: must be fenced first"
    } else if !n.online {
        "offline"
    } else if n.pending {
        "still joining"
    } else if n.standby || n.standby_onfail {
        "standby: runs no resources"
    } else if n.maintenance {
        "maintenance: the cluster leaves it alone"
    } else if n.shutdown {
        "shutting down"
    } else {
        return None;
    })
}

fn score_text(s: Score) -> String {
    s.to_string()
}

/// A contribution's sign and size: "+ 100", "- INFINITY".
fn signed(s: Score) -> String {
    let v = s.value();
    if s.is_minus_infinity() {
        "- INFINITY".to_string()
    } else if s.is_plus_infinity() {
        "+ INFINITY".to_string()
    } else if v < 0 {
        format!("- {}", -i64::from(v))
    } else {
        format!("+ {v}")
    }
}

/// The table whose scores decide: a clone's own for a clone (its instances are placed from
/// it), the resource's otherwise.
fn deciding(w: &World, r: RscIx) -> RscIx {
    if w.rscs[r].variant == Variant::Group {
        representative(w, r)
    } else {
        r
    }
}

/// The allocation score the scheduler decided with for `rsc` on `node`: its last score
/// line, else the table's value.
fn final_score(t: &Transition, r: RscIx, n: NodeIx) -> Option<Score> {
    let w = &t.world;
    let id = &w.rscs[r].id;
    let node = &w.nodes[n].uname;
    t.scores
        .iter()
        .rev()
        .find(|l| &l.rsc == id && &l.node == node)
        .map(|l| l.score)
        .or(w.rscs[r].allowed[n])
}

fn scores(cib: &Cib, t: &Transition, r: RscIx, now: DateTime) -> String {
    let w = &t.world;
    let d = deciding(w, r);
    let (_, next_on) = placement(w, r);
    let mut out = String::from(
        "Scores (the usable node with the highest score wins; below 0 it may not run there):\n",
    );
    let mut nodes: Vec<NodeIx> = (0..w.nodes.len()).collect();
    nodes.sort_by(|a, b| natural_cmp(&w.nodes[*a].uname, &w.nodes[*b].uname));
    for n in nodes {
        let node = &w.nodes[n];
        let score = final_score(t, d, n);
        let shown = score.map_or(
            "not allowed (opt-in cluster, no constraint lets it in)".to_string(),
            score_text,
        );
        let mut line = format!("  * {}: {shown}", node.uname);
        if let Some(why) = node_unusable(node) {
            let _ = write!(line, "  ({why})");
        }
        if next_on.contains(&n) {
            line.push_str("  <- chosen");
        }
        let _ = writeln!(out, "{line}");
        let mut sum = Score::ZERO;
        let members = contributors(w, r);
        for &m in &members {
            for (source, s) in contributions(w, m, n) {
                sum += s;
                let of = if members.len() > 1 {
                    format!(" [{}]", w.rscs[m].id)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "      {} {}{of}",
                    signed(s),
                    describe(cib, w, m, n, &source)
                );
            }
        }
        if let Some(f) = score.filter(|&f| f != sum && !sum.is_infinite())
            && node_unusable(node).is_none()
        {
            let reason = if f.is_minus_infinity() {
                forbidden_by(cib, t, r, n, now)
            } else {
                None
            };
            match reason {
                Some(why) => {
                    let _ = writeln!(out, "      - INFINITY {why}");
                }
                None => {
                    let _ = writeln!(
                        out,
                        "      = {} in the end: colocations and the preferences of the \
                         resources placed with it",
                        score_text(f)
                    );
                }
            }
        }
    }
    out
}

/// What the assignment itself forbids `r` on `n` for, when no recorded score says it.
fn forbidden_by(cib: &Cib, t: &Transition, r: RscIx, n: NodeIx, now: DateTime) -> Option<String> {
    let w = &t.world;
    let p = &w.rscs[representative(w, r)];
    if p.target_role == Role::Stopped {
        return Some("it is disabled (target-role=Stopped)".to_string());
    }
    let options = cib.config.cluster_options(now, &mut Default::default());
    if options.stop_all_resources {
        return Some("stop-all-resources keeps every resource stopped".to_string());
    }
    if !w.have_quorum
        && matches!(
            options.no_quorum_policy,
            NoQuorumPolicy::Stop | NoQuorumPolicy::Fence
        )
    {
        return Some(format!(
            "this partition has no quorum (no-quorum-policy={})",
            policy_name(options.no_quorum_policy)
        ));
    }
    let node = &w.nodes[n].uname;
    // A group member runs where the member before it runs.
    if let Some(g) = w.group_of(r) {
        let members = &w.rscs[g].children;
        if let Some(i) = members.iter().position(|&m| m == r).filter(|&i| i > 0) {
            let prev = members[i - 1];
            let (_, prev_next) = placement(w, prev);
            if !prev_next.contains(&n) {
                let pid = &w.rscs[prev].id;
                return Some(format!(
                    "group {}: it runs where {pid}, the member before it, runs, and {pid} will \
                     not run on {node}",
                    w.rscs[g].id
                ));
            }
        }
    }
    for c in colocations_of(cib, w, r) {
        let Some(wr) = w.rsc(&c.with) else {
            continue;
        };
        let (_, with_next) = placement(w, wr);
        if c.score.is_plus_infinity() && !with_next.contains(&n) {
            return Some(format!(
                "colocation {}: it must run where {} runs, and {} will not run on {node}",
                c.id, c.with, c.with
            ));
        }
        if c.score.is_minus_infinity() && with_next.contains(&n) {
            return Some(format!(
                "colocation {}: it must not run where {} runs, and {} will run on {node}",
                c.id, c.with, c.with
            ));
        }
    }
    None
}

/// The resources whose recorded scores make up `r`'s: a group's members (it is placed by
/// their total), the resource itself otherwise.
fn contributors(w: &World, r: RscIx) -> Vec<RscIx> {
    if w.rscs[r].variant == Variant::Group {
        w.rscs[r].children.clone()
    } else {
        vec![r]
    }
}

/// The recorded contributions to `r`'s score on `n`, one line per source (summed).
fn contributions(w: &World, r: RscIx, n: NodeIx) -> Vec<(ScoreSource, Score)> {
    let mut out: Vec<(ScoreSource, Score)> = Vec::new();
    for e in w.trace.iter().flatten() {
        if e.rsc != r || e.node != n || e.score == Score::ZERO {
            continue;
        }
        match out.iter_mut().find(|(s, _)| *s == e.source) {
            Some((_, total)) => *total += e.score,
            None => out.push((e.source.clone(), e.score)),
        }
    }
    out
}

fn describe(cib: &Cib, w: &World, r: RscIx, n: NodeIx, source: &ScoreSource) -> String {
    let top = &w.rscs[w.rscs[r].top].base_id;
    let node = &w.nodes[n].uname;
    match source {
        ScoreSource::Location(id) if id.starts_with("cli-prefer-") => format!(
            "location constraint {id} (made by `resource move`; `tandem resource clear {top}` \
             removes it)"
        ),
        ScoreSource::Location(id) if id.starts_with("cli-ban-") => format!(
            "location constraint {id} (made by `resource ban` or `move`; `tandem resource clear \
             {top}` removes it)"
        ),
        ScoreSource::Location(id) => {
            let rule = cib.config.constraints.iter().any(
                |c| matches!(c, Constraint::Location(l) if &l.id == id && !l.rules.is_empty()),
            );
            if rule {
                format!("location constraint {id} (its rule matches {node})")
            } else {
                format!("location constraint {id}")
            }
        }
        ScoreSource::Stickiness => {
            "stickiness (it runs there; resource-stickiness keeps it in place)".to_string()
        }
        ScoreSource::FailCount => {
            let p = representative(w, r);
            format!(
                "it failed on {node} as often as migration-threshold ({}) allows; `tandem \
                 resource cleanup {top}` forgets the failures",
                w.rscs[p].migration_threshold
            )
        }
        ScoreSource::HistoryBan => format!(
            "a failure on {node} that retrying cannot fix (not installed, not configured, \
             insufficient privileges...); `tandem resource cleanup {top}` forgets it"
        ),
        ScoreSource::Health => format!("node health of {node}"),
        ScoreSource::ShutdownLock => {
            "a shutdown lock keeps it for the node it ran on before that node stopped".to_string()
        }
        ScoreSource::Implicit => "placement of the resources it is contained in".to_string(),
        ScoreSource::Other => "other scheduler rules".to_string(),
    }
}

/// Everything else that decides: disabled, unmanaged, blocked, failed, colocations,
/// quorum, cluster-wide switches.
fn notes(cib: &Cib, t: &Transition, r: RscIx, now: DateTime) -> Vec<String> {
    let w = &t.world;
    let rsc = &w.rscs[r];
    let p = &w.rscs[representative(w, r)];
    let top = &w.rscs[rsc.top].base_id;
    let mut v = Vec::new();
    if p.target_role == Role::Stopped {
        v.push(format!(
            "it is disabled (target-role=Stopped); `tandem resource start {top}` enables it"
        ));
    }
    if p.maintenance {
        v.push("it is in maintenance: the cluster neither starts, stops nor monitors it".into());
    } else if !p.managed {
        v.push(format!(
            "it is not managed (is-managed=false or maintenance): the cluster neither starts \
             nor stops it; `tandem resource manage {top}` hands it back"
        ));
    }
    if p.blocked {
        v.push(
            "it is blocked: a failed stop (or on-fail=block) forbids further actions until the \
             failure is cleaned up"
                .into(),
        );
    }
    for q in w.primitives_of(r) {
        if w.rscs[q].failed {
            v.push(format!(
                "{} failed on {}; the failure is recovered as its on-fail says",
                w.rscs[q].id,
                names(w, &w.rscs[q].running_on)
            ));
        }
    }
    if let Some(g) = w.group_of(r) {
        v.push(format!(
            "it is a member of group {}: the group is placed as a whole, each member after the \
             one before it",
            w.rscs[g].id
        ));
    }
    v.extend(colocation_notes(cib, w, r));
    let options = cib.config.cluster_options(now, &mut Default::default());
    if !w.have_quorum {
        let policy = options.no_quorum_policy;
        if policy != NoQuorumPolicy::Ignore {
            v.push(format!(
                "this partition has no quorum and no-quorum-policy is {}: resources that need \
                 quorum do not start",
                policy_name(policy)
            ));
        }
    }
    if options.maintenance_mode {
        v.push("maintenance-mode is on: the cluster manages no resource".into());
    }
    if options.stop_all_resources {
        v.push("stop-all-resources is on: every resource is kept stopped".into());
    }
    let (_, next_on) = placement(w, r);
    if let [chosen] = next_on[..] {
        let d = deciding(w, r);
        let best = final_score(t, d, chosen);
        let tied: Vec<NodeIx> = (0..w.nodes.len())
            .filter(|&n| n != chosen && w.nodes[n].usable && final_score(t, d, n) == best)
            .collect();
        if !tied.is_empty() {
            v.push(format!(
                "{} has the same score as {}: among equal nodes the scheduler takes the one \
                 with the fewest resources already placed, then the one it runs on, then the \
                 first by name",
                w.nodes[chosen].uname,
                names(w, &tied)
            ));
        }
    }
    if next_on.is_empty() && p.target_role != Role::Stopped && p.managed {
        let usable = (0..w.nodes.len()).any(|n| {
            w.nodes[n].usable && final_score(t, deciding(w, r), n).is_some_and(|s| s >= Score::ZERO)
        });
        if !usable {
            v.push("no node can run it: every node is unusable or has a negative score".into());
        }
    }
    v
}

fn policy_name(p: NoQuorumPolicy) -> &'static str {
    match p {
        NoQuorumPolicy::Ignore => "ignore",
        NoQuorumPolicy::Freeze => "freeze",
        NoQuorumPolicy::Stop => "stop",
        NoQuorumPolicy::Demote => "demote",
        NoQuorumPolicy::Fence => "fence",
    }
}

/// A colocation with `r` (or a resource containing it) as the dependent.
struct ColocWith {
    id: String,
    with: String,
    score: Score,
}

fn colocations_of(cib: &Cib, w: &World, r: RscIx) -> Vec<ColocWith> {
    let mut mine: Vec<&str> = vec![w.rscs[r].base_id.as_str()];
    let mut at = w.rscs[r].parent;
    while let Some(p) = at {
        mine.push(w.rscs[p].base_id.as_str());
        at = w.rscs[p].parent;
    }
    cib.config
        .constraints
        .iter()
        .filter_map(|c| match c {
            Constraint::Colocation(c) => Some(c),
            _ => None,
        })
        .filter_map(|c| {
            let dep = c.rsc.as_deref()?;
            let with = c.with_rsc.as_deref()?;
            mine.contains(&dep).then(|| ColocWith {
                id: c.id.clone(),
                with: with.to_string(),
                score: c.score,
            })
        })
        .collect()
}

/// Colocations with `r` (or its group/clone) as the dependent: where the other resource is.
fn colocation_notes(cib: &Cib, w: &World, r: RscIx) -> Vec<String> {
    let mut v = Vec::new();
    for c in colocations_of(cib, w, r) {
        let Some(wr) = w.rsc(&c.with) else {
            continue;
        };
        let with = &c.with;
        let (_, with_next) = placement(w, wr);
        let where_ = if with_next.is_empty() {
            format!("{with} will not run anywhere")
        } else {
            format!("{with} will run on {}", names(w, &with_next))
        };
        let kind = if c.score.is_plus_infinity() {
            format!("it must run where {with} runs")
        } else if c.score.is_minus_infinity() {
            format!("it must not run where {with} runs")
        } else {
            format!("it prefers ({}) to run where {with} runs", c.score)
        };
        let mut line = format!("colocation {} ({}): {kind}; {where_}", c.id, c.score);
        if with_next.is_empty() && c.score.is_plus_infinity() {
            line.push_str(", so it cannot run either");
        }
        v.push(line);
    }
    v
}
