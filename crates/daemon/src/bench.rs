//! The ordered-broadcast benchmark (like corosync's cpgbench), run inside the daemon so the
//! figures measure the protocol and the sockets, not an IPC round trip per message.
//!
//! The daemon broadcasts `count` messages of `size` bytes to the benchmark group, keeping at
//! most `window` undelivered, and measures each message's latency from submission to its
//! delivery back to this node in the total order (which requires the sequencer's round
//! trip). Every other daemon orders and receives the same messages.

use std::collections::BTreeMap;
use std::time::Instant;

use tandem_totem::{Input, Output};
use tokio::sync::oneshot;

use crate::ipc::{BenchResult, Response};
use crate::run::{BENCH_GROUP, Daemon};

/// Largest benchmark message (one datagram).
pub const MAX_BENCH_SIZE: usize = tandem_totem::wire::MAX_PAYLOAD_BYTES;

pub(crate) struct BenchRun {
    count: u64,
    size: usize,
    window: u64,
    sent: u64,
    done: u64,
    started: Instant,
    sent_at: BTreeMap<u64, Instant>,
    latencies_us: Vec<u64>,
    reply: Option<oneshot::Sender<Response>>,
}

impl BenchRun {
    pub(crate) fn new(
        count: u64,
        size: usize,
        window: u64,
        reply: oneshot::Sender<Response>,
    ) -> BenchRun {
        BenchRun {
            count,
            size: size.clamp(8, MAX_BENCH_SIZE),
            window: window.max(1),
            sent: 0,
            done: 0,
            started: Instant::now(),
            sent_at: BTreeMap::new(),
            latencies_us: Vec::new(),
            reply: Some(reply),
        }
    }

    fn record(&mut self, outs: &[Output], me: u32) {
        for o in outs {
            if let Output::Deliver(d) = o
                && d.group == BENCH_GROUP
                && d.sender == me
                && d.payload.len() >= 8
            {
                let n = u64::from_be_bytes(d.payload[..8].try_into().expect("8 bytes checked"));
                if let Some(t) = self.sent_at.remove(&n) {
                    self.latencies_us.push(t.elapsed().as_micros() as u64);
                    self.done += 1;
                }
            }
        }
    }

    fn result(&mut self) -> BenchResult {
        self.latencies_us.sort_unstable();
        let pct = |p: f64| {
            let v = &self.latencies_us;
            if v.is_empty() {
                0
            } else {
                v[((v.len() - 1) as f64 * p).round() as usize]
            }
        };
        BenchResult {
            messages: self.done,
            bytes: self.done * self.size as u64,
            seconds: self.started.elapsed().as_secs_f64(),
            latency_us_p50: pct(0.5),
            latency_us_p99: pct(0.99),
            latency_us_max: self.latencies_us.last().copied().unwrap_or(0),
        }
    }
}

impl Daemon {
    /// Accounts deliveries and keeps the window full; answers when all were delivered.
    pub(crate) fn bench_progress(&mut self, outs: &[Output]) {
        let me = self.me();
        let Some(b) = self.bench.as_mut() else { return };
        b.record(outs, me);
        loop {
            let Some(b) = self.bench.as_mut() else { return };
            if b.sent >= b.count || b.sent - b.done >= b.window {
                break;
            }
            let n = b.sent;
            let mut payload = vec![0u8; b.size];
            payload[..8].copy_from_slice(&n.to_be_bytes());
            b.sent += 1;
            b.sent_at.insert(n, Instant::now());
            let outs = self.input_inner(Input::Broadcast {
                group: BENCH_GROUP.into(),
                payload,
            });
            let b = self.bench.as_mut().expect("still running");
            if outs.iter().any(|o| matches!(o, Output::Refused(_))) {
                b.sent -= 1;
                b.sent_at.remove(&n);
                break;
            }
            b.record(&outs, me);
        }
        let b = self.bench.as_mut().expect("still running");
        if b.done >= b.count {
            let r = b.result();
            if let Some(tx) = b.reply.take() {
                let _ = tx.send(Response::Bench(r));
            }
            self.bench = None;
        }
    }
}
