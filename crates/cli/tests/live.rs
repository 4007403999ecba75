//! The CLI on a running cluster: two real daemons on 127.0.0.1-2, and `tandem cib query`,
//! `cib replace`, `configure` (one-shot and the interactive shell's `commit`), `verify -L`
//! and `simulate -L` through the local daemon's socket. Every change is checked on the other
//! node too (replication), and every refusal leaves both nodes' CIB as it was.
//! Timing bounds are generous functional limits ("eventually"), never measurements.

// A test of real processes: it owns the clock and waits.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Scratch, code, run_with_stdin, stderr, stdout};
use tandem_cib::Cib;
use tandem_daemon::ipc::{self, Request, Response};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");
/// How long a two-node cluster may take to form and agree on a CIB on a busy machine.
const FORM_DEADLINE: Duration = Duration::from_secs(90);
/// How long a change may take to reach the other node.
const REPLICATE_DEADLINE: Duration = Duration::from_secs(30);
/// The cluster records changes of its own (membership, `dc-version`) after forming; a
/// configuration unchanged on both nodes for this long is taken as settled.
const QUIET: Duration = Duration::from_secs(2);

struct Cluster {
    dir: Scratch,
    procs: Vec<Child>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.procs {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn config(port: u16) -> String {
    let mut s = format!(
        "totem {{\n version: 2\n cluster_name: live{port}\n token: 1000\n token_coefficient: 0\n interface {{\n  linknumber: 0\n  mcastport: {port}\n }}\n}}\nquorum {{\n provider: corosync_votequorum\n two_node: 1\n}}\nnodelist {{\n"
    );
    for i in 1..=2 {
        s.push_str(&format!(
            " node {{\n  ring0_addr: 127.0.0.{i}\n  name: n{i}\n  nodeid: {i}\n }}\n"
        ));
    }
    s.push_str("}\nlogging {\n to_stderr: yes\n}\n");
    s
}

impl Cluster {
    /// Two daemons, started and agreed on a CIB in which both nodes are members.
    fn up(tag: &str, port: u16) -> Cluster {
        let dir = Scratch::new(tag);
        dir.write("corosync.conf", &config(port));
        let out = Command::new(TANDEM)
            .args(["keygen", "-k"])
            .arg(dir.path("authkey"))
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut c = Cluster {
            dir,
            procs: Vec::new(),
        };
        for id in 1..=2 {
            c.start(id);
        }
        c.wait_formed();
        c.settle();
        c
    }

    fn run_dir(&self, id: usize) -> PathBuf {
        self.dir.path(&format!("n{id}/run"))
    }

    fn start(&mut self, id: usize) {
        let log = std::fs::File::create(self.dir.path(&format!("n{id}.log"))).unwrap();
        let child = Command::new(TANDEM)
            .arg("--run-dir")
            .arg(self.run_dir(id))
            .arg("daemon")
            .arg("--config")
            .arg(self.dir.path("corosync.conf"))
            .arg("--authkey")
            .arg(self.dir.path("authkey"))
            .arg("--state-dir")
            .arg(self.dir.path(&format!("n{id}/state")))
            .arg("--node-id")
            .arg(id.to_string())
            .env("OCF_ROOT", self.dir.path("no-agents"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs.push(child);
    }

    /// `tandem ARGS` against node `id`'s daemon.
    fn tool(&self, id: usize) -> Command {
        let mut c = Command::new(TANDEM);
        c.env_remove("CIB_file")
            .env("TANDEM_RUN_DIR", self.run_dir(id))
            .env("OCF_ROOT", self.dir.path("no-agents"))
            .stdin(Stdio::null());
        c
    }

    fn run(&self, id: usize, args: &[&str]) -> Output {
        self.tool(id).args(args).output().unwrap()
    }

    /// Node `id`'s CIB through the daemon's socket (None while it does not answer).
    fn cib(&self, id: usize) -> Option<Cib> {
        match ipc::call(&self.run_dir(id), &Request::CibQuery) {
            Ok(Response::Cib { xml }) => Some(Cib::parse(&xml).unwrap()),
            _ => None,
        }
    }

    fn logs(&self) -> String {
        (1..=2)
            .map(|id| {
                let p = self.dir.path(&format!("n{id}.log"));
                format!(
                    "--- n{id}.log\n{}",
                    std::fs::read_to_string(p).unwrap_or_default()
                )
            })
            .collect()
    }

    /// Until `ok` holds for node `id`'s CIB, or panics with the logs after `deadline`.
    fn wait_cib(
        &self,
        id: usize,
        deadline: Duration,
        what: &str,
        ok: impl Fn(&Cib) -> bool,
    ) -> Cib {
        let start = Instant::now();
        loop {
            if let Some(c) = self.cib(id).filter(|c| ok(c)) {
                return c;
            }
            if start.elapsed() > deadline {
                panic!(
                    "node {id}: {what} not within {deadline:?}; CIB: {:?}\n{}",
                    self.cib(id).map(|c| c.to_xml()),
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until both nodes hold the same configuration version and it stayed so for
    /// [`QUIET`]: the changes the cluster makes itself are done, so a test's own change is
    /// the only one.
    fn settle(&self) -> Cib {
        let start = Instant::now();
        let mut last: Option<((u64, u64), Instant)> = None;
        loop {
            let v1 = self.cib(1).map(|c| conf_version(&c));
            let v2 = self.cib(2).map(|c| conf_version(&c));
            match (v1, v2) {
                (Some(a), Some(b)) if a == b => match last {
                    Some((v, since)) if v == a && since.elapsed() >= QUIET => {
                        return self.cib(1).unwrap();
                    }
                    Some((v, _)) if v == a => {}
                    _ => last = Some((a, Instant::now())),
                },
                _ => last = None,
            }
            if start.elapsed() > FORM_DEADLINE {
                panic!(
                    "the configuration did not settle: {v1:?} {v2:?}\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Both nodes answer with a quorate CIB listing both as members.
    fn wait_formed(&self) {
        for id in 1..=2 {
            self.wait_cib(id, FORM_DEADLINE, "a quorate CIB with both members", |c| {
                c.have_quorum() && c.status.nodes.iter().filter(|n| n.in_membership()).count() == 2
            });
        }
    }
}

/// `before`'s crm_config section (with what the DC records there) and
/// `stonith-enabled=false`, as XML.
fn crm_config_with_fencing_off(before: &Cib) -> String {
    let mut doc = before.document().clone();
    let crm = before.section("crm_config").unwrap();
    let set = match doc.child_named(crm, "cluster_property_set") {
        Some(s) => s,
        None => {
            let s =
                doc.create_element_with("cluster_property_set", &[("id", "cib-bootstrap-options")]);
            doc.append_child(crm, s);
            s
        }
    };
    let p = doc.create_element_with(
        "nvpair",
        &[
            ("id", "o-se"),
            ("name", "stonith-enabled"),
            ("value", "false"),
        ],
    );
    doc.append_child(set, p);
    doc.node_to_pretty_string(crm)
}

/// The configuration section, canonical (formatting and attribute order aside).
fn configuration(cib: &Cib) -> String {
    let doc = cib.document();
    let conf = doc.child_named(cib.root(), "configuration").unwrap();
    doc.node_digest(conf)
}

fn conf_version(cib: &Cib) -> (u64, u64) {
    (cib.version.admin_epoch, cib.version.epoch)
}

fn has_property(cib: &Cib, name: &str, value: &str) -> bool {
    cib.config
        .crm_config
        .iter()
        .flat_map(|s| s.pairs.iter())
        .any(|p| p.name == name && p.value.as_deref() == Some(value))
}

#[test]
fn cib_query_replace_and_refused_commits_on_a_live_cluster() {
    let c = Cluster::up("live-cib", 16605);

    // query: the whole CIB, status included, and a section.
    let out = c.run(1, &["cib", "query"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let queried = Cib::parse(&stdout(&out)).unwrap();
    assert!(queried.status.nodes.len() == 2, "{}", stdout(&out));
    let out = c.run(2, &["cib", "query", "--scope", "nodes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("<nodes>"), "{}", stdout(&out));

    // replace of a section: a commit against the version read; both nodes get it.
    let before = c.settle();
    let out = c.run(
        1,
        &[
            "cib",
            "replace",
            "--scope",
            "crm_config",
            "-X",
            &crm_config_with_fencing_off(&before),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let after = c.settle();
    assert!(has_property(&after, "stonith-enabled", "false"));
    assert_eq!(conf_version(&after).1, conf_version(&before).1 + 1);
    let printed = format!(
        "CIB replaced: version {}.{}.",
        before.version.admin_epoch, before.version.epoch
    );
    let committed = format!(" -> {}.{}.", after.version.admin_epoch, after.version.epoch);
    assert!(stderr(&out).starts_with(&printed), "{}", stderr(&out));
    assert!(stderr(&out).contains(&committed), "{}", stderr(&out));
    let on_2 = c.wait_cib(2, REPLICATE_DEADLINE, "the replaced crm_config", |cib| {
        conf_version(cib) == conf_version(&after)
    });
    assert_eq!(configuration(&on_2), configuration(&after));

    // A configuration with errors is refused by the cluster: exit 65, nothing changes.
    let out = c.run(
        1,
        &[
            "cib",
            "replace",
            "--scope",
            "constraints",
            "-X",
            r#"<constraints><rsc_order id="o" first="nosuch" then="other"/></constraints>"#,
        ],
    );
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("tandem: error: the cluster refused the commit: "),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
    for id in 1..=2 {
        let now = c.cib(id).unwrap();
        assert_eq!(conf_version(&now), conf_version(&after), "node {id}");
        assert_eq!(configuration(&now), configuration(&after), "node {id}");
    }

    // A commit against a stale base is refused by the daemon with its reason.
    let stale = ipc::call(
        &c.run_dir(2),
        &Request::CibCommit {
            base_admin_epoch: before.version.admin_epoch,
            base_epoch: before.version.epoch,
            configuration:
                "<configuration><crm_config/><nodes/><resources/><constraints/></configuration>"
                    .into(),
        },
    )
    .unwrap();
    let Response::Error { message } = stale else {
        panic!("stale commit answered {stale:?}");
    };
    assert!(message.contains("changed since it was read"), "{message}");
    for id in 1..=2 {
        assert_eq!(configuration(&c.cib(id).unwrap()), configuration(&after));
    }

    // A whole CIB older than the live one is refused before it is sent: exit 103.
    let mut old = before.to_xml();
    old = old.replacen(
        &format!("epoch=\"{}\"", before.version.epoch),
        "epoch=\"0\"",
        1,
    );
    let file = c.dir.write("old.xml", &old);
    let out = c.run(1, &["cib", "replace", file.to_str().unwrap()]);
    assert_eq!(code(&out), 103, "{}", stderr(&out));
    assert_eq!(configuration(&c.cib(1).unwrap()), configuration(&after));

    // A whole, newer CIB replaces the configuration and takes its epoch.
    let newer = after
        .to_xml()
        .replacen(&format!("epoch=\"{}\"", after.version.epoch), "epoch=\"50\"", 1)
        .replace(
            "<resources/>",
            r#"<resources><primitive id="d1" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="d1-m"><nvpair id="d1-t" name="target-role" value="Stopped"/></meta_attributes></primitive></resources>"#,
        );
    let file = c.dir.write("newer.xml", &newer);
    let out = c.run(2, &["cib", "replace", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for id in 1..=2 {
        let cib = c.wait_cib(id, REPLICATE_DEADLINE, "the replaced CIB", |cib| {
            cib.version.epoch == 50
        });
        assert!(cib.config.find_resource("d1").is_some(), "node {id}");
    }

    // verify -L and simulate -L read the live CIB.
    let out = c.run(1, &["verify", "-L"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let out = c.run(2, &["simulate", "-L"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Current cluster status:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn configure_commits_to_the_live_cluster() {
    let c = Cluster::up("live-configure", 16615);

    // One-shot: staged, verified, committed through node 1, seen on node 2.
    let out = c.run(1, &["configure", "property", "stonith-enabled=false"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = c.run(1, &["configure", "rsc_defaults", "resource-stickiness=100"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let committed = c.settle();
    assert!(has_property(&committed, "stonith-enabled", "false"));
    c.wait_cib(2, REPLICATE_DEADLINE, "the one-shot commits", |cib| {
        configuration(cib) == configuration(&committed)
    });

    // `configure show` reads the live CIB.
    let out = c.run(2, &["configure", "show"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("stonith-enabled=false"),
        "{}",
        stdout(&out)
    );

    // A change that does not verify is refused before anything is sent.
    let out = c.run(
        1,
        &["configure", "order", "o1", "Mandatory:", "nosuch", "other"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("commit refused, nothing was written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(configuration(&c.cib(1).unwrap()), configuration(&committed));

    // The interactive shell, fed through stdin: two commits in one session, the second on
    // top of the first (the session goes on from what the cluster holds).
    let input = "configure\nproperty no-quorum-policy=ignore\ncommit\n\
                 property cluster-recheck-interval=5min\ncommit\nquit\n";
    let out = run_with_stdin(&mut c.tool(2), input);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    for id in 1..=2 {
        let cib = c.wait_cib(id, REPLICATE_DEADLINE, "the shell's commits", |cib| {
            has_property(cib, "cluster-recheck-interval", "5min")
        });
        assert!(
            has_property(&cib, "no-quorum-policy", "ignore"),
            "node {id}"
        );
        assert_eq!(
            conf_version(&cib).1,
            conf_version(&committed).1 + 2,
            "node {id}"
        );
    }
}

#[test]
fn mon_status_attributes_and_cleanup_on_a_live_cluster() {
    let c = Cluster::up("live-mon", 16625);

    // mon -1 is the live status: both nodes online, a DC, quorum.
    let out = c.run(2, &["mon", "-1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Cluster Summary:\n"), "{text}");
    assert!(text.contains("  * Stack: tandem\n"), "{text}");
    assert!(text.contains(" - partition with quorum\n"), "{text}");
    assert!(text.contains("  * 2 nodes configured\n"), "{text}");
    assert!(text.contains("  * Online: [ n1 n2 ]\n"), "{text}");
    let status = c.run(2, &["status", "-1"]);
    assert_eq!(code(&status), 0, "{}", stderr(&status));

    // A transient attribute set through node 2 is in node 1's status section.
    let out = c.run(2, &["node", "status-attr", "n1", "set", "rack", "r7"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let cib = c.wait_cib(1, REPLICATE_DEADLINE, "the transient attribute", |cib| {
        cib.to_xml().contains(r#"name="rack" value="r7""#)
    });
    assert!(cib.to_xml().contains("transient_attributes"));

    // cleanup of everything is accepted by the cluster.
    let out = c.run(1, &["resource", "cleanup"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

/// Reads `out` into `seen` until `what` appears; fails after the deadline.
fn read_until(out: &mut impl std::io::Read, seen: &mut String, what: &str) {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while !seen.contains(what) {
        assert!(start.elapsed() < FORM_DEADLINE, "no {what:?} in:\n{seen}");
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "output ended before {what:?}:\n{seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

#[test]
fn mon_keeps_refreshing_when_the_daemon_goes_away() {
    let mut c = Cluster::up("live-mon-gone", 16635);
    let mut mon = c
        .tool(2)
        .args(["mon", "-i", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = mon.stdout.take().unwrap();
    let mut seen = String::new();
    read_until(&mut out, &mut seen, "Cluster Summary:");
    let mut d = c.procs.remove(1);
    d.kill().unwrap();
    d.wait().unwrap();
    read_until(
        &mut out,
        &mut seen,
        "tandem mon: no cluster is running on this node",
    );
    read_until(
        &mut out,
        &mut seen,
        "(trying again every 1 s; Ctrl-C to stop)",
    );
    assert!(mon.try_wait().unwrap().is_none(), "mon must keep running");
    mon.kill().unwrap();
    mon.wait().unwrap();
}

#[test]
fn no_daemon_is_exit_102_for_every_live_command() {
    let dir = Scratch::new("live-none");
    for args in [
        &["cib", "query"][..],
        &["cib", "replace", "-X", "<cib/>"],
        &["verify", "-L"],
        &["simulate", "-L"],
        &["configure", "show"],
        &["configure", "property", "stonith-enabled=false"],
        &["mon", "-1"],
    ] {
        let out = Command::new(TANDEM)
            .args(args)
            .env_remove("CIB_file")
            .env("TANDEM_RUN_DIR", dir.path("run"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(code(&out), 102, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("no cluster is running on this node"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
