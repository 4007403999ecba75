//! Real clusters on a real (virtual) network: one network namespace per node, cabled to a
//! bridge, a client namespace on the same subnet, a floating IP (`ocf:tandem:IPaddr`) and a
//! web server (`ocf:tandem:process` running `tandem sandbox serve`, answering with its
//! node's name) — the tutorials' test, automated (issue 7).
//!
//! ```text
//!   PREFIX-sw        switch namespace: bridge br0 (link 0), br1 (link 1, optional);
//!                    port nIlL cabled to node I's ethL, port c0 to the client's eth0
//!   PREFIX-nodeI     eth0 10.10.0.I/24, eth1 10.11.0.I/24 (second link); lo;
//!                    `tandem daemon` (via `ip netns exec`), its agents and services
//!   PREFIX-client    eth0 10.10.0.250/24: probes the VIP 10.10.0.100 port 80
//! ```
//!
//! Nothing is created in the caller's own namespace: deleting the namespaces removes every
//! bridge, cable, address and firewall table, so teardown is "kill the processes, delete the
//! namespaces". Because each cluster's network is private, every cluster uses the same
//! subnets; only the names differ. Names are `tandem-OWNERPID-N-ROLE` (N counts the clusters
//! this process made), and the cluster directory is `$TMPDIR/tandem-OWNERPID-N`: [`sweep`]
//! (run by every [`NetnsCluster::create`]) removes the namespaces, processes and
//! directories of owners that died without tearing down (a test run killed with SIGKILL).
//! A cluster given its own name prefix (`tandem sandbox --netns`) is never swept.
//!
//! The daemons are a [`LoopbackCluster`] built with per-node addresses and namespaces, so
//! everything it offers (tools, views, placement, logs, crash, pause) works here too
//! ([`NetnsCluster`] dereferences to it).
//!
//! Faults, per node:
//! * [`NetnsCluster::crash`]: SIGKILL to every process of the node (its kernel keeps its
//!   addresses, as after a crash of the software); [`NetnsCluster::power_off`] also pulls
//!   its cables and forgets its addresses, as a power loss; [`NetnsCluster::boot`] brings
//!   it back.
//! * `pause`/`resume` (from [`LoopbackCluster`]): SIGSTOP / SIGCONT to every process.
//! * [`NetnsCluster::link_down`]/[`NetnsCluster::link_up`]: the switch port of one link
//!   goes down (a pulled cable: the node sees no carrier); [`NetnsCluster::isolate`] pulls
//!   all of them.
//! * [`NetnsCluster::impair`]: loss, delay and jitter on every packet the node sends.
//!   **This kernel has no `tc netem`** (`CONFIG_NET_SCH_NETEM` is not set), so loss is an
//!   nftables rule (`numgen random mod 100 < LOSS drop`) and delay/jitter is an NFQUEUE
//!   rule whose packets a thread of this process holds for `delay ± jitter`
//!   ([`crate::nfqueue`]).
//! * [`NetnsCluster::partition`]: nftables rules in each node's namespace drop traffic to
//!   and from the nodes outside its group.
//! * [`NetnsCluster::heal`]: every link up, every partition and impairment removed.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::cluster::{LoopbackCluster, Spec};
use crate::cmd::{self, ip};
use crate::config::{DEFAULT_TOKEN_MS, MAX_NODES};
use crate::nfqueue::Delayer;
use crate::probe::{ProbeConfig, Prober};
use crate::procs;
use crate::record::{NetworkRecord, Record};

