//! Typed corosync.conf options, with Corosync's names, and the conflicts votequorum refuses.

use std::collections::BTreeMap;

use super::parse::{Entry, Section, parse};
use super::timing::Timing;
use super::{ConfigError, ConfigWarning};
use crate::NodeId;

/// Links per node pair (knet's limit, `ring0_addr`..`ring7_addr`).
pub const MAX_LINKS: usize = 8;
/// Nodes in one cluster. Corosync/knet allow 32 hosts with knet; we keep that number so
/// every buffer sized per node stays small.
pub const MAX_NODES: usize = 32;

/// `link_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkMode {
    /// Send on the best live link (highest `knet_link_priority`, ties to the lowest link id).
    #[default]
    Passive,
    /// Send on every live link.
    Active,
    /// Round robin: we treat it like `active` (every live link), which only costs bandwidth.
    Rr,
}

/// One `interface { }` block of `totem`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interface {
    pub linknumber: u8,
    pub mcastport: Option<u16>,
    pub knet_link_priority: Option<u8>,
    pub knet_ping_interval_ms: Option<u64>,
    pub knet_ping_timeout_ms: Option<u64>,
    pub knet_pong_count: Option<u64>,
    pub bindnetaddr: Option<String>,
}

/// The `totem { }` section. `None` means "not set, use the default" so derived values stay
/// exactly Corosync's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TotemOptions {
    pub cluster_name: Option<String>,
    pub transport: Option<String>,
    pub crypto_cipher: Option<String>,
    pub crypto_hash: Option<String>,
    pub secauth: Option<bool>,
    pub keyfile: Option<String>,
    pub link_mode: LinkMode,
    pub token_ms: Option<u64>,
    pub token_coefficient_ms: Option<u64>,
    pub token_retransmits_before_loss_const: Option<u64>,
    pub token_retransmit_ms: Option<u64>,
    pub hold_ms: Option<u64>,
    pub consensus_ms: Option<u64>,
    pub join_ms: Option<u64>,
    pub send_join_ms: Option<u64>,
    pub merge_ms: Option<u64>,
    pub downcheck_ms: Option<u64>,
    pub fail_recv_const: Option<u64>,
    pub seqno_unchanged_const: Option<u64>,
    pub max_network_delay_ms: Option<u64>,
    pub window_size: Option<u64>,
    pub max_messages: Option<u64>,
    pub miss_count_const: Option<u64>,
    pub token_warning: Option<u64>,
    pub config_version: u64,
    pub interfaces: BTreeMap<u8, Interface>,
}

/// One `node { }` of the nodelist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    pub nodeid: NodeId,
    pub name: Option<String>,
    /// `ringN_addr` by link number: an IP address or a host name (resolved by the driver).
    pub addrs: BTreeMap<u8, String>,
    pub quorum_votes: u32,
    pub line: usize,
}

impl NodeEntry {
    /// Pacemaker's node name: `name`, else `ring0_addr`.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.addrs.get(&0).cloned())
            .unwrap_or_else(|| format!("node{}", self.nodeid))
    }
}

/// `auto_tie_breaker_node`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AtbNode {
    #[default]
    Lowest,
    Highest,
    /// The first of these node ids that is present wins.
    List(Vec<NodeId>),
}

/// The `quorum { }` section after votequorum's own conflict rules were applied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuorumOptions {
    /// `provider: corosync_votequorum` enables quorum; without it every partition is quorate.
    pub enabled: bool,
    pub expected_votes: Option<u32>,
    pub two_node: bool,
    pub wait_for_all: bool,
    pub last_man_standing: bool,
    pub last_man_standing_window_ms: u64,
    pub auto_tie_breaker: bool,
    pub auto_tie_breaker_node: AtbNode,
    /// `quorum.votes`, this node's votes when there is no nodelist entry for it.
    pub votes: Option<u32>,
}

/// The `logging { }` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggingOptions {
    pub to_stderr: bool,
    pub to_logfile: bool,
    pub to_syslog: bool,
    pub logfile: Option<String>,
    pub timestamp: bool,
    /// `timestamp: hires`: log times to the millisecond.
    pub timestamp_hires: bool,
    pub debug: bool,
}

