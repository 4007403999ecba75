//! What the executor guarantees about agent processes: killed completely at the timeout,
//! output capped, missing agents reported as not installed, results mapped per class.
// Tests of a driver crate: they own the clock, threads and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TempDir, require, rt, script};
use tandem_exec::reaper::ProcStat;
use tandem_exec::{
    AgentId, Class, Event, ExecConfig, ExecStatus, Executor, OcfRc, OpKey, OpRequest, Runner,
};

fn config(dir: &TempDir) -> ExecConfig {
    ExecConfig {
        ocf_root: dir.path().join("ocf"),
        lsb_dir: dir.path().join("init.d"),
        fence_dir: dir.path().join("sbin"),
        kill_grace: Duration::from_millis(200),
        output_limit: 64 * 1024,
        ..ExecConfig::default()
    }
}

fn gone_or_reaped(pid: i32, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if ProcStat::read(pid).is_none() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// An agent that ignores SIGTERM and leaves a grandchild (which inherits the ignored signal)
/// is killed completely at its timeout, grandchild included, and nothing is left unreaped.
#[test]
fn timeout_kills_the_whole_group() {
    let dir = TempDir::new("tdm-stubborn");
    let pidfile = dir.path().join("grandchild.pid");
    script(
        &dir.path().join("ocf/resource.d/test/Stubborn"),
        "#!/bin/sh\ntrap '' TERM\nsleep 1000 &\necho $! > \"$OCF_RESKEY_pidfile\"\nwait\nwait\n",
    );
    let runner = Arc::new(Runner::new(config(&dir)));
    let req = OpRequest::new("s", AgentId::ocf("test", "Stubborn").unwrap(), "start")
        .timeout_ms(300)
        .param("pidfile", pidfile.to_str().unwrap());
    let (result, elapsed) = rt().block_on(async {
        let (exec, mut events) = Executor::start(runner);
        let t0 = Instant::now();
        exec.submit(req).await.unwrap();
        match events.recv().await.unwrap() {
            Event::Result { result, .. } => (result, t0.elapsed()),
            other => panic!("unexpected {other:?}"),
        }
    });
    assert_eq!(result.status, ExecStatus::Timeout);
    assert!(result.timed_out());
    assert_eq!(result.rc, OcfRc::Error);
    assert_eq!(
        result.exit_reason.as_deref(),
        Some("start did not complete within 300ms")
    );
    // 300 ms budget + 200 ms grace, with generous slack for a loaded machine.
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let grandchild: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        gone_or_reaped(grandchild, Duration::from_secs(5)),
        "grandchild {grandchild} survived: {:?}",
        ProcStat::read(grandchild)
    );
}

/// An agent that floods stdout is capped at the limit and still completes.
#[test]
fn flooding_output_is_capped() {
    let dir = TempDir::new("tdm-flood");
    script(
        &dir.path().join("ocf/resource.d/test/Flood"),
        "#!/bin/sh\nhead -c 20000000 /dev/zero | tr '\\0' x\necho done >&2\nexit 0\n",
    );
    let runner = Runner::new(config(&dir));
    let req = OpRequest::new("f", AgentId::ocf("test", "Flood").unwrap(), "monitor");
    let r = rt().block_on(runner.run(&req, std::future::pending()));
    assert_eq!((r.rc, r.status), (OcfRc::Ok, ExecStatus::Done));
    assert_eq!(r.stdout.len(), 64 * 1024);
    assert!(r.stdout.bytes().all(|b| b == b'x'));
    assert!(r.output_truncated);
    assert_eq!(r.stderr, "done\n");
}

/// A flood that never ends is still stopped by the timeout.
#[test]
fn endless_flood_times_out() {
    let dir = TempDir::new("tdm-endless");
    script(
        &dir.path().join("ocf/resource.d/test/Yes"),
        "#!/bin/sh\nexec yes\n",
    );
    let runner = Runner::new(config(&dir));
    let req = OpRequest::new("y", AgentId::ocf("test", "Yes").unwrap(), "monitor").timeout_ms(300);
    let r = rt().block_on(runner.run(&req, std::future::pending()));
    assert_eq!(r.status, ExecStatus::Timeout);
    assert_eq!(r.stdout.len(), 64 * 1024);
}

