//! The `stonith` class: fence agents (`/usr/sbin/fence_*`), which take their parameters as
//! `key=value` lines on standard input (fence-agents' FenceAgentAPI), including
//! `action=on|off|reboot|status|list|monitor|metadata|validate-all`, the target as
//! `port=` (or the agent's own argument name, `pcmk_host_argument`) and `nodename=`.
//!
//! A fence *resource* is not started by its agent: as Pacemaker's executor does, `start`
//! checks the device with the agent's `monitor` and then registers it, `stop` unregisters
//! it, a probe answers from the registry, and a recurring monitor runs the agent's
//! `monitor`. Fencing a node is [`crate::Runner::fence`].

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;

use crate::rc::{OcfRc, fence_to_ocf};
use crate::runner::{ExecConfig, check_executable, invocation, run_process};
use crate::types::{ExecStatus, OpRequest, OpResult};

/// The most bytes of parameters written to a fence agent's standard input: a device has a
/// few dozen short parameters; anything near this is a configuration mistake.
pub const MAX_FENCE_INPUT_BYTES: usize = 64 * 1024;

/// Fence resources started on this node (what Pacemaker registers with its fencer).
#[derive(Default)]
pub(crate) struct FenceRegistry {
    started: Mutex<BTreeSet<String>>,
}

impl FenceRegistry {
    fn set(&self, rsc: &str, started: bool) {
        // One insert or remove per lock: a poisoned lock still holds a consistent set.
        let mut set = self.started.lock().unwrap_or_else(|p| p.into_inner());
        if started {
            set.insert(rsc.to_string());
        } else {
            set.remove(rsc);
        }
    }

    fn is_started(&self, rsc: &str) -> bool {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(rsc)
    }
}

pub(crate) async fn run(
    cfg: &ExecConfig,
    registry: &FenceRegistry,
    req: &OpRequest,
    cancel: impl Future<Output = ()>,
) -> OpResult {
    let path = cfg.fence_dir.join(&req.agent.kind);
    if let Err(result) = check_executable(&req.agent, &path) {
        return result;
    }
    match (req.action.as_str(), req.interval_ms) {
        ("meta-data", _) => {
            let inv = invocation(cfg, path, &["-o", "metadata"], req);
            run_process(inv, req, cancel, |c| fence_to_ocf("metadata", c), false).await
        }
        ("start", _) => {
            let result = agent_action(cfg, req, "monitor", None, cancel).await;
            if result.rc == OcfRc::Ok {
                registry.set(&req.rsc_id, true);
            }
            result
        }
        ("stop", _) => {
            registry.set(&req.rsc_id, false);
            OpResult::immediate(OcfRc::Ok, ExecStatus::Done, None)
        }
        ("monitor", 0) => {
            let rc = if registry.is_started(&req.rsc_id) {
                OcfRc::Ok
            } else {
                OcfRc::NotRunning
            };
            OpResult::immediate(rc, ExecStatus::Done, None)
        }
        (action, _) => {
            let action = action.to_string();
            agent_action(cfg, req, &action, None, cancel).await
        }
    }
}

/// Runs the fence agent of `req` with `action=ACTION` (and a target, for on/off/reboot/
/// status) on standard input.
pub(crate) async fn agent_action(
    cfg: &ExecConfig,
    req: &OpRequest,
    action: &str,
    target: Option<&str>,
    cancel: impl Future<Output = ()>,
) -> OpResult {
    let path = cfg.fence_dir.join(&req.agent.kind);
    if let Err(result) = check_executable(&req.agent, &path) {
        return result;
    }
    let input = match stdin_parameters(action, &req.params, target) {
        Ok(input) => input,
        Err(why) => return OpResult::immediate(OcfRc::InvalidParam, ExecStatus::Error, Some(why)),
    };
    let mut inv = invocation(cfg, path, &[], req);
    inv.stdin = Some(input);
    let owned = action.to_string();
    let mut result = run_process(inv, req, cancel, move |c| fence_to_ocf(&owned, c), false).await;
    if result.rc != OcfRc::Ok && result.exit_reason.is_none() {
        // Fence agents explain themselves on stderr; the last line is the useful one.
        result.exit_reason = result
            .stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| {
                l.trim()
                    .chars()
                    .take(crate::env::MAX_EXIT_REASON_CHARS)
                    .collect()
            });
    }
    result
}

/// The standard input of a fence agent: `action=`, the target (under the agent's host
/// argument, `port` by default, and as `nodename`), then the device parameters. Pacemaker's
/// own `pcmk_*` settings are not the agent's business and are left out.
pub fn stdin_parameters(
    action: &str,
    params: &BTreeMap<String, String>,
    target: Option<&str>,
) -> Result<Vec<u8>, String> {
    let mut text = format!("action={action}\n");
    if let Some(target) = target {
        let host_arg = params
            .get("pcmk_host_argument")
            .map(String::as_str)
            .unwrap_or("port");
        if host_arg != "none" {
            text += &format!("{host_arg}={target}\n");
        }
        text += &format!("nodename={target}\n");
    }
    for (name, value) in params {
        if name.starts_with("pcmk_") || name == "action" {
            continue;
        }
        if name.is_empty() || name.contains(['=', '\n', '\0']) || value.contains(['\n', '\0']) {
            return Err(format!(
                "parameter {name:?} cannot be given to a fence agent: names must be non-empty \
                 without '=' or newlines, values without newlines"
            ));
        }
        text += &format!("{name}={value}\n");
    }
    if text.len() > MAX_FENCE_INPUT_BYTES {
        return Err(format!(
            "the fence device's parameters are {} bytes, more than the {MAX_FENCE_INPUT_BYTES} allowed",
            text.len()
        ));
    }
    Ok(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_protocol() {
        let mut params = BTreeMap::new();
        params.insert("ip".to_string(), "192.0.2.1".to_string());
        params.insert("pcmk_host_list".to_string(), "n1 n2".to_string());
        params.insert("username".to_string(), "admin".to_string());
        let text = stdin_parameters("reboot", &params, Some("n1")).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "action=reboot\nport=n1\nnodename=n1\nip=192.0.2.1\nusername=admin\n"
        );
        params.insert("pcmk_host_argument".to_string(), "plug".to_string());
        let text = stdin_parameters("off", &params, Some("n2")).unwrap();
        assert!(
            String::from_utf8(text)
                .unwrap()
                .starts_with("action=off\nplug=n2\nnodename=n2\n")
        );
        let text = stdin_parameters("monitor", &params, None).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "action=monitor\nip=192.0.2.1\nusername=admin\n"
        );
        params.insert("password".to_string(), "a\naction=off".to_string());
        assert!(
            stdin_parameters("monitor", &params, None)
                .unwrap_err()
                .contains("\"password\"")
        );
    }
}
