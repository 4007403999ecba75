//! The local IPC protocol between `tandem` commands and the daemon.
//!
//! A Unix stream socket `tandem.sock` in the run directory (mode 0660). One request per
//! connection: the client writes one JSON line, the daemon answers with one JSON line and
//! closes. Both carry `"version"`; the daemon refuses a newer major version with an error.
//!
//! [`Request`] and [`Response`] are internally tagged (`"type": "status"`) and append-only:
//! later issues add requests as new variants, and an older daemon answers an unknown `type`
//! with an error instead of failing to parse the envelope.
//!
//! The cluster-manager requests carry whole CIBs (a query answer, a replace) or their
//! configuration section (a commit), so a line may be as long as [`MAX_IPC_LINE`]
//! (64 MiB); both sides read through a bounded reader and refuse longer lines.
//!
//! ```text
//! cib_query                                   -> cib { xml }  (whole CIB, status included)
//! cib_commit { base_admin_epoch, base_epoch,  -> committed { admin_epoch, epoch, num_updates }
//!              configuration }                   | error { message }  (stale base, invalid)
//! cib_replace { xml }                         -> committed | error    (lower version refused)
//! attr_update { node, name, value|null }      -> done | error         (transient attribute)
//! cleanup { resource|null, node|null }        -> done | error
//! cluster_status                              -> cluster { cib, local_node, dc, quorate, ... }
//! shutdown                                    -> done                 (resources move first)
//! ```

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tandem_totem::quorum::QuorumStatus;
use tandem_totem::{NodeId, Stats};

/// Protocol version spoken by this build.
pub const IPC_VERSION: u32 = 1;
/// Name of the socket in the run directory.
pub const SOCKET_NAME: &str = "tandem.sock";
/// Largest CIB a request or answer carries: a very large real CIB is tens of megabytes.
pub const MAX_CIB_IPC_BYTES: usize = 64 << 20;
/// Largest request or response line accepted. Most are a few kilobytes; CIB-carrying ones
/// (`cib_query`, `cib_replace`, `cib_commit`, `cluster_status`) up to [`MAX_CIB_IPC_BYTES`]
/// of XML, JSON-escaped, so the line limit leaves room for the escaping of quotes.
pub const MAX_IPC_LINE: usize = MAX_CIB_IPC_BYTES + MAX_CIB_IPC_BYTES / 4;
/// How long a client waits for the daemon (connect, send, answer).
pub const IPC_TIMEOUT: Duration = Duration::from_secs(10);

/// What a client asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Membership, quorum, links and counters.
    Status,
    /// `corosync-cmapctl`-style keys, optionally only those under a prefix.
    Cmap { prefix: Option<String> },
    /// `tandem quorum -e N`.
    SetExpectedVotes { votes: u32 },
    /// Ordered-broadcast benchmark run by the daemon: `count` messages of `size` bytes with
    /// at most `window` outstanding, latency measured to their own delivery.
    Bench {
        count: u64,
        size: usize,
        window: u64,
    },
    /// The whole CIB, status section included (`cibadmin --query`).
    CibQuery,
    /// Replace the configuration section. `configuration` is the XML of the
    /// `<configuration>` element; `base_*` the version it was edited from: the daemon
    /// refuses the commit, changing nothing, if the live `(admin_epoch, epoch)` differ, or
    /// if the new configuration does not load or does not verify. Answered once the change
    /// was delivered, applied and persisted locally.
    CibCommit {
        base_admin_epoch: u64,
        base_epoch: u64,
        configuration: String,
    },
    /// `cibadmin --replace`: the configuration and the `admin_epoch`/`epoch` of the given
    /// CIB become the live ones; refused if its version is lower than the live one.
    CibReplace { xml: String },
    /// Set (`Some`) or delete (`None`) a transient node attribute.
    AttrUpdate {
        node: String,
        name: String,
        value: Option<String>,
    },
    /// Clear fail counts and failed operations of `resource` (all when `None`) on `node`
    /// (all when `None`) and probe again.
    Cleanup {
        resource: Option<String>,
        node: Option<String>,
    },
    /// What `tandem status` shows: the CIB with the membership around it.
    ClusterStatus,
    /// Graceful stop: this node's resources move away, then the daemon exits.
    Shutdown,
}

impl Request {
    /// The request's `type` on the wire, for messages and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Cmap { .. } => "cmap",
            Request::SetExpectedVotes { .. } => "set_expected_votes",
            Request::Bench { .. } => "bench",
            Request::CibQuery => "cib_query",
            Request::CibCommit { .. } => "cib_commit",
            Request::CibReplace { .. } => "cib_replace",
            Request::AttrUpdate { .. } => "attr_update",
            Request::Cleanup { .. } => "cleanup",
            Request::ClusterStatus => "cluster_status",
            Request::Shutdown => "shutdown",
        }
    }
}

