//! What one node needs to run one action of a transition: the agent, the parameters and
//! meta-attributes (as Pacemaker passes them in `CRM_meta_*`), the timeout, the id under
//! which the result is recorded, and the transition key that ties the result back to the
//! action.

use std::collections::BTreeMap;

use tandem_cib::DateTime;
use tandem_scheduler::digest::node_params;
use tandem_scheduler::graph::{ActIx, Task};
use tandem_scheduler::model::{NodeIx, OnFail, OpDef, RscIx, World};
use tandem_scheduler::unpack::ops::rc;
use tandem_scheduler::{Action, Transition};

/// Everything one node needs to run an operation and to record its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSpec {
    /// The id the history is recorded under (`lrm_resource id`): the configured id for
    /// primitives and anonymous clone instances (Pacemaker keeps no instance number for
    /// those), `id:N` for instances of globally unique clones.
    pub rsc_id: String,
    pub class: String,
    pub provider: Option<String>,
    /// The agent's type (`Dummy`, `IPaddr2`, a unit or fence agent name).
    pub kind: String,
    /// `start`, `stop`, `monitor` (interval 0: a probe).
    pub action: String,
    pub interval_ms: u64,
    /// How long the agent may run.
    pub timeout_ms: u64,
    /// Instance attributes as seen on the target node, plus the operation's own instance
    /// attributes (`OCF_CHECK_LEVEL`): they become `OCF_RESKEY_*`.
    pub params: BTreeMap<String, String>,
    /// Pacemaker's `CRM_meta_*` values without the prefix (`timeout`, `interval`, `name`,
    /// `op_target_rc`, `on_node`, `on_node_uuid`, `clone`, `clone_max`, ...).
    pub meta: BTreeMap<String, String>,
    /// `action-id:transition-id:target-rc:dc-uuid`, as Pacemaker writes it.
    pub transition_key: String,
    /// The exit code that counts as success: 7 (not running) for probes, else 0.
    pub target_rc: i32,
}

impl OpSpec {
    /// The operation key Pacemaker records: `rsc_action_interval`.
    pub fn operation_key(&self) -> String {
        format!("{}_{}_{}", self.rsc_id, self.action, self.interval_ms)
    }

    /// A one-shot `monitor`: the probe that finds out whether the resource runs.
    pub fn is_probe(&self) -> bool {
        self.action == "monitor" && self.interval_ms == 0
    }
}

/// Formats a transition key.
pub fn transition_key(action: ActIx, transition: u64, target_rc: i32, dc_uuid: &str) -> String {
    format!("{action}:{transition}:{target_rc}:{dc_uuid}")
}

/// The parts of a transition key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedKey {
    pub action: ActIx,
    pub transition: u64,
    pub target_rc: i32,
    pub dc_uuid: String,
}

/// Reads a transition key; `None` if it is not one.
pub fn parse_transition_key(key: &str) -> Option<ParsedKey> {
    let mut parts = key.splitn(4, ':');
    let action = parts.next()?.parse().ok()?;
    let transition = parts.next()?.parse().ok()?;
    let target_rc = parts.next()?.parse().ok()?;
    let dc_uuid = parts.next()?.to_string();
    Some(ParsedKey {
        action,
        transition,
        target_rc,
        dc_uuid,
    })
}

/// The id under which `r`'s history is recorded (see [`OpSpec::rsc_id`]).
pub fn lrm_id(w: &World, r: RscIx) -> String {
    let rsc = &w.rscs[r];
    match w.clone_of(r) {
        Some(c) if !w.rscs[c].clone.as_ref().is_some_and(|m| m.unique) => rsc.base_id.clone(),
        _ => rsc.id.clone(),
    }
}

/// The target rc of an action: probes expect "not running".
pub fn target_rc(act: &Action) -> i32 {
    if act.task == Task::Monitor && act.interval_ms == 0 {
        rc::NOT_RUNNING
    } else {
        rc::OK
    }
}

