//! Cluster options (`crm_config`): the table of known options with their defaults and the
//! names Pacemaker used before (old `stonith-*` and `stop-orphan-*` names are read as aliases
//! of the `fencing-*` and `*-removed-*` names of Pacemaker 3), and their typed view.

use std::collections::BTreeMap;

use crate::problem::Problems;
use crate::score::Score;
use crate::time::parse_ms;
use crate::types::parse_bool;

/// What kind of value an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Integer,
    Duration,
    Score,
    Percentage,
    Text,
    Choice(&'static [&'static str]),
}

/// A known cluster option.
#[derive(Clone, Copy, Debug)]
pub struct OptionDef {
    pub name: &'static str,
    /// Older names accepted for the same option.
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    /// The default, as text (`None`: no default).
    pub default: Option<&'static str>,
    /// Set by the cluster itself; users do not set it.
    pub read_only: bool,
    pub description: &'static str,
}

const fn opt(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    default: Option<&'static str>,
    description: &'static str,
) -> OptionDef {
    OptionDef {
        name,
        aliases,
        kind,
        default,
        read_only: false,
        description,
    }
}

const fn info(name: &'static str, description: &'static str) -> OptionDef {
    OptionDef {
        name,
        aliases: &[],
        kind: Kind::Text,
        default: None,
        read_only: true,
        description,
    }
}

pub const NO_QUORUM_POLICIES: &[&str] = &["stop", "freeze", "ignore", "demote", "fence", "suicide"];
pub const PLACEMENT_STRATEGIES: &[&str] = &["default", "utilization", "minimal", "balanced"];

