//! Debian's `ocf-tester` (package `resource-agents`) on every built-in agent, installed the
//! way `tandem ra install` installs them: symlinks named after the agents. It checks the
//! meta-data against `ra-api-1.dtd` (with `xmllint`), that meta-data runs as `nobody`, and
//! the OCF semantics of every action (idempotent start/stop, monitor 7 when stopped, ...).
// Tests of a driver crate: they own the clock, threads and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::path::{Path, PathBuf};

use common::{NetNs, TempDir, require, require_root};

const OCF_TESTER: &str = "/usr/sbin/ocf-tester";

/// Installs the agents under a fresh OCF root that `nobody` can read.
fn install(dir: &TempDir) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.path().join("ocf");
    // A copy of the binary inside the world-readable directory: ocf-tester runs meta-data as
    // `nobody`, who may not be able to reach the build directory (a checkout under /root).
    let exe = dir.path().join("tandem-agents");
    std::fs::copy(env!("CARGO_BIN_EXE_tandem-agents"), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    tandem_agents::install(&root, &exe).unwrap();
    root.join("resource.d/tandem")
}

fn tester(agent: &Path, name: &str, params: &[&str], rsctmp: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(OCF_TESTER);
    cmd.env("OCF_ROOT", "/usr/lib/ocf")
        .env("HA_RSCTMP", rsctmp)
        .args(["-n", name]);
    for p in params {
        cmd.args(["-o", p]);
    }
    cmd.arg(agent);
    cmd
}

fn assert_passes(mut cmd: std::process::Command, agent: &Path) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(&format!("{} passed all tests", agent.display())),
        "ocf-tester failed for {}:\n{stdout}\n{stderr}",
        agent.display()
    );
}

#[test]
fn dummy_stateful_and_process_pass_ocf_tester() {
    if !require(OCF_TESTER, "resource-agents") || !require("/usr/bin/xmllint", "libxml2-utils") {
        return;
    }
    let dir = TempDir::new("tdm-ocft");
    let agents = install(&dir);
    let rsctmp = dir.path().join("run");
    for (agent, params) in [
        ("Dummy", vec![]),
        ("Stateful", vec![]),
        ("process", vec!["binfile=/bin/sleep", "cmdline_options=600"]),
    ] {
        let path = agents.join(agent);
        assert_passes(
            tester(&path, &format!("t-{agent}"), &params, &rsctmp),
            &path,
        );
    }
}

#[test]
fn ipaddr_passes_ocf_tester_in_a_namespace() {
    if !require(OCF_TESTER, "resource-agents")
        || !require("/usr/bin/xmllint", "libxml2-utils")
        || !require_root()
    {
        return;
    }
    let dir = TempDir::new("tdm-ocft-ip");
    let agents = install(&dir);
    let rsctmp = dir.path().join("run");
    let (a, _b) = NetNs::pair();
    a.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"]);
    a.exec(&["ip", "addr", "add", "2001:db8::1/64", "dev", "va"]);
    let path = agents.join("IPaddr");
    for (name, params) in [
        ("vip4", vec!["ip=192.0.2.10", "cidr_netmask=24", "nic=va"]),
        // nic and prefix found from the subnet.
        ("vip4auto", vec!["ip=192.0.2.11"]),
        ("vip6", vec!["ip=2001:db8::10", "cidr_netmask=64"]),
    ] {
        let t = tester(&path, name, &params, &rsctmp);
        let mut cmd = a.command(OCF_TESTER);
        cmd.args(t.get_args());
        cmd.envs(t.get_envs().filter_map(|(k, v)| Some((k, v?))));
        assert_passes(cmd, &path);
    }
}

/// `process` runs its command as the configured user, in its own process group.
#[test]
fn process_runs_as_the_configured_user() {
    if !require_root() {
        return;
    }
    let dir = TempDir::new("tdm-process-user");
    let pidfile = dir.path().join("p.pid");
    let run = |action: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tandem-agents"))
            .args(["process", action])
            .env("OCF_RESKEY_binfile", "/bin/sleep")
            .env("OCF_RESKEY_cmdline_options", "600")
            .env("OCF_RESKEY_user", "nobody")
            .env("OCF_RESKEY_pidfile", &pidfile)
            .status()
            .unwrap()
            .code()
            .unwrap()
    };
    assert_eq!(run("start"), 0);
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let pgrp = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_string();
    assert_eq!(run("stop"), 0);
    assert_eq!(uid_line, "Uid:\t65534\t65534\t65534\t65534");
    assert_eq!(pgrp, pid, "the service leads its own process group");
    assert_eq!(run("monitor"), 7);
}
