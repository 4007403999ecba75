//! The `systemd` class: units started, stopped and watched through systemd's D-Bus API
//! (`org.freedesktop.systemd1.Manager`), never through `systemctl`.
//!
//! * `start`: a runtime drop-in `<unit>.d/50-tandem.conf` is written under
//!   `/run/systemd/system` (`Description=Cluster Controlled <unit>`, `Before=` the cluster's
//!   own unit, so at shutdown systemd stops the cluster before the resource, and for services
//!   `Restart=no`, so systemd does not restart behind the cluster's back), systemd is told to
//!   `Reload`, then `StartUnit(unit, "replace")` and the job's `JobRemoved` signal decides
//!   the result (`done` → success). This is Pacemaker's behaviour; Pacemaker names its file
//!   `50-pacemaker.conf` and orders before `pacemaker.service`.
//! * `stop`: the drop-in is removed (and systemd reloaded), then `StopUnit`. A unit systemd
//!   does not know is stopped.
//! * `monitor`/`status`: the unit's `ActiveState` (see [`crate::rc::systemd_state_to_ocf`]).
//! * `meta-data`: made up from the unit's `Description`.
//!
//! Unit names without a suffix get `.service`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::metadata::{xml_attr, xml_text};
use futures::StreamExt;
use tokio::sync::Mutex;
use zbus::{Connection, OwnedObjectPath};

use crate::error::ExecError;
use crate::rc::{OcfRc, systemd_state_to_ocf};
use crate::types::{ExecStatus, OpRequest, OpResult};

/// The unit suffixes the cluster can manage (Pacemaker's list).
pub const UNIT_SUFFIXES: [&str; 5] = [".service", ".socket", ".mount", ".timer", ".path"];

/// Timeout for D-Bus calls made outside an operation (listing units, resolving `service:`).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(25);

/// Which bus systemd is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bus {
    /// The system bus (`/run/dbus/system_bus_socket`).
    System,
    /// A bus at this D-Bus address (`unix:path=...`), e.g. a private test bus.
    Address(String),
}

/// How to reach systemd and where drop-ins go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemdConfig {
    /// The bus.
    pub bus: Bus,
    /// Runtime unit directory for drop-ins (`/run/systemd/system`).
    pub dropin_root: PathBuf,
    /// The cluster's own unit, which managed units are ordered before.
    pub cluster_unit: String,
}

impl Default for SystemdConfig {
    fn default() -> SystemdConfig {
        SystemdConfig {
            bus: Bus::System,
            dropin_root: PathBuf::from("/run/systemd/system"),
            cluster_unit: "tandem.service".to_string(),
        }
    }
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait Manager {
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn reload(&self) -> zbus::Result<()>;
    fn subscribe(&self) -> zbus::Result<()>;
    fn list_unit_files(&self) -> zbus::Result<Vec<(String, String)>>;
    #[zbus(signal)]
    fn job_removed(
        &self,
        id: u32,
        job: zbus::ObjectPath<'_>,
        unit: &str,
        result: &str,
    ) -> zbus::Result<()>;
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Unit",
    default_service = "org.freedesktop.systemd1"
)]
trait Unit {
    #[zbus(property(emits_changed_signal = "false"))]
    fn active_state(&self) -> zbus::Result<String>;
    #[zbus(property(emits_changed_signal = "false"))]
    fn load_state(&self) -> zbus::Result<String>;
    #[zbus(property(emits_changed_signal = "false"))]
    fn description(&self) -> zbus::Result<String>;
}

/// The full unit name: `nginx` → `nginx.service`.
pub fn unit_name(kind: &str) -> String {
    if UNIT_SUFFIXES.iter().any(|s| kind.ends_with(s)) {
        kind.to_string()
    } else {
        format!("{kind}.service")
    }
}

/// The drop-in written before a start (see the module documentation).
pub fn dropin_text(unit: &str, cluster_unit: &str) -> String {
    let mut text =
        format!("[Unit]\nDescription=Cluster Controlled {unit}\nBefore={cluster_unit}\n");
    if unit.ends_with(".service") {
        text.push_str("\n[Service]\nRestart=no\n");
    }
    text
}

/// The path of a unit's drop-in.
pub fn dropin_path(root: &Path, unit: &str) -> PathBuf {
    root.join(format!("{unit}.d")).join("50-tandem.conf")
}

