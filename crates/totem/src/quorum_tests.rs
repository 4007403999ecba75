use super::*;

fn opts() -> QuorumOptions {
    QuorumOptions {
        enabled: true,
        last_man_standing_window_ms: 10_000,
        ..QuorumOptions::default()
    }
}

/// One VoteQuorum per node; `view` runs a configuration change on the given members and
/// then delivers every member's nodeinfo in id order, as the total order would.
struct Cluster {
    nodes: BTreeMap<NodeId, VoteQuorum>,
    views: BTreeMap<NodeId, Vec<NodeId>>,
}

impl Cluster {
    fn new(o: QuorumOptions, ids: &[NodeId]) -> Cluster {
        let n = ids.len() as u32;
        Cluster {
            nodes: ids
                .iter()
                .map(|id| (*id, VoteQuorum::new(o.clone(), *id, 1, n)))
                .collect(),
            views: ids.iter().map(|id| (*id, vec![*id])).collect(),
        }
    }

    fn view(&mut self, members: &[NodeId]) -> QuorumEffects {
        let mut fx = QuorumEffects::default();
        for id in members {
            let old = self.views.insert(*id, members.to_vec()).unwrap();
            let left: Vec<NodeId> = old
                .iter()
                .copied()
                .filter(|o| !members.contains(o))
                .collect();
            fx = self.nodes.get_mut(id).unwrap().on_view(members, &left);
        }
        let infos: Vec<(NodeId, NodeInfo)> = members
            .iter()
            .map(|id| (*id, self.nodes[id].nodeinfo()))
            .collect();
        for id in members {
            for (from, info) in &infos {
                self.nodes.get_mut(id).unwrap().on_nodeinfo(*from, *info);
            }
        }
        fx
    }

    fn restart(&mut self, id: NodeId, o: QuorumOptions, n: u32) {
        self.nodes.insert(id, VoteQuorum::new(o, id, 1, n));
        self.views.insert(id, vec![id]);
    }

    fn q(&self, id: NodeId) -> QuorumStatus {
        self.nodes[&id].status()
    }
}

#[test]
fn quorum_arithmetic() {
    for (e, want) in [(2, 2), (3, 2), (4, 3), (8, 5), (1, 1)] {
        let q = VoteQuorum::new(opts(), 1, 1, e);
        assert_eq!(q.status().quorum, want, "E={e}");
    }
}

#[test]
fn majority_and_quorum_never_decreases() {
    let mut c = Cluster::new(opts(), &[1, 2, 3, 4, 5]);
    c.view(&[1]);
    assert!(!c.q(1).quorate);
    c.view(&[1, 2, 3]);
    assert!(c.q(1).quorate && c.q(3).quorate);
    assert_eq!((c.q(1).quorum, c.q(1).total_votes), (3, 3));
    c.view(&[1, 2, 3, 4, 5]);
    c.view(&[1, 2, 3]);
    assert!(c.q(1).quorate, "3 of 5");
    c.view(&[1, 2]);
    assert!(!c.q(1).quorate);
    assert_eq!(
        c.q(1).quorum,
        3,
        "quorum stays 3 though only 2 votes remain"
    );
    assert_eq!(c.q(1).expected_votes, 5);
}

#[test]
fn expected_votes_rise_to_votes_seen() {
    // expected_votes: 2 in corosync.conf, three nodes present (the FreeBSD tutorial).
    let o = QuorumOptions {
        expected_votes: Some(2),
        ..opts()
    };
    let mut nodes: BTreeMap<NodeId, VoteQuorum> = [1, 2, 3]
        .iter()
        .map(|id| (*id, VoteQuorum::new(o.clone(), *id, 1, 2)))
        .collect();
    for q in nodes.values_mut() {
        q.on_view(&[1, 2, 3], &[]);
    }
    let infos: Vec<(NodeId, NodeInfo)> = nodes.iter().map(|(id, q)| (*id, q.nodeinfo())).collect();
    for q in nodes.values_mut() {
        for (f, i) in &infos {
            q.on_nodeinfo(*f, *i);
        }
    }
    let s = nodes[&1].status();
    assert_eq!(
        (
            s.expected_votes,
            s.highest_expected,
            s.total_votes,
            s.quorum
        ),
        (3, 3, 3, 2)
    );
    assert!(s.quorate);
}

#[test]
fn two_node_implies_wait_for_all() {
    let o = QuorumOptions {
        two_node: true,
        wait_for_all: true,
        ..opts()
    };
    let mut c = Cluster::new(o.clone(), &[1, 2]);
    c.view(&[1]);
    let s = c.q(1);
    assert!(!s.quorate, "a freshly booted lone node waits for its peer");
    assert_eq!(s.quorum, 1);
    c.view(&[1, 2]);
    assert!(c.q(1).quorate && c.q(2).quorate);
    let fx = c.view(&[1]);
    assert_eq!(fx.quorate_changed, None);
    assert!(
        c.q(1).quorate,
        "two_node: the survivor keeps quorum (fencing decides)"
    );
    assert_eq!(c.q(1).quorum, 1);
    // Node 2 reboots alone: it must see node 1 once before it is quorate.
    c.restart(2, o, 2);
    c.view(&[2]);
    assert!(!c.q(2).quorate);
    assert!(c.q(2).wait_for_all_status);
    c.view(&[1, 2]);
    assert!(c.q(2).quorate);
}

