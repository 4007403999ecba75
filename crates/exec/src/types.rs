//! The vocabulary: agent classes and names, operation requests and their results.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use crate::error::ExecError;
use crate::rc::OcfRc;

/// The default operation timeout when none is configured (Pacemaker's 20 s).
pub const DEFAULT_TIMEOUT_MS: u64 = 20_000;

/// The longest agent name, provider or resource id accepted. Names become path components and
/// environment values; 255 is the file-name limit of every Linux file system.
pub const MAX_NAME_LEN: usize = 255;

/// A resource agent standard ("class" in the CIB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// OCF resource agents: `$OCF_ROOT/resource.d/PROVIDER/TYPE`.
    Ocf,
    /// LSB init scripts: `/etc/init.d/TYPE`.
    Lsb,
    /// systemd units, driven through D-Bus.
    Systemd,
    /// Whichever of lsb and systemd has the agent (LSB first, as Pacemaker does).
    Service,
    /// Fence agents: `/usr/sbin/TYPE`, parameters on stdin.
    Stonith,
}

impl Class {
    /// Every class, in the order `crm_resource --list-standards` prints them.
    pub const ALL: [Class; 5] = [
        Class::Ocf,
        Class::Lsb,
        Class::Service,
        Class::Systemd,
        Class::Stonith,
    ];

    /// The name used in the CIB and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Ocf => "ocf",
            Class::Lsb => "lsb",
            Class::Systemd => "systemd",
            Class::Service => "service",
            Class::Stonith => "stonith",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Class {
    type Err = ExecError;

    fn from_str(s: &str) -> Result<Class, ExecError> {
        Class::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ExecError::BadAgent {
                spec: s.to_string(),
                why: "unknown class; expected one of ocf, lsb, service, systemd, stonith".into(),
            })
    }
}

/// An agent: class, provider (OCF only) and type, as in `ocf:heartbeat:IPaddr2`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentId {
    /// The standard.
    pub class: Class,
    /// The OCF provider (`heartbeat`, `pacemaker`, `tandem`); `None` for other classes.
    pub provider: Option<String>,
    /// The agent's type: script name, unit name or fence agent name.
    pub kind: String,
}

impl AgentId {
    /// Builds and checks an agent name. OCF agents need a provider; other classes take none.
    pub fn new(class: Class, provider: Option<&str>, kind: &str) -> Result<AgentId, ExecError> {
        let spec = || match provider {
            Some(p) => format!("{class}:{p}:{kind}"),
            None => format!("{class}:{kind}"),
        };
        let bad = |why: &str| ExecError::BadAgent {
            spec: spec(),
            why: why.to_string(),
        };
        check_component(kind).map_err(|why| bad(&format!("type {why}")))?;
        match (class, provider) {
            (Class::Ocf, None) => return Err(bad("an ocf agent needs a provider")),
            (Class::Ocf, Some(p)) => {
                check_component(p).map_err(|w| bad(&format!("provider {w}")))?
            }
            (_, Some(_)) => return Err(bad("only ocf agents have a provider")),
            (_, None) => {}
        }
        Ok(AgentId {
            class,
            provider: provider.map(str::to_string),
            kind: kind.to_string(),
        })
    }

    /// Shorthand for an OCF agent.
    pub fn ocf(provider: &str, kind: &str) -> Result<AgentId, ExecError> {
        AgentId::new(Class::Ocf, Some(provider), kind)
    }
}

/// A name that becomes one path component: non-empty, bounded, no `/`, not `.` or `..`, no
/// control characters (it also ends up in environment variables and log lines).
fn check_component(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        Err("is empty")
    } else if s.len() > MAX_NAME_LEN {
        Err("is longer than 255 bytes")
    } else if s == "." || s == ".." || s.contains('/') {
        Err("must not contain '/' or be '.' or '..'")
    } else if s.chars().any(char::is_control) {
        Err("must not contain control characters")
    } else {
        Ok(())
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.provider {
            Some(p) => write!(f, "{}:{}:{}", self.class, p, self.kind),
            None => write!(f, "{}:{}", self.class, self.kind),
        }
    }
}

