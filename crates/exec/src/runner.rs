//! Running one operation with the right class: the [`Runner`].

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::discover;
use crate::env::exit_reason;
use crate::error::ExecError;
use crate::inproc::{InProcess, InProcessAgents};
use crate::metadata::AgentMetadata;
use crate::process::{self, DEFAULT_KILL_GRACE, Exit, Invocation, MAX_OUTPUT_BYTES, Outcome};
use crate::rc::OcfRc;
use crate::stonith::FenceRegistry;
use crate::systemd::{Systemd, SystemdConfig};
use crate::types::{AgentId, Class, ExecStatus, OpRequest, OpResult};
use crate::watch::WATCH_ACTION;
use crate::{lsb, ocf, stonith};

/// Timeout for `meta-data` when the caller gives none (Pacemaker's 30 s).
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(30);

/// Timeout for the `methods` action (which only prints a list).
pub const METHODS_TIMEOUT: Duration = Duration::from_secs(5);

/// Where agents live and how processes are treated.
#[derive(Clone, Debug)]
pub struct ExecConfig {
    /// The OCF root: agents are under `resource.d/PROVIDER/TYPE`.
    pub ocf_root: PathBuf,
    /// LSB init scripts.
    pub lsb_dir: PathBuf,
    /// Fence agents (`fence_*`).
    pub fence_dir: PathBuf,
    /// How to reach systemd.
    pub systemd: SystemdConfig,
    /// Time between SIGTERM and SIGKILL at a timeout.
    pub kill_grace: Duration,
    /// The most bytes kept per output stream.
    pub output_limit: usize,
}

impl Default for ExecConfig {
    /// The standard locations (`/usr/lib/ocf`, `/etc/init.d`, `/usr/sbin`, the system bus).
    fn default() -> ExecConfig {
        ExecConfig {
            ocf_root: PathBuf::from("/usr/lib/ocf"),
            lsb_dir: PathBuf::from("/etc/init.d"),
            fence_dir: PathBuf::from("/usr/sbin"),
            systemd: SystemdConfig::default(),
            kill_grace: DEFAULT_KILL_GRACE,
            output_limit: MAX_OUTPUT_BYTES,
        }
    }
}

/// Runs operations of every class. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Runner {
    config: ExecConfig,
    systemd: Systemd,
    fence: FenceRegistry,
    in_process: Option<InProcessAgents>,
}

impl Runner {
    /// A runner with this configuration. Connects to D-Bus lazily, on the first systemd
    /// operation.
    pub fn new(config: ExecConfig) -> Runner {
        Runner {
            systemd: Systemd::new(config.systemd.clone()),
            fence: FenceRegistry::default(),
            config,
            in_process: None,
        }
    }