#[test]
fn missing_agents_are_not_installed() {
    let dir = TempDir::new("tdm-missing");
    script(
        &dir.path().join("ocf/resource.d/test/NotExec"),
        "#!/bin/sh\n",
    );
    std::fs::set_permissions(
        dir.path().join("ocf/resource.d/test/NotExec"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let cfg = config(&dir);
    let root = cfg.ocf_root.display().to_string();
    let runner = Runner::new(cfg);
    let cases = [
        (
            "ocf:test:Nope",
            format!("ocf:test:Nope is not installed: {root}/resource.d/test/Nope does not exist"),
        ),
        (
            "ocf:test:NotExec",
            format!(
                "ocf:test:NotExec is not installed: {root}/resource.d/test/NotExec is not executable"
            ),
        ),
        (
            "lsb:nope",
            format!(
                "lsb:nope is not installed: {}/init.d/nope does not exist",
                dir.path().display()
            ),
        ),
        (
            "stonith:fence_nope",
            format!(
                "stonith:fence_nope is not installed: {}/sbin/fence_nope does not exist",
                dir.path().display()
            ),
        ),
    ];
    for (agent, reason) in cases {
        let req = OpRequest::new("x", agent.parse().unwrap(), "start");
        let r = rt().block_on(runner.run(&req, std::future::pending()));
        assert_eq!(
            (r.rc, r.status),
            (OcfRc::NotInstalled, ExecStatus::NotInstalled),
            "{agent}"
        );
        assert_eq!(r.rc.code(), 5);
        assert_eq!(r.exit_reason.as_deref(), Some(reason.as_str()), "{agent}");
    }
}

/// The OCF environment reaches the agent exactly, and arguments are never shell-parsed.
#[test]
fn environment_reaches_the_agent_unparsed() {
    let dir = TempDir::new("tdm-env");
    script(
        &dir.path().join("ocf/resource.d/test/Env"),
        "#!/bin/sh\nenv | grep -E '^(OCF_|PCMK_)' | sort\necho \"argv=$*\"\necho 'ocf-exit-reason:all good' >&2\nexit 7\n",
    );
    let runner = Runner::new(config(&dir));
    let req = OpRequest::new("web:1", AgentId::ocf("test", "Env").unwrap(), "monitor")
        .interval_ms(5000)
        .timeout_ms(9000)
        .param("cmd", "$(touch /tmp/pwned); `id` ; x")
        .param("OCF_CHECK_LEVEL", "20")
        .meta("notify-type", "post");
    let r = rt().block_on(runner.run(&req, std::future::pending()));
    assert_eq!((r.rc, r.exit_code), (OcfRc::NotRunning, Some(7)));
    assert_eq!(r.exit_reason.as_deref(), Some("all good"));
    let root = dir.path().join("ocf").display().to_string();
    assert_eq!(
        r.stdout,
        format!(
            "OCF_CHECK_LEVEL=20\nOCF_EXIT_REASON_PREFIX=ocf-exit-reason:\nOCF_RA_VERSION_MAJOR=1\n\
             OCF_RA_VERSION_MINOR=1\nOCF_RESKEY_CRM_meta_interval=5000\nOCF_RESKEY_CRM_meta_notify_type=post\n\
             OCF_RESKEY_CRM_meta_timeout=9000\nOCF_RESKEY_cmd=$(touch /tmp/pwned); `id` ; x\n\
             OCF_RESOURCE_INSTANCE=web:1\nOCF_RESOURCE_PROVIDER=test\nOCF_RESOURCE_TYPE=Env\nOCF_ROOT={root}\n\
             argv=monitor\n"
        )
    );
}

/// LSB exit codes through a real init script: `monitor` runs `status` and uses its table.
#[test]
fn lsb_mapping_through_a_script() {
    let dir = TempDir::new("tdm-lsb");
    let code = dir.path().join("code");
    script(
        &dir.path().join("init.d/web"),
        &format!(
            "#!/bin/sh\necho \"$1\" >> {0}.log\nexit $(cat {0})\n",
            code.display()
        ),
    );
    let runner = Runner::new(config(&dir));
    let table = [
        ("monitor", 0, OcfRc::Ok),
        ("monitor", 1, OcfRc::NotRunning),
        ("monitor", 3, OcfRc::NotRunning),
        ("monitor", 4, OcfRc::Error),
        ("monitor", 150, OcfRc::NotInstalled),
        ("monitor", 151, OcfRc::InsufficientPriv),
        ("start", 0, OcfRc::Ok),
        ("start", 5, OcfRc::NotInstalled),
        ("start", 7, OcfRc::NotRunning),
        ("stop", 1, OcfRc::Error),
        ("stop", 150, OcfRc::Error),
    ];
    for (action, exit, want) in table {
        std::fs::write(&code, exit.to_string()).unwrap();
        let req = OpRequest::new("web", "lsb:web".parse().unwrap(), action);
        let r = rt().block_on(runner.run(&req, std::future::pending()));
        assert_eq!(
            (r.rc, r.exit_code),
            (want, Some(exit)),
            "{action} exit {exit}"
        );
    }
    let log = std::fs::read_to_string(format!("{}.log", code.display())).unwrap();
    assert!(
        log.starts_with("status\nstatus\n"),
        "monitor runs status: {log}"
    );
    // service: resolves to the init script.
    std::fs::write(&code, "0").unwrap();
    let req = OpRequest::new("web", "service:web".parse().unwrap(), "monitor");
    let r = rt().block_on(runner.run(&req, std::future::pending()));
    assert_eq!(r.rc, OcfRc::Ok);
    assert_eq!(
        rt().block_on(runner.resolve_service("web")),
        Some(Class::Lsb)
    );
}

/// Fence agents get their parameters on stdin; a fence resource starts by checking the device.
#[test]
fn stonith_protocol_with_a_script_agent() {
    let dir = TempDir::new("tdm-fence");
    let log = dir.path().join("stdin.log");
    script(
        &dir.path().join("sbin/fence_test"),
        &format!(
            "#!/bin/sh\nif [ \"$1\" = -o ]; then echo '<resource-agent name=\"fence_test\" shortdesc=\"t\"/>'; exit 0; fi\n\
             cat > {0}\ngrep -q '^action=status' {0} && exit 2\ngrep -q '^ipaddr=bad' {0} && {{ echo 'Failed: cannot connect' >&2; exit 1; }}\nexit 0\n",
            log.display()
        ),
    );
    let runner = Runner::new(config(&dir));
    let agent: AgentId = "stonith:fence_test".parse().unwrap();
    let op = |action: &str, interval: u64, ip: &str| {
        OpRequest::new("fence1", agent.clone(), action)
            .interval_ms(interval)
            .param("ipaddr", ip)
            .param("pcmk_host_list", "n1")
    };
    let go = |req: OpRequest| rt().block_on(runner.run(&req, std::future::pending()));
    assert_eq!(
        go(op("monitor", 0, "ok")).rc,
        OcfRc::NotRunning,
        "probe before start"
    );
    assert_eq!(go(op("start", 0, "ok")).rc, OcfRc::Ok);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "action=monitor\nipaddr=ok\n"
    );
    assert_eq!(
        go(op("monitor", 0, "ok")).rc,
        OcfRc::Ok,
        "probe after start"
    );
    let failed = go(op("monitor", 60_000, "bad"));
    assert_eq!(failed.rc, OcfRc::Error);
    assert_eq!(
        failed.exit_reason.as_deref(),
        Some("Failed: cannot connect")
    );
    assert_eq!(go(op("stop", 0, "ok")).rc, OcfRc::Ok);
    assert_eq!(
        go(op("monitor", 0, "ok")).rc,
        OcfRc::NotRunning,
        "probe after stop"
    );
    let md = rt().block_on(runner.metadata(&agent)).unwrap();
    assert!(md.contains("fence_test"));
    let params = op("x", 0, "ok").params;
    let status = rt().block_on(runner.fence(&agent, &params, "status", "n1", 5000));
    assert_eq!(status.rc, OcfRc::NotRunning, "status 2 = off");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "action=status\nport=n1\nnodename=n1\nipaddr=ok\n"
    );
}

