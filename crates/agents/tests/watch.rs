//! The `watch` action of the agents that have one, on its own and through the executor:
//! `process watch` ends when the process dies, `IPaddr watch` when its address is deleted
//! (in a network namespace, as root), and a recurring monitor with a 60 s interval reports
//! the failure long before its next run. Deadlines are generous ("eventually"), never tight.
// Tests of a driver crate: they own the clock, threads and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{NetNs, TempDir, require_root};
use tandem_exec::{
    AgentId, Event, ExecConfig, ExecOptions, Executor, OcfRc, OpKey, OpRequest, Runner, WatchEnd,
    WatchEvent, WatchNote,
};
use tokio::sync::mpsc::Receiver;

const AGENT: &str = env!("CARGO_BIN_EXE_tandem-agents");

/// How long anything that should happen "at once" may take on a loaded machine.
const EVENTUALLY: Duration = Duration::from_secs(20);

/// A watcher that must still be running (nothing happened to its resource) is checked after
/// this long.
const QUIET: Duration = Duration::from_millis(500);

fn agent_cmd(ns: Option<&NetNs>, agent: &str, action: &str, env: &[(&str, String)]) -> Command {
    let mut cmd = match ns {
        Some(ns) => ns.command(AGENT),
        None => Command::new(AGENT),
    };
    cmd.args([agent, action])
        .env("OCF_RESOURCE_INSTANCE", "rsc")
        .env("OCF_RESKEY_CRM_meta_timeout", "20000");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits (up to [`EVENTUALLY`]) for a watcher to exit; returns its exit code and stdout.
fn wait_exit(mut child: Child) -> (i32, String) {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            );
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the watcher did not exit within {EVENTUALLY:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn assert_still_running(child: &mut Child) {
    std::thread::sleep(QUIET);
    if let Some(status) = child.try_wait().unwrap() {
        let mut out = String::new();
        use std::io::Read;
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        panic!("the watcher exited ({status}) with nothing to see: {out}");
    }
}

fn process_env(dir: &TempDir) -> Vec<(&'static str, String)> {
    vec![
        ("OCF_RESKEY_binfile", "/bin/sleep".to_string()),
        ("OCF_RESKEY_cmdline_options", "600".to_string()),
        (
            "OCF_RESKEY_pidfile",
            dir.path().join("sleep.pid").display().to_string(),
        ),
    ]
}

fn pid_of(dir: &TempDir) -> i32 {
    let text = std::fs::read_to_string(dir.path().join("sleep.pid")).unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

fn kill9(pid: i32) {
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
}

#[test]
fn methods_list_watch_for_the_agents_that_have_one() {
    for (agent, watches) in [
        ("IPaddr", true),
        ("process", true),
        ("Dummy", false),
        ("Stateful", false),
    ] {
        let out = Command::new(AGENT)
            .args([agent, "methods"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let words: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(words.iter().any(|w| w == "watch"), watches, "{agent}");
        let md = tandem_agents::metadata(agent).unwrap();
        assert_eq!(
            md.contains("<action name=\"methods\""),
            watches,
            "{agent}: meta-data lists methods exactly when there is something beyond it"
        );
        assert!(
            !md.contains("\"watch\""),
            "{agent}: watch is not in meta-data"
        );
    }
}

#[test]
fn process_watch_exits_when_the_process_dies() {
    let dir = TempDir::new("tdm-watch-proc");
    let env = process_env(&dir);
    run_ok(&mut agent_cmd(None, "process", "start", &env));
    let pid = pid_of(&dir);
    let mut watcher = agent_cmd(None, "process", "watch", &env)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_still_running(&mut watcher);
    kill9(pid);
    assert_eq!(
        wait_exit(watcher),
        (
            0,
            format!("pid {pid} (/bin/sleep) is not running any more\n")
        )
    );
    // Not running when the watch starts: it says so at once.
    let watcher = agent_cmd(None, "process", "watch", &env)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(
        wait_exit(watcher),
        (
            0,
            format!(
                "/bin/sleep is not running (pid file {})\n",
                dir.path().join("sleep.pid").display()
            )
        )
    );
    run_ok(&mut agent_cmd(None, "process", "stop", &env));
}

#[test]
fn ipaddr_watch_exits_when_its_address_is_deleted() {
    if !require_root() {
        return;
    }
    let rsctmp = TempDir::new("tdm-watch-ip");
    let (a, _b) = NetNs::pair();
    a.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"]);
    let env = vec![
        ("HA_RSCTMP", rsctmp.path().display().to_string()),
        ("OCF_RESKEY_ip", "192.0.2.10".to_string()),
        ("OCF_RESKEY_cidr_netmask", "24".to_string()),
        ("OCF_RESKEY_nic", "va".to_string()),
        ("OCF_RESKEY_arp_count", "1".to_string()),
    ];
    run_ok(&mut agent_cmd(Some(&a), "IPaddr", "start", &env));
    let mut watcher = agent_cmd(Some(&a), "IPaddr", "watch", &env)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_still_running(&mut watcher);
    // Other addresses coming and going are none of its business.
    a.exec(&["ip", "addr", "add", "192.0.2.20/24", "dev", "va"]);
    a.exec(&["ip", "addr", "del", "192.0.2.20/24", "dev", "va"]);
    assert_still_running(&mut watcher);
    a.exec(&["ip", "addr", "del", "192.0.2.10/24", "dev", "va"]);
    assert_eq!(
        wait_exit(watcher),
        (
            0,
            "192.0.2.10 is not configured on va after RTM_DELADDR\n".to_string()
        )
    );
    // Already gone when the watch starts.
    let watcher = agent_cmd(Some(&a), "IPaddr", "watch", &env)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(
        wait_exit(watcher),
        (
            0,
            "192.0.2.10 is not configured on va when the watch started\n".to_string()
        )
    );
}

/// An OCF root with the built-in agents, readable by everyone.
fn ocf_root(dir: &TempDir) -> PathBuf {
    let root = dir.path().join("ocf");
    tandem_agents::install(&root, Path::new(AGENT)).unwrap();
    root
}

/// Waits for the next event, up to [`EVENTUALLY`].
async fn next_event(events: &mut Receiver<Event>) -> Event {
    tokio::time::timeout(EVENTUALLY, events.recv())
        .await
        .expect("an executor event in time")
        .expect("the executor runs")
}

/// Waits for a watch note with this event, skipping others.
async fn note(notes: &mut Receiver<WatchNote>, event: WatchEvent) -> WatchNote {
    loop {
        let n = tokio::time::timeout(EVENTUALLY, notes.recv())
            .await
            .expect("a watch note in time")
            .expect("the executor runs");
        if n.event == event {
            return n;
        }
    }
}

fn result_rc(e: &Event) -> OcfRc {
    match e {
        Event::Result { result, .. } => result.rc,
        other => panic!("expected a result, got {other:?}"),
    }
}

/// The processes running the `watch` action of an agent under `root`.
fn watchers_under(root: &Path) -> Vec<i32> {
    let prefix = root.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
                args.len() >= 2 && args[0].starts_with(prefix.as_bytes()) && args[1] == b"watch"
            })
        })
        .collect()
}

/// Start, a 60 s monitor, the failure (`fail` returns what the watcher may say about it: it
/// sees the failure happen, or — on a machine so busy that the watcher process had not
/// looked yet — sees it when it starts), and how long the report took; then cancel and stop. Returns the time from the failure to
/// the report.
async fn fail_under_a_slow_monitor(
    root: PathBuf,
    start: OpRequest,
    fail: impl FnOnce() -> [String; 2],
) -> Duration {
    let runner = Runner::new(ExecConfig {
        ocf_root: root.clone(),
        ..ExecConfig::default()
    });
    let (exec, mut events, mut notes) =
        Executor::start_with(std::sync::Arc::new(runner), ExecOptions::default());
    exec.submit(start.clone()).await.unwrap();
    assert_eq!(result_rc(&next_event(&mut events).await), OcfRc::Ok);
    let mut monitor = start.clone().interval_ms(60_000);
    monitor.action = "monitor".into();
    exec.submit(monitor.clone()).await.unwrap();
    assert_eq!(result_rc(&next_event(&mut events).await), OcfRc::Ok);
    note(&mut notes, WatchEvent::Started).await;
    // Time for the watcher process to start looking (not needed for correctness).
    tokio::time::sleep(QUIET).await;
    let t0 = Instant::now();
    let expected_notes = fail();
    let failed = next_event(&mut events).await;
    let took = t0.elapsed();
    assert_eq!(result_rc(&failed), OcfRc::NotRunning);
    let fired = note(&mut notes, WatchEvent::Ended(WatchEnd::Fired)).await;
    assert!(
        expected_notes.contains(&fired.detail),
        "{:?} is not one of {expected_notes:?}",
        fired.detail
    );
    assert_eq!(fired.key, OpKey::of(&monitor));
    assert!(
        took < Duration::from_secs(30),
        "reported after {took:?}, not before the next monitor (60 s)"
    );
    // Recovery as the cluster does it: cancel the monitor, stop. No watcher is left.
    exec.cancel(OpKey::of(&monitor)).await.unwrap();
    assert!(matches!(
        next_event(&mut events).await,
        Event::Cancelled { .. }
    ));
    let mut stop = start;
    stop.action = "stop".into();
    exec.submit(stop).await.unwrap();
    assert_eq!(result_rc(&next_event(&mut events).await), OcfRc::Ok);
    let deadline = Instant::now() + EVENTUALLY;
    while !watchers_under(&root).is_empty() {
        assert!(Instant::now() < deadline, "a watcher outlived its monitor");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    took
}

#[tokio::test]
async fn a_killed_process_is_reported_long_before_the_next_monitor() {
    let dir = TempDir::new("tdm-watch-exec-proc");
    let root = ocf_root(&dir);
    let pidfile = dir.path().join("sleep.pid");
    let start = OpRequest::new("svc", AgentId::ocf("tandem", "process").unwrap(), "start")
        .param("binfile", "/bin/sleep")
        .param("cmdline_options", "600")
        .param("pidfile", &pidfile.display().to_string());
    let took = fail_under_a_slow_monitor(root, start, move || {
        let text = std::fs::read_to_string(&pidfile).unwrap();
        let pid: i32 = text.split_whitespace().next().unwrap().parse().unwrap();
        kill9(pid);
        [
            format!("pid {pid} (/bin/sleep) is not running any more"),
            format!("/bin/sleep is not running (pid file {})", pidfile.display()),
        ]
    })
    .await;
    eprintln!("process killed -> monitor reported not running after {took:?}");
}

#[test]
fn a_deleted_address_is_reported_long_before_the_next_monitor() {
    if !require_root() {
        return;
    }
    let dir = TempDir::new("tdm-watch-exec-ip");
    let root = ocf_root(&dir);
    let (a, _b) = NetNs::pair();
    a.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"]);
    let ns = a.name.clone();
    let took = a.within(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let start = OpRequest::new("vip", AgentId::ocf("tandem", "IPaddr").unwrap(), "start")
            .param("ip", "192.0.2.10")
            .param("cidr_netmask", "24")
            .param("nic", "va")
            .param("arp_count", "1");
        rt.block_on(fail_under_a_slow_monitor(root, start, move || {
            let ok = Command::new("ip")
                .args(["-n", &ns, "addr", "del", "192.0.2.10/24", "dev", "va"])
                .status()
                .unwrap();
            assert!(ok.success());
            ["after RTM_DELADDR", "when the watch started"]
                .map(|when| format!("192.0.2.10 is not configured on va {when}"))
        }))
    });
    eprintln!("address deleted -> monitor reported not running after {took:?}");
}