/// A failed systemd call, as an operation result.
struct Failure {
    rc: OcfRc,
    status: ExecStatus,
    reason: String,
}

impl Failure {
    fn error(reason: String) -> Failure {
        Failure {
            rc: OcfRc::Error,
            status: ExecStatus::Error,
            reason,
        }
    }
}

type Answer = Result<(OcfRc, ExecStatus, Option<String>, String), Failure>;

pub(crate) struct Systemd {
    config: SystemdConfig,
    conn: Mutex<Option<Connection>>,
}

impl Systemd {
    pub(crate) fn new(config: SystemdConfig) -> Systemd {
        Systemd {
            config,
            conn: Mutex::new(None),
        }
    }

    /// The connection, made (and subscribed to job signals) on first use.
    async fn manager(&self) -> Result<ManagerProxy<'static>, Failure> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            let conn = match &self.config.bus {
                Bus::System => Connection::system().await,
                Bus::Address(a) => zbus::conn::Builder::address(a.as_str()).build().await,
            }
            .map_err(|e| Failure::error(format!("no D-Bus connection to systemd: {e}")))?;
            let mgr = ManagerProxy::new(&conn)
                .await
                .map_err(|e| dbus_failure("connect", "", e))?;
            // systemd only emits JobRemoved once some client has subscribed.
            mgr.subscribe()
                .await
                .map_err(|e| dbus_failure("Subscribe", "", e))?;
            *slot = Some(conn);
        }
        let conn = slot.as_ref().expect("set just above");
        ManagerProxy::new(conn)
            .await
            .map_err(|e| dbus_failure("connect", "", e))
    }

    /// Forgets the connection after a transport error, so the next operation reconnects.
    async fn reset_on(&self, e: &zbus::Error) {
        if matches!(e, zbus::Error::InputOutput(_)) {
            *self.conn.lock().await = None;
        }
    }

    pub(crate) async fn run(&self, req: &OpRequest, cancel: impl Future<Output = ()>) -> OpResult {
        let started = SystemTime::now();
        let t0 = tokio::time::Instant::now();
        let limit = Duration::from_millis(req.timeout_ms);
        let answer = tokio::select! {
            a = tokio::time::timeout(limit, self.dispatch(req)) => a.unwrap_or_else(|_| Err(Failure {
                rc: OcfRc::Error,
                status: ExecStatus::Timeout,
                reason: format!("{} of systemd unit {} did not complete within {}ms",
                    req.action, unit_name(&req.agent.kind), req.timeout_ms),
            })),
            () = cancel => Ok((OcfRc::Ok, ExecStatus::Cancelled, None, String::new())),
        };
        let mut result = match answer {
            Ok((rc, status, reason, stdout)) => {
                let mut r = OpResult::immediate(rc, status, reason);
                r.stdout = stdout;
                r
            }
            Err(f) => OpResult::immediate(f.rc, f.status, Some(f.reason)),
        };
        result.started = started;
        result.duration = t0.elapsed();
        result
    }

    async fn dispatch(&self, req: &OpRequest) -> Answer {
        let unit = unit_name(&req.agent.kind);
        let mgr = self.manager().await?;
        match req.action.as_str() {
            "meta-data" => {
                let desc = match self.unit_proxy(&mgr, &unit).await {
                    Ok(u) => u.description().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                Ok((
                    OcfRc::Ok,
                    ExecStatus::Done,
                    None,
                    metadata_xml(&req.agent.kind, &unit, &desc),
                ))
            }
            "monitor" | "status" => {
                let u = self.unit_proxy(&mgr, &unit).await?;
                let state = u
                    .active_state()
                    .await
                    .map_err(|e| dbus_failure("ActiveState", &unit, e))?;
                let (rc, status) = systemd_state_to_ocf(&state);
                let reason = (rc == OcfRc::NotRunning).then(|| state.clone());
                Ok((rc, status, reason, String::new()))
            }
            "start" => self.start(&mgr, &unit).await,
            "stop" => self.stop(&mgr, &unit).await,
            "restart" => self.job(&mgr, "restart", &unit).await,
            other => Err(Failure {
                rc: OcfRc::Unimplemented,
                status: ExecStatus::NotSupported,
                reason: format!("action {other} is not implemented for systemd resources"),
            }),
        }
    }

    async fn unit_proxy(
        &self,
        mgr: &ManagerProxy<'static>,
        unit: &str,
    ) -> Result<UnitProxy<'static>, Failure> {
        let path = match mgr.load_unit(unit).await {
            Ok(p) => p,
            Err(e) => {
                self.reset_on(&e).await;
                return Err(dbus_failure("LoadUnit", unit, e));
            }
        };
        UnitProxy::builder(mgr.inner().connection())
            .path(path)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(|e| dbus_failure("LoadUnit", unit, e))
    }

    async fn start(&self, mgr: &ManagerProxy<'static>, unit: &str) -> Answer {
        let u = self.unit_proxy(mgr, unit).await?;
        let load = u
            .load_state()
            .await
            .map_err(|e| dbus_failure("LoadState", unit, e))?;
        if load != "loaded" && load != "masked" {
            return Err(Failure {
                rc: OcfRc::NotInstalled,
                status: ExecStatus::NotInstalled,
                reason: format!("systemd unit {unit} not found (LoadState={load})"),
            });
        }
        let path = dropin_path(&self.config.dropin_root, unit);
        write_dropin(&path, &dropin_text(unit, &self.config.cluster_unit)).map_err(|e| {
            Failure {
                rc: OcfRc::InsufficientPriv,
                status: ExecStatus::Error,
                reason: format!(
                    "failed to create systemd override file {}: {e}",
                    path.display()
                ),
            }
        })?;
        mgr.reload()
            .await
            .map_err(|e| dbus_failure("Reload", unit, e))?;
        self.job(mgr, "start", unit).await
    }

    async fn stop(&self, mgr: &ManagerProxy<'static>, unit: &str) -> Answer {
        let path = dropin_path(&self.config.dropin_root, unit);
        if std::fs::remove_file(&path).is_ok() {
            // Stop may be called when already stopped: a missing file is fine.
            mgr.reload()
                .await
                .map_err(|e| dbus_failure("Reload", unit, e))?;
        }
        match self.job(mgr, "stop", unit).await {
            Err(f) if f.status == ExecStatus::NotInstalled => {
                Ok((OcfRc::Ok, ExecStatus::Done, None, String::new()))
            }
            other => other,
        }
    }

    /// Queues a start/stop/restart job and waits for its `JobRemoved` signal.
    async fn job(&self, mgr: &ManagerProxy<'static>, action: &str, unit: &str) -> Answer {
        // Listen before queueing, so a job that finishes at once is not missed.
        let mut removed = mgr
            .receive_job_removed()
            .await
            .map_err(|e| dbus_failure("JobRemoved", unit, e))?;
        let queued = match action {
            "start" => mgr.start_unit(unit, "replace").await,
            "stop" => mgr.stop_unit(unit, "replace").await,
            _ => mgr.restart_unit(unit, "replace").await,
        };
        let job = match queued {
            Ok(job) => job,
            Err(e) => {
                self.reset_on(&e).await;
                return Err(dbus_failure(action, unit, e));
            }
        };
        while let Some(signal) = removed.next().await {
            let Ok(args) = signal.args() else { continue };
            if args.job().as_str() != job.as_str() {
                continue;
            }
            return match *args.result() {
                "done" => Ok((OcfRc::Ok, ExecStatus::Done, None, String::new())),
                "timeout" => Err(Failure {
                    rc: OcfRc::Error,
                    status: ExecStatus::Timeout,
                    reason: format!("systemd {action} job for {unit} timed out"),
                }),
                other => Err(Failure::error(format!(
                    "systemd {action} job for {unit} failed with result '{other}'"
                ))),
            };
        }
        Err(Failure::error(format!(
            "the D-Bus connection closed before systemd finished the {action} job for {unit}"
        )))
    }

    /// True if systemd knows the unit (`LoadState` loaded or masked).
    pub(crate) async fn unit_exists(&self, kind: &str) -> bool {
        let unit = unit_name(kind);
        let probe = async {
            let mgr = self.manager().await.ok()?;
            let u = self.unit_proxy(&mgr, &unit).await.ok()?;
            u.load_state().await.ok()
        };
        matches!(
            tokio::time::timeout(LOOKUP_TIMEOUT, probe).await,
            Ok(Some(state)) if state == "loaded" || state == "masked"
        )
    }

    /// The manageable units systemd has files for, `.service` stripped, sorted.
    pub(crate) async fn list_units(&self) -> Result<Vec<String>, ExecError> {
        let list = async {
            let mgr = self.manager().await.map_err(|f| f.reason)?;
            mgr.list_unit_files().await.map_err(|e| e.to_string())
        };
        let files = tokio::time::timeout(LOOKUP_TIMEOUT, list)
            .await
            .map_err(|_| ExecError::Dbus("ListUnitFiles did not answer in time".into()))?
            .map_err(ExecError::Dbus)?;
        let mut units: Vec<String> = files
            .into_iter()
            .filter_map(|(path, _state)| {
                let base = path.rsplit('/').next().unwrap_or(&path).to_string();
                let suffix = UNIT_SUFFIXES.iter().find(|s| base.ends_with(*s))?;
                Some(match *suffix {
                    ".service" => base.trim_end_matches(".service").to_string(),
                    _ => base,
                })
            })
            .collect();
        units.sort_by_key(|u| u.to_lowercase());
        units.dedup();
        Ok(units)
    }
}