/// Every cluster option Tandem knows, in the order `tandem configure show` lists defaults.
pub const OPTIONS: &[OptionDef] = &[
    info(
        "dc-version",
        "Version of the DC's software (set by the cluster)",
    ),
    info(
        "cluster-infrastructure",
        "The messaging layer (set by the cluster)",
    ),
    info(
        "have-watchdog",
        "Whether a watchdog device is in use (set by the cluster)",
    ),
    opt(
        "cluster-name",
        &[],
        Kind::Text,
        None,
        "Name of the cluster, available to rules as #cluster-name",
    ),
    opt(
        "no-quorum-policy",
        &[],
        Kind::Choice(NO_QUORUM_POLICIES),
        Some("stop"),
        "What to do when the partition loses quorum",
    ),
    opt(
        "symmetric-cluster",
        &[],
        Kind::Bool,
        Some("true"),
        "Whether resources may run on any node by default",
    ),
    opt(
        "maintenance-mode",
        &[],
        Kind::Bool,
        Some("false"),
        "Whether the cluster leaves every resource alone",
    ),
    opt(
        "start-failure-is-fatal",
        &[],
        Kind::Bool,
        Some("true"),
        "Whether a start failure bans the resource from that node",
    ),
    opt(
        "enable-startup-probes",
        &[],
        Kind::Bool,
        Some("true"),
        "Whether to check for active resources when nodes join",
    ),
    opt(
        "fencing-enabled",
        &["stonith-enabled"],
        Kind::Bool,
        Some("true"),
        "Whether failed nodes are fenced; resources need a fence device to start",
    ),
    opt(
        "fencing-action",
        &["stonith-action"],
        Kind::Choice(&["reboot", "off", "poweroff"]),
        Some("reboot"),
        "Action sent to fence devices",
    ),
    opt(
        "fencing-timeout",
        &["stonith-timeout"],
        Kind::Duration,
        Some("60s"),
        "How long to wait for a fencing action",
    ),
    opt(
        "fencing-max-attempts",
        &["stonith-max-attempts"],
        Kind::Integer,
        Some("10"),
        "Fencing attempts per target before giving up",
    ),
    opt(
        "fencing-reaction",
        &["fence-reaction"],
        Kind::Choice(&["stop", "panic"]),
        Some("stop"),
        "What a node does when told it was fenced",
    ),
    opt(
        "fencing-watchdog-timeout",
        &["stonith-watchdog-timeout"],
        Kind::Text,
        Some("0"),
        "Time after which a node without a watchdog answer is assumed self-fenced",
    ),
    opt(
        "concurrent-fencing",
        &[],
        Kind::Bool,
        Some("true"),
        "Allow several fencing actions at once",
    ),
    opt(
        "startup-fencing",
        &[],
        Kind::Bool,
        Some("true"),
        "Fence nodes never seen since the cluster started",
    ),
    opt(
        "priority-fencing-delay",
        &[],
        Kind::Duration,
        Some("0"),
        "Delay fencing the node running the most important resources",
    ),
    opt(
        "fence-remote-without-quorum",
        &[],
        Kind::Bool,
        Some("false"),
        "Allow fencing remote nodes without quorum",
    ),
    opt(
        "node-pending-timeout",
        &[],
        Kind::Duration,
        Some("0"),
        "Fence nodes stuck joining for this long (0 = never)",
    ),
    opt(
        "stop-all-resources",
        &[],
        Kind::Bool,
        Some("false"),
        "Stop every resource",
    ),
    opt(
        "stop-removed-resources",
        &["stop-orphan-resources"],
        Kind::Bool,
        Some("true"),
        "Stop resources removed from the configuration",
    ),
    opt(
        "cancel-removed-actions",
        &["stop-orphan-actions"],
        Kind::Bool,
        Some("true"),
        "Cancel recurring operations removed from the configuration",
    ),
    opt(
        "placement-strategy",
        &[],
        Kind::Choice(PLACEMENT_STRATEGIES),
        Some("default"),
        "How utilization is taken into account",
    ),
    opt(
        "node-health-strategy",
        &[],
        Kind::Choice(&[
            "none",
            "migrate-on-red",
            "only-green",
            "progressive",
            "custom",
        ]),
        Some("none"),
        "How node health attributes affect placement",
    ),
    opt(
        "node-health-base",
        &[],
        Kind::Score,
        Some("0"),
        "Base health score for the progressive strategy",
    ),
    opt(
        "node-health-green",
        &[],
        Kind::Score,
        Some("0"),
        "Score of a green health attribute",
    ),
    opt(
        "node-health-yellow",
        &[],
        Kind::Score,
        Some("0"),
        "Score of a yellow health attribute",
    ),
    opt(
        "node-health-red",
        &[],
        Kind::Score,
        Some("-INFINITY"),
        "Score of a red health attribute",
    ),
    opt(
        "cluster-recheck-interval",
        &[],
        Kind::Duration,
        Some("15min"),
        "Polling interval for time-based changes",
    ),
    opt(
        "shutdown-lock",
        &[],
        Kind::Bool,
        Some("false"),
        "Keep resources of a cleanly stopped node there",
    ),
    opt(
        "shutdown-lock-limit",
        &[],
        Kind::Duration,
        Some("0"),
        "How long a shutdown lock lasts (0 = until the node returns)",
    ),
    opt(
        "batch-limit",
        &[],
        Kind::Integer,
        Some("0"),
        "Most actions executed at once cluster-wide (0 = automatic)",
    ),
    opt(
        "migration-limit",
        &[],
        Kind::Integer,
        Some("-1"),
        "Most live migrations at once per node (-1 = unlimited)",
    ),
    opt(
        "node-action-limit",
        &[],
        Kind::Integer,
        Some("0"),
        "Most actions at once per node (0 = twice the cores)",
    ),
    opt(
        "load-threshold",
        &[],
        Kind::Percentage,
        Some("80%"),
        "CPU load above which the cluster slows down",
    ),
    opt(
        "cluster-delay",
        &[],
        Kind::Duration,
        Some("60s"),
        "Network round-trip allowance added to action timeouts",
    ),
    opt(
        "dc-deadtime",
        &[],
        Kind::Duration,
        Some("20s"),
        "How long to wait for a DC at startup",
    ),
    opt(
        "election-timeout",
        &[],
        Kind::Duration,
        Some("2min"),
        "Election timeout",
    ),
    opt(
        "shutdown-escalation",
        &[],
        Kind::Duration,
        Some("20min"),
        "How long a clean shutdown may take",
    ),
    opt(
        "join-integration-timeout",
        &["crmd-integration-timeout"],
        Kind::Duration,
        Some("3min"),
        "Join integration timeout",
    ),
    opt(
        "join-finalization-timeout",
        &["crmd-finalization-timeout"],
        Kind::Duration,
        Some("30min"),
        "Join finalization timeout",
    ),
    opt(
        "transition-delay",
        &["crmd-transition-delay"],
        Kind::Duration,
        Some("0s"),
        "Delay before acting on a new transition",
    ),
    opt(
        "enable-acl",
        &[],
        Kind::Bool,
        Some("false"),
        "Whether access control lists apply",
    ),
    opt(
        "pe-error-series-max",
        &[],
        Kind::Integer,
        Some("-1"),
        "Scheduler inputs with errors to keep",
    ),
    opt(
        "pe-warn-series-max",
        &[],
        Kind::Integer,
        Some("5000"),
        "Scheduler inputs with warnings to keep",
    ),
    opt(
        "pe-input-series-max",
        &[],
        Kind::Integer,
        Some("4000"),
        "Scheduler inputs to keep",
    ),
    opt(
        "cluster-ipc-limit",
        &[],
        Kind::Integer,
        Some("500"),
        "Most queued IPC messages per client",
    ),
];