/// The real `fence_dummy` from Debian's fence-agents.
#[test]
fn stonith_with_debian_fence_dummy() {
    if !require("/usr/sbin/fence_dummy", "fence-agents") {
        return;
    }
    let dir = TempDir::new("tdm-fence-dummy");
    let status_file = dir.path().join("status");
    let runner = Runner::new(ExecConfig::default());
    let agent: AgentId = "stonith:fence_dummy".parse().unwrap();
    let mut params = std::collections::BTreeMap::new();
    params.insert("type".to_string(), "file".to_string());
    params.insert("status_file".to_string(), status_file.display().to_string());
    let fence =
        |action: &str| rt().block_on(runner.fence(&agent, &params, action, "node1", 20_000));
    assert_eq!(fence("status").rc, OcfRc::NotRunning);
    assert_eq!(fence("on").rc, OcfRc::Ok);
    assert_eq!(fence("status").rc, OcfRc::Ok);
    assert_eq!(fence("off").rc, OcfRc::Ok);
    assert_eq!(fence("status").rc, OcfRc::NotRunning);
    let mut start = OpRequest::new("fd", agent.clone(), "start");
    start.params = params.clone();
    assert_eq!(
        rt().block_on(runner.run(&start, std::future::pending())).rc,
        OcfRc::Ok
    );
    let xml = rt().block_on(runner.metadata(&agent)).unwrap();
    let md = tandem_exec::AgentMetadata::parse("stonith:fence_dummy", &xml).unwrap();
    assert_eq!(md.shortdesc, "Dummy fence agent");
    assert!(md.parameter("status_file").is_some());
}

