//! Client answers held until their change is *safe*.
//!
//! Totem delivers in agreed order: a node may deliver (and apply) its own message before any
//! other member has received it — the sequencer delivers what it orders at once. A change
//! acknowledged then could die with this node, or with a view that is cut off from the
//! quorate partition, although the client was told it was committed. So a successful
//! change is answered only once it is safe in the sense of Corosync's safe delivery: every
//! member of the view has delivered it (totem's [`Output::Safe`](tandem_totem::Output)).
//! Every member applies and persists (`PersistCib`: every change a client can ask for is
//! durable, see the crate's "Durability") a change before it acknowledges it to the
//! sequencer, so from then on the change is on the disk of every member of the view.
//! Refusals are answered at once: nothing changed anywhere.
//!
//! What an answer waits for is the delivery being handled when the change was applied —
//! usually the change's own message, or for a change held during a sync round, the message
//! that ended the round (a member that delivered the change but not the end of the round
//! holds it unapplied and would drop it at the next round).
//!
//! If the view ends before the change is safe, virtual synchrony still says that every
//! member passing to the next view with this node delivered it. The answer then waits for
//! that view's sync round: if this node's CIB (which holds the change) is the one the round
//! agrees on and the partition is quorate, the answer waits for the message that ended the
//! round to be safe in the new view (every member then holds this CIB); otherwise another
//! CIB won and the change may be gone, which the client is told — it may or may not be in
//! effect, so it must check before running the command again.

use tandem_totem::wire::RingId;

use crate::Node;
use crate::types::{ClientId, Output, Response};

/// What a held answer waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Totem's safe point reaching message `seq` of view `ring`.
    Delivery { ring: RingId, seq: u64 },
    /// The view ended first: the outcome of the next sync round.
    Round,
}

#[derive(Debug)]
struct Held {
    client: ClientId,
    resp: Response,
    wait: Wait,
}

/// Answers waiting for safety, and where totem's delivery stands.
#[derive(Debug, Default)]
pub(crate) struct SafeReplies {
    held: Vec<Held>,
    /// The delivery being handled: what an answer given now waits for.
    delivering: Option<(RingId, u64)>,
    /// Totem's last safe point.
    safe: Option<(RingId, u64)>,
}

impl SafeReplies {
    fn is_safe(&self, w: Wait) -> bool {
        match (w, self.safe) {
            (Wait::Delivery { ring, seq }, Some((r, s))) => ring == r && seq <= s,
            _ => false,
        }
    }
}

/// Told to a client whose change was applied here but not known safe when another CIB won
/// the sync that followed (or the partition lost quorum, or the node left).
pub const UNCERTAIN: &str = "the cluster membership changed before every member had the change: it may or may not be in effect; check the CIB before running the command again";

impl Node {
    /// A totem delivery of the node's group is being handled.
    pub(crate) fn safe_delivering(&mut self, ring: RingId, seq: u64) {
        self.safe_replies.delivering = Some((ring, seq));
    }

    /// Answers `client`: a refusal at once, a change once it is safe.
    pub(crate) fn reply_when_safe(&mut self, client: ClientId, resp: Response) {
        if matches!(resp, Response::Error { .. }) {
            self.out.push(Output::Reply { client, resp });
            return;
        }
        let wait = match self.safe_replies.delivering {
            Some((ring, seq)) => Wait::Delivery { ring, seq },
            // Changes are applied only while a delivery is handled; should that ever not
            // hold, the next round decides (never an answer before the change is safe).
            None => Wait::Round,
        };
        if self.safe_replies.is_safe(wait) {
            self.out.push(Output::Reply { client, resp });
        } else {
            self.safe_replies.held.push(Held { client, resp, wait });
        }
    }

    /// Totem's safe point rose: answers waiting for it go out.
    pub(crate) fn on_safe(&mut self, ring: RingId, seq: u64) {
        self.safe_replies.safe = Some((ring, seq));
        self.release_safe();
    }

    fn release_safe(&mut self) {
        let (ready, waiting): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.safe_replies.held)
            .into_iter()
            .partition(|h| self.safe_replies.is_safe(h.wait));
        self.safe_replies.held = waiting;
        for h in ready {
            self.out.push(Output::Reply {
                client: h.client,
                resp: h.resp,
            });
        }
    }

    /// A view was installed: answers still waiting for an earlier view wait for its round.
    pub(crate) fn safe_view_changed(&mut self, ring: RingId) {
        self.safe_replies.delivering = None;
        for h in &mut self.safe_replies.held {
            if matches!(h.wait, Wait::Delivery { ring: r, .. } if r != ring) {
                h.wait = Wait::Round;
            }
        }
    }

    /// The sync round finished (inside the delivery that ended it). `kept_mine`: the CIB
    /// agreed on is this node's (same content).
    pub(crate) fn safe_round_finished(&mut self, kept_mine: bool) {
        let carry = kept_mine && self.quorate;
        let next = self.safe_replies.delivering;
        for mut h in std::mem::take(&mut self.safe_replies.held) {
            if h.wait == Wait::Round {
                match next {
                    Some((ring, seq)) if carry => h.wait = Wait::Delivery { ring, seq },
                    _ => {
                        self.out.push(Output::Reply {
                            client: h.client,
                            resp: Response::Error {
                                message: UNCERTAIN.into(),
                            },
                        });
                        continue;
                    }
                }
            }
            self.safe_replies.held.push(h);
        }
        self.release_safe();
    }

    /// The node stops: answers not known safe are told so.
    pub(crate) fn fail_unsafe_replies(&mut self) {
        for h in std::mem::take(&mut self.safe_replies.held) {
            self.out.push(Output::Reply {
                client: h.client,
                resp: Response::Error {
                    message: UNCERTAIN.into(),
                },
            });
        }
    }
}
