//! The DC starts, recovers and moves resources, with virtual agents.

use crate::cibops::transient_attr;
use crate::harness::Harness;
use crate::{Request, Response};

const CONFIG: &str = r#"<configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="d-mon" name="monitor" interval="10s" timeout="20s"/></operations></primitive></resources><constraints/></configuration>"#;

/// `n` nodes in one view with the DC's membership written, agents answering at once.
fn settled(n: usize) -> Harness {
    let mut h = Harness::new(n);
    h.auto_agents = true;
    assert!(h.run_until(30_000, |h| h.converged()));
    h.run_ms(2_000);
    h
}

fn cluster(n: usize) -> Harness {
    let mut h = settled(n);
    let r = h.commit(1, CONFIG);
    assert!(matches!(r, Response::Committed { .. }), "{r:?}");
    let ok = h.run_until(30_000, |h| h.where_active("d").len() == 1);
    assert!(
        ok,
        "{}",
        h.logs
            .iter()
            .filter(|l| !l.1.starts_with("TOTEM") && !l.1.starts_with("QUORUM"))
            .map(|l| format!("{}: {}", l.0, l.1))
            .collect::<Vec<_>>()
            .join("\n")
    );
    h.run_ms(3_000);
    h
}

fn recurring_monitors(h: &Harness, rsc: &str) -> Vec<u32> {
    h.running
        .iter()
        .filter(|r| r.op.rsc_id == rsc && r.op.interval_ms == 10_000)
        .map(|r| r.node)
        .collect()
}

#[test]
fn the_dc_probes_starts_and_monitors_a_resource_once() {
    let h = cluster(3);
    let at = h.where_active("d");
    assert_eq!(at.len(), 1);
    // Probes ran everywhere, one start, one recurring monitor where it runs.
    let probes: Vec<u32> = h
        .ran
        .iter()
        .filter(|r| r.op.action == "monitor" && r.op.interval_ms == 0)
        .map(|r| r.node)
        .collect();
    assert_eq!(probes, vec![1, 2, 3]);
    let starts: Vec<u32> = h
        .ran
        .iter()
        .filter(|r| r.op.action == "start")
        .map(|r| r.node)
        .collect();
    assert_eq!(starts, at);
    assert_eq!(recurring_monitors(&h, "d"), at);
    assert!(h.converged());
    assert!(!h.node(1).transition_active());
    // The status section on every node shows it running there.
    for id in 1..=3 {
        let cib = h.node(id).cib();
        let ns = cib
            .status
            .nodes
            .iter()
            .find(|n| n.id == at[0].to_string())
            .unwrap();
        let ops: Vec<String> = ns
            .resources
            .iter()
            .flat_map(|r| r.ops.iter().map(|o| o.id.clone()))
            .collect();
        assert_eq!(
            ops,
            vec!["d_last_0".to_string(), "d_monitor_10000".to_string()],
            "on node {id}"
        );
    }
}

#[test]
fn a_failed_monitor_counts_a_failure_and_restarts_in_place() {
    let mut h = cluster(3);
    let at = h.where_active("d")[0];
    let starts_before = h.ran.iter().filter(|r| r.op.action == "start").count();
    h.kill_resource(at, "d");
    assert!(h.run_until(30_000, |h| h.where_active("d") == vec![at]
        && h.ran.iter().filter(|r| r.op.action == "start").count()
            == starts_before + 1));
    h.run_ms(3_000);
    let name = format!("n{at}");
    for id in 1..=3 {
        let doc = h.node(id).cib().document();
        assert_eq!(
            transient_attr(doc, &name, "fail-count-d#monitor_10000").as_deref(),
            Some("1")
        );
        assert!(transient_attr(doc, &name, "last-failure-d#monitor_10000").is_some());
    }
    // cleanup forgets it (and re-probes).
    let r = h.call(
        2,
        Request::Cleanup {
            resource: Some("d".into()),
            node: None,
        },
    );
    assert_eq!(r, Response::Done);
    h.run_ms(3_000);
    let doc = h.node(3).cib().document();
    assert_eq!(
        transient_attr(doc, &name, "fail-count-d#monitor_10000"),
        None
    );
    assert_eq!(h.where_active("d"), vec![at]);
    assert!(h.converged());
}

#[test]
fn a_crashed_nodes_resource_starts_on_a_survivor() {
    let mut h = cluster(3);
    let at = h.where_active("d")[0];
    h.crash(at);
    // The crashed node's agents die with it (no fencing in the harness).
    h.active.retain(|(n, _)| *n != at);
    assert!(h.run_until(60_000, |h| h.where_active("d").len() == 1));
    let now = h.where_active("d")[0];
    assert_ne!(now, at);
    h.run_ms(3_000);
    assert!(h.converged());
    assert_eq!(recurring_monitors(&h, "d"), vec![now]);
}

