//! `tandem sandbox --netns`: nodes in network namespaces with a floating IP and a web server;
//! `status --output-as json`, `probe`, `kill`, `pause`, `resume`, `isolate`, `heal`, `down`,
//! and a foreground sandbox with two links torn down by Ctrl-C. Every test leaves no
//! namespace, process or directory behind, even when it fails (a guard runs `down`).
//!
//! The namespace tests need root, `ip`, `nft` and `iptables` and skip with a message
//! otherwise; the refusals at the end run everywhere.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::Scratch;
use tandem_testkit::{eventually, netns, procs};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");
/// Generous: a busy two-core machine runs other tests beside these.
const LIMIT: Duration = Duration::from_secs(90);

fn skip() -> bool {
    match netns::can_build() {
        Ok(()) => false,
        Err(why) => {
            eprintln!("skipped: {why}");
            true
        }
    }
}

/// `tandem sandbox ARGS` with its state file in `runtime`.
fn sandbox(runtime: &Path) -> Command {
    let mut c = Command::new(TANDEM);
    c.env("XDG_RUNTIME_DIR", runtime)
        .env_remove("CIB_file")
        .env_remove("TANDEM_RUN_DIR")
        .stdin(Stdio::null())
        .arg("sandbox");
    c
}

fn run(runtime: &Path, args: &[&str]) -> Output {
    sandbox(runtime).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `tandem sandbox down` when dropped: a failed assertion leaves nothing running.
struct Down(PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = run(&self.0, &["down"]);
    }
}