impl Default for LoggingOptions {
    fn default() -> Self {
        LoggingOptions {
            to_stderr: true,
            to_logfile: false,
            to_syslog: true,
            logfile: None,
            timestamp: true,
            timestamp_hires: false,
            debug: false,
        }
    }
}

/// A whole corosync.conf, typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterConfig {
    /// Where it was read from (for messages).
    pub file: String,
    pub totem: TotemOptions,
    pub nodes: Vec<NodeEntry>,
    pub quorum: QuorumOptions,
    pub logging: LoggingOptions,
    pub warnings: Vec<ConfigWarning>,
}

struct Reader {
    file: String,
    warnings: Vec<ConfigWarning>,
}

impl Reader {
    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(ConfigWarning {
            file: self.file.clone(),
            line,
            message,
        });
    }

    fn bad(&self, e: &Entry, section: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Value {
            file: self.file.clone(),
            line: e.line,
            section: section.to_string(),
            key: e.key.clone(),
            message: message.into(),
        }
    }

    fn num<T: std::str::FromStr>(&self, e: &Entry, section: &str) -> Result<T, ConfigError> {
        e.value.trim().parse::<T>().map_err(|_| {
            self.bad(
                e,
                section,
                format!("expected a non-negative integer, got '{}'", e.value),
            )
        })
    }

    fn flag(&self, e: &Entry, section: &str) -> Result<bool, ConfigError> {
        match e.value.trim() {
            "1" | "yes" | "on" | "true" => Ok(true),
            "0" | "no" | "off" | "false" => Ok(false),
            v => Err(self.bad(
                e,
                section,
                format!("expected yes/no, on/off or 1/0, got '{v}'"),
            )),
        }
    }
}

/// Options we read but that change nothing for Tandem (knet internals, multicast, IPC tuning).
const TOTEM_ACCEPTED: &[&str] = &[
    "version",
    "crypto_model",
    "key",
    "ip_version",
    "netmtu",
    "knet_mtu",
    "knet_pmtud_interval",
    "knet_compression_model",
    "knet_compression_threshold",
    "knet_compression_level",
    "block_unlisted_ips",
    "cancel_token_hold_on_retransmit",
    "clear_node_high_bit",
    "ip_dscp",
    "heartbeat_failures_allowed",
    "nodeid",
    "rrp_mode",
    "threads",
    "vsftype",
    "max_network_delay",
];
const INTERFACE_ACCEPTED: &[&str] = &[
    "knet_ping_precision",
    "knet_transport",
    "mcastaddr",
    "broadcast",
    "ttl",
];
const LOGGING_ACCEPTED: &[&str] = &[
    "fileline",
    "function_name",
    "blackbox",
    "syslog_facility",
    "syslog_priority",
    "logfile_priority",
    "timestamp_format",
    "to_logfile",
    "to_syslog",
];

impl ClusterConfig {
    /// Reads corosync.conf text. `file` names the source in errors and warnings.
    pub fn from_text(file: &str, text: &str) -> Result<ClusterConfig, ConfigError> {
        let root = parse(file, text)?;
        let mut r = Reader {
            file: file.to_string(),
            warnings: Vec::new(),
        };
        let mut cfg = ClusterConfig {
            file: file.to_string(),
            ..ClusterConfig::default()
        };
        for e in &root.entries {
            r.warn(
                e.line,
                format!("option '{}' outside any section ignored", e.key),
            );
        }
        for s in &root.sections {
            match s.name.as_str() {
                "totem" => cfg.totem = read_totem(&mut r, s)?,
                "nodelist" => cfg.nodes.extend(read_nodelist(&mut r, s)?),
                "quorum" => cfg.quorum = read_quorum(&mut r, s)?,
                "logging" => cfg.logging = read_logging(&mut r, s)?,
                "system" | "resources" | "nozzle" | "uidgid" => {}
                "service" | "aisexec" | "amf" => r.warn(
                    s.line,
                    format!(
                        "section '{}' is from Corosync 1.x/OpenAIS and is ignored",
                        s.name
                    ),
                ),
                other => r.warn(s.line, format!("unknown section '{other}' ignored")),
            }
        }
        check_nodes(&r, &cfg.nodes)?;
        apply_quorum_rules(&mut r, &mut cfg)?;
        cfg.warnings = r.warnings;
        Ok(cfg)
    }

