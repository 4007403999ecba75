//! `ocf:tandem:process`: keeps an arbitrary command running — a daemon that has no systemd
//! unit or init script (the `ocf:heartbeat:anything` use case), without a shell: the command
//! line is split into words by the rules of POSIX shell quoting, and nothing is expanded.
//!
//! The process runs in its own process group with stdin from `/dev/null` and its output
//! appended to `logfile`/`errlogfile`. The pid file holds the pid and the process's start
//! time (from `/proc/PID/stat`), so a recycled pid is never mistaken for the service.
//! `stop` sends SIGTERM to the group, waits up to `stop_timeout`, then sends SIGKILL.
//! `watch` (Tandem's executor runs it beside the recurring monitor) returns as soon as the
//! process exits, so its failure is reported at once rather than at the next monitor.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Pid, PidfdFlags, Signal, kill_process_group, pidfd_open};

use crate::dummy::{check_state_path, remove_state};
use crate::ocf::{
    ActionSpec, Agent, Env, Failure, MetaData, Outcome, ParamSpec, log, number_param, rc,
};

/// How long `start` watches the new process before declaring it started: a command that
/// fails at once (bad option, missing file) exits within this and the start fails with its
/// exit status instead of succeeding and failing the first monitor.
pub const START_SETTLE: Duration = Duration::from_millis(200);

/// How often `watch` looks at the process where the kernel has no pidfds.
pub const WATCH_POLL: Duration = Duration::from_millis(100);

/// How often `stop` looks whether the process is gone where the kernel has no pidfds (with
/// one, `stop` learns of the exit as it happens).
pub const STOP_POLL: Duration = Duration::from_millis(10);

/// The longest command line accepted (in words): a bound on a parameter that becomes argv.
pub const MAX_ARGS: usize = 4096;

/// The process agent.
pub struct ProcessAgent;

/// Splits a command line into words as a POSIX shell would, without expanding anything:
/// `'single quotes'`, `"double quotes"` (where `\` escapes `"`, `\`, `$` and `` ` ``), and
/// `\` outside quotes.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(ch) => word.push(ch),
                    None => return Err("trailing backslash".into()),
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
        if words.len() > MAX_ARGS {
            return Err(format!("more than {MAX_ARGS} words"));
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The configuration, checked.
struct Config {
    binfile: PathBuf,
    args: Vec<String>,
    workdir: PathBuf,
    user: Option<(u32, u32)>,
    pidfile: PathBuf,
    logfile: PathBuf,
    errlogfile: PathBuf,
    stop_timeout: Duration,
}

/// A user's uid and gid from `/etc/passwd`.
fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 4 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

impl Config {
    fn read(env: &Env) -> Result<Config, Failure> {
        let binfile = env
            .param("binfile")
            .ok_or_else(|| Failure::configured("parameter binfile is required"))?;
        let args = split_words(env.param("cmdline_options").unwrap_or(""))
            .map_err(|e| Failure::configured(format!("parameter cmdline_options: {e}")))?;
        let user = match env.param("user") {
            None => None,
            Some(u) => Some(
                lookup_user(u)
                    .ok_or_else(|| Failure::configured(format!("user {u} does not exist")))?,
            ),
        };
        let logfile = PathBuf::from(env.param("logfile").unwrap_or("/dev/null"));
        // Default: 80% of the stop timeout the cluster gave, so SIGKILL comes before the
        // executor gives up on the stop itself.
        let default_stop_secs = env
            .timeout_ms()
            .map_or(20, |ms| (ms * 8 / 10 / 1000).max(1));
        Ok(Config {
            binfile: PathBuf::from(binfile),
            args,
            workdir: PathBuf::from(env.param("workdir").unwrap_or("/")),
            user,
            pidfile: env
                .param("pidfile")
                .map(PathBuf::from)
                .unwrap_or_else(|| env.rsctmp().join(format!("process-{}.pid", env.instance()))),
            errlogfile: env
                .param("errlogfile")
                .map_or_else(|| logfile.clone(), PathBuf::from),
            logfile,
            stop_timeout: Duration::from_secs(number_param(
                env,
                "stop_timeout",
                default_stop_secs,
            )?),
        })
    }

    /// Checks what must be true to start; `Failure` with the right OCF code otherwise.
    fn validate(&self) -> Result<(), Failure> {
        if !self.binfile.is_absolute() {
            return Err(Failure::configured(format!(
                "binfile {} must be an absolute path",
                self.binfile.display()
            )));
        }
        let executable = std::fs::metadata(&self.binfile).is_ok_and(|m| {
            m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
        });
        if !executable {
            return Err(Failure::new(
                rc::ERR_INSTALLED,
                format!("{} is not an executable file", self.binfile.display()),
            ));
        }
        if !self.workdir.is_dir() {
            return Err(Failure::configured(format!(
                "workdir {} is not a directory",
                self.workdir.display()
            )));
        }
        check_state_path(&self.pidfile)
    }
}

/// The pid and start time of the running service, if it runs.
fn running(pidfile: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(pidfile).ok()?;
    let mut fields = text.split_whitespace();
    let pid: i32 = fields.next()?.parse().ok()?;
    let start: u64 = fields.next()?.parse().ok()?;
    let stat = proc_stat(pid)?;
    (stat.1 == start && stat.0 != 'Z' && stat.0 != 'X').then_some(pid)
}

/// State and start time of a process, from `/proc/PID/stat`.
pub fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((
        fields.first()?.chars().next()?,
        fields.get(19)?.parse().ok()?,
    ))
}