impl FromStr for AgentId {
    type Err = ExecError;

    /// Parses `class:provider:type` or `class:type`. A bare `type` means
    /// `ocf:heartbeat:type`, as in the crm shell.
    fn from_str(s: &str) -> Result<AgentId, ExecError> {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [kind] => AgentId::ocf("heartbeat", kind),
            [class, kind] => {
                let class: Class = class.parse()?;
                if class == Class::Ocf {
                    // `ocf:IPaddr2` is accepted by crmsh as the heartbeat provider.
                    AgentId::ocf("heartbeat", kind)
                } else {
                    AgentId::new(class, None, kind)
                }
            }
            [class, provider, kind] => AgentId::new(class.parse()?, Some(provider), kind),
            _ => Err(ExecError::BadAgent {
                spec: s.to_string(),
                why: "expected CLASS:PROVIDER:TYPE, CLASS:TYPE or TYPE".into(),
            }),
        }
    }
}

/// One operation to run: what `pacemaker-execd` receives from the controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpRequest {
    /// The resource id (`OCF_RESOURCE_INSTANCE`).
    pub rsc_id: String,
    /// The agent.
    pub agent: AgentId,
    /// `start`, `stop`, `monitor`, `promote`, `demote`, `notify`, `reload`, `meta-data`,
    /// `validate-all`, `migrate_to`, `migrate_from`, or anything else the agent implements.
    pub action: String,
    /// Recurrence in milliseconds; 0 for a one-shot operation (a `monitor` with interval 0 is
    /// a probe).
    pub interval_ms: u64,
    /// How long the agent may run, in milliseconds.
    pub timeout_ms: u64,
    /// Instance attributes (agent parameters). `OCF_CHECK_LEVEL` from the operation's own
    /// attributes goes here too and is passed unprefixed.
    pub params: BTreeMap<String, String>,
    /// Meta-attributes, without the `CRM_meta_` prefix (`clone_max`, `notify_type`, ...).
    /// `interval` and `timeout` are always taken from the fields above.
    pub meta: BTreeMap<String, String>,
}

impl OpRequest {
    /// A request with no parameters, interval 0 and the default timeout.
    pub fn new(rsc_id: &str, agent: AgentId, action: &str) -> OpRequest {
        OpRequest {
            rsc_id: rsc_id.to_string(),
            agent,
            action: action.to_string(),
            interval_ms: 0,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            params: BTreeMap::new(),
            meta: BTreeMap::new(),
        }
    }

    /// Adds an instance attribute.
    pub fn param(mut self, name: &str, value: &str) -> OpRequest {
        self.params.insert(name.to_string(), value.to_string());
        self
    }

    /// Adds a meta-attribute.
    pub fn meta(mut self, name: &str, value: &str) -> OpRequest {
        self.meta.insert(name.to_string(), value.to_string());
        self
    }

    /// Sets the interval.
    pub fn interval_ms(mut self, ms: u64) -> OpRequest {
        self.interval_ms = ms;
        self
    }

    /// Sets the timeout.
    pub fn timeout_ms(mut self, ms: u64) -> OpRequest {
        self.timeout_ms = ms;
        self
    }

    /// A probe is a one-shot monitor: "is this resource running here?".
    pub fn is_probe(&self) -> bool {
        self.action == "monitor" && self.interval_ms == 0
    }

    /// `rsc_action_interval`, the key Pacemaker uses for an operation (`vip_monitor_10000`).
    pub fn key(&self) -> String {
        format!("{}_{}_{}", self.rsc_id, self.action, self.interval_ms)
    }
}

/// How far an operation got, independently of the agent's answer (Pacemaker's
/// `op-status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExecStatus {
    /// The agent ran to completion; its answer is in `rc`.
    Done,
    /// No answer yet (a systemd unit still activating); ask again.
    Pending,
    /// Cancelled before it finished.
    Cancelled,
    /// The agent did not finish in time and was killed.
    Timeout,
    /// The class or action is not supported here.
    NotSupported,
    /// It could not be run, or died on a signal.
    Error,
    /// The agent is not installed.
    NotInstalled,
}

