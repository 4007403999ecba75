//! Packet sealing: every datagram is authenticated and encrypted, and replays are dropped.
//!
//! ```text
//!  0        1        2        4              8                16               24
//!  +--------+--------+--------+--------------+----------------+----------------+-------------+------+
//!  |version |  kind  |reserved| sender (BE)  | boot id (BE)   | packet seq (BE)| ciphertext  | tag  |
//!  +--------+--------+--------+--------------+----------------+----------------+-------------+------+
//!  \________________ header: authenticated, not encrypted (AAD) ______________/              16 bytes
//! ```
//!
//! * Key: `HKDF-SHA256(salt = cluster name, ikm = authkey, info = "tandem totem v1 packet")`,
//!   so another cluster's packets (different key or different name) fail authentication.
//! * Cipher: XChaCha20-Poly1305. The 24-byte nonce is `sender ‖ boot id ‖ packet seq ‖ 0000`:
//!   unique because a sender never reuses a packet seq within a boot and the driver draws a
//!   fresh boot id (clock + OS randomness) at every start. It is derived, not sent, so the
//!   overhead is the 24-byte header + 16-byte tag = 40 bytes.
//! * Replays: per sender, the newest boot id and a sliding window of [`REPLAY_WINDOW`] packet
//!   seqs. Older boots are refused until the receiver [`Opener::forget`]s the sender (done
//!   when the sender has been silent past the failure timeout, so a node whose clock stepped
//!   back can rejoin).

use std::collections::BTreeMap;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::NodeId;
use crate::authkey::AuthKey;

/// Wire format version; a packet with any other version is dropped.
pub const WIRE_VERSION: u8 = 1;
/// Packet kind of totem traffic (the only kind today; the byte keeps room for others).
pub const KIND_TOTEM: u8 = 1;
pub const HEADER_LEN: usize = 24;
pub const TAG_LEN: usize = 16;
/// Bytes added to every body.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// Largest datagram we send or accept: the largest UDP payload over IPv4.
pub const MAX_PACKET_BYTES: usize = 65_507;
/// How far behind the newest packet seq a late packet may arrive and still be accepted.
/// Generous because one sender's packet seqs are shared by all its destinations and links,
/// so a receiver sees gaps and a burst to others shifts the window.
pub const REPLAY_WINDOW: u64 = 1024;
const WINDOW_WORDS: usize = (REPLAY_WINDOW / 64) as usize;

/// Why a datagram was dropped (each is counted; none changes protocol state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reject {
    /// Shorter than header + tag, or longer than [`MAX_PACKET_BYTES`].
    Size,
    /// Unknown wire version or kind.
    Version,
    /// The sender id is not in the nodelist (or is ourselves).
    UnknownSender,
    /// Authentication failed: wrong key, other cluster, or tampered.
    Auth,
    /// Seen before, or too old for the window, or from an older boot.
    Replay,
    /// Authentic, but the body did not decode.
    Malformed,
}

fn derive_key(authkey: &AuthKey, cluster_name: &str) -> XChaCha20Poly1305 {
    let hk = Hkdf::<Sha256>::new(Some(cluster_name.as_bytes()), authkey.as_bytes());
    let mut okm = [0u8; 32];
    hk.expand(b"tandem totem v1 packet", &mut okm)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    XChaCha20Poly1305::new(&Key::from(okm))
}

fn nonce(sender: NodeId, boot_id: u64, seq: u64) -> XNonce {
    let mut n = [0u8; 24];
    n[0..4].copy_from_slice(&sender.to_be_bytes());
    n[4..12].copy_from_slice(&boot_id.to_be_bytes());
    n[12..20].copy_from_slice(&seq.to_be_bytes());
    XNonce::from(n)
}

/// Seals outgoing bodies for one node and boot.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    me: NodeId,
    boot_id: u64,
    next_seq: u64,
}

impl Sealer {
    pub fn new(authkey: &AuthKey, cluster_name: &str, me: NodeId, boot_id: u64) -> Sealer {
        Sealer {
            cipher: derive_key(authkey, cluster_name),
            me,
            boot_id,
            next_seq: 1,
        }
    }

