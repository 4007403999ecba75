//! The working set every stage reads and writes: nodes and resources addressed by integer
//! indices, so that no stage needs a map keyed by strings in its inner loops.

use std::collections::BTreeMap;

use tandem_cib::{Role, Score};

/// Index of a node in [`World::nodes`].
pub type NodeIx = usize;
/// Index of a resource in [`World::rscs`].
pub type RscIx = usize;

/// How a node takes part in the cluster, as unpacked from `node_state`.
#[derive(Clone, Debug, Default)]
pub struct Node {
    pub id: String,
    pub uname: String,
    pub online: bool,
    /// Must be fenced before its resources can be recovered elsewhere.
    pub unclean: bool,
    pub pending: bool,
    pub standby: bool,
    /// Put in standby by a failure with `on-fail=standby`.
    pub standby_onfail: bool,
    pub maintenance: bool,
    pub shutdown: bool,
    /// Why the node will be fenced, if it will.
    pub fence_reason: Option<String>,
    /// Configured and transient attributes plus the built-in `#uname`, `#id`, `#kind`.
    pub attrs: BTreeMap<String, String>,
    pub utilization: BTreeMap<String, i64>,
    /// Resources assigned here so far (load spreading among equal scores).
    pub assigned_count: usize,
    /// Whether the node can run resources at all (online, clean, not standby, ...).
    pub usable: bool,
    pub is_dc: bool,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// What kind of resource a [`Rsc`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Primitive,
    Group,
    Clone,
}

/// `multiple-active`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultipleActive {
    StopStart,
    StopOnly,
    Block,
    StopUnexpected,
}

/// `requires`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requires {
    Nothing,
    Quorum,
    Fencing,
    Unfencing,
}

/// What a configured operation does when it fails (`on-fail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OnFail {
    Ignore,
    Demote,
    Restart,
    Block,
    Stop,
    Standby,
    Fence,
}

impl OnFail {
    pub fn parse(text: &str) -> Option<OnFail> {
        Some(match text {
            "ignore" => OnFail::Ignore,
            "demote" => OnFail::Demote,
            "restart" => OnFail::Restart,
            "block" => OnFail::Block,
            "stop" => OnFail::Stop,
            "standby" => OnFail::Standby,
            "fence" => OnFail::Fence,
            _ => return None,
        })
    }
}

/// A configured operation of a primitive, with its effective settings.
#[derive(Clone, Debug)]
pub struct OpDef {
    pub name: String,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub role: Option<Role>,
    pub on_fail: Option<OnFail>,
    pub enabled: bool,
    /// Operation instance attributes (`OCF_CHECK_LEVEL`), part of its digest.
    pub params: BTreeMap<String, String>,
    /// Operation meta-attributes that are part of a recurring operation's digest.
    pub meta: BTreeMap<String, String>,
}

/// What a primitive runs.
#[derive(Clone, Debug, Default)]
pub struct Agent {
    pub class: String,
    pub provider: Option<String>,
    pub kind: String,
}

impl Agent {
    /// `class:provider:type`, as status output prints it.
    pub fn spec(&self) -> String {
        match &self.provider {
            Some(p) => format!("{}:{}:{}", self.class, p, self.kind),
            None => format!("{}:{}", self.class, self.kind),
        }
    }
}

/// Clone meta-attributes.
#[derive(Clone, Debug)]
pub struct CloneMeta {
    pub max: usize,
    pub node_max: usize,
    pub min: usize,
    pub unique: bool,
    pub interleave: bool,
    pub ordered: bool,
    pub notify: bool,
}

/// One resource: a primitive, a group or a clone — or one instance of a clone's child.
#[derive(Clone, Debug)]
pub struct Rsc {
    /// The id as printed: `web`, or `web:2` for a clone instance.
    pub id: String,
    /// The configured id (without an instance suffix).
    pub base_id: String,
    pub variant: Variant,
    pub parent: Option<RscIx>,
    pub children: Vec<RscIx>,
    /// The top-level resource this one belongs to.
    pub top: RscIx,
    pub agent: Agent,
    pub params: BTreeMap<String, String>,
    /// The instance attribute blocks, for parameters that depend on the node.
    pub instance_sets: Vec<tandem_cib::nvset::NvSet>,
    pub meta: BTreeMap<String, String>,
    pub ops: Vec<OpDef>,
    pub utilization: BTreeMap<String, i64>,
    pub clone: Option<CloneMeta>,
    pub priority: i64,
    pub stickiness: Score,
    pub target_role: Role,
    pub managed: bool,
    pub maintenance: bool,
    pub migration_threshold: i64,
    pub failure_timeout_ms: u64,
    pub multiple_active: MultipleActive,
    pub requires: Requires,
    pub critical: bool,
    pub is_fencing_device: bool,
    /// Not in the configuration any more (history only).
    pub orphan: bool,
    // ---- state unpacked from history --------------------------------------------------
    pub running_on: Vec<NodeIx>,
    pub role: Role,
    pub failed: bool,
    /// Stop may not be attempted (failed stop without fencing, on-fail=block).
    pub blocked: bool,
    /// Nodes where this resource must never run (hard errors, fail-count over threshold).
    pub banned: Vec<NodeIx>,
    /// A failure happened that `on-fail=ignore` let pass (shown as "failure ignored").
    pub failure_ignored: bool,
    /// A failure asked for the resource to stay stopped (`on-fail=stop`).
    pub stop_on_fail: bool,
    /// Nodes where the agent reported the resource is not installed/configured.
    pub pending_task: Option<String>,
    // ---- placement ---------------------------------------------------------------------
    /// Score per node; `None` means the node is not even considered (opt-in clusters).
    pub allowed: Vec<Option<Score>>,
    pub assigned: Option<NodeIx>,
    pub next_role: Role,
    /// Assignment has been done (successfully or not).
    pub assigned_done: bool,
    pub assigning: bool,
}

