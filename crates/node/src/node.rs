//! The [`Node`] state machine: totem underneath, the node layer's group on top.
//!
//! Every input first goes through [`Node::handle`]; inputs for the cluster layer are fed to
//! [`Totem`] through one queue (`feed`), so a broadcast made while handling a delivery is
//! fed after the current batch of totem outputs, never re-entrantly. Deliveries of the
//! node's group are decoded ([`crate::wire`]) and dispatched: sync messages at once, CIB
//! operations and exec requests in delivery order once the CIB is synced (held before).

use std::collections::{BTreeMap, VecDeque};

use tandem_cib::Cib;
use tandem_totem::{Delivery, Level, LogLine, NodeId, Totem};
use tandem_xml::Document;

use crate::cibops::{self, CibOp, Ctx};
use crate::sync::Sync;
use crate::types::{
    ClientId, ClusterInfo, Input, LastChange, NodeParams, NodeTimer, Output, Request, Response,
};
use crate::wire::{self, Body, Decoded, GROUP, Origin, Reassembler, Round};
use crate::{Now, dc, local};

/// Who is told when totem refuses an input.
#[derive(Debug, Clone, Copy, Default)]
struct Tag {
    /// A local client's request.
    client: Option<ClientId>,
    /// The node's own message with this id (sent again).
    own: Option<u64>,
}

/// One node's whole logic. See the crate documentation.
pub struct Node {
    pub(crate) totem: Totem,
    pub(crate) me: NodeId,
    pub(crate) boot: u64,
    pub(crate) name: String,
    pub(crate) names: BTreeMap<NodeId, String>,
    pub(crate) cib: Cib,
    pub(crate) now: Now,
    pub(crate) out: Vec<Output>,
    feed_queue: VecDeque<(tandem_totem::Input, Tag)>,
    /// Messages of the node itself (no client waits) being fed to totem, by message id:
    /// if totem refuses one (too many waiting), it goes to `unsent`.
    feeding_own: BTreeMap<u64, Body>,
    /// Own messages totem refused, sent again at the next input.
    unsent: VecDeque<Body>,
    feeding: bool,
    reasm: Reassembler,
    next_msg_id: u64,
    pub(crate) ring: tandem_totem::wire::RingId,
    /// The rings installed since the last completed sync round, that round's ring first
    /// (where this node has been since it was last synced), and that round's members.
    pub(crate) path: Vec<tandem_totem::wire::RingId>,
    pub(crate) synced_members: Vec<NodeId>,
    pub(crate) members: Vec<NodeId>,
    pub(crate) quorate: bool,
    pub(crate) sync: Sync,
    /// Group messages that arrived while the CIB was not synced, in delivery order.
    pub(crate) held: VecDeque<(NodeId, u64, Body)>,
    /// The node's own operations (no client waits) that a new round dropped: sent again
    /// once that round is over.
    pub(crate) resend: Vec<CibOp>,
    /// Number of the next operation this node sends (its messages are delivered in the
    /// order they were sent, see [`Node::lost_own_before`]).
    pub(crate) next_req: u64,
    /// Requests of local clients in flight, by operation number.
    pub(crate) waiting: BTreeMap<u64, ClientId>,
    /// Transient attributes (`node_state` id, name) this node saw deleted since the last
    /// round with every node present: a member holding an older copy does not bring them
    /// back at a merge ([`crate::cibops::reassert_attrs`]).
    pub(crate) attr_deleted: std::collections::BTreeSet<(String, String)>,
    /// Number of our last operation delivered back to us.
    own_delivered: u64,
    pub(crate) dc: Option<NodeId>,
    pub(crate) dc_state: dc::DcState,
    pub(crate) local: local::Local,
    /// Client answers waiting for their change to be safe ([`crate::safe`]).
    pub(crate) safe_replies: crate::safe::SafeReplies,
}

