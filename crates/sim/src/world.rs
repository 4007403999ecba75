//! The simulated world: nodes, a virtual clock, an event queue and a faulty network.
//!
//! Single thread; events are ordered by (time, insertion seq); every random choice comes
//! from one `ChaCha8Rng` seeded from the run's seed, so a seed replays exactly.

use std::collections::{BTreeMap, BTreeSet};

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use tandem_totem::authkey::AuthKey;
use tandem_totem::config::ClusterConfig;
use tandem_totem::seal::Sealer;
use tandem_totem::{Input, Knobs, NodeId, Output, Params, Time, TimerKind, Totem, ms};

use crate::history::{Delivered, History, Incarnation, Installed, SafeMark};

/// The shape of one run, drawn from its seed.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub nodes: usize,
    pub links: u8,
    pub token_ms: u64,
    /// Faults happen during `0..chaos_ms`; afterwards the network is perfect.
    pub chaos_ms: u64,
    pub loss: f64,
    pub dup: f64,
    pub max_delay_us: u64,
    pub partitions: u32,
    pub crashes: u32,
    pub link_faults: u32,
    pub attacks: u32,
    pub broadcast_every_ms: u64,
    pub knobs: Knobs,
}

impl Scenario {
    /// A random scenario; every fault kind appears across seeds.
    pub fn random(rng: &mut ChaCha8Rng) -> Scenario {
        Scenario {
            nodes: rng.random_range(2..=5),
            links: rng.random_range(1..=2),
            token_ms: [200, 500, 1000][rng.random_range(0..3)],
            chaos_ms: rng.random_range(4_000..12_000),
            loss: [0.0, 0.01, 0.05, 0.15, 0.3][rng.random_range(0..5)],
            dup: [0.0, 0.02, 0.1][rng.random_range(0..3)],
            max_delay_us: [200, 2_000, 20_000][rng.random_range(0..3)],
            partitions: rng.random_range(0..=3),
            crashes: rng.random_range(0..=3),
            link_faults: rng.random_range(0..=3),
            attacks: rng.random_range(0..=40),
            broadcast_every_ms: [10, 40, 200][rng.random_range(0..3)],
            knobs: Knobs::default(),
        }
    }
}

#[derive(Debug, Clone)]
enum Event {
    Packet {
        to: usize,
        link: u8,
        bytes: Vec<u8>,
        forged: bool,
    },
    Timer {
        node: usize,
        kind: TimerKind,
        at: Time,
        boot: u32,
    },
    Crash(usize),
    Restart(usize),
    Partition(Vec<u8>),
    Heal,
    LinkDown(u8),
    LinkUp(u8),
    Broadcast(usize),
    Attack,
    Calm,
    Snapshot,
    ProbeKill,
}

struct SimNode {
    id: NodeId,
    totem: Option<Totem>,
    boot: u32,
    disk_ring_seq: u64,
    timers: BTreeMap<TimerKind, Time>,
    sent: u64,
}

/// A run in progress.
pub struct World {
    sc: Scenario,
    cfg: ClusterConfig,
    key: AuthKey,
    rng: ChaCha8Rng,
    now: Time,
    seq: u64,
    queue: BTreeMap<(Time, u64), Event>,
    nodes: Vec<SimNode>,
    side: Vec<u8>,
    links_down: BTreeSet<u8>,
    loss: f64,
    dup: f64,
    captured: Vec<(usize, u8, Vec<u8>)>,
    pub history: History,
    broadcasts_until: Time,
    /// `TANDEM_SIM_TRACE=1`: print every log line, view and fault with its virtual time.
    trace: bool,
}

/// Maximum packets kept for the attacker to replay.
const MAX_CAPTURED: usize = 512;

fn config_text(sc: &Scenario) -> String {
    let mut s = format!(
        "totem {{\n version: 2\n cluster_name: sim\n token: {}\n}}\nquorum {{\n provider: corosync_votequorum\n}}\nnodelist {{\n",
        sc.token_ms
    );
    for i in 1..=sc.nodes {
        s.push_str(&format!(
            " node {{\n  nodeid: {i}\n  ring0_addr: 127.0.0.{i}\n"
        ));
        if sc.links == 2 {
            s.push_str(&format!("  ring1_addr: 127.0.1.{i}\n"));
        }
        s.push_str(" }\n");
    }
    s.push_str("}\n");
    s
}

