//! Time as the driver passes it: both clocks, since a node needs both — a monotonic one
//! for timers and timeouts, and the wall clock for what it records (`last-rc-change`) and for
//! the scheduler's rules and failure expiry.

use serde::{Deserialize, Serialize};

/// The two clocks at the moment of one input. The core never reads a clock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Now {
    /// Monotonic microseconds since an origin of the driver's choosing (the daemon: its
    /// start; the simulator: virtual time 0). Only differences matter. The totem layer runs
    /// on this clock.
    pub mono_us: u64,
    /// Wall-clock seconds since the Unix epoch.
    pub epoch_s: i64,
}

impl Now {
    pub const fn new(mono_us: u64, epoch_s: i64) -> Now {
        Now { mono_us, epoch_s }
    }

    /// The wall clock as the scheduler and the rules take it.
    pub fn date(self) -> tandem_cib::DateTime {
        tandem_cib::DateTime::from_epoch(self.epoch_s)
    }

    /// `mono_us` plus `ms` milliseconds (saturating).
    pub fn after_ms(self, ms: u64) -> u64 {
        self.mono_us.saturating_add(ms.saturating_mul(1000))
    }
}
