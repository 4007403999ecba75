//! Reaping what agents leave behind.
//!
//! Agents fork: shell scripts run helpers, `IPaddr2` backgrounds `send_arp`, a daemon's init
//! script double-forks. When an agent exits (or is killed at its timeout) before its
//! children, those orphans are re-parented — normally to PID 1. The executor marks itself a
//! *child subreaper* (`PR_SET_CHILD_SUBREAPER`), so orphans of agents become its children
//! instead: then a timeout can be seen to have killed them completely, and the executor (not
//! an init that may not be there, in a container) reaps them when they die.
//!
//! Reaping must not steal the exit status of a child someone is still waiting for. Processes
//! this crate spawns are *tracked* from the moment they exist (the spawn happens under the
//! same lock the reaper takes) until their waiter has collected them. Any other zombie child
//! whose process group differs from ours is an orphan from an agent's group (agents run in a
//! group of their own) and is reaped here. Code in the same process that spawns children
//! outside this crate must leave them in our process group, or run them through this crate.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::sync::Mutex;

use rustix::process::{Pid, WaitOptions, getpgrp, getpid, set_child_subreaper, waitpid};
use tokio::process::{Child, Command};

/// The most child processes examined in one sweep; a bound on the work done per SIGCHLD.
const MAX_CHILDREN_PER_SWEEP: usize = 4096;

/// Children spawned by this crate whose exit status belongs to their waiter.
static TRACKED: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn tracked() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    // A panic while holding this lock cannot leave the set inconsistent (each operation is a
    // single insert or remove), so a poisoned lock is still usable.
    TRACKED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes this process the subreaper of its descendants (Linux `PR_SET_CHILD_SUBREAPER`).
/// Process-wide and idempotent.
pub fn become_subreaper() -> io::Result<()> {
    set_child_subreaper(Some(getpid())).map_err(io::Error::from)
}

/// Spawns `cmd`, tracking the child until [`untrack`] is called for it.
pub(crate) fn spawn_tracked(cmd: &mut Command) -> io::Result<Child> {
    let mut set = tracked();
    let child = cmd.spawn()?;
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        set.insert(pid);
    }
    Ok(child)
}

/// Ends tracking of a child whose status has been collected.
pub(crate) fn untrack(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        tracked().remove(&pid);
    }
}

/// Reaps every zombie child that is an orphan of an agent; returns their pids.
pub fn reap_orphans() -> Vec<i32> {
    let set = tracked();
    let own_group = getpgrp().as_raw_nonzero().get();
    let mut reaped = Vec::new();
    for pid in children_of_self().into_iter().take(MAX_CHILDREN_PER_SWEEP) {
        if set.contains(&pid) {
            continue;
        }
        let Some(stat) = ProcStat::read(pid) else {
            continue;
        };
        if stat.state != 'Z' || stat.pgrp == own_group {
            continue;
        }
        let Some(p) = Pid::from_raw(pid) else {
            continue;
        };
        if let Ok(Some(_)) = waitpid(Some(p), WaitOptions::NOHANG) {
            reaped.push(pid);
        }
    }
    reaped
}

/// After the group `pgid` was sent SIGKILL and its leader collected: reaps the members that
/// were re-parented to us, waiting (up to `within`) for those still dying, so that when this
/// returns no process of the group is left, not even as a zombie. Without subreaping they are
/// not our children and this returns at once.
pub(crate) async fn reap_group(pgid: Pid, within: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match rustix::process::waitpgid(pgid, WaitOptions::NOHANG) {
            Ok(Some(_)) => continue,
            // Children of the group remain but none has exited yet: SIGKILL is on its way.
            Ok(None) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            // ECHILD: none left; or out of time (a process stuck in uninterruptible sleep).
            _ => return,
        }
    }
}

/// Spawns a task that reaps orphans whenever a child changes state. Needs a tokio runtime.
pub fn spawn_reaper_task() -> io::Result<tokio::task::JoinHandle<()>> {
    let mut sigchld = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child())?;
    Ok(tokio::spawn(async move {
        while sigchld.recv().await.is_some() {
            reap_orphans();
        }
    }))
}

/// Our direct children: the union of every thread's `children` list (a process's children
/// are listed under the thread that forked them, or that inherited them as orphans).
fn children_of_self() -> BTreeSet<i32> {
    let mut pids = BTreeSet::new();
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return pids;
    };
    for task in tasks.flatten() {
        let Ok(list) = fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        pids.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
    }
    pids
}

/// The fields of `/proc/PID/stat` the reaper needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// One-letter state (`R`, `S`, `Z`, ...).
    pub state: char,
    /// Parent pid.
    pub ppid: i32,
    /// Process group.
    pub pgrp: i32,
    /// Start time in clock ticks after boot (identifies the process across pid reuse).
    pub start_ticks: u64,
}

impl ProcStat {
    /// Reads `/proc/PID/stat`; `None` if the process does not exist.
    pub fn read(pid: i32) -> Option<ProcStat> {
        let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        ProcStat::parse(&text)
    }

    /// Parses the text of a `stat` file. The command name is in parentheses and may itself
    /// contain spaces and parentheses, so fields are counted after the last `)`.
    pub fn parse(text: &str) -> Option<ProcStat> {
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(ProcStat {
            state: fields.first()?.chars().next()?,
            ppid: fields.get(1)?.parse().ok()?,
            pgrp: fields.get(2)?.parse().ok()?,
            start_ticks: fields.get(19)?.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_survives_odd_command_names() {
        let line =
            "4242 (a) b) (c) Z 17 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0";
        assert_eq!(
            ProcStat::parse(line),
            Some(ProcStat {
                state: 'Z',
                ppid: 17,
                pgrp: 4242,
                start_ticks: 987654
            })
        );
        assert_eq!(ProcStat::parse("garbage"), None);
    }

    #[test]
    fn own_stat_is_readable() {
        let me = ProcStat::read(std::process::id() as i32).unwrap();
        assert_ne!(me.state, 'Z');
        assert_eq!(me.pgrp, getpgrp().as_raw_nonzero().get());
    }
}