impl World {
    pub fn new(seed: u64, sc: Scenario) -> World {
        let cfg = ClusterConfig::from_text("sim.conf", &config_text(&sc))
            .expect("generated config is valid");
        let key = AuthKey::from_bytes((0..128u32).map(|i| (i * 37 + 11) as u8).collect(), "sim")
            .expect("fixed test key is valid");
        let timing = cfg.timing();
        let mut w = World {
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes: (1..=sc.nodes as NodeId)
                .map(|id| SimNode {
                    id,
                    totem: None,
                    boot: 0,
                    disk_ring_seq: 0,
                    timers: BTreeMap::new(),
                    sent: 0,
                })
                .collect(),
            side: vec![0; sc.nodes],
            links_down: BTreeSet::new(),
            loss: sc.loss,
            dup: sc.dup,
            captured: Vec::new(),
            history: History::default(),
            broadcasts_until: 0,
            trace: std::env::var("TANDEM_SIM_TRACE").is_ok(),
            cfg,
            key,
            sc,
        };
        w.history.detection_bound = ms(timing.token_ms + timing.consensus_ms);
        w.history.convergence_bound = ms(2 * timing.token_ms + 3 * timing.consensus_ms);
        w
    }

    fn at(&mut self, t: Time, e: Event) {
        self.seq += 1;
        self.queue.insert((t, self.seq), e);
    }

    fn inc(&self, i: usize) -> Incarnation {
        Incarnation {
            node: self.nodes[i].id,
            boot: self.nodes[i].boot,
        }
    }

    /// Schedules the whole run and executes it.
    pub fn run(&mut self) {
        let n = self.sc.nodes;
        let chaos = ms(self.sc.chaos_ms);
        for i in 0..n {
            let t = self.rng.random_range(0..ms(500));
            self.at(t, Event::Restart(i));
        }
        self.schedule_faults(chaos);
        let calm = chaos;
        let converge = calm + self.history.convergence_bound;
        let probe = converge + ms(1000);
        let end = probe + self.history.detection_bound + self.history.convergence_bound;
        self.broadcasts_until = probe;
        for i in 0..n {
            let t = self.rng.random_range(0..ms(self.sc.broadcast_every_ms) + 1);
            self.at(t, Event::Broadcast(i));
        }
        self.at(calm, Event::Calm);
        self.at(converge, Event::Snapshot);
        self.at(probe, Event::ProbeKill);
        self.history.calm_from = calm;
        self.history.end = end;
        while let Some(((t, _), e)) = self.queue.pop_first() {
            if t > end {
                break;
            }
            self.now = t;
            self.step(e);
        }
        self.now = end;
        if self.trace {
            for n in &self.nodes {
                if let Some(t) = &n.totem {
                    eprintln!("END node {}: {}", n.id, t.debug_summary());
                }
            }
        }
        self.history.alive_at_end = (0..n)
            .filter(|i| self.nodes[*i].totem.is_some())
            .map(|i| self.inc(i))
            .collect();
        self.snapshot();
    }

    fn schedule_faults(&mut self, chaos: Time) {
        let n = self.sc.nodes;
        for _ in 0..self.sc.crashes {
            let i = self.rng.random_range(0..n);
            let t = self.rng.random_range(ms(500)..chaos);
            let back = (t + self.rng.random_range(ms(100)..ms(8000))).min(chaos);
            self.at(t, Event::Crash(i));
            self.at(back, Event::Restart(i));
        }
        for _ in 0..self.sc.partitions {
            let t = self.rng.random_range(0..chaos);
            let sides: Vec<u8> = (0..n).map(|_| self.rng.random_range(0..2)).collect();
            let heal = (t + self.rng.random_range(ms(200)..ms(8000))).min(chaos);
            self.at(t, Event::Partition(sides));
            self.at(heal, Event::Heal);
        }
        for _ in 0..self.sc.link_faults {
            let l = self.rng.random_range(0..self.sc.links);
            let t = self.rng.random_range(0..chaos);
            let up = (t + self.rng.random_range(ms(100)..ms(5000))).min(chaos);
            self.at(t, Event::LinkDown(l));
            self.at(up, Event::LinkUp(l));
        }
        for _ in 0..self.sc.attacks {
            let t = self.rng.random_range(0..chaos);
            self.at(t, Event::Attack);
        }
    }

