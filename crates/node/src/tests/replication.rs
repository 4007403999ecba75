use tandem_cib::Version;

use crate::cibops::transient_attr;
use crate::harness::Harness;
use crate::{Request, Response};

const CONFIG: &str = r#"<configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration>"#;

fn config_with(rsc: &str) -> String {
    CONFIG.replace("<resources/>", &format!("<resources>{rsc}</resources>"))
}

fn started(n: usize) -> Harness {
    let mut h = Harness::new(n);
    assert!(h.run_until(30_000, |h| h.converged()), "{:#?}", h.logs);
    // The DC writes membership once synced; let it settle.
    h.run_ms(2_000);
    assert!(h.converged());
    h
}

fn node_state_attrs(h: &Harness, node: u32, uname: &str) -> Vec<(String, String)> {
    let cib = h.node(node).cib();
    let ns = cib
        .status
        .nodes
        .iter()
        .find(|n| n.uname.as_deref() == Some(uname))
        .expect("node_state");
    vec![
        ("in_ccm".into(), ns.in_ccm.clone().unwrap_or_default()),
        ("crmd".into(), ns.crmd.clone().unwrap_or_default()),
        ("join".into(), ns.join.clone().unwrap_or_default()),
        ("expected".into(), ns.expected.clone().unwrap_or_default()),
    ]
}

