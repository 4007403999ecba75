//! The node layer's messages in the process group [`GROUP`], and their framing.
//!
//! A message is `WIRE_VERSION` (one byte) followed by a postcard `Frame`; a body larger
//! than [`FRAGMENT_BYTES`] travels as numbered parts that the receivers put back together
//! per sender (totem delivers one sender's messages in the order sent, so the parts arrive
//! in order). A receiver that meets an unknown version logs it once and ignores the message.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tandem_totem::NodeId;
use tandem_totem::wire::MAX_PAYLOAD_BYTES;

use crate::cibops::CibOp;
use crate::controller::OpSpec;

/// The process group every node joins.
pub const GROUP: &str = "tandem-node";

/// Version of the framing and of [`Body`]; bumped on incompatible changes.
pub const WIRE_VERSION: u8 = 1;

/// Largest piece of a body in one totem message (room left for the frame header).
pub const FRAGMENT_BYTES: usize = MAX_PAYLOAD_BYTES - 1024;

/// Longest body accepted from the group (a CIB of this size is far beyond any real one).
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// Identifies a sync round: the ring and the group members it started with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Round {
    pub ring_rep: NodeId,
    pub ring_seq: u64,
    pub members: Vec<NodeId>,
}

/// Who sent a request, so the origin can answer its client once it is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub node: NodeId,
    pub boot: u64,
    /// The origin's operation number (growing per boot; a local client may wait for it).
    pub req: u64,
}

/// An operation for node `target` to run, as the DC's controller specified it
/// ([`OpSpec`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecMsg {
    pub target: String,
    pub rsc_id: String,
    pub class: String,
    pub provider: Option<String>,
    pub kind: String,
    pub action: String,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub params: BTreeMap<String, String>,
    pub meta: BTreeMap<String, String>,
    pub transition_key: String,
    pub target_rc: i32,
}

impl ExecMsg {
    pub fn new(target: &str, s: OpSpec) -> ExecMsg {
        ExecMsg {
            target: target.to_string(),
            rsc_id: s.rsc_id,
            class: s.class,
            provider: s.provider,
            kind: s.kind,
            action: s.action,
            interval_ms: s.interval_ms,
            timeout_ms: s.timeout_ms,
            params: s.params,
            meta: s.meta,
            transition_key: s.transition_key,
            target_rc: s.target_rc,
        }
    }

    pub fn into_spec(self) -> OpSpec {
        OpSpec {
            rsc_id: self.rsc_id,
            class: self.class,
            provider: self.provider,
            kind: self.kind,
            action: self.action,
            interval_ms: self.interval_ms,
            timeout_ms: self.timeout_ms,
            params: self.params,
            meta: self.meta,
            transition_key: self.transition_key,
            target_rc: self.target_rc,
        }
    }
}

/// Everything said in the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// A member's CIB version at the start of a sync round.
    SyncVersion {
        round: Round,
        version: (u64, u64, u64),
        digest: String,
        /// Sequence of the last ring in which the sender finished a sync with quorum.
        quorate_seq: u64,
        /// Where the sender has been since it was last synced: the ring of its last
        /// completed round, then every ring it installed since (this one last).
        came_from: Vec<tandem_totem::wire::RingId>,
        /// The sender's transient attributes, to be re-asserted where the winning CIB
        /// lacks them (empty until the sender completed a round in this boot).
        attrs: Vec<crate::cibops::AttrEntry>,
        /// Transient attributes the sender saw deleted (see `Node::attr_deleted`).
        deleted: Vec<(String, String)>,
    },
    /// The round's winner sends its CIB.
    SyncCib { round: Round, xml: String },
    /// The DC asks a node to run an operation.
    Exec(ExecMsg),
    /// A replicated CIB change.
    Op {
        origin: Origin,
        epoch_s: i64,
        op: CibOp,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Frame {
    Whole(Vec<u8>),
    Part {
        id: u64,
        index: u32,
        total: u32,
        bytes: Vec<u8>,
    },
}

fn frame(f: &Frame) -> Vec<u8> {
    let mut out = vec![WIRE_VERSION];
    out.extend(postcard::to_stdvec(f).expect("frames always serialise"));
    out
}

/// Encodes `body` into one or more payloads; `id` numbers the fragmented message.
pub fn encode(body: &Body, id: u64) -> Vec<Vec<u8>> {
    let bytes = postcard::to_stdvec(body).expect("bodies always serialise");
    if bytes.len() <= FRAGMENT_BYTES {
        return vec![frame(&Frame::Whole(bytes))];
    }
    let chunks: Vec<&[u8]> = bytes.chunks(FRAGMENT_BYTES).collect();
    let total = u32::try_from(chunks.len()).expect("bodies are far below 4G fragments");
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            frame(&Frame::Part {
                id,
                index: u32::try_from(i).expect("checked above"),
                total,
                bytes: c.to_vec(),
            })
        })
        .collect()
}