/// The envelope on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestEnvelope {
    pub version: u32,
    pub request: serde_json::Value,
}

/// One link to one peer, for `tandem links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerLink {
    pub node: NodeId,
    pub link: u8,
    pub connected: bool,
}

/// A member as `tandem quorum -l` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: NodeId,
    pub votes: u32,
    pub name: String,
}

/// Everything the tools print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub node_id: NodeId,
    pub cluster_name: String,
    pub ring: String,
    pub forming: bool,
    pub members: Vec<Member>,
    pub quorum: QuorumStatus,
    /// (link, local address) of this node.
    pub local_links: Vec<(u8, String)>,
    pub peer_links: Vec<PeerLink>,
    pub stats: Stats,
    pub transport: String,
}

/// One `key (type) = value` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmapEntry {
    pub key: String,
    pub kind: String,
    pub value: String,
}

/// Benchmark figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    pub messages: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub latency_us_p50: u64,
    pub latency_us_p99: u64,
    pub latency_us_max: u64,
}

/// Who changed the CIB last and the cluster as `tandem status` shows it: the node layer's
/// types, which are also the wire shape (one definition, no conversion).
pub use tandem_node::{ClusterInfo, LastChange};

/// What the daemon answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Status(Box<DaemonStatus>),
    Cmap {
        entries: Vec<CmapEntry>,
    },
    Done,
    Bench(BenchResult),
    Error {
        message: String,
    },
    /// Answer to `cib_query`: the whole CIB.
    Cib {
        xml: String,
    },
    /// A commit or replace took effect with this version.
    Committed {
        admin_epoch: u64,
        epoch: u64,
        num_updates: u64,
    },
    Cluster(Box<ClusterInfo>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResponseEnvelope {
    pub version: u32,
    pub response: Response,
}

/// Path of the socket in `run_dir`.
pub fn socket_path(run_dir: &Path) -> PathBuf {
    run_dir.join(SOCKET_NAME)
}

/// Sends one request to the daemon of `run_dir` and waits for its answer.
pub fn call(run_dir: &Path, req: &Request) -> anyhow::Result<Response> {
    call_with_timeout(run_dir, req, IPC_TIMEOUT)
}

/// [`call`] with an explicit timeout (benchmarks run longer).
pub fn call_with_timeout(
    run_dir: &Path,
    req: &Request,
    timeout: Duration,
) -> anyhow::Result<Response> {
    use anyhow::Context;
    let path = socket_path(run_dir);
    let mut s = UnixStream::connect(&path).with_context(|| {
        format!("cannot connect to the tandem daemon at {} (is it running? --run-dir / TANDEM_RUN_DIR choose which)", path.display())
    })?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let env = RequestEnvelope {
        version: IPC_VERSION,
        request: serde_json::to_value(req)?,
    };
    let mut line = serde_json::to_string(&env)?;
    line.push('\n');
    s.write_all(line.as_bytes())
        .context("sending the request")?;
    let mut reader = BufReader::new(s).take(MAX_IPC_LINE as u64 + 1);
    let mut answer = String::new();
    reader
        .read_line(&mut answer)
        .context("waiting for the daemon's answer")?;
    if answer.len() > MAX_IPC_LINE {
        anyhow::bail!("the daemon's answer is longer than the {MAX_IPC_LINE} bytes accepted");
    }
    let env: ResponseEnvelope = serde_json::from_str(&answer)
        .with_context(|| format!("malformed answer from the daemon: {answer:.200}"))?;
    Ok(env.response)
}

use std::io::Read as _;

/// Decodes a request line (daemon side): version check, then the tagged request.
pub fn decode_request(line: &str) -> Result<Request, String> {
    let env: RequestEnvelope =
        serde_json::from_str(line).map_err(|e| format!("malformed request: {e}"))?;
    if env.version > IPC_VERSION {
        return Err(format!(
            "request version {} is newer than this daemon's {IPC_VERSION}; upgrade the daemon",
            env.version
        ));
    }
    serde_json::from_value(env.request).map_err(|e| format!("unknown or malformed request: {e}"))
}

/// Encodes a response line (daemon side), newline included.
pub fn encode_response(r: Response) -> String {
    let mut s = serde_json::to_string(&ResponseEnvelope {
        version: IPC_VERSION,
        response: r,
    })
    .expect("responses always serialise");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_tagged_and_versioned() {
        let env = RequestEnvelope {
            version: 1,
            request: serde_json::to_value(Request::Cmap { prefix: None }).unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&env).unwrap(),
            r#"{"version":1,"request":{"prefix":null,"type":"cmap"}}"#
        );
        assert_eq!(
            decode_request(r#"{"version":1,"request":{"type":"status"}}"#),
            Ok(Request::Status)
        );
        assert!(
            decode_request(r#"{"version":1,"request":{"type":"cib_frobnicate"}}"#)
                .unwrap_err()
                .starts_with("unknown or malformed request")
        );
        assert!(
            decode_request(r#"{"version":9,"request":{"type":"status"}}"#)
                .unwrap_err()
                .contains("newer")
        );
        assert_eq!(
            encode_response(Response::Done),
            "{\"version\":1,\"response\":{\"type\":\"done\"}}\n"
        );
    }

    fn request_json(r: &Request) -> String {
        serde_json::to_string(r).unwrap()
    }

    fn response_json(r: &Response) -> String {
        serde_json::to_string(r).unwrap()
    }

    #[test]
    fn cib_requests_wire_shape() {
        let cases = [
            (Request::CibQuery, r#"{"type":"cib_query"}"#),
            (
                Request::CibCommit {
                    base_admin_epoch: 0,
                    base_epoch: 7,
                    configuration: "<configuration/>".into(),
                },
                r#"{"type":"cib_commit","base_admin_epoch":0,"base_epoch":7,"configuration":"<configuration/>"}"#,
            ),
            (
                Request::CibReplace {
                    xml: "<cib epoch=\"3\"/>".into(),
                },
                r#"{"type":"cib_replace","xml":"<cib epoch=\"3\"/>"}"#,
            ),
            (
                Request::AttrUpdate {
                    node: "node1".into(),
                    name: "standby".into(),
                    value: Some("on".into()),
                },
                r#"{"type":"attr_update","node":"node1","name":"standby","value":"on"}"#,
            ),
            (
                Request::AttrUpdate {
                    node: "node1".into(),
                    name: "standby".into(),
                    value: None,
                },
                r#"{"type":"attr_update","node":"node1","name":"standby","value":null}"#,
            ),
            (
                Request::Cleanup {
                    resource: Some("web".into()),
                    node: None,
                },
                r#"{"type":"cleanup","resource":"web","node":null}"#,
            ),
            (Request::ClusterStatus, r#"{"type":"cluster_status"}"#),
            (Request::Shutdown, r#"{"type":"shutdown"}"#),
        ];
        for (req, json) in cases {
            assert_eq!(request_json(&req), json);
            assert!(json.starts_with(&format!(r#"{{"type":"{}""#, req.name())));
            let line = format!(r#"{{"version":1,"request":{json}}}"#);
            assert_eq!(decode_request(&line), Ok(req));
        }
    }

    #[test]
    fn cib_responses_wire_shape() {
        let info = ClusterInfo {
            cib: "<cib/>".into(),
            local_node: "node1".into(),
            dc: Some("node2".into()),
            quorate: true,
            members: vec!["node1".into(), "node2".into()],
            ring: "1.10".into(),
            last_change: Some(LastChange {
                epoch_s: 1_700_000_000,
                user: "root".into(),
                client: "cibadmin".into(),
                origin_node: "node1".into(),
            }),
            transition_active: false,
        };
        let cases = [
            (
                Response::Cib {
                    xml: "<cib/>".into(),
                },
                r#"{"type":"cib","xml":"<cib/>"}"#,
            ),
            (
                Response::Committed {
                    admin_epoch: 0,
                    epoch: 8,
                    num_updates: 0,
                },
                r#"{"type":"committed","admin_epoch":0,"epoch":8,"num_updates":0}"#,
            ),
            (
                Response::Cluster(Box::new(info)),
                concat!(
                    r#"{"type":"cluster","cib":"<cib/>","local_node":"node1","dc":"node2","#,
                    r#""quorate":true,"members":["node1","node2"],"ring":"1.10","#,
                    r#""last_change":{"epoch_s":1700000000,"user":"root","client":"cibadmin","origin_node":"node1"},"#,
                    r#""transition_active":false}"#
                ),
            ),
        ];
        for (resp, json) in cases {
            assert_eq!(response_json(&resp), json);
            assert_eq!(serde_json::from_str::<Response>(json).unwrap(), resp);
        }
    }

    #[test]
    fn a_cib_sized_line_fits_the_limit() {
        // Worst realistic escaping: every byte of a maximal CIB a quote would double it, but
        // CIB XML is mostly names and values; a quote every 8 bytes grows it by 1/8.
        let xml = "<a b=\"c\"/>".repeat(MAX_CIB_IPC_BYTES / 10);
        let line = encode_response(Response::Cib { xml: xml.clone() });
        assert!(xml.len() <= MAX_CIB_IPC_BYTES);
        assert!(
            line.len() <= MAX_IPC_LINE,
            "{} > {MAX_IPC_LINE}",
            line.len()
        );
    }
}
