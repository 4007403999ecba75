//! Packet delay and jitter without `tc netem` (this kernel has no `sch_netem`): an
//! `NFQUEUE` rule (the xtables target, installed with `iptables`; nftables' own `queue`
//! statement is not built into this kernel either) hands every packet a node sends to a
//! queue, and a thread of the test process — inside the node's network namespace — holds
//! each one for `delay ± jitter` (uniform) before accepting it. Packets whose delays cross
//! are released in deadline order, so jitter reorders packets as netem's does.
//!
//! The rule uses `--queue-bypass`: while no delayer listens (the test process died, or the
//! delayer stopped), packets pass undelayed instead of being dropped. The queue is also
//! configured fail-open, so a full queue accepts instead of dropping.
//!
//! The protocol is nfnetlink_queue's, spoken over a `NETLINK_NETFILTER` socket: bind the
//! queue, ask for metadata only (no packet bytes), read `NFQNL_MSG_PACKET` messages for
//! their packet ids, answer each with an `NFQNL_MSG_VERDICT` of `NF_ACCEPT`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::net::{
    AddressFamily, RecvFlags, SendFlags, SocketType, netlink, recv, sendto, socket_with, sockopt,
};

/// The queue the delay rule sends packets to (queues are per network namespace).
pub const QUEUE: u16 = 0;
/// How many packets the kernel holds for the delayer before (fail-open) accepting.
pub const QUEUE_MAXLEN: u32 = 4096;
/// The receive buffer asked for, so bursts do not overflow the socket.
const RECV_BUFFER: usize = 4 << 20;
/// How often the delayer wakes up when nothing is due (to notice it should stop).
const IDLE_WAKE: Duration = Duration::from_millis(20);
/// The largest netlink read.
const READ_BYTES: usize = 65536;

// nfnetlink constants (linux/netfilter/nfnetlink.h, nfnetlink_queue.h, netlink.h).
const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQA_CFG_MASK: u16 = 4;
const NFQA_CFG_FLAGS: u16 = 5;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_COPY_META: u8 = 1;
const NFQA_CFG_F_FAIL_OPEN: u32 = 1;
const NF_ACCEPT: u32 = 1;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;
const NLMSG_HDR: usize = 16;
const NFGEN_HDR: usize = 4;
const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;

