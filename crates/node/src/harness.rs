// Parts of the harness serve the controller tests only.
#![allow(dead_code)]

//! An in-memory test harness: N [`Node`]s on a virtual clock and a virtual network that
//! delivers every packet after [`LATENCY_US`], with crash and restart. Deterministic: the
//! same calls give the same run.

use std::collections::{BTreeMap, BTreeSet};

use tandem_cib::Cib;
use tandem_totem::authkey::AuthKey;
use tandem_totem::config::ClusterConfig;
use tandem_totem::{NodeId, Params, TimerKind};

use crate::{
    ClientId, ExecOp, Input, Node, NodeParams, NodeTimer, Now, OpOutcome, Output, Request, Response,
};

/// One-way packet latency.
pub const LATENCY_US: u64 = 200;
/// Wall clock at virtual time 0.
pub const EPOCH0: i64 = 1_800_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Totem(TimerKind),
    Node(NodeTimer),
}

/// An operation a node asked its executor to run.
#[derive(Debug, Clone)]
pub struct Ran {
    pub node: NodeId,
    pub call: u64,
    pub op: ExecOp,
}

pub struct Harness {
    pub n: usize,
    pub nodes: BTreeMap<NodeId, Node>,
    /// The CIB each node last persisted (what survives a crash). Status writes
    /// ([`Output::PersistStatus`]) land here too: this disk keeps up with every write.
    pub disk: BTreeMap<NodeId, Cib>,
    /// Every persist: node, version, whether it had to be durable before the node went on.
    pub persists: Vec<(NodeId, tandem_cib::Version, bool)>,
    timers: BTreeMap<(NodeId, Slot), u64>,
    net: Vec<(u64, NodeId, u8, Vec<u8>)>,
    pub now: u64,
    boots: u64,
    next_client: ClientId,
    pub replies: BTreeMap<ClientId, Response>,
    /// Operations started and not finished, in order.
    pub running: Vec<Ran>,
    /// Every operation ever started.
    pub ran: Vec<Ran>,
    pub exited: BTreeSet<NodeId>,
    pub logs: Vec<(NodeId, String)>,
    /// Partitions: packets between nodes of different sides are dropped.
    pub side: BTreeMap<NodeId, u8>,
    /// Slow links: extra latency of every packet a node sends or receives, on top of
    /// [`LATENCY_US`].
    pub link_delay_us: BTreeMap<NodeId, u64>,
    /// Virtual agents: operations finish by themselves after [`AGENT_US`]; a resource runs
    /// on a node while this set holds it.
    pub auto_agents: bool,
    pub active: BTreeSet<(NodeId, String)>,
    done_at: Vec<(u64, NodeId, u64)>,
    /// Last rc reported per recurring call (results are reported on change, as the
    /// executor does).
    last_rc: BTreeMap<(NodeId, u64), i32>,
}

/// How long a virtual agent takes.
pub const AGENT_US: u64 = 10_000;

fn config(n: usize) -> ClusterConfig {
    let mut text = String::from(
        "totem {\n cluster_name: h\n token: 1000\n}\nquorum {\n provider: corosync_votequorum\n}\nnodelist {\n",
    );
    for i in 1..=n {
        text.push_str(&format!(
            " node {{\n  nodeid: {i}\n  name: n{i}\n  ring0_addr: 10.0.0.{i}\n }}\n"
        ));
    }
    text.push_str("}\n");
    ClusterConfig::from_text("h.conf", &text).expect("test config")
}

impl Harness {
    /// `n` nodes, all started with an empty CIB.
    pub fn new(n: usize) -> Harness {
        let mut h = Harness {
            n,
            nodes: BTreeMap::new(),
            disk: BTreeMap::new(),
            persists: Vec::new(),
            timers: BTreeMap::new(),
            net: Vec::new(),
            now: 0,
            boots: 0,
            next_client: 1,
            replies: BTreeMap::new(),
            running: Vec::new(),
            ran: Vec::new(),
            exited: BTreeSet::new(),
            logs: Vec::new(),
            side: BTreeMap::new(),
            link_delay_us: BTreeMap::new(),
            auto_agents: false,
            active: BTreeSet::new(),
            done_at: Vec::new(),
            last_rc: BTreeMap::new(),
        };
        for id in 1..=n as NodeId {
            h.start(id, None);
        }
        h
    }

    fn now_of(&self) -> Now {
        Now::new(self.now, EPOCH0 + (self.now / 1_000_000) as i64)
    }