impl Node {
    pub fn new(p: NodeParams) -> Node {
        let me = p.totem.me;
        let boot = p.totem.boot_id;
        let name = p.names.get(&me).cloned().unwrap_or_else(|| me.to_string());
        let local = local::Local::new(me, &name);
        Node {
            totem: Totem::new(p.totem),
            me,
            boot,
            name,
            names: p.names,
            cib: p.cib.unwrap_or_else(Cib::empty),
            now: Now::default(),
            out: Vec::new(),
            feed_queue: VecDeque::new(),
            feeding_own: BTreeMap::new(),
            unsent: VecDeque::new(),
            feeding: false,
            reasm: Reassembler::default(),
            next_msg_id: 1,
            ring: tandem_totem::wire::RingId { rep: me, seq: 0 },
            path: Vec::new(),
            synced_members: Vec::new(),
            members: Vec::new(),
            quorate: false,
            sync: Sync::default(),
            held: VecDeque::new(),
            resend: Vec::new(),
            next_req: 1,
            waiting: BTreeMap::new(),
            attr_deleted: Default::default(),
            own_delivered: 0,
            dc: None,
            dc_state: dc::DcState::default(),
            local,
            safe_replies: crate::safe::SafeReplies::default(),
        }
    }

    /// Feeds one input; returns what the driver must do, in order.
    pub fn handle(&mut self, now: Now, input: Input) -> Vec<Output> {
        self.now = Now {
            mono_us: now.mono_us.max(self.now.mono_us),
            epoch_s: now.epoch_s,
        };
        for body in std::mem::take(&mut self.unsent) {
            self.broadcast(&body, None);
        }
        match input {
            Input::Totem(tandem_totem::Input::Start) => {
                self.feed(tandem_totem::Input::Start, Tag::default());
                self.feed(tandem_totem::Input::JoinGroup(GROUP.into()), Tag::default());
            }
            Input::Totem(i) => self.feed(i, Tag::default()),
            Input::Timer(t) => self.on_timer(t),
            Input::Request { client, req } => self.on_request(client, req),
            Input::ExecDone { call, outcome } => self.exec_done(call, outcome),
            Input::Shutdown => self.start_shutdown(),
            Input::FenceDone { node, ok } => self.fence_done(&node, ok),
        }
        std::mem::take(&mut self.out)
    }

    /// The cluster layer (for status tools).
    pub fn totem(&self) -> &Totem {
        &self.totem
    }

    /// The CIB as this node has it.
    pub fn cib(&self) -> &Cib {
        &self.cib
    }

    /// This node's name (`uname`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The DC's name, once known.
    pub fn dc_name(&self) -> Option<String> {
        self.dc.map(|d| self.uname(d))
    }

    /// Whether the CIB is synced with the group (requests are applied, not held).
    pub fn is_synced(&self) -> bool {
        self.sync.is_done()
    }

    #[cfg(test)]
    pub(crate) fn unsent_len(&self) -> usize {
        self.unsent.len()
    }

    /// The members of the node layer's group as last reported by the cluster layer (the
    /// sync round [`Node::is_synced`] speaks of is this membership's).
    pub fn group_members(&self) -> &[NodeId] {
        &self.members
    }

    pub(crate) fn uname(&self, id: NodeId) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub(crate) fn log(&mut self, level: Level, subsys: &str, text: String) {
        self.out.push(Output::Log(LogLine {
            level,
            subsys: subsys.to_string(),
            text,
        }));
    }

    /// Feeds totem; if totem refuses the input, the tag's client is answered with an
    /// error, or the node's own message is kept to be sent again.
    fn feed(&mut self, input: tandem_totem::Input, tag: Tag) {
        self.feed_queue.push_back((input, tag));
        if self.feeding {
            return;
        }
        self.feeding = true;
        while let Some((input, tag)) = self.feed_queue.pop_front() {
            let outs = self.totem.handle(self.now.mono_us, input);
            for o in outs {
                self.on_totem(o, tag);
            }
            // Quorum as totem has it (a one-node cluster is quorate from the start, with no
            // QuorumChanged to say so).
            let q = self.totem.status().quorum;
            let quorate = !q.enabled || q.quorate;
            if quorate != self.quorate {
                self.quorate = quorate;
                if quorate && self.sync.is_done() {
                    self.sync.quorate_seq = self.ring.seq;
                }
                self.dc_quorum_changed();
            }
        }
        self.feeding = false;
        self.feeding_own.clear();
    }

