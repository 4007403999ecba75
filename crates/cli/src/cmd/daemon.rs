//! `tandem daemon`: run this node's cluster layer until SIGTERM.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

#[derive(Args, Debug)]
pub struct DaemonArgs {
    /// corosync.conf to use (default /etc/tandem/corosync.conf, else /etc/corosync/corosync.conf).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Shared key (default /etc/tandem/authkey, else /etc/corosync/authkey).
    #[arg(long, value_name = "FILE")]
    pub authkey: Option<PathBuf>,
    /// Persistent state (the highest ring id used).
    #[arg(long, value_name = "DIR", default_value = tandem_daemon::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
    /// This node's id, when it cannot be found from the host name or addresses
    /// (several nodes on one host, e.g. 127.0.0.1-3).
    #[arg(long, value_name = "N")]
    pub node_id: Option<u32>,
    /// Where OCF resource agents live (default /usr/lib/ocf).
    #[arg(long, value_name = "DIR", env = "OCF_ROOT")]
    pub ocf_root: Option<PathBuf>,
    /// Do not ask for realtime scheduling (by default the daemon runs SCHED_RR when
    /// permitted, so busy CPUs do not delay its heartbeats; like corosync -p).
    #[arg(long)]
    pub no_realtime: bool,
}

pub fn run(a: DaemonArgs, run_dir: PathBuf) -> anyhow::Result<ExitCode> {
    tandem_daemon::run(tandem_daemon::DaemonOptions {
        config: a.config,
        authkey: a.authkey,
        state_dir: a.state_dir,
        run_dir,
        node_id: a.node_id,
        ocf_root: a.ocf_root,
        realtime: !a.no_realtime,
        in_process: BuiltinAgents::of_this_binary()
            .map(|b| Arc::new(b) as Arc<dyn tandem_exec::InProcess>),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The built-in agents (`ocf:tandem:*`) as the daemon's executor runs them in-process: this
/// binary is those agents (`main` dispatches on the name it is run under), so when the
/// installed agent *is* this binary — the same file, not merely the same name — running its
/// monitor on a thread gives the answer a child would, without loading a 77 MB executable
/// every few seconds. Anything else (another file installed under the name, an upgraded
/// binary on disk that this older process is not) runs as a process.
struct BuiltinAgents {
    /// Device and inode of the running executable.
    exe: (u64, u64),
}

impl BuiltinAgents {
    fn of_this_binary() -> Option<BuiltinAgents> {
        let m = std::fs::metadata("/proc/self/exe").ok()?;
        Some(BuiltinAgents {
            exe: (m.dev(), m.ino()),
        })
    }
}

impl tandem_exec::InProcess for BuiltinAgents {
    fn handles(&self, path: &Path, agent: &tandem_exec::AgentId, action: &str) -> bool {
        agent.provider.as_deref() == Some(tandem_agents::PROVIDER)
            && tandem_agents::runs_in_process(&agent.kind, action)
            && std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == self.exe)
    }

    fn run(
        &self,
        agent: &tandem_exec::AgentId,
        action: &str,
        env: &[(String, String)],
    ) -> tandem_exec::InProcessExit {
        let env = tandem_agents::ocf::Env::from_owned(env);
        let (code, stderr) = tandem_agents::run_captured(&agent.kind, action, &env);
        tandem_exec::InProcessExit {
            code,
            stdout: String::new(),
            stderr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_exec::{AgentId, InProcess};

    /// Only the built-in agents' monitors, and only when the installed file is this very
    /// executable, run in-process; what they answer is what the agent process would.
    #[test]
    fn runs_in_process_only_this_binarys_own_monitors() {
        let dir = std::env::temp_dir().join(format!("tandem-inproc-{}", std::process::id()));
        let agents = dir.join("resource.d/tandem");
        std::fs::create_dir_all(&agents).expect("temp dir");
        let exe = std::env::current_exe().expect("the test binary");
        let ours = agents.join("process");
        std::os::unix::fs::symlink(&exe, &ours).expect("link");
        let other = agents.join("IPaddr");
        std::os::unix::fs::symlink("/bin/sh", &other).expect("link");
        let b = BuiltinAgents::of_this_binary().expect("/proc/self/exe");
        let id = |provider: &str, kind: &str| AgentId::ocf(provider, kind).expect("valid");
        assert!(b.handles(&ours, &id("tandem", "process"), "monitor"));
        assert!(!b.handles(&ours, &id("tandem", "process"), "start"));
        assert!(!b.handles(&ours, &id("heartbeat", "process"), "monitor"));
        assert!(
            !b.handles(&other, &id("tandem", "IPaddr"), "monitor"),
            "not us"
        );
        assert!(!b.handles(&dir.join("missing"), &id("tandem", "process"), "monitor"));

        let pidfile = dir.join("svc.pid");
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let exit = b.run(
            &id("tandem", "process"),
            "monitor",
            &env(&[
                ("OCF_RESKEY_binfile", "/bin/true"),
                ("OCF_RESKEY_pidfile", pidfile.to_str().expect("utf-8")),
            ]),
        );
        assert_eq!(
            exit,
            tandem_exec::InProcessExit {
                code: 7,
                ..Default::default()
            }
        );
        let exit = b.run(
            &id("tandem", "IPaddr"),
            "monitor",
            &env(&[("OCF_EXIT_REASON_PREFIX", "ocf-exit-reason:")]),
        );
        assert_eq!(exit.code, 6);
        assert!(
            exit.stderr.starts_with("ocf-exit-reason:") && exit.stderr.ends_with('\n'),
            "{exit:?}"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
