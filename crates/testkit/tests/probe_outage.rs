//! A probe whose connection a short outage catches open. The address of a server goes away
//! after the server read the request and before it answers (as when `ip addr del` of a VIP
//! lands between a probe's request and the web server's answer), comes back 150 ms later,
//! and the server process is gone by then (the recovery restarts it). TCP still delivers
//! the answer: the server's kernel retransmits it once the address is back. A patient probe
//! therefore reports an answer, and because probes run one at a time, no other probe ran
//! during the outage: the outage is invisible (the two vipdel trials of `bench/failover`
//! that waited in vain, 2026-12-07). The fast probe's read timeout is below TCP's minimum
//! retransmission timeout, so the same connection fails it.
//!
//! Needs root and `ip` (skips with a message otherwise). One network namespace for the
//! server and one for the client, on a bridge; always torn down.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::Duration;

use tandem_testkit::cmd::ip;
use tandem_testkit::netns::{self, Network};
use tandem_testkit::probe::{self, Answer, Failure, ProbeConfig};

/// How long the address is away: longer than the fast read timeout, much shorter than the
/// patient one.
const AWAY: Duration = Duration::from_millis(150);
/// A read timeout that waits out the retransmission.
const PATIENT_READ: Duration = Duration::from_secs(5);
/// Generous bound on every step (a busy two-core machine).
const STEP: Duration = Duration::from_secs(30);

/// One probe with `cfg` whose connection is open while the server's address is away; what
/// it reported.
fn probe_across_an_outage(net: &Network, cfg: ProbeConfig) -> Answer {
    let node = net.node_ns(1);
    let cidr = format!("{}/{}", netns::vip(), netns::PREFIX_LEN);
    ip(&["-n", &node, "addr", "add", &cidr, "dev", "eth0"]).unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (read_tx, read_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let server = std::thread::spawn({
        let node = node.clone();
        move || {
            probe::enter_netns(&node).unwrap();
            let l = TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], netns::WEB_PORT))).unwrap();
            ready_tx.send(()).unwrap();
            let (mut c, _) = l.accept().unwrap();
            c.set_read_timeout(Some(STEP)).unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 256];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = c.read(&mut buf).unwrap();
                assert!(n > 0, "the client closed before its request was complete");
                head.extend_from_slice(&buf[..n]);
            }
            read_tx.send(()).unwrap();
            go_rx.recv_timeout(STEP).unwrap();
            // The address is gone: the kernel keeps the answer and the FIN to retransmit.
            c.write_all(b"HTTP/1.0 200 OK\r\n\r\nHello from node1 (Tandem sandbox)\n")
                .unwrap();
            // The server stops (the recovery restarts it), before the address comes back.
        }
    });
    ready_rx.recv_timeout(STEP).unwrap();
    let client = std::thread::spawn({
        let ns = net.client_ns();
        move || {
            probe::enter_netns(&ns).unwrap();
            probe::probe_once(&cfg)
        }
    });
    read_rx.recv_timeout(STEP).unwrap();
    ip(&["-n", &node, "addr", "del", &cidr, "dev", "eth0"]).unwrap();
    go_tx.send(()).unwrap();
    server.join().unwrap();
    std::thread::sleep(AWAY);
    ip(&["-n", &node, "addr", "add", &cidr, "dev", "eth0"]).unwrap();
    let answer = client.join().unwrap();
    ip(&["-n", &node, "addr", "del", &cidr, "dev", "eth0"]).unwrap();
    answer
}

#[test]
fn a_connection_open_across_an_outage_answers_late_and_fails_the_fast_probe() {
    if let Err(why) = netns::can_build() {
        eprintln!("skipped: {why}");
        return;
    }
    // `tandem-PID-N` names are swept by later runs if this process dies before its Drop;
    // no cluster of this test binary uses automatic names, so N = 0 is ours.
    let mut net =
        Network::create(&format!("{}{}-0", netns::PREFIX, std::process::id()), 1, 1).unwrap();
    // The read timeout is what this test is about; a generous connect timeout keeps a busy
    // machine from failing the connection before the outage.
    let fast = ProbeConfig {
        connect_timeout: STEP,
        ..ProbeConfig::fast(netns::web_addr(), Some(&net.client_ns()))
    };
    let patient = ProbeConfig {
        read_timeout: PATIENT_READ,
        ..fast.clone()
    };
    // The mechanism: the answer written while the address was away arrives after it.
    assert_eq!(
        probe_across_an_outage(&net, patient),
        Answer::Node("node1".into())
    );
    // The fast probe gives up before any retransmission can come.
    assert_eq!(
        probe_across_an_outage(&net, fast),
        Answer::Failed(Failure::ReadTimeout)
    );
    net.teardown().unwrap();
    assert!(
        netns::leftovers(net.prefix(), &std::env::temp_dir().join(net.prefix())).is_empty(),
        "the test network was not removed"
    );
}