/// The first part of every name this module gives (namespaces, directories).
pub const PREFIX: &str = "tandem-";
/// Links a cluster may have (ring0 and ring1).
pub const MAX_LINKS: usize = 2;
/// The subnet of link `L` is 10.(10 + L).0.0/24.
pub const SUBNET_BASE: u8 = 10;
pub const PREFIX_LEN: u8 = 24;
/// The client's host number on link 0's subnet.
pub const CLIENT_HOST: u8 = 250;
/// The floating IP's host number on link 0's subnet.
pub const VIP_HOST: u8 = 100;
/// The web server's TCP port.
pub const WEB_PORT: u16 = 80;
/// The totem UDP port (every node has its own namespace, so Corosync's default is free).
pub const TOTEM_PORT: u16 = 5405;
/// The example configuration's resource ids.
pub const VIP_RSC: &str = "VIP";
pub const WEB_RSC: &str = "WebServer";
pub const GROUP_RSC: &str = "HAService";
/// The nftables table holding a node's partition and loss rules.
pub const FAULT_TABLE: &str = "tandem_faults";
/// How long the example resources get to start after the configuration is loaded.
pub const SERVICE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the processes found in a namespace get to die after SIGKILL.
const NS_KILL_WAIT: Duration = Duration::from_secs(5);

/// Node `i`'s address on link `link` (0-based).
pub fn node_addr(i: usize, link: usize) -> Ipv4Addr {
    Ipv4Addr::new(
        10,
        SUBNET_BASE + u8::try_from(link).expect("at most MAX_LINKS"),
        0,
        u8::try_from(i).expect("at most MAX_NODES"),
    )
}

/// The floating IP.
pub fn vip() -> Ipv4Addr {
    Ipv4Addr::new(10, SUBNET_BASE, 0, VIP_HOST)
}

/// The client namespace's address.
pub fn client_addr() -> Ipv4Addr {
    Ipv4Addr::new(10, SUBNET_BASE, 0, CLIENT_HOST)
}

/// Where the web server answers: VIP port 80.
pub fn web_addr() -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(vip(), WEB_PORT))
}

/// Whether this process may build namespaces (root). Tests skip with a message otherwise.
pub fn can_build() -> Result<(), String> {
    if !rustix::process::geteuid().is_root() {
        return Err("network namespaces need root".into());
    }
    for tool in [cmd::IP, cmd::NFT, IPTABLES] {
        if !cmd::available(tool) {
            return Err(format!(
                "`{tool}` is not installed (scripts/install-test-deps installs it)"
            ));
        }
    }
    Ok(())
}

/// The `iptables` tool: installs the NFQUEUE rule of the delayer.
const IPTABLES: &str = "iptables";

/// The namespaces, bridges and cables of one cluster.
pub struct Network {
    prefix: String,
    nodes: usize,
    links: usize,
    /// Namespaces created so far (torn down in reverse).
    made: Vec<String>,
}

impl Network {
    /// Builds the network; on failure, what was made is removed.
    pub fn create(prefix: &str, nodes: usize, links: usize) -> anyhow::Result<Network> {
        if !(1..=MAX_NODES).contains(&nodes) {
            bail!("a network cluster has 1 to {MAX_NODES} nodes, not {nodes}");
        }
        if !(1..=MAX_LINKS).contains(&links) {
            bail!("a network cluster has 1 or {MAX_LINKS} links, not {links}");
        }
        let mut n = Network {
            prefix: prefix.to_string(),
            nodes,
            links,
            made: Vec::new(),
        };
        n.build()?; // Drop removes a half-built network
        Ok(n)
    }

    fn build(&mut self) -> anyhow::Result<()> {
        let sw = self.switch_ns();
        self.add_ns(&sw)?;
        for l in 0..self.links {
            ip(&[
                "-n",
                &sw,
                "link",
                "add",
                &format!("br{l}"),
                "type",
                "bridge",
            ])?;
            ip(&["-n", &sw, "link", "set", &format!("br{l}"), "up"])?;
        }
        for i in 1..=self.nodes {
            let ns = self.node_ns(i);
            self.add_ns(&ns)?;
            for l in 0..self.links {
                self.cable(&ns, &format!("n{i}l{l}"), l, node_addr(i, l))?;
            }
        }
        let client = self.client_ns();
        self.add_ns(&client)?;
        self.cable(&client, "c0", 0, client_addr())
    }

    /// A new namespace with its loopback up (a leftover of the same name is removed first:
    /// only a dead process with our pid can have made it).
    fn add_ns(&mut self, ns: &str) -> anyhow::Result<()> {
        if Path::new("/run/netns").join(ns).exists() {
            if owner_of(ns).is_none() {
                bail!("network namespace {ns} exists already (`ip netns del {ns}` removes it)");
            }
            remove_ns(ns)?;
        }
        ip(&["netns", "add", ns])?;
        self.made.push(ns.to_string());
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
        Ok(())
    }

