//! The messages inside sealed packets, encoded with postcard.
//!
//! Enums here are append-only: a new variant goes at the end, so an older node decodes what
//! it knows and drops the rest as malformed (counted, harmless).

use serde::{Deserialize, Serialize};

use crate::NodeId;
use crate::quorum::NodeInfo;

/// Largest application payload of one broadcast; a packet must fit one UDP datagram with
/// headers and the sealing overhead. Larger payloads are refused at submission.
pub const MAX_PAYLOAD_BYTES: usize = 60_000;
/// Longest process-group name (CPG allows 128; our services use short names).
pub const MAX_GROUP_NAME: usize = 64;
/// Gaps asked for in one NACK; more are asked for on the next retransmit tick.
pub const MAX_NACK_SEQS: usize = 64;
/// Out-of-order ranges one flush report carries; a longer tail is simply not offered,
/// which can only shorten the agreed flush, never break it.
pub const MAX_REPORT_RANGES: usize = 16;
/// Groups one node may announce.
pub const MAX_GROUPS: usize = 64;

/// A ring (view) id: the representative (coordinator and sequencer) and a sequence number.
/// Ordered by sequence first; shown as Corosync does, `<rep>.<seq in hex>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct RingId {
    pub rep: NodeId,
    pub seq: u64,
}

impl PartialOrd for RingId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RingId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.seq, self.rep).cmp(&(other.seq, other.rep))
    }
}

impl std::fmt::Display for RingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:x}", self.rep, self.seq)
    }
}

/// Heartbeat, sent on every link to every other node each ping interval; also how nodes
/// discover each other and notice that a membership change is under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub link: u8,
    /// The installed view's ring.
    pub ring: RingId,
    /// Set while the sender is forming a new view (gathering, proposing or recovering).
    pub forming: bool,
    /// The proposal the sender accepted, if any.
    pub proposal: Option<RingId>,
    /// Highest ring sequence the sender has seen or used.
    pub max_ring_seq: u64,
    /// In `ring`: highest seq delivered by the sender.
    pub delivered: u64,
    /// In `ring`, from its sequencer: highest seq assigned and the stable mark.
    pub max_seq: u64,
    pub stable: u64,
}

/// Flush report: what a member holds of its old view when it accepts a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub old_ring: RingId,
    /// Delivered prefix `1..=delivered` (frozen while forming).
    pub delivered: u64,
    /// Lowest seq still held; everything in `held_from..=delivered` is held.
    pub held_from: u64,
    /// Inclusive ranges above `delivered` that are held (received out of order).
    pub extra: Vec<(u64, u64)>,
}

/// A coordinator's proposal for the next view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Propose {
    pub ring: RingId,
    pub members: Vec<NodeId>,
}

/// The agreed view and every member's flush report; each member computes the same flush
/// plan from the reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub ring: RingId,
    pub members: Vec<NodeId>,
    pub reports: Vec<(NodeId, Report)>,
}

/// What travels in the total order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// An application message for a process group.
    App {
        group: String,
        payload: Vec<u8>,
    },
    /// First message of every member in a new view: its groups, votequorum nodeinfo, and
    /// per sender the last (boot, local id) it delivered (for duplicate suppression).
    Sync {
        groups: Vec<String>,
        info: NodeInfo,
        delivered: Vec<(NodeId, u64, u64)>,
    },
    Join {
        group: String,
    },
    Leave {
        group: String,
    },
    /// `tandem quorum -e N`.
    SetExpected {
        votes: u32,
    },
}

/// A member asks the sequencer to order a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submit {
    pub ring: RingId,
    /// Per-view FIFO number from this sender, 1, 2, ...
    pub sender_seq: u64,
    /// Per-boot id of the message at its sender (survives resubmission in a later view).
    pub local_id: u64,
    pub body: Body,
}

/// A sequenced message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Data {
    pub ring: RingId,
    pub seq: u64,
    pub stable: u64,
    pub sender: NodeId,
    pub sender_boot: u64,
    pub local_id: u64,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    Hello(Hello),
    Propose(Propose),
    Accept {
        ring: RingId,
        report: Report,
    },
    Reject {
        ring: RingId,
        max_ring_seq: u64,
    },
    Commit(Commit),
    Submit(Submit),
    Data(Data),
    Nack {
        ring: RingId,
        seqs: Vec<u64>,
    },
    Ack {
        ring: RingId,
        delivered: u64,
    },
    /// From the sequencer, as soon as the stable mark rises: every member of `ring`
    /// delivered every message up to `stable` (what makes delivery *safe*).
    Stable {
        ring: RingId,
        stable: u64,
    },
}

impl Message {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("in-memory postcard encoding cannot fail")
    }

    /// Decodes a body; `None` for anything that is not a well-formed message within limits.
    pub fn decode(bytes: &[u8]) -> Option<Message> {
        let (m, rest): (Message, &[u8]) = postcard::take_from_bytes(bytes).ok()?;
        (rest.is_empty() && m.within_limits()).then_some(m)
    }

    fn within_limits(&self) -> bool {
        let body_ok = |b: &Body| match b {
            Body::App { group, payload } => {
                group.len() <= MAX_GROUP_NAME && payload.len() <= MAX_PAYLOAD_BYTES
            }
            Body::Sync {
                groups, delivered, ..
            } => {
                groups.len() <= MAX_GROUPS
                    && groups.iter().all(|g| g.len() <= MAX_GROUP_NAME)
                    && delivered.len() <= crate::config::MAX_NODES
            }
            Body::Join { group } | Body::Leave { group } => group.len() <= MAX_GROUP_NAME,
            Body::SetExpected { .. } => true,
        };
        let report_ok =
            |r: &Report| r.extra.len() <= MAX_REPORT_RANGES && r.held_from <= r.delivered + 1;
        match self {
            Message::Hello(_)
            | Message::Reject { .. }
            | Message::Ack { .. }
            | Message::Stable { .. } => true,
            Message::Propose(p) => p.members.len() <= crate::config::MAX_NODES,
            Message::Accept { report, .. } => report_ok(report),
            Message::Commit(c) => {
                c.members.len() <= crate::config::MAX_NODES
                    && c.reports.len() <= crate::config::MAX_NODES
                    && c.reports.iter().all(|(_, r)| report_ok(r))
            }
            Message::Submit(s) => body_ok(&s.body),
            Message::Data(d) => body_ok(&d.body),
            Message::Nack { seqs, .. } => seqs.len() <= MAX_NACK_SEQS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ring_id_order_and_display() {
        let a = RingId { rep: 3, seq: 8 };
        let b = RingId { rep: 1, seq: 16 };
        assert!(a < b);
        assert_eq!(b.to_string(), "1.10");
    }

    #[test]
    fn round_trip_and_limits() {
        let m = Message::Data(Data {
            ring: RingId { rep: 1, seq: 4 },
            seq: 9,
            stable: 3,
            sender: 2,
            sender_boot: 77,
            local_id: 5,
            body: Body::App {
                group: "cib".into(),
                payload: vec![1, 2, 3],
            },
        });
        assert_eq!(Message::decode(&m.encode()), Some(m.clone()));
        let mut trailing = m.encode();
        trailing.push(0);
        assert_eq!(Message::decode(&trailing), None);
        let big = Message::Nack {
            ring: RingId::default(),
            seqs: vec![1; MAX_NACK_SEQS + 1],
        };
        assert_eq!(Message::decode(&big.encode()), None);
    }

    proptest! {
        #[test]
        fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Message::decode(&bytes);
        }
    }
}
