//! `tandem mon` (crm_mon) on a CIB file: `-1` prints exactly what `tandem status` prints
//! with the same flags; without it the status is printed again every interval (into a pipe:
//! one after the other) until the process is stopped; a bad interval is a usage error; no
//! cluster is exit 102. The live cluster's `mon` is checked in `tests/live.rs`.

// A test of real processes: it owns the clock and waits.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

const NOW: &str = "2020-06-18T15:00:00Z";
/// How long two refreshes one second apart may take on a busy machine.
const REFRESH_DEADLINE: Duration = Duration::from_secs(60);

fn cib() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/status/haservice.xml")
}

fn run(args: &[&str]) -> std::process::Output {
    tandem()
        .env("CIB_file", cib())
        .env("TANDEM_NOW", NOW)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn one_shot_is_status_with_the_same_flags() {
    for (mon, status) in [
        (&["mon", "-1"][..], &["status", "-1"][..]),
        (&["mon", "-1", "-r", "-f"], &["status", "-r", "-f"]),
        (&["mon", "-1rn"], &["status", "-r", "-n"]),
        (
            &["mon", "--one-shot", "-o", "-A"],
            &["status", "-1", "-o", "-A"],
        ),
    ] {
        let m = run(mon);
        let s = run(status);
        assert_eq!(code(&m), 0, "{mon:?}: {}", stderr(&m));
        assert_eq!(code(&s), 0, "{status:?}: {}", stderr(&s));
        assert!(stdout(&m).starts_with("Cluster Summary:"), "{}", stdout(&m));
        assert_eq!(stdout(&m), stdout(&s), "{mon:?} vs {status:?}");
    }
}

#[test]
fn without_one_shot_the_status_is_printed_again_every_interval() {
    let once = stdout(&run(&["mon", "-1"]));
    let mut child = tandem()
        .env("CIB_file", cib())
        .env("TANDEM_NOW", NOW)
        .args(["mon", "-i", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    let two_frames = format!("{once}\n{once}\n");
    while !String::from_utf8_lossy(&seen).starts_with(&two_frames) {
        assert!(
            start.elapsed() < REFRESH_DEADLINE,
            "no second refresh: {}",
            String::from_utf8_lossy(&seen)
        );
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "mon ended: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(child.try_wait().unwrap().is_none(), "mon must keep running");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_bad_interval_is_a_usage_error_and_no_cluster_is_102() {
    for bad in ["0", "x", "86401"] {
        let o = run(&["mon", "-i", bad]);
        assert_eq!(code(&o), 64, "-i {bad}: {}", stderr(&o));
    }
    let o = tandem().args(["mon", "-1"]).output().unwrap();
    assert_eq!(code(&o), 102, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no cluster is running"),
        "{}",
        stderr(&o)
    );
    let o = tandem().args(["mon"]).output().unwrap();
    assert_eq!(code(&o), 102, "{}", stderr(&o));
}
