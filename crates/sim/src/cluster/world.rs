//! The simulated cluster: N [`tandem_node::Node`]s on a virtual clock over a faulty virtual
//! network, each with a simulated disk (ring sequence and the last persisted CIB), simulated
//! agents, a simulated fencer, and a stream of client requests. The disk writes a durable
//! CIB ([`Output::PersistCib`]) at once and a status-only one ([`Output::PersistStatus`])
//! [`STATUS_WRITE_LAG_MS`] later, as the daemon's writer thread does; a crash loses a
//! status write still in progress, so the checkers see nodes restart from CIBs that lack
//! their last operation records.
//!
//! Single thread; events are ordered by (time, insertion seq); every random choice comes
//! from one `ChaCha8Rng` seeded from the run's seed, so a seed replays exactly. After every
//! event the checkers look at the whole cluster ([`Moment`]).

use std::collections::BTreeMap;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use tandem_cib::Cib;
use tandem_node::{
    ClientId, Input, Node, NodeParams, NodeTimer, Now, OpOutcome, Output, Request, Response,
};
use tandem_totem::authkey::AuthKey;
use tandem_totem::config::ClusterConfig;
use tandem_totem::{NodeId, Params, Time, TimerKind, ms};

use super::agents::Agents;
use super::checkers::{Checkers, Live, Moment, Violation};
use super::history::{Ack, Change, History, Pending};
use super::scenario::Scenario;

/// Wall clock at virtual time 0 (the scheduler and records see `EPOCH0 + t`).
pub const EPOCH0: i64 = 1_800_000_000;
/// How long the calm phase lasts: long enough for a merge, a sync, the DC's transitions
/// (probes, recoveries) and their records.
pub const CALM_MS: u64 = 40_000;
/// A rebooted (fenced) node comes back after at least this long.
const REBOOT_MS: u64 = 2_000;
/// Violations kept per run (the first ones tell the story).
const MAX_VIOLATIONS: usize = 20;
/// How long the simulated daemon's disk takes to write a status-only CIB
/// ([`Output::PersistStatus`]) after the node asked: a crash within this window loses it
/// (and whatever status writes came after it in the window, which the write coalesces).
/// Fixed, so that adding it drew nothing from the run's random stream.
const STATUS_WRITE_LAG_MS: u64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Totem(TimerKind),
    Node(NodeTimer),
}

#[derive(Debug, Clone)]
enum Event {
    Packet {
        to: usize,
        bytes: Vec<u8>,
    },
    Timer {
        node: usize,
        slot: Slot,
        at: Time,
        boot: u32,
    },
    OpDone {
        node: usize,
        boot: u32,
        call: u64,
        run: u64,
    },
    FenceDone {
        to: usize,
        boot: u32,
        target: String,
        ok: bool,
    },
    /// The disk finished writing node `node`'s pending status CIB (boot `boot`).
    StatusWritten {
        node: usize,
        boot: u32,
    },
    Crash(usize),
    Restart(usize),
    Partition(Vec<u8>),
    Heal,
    Request,
    RscDeath,
    Calm,
}

struct SimNode {
    id: NodeId,
    name: String,
    node: Option<Node>,
    boot: u32,
    disk_ring_seq: u64,
    disk_cib: Cib,
    /// A status-only CIB ([`Output::PersistStatus`]) the disk is still writing: lost in a
    /// crash, replaced by a later one, dropped by a durable write.
    pending_cib: Option<Cib>,
    /// PersistCib requests seen this boot (the broken lazy disk writes every other one).
    persist_count: u64,
    timers: BTreeMap<Slot, Time>,
    agents: Agents,
}

/// A run in progress.
pub struct World {
    pub sc: Scenario,
    cfg: ClusterConfig,
    key: AuthKey,
    rng: ChaCha8Rng,
    now: Time,
    seq: u64,
    queue: BTreeMap<(Time, u64), Event>,
    nodes: Vec<SimNode>,
    side: Vec<u8>,
    loss: f64,
    dup: f64,
    calm: bool,
    next_client: ClientId,
    next_mark: u64,
    resources: Vec<String>,
    pub history: History,
    checkers: Checkers,
    pub violations: Vec<Violation>,
    /// `TANDEM_SIM_TRACE=1`: print every log line and fault with its virtual time.
    trace: bool,
}

