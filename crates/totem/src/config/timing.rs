//! Timeouts derived from the totem options, computed the way Corosync 3.1 computes them —
//! except for Tandem's own default token when a corosync.conf does not set one.
//!
//! # Tandem's defaults and why they differ from Corosync's
//!
//! Corosync 3 defaults to `token: 3000` plus `token_coefficient: 650` per node beyond two
//! (3650 ms for three nodes), because its token must travel around a ring of every node and
//! knet's heartbeats are tuned to that. Tandem has no ring: every node sends a heartbeat to
//! every other node every `token / (pong_count × 2)` and declares a node dead after `token`
//! without any packet from it (see the crate docs). Detection therefore does not grow with
//! the number of nodes, and the token only has to outlast the longest silence a live node
//! can show: lost heartbeats and a daemon that does not get the CPU.
//!
//! So when `token` is **not** set, Tandem uses [`TANDEM_DEFAULT_TOKEN_MS`] (800 ms) with no
//! per-node coefficient ([`TANDEM_DEFAULT_TOKEN_COEFFICIENT_MS`] = 0):
//!
//! * Heartbeats go out every 200 ms, so a live node looks dead after three lost in a row
//!   when the fourth is delayed more than the last one heard (a silence of 800 ms plus the
//!   difference of two network delays): at 2 % loss about 0.02³ / 2 = 4·10⁻⁶ per heartbeat,
//!   a few times a day for a pair of nodes under a sustained 2 % loss. `bench/failover`'s
//!   soak (2 % loss, 0–40 ms delay) has seen it once in four 10-minute runs (BENCHMARKS.md);
//!   a grace of a fraction of the interval on the token would make it four in a row (0.02⁴).
//! * A hard failure is detected 600–800 ms after it happens (the token less the time since
//!   the node's last heartbeat), which leaves the rest of a sub-second failover (one join
//!   window, the membership round, scheduling, starting the resources) 200–400 ms.
//! * The daemon asks for realtime scheduling (`SCHED_RR`, as Corosync does) so that busy
//!   CPUs do not delay its heartbeats; where that is refused it says so in its log.
//! * `consensus` stays 1.2 × token (960 ms), `join` 50 ms: a membership round on a live
//!   network takes a few milliseconds, and a stalled one is retried after consensus.
//! * Heartbeats fall on the wall clock's multiples of their interval (`Params::hello_phase`):
//!   nodes whose clocks agree send theirs at the same instants, so a node often takes its
//!   peers' heartbeats in the wake-up that sends its own instead of waking once per peer.
//!   An idle node's CPU is mostly the cost of its wake-ups. The interval and the detection
//!   time are the same whether clocks agree or not.
//!
//! A corosync.conf that sets `token` is honoured exactly as Corosync would: the configured
//! value plus Corosync's 650 ms coefficient per node beyond two, unless `token_coefficient`
//! is set too. Every other option keeps Corosync's default. `tandem cmap` shows the
//! effective values (`runtime.config.totem.*`).

use super::model::TotemOptions;

/// Corosync 3.1's default token timeout, the base of the derived timeouts when a
/// corosync.conf sets `token` (so its coefficient rule applies too).
pub const DEFAULT_TOKEN_MS: u64 = 3000;
/// Tandem's token timeout when a corosync.conf does not set `token` (module docs: why).
pub const TANDEM_DEFAULT_TOKEN_MS: u64 = 800;
/// Tandem's per-node coefficient with its default token: detection by all-to-all
/// heartbeats does not slow down as nodes are added.
pub const TANDEM_DEFAULT_TOKEN_COEFFICIENT_MS: u64 = 0;
/// Corosync's default `token_coefficient`: added to a configured token timeout for every
/// node beyond two (nodelist with 3+ nodes).
pub const DEFAULT_TOKEN_COEFFICIENT_MS: u64 = 650;
/// Default `consensus` is 1.2 × the (effective) token timeout.
pub const DEFAULT_CONSENSUS_FACTOR: f64 = 1.2;
/// Default `join` timeout.
pub const DEFAULT_JOIN_MS: u64 = 50;
/// Default `token_retransmits_before_loss_const`.
pub const DEFAULT_RETRANSMITS_BEFORE_LOSS: u64 = 4;
/// Default `knet_pong_count`.
pub const DEFAULT_PONG_COUNT: u64 = 2;
/// Corosync never lets `token_retransmit` drop below this.
const MIN_TOKEN_RETRANSMIT_MS: u64 = 30;
/// Kernel tick assumed by Corosync's `hold` formula (`1000 / HZ`).
const HZ: u64 = 100;

