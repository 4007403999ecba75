//! Running one agent process: spawn in its own process group, capture output up to a limit,
//! kill the whole group at the timeout.
//!
//! ```text
//!  spawn (posix_spawn + setpgid(0,0): no fork of the threaded executor)
//!    │  stdout, stderr ──▶ capped buffers (the rest is read and dropped: never block the agent)
//!    │  stdin ◀── parameters (fence agents)
//!    ├─ exits ───────────────▶ read what is left in the pipes, done (background children live on)
//!    ├─ timeout / cancel ────▶ SIGTERM to the group ─(grace)─▶ SIGKILL to the group ─▶ reap
//!    └─ future dropped ──────▶ SIGKILL to the group
//! ```
//!
//! After the agent exits, only what is already in the pipes is read: a background child that
//! inherited them (IPaddr2's `send_arp &`) must not hold the operation open.

use std::ffi::OsString;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, SystemTime};

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep_until, timeout};

use crate::env::is_scrubbed;
use crate::reaper;

/// The most output kept per stream (stdout and stderr each). Large enough for the biggest
/// meta-data we know of (fence agents and IPaddr2 print 15–60 KB); small enough that many
/// agents flooding their output at once cannot exhaust the executor's memory.
pub const MAX_OUTPUT_BYTES: usize = 512 * 1024;

/// Default time between SIGTERM and SIGKILL when an agent times out: long enough for a
/// well-behaved agent to clean up, short enough not to delay recovery much.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(2);

/// How long to wait for the killed agent to be reaped after SIGKILL. SIGKILL cannot be
/// caught; only a process stuck in uninterruptible sleep (a hung NFS mount) outlives this.
pub const MAX_WAIT_AFTER_KILL: Duration = Duration::from_secs(10);

/// The most reads of 16 KiB in the final drain of a pipe after the agent exited (4 MiB, well
/// above any pipe's capacity, so only a writer that outlived the agent is cut short).
const MAX_FINAL_READS: usize = 256;

/// How long to wait, after the agent itself is gone, for the rest of its killed process group
/// to die so it can be reaped (SIGKILL is delivered asynchronously).
pub const MAX_WAIT_FOR_GROUP: Duration = Duration::from_secs(2);

/// The most bytes read from a pipe per wake-up, so a flooding agent cannot starve the
/// timeout and the other pipe.
const MAX_READ_PER_WAKE: usize = 256 * 1024;

/// What to run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments (argv[1..]).
    pub args: Vec<OsString>,
    /// Variables added to the executor's environment (from which OCF variables of other
    /// resources are removed first).
    pub env: Vec<(String, String)>,
    /// Bytes written to standard input, which is then closed; `None` for `/dev/null`.
    pub stdin: Option<Vec<u8>>,
    /// How long the process may run.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// The most bytes kept per output stream.
    pub output_limit: usize,
}

impl Invocation {
    /// An invocation with no extra environment, no input and the default limits.
    pub fn new(program: impl Into<PathBuf>, args: &[&str], timeout: Duration) -> Invocation {
        Invocation {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
            env: Vec::new(),
            stdin: None,
            timeout,
            kill_grace: DEFAULT_KILL_GRACE,
            output_limit: MAX_OUTPUT_BYTES,
        }
    }
}

/// How the process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal (not by us).
    Signal(i32),
    /// It could not be started.
    SpawnFailed {
        /// The error kind (`NotFound`, `PermissionDenied`, ...).
        kind: io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
    /// It ran out of time; its process group was killed.
    TimedOut,
    /// It was cancelled; its process group was killed.
    Cancelled,
}

/// The result of running a process.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub exit: Exit,
    /// Its standard output, up to the limit.
    pub stdout: Vec<u8>,
    /// Its standard error, up to the limit.
    pub stderr: Vec<u8>,
    /// True if either stream went over the limit.
    pub truncated: bool,
    /// When it was started.
    pub started: SystemTime,
    /// How long it ran.
    pub duration: Duration,
}