fn start(cfg: &Config, env: &Env) -> Outcome {
    if running(&cfg.pidfile).is_some() {
        return Ok(rc::SUCCESS);
    }
    cfg.validate()?;
    let open = |p: &Path| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .map_err(|e| Failure::configured(format!("cannot open log file {}: {e}", p.display())))
    };
    let mut cmd = Command::new(&cfg.binfile);
    cmd.args(&cfg.args)
        .current_dir(&cfg.workdir)
        .stdin(Stdio::null())
        .stdout(open(&cfg.logfile)?)
        .stderr(open(&cfg.errlogfile)?)
        // Its own group: stop signals the service and its children, and the executor's
        // timeout kill of a later operation does not reach it.
        .process_group(0);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|n| n.starts_with("OCF_")) {
            cmd.env_remove(name);
        }
    }
    if let Some((uid, gid)) = cfg.user {
        cmd.uid(uid).gid(gid);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::generic(format!("cannot start {}: {e}", cfg.binfile.display())))?;
    let pid = i32::try_from(child.id()).map_err(|_| Failure::generic("pid out of range"))?;
    let deadline = Instant::now() + START_SETTLE;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Failure::generic(format!(
                "{} exited at once: {status}",
                cfg.binfile.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let start_ticks = proc_stat(pid)
        .map(|s| s.1)
        .ok_or_else(|| Failure::generic("the process vanished"))?;
    std::fs::write(&cfg.pidfile, format!("{pid} {start_ticks}\n")).map_err(|e| {
        Failure::generic(format!(
            "cannot write pid file {}: {e}",
            cfg.pidfile.display()
        ))
    })?;
    log(
        "process",
        env,
        "INFO",
        &format!("started {} as pid {pid}", cfg.binfile.display()),
    );
    Ok(rc::SUCCESS)
}

fn stop(cfg: &Config, env: &Env) -> Outcome {
    if let Some(pid) = running(&cfg.pidfile)
        && let Some(group) = Pid::from_raw(pid)
    {
        // Opened before the signal, so the exit cannot be missed between the two.
        let pidfd = pidfd_open(group, PidfdFlags::empty()).ok();
        let _ = kill_process_group(group, Signal::TERM);
        wait_gone(&cfg.pidfile, pid, pidfd.as_ref(), cfg.stop_timeout);
        if running(&cfg.pidfile).is_some() {
            log(
                "process",
                env,
                "WARNING",
                &format!("pid {pid} ignored SIGTERM; sending SIGKILL"),
            );
        }
        // Always: children in the group that outlived their leader go too.
        let _ = kill_process_group(group, Signal::KILL);
        if !wait_gone(&cfg.pidfile, pid, pidfd.as_ref(), Duration::from_secs(5)) {
            return Err(Failure::generic(format!("pid {pid} survived SIGKILL")));
        }
    }
    remove_state(&cfg.pidfile)?;
    Ok(rc::SUCCESS)
}

/// Waits up to `limit` for the service `pid` (recorded in `pidfile`) to exit; whether it
/// did. With a pidfd the kernel says when it exits (an exited process that is not yet
/// reaped counts as gone, as [`running`] has it); without one, looks every [`STOP_POLL`].
fn wait_gone(
    pidfile: &Path,
    pid: i32,
    pidfd: Option<&rustix::fd::OwnedFd>,
    limit: Duration,
) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if running(pidfile) != Some(pid) {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        match pidfd {
            Some(fd) => {
                let mut fds = [PollFd::new(fd, PollFlags::IN)];
                let timeout = rustix::event::Timespec::try_from(left).ok();
                match poll(&mut fds, timeout.as_ref()) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    // The pidfd cannot be waited on: fall back to looking.
                    Err(_) => std::thread::sleep(STOP_POLL.min(left)),
                }
            }
            None => std::thread::sleep(STOP_POLL.min(left)),
        }
    }
}

