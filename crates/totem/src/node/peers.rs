//! Heartbeats, failure detection and link health.
//!
//! Every ping interval (`token / (pong_count × 2)`) a node sends a [`Hello`] on every link
//! to every other node. Any authentic packet counts as a sign of life, per link and per
//! node. A link is down after `ping_timeout` without a packet on it; a node is dead after the
//! effective token timeout without a packet on any link, so a link failure alone never
//! changes the membership while another link works.

use std::collections::BTreeMap;

use super::{Level, LinkStatus, Output, Phase, Time, Totem, ms};
use crate::NodeId;
use crate::config::LinkMode;
use crate::wire::{Hello, Message};

#[derive(Debug, Clone)]
struct Link {
    last_heard: Option<Time>,
    up: bool,
}

/// What we know about one other node.
#[derive(Debug, Clone)]
pub(super) struct Peer {
    boot_id: Option<u64>,
    last_heard: Option<Time>,
    links: BTreeMap<u8, Link>,
    /// Latest heartbeat and the packet seq it came in (older heartbeats are ignored).
    pub(super) hello: Option<Hello>,
    hello_seq: u64,
    pub(super) excluded_until: Time,
    /// Declared dead (and its replay window forgotten) since its last packet.
    dead: bool,
    /// It restarted while it was a member of our view; the view must change.
    pub(super) restarted: bool,
}

impl Peer {
    pub(super) fn new(links: &[u8]) -> Peer {
        Peer {
            boot_id: None,
            last_heard: None,
            links: links
                .iter()
                .map(|l| {
                    (
                        *l,
                        Link {
                            last_heard: None,
                            up: false,
                        },
                    )
                })
                .collect(),
            hello: None,
            hello_seq: 0,
            excluded_until: 0,
            dead: true,
            restarted: false,
        }
    }

    pub(super) fn boot_id(&self) -> Option<u64> {
        self.boot_id
    }

    pub(super) fn link_status(&self) -> Vec<LinkStatus> {
        self.links
            .iter()
            .map(|(l, s)| LinkStatus {
                link: *l,
                connected: s.up,
            })
            .collect()
    }
}

impl Totem {
    pub(super) fn alive(&self, id: NodeId) -> bool {
        if id == self.p.me {
            return true;
        }
        let token = ms(self.p.timing.token_ms);
        self.peers.get(&id).is_some_and(|p| {
            p.last_heard.is_some_and(|t| self.now < t + token) && self.now >= p.excluded_until
        })
    }