#[test]
fn graceful_shutdown_moves_resources_away_then_exits() {
    let mut h = cluster(3);
    let at = h.where_active("d")[0];
    h.input(at, crate::Input::Shutdown);
    assert!(h.run_until(60_000, |h| h.exited.contains(&at)));
    assert_eq!(
        h.where_active("d"),
        Vec::<u32>::new(),
        "stopped before leaving"
    );
    h.crash(at); // the daemon exits
    assert!(h.run_until(60_000, |h| h.where_active("d").len() == 1));
    let now = h.where_active("d");
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], at);
}

/// A completed transition's results are new inputs: with no stickiness, once a failed
/// resource moved next to another one, the placement computed from the new status moves
/// the other one away (the scheduler balances by number of resources). The DC computes
/// again after a transition completed, instead of leaving that to the recheck timer
/// (simulator seed 1079).
#[test]
fn the_dc_computes_again_after_a_completed_transition() {
    let mut h = settled(2);
    let two = CONFIG.replace(
        "</resources>",
        r#"<primitive id="e" class="ocf" provider="heartbeat" type="Dummy"/></resources>"#,
    );
    let r = h.commit(1, &two);
    assert!(matches!(r, Response::Committed { .. }), "{r:?}");
    assert!(h.run_until(30_000, |h| h.where_active("d").len() == 1
        && h.where_active("e").len() == 1));
    h.run_ms(3_000);
    let d_at = h.where_active("d")[0];
    let other = 3 - d_at;
    assert_eq!(h.where_active("e"), vec![other], "balanced at first");
    // d may no longer run where it runs: it moves next to e, then e moves away.
    let r = h.call(
        1,
        Request::AttrUpdate {
            node: format!("n{d_at}"),
            name: "fail-count-d#start_0".into(),
            value: Some("INFINITY".into()),
        },
    );
    assert_eq!(r, Response::Done);
    assert!(h.run_until(30_000, |h| h.where_active("d") == vec![other]));
    h.run_ms(5_000);
    assert_eq!(h.where_active("d"), vec![other]);
    assert_eq!(
        h.where_active("e"),
        vec![d_at],
        "{:#?}",
        h.logs
            .iter()
            .filter(|l| l.1.contains("Calculated"))
            .collect::<Vec<_>>()
    );
    assert!(!h.node(1).transition_active());
}

/// A node alone loses quorum and its resource stops; once the other node is back, the
/// resource runs again.
#[test]
fn resources_start_again_when_quorum_comes_back() {
    let mut h = cluster(2);
    let at = h.where_active("d")[0];
    let other = 3 - at;
    h.crash(other);
    // Alone: no quorum, the resource stops (no-quorum-policy=stop).
    assert!(h.run_until(30_000, |h| h.converged() && h.where_active("d").is_empty()));
    let disk = h.disk.get(&other).cloned();
    h.start(other, disk);
    assert!(h.run_until(30_000, |h| h.converged() && h.nodes.len() == 2));
    assert!(
        h.run_until(30_000, |h| h.where_active("d").len() == 1),
        "{:#?}",
        h.logs
            .iter()
            .filter(|l| !l.1.starts_with("TOTEM") && !l.1.contains("KNET"))
            .collect::<Vec<_>>()
    );
}

/// The DC recomputes when the membership or quorum recorded in the CIB changes: a
/// scheduler run due between a round's end and the application of the DC's membership
/// update computed "no quorum" from the CIB, and nothing ran it again (simulator seed
/// 1021).
#[test]
fn an_applied_membership_change_makes_the_dc_compute_again() {
    use crate::cibops::CibOp;
    use crate::types::{NodeTimer, Output};
    let mut h = cluster(2);
    let dc = (1..=2).find(|id| h.node(*id).dc == Some(*id)).unwrap();
    let n = h.nodes.get_mut(&dc).unwrap();
    n.out.clear();
    let op = CibOp::Membership {
        dc,
        quorate: true,
        nodes: Vec::new(),
    };
    n.dc_op_applied(&op, true);
    assert!(
        n.out.iter().any(|o| matches!(
            o,
            Output::SetTimer {
                timer: NodeTimer::Schedule,
                ..
            }
        )),
        "{:?}",
        n.out
    );
}

