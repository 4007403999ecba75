//! The IPaddr agent against a real kernel, in network namespaces joined by a veth pair:
//! the peer sees the gratuitous ARPs and neighbour advertisements, `preferred_src` changes
//! the source address the kernel picks and stop restores it, the interface is found from the
//! subnet, labels and exit reasons.
// Tests of a driver crate: they own the clock, threads and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{NetNs, TempDir, require, require_root};

const AGENT: &str = env!("CARGO_BIN_EXE_tandem-agents");

/// Runs `IPaddr ACTION` inside `ns` with these parameters; returns (exit code, stderr).
fn ipaddr(ns: &NetNs, rsctmp: &TempDir, action: &str, params: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = ns.command(AGENT);
    cmd.args(["IPaddr", action])
        .env("HA_RSCTMP", rsctmp.path())
        .env("OCF_RESOURCE_INSTANCE", "vip")
        .env("OCF_RESKEY_CRM_meta_timeout", "20000");
    for (k, v) in params {
        cmd.env(format!("OCF_RESKEY_{k}"), v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// tcpdump inside a namespace, ready (listening) when this returns.
struct Capture {
    child: Child,
    // Kept open: tcpdump reports its totals on stderr when it ends.
    _stderr: BufReader<std::process::ChildStderr>,
}

impl Capture {
    fn start(ns: &NetNs, dev: &str, filter: &str, count: usize) -> Capture {
        let mut child = ns
            .command("tcpdump")
            .args([
                "-i",
                dev,
                "-n",
                "-e",
                "-l",
                "-c",
                &count.to_string(),
                filter,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        while !seen.contains("listening on") {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "tcpdump ended: {seen}"
            );
            seen.push_str(&line);
        }
        Capture {
            child,
            _stderr: stderr,
        }
    }

    /// The packets captured, waiting up to `within` for tcpdump to reach its count.
    fn lines(mut self, within: Duration) -> Vec<String> {
        let until = Instant::now() + within;
        while Instant::now() < until && self.child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let out = self.child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

#[test]
fn peer_sees_gratuitous_arps_and_neighbour_advertisements() {
    if !require_root() || !require("/usr/bin/tcpdump", "tcpdump") {
        return;
    }
    let tmp = TempDir::new("tdm-garp");
    let (a, b) = NetNs::pair();
    a.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"]);
    a.exec(&["ip", "addr", "add", "2001:db8::1/64", "dev", "va"]);
    let mac = a.mac("va");

    let cap = Capture::start(&b, "vb", "arp", 3);
    let (rc, err) = ipaddr(
        &a,
        &tmp,
        "start",
        &[
            ("ip", "192.0.2.10"),
            ("arp_count", "3"),
            ("arp_interval", "100"),
        ],
    );
    assert_eq!(rc, 0, "{err}");
    let seen = cap.lines(Duration::from_secs(10));
    assert_eq!(seen.len(), 3, "{seen:?}");
    for line in &seen {
        assert!(
            line.contains(&format!("{mac} > ff:ff:ff:ff:ff:ff")),
            "{line}"
        );
        assert!(
            line.contains("Request who-has 192.0.2.10 tell 192.0.2.10"),
            "{line}"
        );
    }

    // Without the background process: all announcements before start returns.
    let cap = Capture::start(&b, "vb", "arp", 2);
    let params = [
        ("ip", "192.0.2.11"),
        ("arp_count", "2"),
        ("arp_interval", "50"),
        ("arp_bg", "false"),
    ];
    assert_eq!(ipaddr(&a, &tmp, "start", &params).0, 0);
    assert!(!tmp.path().join("IPaddr-announce-192.0.2.11.pid").exists());
    let seen = cap.lines(Duration::from_secs(10));
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|l| l.contains("Request who-has 192.0.2.11 tell 192.0.2.11")),
        "{seen:?}"
    );

    let cap = Capture::start(&b, "vb", "icmp6 and ip6[40] == 136", 2);
    let (rc, err) = ipaddr(
        &a,
        &tmp,
        "start",
        &[
            ("ip", "2001:db8::10"),
            ("arp_count", "2"),
            ("arp_interval", "100"),
        ],
    );
    assert_eq!(rc, 0, "{err}");
    let seen = cap.lines(Duration::from_secs(10));
    assert_eq!(seen.len(), 2, "{seen:?}");
    for line in &seen {
        assert!(
            line.contains(&format!("{mac} > 33:33:00:00:00:01")),
            "{line}"
        );
        assert!(line.contains("2001:db8::10 > ff02::1"), "{line}");
        assert!(
            line.contains("neighbor advertisement, tgt is 2001:db8::10"),
            "{line}"
        );
    }
}

/// A stop ends the background announcer at once: this node must not claim the address after
/// it gave it up.
#[test]
fn stop_silences_the_background_announcer() {
    if !require_root() || !require("/usr/bin/tcpdump", "tcpdump") {
        return;
    }
    let tmp = TempDir::new("tdm-garp-stop");
    let (a, b) = NetNs::pair();
    a.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"]);
    let params = [
        ("ip", "192.0.2.10"),
        ("arp_count", "1000"),
        ("arp_interval", "50"),
    ];
    assert_eq!(ipaddr(&a, &tmp, "start", &params).0, 0);
    let pidfile = tmp.path().join("IPaddr-announce-192.0.2.10.pid");
    assert!(pidfile.exists(), "the background announcer runs");
    assert_eq!(ipaddr(&a, &tmp, "stop", &params).0, 0);
    assert!(!pidfile.exists());
    let cap = Capture::start(&b, "vb", "arp", 1);
    assert_eq!(
        cap.lines(Duration::from_millis(500)),
        Vec::<String>::new(),
        "ARPs after stop"
    );
}

fn route_src(ns: &NetNs, to: &str) -> String {
    let out = ns.exec(&["ip", "route", "get", to]);
    let words: Vec<&str> = out.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "src").unwrap();
    words[at + 1].to_string()
}

#[test]
fn preferred_src_changes_the_source_address_and_stop_restores_it() {
    if !require_root() {
        return;
    }
    let tmp = TempDir::new("tdm-prefsrc");
    let (a, _b) = NetNs::pair();
    a.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"]);
    a.exec(&[
        "ip",
        "route",
        "add",
        "default",
        "via",
        "192.0.2.254",
        "dev",
        "va",
    ]);
    a.exec(&["ip", "addr", "add", "2001:db8::1/64", "dev", "va"]);
    a.exec(&[
        "ip",
        "-6",
        "route",
        "add",
        "default",
        "via",
        "2001:db8::fe",
        "dev",
        "va",
    ]);
    assert_eq!(route_src(&a, "192.0.2.99"), "192.0.2.1");
    assert_eq!(route_src(&a, "198.51.100.1"), "192.0.2.1");

    let v4 = [
        ("ip", "192.0.2.10"),
        ("preferred_src", "true"),
        ("arp_count", "0"),
    ];
    let (rc, err) = ipaddr(&a, &tmp, "start", &v4);
    assert_eq!(rc, 0, "{err}");
    assert!(
        err.ends_with("]: INFO: 192.0.2.10/24 is up on va\n"),
        "{err}"
    );
    assert_eq!(
        route_src(&a, "192.0.2.99"),
        "192.0.2.10",
        "the subnet route"
    );
    assert_eq!(
        route_src(&a, "198.51.100.1"),
        "192.0.2.10",
        "the default route"
    );
    assert_eq!(ipaddr(&a, &tmp, "start", &v4).0, 0, "start on started");
    assert_eq!(ipaddr(&a, &tmp, "stop", &v4).0, 0);
    assert_eq!(route_src(&a, "192.0.2.99"), "192.0.2.1");
    assert_eq!(
        route_src(&a, "198.51.100.1"),
        "192.0.2.1",
        "the default route survived the stop"
    );
    assert!(
        !a.exec(&["ip", "-4", "route", "show", "default"])
            .contains("src")
    );

    let v6 = [
        ("ip", "2001:db8::10"),
        ("preferred_src", "1"),
        ("arp_count", "0"),
    ];
    assert_eq!(ipaddr(&a, &tmp, "start", &v6).0, 0);
    assert_eq!(
        route_src(&a, "2001:db8:99::1"),
        "2001:db8::10",
        "the IPv6 default route"
    );
    assert_eq!(
        route_src(&a, "2001:db8::99"),
        "2001:db8::10",
        "the IPv6 subnet route"
    );
    assert_eq!(ipaddr(&a, &tmp, "stop", &v6).0, 0);
    assert_eq!(route_src(&a, "2001:db8:99::1"), "2001:db8::1");
    assert!(
        a.exec(&["ip", "-6", "route", "show", "default"])
            .contains("via 2001:db8::fe")
    );
}

#[test]
fn interface_from_subnet_label_monitor_and_errors() {
    if !require_root() {
        return;
    }
    let tmp = TempDir::new("tdm-ipaddr");
    let (a, _b) = NetNs::pair();
    a.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"]);
    let p = [("ip", "192.0.2.10"), ("label", "vip"), ("arp_count", "0")];
    assert_eq!(ipaddr(&a, &tmp, "monitor", &p).0, 7, "probe, stopped");
    assert_eq!(ipaddr(&a, &tmp, "validate-all", &p).0, 0);
    assert_eq!(ipaddr(&a, &tmp, "start", &p).0, 0);
    let addrs = a.exec(&["ip", "-o", "-4", "addr", "show", "dev", "va"]);
    assert!(
        addrs.contains("inet 192.0.2.10/24 brd 192.0.2.255 scope global secondary va:vip"),
        "{addrs}"
    );
    assert_eq!(ipaddr(&a, &tmp, "monitor", &p).0, 0);
    // Someone removes the address behind the cluster's back: monitor notices.
    a.exec(&["ip", "addr", "del", "192.0.2.10/24", "dev", "va"]);
    assert_eq!(ipaddr(&a, &tmp, "monitor", &p).0, 7);
    assert_eq!(ipaddr(&a, &tmp, "stop", &p).0, 0, "stop on stopped");

    let (rc, err) = ipaddr(&a, &tmp, "start", &[("ip", "198.51.100.7")]);
    assert_eq!(rc, 6);
    assert!(err.ends_with(
        "ocf-exit-reason:no interface has an address in a subnet containing 198.51.100.7; set nic and cidr_netmask\n"
    ), "{err}");
    let (rc, err) = ipaddr(
        &a,
        &tmp,
        "start",
        &[("ip", "192.0.2.10"), ("nic", "nosuch0")],
    );
    assert_eq!(rc, 6);
    assert!(
        err.ends_with("ocf-exit-reason:interface nosuch0 does not exist\n"),
        "{err}"
    );
    // Stop must succeed even if the interface is gone: the address is certainly not there.
    assert_eq!(
        ipaddr(
            &a,
            &tmp,
            "stop",
            &[("ip", "192.0.2.10"), ("nic", "nosuch0")]
        )
        .0,
        0
    );
    let (rc, _) = ipaddr(&a, &tmp, "frobnicate", &p);
    assert_eq!(rc, 3, "unknown action");
    let (rc, err) = ipaddr(&a, &tmp, "start", &[]);
    assert_eq!(
        (rc, err.as_str()),
        (6, "ocf-exit-reason:parameter ip is required\n")
    );
}

#[test]
fn metadata_runs_without_privileges_or_parameters() {
    let out = Command::new(AGENT)
        .args(["IPaddr", "meta-data"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.starts_with(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
    ));
    for param in [
        "ip",
        "cidr_netmask",
        "nic",
        "broadcast",
        "label",
        "arp_count",
        "arp_interval",
        "preferred_src",
    ] {
        assert!(
            xml.contains(&format!("<parameter name=\"{param}\"")),
            "{param}"
        );
    }
}

/// The daemon's path: `ocf:tandem:IPaddr` installed under an OCF root and run by
/// tandem-exec, with the results the cluster expects for each step.
#[test]
fn through_the_executor() {
    use tandem_exec::{AgentId, ExecConfig, ExecStatus, OcfRc, OpRequest, Runner};
    if !require_root() {
        return;
    }
    let tmp = TempDir::new("tdm-ipaddr-exec");
    let root = tmp.path().join("ocf");
    tandem_agents::install(&root, std::path::Path::new(AGENT)).unwrap();
    let (a, _b) = NetNs::pair();
    a.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"]);
    let results = a.within(move || {
        let runner = Runner::new(ExecConfig {
            ocf_root: root,
            ..ExecConfig::default()
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let agent = AgentId::ocf("tandem", "IPaddr").unwrap();
        let op = |action: &str, interval: u64| {
            OpRequest::new("vip", agent.clone(), action)
                .interval_ms(interval)
                .param("ip", "192.0.2.10")
                // One announcement, sent before start returns: no background process, so
                // nothing is written under /run.
                .param("arp_count", "1")
        };
        let steps = [
            op("monitor", 0),
            op("start", 0),
            op("monitor", 10_000),
            op("monitor", 0),
            op("stop", 0),
            op("monitor", 10_000),
        ];
        steps
            .iter()
            .map(|req| {
                let r = rt.block_on(runner.run(req, std::future::pending()));
                (r.rc, r.status, r.stderr)
            })
            .collect::<Vec<_>>()
    });
    let want = [
        OcfRc::NotRunning,
        OcfRc::Ok,
        OcfRc::Ok,
        OcfRc::Ok,
        OcfRc::Ok,
        OcfRc::NotRunning,
    ];
    for (i, ((rc, status, stderr), want)) in results.iter().zip(want).enumerate() {
        assert_eq!(
            (*rc, *status),
            (want, ExecStatus::Done),
            "step {i}: {stderr}"
        );
    }
}