#[derive(Debug, Default)]
struct Partial {
    id: u64,
    next: u32,
    total: u32,
    bytes: Vec<u8>,
}

/// Puts fragmented bodies back together, per sender incarnation.
#[derive(Debug, Default)]
pub struct Reassembler {
    partial: BTreeMap<(NodeId, u64), Partial>,
}

/// What one payload gave.
#[derive(Debug)]
pub enum Decoded {
    Body(Body),
    /// A part of a longer body; more to come.
    Incomplete,
    Bad(String),
}

impl Reassembler {
    /// Takes one delivered payload of `sender` (incarnation `boot`).
    pub fn take(&mut self, sender: NodeId, boot: u64, payload: &[u8]) -> Decoded {
        let Some((&v, rest)) = payload.split_first() else {
            return Decoded::Bad("empty message".into());
        };
        if v != WIRE_VERSION {
            return Decoded::Bad(format!(
                "message of wire version {v} (this node speaks {WIRE_VERSION})"
            ));
        }
        let f: Frame = match postcard::from_bytes(rest) {
            Ok(f) => f,
            Err(e) => return Decoded::Bad(format!("malformed frame: {e}")),
        };
        let whole = match f {
            Frame::Whole(b) => b,
            Frame::Part {
                id,
                index,
                total,
                bytes,
            } => match self.part(sender, boot, id, index, total, bytes) {
                Some(b) => b,
                None => return Decoded::Incomplete,
            },
        };
        match postcard::from_bytes(&whole) {
            Ok(b) => Decoded::Body(b),
            Err(e) => Decoded::Bad(format!("malformed body: {e}")),
        }
    }

    fn part(
        &mut self,
        sender: NodeId,
        boot: u64,
        id: u64,
        index: u32,
        total: u32,
        bytes: Vec<u8>,
    ) -> Option<Vec<u8>> {
        self.partial.retain(|(n, b), _| *n != sender || *b == boot);
        let p = self.partial.entry((sender, boot)).or_default();
        if index == 0 {
            *p = Partial {
                id,
                next: 0,
                total,
                bytes: Vec::new(),
            };
        }
        if p.id != id || p.next != index || p.total != total {
            self.partial.remove(&(sender, boot));
            return None;
        }
        p.bytes.extend(bytes);
        p.next += 1;
        if p.bytes.len() > MAX_BODY_BYTES {
            self.partial.remove(&(sender, boot));
            return None;
        }
        if p.next < p.total {
            return None;
        }
        self.partial.remove(&(sender, boot)).map(|p| p.bytes)
    }

    /// Forgets the parts of senders no longer in the group.
    pub fn retain_members(&mut self, members: &[NodeId]) {
        self.partial.retain(|(n, _), _| members.contains(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_bodies_travel_in_parts_and_come_back_whole() {
        let round = Round {
            ring_rep: 1,
            ring_seq: 4,
            members: vec![1, 2],
        };
        let body = Body::SyncCib {
            round,
            xml: "x".repeat(3 * FRAGMENT_BYTES),
        };
        let parts = encode(&body, 7);
        assert_eq!(parts.len(), 4);
        assert!(parts.iter().all(|p| p.len() <= MAX_PAYLOAD_BYTES));
        let mut r = Reassembler::default();
        for p in &parts[..3] {
            assert!(matches!(r.take(1, 9, p), Decoded::Incomplete));
        }
        match r.take(1, 9, &parts[3]) {
            Decoded::Body(b) => assert_eq!(b, body),
            other => panic!("{other:?}"),
        }
        // A missing part drops the message instead of gluing wrong pieces.
        assert!(matches!(r.take(1, 9, &parts[0]), Decoded::Incomplete));
        assert!(matches!(r.take(1, 9, &parts[2]), Decoded::Incomplete));
        assert!(matches!(r.take(1, 9, &parts[3]), Decoded::Incomplete));
        let mut bad = parts[0].clone();
        bad[0] = 9;
        assert!(
            matches!(r.take(1, 9, &bad), Decoded::Bad(m) if m == "message of wire version 9 (this node speaks 1)")
        );
    }
}