    fn on_totem(&mut self, o: tandem_totem::Output, tag: Tag) {
        use tandem_totem::Output as T;
        match o {
            T::Deliver(d) if d.group == GROUP => self.on_deliver(d),
            T::Safe { ring, seq } => self.on_safe(ring, seq),
            T::ViewInstalled(v) => {
                self.ring = v.ring;
                self.path.push(v.ring);
                self.safe_view_changed(v.ring);
                self.on_view(v.members.clone());
                self.out.push(Output::Totem(T::ViewInstalled(v)));
            }
            // Every node joins the group as it starts, so after a view's sync barrier the
            // group's members are the view's: rounds follow views (see `sync`).
            // One exception: a member that restarted between two views (faster than failure
            // detection) is reported leaving the group with its old process; what the DC had
            // in flight there is lost (simulator seed 65).
            T::GroupChanged { group, members } if group == GROUP => {
                let gone: Vec<NodeId> = self
                    .members
                    .iter()
                    .copied()
                    .filter(|m| !members.contains(m))
                    .collect();
                if !gone.is_empty() && members.contains(&self.me) {
                    self.dc_round_started(&gone);
                }
            }
            T::Refused(r) => match tag {
                Tag {
                    client: Some(c), ..
                } => {
                    // Answered now: not waiting for a delivery any more.
                    self.waiting.retain(|_, w| *w != c);
                    self.out.push(Output::Reply {
                        client: c,
                        resp: Response::Error {
                            message: format!("the cluster layer refused the request: {r}"),
                        },
                    });
                }
                Tag { own: Some(id), .. } => {
                    if let Some(body) = self.feeding_own.remove(&id) {
                        self.log(
                            Level::Warning,
                            "cib",
                            format!("broadcast refused ({r}); sending it again"),
                        );
                        self.unsent.push_back(body);
                    }
                }
                Tag { .. } => self.out.push(Output::Totem(T::Refused(r))),
            },
            other => self.out.push(Output::Totem(other)),
        }
    }

    /// Broadcasts `body` to the group (in parts if large).
    pub(crate) fn broadcast(&mut self, body: &Body, client: Option<ClientId>) {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        let own = client.is_none().then_some(id);
        if own.is_some() {
            self.feeding_own.insert(id, body.clone());
        }
        for payload in wire::encode(body, id) {
            self.feed(
                tandem_totem::Input::Broadcast {
                    group: GROUP.into(),
                    payload,
                },
                Tag { client, own },
            );
        }
    }

    /// Broadcasts a CIB operation; `client` is answered once it is applied here.
    pub(crate) fn send_op(&mut self, op: CibOp, client: Option<ClientId>) {
        let req = self.next_req;
        self.next_req += 1;
        if let Some(c) = client {
            self.waiting.insert(req, c);
        }
        let body = Body::Op {
            origin: Origin {
                node: self.me,
                boot: self.boot,
                req,
            },
            epoch_s: self.now.epoch_s,
            op,
        };
        self.broadcast(&body, client);
    }