impl World {
    pub fn new(seed: u64, sc: Scenario) -> World {
        let cfg = ClusterConfig::from_text("sim.conf", &sc.corosync_conf())
            .expect("generated config is valid");
        let key = AuthKey::from_bytes((0..128u32).map(|i| (i * 37 + 11) as u8).collect(), "sim")
            .expect("fixed test key is valid");
        let initial = Cib::parse(&sc.initial_cib()).expect("generated CIB is valid");
        let nodes = (1..=sc.nodes as NodeId)
            .map(|id| SimNode {
                id,
                name: format!("n{id}"),
                node: None,
                boot: 0,
                disk_ring_seq: 0,
                disk_cib: initial.clone(),
                pending_cib: None,
                persist_count: 0,
                timers: BTreeMap::new(),
                agents: Agents::default(),
            })
            .collect();
        World {
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            side: vec![0; sc.nodes],
            loss: sc.loss,
            dup: sc.dup,
            calm: false,
            next_client: 1,
            next_mark: 1,
            resources: sc.resource_ids(),
            history: History::default(),
            checkers: Checkers::new(sc.fencing),
            violations: Vec::new(),
            trace: std::env::var("TANDEM_SIM_TRACE").is_ok(),
            cfg,
            key,
            sc,
        }
    }

    fn at(&mut self, t: Time, e: Event) {
        self.seq += 1;
        self.queue.insert((t, self.seq), e);
    }

    fn now_of(&self) -> Now {
        Now::new(self.now, EPOCH0 + (self.now / 1_000_000) as i64)
    }

    fn trace(&self, what: impl FnOnce() -> String) {
        if self.trace {
            eprintln!("{:>10.3} ms  {}", self.now as f64 / 1000.0, what());
        }
    }

    /// Schedules the whole run, executes it and runs the final checks.
    pub fn run(&mut self) {
        let n = self.sc.nodes;
        let chaos = ms(self.sc.chaos_ms);
        for i in 0..n {
            let t = self.rng.random_range(0..ms(500));
            self.at(t, Event::Restart(i));
        }
        self.schedule_faults(chaos);
        let first = ms(1_000) + self.rng.random_range(0..ms(self.sc.request_every_ms));
        self.at(first, Event::Request);
        self.at(chaos, Event::Calm);
        let end = chaos + ms(CALM_MS);
        self.history.calm_from = chaos;
        self.history.end = end;
        while let Some(((t, _), e)) = self.queue.pop_first() {
            if t > end {
                break;
            }
            self.now = t;
            self.step(e);
            self.check(false);
        }
        self.now = end;
        self.check(true);
    }

    fn schedule_faults(&mut self, chaos: Time) {
        let n = self.sc.nodes;
        for _ in 0..self.sc.crashes {
            let i = self.rng.random_range(0..n);
            let t = self.rng.random_range(ms(1_000)..chaos);
            let back = (t + self.rng.random_range(ms(100)..ms(8_000))).min(chaos);
            self.at(t, Event::Crash(i));
            self.at(back, Event::Restart(i));
        }
        for _ in 0..self.sc.partitions {
            let t = self.rng.random_range(0..chaos);
            let sides: Vec<u8> = (0..n).map(|_| self.rng.random_range(0..2)).collect();
            let heal = (t + self.rng.random_range(ms(500)..ms(8_000))).min(chaos);
            self.at(t, Event::Partition(sides));
            self.at(heal, Event::Heal);
        }
        for _ in 0..self.sc.rsc_deaths {
            let t = self.rng.random_range(ms(2_000)..chaos.max(ms(2_001)));
            self.at(t, Event::RscDeath);
        }
    }

