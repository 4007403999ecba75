//! Polling for a condition with a generous deadline: real processes on a busy machine take
//! however long they take, so nothing here asserts timing — it only gives up eventually.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a condition is re-checked.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Checks `f` every [`POLL_INTERVAL`] until it yields a value; an error naming `what` after
/// `limit`.
pub fn eventually<T>(
    what: &str,
    limit: Duration,
    f: impl FnMut() -> Option<T>,
) -> anyhow::Result<T> {
    eventually_unless(what, limit, None, f)
}

/// [`eventually`], giving up at once (with an error saying so) when `cancel` becomes true —
/// the sandbox's Ctrl-C during start-up.
pub fn eventually_unless<T>(
    what: &str,
    limit: Duration,
    cancel: Option<&AtomicBool>,
    mut f: impl FnMut() -> Option<T>,
) -> anyhow::Result<T> {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            anyhow::bail!("interrupted while waiting for {what}");
        }
        if t.elapsed() >= limit {
            anyhow::bail!("timed out after {} s waiting for {what}", limit.as_secs());
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}