/// A member of the DC's last completed round whose sync message says it went through a
/// ring the DC did not was apart in between (cut off and back within the DC's view
/// changes): it never got the requests sent after it left, so the DC's actions in flight
/// there are lost at once instead of waiting out their timeout plus cluster-delay
/// (simulator seeds 1391, 5020).
#[test]
fn actions_in_flight_on_a_member_that_was_apart_are_lost() {
    use crate::wire::{self, Body};
    let mut h = Harness::new(3);
    assert!(h.run_until(30_000, |h| h.converged()));
    h.run_ms(2_000);
    let r = h.commit(1, CONFIG);
    assert!(matches!(r, Response::Committed { .. }), "{r:?}");
    // The probes run (the agents are not answered): one is in flight on n2.
    assert!(h.run_until(10_000, |h| h.running.iter().any(|r| r.node == 2)));
    let dc = (1..=3).find(|id| h.node(*id).dc == Some(*id)).unwrap();
    let member = if dc == 2 { 3 } else { 2 };
    let n = h.nodes.get_mut(&dc).unwrap();
    assert!(n.transition_active());
    let round = n.sync.round().cloned().unwrap();
    assert!(n.synced_members.contains(&member));
    let body = Body::SyncVersion {
        round,
        version: (0, 0, 0),
        digest: String::new(),
        quorate_seq: 0,
        // It was synced with us, then went through a ring of its own.
        came_from: vec![
            n.ring,
            tandem_totem::wire::RingId {
                rep: member,
                seq: n.ring.seq + 1,
            },
        ],
        attrs: Vec::new(),
        deleted: Vec::new(),
    };
    n.out.clear();
    for payload in wire::encode(&body, 1) {
        n.on_deliver(tandem_totem::Delivery {
            ring: n.ring,
            seq: 1,
            sender: member,
            sender_boot: 1,
            local_id: 1,
            safe_at: 1,
            group: wire::GROUP.into(),
            payload,
        });
    }
    let logs: Vec<String> = n
        .out
        .iter()
        .filter_map(|o| match o {
            crate::Output::Log(l) => Some(l.text.clone()),
            _ => None,
        })
        .collect();
    assert!(
        logs.iter()
            .any(|l| l == &format!("1 actions in flight on n{member} are lost: the node left")),
        "{logs:#?}"
    );
}

/// A fencing confirmation that arrives after the node rebooted and rejoined does not erase
/// the history it re-reported since: the scheduler would start its resources elsewhere too
/// (simulator seed 5104).
#[test]
fn a_late_fencing_confirmation_keeps_a_rejoined_nodes_history() {
    let mut h = cluster(3);
    let at = h.where_active("d")[0];
    let dc = (1..=3).find(|id| h.node(*id).dc == Some(*id)).unwrap();
    let name = format!("n{at}");
    h.input(
        dc,
        crate::Input::FenceDone {
            node: name.clone(),
            ok: true,
        },
    );
    h.run_ms(2_000);
    for id in 1..=3 {
        let doc = h.node(id).cib().document();
        assert_eq!(
            crate::cibops::active_resources(doc, &at.to_string()),
            vec!["d".to_string()],
            "node {id}"
        );
    }
    assert_eq!(h.where_active("d"), vec![at]);
}

/// A node that was cut off comes back: the CIB that wins the merge is the majority's, in
/// which the returning node's history still shows the resource it ran before it left (it
/// stopped the resource alone, without quorum, in a CIB that lost). The DC must not compute
/// with that old history — the resource would be active twice and be restarted where it
/// runs — but wait for the returning node's report of the round, as Pacemaker's DC replaces
/// a joining node's history before it computes.
///
/// The order that loses the race (as in the netns e2e test `rejoin_without_failback`): the
/// DC sends the winning CIB, its own report and membership update come before the returning
/// node's report in the total order, and the returning node's slow link delivers its report
/// well after the DC's debounce.
#[test]
fn a_returning_nodes_old_history_does_not_restart_the_resource() {
    let mut h = settled(3);
    // d prefers n2 less than it sticks where it runs: it starts on n2 and does not fail back.
    let conf = CONFIG
        .replace(
            "<resources>",
            r#"<rsc_defaults><meta_attributes id="rd"><nvpair id="rd-s" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults><resources>"#,
        )
        .replace(
            "<constraints/>",
            r#"<constraints><rsc_location id="l" rsc="d" node="n2" score="50"/></constraints>"#,
        );
    let r = h.commit(1, &conf);
    assert!(matches!(r, Response::Committed { .. }), "{r:?}");
    assert!(h.run_until(30_000, |h| h.where_active("d") == vec![2]));
    h.run_ms(3_000);
    // n2 is cut off: alone without quorum it stops d; n1 (the DC) and n3 start it elsewhere.
    h.side.insert(2, 1);
    assert!(h.run_until(60_000, |h| {
        let at = h.where_active("d");
        at.len() == 1 && at[0] != 2
    }));
    h.run_ms(5_000);
    let here = h.where_active("d");
    assert_eq!(here.len(), 1);
    assert_eq!(h.node(1).dc, Some(1));
    let ran_before = h.ran.len();
    h.link_delay_us.insert(2, 30_000);
    h.side.clear();
    assert!(h.run_until(60_000, |h| h.converged()));
    h.run_ms(10_000);
    let after: Vec<(u32, String)> = h.ran[ran_before..]
        .iter()
        .filter(|r| r.op.interval_ms == 0)
        .map(|r| (r.node, r.op.action.clone()))
        .collect();
    assert_eq!(
        after,
        Vec::<(u32, String)>::new(),
        "{:#?}",
        h.logs
            .iter()
            .filter(|l| l.1.contains("Calculated") || l.1.contains("Initiating"))
            .collect::<Vec<_>>()
    );
    assert_eq!(h.where_active("d"), here);
    assert!(h.converged());
    // The DC held its run back for n2's report (the DC's own and n3's came first).
    let waits: Vec<&str> = h
        .logs
        .iter()
        .filter(|l| l.0 == 1 && l.1.contains("Waiting for the resource history"))
        .map(|l| l.1.as_str())
        .collect();
    assert_eq!(
        waits,
        vec!["controller: Waiting for the resource history of n2 before computing"]
    );
}