/// The definition of `name`, which may be an alias.
pub fn lookup(name: &str) -> Option<&'static OptionDef> {
    OPTIONS
        .iter()
        .find(|o| o.name == name || o.aliases.contains(&name))
}

/// Checks `value` against an option's kind.
pub fn check_value(def: &OptionDef, value: &str) -> Result<(), String> {
    let ok = match def.kind {
        Kind::Bool => parse_bool(value).is_some(),
        Kind::Integer => value.trim().parse::<i64>().is_ok(),
        Kind::Duration => parse_ms(value).is_ok(),
        Kind::Score => Score::parse(value).is_ok(),
        Kind::Percentage => value.trim().trim_end_matches('%').parse::<f64>().is_ok(),
        Kind::Text => true,
        Kind::Choice(choices) => choices.contains(&value),
    };
    if ok {
        return Ok(());
    }
    Err(match def.kind {
        Kind::Bool => format!("{value:?} is not a boolean (true/false)"),
        Kind::Integer => format!("{value:?} is not an integer"),
        Kind::Duration => format!("{value:?} is not a time interval (e.g. 60s, 15min)"),
        Kind::Score => format!("{value:?} is not a score"),
        Kind::Percentage => format!("{value:?} is not a percentage (e.g. 80%)"),
        Kind::Text => unreachable!("text always checks"),
        Kind::Choice(choices) => format!("{value:?} is not one of {}", choices.join(", ")),
    })
}

/// `no-quorum-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoQuorumPolicy {
    Stop,
    Freeze,
    Ignore,
    Demote,
    Fence,
}

/// `placement-strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacementStrategy {
    Default,
    Utilization,
    Minimal,
    Balanced,
}

/// The typed view of the options the scheduler and controller act on.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterOptions {
    pub no_quorum_policy: NoQuorumPolicy,
    pub symmetric_cluster: bool,
    pub maintenance_mode: bool,
    pub start_failure_is_fatal: bool,
    pub enable_startup_probes: bool,
    pub fencing_enabled: bool,
    pub fencing_action: String,
    pub fencing_timeout_ms: u64,
    pub concurrent_fencing: bool,
    pub startup_fencing: bool,
    pub priority_fencing_delay_ms: u64,
    pub stop_all_resources: bool,
    pub stop_removed_resources: bool,
    pub cancel_removed_actions: bool,
    pub placement_strategy: PlacementStrategy,
    pub node_health_strategy: String,
    pub node_health_base: Score,
    pub node_health_green: Score,
    pub node_health_yellow: Score,
    pub node_health_red: Score,
    pub cluster_recheck_interval_ms: u64,
    pub shutdown_lock: bool,
    pub shutdown_lock_limit_ms: u64,
    pub batch_limit: i64,
    pub migration_limit: i64,
    pub cluster_delay_ms: u64,
    pub dc_deadtime_ms: u64,
    pub enable_acl: bool,
    pub cluster_name: Option<String>,
    /// Every option as set (canonical names), rules already applied.
    pub raw: BTreeMap<String, String>,
}