fn status_json(runtime: &Path) -> serde_json::Value {
    let o = run(runtime, &["status", "--output-as", "json"]);
    assert!(o.status.success(), "{o:?}");
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Nothing of the sandbox described by `status` (its JSON) remains.
fn assert_gone(status: &serde_json::Value, dir: &Path) {
    for ns in status["namespaces"].as_array().unwrap() {
        let ns = ns.as_str().unwrap();
        assert!(!Path::new("/run/netns").join(ns).exists(), "{ns} left");
    }
    assert!(!dir.exists(), "{} left", dir.display());
    assert!(procs::marked(dir, None).is_empty());
}

/// The node answering one probe (`tandem sandbox probe --count 1`), if one did.
fn answering(runtime: &Path) -> Option<String> {
    let o = run(runtime, &["probe", "--count", "1"]);
    let text = stdout(&o);
    text.lines()
        .nth(1)?
        .strip_suffix(" answers")
        .map(|l| l.rsplit(' ').next().unwrap().to_string())
}

#[test]
fn detached_netns_sandbox_fails_over_and_goes_away() {
    if skip() {
        return;
    }
    let s = Scratch::new("sbx-netns");
    let dir = s.path("cluster");
    let _down = Down(s.0.clone());
    let up = sandbox(&s.0)
        .args(["--netns", "--detach", "--nodes", "3", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = stdout(&up);
    assert!(up.status.success(), "{text}\n{}", stderr(&up));
    assert!(
        text.contains(" (addresses 10.10.0.1-10.10.0.3, bridge in tandem-sandbox-"),
        "{text}"
    );
    assert!(
        text.contains("The floating IP 10.10.0.100 and the web server run on node"),
        "{text}"
    );
    assert!(
        text.contains("    * VIP\t(ocf:tandem:IPaddr):\t Started node"),
        "{text}"
    );

    let st = status_json(&s.0);
    let prefix = st["switch_namespace"]
        .as_str()
        .unwrap()
        .strip_suffix("-sw")
        .unwrap()
        .to_string();
    assert!(prefix.starts_with("tandem-sandbox-"), "{st}");
    assert_eq!(st["running"], true);
    assert_eq!(st["netns"], true);
    assert_eq!(st["detached"], true);
    assert_eq!(st["vip"], "10.10.0.100");
    assert_eq!(st["web"], "http://10.10.0.100:80/");
    assert_eq!(st["client_namespace"], format!("{prefix}-client"));
    assert_eq!(st["client_address"], "10.10.0.250");
    assert_eq!(st["dir"], dir.display().to_string());
    assert_eq!(
        st["namespaces"],
        serde_json::json!([
            format!("{prefix}-sw"),
            format!("{prefix}-node1"),
            format!("{prefix}-node2"),
            format!("{prefix}-node3"),
            format!("{prefix}-client")
        ])
    );
    for (k, n) in st["nodes"].as_array().unwrap().iter().enumerate() {
        let i = k + 1;
        assert_eq!(n["name"], format!("node{i}"));
        assert_eq!(n["namespace"], format!("{prefix}-node{i}"));
        assert_eq!(n["addresses"], serde_json::json!([format!("10.10.0.{i}")]));
        assert_eq!(n["running"], true);
    }
    let text = stdout(&run(&s.0, &["status"]));
    assert!(
        text.contains(&format!(
            "\n           namespace {prefix}-node2, 10.10.0.2\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("\n  floating IP 10.10.0.100, web server http://10.10.0.100:80/\n"),
        "{text}"
    );

    // Probe: a header, the answering node, a summary naming only it.
    let active = eventually("the floating IP to answer", LIMIT, || answering(&s.0)).unwrap();
    let o = run(&s.0, &["probe", "--count", "5"]);
    let lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        lines[0],
        format!(
            "Probing http://10.10.0.100:80/ from namespace {prefix}-client every 20 ms (Ctrl-C stops)."
        )
    );
    assert!(
        lines[1].ends_with(&format!(" s  {active} answers")),
        "{lines:?}"
    );
    let summary = lines.last().unwrap();
    assert!(
        summary.starts_with(&format!("5 probes: {active} ")),
        "{lines:?}"
    );

    // Faults through the command line, with their exact reports.
    let idle = ["node1", "node2", "node3"]
        .into_iter()
        .find(|n| *n != active)
        .unwrap();
    let o = run(&s.0, &["pause", idle]);
    assert!(o.status.success(), "{o:?}");
    let paused = stdout(&o);
    assert!(paused.starts_with(&format!("{idle}: ")), "{paused}");
    assert!(
        paused.ends_with(&format!(
            " paused; `tandem sandbox resume {idle}` continues them\n"
        )),
        "{paused}"
    );
    let o = run(&s.0, &["resume", idle]);
    assert!(stdout(&o).ends_with(" resumed\n"), "{o:?}");
    let o = run(&s.0, &["kill", "node7"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "tandem: error: the sandbox has no node node7 (its nodes: node1, node2, node3)\n"
    );

    // Kill the active node: another one answers.
    let o = run(&s.0, &["kill", &active]);
    assert!(o.status.success(), "{o:?}");
    let killed = stdout(&o);
    assert!(
        killed.starts_with(&format!("{active}: killed ")),
        "{killed}"
    );
    assert!(killed.ends_with(" processes (kill -9)\n"), "{killed}");
    let other = eventually("another node to answer", LIMIT, || {
        answering(&s.0).filter(|n| *n != active)
    })
    .unwrap();

    // Isolate it: with one node dead and one isolated, nobody reachable answers;
    // heal: it answers again (the surviving two have quorum).
    let o = run(&s.0, &["isolate", &other]);
    assert_eq!(
        stdout(&o),
        format!("{other}: cables pulled; `tandem sandbox heal {other}` plugs them back in\n")
    );
    let o = run(&s.0, &["probe", "--count", "1"]);
    assert!(
        stdout(&o).ends_with("1 probe: 1 unanswered; 1 outage, still no answer at the end\n"),
        "{o:?}"
    );
    let o = run(&s.0, &["heal", &other]);
    assert_eq!(stdout(&o), format!("{other}: cables plugged in\n"));
    eventually("an answer after heal", LIMIT, || answering(&s.0)).unwrap();

    let o = run(&s.0, &["down"]);
    assert!(o.status.success(), "{o:?}");
    assert_gone(&st, &dir);
    assert!(!s.path("tandem-sandbox.json").exists());
}

#[test]
fn foreground_netns_sandbox_with_two_links_tears_down_on_ctrl_c() {
    if skip() {
        return;
    }
    let s = Scratch::new("sbx-netns-fg");
    let dir = s.path("cluster");
    let _down = Down(s.0.clone());
    let mut child = sandbox(&s.0)
        .args([
            "--netns", "--links", "2", "--nodes", "2", "--empty", "--dir",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    assert!(
        seen.contains(" (addresses 10.10.0.1-10.10.0.2 and 10.11.0.1-10.11.0.2, bridge in "),
        "{seen}"
    );
    assert!(seen.contains("The cluster formed in "), "{seen}");
    let st = status_json(&s.0);
    assert_eq!(st["detached"], false);
    assert_eq!(
        st["nodes"][1]["addresses"],
        serde_json::json!(["10.10.0.2", "10.11.0.2"])
    );
    let conf = std::fs::read_to_string(dir.join("corosync.conf")).unwrap();
    assert!(conf.contains("        ring1_addr: 10.11.0.1\n"), "{conf}");
    procs::signal(i32::try_from(child.id()).unwrap(), procs::Signal::INT);
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(status.success(), "{seen}{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("Done: every daemon and service stopped, every namespace and ")),
        "{rest:?}"
    );
    assert_gone(&st, &dir);
    assert!(!s.path("tandem-sandbox.json").exists());
}

#[test]
fn refusals_name_the_problem() {
    let s = Scratch::new("sbx-netns-refuse");
    let o = run(&s.0, &["status", "--output-as", "json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "{\"running\":false}\n");
    let o = run(&s.0, &["probe", "--count", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "tandem: error: no sandbox is running (no {})\n",
            s.path("tandem-sandbox.json").display()
        )
    );
    let o = run(&s.0, &["--links", "2"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(
        stderr(&o).contains("the following required arguments were not provided:\n  --netns"),
        "{}",
        stderr(&o)
    );
    let o = run(&s.0, &["--netns", "--http-port", "8080"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(
        stderr(&o).contains("'--netns' cannot be used with '--http-port <PORT>'"),
        "{}",
        stderr(&o)
    );
}