    pub(crate) fn on_deliver(&mut self, d: Delivery) {
        self.safe_delivering(d.ring, d.safe_at);
        let body = match self.reasm.take(d.sender, d.sender_boot, &d.payload) {
            Decoded::Body(b) => b,
            Decoded::Incomplete => return,
            Decoded::Bad(why) => {
                self.log(
                    Level::Warning,
                    "cib",
                    format!("ignoring a message from node {}: {why}", d.sender),
                );
                return;
            }
        };
        if let Body::Op { origin, .. } = &body
            && origin.node == self.me
            && origin.boot == self.boot
            && d.sender_boot == self.boot
        {
            self.lost_own_before(origin.req);
        }
        match body {
            Body::SyncVersion {
                round,
                version,
                digest,
                quorate_seq,
                came_from,
                attrs,
                deleted,
            } => {
                self.dc_member_came_from(d.sender, &round, &came_from);
                if self.sync.is_round(&round)
                    && !self.sync.is_done()
                    && round.members.contains(&d.sender)
                {
                    self.sync.attr_tables.insert(d.sender, attrs);
                    self.sync.attr_deleted.extend(deleted);
                }
                self.on_sync_version(
                    d.sender,
                    d.sender_boot,
                    round,
                    (version.0, quorate_seq, version),
                    digest,
                )
            }
            Body::SyncCib { round, xml } => self.on_sync_cib(d.sender, round, &xml),

            other if !self.sync.is_done() => self.held.push_back((d.sender, d.sender_boot, other)),
            other => self.dispatch(d.sender, d.sender_boot, other),
        }
    }

    /// One of our operations, number `req`, was delivered: our messages are delivered in
    /// the order we sent them, so a client request sent before it and still unanswered was
    /// never delivered to us and never will be. That happens when this node was cut off
    /// from a ring right after it sent the request: the others delivered it there, and
    /// when they met again the cluster layer dropped our copy as already delivered (simulator
    /// seed 1277: the client waited forever). Whether the change was applied is unknown here
    /// (it was, by the nodes that delivered it, if their CIB won): the client is told so.
    fn lost_own_before(&mut self, req: u64) {
        // Delivered but held during a sync round is not lost: only those between the
        // previous delivery and this one.
        let from = self.own_delivered.saturating_add(1);
        self.own_delivered = self.own_delivered.max(req);
        if req <= from {
            return;
        }
        let lost: Vec<u64> = self.waiting.range(from..req).map(|(r, _)| *r).collect();
        for r in lost {
            let client = self.waiting.remove(&r).expect("listed above");
            self.out.push(Output::Reply {
                client,
                resp: Response::Error {
                    message: "the cluster membership changed while the change was being delivered: other nodes may have applied it; check the CIB and run the command again if needed".into(),
                },
            });
        }
    }

    fn dispatch(&mut self, sender: NodeId, boot: u64, body: Body) {
        match body {
            Body::Op {
                origin,
                epoch_s,
                op,
            } => self.apply_op(sender, boot, origin, epoch_s, op),
            Body::Exec(e) => self.on_exec(sender, e),
            Body::SyncVersion { .. } | Body::SyncCib { .. } => {}
        }
    }

    /// The node's own operations a round dropped, once the round is over (after the
    /// history report, so a result is recorded over the history that already holds it).
    pub(crate) fn resend_dropped(&mut self) {
        for op in std::mem::take(&mut self.resend) {
            self.send_op(op, None);
        }
    }

    /// Messages held during a sync, once it completed.
    pub(crate) fn release_held(&mut self) {
        while self.sync.is_done() {
            let Some((sender, boot, body)) = self.held.pop_front() else {
                break;
            };
            self.dispatch(sender, boot, body);
        }
    }

