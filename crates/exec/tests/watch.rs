//! Watchers through the executor, with script agents: an agent that lists `watch` in its
//! meta-data (as OCF 1.1 allows) gets one and its failure is reported at once; an agent
//! without one is left alone; a watcher that keeps failing is restarted no faster than the
//! named gap. Deadlines are generous ("eventually"); the rate check is an upper bound only.
// Tests of a driver crate: they own the clock, threads and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TempDir, rt, script};
use tandem_exec::watch::WATCH_RESTART_GAP_MIN_MS;
use tandem_exec::{
    AgentId, Event, ExecConfig, ExecOptions, Executor, OcfRc, OpKey, OpRequest, Runner, WatchEnd,
    WatchEvent, WatchNote,
};
use tokio::sync::mpsc::Receiver;

const EVENTUALLY: Duration = Duration::from_secs(20);

/// A state-file agent; `actions` goes into its meta-data, `watch` is its watch action's body.
fn flag_agent(path: &Path, state: &Path, count: &Path, actions: &str, watch: &str) {
    script(
        path,
        &format!(
            "#!/bin/sh\ns={s}\ncase $1 in\n\
             meta-data) cat <<EOF\n<?xml version=\"1.0\"?>\n<resource-agent name=\"Flag\">\n\
             <version>1.1</version>\n<shortdesc lang=\"en\">flag</shortdesc>\n<parameters/>\n\
             <actions>\n<action name=\"start\" timeout=\"5s\"/>\n<action name=\"stop\" timeout=\"5s\"/>\n\
             <action name=\"monitor\" timeout=\"5s\" interval=\"10s\"/>\n{actions}</actions>\n</resource-agent>\nEOF\nexit 0;;\n\
             start) touch $s; exit 0;;\nstop) rm -f $s; exit 0;;\n\
             monitor) echo x >> {count}; [ -e $s ] && exit 0; exit 7;;\n\
             watch) {watch};;\nesac\nexit 3\n",
            s = state.display(),
            count = count.display(),
        ),
    );
}

fn config(dir: &TempDir) -> ExecConfig {
    ExecConfig {
        ocf_root: dir.path().join("ocf"),
        kill_grace: Duration::from_millis(200),
        ..ExecConfig::default()
    }
}

async fn next_event(events: &mut Receiver<Event>) -> Event {
    tokio::time::timeout(EVENTUALLY, events.recv())
        .await
        .expect("an event in time")
        .expect("the executor runs")
}

async fn next_note(notes: &mut Receiver<WatchNote>) -> WatchNote {
    tokio::time::timeout(EVENTUALLY, notes.recv())
        .await
        .expect("a note in time")
        .expect("the executor runs")
}

fn rc(e: &Event) -> OcfRc {
    match e {
        Event::Result { result, .. } => result.rc,
        other => panic!("expected a result, got {other:?}"),
    }
}

fn monitor(agent: &AgentId) -> OpRequest {
    OpRequest::new("f", agent.clone(), "monitor").interval_ms(60_000)
}

#[test]
fn a_watch_action_in_meta_data_reports_a_failure_at_once() {
    let dir = TempDir::new("tdm-watch-md");
    let state = dir.path().join("state");
    let count = dir.path().join("count");
    flag_agent(
        &dir.path().join("ocf/resource.d/test/Flag"),
        &state,
        &count,
        "<action name=\"watch\" timeout=\"5s\"/>\n",
        "while [ -e $s ]; do sleep 0.02; done; echo \"$s is gone\"; exit 0",
    );
    let agent = AgentId::ocf("test", "Flag").unwrap();
    let runner = Arc::new(Runner::new(config(&dir)));
    assert!(rt().block_on(runner.supports_watch(&agent)).unwrap());
    rt().block_on(async {
        let (exec, mut events, mut notes) = Executor::start_with(runner, ExecOptions::default());
        exec.submit(OpRequest::new("f", agent.clone(), "start"))
            .await
            .unwrap();
        assert_eq!(rc(&next_event(&mut events).await), OcfRc::Ok);
        exec.submit(monitor(&agent)).await.unwrap();
        assert_eq!(rc(&next_event(&mut events).await), OcfRc::Ok);
        let started = next_note(&mut notes).await;
        assert_eq!(
            (started.event, started.key, started.detail.as_str()),
            (WatchEvent::Started, OpKey::of(&monitor(&agent)), "watching")
        );
        std::fs::remove_file(&state).unwrap();
        let t0 = Instant::now();
        assert_eq!(rc(&next_event(&mut events).await), OcfRc::NotRunning);
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "before the next run"
        );
        let fired = next_note(&mut notes).await;
        assert_eq!(
            (fired.event, fired.detail),
            (
                WatchEvent::Ended(WatchEnd::Fired),
                format!("{} is gone", state.display())
            )
        );
        // run_now is the same path by hand (the result is unchanged, so not reported again;
        // the cancel below may kill that run).
        exec.run_now(OpKey::of(&monitor(&agent))).await.unwrap();
        exec.cancel(OpKey::of(&monitor(&agent))).await.unwrap();
        assert!(matches!(
            next_event(&mut events).await,
            Event::Cancelled { .. }
        ));
        let refused = exec.run_now(OpKey::of(&monitor(&agent))).await;
        assert_eq!(
            refused.unwrap_err().to_string(),
            "refused: no recurring operation monitor every 60000ms of f to run now"
        );
    });
    let runs = std::fs::read_to_string(&count).unwrap().lines().count();
    assert!(runs >= 2, "the first run and the watcher's ({runs})");
}

