//! The running cluster, as the CLI reaches it: one IPC request per operation to the local
//! daemon (`tandem_daemon::ipc`), its answer turned into a CIB, a version or an error.
//!
//! * No daemon answering (no socket, connection refused) is [`NoCluster`]: exit 102, as
//!   Pacemaker's tools exit when they cannot connect.
//! * A request the daemon refuses (a commit against a stale base, a configuration that does
//!   not verify, an older CIB) is [`LiveRefused`], carrying the daemon's own words; the
//!   cluster changed nothing.
//! * Anything else (a timeout, a malformed answer) is a plain error naming what happened.
//!
//! Commits only carry the `<configuration>` section and the version they were edited from;
//! the daemon applies them in the cluster's total order and answers after the change is
//! applied and persisted on this node, so a command that returns has its change in place.

use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use tandem_cib::{Cib, LoadError, Version};
use tandem_daemon::ipc::{self, ClusterInfo, IPC_TIMEOUT, Request, Response};

use crate::cibsource::NoCluster;

/// How long a change may take to be ordered, applied and persisted (the cluster may be
/// re-forming a membership meanwhile).
pub const LIVE_CHANGE_TIMEOUT: Duration = Duration::from_secs(60);

/// The daemon refused a request; nothing changed in the cluster.
#[derive(Debug)]
pub struct LiveRefused {
    /// What was asked ("commit", "replace", ...).
    pub what: &'static str,
    /// The daemon's reason.
    pub message: String,
}

/// Said after the daemon's reason, unless the reason says it already.
const NOTHING_CHANGED: &str = "nothing was changed";

