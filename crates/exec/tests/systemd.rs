//! The systemd class against a private `dbus-daemon` with a stand-in
//! `org.freedesktop.systemd1` (these machines run no systemd): the ActiveState mapping table,
//! start/stop jobs with the drop-in, not-installed units, failed jobs, unit listing.
// Tests of a driver crate: they own the clock, threads and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TempDir, require};
use tandem_exec::{
    AgentId, Bus, Class, ExecConfig, ExecStatus, OcfRc, OpRequest, Runner, SystemdConfig,
};
use zbus::object_server::SignalEmitter;
use zbus::{ObjectServer, OwnedObjectPath, interface};

/// A private message bus, killed when dropped.
struct DbusDaemon {
    child: Child,
    address: String,
    _dir: TempDir,
}

impl DbusDaemon {
    fn start() -> DbusDaemon {
        let dir = TempDir::new("tdm-dbus");
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig>\n  <type>session</type>\n  \
                 <listen>unix:path={}/bus</listen>\n  <auth>EXTERNAL</auth>\n  <policy context=\"default\">\n    \
                 <allow send_destination=\"*\" eavesdrop=\"true\"/>\n    <allow eavesdrop=\"true\"/>\n    \
                 <allow own=\"*\"/>\n  </policy>\n</busconfig>\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        DbusDaemon {
            child,
            address: line.trim().to_string(),
            _dir: dir,
        }
    }
}

impl Drop for DbusDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Debug)]
struct UnitState {
    load: String,
    active: String,
    description: String,
    job_result: String,
}

#[derive(Default)]
struct World {
    units: BTreeMap<String, UnitState>,
    reloads: u32,
    jobs: u32,
}

type Shared = Arc<Mutex<World>>;

#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.freedesktop.systemd1")]
enum SdError {
    #[zbus(error)]
    ZBus(zbus::Error),
    NoSuchUnit(String),
}

fn unit_path(name: &str) -> OwnedObjectPath {
    let escaped: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("_{b:02x}")
            }
        })
        .collect();
    OwnedObjectPath::try_from(format!("/org/freedesktop/systemd1/unit/{escaped}")).unwrap()
}

struct Manager(Shared);

#[interface(name = "org.freedesktop.systemd1.Manager")]
impl Manager {
    async fn load_unit(
        &self,
        name: &str,
        #[zbus(object_server)] server: &ObjectServer,
    ) -> OwnedObjectPath {
        let path = unit_path(name);
        self.0
            .lock()
            .unwrap()
            .units
            .entry(name.to_string())
            .or_insert_with(|| UnitState {
                load: "not-found".into(),
                active: "inactive".into(),
                description: String::new(),
                job_result: "done".into(),
            });
        let _ = server
            .at(&path, Unit(Arc::clone(&self.0), name.to_string()))
            .await;
        path
    }

    async fn start_unit(
        &self,
        name: &str,
        _mode: &str,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, SdError> {
        self.job(name, "active", emitter).await
    }

    async fn stop_unit(
        &self,
        name: &str,
        _mode: &str,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, SdError> {
        self.job(name, "inactive", emitter).await
    }

    fn reload(&self) {
        self.0.lock().unwrap().reloads += 1;
    }

    fn subscribe(&self) {}

    fn list_unit_files(&self) -> Vec<(String, String)> {
        vec![
            ("/lib/systemd/system/web.service".into(), "disabled".into()),
            ("/lib/systemd/system/data.mount".into(), "static".into()),
            (
                "/lib/systemd/system/graphical.target".into(),
                "static".into(),
            ),
        ]
    }

    #[zbus(signal)]
    async fn job_removed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        job: OwnedObjectPath,
        unit: &str,
        result: &str,
    ) -> zbus::Result<()>;
}

impl Manager {
    /// Queues a job: the reply comes at once, the JobRemoved signal a little later, as with
    /// the real systemd.
    async fn job(
        &self,
        name: &str,
        target: &str,
        emitter: SignalEmitter<'_>,
    ) -> Result<OwnedObjectPath, SdError> {
        let (id, result) = {
            let mut w = self.0.lock().unwrap();
            w.jobs += 1;
            let id = w.jobs;
            match w.units.get_mut(name) {
                Some(u) if u.load == "loaded" => {
                    let result = u.job_result.clone();
                    u.active = if result == "done" {
                        target.into()
                    } else {
                        "failed".into()
                    };
                    (id, result)
                }
                _ => return Err(SdError::NoSuchUnit(format!("Unit {name} not found."))),
            }
        };
        let job = OwnedObjectPath::try_from(format!("/org/freedesktop/systemd1/job/{id}")).unwrap();
        let emitter = emitter.into_owned();
        let (job2, name) = (job.clone(), name.to_string());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            let _ = Manager::job_removed(&emitter, id, job2, &name, &result).await;
        });
        Ok(job)
    }
}

struct Unit(Shared, String);

#[interface(name = "org.freedesktop.systemd1.Unit")]
impl Unit {
    #[zbus(property)]
    fn active_state(&self) -> String {
        self.0.lock().unwrap().units[&self.1].active.clone()
    }
    #[zbus(property)]
    fn load_state(&self) -> String {
        self.0.lock().unwrap().units[&self.1].load.clone()
    }
    #[zbus(property)]
    fn description(&self) -> String {
        self.0.lock().unwrap().units[&self.1].description.clone()
    }
}

fn loaded(world: &Shared, name: &str, description: &str, job_result: &str) {
    world.lock().unwrap().units.insert(
        name.to_string(),
        UnitState {
            load: "loaded".into(),
            active: "inactive".into(),
            description: description.into(),
            job_result: job_result.into(),
        },
    );
}