    /// The same runner, running the OCF actions `agents` takes in this process instead of
    /// as children ([`crate::inproc`]).
    pub fn with_in_process(mut self, agents: Arc<dyn InProcess>) -> Runner {
        self.in_process = Some(InProcessAgents::new(agents));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ExecConfig {
        &self.config
    }

    /// Runs one operation; `cancel` resolving kills it (result status `Cancelled`).
    pub async fn run(&self, req: &OpRequest, cancel: impl Future<Output = ()>) -> OpResult {
        match req.agent.class {
            Class::Ocf => ocf::run(&self.config, self.in_process.as_ref(), req, cancel).await,
            Class::Lsb => lsb::run(&self.config, req, cancel).await,
            Class::Systemd => self.systemd.run(req, cancel).await,
            Class::Service => match self.resolve_service(&req.agent.kind).await {
                Some(class) => {
                    let mut resolved = req.clone();
                    resolved.agent.class = class;
                    Box::pin(self.run(&resolved, cancel)).await
                }
                None => not_installed(format!(
                    "service {} not found: no LSB script {} and no systemd unit",
                    req.agent.kind,
                    self.config.lsb_dir.join(&req.agent.kind).display()
                )),
            },
            Class::Stonith => stonith::run(&self.config, &self.fence, req, cancel).await,
        }
    }

    /// The class a `service:` agent resolves to: LSB if the init script exists, else
    /// systemd if the unit is loaded (as Pacemaker checks, cheapest first).
    pub async fn resolve_service(&self, kind: &str) -> Option<Class> {
        if self.config.lsb_dir.join(kind).is_file() {
            Some(Class::Lsb)
        } else if self.systemd.unit_exists(kind).await {
            Some(Class::Systemd)
        } else {
            None
        }
    }

    /// Runs a fence agent against a node: `action` is `on`, `off`, `reboot`, `status`, ...,
    /// `params` the device's parameters. `status` answers `Ok` for on, `NotRunning` for off.
    pub async fn fence(
        &self,
        agent: &AgentId,
        params: &BTreeMap<String, String>,
        action: &str,
        target: &str,
        timeout_ms: u64,
    ) -> OpResult {
        let mut req = OpRequest::new(target, agent.clone(), action);
        req.params = params.clone();
        req.timeout_ms = timeout_ms;
        stonith::agent_action(
            &self.config,
            &req,
            action,
            Some(target),
            std::future::pending(),
        )
        .await
    }

    /// An agent's meta-data XML.
    pub async fn metadata(&self, agent: &AgentId) -> Result<String, ExecError> {
        // Pacemaker names the meta-data call after the agent type (agents use it in defaults).
        let mut req = OpRequest::new(&agent.kind, agent.clone(), "meta-data");
        req.timeout_ms = METADATA_TIMEOUT.as_millis() as u64;
        let result = self.run(&req, std::future::pending()).await;
        if result.rc == OcfRc::Ok && !result.stdout.trim().is_empty() {
            return Ok(result.stdout);
        }
        Err(ExecError::BadMetadata {
            agent: agent.to_string(),
            why: format!(
                "the meta-data action returned {}{}",
                result.rc,
                result
                    .exit_reason
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        })
    }

    /// Whether an OCF agent has a watcher ([`crate::watch`]): its meta-data lists a `watch`
    /// action (OCF 1.1 allows any action name), or lists `methods` and the `methods` action
    /// prints `watch` among its words. The second way is how Tandem's own agents say it: the
    /// OCF 1.0 DTD that `ocf-tester` validates against allows only the standard action names
    /// in meta-data, `methods` among them. `Err` says why the answer is no when an agent
    /// could not be asked.
    pub async fn supports_watch(&self, agent: &AgentId) -> Result<bool, ExecError> {
        if agent.class != Class::Ocf {
            return Ok(false);
        }
        let md = AgentMetadata::parse(&agent.to_string(), &self.metadata(agent).await?)?;
        let has = |name: &str| md.actions.iter().any(|a| a.name == name);
        if has(WATCH_ACTION) {
            return Ok(true);
        }
        if !has("methods") {
            return Ok(false);
        }
        let mut req = OpRequest::new(&agent.kind, agent.clone(), "methods");
        req.timeout_ms = METHODS_TIMEOUT.as_millis() as u64;
        let result = self.run(&req, std::future::pending()).await;
        Ok(result.rc == OcfRc::Ok && result.stdout.split_whitespace().any(|w| w == WATCH_ACTION))
    }

    /// The agents of a class (and OCF provider), sorted.
    pub async fn list_agents(
        &self,
        class: Class,
        provider: Option<&str>,
    ) -> Result<Vec<String>, ExecError> {
        let c = &self.config;
        match class {
            Class::Ocf => discover::ocf_agents(&c.ocf_root, provider),
            Class::Lsb => discover::executables(&c.lsb_dir, |_| true),
            Class::Stonith => discover::fence_agents(&c.fence_dir),
            Class::Systemd => self.systemd.list_units().await,
            Class::Service => {
                let mut all = discover::executables(&c.lsb_dir, |_| true)?;
                // Without systemd (these machines), service lists just the init scripts.
                all.extend(self.systemd.list_units().await.unwrap_or_default());
                all.sort();
                all.dedup();
                Ok(all)
            }
        }
    }
}

/// A result for an agent that is not there.
pub(crate) fn not_installed(reason: String) -> OpResult {
    OpResult::immediate(OcfRc::NotInstalled, ExecStatus::NotInstalled, Some(reason))
}

/// Checks that `path` is an executable file, as a result to return if it is not.
pub(crate) fn check_executable(agent: &AgentId, path: &Path) -> Result<(), OpResult> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(m) if m.is_file() => Err(not_installed(format!(
            "{agent} is not installed: {} is not executable",
            path.display()
        ))),
        Ok(_) => Err(not_installed(format!(
            "{agent} is not installed: {} is not a file",
            path.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(OpResult::immediate(
            OcfRc::InsufficientPriv,
            ExecStatus::Error,
            Some(format!("{agent}: cannot access {}: {e}", path.display())),
        )),
        Err(_) => Err(not_installed(format!(
            "{agent} is not installed: {} does not exist",
            path.display()
        ))),
    }
}

/// The invocation of an agent executable for `req`.
pub(crate) fn invocation(
    cfg: &ExecConfig,
    program: PathBuf,
    args: &[&str],
    req: &OpRequest,
) -> Invocation {
    let mut inv = Invocation::new(program, args, Duration::from_millis(req.timeout_ms));
    inv.kill_grace = cfg.kill_grace;
    inv.output_limit = cfg.output_limit;
    inv
}

/// Turns a process outcome into an operation result. `map` translates the exit code;
/// `reasons` says whether stderr carries OCF exit reasons.
pub(crate) async fn run_process(
    inv: Invocation,
    req: &OpRequest,
    cancel: impl Future<Output = ()>,
    map: impl Fn(i32) -> OcfRc,
    reasons: bool,
) -> OpResult {
    let timeout_ms = req.timeout_ms;
    let outcome = process::run(inv, cancel).await;
    from_outcome(outcome, &req.action, timeout_ms, map, reasons)
}

/// Turns how an agent ended into an operation result (see [`run_process`]).
pub(crate) fn from_outcome(
    o: Outcome,
    action: &str,
    timeout_ms: u64,
    map: impl Fn(i32) -> OcfRc,
    reasons: bool,
) -> OpResult {
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let agent_reason = if reasons { exit_reason(&stderr) } else { None };
    let (rc, exit_code, status, reason) = match o.exit {
        Exit::Code(code) => (map(code), Some(code), ExecStatus::Done, agent_reason),
        Exit::Signal(sig) => (
            OcfRc::Error,
            None,
            ExecStatus::Error,
            Some(format!("{action} was terminated by signal {sig}")),
        ),
        Exit::TimedOut => (
            OcfRc::Error,
            None,
            ExecStatus::Timeout,
            Some(format!("{action} did not complete within {timeout_ms}ms")),
        ),
        Exit::Cancelled => (OcfRc::Ok, None, ExecStatus::Cancelled, None),
        Exit::SpawnFailed { kind, message } => {
            let (rc, status) = match kind {
                io::ErrorKind::NotFound => (OcfRc::NotInstalled, ExecStatus::NotInstalled),
                io::ErrorKind::PermissionDenied => (OcfRc::InsufficientPriv, ExecStatus::Error),
                _ => (OcfRc::Error, ExecStatus::Error),
            };
            (
                rc,
                None,
                status,
                Some(format!("cannot execute the agent: {message}")),
            )
        }
    };
    OpResult {
        rc,
        exit_code,
        status,
        exit_reason: reason,
        stdout,
        stderr,
        output_truncated: o.truncated,
        started: o.started,
        duration: o.duration,
    }
}