    /// Header + ciphertext + tag for `body`.
    pub fn seal(&mut self, body: &[u8]) -> Vec<u8> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut out = Vec::with_capacity(body.len() + OVERHEAD);
        out.push(WIRE_VERSION);
        out.push(KIND_TOTEM);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.me.to_be_bytes());
        out.extend_from_slice(&self.boot_id.to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
        let mut buf = body.to_vec();
        let (header, _) = out.split_at(HEADER_LEN);
        self.cipher
            .encrypt_in_place(&nonce(self.me, self.boot_id, seq), header, &mut buf)
            .expect("bodies are far below XChaCha20-Poly1305's length limit");
        out.extend_from_slice(&buf);
        out
    }
}

/// An authentic, fresh packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub sender: NodeId,
    pub boot_id: u64,
    pub seq: u64,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    boot_id: u64,
    top: u64,
    /// Bit i set = packet seq `top - i` seen.
    seen: [u64; WINDOW_WORDS],
}

/// Opens incoming datagrams and keeps the per-sender replay windows.
pub struct Opener {
    cipher: XChaCha20Poly1305,
    me: NodeId,
    known: Vec<NodeId>,
    windows: BTreeMap<NodeId, Window>,
}

impl Opener {
    /// `known`: the nodelist; packets from any other id are dropped before decryption.
    pub fn new(authkey: &AuthKey, cluster_name: &str, me: NodeId, known: Vec<NodeId>) -> Opener {
        Opener {
            cipher: derive_key(authkey, cluster_name),
            me,
            known,
            windows: BTreeMap::new(),
        }
    }

    /// Drops what we remember about `sender`'s boot (see the module docs).
    pub fn forget(&mut self, sender: NodeId) {
        self.windows.remove(&sender);
    }

    pub fn open(&mut self, packet: &[u8]) -> Result<Opened, Reject> {
        if packet.len() < OVERHEAD || packet.len() > MAX_PACKET_BYTES {
            return Err(Reject::Size);
        }
        let (header, sealed) = packet.split_at(HEADER_LEN);
        if header[0] != WIRE_VERSION || header[1] != KIND_TOTEM || header[2..4] != [0, 0] {
            return Err(Reject::Version);
        }
        let sender = NodeId::from_be_bytes(header[4..8].try_into().expect("4 bytes"));
        let boot_id = u64::from_be_bytes(header[8..16].try_into().expect("8 bytes"));
        let seq = u64::from_be_bytes(header[16..24].try_into().expect("8 bytes"));
        if sender == self.me || !self.known.contains(&sender) {
            return Err(Reject::UnknownSender);
        }
        // Cheap pre-check before paying for decryption; the window is updated only after.
        self.check_fresh(sender, boot_id, seq)?;
        let mut body = sealed.to_vec();
        self.cipher
            .decrypt_in_place(&nonce(sender, boot_id, seq), header, &mut body)
            .map_err(|_| Reject::Auth)?;
        self.mark_seen(sender, boot_id, seq);
        Ok(Opened {
            sender,
            boot_id,
            seq,
            body,
        })
    }

    fn check_fresh(&self, sender: NodeId, boot_id: u64, seq: u64) -> Result<(), Reject> {
        let Some(w) = self.windows.get(&sender) else {
            return Ok(());
        };
        if boot_id > w.boot_id {
            return Ok(());
        }
        if boot_id < w.boot_id {
            return Err(Reject::Replay);
        }
        if seq > w.top {
            return Ok(());
        }
        let age = w.top - seq;
        if age >= REPLAY_WINDOW || w.seen[(age / 64) as usize] & (1u64 << (age % 64)) != 0 {
            return Err(Reject::Replay);
        }
        Ok(())
    }

    fn mark_seen(&mut self, sender: NodeId, boot_id: u64, seq: u64) {
        let fresh = Window {
            boot_id,
            top: seq,
            seen: [0; WINDOW_WORDS],
        };
        let w = self.windows.entry(sender).or_insert(fresh);
        if boot_id > w.boot_id {
            *w = fresh;
        }
        if seq > w.top {
            shift_window(&mut w.seen, seq - w.top);
            w.top = seq;
        }
        let age = w.top - seq;
        w.seen[(age / 64) as usize] |= 1u64 << (age % 64);
    }
}

