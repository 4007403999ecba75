//! Agent actions run inside the executor's own process, on a thread, instead of as a child.
//!
//! The `tandem` binary that runs the daemon *is* Tandem's built-in agents: `ocf:tandem:IPaddr`
//! and friends are symlinks to it. Forking and executing that binary for each monitor — a
//! 77 MB executable loaded, linked and torn down every few seconds — is most of what an idle
//! node spends on its resources. A driver that knows it can run an agent's action itself
//! hands the runner an [`InProcess`]; the runner then calls it for the actions it takes.
//!
//! ```text
//!  ocf::run ── path checked, OCF environment built (exactly as for a child) ──┐
//!     │                                                                       │
//!     │ InProcess::handles(path, agent, action)?                              │
//!     ├── no, or MAX_IN_PROCESS_RUNNING busy ──▶ the agent's process, as ever │
//!     └── yes ──▶ a thread runs InProcess::run(env) ──▶ exit code + stdout/stderr
//!                  │                                     (read as a child's would be)
//!                  └─ the operation's timeout and cancellation apply as to a process
//! ```
//!
//! What it must not change: the result. The environment is the one a child would get (the
//! executor's own, OCF variables scrubbed, then the operation's), and the answer goes
//! through the same translation as a process's exit (exit code map, `ocf-exit-reason:` on
//! stderr, output limits). A thread cannot be killed: an action that outlives its timeout is
//! reported as timed out and keeps its slot until it returns; while
//! [`MAX_IN_PROCESS_RUNNING`] slots are taken, actions run as processes again, so a stuck
//! agent never blocks the others.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::oneshot;

use crate::env::is_scrubbed;
use crate::process::{Exit, Outcome};
use crate::types::AgentId;

/// Actions running in-process at once; beyond this they run as processes.
pub const MAX_IN_PROCESS_RUNNING: usize = 4;

/// The exit code reported for an in-process action that panicked (what a Rust program
/// exits with after a panic).
pub const PANIC_EXIT_CODE: i32 = 101;

/// What an in-process action returned: as a process would have exited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InProcessExit {
    /// The exit code.
    pub code: i32,
    /// What it would have written to standard output.
    pub stdout: String,
    /// What it would have written to standard error (exit reason included).
    pub stderr: String,
}

/// Agents whose actions the executor may run without a process.
pub trait InProcess: Send + Sync + 'static {
    /// Whether `action` of `agent`, installed at `path`, runs in-process. Called for every
    /// operation: keep it cheap.
    fn handles(&self, path: &Path, agent: &AgentId, action: &str) -> bool;

    /// Runs it with `env` — its whole environment — and returns how it ended. Runs on a
    /// thread of its own and may block.
    fn run(&self, agent: &AgentId, action: &str, env: &[(String, String)]) -> InProcessExit;
}

impl std::fmt::Debug for dyn InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

/// An [`InProcess`] with its slots, as the runner holds it.
#[derive(Clone)]
pub(crate) struct InProcessAgents {
    agents: Arc<dyn InProcess>,
    running: Arc<AtomicUsize>,
}

