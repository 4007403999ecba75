//! The main loop's one timer: a `timerfd` armed at the earliest deadline of the node.
//!
//! An idle node wakes up for little else than its heartbeats (every 200 ms at Tandem's
//! default token), so what each timer wake-up costs is most of its idle CPU. A tokio
//! `sleep_until` created on every turn of the loop cost two to three wake-ups per deadline:
//! tokio's timer wheel files a deadline 64 ms – 4 s away in a coarse slot and wakes up at the
//! slot's start to move it to a finer one, and registering a deadline earlier than the
//! driver's next wake-up writes to the runtime's eventfd, which wakes it once more. A
//! `timerfd` armed with the absolute deadline (`CLOCK_MONOTONIC`, the clock of
//! [`std::time::Instant`] on Linux) wakes the loop exactly once, when the deadline is due,
//! and is re-armed only when the earliest deadline changes.

use std::io;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::time::{
    ClockId, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, clock_gettime,
    timerfd_create, timerfd_settime,
};
use tandem_totem::Time;
use tokio::io::unix::AsyncFd;

/// A one-shot timer at an absolute time, in microseconds since `origin`.
pub(crate) struct Deadline {
    fd: AsyncFd<OwnedFd>,
    /// The loop's time origin (its time 0).
    origin: Instant,
    /// `CLOCK_MONOTONIC` at `anchor`, read just after it: the timer never fires before the
    /// `Instant` it stands for.
    anchor_ts: Timespec,
    anchor: Instant,
    /// What the timer is armed for (`None`: disarmed, or fired and not re-armed).
    armed: Option<Time>,
}

impl Deadline {
    /// A disarmed timer for deadlines counted from `origin`.
    pub(crate) fn new(origin: Instant) -> io::Result<Deadline> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        let anchor = Instant::now();
        let anchor_ts = clock_gettime(ClockId::Monotonic);
        Ok(Deadline {
            fd: register(fd)?,
            origin,
            anchor_ts,
            anchor,
            armed: None,
        })
    }

    /// Arms the timer for `at` (disarms it for `None`); a system call only when the
    /// deadline changes.
    pub(crate) fn set(&mut self, at: Option<Time>) -> io::Result<()> {
        if at == self.armed {
            return Ok(());
        }
        let value = match at {
            Some(t) => self.timespec(t),
            // A zero `it_value` disarms the timer.
            None => Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
        };
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        timerfd_settime(self.fd.get_ref(), TimerfdTimerFlags::ABSTIME, &spec)?;
        self.armed = at;
        Ok(())
    }

    /// Waits until the armed deadline is due (forever if disarmed). Cancel-safe: nothing
    /// is consumed before it returns.
    pub(crate) async fn wait(&mut self) -> io::Result<()> {
        loop {
            let mut ready = self.fd.readable().await?;
            let mut count = [0u8; 8];
            match rustix::io::read(self.fd.get_ref(), &mut count) {
                Ok(_) => {
                    // Read: not readable again until it is re-armed and due.
                    ready.clear_ready();
                    self.armed = None;
                    return Ok(());
                }
                Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The `CLOCK_MONOTONIC` time of `origin + at µs` (the anchor's, if that is earlier:
    /// the deadline is already due).
    fn timespec(&self, at: Time) -> Timespec {
        const NANOS: u128 = 1_000_000_000;
        let when = self.origin + Duration::from_micros(at);
        let after = when.saturating_duration_since(self.anchor);
        // The anchor's fields are a valid monotonic time: non-negative, nanoseconds < 10⁹.
        let anchor = u128::try_from(self.anchor_ts.tv_sec).unwrap_or(0) * NANOS
            + u128::try_from(self.anchor_ts.tv_nsec).unwrap_or(0);
        let total = anchor + after.as_nanos();
        Timespec {
            tv_sec: i64::try_from(total / NANOS).unwrap_or(i64::MAX),
            tv_nsec: i64::try_from(total % NANOS).expect("below 10⁹"),
        }
    }
}

/// Registers the timer with the runtime's reactor, readable only.
#[allow(unsafe_code)]
fn register(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: the descriptor must be open and refer to the same file description for as
    // long as the `AsyncFd` lives, and `as_raw_fd` must always return it. The `AsyncFd`
    // owns the `OwnedFd`: it was just created (open), it closes only when dropped with the
    // `AsyncFd`, nothing takes it out (no `into_inner`), and `OwnedFd::as_raw_fd` returns
    // the same number every time.
    unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
        .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_once_at_the_deadline_and_not_before() {
        let origin = Instant::now();
        let mut d = Deadline::new(origin).expect("timerfd");
        d.set(Some(30_000)).expect("arm");
        d.wait().await.expect("wait");
        assert!(origin.elapsed() >= Duration::from_millis(30));
        // Fired: disarmed until set again; a deadline in the past fires at once.
        d.set(Some(0)).expect("arm in the past");
        tokio::time::timeout(Duration::from_secs(10), d.wait())
            .await
            .expect("a past deadline fires at once")
            .expect("wait");
    }

    #[tokio::test]
    async fn a_disarmed_timer_never_fires_and_rearming_moves_it() {
        let origin = Instant::now();
        let mut d = Deadline::new(origin).expect("timerfd");
        d.set(Some(20_000)).expect("arm");
        d.set(None).expect("disarm");
        let waited = tokio::time::timeout(Duration::from_millis(100), d.wait()).await;
        assert!(waited.is_err(), "a disarmed timer fired");
        d.set(Some(10_000_000)).expect("arm late");
        d.set(Some(0)).expect("move earlier");
        tokio::time::timeout(Duration::from_secs(10), d.wait())
            .await
            .expect("the earlier deadline fires")
            .expect("wait");
    }

    #[tokio::test]
    async fn an_expiry_left_unread_does_not_fire_the_next_deadline_early() {
        let origin = Instant::now();
        let mut d = Deadline::new(origin).expect("timerfd");
        d.set(Some(0)).expect("arm in the past");
        // Due, and not read: as when another branch of the loop's `select!` won.
        std::thread::sleep(Duration::from_millis(20));
        d.set(Some(3_600_000_000)).expect("re-arm an hour away");
        let waited = tokio::time::timeout(Duration::from_millis(100), d.wait()).await;
        assert!(waited.is_err(), "the stale expiry fired the new deadline");
    }
}
