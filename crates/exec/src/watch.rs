//! Event-driven failure detection: a *watcher* beside a recurring monitor, so a failure the
//! agent can see at once (an address deleted, a process gone) is reported at once instead of
//! at the monitor's next interval. This module holds the pure part — the life of one
//! monitor's watcher; [`crate::queue`] applies it and the [`crate::Executor`] runs the
//! processes.
//!
//! ```text
//!   monitor ok ──▶ StartWatch ──▶ `AGENT watch` (same OCF environment as the monitor;
//!        ▲                         blocks until it sees the resource fail, then exits 0
//!        │                         with one line on stdout saying what it saw)
//!        │                               │ exits
//!        │                               ▼
//!        └──── monitor runs NOW (as `RunNow`) ── its result is reported as usual
//! ```
//!
//! The monitor stays the source of truth: the watcher only says "look now", so a watcher
//! that exits for nothing costs one monitor run, never a false failure. Rules:
//!
//! * a watcher starts after a successful result (`OCF_SUCCESS` or `OCF_RUNNING_PROMOTED`,
//!   status done) of a recurring `monitor`, when none runs;
//! * when it exits (or fails to run) the monitor runs at once ([`WatchEnd::Fired`],
//!   [`WatchEnd::Failed`]); the watcher starts again after the next successful monitor, but
//!   no sooner than a gap after the exit — [`WATCH_RESTART_GAP_MIN_MS`] doubling for every
//!   watcher that lived less than [`WATCH_STABLE_MS`], up to [`WATCH_RESTART_GAP_MAX_MS`] —
//!   so a broken watcher cannot make the executor spin;
//! * a watcher that reached its lifetime limit ([`WatchEnd::Expired`]) is replaced at once;
//!   one whose agent does not implement `watch` ([`WatchEnd::Unsupported`]) is not started
//!   again for that monitor;
//! * it is stopped (its process group killed) when the monitor is cancelled or replaced,
//!   when the monitor fails, and when one of [`WATCH_STOPPING_ACTIONS`] of the resource
//!   starts; it comes back after the next successful monitor.
//!
//! Which agents have a watcher is the driver's business (an agent advertises it, see
//! [`crate::Executor`]); the queue asks for every recurring monitor and is told
//! [`WatchEnd::Unsupported`] for the others.

/// The action a watcher runs: not an OCF standard action.
pub const WATCH_ACTION: &str = "watch";

/// The shortest time between a watcher's exit and the start of the next one.
pub const WATCH_RESTART_GAP_MIN_MS: u64 = 1_000;

/// The longest gap between a watcher's exit and the next start (after repeated quick exits).
pub const WATCH_RESTART_GAP_MAX_MS: u64 = 60_000;

/// A watcher that ran at least this long before it exited resets the gap to the minimum.
pub const WATCH_STABLE_MS: u64 = 60_000;

/// One-shot actions that take the watched state away on purpose: their start stops the
/// resource's watchers (what they would see is not a failure).
pub const WATCH_STOPPING_ACTIONS: [&str; 3] = ["stop", "migrate_to", "demote"];

/// How a watcher ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// It exited with 0: it saw something; run the monitor.
    Fired,
    /// It could not run or failed (another exit code, a signal): run the monitor anyway.
    Failed,
    /// The agent does not implement `watch`: never start it again for this monitor.
    Unsupported,
    /// It reached its lifetime limit and was killed: start a new one.
    Expired,
}

/// What the queue must do after a watch transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Nothing.
    None,
    /// Start the watcher.
    Start,
    /// Stop the running watcher.
    Stop,
    /// Run the monitor now (the watcher is gone).
    RunMonitor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not running; starts after the next successful monitor.
    Off,
    /// Running since this time.
    Running { since_ms: u64 },
    /// A successful monitor came before the gap ended: starts at `not_before_ms`.
    Waiting,
    /// The agent has no watcher.
    Unsupported,
}

/// The watcher of one recurring monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Watch {
    state: State,
    not_before_ms: u64,
    /// The gap applied after the next quick exit.
    gap_ms: u64,
}

impl Default for Watch {
    fn default() -> Watch {
        Watch {
            state: State::Off,
            not_before_ms: 0,
            gap_ms: WATCH_RESTART_GAP_MIN_MS,
        }
    }
}

impl Watch {
    /// A monitor result: `ok` when the resource runs.
    pub(crate) fn monitor_result(&mut self, now_ms: u64, ok: bool) -> Effect {
        match (self.state, ok) {
            (State::Off, true) if now_ms >= self.not_before_ms => self.start(now_ms),
            (State::Off, true) => {
                self.state = State::Waiting;
                Effect::None
            }
            (State::Running { .. } | State::Waiting, false) => self.stop(),
            _ => Effect::None,
        }
    }