impl std::fmt::Display for LiveRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the cluster refused the {}: {}", self.what, self.message)?;
        if !self.message.contains(NOTHING_CHANGED) {
            write!(f, "; {NOTHING_CHANGED}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LiveRefused {}

impl LiveRefused {
    /// The refusal is about versions (a stale base or an older CIB), not content: Pacemaker's
    /// CRM_EX_OLD case. Matches the reasons tandem-node gives.
    pub fn is_version_conflict(&self) -> bool {
        self.message.contains("changed since it was read") || self.message.contains("is older than")
    }
}

/// Sends `req`, mapping "nobody listens" to [`NoCluster`].
fn call(run_dir: &Path, req: &Request, timeout: Duration) -> anyhow::Result<Response> {
    ipc::call_with_timeout(run_dir, req, timeout).map_err(|e| {
        let unreachable = e
            .chain()
            .filter_map(|c| c.downcast_ref::<std::io::Error>())
            .any(|io| {
                matches!(
                    io.kind(),
                    ErrorKind::NotFound | ErrorKind::ConnectionRefused
                )
            });
        if unreachable {
            NoCluster::new(run_dir).into()
        } else {
            e.context(format!("the tandem daemon in {}", run_dir.display()))
        }
    })
}

fn unexpected(req: &Request, r: Response) -> anyhow::Error {
    anyhow::anyhow!("the daemon answered a '{}' request with {r:?}", req.name())
}

/// The live CIB, status section included (`cibadmin --query`).
pub fn query(run_dir: &Path) -> anyhow::Result<Cib> {
    parse_live(&query_xml(run_dir)?)
}

/// The live CIB's text, as the daemon sent it.
pub fn query_xml(run_dir: &Path) -> anyhow::Result<String> {
    let req = Request::CibQuery;
    match call(run_dir, &req, IPC_TIMEOUT)? {
        Response::Cib { xml } => Ok(xml),
        Response::Error { message } => bail!("the daemon cannot give the CIB: {message}"),
        r => Err(unexpected(&req, r)),
    }
}

/// The name of the live CIB in messages.
pub const LIVE_CIB_NAME: &str = "the live CIB";

/// Parses a CIB the daemon sent; errors say where it came from.
pub fn parse_live(xml: &str) -> anyhow::Result<Cib> {
    Cib::parse(xml).map_err(|e| match e {
        LoadError::Xml(e) => anyhow::anyhow!("{LIVE_CIB_NAME}:{e}"),
        e => anyhow::anyhow!("{LIVE_CIB_NAME}: {e}"),
    })
}

/// The `<configuration>` element of `cib`, as XML.
fn configuration_xml(cib: &Cib) -> anyhow::Result<String> {
    let doc = cib.document();
    let conf = doc
        .child_named(cib.root(), "configuration")
        .context("the new CIB has no <configuration> section")?;
    Ok(doc.node_to_pretty_string(conf))
}

/// Commits `new`'s configuration, made from `base`: refused if the live CIB is no longer at
/// `base`'s (admin_epoch, epoch). Returns the version the cluster gave the change.
pub fn commit(run_dir: &Path, base: &Cib, new: &Cib) -> anyhow::Result<Version> {
    let req = Request::CibCommit {
        base_admin_epoch: base.version.admin_epoch,
        base_epoch: base.version.epoch,
        configuration: configuration_xml(new)?,
    };
    change(run_dir, req, "commit")
}

/// Replaces the live configuration with `new`'s, taking its admin_epoch and epoch
/// (`cibadmin --replace`); refused if `new` is older than the live CIB.
pub fn replace(run_dir: &Path, new: &Cib) -> anyhow::Result<Version> {
    let req = Request::CibReplace { xml: new.to_xml() };
    change(run_dir, req, "replace")
}

fn change(run_dir: &Path, req: Request, what: &'static str) -> anyhow::Result<Version> {
    match call(run_dir, &req, LIVE_CHANGE_TIMEOUT)? {
        Response::Committed {
            admin_epoch,
            epoch,
            num_updates,
        } => Ok(Version {
            admin_epoch,
            epoch,
            num_updates,
        }),
        Response::Error { message } => Err(LiveRefused { what, message }.into()),
        r => Err(unexpected(&req, r)),
    }
}

/// Sets (`Some`) or deletes (`None`) a transient attribute of `node`.
pub fn attr_update(
    run_dir: &Path,
    node: &str,
    name: &str,
    value: Option<&str>,
) -> anyhow::Result<()> {
    let req = Request::AttrUpdate {
        node: node.to_string(),
        name: name.to_string(),
        value: value.map(str::to_string),
    };
    done(run_dir, req, "attribute update")
}

/// Clears the fail counts and failed operations of `resource` on `node` (all when `None`);
/// the cluster probes them again.
pub fn cleanup(run_dir: &Path, resource: Option<&str>, node: Option<&str>) -> anyhow::Result<()> {
    let req = Request::Cleanup {
        resource: resource.map(str::to_string),
        node: node.map(str::to_string),
    };
    done(run_dir, req, "cleanup")
}

fn done(run_dir: &Path, req: Request, what: &'static str) -> anyhow::Result<()> {
    match call(run_dir, &req, LIVE_CHANGE_TIMEOUT)? {
        Response::Done => Ok(()),
        Response::Error { message } => Err(LiveRefused { what, message }.into()),
        r => Err(unexpected(&req, r)),
    }
}

/// The CIB with the membership around it, for `status` and `mon`.
pub fn cluster_info(run_dir: &Path) -> anyhow::Result<ClusterInfo> {
    let req = Request::ClusterStatus;
    match call(run_dir, &req, IPC_TIMEOUT)? {
        Response::Cluster(info) => Ok(*info),
        Response::Error { message } => {
            bail!("the daemon cannot give the cluster status: {message}")
        }
        r => Err(unexpected(&req, r)),
    }
}

#[cfg(test)]
mod tests {
    //! Unit tests against a test double of the daemon socket: a thread that accepts one
    //! connection, checks the request line and writes a canned answer. The end-to-end checks
    //! with real daemons are in `tests/live.rs`.

    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;
    use std::path::PathBuf;

    struct FakeDaemon {
        dir: PathBuf,
        thread: Option<std::thread::JoinHandle<String>>,
    }

    impl FakeDaemon {
        /// Answers one request with `answer` (a `Response` as JSON); `request()` returns the
        /// request line it received.
        fn new(name: &str, answer: Response) -> FakeDaemon {
            let dir =
                std::env::temp_dir().join(format!("tandem-live-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let listener = UnixListener::bind(ipc::socket_path(&dir)).unwrap();
            let thread = std::thread::spawn(move || {
                let (s, _) = listener.accept().unwrap();
                let mut line = String::new();
                BufReader::new(&s).read_line(&mut line).unwrap();
                (&s).write_all(ipc::encode_response(answer).as_bytes())
                    .unwrap();
                line
            });
            FakeDaemon {
                dir,
                thread: Some(thread),
            }
        }

        fn request(&mut self) -> serde_json::Value {
            let line = self.thread.take().unwrap().join().unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            v["request"].clone()
        }
    }

    impl Drop for FakeDaemon {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    const CIB: &str = r#"<cib admin_epoch="1" epoch="7" num_updates="3"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>"#;

    #[test]
    fn unit_no_socket_is_no_cluster() {
        let dir = std::env::temp_dir().join(format!("tandem-live-none-{}", std::process::id()));
        let e = query(&dir).unwrap_err();
        assert!(e.downcast_ref::<NoCluster>().is_some(), "{e:#}");
    }

    #[test]
    fn unit_query_parses_the_answer() {
        let mut d = FakeDaemon::new("query", Response::Cib { xml: CIB.into() });
        let cib = query(&d.dir).unwrap();
        assert_eq!(cib.version.to_string(), "1.7.3");
        assert_eq!(d.request(), serde_json::json!({"type": "cib_query"}));
    }

    #[test]
    fn unit_commit_sends_base_version_and_configuration_only() {
        let mut d = FakeDaemon::new(
            "commit",
            Response::Committed {
                admin_epoch: 1,
                epoch: 8,
                num_updates: 0,
            },
        );
        let base = Cib::parse(CIB).unwrap();
        let new = Cib::parse(&CIB.replace("<resources/>", r#"<resources><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></resources>"#)).unwrap();
        let v = commit(&d.dir, &base, &new).unwrap();
        assert_eq!(v.to_string(), "1.8.0");
        let sent = d.request();
        assert_eq!(sent["type"], "cib_commit");
        assert_eq!(sent["base_admin_epoch"], 1);
        assert_eq!(sent["base_epoch"], 7);
        let conf = tandem_xml::Document::parse(sent["configuration"].as_str().unwrap()).unwrap();
        let doc = new.document();
        let new_conf = doc.child_named(new.root(), "configuration").unwrap();
        assert_eq!(conf.digest(), doc.node_digest(new_conf));
        assert_eq!(sent.as_object().unwrap().len(), 4, "{sent}");
    }

    #[test]
    fn unit_a_refusal_carries_the_daemons_reason() {
        let reason =
            "the CIB changed since it was read (epoch 1:7, now 1:8); run the command again";
        let d = FakeDaemon::new(
            "refused",
            Response::Error {
                message: reason.into(),
            },
        );
        let base = Cib::parse(CIB).unwrap();
        let e = commit(&d.dir, &base, &base).unwrap_err();
        let r = e.downcast_ref::<LiveRefused>().unwrap();
        assert!(r.is_version_conflict());
        assert_eq!(
            e.to_string(),
            format!("the cluster refused the commit: {reason}; nothing was changed")
        );
        let said = LiveRefused {
            what: "commit",
            message: "not valid; nothing was changed:\nerror: x".into(),
        };
        assert_eq!(
            said.to_string(),
            "the cluster refused the commit: not valid; nothing was changed:\nerror: x"
        );
    }

    #[test]
    fn unit_attr_update_and_cleanup_wire_shapes() {
        let mut d = FakeDaemon::new("attr", Response::Done);
        attr_update(&d.dir, "n1", "standby", None).unwrap();
        assert_eq!(
            d.request(),
            serde_json::json!({"type": "attr_update", "node": "n1", "name": "standby", "value": null})
        );
        drop(d);
        let mut d = FakeDaemon::new("cleanup", Response::Done);
        cleanup(&d.dir, Some("web"), None).unwrap();
        assert_eq!(
            d.request(),
            serde_json::json!({"type": "cleanup", "resource": "web", "node": null})
        );
    }

    #[test]
    fn unit_an_unexpected_answer_is_named() {
        let d = FakeDaemon::new("odd", Response::Done);
        let e = query(&d.dir).unwrap_err().to_string();
        assert_eq!(e, "the daemon answered a 'cib_query' request with Done");
    }
}