impl InProcessAgents {
    pub(crate) fn new(agents: Arc<dyn InProcess>) -> InProcessAgents {
        InProcessAgents {
            agents,
            running: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `action` in-process if it is handled and a slot is free; `None` means "run the
    /// process". `ocf_env` is the operation's OCF environment.
    pub(crate) async fn run(
        &self,
        path: &Path,
        agent: &AgentId,
        action: &str,
        ocf_env: &[(String, String)],
        timeout: Duration,
        cancel: impl Future<Output = ()>,
    ) -> Option<Outcome> {
        if !self.agents.handles(path, agent, action) {
            return None;
        }
        let slot = Slot::take(&self.running)?;
        let env = child_environment(ocf_env);
        let started = SystemTime::now();
        let t0 = Instant::now();
        let (tx, rx) = oneshot::channel();
        let agents = Arc::clone(&self.agents);
        let (agent_id, action_name) = (agent.clone(), action.to_string());
        let spawned = std::thread::Builder::new()
            .name("agent".into())
            .spawn(move || {
                let _slot = slot;
                let exit = catch_unwind(AssertUnwindSafe(|| {
                    agents.run(&agent_id, &action_name, &env)
                }))
                .unwrap_or_else(|panic| InProcessExit {
                    code: PANIC_EXIT_CODE,
                    stdout: String::new(),
                    stderr: format!("the agent panicked: {}\n", panic_message(&*panic)),
                });
                let _ = tx.send(exit);
            });
        if spawned.is_err() {
            return None; // no thread today: the process way still works
        }
        tokio::pin!(cancel);
        let (exit, stdout, stderr) = tokio::select! {
            r = rx => match r {
                Ok(e) => (Exit::Code(e.code), e.stdout.into_bytes(), e.stderr.into_bytes()),
                // The thread ended without an answer: only if sending itself failed.
                Err(_) => (Exit::Code(PANIC_EXIT_CODE), Vec::new(), Vec::new()),
            },
            _ = tokio::time::sleep(timeout) => (Exit::TimedOut, Vec::new(), Vec::new()),
            _ = &mut cancel => (Exit::Cancelled, Vec::new(), Vec::new()),
        };
        Some(Outcome {
            exit,
            stdout,
            stderr,
            truncated: false,
            started,
            duration: t0.elapsed(),
        })
    }

    /// Actions running in-process now (tests).
    #[cfg(test)]
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }
}

/// One of [`MAX_IN_PROCESS_RUNNING`] slots, given back when dropped (by the thread, when the
/// action returns — not when its caller stops waiting).
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(running: &Arc<AtomicUsize>) -> Option<Slot> {
        running
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_IN_PROCESS_RUNNING).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(running)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The environment a child would get: the executor's own without the scrubbed variables,
/// then `ocf_env` (which wins).
fn child_environment(ocf_env: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| !is_scrubbed(k) && !ocf_env.iter().any(|(o, _)| o == k))
        .collect();
    env.extend(ocf_env.iter().cloned());
    env
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc;

    /// A fake in-process agent (unit tests): answers `monitor` of `ocf:fake:A` with what
    /// `reply` says, after waiting for `gate` when one is set.
    struct FakeAgents {
        reply: InProcessExit,
        gate: Mutex<Option<mpsc::Receiver<()>>>,
        seen_env: Mutex<Vec<(String, String)>>,
    }

    impl InProcess for FakeAgents {
        fn handles(&self, _path: &Path, agent: &AgentId, action: &str) -> bool {
            agent.provider.as_deref() == Some("fake") && action == "monitor"
        }
        fn run(&self, _agent: &AgentId, action: &str, env: &[(String, String)]) -> InProcessExit {
            if let Some(gate) = self.gate.lock().expect("lock").take() {
                let _ = gate.recv();
            }
            if action == "monitor" && env.iter().any(|(k, v)| k == "PANIC" && v == "1") {
                panic!("asked to");
            }
            *self.seen_env.lock().expect("lock") = env.to_vec();
            self.reply.clone()
        }
    }

    fn fake(reply: InProcessExit) -> Arc<FakeAgents> {
        Arc::new(FakeAgents {
            reply,
            gate: Mutex::new(None),
            seen_env: Mutex::new(Vec::new()),
        })
    }

    /// A fake whose agent waits until the returned sender sends (or is dropped).
    fn gated() -> (Arc<FakeAgents>, mpsc::Sender<()>) {
        let (open, gate) = mpsc::channel();
        let f = fake(InProcessExit::default());
        *f.gate.lock().expect("lock") = Some(gate);
        (f, open)
    }

    fn agent() -> AgentId {
        AgentId::ocf("fake", "A").expect("valid")
    }