impl Rsc {
    /// Active on more than one node that is not about to be fenced.
    pub fn multiply_active(&self, nodes: &[Node]) -> bool {
        self.running_on
            .iter()
            .filter(|&&n| !nodes[n].unclean)
            .count()
            > 1
    }

    pub fn is_primitive(&self) -> bool {
        self.variant == Variant::Primitive
    }

    /// The node it is active on, if exactly one.
    pub fn current(&self) -> Option<NodeIx> {
        self.running_on.first().copied()
    }

    pub fn is_active(&self) -> bool {
        !self.running_on.is_empty()
    }
}

/// Everything the stages share.
#[derive(Clone, Debug, Default)]
pub struct World {
    pub nodes: Vec<Node>,
    pub rscs: Vec<Rsc>,
    /// Top-level resources in configuration order.
    pub tops: Vec<RscIx>,
    /// Configured id (and instance id) -> resource.
    pub by_id: BTreeMap<String, RscIx>,
    pub node_by_name: BTreeMap<String, NodeIx>,
    pub have_quorum: bool,
    pub fencing_enabled: bool,
    /// `no-quorum-policy=ignore`: fencing goes ahead without quorum.
    pub ignore_quorum: bool,
    /// A node health strategy is in use: status names nodes whose health is not green.
    pub node_health: bool,
    pub dc: Option<NodeIx>,
    /// When set (see [`crate::schedule_traced`]), every score added to a resource's node
    /// table is recorded here with what it came from.
    pub trace: Option<Vec<ScoreEntry>>,
    /// What the scores being added now come from (for [`World::trace`]).
    pub trace_source: ScoreSource,
}

/// One score added to a resource's table for a node, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreEntry {
    pub rsc: RscIx,
    pub node: NodeIx,
    pub score: Score,
    pub source: ScoreSource,
}

/// Where a score came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ScoreSource {
    #[default]
    Other,
    /// A location constraint (by id).
    Location(String),
    /// A colocation or ordering the scheduler adds itself (containers, bundles).
    Implicit,
    /// A hard or fatal error in the operation history.
    HistoryBan,
    /// The fail count reached `migration-threshold`.
    FailCount,
    /// Node health attributes.
    Health,
    /// Stickiness on the node the resource runs on.
    Stickiness,
    /// A shutdown lock keeps the resource for its node.
    ShutdownLock,
}

impl World {
    /// Records a score added to `rsc`'s table (when tracing).
    pub fn record(&mut self, rsc: RscIx, node: NodeIx, score: Score) {
        let source = self.trace_source.clone();
        if let Some(t) = &mut self.trace {
            t.push(ScoreEntry {
                rsc,
                node,
                score,
                source,
            });
        }
    }

    /// Whether node `n` can be fenced from this partition: with quorum (or the policy says
    /// to ignore its loss), or when the node is still in the partition.
    pub fn can_fence(&self, n: NodeIx) -> bool {
        self.fencing_enabled && (self.have_quorum || self.ignore_quorum || self.nodes[n].online)
    }

    pub fn node_named(&self, name: &str) -> Option<NodeIx> {
        self.node_by_name.get(name).copied()
    }

    pub fn rsc(&self, id: &str) -> Option<RscIx> {
        self.by_id.get(id).copied()
    }

    /// Every primitive below (or equal to) `r`, in tree order.
    pub fn primitives_of(&self, r: RscIx) -> Vec<RscIx> {
        let mut out = Vec::new();
        self.collect_primitives(r, &mut out);
        out
    }

    fn collect_primitives(&self, r: RscIx, out: &mut Vec<RscIx>) {
        if self.rscs[r].is_primitive() {
            out.push(r);
        } else {
            for &c in &self.rscs[r].children {
                self.collect_primitives(c, out);
            }
        }
    }

    /// The parent of `r` if it is a clone instance's top (the instance) — i.e. the clone.
    pub fn clone_of(&self, r: RscIx) -> Option<RscIx> {
        let mut at = self.rscs[r].parent;
        while let Some(p) = at {
            if self.rscs[p].variant == Variant::Clone {
                return Some(p);
            }
            at = self.rscs[p].parent;
        }
        None
    }

    /// The group containing `r`, if any.
    pub fn group_of(&self, r: RscIx) -> Option<RscIx> {
        self.rscs[r]
            .parent
            .filter(|&p| self.rscs[p].variant == Variant::Group)
    }
}