fn write_dropin(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    // World-readable, or systemd warns about it.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

/// Maps a D-Bus error: systemd's "no such unit" family means not installed.
fn dbus_failure(what: &str, unit: &str, e: zbus::Error) -> Failure {
    if let zbus::Error::MethodError(name, _, _) = &e {
        let name = name.as_str();
        if matches!(
            name,
            "org.freedesktop.systemd1.NoSuchUnit"
                | "org.freedesktop.systemd1.LoadFailed"
                | "org.freedesktop.systemd1.InvalidName"
        ) {
            return Failure {
                rc: OcfRc::NotInstalled,
                status: ExecStatus::NotInstalled,
                reason: format!("systemd unit {unit} not found"),
            };
        }
    }
    Failure::error(format!("systemd D-Bus call {what} for {unit} failed: {e}"))
}

/// Meta-data for a unit, as Pacemaker makes it up (advised timeouts of 100 s).
pub fn metadata_xml(kind: &str, unit: &str, description: &str) -> String {
    let desc = if description.is_empty() {
        format!("systemd unit file for {unit}")
    } else {
        description.to_string()
    };
    format!(
        "<?xml version=\"1.0\"?>\n<resource-agent name=\"{name}\" version=\"0.1\">\n  <version>1.1</version>\n  \
         <longdesc lang=\"en\">\n    {long}\n  </longdesc>\n  <shortdesc lang=\"en\">systemd unit file for {short}</shortdesc>\n  \
         <parameters/>\n  <actions>\n    <action name=\"start\" timeout=\"100\"/>\n    <action name=\"stop\" timeout=\"100\"/>\n    \
         <action name=\"status\" timeout=\"100\"/>\n    <action name=\"monitor\" timeout=\"100\" interval=\"60\"/>\n    \
         <action name=\"meta-data\" timeout=\"5\"/>\n  </actions>\n  <special tag=\"systemd\"/>\n</resource-agent>\n",
        name = xml_attr(kind),
        long = xml_text(&desc),
        short = xml_text(kind),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::AgentMetadata;

    #[test]
    fn unit_names() {
        assert_eq!(unit_name("nginx"), "nginx.service");
        assert_eq!(unit_name("data.mount"), "data.mount");
        assert_eq!(unit_name("backup.timer"), "backup.timer");
        assert_eq!(unit_name("getty@tty1.service"), "getty@tty1.service");
    }

    #[test]
    fn dropin_content() {
        assert_eq!(
            dropin_text("nginx.service", "tandem.service"),
            "[Unit]\nDescription=Cluster Controlled nginx.service\nBefore=tandem.service\n\n[Service]\nRestart=no\n"
        );
        assert_eq!(
            dropin_text("data.mount", "tandem.service"),
            "[Unit]\nDescription=Cluster Controlled data.mount\nBefore=tandem.service\n"
        );
        assert_eq!(
            dropin_path(Path::new("/run/systemd/system"), "nginx.service"),
            Path::new("/run/systemd/system/nginx.service.d/50-tandem.conf")
        );
    }

    #[test]
    fn metadata_advises_100() {
        let md = AgentMetadata::parse(
            "systemd:web",
            &metadata_xml("web", "web.service", "Web & co"),
        )
        .unwrap();
        assert_eq!(md.longdesc, "Web & co");
        assert_eq!(
            md.advice("start", None, None).unwrap().timeout.as_deref(),
            Some("100")
        );
        assert_eq!(
            md.advice("monitor", None, None)
                .unwrap()
                .interval
                .as_deref(),
            Some("60")
        );
    }
}
