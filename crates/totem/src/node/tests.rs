//! Exact-output tests of single steps; the many-node behaviour is proven in `tandem-sim`.

use super::*;
use crate::config::ClusterConfig;
use crate::wire::RingId;

fn key() -> AuthKeyBytes {
    AuthKeyBytes((0..128u32).map(|i| (i * 31 + 7) as u8).collect())
}

struct AuthKeyBytes(Vec<u8>);

fn node(id: NodeId, n: usize) -> Totem {
    let mut text = String::from(
        "totem {\n token: 1000\n}\nquorum {\n provider: corosync_votequorum\n}\nnodelist {\n",
    );
    for i in 1..=n {
        text.push_str(&format!(
            " node {{\n  nodeid: {i}\n  ring0_addr: 127.0.0.{i}\n }}\n"
        ));
    }
    text.push_str("}\n");
    let cfg = ClusterConfig::from_text("t.conf", &text).unwrap();
    let k = crate::authkey::AuthKey::from_bytes(key().0, "k").unwrap();
    Totem::new(Params::from_config(&cfg, id, 1000 + u64::from(id), k, 0).unwrap())
}

/// The outputs that are decisions, not plumbing (no sends, timers or logs).
fn decisions(outs: &[Output]) -> Vec<Output> {
    outs.iter()
        .filter(|o| {
            !matches!(
                o,
                Output::Send { .. } | Output::SetTimer { .. } | Output::Log(_)
            )
        })
        .cloned()
        .collect()
}

/// Delivers every packet between `nodes` until quiet, advancing time by 1 ms per round and
/// firing due timers; returns all decisions per node.
type Timers = Vec<BTreeMap<TimerKind, Time>>;

fn settle(
    nodes: &mut [Totem],
    timers: &mut Timers,
    mut inbox: Vec<(usize, Input)>,
    mut now: Time,
    until: Time,
) -> (Time, Vec<Vec<Output>>) {
    let mut got: Vec<Vec<Output>> = vec![Vec::new(); nodes.len()];
    while now < until {
        let mut next = Vec::new();
        for (i, input) in inbox.drain(..) {
            for o in nodes[i].handle(now, input) {
                match &o {
                    Output::Send { to, link, bytes } => next.push((
                        (*to - 1) as usize,
                        Input::Packet {
                            link: *link,
                            bytes: bytes.clone(),
                        },
                    )),
                    Output::SetTimer { timer, at } => {
                        timers[i].insert(*timer, *at);
                    }
                    _ => {}
                }
                got[i].push(o);
            }
        }
        now += ms(1);
        for (i, t) in timers.iter_mut().enumerate() {
            let due: Vec<TimerKind> = t
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(k, _)| *k)
                .collect();
            for k in due {
                t.remove(&k);
                next.push((i, Input::Timer(k)));
            }
        }
        inbox = next;
    }
    (now, got.iter().map(|g| decisions(g)).collect())
}

#[test]
fn a_one_node_cluster_is_quorate_from_the_start() {
    let t = node(1, 1);
    assert!(t.status().quorum.quorate);
}

#[test]
fn a_lone_node_installs_a_singleton_view_after_the_join_window() {
    let mut t = node(1, 1);
    let outs = t.handle(0, Input::Start);
    assert!(decisions(&outs).is_empty());
    assert!(outs.contains(&Output::SetTimer {
        timer: TimerKind::Phase,
        at: ms(50)
    }));
    let outs = t.handle(ms(50), Input::Timer(TimerKind::Phase));
    let ring = RingId { rep: 1, seq: 4 };
    assert_eq!(
        decisions(&outs),
        vec![
            Output::PersistRingSeq(4),
            Output::ViewInstalled(ViewChange {
                ring,
                members: vec![1],
                joined: vec![],
                left: vec![]
            }),
            // Its own Sync, ordered and delivered at once: with no other member it is safe
            // as soon as it is delivered.
            Output::Safe { ring, seq: 1 },
        ]
    );
    assert_eq!(t.status().ring.to_string(), "1.4");
    assert!(!t.status().forming);
}