#[test]
fn systemd_class_against_a_stand_in_manager() {
    if !require("/usr/bin/dbus-daemon", "dbus-daemon") {
        return;
    }
    let bus = DbusDaemon::start();
    let dir = TempDir::new("tdm-systemd");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let world: Shared = Arc::default();
        loaded(&world, "web.service", "Web server", "done");
        loaded(&world, "broken.service", "Broken", "failed");
        let _server = zbus::conn::Builder::address(bus.address.as_str())
            .name("org.freedesktop.systemd1")
            .serve_at("/org/freedesktop/systemd1", Manager(Arc::clone(&world)))
            .build()
            .await
            .unwrap();
        let runner = Runner::new(ExecConfig {
            lsb_dir: dir.path().join("init.d"),
            systemd: SystemdConfig {
                bus: Bus::Address(bus.address.clone()),
                dropin_root: dir.path().join("run-systemd"),
                cluster_unit: "tandem.service".into(),
            },
            ..ExecConfig::default()
        });
        let op = |agent: &str, action: &str| OpRequest::new("r", agent.parse::<AgentId>().unwrap(), action);
        let run = |req: OpRequest| {
            let runner = &runner;
            async move { runner.run(&req, std::future::pending()).await }
        };

        // ActiveState → monitor result.
        let table = [
            ("active", OcfRc::Ok, ExecStatus::Done),
            ("reloading", OcfRc::Ok, ExecStatus::Done),
            ("activating", OcfRc::Unknown, ExecStatus::Pending),
            ("deactivating", OcfRc::Unknown, ExecStatus::Pending),
            ("inactive", OcfRc::NotRunning, ExecStatus::Done),
            ("failed", OcfRc::NotRunning, ExecStatus::Done),
        ];
        for (state, rc, status) in table {
            world.lock().unwrap().units.get_mut("web.service").unwrap().active = state.into();
            let r = run(op("systemd:web", "monitor")).await;
            assert_eq!((r.rc, r.status), (rc, status), "ActiveState={state}");
        }
        world.lock().unwrap().units.get_mut("web.service").unwrap().active = "inactive".into();

        // start: drop-in written, systemd reloaded, job waited for.
        let dropin = dir.path().join("run-systemd/web.service.d/50-tandem.conf");
        let r = run(op("systemd:web", "start")).await;
        assert_eq!((r.rc, r.status, r.exit_reason.clone()), (OcfRc::Ok, ExecStatus::Done, None));
        assert_eq!(
            std::fs::read_to_string(&dropin).unwrap(),
            "[Unit]\nDescription=Cluster Controlled web.service\nBefore=tandem.service\n\n[Service]\nRestart=no\n"
        );
        assert_eq!(world.lock().unwrap().reloads, 1);
        assert_eq!(run(op("systemd:web", "monitor")).await.rc, OcfRc::Ok);

        // stop: drop-in removed, systemd reloaded again.
        let r = run(op("systemd:web", "stop")).await;
        assert_eq!(r.rc, OcfRc::Ok);
        assert!(!dropin.exists());
        assert_eq!(world.lock().unwrap().reloads, 2);
        assert_eq!(run(op("systemd:web", "monitor")).await.rc, OcfRc::NotRunning);

        // Units systemd does not know: not installed to start, stopped to stop and monitor.
        let r = run(op("systemd:nosuch", "start")).await;
        assert_eq!((r.rc, r.status), (OcfRc::NotInstalled, ExecStatus::NotInstalled));
        assert_eq!(
            r.exit_reason.as_deref(),
            Some("systemd unit nosuch.service not found (LoadState=not-found)")
        );
        assert_eq!(run(op("systemd:nosuch", "stop")).await.rc, OcfRc::Ok);
        assert_eq!(run(op("systemd:nosuch", "monitor")).await.rc, OcfRc::NotRunning);

        // A job that fails.
        let r = run(op("systemd:broken", "start")).await;
        assert_eq!(r.rc, OcfRc::Error);
        assert_eq!(
            r.exit_reason.as_deref(),
            Some("systemd start job for broken.service failed with result 'failed'")
        );

        // Unsupported action.
        let r = run(op("systemd:web", "promote")).await;
        assert_eq!((r.rc, r.status), (OcfRc::Unimplemented, ExecStatus::NotSupported));

        // Listing, service resolution and meta-data.
        assert_eq!(runner.list_agents(Class::Systemd, None).await.unwrap(), ["data.mount", "web"]);
        assert_eq!(runner.resolve_service("web").await, Some(Class::Systemd));
        assert_eq!(runner.resolve_service("nosuch").await, None);
        assert_eq!(run(op("service:web", "start")).await.rc, OcfRc::Ok);
        let md = runner.metadata(&"systemd:web".parse().unwrap()).await.unwrap();
        let md = tandem_exec::AgentMetadata::parse("systemd:web", &md).unwrap();
        assert_eq!(md.longdesc, "Web server");
        assert_eq!(md.advice("start", None, None).unwrap().timeout.as_deref(), Some("100"));
    });
}

#[test]
fn systemd_without_a_bus_is_an_error_not_a_hang() {
    let dir = TempDir::new("tdm-nobus");
    let runner = Runner::new(ExecConfig {
        systemd: SystemdConfig {
            bus: Bus::Address(format!("unix:path={}/nobus", dir.path().display())),
            ..SystemdConfig::default()
        },
        ..ExecConfig::default()
    });
    let req = OpRequest::new("r", "systemd:web".parse().unwrap(), "monitor");
    let r = common::rt().block_on(runner.run(&req, std::future::pending()));
    assert_eq!((r.rc, r.status), (OcfRc::Error, ExecStatus::Error));
    assert!(
        r.exit_reason
            .unwrap()
            .starts_with("no D-Bus connection to systemd:")
    );
}
