//! The loopback cluster builder and `tandem sandbox`: files written, agents installed,
//! formation, a node crash, and teardown that leaves no process and no file behind —
//! whether by Drop, by Ctrl-C of a foreground sandbox, or by `tandem sandbox down`.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Scratch;
use tandem_testkit::{LoopbackCluster, Spec, eventually, procs};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");
const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn builder_writes_files_forms_survives_a_crash_and_tears_down() {
    let mut c = LoopbackCluster::create(&Spec::new(TANDEM, 3, "kit")).unwrap();
    let dir = c.dir().to_path_buf();
    let conf = std::fs::read_to_string(c.config_path()).unwrap();
    assert!(conf.contains("    token: 1000\n"), "{conf}");
    assert!(conf.contains("ring0_addr: 127.0.0.3\n        name: node3\n        nodeid: 3\n"));
    assert!(!conf.contains("two_node"));
    assert_eq!(std::fs::metadata(c.authkey_path()).unwrap().len(), 256);
    for agent in ["Dummy", "process", "IPaddr", "Stateful"] {
        let link = c.ocf_root().join("resource.d/tandem").join(agent);
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new(TANDEM));
    }
    let ra = c
        .tool_command(1)
        .args(["ra", "list", "ocf", "tandem"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&ra.stdout).contains("Dummy"),
        "{ra:?}"
    );

    c.start_all().unwrap();
    c.wait_formed().unwrap();
    let marked = procs::marked(&dir, None);
    assert_eq!(marked.len(), 3, "one process per node: {marked:?}");
    let pid2 = i32::try_from(c.pid(2).unwrap()).unwrap();
    assert_eq!(procs::marked(&dir, Some("node2")), vec![pid2]);

    c.crash(2).unwrap();
    assert!(procs::marked(&dir, Some("node2")).is_empty());
    c.wait_view(&[1, 3], LIMIT).unwrap();
    c.start(2).unwrap();
    c.wait_formed().unwrap();

    drop(c);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(procs::marked(&dir, None).is_empty());
}

#[test]
fn two_nodes_are_a_two_node_cluster() {
    let mut c = LoopbackCluster::create(&Spec::new(TANDEM, 2, "kit2")).unwrap();
    assert!(
        std::fs::read_to_string(c.config_path())
            .unwrap()
            .contains("    two_node: 1\n")
    );
    c.start_all().unwrap();
    c.wait_formed().unwrap();
    c.crash(2).unwrap();
    c.wait_view(&[1], LIMIT).unwrap();
}

#[test]
fn a_directory_in_use_is_refused() {
    let s = Scratch::new("kitdir");
    s.write("something", "x");
    let mut spec = Spec::new(TANDEM, 1, "kitdir");
    spec.dir = Some(s.0.clone());
    let err = LoopbackCluster::create(&spec).err().unwrap().to_string();
    assert_eq!(
        err,
        format!(
            "{} is not empty; give a new or empty directory",
            s.0.display()
        )
    );
    spec.nodes = 17;
    spec.dir = None;
    let err = LoopbackCluster::create(&spec).err().unwrap().to_string();
    assert_eq!(err, "--nodes 17: a loopback cluster has 1 to 16 nodes");
}

/// `tandem` with its sandbox state file in `runtime` (so tests do not see each other's).
fn sandbox(runtime: &Path) -> Command {
    let mut c = Command::new(TANDEM);
    c.env("XDG_RUNTIME_DIR", runtime)
        .env_remove("CIB_file")
        .env_remove("TANDEM_RUN_DIR")
        .stdin(Stdio::null())
        .arg("sandbox");
    c
}

#[test]
fn detached_sandbox_status_and_down() {
    let s = Scratch::new("sbx-detach");
    let dir = s.path("cluster");
    let out = sandbox(&s.0)
        .args(["--detach", "--empty", "--nodes", "2", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("The cluster formed in "), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "    export TANDEM_RUN_DIR={}\n",
            dir.join("node1/run").display()
        )),
        "{stdout}"
    );
    assert_eq!(procs::marked(&dir, None).len(), 2);

    let again = sandbox(&s.0).args(["--empty"]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains(&format!("a sandbox runs already in {}", dir.display())),
        "{again:?}"
    );

    let st = sandbox(&s.0).arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(st.status.success(), "{text}");
    assert!(
        text.starts_with(&format!(
            "Sandbox in {} (detached, UDP port ",
            dir.display()
        )),
        "{text}"
    );
    assert!(text.contains("  node2    pid "), "{text}");
    assert!(text.contains(" running  --run-dir "), "{text}");

    let down = sandbox(&s.0).arg("down").output().unwrap();
    assert!(down.status.success(), "{down:?}");
    assert!(procs::marked(&dir, None).is_empty());
    assert!(!dir.exists(), "the directory it created is removed");
    assert!(!s.path("tandem-sandbox.json").exists());
    let st = sandbox(&s.0).arg("status").output().unwrap();
    assert_eq!(st.status.code(), Some(1));
}

#[test]
fn foreground_sandbox_tears_down_on_ctrl_c() {
    let s = Scratch::new("sbx-fg");
    let dir = s.path("cluster");
    let mut child = sandbox(&s.0)
        .args(["--empty", "--dir"])
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
    assert!(seen.contains("The cluster formed in "), "{seen}");
    assert_eq!(procs::marked(&dir, None).len(), 3);
    procs::signal(i32::try_from(child.id()).unwrap(), procs::Signal::INT);
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(status.success(), "{seen}{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("Done: every daemon and service stopped")),
        "{rest:?}"
    );
    eventually("no process of the sandbox", LIMIT, || {
        procs::marked(&dir, None).is_empty().then_some(())
    })
    .unwrap();
    assert!(!s.path("tandem-sandbox.json").exists());
}

#[test]
fn two_node_sandbox_runs_the_example_group_and_serves_http() {
    let s = Scratch::new("sbx-example");
    let dir = s.path("cluster");
    let http = tandem_testkit::config::free_tcp_port(tandem_testkit::config::auto_port_base())
        .unwrap()
        .to_string();
    let out = sandbox(&s.0)
        .args(["--detach", "--nodes", "2", "--http-port", &http, "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = out.status.success();
    // Stop it before asserting, so a failed assertion leaves nothing running.
    let crm = std::fs::read_to_string(dir.join("sandbox.crm")).unwrap_or_default();
    let body = ok.then(|| http_body(&http)).flatten();
    let down = sandbox(&s.0).arg("down").output().unwrap();
    assert!(ok, "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("The example resources run ("), "{stdout}");
    assert!(
        stdout.contains("  * Resource Group: HAService:\n"),
        "{stdout}"
    );
    assert!(
        crm.starts_with("property stonith-enabled=false no-quorum-policy=ignore\n"),
        "{crm}"
    );
    let body = body.unwrap();
    assert!(
        body == "Hello from node1 (Tandem sandbox)\n"
            || body == "Hello from node2 (Tandem sandbox)\n",
        "{body}"
    );
    assert!(down.status.success(), "{down:?}");
    assert!(procs::marked(&dir, None).is_empty());
    assert!(!dir.exists());
}

/// The body of `GET /` on 127.0.0.1:port.
fn http_body(port: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}