/// Every derived timeout, in milliseconds (`runtime.config.totem.*` in cmap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Effective token timeout: `token + (nodes - 2) × token_coefficient` for 3+ nodes.
    pub token_ms: u64,
    /// The configured (or default) token timeout before scaling.
    pub configured_token_ms: u64,
    /// `token` was not set: Tandem's default applies (module docs).
    pub tandem_default_token: bool,
    pub token_coefficient_ms: u64,
    pub token_retransmits_before_loss_const: u64,
    pub token_retransmit_ms: u64,
    pub hold_ms: u64,
    pub consensus_ms: u64,
    pub join_ms: u64,
    pub send_join_ms: u64,
    pub merge_ms: u64,
    pub downcheck_ms: u64,
    pub fail_recv_const: u64,
    pub seqno_unchanged_const: u64,
    pub max_network_delay_ms: u64,
    pub window_size: u64,
    pub max_messages: u64,
    pub miss_count_const: u64,
    pub token_warning: u64,
    /// Per-link heartbeat interval: `token / (pong_count × 2)` unless set.
    pub ping_interval_ms: u64,
    /// A link is down after this long without a packet: `token / pong_count` unless set.
    pub ping_timeout_ms: u64,
    pub pong_count: u64,
}

impl Timing {
    /// Derives the timeouts for a cluster of `node_count` nodelist entries.
    pub fn derive(t: &TotemOptions, node_count: usize) -> Timing {
        let tandem_default = t.token_ms.is_none();
        let (configured, default_coefficient) = match t.token_ms {
            Some(token) => (token, DEFAULT_TOKEN_COEFFICIENT_MS),
            None => (TANDEM_DEFAULT_TOKEN_MS, TANDEM_DEFAULT_TOKEN_COEFFICIENT_MS),
        };
        let coefficient = t.token_coefficient_ms.unwrap_or(default_coefficient);
        let mut token = configured;
        if node_count >= 3 {
            token += (node_count as u64 - 2) * coefficient;
        }
        let retransmits = t
            .token_retransmits_before_loss_const
            .unwrap_or(DEFAULT_RETRANSMITS_BEFORE_LOSS);
        // token_retransmit = token / (retransmits + 0.2), in integer arithmetic.
        let token_retransmit = t
            .token_retransmit_ms
            .unwrap_or_else(|| (token * 10 / (retransmits * 10 + 2)).max(MIN_TOKEN_RETRANSMIT_MS));
        let hold = t
            .hold_ms
            .unwrap_or_else(|| (token_retransmit * 8 / 10).saturating_sub(1000 / HZ));
        let consensus = t
            .consensus_ms
            .unwrap_or_else(|| (token as f64 * DEFAULT_CONSENSUS_FACTOR).round() as u64);
        let pong_count = t
            .interfaces
            .values()
            .find_map(|i| i.knet_pong_count)
            .unwrap_or(DEFAULT_PONG_COUNT)
            .max(1);
        let ping_interval = t
            .interfaces
            .values()
            .find_map(|i| i.knet_ping_interval_ms)
            .unwrap_or(token / (pong_count * 2));
        let ping_timeout = t
            .interfaces
            .values()
            .find_map(|i| i.knet_ping_timeout_ms)
            .unwrap_or(token / pong_count);
        Timing {
            token_ms: token,
            configured_token_ms: configured,
            tandem_default_token: tandem_default,
            token_coefficient_ms: coefficient,
            token_retransmits_before_loss_const: retransmits,
            token_retransmit_ms: token_retransmit,
            hold_ms: hold,
            consensus_ms: consensus,
            join_ms: t.join_ms.unwrap_or(DEFAULT_JOIN_MS),
            send_join_ms: t.send_join_ms.unwrap_or(0),
            merge_ms: t.merge_ms.unwrap_or(200),
            downcheck_ms: t.downcheck_ms.unwrap_or(1000),
            fail_recv_const: t.fail_recv_const.unwrap_or(2500),
            seqno_unchanged_const: t.seqno_unchanged_const.unwrap_or(30),
            max_network_delay_ms: t.max_network_delay_ms.unwrap_or(50),
            window_size: t.window_size.unwrap_or(50),
            max_messages: t.max_messages.unwrap_or(17),
            miss_count_const: t.miss_count_const.unwrap_or(5),
            token_warning: t.token_warning.unwrap_or(75),
            ping_interval_ms: ping_interval.max(1),
            ping_timeout_ms: ping_timeout.max(2),
            pong_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tandem_defaults_without_token_do_not_scale_with_nodes() {
        let t = TotemOptions::default();
        for nodes in [2, 3, 5, 16] {
            let d = Timing::derive(&t, nodes);
            assert_eq!(d.token_ms, 800, "{nodes} nodes");
            assert!(d.tandem_default_token);
            assert_eq!(d.configured_token_ms, 800);
            assert_eq!(d.token_coefficient_ms, 0);
            assert_eq!(d.consensus_ms, 960);
            assert_eq!(d.token_retransmit_ms, 190);
            assert_eq!(d.hold_ms, 142);
            assert_eq!(d.join_ms, 50);
            assert_eq!(d.ping_interval_ms, 200);
            assert_eq!(d.ping_timeout_ms, 400);
        }
    }

    #[test]
    fn an_explicit_token_follows_corosync_for_two_and_three_nodes() {
        let t = TotemOptions {
            token_ms: Some(3000),
            ..TotemOptions::default()
        };
        let two = Timing::derive(&t, 2);
        assert!(!two.tandem_default_token);
        assert_eq!(two.token_ms, 3000);
        assert_eq!(two.consensus_ms, 3600);
        assert_eq!(two.token_retransmit_ms, 714);
        assert_eq!(two.hold_ms, 561);
        assert_eq!(two.join_ms, 50);
        assert_eq!(two.ping_interval_ms, 750);
        assert_eq!(two.ping_timeout_ms, 1500);
        let three = Timing::derive(&t, 3);
        assert_eq!(three.token_ms, 3650);
        assert_eq!(three.consensus_ms, 4380);
        let five = Timing::derive(&t, 5);
        assert_eq!(five.token_ms, 3000 + 3 * 650);
        let short = TotemOptions {
            token_ms: Some(1000),
            ..TotemOptions::default()
        };
        assert_eq!(Timing::derive(&short, 3).token_ms, 1650);
    }

    #[test]
    fn a_coefficient_without_token_scales_tandems_default() {
        let t = TotemOptions {
            token_coefficient_ms: Some(100),
            ..TotemOptions::default()
        };
        let d = Timing::derive(&t, 4);
        assert_eq!(d.token_ms, 800 + 2 * 100);
        assert_eq!(d.configured_token_ms, 800);
        assert!(d.tandem_default_token);
    }

    #[test]
    fn explicit_values_win_and_coefficient_zero_disables_scaling() {
        let t = TotemOptions {
            token_ms: Some(1000),
            token_coefficient_ms: Some(0),
            consensus_ms: Some(5000),
            ..TotemOptions::default()
        };
        let d = Timing::derive(&t, 4);
        assert_eq!(d.token_ms, 1000);
        assert_eq!(d.consensus_ms, 5000);
        assert_eq!(d.token_retransmit_ms, 238);
    }
}
