//! `tandem status`, `tandem resource ...` and `tandem node ...` against three real daemons
//! on loopback: the same commands the CIB-file tests pin exactly, here checked for their
//! effect on the running cluster (move then clear, ban, standby then online, stop, start,
//! restart, cleanup, why, transient and permanent node attributes).

// A test of real processes: it owns the clock and waits.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::process::Output;
use std::time::Duration;

use tandem_testkit::{LoopbackCluster, Spec, eventually};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");
/// Generous: a busy two-core machine runs several builds at once.
const LIMIT: Duration = Duration::from_secs(90);

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs a command on node 1 and insists that it succeeded.
fn ok(c: &LoopbackCluster, args: &[&str]) -> String {
    let o = c.tool(1, args).unwrap();
    assert!(
        o.status.success(),
        "tandem {args:?}: {}{}",
        out(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    out(&o)
}

/// Waits until `resource locate d` says `want`.
fn wait_locate(c: &LoopbackCluster, want: &str) {
    eventually(&format!("locate d = {want:?}"), LIMIT, || {
        (ok(c, &["resource", "locate", "d"]) == want).then_some(())
    })
    .unwrap();
}

#[test]
fn resource_and_node_commands_on_the_running_cluster() {
    let mut c = LoopbackCluster::create(&Spec::new(TANDEM, 3, "live-cmds")).unwrap();
    c.start_all().unwrap();
    c.wait_formed().unwrap();
    ok(&c, &["configure", "property", "stonith-enabled=false"]);
    ok(
        &c,
        &["configure", "rsc_defaults", "resource-stickiness=100"],
    );
    ok(
        &c,
        &[
            "configure",
            "primitive",
            "d",
            "ocf:tandem:Dummy",
            "op",
            "monitor",
            "interval=5s",
        ],
    );
    let first = eventually("d to run", LIMIT, || {
        let l = ok(&c, &["resource", "locate", "d"]);
        l.strip_prefix("resource d is running on: ")
            .map(|n| n.trim().to_string())
    })
    .unwrap();
    let other = if first == "node2" { "node3" } else { "node2" };

    let status = ok(&c, &["status"]);
    assert!(
        status.starts_with("Cluster Summary:\n  * Stack: tandem\n  * Current DC: node"),
        "{status}"
    );
    assert!(
        status.contains("\n  * 3 nodes configured\n  * 1 resource instance configured\n"),
        "{status}"
    );
    assert!(
        status.contains("\n  * Online: [ node1 node2 node3 ]\n"),
        "{status}"
    );

    // move, then clear: the constraint comes and goes, the resource stays (stickiness).
    ok(&c, &["resource", "move", "d", other]);
    assert!(ok(&c, &["configure", "show"]).contains(&format!(
        "location cli-prefer-d d role=Started inf: {other}"
    )));
    wait_locate(&c, &format!("resource d is running on: {other}\n"));
    let why = ok(&c, &["resource", "why", "d"]);
    assert!(
        why.contains("+ INFINITY location constraint cli-prefer-d"),
        "{why}"
    );
    ok(&c, &["resource", "clear", "d"]);
    assert!(!ok(&c, &["configure", "show"]).contains("cli-"));

    // standby moves it away; online brings the node back without failback.
    ok(&c, &["node", "standby", other]);
    eventually("d to leave the standby node", LIMIT, || {
        let l = ok(&c, &["resource", "locate", "d"]);
        (l.starts_with("resource d is running on: ") && !l.contains(other)).then_some(())
    })
    .unwrap();
    ok(&c, &["node", "online", other]);
    assert_eq!(
        ok(&c, &["node", "attribute", other, "show", "standby"]),
        format!("scope=nodes  name=standby value=off\n")
    );

    // stop and start.
    ok(&c, &["resource", "stop", "d"]);
    wait_locate(&c, "resource d is NOT running\n");
    ok(&c, &["resource", "start", "d"]);
    eventually("d to run again", LIMIT, || {
        ok(&c, &["resource", "locate", "d"])
            .starts_with("resource d is running on: ")
            .then_some(())
    })
    .unwrap();
    ok(&c, &["resource", "restart", "d"]);

    // Transient attributes go through the attribute manager.
    ok(&c, &["node", "status-attr", "node3", "set", "pingd", "100"]);
    eventually("pingd on node3", LIMIT, || {
        let o = c
            .tool(1, &["node", "status-attr", "node3", "show", "pingd"])
            .unwrap();
        (out(&o) == "scope=status  name=pingd value=100\n").then_some(())
    })
    .unwrap();
    ok(&c, &["resource", "cleanup", "d"]);
    assert_eq!(
        ok(&c, &["resource", "failcount", "d", "show", "node1"]),
        "scope=status  name=fail-count-d value=0\n"
    );
}
