//! Finding and stopping the processes of a cluster (or of one node) by the marker variables
//! in their environment, and waiting for processes to go away.

use std::path::Path;
use std::time::{Duration, Instant};

pub use rustix::process::Signal;
use rustix::process::{Pid, kill_process};

use crate::{MARKER_VAR, NODE_VAR};

/// How often process lists are re-read while waiting.
pub const POLL: Duration = Duration::from_millis(50);

/// How long a daemon (and the agents it runs) get after SIGTERM before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// How long processes get to disappear after SIGKILL before teardown reports them.
pub const KILL_WAIT: Duration = Duration::from_secs(5);

/// The pids (other than this process) whose environment says they belong to the cluster in
/// `dir` — and, with `node`, to that node.
pub fn marked(dir: &Path, node: Option<&str>) -> Vec<i32> {
    let want_dir = format!("{MARKER_VAR}={}", dir.display());
    let want_node = node.map(|n| format!("{NODE_VAR}={n}"));
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| u32::try_from(pid).is_ok_and(|p| p != me))
        .filter(|&pid| {
            let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
                return false;
            };
            let vars: Vec<&[u8]> = env.split(|&b| b == 0).collect();
            let has = |v: &str| vars.contains(&v.as_bytes());
            has(&want_dir) && want_node.as_deref().is_none_or(has) && alive(pid)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// True while `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Sends `sig` to `pid`; a process that is already gone is not an error.
pub fn signal(pid: i32, sig: Signal) {
    if let Some(p) = Pid::from_raw(pid) {
        let _ = kill_process(p, sig);
    }
}

/// Sends SIGTERM to `pid`.
pub fn terminate(pid: i32) {
    signal(pid, Signal::TERM);
}

/// Waits until none of `pids` is alive, at most `limit`; the ones still alive.
pub fn wait_gone(pids: &[i32], limit: Duration) -> Vec<i32> {
    let t = Instant::now();
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        if left.is_empty() || t.elapsed() >= limit {
            return left;
        }
        std::thread::sleep(POLL);
    }
}

/// Sends `sig` to every process marked for `dir` (and `node`); the pids signalled.
pub fn signal_marked(dir: &Path, node: Option<&str>, sig: Signal) -> Vec<i32> {
    let pids = marked(dir, node);
    for &p in &pids {
        signal(p, sig);
    }
    pids
}

/// SIGKILLs every process marked for `dir` (and `node`) until none is left — services
/// started by agents, agents themselves, daemons. Returns the pids that would not die
/// within [`KILL_WAIT`] (uninterruptible sleep; they are reported, not hidden).
pub fn kill_marked(dir: &Path, node: Option<&str>) -> Vec<i32> {
    let t = Instant::now();
    loop {
        let pids = marked(dir, node);
        if pids.is_empty() {
            return pids;
        }
        if t.elapsed() >= KILL_WAIT {
            return pids;
        }
        for &p in &pids {
            signal(p, Signal::KILL);
        }
        std::thread::sleep(POLL);
    }
}