#[test]
fn two_nodes_form_one_view_and_deliver_in_the_same_order() {
    let mut nodes = vec![node(1, 2), node(2, 2)];
    let mut timers: Timers = vec![BTreeMap::new(); 2];
    let start = vec![(0, Input::Start), (1, Input::Start)];
    let (now, got) = settle(&mut nodes, &mut timers, start, 0, ms(300));
    for n in &nodes {
        assert_eq!(n.status().members, vec![1, 2], "{}", n.debug_summary());
        assert!(!n.status().forming);
    }
    assert!(
        got[1]
            .iter()
            .any(|o| matches!(o, Output::ViewInstalled(v) if v.members == vec![1, 2]))
    );
    let inputs = vec![
        (0, Input::JoinGroup("g".into())),
        (1, Input::JoinGroup("g".into())),
        (
            1,
            Input::Broadcast {
                group: "g".into(),
                payload: b"from 2".to_vec(),
            },
        ),
        (
            0,
            Input::Broadcast {
                group: "g".into(),
                payload: b"from 1".to_vec(),
            },
        ),
        (0, Input::Start), // a second Start is ignored
    ];
    let (_, got) = settle(&mut nodes, &mut timers, inputs, now, now + ms(300));
    let order = |g: &Vec<Output>| -> Vec<Vec<u8>> {
        g.iter()
            .filter_map(|o| {
                if let Output::Deliver(d) = o {
                    Some(d.payload.clone())
                } else {
                    None
                }
            })
            .collect()
    };
    assert_eq!(order(&got[0]).len(), 2);
    assert_eq!(order(&got[0]), order(&got[1]));
    // Both messages become safe on both nodes, reported after the deliveries it covers.
    for g in &got {
        let last = g
            .iter()
            .rposition(|o| matches!(o, Output::Deliver(_)))
            .unwrap();
        let top = g
            .iter()
            .filter_map(|o| match o {
                Output::Deliver(d) => Some(d.safe_at),
                _ => None,
            })
            .max()
            .unwrap();
        let safe = g[last..]
            .iter()
            .filter_map(|o| match o {
                Output::Safe { seq, .. } => Some(*seq),
                _ => None,
            })
            .max();
        assert!(safe >= Some(top), "{safe:?} < {top}");
    }
}

#[test]
fn garbage_and_foreign_packets_are_counted_and_change_nothing() {
    let mut t = node(1, 2);
    t.handle(0, Input::Start);
    let outs = t.handle(
        ms(1),
        Input::Packet {
            link: 0,
            bytes: vec![0xff; 100],
        },
    );
    assert!(decisions(&outs).is_empty());
    let other =
        crate::authkey::AuthKey::from_bytes(vec![9; 127].into_iter().chain([1]).collect(), "o")
            .unwrap();
    let mut s = crate::seal::Sealer::new(&other, "tandem", 2, 5);
    let outs = t.handle(
        ms(2),
        Input::Packet {
            link: 0,
            bytes: s.seal(b"hello"),
        },
    );
    assert!(decisions(&outs).is_empty());
    let st = t.status().stats;
    assert_eq!(
        (st.rejected_version, st.rejected_auth, st.rejected_total()),
        (1, 1, 2)
    );
}

#[test]
fn oversized_broadcasts_are_refused() {
    let mut t = node(1, 1);
    let outs = t.handle(
        0,
        Input::Broadcast {
            group: "g".into(),
            payload: vec![0; crate::wire::MAX_PAYLOAD_BYTES + 1],
        },
    );
    assert_eq!(
        decisions(&outs),
        vec![Output::Refused(Refused::TooLarge {
            len: crate::wire::MAX_PAYLOAD_BYTES + 1,
            max: crate::wire::MAX_PAYLOAD_BYTES
        })]
    );
}
