//! Everything read before the event loop starts: paths, corosync.conf, the authkey, which
//! node we are, peer addresses, and the persisted ring sequence.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use tandem_totem::NodeId;
use tandem_totem::authkey::AuthKey;
use tandem_totem::config::ClusterConfig;

/// Where the daemon reads and writes. Every path can be set, so several daemons run side by
/// side on one machine.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    pub config: Option<PathBuf>,
    pub authkey: Option<PathBuf>,
    pub state_dir: PathBuf,
    pub run_dir: PathBuf,
    pub node_id: Option<NodeId>,
    /// Where OCF agents live (`resource.d/PROVIDER/TYPE`); `None`: `/usr/lib/ocf`.
    pub ocf_root: Option<PathBuf>,
    /// Ask for realtime scheduling (`SCHED_RR`, as Corosync does; see `realtime`).
    pub realtime: bool,
    /// Agents the executor may run in this process rather than as children
    /// ([`tandem_exec::inproc`]): the binary's own built-in agents.
    pub in_process: Option<Arc<dyn tandem_exec::InProcess>>,
}

pub const DEFAULT_CONFIG: &str = "/etc/tandem/corosync.conf";
pub const DEFAULT_AUTHKEY: &str = "/etc/tandem/authkey";
pub const COROSYNC_CONFIG: &str = "/etc/corosync/corosync.conf";
pub const COROSYNC_AUTHKEY: &str = "/etc/corosync/authkey";
pub const DEFAULT_STATE_DIR: &str = "/var/lib/tandem";
pub const DEFAULT_RUN_DIR: &str = "/run/tandem";

/// `given`, else the Tandem default, else Corosync's file if only that exists.
fn pick(given: &Option<PathBuf>, ours: &str, corosync: &str) -> PathBuf {
    if let Some(p) = given {
        return p.clone();
    }
    if !Path::new(ours).exists() && Path::new(corosync).exists() {
        return PathBuf::from(corosync);
    }
    PathBuf::from(ours)
}

/// The loaded pieces.
pub struct Setup {
    pub config_path: PathBuf,
    pub cfg: ClusterConfig,
    pub authkey: AuthKey,
    pub me: NodeId,
    /// (node, link) → address.
    pub addrs: BTreeMap<(NodeId, u8), SocketAddr>,
    pub ring_seq_file: PathBuf,
    pub persisted_ring_seq: u64,
}

pub fn load(opts: &DaemonOptions) -> anyhow::Result<Setup> {
    let config_path = pick(&opts.config, DEFAULT_CONFIG, COROSYNC_CONFIG);
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read configuration {}", config_path.display()))?;
    let cfg = ClusterConfig::from_text(&config_path.display().to_string(), &text)?;
    cfg.check_runnable()?;
    let key_path = pick(&opts.authkey, DEFAULT_AUTHKEY, COROSYNC_AUTHKEY);
    let key_bytes = std::fs::read(&key_path)
        .with_context(|| format!("cannot read authkey {}", key_path.display()))?;
    let authkey = AuthKey::from_bytes(key_bytes, &key_path.display().to_string())?;
    let addrs = resolve(&cfg)?;
    let me = match opts.node_id {
        Some(id) => {
            if cfg.node(id).is_none() {
                bail!(
                    "--node-id {id}: no node with that nodeid in {}",
                    config_path.display()
                );
            }
            id
        }
        None => find_me(&cfg, &addrs)?,
    };
    std::fs::create_dir_all(&opts.state_dir)
        .with_context(|| format!("cannot create state directory {}", opts.state_dir.display()))?;
    let ring_seq_file = opts.state_dir.join(format!("ringid_{me}"));
    let persisted_ring_seq = match std::fs::read_to_string(&ring_seq_file) {
        Ok(s) => s
            .trim()
            .parse()
            .with_context(|| format!("{} is corrupt", ring_seq_file.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", ring_seq_file.display()));
        }
    };
    Ok(Setup {
        config_path,
        cfg,
        authkey,
        me,
        addrs,
        ring_seq_file,
        persisted_ring_seq,
    })
}

/// Resolves every `ringN_addr` (IP or host name) with its link's port.
fn resolve(cfg: &ClusterConfig) -> anyhow::Result<BTreeMap<(NodeId, u8), SocketAddr>> {
    use std::net::ToSocketAddrs;
    let mut out = BTreeMap::new();
    for n in &cfg.nodes {
        for (link, a) in &n.addrs {
            let port = cfg.port(*link);
            let addr = match a.parse::<IpAddr>() {
                Ok(ip) => SocketAddr::new(ip, port),
                Err(_) => (a.as_str(), port)
                    .to_socket_addrs()
                    .with_context(|| {
                        format!("node {}: cannot resolve ring{link}_addr '{a}'", n.nodeid)
                    })?
                    .next()
                    .with_context(|| {
                        format!("node {}: ring{link}_addr '{a}' has no address", n.nodeid)
                    })?,
            };
            out.insert((n.nodeid, *link), addr);
        }
    }
    Ok(out)
}

/// Which node are we: the `name` equal to the host name, else the one node whose ring0
/// address is local (bindable).
fn find_me(
    cfg: &ClusterConfig,
    addrs: &BTreeMap<(NodeId, u8), SocketAddr>,
) -> anyhow::Result<NodeId> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = host.trim();
    let short = host.split('.').next().unwrap_or(host);
    if let Some(n) = cfg
        .nodes
        .iter()
        .find(|n| n.name.as_deref().is_some_and(|m| m == host || m == short))
    {
        return Ok(n.nodeid);
    }
    let local: Vec<NodeId> = cfg
        .nodes
        .iter()
        .filter(|n| {
            addrs
                .get(&(n.nodeid, 0))
                .is_some_and(|a| UdpSocket::bind(SocketAddr::new(a.ip(), 0)).is_ok())
        })
        .map(|n| n.nodeid)
        .collect();
    match local.as_slice() {
        [one] => Ok(*one),
        [] => bail!(
            "this host is none of the nodelist's nodes (no name matches '{host}', no ring0_addr is local); pass --node-id"
        ),
        many => bail!(
            "several nodelist nodes have local addresses ({many:?}, e.g. 127.0.0.x); pass --node-id"
        ),
    }
}

/// Records the highest ring sequence durably (see [`crate::durable`]).
pub fn persist_ring_seq(path: &Path, seq: u64) -> std::io::Result<()> {
    crate::durable::replace_via(
        &path.with_extension("tmp"),
        path,
        format!("{seq}\n").as_bytes(),
    )
}
