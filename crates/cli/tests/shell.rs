//! The shell's levels, end to end through piped standard input: the tutorials' `ra`,
//! `configure ra`, `resource`, `node` and `status` sequences (seeds 000 and 002), with the
//! agents in a private OCF root; the one-shot `crm status`, `crm node ...`,
//! `crm resource stop ...` of the tutorials; exit codes as the one-shot commands have them.
//! Output is pinned by golden files (`UPDATE_GOLDEN=1` rewrites them).
// Tests of a driver crate: they own the environment and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Scratch, code, run_with_stdin, stderr, stdout};

fn tutorials() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tutorials")
}

/// A scratch CIB (from a tutorial's start), a private OCF root with `heartbeat:IPaddr` and
/// `heartbeat:Dummy` (script agents with short meta-data), and a `crm` link.
struct Setup {
    dir: Scratch,
    cib: PathBuf,
    ocf: PathBuf,
}

const AGENT: &str = "#!/bin/sh\ncase $1 in\nmeta-data) cat <<'EOF'\n<?xml version=\"1.0\"?>\n\
<resource-agent name=\"NAME\">\n<version>1.0</version>\n<longdesc lang=\"en\">Test agent NAME.</longdesc>\n\
<shortdesc lang=\"en\">NAME for tests</shortdesc>\n<parameters>\n<parameter name=\"ip\" required=\"1\">\n\
<longdesc lang=\"en\">The address.</longdesc><shortdesc lang=\"en\">IPv4 address</shortdesc>\n\
<content type=\"string\"/></parameter>\n</parameters>\n<actions>\n<action name=\"start\" timeout=\"20s\"/>\n\
<action name=\"stop\" timeout=\"20s\"/>\n<action name=\"monitor\" timeout=\"20s\" interval=\"5s\"/>\n\
<action name=\"meta-data\" timeout=\"5s\"/>\n</actions>\n</resource-agent>\nEOF\nexit 0;;\nesac\nexit 0\n";

impl Setup {
    fn new(tag: &str, start: &str) -> Setup {
        let dir = Scratch::new(tag);
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tandem"), dir.path("crm")).unwrap();
        let text = std::fs::read_to_string(tutorials().join(start)).unwrap();
        let cib = dir.write("cib.xml", &text);
        let ocf = dir.path("ocf");
        for name in ["IPaddr", "Dummy"] {
            let p = ocf.join("resource.d/heartbeat").join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, AGENT.replace("NAME", name)).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Setup { dir, cib, ocf }
    }

    fn crm(&self) -> Command {
        let mut c = Command::new(self.dir.path("crm"));
        c.env("CIB_file", &self.cib)
            .env("OCF_ROOT", &self.ocf)
            .env("COLUMNS", "80")
            .env("TANDEM_RUN_DIR", "/nonexistent/tandem-test-run")
            // The time of the tutorial's `crm status`: status output is exact.
            .env("TANDEM_NOW", "2020-06-18T14:23:04Z")
            .env_remove("EDITOR");
        c
    }

    fn shell(&self, input: &str) -> Output {
        run_with_stdin(&mut self.crm(), input)
    }
}

