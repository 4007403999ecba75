//! The transition graph: actions and the orderings between them, and the fixed-point pass
//! that makes actions required or unrunnable along orderings.

use crate::model::{NodeIx, RscIx};

/// Index of an action in [`Graph::actions`].
pub type ActIx = usize;

/// What an action does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Task {
    Start,
    Stop,
    Monitor,
    Promote,
    Demote,
    /// Pseudo: a group or clone has started all it will start.
    Running,
    /// Pseudo: a group or clone has stopped all it will stop.
    Stopped,
    /// Fencing of a node.
    Fence,
    /// Cancels a recurring operation no longer wanted.
    Cancel,
    ClearFailcount,
    Reload,
    /// Pseudo: at least one of several "first" actions is runnable.
    OneOrMore,
    /// Pseudo: all fencing of the transition is done.
    FencingComplete,
}

impl Task {
    /// The name used in action keys (`rsc_start_0`) and reasons.
    pub fn name(self) -> &'static str {
        match self {
            Task::Start => "start",
            Task::Stop => "stop",
            Task::Monitor => "monitor",
            Task::Promote => "promote",
            Task::Demote => "demote",
            Task::Running => "running",
            Task::Stopped => "stopped",
            Task::Fence => "stonith",
            Task::Cancel => "cancel",
            Task::ClearFailcount => "clear_failcount",
            Task::Reload => "reload-agent",
            Task::OneOrMore => "one-or-more",
            Task::FencingComplete => "stonith_complete",
        }
    }
}

/// One action of the transition.
#[derive(Clone, Debug)]
pub struct Action {
    pub rsc: Option<RscIx>,
    pub task: Task,
    pub interval_ms: u64,
    pub node: Option<NodeIx>,
    /// Not needed unless an ordering makes it so.
    pub optional: bool,
    pub runnable: bool,
    /// Done by the scheduler's bookkeeping, not by any node (group/clone markers, stops
    /// implied by fencing).
    pub pseudo: bool,
    pub reason: Option<String>,
    pub timeout_ms: u64,
    /// For fencing: `reboot`, `off` or `on`.
    pub fence_action: Option<String>,
    /// For pseudo one-or-more actions: the key printed in reasons.
    pub label: Option<String>,
    /// How many "first" inputs must be runnable (one-or-more actions).
    pub min_inputs: usize,
    /// An interleaved clone instance with no instance of what it is ordered after on its
    /// node: as good as unassigned.
    pub no_peer: bool,
    /// Its resource may not be acted on (unmanaged, blocked): harmless while optional,
    /// unrunnable once required.
    pub fixed: bool,
    /// Unrunnable only because of asymmetric orders: if its resource already runs, it stays.
    pub soft_block: bool,
}

impl Action {
    pub fn new(rsc: Option<RscIx>, task: Task, node: Option<NodeIx>) -> Action {
        Action {
            rsc,
            task,
            interval_ms: 0,
            node,
            optional: true,
            runnable: true,
            pseudo: false,
            reason: None,
            timeout_ms: 0,
            fence_action: None,
            label: None,
            min_inputs: 0,
            soft_block: false,
            fixed: false,
            no_peer: false,
        }
    }

    /// In the executed graph: required and runnable.
    pub fn in_graph(&self) -> bool {
        !self.optional && self.runnable
    }
}

/// How an ordering propagates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `first` required makes `then` required.
    pub implies_then: bool,
    /// `then` required makes `first` required.
    pub implies_first: bool,
    /// `first` unrunnable makes `then` unrunnable.
    pub runnable_left: bool,
    /// `then` unrunnable makes `first` (a stop of a resource active on `then`'s node)
    /// required: a resource that cannot restart must stop.
    pub restart: bool,
    /// Only orders `then` after `first` when both happen.
    pub optional: bool,
    /// From an order with `symmetrical=false`: a "then" it blocks keeps running if it is
    /// running already.
    pub asymmetric: bool,
}

impl Flags {
    pub const MANDATORY: Flags = Flags {
        implies_then: true,
        implies_first: false,
        runnable_left: true,
        restart: false,
        optional: false,
        asymmetric: false,
    };
    pub const ORDER_ONLY: Flags = Flags {
        implies_then: false,
        implies_first: false,
        runnable_left: false,
        restart: false,
        optional: true,
        asymmetric: false,
    };
}

/// `first` before `then`.
#[derive(Clone, Debug)]
pub struct Edge {
    pub first: ActIx,
    pub then: ActIx,
    pub flags: Flags,
}

/// Actions and orderings.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub actions: Vec<Action>,
    pub edges: Vec<Edge>,
    pub by_first: Vec<Vec<usize>>,
    pub by_then: Vec<Vec<usize>>,
}

impl Graph {
    pub fn add(&mut self, a: Action) -> ActIx {
        self.actions.push(a);
        self.by_first.push(Vec::new());
        self.by_then.push(Vec::new());
        self.actions.len() - 1
    }

    pub fn order(&mut self, first: ActIx, then: ActIx, flags: Flags) {
        if first == then {
            return;
        }
        let e = self.edges.len();
        self.edges.push(Edge { first, then, flags });
        self.by_first[first].push(e);
        self.by_then[then].push(e);
    }

    /// Marks an action required (with a reason if it has none) and reports whether it
    /// changed.
    pub fn require(&mut self, a: ActIx, reason: Option<String>) -> bool {
        let act = &mut self.actions[a];
        if !act.optional {
            return false;
        }
        act.optional = false;
        if act.reason.is_none() {
            act.reason = reason;
        }
        if act.fixed {
            act.runnable = false;
        }
        true
    }

    pub fn block(&mut self, a: ActIx, reason: Option<String>) -> bool {
        let act = &mut self.actions[a];
        if !act.runnable {
            return false;
        }
        act.runnable = false;
        if act.reason.is_none() {
            act.reason = reason;
        }
        true
    }
}