    /// Derived timeouts for this configuration.
    pub fn timing(&self) -> Timing {
        Timing::derive(&self.totem, self.nodes.len())
    }

    /// `totem.cluster_name`, or Corosync's fallback name.
    pub fn cluster_name(&self) -> &str {
        self.totem.cluster_name.as_deref().unwrap_or("tandem")
    }

    pub fn node(&self, id: NodeId) -> Option<&NodeEntry> {
        self.nodes.iter().find(|n| n.nodeid == id)
    }

    /// Links configured: the `ringN_addr` numbers used by any node.
    pub fn links(&self) -> Vec<u8> {
        let mut l: Vec<u8> = self
            .nodes
            .iter()
            .flat_map(|n| n.addrs.keys().copied())
            .collect();
        l.sort_unstable();
        l.dedup();
        l
    }

    /// UDP port of a link: the interface's `mcastport`, else 5405 + link number.
    pub fn port(&self, link: u8) -> u16 {
        self.totem
            .interfaces
            .get(&link)
            .and_then(|i| i.mcastport)
            .unwrap_or(5405 + u16::from(link))
    }

    /// What a daemon additionally needs: a nodelist.
    pub fn check_runnable(&self) -> Result<(), ConfigError> {
        if self.nodes.is_empty() {
            return Err(ConfigError::Invalid {
                file: self.file.clone(),
                message: "no nodelist: Tandem sends unicast to the nodes of a 'nodelist { node { ring0_addr: ... nodeid: ... } }' section".into(),
            });
        }
        Ok(())
    }
}

fn read_totem(r: &mut Reader, s: &Section) -> Result<TotemOptions, ConfigError> {
    let mut t = TotemOptions::default();
    for e in &s.entries {
        let ms = |r: &Reader| r.num::<u64>(e, "totem").map(Some);
        match e.key.as_str() {
            "cluster_name" => t.cluster_name = Some(e.value.clone()),
            "transport" => {
                match e.value.as_str() {
                    "knet" | "udpu" => {}
                    "udp" => r.warn(e.line, "transport 'udp' (multicast): Tandem sends unicast UDP to every node of the nodelist".into()),
                    v => return Err(r.bad(e, "totem", format!("expected knet, udpu or udp, got '{v}'"))),
                }
                t.transport = Some(e.value.clone());
            }
            "crypto_cipher" => t.crypto_cipher = Some(e.value.clone()),
            "crypto_hash" => t.crypto_hash = Some(e.value.clone()),
            "secauth" => t.secauth = Some(r.flag(e, "totem")?),
            "keyfile" => t.keyfile = Some(e.value.clone()),
            "link_mode" => {
                t.link_mode = match e.value.as_str() {
                    "passive" => LinkMode::Passive,
                    "active" => LinkMode::Active,
                    "rr" => LinkMode::Rr,
                    v => {
                        return Err(r.bad(
                            e,
                            "totem",
                            format!("expected passive, active or rr, got '{v}'"),
                        ));
                    }
                }
            }
            "token" => t.token_ms = ms(r)?,
            "token_coefficient" => t.token_coefficient_ms = ms(r)?,
            "token_retransmits_before_loss_const" => t.token_retransmits_before_loss_const = ms(r)?,
            "token_retransmit" => t.token_retransmit_ms = ms(r)?,
            "hold" => t.hold_ms = ms(r)?,
            "consensus" => t.consensus_ms = ms(r)?,
            "join" => t.join_ms = ms(r)?,
            "send_join" => t.send_join_ms = ms(r)?,
            "merge" => t.merge_ms = ms(r)?,
            "downcheck" => t.downcheck_ms = ms(r)?,
            "fail_recv_const" => t.fail_recv_const = ms(r)?,
            "seqno_unchanged_const" => t.seqno_unchanged_const = ms(r)?,
            "window_size" => t.window_size = ms(r)?,
            "max_messages" => t.max_messages = ms(r)?,
            "miss_count_const" => t.miss_count_const = ms(r)?,
            "token_warning" => t.token_warning = ms(r)?,
            "config_version" => t.config_version = r.num(e, "totem")?,
            k if TOTEM_ACCEPTED.contains(&k) => {
                if k == "version" && e.value.trim() != "2" {
                    return Err(r.bad(
                        e,
                        "totem",
                        format!("only version 2 exists, got '{}'", e.value),
                    ));
                }
                if k == "max_network_delay" {
                    t.max_network_delay_ms = ms(r)?;
                }
            }
            k => r.warn(e.line, format!("unknown option 'totem.{k}' ignored")),
        }
    }
    if t.token_ms == Some(0) {
        let e = s.get("token").expect("token was set");
        return Err(r.bad(e, "totem", "token must be greater than 0"));
    }
    if t.secauth == Some(false) || t.crypto_cipher.as_deref() == Some("none") {
        r.warn(s.line, "encryption off in totem: Tandem always authenticates and encrypts packets with the authkey (XChaCha20-Poly1305)".into());
    }
    for sub in &s.sections {
        match sub.name.as_str() {
            "interface" => {
                let i = read_interface(r, sub)?;
                t.interfaces.insert(i.linknumber, i);
            }
            other => r.warn(sub.line, format!("unknown section 'totem.{other}' ignored")),
        }
    }
    if let (Some(c), Some(j)) = (t.consensus_ms, t.join_ms)
        && c <= j
    {
        let e = s.get("consensus").expect("consensus was set");
        return Err(r.bad(
            e,
            "totem",
            format!("consensus ({c} ms) must be greater than join ({j} ms)"),
        ));
    }
    Ok(t)
}