/// Recurring monitors run at their interval and report only changes; cancelling stops them.
#[test]
fn executor_recurring_monitor_reports_changes() {
    let dir = TempDir::new("tdm-recurring");
    let state = dir.path().join("state");
    let count = dir.path().join("count");
    script(
        &dir.path().join("ocf/resource.d/test/Flag"),
        &format!(
            "#!/bin/sh\necho x >> {count}\ncase $1 in\nstart) touch {s}; exit 0;;\nstop) rm -f {s}; exit 0;;\n\
             monitor) [ -e {s} ] && exit 0; exit 7;;\nesac\nexit 3\n",
            count = count.display(),
            s = state.display()
        ),
    );
    let runner = Arc::new(Runner::new(config(&dir)));
    let agent = AgentId::ocf("test", "Flag").unwrap();
    let events = rt().block_on(async {
        let (exec, mut events) = Executor::start(runner);
        let mut seen = Vec::new();
        exec.submit(OpRequest::new("f", agent.clone(), "start"))
            .await
            .unwrap();
        seen.push(events.recv().await.unwrap());
        exec.submit(OpRequest::new("f", agent.clone(), "monitor").interval_ms(100))
            .await
            .unwrap();
        seen.push(events.recv().await.unwrap());
        // Several unchanged runs produce no events; then the resource "fails".
        tokio::time::sleep(Duration::from_millis(500)).await;
        std::fs::remove_file(&state).unwrap();
        seen.push(events.recv().await.unwrap());
        exec.cancel(OpKey {
            rsc_id: "f".into(),
            action: "monitor".into(),
            interval_ms: 100,
        })
        .await
        .unwrap();
        seen.push(events.recv().await.unwrap());
        seen
    });
    let summary: Vec<String> = events
        .iter()
        .map(|e| match e {
            Event::Result { key, result, .. } => {
                format!("{} {} {}", key.action, key.interval_ms, result.rc.code())
            }
            Event::Cancelled { key, .. } => format!("cancelled {} {}", key.action, key.interval_ms),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "start 0 0",
            "monitor 100 0",
            "monitor 100 7",
            "cancelled monitor 100"
        ]
    );
    let runs = std::fs::read_to_string(&count).unwrap().lines().count();
    assert!(runs >= 4, "the monitor ran repeatedly ({runs} agent runs)");
}