/// Builds the spec of resource action `a` of transition `t` (numbered `transition`), to run
/// on its node. `None` for pseudo actions, fencing and actions without a resource or node.
pub fn op_spec(
    t: &Transition,
    a: ActIx,
    transition: u64,
    dc_uuid: &str,
    now: DateTime,
) -> Option<OpSpec> {
    let act = &t.graph.actions[a];
    if act.pseudo || act.task == Task::Fence {
        return None;
    }
    let (r, n) = (act.rsc?, act.node?);
    let w = &t.world;
    let rsc = &w.rscs[r];
    let action = act.task.name().to_string();
    let target = target_rc(act);
    Some(OpSpec {
        rsc_id: lrm_id(w, r),
        class: rsc.agent.class.clone(),
        provider: rsc.agent.provider.clone(),
        kind: rsc.agent.kind.clone(),
        params: op_params(w, r, n, &action, act.interval_ms, now),
        meta: op_meta(w, r, n, act, target),
        action,
        interval_ms: act.interval_ms,
        timeout_ms: act.timeout_ms,
        transition_key: transition_key(a, transition, target, dc_uuid),
        target_rc: target,
    })
}

/// Instance attributes on node `n` plus those of the configured operation. For a start this
/// is exactly the set whose digest the scheduler compares with the recorded `op-digest`.
fn op_params(
    w: &World,
    r: RscIx,
    n: NodeIx,
    action: &str,
    interval_ms: u64,
    now: DateTime,
) -> BTreeMap<String, String> {
    let mut params = node_params(w, r, n, now);
    if let Some(def) = op_def(w, r, action, interval_ms) {
        params.extend(def.params.clone());
    }
    params
}

/// The configured operation `name` with `interval_ms`, if any.
fn op_def<'w>(w: &'w World, r: RscIx, name: &str, interval_ms: u64) -> Option<&'w OpDef> {
    w.rscs[r]
        .ops
        .iter()
        .find(|o| o.name == name && o.interval_ms == interval_ms)
}

fn op_meta(w: &World, r: RscIx, n: NodeIx, act: &Action, target: i32) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        meta.insert(k.to_string(), v);
    };
    for (k, v) in configured_op_meta(w, r, act) {
        put(&k, v);
    }
    put("timeout", act.timeout_ms.to_string());
    if act.interval_ms > 0 {
        put("interval", act.interval_ms.to_string());
        put("name", act.task.name().to_string());
    }
    if act.task == Task::Monitor && act.interval_ms == 0 {
        put("op_target_rc", target.to_string());
    }
    if let Some(on_fail) = configured_on_fail(w, r, act) {
        put("on_fail", on_fail.to_string());
    }
    put("on_node", w.nodes[n].uname.clone());
    put("on_node_uuid", w.nodes[n].id.clone());
    if let Some(c) = w.clone_of(r)
        && let Some(cm) = &w.rscs[c].clone
    {
        let instance = w.rscs[r]
            .id
            .rsplit_once(':')
            .map(|(_, i)| i.to_string())
            .unwrap_or_else(|| "0".to_string());
        put("clone", instance);
        put("clone_max", cm.max.to_string());
        put("clone_node_max", cm.node_max.to_string());
        put("globally_unique", cm.unique.to_string());
        put("notify", cm.notify.to_string());
    }
    meta
}

/// Meta-attributes of the configured operation (its `meta_attributes`), passed on like
/// Pacemaker passes them (`-` becomes `_`: `CRM_meta_on_fail`).
fn configured_op_meta(w: &World, r: RscIx, act: &Action) -> BTreeMap<String, String> {
    op_def(w, r, act.task.name(), act.interval_ms)
        .map(|o| {
            o.meta
                .iter()
                .map(|(k, v)| (k.replace('-', "_"), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The configured `on-fail` of the operation (`CRM_meta_on_fail`), if any.
fn configured_on_fail(w: &World, r: RscIx, act: &Action) -> Option<&'static str> {
    let def = op_def(w, r, act.task.name(), act.interval_ms)?;
    Some(match def.on_fail? {
        OnFail::Ignore => "ignore",
        OnFail::Demote => "demote",
        OnFail::Restart => "restart",
        OnFail::Block => "block",
        OnFail::Stop => "stop",
        OnFail::Standby => "standby",
        OnFail::Fence => "fence",
    })
}
