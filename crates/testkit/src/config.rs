//! The files a loopback cluster is made of: corosync.conf, the node names and addresses,
//! and the choice of free ports.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU16, Ordering};

/// At most this many nodes: addresses 127.0.0.1..=MAX_NODES (all of 127/8 is local on
/// Linux, so no address needs configuring).
pub const MAX_NODES: usize = 16;

/// The token timeout written into a loopback cluster's corosync.conf, in milliseconds.
///
/// Corosync's default is 3000 ms. On loopback there is no network delay to absorb, so a
/// shorter token makes a killed node noticed — and its resources recovered — about three
/// times sooner, which is what a demo and a test want to show. It is not shorter still
/// because a busy two-core machine running several daemons, agents and `cargo test` must
/// not miss tokens and fake failures (`crates/cli/tests/cluster.rs` uses the same value).
pub const DEFAULT_TOKEN_MS: u32 = 1000;

/// A `token_ms` of 0 writes no `token` line: the daemons run with Tandem's default timing
/// (`tandem_totem::config::timing`), as `bench/failover` measures it.
pub const TANDEM_DEFAULT_TOKEN: u32 = 0;

/// The first UDP port tried for `tandem sandbox` (Corosync's 5405 + 10000, so a real
/// cluster on this machine is not disturbed).
pub const SANDBOX_PORT: u16 = 15405;

/// How many ports are tried, upwards from the first, before giving up.
pub const PORT_SEARCH_SPAN: u16 = 2000;

/// Node `i`'s name (1-based): `node1`, `node2`, ...
pub fn node_name(i: usize) -> String {
    format!("node{i}")
}

/// Node `i`'s address (1-based): 127.0.0.i.
pub fn node_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, u8::try_from(i).expect("at most MAX_NODES nodes"))
}

/// corosync.conf for `nodes` nodes on 127.0.0.1..=nodes, all on UDP `port`.
///
/// Two nodes get `two_node: 1` (which implies wait_for_all): the one survivor of a
/// two-node cluster keeps quorum, as the two-node tutorials configure it.
pub fn corosync_conf(cluster_name: &str, nodes: usize, port: u16, token_ms: u32) -> String {
    let addrs: Vec<Vec<Ipv4Addr>> = (1..=nodes).map(|i| vec![node_addr(i)]).collect();
    corosync_conf_links(cluster_name, &addrs, port, token_ms)
}

/// corosync.conf for one node per entry of `addrs`, each entry holding the node's address
/// on link 0, 1, ... (every node has the same number of links): one `interface` section
/// per link, `ringK_addr` per node, all on UDP `port`. Two nodes get `two_node: 1`, as in
/// [`corosync_conf`]. A `token_ms` of [`TANDEM_DEFAULT_TOKEN`] writes no `token` line.
pub fn corosync_conf_links(
    cluster_name: &str,
    addrs: &[Vec<Ipv4Addr>],
    port: u16,
    token_ms: u32,
) -> String {
    let links = addrs.first().map_or(1, Vec::len);
    let mut s = String::new();
    s.push_str("# Written by tandem-testkit for a cluster of daemons on one machine.\n");
    s.push_str("totem {\n    version: 2\n");
    s.push_str(&format!("    cluster_name: {cluster_name}\n"));
    if token_ms == TANDEM_DEFAULT_TOKEN {
        s.push_str("    # No token line: Tandem's default timing (800 ms).\n");
    } else {
        s.push_str(&format!(
            "    # Corosync's default is 3000 ms; on one machine a shorter token notices a dead\n    # node sooner without risking false failures on a busy machine.\n    token: {token_ms}\n"
        ));
    }
    for link in 0..links {
        s.push_str(&format!(
            "    interface {{\n        linknumber: {link}\n        mcastport: {port}\n    }}\n"
        ));
    }
    s.push_str("}\n");
    s.push_str("quorum {\n    provider: corosync_votequorum\n");
    if addrs.len() == 2 {
        s.push_str("    two_node: 1\n");
    }
    s.push_str("}\nnodelist {\n");
    for (k, node) in addrs.iter().enumerate() {
        let i = k + 1;
        s.push_str("    node {\n");
        for (link, a) in node.iter().enumerate() {
            s.push_str(&format!("        ring{link}_addr: {a}\n"));
        }
        s.push_str(&format!(
            "        name: {}\n        nodeid: {i}\n    }}\n",
            node_name(i)
        ));
    }
    // Millisecond times: a test's or benchmark's log shows where the time went.
    s.push_str("}\nlogging {\n    to_stderr: yes\n    timestamp: hires\n}\n");
    s
}

