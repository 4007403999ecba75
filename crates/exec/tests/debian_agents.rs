//! Debian's own agents (package `resource-agents`), unmodified, through the executor:
//! `ocf:heartbeat:Dummy` and `ocf:heartbeat:IPaddr2` (the latter in a network namespace).
// Tests of a driver crate: they own the clock, threads and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use common::{NetNs, TempDir, require, require_root, rt};
use tandem_exec::{AgentId, AgentMetadata, ExecConfig, ExecStatus, OcfRc, OpRequest, Runner};

const DUMMY: &str = "/usr/lib/ocf/resource.d/heartbeat/Dummy";
const IPADDR2: &str = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2";

fn run(runner: &Runner, req: &OpRequest) -> (OcfRc, ExecStatus) {
    let r = rt().block_on(runner.run(req, std::future::pending()));
    (r.rc, r.status)
}

#[test]
fn heartbeat_dummy_lifecycle() {
    if !require(DUMMY, "resource-agents") {
        return;
    }
    let dir = TempDir::new("tdm-dummy");
    let state = dir.path().join("d1.state");
    let runner = Runner::new(ExecConfig::default());
    let agent = AgentId::ocf("heartbeat", "Dummy").unwrap();
    let op = |action: &str, interval: u64| {
        OpRequest::new("d1", agent.clone(), action)
            .interval_ms(interval)
            .param("state", state.to_str().unwrap())
    };
    let done = ExecStatus::Done;
    assert_eq!(
        run(&runner, &op("monitor", 0)),
        (OcfRc::NotRunning, done),
        "probe, stopped"
    );
    assert_eq!(run(&runner, &op("start", 0)), (OcfRc::Ok, done), "start");
    assert!(state.exists(), "the agent saw OCF_RESKEY_state");
    assert_eq!(
        run(&runner, &op("monitor", 10_000)),
        (OcfRc::Ok, done),
        "monitor, started"
    );
    assert_eq!(
        run(&runner, &op("monitor", 0)),
        (OcfRc::Ok, done),
        "probe, started"
    );
    assert_eq!(run(&runner, &op("stop", 0)), (OcfRc::Ok, done), "stop");
    assert_eq!(
        run(&runner, &op("monitor", 10_000)),
        (OcfRc::NotRunning, done),
        "monitor, stopped"
    );
    assert_eq!(
        run(&runner, &op("stop", 0)),
        (OcfRc::Ok, done),
        "stop, stopped"
    );

    let xml = rt().block_on(runner.metadata(&agent)).unwrap();
    let md = AgentMetadata::parse("ocf:heartbeat:Dummy", &xml).unwrap();
    assert_eq!(md.name, "Dummy");
    assert!(md.parameter("state").is_some());
    assert!(
        md.advice("start", None, None)
            .unwrap()
            .timeout_ms()
            .is_some()
    );
}

#[test]
fn heartbeat_ipaddr2_in_a_namespace() {
    if !require(IPADDR2, "resource-agents") || !require_root() {
        return;
    }
    let ns = NetNs::new();
    let results = ns.within(|| {
        let runner = Runner::new(ExecConfig::default());
        let agent = AgentId::ocf("heartbeat", "IPaddr2").unwrap();
        let op = |action: &str, interval: u64| {
            OpRequest::new("vip", agent.clone(), action)
                .interval_ms(interval)
                .param("ip", "192.0.2.10")
                .param("cidr_netmask", "24")
                .param("nic", "va")
        };
        let steps = [
            ("probe, stopped", op("monitor", 0)),
            ("start", op("start", 0)),
            ("monitor, started", op("monitor", 10_000)),
            ("probe, started", op("monitor", 0)),
            ("stop", op("stop", 0)),
            ("monitor, stopped", op("monitor", 10_000)),
        ];
        let mut out = Vec::new();
        for (name, req) in steps {
            let r = rt().block_on(runner.run(&req, std::future::pending()));
            out.push((name, r.rc, r.status, r.exit_reason, r.stderr));
        }
        out
    });
    let want = [
        ("probe, stopped", OcfRc::NotRunning),
        ("start", OcfRc::Ok),
        ("monitor, started", OcfRc::Ok),
        ("probe, started", OcfRc::Ok),
        ("stop", OcfRc::Ok),
        ("monitor, stopped", OcfRc::NotRunning),
    ];
    for ((name, rc, status, reason, stderr), (want_name, want_rc)) in results.iter().zip(want) {
        assert_eq!(
            (*name, *rc, *status),
            (want_name, want_rc, ExecStatus::Done),
            "{name}: {reason:?} {stderr}"
        );
    }
    assert!(
        !ns.addrs("va").contains("192.0.2.10"),
        "stopped: the address is gone"
    );
}

#[test]
fn heartbeat_ipaddr2_reports_its_exit_reason() {
    if !require(IPADDR2, "resource-agents") || !require_root() {
        return;
    }
    let ns = NetNs::new();
    let r = ns.within(|| {
        let runner = Runner::new(ExecConfig::default());
        let req = OpRequest::new(
            "vip",
            AgentId::ocf("heartbeat", "IPaddr2").unwrap(),
            "start",
        )
        .param("ip", "192.0.2.10")
        .param("nic", "nosuchnic0");
        rt().block_on(runner.run(&req, std::future::pending()))
    });
    assert_eq!(r.rc, OcfRc::NotConfigured, "{:?}", r.stderr);
    // The agent logs the details, then prints its exit reason last.
    assert!(
        r.stderr.contains("Invalid interface name [nosuchnic0]"),
        "{}",
        r.stderr
    );
    assert_eq!(r.exit_reason.as_deref(), Some("[findif] failed"));
}