/// Compares with a golden file, or rewrites it under UPDATE_GOLDEN=1.
fn golden(name: &str, actual: &str) {
    let path = tutorials().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

const NO_CLUSTER: &str = "no cluster is running on this node (no tandem daemon answers in \
                          /nonexistent/tandem-test-run); ";

#[test]
fn freeswitch_tutorial_levels_through_piped_input() {
    let s = Setup::new("levels", "freeswitch_start.xml");
    let input = std::fs::read_to_string(tutorials().join("freeswitch_levels.shell")).unwrap();
    let o = s.shell(&input);
    // The one failure is the tutorial's `list systemd httpd`.
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    golden("freeswitch_levels.out", &stdout(&o));
    let errors = stderr(&o);
    let got: Vec<&str> = errors.lines().collect();
    assert_eq!(got, ["ERROR: only ocf agents have providers"]);
    // What the configure sessions committed, as the tutorial has it.
    let shown = stdout(
        &s.crm()
            .args(["configure", "show", "HAService"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        shown,
        "group HAService FloadtIP WebServer \\\n\tmeta target-role=Stopped\n"
    );
    // `node standby freeswitch-node1` made the node's permanent standby attribute.
    let shown = stdout(&s.crm().args(["node", "show"]).output().unwrap());
    assert_eq!(
        shown,
        "freeswitch-node1(1): member\n\tstandby=on\nfreeswitch-node2(2): member\n"
    );
}

#[test]
fn ra_inside_configure_keeps_the_staged_changes() {
    let s = Setup::new("configure-ra", "freeswitch_start.xml");
    let input = std::fs::read_to_string(tutorials().join("configure_ra.shell")).unwrap();
    let o = s.shell(&input);
    // `list heartbeat` fails (no such class in Pacemaker 2): status 1.
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "ERROR: agent heartbeat: unknown class; expected one of ocf, lsb, service, systemd, stonith\n"
    );
    assert_eq!(
        stdout(&o),
        "lsb\nocf / heartbeat\nservice\nstonith\nsystemd\ngroup web webip webserver\n"
    );
    // Leaving `configure` at the end of the input committed what was staged before and
    // after the visit to `ra`.
    let shown = stdout(&s.crm().args(["configure", "show", "web"]).output().unwrap());
    assert_eq!(shown, "group web webip webserver\n");
}

#[test]
fn levels_run_from_the_top_and_come_back() {
    let s = Setup::new("oneline", "freeswitch_start.xml");
    let o = s.shell("ra classes\nconfigure ra providers Dummy\nhelp\nls\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("lsb\nocf / heartbeat\nservice\nstonith\nsystemd\nheartbeat\n"),
        "{out}"
    );
    // Back at the top: its help and commands.
    assert!(out.contains("The top level."), "{out}");
    assert!(
        out.ends_with("configure ra resource node status help cd up ls quit\n"),
        "{out}"
    );
    let o = s.shell("ra\nfrob\ncd configure\n");
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "ERROR: frob: No such command (at this level: classes, list, info, meta-data, providers, \
         help, cd, up, ls, quit, exit, bye, end, back)\nERROR: configure: no such level here\n"
    );
}

#[test]
fn tutorial_one_shot_commands_on_a_cib_file_and_without_a_cluster() {
    let s = Setup::new("oneshot", "freeswitch_start.xml");
    for cmd in [
        "configure primitive FloadtIP ocf:heartbeat:IPaddr params ip=192.168.2.10",
        "node standby freeswitch-node1",
        "resource stop FloadtIP",
        "node online freeswitch-node1",
    ] {
        let o = s.crm().args(cmd.split(' ')).output().unwrap();
        assert_eq!(code(&o), 0, "crm {cmd}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "crm {cmd}");
    }
    let shown = stdout(
        &s.crm()
            .args(["configure", "show", "FloadtIP"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        shown,
        "primitive FloadtIP IPaddr \\\n\tparams ip=192.168.2.10 \\\n\tmeta target-role=Stopped\n"
    );
    // Without a CIB file, the running cluster is asked; none answers here.
    for (cmd, what) in [
        ("status", "status"),
        ("node standby freeswitch-node1", "node"),
        ("resource stop FloadtIP", "resource"),
    ] {
        let o = s
            .crm()
            .env_remove("CIB_file")
            .args(cmd.split(' '))
            .output()
            .unwrap();
        assert_eq!(code(&o), 102, "crm {cmd} ({what}): {}", stderr(&o));
        assert!(
            stderr(&o).starts_with(&format!("tandem: error: {NO_CLUSTER}")),
            "crm {cmd}: {}",
            stderr(&o)
        );
    }
    let o = s.crm().args(["node", "frob"]).output().unwrap();
    assert_eq!(code(&o), 1);
    // `ra meta` is `info`, as in crmsh.
    let o = s.crm().args(["ra", "meta", "IPaddr"]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).starts_with("IPaddr for tests (ocf:heartbeat:IPaddr)\n"));
}