    /// A veth pair: `port` on link `link`'s bridge, `ethLINK` with `addr` in `ns`.
    fn cable(&self, ns: &str, port: &str, link: usize, addr: Ipv4Addr) -> anyhow::Result<()> {
        let sw = self.switch_ns();
        let eth = format!("eth{link}");
        ip(&[
            "-n", &sw, "link", "add", port, "type", "veth", "peer", "name", &eth, "netns", ns,
        ])?;
        ip(&[
            "-n",
            &sw,
            "link",
            "set",
            port,
            "master",
            &format!("br{link}"),
        ])?;
        ip(&["-n", &sw, "link", "set", port, "up"])?;
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{addr}/{PREFIX_LEN}"),
            "dev",
            &eth,
        ])?;
        ip(&["-n", ns, "link", "set", &eth, "up"])?;
        Ok(())
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    pub fn nodes(&self) -> usize {
        self.nodes
    }
    pub fn links(&self) -> usize {
        self.links
    }
    pub fn switch_ns(&self) -> String {
        format!("{}-sw", self.prefix)
    }
    pub fn node_ns(&self, i: usize) -> String {
        format!("{}-node{i}", self.prefix)
    }
    pub fn client_ns(&self) -> String {
        format!("{}-client", self.prefix)
    }
    /// Every namespace of the network.
    pub fn namespaces(&self) -> Vec<String> {
        self.made.clone()
    }

    /// Node `i`'s link `link` cable: plugged (`up`) or pulled.
    pub fn set_link(&self, i: usize, link: usize, up: bool) -> anyhow::Result<()> {
        self.check(i, link)?;
        set_cable(&self.switch_ns(), i, link, up)
    }

    /// What `tandem sandbox` records of the network.
    pub fn record(&self) -> NetworkRecord {
        NetworkRecord {
            prefix: self.prefix.clone(),
            namespaces: self.made.clone(),
            switch_ns: self.switch_ns(),
            client_ns: self.client_ns(),
            client_addr: client_addr(),
            vip: vip(),
            web: web_addr(),
            links: self.links,
        }
    }

    fn check(&self, i: usize, link: usize) -> anyhow::Result<()> {
        if !(1..=self.nodes).contains(&i) {
            bail!("no node {i} (the cluster has {})", self.nodes);
        }
        if link >= self.links {
            bail!("no link {link} (the cluster has {})", self.links);
        }
        Ok(())
    }

    /// Kills every process in the namespaces and deletes them. Idempotent.
    pub fn teardown(&mut self) -> anyhow::Result<()> {
        let mut errors = Vec::new();
        while let Some(ns) = self.made.pop() {
            if let Err(e) = remove_ns(&ns) {
                errors.push(format!("{e:#}"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            bail!("{}", errors.join("; "))
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("tandem-testkit: network {}: {e:#}", self.prefix);
        }
    }
}

/// Plugs in (`up`) or pulls the cable of node `i`'s link `link`: its port on the bridge in
/// switch namespace `switch_ns`.
pub fn set_cable(switch_ns: &str, i: usize, link: usize, up: bool) -> anyhow::Result<()> {
    let state = if up { "up" } else { "down" };
    ip(&[
        "-n",
        switch_ns,
        "link",
        "set",
        &format!("n{i}l{link}"),
        state,
    ])
    .map(drop)
}

/// Removes the partition and loss rules ([`FAULT_TABLE`]) from namespace `ns`, if any.
pub fn clear_fault_table(ns: &str) -> anyhow::Result<()> {
    cmd::nft_in(
        ns,
        &format!("table inet {FAULT_TABLE}\ndelete table inet {FAULT_TABLE}\n"),
    )
    .map(drop)
}

/// SIGKILLs every process in namespace `ns` (other than this one), then deletes it.
pub fn remove_ns(ns: &str) -> anyhow::Result<()> {
    let me = i32::try_from(std::process::id()).expect("pid fits");
    let pids = |ns: &str| -> Vec<i32> {
        ip(&["netns", "pids", ns])
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .filter(|&p| p != me)
            .collect()
    };
    let t = std::time::Instant::now();
    loop {
        let left = pids(ns);
        if left.is_empty() {
            break;
        }
        if t.elapsed() >= NS_KILL_WAIT {
            bail!("processes in {ns} would not die: {left:?}");
        }
        for &p in &left {
            procs::signal(p, procs::Signal::KILL);
        }
        std::thread::sleep(procs::POLL);
    }
    match ip(&["netns", "del", ns]) {
        Ok(_) => Ok(()),
        // Someone else (a concurrent sweep) removed it first.
        Err(_) if !Path::new("/run/netns").join(ns).exists() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Namespace names under `/run/netns` that start with [`PREFIX`].
pub fn tandem_namespaces() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return Vec::new();
    };
    let mut v: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX))
        .collect();
    v.sort();
    v
}