fn read_interface(r: &mut Reader, s: &Section) -> Result<Interface, ConfigError> {
    let mut i = Interface::default();
    for e in &s.entries {
        let sec = "totem.interface";
        match e.key.as_str() {
            "linknumber" | "ringnumber" => {
                let n: u8 = r.num(e, sec)?;
                if usize::from(n) >= MAX_LINKS {
                    return Err(r.bad(e, sec, format!("link numbers are 0..{}", MAX_LINKS - 1)));
                }
                i.linknumber = n;
            }
            "mcastport" => i.mcastport = Some(r.num(e, sec)?),
            "knet_link_priority" => i.knet_link_priority = Some(r.num(e, sec)?),
            "knet_ping_interval" => i.knet_ping_interval_ms = Some(r.num(e, sec)?),
            "knet_ping_timeout" => i.knet_ping_timeout_ms = Some(r.num(e, sec)?),
            "knet_pong_count" => i.knet_pong_count = Some(r.num(e, sec)?),
            "bindnetaddr" => i.bindnetaddr = Some(e.value.clone()),
            k if INTERFACE_ACCEPTED.contains(&k) => {}
            k => r.warn(
                e.line,
                format!("unknown option 'totem.interface.{k}' ignored"),
            ),
        }
    }
    Ok(i)
}

fn read_nodelist(r: &mut Reader, s: &Section) -> Result<Vec<NodeEntry>, ConfigError> {
    let mut nodes = Vec::new();
    for e in &s.entries {
        r.warn(
            e.line,
            format!("option 'nodelist.{}' outside a node section ignored", e.key),
        );
    }
    for sub in &s.sections {
        if sub.name != "node" {
            r.warn(
                sub.line,
                format!("unknown section 'nodelist.{}' ignored", sub.name),
            );
            continue;
        }
        let sec = "nodelist.node";
        let mut id: Option<NodeId> = None;
        let mut node = NodeEntry {
            nodeid: 0,
            name: None,
            addrs: BTreeMap::new(),
            quorum_votes: 1,
            line: sub.line,
        };
        for e in &sub.entries {
            match e.key.as_str() {
                "nodeid" => {
                    let v: NodeId = r.num(e, sec)?;
                    if v == 0 {
                        return Err(r.bad(e, sec, "nodeid 0 is reserved"));
                    }
                    id = Some(v);
                }
                "name" => node.name = Some(e.value.clone()),
                "quorum_votes" => node.quorum_votes = r.num(e, sec)?,
                k if k.starts_with("ring") && k.ends_with("_addr") => {
                    let n: u8 = k[4..k.len() - 5]
                        .parse()
                        .map_err(|_| r.bad(e, sec, "expected ring0_addr .. ring7_addr"))?;
                    if usize::from(n) >= MAX_LINKS {
                        return Err(r.bad(
                            e,
                            sec,
                            format!("links are ring0_addr .. ring{}_addr", MAX_LINKS - 1),
                        ));
                    }
                    node.addrs.insert(n, e.value.clone());
                }
                k => r.warn(
                    e.line,
                    format!("unknown option 'nodelist.node.{k}' ignored"),
                ),
            }
        }
        node.nodeid = match id {
            Some(id) => id,
            // Corosync (udpu) derives a missing nodeid from the IPv4 address of ring0.
            None => match node
                .addrs
                .get(&0)
                .and_then(|a| a.parse::<std::net::Ipv4Addr>().ok())
            {
                Some(ip) => u32::from(ip),
                None => {
                    return Err(ConfigError::Invalid {
                        file: r.file.clone(),
                        message: format!(
                            "nodelist.node at line {}: nodeid is required (ring0_addr is not an IPv4 address to derive it from)",
                            sub.line
                        ),
                    });
                }
            },
        };
        if node.addrs.is_empty() {
            return Err(ConfigError::Invalid {
                file: r.file.clone(),
                message: format!("nodelist.node at line {}: ring0_addr is required", sub.line),
            });
        }
        nodes.push(node);
    }
    Ok(nodes)
}

