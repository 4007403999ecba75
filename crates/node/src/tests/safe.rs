//! Client answers wait until the change is safe (every member of the view delivered it).

use crate::cibops::transient_attr;
use crate::harness::Harness;
use crate::safe::UNCERTAIN;
use crate::{Request, Response};

fn started(n: usize) -> Harness {
    let mut h = Harness::new(n);
    assert!(h.run_until(30_000, |h| h.converged()), "{:#?}", h.logs);
    h.run_ms(2_000);
    assert!(h.converged());
    h
}

fn set_attr(node: &str, value: &str) -> Request {
    Request::AttrUpdate {
        node: node.into(),
        name: "safe-test".into(),
        value: Some(value.into()),
    }
}

fn attr_on(h: &Harness, id: u32, node: &str) -> Option<String> {
    transient_attr(h.node(id).cib().document(), node, "safe-test")
}

#[test]
fn the_answer_waits_until_every_member_has_the_change() {
    // n1 is the ring's sequencer: it delivers its own change the moment it orders it,
    // before any other member received it.
    let mut h = started(3);
    let c = h.request(1, set_attr("n1", "a"));
    assert_eq!(
        attr_on(&h, 1, "n1").as_deref(),
        Some("a"),
        "applied at once here"
    );
    assert!(
        !h.replies.contains_key(&c),
        "not answered before the others have it"
    );
    assert!(h.run_until(1_000, |h| h.replies.contains_key(&c)));
    assert_eq!(h.replies[&c], Response::Done);
    for id in [2, 3] {
        assert_eq!(
            attr_on(&h, id, "n1").as_deref(),
            Some("a"),
            "n{id} at the answer"
        );
    }
}

#[test]
fn a_change_only_a_cut_off_node_applied_is_not_acknowledged() {
    let mut h = started(3);
    h.side.insert(1, 1);
    let c = h.request(1, set_attr("n1", "lost"));
    assert_eq!(attr_on(&h, 1, "n1").as_deref(), Some("lost"));
    assert!(h.run_until(10_000, |h| h.replies.contains_key(&c)));
    assert_eq!(
        h.replies[&c],
        Response::Error {
            message: UNCERTAIN.into()
        }
    );
    for id in [2, 3] {
        assert_eq!(attr_on(&h, id, "n1"), None, "n{id}");
    }
    // Healed: the quorate side's CIB wins, and n1 re-asserts the transient attribute it
    // lacks (as Pacemaker's attrd does after a merge, see `cibops::reassert_attrs`): the
    // change the client was told "may or may not be in effect" is now in effect everywhere.
    h.side.clear();
    assert!(h.run_until(30_000, |h| h.converged()), "{:#?}", h.logs);
    for id in 1..=3 {
        assert_eq!(
            attr_on(&h, id, "n1").as_deref(),
            Some("lost"),
            "n{id} after the merge"
        );
    }
}

#[test]
fn a_change_whose_view_ended_first_is_answered_in_the_next_one() {
    // n3 dies right after the change was ordered: it never acknowledges, so the change
    // is not safe in its view; n1 and n2 pass to the next (quorate) view together, both
    // holding it, and n1's CIB is the one their sync agrees on.
    let mut h = started(3);
    let c = h.request(1, set_attr("n2", "kept"));
    h.crash(3);
    assert!(h.run_until(10_000, |h| h.replies.contains_key(&c)));
    assert_eq!(h.replies[&c], Response::Done);
    for id in [1, 2] {
        assert_eq!(attr_on(&h, id, "n2").as_deref(), Some("kept"), "n{id}");
    }
}

#[test]
fn safety_costs_one_round_trip_to_the_sequencer() {
    use crate::harness::LATENCY_US;
    let mut h = started(3);
    // On the sequencer: ordered and delivered at once (the agreed answer came at +0); safe
    // once both members acknowledged: data out, acknowledgement back.
    let t0 = h.now;
    let c = h.request(1, set_attr("n1", "x"));
    assert!(h.run_until(1_000, |h| h.replies.contains_key(&c)));
    assert_eq!(h.now - t0, 2 * LATENCY_US);
    // Elsewhere: submission to the sequencer and data back (the agreed answer came at
    // +2 hops), then the acknowledgements and the sequencer's stable announcement.
    h.run_ms(100);
    let t0 = h.now;
    let c = h.request(3, set_attr("n3", "y"));
    assert!(h.run_until(1_000, |h| h.replies.contains_key(&c)));
    assert_eq!(h.now - t0, 4 * LATENCY_US);
}