    /// Nodes we can talk to now, ascending, including us.
    pub(super) fn alive_set(&self) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self
            .peers
            .keys()
            .copied()
            .filter(|id| self.alive(*id))
            .collect();
        v.push(self.p.me);
        v.sort_unstable();
        v
    }

    /// An authentic packet arrived from `from` on `link`.
    pub(super) fn heard(&mut self, from: NodeId, link: u8, boot_id: u64) {
        let now = self.now;
        let is_member = self.members.contains(&from);
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        let first_contact = p.dead;
        if p.boot_id.is_some_and(|b| b != boot_id) {
            p.hello = None;
            p.hello_seq = 0;
            if is_member {
                p.restarted = true;
            }
        }
        p.boot_id = Some(boot_id);
        p.last_heard = Some(now);
        p.dead = false;
        let mut came_up = false;
        if let Some(l) = p.links.get_mut(&link) {
            l.last_heard = Some(now);
            if !l.up {
                l.up = true;
                came_up = true;
            }
        }
        if came_up {
            self.out.push(Output::LinkChanged {
                node: from,
                link,
                up: true,
            });
            self.log(
                Level::Info,
                "KNET",
                format!("rx: host: {from} link: {link} is up"),
            );
        }
        if first_contact {
            // Answer at once so a starting node learns of us within one round trip.
            let h = self.hello_for(link);
            self.send_on(from, link, &Message::Hello(h));
        }
    }

    pub(super) fn on_hello(&mut self, from: NodeId, pkt_seq: u64, h: Hello) {
        self.max_ring_seq = self.max_ring_seq.max(h.max_ring_seq);
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if pkt_seq <= p.hello_seq {
            return;
        }
        p.hello_seq = pkt_seq;
        let same_ring = h.ring == self.ring;
        p.hello = Some(h.clone());
        if same_ring {
            self.on_ring_info(from, &h);
        }
    }

    pub(super) fn hello_for(&self, link: u8) -> Hello {
        let proposal = match &self.phase {
            Phase::Proposing { proposal, .. } | Phase::Accepted { proposal } => Some(proposal.ring),
            Phase::Recovering { commit, .. } => Some(commit.ring),
            Phase::Operational | Phase::Gather { .. } => None,
        };
        Hello {
            link,
            ring: self.ring,
            forming: !matches!(self.phase, Phase::Operational),
            proposal,
            max_ring_seq: self.max_ring_seq,
            delivered: self.log.delivered,
            max_seq: self.sequencer.as_ref().map_or(0, |s| s.next_seq - 1),
            stable: self.log.stable,
        }
    }

    /// Heartbeats on every link to every other node of the nodelist.
    pub(super) fn send_hellos(&mut self) {
        let targets: Vec<(NodeId, Vec<u8>)> = self
            .peers
            .iter()
            .map(|(id, p)| (*id, p.links.keys().copied().collect()))
            .collect();
        for (id, links) in targets {
            for link in links {
                let h = self.hello_for(link);
                self.send_on(id, link, &Message::Hello(h));
            }
        }
        self.next_hello = next_on_grid(
            self.now,
            ms(self.p.timing.ping_interval_ms),
            self.p.hello_phase,
        );
    }

    /// Marks links and nodes dead whose silence exceeded their timeouts.
    pub(super) fn expire_peers(&mut self) {
        let now = self.now;
        let ping_timeout = ms(self.p.timing.ping_timeout_ms);
        let token = ms(self.p.timing.token_ms);
        let mut downs = Vec::new();
        let mut deaths = Vec::new();
        for (id, p) in self.peers.iter_mut() {
            for (l, s) in p.links.iter_mut() {
                if s.up && s.last_heard.is_none_or(|t| now >= t + ping_timeout) {
                    s.up = false;
                    downs.push((*id, *l));
                }
            }
            if !p.dead && p.last_heard.is_none_or(|t| now >= t + token) {
                p.dead = true;
                deaths.push(*id);
            }
        }
        for (id, l) in downs {
            self.out.push(Output::LinkChanged {
                node: id,
                link: l,
                up: false,
            });
            self.log(
                Level::Notice,
                "KNET",
                format!("link: host: {id} link: {l} is down"),
            );
        }
        for id in deaths {
            // A node silent past the failure timeout may come back with any boot id.
            self.opener.forget(id);
            if self.members.contains(&id) {
                self.log(
                    Level::Notice,
                    "TOTEM",
                    format!("Failed to receive the leave message. failed: {id}"),
                );
            }
        }
    }

    pub(super) fn next_failure_check(&self) -> Option<Time> {
        let ping_timeout = ms(self.p.timing.ping_timeout_ms);
        let token = ms(self.p.timing.token_ms);
        let mut next: Option<Time> = None;
        let mut consider = |t: Time| next = Some(next.map_or(t, |n: Time| n.min(t)));
        for p in self.peers.values() {
            for s in p.links.values() {
                if let (true, Some(t)) = (s.up, s.last_heard) {
                    consider(t + ping_timeout);
                }
            }
            if let (false, Some(t)) = (p.dead, p.last_heard) {
                consider(t + token);
            }
            if p.excluded_until > self.now {
                consider(p.excluded_until);
            }
        }
        next
    }

    /// Links to send non-heartbeat traffic to `to` on, per `link_mode`.
    pub(super) fn links_for(&self, to: NodeId) -> Vec<u8> {
        let Some(p) = self.peers.get(&to) else {
            return Vec::new();
        };
        let up: Vec<u8> = p
            .links
            .iter()
            .filter(|(_, s)| s.up)
            .map(|(l, _)| *l)
            .collect();
        if up.is_empty() {
            // Nothing known to work: try every link.
            return p.links.keys().copied().collect();
        }
        match self.p.link_mode {
            LinkMode::Active | LinkMode::Rr => up,
            LinkMode::Passive => {
                let prio = |l: &u8| self.p.link_priority.get(l).copied().unwrap_or(0);
                // Highest priority wins; ties go to the lowest link number.
                let best = up
                    .iter()
                    .copied()
                    .max_by(|a, b| prio(a).cmp(&prio(b)).then(b.cmp(a)));
                best.into_iter().collect()
            }
        }
    }

    /// Why the installed view must change, if it must.
    pub(super) fn view_needs_change(&mut self) -> Option<String> {
        let ids: Vec<NodeId> = self.peers.keys().copied().collect();
        for id in ids {
            let member = self.members.contains(&id);
            let alive = self.alive(id);
            let p = self.peers.get_mut(&id).expect("id from peers");
            if member && p.restarted {
                p.restarted = false;
                return Some(format!("node {id} restarted"));
            }
            if member && !alive {
                return Some(format!("node {id} failed"));
            }
            if !member && alive {
                return Some(format!("node {id} joining"));
            }
            // A heartbeat sent before its sender knew of our ring says nothing about it.
            if member && let Some(h) = p.hello.as_ref().filter(|h| h.max_ring_seq >= self.ring.seq)
            {
                if h.ring == self.ring && h.forming {
                    return Some(format!("node {id} is forming a new membership"));
                }
                let catching_up = h.forming && h.proposal == Some(self.ring);
                if h.ring != self.ring && !catching_up {
                    return Some(format!("node {id} is in ring {}", h.ring));
                }
            }
        }
        None
    }
}

