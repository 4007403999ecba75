//! `tandem-totem`: Tandem's cluster layer as a deterministic state machine — membership,
//! totally ordered virtually synchronous broadcast, process groups and votequorum, plus the
//! corosync.conf, authkey and sealed wire format they run on. No I/O, no clock, no
//! randomness: the driver (`tandem-daemon`, or the simulator `tandem-sim`) feeds inputs and
//! performs the outputs.
//!
//! ```text
//!                    ┌──────────────────────── Totem ─────────────────────────┐
//!  Packet{link,bytes}│ seal::Opener ─▶ wire::Message ─▶ peers / membership /  │ Send{to,link,bytes}
//!  Timer(kind) ─────▶│                                  order / groups        │─▶ SetTimer{kind,at}
//!  Broadcast{group}  │ quorum::VoteQuorum ◀─ views, nodeinfo (Sync)           │   PersistRingSeq
//!  Join/LeaveGroup   │                                                        │   ViewInstalled, Deliver
//!  SetExpectedVotes  └────────────────────────────────────────────────────────┘   GroupChanged, QuorumChanged
//!                                                                                 LinkChanged, Log
//! ```
//!
//! ```
//! use tandem_totem::{config::ClusterConfig, authkey::AuthKey, Input, Output, Params, Totem, TimerKind, ms};
//! let cfg = ClusterConfig::from_text("corosync.conf",
//!     "totem {\n cluster_name: demo\n}\nnodelist {\n node {\n  nodeid: 1\n  ring0_addr: 10.0.0.1\n }\n}\n").unwrap();
//! let key = AuthKey::from_bytes((0..128).collect(), "authkey").unwrap();
//! let mut t = Totem::new(Params::from_config(&cfg, 1, 42, key, 0).unwrap());
//! t.handle(0, Input::Start);                                   // heartbeats, timers
//! let outs = t.handle(ms(50), Input::Timer(TimerKind::Phase)); // join window over
//! assert!(outs.iter().any(|o| matches!(o, Output::ViewInstalled(v) if v.ring.to_string() == "1.4")));
//! ```
//!
//! # Protocol
//!
//! A coordinator/sequencer design in the tradition of Isis and of the virtual synchrony
//! model (Birman & Joseph, *Exploiting virtual synchrony in distributed systems*, SOSP 1987;
//! Birman, *The process group approach to reliable distributed computing*, CACM 1993), with
//! extended virtual synchrony's view of partitions (Moser, Amir, Melliar-Smith, Agarwal,
//! *Extended Virtual Synchrony*, ICDCS 1994) and Corosync's vocabulary (ring ids, token and
//! consensus timeouts, votequorum):
//!
//! * **Views.** The lowest node id of a view is its *representative*: it coordinates
//!   membership changes and sequences broadcasts. A ring id is `(representative, seq)`,
//!   shown `1.10`; seq only grows, and is persisted before use (`PersistRingSeq`) and at
//!   every install, like Corosync's `ringid_<nodeid>` file, so ring ids never repeat.
//! * **Failure detection.** Heartbeats go out on every link each ping interval
//!   (`token / (pong_count·2)`); a link is down after `ping_timeout`; a node is dead after the
//!   effective token timeout without a packet on any link.
//! * **Membership** ([`flush`] and `node::membership`): gather → propose → accept (with a
//!   flush report) → commit → recover the agreed old-view messages → install. A step that
//!   stalls for `consensus` excludes the node it waited for and retries with a higher seq.
//!   A proposal whose member dies is abandoned at once, so detection stays within
//!   token + consensus.
//! * **Ordering** (`node::order`): members submit to the sequencer (FIFO per sender and
//!   view), which assigns consecutive seqs; gaps are NACKed; acknowledgements define the
//!   *stable* prefix that everyone delivered and may drop. Every member keeps what it
//!   delivered until it is stable — that is what makes the flush possible.
//! * **Process groups and sync** (`node::groups`): after each view, every member broadcasts
//!   a `Sync` (its groups, votequorum nodeinfo, last delivered message per sender); other
//!   messages wait for this barrier. Group membership changes only through the total order.
//! * **Quorum** ([`quorum`]): votequorum's rules, driven by views and nodeinfo.
//! * **Packets** ([`seal`]): XChaCha20-Poly1305 under HKDF-SHA256(authkey, salt = cluster
//!   name), the versioned header authenticated, per-sender replay windows.
//!
//! Guarantees (ARCHITECTURE §4), each checked by a `tandem-sim` checker: 1 ring ids strictly
//! increase per node; 2 same ring id ⇒ same members; 3 same order within a view (each
//! member's deliveries are a prefix of the view's order); 4 virtual synchrony: members that
//! pass together from V to V' delivered the same messages in V; 5 a silent member is removed
//! within token + consensus, and connected nodes converge to one view; 6 only key holders
//! join or inject, replays are dropped.
//!
//! # Deviations from Corosync and the papers
//!
//! * No token ring: a sequencer orders messages. Throughput is bounded by the
//!   representative, latency is one round trip to it; failure detection uses heartbeats, and
//!   the Corosync option names keep their meaning for timeouts (`token`,
//!   `token_coefficient`, `consensus`, `join`) while ring-specific ones (`hold`,
//!   `window_size`, `max_messages`, `fail_recv_const`, ...) are accepted and shown but unused.
//! * Without `token` in corosync.conf the token timeout is 800 ms with no per-node
//!   coefficient, not Corosync's 3000 ms + 650 ms per node beyond two: detection by
//!   all-to-all heartbeats does not slow down with the ring (reasoning and figures in
//!   [`config::timing`](crate::config::timing)). An explicit `token` keeps
//!   Corosync's rules exactly.
//! * A message whose view ends before it is ordered is resubmitted in the sender's next
//!   view (Corosync does the same for messages not yet on the ring). If a member of that
//!   view had already delivered it (it was ordered in a view the sender was cut off from),
//!   every member skips it: each message is delivered at most once per node, and never
//!   silently lost for a sender that stays up.
//! * Messages are limited to [`wire::MAX_PAYLOAD_BYTES`] (no fragmentation).
//! * Encryption is always on (XChaCha20-Poly1305, not knet's NSS/OpenSSL ciphers);
//!   `crypto_cipher`/`crypto_hash`/`secauth` are read but do not weaken it.
//! * `link_mode: rr` is treated as `active`. Only unicast UDP; `transport: udp` (multicast)
//!   is read as unicast to the nodelist.
//! * qdevice is not implemented (a `device { }` block is warned about and ignored).

pub mod authkey;
pub mod config;
pub mod flush;
mod node;
pub mod quorum;
pub mod seal;
pub mod wire;

pub use node::*;

/// A node id from the nodelist (`nodeid`), never 0.
pub type NodeId = u32;
