//! Timeouts derived from the totem options, computed the way Corosync 3.1 computes them.

use super::model::TotemOptions;

/// Corosync 3.1's default token timeout. Kept as one named constant on purpose: a later
/// Tandem release may choose a faster default, and will say so; a corosync.conf that sets
/// `token` is always honoured.
pub const DEFAULT_TOKEN_MS: u64 = 3000;
/// Added to the token timeout for every node beyond two (nodelist with 3+ nodes).
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
        let configured = t.token_ms.unwrap_or(DEFAULT_TOKEN_MS);
        let coefficient = t
            .token_coefficient_ms
            .unwrap_or(DEFAULT_TOKEN_COEFFICIENT_MS);
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
    fn corosync_defaults_for_two_and_three_nodes() {
        let t = TotemOptions::default();
        let two = Timing::derive(&t, 2);
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