/// What is left of a network cluster whose names start with `prefix` and whose directory
/// is `dir`: its namespaces (and with them every address, bridge and firewall table), the
/// directory, and processes marked with it. Empty after a complete teardown; tests assert
/// that ([`NetnsCluster::leftovers`]).
pub fn leftovers(prefix: &str, dir: &Path) -> Vec<String> {
    let mine = format!("{prefix}-");
    let mut left: Vec<String> = tandem_namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&mine))
        .map(|n| format!("network namespace {n}"))
        .collect();
    if dir.exists() {
        left.push(format!("directory {}", dir.display()));
    }
    left.extend(
        procs::marked(dir, None)
            .into_iter()
            .map(|p| format!("process {p}")),
    );
    left
}

/// The owner pid in an automatic name `tandem-PID-N...`.
fn owner_of(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(PREFIX)?;
    let mut parts = rest.split('-');
    let pid = parts.next()?.parse().ok()?;
    parts.next()?.parse::<usize>().ok()?;
    Some(pid)
}

/// Removes what clusters of dead owners left behind: their namespaces (and every process
/// in them) and their directories (and every process marked with them). Names the
/// leftovers it removed.
pub fn sweep() -> anyhow::Result<Vec<String>> {
    let dead = |name: &str| owner_of(name).is_some_and(|pid| !procs::alive(pid));
    let mut removed = Vec::new();
    let mut errors = Vec::new();
    for ns in tandem_namespaces().into_iter().filter(|n| dead(n)) {
        match remove_ns(&ns) {
            Ok(()) => removed.push(ns),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    let tmp = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for name in entries.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
            let auto = name.strip_prefix(PREFIX).is_some_and(|r| {
                r.split('-').count() == 2 && r.split('-').all(|p| p.parse::<u64>().is_ok())
            });
            if !auto || !dead(&name) {
                continue;
            }
            let dir = tmp.join(&name);
            let left = procs::kill_marked(&dir, None);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) if left.is_empty() => removed.push(dir.display().to_string()),
                Ok(()) => errors.push(format!("processes of {name} would not die: {left:?}")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {} // a concurrent sweep
                Err(e) => errors.push(format!("cannot remove {}: {e}", dir.display())),
            }
        }
    }
    if errors.is_empty() {
        Ok(removed)
    } else {
        bail!("{}", errors.join("; "))
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct NetSpec {
    /// Number of nodes (1..=[`MAX_NODES`]).
    pub nodes: usize,
    /// Links per node: 1, or 2 for a redundant ring (corosync.conf with two interfaces).
    pub links: usize,
    /// The `tandem` binary.
    pub tandem: PathBuf,
    /// The cluster name.
    pub tag: String,
    pub token_ms: u32,
    /// Name prefix of the namespaces and the directory; `None`: `tandem-OWNERPID-N`,
    /// swept once this process is gone. A given prefix must start with [`PREFIX`] and is
    /// never swept (`tandem sandbox --netns --detach` outlives its process).
    pub prefix: Option<String>,
    /// The cluster directory; `None`: `$TMPDIR/PREFIX`.
    pub dir: Option<PathBuf>,
}

impl NetSpec {
    pub fn new(tandem: impl Into<PathBuf>, nodes: usize, tag: &str) -> NetSpec {
        NetSpec {
            nodes,
            links: 1,
            tandem: tandem.into(),
            tag: tag.to_string(),
            token_ms: DEFAULT_TOKEN_MS,
            prefix: None,
            dir: None,
        }
    }
}

/// Per-node network faults currently applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Faults {
    /// Addresses this node may not exchange packets with (a partition).
    blocked: Vec<Ipv4Addr>,
    /// Percentage of sent packets dropped.
    loss_pct: u8,
    /// Hold of every sent packet: delay, jitter.
    delay: Option<(Duration, Duration)>,
}

