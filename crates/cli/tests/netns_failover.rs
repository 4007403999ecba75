//! End to end on a real (virtual) network: `tandem daemon`s in their own network
//! namespaces, a floating IP (`ocf:tandem:IPaddr`) and a web server answering with its
//! node's name, grouped; a prober in the client namespace opens a TCP connection to the
//! floating IP every 20 ms and records who answered (issue 7, deliver 3).
//!
//! Each test builds its own cluster (the testkit names every namespace and directory after
//! this process and a counter, and each cluster's network is private, so the tests run in
//! parallel), drives one scenario through its steps and asserts exact behaviour: which node
//! answers before and after, what the CIB and `tandem status` say, that the answers switch
//! from one node to another once and never back (no two nodes answering in turns), that the
//! outage ends, and where the floating address is configured. Nothing asserts how long
//! anything took: waits have generous deadlines, and "nothing changes" is checked by
//! watching for [`QUIET`] with every observation required to agree. Every test tears its
//! cluster down and asserts that nothing of it is left (namespaces — so addresses,
//! bridges, firewall tables — directory, processes); a failing test's cluster is torn down
//! by `Drop`.
//!
//! Needs root, `ip`, `nft` and `iptables` (scripts/install-test-deps); skips with a message
//! otherwise.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use tandem_testkit::netns::{self, GROUP_RSC, PREFIX_LEN, VIP_RSC, WEB_RSC};
use tandem_testkit::probe::{self, Sample};
use tandem_testkit::{NetSpec, NetnsCluster, Placement, ProbeConfig, Prober, eventually, procs};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");
/// Generous: a busy two-core machine runs other tests beside these.
const LIMIT: Duration = Duration::from_secs(90);
/// How long a "nothing changes" check watches (several token timeouts).
const QUIET: Duration = Duration::from_secs(8);
/// How often a "nothing changes" check looks.
const QUIET_POLL: Duration = Duration::from_millis(400);
/// The probes' connect and read timeouts: lenient, so that a slow answer on a loaded
/// machine is not taken for an outage (a real outage fails every probe however long they
/// wait).
const PROBE_CONNECT: Duration = Duration::from_secs(1);
const PROBE_READ: Duration = Duration::from_secs(2);
/// Answers from the new node to see after a switch before judging that no other node
/// answers in turn with it.
const SETTLE_ANSWERS: usize = 25;
/// The monitor interval of the recovery test: far beyond [`LIMIT`], so a recovery seen
/// within the deadline was started by the agent's watcher, not by a monitor run.
const LONG_MONITOR: &str = "600s";

fn skip() -> bool {
    match netns::can_build() {
        Ok(()) => false,
        Err(why) => {
            eprintln!("skipped: {why}");
            true
        }
    }
}

/// A formed cluster running the testkit's example configuration (fencing off, stickiness
/// 100, the VIP and the web server grouped; two nodes ignore loss of quorum).
fn cluster(nodes: usize, links: usize, tag: &str) -> NetnsCluster {
    let spec = NetSpec {
        links,
        ..NetSpec::new(TANDEM, nodes, tag)
    };
    NetnsCluster::up(&spec).unwrap()
}

/// A prober of the VIP from the client namespace, every 20 ms.
fn prober(c: &NetnsCluster) -> Prober {
    let mut cfg = ProbeConfig::new(netns::web_addr(), Some(&c.client_ns()));
    cfg.connect_timeout = PROBE_CONNECT;
    cfg.read_timeout = PROBE_READ;
    Prober::start(cfg).unwrap()
}

/// Tears the cluster down and asserts that nothing of it is left.
fn finish(mut c: NetnsCluster, p: Prober) {
    drop(p.stop());
    c.teardown().unwrap();
    assert_eq!(c.leftovers(), Vec::<String>::new());
}