/// The first time after `now` that is ≡ `phase` (mod `interval`): heartbeats stay on one grid
/// whenever they are sent, so a late timer delays one heartbeat, not every later one, and an
/// extra heartbeat (a membership change sends one at once) never makes the next gap longer
/// than `interval`.
pub(super) fn next_on_grid(now: Time, interval: Time, phase: Time) -> Time {
    let interval = interval.max(1);
    let since = (now % interval + interval - phase % interval) % interval;
    now - since + interval
}

/// The phase (see [`next_on_grid`]) of the grid whose points are the wall clock's multiples
/// of `interval`, for a clock whose time 0 is `unix_us` after the epoch.
pub(crate) fn wall_clock_phase(interval: Time, unix_us: u64) -> Time {
    let interval = interval.max(1);
    (interval - unix_us % interval) % interval
}

#[cfg(test)]
mod tests {
    use super::{next_on_grid, wall_clock_phase};

    #[test]
    fn the_wall_clock_phase_puts_heartbeats_on_the_wall_clocks_multiples() {
        let i = 200_000;
        for unix_us in [0, 1, 199_999, 200_000, 1_765_112_345_678_901] {
            let p = wall_clock_phase(i, unix_us);
            assert!(p < i);
            for now in [0, 17, 123_456, 10_000_000_001] {
                let at = next_on_grid(now, i, p);
                assert_eq!((unix_us + at) % i, 0, "unix {unix_us}, now {now}");
                assert!(at > now && at - now <= i);
            }
        }
    }

    #[test]
    fn heartbeats_stay_on_their_grid() {
        // Interval 200 ms, phase 30 ms: the grid is 30, 230, 430, ... ms.
        let (i, p) = (200_000, 30_000);
        assert_eq!(next_on_grid(0, i, p), 30_000);
        assert_eq!(
            next_on_grid(30_000, i, p),
            230_000,
            "on the grid: one interval on"
        );
        assert_eq!(next_on_grid(30_001, i, p), 230_000);
        assert_eq!(
            next_on_grid(230_400, i, p),
            430_000,
            "a late timer does not drift"
        );
        assert_eq!(next_on_grid(229_999, i, p), 230_000);
        // A phase past the interval wraps; phase 0 is the plain multiples.
        assert_eq!(next_on_grid(10, i, 230_000), 30_000);
        assert_eq!(next_on_grid(199_999, i, 0), 200_000);
        assert_eq!(next_on_grid(5, 0, 0), 6, "a zero interval is one µs");
    }
}
