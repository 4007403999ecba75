//! The `ocf` class: `$OCF_ROOT/resource.d/PROVIDER/TYPE ACTION`, parameters in the
//! environment, exit codes 0–9/190/191, exit reason on stderr.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use crate::env::ocf_environment;
use crate::inproc::InProcessAgents;
use crate::rc::{OcfRc, ocf_to_ocf};
use crate::runner::{ExecConfig, check_executable, from_outcome, invocation, run_process};
use crate::types::{AgentId, ExecStatus, OpRequest, OpResult};

/// Where an OCF agent lives.
pub fn agent_path(cfg: &ExecConfig, agent: &AgentId) -> PathBuf {
    let provider = agent.provider.as_deref().unwrap_or("heartbeat");
    cfg.ocf_root
        .join("resource.d")
        .join(provider)
        .join(&agent.kind)
}

/// Runs `req`: in-process when `in_process` takes it ([`crate::inproc`]), else the agent's
/// process.
pub(crate) async fn run(
    cfg: &ExecConfig,
    in_process: Option<&InProcessAgents>,
    req: &OpRequest,
    cancel: impl Future<Output = ()>,
) -> OpResult {
    let path = agent_path(cfg, &req.agent);
    if let Err(result) = check_executable(&req.agent, &path) {
        return result;
    }
    let env = match ocf_environment(req, &cfg.ocf_root) {
        Ok(env) => env,
        Err(bad) => {
            return OpResult::immediate(
                OcfRc::InvalidParam,
                ExecStatus::Error,
                Some(format!(
                    "parameter {:?} cannot be passed to the agent: {}",
                    bad.name, bad.why
                )),
            );
        }
    };
    tokio::pin!(cancel);
    if let Some(ip) = in_process {
        let timeout = Duration::from_millis(req.timeout_ms);
        let ran = ip.run(
            &path,
            &req.agent,
            &req.action,
            &env,
            timeout,
            cancel.as_mut(),
        );
        if let Some(outcome) = ran.await {
            return from_outcome(outcome, &req.action, req.timeout_ms, ocf_to_ocf, true);
        }
    }
    let mut inv = invocation(cfg, path, &[req.action.as_str()], req);
    inv.env = env;
    run_process(inv, req, cancel, ocf_to_ocf, true).await
}