/// Loss, delay and jitter on every packet a node sends ([`NetnsCluster::impair`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Impairment {
    /// Percentage (0..=100) of packets dropped.
    pub loss_pct: u8,
    pub delay: Duration,
    /// Each packet's delay is uniform in `delay ± jitter` (never below zero).
    pub jitter: Duration,
}

/// A cluster of daemons in network namespaces; dropping it tears everything down.
pub struct NetnsCluster {
    // Field order matters for Drop: the delayers release held packets and leave the
    // namespaces first; `teardown` stops the daemons before the network goes.
    delayers: Vec<Option<Delayer>>,
    cluster: LoopbackCluster,
    net: Network,
    faults: Vec<Faults>,
    links_down: BTreeSet<(usize, usize)>,
    done: bool,
}

impl Deref for NetnsCluster {
    type Target = LoopbackCluster;
    fn deref(&self) -> &LoopbackCluster {
        &self.cluster
    }
}

impl DerefMut for NetnsCluster {
    fn deref_mut(&mut self) -> &mut LoopbackCluster {
        &mut self.cluster
    }
}

impl NetnsCluster {
    /// Sweeps leftovers of dead owners, builds the network, writes the configuration,
    /// key and agents; starts nothing.
    pub fn create(spec: &NetSpec) -> anyhow::Result<NetnsCluster> {
        can_build().map_err(|e| anyhow::anyhow!("cannot build a network cluster: {e}"))?;
        if let Err(e) = sweep() {
            eprintln!("tandem-testkit: sweeping leftovers: {e:#}");
        }
        let prefix = match &spec.prefix {
            Some(p) if p.starts_with(PREFIX) => p.clone(),
            Some(p) => bail!("a network cluster's prefix must start with {PREFIX}, not {p}"),
            None => auto_prefix(),
        };
        let net = Network::create(&prefix, spec.nodes, spec.links)?;
        let mut s = Spec::new(&spec.tandem, spec.nodes, &spec.tag);
        s.dir = Some(
            spec.dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join(&prefix)),
        );
        s.port = Some(TOTEM_PORT);
        s.token_ms = spec.token_ms;
        s.links = Some(
            (1..=spec.nodes)
                .map(|i| (0..spec.links).map(|l| node_addr(i, l)).collect())
                .collect(),
        );
        s.netns = Some((1..=spec.nodes).map(|i| net.node_ns(i)).collect());
        let cluster = LoopbackCluster::create(&s)?;
        Ok(NetnsCluster {
            delayers: (0..spec.nodes).map(|_| None).collect(),
            cluster,
            net,
            faults: vec![Faults::default(); spec.nodes],
            links_down: BTreeSet::new(),
            done: false,
        })
    }

    /// [`NetnsCluster::create`], then start every daemon, wait for the cluster to form,
    /// load [`NetnsCluster::example_config`] and wait until the VIP and the web server run.
    pub fn up(spec: &NetSpec) -> anyhow::Result<NetnsCluster> {
        let mut c = NetnsCluster::create(spec)?;
        c.start_all()?;
        c.wait_formed()?;
        c.configure(1, &c.example_config())?;
        c.wait_service()?;
        Ok(c)
    }

    pub fn net(&self) -> &Network {
        &self.net
    }
    pub fn client_ns(&self) -> String {
        self.net.client_ns()
    }
    pub fn node_ns(&self, i: usize) -> String {
        self.net.node_ns(i)
    }

    /// The example configuration (crm language): fencing off, stickiness 100, the VIP and
    /// the web server in a group (so colocated, the address first), monitors every 10 s
    /// and 5 s; two nodes ignore loss of quorum, as the two-node tutorials configure it.
    pub fn example_config(&self) -> String {
        let mut s = String::from("property stonith-enabled=false");
        if self.nodes() == 2 {
            s.push_str(" no-quorum-policy=ignore");
        }
        s.push('\n');
        s.push_str("rsc_defaults resource-stickiness=100\n");
        s.push_str(&format!(
            "primitive {VIP_RSC} ocf:tandem:IPaddr params ip={} cidr_netmask={PREFIX_LEN} op monitor interval=10s timeout=20s\n",
            vip()
        ));
        s.push_str(&format!(
            "primitive {WEB_RSC} ocf:tandem:process params binfile=\"{}\" cmdline_options=\"sandbox serve --listen 0.0.0.0:{WEB_PORT}\" logfile=\"{}\" op monitor interval=5s timeout=20s\n",
            self.tandem().display(),
            self.dir().join("webserver.log").display()
        ));
        s.push_str(&format!("group {GROUP_RSC} {VIP_RSC} {WEB_RSC}\n"));
        s
    }

    /// Waits until the VIP and the web server run on one node (as node 1..N sees it, the
    /// first that answers); that node's number.
    pub fn wait_service(&self) -> anyhow::Result<usize> {
        let i = (1..=self.nodes())
            .find(|&i| self.view(i).is_some())
            .unwrap_or(1);
        let p = self.wait_placement(i, "the VIP and web server to run", SERVICE_TIMEOUT, |p| {
            p.node(VIP_RSC).is_some() && p.node(VIP_RSC) == p.node(WEB_RSC)
        })?;
        let name = p.node(VIP_RSC).expect("checked").to_string();
        Ok(self.index_of(&name).expect("a node of this cluster"))
    }

    /// A prober in the client namespace, probing the web server on the VIP.
    pub fn probe(&self) -> anyhow::Result<Prober> {
        Prober::start(ProbeConfig::new(web_addr(), Some(&self.client_ns())))
    }

    /// SIGKILL to every process of node `i` (its kernel keeps its addresses).
    pub fn crash(&mut self, i: usize) -> anyhow::Result<()> {
        self.cluster.crash(i)
    }

    /// Node `i` loses power: every process killed, every cable pulled, every address but
    /// its own configured ones forgotten (as after a reboot), its network faults cleared.
    pub fn power_off(&mut self, i: usize) -> anyhow::Result<()> {
        self.cluster.crash(i)?;
        self.isolate(i)?;
        let ns = self.node_ns(i);
        for l in 0..self.net.links() {
            let eth = format!("eth{l}");
            ip(&["-n", &ns, "addr", "flush", "dev", &eth])?;
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/{PREFIX_LEN}", node_addr(i, l)),
                "dev",
                &eth,
            ])?;
        }
        self.set_faults(i, Faults::default())
    }

    /// Node `i` comes back after [`NetnsCluster::power_off`]: cables plugged, daemon
    /// started.
    pub fn boot(&mut self, i: usize) -> anyhow::Result<()> {
        for l in 0..self.net.links() {
            self.link_up(i, l)?;
        }
        self.cluster.start(i)
    }

    /// Pulls node `i`'s cable of link `link` (0-based).
    pub fn link_down(&mut self, i: usize, link: usize) -> anyhow::Result<()> {
        self.net.set_link(i, link, false)?;
        self.links_down.insert((i, link));
        Ok(())
    }

    /// Plugs node `i`'s cable of link `link` back in.
    pub fn link_up(&mut self, i: usize, link: usize) -> anyhow::Result<()> {
        self.net.set_link(i, link, true)?;
        self.links_down.remove(&(i, link));
        Ok(())
    }

    /// Pulls every cable of node `i`: nobody (nodes or client) reaches it.
    pub fn isolate(&mut self, i: usize) -> anyhow::Result<()> {
        (0..self.net.links()).try_for_each(|l| self.link_down(i, l))
    }

    /// Loss, delay and jitter on every packet node `i` sends, replacing any earlier
    /// impairment of it ([`Impairment::default`] removes it).
    pub fn impair(&mut self, i: usize, imp: Impairment) -> anyhow::Result<()> {
        if imp.loss_pct > 100 {
            bail!("loss {} %: at most 100", imp.loss_pct);
        }
        let mut f = self.node_faults(i)?.clone();
        f.loss_pct = imp.loss_pct;
        f.delay =
            (!imp.delay.is_zero() || !imp.jitter.is_zero()).then_some((imp.delay, imp.jitter));
        self.set_faults(i, f)
    }

    /// Splits the cluster: each node exchanges packets only with the nodes of its own
    /// group (the client still reaches every node). Every node must be in exactly one
    /// group. Replaces an earlier partition.
    pub fn partition(&mut self, groups: &[&[usize]]) -> anyhow::Result<()> {
        let n = self.nodes();
        let mut seen = BTreeSet::new();
        for &i in groups.iter().flat_map(|g| g.iter()) {
            if !(1..=n).contains(&i) || !seen.insert(i) {
                bail!("partition {groups:?}: node {i} is not a node or is in two groups");
            }
        }
        if seen.len() != n {
            bail!("partition {groups:?}: every node 1..={n} must be in a group");
        }
        for g in groups {
            for &i in *g {
                let mut f = self.faults[i - 1].clone();
                f.blocked = (1..=n)
                    .filter(|j| !g.contains(j))
                    .flat_map(|j| (0..self.net.links()).map(move |l| node_addr(j, l)))
                    .collect();
                self.set_faults(i, f)?;
            }
        }
        Ok(())
    }

    /// Every cable plugged, every partition and impairment removed (paused nodes stay
    /// paused, crashed ones stay down).
    pub fn heal(&mut self) -> anyhow::Result<()> {
        for (i, l) in std::mem::take(&mut self.links_down) {
            self.net.set_link(i, l, true)?;
        }
        (1..=self.nodes()).try_for_each(|i| self.set_faults(i, Faults::default()))
    }

    /// [`NetnsCluster::heal`] for one node: its cables plugged, its partition rules and
    /// impairment removed (the other nodes' rules about it stay).
    pub fn heal_node(&mut self, i: usize) -> anyhow::Result<()> {
        for l in 0..self.net.links() {
            self.link_up(i, l)?;
        }
        self.set_faults(i, Faults::default())
    }

    fn node_faults(&self, i: usize) -> anyhow::Result<&Faults> {
        self.faults
            .get(i.wrapping_sub(1))
            .with_context(|| format!("no node {i} (the cluster has {})", self.nodes()))
    }

    /// Applies `f` to node `i`: the nftables table rewritten in one transaction, the
    /// delayer and its NFQUEUE rule started or stopped.
    fn set_faults(&mut self, i: usize, f: Faults) -> anyhow::Result<()> {
        let old = self.node_faults(i)?.clone();
        let ns = self.node_ns(i);
        if f.blocked != old.blocked || f.loss_pct != old.loss_pct {
            cmd::nft_in(&ns, &fault_rules(&f))?;
        }
        if f.delay != old.delay {
            if old.delay.is_some() {
                iptables_queue(&ns, false)?;
                self.delayers[i - 1] = None;
            }
            if let Some((delay, jitter)) = f.delay {
                self.delayers[i - 1] = Some(Delayer::start(&ns, delay, jitter)?);
                iptables_queue(&ns, true)?;
            }
        }
        self.faults[i - 1] = f;
        Ok(())
    }

    /// What `tandem sandbox down` needs to remove the cluster and its network later.
    pub fn record(&self) -> Record {
        let mut r = self.cluster.record();
        r.network = Some(self.net.record());
        r
    }

    /// Leaves the cluster and its network in place (the delayers stop: they are threads of
    /// this process); nothing is torn down when this value is dropped.
    pub fn detach(mut self) -> Record {
        self.delayers.iter_mut().for_each(|d| *d = None);
        let mut r = self.cluster.detach_in_place();
        r.network = Some(self.net.record());
        self.net.made.clear();
        self.done = true;
        r
    }

    /// What is left of this cluster ([`leftovers`]): nothing after
    /// [`NetnsCluster::teardown`] succeeded.
    pub fn leftovers(&self) -> Vec<String> {
        leftovers(&self.net.prefix, self.cluster.dir())
    }

    /// Stops the daemons (as [`LoopbackCluster::teardown`]), then removes the network.
    /// Idempotent.
    pub fn teardown(&mut self) -> anyhow::Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        self.delayers.iter_mut().for_each(|d| *d = None);
        let daemons = self.cluster.teardown();
        let net = self.net.teardown();
        daemons.and(net)
    }
}