    /// Runs `action` of `ocf:fake:A` through `ip` on a runtime of its own.
    fn run(
        ip: &InProcessAgents,
        action: &str,
        env: &[(String, String)],
        timeout: Duration,
        cancel: impl Future<Output = ()>,
    ) -> Option<Outcome> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(ip.run(Path::new("/x"), &agent(), action, env, timeout, cancel))
    }

    /// Waits (at most 10 s) until every slot is free again.
    fn wait_until_idle(ip: &InProcessAgents) {
        let t0 = Instant::now();
        while ip.running() != 0 {
            assert!(t0.elapsed() < Duration::from_secs(10), "the slot came back");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn runs_what_it_handles_with_a_childs_environment() {
        let f = fake(InProcessExit {
            code: 7,
            stdout: "out".into(),
            stderr: "ocf-exit-reason:gone\n".into(),
        });
        let ip = InProcessAgents::new(f.clone());
        let env = vec![
            ("OCF_RESKEY_ip".to_string(), "10.0.0.1".to_string()),
            ("PATH".to_string(), "/only/this".to_string()),
        ];
        let long = Duration::from_secs(5);
        let o = run(&ip, "monitor", &env, long, std::future::pending()).expect("handled");
        assert_eq!(o.exit, Exit::Code(7));
        assert_eq!(o.stdout, b"out");
        assert_eq!(o.stderr, b"ocf-exit-reason:gone\n");
        let seen = f.seen_env.lock().expect("lock").clone();
        let get = |k: &str| -> Vec<&str> {
            seen.iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(get("OCF_RESKEY_ip"), ["10.0.0.1"]);
        assert_eq!(
            get("PATH"),
            ["/only/this"],
            "the operation's value wins, once"
        );
        assert!(
            seen.iter()
                .all(|(k, _)| !is_scrubbed(k) || k.starts_with("OCF_RESKEY_ip"))
        );
        // Not handled: the caller runs the process.
        assert!(run(&ip, "start", &env, long, std::future::pending()).is_none());
        assert_eq!(ip.running(), 0);
    }

    #[test]
    fn a_stuck_action_times_out_keeps_its_slot_and_full_slots_mean_processes() {
        let (f, open) = gated();
        let ip = InProcessAgents::new(f);
        let monitor = |timeout_ms| {
            run(
                &ip,
                "monitor",
                &[],
                Duration::from_millis(timeout_ms),
                std::future::pending(),
            )
        };
        let o = monitor(50).expect("handled");
        assert_eq!(o.exit, Exit::TimedOut);
        assert_eq!(ip.running(), 1, "the stuck thread holds its slot");
        // Fill the other slots by hand: the next action goes to a process.
        let held: Vec<Slot> = (1..MAX_IN_PROCESS_RUNNING)
            .map(|_| Slot::take(&ip.running).expect("a free slot"))
            .collect();
        assert!(monitor(1000).is_none());
        drop(held);
        open.send(()).expect("the stuck thread waits");
        wait_until_idle(&ip);
        assert_eq!(monitor(1000).expect("handled").exit, Exit::Code(0));
    }

    #[test]
    fn a_panic_is_an_exit_code_and_a_cancel_is_a_cancel() {
        let ip = InProcessAgents::new(fake(InProcessExit::default()));
        let env = vec![("PANIC".to_string(), "1".to_string())];
        let long = Duration::from_secs(5);
        let o = run(&ip, "monitor", &env, long, std::future::pending()).expect("handled");
        assert_eq!(o.exit, Exit::Code(PANIC_EXIT_CODE));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "the agent panicked: asked to\n"
        );
        // Cancelled while the agent is still busy: a cancel, and the slot comes back when
        // the agent returns.
        let (f, open) = gated();
        let ip = InProcessAgents::new(f);
        let o = run(&ip, "monitor", &[], long, std::future::ready(())).expect("handled");
        assert_eq!(o.exit, Exit::Cancelled);
        assert_eq!(ip.running(), 1);
        open.send(()).expect("the thread waits");
        wait_until_idle(&ip);
    }
}