#[test]
fn an_agent_without_a_watcher_is_left_alone() {
    let dir = TempDir::new("tdm-watch-none");
    let state = dir.path().join("state");
    let count = dir.path().join("count");
    flag_agent(
        &dir.path().join("ocf/resource.d/test/Flag"),
        &state,
        &count,
        "",
        "echo must not run; exit 0",
    );
    let agent = AgentId::ocf("test", "Flag").unwrap();
    let runner = Arc::new(Runner::new(config(&dir)));
    rt().block_on(async {
        let (exec, mut events, mut notes) = Executor::start_with(runner, ExecOptions::default());
        exec.submit(OpRequest::new("f", agent.clone(), "start"))
            .await
            .unwrap();
        next_event(&mut events).await;
        exec.submit(monitor(&agent)).await.unwrap();
        assert_eq!(rc(&next_event(&mut events).await), OcfRc::Ok);
        let note = next_note(&mut notes).await;
        assert_eq!(
            (note.event, note.detail.as_str()),
            (
                WatchEvent::Ended(WatchEnd::Unsupported),
                "ocf:test:Flag has no watch action"
            )
        );
        // Nothing watches: the failure waits for the 60 s monitor.
        std::fs::remove_file(&state).unwrap();
        let quiet = tokio::time::timeout(Duration::from_millis(500), events.recv()).await;
        assert!(quiet.is_err(), "nothing reported: {quiet:?}");
    });
    assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 1);
}

#[test]
fn a_failing_watcher_is_restarted_no_faster_than_the_gap() {
    let dir = TempDir::new("tdm-watch-broken");
    let state = dir.path().join("state");
    let count = dir.path().join("count");
    flag_agent(
        &dir.path().join("ocf/resource.d/test/Flag"),
        &state,
        &count,
        "<action name=\"watch\" timeout=\"5s\"/>\n",
        "echo broken >&2; exit 1",
    );
    let agent = AgentId::ocf("test", "Flag").unwrap();
    let runner = Arc::new(Runner::new(config(&dir)));
    let window = Duration::from_millis(2 * WATCH_RESTART_GAP_MIN_MS + 500);
    let (ends, runs) = rt().block_on(async {
        let (exec, mut events, mut notes) = Executor::start_with(runner, ExecOptions::default());
        exec.submit(OpRequest::new("f", agent.clone(), "start"))
            .await
            .unwrap();
        next_event(&mut events).await;
        exec.submit(monitor(&agent)).await.unwrap();
        next_event(&mut events).await;
        let t0 = Instant::now();
        let mut ends = Vec::new();
        while t0.elapsed() < window {
            if let Ok(Some(n)) = tokio::time::timeout(Duration::from_millis(50), notes.recv()).await
                && let WatchEvent::Ended(end) = n.event
            {
                ends.push((end, n.detail));
            }
        }
        (
            ends,
            std::fs::read_to_string(&count).unwrap().lines().count(),
        )
    });
    // Exits at ~0 s and, after the 1 s gap, at ~1 s; the next start is 2 s later.
    assert!(!ends.is_empty() && ends.len() <= 2, "{ends:?}");
    assert_eq!(
        ends[0],
        (
            WatchEnd::Failed,
            "failed: 'error' (1) [complete]".to_string()
        )
    );
    assert!(runs <= 1 + ends.len(), "monitor runs {runs}, ends {ends:?}");
}