impl Drop for NetnsCluster {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("tandem-testkit: teardown of {}: {e:#}", self.net.prefix);
        }
    }
}

/// `tandem-OWNERPID-N`, N counting this process's clusters.
fn auto_prefix() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The node's fault table, replaced atomically (an empty table when there is no fault).
fn fault_rules(f: &Faults) -> String {
    let mut s = format!("table inet {FAULT_TABLE}\ndelete table inet {FAULT_TABLE}\n");
    s.push_str(&format!("table inet {FAULT_TABLE} {{\n"));
    let set: Vec<String> = f.blocked.iter().map(ToString::to_string).collect();
    s.push_str("    chain input {\n        type filter hook input priority -10; policy accept;\n");
    if !set.is_empty() {
        s.push_str(&format!("        ip saddr {{ {} }} drop\n", set.join(", ")));
    }
    s.push_str("    }\n");
    s.push_str(
        "    chain output {\n        type filter hook output priority -10; policy accept;\n",
    );
    if !set.is_empty() {
        s.push_str(&format!("        ip daddr {{ {} }} drop\n", set.join(", ")));
    }
    match f.loss_pct {
        0 => {}
        100.. => s.push_str("        oifname != \"lo\" drop\n"),
        n => s.push_str(&format!(
            "        oifname != \"lo\" numgen random mod 100 < {n} drop\n"
        )),
    }
    s.push_str("    }\n}\n");
    s
}

