//! Crash safety of the CIB store: a child process saves a stream of CIB versions and is
//! killed with SIGKILL at random moments, [`KILLS`] times. After every kill the store must
//! load (never unreadable), and the loaded version must be the last one whose save returned
//! (the child prints it after `save` returns) or the one being saved — never older.
//!
//! The child is this test binary again, running [`crash_child`] with [`CHILD_DIR_ENV`]
//! set; in a normal run that test does nothing. Set `TANDEM_CRASH_SEED` to replay the kill
//! timings of a printed seed (the process scheduling still varies).

// A test of real processes: it owns the clock and waits.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tandem_cib::Cib;
use tandem_daemon::cibstore::{CibStore, MAX_CIB_BACKUPS};

/// Kills of the saving process.
const KILLS: usize = 200;
/// Set in the child: the state directory it saves into.
const CHILD_DIR_ENV: &str = "TANDEM_CRASH_CHILD_DIR";
/// Set in the child: the first epoch it saves.
const CHILD_START_ENV: &str = "TANDEM_CRASH_CHILD_START";
/// Longest wait for the child's first save (a busy machine starts processes slowly).
const FIRST_SAVE_DEADLINE: Duration = Duration::from_secs(120);
/// The kill lands this long (uniformly random, in microseconds) after the first save.
const MAX_KILL_DELAY_US: u64 = 30_000;
/// Primitives in each CIB, so a save writes tens of kilobytes and kills land inside writes.
const PRIMITIVES: usize = 200;

fn cib(epoch: u64) -> Cib {
    let mut rscs = String::new();
    for i in 0..PRIMITIVES {
        rscs.push_str(&format!(
            r#"<primitive id="r{i}" class="ocf" provider="heartbeat" type="Dummy"><instance_attributes id="r{i}-ia"><nvpair id="r{i}-ia-v" name="state" value="/run/r{i}-{epoch}"/></instance_attributes></primitive>"#
        ));
    }
    Cib::parse(&format!(
        r#"<cib admin_epoch="0" epoch="{epoch}" num_updates="0"><configuration><crm_config/><nodes/><resources>{rscs}</resources><constraints/></configuration><status/></cib>"#
    ))
    .unwrap()
}

/// The saving child: saves epochs from its start on, printing `saved N` after each.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
        return; // only meaningful when started by the crash test
    };
    let start: u64 = std::env::var(CHILD_START_ENV).unwrap().parse().unwrap();
    let store = CibStore::open(Path::new(&dir)).unwrap();
    let mut out = std::io::stdout().lock();
    for epoch in start.. {
        store.save(&cib(epoch)).unwrap();
        writeln!(out, "saved {epoch}").unwrap();
        out.flush().unwrap();
    }
}

/// xorshift64*: reproducible kill timings from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn seed() -> u64 {
    match std::env::var("TANDEM_CRASH_SEED") {
        Ok(s) => s.parse().unwrap(),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            (t.as_nanos() as u64) | 1
        }
    }
}

/// What one kill left behind.
struct Round {
    acked: u64,
    loaded: u64,
    pending_left: bool,
}

/// Starts a child saving from `start`, kills it `delay_us` after its first save returned,
/// and returns the last epoch it acknowledged.
fn run_child(state: &Path, start: u64, delay_us: u64) -> u64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, state)
        .env(CHILD_START_ENV, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("saved ") {
                let _ = tx.send(n.parse::<u64>().unwrap());
            }
        }
    });
    let first = rx.recv_timeout(FIRST_SAVE_DEADLINE);
    std::thread::sleep(Duration::from_micros(delay_us));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    let first = first.expect("the child saved nothing before the deadline");
    rx.try_iter().last().unwrap_or(first)
}

fn one_round(state: &Path, store: &CibStore, start: u64, delay_us: u64) -> Round {
    let acked = run_child(state, start, delay_us);
    let pending_left =
        store.dir().join(".cib.xml.sig.new").exists() || store.dir().join(".cib.xml.new").exists();
    let loaded = match store.load() {
        Ok(Some(c)) => c,
        Ok(None) => panic!("store empty after acknowledged save {acked}"),
        Err(e) => panic!("store unreadable after a kill (last acknowledged {acked}): {e:#}"),
    };
    let epoch = loaded.version.epoch;
    assert!(
        epoch == acked || epoch == acked + 1,
        "loaded epoch {epoch}, last acknowledged {acked}"
    );
    assert_eq!(
        loaded.to_xml(),
        cib(epoch).to_xml(),
        "content of epoch {epoch}"
    );
    Round {
        acked,
        loaded: epoch,
        pending_left,
    }
}

#[test]
fn kill9_during_saves_never_leaves_an_unreadable_or_older_cib() {
    if std::env::var_os(CHILD_DIR_ENV).is_some() {
        return;
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("tandem-cibstore-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = CibStore::open(&dir).unwrap();
    let seed = seed();
    eprintln!("kill timings from TANDEM_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let (mut next, mut pending, mut unacked_loaded, mut saves) = (1u64, 0, 0, 0u64);
    for _ in 0..KILLS {
        let round = one_round(&dir, &store, next, rng.next() % MAX_KILL_DELAY_US);
        saves += round.acked + 1 - next;
        pending += usize::from(round.pending_left);
        unacked_loaded += usize::from(round.loaded > round.acked);
        next = round.loaded + 1;
    }
    let backups = store.backups().unwrap();
    assert!(backups.len() <= MAX_CIB_BACKUPS, "{backups:?}");
    for n in backups {
        store.load_backup(n).unwrap();
    }
    eprintln!(
        "{KILLS} kills over {saves} acknowledged saves: {pending} left a save in progress, {unacked_loaded} loaded the version being saved"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
