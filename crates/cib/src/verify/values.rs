//! Values that must be of a known kind: resource meta-attributes, operation attributes and
//! their defaults, and cluster options. Each check reads every `nvpair` of every block, rules
//! or not: a value that only applies on Sundays is just as wrong on Mondays.

use crate::nvset::NvSet;
use crate::options;
use crate::problem::Problems;
use crate::resources::Operation;
use crate::score::Score;
use crate::time::{DateTime, parse_ms};
use crate::types::{Role, parse_bool};

/// What a value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Bool,
    /// A whole number of 0 or more.
    Count,
    /// An integer or ±INFINITY.
    Score,
    /// 0 or more, or INFINITY.
    NonNegativeScore,
    Duration,
    Role,
    /// An ISO 8601 date and time.
    Date,
    Choice(&'static [&'static str]),
}

pub const ON_FAIL: &[&str] = &[
    "ignore",
    "block",
    "stop",
    "restart",
    "standby",
    "fence",
    "restart-container",
    "demote",
];
pub const REQUIRES: &[&str] = &["nothing", "quorum", "fencing", "unfencing"];
pub const MULTIPLE_ACTIVE: &[&str] = &["block", "stop_only", "stop_start", "stop_unexpected"];
pub const ROLES: &[&str] = &["Stopped", "Started", "Unpromoted", "Promoted"];

/// Resource meta-attributes with a fixed kind (others are free text, or read by agents).
pub const RESOURCE_META: &[(&str, ValueKind)] = &[
    ("priority", ValueKind::Score),
    ("critical", ValueKind::Bool),
    ("target-role", ValueKind::Role),
    ("is-managed", ValueKind::Bool),
    ("maintenance", ValueKind::Bool),
    ("resource-stickiness", ValueKind::Score),
    ("requires", ValueKind::Choice(REQUIRES)),
    ("migration-threshold", ValueKind::NonNegativeScore),
    ("failure-timeout", ValueKind::Duration),
    ("multiple-active", ValueKind::Choice(MULTIPLE_ACTIVE)),
    ("allow-migrate", ValueKind::Bool),
    ("allow-unhealthy-nodes", ValueKind::Bool),
    ("remote-port", ValueKind::Count),
    ("remote-connect-timeout", ValueKind::Duration),
    ("remote-allow-migrate", ValueKind::Bool),
    ("globally-unique", ValueKind::Bool),
    ("ordered", ValueKind::Bool),
    ("interleave", ValueKind::Bool),
    ("notify", ValueKind::Bool),
    ("promotable", ValueKind::Bool),
    ("clone-max", ValueKind::Count),
    ("clone-node-max", ValueKind::Count),
    ("clone-min", ValueKind::Count),
    ("promoted-max", ValueKind::Count),
    ("promoted-node-max", ValueKind::Count),
    ("master-max", ValueKind::Count),
    ("master-node-max", ValueKind::Count),
];

/// Operation settings (as `<op>` attributes, op meta-attributes, or `op_defaults`).
pub const OP_META: &[(&str, ValueKind)] = &[
    ("interval", ValueKind::Duration),
    ("timeout", ValueKind::Duration),
    ("start-delay", ValueKind::Duration),
    ("interval-origin", ValueKind::Date),
    ("on-fail", ValueKind::Choice(ON_FAIL)),
    ("requires", ValueKind::Choice(REQUIRES)),
    ("enabled", ValueKind::Bool),
    ("record-pending", ValueKind::Bool),
    ("role", ValueKind::Role),
];

/// Why `value` is not of `kind`, as the words after "expected".
pub fn check(kind: ValueKind, value: &str) -> Result<(), String> {
    // Old tools wrote `#default` for "not set"; Pacemaker reads it so.
    if value == "#default" {
        return Ok(());
    }
    let ok = match kind {
        ValueKind::Bool => parse_bool(value).is_some(),
        ValueKind::Count => value.trim().parse::<u64>().is_ok(),
        ValueKind::Score => Score::parse(value).is_ok(),
        ValueKind::NonNegativeScore => Score::parse(value).is_ok_and(|s| s >= Score::ZERO),
        ValueKind::Duration => parse_ms(value).is_ok(),
        ValueKind::Role => Role::parse(value).is_some_and(|r| r != Role::Unknown),
        ValueKind::Date => DateTime::parse(value).is_ok(),
        ValueKind::Choice(choices) => choices.contains(&value.trim()),
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        ValueKind::Bool => "true or false".to_string(),
        ValueKind::Count => "a whole number of 0 or more".to_string(),
        ValueKind::Score => "an integer, INFINITY or -INFINITY".to_string(),
        ValueKind::NonNegativeScore => "a whole number of 0 or more, or INFINITY".to_string(),
        ValueKind::Duration => "a time interval such as 30s, 10min or PT1M".to_string(),
        ValueKind::Role => format!("one of {}", ROLES.join(", ")),
        ValueKind::Date => "an ISO 8601 date such as 2024-01-31 06:00:00".to_string(),
        ValueKind::Choice(choices) => format!("one of {}", choices.join(", ")),
    })
}