/// Adds (or removes) the rule sending every packet the namespace's node sends to the
/// delayer's queue (xtables NFQUEUE: this kernel lacks nftables' `queue`).
fn iptables_queue(ns: &str, add: bool) -> anyhow::Result<()> {
    let queue = crate::nfqueue::QUEUE.to_string();
    cmd::run(
        std::process::Command::new(cmd::IP).args([
            "netns",
            "exec",
            ns,
            IPTABLES,
            if add { "-A" } else { "-D" },
            "OUTPUT",
            "!",
            "-o",
            "lo",
            "-j",
            "NFQUEUE",
            "--queue-num",
            &queue,
            "--queue-bypass",
        ]),
        None,
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses() {
        assert_eq!(node_addr(3, 1), Ipv4Addr::new(10, 11, 0, 3));
        assert_eq!(web_addr().to_string(), "10.10.0.100:80");
        assert_eq!(owner_of("tandem-123-4-node1"), Some(123));
        assert_eq!(owner_of("tandem-123-4"), Some(123));
        assert_eq!(owner_of("tandem-sandbox-node1"), None);
        assert!(auto_prefix().starts_with(&format!("tandem-{}-", std::process::id())));
    }

    #[test]
    fn fault_rules_text() {
        let f = Faults {
            blocked: vec![node_addr(2, 0), node_addr(2, 1)],
            loss_pct: 5,
            delay: None,
        };
        assert_eq!(
            fault_rules(&f),
            "table inet tandem_faults\ndelete table inet tandem_faults\ntable inet tandem_faults {\n    chain input {\n        type filter hook input priority -10; policy accept;\n        ip saddr { 10.10.0.2, 10.11.0.2 } drop\n    }\n    chain output {\n        type filter hook output priority -10; policy accept;\n        ip daddr { 10.10.0.2, 10.11.0.2 } drop\n        oifname != \"lo\" numgen random mod 100 < 5 drop\n    }\n}\n"
        );
    }
}