fn check_nodes(r: &Reader, nodes: &[NodeEntry]) -> Result<(), ConfigError> {
    if nodes.len() > MAX_NODES {
        return Err(ConfigError::Invalid {
            file: r.file.clone(),
            message: format!(
                "{} nodes in the nodelist; at most {MAX_NODES} are supported",
                nodes.len()
            ),
        });
    }
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[..i] {
            if a.nodeid == b.nodeid {
                return Err(ConfigError::Invalid {
                    file: r.file.clone(),
                    message: format!(
                        "nodeid {} appears twice in the nodelist (lines {} and {})",
                        a.nodeid, b.line, a.line
                    ),
                });
            }
            if a.name.is_some() && a.name == b.name {
                return Err(ConfigError::Invalid {
                    file: r.file.clone(),
                    message: format!(
                        "node name '{}' appears twice in the nodelist (lines {} and {})",
                        a.display_name(),
                        b.line,
                        a.line
                    ),
                });
            }
        }
    }
    Ok(())
}

fn read_quorum(r: &mut Reader, s: &Section) -> Result<QuorumOptions, ConfigError> {
    let mut q = QuorumOptions {
        last_man_standing_window_ms: 10_000,
        ..QuorumOptions::default()
    };
    let sec = "quorum";
    let mut wfa: Option<bool> = None;
    for e in &s.entries {
        match e.key.as_str() {
            "provider" => match e.value.as_str() {
                "corosync_votequorum" => q.enabled = true,
                v => {
                    return Err(r.bad(
                        e,
                        sec,
                        format!("the only quorum provider is corosync_votequorum, got '{v}'"),
                    ));
                }
            },
            "expected_votes" => q.expected_votes = Some(r.num(e, sec)?),
            "votes" => q.votes = Some(r.num(e, sec)?),
            "two_node" => q.two_node = r.flag(e, sec)?,
            "wait_for_all" => wfa = Some(r.flag(e, sec)?),
            "last_man_standing" => q.last_man_standing = r.flag(e, sec)?,
            "last_man_standing_window" => q.last_man_standing_window_ms = r.num(e, sec)?,
            "auto_tie_breaker" => q.auto_tie_breaker = r.flag(e, sec)?,
            "auto_tie_breaker_node" => {
                q.auto_tie_breaker_node = match e.value.trim() {
                    "lowest" => AtbNode::Lowest,
                    "highest" => AtbNode::Highest,
                    list => {
                        let ids: Result<Vec<NodeId>, _> =
                            list.split_whitespace().map(str::parse).collect();
                        match ids {
                            Ok(ids) if !ids.is_empty() => AtbNode::List(ids),
                            _ => return Err(r.bad(
                                e,
                                sec,
                                format!(
                                    "expected lowest, highest or a list of node ids, got '{list}'"
                                ),
                            )),
                        }
                    }
                }
            }
            "allow_downscale" | "expected_votes_tracking" => {
                if r.flag(e, sec)? {
                    r.warn(
                        e.line,
                        format!("quorum.{} is not supported by Tandem and is ignored", e.key),
                    );
                }
            }
            k => r.warn(e.line, format!("unknown option 'quorum.{k}' ignored")),
        }
    }
    // two_node turns wait_for_all on unless it is explicitly 0 (votequorum.5).
    q.wait_for_all = wfa.unwrap_or(q.two_node);
    if let Some(dev) = s.sections_named("device").next() {
        if q.two_node || q.auto_tie_breaker || q.last_man_standing {
            return Err(ConfigError::Invalid {
                file: r.file.clone(),
                message: format!(
                    "quorum.device (line {}) cannot be combined with two_node, auto_tie_breaker or last_man_standing",
                    dev.line
                ),
            });
        }
        r.warn(
            dev.line,
            "quorum.device (qdevice) is not supported by Tandem yet and is ignored".into(),
        );
    }
    for sub in s.sections.iter().filter(|s| s.name != "device") {
        r.warn(
            sub.line,
            format!("unknown section 'quorum.{}' ignored", sub.name),
        );
    }
    Ok(q)
}