impl ClusterOptions {
    /// Typed options from the merged `crm_config` values. Aliases are mapped to their
    /// canonical names (the canonical name wins when both are set); invalid values are
    /// reported and replaced by the default.
    pub fn from_values(
        values: &BTreeMap<String, String>,
        problems: &mut Problems,
    ) -> ClusterOptions {
        let mut raw = BTreeMap::new();
        for def in OPTIONS {
            let set = std::iter::once(def.name)
                .chain(def.aliases.iter().copied())
                .find_map(|n| values.get(n).map(|v| (n, v)));
            if let Some((name, value)) = set {
                match check_value(def, value) {
                    Ok(()) => {
                        raw.insert(def.name.to_string(), value.clone());
                    }
                    Err(why) => problems.error(
                        format!("cluster option {name}"),
                        format!(
                            "{why}; using the default {}",
                            def.default.unwrap_or("(none)")
                        ),
                    ),
                }
            }
        }
        for name in values.keys() {
            if lookup(name).is_none() {
                problems.warning(
                    format!("cluster option {name}"),
                    "unknown option; it is ignored",
                );
            }
        }
        let text = |name: &str| -> String {
            raw.get(name)
                .cloned()
                .or_else(|| lookup(name).and_then(|d| d.default).map(str::to_string))
                .unwrap_or_default()
        };
        let flag = |name: &str| parse_bool(&text(name)).unwrap_or(false);
        let ms = |name: &str| parse_ms(&text(name)).unwrap_or(0);
        let int = |name: &str| text(name).trim().parse::<i64>().unwrap_or(0);
        let score = |name: &str| Score::parse(&text(name)).unwrap_or(Score::ZERO);
        ClusterOptions {
            no_quorum_policy: match text("no-quorum-policy").as_str() {
                "freeze" => NoQuorumPolicy::Freeze,
                "ignore" => NoQuorumPolicy::Ignore,
                "demote" => NoQuorumPolicy::Demote,
                "fence" | "suicide" => NoQuorumPolicy::Fence,
                _ => NoQuorumPolicy::Stop,
            },
            symmetric_cluster: flag("symmetric-cluster"),
            maintenance_mode: flag("maintenance-mode"),
            start_failure_is_fatal: flag("start-failure-is-fatal"),
            enable_startup_probes: flag("enable-startup-probes"),
            fencing_enabled: flag("fencing-enabled"),
            fencing_action: match text("fencing-action").as_str() {
                "poweroff" => "off".to_string(),
                other => other.to_string(),
            },
            fencing_timeout_ms: ms("fencing-timeout"),
            concurrent_fencing: flag("concurrent-fencing"),
            startup_fencing: flag("startup-fencing"),
            priority_fencing_delay_ms: ms("priority-fencing-delay"),
            stop_all_resources: flag("stop-all-resources"),
            stop_removed_resources: flag("stop-removed-resources"),
            cancel_removed_actions: flag("cancel-removed-actions"),
            placement_strategy: match text("placement-strategy").as_str() {
                "utilization" => PlacementStrategy::Utilization,
                "minimal" => PlacementStrategy::Minimal,
                "balanced" => PlacementStrategy::Balanced,
                _ => PlacementStrategy::Default,
            },
            node_health_strategy: text("node-health-strategy"),
            node_health_base: score("node-health-base"),
            node_health_green: score("node-health-green"),
            node_health_yellow: score("node-health-yellow"),
            node_health_red: score("node-health-red"),
            cluster_recheck_interval_ms: ms("cluster-recheck-interval"),
            shutdown_lock: flag("shutdown-lock"),
            shutdown_lock_limit_ms: ms("shutdown-lock-limit"),
            batch_limit: int("batch-limit"),
            migration_limit: int("migration-limit"),
            cluster_delay_ms: ms("cluster-delay"),
            dc_deadtime_ms: ms("dc-deadtime"),
            enable_acl: flag("enable-acl"),
            cluster_name: raw.get("cluster-name").cloned(),
            raw,
        }
    }
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions::from_values(&BTreeMap::new(), &mut Problems::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let o = ClusterOptions::default();
        assert!(o.fencing_enabled);
        assert_eq!(o.no_quorum_policy, NoQuorumPolicy::Stop);
        assert!(o.symmetric_cluster);
        assert!(o.start_failure_is_fatal);
        assert_eq!(o.fencing_timeout_ms, 60_000);
        assert_eq!(o.cluster_recheck_interval_ms, 900_000);
        assert_eq!(o.node_health_red, Score::MINUS_INFINITY);
        assert_eq!(o.placement_strategy, PlacementStrategy::Default);
    }

    #[test]
    fn old_and_new_names_both_work_new_wins() {
        let mut p = Problems::default();
        let o = ClusterOptions::from_values(&values(&[("stonith-enabled", "false")]), &mut p);
        assert!(!o.fencing_enabled);
        let o = ClusterOptions::from_values(
            &values(&[("stonith-enabled", "false"), ("fencing-enabled", "true")]),
            &mut p,
        );
        assert!(o.fencing_enabled);
        let o = ClusterOptions::from_values(&values(&[("stop-orphan-resources", "false")]), &mut p);
        assert!(!o.stop_removed_resources);
        assert!(p.0.is_empty());
    }

    #[test]
    fn invalid_values_are_reported_and_defaulted() {
        let mut p = Problems::default();
        let o = ClusterOptions::from_values(
            &values(&[("no-quorum-policy", "panic"), ("bogus-option", "1")]),
            &mut p,
        );
        assert_eq!(o.no_quorum_policy, NoQuorumPolicy::Stop);
        assert_eq!(p.0.len(), 2);
        assert_eq!(
            p.0[0].to_string(),
            "error: cluster option no-quorum-policy: \"panic\" is not one of stop, freeze, ignore, demote, fence, suicide; using the default stop"
        );
        assert_eq!(
            p.0[1].to_string(),
            "warning: cluster option bogus-option: unknown option; it is ignored"
        );
    }
}
