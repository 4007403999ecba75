//! The network-namespace cluster end to end: three daemons in their own namespaces form a
//! cluster, the VIP answers from one node (probed from the client namespace), that node is
//! killed (kill -9 of all its processes) and another node answers; afterwards nothing of
//! the cluster is left: no namespace, directory, firewall table or process.
//!
//! Needs root, `ip`, `nft` and `iptables` (scripts/install-test-deps); skips with a message
//! otherwise. The `tandem` binary is found next to this test's directory
//! (`target/PROFILE/tandem`, built by `cargo test --workspace`) or named by `TANDEM_BIN`.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::PathBuf;
use std::time::Duration;

use tandem_testkit::netns::{self, VIP_RSC, WEB_RSC};
use tandem_testkit::probe::{self, Answer, Failure};
use tandem_testkit::{Impairment, NetSpec, NetnsCluster, procs};

/// Generous: a busy two-core machine runs other tests beside this one.
const LIMIT: Duration = Duration::from_secs(90);

fn tandem() -> PathBuf {
    if let Some(p) = std::env::var_os("TANDEM_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("tandem");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build --bin tandem, same profile) or set TANDEM_BIN",
        bin.display()
    );
    bin
}

fn skip() -> bool {
    match netns::can_build() {
        Ok(()) => false,
        Err(why) => {
            eprintln!("skipped: {why}");
            true
        }
    }
}

/// Nothing of the cluster with this prefix and directory remains.
fn assert_gone(prefix: &str, dir: &std::path::Path, namespaces: &[String]) {
    let left: Vec<String> = netns::tandem_namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&format!("{prefix}-")))
        .collect();
    assert!(left.is_empty(), "namespaces left: {left:?}");
    for ns in namespaces {
        assert!(
            !std::path::Path::new("/run/netns").join(ns).exists(),
            "{ns} left"
        );
    }
    assert!(!dir.exists(), "{} left", dir.display());
    assert_eq!(procs::marked(dir, None), Vec::<i32>::new());
}

#[test]
fn vip_moves_when_its_node_is_killed_and_nothing_is_left() {
    if skip() {
        return;
    }
    let mut c = NetnsCluster::up(&NetSpec::new(tandem(), 3, "netns-kill")).unwrap();
    let prefix = c.net().prefix().to_string();
    let dir = c.dir().to_path_buf();
    let namespaces = c.net().namespaces();
    assert_eq!(namespaces.len(), 5, "{namespaces:?}"); // switch, 3 nodes, client

    let conf = std::fs::read_to_string(c.config_path()).unwrap();
    assert!(
        conf.contains("        ring0_addr: 10.10.0.3\n        name: node3\n        nodeid: 3\n"),
        "{conf}"
    );
    // A partition of one node from two: the two keep quorum, the one loses it; healed,
    // all three form one view again.
    c.wait_service().unwrap();
    c.partition(&[&[1, 2], &[3]]).unwrap();
    c.wait_view(&[1, 2], LIMIT).unwrap();
    tandem_testkit::eventually("node3 alone without quorum", LIMIT, || {
        (c.view(3) == Some((vec![3], false))).then_some(())
    })
    .unwrap();
    c.heal().unwrap();
    c.wait_formed().unwrap();

    let i = c.wait_service().unwrap();
    let active = c.name(i);
    let p = c.placement(i).unwrap();
    assert_eq!(p.node(VIP_RSC), Some(active.as_str()));
    assert_eq!(p.node(WEB_RSC), Some(active.as_str()));

    let prober = c.probe().unwrap();
    prober
        .wait_answer_from(&active, Duration::ZERO, LIMIT)
        .unwrap();

    let killed_at = prober.now();
    c.crash(i).unwrap();
    let others: Vec<String> = (1..=3).filter(|&j| j != i).map(|j| c.name(j)).collect();
    let s = prober
        .wait_until("another node to answer", LIMIT, |s| {
            probe::first_answer(s, killed_at, |n| others.iter().any(|o| o == n)).is_some()
        })
        .unwrap();
    let after = probe::first_answer(&s, killed_at, |n| n != active).unwrap();
    // The answers switched from the killed node to one survivor, once.
    let ch = probe::changes(&s);
    assert_eq!(ch[0].to, active, "{ch:?}");
    assert_eq!(ch[1].from.as_deref(), Some(active.as_str()), "{ch:?}");
    assert_eq!(ch[1].to, after.node().unwrap(), "{ch:?}");
    // Between the last answer of the killed node and the first of the new one, the probes
    // failed (the old node's kernel refuses the connection, or nobody answers).
    let out = probe::outages(&s);
    assert!(!out.is_empty(), "{}", probe::summary(&s));
    drop(prober.stop());

    c.teardown().unwrap();
    assert_gone(&prefix, &dir, &namespaces);
}