/// Ages every bit by `by` positions (bit i moves to i + by; bits past the window drop).
fn shift_window(seen: &mut [u64; WINDOW_WORDS], by: u64) {
    if by >= REPLAY_WINDOW {
        *seen = [0; WINDOW_WORDS];
        return;
    }
    let words = (by / 64) as usize;
    let bits = (by % 64) as u32;
    for i in (0..WINDOW_WORDS).rev() {
        let lo = if i >= words { seen[i - words] } else { 0 };
        let carry = if bits > 0 && i > words {
            seen[i - words - 1] >> (64 - bits)
        } else {
            0
        };
        seen[i] = if bits > 0 { (lo << bits) | carry } else { lo };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> AuthKey {
        AuthKey::from_bytes((0..128).map(|i: u8| i.wrapping_mul(b)).collect(), "k").unwrap()
    }

    #[test]
    fn round_trip_replay_and_tamper() {
        let k = key(3);
        let mut s = Sealer::new(&k, "c", 1, 77);
        let mut o = Opener::new(&k, "c", 2, vec![1, 2]);
        let p1 = s.seal(b"hello");
        let p2 = s.seal(b"world");
        assert_eq!(p1.len(), 5 + OVERHEAD);
        assert_eq!(o.open(&p2).unwrap().body, b"world");
        // Out of order but inside the window: fine, once.
        let got = o.open(&p1).unwrap();
        assert_eq!((got.sender, got.boot_id, got.seq), (1, 77, 1));
        assert_eq!(o.open(&p1), Err(Reject::Replay));
        // Late packets across word boundaries of the window are accepted once each.
        let many: Vec<Vec<u8>> = (0..300).map(|_| s.seal(b"n")).collect();
        for p in many.iter().rev() {
            assert!(o.open(p).is_ok());
        }
        for p in &many {
            assert_eq!(o.open(p), Err(Reject::Replay));
        }
        let mut bad = s.seal(b"x");
        bad[10] ^= 1; // header (boot id) is authenticated
        assert_eq!(o.open(&bad), Err(Reject::Auth));
        let mut bad = s.seal(b"xyz");
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert_eq!(o.open(&bad), Err(Reject::Auth));
        assert_eq!(o.open(&[1; 10]), Err(Reject::Size));
    }

    #[test]
    fn other_cluster_or_key_is_refused() {
        let mut other_key = Sealer::new(&key(5), "c", 1, 1);
        let mut other_name = Sealer::new(&key(3), "d", 1, 1);
        let mut o = Opener::new(&key(3), "c", 2, vec![1, 2]);
        assert_eq!(o.open(&other_key.seal(b"x")), Err(Reject::Auth));
        assert_eq!(o.open(&other_name.seal(b"x")), Err(Reject::Auth));
        let mut stranger = Sealer::new(&key(3), "c", 9, 1);
        assert_eq!(o.open(&stranger.seal(b"x")), Err(Reject::UnknownSender));
    }

    #[test]
    fn new_boot_supersedes_old_and_window_slides() {
        let k = key(3);
        let mut o = Opener::new(&k, "c", 2, vec![1, 2]);
        let mut old = Sealer::new(&k, "c", 1, 10);
        let early = old.seal(b"a");
        let mid: Vec<Vec<u8>> = (0..100).map(|_| old.seal(b"m")).collect();
        for _ in 0..(REPLAY_WINDOW + 10) {
            o.open(&old.seal(b"b")).unwrap();
        }
        assert_eq!(
            o.open(&mid[0]),
            Err(Reject::Replay),
            "too old for the window"
        );
        assert_eq!(
            o.open(&early),
            Err(Reject::Replay),
            "fell out of the window"
        );
        let mut new = Sealer::new(&k, "c", 1, 11);
        o.open(&new.seal(b"c")).unwrap();
        assert_eq!(o.open(&old.seal(b"d")), Err(Reject::Replay), "older boot");
        o.forget(1);
        assert!(
            o.open(&old.seal(b"e")).is_ok(),
            "after forget the sender may come back"
        );
    }
}
