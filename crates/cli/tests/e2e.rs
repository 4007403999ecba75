//! End-to-end: the tutorials' scenarios on real daemons on 127.0.0.x, with real agents and
//! a real web server (issue 6's acceptance list). Everything is judged from the outside —
//! `tandem` commands, the CIB they return, HTTP answers, processes — with generous
//! "eventually" deadlines and no timing assertions.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tandem_testkit::{LoopbackCluster, Placement, Spec, config, eventually, procs};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");
/// Generous: a busy two-core machine, token 1 s, monitors every 2 s.
const LIMIT: Duration = Duration::from_secs(90);
/// How long a "nothing moves" check watches.
const QUIET: Duration = Duration::from_secs(6);
const GROUP: [&str; 3] = ["FloatIP", "WebServer", "FreeSwitch"];

/// The tutorials' group: an IP-less Dummy, a web server, a second Dummy, with monitors.
fn ha_service(http_port: u16, nodes: usize) -> String {
    let mut s = String::from("property stonith-enabled=false");
    if nodes == 2 {
        s.push_str(" no-quorum-policy=ignore");
    }
    s.push_str("\nrsc_defaults resource-stickiness=100\n");
    s.push_str("primitive FloatIP ocf:tandem:Dummy op monitor interval=2s timeout=20s\n");
    s.push_str(&format!(
        "primitive WebServer ocf:tandem:process params binfile=\"{TANDEM}\" cmdline_options=\"sandbox serve --listen 127.0.0.1:{http_port}\" op monitor interval=2s timeout=20s\n"
    ));
    s.push_str("primitive FreeSwitch ocf:tandem:Dummy op monitor interval=2s timeout=20s\n");
    s.push_str("group HAService FloatIP WebServer FreeSwitch\n");
    s
}

/// The node the whole group runs on, if it runs complete on one node.
fn group_node(p: &Placement) -> Option<String> {
    let n = p.node(GROUP[0])?;
    GROUP
        .iter()
        .all(|r| p.node(r) == Some(n))
        .then(|| n.to_string())
}

