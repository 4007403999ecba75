//! `tandem-scheduler`: the policy engine. A pure function from a CIB and a point in time to
//! a transition: allocation scores, where every resource goes, and the graph of actions
//! (with their orderings) that gets the cluster there — the same graph the controller
//! executes and `tandem simulate` (crm_simulate) prints.
//!
//! ```text
//!  Cib + now ─▶ build      configuration → nodes, resources (clones expanded), meta
//!            ─▶ unpack     node_state → online/offline/unclean/pending/standby…;
//!                          lrm history → where each resource runs, failures, bans
//!            ─▶ constraints location (rules, patterns), colocation, order, sets, tags
//!            ─▶ scores     symmetric init, bans, fail counts, node health, stickiness
//!            ─▶ assign     priority order, colocations, clones, utilization
//!            ─▶ actions    start/stop/monitor/probe/fence, group and clone pseudo-actions
//!            ─▶ orderings  internal + constraint orderings, required/unrunnable fixed point
//!            ═▶ Transition { world (placement), graph, allocation scores }
//! ```
//!
//! This is a core crate: no I/O, no clock (`now` is an argument), no hash-map iteration.
//!
//! ```
//! use tandem_cib::{Cib, DateTime};
//! let cib = Cib::parse(r#"<cib have-quorum="1"><configuration>
//!   <crm_config><cluster_property_set id="o">
//!     <nvpair id="o1" name="fencing-enabled" value="false"/></cluster_property_set></crm_config>
//!   <nodes><node id="1" uname="n1"/></nodes>
//!   <resources><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/></resources>
//!   <constraints/></configuration>
//!   <status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/></status>
//! </cib>"#).unwrap();
//! let t = tandem_scheduler::schedule(&cib, DateTime::from_epoch(0));
//! assert_eq!(t.summary_text(), "  * Start      vip     ( n1 )\n");
//! ```

mod actions;
mod assign;
mod assign_clone;
mod build;
pub mod constraints;
mod containers;
pub mod digest;
pub mod execute;
pub mod graph;
pub mod graph_xml;
pub mod inject;
mod locks;
pub mod model;
mod orderings;
mod pattern;
pub mod report;
mod scores;
pub mod status_text;
pub mod summary;
pub mod unpack;
mod utilization;

use tandem_cib::options::NoQuorumPolicy;
use tandem_cib::{Cib, ClusterOptions, DateTime, Problems};

pub use actions::{ActionMap, RscActions};
pub use assign::ScoreLine;
pub use graph::{ActIx, Action, Graph, Task};
pub use model::{NodeIx, RscIx, ScoreEntry, ScoreSource, World};
pub use summary::Change;

/// The result of scheduling.
#[derive(Clone, Debug)]
pub struct Transition {
    /// Nodes and resources: the state found and the placement decided.
    pub world: World,
    pub graph: Graph,
    pub actions: ActionMap,
    /// Allocation score lines in the order they were computed.
    pub scores: Vec<ScoreLine>,
    pub options: ClusterOptions,
    /// Per clone: the nodes its "Stopped:" list may name (allowed, not banned).
    pub clone_nodes: Vec<Vec<NodeIx>>,
}

impl Transition {
    /// The Transition Summary lines as crm_simulate prints them.
    pub fn summary_text(&self) -> String {
        summary::format_changes(&summary::changes(self))
    }
}

/// Failed resources on an unclean node that cannot be fenced (no quorum) are stuck there:
/// their failed stop can only be resolved by fencing.
fn block_on_unfenceable(w: &mut World, options: &ClusterOptions) {
    if !options.fencing_enabled {
        return;
    }
    for r in 0..w.rscs.len() {
        let stuck = w.rscs[r].failed
            && w.rscs[r]
                .running_on
                .iter()
                .any(|&n| w.nodes[n].unclean && !actions::can_fence(w, options, n));
        if stuck {
            w.rscs[r].blocked = true;
        }
    }
}

/// Schedules `cib` at time `now`.
pub fn schedule(cib: &Cib, now: DateTime) -> Transition {
    schedule_with(cib, now, false)
}

/// Schedules `cib` at time `now`, recording in [`World::trace`] every score added to a
/// resource's node table and where it came from (location constraints by id, failures,
/// stickiness, ...): what `tandem resource why` explains.
pub fn schedule_traced(cib: &Cib, now: DateTime) -> Transition {
    schedule_with(cib, now, true)
}

fn schedule_with(cib: &Cib, now: DateTime, trace: bool) -> Transition {
    let mut problems = Problems::default();
    let options = cib.config.cluster_options(now, &mut problems);
    let ctx = build::Ctx {
        cib,
        now,
        options: &options,
    };
    let mut w = build::build_world(&ctx);
    if trace {
        w.trace = Some(Vec::new());
    }
    unpack::nodes::unpack_nodes(&mut w, &ctx);
    let facts = unpack::history::unpack_history(&mut w, &ctx);
    unpack::nodes::finish_usability(&mut w);
    block_on_unfenceable(&mut w, &options);
    scores::init_tables(&mut w, options.symmetric_cluster);
    // Status shows the nodes a clone may use as unpacking the status leaves them, before
    // any constraint: every node in a symmetric cluster.
    let clone_nodes = status_text::clone_display_nodes(&w);
    let cons = constraints::unpack_constraints(&mut w, &ctx);
    scores::apply_history_bans(&mut w, &facts);
    let _expired = scores::apply_fail_counts(&mut w, now);
    containers::share_bans(&mut w);
    let locked = locks::shutdown_locks(&w, cib, &options, now);
    locks::apply_locks(&mut w, &locked);
    scores::apply_node_health(&mut w, &options);
    scores::apply_stickiness(&mut w);
    let no_quorum = !w.have_quorum;
    let policy = options.no_quorum_policy;
    let quorum_stop = no_quorum && matches!(policy, NoQuorumPolicy::Stop | NoQuorumPolicy::Fence);
    let freeze = no_quorum && policy == NoQuorumPolicy::Freeze;
    let mut assigner = assign::Assigner {
        capacity: utilization::Capacity::new(&w, options.placement_strategy),
        w: &mut w,
        cons: &cons,
        strategy: options.placement_strategy,
        stop_all: options.stop_all_resources,
        quorum_stop,
        freeze,
        lines: Vec::new(),
        depth: 0,
    };
    assigner.run();
    let lines = std::mem::take(&mut assigner.lines);
    let changed = digest::changed_definitions(&w, cib, &facts, now);
    let mut restart = containers::failed_contents(&w);
    restart.extend(digest::must_restart(&w, cib, &facts, now));
    let actx = actions::ActionCtx {
        options: &options,
        facts: &facts,
        quorum_stop,
        freeze,
        changed: &changed,
        restart: &restart,
    };
    let mut graph = Graph::default();
    let mut map = actions::create_actions(&w, &mut graph, &actx);
    actions::create_probes(
        &w,
        &mut graph,
        &actx,
        &mut map,
        &cons.no_discovery,
        &cons.exclusive,
    );
    orderings::create_orderings(&w, &mut graph, &map, &cons);
    orderings::propagate(&w, &mut graph);
    actions::explain_definition_changes(&mut graph, &map, &changed);
    orderings::mark_container_pseudos(&w, &mut graph, &map);
    Transition {
        world: w,
        graph,
        actions: map,
        scores: lines,
        options,
        clone_nodes,
    }
}