/// The message for a bad value: what it is, what was expected, what to do.
fn bad_value(name: &str, value: &str, expected: &str) -> String {
    format!("{name}={value:?} is not valid (expected {expected}); fix the value or remove it")
}

/// Checks every pair of `sets` whose name `table` knows.
pub fn check_sets(
    sets: &[NvSet],
    table: &[(&str, ValueKind)],
    object: &str,
    problems: &mut Problems,
) {
    for set in sets {
        for pair in &set.pairs {
            let (Some(value), Some((_, kind))) = (
                &pair.value,
                table.iter().find(|(name, _)| *name == pair.name),
            ) else {
                continue;
            };
            if let Err(expected) = check(*kind, value) {
                problems.error(
                    object,
                    format!("meta-attribute {}", bad_value(&pair.name, value, &expected)),
                );
            }
        }
    }
}

/// Operation attributes that unpacking does not already check (it checks interval,
/// timeout, role and enabled), and the operation's own meta-attributes.
pub fn check_op(op: &Operation, object: &str, problems: &mut Problems) {
    const UNPACK_CHECKED: &[&str] = &["interval", "timeout", "role", "enabled"];
    for (name, value) in &op.attrs {
        let Some((_, kind)) = OP_META
            .iter()
            .find(|(n, _)| n == name && !UNPACK_CHECKED.contains(n))
        else {
            continue;
        };
        if let Err(expected) = check(*kind, value) {
            problems.error(object, bad_value(name, value, &expected));
        }
    }
    check_sets(&op.meta, OP_META, object, problems);
}

/// Every `crm_config` pair: known options must have valid values. Names Tandem does not
/// know are left alone — resource agents keep their own data there (redis's
/// `redis_REPL_INFO`, for one) — unless they look like a known option misspelt or an option
/// that moved elsewhere.
pub fn check_cluster_options(sets: &[NvSet], problems: &mut Problems) {
    for set in sets {
        for pair in &set.pairs {
            let object = format!("cluster option {}", pair.name);
            let Some(def) = options::lookup(&pair.name) else {
                if let Some(advice) = unknown_option_advice(&pair.name) {
                    problems.warning(object, advice);
                }
                continue;
            };
            let Some(value) = &pair.value else { continue };
            if let Err(why) = options::check_value(def, value) {
                let default = def.default.unwrap_or("none");
                problems.error(
                    object,
                    format!("{why}; fix the value (until then the default, {default}, applies)"),
                );
            }
        }
    }
}

/// Options that Pacemaker once read from `crm_config` and now reads elsewhere.
const MOVED_OPTIONS: &[(&str, &str)] = &[
    (
        "default-resource-stickiness",
        "set resource-stickiness in rsc_defaults instead",
    ),
    (
        "is-managed-default",
        "set is-managed in rsc_defaults instead",
    ),
    (
        "default-action-timeout",
        "set timeout in op_defaults instead",
    ),
];

/// How far a misspelling may be from a known option name (in edits) and still be taken for
/// it; two catches transposed and doubled letters without matching unrelated names.
const MAX_TYPO_EDITS: usize = 2;

fn unknown_option_advice(name: &str) -> Option<String> {
    if let Some((_, advice)) = MOVED_OPTIONS.iter().find(|(old, _)| *old == name) {
        return Some(format!(
            "is no longer a cluster option and has no effect; {advice}"
        ));
    }
    let normalised = name.replace('_', "-").to_ascii_lowercase();
    if let Some(def) = options::lookup(&normalised) {
        return Some(format!(
            "has no effect: the option is spelt {}; rename it",
            def.name
        ));
    }
    // Short names are too easily near some option by accident.
    if normalised.len() < 8 {
        return None;
    }
    options::OPTIONS
        .iter()
        .flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()))
        .find(|known| edit_distance(&normalised, known) <= MAX_TYPO_EDITS)
        .map(|known| format!("has no effect: no option has this name (did you mean {known}?)"))
}

/// Levenshtein distance over bytes (option names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("stonith-enabled", "stonith-enabled"), 0);
        assert_eq!(edit_distance("stonith-enable", "stonith-enabled"), 1);
        assert_eq!(edit_distance("stonith-enalbed", "stonith-enabled"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn values_by_kind() {
        assert_eq!(check(ValueKind::Bool, "yes"), Ok(()));
        assert_eq!(
            check(ValueKind::Count, "-1"),
            Err("a whole number of 0 or more".into())
        );
        assert_eq!(check(ValueKind::NonNegativeScore, "INFINITY"), Ok(()));
        assert!(check(ValueKind::NonNegativeScore, "-5").is_err());
        assert_eq!(check(ValueKind::Role, "Master"), Ok(()));
        assert!(check(ValueKind::Role, "Unknown").is_err());
        assert_eq!(check(ValueKind::Date, "2024-01-31 06:00:00"), Ok(()));
        assert_eq!(check(ValueKind::Choice(ON_FAIL), "#default"), Ok(()));
    }
}