    fn step(&mut self, e: Event) {
        if self.trace
            && !matches!(
                e,
                Event::Packet { .. } | Event::Timer { .. } | Event::Broadcast(_)
            )
        {
            eprintln!("{:>10.3} ms  EVENT {e:?}", self.now as f64 / 1000.0);
        }
        match e {
            Event::Packet {
                to,
                link,
                bytes,
                forged,
            } => self.deliver_packet(to, link, bytes, forged),
            Event::Timer {
                node,
                kind,
                at,
                boot,
            } => {
                let n = &mut self.nodes[node];
                if n.boot == boot && n.timers.get(&kind) == Some(&at) && n.totem.is_some() {
                    n.timers.remove(&kind);
                    self.input(node, Input::Timer(kind));
                }
            }
            Event::Crash(i) => self.crash(i),
            Event::Restart(i) => self.restart(i),
            Event::Partition(s) => self.side = s,
            Event::Heal => self.side = vec![0; self.sc.nodes],
            Event::LinkDown(l) => {
                // Never take every link down at once: that is a partition, tested separately.
                if self.links_down.len() + 1 < usize::from(self.sc.links) {
                    self.links_down.insert(l);
                }
            }
            Event::LinkUp(l) => {
                self.links_down.remove(&l);
            }
            Event::Broadcast(i) => self.broadcast(i),
            Event::Attack => self.attack(),
            Event::Calm => self.calm(),
            Event::Snapshot => self.snapshot(),
            Event::ProbeKill => {
                let alive: Vec<usize> = (0..self.sc.nodes)
                    .filter(|i| self.nodes[*i].totem.is_some())
                    .collect();
                if alive.len() >= 2 {
                    let i = alive[self.rng.random_range(0..alive.len())];
                    self.history.probe_kill = Some((self.nodes[i].id, self.now));
                    self.crash(i);
                }
            }
        }
    }

    fn calm(&mut self) {
        self.loss = 0.0;
        self.dup = 0.0;
        self.side = vec![0; self.sc.nodes];
        self.links_down.clear();
        for i in 0..self.sc.nodes {
            if self.nodes[i].totem.is_none() {
                self.restart(i);
            }
        }
    }

    fn snapshot(&mut self) {
        let mut snap = Vec::new();
        for n in &self.nodes {
            if let Some(t) = &n.totem {
                let s = t.status();
                snap.push((n.id, s.ring, s.members.clone(), s.forming));
            }
        }
        self.history.snapshots.push((self.now, snap));
    }

    fn crash(&mut self, i: usize) {
        if self.nodes[i].totem.take().is_some() {
            let inc = self.inc(i);
            self.history.crashed_at.insert(inc, self.now);
            self.nodes[i].timers.clear();
        }
    }

    fn restart(&mut self, i: usize) {
        if self.nodes[i].totem.is_some() {
            return;
        }
        let n = &mut self.nodes[i];
        n.boot += 1;
        let boot_id = self.now * 16 + u64::from(n.boot);
        let mut p =
            Params::from_config(&self.cfg, n.id, boot_id, self.key.clone(), n.disk_ring_seq)
                .expect("node is in the nodelist");
        p.knobs = self.sc.knobs;
        // Each node's heartbeat grid starts when it does, as if every node's clock were its
        // own: the simulated nodes do not share the wall-clock alignment the daemon uses.
        p.hello_phase = self.now;
        n.totem = Some(Totem::new(p));
        self.input(i, Input::Start);
        self.input(i, Input::JoinGroup("sim".into()));
    }

    fn broadcast(&mut self, i: usize) {
        if self.now < self.broadcasts_until {
            let next = self.now
                + self
                    .rng
                    .random_range(ms(1)..=ms(2 * self.sc.broadcast_every_ms));
            self.at(next, Event::Broadcast(i));
        }
        if self.nodes[i].totem.is_none() {
            return;
        }
        let inc = self.inc(i);
        self.nodes[i].sent += 1;
        let payload = format!("{}:{}:{}", inc.node, inc.boot, self.nodes[i].sent).into_bytes();
        self.history
            .broadcasts
            .insert(payload.clone(), (inc.node, inc, self.now));
        self.input(
            i,
            Input::Broadcast {
                group: "sim".into(),
                payload,
            },
        );
    }