/// Runs `inv` to completion, timeout, or until `cancel` resolves.
pub async fn run(inv: Invocation, cancel: impl Future<Output = ()>) -> Outcome {
    let started = SystemTime::now();
    let t0 = Instant::now();
    let mut cmd = command(&inv);
    let mut child = match reaper::spawn_tracked(&mut cmd) {
        Ok(child) => child,
        Err(e) => {
            return Outcome {
                exit: Exit::SpawnFailed {
                    kind: e.kind(),
                    message: e.to_string(),
                },
                stdout: Vec::new(),
                stderr: Vec::new(),
                truncated: false,
                started,
                duration: t0.elapsed(),
            };
        }
    };
    let pid = child
        .id()
        .expect("a child that has not been waited for has a pid");
    let mut guard = GroupGuard::new(pid);
    if let (Some(data), Some(mut stdin)) = (inv.stdin, child.stdin.take()) {
        // A task, so an agent that never reads its input cannot block us on a full pipe.
        tokio::spawn(async move {
            let _ = stdin.write_all(&data).await;
        });
    }
    let mut out = Capture::new(
        child.stdout.take().map(|s| s.into_owned_fd()),
        inv.output_limit,
    );
    let mut err = Capture::new(
        child.stderr.take().map(|s| s.into_owned_fd()),
        inv.output_limit,
    );
    let deadline = t0 + inv.timeout;
    tokio::pin!(cancel);
    let exit = loop {
        tokio::select! {
            status = child.wait() => break exit_of(status),
            _ = readable(&out), if out.is_open() => out.drain(),
            _ = readable(&err), if err.is_open() => err.drain(),
            _ = sleep_until(deadline) => {
                terminate(&mut child, &guard, inv.kill_grace).await;
                break Exit::TimedOut;
            }
            _ = &mut cancel => {
                terminate(&mut child, &guard, inv.kill_grace).await;
                break Exit::Cancelled;
            }
        }
    };
    guard.disarm();
    reaper::untrack(pid);
    out.drain_final();
    err.drain_final();
    Outcome {
        exit,
        truncated: out.truncated || err.truncated,
        stdout: out.buf,
        stderr: err.buf,
        started,
        duration: t0.elapsed(),
    }
}

fn command(inv: &Invocation) -> Command {
    let mut cmd = Command::new(&inv.program);
    cmd.args(&inv.args)
        // A group of its own: the whole agent, helpers included, can be signalled at once.
        // Unlike setsid() in a pre_exec hook this keeps std's posix_spawn path.
        .process_group(0)
        .stdin(if inv.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str()
            && is_scrubbed(name)
        {
            cmd.env_remove(name);
        }
    }
    cmd.envs(inv.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

fn exit_of(status: io::Result<ExitStatus>) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Code(-1),
        },
        Err(e) => Exit::SpawnFailed {
            kind: e.kind(),
            message: format!("waiting for the agent failed: {e}"),
        },
    }
}

/// SIGTERM to the group, up to `grace` for the leader to exit, then SIGKILL to the group
/// (always: members that ignored SIGTERM, or outlived the leader, go too), then reap.
async fn terminate(child: &mut Child, guard: &GroupGuard, grace: Duration) {
    guard.signal(Signal::TERM);
    let _ = timeout(grace, child.wait()).await;
    guard.signal(Signal::KILL);
    let _ = timeout(MAX_WAIT_AFTER_KILL, child.wait()).await;
    if let Some(pgid) = guard.pgid {
        reaper::reap_group(pgid, MAX_WAIT_FOR_GROUP).await;
    }
}

/// Kills the agent's process group if the run is abandoned (its future dropped).
struct GroupGuard {
    pgid: Option<Pid>,
    armed: bool,
}

impl GroupGuard {
    fn new(pid: u32) -> GroupGuard {
        GroupGuard {
            pgid: i32::try_from(pid).ok().and_then(Pid::from_raw),
            armed: true,
        }
    }

    fn signal(&self, sig: Signal) {
        if let Some(pgid) = self.pgid {
            // ESRCH (the group is already gone) is the expected, good case.
            let _ = kill_process_group(pgid, sig);
        }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            self.signal(Signal::KILL);
        }
    }
}