    fn check(&mut self, end: bool) {
        if self.violations.len() >= MAX_VIOLATIONS {
            return;
        }
        let moment = Moment {
            now: self.now,
            nodes: self
                .nodes
                .iter()
                .filter_map(|n| {
                    n.node.as_ref().map(|node| Live {
                        id: n.id,
                        boot: n.boot,
                        node,
                        agents: &n.agents,
                    })
                })
                .collect(),
            resources: &self.resources,
            all_nodes: self.nodes.len(),
        };
        let mut out = Vec::new();
        if end {
            self.checkers.end(&moment, &self.history, &mut out);
            self.checkers.stats(&mut self.history.stats);
        } else {
            self.checkers.step(&moment, &self.history, &mut out);
        }
        for v in out {
            self.trace(|| format!("VIOLATION {v}"));
            if self.violations.len() < MAX_VIOLATIONS {
                self.violations.push(v);
            }
        }
    }

    fn step(&mut self, e: Event) {
        if !matches!(
            e,
            Event::Packet { .. }
                | Event::Timer { .. }
                | Event::OpDone { .. }
                | Event::StatusWritten { .. }
        ) {
            self.trace(|| format!("EVENT {e:?}"));
        }
        match e {
            Event::Packet { to, bytes } => self.input(
                to,
                Input::Totem(tandem_totem::Input::Packet { link: 0, bytes }),
            ),
            Event::Timer {
                node,
                slot,
                at,
                boot,
            } => {
                let n = &mut self.nodes[node];
                if n.boot == boot && n.timers.get(&slot) == Some(&at) && n.node.is_some() {
                    n.timers.remove(&slot);
                    let input = match slot {
                        Slot::Totem(k) => Input::Totem(tandem_totem::Input::Timer(k)),
                        Slot::Node(t) => Input::Timer(t),
                    };
                    self.input(node, input);
                }
            }
            Event::OpDone {
                node,
                boot,
                call,
                run,
            } => self.op_done(node, boot, call, run),
            Event::FenceDone {
                to,
                boot,
                target,
                ok,
            } => {
                if self.nodes[to].boot == boot {
                    self.input(to, Input::FenceDone { node: target, ok });
                }
            }
            Event::StatusWritten { node, boot } => {
                let n = &mut self.nodes[node];
                if n.boot == boot
                    && n.node.is_some()
                    && let Some(cib) = n.pending_cib.take()
                {
                    n.disk_cib = cib;
                }
            }
            Event::Crash(i) => self.crash(i),
            Event::Restart(i) => self.restart(i),
            Event::Partition(s) => self.side = s,
            Event::Heal => self.side = vec![0; self.sc.nodes],
            Event::Request => self.request(),
            Event::RscDeath => self.rsc_death(),
            Event::Calm => self.calm(),
        }
    }

    fn calm(&mut self) {
        self.calm = true;
        self.loss = 0.0;
        self.dup = 0.0;
        self.side = vec![0; self.sc.nodes];
        for i in 0..self.sc.nodes {
            if self.nodes[i].node.is_none() {
                self.restart(i);
            }
        }
    }

    fn crash(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        // A status write still in progress dies with the process.
        let lost = n.pending_cib.take().is_some();
        if n.node.take().is_some() {
            n.timers.clear();
            n.agents.kill_all();
            self.history.stats.crashes += 1;
            self.history.stats.status_writes_lost += u64::from(lost);
        }
    }

    fn restart(&mut self, i: usize) {
        if self.nodes[i].node.is_some() {
            return;
        }
        let n = &mut self.nodes[i];
        n.boot += 1;
        n.persist_count = 0;
        let boot_id = self.now * 16 + u64::from(n.boot);
        let mut totem =
            Params::from_config(&self.cfg, n.id, boot_id, self.key.clone(), n.disk_ring_seq)
                .expect("node is in the nodelist");
        // A heartbeat grid of its own per node, from its start (see `crate::world`).
        totem.hello_phase = self.now;
        let names = (1..=self.sc.nodes as NodeId)
            .map(|id| (id, format!("n{id}")))
            .collect();
        if let Some(v) = self.history.last_persisted.get(&n.id) {
            self.history
                .persisted_before_boot
                .insert((n.id, n.boot), *v);
        }
        n.node = Some(Node::new(NodeParams {
            totem,
            names,
            cib: Some(n.disk_cib.clone()),
        }));
        self.input(i, Input::Totem(tandem_totem::Input::Start));
    }