/// `watch`: blocks until the process recorded in the pid file exits, then says so and
/// returns 0 (at once if it is not running). A pidfd (Linux 5.3) tells of the exit without
/// polling and whatever the process's parent; where there is none, the pid file's process
/// is checked every [`WATCH_POLL`].
fn watch(cfg: &Config) -> Outcome {
    let gone = |pid: i32| {
        println!(
            "pid {pid} ({}) is not running any more",
            cfg.binfile.display()
        );
        Ok(rc::SUCCESS)
    };
    let Some(pid) = running(&cfg.pidfile) else {
        println!(
            "{} is not running (pid file {})",
            cfg.binfile.display(),
            cfg.pidfile.display()
        );
        return Ok(rc::SUCCESS);
    };
    let pidfd = Pid::from_raw(pid).and_then(|p| pidfd_open(p, PidfdFlags::empty()).ok());
    // The pidfd is for whatever process has the pid now: check it still is the service
    // (start time in the pid file) after opening it, so a recycled pid is never watched.
    if running(&cfg.pidfile) != Some(pid) {
        return gone(pid);
    }
    match pidfd {
        Some(fd) => loop {
            let mut fds = [PollFd::new(&fd, PollFlags::IN)];
            match poll(&mut fds, None) {
                Ok(_) if !fds[0].revents().is_empty() => return gone(pid),
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Failure::generic(format!("waiting on pid {pid}: {e}"))),
            }
        },
        None => loop {
            std::thread::sleep(WATCH_POLL);
            if running(&cfg.pidfile) != Some(pid) {
                return gone(pid);
            }
        },
    }
}

