//! Real daemons on 127.0.0.x: formation, kill -9, foreign keys, votequorum modes, bad input.
//! Timing bounds here are generous functional limits; the measured figures come from
//! `bench/cluster.py` (BENCHMARKS.md). Each test uses its own ports and directories.

// A test of real processes: it owns the clock and waits.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");

struct Cluster {
    dir: PathBuf,
    procs: Vec<Option<Child>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.procs.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config(nodes: usize, port: u16, quorum_extra: &str) -> String {
    let mut s = format!(
        "totem {{\n version: 2\n cluster_name: t{port}\n token: 1000\n token_coefficient: 0\n interface {{\n  linknumber: 0\n  mcastport: {port}\n }}\n}}\nquorum {{\n provider: corosync_votequorum\n{quorum_extra}}}\nnodelist {{\n"
    );
    for i in 1..=nodes {
        s.push_str(&format!(
            " node {{\n  ring0_addr: 127.0.0.{i}\n  name: n{i}\n  nodeid: {i}\n }}\n"
        ));
    }
    s.push_str("}\nlogging {\n to_stderr: yes\n}\n");
    s
}

impl Cluster {
    fn new(name: &str, nodes: usize, port: u16, quorum_extra: &str) -> Cluster {
        let dir = std::env::temp_dir().join(format!("tandem-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("corosync.conf"), config(nodes, port, quorum_extra)).unwrap();
        let out = Command::new(TANDEM)
            .args(["keygen", "-k"])
            .arg(dir.join("authkey"))
            .output()
            .unwrap();
        assert!(out.status.success());
        Cluster {
            dir,
            procs: (0..nodes).map(|_| None).collect(),
        }
    }

    fn run_dir(&self, id: usize) -> PathBuf {
        self.dir.join(format!("n{id}/run"))
    }

    fn start_with_key(&mut self, id: usize, key: &Path) {
        let log = std::fs::File::create(self.dir.join(format!("n{id}.log"))).unwrap();
        let child = Command::new(TANDEM)
            .arg("--run-dir")
            .arg(self.run_dir(id))
            .arg("daemon")
            .arg("--config")
            .arg(self.dir.join("corosync.conf"))
            .arg("--authkey")
            .arg(key)
            .arg("--state-dir")
            .arg(self.dir.join(format!("n{id}/state")))
            .arg("--node-id")
            .arg(id.to_string())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs[id - 1] = Some(child);
    }

    fn start(&mut self, id: usize) {
        let key = self.dir.join("authkey");
        self.start_with_key(id, &key);
    }

    fn kill9(&mut self, id: usize) {
        let mut c = self.procs[id - 1].take().unwrap();
        c.kill().unwrap(); // SIGKILL
        c.wait().unwrap();
    }

    fn tool(&self, id: usize, args: &[&str]) -> Output {
        Command::new(TANDEM)
            .arg("--run-dir")
            .arg(self.run_dir(id))
            .args(args)
            .output()
            .unwrap()
    }

    /// Members listed by `tandem quorum -l` on node `id` (empty if the daemon is not up yet).
    fn members(&self, id: usize) -> Vec<u32> {
        let out = self.tool(id, &["quorum", "-l"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(3)
            .filter_map(|l| l.split_whitespace().next().and_then(|w| w.parse().ok()))
            .collect()
    }

    fn quorate(&self, id: usize) -> Option<bool> {
        match self.tool(id, &["quorum", "-s"]).status.code() {
            Some(0) => Some(true),
            Some(2) => Some(false),
            _ => None,
        }
    }

    fn wait_for(&self, what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
        let t = Instant::now();
        while t.elapsed() < limit {
            if ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let logs: Vec<String> = (1..=self.procs.len())
            .map(|i| {
                std::fs::read_to_string(self.dir.join(format!("n{i}.log"))).unwrap_or_default()
            })
            .collect();
        panic!(
            "timed out after {limit:?} waiting for {what}\nlogs:\n{}",
            logs.join("\n----\n")
        );
    }

    fn log(&self, id: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("n{id}.log"))).unwrap_or_default()
    }
}

#[test]
fn three_daemons_form_one_quorate_view_and_survive_kill_9() {
    let mut c = Cluster::new("three", 3, 16405, "");
    for i in 1..=3 {
        c.start(i);
    }
    c.wait_for("one view of 3", Duration::from_secs(10), || {
        (1..=3).all(|i| c.members(i) == vec![1, 2, 3])
    });
    assert_eq!(c.quorate(1), Some(true));
    let status = String::from_utf8(c.tool(2, &["quorum", "-s"]).stdout).unwrap();
    assert!(status.contains("Nodes:            3\n"), "{status}");
    assert!(status.contains("Quorum:           2\n"), "{status}");
    assert!(
        status.contains("         2          1 n2 (local)\n"),
        "{status}"
    );
    let log = c.log(1);
    assert!(log.contains("Members[3]: 1 2 3"), "{log}");
    assert!(log.contains("[TOTEM ] A new membership (1."), "{log}");
    let links = String::from_utf8(c.tool(1, &["links"]).stdout).unwrap();
    assert!(
        links.starts_with("Local node ID 1, transport knet\nLINK ID 0 udp\n\taddr\t= 127.0.0.1\n"),
        "{links}"
    );
    let cmap = String::from_utf8(c.tool(1, &["cmap", "runtime.members.2"]).stdout).unwrap();
    assert!(
        cmap.contains("runtime.members.2.ip (str) = r(0) ip(127.0.0.2) \n"),
        "{cmap}"
    );
    assert!(
        cmap.contains("runtime.members.2.status (str) = joined\n"),
        "{cmap}"
    );

    c.kill9(3);
    // token 1000 + consensus 1200 ms; generous for a busy CI machine.
    c.wait_for("view without node 3", Duration::from_secs(10), || {
        (1..=2).all(|i| c.members(i) == vec![1, 2])
    });
    assert_eq!(c.quorate(1), Some(true), "2 of 3 votes keep quorum");
    assert!(c.log(1).contains("Members left: 3"));
    c.kill9(2);
    c.wait_for("node 1 alone", Duration::from_secs(10), || {
        c.members(1) == vec![1]
    });
    assert_eq!(c.quorate(1), Some(false), "1 of 3 votes is not quorate");
    let status = String::from_utf8(c.tool(1, &["quorum"]).stdout).unwrap();
    assert!(
        status.contains("Quorum:           2 Activity blocked\n"),
        "{status}"
    );
}

#[test]
fn a_daemon_with_another_key_never_joins_and_is_counted() {
    let mut c = Cluster::new("key", 3, 16415, "");
    let other = c.dir.join("other.key");
    assert!(
        Command::new(TANDEM)
            .args(["keygen", "-k"])
            .arg(&other)
            .status()
            .unwrap()
            .success()
    );
    c.start(1);
    c.start(2);
    c.start_with_key(3, &other);
    c.wait_for("nodes 1 and 2 together", Duration::from_secs(10), || {
        c.members(1) == vec![1, 2]
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(c.members(1), vec![1, 2]);
    assert_eq!(c.members(3), vec![3]);
    let out = String::from_utf8(
        c.tool(1, &["cmap", "-g", "stats.srp.rx_rejected_auth"])
            .stdout,
    )
    .unwrap();
    let n: u64 = out.rsplit(' ').next().unwrap().trim().parse().unwrap();
    assert!(n > 0, "{out}");
}

#[test]
fn two_node_waits_for_all_then_survives_its_peer() {
    let mut c = Cluster::new("two", 2, 16425, " two_node: 1\n");
    c.start(1);
    c.wait_for("node 1 up", Duration::from_secs(10), || {
        c.members(1) == vec![1]
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        c.quorate(1),
        Some(false),
        "a fresh lone node of a two_node cluster waits for all"
    );
    let s = String::from_utf8(c.tool(1, &["quorum"]).stdout).unwrap();
    assert!(s.contains("Flags:            2Node WaitForAll\n"), "{s}");
    c.start(2);
    c.wait_for("both quorate", Duration::from_secs(10), || {
        c.quorate(1) == Some(true) && c.quorate(2) == Some(true)
    });
    let s = String::from_utf8(c.tool(1, &["quorum"]).stdout).unwrap();
    assert!(
        s.contains("Quorum:           1\nFlags:            2Node Quorate WaitForAll\n"),
        "{s}"
    );
    c.kill9(2);
    c.wait_for("node 1 alone", Duration::from_secs(10), || {
        c.members(1) == vec![1]
    });
    assert_eq!(
        c.quorate(1),
        Some(true),
        "two_node: the survivor keeps quorum"
    );
}

#[test]
fn wait_for_all_and_last_man_standing() {
    // wait_for_all: 2 of 3 are not enough until all 3 were seen once.
    let mut c = Cluster::new("wfa", 3, 16435, " wait_for_all: 1\n");
    c.start(1);
    c.start(2);
    c.wait_for("1 and 2", Duration::from_secs(10), || {
        c.members(1) == vec![1, 2]
    });
    assert_eq!(c.quorate(1), Some(false));
    c.start(3);
    c.wait_for("all three quorate", Duration::from_secs(10), || {
        c.quorate(1) == Some(true)
    });
    c.kill9(3);
    c.wait_for("without 3", Duration::from_secs(10), || {
        c.members(1) == vec![1, 2]
    });
    assert_eq!(c.quorate(1), Some(true));
    drop(c);

    // last_man_standing: 4 → 3 → (window) → 2 stays quorate; without LMS 2 of 4 would not.
    let mut c = Cluster::new(
        "lms",
        4,
        16445,
        " last_man_standing: 1\n last_man_standing_window: 1000\n",
    );
    for i in 1..=4 {
        c.start(i);
    }
    c.wait_for("four", Duration::from_secs(10), || {
        (1..=4).all(|i| c.members(i) == vec![1, 2, 3, 4])
    });
    c.kill9(4);
    c.wait_for("three", Duration::from_secs(10), || {
        c.members(1) == vec![1, 2, 3]
    });
    c.wait_for(
        "expected votes lowered to 3",
        Duration::from_secs(10),
        || {
            String::from_utf8_lossy(&c.tool(1, &["quorum"]).stdout)
                .contains("Expected votes:   3\n")
        },
    );
    c.kill9(3);
    c.wait_for("two", Duration::from_secs(10), || {
        c.members(1) == vec![1, 2]
    });
    assert_eq!(
        c.quorate(1),
        Some(true),
        "last man standing keeps 2 of the original 4 quorate"
    );
}

#[test]
fn bad_configuration_and_keys_are_refused_clearly() {
    let dir = std::env::temp_dir().join(format!("tandem-test-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("corosync.conf");
    std::fs::write(&conf, "totem {\n token: soon\n}\n").unwrap();
    std::fs::write(dir.join("short.key"), [7u8; 64]).unwrap();
    let run = |conf: &Path, key: &str| {
        Command::new(TANDEM)
            .arg("--run-dir")
            .arg(dir.join("run"))
            .args(["daemon", "--node-id", "1", "--state-dir"])
            .arg(dir.join("state"))
            .arg("--config")
            .arg(conf)
            .arg("--authkey")
            .arg(dir.join(key))
            .output()
            .unwrap()
    };
    let out = run(&conf, "short.key");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:2: totem.token: expected a non-negative integer, got 'soon'",
            conf.display()
        )),
        "{err}"
    );
    std::fs::write(&conf, config(1, 16455, "")).unwrap();
    let out = run(&conf, "short.key");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("short.key is 64 bytes; it must be 128 to 4096 random bytes"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keygen_writes_a_private_key_of_the_asked_size() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("tandem-test-keygen-{}", std::process::id()));
    let key = dir.join("authkey");
    let out = Command::new(TANDEM)
        .args(["keygen", "-s", "512", "-k"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!(
        (meta.len(), meta.permissions().mode() & 0o777),
        (512, 0o400)
    );
    let out = Command::new(TANDEM)
        .args(["keygen", "-s", "64", "-k"])
        .arg(dir.join("k2"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be 128 to 4096 bytes"));
    let _ = std::fs::remove_dir_all(&dir);
}