    /// Replays, forgeries and garbage aimed at a random node.
    fn attack(&mut self) {
        let to = self.rng.random_range(0..self.sc.nodes);
        let link = self.rng.random_range(0..self.sc.links);
        let kind = self.rng.random_range(0..4);
        let (bytes, forged) = match kind {
            0 if !self.captured.is_empty() => {
                let k = self.rng.random_range(0..self.captured.len());
                let (_, _, b) = self.captured[k].clone();
                (b, false)
            }
            1 => {
                // Sealed with another cluster's key, claiming to be node 1.
                let other =
                    AuthKey::from_bytes((0..128u32).map(|i| (i * 13 + 5) as u8).collect(), "x")
                        .expect("fixed key");
                let mut s = Sealer::new(&other, "sim", 1, self.rng.random());
                (s.seal(b"forged"), true)
            }
            2 if !self.captured.is_empty() => {
                let k = self.rng.random_range(0..self.captured.len());
                let mut b = self.captured[k].2.clone();
                let pos = self.rng.random_range(0..b.len());
                b[pos] ^= 1 << self.rng.random_range(0..8);
                (b, true)
            }
            _ => {
                let len = self.rng.random_range(0..200);
                ((0..len).map(|_| self.rng.random()).collect(), true)
            }
        };
        self.at(
            self.now + 1,
            Event::Packet {
                to,
                link,
                bytes,
                forged,
            },
        );
    }

    fn deliver_packet(&mut self, to: usize, link: u8, bytes: Vec<u8>, forged: bool) {
        let Some(t) = self.nodes[to].totem.as_ref() else {
            return;
        };
        let before = t.status().stats.rejected_total();
        self.input(to, Input::Packet { link, bytes });
        if forged
            && let Some(t) = self.nodes[to].totem.as_ref()
            && t.status().stats.rejected_total() == before
        {
            self.history.forged_accepted += 1;
        }
    }

    fn input(&mut self, i: usize, input: Input) {
        let now = self.now;
        let Some(t) = self.nodes[i].totem.as_mut() else {
            return;
        };
        let outs = t.handle(now, input);
        for o in outs {
            self.output(i, o);
        }
    }

    fn output(&mut self, i: usize, o: Output) {
        match o {
            Output::Send { to, link, bytes } => self.send(i, (to - 1) as usize, link, bytes),
            Output::SetTimer { timer, at } => {
                let n = &mut self.nodes[i];
                n.timers.insert(timer, at);
                let boot = n.boot;
                self.at(
                    at.max(self.now),
                    Event::Timer {
                        node: i,
                        kind: timer,
                        at,
                        boot,
                    },
                );
            }
            Output::PersistRingSeq(s) => {
                let d = &mut self.nodes[i].disk_ring_seq;
                *d = (*d).max(s);
            }
            Output::ViewInstalled(view) => {
                let inc = self.inc(i);
                self.history
                    .views
                    .entry(inc)
                    .or_default()
                    .push(Installed { at: self.now, view });
            }
            Output::Deliver(d) => {
                let inc = self.inc(i);
                self.history
                    .deliveries
                    .entry(inc)
                    .or_default()
                    .push(Delivered {
                        at: self.now,
                        ring: d.ring,
                        seq: d.seq,
                        safe_at: d.safe_at,
                        key: (d.sender, d.sender_boot, d.local_id),
                        payload: d.payload,
                    });
            }
            Output::Log(l) if self.trace => {
                eprintln!(
                    "{:>10.3} ms  node {} [{}] {}",
                    self.now as f64 / 1000.0,
                    self.nodes[i].id,
                    l.subsys,
                    l.text
                );
            }
            Output::Refused(r) if self.trace => {
                eprintln!(
                    "{:>10.3} ms  node {} REFUSED {r}",
                    self.now as f64 / 1000.0,
                    self.nodes[i].id
                );
            }
            Output::Safe { ring, seq } => {
                let inc = self.inc(i);
                self.history.safe.entry(inc).or_default().push(SafeMark {
                    at: self.now,
                    ring,
                    seq,
                });
            }
            Output::GroupChanged { .. }
            | Output::QuorumChanged { .. }
            | Output::LinkChanged { .. }
            | Output::Refused(_)
            | Output::Log(_) => {}
        }
    }

    fn send(&mut self, from: usize, to: usize, link: u8, bytes: Vec<u8>) {
        if self.captured.len() < MAX_CAPTURED {
            self.captured.push((to, link, bytes.clone()));
        } else {
            let k = self.rng.random_range(0..MAX_CAPTURED);
            self.captured[k] = (to, link, bytes.clone());
        }
        if self.side[from] != self.side[to] || self.links_down.contains(&link) {
            return;
        }
        if self.rng.random_bool(self.loss) {
            return;
        }
        let copies = if self.rng.random_bool(self.dup) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = self.rng.random_range(20..=self.sc.max_delay_us.max(21));
            self.at(
                self.now + delay,
                Event::Packet {
                    to,
                    link,
                    bytes: bytes.clone(),
                    forged: false,
                },
            );
        }
    }
}