/// A UDP port, at or above `from`, that every node address can bind now.
pub fn free_udp_port(nodes: usize, from: u16) -> anyhow::Result<u16> {
    search(from, |port| {
        (1..=nodes).all(|i| UdpSocket::bind(SocketAddrV4::new(node_addr(i), port)).is_ok())
    })
}

/// A TCP port on 127.0.0.1, at or above `from`, that nothing listens on now.
pub fn free_tcp_port(from: u16) -> anyhow::Result<u16> {
    search(from, |port| {
        TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok()
    })
}

fn search(from: u16, free: impl Fn(u16) -> bool) -> anyhow::Result<u16> {
    let to = from.saturating_add(PORT_SEARCH_SPAN);
    (from..to)
        .find(|&p| free(p))
        .ok_or_else(|| anyhow::anyhow!("no free port in {from}..{to}"))
}

/// A starting point for [`free_udp_port`]/[`free_tcp_port`] that differs between the
/// clusters one process creates (tests run in parallel threads) and, likely, between
/// processes: the search still checks that the port is free.
pub fn auto_port_base() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    let slot = (pid.wrapping_mul(37).wrapping_add(u32::from(n) * 8)) % 20000;
    20000 + u16::try_from(slot).expect("below 20000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_nodes_get_two_node_and_names() {
        let c = corosync_conf("demo", 2, 15405, 1000);
        assert!(c.contains("    two_node: 1\n"), "{c}");
        assert!(
            c.contains("        ring0_addr: 127.0.0.2\n        name: node2\n        nodeid: 2\n")
        );
        assert!(c.contains("mcastport: 15405\n"));
        let parsed = tandem_totem::config::ClusterConfig::from_text("test", &c).unwrap();
        assert_eq!(parsed.nodes.len(), 2);
        parsed.check_runnable().unwrap();
        let three = corosync_conf("demo", 3, 15405, 1000);
        assert!(!three.contains("two_node"));
    }

    #[test]
    fn token_zero_leaves_tandems_default() {
        let c = corosync_conf("demo", 3, 15405, TANDEM_DEFAULT_TOKEN);
        assert!(!c.contains("\n    token:"), "{c}");
        let parsed = tandem_totem::config::ClusterConfig::from_text("test", &c).unwrap();
        let t = parsed.timing();
        assert!(t.tandem_default_token);
        assert_eq!(t.token_ms, tandem_totem::config::TANDEM_DEFAULT_TOKEN_MS);
        let explicit = corosync_conf("demo", 3, 15405, 1000);
        let t = tandem_totem::config::ClusterConfig::from_text("test", &explicit)
            .unwrap()
            .timing();
        assert_eq!(t.token_ms, 1650);
    }

    // A port found free can be taken by anyone (another test thread's connection, say)
    // before it is used, so the test does not bind it again: it holds a port and checks the
    // search passes over it.
    #[test]
    fn ports_in_use_are_passed_over() {
        let held = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let p = held.local_addr().unwrap().port();
        let found = free_tcp_port(p).unwrap();
        assert!(found > p, "{found} after held {p}");

        // Held on one node's address only: the port is not free for a 3-node cluster.
        let held = UdpSocket::bind(SocketAddrV4::new(node_addr(2), 0)).unwrap();
        let u = held.local_addr().unwrap().port();
        let found = free_udp_port(3, u).unwrap();
        assert!(found > u, "{found} after held {u}");
    }
}