#[test]
fn faults_apply_and_heal_and_a_panic_tears_down() {
    if skip() {
        return;
    }
    let spec = NetSpec {
        links: 2,
        ..NetSpec::new(tandem(), 2, "netns-faults")
    };
    let mut c = NetnsCluster::create(&spec).unwrap();
    let prefix = c.net().prefix().to_string();
    let dir = c.dir().to_path_buf();
    let namespaces = c.net().namespaces();
    let conf = std::fs::read_to_string(c.config_path()).unwrap();
    assert!(
        conf.contains(
            "        ring0_addr: 10.10.0.2\n        ring1_addr: 10.11.0.2\n        name: node2\n"
        ),
        "{conf}"
    );
    assert!(conf.contains("        linknumber: 1\n"), "{conf}");
    c.start_all().unwrap();
    c.wait_formed().unwrap();

    // One cable of two down: the cluster stays whole (link 1 still carries it).
    c.link_down(1, 0).unwrap();
    c.impair(
        2,
        Impairment {
            loss_pct: 10,
            delay: Duration::from_millis(5),
            jitter: Duration::from_millis(2),
        },
    )
    .unwrap();
    let rules = tandem_testkit::cmd::nft_args_in(&c.node_ns(2), &["list", "ruleset"]).unwrap();
    assert!(rules.contains("numgen random mod 100 < 10 drop"), "{rules}");
    assert!(rules.contains("queue"), "{rules}");
    std::thread::sleep(Duration::from_secs(3));
    c.wait_view(&[1, 2], LIMIT).unwrap();

    // A partition: each node alone (two_node: each keeps quorum, and sees only itself).
    c.heal().unwrap();
    c.partition(&[&[1], &[2]]).unwrap();
    tandem_testkit::eventually("each node to see only itself", LIMIT, || {
        (c.view(1).map(|v| v.0) == Some(vec![1]) && c.view(2).map(|v| v.0) == Some(vec![2]))
            .then_some(())
    })
    .unwrap();
    c.heal().unwrap();
    c.wait_view(&[1, 2], LIMIT).unwrap();

    // Delay: a connection to a closed port of node 2 is refused by its kernel, and that
    // refusal leaves node 2 only after the delay (a lower bound: load only adds to it).
    let closed = std::net::SocketAddr::from((netns::node_addr(2, 0), 9));
    let slow = Impairment {
        delay: Duration::from_millis(300),
        ..Impairment::default()
    };
    c.impair(2, slow).unwrap();
    let (r, took) = connect_from(&c.client_ns(), closed);
    assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    // Loss of every packet: no refusal comes back at all.
    let lost = Impairment {
        loss_pct: 100,
        ..Impairment::default()
    };
    c.impair(2, lost).unwrap();
    let (r, _) = connect_from(&c.client_ns(), closed);
    assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    c.impair(2, Impairment::default()).unwrap();
    let (r, _) = connect_from(&c.client_ns(), closed);
    assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::ConnectionRefused);
    let rules = tandem_testkit::cmd::nft_args_in(&c.node_ns(2), &["list", "ruleset"]).unwrap();
    assert!(
        !rules.contains("numgen") && !rules.contains("queue"),
        "{rules}"
    );

    // Pause and resume: the paused node's processes are stopped ("T").
    c.pause(2).unwrap();
    let pid = i32::try_from(c.pid(2).unwrap()).unwrap();
    tandem_testkit::eventually("node2's daemon to stop", LIMIT, || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let state = stat.rsplit_once(')').unwrap().1.trim_start();
        state.starts_with('T').then_some(())
    })
    .unwrap();
    c.resume(2);
    c.wait_view(&[1, 2], LIMIT).unwrap();

    // Power off node 2 (two_node: node 1 keeps quorum alone), then boot it: it rejoins.
    c.power_off(2).unwrap();
    c.wait_view(&[1], LIMIT).unwrap();
    c.boot(2).unwrap();
    c.wait_view(&[1, 2], LIMIT).unwrap();

    // A panic while the cluster exists: unwinding drops it, which tears everything down.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _c = c;
        panic!("a failing test");
    }));
    assert!(r.is_err());
    assert_gone(&prefix, &dir, &namespaces);
}

/// A TCP connection attempt from namespace `ns` (2 s timeout): its result and duration.
fn connect_from(
    ns: &str,
    to: std::net::SocketAddr,
) -> (std::io::Result<std::net::TcpStream>, Duration) {
    let ns = ns.to_string();
    std::thread::spawn(move || {
        probe::enter_netns(&ns).unwrap();
        let t = std::time::Instant::now();
        let r = std::net::TcpStream::connect_timeout(&to, Duration::from_secs(2));
        (r, t.elapsed())
    })
    .join()
    .unwrap()
}

#[test]
fn leftovers_of_a_dead_owner_are_swept() {
    if skip() {
        return;
    }
    // A namespace and directory named for a process that no longer exists.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let name = format!("tandem-{dead}-0");
    let ns = format!("{name}-node1");
    tandem_testkit::cmd::ip(&["netns", "add", &ns]).unwrap();
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(dir.join("node1")).unwrap();
    // (A cluster another test creates meanwhile sweeps too: either may remove them.)
    netns::sweep().unwrap();
    assert!(!std::path::Path::new("/run/netns").join(&ns).exists());
    assert!(!dir.exists());
}

#[test]
fn probe_failure_kinds_are_named() {
    assert_eq!(Failure::ConnectTimeout.name(), "connect-timeout");
    assert_ne!(
        Answer::Node("node1".into()),
        Answer::Failed(Failure::Refused)
    );
}
