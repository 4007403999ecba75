//! The sandbox's state file: where a running sandbox lives and which processes are its
//! daemons, so `tandem sandbox status` and `tandem sandbox down` find it from any terminal.
//!
//! One sandbox per user at a time. The file is `$XDG_RUNTIME_DIR/tandem-sandbox.json`, else
//! `/run/tandem-sandbox.json` for root, else `$TMPDIR/tandem-sandbox-UID.json`. It is
//! written atomically (temp file + rename) and removed by teardown.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use rustix::process::Signal;
use serde::{Deserialize, Serialize};

use crate::cluster::finish_teardown;
use crate::procs;

/// One node of a recorded cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub name: String,
    /// The daemon's pid when the record was written (`None`: not running then).
    pub pid: Option<u32>,
    pub run_dir: PathBuf,
    pub log: PathBuf,
    /// The network namespace the node runs in (`tandem sandbox --netns`).
    #[serde(default)]
    pub netns: Option<String>,
    /// The node's address on each link.
    #[serde(default)]
    pub addrs: Vec<Ipv4Addr>,
}

/// The network of a sandbox in network namespaces ([`crate::netns`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRecord {
    /// The namespaces' name prefix.
    pub prefix: String,
    /// Every namespace, in creation order (the switch first).
    pub namespaces: Vec<String>,
    pub switch_ns: String,
    pub client_ns: String,
    pub client_addr: Ipv4Addr,
    pub vip: Ipv4Addr,
    /// Where the web server answers (the VIP's port 80).
    pub web: SocketAddr,
    /// Links per node.
    pub links: usize,
}

/// A running sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub dir: PathBuf,
    /// Teardown removes `dir` itself (else only its contents: the user named it).
    pub created_dir: bool,
    /// The totem UDP port.
    pub port: u16,
    /// The `tandem sandbox` process that owns it (foreground), or that started it.
    pub owner_pid: u32,
    /// Left running by `--detach` (no process owns it).
    pub detached: bool,
    /// The web server's URL, when the sandbox configured one.
    pub http: Option<String>,
    pub nodes: Vec<NodeRecord>,
    /// The namespaces, when the sandbox runs in them.
    #[serde(default)]
    pub network: Option<NetworkRecord>,
}

/// Where the state file lives for this user.
pub fn record_path() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("tandem-sandbox.json");
    }
    let uid = rustix::process::getuid().as_raw();
    if uid == 0 {
        return PathBuf::from("/run/tandem-sandbox.json");
    }
    std::env::temp_dir().join(format!("tandem-sandbox-{uid}.json"))
}

impl Record {
    /// Writes the record to `path` atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(self).expect("records serialise");
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// The record at `path`, if there is one.
    pub fn load(path: &Path) -> anyhow::Result<Option<Record>> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .with_context(|| format!("{} is not a sandbox record", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Whether anything of the sandbox still runs (a daemon, or its owning process).
    pub fn alive(&self) -> bool {
        let owner = i32::try_from(self.owner_pid).is_ok_and(procs::alive);
        (!self.detached && owner) || !procs::marked(&self.dir, None).is_empty()
    }
}

/// Stops a recorded sandbox: SIGTERM to its daemons (only processes that carry the
/// sandbox's marker, so a recycled pid is never hit), SIGKILL after the grace time, every
/// other process of the sandbox killed, the directory removed, its network namespaces
/// (and whatever still runs in them) deleted.
pub fn teardown(r: &Record) -> anyhow::Result<()> {
    let marked = procs::marked(&r.dir, None);
    let daemons: Vec<i32> = r
        .nodes
        .iter()
        .filter_map(|n| n.pid.and_then(|p| i32::try_from(p).ok()))
        .filter(|p| marked.contains(p))
        .collect();
    procs::signal_marked(&r.dir, None, Signal::CONT);
    for &p in &daemons {
        procs::signal(p, Signal::TERM);
    }
    procs::wait_gone(&daemons, procs::STOP_GRACE);
    let files = if r.dir.exists() {
        finish_teardown(&r.dir, r.created_dir)
    } else {
        Ok(())
    };
    let mut net = Ok(());
    if let Some(n) = &r.network {
        for ns in n.namespaces.iter().rev() {
            if std::path::Path::new("/run/netns").join(ns).exists() {
                net = net.and(crate::netns::remove_ns(ns));
            }
        }
    }
    files.and(net)
}