impl Agent for ProcessAgent {
    fn name(&self) -> &'static str {
        "process"
    }

    fn metadata(&self) -> MetaData {
        let p = |name, required, kind, default: Option<&str>, shortdesc, longdesc| ParamSpec {
            name,
            required,
            unique: false,
            kind,
            default: default.map(str::to_string),
            shortdesc,
            longdesc,
        };
        MetaData {
            name: "process",
            version: "1.0",
            shortdesc: "Keeps an arbitrary command running",
            longdesc: "Runs a command as a cluster resource: for daemons that have no systemd unit \
                       or init script. The command line is split into words with shell quoting \
                       rules but never passed to a shell. The process runs in its own process \
                       group; stop sends SIGTERM to the group, then SIGKILL after stop_timeout.",
            params: vec![
                p(
                    "binfile",
                    true,
                    "string",
                    None,
                    "Full path of the program",
                    "The program to run, as an absolute path.",
                ),
                p(
                    "cmdline_options",
                    false,
                    "string",
                    None,
                    "Command line arguments",
                    "Arguments, split like a shell would (quotes, backslashes) but never expanded.",
                ),
                p(
                    "workdir",
                    false,
                    "string",
                    Some("/"),
                    "Working directory",
                    "The directory the program runs in.",
                ),
                p(
                    "user",
                    false,
                    "string",
                    None,
                    "User to run as",
                    "Run the program as this user (and its primary group).",
                ),
                p(
                    "pidfile",
                    false,
                    "string",
                    Some("$HA_RSCTMP/process-$OCF_RESOURCE_INSTANCE.pid"),
                    "Pid file",
                    "Where the agent records the process it started.",
                ),
                p(
                    "logfile",
                    false,
                    "string",
                    Some("/dev/null"),
                    "Output file",
                    "Standard output is appended here.",
                ),
                p(
                    "errlogfile",
                    false,
                    "string",
                    None,
                    "Error output file",
                    "Standard error is appended here (default: logfile).",
                ),
                p(
                    "stop_timeout",
                    false,
                    "integer",
                    None,
                    "Seconds before SIGKILL",
                    "How long stop waits after SIGTERM (default: 80% of the stop timeout).",
                ),
            ],
            actions: vec![
                ActionSpec::new("start", "20s"),
                ActionSpec::new("stop", "20s"),
                ActionSpec::every("monitor", "20s", "10s"),
                ActionSpec::new("meta-data", "5s"),
                ActionSpec::new("validate-all", "20s"),
                ActionSpec::new("methods", "5s"),
            ],
        }
    }

    fn watches(&self) -> bool {
        true
    }

    fn run(&self, action: &str, env: &Env) -> Outcome {
        let cfg = Config::read(env)?;
        match action {
            "start" => start(&cfg, env),
            "stop" => stop(&cfg, env),
            "watch" => watch(&cfg),
            "monitor" | "status" => Ok(if running(&cfg.pidfile).is_some() {
                rc::SUCCESS
            } else {
                rc::NOT_RUNNING
            }),
            "validate-all" => cfg.validate().map(|()| rc::SUCCESS),
            _ => Ok(rc::ERR_UNIMPLEMENTED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_splitting() {
        let ok = [
            ("", vec![]),
            ("  a  b ", vec!["a", "b"]),
            (
                "-c 'x y' \"a \\\"b\\\" \\n\" c\\ d",
                vec!["-c", "x y", "a \"b\" \\n", "c d"],
            ),
            (
                "$(rm -rf /) `id` ;|&",
                vec!["$(rm", "-rf", "/)", "`id`", ";|&"],
            ),
            ("''", vec![""]),
        ];
        for (line, want) in ok {
            assert_eq!(split_words(line).unwrap(), want, "{line}");
        }
        assert_eq!(
            split_words("'open").unwrap_err(),
            "unterminated single quote"
        );
        assert_eq!(
            split_words("\"open").unwrap_err(),
            "unterminated double quote"
        );
        assert_eq!(split_words("x\\").unwrap_err(), "trailing backslash");
    }

    #[test]
    fn start_monitor_stop_a_sleep() {
        let dir = std::env::temp_dir().join(format!("tandem-process-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("p.pid");
        let env = Env::from_pairs(&[
            ("OCF_RESKEY_binfile", "/bin/sleep"),
            ("OCF_RESKEY_cmdline_options", "300"),
            ("OCF_RESKEY_pidfile", pidfile.to_str().unwrap()),
            ("OCF_RESKEY_stop_timeout", "2"),
        ]);
        let a = ProcessAgent;
        assert_eq!(a.run("monitor", &env), Ok(rc::NOT_RUNNING));
        assert_eq!(a.run("start", &env), Ok(rc::SUCCESS));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(a.run("monitor", &env), Ok(rc::SUCCESS));
        assert_eq!(a.run("start", &env), Ok(rc::SUCCESS), "start on started");
        assert_eq!(
            std::fs::read_to_string(&pidfile)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap(),
            pid.to_string()
        );
        assert_eq!(a.run("stop", &env), Ok(rc::SUCCESS));
        assert_eq!(a.run("monitor", &env), Ok(rc::NOT_RUNNING));
        assert_eq!(a.run("stop", &env), Ok(rc::SUCCESS), "stop on stopped");
        // A command that dies at once fails the start with its status.
        let bad = Env::from_pairs(&[
            ("OCF_RESKEY_binfile", "/bin/false"),
            ("OCF_RESKEY_pidfile", pidfile.to_str().unwrap()),
        ]);
        assert_eq!(
            a.run("start", &bad).unwrap_err().reason,
            "/bin/false exited at once: exit status: 1"
        );
        let missing = Env::from_pairs(&[("OCF_RESKEY_binfile", "/nonexistent/daemon")]);
        assert_eq!(
            a.run("validate-all", &missing).unwrap_err().rc,
            rc::ERR_INSTALLED
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