    fn input(&mut self, i: usize, input: Input) {
        let now = self.now_of();
        let Some(node) = self.nodes[i].node.as_mut() else {
            return;
        };
        let outs = node.handle(now, input);
        for o in outs {
            self.output(i, o);
        }
    }

    fn output(&mut self, i: usize, o: Output) {
        if self.nodes[i].node.is_none() {
            return; // fenced or exited while its outputs were carried out
        }
        match o {
            Output::Totem(t) => self.totem_output(i, t),
            Output::SetTimer { timer, at } => self.set_timer(i, Slot::Node(timer), at),
            Output::PersistCib(cib) => {
                let n = &mut self.nodes[i];
                n.persist_count += 1;
                self.history.last_persisted.insert(n.id, cib.version);
                if !(self.sc.broken.lazy_persist && n.persist_count.is_multiple_of(2)) {
                    n.disk_cib = *cib;
                    n.pending_cib = None;
                }
            }
            Output::PersistStatus(cib) => {
                // Not durable before the node goes on: the disk writes it a little later
                // (coalescing what comes meanwhile); a crash before then loses it.
                let n = &mut self.nodes[i];
                let writing = n.pending_cib.replace(*cib).is_some();
                if !writing {
                    let boot = n.boot;
                    let t = self.now + ms(STATUS_WRITE_LAG_MS);
                    self.at(t, Event::StatusWritten { node: i, boot });
                }
            }
            Output::Exec { call, op } => {
                self.history.stats.ops_run += 1;
                let boot = self.nodes[i].boot;
                let run = self.nodes[i].agents.submit(call, op);
                let t = self.now + self.op_duration();
                self.at(
                    t,
                    Event::OpDone {
                        node: i,
                        boot,
                        call,
                        run,
                    },
                );
            }
            Output::CancelExec { call } => self.nodes[i].agents.cancel(call),
            Output::Fence { node, action } => self.fence(i, &node, &action),
            Output::Reply { client, resp } => self.reply(client, resp),
            Output::Log(l) => {
                if l.text.starts_with("Calculated transition") {
                    self.history.stats.transitions += 1;
                }
                let id = self.nodes[i].id;
                self.trace(|| format!("node {id} [{}] {}", l.subsys, l.text));
            }
            Output::Exit => {
                // A graceful shutdown finished: the daemon writes what is pending and
                // exits (no shutdowns are requested by this simulator; handled for
                // completeness).
                let n = &mut self.nodes[i];
                if let Some(cib) = n.pending_cib.take() {
                    n.disk_cib = cib;
                }
                self.crash(i);
            }
        }
    }

    fn totem_output(&mut self, i: usize, o: tandem_totem::Output) {
        use tandem_totem::Output as T;
        match o {
            T::Send { to, bytes, .. } => self.send(i, (to - 1) as usize, bytes),
            T::SetTimer { timer, at } => self.set_timer(i, Slot::Totem(timer), at),
            T::PersistRingSeq(s) => {
                let d = &mut self.nodes[i].disk_ring_seq;
                *d = (*d).max(s);
            }
            T::Log(l) => {
                let id = self.nodes[i].id;
                self.trace(|| format!("node {id} [{}] {}", l.subsys, l.text));
            }
            _ => {}
        }
    }

    fn set_timer(&mut self, i: usize, slot: Slot, at: Time) {
        let n = &mut self.nodes[i];
        n.timers.insert(slot, at);
        let boot = n.boot;
        self.at(
            at.max(self.now),
            Event::Timer {
                node: i,
                slot,
                at,
                boot,
            },
        );
    }