/// A running delayer; dropping it releases every held packet and stops the thread.
pub struct Delayer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Delayer {
    /// Starts holding the packets of [`QUEUE`] in namespace `netns` for `delay ± jitter`.
    /// Returns once the queue is bound (or binding failed).
    pub fn start(netns: &str, delay: Duration, jitter: Duration) -> anyhow::Result<Delayer> {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let ns = netns.to_string();
        let (tx, rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
        let thread = std::thread::Builder::new()
            .name("tandem-delayer".into())
            .spawn(move || {
                let sock = crate::probe::enter_netns(&ns).and_then(|()| bind_queue(QUEUE));
                match sock {
                    Ok(sock) => {
                        let _ = tx.send(Ok(()));
                        delay_loop(&sock, delay, jitter, &stop2);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            })
            .context("cannot start the delayer thread")?;
        let bound = rx
            .recv()
            .context("the delayer thread ended before binding its queue")?;
        let d = Delayer {
            stop,
            thread: Some(thread),
        };
        bound.map(|()| d)
    }
}

impl Drop for Delayer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A netlink socket bound to queue `queue`, metadata copy mode, fail-open.
fn bind_queue(queue: u16) -> anyhow::Result<OwnedFd> {
    let sock = socket_with(
        AddressFamily::NETLINK,
        SocketType::RAW,
        rustix::net::SocketFlags::CLOEXEC,
        Some(netlink::NETFILTER),
    )
    .context("cannot open a netfilter netlink socket")?;
    rustix::net::bind(&sock, &netlink::SocketAddrNetlink::new(0, 0))
        .context("cannot bind the netlink socket")?;
    let _ = sockopt::set_socket_recv_buffer_size(&sock, RECV_BUFFER);
    let mut cmd = Vec::new();
    cmd.extend_from_slice(&[NFQNL_CFG_CMD_BIND, 0]);
    cmd.extend_from_slice(&0u16.to_be_bytes());
    request(&sock, queue, AF_UNSPEC, &[(NFQA_CFG_CMD, cmd)])
        .with_context(|| format!("cannot bind NFQUEUE {queue} (is another delayer bound?)"))?;
    let mut params = 0u32.to_be_bytes().to_vec();
    params.push(NFQNL_COPY_META);
    request(
        &sock,
        queue,
        AF_INET,
        &[
            (NFQA_CFG_PARAMS, params),
            (NFQA_CFG_QUEUE_MAXLEN, QUEUE_MAXLEN.to_be_bytes().to_vec()),
            (NFQA_CFG_MASK, NFQA_CFG_F_FAIL_OPEN.to_be_bytes().to_vec()),
            (NFQA_CFG_FLAGS, NFQA_CFG_F_FAIL_OPEN.to_be_bytes().to_vec()),
        ],
    )
    .context("cannot configure the NFQUEUE")?;
    Ok(sock)
}

/// Sends one config message and reads the kernel's acknowledgement.
fn request(sock: &OwnedFd, queue: u16, family: u8, attrs: &[(u16, Vec<u8>)]) -> anyhow::Result<()> {
    let msg = message(
        NFQNL_MSG_CONFIG,
        NLM_F_REQUEST | NLM_F_ACK,
        family,
        queue,
        attrs,
    );
    sendto(
        sock,
        &msg,
        SendFlags::empty(),
        &netlink::SocketAddrNetlink::new(0, 0),
    )?;
    sockopt::set_socket_timeout(sock, sockopt::Timeout::Recv, Some(Duration::from_secs(5)))?;
    let mut buf = vec![0u8; READ_BYTES];
    let (_, n) = recv(sock, &mut buf[..], RecvFlags::empty())?;
    for (ty, body) in messages(&buf[..n]) {
        if ty == NLMSG_ERROR && body.len() >= 4 {
            let code = i32::from_ne_bytes(body[..4].try_into().expect("4 bytes"));
            if code != 0 {
                bail!(
                    "the kernel refused: {}",
                    std::io::Error::from_raw_os_error(-code)
                );
            }
            return Ok(());
        }
    }
    bail!("no acknowledgement from the kernel")
}

/// One nfnetlink message of the queue subsystem.
fn message(kind: u16, flags: u16, family: u8, queue: u16, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![family, 0];
    body.extend_from_slice(&queue.to_be_bytes());
    for (ty, payload) in attrs {
        let len = u16::try_from(4 + payload.len()).expect("small attribute");
        body.extend_from_slice(&len.to_ne_bytes());
        body.extend_from_slice(&ty.to_ne_bytes());
        body.extend_from_slice(payload);
        while body.len() % 4 != 0 {
            body.push(0);
        }
    }
    let total = u32::try_from(NLMSG_HDR + body.len()).expect("small message");
    let mut m = Vec::with_capacity(total as usize);
    m.extend_from_slice(&total.to_ne_bytes());
    m.extend_from_slice(&((NFNL_SUBSYS_QUEUE << 8) | kind).to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // sequence
    m.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    m.extend_from_slice(&body);
    m
}

/// The (type, body) of each netlink message in `buf`.
fn messages(buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + NLMSG_HDR <= buf.len() {
        let len = u32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
        let ty = u16::from_ne_bytes(buf[at + 4..at + 6].try_into().expect("2 bytes"));
        if len < NLMSG_HDR || at + len > buf.len() {
            break;
        }
        out.push((ty, &buf[at + NLMSG_HDR..at + len]));
        at += len.div_ceil(4) * 4;
    }
    out
}

/// The packet id of a queued-packet message body (after the nfgenmsg header).
fn packet_id(body: &[u8]) -> Option<u32> {
    let mut at = NFGEN_HDR;
    while at + 4 <= body.len() {
        let len = usize::from(u16::from_ne_bytes(body[at..at + 2].try_into().ok()?));
        let ty = u16::from_ne_bytes(body[at + 2..at + 4].try_into().ok()?) & 0x3fff;
        if len < 4 || at + len > body.len() {
            return None;
        }
        if ty == NFQA_PACKET_HDR && len >= 8 {
            return Some(u32::from_be_bytes(body[at + 4..at + 8].try_into().ok()?));
        }
        at += len.div_ceil(4) * 4;
    }
    None
}

fn accept(sock: &OwnedFd, id: u32) {
    let mut hdr = NF_ACCEPT.to_be_bytes().to_vec();
    hdr.extend_from_slice(&id.to_be_bytes());
    let msg = message(
        NFQNL_MSG_VERDICT,
        NLM_F_REQUEST,
        AF_UNSPEC,
        QUEUE,
        &[(NFQA_VERDICT_HDR, hdr)],
    );
    // A verdict the kernel cannot take (the packet is gone) needs no retry.
    let _ = sendto(
        sock,
        &msg,
        SendFlags::empty(),
        &netlink::SocketAddrNetlink::new(0, 0),
    );
}

fn delay_loop(sock: &OwnedFd, delay: Duration, jitter: Duration, stop: &AtomicBool) {
    let mut held: BinaryHeap<Reverse<(Instant, u32)>> = BinaryHeap::new();
    let mut rng = Rng::seeded();
    let mut buf = vec![0u8; READ_BYTES];
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        while let Some(Reverse((due, id))) = held.peek().copied() {
            if due > now {
                break;
            }
            held.pop();
            accept(sock, id);
        }
        let wait = held
            .peek()
            .map_or(IDLE_WAKE, |Reverse((due, _))| {
                due.saturating_duration_since(now)
            })
            .clamp(Duration::from_millis(1), IDLE_WAKE);
        let _ = sockopt::set_socket_timeout(sock, sockopt::Timeout::Recv, Some(wait));
        let Ok((_, n)) = recv(sock.as_fd(), &mut buf[..], RecvFlags::empty()) else {
            continue; // timeout, or ENOBUFS after a burst (fail-open accepted those)
        };
        let arrived = Instant::now();
        for (ty, body) in messages(&buf[..n]) {
            if ty == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET
                && let Some(id) = packet_id(body)
            {
                held.push(Reverse((arrived + rng.hold(delay, jitter), id)));
            }
        }
    }
    for Reverse((_, id)) in held.into_vec() {
        accept(sock, id);
    }
}

/// xorshift64*: jitter needs spread, not quality, and no dependency.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Rng(t | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `delay` plus a uniform offset in `[-jitter, +jitter]`, never below zero.
    fn hold(&mut self, delay: Duration, jitter: Duration) -> Duration {
        let j = u64::try_from(jitter.as_micros()).unwrap_or(u64::MAX / 4);
        if j == 0 {
            return delay;
        }
        let offset = self.next() % (2 * j + 1);
        let d = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX / 4);
        Duration::from_micros((d + offset).saturating_sub(j))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let m = message(
            NFQNL_MSG_PACKET,
            0,
            AF_INET,
            7,
            &[(NFQA_PACKET_HDR, vec![0, 0, 1, 2, 8, 0, 3])],
        );
        let parsed = messages(&m);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET);
        assert_eq!(packet_id(parsed[0].1), Some(258));
    }

    #[test]
    fn holds_stay_within_the_jitter() {
        let mut r = Rng::seeded();
        for _ in 0..1000 {
            let h = r.hold(Duration::from_millis(10), Duration::from_millis(20));
            assert!(h <= Duration::from_millis(30), "{h:?}");
        }
        assert_eq!(
            r.hold(Duration::from_millis(10), Duration::ZERO),
            Duration::from_millis(10)
        );
    }
}