    /// Starts (or restarts) node `id` with `cib` as its disk holds it.
    pub fn start(&mut self, id: NodeId, cib: Option<Cib>) {
        self.boots += 1;
        let cfg = config(self.n);
        let key = AuthKey::from_bytes((0..128u32).map(|i| (i * 7 + 3) as u8).collect(), "k")
            .expect("test key");
        let totem = Params::from_config(&cfg, id, self.boots * 1000 + u64::from(id), key, 0)
            .expect("node in config");
        let names = (1..=self.n as NodeId)
            .map(|i| (i, format!("n{i}")))
            .collect();
        let node = Node::new(NodeParams { totem, names, cib });
        self.nodes.insert(id, node);
        self.timers.retain(|(n, _), _| *n != id);
        self.running.retain(|r| r.node != id);
        self.exited.remove(&id);
        self.input(id, Input::Totem(tandem_totem::Input::Start));
    }

    /// kill -9: the node and its timers vanish; its disk stays.
    pub fn crash(&mut self, id: NodeId) {
        self.nodes.remove(&id);
        self.done_at.retain(|d| d.1 != id);
        self.timers.retain(|(n, _), _| *n != id);
        self.net.retain(|(_, to, _, _)| *to != id);
        self.running.retain(|r| r.node != id);
    }

    pub fn input(&mut self, id: NodeId, input: Input) {
        let now = self.now_of();
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        let outs = node.handle(now, input);
        self.act(id, outs);
    }

    fn act(&mut self, id: NodeId, outs: Vec<Output>) {
        for o in outs {
            match o {
                Output::Totem(tandem_totem::Output::Send { to, link, bytes }) => {
                    let same_side = self.side.get(&id).copied().unwrap_or(0)
                        == self.side.get(&to).copied().unwrap_or(0);
                    if same_side {
                        let slow = |n| self.link_delay_us.get(&n).copied().unwrap_or(0);
                        let delay = LATENCY_US + slow(id) + slow(to);
                        self.net.push((self.now + delay, to, link, bytes));
                    }
                }
                Output::Totem(tandem_totem::Output::SetTimer { timer, at }) => {
                    self.timers.insert((id, Slot::Totem(timer)), at);
                }
                Output::Totem(tandem_totem::Output::Log(l)) => {
                    self.logs.push((id, format!("{}: {}", l.subsys, l.text)))
                }
                Output::Totem(_) => {}
                Output::SetTimer { timer, at } => {
                    self.timers.insert((id, Slot::Node(timer)), at);
                }
                Output::PersistCib(c) => {
                    self.persists.push((id, c.version, true));
                    self.disk.insert(id, *c);
                }
                Output::PersistStatus(c) => {
                    self.persists.push((id, c.version, false));
                    self.disk.insert(id, *c);
                }
                Output::Exec { call, op } => {
                    if self.auto_agents {
                        self.done_at.push((self.now + AGENT_US, id, call));
                    }
                    let r = Ran { node: id, call, op };
                    self.ran.push(r.clone());
                    self.running.push(r);
                }
                Output::CancelExec { call } => {
                    self.running.retain(|r| !(r.node == id && r.call == call));
                    self.done_at.retain(|d| !(d.1 == id && d.2 == call));
                }
                Output::Reply { client, resp } => {
                    self.replies.insert(client, resp);
                }
                Output::Log(l) => self.logs.push((id, format!("{}: {}", l.subsys, l.text))),
                Output::Exit => {
                    self.exited.insert(id);
                }
                Output::Fence { node, action } => {
                    self.logs
                        .push((id, format!("fence: {action} {node} (no fencer here)")));
                }
            }
        }
    }

    /// Runs one event (the earliest packet or timer at or before `until`); false if none.
    fn step(&mut self, until: u64) -> bool {
        let next_pkt = self.net.iter().map(|p| p.0).min();
        let next_timer = self.timers.values().min().copied();
        let next_agent = self.done_at.iter().map(|d| d.0).min();
        let Some(at) = [next_pkt, next_timer, next_agent]
            .into_iter()
            .flatten()
            .min()
        else {
            return false;
        };
        if at > until {
            return false;
        }
        self.now = self.now.max(at);
        if next_agent == Some(at) {
            let i = self
                .done_at
                .iter()
                .position(|d| d.0 == at)
                .expect("found above");
            let (_, node, call) = self.done_at.remove(i);
            self.agent_done(node, call);
        } else if next_pkt == Some(at) {
            let i = self
                .net
                .iter()
                .position(|p| p.0 == at)
                .expect("found above");
            let (_, to, link, bytes) = self.net.remove(i);
            self.input(
                to,
                Input::Totem(tandem_totem::Input::Packet { link, bytes }),
            );
        } else {
            let key = *self
                .timers
                .iter()
                .find(|(_, t)| **t == at)
                .expect("found above")
                .0;
            self.timers.remove(&key);
            let input = match key.1 {
                Slot::Totem(k) => Input::Totem(tandem_totem::Input::Timer(k)),
                Slot::Node(t) => Input::Timer(t),
            };
            self.input(key.0, input);
        }
        true
    }