/// votequorum's refusals, applied to the loaded options exactly as votequorum does at start.
fn apply_quorum_rules(r: &mut Reader, cfg: &mut ClusterConfig) -> Result<(), ConfigError> {
    let q = &mut cfg.quorum;
    if !q.enabled {
        return Ok(());
    }
    if cfg.nodes.is_empty() && q.expected_votes.is_none() {
        return Err(ConfigError::Invalid {
            file: r.file.clone(),
            message: "quorum: nodelist or quorum.expected_votes must be configured".into(),
        });
    }
    if q.two_node && q.auto_tie_breaker {
        r.warn(0, "two_node and auto_tie_breaker are both set: two_node is disabled (auto_tie_breaker wins, as in votequorum)".into());
        q.two_node = false;
    }
    if q.two_node && cfg.nodes.len() > 2 {
        r.warn(0, "quorum.two_node was set but there are more than 2 nodes in the nodelist: it is ignored".into());
        q.two_node = false;
    }
    let total: u32 = cfg.nodes.iter().map(|n| n.quorum_votes).sum();
    let count = if cfg.nodes.is_empty() {
        q.expected_votes.unwrap_or(total) as usize
    } else {
        cfg.nodes.len()
    };
    if q.auto_tie_breaker && count % 2 == 1 && !q.wait_for_all {
        if q.last_man_standing {
            return Err(ConfigError::Invalid {
                file: r.file.clone(),
                message: "auto_tie_breaker with an odd number of nodes needs wait_for_all when last_man_standing is set".into(),
            });
        }
        r.warn(0, "auto_tie_breaker with an odd number of nodes needs wait_for_all: auto_tie_breaker is disabled".into());
        q.auto_tie_breaker = false;
    }
    if q.last_man_standing && cfg.nodes.iter().any(|n| n.quorum_votes != 1) {
        r.warn(
            0,
            "last_man_standing needs every node to have quorum_votes 1: it is disabled".into(),
        );
        q.last_man_standing = false;
    }
    Ok(())
}

fn read_logging(r: &mut Reader, s: &Section) -> Result<LoggingOptions, ConfigError> {
    let mut l = LoggingOptions::default();
    let sec = "logging";
    for e in &s.entries {
        match e.key.as_str() {
            "to_stderr" => l.to_stderr = r.flag(e, sec)?,
            "logfile" => l.logfile = Some(e.value.clone()),
            "timestamp" => {
                l.timestamp = matches!(e.value.as_str(), "on" | "hires" | "yes" | "1");
                l.timestamp_hires = e.value == "hires";
            }
            "debug" => l.debug = matches!(e.value.as_str(), "on" | "trace" | "yes" | "1"),
            k if LOGGING_ACCEPTED.contains(&k) => {
                if k == "to_logfile" {
                    l.to_logfile = r.flag(e, sec)?;
                } else if k == "to_syslog" {
                    l.to_syslog = r.flag(e, sec)?;
                }
            }
            k => r.warn(e.line, format!("unknown option 'logging.{k}' ignored")),
        }
    }
    // logger_subsys { } blocks tune per-subsystem levels; accepted, nothing to do.
    Ok(l)
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