fn member_row() -> Vec<(String, String)> {
    [
        ("in_ccm", "true"),
        ("crmd", "online"),
        ("join", "member"),
        ("expected", "member"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

#[test]
fn three_nodes_agree_on_cib_dc_and_membership() {
    let h = started(3);
    for id in 1..=3 {
        let n = h.node(id);
        assert_eq!(n.dc_name().as_deref(), Some("n1"));
        assert_eq!(n.cib().root_attr("dc-uuid"), Some("1"));
        assert_eq!(n.cib().root_attr("have-quorum"), Some("1"));
        let props: Vec<(String, String)> = n.cib().config.crm_config[0]
            .pairs
            .iter()
            .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            props,
            [
                ("dc-version", crate::cibops::DC_VERSION),
                ("cluster-infrastructure", "tandem")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        for u in ["n1", "n2", "n3"] {
            assert_eq!(node_state_attrs(&h, id, u), member_row(), "{u} on {id}");
        }
        let nodes: Vec<(String, String)> = n
            .cib()
            .config
            .nodes
            .iter()
            .map(|c| (c.id.clone(), c.uname.clone()))
            .collect();
        assert_eq!(
            nodes,
            [("1", "n1"), ("2", "n2"), ("3", "n3")].map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }
}

#[test]
fn commit_is_applied_everywhere_and_answered_after_delivery() {
    let mut h = started(3);
    let before = h.node(2).cib().version;
    let r = h.commit(
        2,
        &config_with(r#"<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>"#),
    );
    let want = Version {
        admin_epoch: before.admin_epoch,
        epoch: before.epoch + 1,
        num_updates: 0,
    };
    assert_eq!(r, Response::Committed { version: want });
    // Persisted before the reply: node 2's disk already has it (the answer waits until
    // every member has the change, by then the DC may have written after it).
    assert!(h.disk[&2].config.find_resource("d").is_some());
    assert!(h.disk[&2].version >= want, "{}", h.disk[&2].version);
    h.run_ms(500);
    for id in 1..=3 {
        assert!(
            h.node(id).cib().config.find_resource("d").is_some(),
            "node {id}"
        );
    }
    assert!(h.converged());
    assert_eq!(h.node(1).cib().root_attr("update-origin"), Some("n2"));
}

#[test]
fn stale_and_invalid_commits_change_nothing_anywhere() {
    let mut h = started(3);
    let v = h.node(1).cib().version;
    let ok = h.commit(1, &config_with(""));
    assert!(matches!(ok, Response::Committed { .. }) || ok == Response::Committed { version: v });
    let now = h.node(1).cib().version;
    let stale = h.call(
        3,
        Request::CibCommit {
            base_admin_epoch: 0,
            base_epoch: 0,
            configuration: CONFIG.into(),
        },
    );
    assert_eq!(
        stale,
        Response::Error {
            message: format!(
                "the CIB changed since it was read (epoch 0:0, now {}:{}); run the command again",
                now.admin_epoch, now.epoch
            )
        }
    );
    let bad = h.commit(
        2,
        &config_with(
            r#"<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="m" name="monitor" interval="10s"/><op id="m2" name="monitor" interval="10s"/></operations></primitive>"#,
        ),
    );
    let Response::Error { message } = bad else {
        panic!("{bad:?}")
    };
    assert!(
        message.starts_with("the new configuration is not valid; nothing was changed:\nerror: "),
        "{message}"
    );
    h.run_ms(500);
    for id in 1..=3 {
        assert_eq!(h.node(id).cib().version, now, "node {id}");
    }
    assert!(h.converged());
}

#[test]
fn transient_attributes_are_replicated() {
    let mut h = started(3);
    let r = h.call(
        3,
        Request::AttrUpdate {
            node: "n2".into(),
            name: "master-db".into(),
            value: Some("10".into()),
        },
    );
    assert_eq!(r, Response::Done);
    h.run_ms(200);
    for id in 1..=3 {
        let v = transient_attr(h.node(id).cib().document(), "n2", "master-db");
        assert_eq!(v.as_deref(), Some("10"), "node {id}");
    }
    let r = h.call(
        1,
        Request::AttrUpdate {
            node: "n2".into(),
            name: "master-db".into(),
            value: None,
        },
    );
    assert_eq!(r, Response::Done);
    h.run_ms(200);
    assert!(h.converged());
    assert_eq!(
        transient_attr(h.node(3).cib().document(), "n2", "master-db"),
        None
    );
    let r = h.call(
        1,
        Request::AttrUpdate {
            node: "n9".into(),
            name: "x".into(),
            value: Some("1".into()),
        },
    );
    assert_eq!(
        r,
        Response::Error {
            message: "node \"n9\" is not in the cluster's node list".into()
        }
    );
}

#[test]
fn a_restarted_node_takes_the_clusters_newer_cib() {
    let mut h = started(3);
    h.crash(3);
    assert!(h.run_until(30_000, |h| h.converged()));
    let r = h.commit(
        1,
        &config_with(r#"<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>"#),
    );
    assert!(matches!(r, Response::Committed { .. }));
    let old = h.disk.get(&3).cloned();
    assert!(old.as_ref().unwrap().config.find_resource("d").is_none());
    h.start(3, old);
    assert!(h.run_until(30_000, |h| h.converged() && h.nodes.len() == 3));
    h.run_ms(2_000);
    assert!(h.converged());
    assert!(h.node(3).cib().config.find_resource("d").is_some());
    assert_eq!(
        h.disk[&3].document().digest(),
        h.node(1).cib().document().digest()
    );
    assert_eq!(h.node(3).dc_name().as_deref(), Some("n1"));
}

#[test]
fn the_highest_version_wins_even_from_a_joining_node() {
    let mut h = started(3);
    h.crash(3);
    assert!(h.run_until(30_000, |h| h.converged()));
    // Node 3's disk holds a CIB with a higher admin_epoch (restored by an administrator).
    let mut doc = h.disk[&3].document().clone();
    let root = doc.root().unwrap();
    doc.set_attr(root, "admin_epoch", "5");
    let conf = tandem_xml::Document::parse(&config_with(
        r#"<primitive id="fromdisk" class="ocf" provider="heartbeat" type="Dummy"/>"#,
    ))
    .unwrap();
    let old = doc.child_named(root, "configuration").unwrap();
    let new = doc.import(&conf, conf.root().unwrap());
    doc.insert_before(old, new);
    doc.detach(old);
    let cib = tandem_cib::Cib::from_document(doc).unwrap();
    h.start(3, Some(cib));
    assert!(h.run_until(30_000, |h| h.converged() && h.nodes.len() == 3));
    h.run_ms(2_000);
    for id in 1..=3 {
        assert!(
            h.node(id).cib().config.find_resource("fromdisk").is_some(),
            "node {id}"
        );
        assert_eq!(h.node(id).cib().version.admin_epoch, 5);
    }
}

#[test]
fn dc_is_kept_while_member_and_moves_to_lowest_id_when_gone() {
    let mut h = started(3);
    h.crash(1);
    assert!(h.run_until(30_000, |h| h.converged()));
    h.run_ms(2_000);
    assert_eq!(h.node(2).dc_name().as_deref(), Some("n2"));
    assert_eq!(h.node(3).dc_name().as_deref(), Some("n2"));
    assert_eq!(
        node_state_attrs(&h, 2, "n1")[..3],
        member_row()[..0]
            .iter()
            .cloned()
            .chain([
                ("in_ccm".to_string(), "false".to_string()),
                ("crmd".to_string(), "offline".to_string()),
                ("join".to_string(), "down".to_string()),
            ])
            .collect::<Vec<_>>()[..]
    );
    let disk = h.disk.get(&1).cloned();
    h.start(1, disk);
    assert!(h.run_until(30_000, |h| h.converged() && h.nodes.len() == 3));
    h.run_ms(2_000);
    for id in 1..=3 {
        assert_eq!(h.node(id).dc_name().as_deref(), Some("n2"), "node {id}");
        assert_eq!(node_state_attrs(&h, id, "n1"), member_row());
    }
}

#[test]
fn a_node_starting_alone_has_quorum_only_with_enough_votes() {
    let mut h = Harness::new(1);
    assert!(h.run_until(30_000, |h| h.converged()));
    h.run_ms(1_000);
    assert!(h.node(1).quorate, "{:#?}", h.logs);
    assert_eq!(h.node(1).cib().root_attr("have-quorum"), Some("1"));
    assert_eq!(h.node(1).dc_name().as_deref(), Some("n1"));
}

#[test]
fn a_restarted_node_forgets_its_transient_attributes_of_an_earlier_life() {
    let mut h = started(3);
    let r = h.call(
        1,
        Request::AttrUpdate {
            node: "n3".into(),
            name: "fail-count-d#start_0".into(),
            value: Some("INFINITY".into()),
        },
    );
    assert_eq!(r, Response::Done);
    h.run_ms(500);
    h.crash(3);
    assert!(h.run_until(30_000, |h| h.converged()));
    let disk = h.disk.get(&3).cloned();
    h.start(3, disk);
    assert!(h.run_until(30_000, |h| h.converged() && h.nodes.len() == 3));
    h.run_ms(2_000);
    for id in 1..=3 {
        let doc = h.node(id).cib().document();
        assert_eq!(
            transient_attr(doc, "n3", "fail-count-d#start_0"),
            None,
            "node {id}"
        );
    }
}

fn set_attr(h: &mut Harness, via: u32, node: &str, name: &str) {
    let r = h.call(
        via,
        Request::AttrUpdate {
            node: node.into(),
            name: name.into(),
            value: Some("1".into()),
        },
    );
    assert_eq!(r, Response::Done, "{name}");
}

/// Attributes set for a node while it was away, or while it was joining after a restart,
/// belong to the life it is in and survive its first sync; only those set while an earlier
/// boot of it was a member are forgotten (simulator seeds 1007, 1047, 1097, 1112, 1134:
/// the node's first report used to clear them all, acknowledged ones included).
#[test]
fn attributes_set_for_a_restarting_node_outlive_its_first_sync() {
    let mut h = started(3);
    set_attr(&mut h, 1, "n3", "old-life");
    h.run_ms(500);
    h.crash(3);
    assert!(h.run_until(30_000, |h| h.converged()));
    set_attr(&mut h, 1, "n3", "while-away");
    let disk = h.disk.get(&3).cloned();
    h.start(3, disk);
    // Sent as the restarted node joins: delivered during the sync round, applied after it.
    let client = h.request(
        2,
        Request::AttrUpdate {
            node: "n3".into(),
            name: "while-joining".into(),
            value: Some("1".into()),
        },
    );
    assert!(h.run_until(30_000, |h| h.converged() && h.nodes.len() == 3));
    h.run_ms(2_000);
    assert!(h.converged());
    let joined = h.replies.get(&client) == Some(&Response::Done);
    for id in 1..=3 {
        let doc = h.node(id).cib().document();
        assert_eq!(transient_attr(doc, "n3", "old-life"), None, "node {id}");
        assert_eq!(
            transient_attr(doc, "n3", "while-away").as_deref(),
            Some("1"),
            "node {id}"
        );
        if joined {
            assert_eq!(
                transient_attr(doc, "n3", "while-joining").as_deref(),
                Some("1"),
                "node {id}"
            );
        }
    }
    assert!(
        joined,
        "the update sent while n3 joined was refused: {:?}",
        h.replies.get(&client)
    );
}

#[test]
fn after_a_partition_heals_the_newer_side_wins_everywhere() {
    let mut h = started(3);
    // n3 alone on one side; n1+n2 (quorate) on the other.
    h.side.insert(3, 1);
    assert!(h.run_until(30_000, |h| h.node(1).members == vec![1, 2]
        && h.node(3).members == vec![3]
        && h.node(1).is_synced()
        && h.node(3).is_synced()));
    h.run_ms(2_000);
    let r = h.commit(
        1,
        &config_with(r#"<primitive id="major" class="ocf" provider="heartbeat" type="Dummy"/>"#),
    );
    assert!(matches!(r, Response::Committed { .. }), "{r:?}");
    // The minority side's own attribute change (status only: a lower version).
    let r = h.call(
        3,
        Request::AttrUpdate {
            node: "n3".into(),
            name: "minor".into(),
            value: Some("1".into()),
        },
    );
    assert_eq!(r, Response::Done);
    assert_eq!(h.node(3).cib().root_attr("have-quorum"), Some("0"));
    h.side.clear();
    assert!(h.run_until(60_000, |h| h.converged() && h.node(1).members.len() == 3));
    h.run_ms(2_000);
    assert!(h.converged());
    for id in 1..=3 {
        let cib = h.node(id).cib();
        assert!(cib.config.find_resource("major").is_some(), "node {id}");
        assert_eq!(cib.root_attr("have-quorum"), Some("1"));
        assert_eq!(h.node(id).dc_name().as_deref(), Some("n1"));
        // The losing side's attribute is re-asserted into the winning CIB.
        assert_eq!(
            transient_attr(cib.document(), "n3", "minor").as_deref(),
            Some("1"),
            "node {id}"
        );
    }
}

/// At a merge the winning CIB keeps its values, gains the ones only the other side has,
/// and an attribute deleted on one side while the other still held it stays deleted.
#[test]
fn a_merge_reasserts_attributes_and_keeps_deletions() {
    let mut h = started(3);
    set_attr(&mut h, 1, "n2", "doomed");
    set_attr(&mut h, 1, "n2", "both");
    h.run_ms(500);
    h.side.insert(3, 1);
    assert!(h.run_until(30_000, |h| h.node(1).members == vec![1, 2]
        && h.node(3).members == vec![3]
        && h.node(1).is_synced()
        && h.node(3).is_synced()));
    h.run_ms(1_000);
    let r = h.call(
        1,
        Request::AttrUpdate {
            node: "n2".into(),
            name: "doomed".into(),
            value: None,
        },
    );
    assert_eq!(r, Response::Done);
    set_attr(&mut h, 3, "n1", "minority");
    let r = h.call(
        3,
        Request::AttrUpdate {
            node: "n2".into(),
            name: "both".into(),
            value: Some("minority-value".into()),
        },
    );
    assert_eq!(r, Response::Done);
    h.side.clear();
    assert!(h.run_until(60_000, |h| h.converged() && h.node(1).members.len() == 3));
    h.run_ms(2_000);
    assert!(h.converged());
    for id in 1..=3 {
        let doc = h.node(id).cib().document();
        assert_eq!(transient_attr(doc, "n2", "doomed"), None, "node {id}");
        assert_eq!(
            transient_attr(doc, "n1", "minority").as_deref(),
            Some("1"),
            "node {id}"
        );
        // Both sides hold it: the side that had quorum last wins.
        assert_eq!(
            transient_attr(doc, "n2", "both").as_deref(),
            Some("1"),
            "node {id}"
        );
    }
}

#[test]
fn a_node_restarting_faster_than_failure_detection_still_syncs() {
    let mut h = started(3);
    let r = h.commit(
        1,
        &config_with(r#"<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>"#),
    );
    assert!(matches!(r, Response::Committed { .. }));
    h.run_ms(200);
    // Restarted at once with an empty disk: the others never see it leave the group.
    h.crash(3);
    h.start(3, None);
    assert!(h.run_until(30_000, |h| h.converged() && h.nodes.len() == 3));
    h.run_ms(2_000);
    assert!(h.converged());
    assert!(h.node(3).cib().config.find_resource("d").is_some());
    assert_eq!(h.node(3).dc_name().as_deref(), Some("n1"));
}

#[test]
fn own_messages_totem_refuses_are_sent_again() {
    let mut h = Harness::new(3);
    assert!(h.run_until(30_000, |h| h.converged()));
    // More at once than totem lets wait to be ordered (8192): it refuses the rest.
    let n = 8192 + 100;
    for i in 0..n {
        let node = h.nodes.get_mut(&3).unwrap();
        node.send_op(
            crate::cibops::CibOp::Attrs {
                node: "n3".into(),
                set: vec![("seq".into(), Some(i.to_string()))],
            },
            None,
        );
    }
    assert!(h.node(3).unsent_len() > 0);
    let last = (n - 1).to_string();
    let ok = h.run_until(120_000, |h| {
        transient_attr(h.node(3).cib().document(), "n3", "seq").as_deref() == Some(last.as_str())
    });
    assert!(
        ok,
        "seq {:?}, unsent {}, synced {}, {}",
        transient_attr(h.node(3).cib().document(), "n3", "seq"),
        h.node(3).unsent_len(),
        h.node(3).is_synced(),
        h.node(3).totem().debug_summary()
    );
    assert_eq!(h.node(3).unsent_len(), 0);
}

#[test]
fn a_full_totem_queue_at_the_first_view_does_not_block_the_sync() {
    let mut h = Harness::new(1);
    // Before the first view totem only queues; past its limit (8192) it refuses, and the
    // view's own sync message must still get through.
    let n = 8192 + 10;
    for i in 0..n {
        let node = h.nodes.get_mut(&1).unwrap();
        node.send_op(
            crate::cibops::CibOp::Attrs {
                node: "n1".into(),
                set: vec![("seq".into(), Some(i.to_string()))],
            },
            None,
        );
    }
    assert!(h.node(1).unsent_len() > 0);
    // The node syncs and every message is ordered.
    assert!(h.run_until(120_000, |h| h.node(1).is_synced()
        && h.node(1).unsent_len() == 0
        && h.node(1).totem().status().stats.delivered >= n as u64));
}

/// A node's own operation held during a sync round and dropped by the next round (a result
/// record, here an attribute it sets for itself) is sent again once a round is over: a
/// dropped result record left the DC's transition waiting for the action's timeout
/// (simulator seed 1001).
#[test]
fn own_operations_a_new_round_drops_are_sent_again() {
    use crate::cibops::CibOp;
    use crate::wire::{Body, Origin};
    let mut h = started(3);
    let n3 = h.nodes.get_mut(&3).unwrap();
    let boot = n3.boot;
    let op = CibOp::Attrs {
        node: "n3".into(),
        set: vec![("held".into(), Some("1".into()))],
    };
    // As if delivered during a round: held; then a new view's round drops what it held.
    n3.held.push_back((
        3,
        boot,
        Body::Op {
            origin: Origin {
                node: 3,
                boot,
                req: 0,
            },
            epoch_s: 0,
            op,
        },
    ));
    n3.drop_held();
    // The next round: n2 leaves.
    h.crash(2);
    assert!(h.run_until(30_000, |h| h.converged() && h.node(1).members == vec![1, 3]));
    h.run_ms(2_000);
    for id in [1, 3] {
        assert_eq!(
            transient_attr(h.node(id).cib().document(), "n3", "held").as_deref(),
            Some("1"),
            "node {id}"
        );
    }
}

/// A client request whose message this node never gets back (cut off right after sending
/// it: the others delivered it, and the cluster layer later dropped this node's copy as
/// already delivered) is answered once a later message of this node is delivered — its
/// messages come back in the order it sent them (simulator seed 1277: the client waited
/// forever).
#[test]
fn a_request_whose_message_never_comes_back_is_answered() {
    let mut h = started(3);
    let lost_client = 9_999;
    let n3 = h.nodes.get_mut(&3).unwrap();
    // As if sent and lost: numbered, waited for, never delivered here.
    let req = n3.next_req;
    n3.next_req += 1;
    n3.waiting.insert(req, lost_client);
    set_attr(&mut h, 3, "n3", "later");
    match h.replies.get(&lost_client) {
        Some(Response::Error { message }) => {
            assert!(message.contains("may have applied it"), "{message}")
        }
        other => panic!("the lost request was answered with {other:?}"),
    }
}