/// The node both the VIP and the web server run on, if they run together on one node.
fn service_node(p: &Placement) -> Option<String> {
    let n = p.node(VIP_RSC)?;
    (p.node(WEB_RSC) == Some(n)).then(|| n.to_string())
}

/// The online nodes (as one node sees it), in name order (the CIB lists them in the order
/// they first joined).
fn online_nodes(p: &Placement) -> Vec<String> {
    let mut v = p.online.clone();
    v.sort();
    v
}

/// Nothing of the group runs anywhere (as one node sees it).
fn service_stopped(p: &Placement) -> bool {
    p.nodes(VIP_RSC).is_empty() && p.nodes(WEB_RSC).is_empty()
}

/// The nodes whose namespace has the VIP configured, in order.
fn vip_holders(c: &NetnsCluster) -> Vec<String> {
    let want = format!(" inet {}/{PREFIX_LEN} ", netns::vip());
    (1..=c.nodes())
        .filter(|&i| {
            let ns = c.node_ns(i);
            let out = tandem_testkit::cmd::ip(&["-n", &ns, "-4", "-o", "addr", "show"]).unwrap();
            out.contains(&want)
        })
        .map(|i| c.name(i))
        .collect()
}

/// The answering nodes in the order they answered at or after `from`, repeats merged —
/// `[a, b]` means a answered, then b, and a never again.
fn answer_sequence(s: &[Sample], from: Duration) -> Vec<String> {
    let mut seq: Vec<String> = Vec::new();
    for n in s.iter().filter(|x| x.at >= from).filter_map(Sample::node) {
        if seq.last().map(String::as_str) != Some(n) {
            seq.push(n.to_string());
        }
    }
    seq
}

/// Waits until `node` answered [`SETTLE_ANSWERS`] probes started at or after `from`; the
/// samples then.
fn settled_on(c: &NetnsCluster, p: &Prober, node: &str, from: Duration) -> Vec<Sample> {
    p.wait_until(&format!("{node} to answer steadily"), LIMIT, |s| {
        s.iter()
            .filter(|x| x.at >= from && x.node() == Some(node))
            .count()
            >= SETTLE_ANSWERS
    })
    .map_err(|e| c.with_logs(e))
    .unwrap()
}

/// Waits until a node other than `old` answers a probe started at or after `from`; that
/// node, once it answered steadily, and the samples then.
fn taken_over(c: &NetnsCluster, p: &Prober, old: &str, from: Duration) -> (String, Vec<Sample>) {
    let s = p
        .wait_until(&format!("a node other than {old} to answer"), LIMIT, |s| {
            probe::first_answer(s, from, |n| n != old).is_some()
        })
        .map_err(|e| c.with_logs(e))
        .unwrap();
    let new = probe::first_answer(&s, from, |n| n != old)
        .unwrap()
        .node()
        .unwrap()
        .to_string();
    let s = settled_on(c, p, &new, from);
    (new, s)
}

/// Every outage in `s` at or after `from` has ended.
fn assert_outages_ended(s: &[Sample], from: Duration) {
    let after: Vec<Sample> = s.iter().filter(|x| x.at >= from).cloned().collect();
    let open: Vec<probe::Outage> = probe::outages(&after)
        .into_iter()
        .filter(|o| o.recovered.is_none())
        .collect();
    assert!(open.is_empty(), "{open:?}: {}", probe::summary(&after));
}

