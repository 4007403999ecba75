//! Result codes: the OCF set every other class is mapped onto, and the per-class mappings.
//!
//! Whatever the agent class, the cluster reasons in OCF exit codes (OCF Resource Agent API
//! 1.1, "Return codes"), so each class's native results are translated here:
//!
//! | class    | native result                         | mapping                         |
//! |----------|---------------------------------------|---------------------------------|
//! | ocf      | exit code 0–9, 190, 191               | [`ocf_to_ocf`]: anything else → 1 |
//! | lsb      | exit code; `status` has its own table | [`lsb_to_ocf`]                  |
//! | systemd  | the unit's `ActiveState` property     | [`systemd_state_to_ocf`]        |
//! | stonith  | exit code; `status` 0 = on, 2 = off   | [`fence_to_ocf`]                |

use std::fmt;

use crate::types::ExecStatus;

/// An OCF result code, as the cluster understands it after per-class mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OcfRc {
    /// 0: the action succeeded; for monitor, the resource is running.
    Ok,
    /// 1: generic error.
    Error,
    /// 2: invalid parameters.
    InvalidParam,
    /// 3: the action is not implemented by the agent.
    Unimplemented,
    /// 4: insufficient privileges.
    InsufficientPriv,
    /// 5: the agent or software it needs is not installed.
    NotInstalled,
    /// 6: the configuration is invalid (a hard error on every node).
    NotConfigured,
    /// 7: the resource is cleanly stopped.
    NotRunning,
    /// 8: the resource runs in the promoted role.
    RunningPromoted,
    /// 9: the resource failed in the promoted role.
    FailedPromoted,
    /// 190: running, but degraded.
    Degraded,
    /// 191: promoted, but degraded.
    DegradedPromoted,
    /// 193: no result yet (Pacemaker's `PCMK_OCF_UNKNOWN`), e.g. a systemd unit that is
    /// still activating. Never returned by an agent itself.
    Unknown,
}

impl OcfRc {
    /// Every code, in numeric order.
    pub const ALL: [OcfRc; 13] = [
        OcfRc::Ok,
        OcfRc::Error,
        OcfRc::InvalidParam,
        OcfRc::Unimplemented,
        OcfRc::InsufficientPriv,
        OcfRc::NotInstalled,
        OcfRc::NotConfigured,
        OcfRc::NotRunning,
        OcfRc::RunningPromoted,
        OcfRc::FailedPromoted,
        OcfRc::Degraded,
        OcfRc::DegradedPromoted,
        OcfRc::Unknown,
    ];

    /// The numeric code.
    pub fn code(self) -> i32 {
        match self {
            OcfRc::Ok => 0,
            OcfRc::Error => 1,
            OcfRc::InvalidParam => 2,
            OcfRc::Unimplemented => 3,
            OcfRc::InsufficientPriv => 4,
            OcfRc::NotInstalled => 5,
            OcfRc::NotConfigured => 6,
            OcfRc::NotRunning => 7,
            OcfRc::RunningPromoted => 8,
            OcfRc::FailedPromoted => 9,
            OcfRc::Degraded => 190,
            OcfRc::DegradedPromoted => 191,
            OcfRc::Unknown => 193,
        }
    }

    /// The code for a number, if it is one of the known codes.
    pub fn from_code(code: i32) -> Option<OcfRc> {
        OcfRc::ALL.into_iter().find(|rc| rc.code() == code)
    }

    /// The short description Pacemaker's tools print next to the number
    /// (`'not running' (7)` in `crm_mon`).
    pub fn description(self) -> &'static str {
        match self {
            OcfRc::Ok => "ok",
            OcfRc::Error => "error",
            OcfRc::InvalidParam => "invalid parameter",
            OcfRc::Unimplemented => "unimplemented feature",
            OcfRc::InsufficientPriv => "insufficient privileges",
            OcfRc::NotInstalled => "not installed",
            OcfRc::NotConfigured => "not configured",
            OcfRc::NotRunning => "not running",
            OcfRc::RunningPromoted => "promoted",
            OcfRc::FailedPromoted => "promoted (failed)",
            OcfRc::Degraded => "OCF_DEGRADED",
            OcfRc::DegradedPromoted => "promoted (degraded)",
            OcfRc::Unknown => "unknown",
        }
    }
}

