//! The CIB's writes, durable ones on the main loop and status-only ones on a thread of
//! their own.
//!
//! The node asks for two kinds of writes (`tandem_node`'s "Durability"):
//! [`tandem_node::Output::PersistCib`] must be on disk before the main loop acts on any
//! later output — [`CibWriter::save`] writes it on the calling thread, as before;
//! [`tandem_node::Output::PersistStatus`] (operation records, history reports) need not —
//! [`CibWriter::save_later`] hands it to the writer thread and returns at once, so the
//! `fsync`s of every step of a transition are off the main loop's path.
//!
//! ```text
//!  main loop ── save(cib) ────────▶ lock store ─ drop pending ─ CibStore::save ─ unlock
//!  main loop ── save_later(cib) ──▶ pending = cib (a newer one replaces it) ─ wake
//!  writer    ◀─ wake ─ lock store ─ take pending ─ CibStore::save ─ unlock ─ wait again
//! ```
//!
//! **Order.** Every write carries the node's whole current CIB, so the disk must never get
//! an older one after a newer: only the latest pending status CIB is kept, a durable save
//! drops it (the durable CIB is newer), and the writer takes the pending CIB only while it
//! holds the store — so whatever it writes was handed over after the last durable save
//! that went before it. Both kinds write through the same [`CibStore`] (atomic replace,
//! digest, numbered backups), one at a time.
//!
//! **Cost on the main loop.** `save_later` takes a lock held only to swap a pointer. A
//! durable `save` may wait for the status write in progress (at most one) before its own.
//! The writer is an ordinary thread (the main loop's realtime policy is not inherited):
//! on a busy machine status writes lag and coalesce, nothing else waits for them.
//!
//! **Exit.** [`CibWriter::finish`] writes what is pending and stops the thread (graceful
//! exit); a crash loses at most the pending status CIB and the one being written, which is
//! what the node's contract allows.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tandem_cib::Cib;
use tokio::sync::mpsc;

use crate::cibstore::CibStore;

/// What the main loop hands to the writer thread.
#[derive(Default)]
struct Pending {
    cib: Option<Box<Cib>>,
    /// The daemon is exiting: write what is pending, then stop.
    stop: bool,
}

struct Shared {
    /// Held for every write, in either thread.
    store: Mutex<CibStore>,
    /// Held only to hand over or take a CIB (never during a write).
    pending: Mutex<Pending>,
    wake: Condvar,
}

impl Shared {
    fn new(store: CibStore) -> Arc<Shared> {
        Arc::new(Shared {
            store: Mutex::new(store),
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
        })
    }
}

/// Writes the CIB to its store: durably on the caller's thread, or later on the writer's.
pub struct CibWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A lock whose holder panicked still guards consistent data here (a `CibStore` has no
/// state in memory; `Pending` is replaced whole), so a poisoned lock is used as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CibWriter {
    /// Starts the writer thread for `store`. Failed status writes are sent to `errors` as
    /// log lines (the next write tries again with a newer CIB).
    pub fn start(
        store: CibStore,
        errors: mpsc::UnboundedSender<String>,
    ) -> std::io::Result<CibWriter> {
        let shared = Shared::new(store);
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("cib-writer".into())
            .spawn(move || writer_loop(&s, &errors))?;
        Ok(CibWriter {
            shared,
            thread: Some(thread),
        })
    }

    /// Writes `cib` durably before returning, replacing any status CIB still pending.
    pub fn save(&self, cib: &Cib) -> anyhow::Result<()> {
        let store = lock(&self.shared.store);
        lock(&self.shared.pending).cib = None;
        store.save(cib)
    }

    /// Hands `cib` (status changed only) to the writer thread; returns at once.
    pub fn save_later(&self, cib: Box<Cib>) {
        lock(&self.shared.pending).cib = Some(cib);
        self.shared.wake.notify_one();
    }

    /// Writes the pending status CIB, if any, and stops the writer thread.
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        lock(&self.shared.pending).stop = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for CibWriter {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

fn writer_loop(shared: &Shared, errors: &mpsc::UnboundedSender<String>) {
    loop {
        {
            let mut p = lock(&shared.pending);
            while p.cib.is_none() && !p.stop {
                p = shared.wake.wait(p).unwrap_or_else(PoisonError::into_inner);
            }
        }
        let store = lock(&shared.store);
        let (cib, stop) = {
            let mut p = lock(&shared.pending);
            (p.cib.take(), p.stop)
        };
        if let Some(cib) = cib
            && let Err(e) = store.save(&cib)
        {
            let _ = errors.send(format!(
                "cannot write the CIB (version {}): {e:#}",
                cib.version
            ));
        }
        drop(store);
        if stop && lock(&shared.pending).cib.is_none() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("tandem-cibwriter-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn cib(num_updates: u64, epoch: u64) -> Cib {
        Cib::parse(&format!(
            r#"<cib admin_epoch="0" epoch="{epoch}" num_updates="{num_updates}"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>"#
        ))
        .unwrap()
    }

    #[test]
    fn status_writes_reach_the_disk_and_a_durable_save_is_never_overwritten_by_an_older_one() {
        let d = scratch("order");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let w = CibWriter::start(CibStore::open(&d).unwrap(), tx).unwrap();
        for n in 1..=50 {
            w.save_later(Box::new(cib(n, 1)));
        }
        w.save(&cib(0, 2)).unwrap();
        // Whatever status write was in progress went before the durable save.
        let store = CibStore::open(&d).unwrap();
        assert_eq!(store.load().unwrap().unwrap().version, cib(0, 2).version);
        w.save_later(Box::new(cib(1, 2)));
        w.finish();
        assert_eq!(store.load().unwrap().unwrap().version, cib(1, 2).version);
        assert!(rx.try_recv().is_err(), "no write failed");
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn pending_version(w: &CibWriter) -> Option<tandem_cib::Version> {
        lock(&w.shared.pending).cib.as_ref().map(|c| c.version)
    }

    #[test]
    fn only_the_newest_status_cib_waits_and_a_durable_save_drops_it() {
        let d = scratch("drop");
        // No writer thread: what is handed over stays pending until a save drops it.
        let w = CibWriter {
            shared: Shared::new(CibStore::open(&d).unwrap()),
            thread: None,
        };
        w.save_later(Box::new(cib(5, 1)));
        w.save_later(Box::new(cib(6, 1)));
        assert_eq!(pending_version(&w), Some(cib(6, 1).version));
        w.save(&cib(0, 2)).unwrap();
        assert_eq!(pending_version(&w), None);
        let store = CibStore::open(&d).unwrap();
        assert_eq!(store.load().unwrap().unwrap().version, cib(0, 2).version);
        drop(w);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_status_write_is_reported() {
        let d = scratch("fail");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let store = CibStore::open(&d).unwrap();
        // The store's directory gone: the write cannot create its files.
        std::fs::remove_dir_all(&d).unwrap();
        let w = CibWriter::start(store, tx).unwrap();
        w.save_later(Box::new(cib(3, 1)));
        w.finish();
        let line = rx.try_recv().unwrap();
        assert!(
            line.starts_with("cannot write the CIB (version 0.1.3): cannot save the CIB"),
            "{line}"
        );
    }
}