/// Configuration changes are written to disk before the node goes on; the records of a
/// transition's steps (probes, the start, the monitor) are status writes that do not hold
/// it back; a client's attribute change and cleanup are durable again.
#[test]
fn operation_records_are_status_writes_and_configuration_changes_durable() {
    let mut h = settled(3);
    let from = h.persists.len();
    let r = h.commit(1, CONFIG);
    assert!(matches!(r, Response::Committed { .. }), "{r:?}");
    assert!(h.run_until(30_000, |h| h.where_active("d").len() == 1));
    h.run_ms(3_000);
    let r = h.call(
        2,
        Request::AttrUpdate {
            node: "n3".into(),
            name: "color".into(),
            value: Some("red".into()),
        },
    );
    assert_eq!(r, Response::Done);
    let r = h.call(
        3,
        Request::Cleanup {
            resource: Some("d".into()),
            node: None,
        },
    );
    assert_eq!(r, Response::Done);
    h.run_ms(3_000);
    let at = h.where_active("d")[0];
    let v = |epoch, num_updates| tandem_cib::Version {
        admin_epoch: 0,
        epoch,
        num_updates,
    };
    let expected = vec![
        (v(2, 0), true),  // the client's commit
        (v(3, 0), true),  // the DC's membership record (the commit's <nodes/> was empty)
        (v(3, 1), false), // probes on three nodes
        (v(3, 2), false),
        (v(3, 3), false),
        (v(3, 4), false), // the start
        (v(3, 5), false), // the first monitor
        (v(3, 6), true),  // the client's attribute
        (v(3, 7), true),  // the client's cleanup (which forgets the history)
    ];
    for id in 1..=3 {
        let mine: Vec<_> = h.persists[from..]
            .iter()
            .filter(|p| p.0 == id)
            .map(|p| (p.1, p.2))
            .collect();
        assert_eq!(
            mine[..expected.len()],
            expected[..],
            "n{id} (d on n{at}): {mine:?}"
        );
        // Only status writes after the cleanup: the new probes and their records.
        assert!(
            mine[expected.len()..].iter().all(|p| !p.1),
            "n{id}: {mine:?}"
        );
        // What the last write holds is what the node holds.
        assert_eq!(h.disk[&id].version, h.node(id).cib().version, "n{id}");
    }
}

/// Which replicated changes must be on disk before the node goes on: all but operation
/// records and history reports.
#[test]
fn only_records_and_history_reports_are_status_writes() {
    use crate::cibops::{CibOp, NodeRow, RecordWire};
    let record = RecordWire {
        rsc_id: "d".into(),
        class: "ocf".into(),
        provider: Some("heartbeat".into()),
        kind: "Dummy".into(),
        entries: Vec::new(),
        drop_recurring: false,
    };
    let ops = [
        CibOp::Commit {
            base: (0, 1),
            configuration: CONFIG.into(),
        },
        CibOp::Replace { xml: String::new() },
        CibOp::Attrs {
            node: "n1".into(),
            set: vec![("a".into(), Some("1".into()))],
        },
        CibOp::Cleanup {
            resource: None,
            node: None,
        },
        CibOp::Record {
            node: "n1".into(),
            record,
            fail: None,
        },
        CibOp::History {
            node: "n1".into(),
            lrm: None,
        },
        CibOp::Fenced { node: "n1".into() },
        CibOp::Membership {
            dc: 1,
            quorate: true,
            nodes: vec![NodeRow {
                id: 1,
                uname: "n1".into(),
                member: true,
                clean_down: false,
            }],
        },
    ];
    let durable: Vec<bool> = ops.iter().map(CibOp::durable).collect();
    assert_eq!(
        durable,
        [true, true, true, true, false, false, true, true],
        "{ops:?}"
    );
}