/// Cancelling a recurring operation while its agent runs kills the agent at once and
/// reports the cancellation (not a failure).
#[test]
fn cancelling_a_running_recurring_operation_kills_it() {
    let dir = TempDir::new("tdm-cancel");
    script(
        &dir.path().join("ocf/resource.d/test/Slow"),
        "#!/bin/sh\n[ \"$1\" = monitor ] && exec sleep 60\nexit 0\n",
    );
    let runner = Arc::new(Runner::new(config(&dir)));
    let agent = AgentId::ocf("test", "Slow").unwrap();
    let (event, elapsed) = rt().block_on(async {
        let (exec, mut events) = Executor::start(runner);
        exec.submit(
            OpRequest::new("s", agent, "monitor")
                .interval_ms(1000)
                .timeout_ms(120_000),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t0 = Instant::now();
        exec.cancel(OpKey {
            rsc_id: "s".into(),
            action: "monitor".into(),
            interval_ms: 1000,
        })
        .await
        .unwrap();
        (events.recv().await.unwrap(), t0.elapsed())
    });
    match event {
        Event::Cancelled { call_id, key } => {
            assert_eq!((call_id, key.action.as_str()), (1, "monitor"));
        }
        other => panic!("expected a cancellation, got {other:?}"),
    }
    // SIGTERM ends `sleep` at once; nowhere near its 60 s or the 120 s timeout.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

/// A fake in-process agent (test): answers `monitor` of `ocf:test:Twin` itself, with the
/// resource's parameter echoed in the exit reason.
struct FakeTwin;

impl tandem_exec::InProcess for FakeTwin {
    fn handles(&self, _path: &std::path::Path, agent: &AgentId, action: &str) -> bool {
        agent.kind == "Twin" && action == "monitor"
    }
    fn run(
        &self,
        _agent: &AgentId,
        _action: &str,
        env: &[(String, String)],
    ) -> tandem_exec::InProcessExit {
        let color = env
            .iter()
            .find(|(k, _)| k == "OCF_RESKEY_color")
            .map_or("", |(_, v)| v.as_str());
        tandem_exec::InProcessExit {
            code: 7,
            stdout: String::new(),
            stderr: format!("ocf-exit-reason:in-process saw {color}\n"),
        }
    }
}

/// With an in-process agent set, the runner asks it for the actions it takes — after the
/// same checks as for a process (the agent must be installed) — and runs the installed
/// executable for every other action; results go through the same translation.
#[test]
fn in_process_actions_skip_the_process_and_others_still_run_it() {
    let dir = TempDir::new("tdm-inproc");
    let agent = dir.path().join("ocf/resource.d/test/Twin");
    script(
        &agent,
        "#!/bin/sh\necho \"ocf-exit-reason:process ran $1\" >&2\nexit 1\n",
    );
    let runner = Runner::new(config(&dir)).with_in_process(Arc::new(FakeTwin));
    let twin = AgentId::ocf("test", "Twin").unwrap();
    let rt = rt();
    let monitor = OpRequest::new("t", twin.clone(), "monitor").param("color", "green");
    let r = rt.block_on(runner.run(&monitor, std::future::pending()));
    assert_eq!(
        (r.rc, r.status, r.exit_code, r.exit_reason.as_deref()),
        (
            OcfRc::NotRunning,
            ExecStatus::Done,
            Some(7),
            Some("in-process saw green")
        )
    );
    let start = OpRequest::new("t", twin.clone(), "start");
    let r = rt.block_on(runner.run(&start, std::future::pending()));
    assert_eq!(
        (r.rc, r.exit_reason.as_deref()),
        (OcfRc::Error, Some("process ran start"))
    );
    // Not installed is not installed, whoever would answer.
    std::fs::remove_file(&agent).unwrap();
    let r = rt.block_on(runner.run(&monitor, std::future::pending()));
    assert_eq!(r.rc, OcfRc::NotInstalled);
}
