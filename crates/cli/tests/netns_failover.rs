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
//! One scenario cannot promise "never back": a node that was frozen thaws still holding
//! the VIP (without fencing nothing can stop it), so answers may alternate until the DC
//! recovers the group it finds active twice ([`node_pause_and_resume`] asserts that
//! recovery instead).
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
/// The fewest looks at the CIB (and at the views) a "nothing changes" check must get
/// answered: a check that saw nothing proves nothing.
const MIN_LOOKS: usize = 3;
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
/// Names a directory to keep each passing test's daemon logs and probe results in (they
/// go with the cluster otherwise; a failing test prints the end of the logs).
const KEEP_LOGS_VAR: &str = "TANDEM_E2E_LOGS";

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

/// Waits until the service runs and the prober hears it from the node running it: the
/// starting point of every scenario. Returns that node and the prober.
fn serving(c: &NetnsCluster) -> (usize, Prober) {
    let a = c.wait_service().unwrap();
    let p = prober(c);
    p.wait_answer_from(&c.name(a), Duration::ZERO, LIMIT)
        .map_err(|e| c.with_logs(e))
        .unwrap();
    (a, p)
}

/// Tears the cluster down and asserts that nothing of it is left. With [`KEEP_LOGS_VAR`]
/// set, first copies every node's log and the probes' changes and outages there.
fn finish(mut c: NetnsCluster, p: Prober) {
    if let Some(d) = std::env::var_os(KEEP_LOGS_VAR) {
        let d = std::path::Path::new(&d).join(c.dir().file_name().unwrap());
        std::fs::create_dir_all(&d).unwrap();
        for i in 1..=c.nodes() {
            std::fs::copy(c.log_path(i), d.join(format!("node{i}.log"))).unwrap();
        }
        let s: Vec<String> = probe::changes(&p.samples())
            .iter()
            .map(|x| format!("{x:?}"))
            .collect();
        let o: Vec<String> = probe::outages(&p.samples())
            .iter()
            .map(|x| format!("{x:?}"))
            .collect();
        std::fs::write(
            d.join("probe.txt"),
            format!("{}\n{}\n", s.join("\n"), o.join("\n")),
        )
        .unwrap();
    }
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

/// When `node` last answered (the start of its latest answered probe): a mark before a
/// fault from which the answers must read `[node, new node]`.
fn last_answer(p: &Prober, node: &str) -> Duration {
    let s = p.samples();
    s.iter()
        .rev()
        .find(|x| x.node() == Some(node))
        .map(|x| x.at)
        .unwrap_or_else(|| panic!("{node} never answered: {}", probe::summary(&s)))
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
    let mut looks = (0, 0);
    let t = Instant::now();
    while t.elapsed() < QUIET {
        // A node too busy to answer within the IPC timeout is no change: that look is
        // skipped (and the looks that did answer are counted).
        if let Some(pl) = c.placement(observer) {
            looks.0 += 1;
            if service_node(&pl).as_deref() != Some(node) {
                fail(format!(
                    "{} sees the group off {node}: {pl:?}",
                    c.name(observer)
                ));
            }
        }
        let holders = vip_holders(c);
        if holders != [node] {
            fail(format!("the VIP is on {holders:?}, not {node} alone"));
        }
        if let Some(m) = members {
            let want: Vec<u32> = m.iter().map(|&i| u32::try_from(i).unwrap()).collect();
            for &i in m {
                match c.view(i) {
                    None => {}
                    Some(v) if v == (want.clone(), true) => looks.1 += 1,
                    Some(v) => fail(format!("{} sees {v:?}", c.name(i))),
                }
            }
        }
        std::thread::sleep(QUIET_POLL);
    }
    assert!(looks.0 >= MIN_LOOKS, "{looks:?}");
    assert!(members.is_none() || looks.1 >= MIN_LOOKS, "{looks:?}");
    let s = p.samples();
    let after: Vec<Sample> = s.iter().filter(|x| x.at >= from).cloned().collect();
    assert!(!after.is_empty());
    if !after.iter().all(|x| x.node() == Some(node)) {
        fail(format!("a probe not answered by {node}"));
    }
}

/// Waits until node `observer`'s CIB places the group on a node for which `ok` holds; that
/// node.
fn wait_group_on(
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

/// Kill -9 of every process of node `a`, which runs the service (its kernel keeps the
/// VIP): a survivor takes it over. Asserts the answers switch from `a` to the survivor
/// once, the survivors' CIB and status; returns the survivor.
fn kill_9_moves_the_service(c: &mut NetnsCluster, p: &Prober, a: usize) -> usize {
    let an = c.name(a);
    let before = last_answer(p, &an);
    let fault = p.now();
    c.crash(a).unwrap();
    let (bn, s) = taken_over(c, p, &an, fault);
    let survivors = others(c, &[a]);
    let b = c.index_of(&bn).unwrap();
    assert!(survivors.contains(&b), "{bn}");
    assert_eq!(answer_sequence(&s, before), vec![an.clone(), bn.clone()]);
    assert_outages_ended(&s, fault);
    c.wait_placement(b, "the killed node offline", LIMIT, |pl| {
        online_nodes(pl) == names(c, &survivors)
    })
    .unwrap();
    assert_eq!(
        wait_group_on(c, b, "the group on the survivor", |n| n == bn),
        bn
    );
    let st = status(c, b);
    assert!(
        st.contains(&node_lines(
            &names(c, &survivors),
            std::slice::from_ref(&an)
        )),
        "{st}"
    );
    assert!(st.contains(&group_lines(&bn)), "{st}");
    b
}

/// Kill -9 of the node running the service: a survivor answers on the VIP, the killed
/// node never again; the survivors' CIB and status say so.
#[test]
fn node_loss_kill_9() {
    if skip() {
        return;
    }
    let mut c = cluster(3, 1, "nf-kill");
    let (a, p) = serving(&c);
    let an = c.name(a);
    let b = kill_9_moves_the_service(&mut c, &p, a);
    // The killed node's kernel still has the address (nothing removed it), the survivor
    // took it over: the client follows the survivor's gratuitous ARP.
    assert_eq!(
        vip_holders(&c),
        names(&c, &{
            let mut v = vec![a, b];
            v.sort();
            v
        })
    );
    let s = settled_on(&c, &p, &c.name(b), p.now());
    assert_eq!(answer_sequence(&s, Duration::ZERO), vec![an, c.name(b)]);
    finish(c, p);
}

/// Two nodes with `no-quorum-policy=ignore`: the loss of the idle node changes nothing for
/// the client; it comes back (nothing ever ran there: nothing moves); the loss of the
/// active node moves the service to the survivor, which runs it alone.
#[test]
fn two_nodes_survivor_keeps_and_takes_the_vip() {
    if skip() {
        return;
    }
    let mut c = cluster(2, 1, "nf-two");
    let (a, p) = serving(&c);
    let b = 3 - a;
    let (an, bn) = (c.name(a), c.name(b));

    // The idle node dies: the active one keeps the VIP, no probe fails.
    c.crash(b).unwrap();
    c.wait_placement(a, "the idle node offline", LIMIT, |pl| {
        pl.online == vec![an.clone()]
    })
    .unwrap();
    steady(&c, &p, a, &an, Some(&[a]));
    let st = status(&c, a);
    assert!(st.contains(" - partition with quorum\n"), "{st}");
    assert!(
        st.contains(&node_lines(
            std::slice::from_ref(&an),
            std::slice::from_ref(&bn)
        )),
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
        wait_group_on(&c, b, "the group on the survivor", |n| n == bn),
        bn
    );
    c.wait_placement(b, "the dead node offline", LIMIT, |pl| {
        pl.online == vec![bn.clone()]
    })
    .unwrap();
    let st = status(&c, b);
    assert!(st.contains(" - partition with quorum\n"), "{st}");
    assert!(
        st.contains(&node_lines(
            std::slice::from_ref(&bn),
            std::slice::from_ref(&an)
        )),
        "{st}"
    );
    assert!(st.contains(&group_lines(&bn)), "{st}");
    finish(c, p);
}

/// Node `a` runs the service and is cut off from the others (`cut`: its cable pulled, or a
/// partition): the majority starts the service on one of its nodes; `a`, without quorum
/// (`no-quorum-policy=stop`, the default; fencing off), stops it. Asserts the answers
/// switch from `a` to the majority's node once and never back, what both sides' CIB and
/// status say, and that only the majority's node has the VIP; returns that node.
fn only_the_majority_runs_the_vip(
    c: &mut NetnsCluster,
    p: &Prober,
    a: usize,
    cut: impl FnOnce(&mut NetnsCluster),
) -> usize {
    let an = c.name(a);
    let majority = others(c, &[a]);
    let before = last_answer(p, &an);
    let fault = p.now();
    cut(c);
    let (bn, s) = taken_over(c, p, &an, fault);
    let b = c.index_of(&bn).unwrap();
    assert!(majority.contains(&b), "{bn}");
    assert_outages_ended(&s, fault);
    assert_eq!(
        wait_group_on(c, b, "the group on the majority", |n| n == bn),
        bn
    );
    // The cut-off node stops the group (no quorum) and says so.
    c.wait_placement(a, "the minority to stop the group", LIMIT, |pl| {
        pl.online == vec![an.clone()] && service_stopped(pl)
    })
    .unwrap();
    eventually("the VIP only on the majority's node", LIMIT, || {
        (vip_holders(c) == vec![bn.clone()]).then_some(())
    })
    .map_err(|e| c.with_logs(e))
    .unwrap();
    // Once the majority's node answered, the minority's never did again.
    let s = settled_on(c, p, &bn, p.now());
    assert_eq!(answer_sequence(&s, before), vec![an.clone(), bn.clone()]);
    let st = status(c, a);
    assert!(st.contains(" - partition WITHOUT quorum\n"), "{st}");
    assert!(
        st.contains(&node_lines(std::slice::from_ref(&an), &names(c, &majority))),
        "{st}"
    );
    assert!(
        st.contains(&format!(
            "    * {VIP_RSC}\t(ocf:tandem:IPaddr):\t Stopped\n"
        )),
        "{st}"
    );
    let st = status(c, b);
    assert!(st.contains(" - partition with quorum\n"), "{st}");
    assert!(
        st.contains(&node_lines(&names(c, &majority), std::slice::from_ref(&an))),
        "{st}"
    );
    assert!(st.contains(&group_lines(&bn)), "{st}");
    b
}

/// The active node's cable is pulled (the client cannot reach it either): the two others
/// take the service over, the isolated node stops it.
#[test]
fn link_down_only_the_majority_runs_the_vip() {
    if skip() {
        return;
    }
    let mut c = cluster(3, 1, "nf-link");
    let (a, p) = serving(&c);
    only_the_majority_runs_the_vip(&mut c, &p, a, |c| c.link_down(a, 0).unwrap());
    finish(c, p);
}

/// A partition leaves the active node alone while the client still reaches every node:
/// the majority side takes the service over and the minority stops it, so the client never
/// sees the minority node answer once the majority's node did.
#[test]
fn partition_only_the_majority_runs_the_vip() {
    if skip() {
        return;
    }
    let mut c = cluster(3, 1, "nf-part");
    let (a, p) = serving(&c);
    let rest = others(&c, &[a]);
    only_the_majority_runs_the_vip(&mut c, &p, a, |c| c.partition(&[&[a], &rest]).unwrap());
    finish(c, p);
}

/// Nodes that come back do not take the service back (stickiness 100): a node rebooted
/// after kill -9 (its kernel forgot the address), a node whose cable is plugged back in,
/// the minority of a partition that heals. Each time the service stays where it is, no
/// probe fails and only that node has the VIP.
#[test]
fn rejoin_without_failback() {
    if skip() {
        return;
    }
    let mut c = cluster(3, 1, "nf-rejoin");
    let (a, p) = serving(&c);
    let all = [1, 2, 3];

    let b = kill_9_moves_the_service(&mut c, &p, a);
    c.power_off(a).unwrap();
    c.boot(a).unwrap();
    c.wait_view(&all, LIMIT).unwrap();
    steady(&c, &p, a, &c.name(b), Some(&all));
    let st = status(&c, a);
    assert!(st.contains(&node_lines(&names(&c, &all), &[])), "{st}");
    assert!(st.contains(&group_lines(&c.name(b))), "{st}");

    let d = only_the_majority_runs_the_vip(&mut c, &p, b, |c| c.link_down(b, 0).unwrap());
    c.link_up(b, 0).unwrap();
    c.wait_view(&all, LIMIT).unwrap();
    steady(&c, &p, b, &c.name(d), Some(&all));

    let rest = others(&c, &[d]);
    let e = only_the_majority_runs_the_vip(&mut c, &p, d, |c| c.partition(&[&[d], &rest]).unwrap());
    c.heal().unwrap();
    c.wait_view(&all, LIMIT).unwrap();
    steady(&c, &p, d, &c.name(e), Some(&all));
    let seq = answer_sequence(&p.samples(), Duration::ZERO);
    assert_eq!(seq, names(&c, &[a, b, d, e]));
    finish(c, p);
}

/// The active node freezes (SIGSTOP of all its processes): the others take the service
/// over, and the frozen node never answers while frozen. It thaws still holding the VIP
/// and running the web server (nothing told it; without fencing nothing can), so for a
/// moment two nodes have the VIP and answers may alternate between them; it rejoins, the
/// DC sees the group active on two nodes and recovers it (`multiple-active=stop_start`:
/// stopped on both, started on one). Then the group runs on one of the two, only there is
/// the VIP, and nothing changes any more.
#[test]
fn node_pause_and_resume() {
    if skip() {
        return;
    }
    let c = cluster(3, 1, "nf-pause");
    let (a, p) = serving(&c);
    let an = c.name(a);

    let before = last_answer(&p, &an);
    let fault = p.now();
    c.pause(a).unwrap();
    let (bn, s) = taken_over(&c, &p, &an, fault);
    let b = c.index_of(&bn).unwrap();
    assert_ne!(b, a);
    assert_eq!(answer_sequence(&s, before), vec![an.clone(), bn.clone()]);
    assert_outages_ended(&s, fault);
    let rest = others(&c, &[a]);
    c.wait_placement(b, "the frozen node offline", LIMIT, |pl| {
        online_nodes(pl) == names(&c, &rest)
    })
    .unwrap();
    assert_eq!(
        wait_group_on(&c, b, "the group on the others", |n| n == bn),
        bn
    );
    let mut holders = vec![an.clone(), bn.clone()];
    holders.sort();
    assert_eq!(vip_holders(&c), holders);
    let s = settled_on(&c, &p, &bn, p.now());
    assert_eq!(answer_sequence(&s, before), vec![an.clone(), bn.clone()]);

    let thaw = p.now();
    c.resume(a);
    c.wait_view(&[1, 2, 3], LIMIT).unwrap();
    let dn = eventually("the group on one node, the VIP there only", LIMIT, || {
        let pl = c.placement(b)?;
        let n = service_node(&pl)?;
        (online_nodes(&pl).len() == 3 && vip_holders(&c) == vec![n.clone()]).then_some(n)
    })
    .map_err(|e| c.with_logs(e))
    .unwrap();
    assert!(dn == an || dn == bn, "{dn}");
    let s = settled_on(&c, &p, &dn, p.now());
    assert_outages_ended(&s, thaw);
    steady(&c, &p, a, &dn, Some(&[1, 2, 3]));
    // Only the two nodes that had the VIP ever answered, the last one being where the
    // group runs.
    let seq = answer_sequence(&p.samples(), thaw);
    assert!(seq.iter().all(|n| *n == an || *n == bn), "{seq:?}");
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
    let (a, p) = serving(&c);
    let an = c.name(a);
    let b = others(&c, &[a])[0];

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
    let (a, p) = serving(&c);
    let an = c.name(a);

    let before = last_answer(&p, &an);
    let step = p.now();
    c.tool_ok(a, &["node", "standby", &an]).unwrap();
    let (bn, s) = taken_over(&c, &p, &an, step);
    assert_eq!(answer_sequence(&s, before), vec![an.clone(), bn.clone()]);
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
    let before = last_answer(&p, &bn);
    let step = p.now();
    c.tool_ok(a, &["resource", "move", GROUP_RSC, &tn]).unwrap();
    // The constraint as crm_resource writes it, in the CIB of the node the command ran on
    // (it returns once the change is committed there).
    let cib = c.cib_xml(a).unwrap();
    let prefer = format!(
        "<rsc_location id=\"cli-prefer-{GROUP_RSC}\" rsc=\"{GROUP_RSC}\" role=\"Started\" node=\"{tn}\" score=\"INFINITY\"/>"
    );
    assert!(cib.contains(&prefer), "{cib}");
    let (moved, s) = taken_over(&c, &p, &bn, step);
    assert_eq!(moved, tn);
    assert_eq!(answer_sequence(&s, before), vec![bn.clone(), tn.clone()]);
    assert_outages_ended(&s, step);
    assert_eq!(wait_group_on(&c, a, "the group moved", |n| n == tn), tn);

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
    let (a, p) = serving(&c);
    let an = c.name(a);
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
