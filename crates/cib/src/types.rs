//! Small enumerations shared across the model.

use std::fmt;

use crate::problem::Problems;

/// A resource role. The legacy names `Master`/`Slave` are read as `Promoted`/`Unpromoted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Unknown,
    Stopped,
    Started,
    Unpromoted,
    Promoted,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        Some(match text.to_ascii_lowercase().as_str() {
            "stopped" => Role::Stopped,
            "started" => Role::Started,
            "unpromoted" | "slave" => Role::Unpromoted,
            "promoted" | "master" => Role::Promoted,
            "unknown" => Role::Unknown,
            _ => return None,
        })
    }

    /// Parses, reporting an unknown name against `object`.
    pub fn parse_or_report(text: &str, object: &str, problems: &mut Problems) -> Option<Role> {
        let r = Role::parse(text);
        if r.is_none() {
            problems.error(
                object,
                format!("role {text:?} is not one of Stopped, Started, Unpromoted, Promoted"),
            );
        }
        r
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unknown => "Unknown",
            Role::Stopped => "Stopped",
            Role::Started => "Started",
            Role::Unpromoted => "Unpromoted",
            Role::Promoted => "Promoted",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a Pacemaker boolean: true/false, yes/no, on/off, y/n, 1/0 (any case).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" | "1" => Some(true),
        "false" | "no" | "off" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// The resource classes (standards) Tandem runs.
pub const KNOWN_CLASSES: &[&str] = &[
    "ocf",
    "lsb",
    "systemd",
    "service",
    "stonith",
    "heartbeat",
    "nagios",
    "upstart",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_booleans() {
        assert_eq!(Role::parse("Master"), Some(Role::Promoted));
        assert_eq!(Role::parse("slave"), Some(Role::Unpromoted));
        assert_eq!(Role::parse("Started"), Some(Role::Started));
        assert_eq!(Role::parse("Running"), None);
        assert_eq!(Role::Promoted.to_string(), "Promoted");
        assert_eq!(parse_bool("Yes"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }
}