    /// Runs for `ms` of virtual time.
    pub fn run_ms(&mut self, ms: u64) {
        let until = self.now + ms * 1000;
        while self.step(until) {}
        self.now = until;
    }

    /// Runs until `done` holds (checked after every event) or `ms` pass; returns whether it
    /// held.
    pub fn run_until(&mut self, ms: u64, mut done: impl FnMut(&Harness) -> bool) -> bool {
        let until = self.now + ms * 1000;
        while !done(self) {
            if !self.step(until) {
                self.now = until;
                return done(self);
            }
        }
        true
    }

    /// Sends a request to node `id`; returns its client id.
    pub fn request(&mut self, id: NodeId, req: Request) -> ClientId {
        let c = self.next_client;
        self.next_client += 1;
        self.input(id, Input::Request { client: c, req });
        c
    }

    /// Sends a request and runs until it is answered (at most 10 s).
    pub fn call(&mut self, id: NodeId, req: Request) -> Response {
        let c = self.request(id, req);
        self.run_until(10_000, |h| h.replies.contains_key(&c));
        self.replies.remove(&c).expect("answered within 10 s")
    }

    /// Commits `configuration` on node `id` against the version it holds (as `tandem
    /// configure` does) and runs until it is answered.
    pub fn commit(&mut self, id: NodeId, configuration: &str) -> Response {
        let v = self.node(id).cib().version;
        self.call(
            id,
            Request::CibCommit {
                base_admin_epoch: v.admin_epoch,
                base_epoch: v.epoch,
                configuration: configuration.to_string(),
            },
        )
    }

    /// Finishes the first running operation matching `pred` with `outcome`.
    pub fn finish(&mut self, pred: impl Fn(&Ran) -> bool, rc: i32) -> Ran {
        let i = self
            .running
            .iter()
            .position(pred)
            .expect("such an operation runs");
        let r = self.running[i].clone();
        if r.op.interval_ms == 0 {
            self.running.remove(i);
        }
        let outcome = OpOutcome {
            rc,
            op_status: 0,
            exit_reason: None,
            started_epoch_s: self.now_of().epoch_s,
            exec_time_ms: 5,
            queue_time_ms: 0,
        };
        self.input(
            r.node,
            Input::ExecDone {
                call: r.call,
                outcome,
            },
        );
        r
    }

    /// A virtual agent finishes `call` on `node`.
    fn agent_done(&mut self, node: NodeId, call: u64) {
        let Some(r) = self
            .running
            .iter()
            .find(|r| r.node == node && r.call == call)
            .cloned()
        else {
            return;
        };
        let key = (node, r.op.rsc_id.clone());
        let rc = match r.op.action.as_str() {
            "start" | "promote" | "demote" => {
                self.active.insert(key);
                0
            }
            "stop" => {
                self.active.remove(&key);
                0
            }
            "monitor" if self.active.contains(&key) => 0,
            "monitor" => 7,
            _ => 0,
        };
        if r.op.interval_ms > 0 {
            self.last_rc.insert((node, call), rc);
        }
        self.finish(|x| x.node == node && x.call == call, rc);
    }

    /// A resource dies on `node` behind the cluster's back: its recurring monitor reports
    /// "not running".
    pub fn kill_resource(&mut self, node: NodeId, rsc: &str) {
        self.active.remove(&(node, rsc.to_string()));
        let monitors: Vec<u64> = self
            .running
            .iter()
            .filter(|r| r.node == node && r.op.rsc_id == rsc && r.op.interval_ms > 0)
            .map(|r| r.call)
            .collect();
        for call in monitors {
            if self.last_rc.get(&(node, call)) != Some(&7) {
                self.last_rc.insert((node, call), 7);
                self.finish(|x| x.node == node && x.call == call, 7);
            }
        }
    }

    /// Nodes where `rsc` runs (virtual agents).
    pub fn where_active(&self, rsc: &str) -> Vec<NodeId> {
        self.active
            .iter()
            .filter(|(_, r)| r == rsc)
            .map(|(n, _)| *n)
            .collect()
    }

    /// Every live node is synced, in one view of all live nodes, with identical CIBs.
    pub fn converged(&self) -> bool {
        let live: Vec<NodeId> = self.nodes.keys().copied().collect();
        let mut digests = self.nodes.values().map(|n| n.cib().document().digest());
        let first = digests.next();
        self.nodes
            .values()
            .all(|n| n.is_synced() && n.members == live)
            && digests.all(|d| Some(d) == first)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[&id]
    }
}