#[test]
fn two_node_without_wait_for_all_is_quorate_alone() {
    let o = QuorumOptions {
        two_node: true,
        wait_for_all: false,
        ..opts()
    };
    let mut c = Cluster::new(o, &[1, 2]);
    c.view(&[1]);
    assert!(c.q(1).quorate);
}

#[test]
fn wait_for_all_needs_everyone_once() {
    let o = QuorumOptions {
        wait_for_all: true,
        ..opts()
    };
    let mut c = Cluster::new(o.clone(), &[1, 2, 3]);
    c.view(&[1, 2]);
    assert!(
        !c.q(1).quorate,
        "2 of 3 is a majority, but not everyone has been seen"
    );
    c.view(&[1, 2, 3]);
    assert!(c.q(1).quorate);
    c.view(&[1, 2]);
    assert!(c.q(1).quorate, "once all were seen, a majority suffices");
    // Node 3 reboots (status set again) and joins the quorate partition: cleared at once.
    c.restart(3, o, 3);
    c.view(&[3]);
    assert!(!c.q(3).quorate && c.q(3).wait_for_all_status);
    c.view(&[1, 2, 3]);
    assert!(c.q(3).quorate);
    assert!(!c.q(3).wait_for_all_status);
    // Losing quorum sets the status again.
    c.view(&[1]);
    assert!(!c.q(1).quorate && c.q(1).wait_for_all_status);
    c.view(&[1, 2]);
    assert!(
        !c.q(1).quorate,
        "after losing quorum, everyone must be seen again"
    );
}

#[test]
fn last_man_standing_walks_down() {
    let o = QuorumOptions {
        last_man_standing: true,
        last_man_standing_window_ms: 20_000,
        ..opts()
    };
    let ids: Vec<NodeId> = (1..=8).collect();
    let mut c = Cluster::new(o, &ids);
    c.view(&ids);
    assert_eq!(c.q(1).quorum, 5);
    let five = [1, 2, 3, 4, 5];
    let fx = c.view(&five);
    assert_eq!(fx.arm_lms_timer_ms, Some(20_000));
    assert!(c.q(1).quorate);
    for id in five {
        c.nodes.get_mut(&id).unwrap().on_lms_timer();
    }
    assert_eq!((c.q(1).expected_votes, c.q(1).quorum), (5, 3));
    let three = [1, 2, 3];
    c.view(&three);
    assert!(c.q(1).quorate);
    for id in three {
        c.nodes.get_mut(&id).unwrap().on_lms_timer();
    }
    assert_eq!(c.q(1).quorum, 2);
    c.view(&[1, 2]);
    for id in [1, 2] {
        c.nodes.get_mut(&id).unwrap().on_lms_timer();
    }
    assert!(c.q(1).quorate);
    assert_eq!(c.q(1).quorum, 2);
    c.view(&[1]);
    assert!(!c.q(1).quorate, "2 -> 1 needs auto_tie_breaker");
}

#[test]
fn lms_timer_does_nothing_when_inquorate() {
    let o = QuorumOptions {
        last_man_standing: true,
        ..opts()
    };
    let mut c = Cluster::new(o, &[1, 2, 3, 4]);
    c.view(&[1, 2, 3, 4]);
    c.view(&[1]);
    c.nodes.get_mut(&1).unwrap().on_lms_timer();
    assert!(!c.q(1).quorate);
    assert_eq!(c.q(1).expected_votes, 4);
}

fn atb_split(node: AtbNode) -> (bool, bool) {
    let o = QuorumOptions {
        auto_tie_breaker: true,
        auto_tie_breaker_node: node,
        ..opts()
    };
    let mut c = Cluster::new(o, &[1, 2, 3, 4]);
    c.view(&[1, 2, 3, 4]);
    c.view(&[1, 2]);
    c.view(&[3, 4]);
    (c.q(1).quorate, c.q(3).quorate)
}

#[test]
fn auto_tie_breaker_variants() {
    assert_eq!(atb_split(AtbNode::Lowest), (true, false));
    assert_eq!(atb_split(AtbNode::Highest), (false, true));
    assert_eq!(atb_split(AtbNode::List(vec![3, 1])), (false, true));
    assert_eq!(atb_split(AtbNode::List(vec![2, 4])), (true, false));
    // Not an exact half: ATB does not apply.
    let o = QuorumOptions {
        auto_tie_breaker: true,
        ..opts()
    };
    let mut c = Cluster::new(o, &[1, 2, 3, 4]);
    c.view(&[1, 2, 3, 4]);
    c.view(&[1]);
    assert!(!c.q(1).quorate);
}

#[test]
fn set_expected_lowers_quorum() {
    let mut c = Cluster::new(opts(), &[1, 2, 3]);
    c.view(&[1, 2, 3]);
    c.view(&[1]);
    assert!(!c.q(1).quorate);
    let q1 = c.nodes.get_mut(&1).unwrap();
    assert!(q1.check_expected(0).is_err());
    assert!(q1.check_expected(1).is_ok());
    let fx = q1.set_expected(1);
    assert_eq!(fx.quorate_changed, Some(true));
    assert_eq!((c.q(1).expected_votes, c.q(1).quorum), (1, 1));
}

#[test]
fn disabled_quorum_is_always_quorate() {
    let q = VoteQuorum::new(QuorumOptions::default(), 1, 1, 3);
    assert!(q.is_quorate());
    assert!(!q.status().enabled);
}