    fn send(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if self.side[from] != self.side[to] || self.rng.random_bool(self.loss) {
            return;
        }
        let copies = if self.rng.random_bool(self.dup) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = self.rng.random_range(20..=self.sc.max_delay_us.max(21));
            self.at(
                self.now + delay,
                Event::Packet {
                    to,
                    bytes: bytes.clone(),
                },
            );
        }
    }

    fn op_duration(&mut self) -> Time {
        self.rng.random_range(ms(2)..ms(60))
    }

    fn op_done(&mut self, i: usize, boot: u32, call: u64, run: u64) {
        if self.nodes[i].boot != boot || self.nodes[i].node.is_none() {
            return;
        }
        let is_start = self.nodes[i]
            .agents
            .calls
            .get(&call)
            .is_some_and(|c| c.run == run && c.op.action == "start");
        let fail = is_start && !self.calm && self.rng.random_bool(self.sc.start_failure);
        if fail {
            self.history.stats.start_failures += 1;
        }
        let done = self.nodes[i].agents.complete(call, run, fail);
        if let Some((next, interval_ms)) = done.next_run {
            let t = self.now + ms(interval_ms);
            self.at(
                t,
                Event::OpDone {
                    node: i,
                    boot,
                    call,
                    run: next,
                },
            );
        }
        if let Some(rc) = done.report {
            let outcome = OpOutcome {
                rc,
                op_status: tandem_node::outcome::op_status::DONE,
                exit_reason: (rc == super::agents::OCF_ERR_GENERIC)
                    .then(|| "simulated failure".to_string()),
                started_epoch_s: self.now_of().epoch_s,
                exec_time_ms: 5,
                queue_time_ms: 0,
            };
            self.input(i, Input::ExecDone { call, outcome });
        }
    }

    /// The simulated fencer: the target is powered off at once (its agents die with it),
    /// and the DC hears of success a little later. A rebooted node comes back after
    /// [`REBOOT_MS`] or more; an `off` one at the start of the calm phase, or like a rebooted
    /// one when fenced during it (the run must end with every node up to settle).
    fn fence(&mut self, from: usize, target: &str, action: &str) {
        self.history.stats.fenced += 1;
        let Some(t) = self.nodes.iter().position(|n| n.name == target) else {
            let boot = self.nodes[from].boot;
            let at = self.now + ms(10);
            self.at(
                at,
                Event::FenceDone {
                    to: from,
                    boot,
                    target: target.to_string(),
                    ok: false,
                },
            );
            return;
        };
        self.crash(t);
        let boot = self.nodes[from].boot;
        let done = self.now + self.rng.random_range(ms(50)..ms(500));
        self.at(
            done,
            Event::FenceDone {
                to: from,
                boot,
                target: target.to_string(),
                ok: true,
            },
        );
        if action != "off" || self.calm {
            let back = done + ms(REBOOT_MS) + self.rng.random_range(0..ms(3_000));
            self.at(back, Event::Restart(t));
        }
    }

    /// A primitive (not the fence device) dies on a node where it runs (a monitor will
    /// find it stopped).
    fn rsc_death(&mut self) {
        let resources = &self.resources;
        let running: Vec<(usize, String)> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.node.is_some())
            .flat_map(|(i, n)| {
                n.agents
                    .active
                    .iter()
                    .filter(|r| resources.contains(r))
                    .map(move |r| (i, r.clone()))
            })
            .collect();
        if running.is_empty() {
            return;
        }
        let (i, rsc) = running[self.rng.random_range(0..running.len())].clone();
        if self.nodes[i].agents.kill(&rsc) {
            self.history.stats.rsc_deaths += 1;
            self.trace(|| format!("resource {rsc} died on n{}", i + 1));
        }
    }

    /// The next client request: a configuration commit (read-modify-write of the CIB as
    /// the node the client talks to has it) or a transient attribute update.
    fn request(&mut self) {
        if self.calm {
            return;
        }
        let next = self.now
            + self
                .rng
                .random_range(ms(1)..=ms(2 * self.sc.request_every_ms));
        self.at(next, Event::Request);
        let live: Vec<usize> = (0..self.sc.nodes)
            .filter(|i| self.nodes[*i].node.is_some())
            .collect();
        if live.is_empty() {
            return;
        }
        let i = live[self.rng.random_range(0..live.len())];
        let (req, change) = if self.rng.random_bool(0.6) {
            self.commit_request(i)
        } else {
            self.attr_request()
        };
        let client = self.next_client;
        self.next_client += 1;
        self.history.pending.insert(
            client,
            Pending {
                node: self.nodes[i].id,
                boot: self.nodes[i].boot,
                at: self.now,
                change,
            },
        );
        self.input(i, Input::Request { client, req });
    }

    fn commit_request(&mut self, i: usize) -> (Request, Change) {
        let cib = self.nodes[i]
            .node
            .as_ref()
            .expect("live node")
            .cib()
            .clone();
        let doc = cib.document();
        let conf = doc
            .root()
            .and_then(|r| doc.descend(r, &["configuration"]))
            .map(|c| doc.node_to_compact_string(c))
            .unwrap_or_default();
        let mark = format!("sim-mark-{}", self.next_mark);
        self.next_mark += 1;
        let nv = format!(r#"<nvpair id="{mark}" name="{mark}" value="1"/>"#);
        let mut conf = if conf.contains(r#"<cluster_property_set id="sim-marks"/>"#) {
            conf.replace(
                r#"<cluster_property_set id="sim-marks"/>"#,
                &format!(r#"<cluster_property_set id="sim-marks">{nv}</cluster_property_set>"#),
            )
        } else {
            conf.replace(
                r#"<cluster_property_set id="sim-marks">"#,
                &format!(r#"<cluster_property_set id="sim-marks">{nv}"#),
            )
        };
        // Now and then the commit also stops or starts a resource.
        if self.rng.random_bool(0.3) {
            let r = self.resources[self.rng.random_range(0..self.resources.len())].clone();
            let started =
                format!(r#"id="{r}-meta-target-role" name="target-role" value="Started""#);
            let stopped =
                format!(r#"id="{r}-meta-target-role" name="target-role" value="Stopped""#);
            conf = if conf.contains(&started) {
                conf.replace(&started, &stopped)
            } else {
                conf.replace(&stopped, &started)
            };
        }
        (
            Request::CibCommit {
                base_admin_epoch: cib.version.admin_epoch,
                base_epoch: cib.version.epoch,
                configuration: conf,
            },
            Change::Marker(mark),
        )
    }

    fn attr_request(&mut self) -> (Request, Change) {
        let t = self.rng.random_range(0..self.sc.nodes);
        let k = self.next_mark;
        self.next_mark += 1;
        let name = format!("sim-attr-{k}");
        let value = k.to_string();
        let target = &self.nodes[t];
        (
            Request::AttrUpdate {
                node: target.name.clone(),
                name: name.clone(),
                value: Some(value.clone()),
            },
            Change::Attr {
                target: target.id,
                target_name: target.name.clone(),
                target_boot: target.boot,
                name,
                value,
            },
        )
    }

    fn reply(&mut self, client: ClientId, resp: Response) {
        let Some(p) = self.history.pending.remove(&client) else {
            return;
        };
        let ok = matches!(resp, Response::Committed { .. } | Response::Done);
        let s = &mut self.history.stats;
        match (&p.change, ok) {
            (Change::Marker(_), true) => s.commits_acked += 1,
            (Change::Marker(_), false) => s.commits_refused += 1,
            (Change::Attr { .. }, true) => s.attrs_acked += 1,
            (Change::Attr { .. }, false) => s.attrs_refused += 1,
        }
        if !ok {
            if matches!(&resp, Response::Error { message } if message == tandem_node::safe::UNCERTAIN)
            {
                s.uncertain += 1;
            }
            self.trace(|| format!("client {client} refused: {resp:?}"));
            return;
        }
        let i = self
            .nodes
            .iter()
            .position(|n| n.id == p.node)
            .expect("a simulated node");
        let status = self.nodes[i]
            .node
            .as_ref()
            .expect("a node that replies is up")
            .totem()
            .status();
        let quorate = !status.quorum.enabled || status.quorum.quorate;
        self.history.acks.push(Ack {
            at: self.now,
            node: p.node,
            boot: p.boot,
            quorate,
            ring: status.ring,
            change: p.change,
        });
    }
}