/// Watches for [`QUIET`] that nothing changes: every probe answered by `node`, node
/// `observer`'s CIB places the group on `node`, only `node`'s namespace has the VIP, and
/// (when given) every node in `members` sees exactly `members`, quorate. The probes are
/// judged from the call on; the CIB from when node `observer` knows every member online
/// (a node that just rejoined receives the cluster's CIB a moment after the new view).
fn steady(c: &NetnsCluster, p: &Prober, observer: usize, node: &str, members: Option<&[usize]>) {
    let from = p.now();
    let online = members.map(|m| names(c, m));
    c.wait_placement(observer, "the observer's CIB up to date", LIMIT, |pl| {
        online.as_ref().is_none_or(|o| online_nodes(pl) == *o)
    })
    .unwrap();
    let fail = |what: String| -> ! {
        let s = p.samples();
        let after: Vec<Sample> = s.iter().filter(|x| x.at >= from).cloned().collect();
        let e = anyhow::anyhow!("{what}; probes since: {}", probe::summary(&after));
        panic!("{:?}", c.with_logs(e))
    };
    let t = Instant::now();
    while t.elapsed() < QUIET {
        let pl = c.placement(observer).unwrap();
        if service_node(&pl).as_deref() != Some(node) {
            fail(format!(
                "{} sees the group off {node}: {pl:?}",
                c.name(observer)
            ));
        }
        let holders = vip_holders(c);
        if holders != [node] {
            fail(format!("the VIP is on {holders:?}, not {node} alone"));
        }
        if let Some(m) = members {
            let want: Vec<u32> = m.iter().map(|&i| u32::try_from(i).unwrap()).collect();
            for &i in m {
                let v = c.view(i);
                if v != Some((want.clone(), true)) {
                    fail(format!("{} sees {v:?}", c.name(i)));
                }
            }
        }
        std::thread::sleep(QUIET_POLL);
    }
    let s = p.samples();
    let after: Vec<Sample> = s.iter().filter(|x| x.at >= from).cloned().collect();
    assert!(!after.is_empty());
    if !after.iter().all(|x| x.node() == Some(node)) {
        fail(format!("a probe not answered by {node}"));
    }
}