/// One output pipe being read into a capped buffer.
struct Capture {
    rx: Option<pipe::Receiver>,
    buf: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Capture {
    fn new(fd: Option<io::Result<OwnedFd>>, limit: usize) -> Capture {
        let rx = fd
            .and_then(Result::ok)
            .and_then(|fd| pipe::Receiver::from_owned_fd(fd).ok());
        Capture {
            rx,
            buf: Vec::new(),
            limit,
            truncated: false,
        }
    }

    fn is_open(&self) -> bool {
        self.rx.is_some()
    }

    /// Reads what is available now, without waiting; closes the pipe at end of file.
    fn drain(&mut self) {
        let Some(rx) = &self.rx else { return };
        let mut chunk = [0u8; 16 * 1024];
        let mut total = 0;
        while total < MAX_READ_PER_WAKE {
            match rx.try_read(&mut chunk) {
                Ok(0) => {
                    self.rx = None;
                    return;
                }
                Ok(n) => {
                    total += n;
                    let room = self.limit.saturating_sub(self.buf.len());
                    self.buf.extend_from_slice(&chunk[..n.min(room)]);
                    if n > room {
                        self.truncated = true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.rx = None;
                    return;
                }
            }
        }
    }
}

impl Capture {
    /// Reads what is in the pipe now, straight from the descriptor: tokio only attempts a read
    /// once its reactor has seen the pipe readable, and after the agent has exited nothing
    /// must depend on when that happens (the exit reason is usually the last line written).
    fn drain_final(&mut self) {
        let Some(rx) = self.rx.take() else { return };
        let mut chunk = [0u8; 16 * 1024];
        // Bounded: the pipe holds at most its capacity, a writer that outlived the agent
        // must not keep us here.
        for _ in 0..MAX_FINAL_READS {
            match rustix::io::read(rx.as_fd(), &mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    let room = self.limit.saturating_sub(self.buf.len());
                    self.buf.extend_from_slice(&chunk[..n.min(room)]);
                    self.truncated |= n > room;
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return, // EAGAIN: nothing more right now
            }
        }
    }
}

async fn readable(c: &Capture) {
    match &c.rx {
        Some(rx) => {
            let _ = rx.readable().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64) -> Invocation {
        Invocation::new(
            "/bin/sh",
            &["-c", script],
            Duration::from_millis(timeout_ms),
        )
    }

    #[tokio::test]
    async fn exit_code_and_output() {
        let out = run(
            sh("echo out; echo err >&2; exit 3", 5000),
            std::future::pending(),
        )
        .await;
        assert_eq!(out.exit, Exit::Code(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert!(!out.truncated);
    }

    /// The last bytes an agent writes before exiting are never lost, however the exit and
    /// the pipe's readiness race (run many times to give the race its chances).
    #[tokio::test]
    async fn output_written_just_before_exit_is_kept() {
        for _ in 0..100 {
            let out = run(
                sh(
                    "printf out; printf 'ocf-exit-reason:tail' >&2; exit 1",
                    5000,
                ),
                std::future::pending(),
            )
            .await;
            assert_eq!(out.exit, Exit::Code(1));
            assert_eq!(
                (out.stdout.as_slice(), out.stderr.as_slice()),
                (&b"out"[..], &b"ocf-exit-reason:tail"[..])
            );
        }
    }

    #[tokio::test]
    async fn killed_by_signal() {
        let out = run(sh("kill -USR1 $$", 5000), std::future::pending()).await;
        assert_eq!(out.exit, Exit::Signal(libc_sigusr1()));
    }

    fn libc_sigusr1() -> i32 {
        Signal::USR1.as_raw()
    }

    #[tokio::test]
    async fn missing_program() {
        let out = run(
            Invocation::new("/nonexistent/agent", &[], Duration::from_secs(1)),
            std::future::pending(),
        )
        .await;
        match out.exit {
            Exit::SpawnFailed { kind, .. } => assert_eq!(kind, io::ErrorKind::NotFound),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn stdin_and_environment_are_delivered() {
        let mut inv = sh("cat; echo \"[$X]\"", 5000);
        inv.stdin = Some(b"action=status\n".to_vec());
        inv.env.push(("X".into(), "y z".into()));
        let out = run(inv, std::future::pending()).await;
        assert_eq!(out.exit, Exit::Code(0));
        assert_eq!(out.stdout, b"action=status\n[y z]\n");
    }

    #[tokio::test]
    async fn cancel_kills_the_group() {
        let started = Instant::now();
        let out = run(
            sh("sleep 30", 60_000),
            tokio::time::sleep(Duration::from_millis(100)),
        )
        .await;
        assert_eq!(out.exit, Exit::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