impl fmt::Display for OcfRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' ({})", self.description(), self.code())
    }
}

/// Maps an OCF agent's exit code: the codes of the OCF API pass through, anything else
/// (including 193, which agents must not use) is a generic error.
pub fn ocf_to_ocf(exit_code: i32) -> OcfRc {
    match OcfRc::from_code(exit_code) {
        Some(OcfRc::Unknown) | None => OcfRc::Error,
        Some(rc) => rc,
    }
}

/// LSB `status` exit codes (LSB Core 20.2, "Init Script Actions").
pub mod lsb_status {
    /// Program is running or service is OK.
    pub const OK: i32 = 0;
    /// Program is dead and `/var/run` pid file exists.
    pub const DEAD_PID_FILE: i32 = 1;
    /// Program is dead and `/var/lock` lock file exists.
    pub const DEAD_LOCK_FILE: i32 = 2;
    /// Program is not running.
    pub const NOT_RUNNING: i32 = 3;
    /// Program or service status is unknown.
    pub const UNKNOWN: i32 = 4;
    /// Not installed (the range 150–199 is reserved for applications; Pacemaker uses 150).
    pub const NOT_INSTALLED: i32 = 150;
    /// Insufficient privileges (Pacemaker's 151).
    pub const INSUFFICIENT_PRIV: i32 = 151;
}

/// Maps an LSB init script's exit code. For `status` (which `monitor` runs) LSB has its own
/// table; for every other action, LSB and OCF share the codes 0–7 and anything else is a
/// generic error.
pub fn lsb_to_ocf(action: &str, exit_code: i32) -> OcfRc {
    if action != "status" && action != "monitor" {
        return match exit_code {
            0..=7 => OcfRc::from_code(exit_code).unwrap_or(OcfRc::Error),
            _ => OcfRc::Error,
        };
    }
    match exit_code {
        lsb_status::OK => OcfRc::Ok,
        lsb_status::DEAD_PID_FILE | lsb_status::DEAD_LOCK_FILE | lsb_status::NOT_RUNNING => {
            OcfRc::NotRunning
        }
        lsb_status::NOT_INSTALLED => OcfRc::NotInstalled,
        lsb_status::INSUFFICIENT_PRIV => OcfRc::InsufficientPriv,
        _ => OcfRc::Error,
    }
}

/// Maps a systemd unit's `ActiveState` to a monitor result: `active` and `reloading` are
/// running; `activating` and `deactivating` are not finished yet (pending, to be asked
/// again); anything else (`inactive`, `failed`, a state systemd may add later) is stopped.
pub fn systemd_state_to_ocf(active_state: &str) -> (OcfRc, ExecStatus) {
    match active_state {
        "active" | "reloading" => (OcfRc::Ok, ExecStatus::Done),
        "activating" | "deactivating" => (OcfRc::Unknown, ExecStatus::Pending),
        _ => (OcfRc::NotRunning, ExecStatus::Done),
    }
}

