//! Three real daemons on 127.0.0.1-3 run a resource: the cluster starts an `ocf:tandem:Dummy`
//! on one node, after `kill -9` of that node's daemon starts it on a survivor, and after a
//! SIGTERM (graceful shutdown) of that one moves it to the last node. Each
//! daemon gets its own `HA_RSCTMP`, so the Dummy's state file says on which node it runs.

// A test of real processes: it owns the clock and waits.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tandem_daemon::ipc::{self, Request, Response};

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

fn config(nodes: usize, port: u16) -> String {
    let mut s = format!(
        "totem {{\n version: 2\n cluster_name: r{port}\n token: 1000\n token_coefficient: 0\n interface {{\n  linknumber: 0\n  mcastport: {port}\n }}\n}}\nquorum {{\n provider: corosync_votequorum\n}}\nnodelist {{\n"
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
    fn new(name: &str, nodes: usize, port: u16) -> Cluster {
        let dir = std::env::temp_dir().join(format!("tandem-rsc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("corosync.conf"), config(nodes, port)).unwrap();
        let out = Command::new(TANDEM)
            .args(["keygen", "-k"])
            .arg(dir.join("authkey"))
            .output()
            .unwrap();
        assert!(out.status.success());
        let out = Command::new(TANDEM)
            .args(["ra", "install", "--ocf-root"])
            .arg(dir.join("ocf"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        Cluster {
            dir,
            procs: (0..nodes).map(|_| None).collect(),
        }
    }

    fn run_dir(&self, id: usize) -> PathBuf {
        self.dir.join(format!("n{id}/run"))
    }

    fn rsctmp(&self, id: usize) -> PathBuf {
        self.dir.join(format!("n{id}/rsctmp"))
    }

    fn start(&mut self, id: usize) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("n{id}.log")))
            .unwrap();
        std::fs::create_dir_all(self.rsctmp(id)).unwrap();
        let child = Command::new(TANDEM)
            .arg("--run-dir")
            .arg(self.run_dir(id))
            .arg("daemon")
            .arg("--config")
            .arg(self.dir.join("corosync.conf"))
            .arg("--authkey")
            .arg(self.dir.join("authkey"))
            .arg("--state-dir")
            .arg(self.dir.join(format!("n{id}/state")))
            .arg("--node-id")
            .arg(id.to_string())
            .arg("--ocf-root")
            .arg(self.dir.join("ocf"))
            .env("HA_RSCTMP", self.rsctmp(id))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs[id - 1] = Some(child);
    }

    fn kill9(&mut self, id: usize) {
        let mut c = self.procs[id - 1].take().unwrap();
        c.kill().unwrap(); // SIGKILL
        c.wait().unwrap();
    }

    fn call(&self, id: usize, req: &Request) -> Option<Response> {
        ipc::call(&self.run_dir(id), req).ok()
    }

    /// Nodes whose Dummy state file for `rsc` exists.
    fn running(&self, rsc: &str, among: &[usize]) -> Vec<usize> {
        among
            .iter()
            .copied()
            .filter(|i| self.rsctmp(*i).join(format!("Dummy-{rsc}.state")).exists())
            .collect()
    }

    fn wait_for(&self, what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
        let t = Instant::now();
        while t.elapsed() < limit {
            if ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
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
}

fn cluster_info(c: &Cluster, id: usize) -> Option<ipc::ClusterInfo> {
    match c.call(id, &Request::ClusterStatus) {
        Some(Response::Cluster(info)) => Some(*info),
        _ => None,
    }
}

const CONFIGURATION: &str = r#"<configuration>
  <crm_config>
    <cluster_property_set id="cib-bootstrap-options">
      <nvpair id="opt-stonith" name="stonith-enabled" value="false"/>
      <nvpair id="opt-nqp" name="no-quorum-policy" value="ignore"/>
    </cluster_property_set>
  </crm_config>
  <nodes/>
  <resources>
    <primitive id="d" class="ocf" provider="tandem" type="Dummy">
      <operations>
        <op id="d-monitor-2s" name="monitor" interval="2s" timeout="20s"/>
      </operations>
    </primitive>
  </resources>
  <constraints/>
</configuration>"#;

#[test]
fn a_dummy_is_started_by_the_cluster_and_moved_after_kill_9() {
    let mut c = Cluster::new("move", 3, 16505);
    for i in 1..=3 {
        c.start(i);
    }
    let all = [1, 2, 3];
    c.wait_for("three members and a DC", Duration::from_secs(30), || {
        all.iter().all(|i| {
            cluster_info(&c, *i).is_some_and(|info| info.members.len() == 3 && info.dc.is_some())
        })
    });
    // The DC's own changes (node entries, dc-version) may land between a read and a
    // commit: then the commit is refused and read again, as a user would.
    let mut attempt = 0;
    let (live, answer) = loop {
        let Some(Response::Cib { xml }) = c.call(2, &Request::CibQuery) else {
            panic!("no CIB from node 2")
        };
        let live = tandem_cib::Cib::parse(&xml).unwrap();
        let answer = c
            .call(
                2,
                &Request::CibCommit {
                    base_admin_epoch: live.version.admin_epoch,
                    base_epoch: live.version.epoch,
                    configuration: CONFIGURATION.into(),
                },
            )
            .unwrap();
        attempt += 1;
        match &answer {
            Response::Error { message }
                if message.starts_with("the CIB changed since it was read") && attempt < 20 =>
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            _ => break (live, answer),
        }
    };
    assert!(
        matches!(answer, Response::Committed { epoch, .. } if epoch == live.version.epoch + 1),
        "{answer:?}"
    );
    // A stale commit changes nothing.
    let stale = c
        .call(
            1,
            &Request::CibCommit {
                base_admin_epoch: live.version.admin_epoch,
                base_epoch: live.version.epoch,
                configuration: CONFIGURATION.replace("Dummy", "Stateful"),
            },
        )
        .unwrap();
    assert!(
        matches!(&stale, Response::Error { message } if message.starts_with("the CIB changed since it was read")),
        "{stale:?}"
    );
    c.wait_for(
        "d running on exactly one node",
        Duration::from_secs(60),
        || c.running("d", &all).len() == 1,
    );
    let first = c.running("d", &all)[0];
    // Every node's CIB records it running there.
    c.wait_for(
        "the start recorded everywhere",
        Duration::from_secs(30),
        || {
            all.iter().all(|i| {
                cluster_info(&c, *i).is_some_and(|info| {
                    let cib = tandem_cib::Cib::parse(&info.cib).unwrap();
                    cib.status.nodes.iter().any(|n| {
                        n.uname.as_deref() == Some(&format!("n{first}"))
                            && n.resources.iter().any(|r| {
                                r.id == "d"
                                    && r.ops
                                        .iter()
                                        .any(|o| o.operation == "start" && o.rc_code == 0)
                            })
                    })
                })
            })
        },
    );
    c.kill9(first);
    let survivors: Vec<usize> = all.iter().copied().filter(|i| *i != first).collect();
    c.wait_for("d started on a survivor", Duration::from_secs(60), || {
        c.running("d", &survivors).len() == 1
    });
    let second = c.running("d", &survivors)[0];
    c.wait_for(
        "the survivors agree on the DC",
        Duration::from_secs(30),
        || {
            let dcs: Vec<Option<String>> = survivors
                .iter()
                .map(|i| cluster_info(&c, *i).and_then(|info| info.dc))
                .collect();
            dcs.iter().all(|d| d.is_some() && *d == dcs[0])
        },
    );
    // Exactly one survivor runs it, and it stays put.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(c.running("d", &survivors), vec![second]);

    // SIGTERM is a graceful shutdown: the resource moves to the last node, then the
    // daemon exits by itself (the last node keeps it without quorum:
    // no-quorum-policy=ignore).
    let last: Vec<usize> = survivors.iter().copied().filter(|i| *i != second).collect();
    let pid = c.procs[second - 1].as_ref().unwrap().id();
    let term = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut child = c.procs[second - 1].take().unwrap();
    c.wait_for(
        "the daemon to leave after moving d",
        Duration::from_secs(60),
        || matches!(child.try_wait(), Ok(Some(_))),
    );
    c.wait_for(
        "d running on the last node",
        Duration::from_secs(60),
        || c.running("d", &last) == last,
    );
    assert_eq!(c.running("d", &[second]), Vec::<usize>::new());
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(c.running("d", &last), last);
}
