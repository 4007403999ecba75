//! The local IPC protocol between `tandem` commands and the daemon.
//!
//! A Unix stream socket `tandem.sock` in the run directory (mode 0660). One request per
//! connection: the client writes one JSON line, the daemon answers with one JSON line and
//! closes. Both carry `"version"`; the daemon refuses a newer major version with an error.
//!
//! [`Request`] and [`Response`] are internally tagged (`"type": "status"`) and append-only:
//! later issues add CIB, status and resource requests as new variants, and an older daemon
//! answers an unknown `type` with an error instead of failing to parse the envelope.

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
/// Largest request or response line accepted (a status reply is a few kilobytes).
pub const MAX_IPC_LINE: usize = 1 << 20;
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

/// What the daemon answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Status(Box<DaemonStatus>),
    Cmap { entries: Vec<CmapEntry> },
    Done,
    Bench(BenchResult),
    Error { message: String },
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
    let mut reader = BufReader::new(s).take(MAX_IPC_LINE as u64);
    let mut answer = String::new();
    reader
        .read_line(&mut answer)
        .context("waiting for the daemon's answer")?;
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
            decode_request(r#"{"version":1,"request":{"type":"cib_query"}}"#)
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
}