/// The body of `GET /` on 127.0.0.1:port.
fn http_get(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// The web server's pid, from the process agent's pid file on node `i`.
fn web_pid(c: &LoopbackCluster, i: usize) -> Option<i32> {
    let text = std::fs::read_to_string(c.rsctmp(i).join("process-WebServer.pid")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

struct Setup {
    c: LoopbackCluster,
    http: u16,
}

/// A formed cluster of `nodes` with HAService loaded and running; the node it runs on.
fn ha_cluster(nodes: usize, tag: &str) -> (Setup, String) {
    let mut c = LoopbackCluster::create(&Spec::new(TANDEM, nodes, tag)).unwrap();
    c.start_all().unwrap();
    c.wait_formed().unwrap();
    let http = config::free_tcp_port(config::auto_port_base()).unwrap();
    c.configure(1, &ha_service(http, nodes)).unwrap();
    let p = c
        .wait_placement(1, "HAService running on one node", LIMIT, |p| {
            group_node(p).is_some()
        })
        .unwrap();
    let on = group_node(&p).unwrap();
    (Setup { c, http }, on)
}

fn status(c: &LoopbackCluster, i: usize) -> String {
    c.tool_ok(i, &["status"]).unwrap()
}

/// Watches for `QUIET` that the group stays on `node` (a negative check: no fixed sleep
/// decides it, every poll must agree).
fn stays_on(c: &LoopbackCluster, i: usize, node: &str) {
    let t = Instant::now();
    while t.elapsed() < QUIET {
        if let Some(p) = c.placement(i) {
            assert_eq!(group_node(&p).as_deref(), Some(node), "{p:?}");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn web_server_crash_is_restarted_in_place_and_shown_until_cleanup() {
    let (s, on) = ha_cluster(3, "e2e-crash");
    let c = &s.c;
    let i = c.index_of(&on).unwrap();
    let body = eventually("the web server to answer", LIMIT, || http_get(s.http)).unwrap();
    assert_eq!(body, format!("Hello from {on} (Tandem sandbox)\n"));

    let old = web_pid(c, i).unwrap();
    procs::signal(old, procs::Signal::KILL);
    eventually("the web server restarted on the same node", LIMIT, || {
        let new = web_pid(c, i)?;
        (new != old && procs::alive(new) && http_get(s.http).is_some()).then_some(())
    })
    .map_err(|e| c.with_logs(e))
    .unwrap();
    // The members after it in the group restart too (Pacemaker's recovery of a group member).
    c.wait_placement(1, "the group complete again, in place", LIMIT, |p| {
        group_node(p).as_deref() == Some(on.as_str())
    })
    .unwrap();
    let st = eventually("the failure in the status", LIMIT, || {
        let st = status(c, 1);
        st.contains("Failed Resource Actions:").then_some(st)
    })
    .unwrap();
    assert!(
        st.contains(&format!("WebServer_monitor_2000 on {on} 'not running' (7)")),
        "{st}"
    );

    let serving = web_pid(c, i).unwrap();
    c.tool_ok(1, &["resource", "cleanup", "WebServer"]).unwrap();
    eventually("the failure gone after cleanup", LIMIT, || {
        (!status(c, 2).contains("Failed Resource Actions:")).then_some(())
    })
    .unwrap();
    // Cleanup forgets the history and re-probes: the probe finds the server running, so
    // it is not restarted. (Under heavy load the DC has been seen to schedule in the window
    // between the history's deletion and the probe's result, and restart the member after
    // it, FreeSwitch, once — the group still ends complete, in place.)
    c.wait_placement(1, "the re-probed group in place", LIMIT, |p| {
        group_node(p).as_deref() == Some(on.as_str())
    })
    .unwrap();
    assert_eq!(
        web_pid(c, i),
        Some(serving),
        "cleanup restarted the web server"
    );
}

#[test]
fn standby_moves_the_group_and_online_does_not_fail_back() {
    let (s, on) = ha_cluster(3, "e2e-standby");
    let c = &s.c;
    c.tool_ok(1, &["node", "standby", &on]).unwrap();
    let p = c
        .wait_placement(1, "the group on another node", LIMIT, |p| {
            group_node(p).is_some_and(|n| n != on)
        })
        .unwrap();
    let to = group_node(&p).unwrap();
    assert_eq!(p.standby, vec![on.clone()]);
    assert_eq!(
        http_get(s.http),
        Some(format!("Hello from {to} (Tandem sandbox)\n"))
    );

    c.tool_ok(1, &["node", "online", &on]).unwrap();
    c.wait_placement(1, "the node back online", LIMIT, |p| p.standby.is_empty())
        .unwrap();
    stays_on(c, 1, &to);
}

#[test]
fn kill_9_of_the_active_node_starts_the_group_on_a_survivor() {
    let (mut s, on) = ha_cluster(3, "e2e-kill");
    let i = s.c.index_of(&on).unwrap();
    s.c.crash(i).unwrap();
    let survivor = if i == 1 { 2 } else { 1 };
    let p =
        s.c.wait_placement(survivor, "the group on a survivor", LIMIT, |p| {
            group_node(p).is_some_and(|n| n != on)
        })
        .unwrap();
    let to = group_node(&p).unwrap();
    let body = eventually("the web server on the survivor", LIMIT, || {
        http_get(s.http).filter(|b| b.contains(&to))
    })
    .unwrap();
    assert_eq!(body, format!("Hello from {to} (Tandem sandbox)\n"));
}

#[test]
fn move_creates_cli_prefer_and_clear_removes_it() {
    let (s, on) = ha_cluster(3, "e2e-move");
    let c = &s.c;
    let to = if on == "node3" { "node2" } else { "node3" };
    c.tool_ok(1, &["resource", "move", "HAService", to])
        .unwrap();
    let cib = c.cib_xml(2).unwrap();
    assert!(cib.contains("id=\"cli-prefer-HAService\""), "{cib}");
    c.wait_placement(2, "the group moved", LIMIT, |p| {
        group_node(p).as_deref() == Some(to)
    })
    .unwrap();
    c.tool_ok(1, &["resource", "clear", "HAService"]).unwrap();
    eventually("the constraint removed everywhere", LIMIT, || {
        (1..=3)
            .all(|i| {
                c.cib_xml(i)
                    .is_some_and(|x| !x.contains("cli-prefer-HAService"))
            })
            .then_some(())
    })
    .unwrap();
    stays_on(c, 3, to);
}

#[test]
fn a_commit_that_fails_validation_changes_nothing() {
    let (s, on) = ha_cluster(3, "e2e-invalid");
    let c = &s.c;
    let before: Vec<String> = (1..=3)
        .map(|i| configuration(&c.cib_xml(i).unwrap()))
        .collect();
    let out = c
        .tool(
            1,
            &[
                "configure",
                "colocation",
                "bad",
                "inf:",
                "NoSuchResource",
                "HAService",
            ],
        )
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NoSuchResource"),
        "{out:?}"
    );
    for i in 1..=3 {
        assert_eq!(configuration(&c.cib_xml(i).unwrap()), before[i - 1]);
    }
    stays_on(c, 1, &on);
}

/// The `<configuration>` element of a CIB and the root's version attributes.
fn configuration(xml: &str) -> String {
    let start = xml.find("<configuration").unwrap();
    let end = xml.find("</configuration>").unwrap();
    let root_end = xml.find('>').unwrap();
    let root = &xml[..root_end];
    let version: Vec<&str> = ["admin_epoch=\"", "epoch=\""]
        .iter()
        .filter_map(|k| {
            let at = root.find(k)? + k.len();
            Some(&root[at..at + root[at..].find('"')?])
        })
        .collect();
    format!("{version:?}{}", &xml[start..end])
}

#[test]
fn clone_with_colocation_floatip_nginx() {
    let mut c = LoopbackCluster::create(&Spec::new(TANDEM, 3, "e2e-clone")).unwrap();
    c.start_all().unwrap();
    c.wait_formed().unwrap();
    c.configure(
        1,
        "property stonith-enabled=false\n\
         rsc_defaults resource-stickiness=100\n\
         primitive FloatIP ocf:tandem:Dummy op monitor interval=2s timeout=20s\n\
         primitive Nginx ocf:tandem:Dummy op monitor interval=2s timeout=20s on-fail=restart\n\
         clone Nginx-clone Nginx\n\
         colocation FloatIP-Nginx inf: FloatIP Nginx-clone\n",
    )
    .unwrap();
    let all = ["node1", "node2", "node3"];
    let p = c
        .wait_placement(1, "Nginx on every node, FloatIP on one", LIMIT, |p| {
            p.nodes("Nginx") == all && p.node("FloatIP").is_some()
        })
        .unwrap();
    let on = p.node("FloatIP").unwrap().to_string();
    let i = c.index_of(&on).unwrap();
    c.crash(i).unwrap();
    let survivor = if i == 1 { 2 } else { 1 };
    c.wait_placement(survivor, "FloatIP with Nginx on a survivor", LIMIT, |p| {
        p.node("FloatIP")
            .is_some_and(|n| n != on && p.nodes("Nginx").iter().any(|m| m == n))
    })
    .unwrap();
}

#[test]
fn two_nodes_with_no_quorum_policy_ignore_keep_running_after_one_dies() {
    let (mut s, on) = ha_cluster(2, "e2e-two");
    let i = s.c.index_of(&on).unwrap();
    let other = 3 - i;
    // The passive node dies: nothing moves.
    s.c.crash(other).unwrap();
    s.c.wait_view(&[i], LIMIT).unwrap();
    stays_on(&s.c, i, &on);
    // It comes back, then the active one dies: the survivor takes over alone.
    s.c.start(other).unwrap();
    s.c.wait_formed().unwrap();
    s.c.crash(i).unwrap();
    let to = s.c.name(other);
    s.c.wait_placement(other, "the group on the lone survivor", LIMIT, |p| {
        group_node(p).as_deref() == Some(to.as_str())
    })
    .unwrap();
    eventually("the web server on the survivor", LIMIT, || {
        http_get(s.http).filter(|b| b.contains(&to))
    })
    .unwrap();
}