    /// The watcher ended.
    pub(crate) fn ended(&mut self, now_ms: u64, end: WatchEnd) -> Effect {
        let State::Running { since_ms } = self.state else {
            return Effect::None; // not ours any more (stopped, replaced)
        };
        match end {
            WatchEnd::Fired | WatchEnd::Failed => {
                if now_ms.saturating_sub(since_ms) >= WATCH_STABLE_MS {
                    self.gap_ms = WATCH_RESTART_GAP_MIN_MS;
                }
                self.not_before_ms = now_ms.saturating_add(self.gap_ms);
                self.gap_ms = (self.gap_ms * 2).min(WATCH_RESTART_GAP_MAX_MS);
                self.state = State::Off;
                Effect::RunMonitor
            }
            WatchEnd::Expired => self.start(now_ms),
            WatchEnd::Unsupported => {
                self.state = State::Unsupported;
                Effect::None
            }
        }
    }

    /// Time passed: a waiting watcher whose gap is over starts.
    pub(crate) fn tick(&mut self, now_ms: u64) -> Effect {
        if self.state == State::Waiting && now_ms >= self.not_before_ms {
            self.start(now_ms)
        } else {
            Effect::None
        }
    }

    /// When [`Watch::tick`] has something to do.
    pub(crate) fn due_ms(&self) -> Option<u64> {
        (self.state == State::Waiting).then_some(self.not_before_ms)
    }

    /// Stops the watcher (it comes back after the next successful monitor).
    pub(crate) fn stop(&mut self) -> Effect {
        match self.state {
            State::Running { .. } => {
                self.state = State::Off;
                Effect::Stop
            }
            State::Waiting => {
                self.state = State::Off;
                Effect::None
            }
            State::Off | State::Unsupported => Effect::None,
        }
    }

    /// True while a watcher process should exist.
    #[cfg(test)]
    pub(crate) fn is_running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    fn start(&mut self, now_ms: u64) -> Effect {
        self.state = State::Running { since_ms: now_ms };
        Effect::Start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_after_a_good_monitor_and_stops_after_a_bad_one() {
        let mut w = Watch::default();
        assert_eq!(w.monitor_result(0, false), Effect::None);
        assert_eq!(w.monitor_result(10, true), Effect::Start);
        assert_eq!(w.monitor_result(20, true), Effect::None, "already running");
        assert_eq!(w.monitor_result(30, false), Effect::Stop);
        assert_eq!(w.monitor_result(40, true), Effect::Start);
    }

    #[test]
    fn quick_exits_double_the_gap_up_to_the_limit_and_a_stable_watcher_resets_it() {
        let mut w = Watch::default();
        let mut now = 0;
        assert_eq!(w.monitor_result(now, true), Effect::Start);
        let mut gaps = Vec::new();
        for _ in 0..9 {
            now += 10;
            assert_eq!(w.ended(now, WatchEnd::Failed), Effect::RunMonitor);
            let exited = now;
            now += 5;
            // The monitor says all is well before the gap is over: wait for the gap.
            assert_eq!(w.monitor_result(now, true), Effect::None);
            let at = w.due_ms().unwrap();
            assert_eq!(w.tick(at - 1), Effect::None);
            assert_eq!(w.tick(at), Effect::Start);
            gaps.push(at - exited);
            now = at;
        }
        assert_eq!(
            gaps,
            [
                1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000
            ]
        );
        // A watcher that lived long: the next gap is the minimum again.
        now += WATCH_STABLE_MS;
        assert_eq!(w.ended(now, WatchEnd::Fired), Effect::RunMonitor);
        assert_eq!(w.monitor_result(now + 2_000, true), Effect::Start);
    }

    #[test]
    fn expired_restarts_unsupported_never_and_stale_ends_are_ignored() {
        let mut w = Watch::default();
        assert_eq!(w.ended(0, WatchEnd::Fired), Effect::None, "not running");
        assert_eq!(w.monitor_result(0, true), Effect::Start);
        assert_eq!(w.ended(100, WatchEnd::Expired), Effect::Start);
        assert_eq!(w.ended(200, WatchEnd::Unsupported), Effect::None);
        assert_eq!(w.monitor_result(300, true), Effect::None);
        assert!(!w.is_running());
    }

    #[test]
    fn stop_while_waiting_cancels_the_restart() {
        let mut w = Watch::default();
        w.monitor_result(0, true);
        w.ended(10, WatchEnd::Fired);
        assert_eq!(w.monitor_result(20, true), Effect::None);
        assert_eq!(w.due_ms(), Some(1_010));
        assert_eq!(w.stop(), Effect::None);
        assert_eq!(w.due_ms(), None);
        assert_eq!(w.tick(5_000), Effect::None);
        assert_eq!(w.monitor_result(5_000, true), Effect::Start);
    }
}
