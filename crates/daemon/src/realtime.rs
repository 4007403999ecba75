//! Realtime scheduling for the daemon's main thread, as Corosync asks for it.
//!
//! Failure detection counts silence: a live node whose daemon does not get the CPU for a
//! token timeout looks dead to its peers. Under `SCHED_RR` the daemon's thread runs ahead
//! of every ordinary (`SCHED_OTHER`) process, so busy CPUs do not delay its heartbeats.
//! `SCHED_RESET_ON_FORK` is set with it: threads and processes the daemon starts — the
//! executor's agents, and the services they start — run at ordinary priority.
//!
//! The priority is [`REALTIME_PRIORITY`], above ordinary work and below the kernel's own
//! realtime threads (threaded interrupt handlers run at 50). Scheduling a large CIB under
//! `SCHED_RR` is bounded by the kernel's realtime throttling (by default realtime threads
//! get at most 95 % of a CPU per second).
//!
//! Refusals are normal without privileges (`EPERM`: not root, no `CAP_SYS_NICE`, or a
//! cgroup without realtime budget); the caller logs them and the daemon runs on as an
//! ordinary process. One of the crate's two modules with `unsafe` calls (the other is
//! [`crate::deadline`]): `sched_setscheduler(2)` with a fully initialised parameter block,
//! and `sched_getscheduler(2)` in the test.
#![allow(unsafe_code)]

/// The `SCHED_RR` priority asked for (1–99; higher runs first).
pub const REALTIME_PRIORITY: i32 = 40;

/// Switches the calling thread to `SCHED_RR` at [`REALTIME_PRIORITY`] with
/// `SCHED_RESET_ON_FORK`. Call it on the thread that runs the main loop, before any other
/// thread is started.
pub fn enable() -> std::io::Result<()> {
    let param = libc::sched_param {
        sched_priority: REALTIME_PRIORITY,
    };
    // SAFETY: `param` is a valid, initialised sched_param that outlives the call; pid 0 is
    // the calling thread. The call reads the struct and changes no memory of ours.
    let rc =
        unsafe { libc::sched_setscheduler(0, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The calling thread's scheduling policy, without the reset-on-fork flag
/// (`libc::SCHED_OTHER`, `libc::SCHED_RR`, ...).
#[cfg(test)]
fn policy() -> i32 {
    // SAFETY: no arguments but a pid (0: the calling thread); nothing is written.
    let p = unsafe { libc::sched_getscheduler(0) };
    p & !libc::SCHED_RESET_ON_FORK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabling_realtime_either_works_or_says_why() {
        // Run on a thread of its own: the policy must not leak into other tests.
        std::thread::spawn(|| match enable() {
            Ok(()) => {
                assert_eq!(policy(), libc::SCHED_RR);
                // A forked child starts at ordinary priority.
                let out = std::process::Command::new("sh")
                    .args(["-c", "cat /proc/self/stat"])
                    .output()
                    .expect("sh runs");
                let stat = String::from_utf8_lossy(&out.stdout);
                let fields: Vec<&str> = stat
                    .rsplit_once(')')
                    .expect("stat has a command name")
                    .1
                    .split_whitespace()
                    .collect();
                // Field 41 of /proc/PID/stat (the 39th after the name) is the policy.
                assert_eq!(fields[38], libc::SCHED_OTHER.to_string());
            }
            Err(e) => {
                eprintln!("realtime scheduling refused here ({e}); checking the refusal only");
                assert_eq!(policy(), libc::SCHED_OTHER);
            }
        })
        .join()
        .expect("test thread");
    }
}