/// Maps a fence agent's exit code (fence-agents' FenceAgentAPI): for `status`, 0 means the
/// target is powered on and 2 that it is off; for every other action 0 is success and
/// anything else a failure.
pub fn fence_to_ocf(action: &str, exit_code: i32) -> OcfRc {
    match (action, exit_code) {
        (_, 0) => OcfRc::Ok,
        ("status", 2) => OcfRc::NotRunning,
        _ => OcfRc::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for rc in OcfRc::ALL {
            assert_eq!(OcfRc::from_code(rc.code()), Some(rc));
        }
        assert_eq!(OcfRc::from_code(10), None);
        assert_eq!(OcfRc::NotRunning.to_string(), "'not running' (7)");
    }

    #[test]
    fn ocf_mapping_table() {
        let table: &[(i32, OcfRc)] = &[
            (0, OcfRc::Ok),
            (1, OcfRc::Error),
            (2, OcfRc::InvalidParam),
            (3, OcfRc::Unimplemented),
            (4, OcfRc::InsufficientPriv),
            (5, OcfRc::NotInstalled),
            (6, OcfRc::NotConfigured),
            (7, OcfRc::NotRunning),
            (8, OcfRc::RunningPromoted),
            (9, OcfRc::FailedPromoted),
            (10, OcfRc::Error),
            (99, OcfRc::Error),
            (127, OcfRc::Error),
            (190, OcfRc::Degraded),
            (191, OcfRc::DegradedPromoted),
            (192, OcfRc::Error),
            (193, OcfRc::Error),
            (255, OcfRc::Error),
            (-1, OcfRc::Error),
        ];
        for &(code, want) in table {
            assert_eq!(ocf_to_ocf(code), want, "exit code {code}");
        }
    }

    #[test]
    fn lsb_status_mapping_table() {
        let table: &[(i32, OcfRc)] = &[
            (0, OcfRc::Ok),
            (1, OcfRc::NotRunning),
            (2, OcfRc::NotRunning),
            (3, OcfRc::NotRunning),
            (4, OcfRc::Error),
            (5, OcfRc::Error),
            (7, OcfRc::Error),
            (150, OcfRc::NotInstalled),
            (151, OcfRc::InsufficientPriv),
            (152, OcfRc::Error),
            (255, OcfRc::Error),
        ];
        for &(code, want) in table {
            assert_eq!(lsb_to_ocf("status", code), want, "status exit {code}");
            assert_eq!(lsb_to_ocf("monitor", code), want, "monitor exit {code}");
        }
    }

    #[test]
    fn lsb_action_mapping_table() {
        let table: &[(i32, OcfRc)] = &[
            (0, OcfRc::Ok),
            (1, OcfRc::Error),
            (2, OcfRc::InvalidParam),
            (3, OcfRc::Unimplemented),
            (4, OcfRc::InsufficientPriv),
            (5, OcfRc::NotInstalled),
            (6, OcfRc::NotConfigured),
            (7, OcfRc::NotRunning),
            (8, OcfRc::Error),
            (150, OcfRc::Error),
            (-3, OcfRc::Error),
        ];
        for action in ["start", "stop", "restart", "force-reload"] {
            for &(code, want) in table {
                assert_eq!(lsb_to_ocf(action, code), want, "{action} exit {code}");
            }
        }
    }

    #[test]
    fn systemd_mapping_table() {
        let table: &[(&str, OcfRc, ExecStatus)] = &[
            ("active", OcfRc::Ok, ExecStatus::Done),
            ("reloading", OcfRc::Ok, ExecStatus::Done),
            ("activating", OcfRc::Unknown, ExecStatus::Pending),
            ("deactivating", OcfRc::Unknown, ExecStatus::Pending),
            ("inactive", OcfRc::NotRunning, ExecStatus::Done),
            ("failed", OcfRc::NotRunning, ExecStatus::Done),
            ("maintenance", OcfRc::NotRunning, ExecStatus::Done),
            ("", OcfRc::NotRunning, ExecStatus::Done),
        ];
        for &(state, rc, status) in table {
            assert_eq!(
                systemd_state_to_ocf(state),
                (rc, status),
                "ActiveState {state}"
            );
        }
    }

    #[test]
    fn fence_mapping_table() {
        assert_eq!(fence_to_ocf("status", 0), OcfRc::Ok);
        assert_eq!(fence_to_ocf("status", 2), OcfRc::NotRunning);
        assert_eq!(fence_to_ocf("status", 1), OcfRc::Error);
        assert_eq!(fence_to_ocf("monitor", 0), OcfRc::Ok);
        assert_eq!(fence_to_ocf("monitor", 2), OcfRc::Error);
        assert_eq!(fence_to_ocf("reboot", 1), OcfRc::Error);
        assert_eq!(fence_to_ocf("off", 0), OcfRc::Ok);
    }
}