    /// A new sync round drops the CIB operations held: those messages were not applied by
    /// the nodes that were synced when they arrived in the same way, so applying them after
    /// the new round could make replicas differ. Their clients here are told to retry.
    /// Operations the DC asked this node to run are kept (they change no replica; run after
    /// the round if their sender is still the DC): dropping one left the DC's transition
    /// waiting for its timeout (simulator seed 14). The node's own operations (results it
    /// recorded, attributes it set for itself, the DC's records) are sent again after the
    /// round ([`Node::resend_dropped`]): a dropped result record left the DC's transition
    /// waiting for the action's timeout, longer than the simulator's calm phase (seed 1001).
    /// Its history report and the DC's membership are not: every round writes them anew.
    pub(crate) fn drop_held(&mut self) {
        for (sender, boot, body) in std::mem::take(&mut self.held) {
            match body {
                Body::Exec(_) => self.held.push_back((sender, boot, body)),
                Body::Op { origin, op, .. }
                    if origin.node == self.me
                        && origin.boot == self.boot
                        && !self.waiting.contains_key(&origin.req)
                        && !matches!(op, CibOp::History { .. } | CibOp::Membership { .. }) =>
                {
                    self.resend.push(op);
                }
                Body::Op { origin, .. }
                    if origin.node == self.me
                        && origin.boot == self.boot
                        && self.waiting.contains_key(&origin.req) =>
                {
                    let c = self.waiting.remove(&origin.req).expect("checked above");
                    self.out.push(Output::Reply {
                        client: c,
                        resp: Response::Error {
                            message: "the cluster membership changed before the change could be applied; nothing was changed, run the command again".into(),
                        },
                    });
                }
                _ => {}
            }
        }
    }

    fn apply_op(&mut self, sender: NodeId, boot: u64, origin: Origin, epoch_s: i64, op: CibOp) {
        let origin_name = self.uname(origin.node);
        let before = self.cib.version;
        let result = {
            let ctx = Ctx {
                origin: &origin_name,
                epoch_s,
                names: &self.names,
                dc: self.dc,
                sender,
                boots: &self.sync.boots,
            };
            cibops::apply(&self.cib, &op, &ctx)
        };
        let mine = origin.node == self.me && origin.boot == self.boot && boot == self.boot;
        let resp = match result {
            Ok(new) => {
                let changed = new.version != before
                    || new.document().digest() != self.cib.document().digest();
                if changed && op.touches_attrs() {
                    self.note_attr_changes(&new);
                }
                self.cib = new;
                if changed {
                    let cib = Box::new(self.cib.clone());
                    // Belt and braces: a change of the epochs is a configuration change.
                    let same_epochs = (before.admin_epoch, before.epoch)
                        == (self.cib.version.admin_epoch, self.cib.version.epoch);
                    self.out.push(if op.durable() || !same_epochs {
                        Output::PersistCib(cib)
                    } else {
                        Output::PersistStatus(cib)
                    });
                    if op.touches_config() && before.epoch != self.cib.version.epoch {
                        self.log(
                            Level::Notice,
                            "cib",
                            format!(
                                "Configuration updated to {} by {origin_name}",
                                self.cib.version
                            ),
                        );
                    }
                }
                self.local_op_applied(&op);
                self.dc_op_applied(&op, changed);
                Response::Committed {
                    version: self.cib.version,
                }
            }
            Err(message) => {
                if mine {
                    self.log(Level::Warning, "cib", format!("Update refused: {message}"));
                }
                Response::Error { message }
            }
        };
        // A member's report of its own history (applied or not, the DC's wait for it after
        // a round is over).
        if let CibOp::History { node, .. } = &op
            && *node == origin_name
        {
            self.dc_report_delivered(node);
        }
        if mine && let Some(client) = self.waiting.remove(&origin.req) {
            let resp = match (&op, resp) {
                (CibOp::Commit { .. } | CibOp::Replace { .. }, r) => r,
                (_, Response::Committed { .. }) => Response::Done,
                (_, r) => r,
            };
            self.reply_when_safe(client, resp);
        }
        self.check_shutdown_done();
    }

    /// Keeps [`Node::attr_deleted`] in step with an applied change.
    fn note_attr_changes(&mut self, new: &Cib) {
        let before = cibops::transient_keys(self.cib.document());
        let after = cibops::transient_keys(new.document());
        for k in before.difference(&after) {
            self.attr_deleted.insert(k.clone());
        }
        for k in after.difference(&before) {
            self.attr_deleted.remove(k);
        }
    }