impl ExecStatus {
    /// The name `crm_mon` prints (`status='complete'`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExecStatus::Done => "complete",
            ExecStatus::Pending => "pending",
            ExecStatus::Cancelled => "Cancelled",
            ExecStatus::Timeout => "Timed Out",
            ExecStatus::NotSupported => "NOT SUPPORTED",
            ExecStatus::Error => "Error",
            ExecStatus::NotInstalled => "Not installed",
        }
    }
}

/// What came of one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpResult {
    /// The result mapped to OCF semantics for the agent's class.
    pub rc: OcfRc,
    /// The agent's own exit code before mapping, when a process ran and exited.
    pub exit_code: Option<i32>,
    /// How far the operation got.
    pub status: ExecStatus,
    /// Why it failed: the agent's last `ocf-exit-reason:` line, or the executor's own words.
    pub exit_reason: Option<String>,
    /// The agent's standard output, at most the configured limit.
    pub stdout: String,
    /// The agent's standard error, at most the configured limit.
    pub stderr: String,
    /// True if either stream was cut at the limit.
    pub output_truncated: bool,
    /// Wall-clock time the operation started (for `last-rc-change`).
    pub started: SystemTime,
    /// How long it ran (`exec-time`).
    pub duration: Duration,
}

impl OpResult {
    /// A result that did not involve running a process.
    pub fn immediate(rc: OcfRc, status: ExecStatus, reason: Option<String>) -> OpResult {
        OpResult {
            rc,
            exit_code: None,
            status,
            exit_reason: reason,
            stdout: String::new(),
            stderr: String::new(),
            output_truncated: false,
            started: SystemTime::now(),
            duration: Duration::ZERO,
        }
    }

    /// True if the agent was killed at its timeout.
    pub fn timed_out(&self) -> bool {
        self.status == ExecStatus::Timeout
    }

    /// Wall-clock time the operation finished.
    pub fn finished(&self) -> SystemTime {
        self.started + self.duration
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_parse_and_print() {
        let a: AgentId = "ocf:heartbeat:IPaddr2".parse().unwrap();
        assert_eq!(a, AgentId::ocf("heartbeat", "IPaddr2").unwrap());
        assert_eq!(a.to_string(), "ocf:heartbeat:IPaddr2");
        let b: AgentId = "IPaddr2".parse().unwrap();
        assert_eq!(b, a);
        let c: AgentId = "ocf:Dummy".parse().unwrap();
        assert_eq!(c.to_string(), "ocf:heartbeat:Dummy");
        let d: AgentId = "systemd:nginx".parse().unwrap();
        assert_eq!((d.class, d.provider.as_deref()), (Class::Systemd, None));
        let e: AgentId = "stonith:fence_dummy".parse().unwrap();
        assert_eq!(e.to_string(), "stonith:fence_dummy");
    }

    #[test]
    fn bad_agent_names_are_refused_with_reasons() {
        let cases = [
            (
                "ocf:heartbeat:../../bin/sh",
                "agent ocf:heartbeat:../../bin/sh: type must not contain '/' or be '.' or '..'",
            ),
            ("lsb:x:y", "agent lsb:x:y: only ocf agents have a provider"),
            (
                "nagios:x",
                "agent nagios: unknown class; expected one of ocf, lsb, service, systemd, stonith",
            ),
            (
                "a:b:c:d",
                "agent a:b:c:d: expected CLASS:PROVIDER:TYPE, CLASS:TYPE or TYPE",
            ),
            ("ocf::Dummy", "agent ocf::Dummy: provider is empty"),
        ];
        for (spec, want) in cases {
            let err = spec.parse::<AgentId>().unwrap_err();
            assert_eq!(err.to_string(), want, "{spec}");
        }
    }

    #[test]
    fn op_key_and_probe() {
        let r = OpRequest::new(
            "vip",
            AgentId::ocf("heartbeat", "IPaddr2").unwrap(),
            "monitor",
        );
        assert!(r.is_probe());
        assert_eq!(r.key(), "vip_monitor_0");
        let r = r.interval_ms(10_000);
        assert!(!r.is_probe());
        assert_eq!(r.key(), "vip_monitor_10000");
    }
}