/// Waits until node `observer`'s CIB places the group on a node for which `ok` holds; that
/// node.
fn wait_service(
    c: &NetnsCluster,
    observer: usize,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> String {
    let pl = c
        .wait_placement(observer, what, LIMIT, |pl| {
            service_node(pl).is_some_and(|n| ok(&n))
        })
        .unwrap();
    service_node(&pl).unwrap()
}

/// `tandem status` through node `i`.
fn status(c: &NetnsCluster, i: usize) -> String {
    c.tool_ok(i, &["status"]).unwrap()
}

/// The status lines of the group running on `node`.
fn group_lines(node: &str) -> String {
    format!(
        "  * Resource Group: {GROUP_RSC}:\n    * {VIP_RSC}\t(ocf:tandem:IPaddr):\t Started {node}\n    * {WEB_RSC}\t(ocf:tandem:process):\t Started {node}\n"
    )
}

/// The node list of `tandem status`: online nodes, then offline ones.
fn node_lines(online: &[String], offline: &[String]) -> String {
    let mut s = format!("Node List:\n  * Online: [ {} ]\n", online.join(" "));
    if !offline.is_empty() {
        s.push_str(&format!("  * OFFLINE: [ {} ]\n", offline.join(" ")));
    }
    s
}

fn names(c: &NetnsCluster, nodes: &[usize]) -> Vec<String> {
    nodes.iter().map(|&i| c.name(i)).collect()
}

/// The nodes of the cluster other than `not`, in order.
fn others(c: &NetnsCluster, not: &[usize]) -> Vec<usize> {
    (1..=c.nodes()).filter(|i| !not.contains(i)).collect()
}

/// Kill -9 of the node running the service: a survivor answers on the VIP, the killed
/// node never again; the survivors' CIB and status say so. The node comes back (after a
/// reboot: its kernel forgets the address) and the service stays where it is (stickiness).
#[test]
fn node_loss_kill_9_then_rejoin_without_failback() {
    if skip() {
        return;
    }
    let mut c = cluster(3, 1, "nf-kill");
    let a = c.wait_service().unwrap();
    let an = c.name(a);
    let p = prober(&c);
    p.wait_answer_from(&an, Duration::ZERO, LIMIT)
        .map_err(|e| c.with_logs(e))
        .unwrap();

    let fault = p.now();
    c.crash(a).unwrap();
    let (bn, s) = taken_over(&c, &p, &an, fault);
    let survivors = others(&c, &[a]);
    assert!(survivors.contains(&c.index_of(&bn).unwrap()), "{bn}");
    assert_eq!(
        answer_sequence(&s, Duration::ZERO),
        vec![an.clone(), bn.clone()]
    );
    assert_outages_ended(&s, fault);
    let obs = survivors[0];
    c.wait_placement(obs, "the killed node offline", LIMIT, |pl| {
        online_nodes(pl) == names(&c, &survivors)
    })
    .unwrap();
    assert_eq!(
        wait_service(&c, obs, "the group on the survivor", |n| n == bn),
        bn
    );
    let st = status(&c, obs);
    assert!(
        st.contains(&node_lines(&names(&c, &survivors), &[an.clone()])),
        "{st}"
    );
    assert!(st.contains(&group_lines(&bn)), "{st}");
    // The killed node's kernel still has the address (nothing removed it), the survivor
    // took it over: the client follows the survivor's gratuitous ARP.
    let mut holders = vec![an.clone(), bn.clone()];
    holders.sort();
    assert_eq!(vip_holders(&c), holders);

    // A reboot (addresses forgotten), then the node rejoins: no failback.
    c.power_off(a).unwrap();
    c.boot(a).unwrap();
    c.wait_view(&[1, 2, 3], LIMIT).unwrap();
    c.wait_placement(obs, "every node online", LIMIT, |pl| pl.online.len() == 3)
        .unwrap();
    steady(&c, &p, a, &bn, Some(&[1, 2, 3]));
    let st = status(&c, a);
    assert!(
        st.contains(&node_lines(&names(&c, &[1, 2, 3]), &[])),
        "{st}"
    );
    assert!(st.contains(&group_lines(&bn)), "{st}");
    assert_eq!(answer_sequence(&p.samples(), Duration::ZERO), vec![an, bn]);
    finish(c, p);
}

/// Two nodes with `no-quorum-policy=ignore`: the loss of the idle node changes nothing for
/// the client; the loss of the active node moves the service to the survivor, which runs
/// it alone.
#[test]
fn two_nodes_survivor_keeps_and_takes_the_vip() {
    if skip() {
        return;
    }
    let mut c = cluster(2, 1, "nf-two");
    let a = c.wait_service().unwrap();
    let b = 3 - a;
    let (an, bn) = (c.name(a), c.name(b));
    let p = prober(&c);
    p.wait_answer_from(&an, Duration::ZERO, LIMIT)
        .map_err(|e| c.with_logs(e))
        .unwrap();

    // The idle node dies: the active one keeps the VIP, no probe fails.
    c.crash(b).unwrap();
    c.wait_placement(a, "the idle node offline", LIMIT, |pl| {
        pl.online == vec![an.clone()]
    })
    .unwrap();
    steady(&c, &p, a, &an, Some(&[a]));
    let st = status(&c, a);
    assert!(
        st.contains(&node_lines(&[an.clone()], &[bn.clone()])),
        "{st}"
    );
    assert!(st.contains(&group_lines(&an)), "{st}");

    // It comes back; then the active node dies: the survivor takes the VIP.
    c.boot(b).unwrap();
    c.wait_view(&[1, 2], LIMIT).unwrap();
    steady(&c, &p, b, &an, Some(&[1, 2]));
    let fault = p.now();
    c.crash(a).unwrap();
    let (new, s) = taken_over(&c, &p, &an, fault);
    assert_eq!(new, bn);
    assert_eq!(
        answer_sequence(&s, Duration::ZERO),
        vec![an.clone(), bn.clone()]
    );
    assert_outages_ended(&s, fault);
    assert_eq!(
        wait_service(&c, b, "the group on the survivor", |n| n == bn),
        bn
    );
    c.wait_placement(b, "the dead node offline", LIMIT, |pl| {
        pl.online == vec![bn.clone()]
    })
    .unwrap();
    let st = status(&c, b);
    assert!(
        st.contains(&node_lines(&[bn.clone()], &[an.clone()])),
        "{st}"
    );
    assert!(st.contains(&group_lines(&bn)), "{st}");
    finish(c, p);
}

/// The active node's cable is pulled: the two others (a majority) start the service; the
/// isolated node, without quorum (`no-quorum-policy=stop`, the default), stops it. Back
/// on the network it rejoins and the service stays (no failback). Then a partition that
/// leaves the new active node alone — the client still reaches every node — makes the
/// majority side take the service over and the minority stop it: the client never sees
/// the minority node answer once the majority's node did.
#[test]
fn link_down_and_partition_only_the_majority_runs_the_vip() {
    if skip() {
        return;
    }
    let mut c = cluster(3, 1, "nf-link");
    let a = c.wait_service().unwrap();
    let an = c.name(a);
    let p = prober(&c);
    p.wait_answer_from(&an, Duration::ZERO, LIMIT)
        .map_err(|e| c.with_logs(e))
        .unwrap();

    // Link down.
    let fault = p.now();
    c.link_down(a, 0).unwrap();
    let (bn, s) = taken_over(&c, &p, &an, fault);
    let b = c.index_of(&bn).unwrap();
    assert_ne!(b, a);
    assert_eq!(
        answer_sequence(&s, Duration::ZERO),
        vec![an.clone(), bn.clone()]
    );
    assert_outages_ended(&s, fault);
    let majority = others(&c, &[a]);
    assert_eq!(
        wait_service(&c, b, "the group on the majority", |n| n == bn),
        bn
    );
    // The isolated node stops the group (no quorum) and says so.
    c.wait_placement(a, "the isolated node to stop the group", LIMIT, |pl| {
        pl.online == vec![an.clone()] && service_stopped(pl)
    })
    .unwrap();
    eventually("the VIP only on the majority's node", LIMIT, || {
        (vip_holders(&c) == vec![bn.clone()]).then_some(())
    })
    .unwrap();
    let st = status(&c, a);
    assert!(st.contains(" - partition WITHOUT quorum\n"), "{st}");
    let st = status(&c, b);
    assert!(st.contains(" - partition with quorum\n"), "{st}");
    assert!(
        st.contains(&node_lines(&names(&c, &majority), &[an.clone()])),
        "{st}"
    );
    assert!(st.contains(&group_lines(&bn)), "{st}");

    // Back on the network: it rejoins, nothing moves.
    c.link_up(a, 0).unwrap();
    c.wait_view(&[1, 2, 3], LIMIT).unwrap();
    steady(&c, &p, a, &bn, Some(&[1, 2, 3]));

    // A partition leaving the active node alone; the client reaches everyone.
    let minority = b;
    let majority = others(&c, &[minority]);
    let fault = p.now();
    c.partition(&[&[minority], &majority]).unwrap();
    let (cn, s) = taken_over(&c, &p, &bn, fault);
    assert!(majority.contains(&c.index_of(&cn).unwrap()), "{cn}");
    assert_eq!(answer_sequence(&s, fault), vec![bn.clone(), cn.clone()]);
    assert_outages_ended(&s, fault);
    c.wait_placement(minority, "the minority to stop the group", LIMIT, |pl| {
        pl.online == vec![bn.clone()] && service_stopped(pl)
    })
    .unwrap();
    eventually("the VIP only on the majority's node", LIMIT, || {
        (vip_holders(&c) == vec![cn.clone()]).then_some(())
    })
    .unwrap();
    let s = settled_on(&c, &p, &cn, p.now());
    assert_eq!(answer_sequence(&s, fault), vec![bn.clone(), cn.clone()]);
    let st = status(&c, majority[0]);
    assert!(
        st.contains(&node_lines(&names(&c, &majority), &[bn.clone()])),
        "{st}"
    );
    assert!(st.contains(&group_lines(&cn)), "{st}");

    c.heal().unwrap();
    c.wait_view(&[1, 2, 3], LIMIT).unwrap();
    steady(&c, &p, minority, &cn, Some(&[1, 2, 3]));
    finish(c, p);
}

/// The active node freezes (SIGSTOP of all its processes): the others take the service
/// over. It thaws: it rejoins, and the service runs on exactly one node, the one the
/// client reaches.
#[test]
fn node_pause_and_resume() {
    if skip() {
        return;
    }
    let c = cluster(3, 1, "nf-pause");
    let a = c.wait_service().unwrap();
    let an = c.name(a);
    let p = prober(&c);
    p.wait_answer_from(&an, Duration::ZERO, LIMIT)
        .map_err(|e| c.with_logs(e))
        .unwrap();

    let fault = p.now();
    c.pause(a).unwrap();
    let (bn, s) = taken_over(&c, &p, &an, fault);
    let b = c.index_of(&bn).unwrap();
    assert_ne!(b, a);
    assert_eq!(
        answer_sequence(&s, Duration::ZERO),
        vec![an.clone(), bn.clone()]
    );
    assert_outages_ended(&s, fault);
    let rest = others(&c, &[a]);
    c.wait_placement(b, "the frozen node offline", LIMIT, |pl| {
        online_nodes(pl) == names(&c, &rest)
    })
    .unwrap();
    assert_eq!(
        wait_service(&c, b, "the group on the others", |n| n == bn),
        bn
    );

    let thaw = p.now();
    c.resume(a);
    c.wait_view(&[1, 2, 3], LIMIT).unwrap();
    c.wait_placement(b, "every node online", LIMIT, |pl| pl.online.len() == 3)
        .unwrap();
    let dn = eventually(
        "the group on one node, the VIP on that node only",
        LIMIT,
        || {
            let pl = c.placement(b)?;
            let n = service_node(&pl)?;
            (vip_holders(&c) == vec![n.clone()]).then_some(n)
        },
    )
    .unwrap();
    let s = settled_on(&c, &p, &dn, p.now());
    assert_outages_ended(&s, thaw);
    steady(&c, &p, a, &dn, Some(&[1, 2, 3]));
    let seq = answer_sequence(&p.samples(), Duration::ZERO);
    assert_eq!(&seq[..2], &[an.clone(), bn.clone()], "{seq:?}");
    assert_eq!(seq.last(), Some(&dn), "{seq:?}");
    finish(c, p);
}

/// Two links (two rings): losing one of them — the active node's second link, or another
/// node's first — changes nothing: no probe fails, the service stays, every node keeps
/// seeing every node.
#[test]
fn redundant_links_losing_one_changes_nothing() {
    if skip() {
        return;
    }
    let mut c = cluster(3, 2, "nf-rings");
    let a = c.wait_service().unwrap();
    let an = c.name(a);
    let b = others(&c, &[a])[0];
    let p = prober(&c);
    p.wait_answer_from(&an, Duration::ZERO, LIMIT)
        .map_err(|e| c.with_logs(e))
        .unwrap();

    c.link_down(a, 1).unwrap();
    steady(&c, &p, b, &an, Some(&[1, 2, 3]));
    c.link_up(a, 1).unwrap();
    c.link_down(b, 0).unwrap();
    steady(&c, &p, a, &an, Some(&[1, 2, 3]));
    c.heal().unwrap();
    steady(&c, &p, b, &an, Some(&[1, 2, 3]));
    assert_eq!(
        answer_sequence(&p.samples(), Duration::ZERO),
        vec![an.clone()]
    );
    assert_outages_ended(&p.samples(), Duration::ZERO);
    finish(c, p);
}

/// The administrator's moves: standby sends the service to another node and online does
/// not bring it back; `resource move` (a `cli-prefer` constraint) sends it to the node
/// named, `resource clear` removes the constraint and the service stays.
#[test]
fn standby_online_move_and_clear() {
    if skip() {
        return;
    }
    let c = cluster(3, 1, "nf-admin");
    let a = c.wait_service().unwrap();
    let an = c.name(a);
    let p = prober(&c);
    p.wait_answer_from(&an, Duration::ZERO, LIMIT)
        .map_err(|e| c.with_logs(e))
        .unwrap();

    let step = p.now();
    c.tool_ok(a, &["node", "standby", &an]).unwrap();
    let (bn, s) = taken_over(&c, &p, &an, step);
    assert_eq!(answer_sequence(&s, step), vec![an.clone(), bn.clone()]);
    assert_outages_ended(&s, step);
    let pl = c
        .wait_placement(a, "the group off the standby node", LIMIT, |pl| {
            service_node(pl).as_deref() == Some(bn.as_str())
        })
        .unwrap();
    assert_eq!(pl.standby, vec![an.clone()]);
    let st = status(&c, a);
    assert!(
        st.contains(&format!("Node List:\n  * Node {an}: standby\n")),
        "{st}"
    );
    assert!(st.contains(&group_lines(&bn)), "{st}");

    c.tool_ok(a, &["node", "online", &an]).unwrap();
    c.wait_placement(a, "no node in standby", LIMIT, |pl| pl.standby.is_empty())
        .unwrap();
    steady(&c, &p, a, &bn, None);

    let b = c.index_of(&bn).unwrap();
    let target = others(&c, &[a, b])[0];
    let tn = c.name(target);
    let step = p.now();
    c.tool_ok(a, &["resource", "move", GROUP_RSC, &tn]).unwrap();
    let cib = c.cib_xml(target).unwrap();
    assert!(
        cib.contains(&format!("id=\"cli-prefer-{GROUP_RSC}\"")),
        "{cib}"
    );
    let (moved, s) = taken_over(&c, &p, &bn, step);
    assert_eq!(moved, tn);
    assert_eq!(answer_sequence(&s, step), vec![bn.clone(), tn.clone()]);
    assert_outages_ended(&s, step);
    assert_eq!(wait_service(&c, a, "the group moved", |n| n == tn), tn);

    c.tool_ok(b, &["resource", "clear", GROUP_RSC]).unwrap();
    eventually("the constraint gone from every node", LIMIT, || {
        (1..=3)
            .all(|i| {
                c.cib_xml(i)
                    .is_some_and(|x| !x.contains(&format!("cli-prefer-{GROUP_RSC}")))
            })
            .then_some(())
    })
    .unwrap();
    steady(&c, &p, b, &tn, Some(&[1, 2, 3]));
    assert_eq!(
        answer_sequence(&p.samples(), Duration::ZERO),
        vec![an, bn, tn]
    );
    finish(c, p);
}

/// The `process` watcher is running for `agent` on node `i` (`AGENT watch`).
fn watching(c: &NetnsCluster, i: usize, agent: &str) -> bool {
    procs::marked(c.dir(), Some(&c.name(i)))
        .into_iter()
        .any(|pid| {
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let args: Vec<&[u8]> = cmdline
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .collect();
            args.len() >= 2
                && args[0].ends_with(format!("/{agent}").as_bytes())
                && args[args.len() - 1] == b"watch"
        })
}

/// The web server's pid on node `i`, from the process agent's pid file.
fn web_pid(c: &NetnsCluster, i: usize) -> Option<i32> {
    let text = std::fs::read_to_string(c.rsctmp(i).join(format!("process-{WEB_RSC}.pid"))).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Waits until node `i` runs a web server other than `old` (restarted); its pid.
fn restarted_web(c: &NetnsCluster, i: usize, old: i32) -> i32 {
    eventually("the web server restarted on its node", LIMIT, || {
        web_pid(c, i).filter(|&p| p != old && procs::alive(p))
    })
    .map_err(|e| c.with_logs(e))
    .unwrap()
}

/// The example group with monitors every [`LONG_MONITOR`].
fn long_monitor_config(c: &NetnsCluster) -> String {
    c.example_config()
        .replace(
            "op monitor interval=10s",
            &format!("op monitor interval={LONG_MONITOR}"),
        )
        .replace(
            "op monitor interval=5s",
            &format!("op monitor interval={LONG_MONITOR}"),
        )
}

/// Failures the agents see at once are recovered in place, without waiting for a monitor
/// (every 10 minutes here): the web server killed is restarted on its node; the VIP
/// deleted by hand (`ip addr del` in the node's namespace) is added again and the web
/// server after it restarted. Both failures are listed under Failed Resource Actions.
#[test]
fn web_server_crash_and_vip_deletion_are_recovered_in_place() {
    if skip() {
        return;
    }
    let mut c = NetnsCluster::create(&NetSpec::new(TANDEM, 2, "nf-recover")).unwrap();
    c.start_all().unwrap();
    c.wait_formed().unwrap();
    assert!(c.example_config().contains("op monitor interval=10s"));
    assert!(c.example_config().contains("op monitor interval=5s"));
    c.configure(1, &long_monitor_config(&c)).unwrap();
    let a = c.wait_service().unwrap();
    let an = c.name(a);
    let p = prober(&c);
    p.wait_answer_from(&an, Duration::ZERO, LIMIT)
        .map_err(|e| c.with_logs(e))
        .unwrap();
    let ms = 600_000;

    // The web server dies: the process agent's watcher sees it at once.
    eventually("the web server's watcher", LIMIT, || {
        watching(&c, a, "process").then_some(())
    })
    .unwrap();
    let old = web_pid(&c, a).unwrap();
    let fault = p.now();
    procs::signal(old, procs::Signal::KILL);
    let new = restarted_web(&c, a, old);
    let s = settled_on(&c, &p, &an, p.now());
    assert_eq!(answer_sequence(&s, Duration::ZERO), vec![an.clone()]);
    assert_outages_ended(&s, fault);
    let st = eventually("the failure in the status", LIMIT, || {
        let st = status(&c, a);
        st.contains("Failed Resource Actions:").then_some(st)
    })
    .unwrap();
    let web_failed = format!("  * {WEB_RSC}_monitor_{ms} on {an} 'not running' (7)");
    assert!(st.contains(&web_failed), "{st}");
    assert!(st.contains(&group_lines(&an)), "{st}");

    // The VIP is deleted by hand: the IPaddr agent's watcher sees it at once; the VIP is
    // added again, and the web server after it in the group restarted.
    eventually("the VIP's watcher", LIMIT, || {
        watching(&c, a, "IPaddr").then_some(())
    })
    .unwrap();
    let fault = p.now();
    let vip = format!("{}/{PREFIX_LEN}", netns::vip());
    tandem_testkit::cmd::ip(&["-n", &c.node_ns(a), "addr", "del", &vip, "dev", "eth0"]).unwrap();
    let st = eventually("the VIP's failure in the status", LIMIT, || {
        let st = status(&c, a);
        st.contains(&format!(
            "  * {VIP_RSC}_monitor_{ms} on {an} 'not running' (7)"
        ))
        .then_some(st)
    })
    .map_err(|e| c.with_logs(e))
    .unwrap();
    assert!(st.contains(&web_failed), "{st}");
    restarted_web(&c, a, new);
    eventually("the VIP back on its node", LIMIT, || {
        (vip_holders(&c) == vec![an.clone()]).then_some(())
    })
    .unwrap();
    let s = settled_on(&c, &p, &an, p.now());
    assert_eq!(answer_sequence(&s, Duration::ZERO), vec![an.clone()]);
    assert_outages_ended(&s, fault);
    let st = status(&c, a);
    assert!(st.contains(&group_lines(&an)), "{st}");
    finish(c, p);
}
