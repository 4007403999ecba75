#![allow(clippy::unwrap_used)]
//! Property tests over generated CIBs shaped like real ones: nodes, primitives, groups and
//! clones with option blocks and operations, constraints (with resource sets and rules), and
//! a status section with operation history.
//!
//! * write → parse → typed model: what was generated is what the model reads, with no problems;
//! * the typed model survives `to_xml` → parse unchanged, and so does the canonical form;
//! * `verify` finds nothing in a valid generated CIB (no false alarms);
//! * damaged text never panics the loader, and whatever loads writes out as loadable XML;
//! * the crm text `show` prints, loaded into an empty CIB with `load replace`, gives back the
//!   same configuration under C14N, ids included (as `crm_lossless.rs` checks for the
//!   corpus).
//!
//! Cost: ~4 s in a debug build (256 cases per property).

mod common;

use proptest::prelude::*;
use tandem_cib::constraints::Constraint;
use tandem_cib::{Cib, verify};
use tandem_xml::{C14nOptions, escape_attr};

// ---- the generated shape -----------------------------------------------------------------

#[derive(Clone, Debug)]
struct Op {
    name: &'static str,
    interval_s: u32,
    timeout_s: u32,
}

#[derive(Clone, Debug)]
struct Prim {
    agent: (&'static str, Option<&'static str>, &'static str),
    params: Vec<(String, String)>,
    target_role: Option<&'static str>,
    ops: Vec<Op>,
}

#[derive(Clone, Debug)]
enum Rsc {
    Prim(Prim),
    Group(Vec<Prim>),
    Clone {
        child: Prim,
        promotable: bool,
        max: Option<u8>,
    },
}

#[derive(Clone, Debug)]
enum Cons {
    Location {
        rsc: usize,
        node: usize,
        score: i32,
    },
    LocationRule {
        rsc: usize,
        node: usize,
        date: bool,
    },
    Colocation {
        a: usize,
        b: usize,
        score: i32,
    },
    Order {
        a: usize,
        b: usize,
        optional: bool,
    },
    OrderSet {
        members: Vec<usize>,
        sequential: bool,
    },
}

#[derive(Clone, Debug)]
struct HistOp {
    op: &'static str,
    rc: i32,
    call_id: u32,
    changed: u32,
}

#[derive(Clone, Debug)]
struct Spec {
    epoch: u32,
    nodes: usize,
    resources: Vec<Rsc>,
    constraints: Vec<Cons>,
    /// Per node: for some primitives (by index into all primitives), their history.
    history: Vec<Vec<(usize, Vec<HistOp>)>>,
}

const AGENTS: &[(&str, Option<&str>, &str)] = &[
    ("ocf", Some("heartbeat"), "IPaddr2"),
    ("ocf", Some("heartbeat"), "nginx"),
    ("ocf", Some("pacemaker"), "Dummy"),
    ("systemd", None, "postgresql"),
    ("lsb", None, "httpd"),
    ("ocf", Some("linbit"), "drbd"),
];

fn value() -> impl Strategy<Value = String> {
    // Ordinary values, and ones that need escaping or normalisation-proof writing.
    prop_oneof![
        "[a-z0-9./-]{1,12}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        Just("a & b < c > \"d\" 'e'".to_string()),
        Just("tab\there\nnewline".to_string()),
        Just("ünïcödé — ✓".to_string()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    (
        prop::sample::select(&["monitor", "start", "stop"][..]),
        1u32..120,
        1u32..300,
    )
        .prop_map(|(name, interval, timeout_s)| Op {
            name,
            interval_s: if name == "monitor" { interval } else { 0 },
            timeout_s,
        })
}

fn prim() -> impl Strategy<Value = Prim> {
    (
        prop::sample::select(AGENTS),
        prop::collection::vec(("[a-z_]{1,8}", value()), 0..4),
        prop::option::of(prop::sample::select(
            &["Started", "Stopped", "Promoted"][..],
        )),
        prop::collection::vec(op(), 0..4),
    )
        .prop_map(|(agent, mut params, target_role, ops)| {
            // One value per name, one operation per (name, interval), as a valid CIB has.
            params.sort_by(|a, b| a.0.cmp(&b.0));
            params.dedup_by(|a, b| a.0 == b.0);
            let mut seen = Vec::new();
            let ops = ops
                .into_iter()
                .filter(|o| {
                    let key = (o.name, o.interval_s);
                    let new = !seen.contains(&key);
                    seen.push(key);
                    new
                })
                .collect();
            Prim {
                agent,
                params,
                target_role,
                ops,
            }
        })
}

fn rsc() -> impl Strategy<Value = Rsc> {
    prop_oneof![
        3 => prim().prop_map(Rsc::Prim),
        1 => prop::collection::vec(prim(), 1..4).prop_map(Rsc::Group),
        1 => (prim(), any::<bool>(), prop::option::of(1u8..5)).prop_map(|(mut child, promotable, max)| {
            if promotable {
                child.agent = ("ocf", Some("linbit"), "drbd");
            }
            Rsc::Clone { child, promotable, max }
        }),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (0u32..1000, 1usize..5, prop::collection::vec(rsc(), 1..6))
        .prop_flat_map(|(epoch, nodes, resources)| {
            let top = resources.len();
            let prims = resources.iter().map(prim_count).sum::<usize>();
            let cons =
                prop_oneof![
                    (0..top, 0..nodes, -1000i32..1000)
                        .prop_map(|(rsc, node, score)| Cons::Location { rsc, node, score }),
                    (0..top, 0..nodes, any::<bool>())
                        .prop_map(|(rsc, node, date)| Cons::LocationRule { rsc, node, date }),
                    (0..top, 0..top, -1000i32..1000).prop_map(|(a, b, score)| Cons::Colocation {
                        a,
                        b,
                        score
                    }),
                    (0..top, 0..top, any::<bool>()).prop_map(|(a, b, optional)| Cons::Order {
                        a,
                        b,
                        optional
                    }),
                    (prop::collection::vec(0..top, 1..4), any::<bool>()).prop_map(
                        |(members, sequential)| Cons::OrderSet {
                            members,
                            sequential
                        }
                    ),
                ];
            let hist_op = (
                prop::sample::select(&["start", "stop", "monitor"][..]),
                prop::sample::select(&[0, 1, 7, 8][..]),
                1u32..500,
                1_600_000_000u32..1_700_000_000,
            )
                .prop_map(|(op, rc, call_id, changed)| HistOp {
                    op,
                    rc,
                    call_id,
                    changed,
                });
            let history = prop::collection::vec(
                prop::collection::vec((0..prims, prop::collection::vec(hist_op, 1..3)), 0..3),
                nodes,
            );
            (
                Just(epoch),
                Just(nodes),
                Just(resources),
                prop::collection::vec(cons, 0..6),
                history,
            )
        })
        .prop_map(|(epoch, nodes, resources, constraints, history)| {
            let constraints = constraints
                .into_iter()
                .filter(|c| match c {
                    // A resource is not colocated with or ordered after itself.
                    Cons::Colocation { a, b, .. } | Cons::Order { a, b, .. } => a != b,
                    _ => true,
                })
                .collect();
            Spec {
                epoch,
                nodes,
                resources,
                constraints,
                history,
            }
        })
}

fn prim_count(r: &Rsc) -> usize {
    match r {
        Rsc::Prim(_) | Rsc::Clone { .. } => 1,
        Rsc::Group(g) => g.len(),
    }
}

// ---- rendering -----------------------------------------------------------------------------

fn attr(out: &mut String, name: &str, v: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_attr(out, v);
    out.push('"');
}

fn top_id(i: usize) -> String {
    format!("rsc{i}")
}

/// Renders a primitive; its id is `id`.
fn render_prim(out: &mut String, p: &Prim, id: &str) {
    out.push_str("<primitive");
    attr(out, "id", id);
    attr(out, "class", p.agent.0);
    if let Some(pr) = p.agent.1 {
        attr(out, "provider", pr);
    }
    attr(out, "type", p.agent.2);
    out.push('>');
    if !p.params.is_empty() {
        out.push_str(&format!("<instance_attributes id=\"{id}-ia\">"));
        for (k, v) in &p.params {
            out.push_str("<nvpair");
            attr(out, "id", &format!("{id}-ia-{k}"));
            attr(out, "name", k);
            attr(out, "value", v);
            out.push_str("/>");
        }
        out.push_str("</instance_attributes>");
    }
    if let Some(role) = p.target_role {
        out.push_str(&format!(
            "<meta_attributes id=\"{id}-meta\"><nvpair id=\"{id}-meta-tr\" name=\"target-role\" value=\"{role}\"/></meta_attributes>"
        ));
    }
    if !p.ops.is_empty() {
        out.push_str("<operations>");
        for o in &p.ops {
            out.push_str(&format!(
                "<op id=\"{id}-{}-{}\" name=\"{}\" interval=\"{}s\" timeout=\"{}s\"/>",
                o.name, o.interval_s, o.name, o.interval_s, o.timeout_s
            ));
        }
        out.push_str("</operations>");
    }
    out.push_str("</primitive>");
}

/// Every primitive id in document order.
fn prim_ids(spec: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    for (i, r) in spec.resources.iter().enumerate() {
        match r {
            Rsc::Prim(_) => out.push(top_id(i)),
            Rsc::Group(g) => out.extend((0..g.len()).map(|j| format!("{}-m{j}", top_id(i)))),
            Rsc::Clone { .. } => out.push(format!("{}-child", top_id(i))),
        }
    }
    out
}

fn render(spec: &Spec) -> String {
    let mut x = format!(
        "<cib crm_feature_set=\"3.19.0\" validate-with=\"pacemaker-3.10\" epoch=\"{}\" num_updates=\"3\" admin_epoch=\"0\"><configuration>",
        spec.epoch
    );
    x.push_str("<crm_config><cluster_property_set id=\"cib-bootstrap-options\"><nvpair id=\"opt-fencing\" name=\"stonith-enabled\" value=\"false\"/><nvpair id=\"opt-nq\" name=\"no-quorum-policy\" value=\"ignore\"/></cluster_property_set></crm_config>");
    x.push_str("<nodes>");
    for n in 0..spec.nodes {
        x.push_str(&format!("<node id=\"{}\" uname=\"node{n}\"/>", n + 1));
    }
    x.push_str("</nodes><resources>");
    for (i, r) in spec.resources.iter().enumerate() {
        let id = top_id(i);
        match r {
            Rsc::Prim(p) => render_prim(&mut x, p, &id),
            Rsc::Group(members) => {
                x.push_str(&format!("<group id=\"{id}\">"));
                for (j, p) in members.iter().enumerate() {
                    render_prim(&mut x, p, &format!("{id}-m{j}"));
                }
                x.push_str("</group>");
            }
            Rsc::Clone {
                child,
                promotable,
                max,
            } => {
                x.push_str(&format!(
                    "<clone id=\"{id}\"><meta_attributes id=\"{id}-meta\">"
                ));
                x.push_str(&format!(
                    "<nvpair id=\"{id}-promotable\" name=\"promotable\" value=\"{promotable}\"/>"
                ));
                if let Some(m) = max {
                    x.push_str(&format!(
                        "<nvpair id=\"{id}-max\" name=\"clone-max\" value=\"{m}\"/>"
                    ));
                }
                x.push_str("</meta_attributes>");
                render_prim(&mut x, child, &format!("{id}-child"));
                x.push_str("</clone>");
            }
        }
    }
    x.push_str("</resources><constraints>");
    for (i, c) in spec.constraints.iter().enumerate() {
        x.push_str(&render_constraint(c, i));
    }
    x.push_str("</constraints></configuration><status>");
    let prims = prim_ids(spec);
    for (n, entries) in spec.history.iter().enumerate() {
        x.push_str(&format!(
            "<node_state id=\"{}\" uname=\"node{n}\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"><lrm id=\"{}\"><lrm_resources>",
            n + 1,
            n + 1
        ));
        let mut done = Vec::new();
        for (p, ops) in entries {
            if done.contains(p) {
                continue;
            }
            done.push(*p);
            x.push_str(&format!(
                "<lrm_resource id=\"{}\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">",
                prims[*p]
            ));
            for (k, o) in ops.iter().enumerate() {
                x.push_str(&format!(
                    "<lrm_rsc_op id=\"{r}_last_{k}\" operation_key=\"{r}_{op}_0\" operation=\"{op}\" crm-debug-origin=\"do_update_resource\" crm_feature_set=\"3.19.0\" transition-key=\"{k}:5:0:d0e1f2a3\" transition-magic=\"0:{rc};{k}:5:0:d0e1f2a3\" exit-reason=\"\" on_node=\"node{n}\" call-id=\"{call}\" rc-code=\"{rc}\" op-status=\"0\" interval=\"0\" last-rc-change=\"{t}\" exec-time=\"12\" queue-time=\"0\" op-digest=\"f2317cad3d54cec5d7d7aa7d0bf35cf8\"/>",
                    r = prims[*p],
                    op = o.op,
                    rc = o.rc,
                    call = o.call_id,
                    t = o.changed,
                ));
            }
            x.push_str("</lrm_resource>");
        }
        x.push_str("</lrm_resources></lrm></node_state>");
    }
    x.push_str("</status></cib>");
    x
}

fn render_constraint(c: &Cons, i: usize) -> String {
    match c {
        Cons::Location { rsc, node, score } => format!(
            "<rsc_location id=\"loc{i}\" rsc=\"{}\" node=\"node{node}\" score=\"{score}\"/>",
            top_id(*rsc)
        ),
        Cons::LocationRule { rsc, node, date } => {
            let expr = if *date {
                format!(
                    "<date_expression id=\"loc{i}-d\" operation=\"in_range\" start=\"2024-01-01\" end=\"2024-12-31T23:59:59\"/>"
                )
            } else {
                format!(
                    "<expression id=\"loc{i}-e\" attribute=\"#uname\" operation=\"eq\" value=\"node{node}\"/>"
                )
            };
            format!(
                "<rsc_location id=\"loc{i}\" rsc=\"{}\"><rule id=\"loc{i}-rule\" score=\"-INFINITY\">{expr}</rule></rsc_location>",
                top_id(*rsc)
            )
        }
        Cons::Colocation { a, b, score } => format!(
            "<rsc_colocation id=\"col{i}\" rsc=\"{}\" with-rsc=\"{}\" score=\"{score}\"/>",
            top_id(*a),
            top_id(*b)
        ),
        Cons::Order { a, b, optional } => format!(
            "<rsc_order id=\"ord{i}\" first=\"{}\" then=\"{}\" kind=\"{}\"/>",
            top_id(*a),
            top_id(*b),
            if *optional { "Optional" } else { "Mandatory" }
        ),
        Cons::OrderSet {
            members,
            sequential,
        } => {
            let refs: String = members
                .iter()
                .map(|m| format!("<resource_ref id=\"{}\"/>", top_id(*m)))
                .collect();
            format!(
                "<rsc_order id=\"ord{i}\"><resource_set id=\"ord{i}-set\" sequential=\"{sequential}\">{refs}</resource_set></rsc_order>"
            )
        }
    }
}

// ---- properties ------------------------------------------------------------------------------

fn check_model_matches_spec(cib: &Cib, spec: &Spec) {
    let config = &cib.config;
    assert_eq!(cib.version.epoch, spec.epoch as u64);
    assert_eq!(config.nodes.len(), spec.nodes);
    let tops: Vec<&str> = config.resources.iter().map(|r| r.id()).collect();
    let want: Vec<String> = (0..spec.resources.len()).map(top_id).collect();
    assert_eq!(tops, want);
    let prims: Vec<String> = config
        .resources
        .iter()
        .flat_map(|r| r.primitives())
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(prims, prim_ids(spec));
    let spec_prims: Vec<&Prim> = spec
        .resources
        .iter()
        .flat_map(|r| match r {
            Rsc::Prim(p) | Rsc::Clone { child: p, .. } => vec![p],
            Rsc::Group(g) => g.iter().collect(),
        })
        .collect();
    for (got, want) in config
        .resources
        .iter()
        .flat_map(|r| r.primitives())
        .zip(&spec_prims)
    {
        assert_eq!(
            (
                got.class.as_str(),
                got.provider.as_deref(),
                got.agent.as_str()
            ),
            want.agent
        );
        let params: Vec<(String, String)> = got
            .instance
            .iter()
            .flat_map(|s| &s.pairs)
            .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(&params, &want.params, "values survive escaping");
        let ops: Vec<(&str, u64)> = got
            .ops
            .iter()
            .map(|o| (o.name.as_str(), o.interval_ms))
            .collect();
        let want_ops: Vec<(&str, u64)> = want
            .ops
            .iter()
            .map(|o| (o.name, o.interval_s as u64 * 1000))
            .collect();
        assert_eq!(ops, want_ops);
    }
    assert_eq!(config.constraints.len(), spec.constraints.len());
    for (got, want) in config.constraints.iter().zip(&spec.constraints) {
        let kind_matches = matches!(
            (got, want),
            (
                Constraint::Location(_),
                Cons::Location { .. } | Cons::LocationRule { .. }
            ) | (Constraint::Colocation(_), Cons::Colocation { .. })
                | (
                    Constraint::Order(_),
                    Cons::Order { .. } | Cons::OrderSet { .. }
                )
        );
        assert!(kind_matches, "{got:?} for {want:?}");
    }
    let ops_in_status: usize = cib
        .status
        .nodes
        .iter()
        .flat_map(|n| &n.resources)
        .map(|r| r.ops.len())
        .sum();
    let mut want_ops = 0;
    for entries in &spec.history {
        let mut done = Vec::new();
        for (p, ops) in entries {
            if !done.contains(p) {
                done.push(*p);
                want_ops += ops.len();
            }
        }
    }
    assert_eq!(ops_in_status, want_ops);
    assert_eq!(cib.status.nodes.len(), spec.nodes);
}

proptest! {
    #[test]
    fn generated_cibs_load_as_generated_and_round_trip(spec in spec()) {
        let text = render(&spec);
        let cib = Cib::parse(&text).unwrap();
        prop_assert_eq!(&cib.problems, &Vec::new(), "{}", text);
        check_model_matches_spec(&cib, &spec);

        let written = cib.to_xml();
        let again = Cib::parse(&written).unwrap();
        prop_assert_eq!(&again.config, &cib.config);
        prop_assert_eq!(&again.status, &cib.status);
        prop_assert_eq!(again.version, cib.version);
        prop_assert_eq!(
            again.document().c14n(C14nOptions::COMPARE),
            cib.document().c14n(C14nOptions::COMPARE)
        );
        prop_assert_eq!(again.to_xml(), written, "writing is stable");
    }

    #[test]
    fn shown_crm_text_loads_back_the_same_configuration(spec in spec()) {
        let cib = Cib::parse(&render(&spec)).unwrap();
        if let Err(e) = common::show_load_round_trip(cib.document()) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn verify_raises_no_false_alarms_on_valid_cibs(spec in spec()) {
        let cib = Cib::parse(&render(&spec)).unwrap();
        let found: Vec<String> = verify(&cib).iter().map(ToString::to_string).collect();
        prop_assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn damaged_text_never_panics(
        spec in spec(),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), 0usize..8, prop::sample::select(&["", "<", ">", "\"", "&", "</x>", "<a ", "=", "\u{0}", "é"][..])), 1..4),
    ) {
        let mut text = render(&spec);
        for (at, len, insert) in cuts {
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(start..end, insert);
        }
        if let Ok(cib) = Cib::parse(&text) {
            let _ = verify(&cib);
            let written = cib.to_xml();
            prop_assert!(Cib::parse(&written).is_ok(), "what loads must write out as loadable XML:\n{}", written);
        }
    }
}