    fn on_request(&mut self, client: ClientId, req: Request) {
        if matches!(req, Request::CibCommit { .. } | Request::CibReplace { .. }) && !self.quorate {
            // As Pacemaker's CIB ("Write requires quorum"): a partition without quorum
            // changes no configuration, so it cannot race the quorate one's changes.
            self.out.push(Output::Reply {
                client,
                resp: Response::Error {
                    message: "this node's partition has no quorum: configuration changes need quorum; nothing was changed".into(),
                },
            });
            return;
        }
        match req {
            Request::CibQuery => self.out.push(Output::Reply {
                client,
                resp: Response::Cib {
                    xml: self.cib.to_xml(),
                },
            }),
            Request::ClusterStatus => {
                let info = self.cluster_info();
                self.out.push(Output::Reply {
                    client,
                    resp: Response::Cluster(Box::new(info)),
                });
            }
            Request::CibCommit {
                base_admin_epoch,
                base_epoch,
                configuration,
            } => self.send_op(
                CibOp::Commit {
                    base: (base_admin_epoch, base_epoch),
                    configuration,
                },
                Some(client),
            ),
            Request::CibReplace { xml } => self.send_op(CibOp::Replace { xml }, Some(client)),
            Request::AttrUpdate { node, name, value } => self.send_op(
                CibOp::Attrs {
                    node,
                    set: vec![(name, value)],
                },
                Some(client),
            ),
            Request::Cleanup { resource, node } => {
                self.send_op(CibOp::Cleanup { resource, node }, Some(client))
            }
            Request::Shutdown => {
                self.start_shutdown();
                self.out.push(Output::Reply {
                    client,
                    resp: Response::Done,
                });
            }
        }
    }

    fn cluster_info(&self) -> ClusterInfo {
        let last_change = self
            .cib
            .root_attr("cib-last-written")
            .and_then(cibops::parse_ctime)
            .map(|epoch_s| LastChange {
                epoch_s,
                user: self
                    .cib
                    .root_attr("update-user")
                    .unwrap_or_default()
                    .to_string(),
                client: self
                    .cib
                    .root_attr("update-client")
                    .unwrap_or_default()
                    .to_string(),
                origin_node: self
                    .cib
                    .root_attr("update-origin")
                    .unwrap_or_default()
                    .to_string(),
            });
        ClusterInfo {
            cib: self.cib.to_xml(),
            local_node: self.name.clone(),
            dc: self.dc_name(),
            quorate: self.quorate,
            members: self.members.iter().map(|m| self.uname(*m)).collect(),
            ring: self.ring.to_string(),
            last_change,
            transition_active: self.transition_active(),
        }
    }

    fn on_timer(&mut self, t: NodeTimer) {
        match t {
            NodeTimer::Schedule
            | NodeTimer::Controller
            | NodeTimer::Recheck
            | NodeTimer::Reports => self.dc_timer(t),
            NodeTimer::ShutdownEscalation => self.shutdown_escalated(),
        }
    }

    pub(crate) fn set_timer(&mut self, timer: NodeTimer, at: u64) {
        self.out.push(Output::SetTimer { timer, at });
    }

    /// A view was installed: a new sync round starts.
    fn on_view(&mut self, members: Vec<NodeId>) {
        let departed: Vec<NodeId> = self
            .members
            .iter()
            .copied()
            .filter(|m| !members.contains(m))
            .collect();
        self.members = members.clone();
        self.reasm.retain_members(&members);
        let round = Round {
            ring_rep: self.ring.rep,
            ring_seq: self.ring.seq,
            members,
        };
        self.drop_held();
        self.dc_round_started(&departed);
        self.start_round(round);
    }

    /// Our own `lrm` history as a document, for re-reporting it.
    pub(crate) fn my_lrm_xml(&self) -> Option<String> {
        let d: &Document = &self.local.mine;
        let r = d.root()?;
        let lrm = d.descend(r, &["status", "node_state", "lrm"])?;
        Some(d.node_to_compact_string(lrm))
    }
}
