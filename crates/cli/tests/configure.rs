#![allow(clippy::unwrap_used)]
//! `tandem configure` and the crm shell, end to end: the tutorials' commands typed as they
//! print them (through a link named `crm`, run by `sh`), their `show` output pinned by
//! golden files (`UPDATE_GOLDEN=1` rewrites them), refused changes leaving the CIB file
//! byte for byte as it was, and exact error messages.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{Scratch, code, read, run_with_stdin, stderr, stdout};

fn tutorials() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tutorials")
}

/// A scratch directory with a `crm` link to the binary and a CIB copied from `start`.
struct Cluster {
    dir: Scratch,
    cib: PathBuf,
}

impl Cluster {
    fn new(tag: &str, start: &str) -> Cluster {
        let dir = Scratch::new(tag);
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tandem"), dir.path("crm")).unwrap();
        let cib = dir.write("cib.xml", start);
        Cluster { dir, cib }
    }

    fn from_fixture(tag: &str, fixture: &str) -> Cluster {
        Cluster::new(
            tag,
            &std::fs::read_to_string(tutorials().join(fixture)).unwrap(),
        )
    }

    /// Runs `script` with `sh`, the link first on PATH and CIB_file set.
    fn sh(&self, script: &str) -> Output {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let path = format!("{}:{}", self.dir.0.display(), inherited.to_string_lossy());
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("PATH", path)
            .env("CIB_file", &self.cib)
            .env("TANDEM_RUN_DIR", "/nonexistent/tandem-test-run")
            .env_remove("EDITOR")
            .env_remove("VISUAL")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, script: &str) -> String {
        let o = self.sh(script);
        assert_eq!(
            code(&o),
            0,
            "{script}\nstdout: {}\nstderr: {}",
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    }

    /// Runs the crm binary with `input` on standard input.
    fn shell(&self, args: &[&str], input: &str) -> Output {
        let mut c = Command::new(self.dir.path("crm"));
        c.args(args)
            .env("CIB_file", &self.cib)
            .env("TANDEM_RUN_DIR", "/nonexistent/tandem-test-run");
        run_with_stdin(&mut c, input)
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

/// What a terminal shows: tabs at 8-column stops.
fn expand_tabs(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let mut col = 0;
        for c in line.chars() {
            if c == '\t' {
                let n = 8 - col % 8;
                out.push_str(&" ".repeat(n));
                col += n;
            } else {
                out.push(c);
                col += 1;
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn freebsd_tutorial_one_shot_commands_print_what_the_tutorial_prints() {
    let c = Cluster::from_fixture("freebsd", "freebsd_start.xml");
    let script = std::fs::read_to_string(tutorials().join("freebsd.sh")).unwrap();
    c.ok(&script);
    let shown = c.ok("crm configure show");
    golden("freebsd.show", &shown);
    // Word for word the tutorial's `crm configure show` (seed 003), as a terminal shows it.
    assert_eq!(
        expand_tabs(&shown),
        "node 1: node1
node 2: node2
node 3: node3
primitive IP IPaddr2 \\
        params ip=10.0.10.200 cidr_netmask=24 \\
        op monitor interval=30s
property cib-bootstrap-options: \\
        have-watchdog=false \\
        dc-version=2.0.4-2deceaa3ae \\
        cluster-infrastructure=corosync \\
        stonith-enabled=false
"
    );
    // The rest of the tutorial: delete, and the custom agent with a bare interval.
    c.ok("crm configure delete IP");
    c.ok(r#"crm configure primitive IP ocf:pacemaker:ifconfig op monitor interval="30""#);
    let shown = c.ok("crm configure show IP");
    assert_eq!(
        shown,
        "primitive IP ocf:pacemaker:ifconfig \\\n\top monitor interval=30\n"
    );
}

#[test]
fn digitalocean_tutorial_one_shot_commands() {
    let c = Cluster::from_fixture("digitalocean", "digitalocean_start.xml");
    let script = std::fs::read_to_string(tutorials().join("digitalocean.sh")).unwrap();
    c.ok(&script);
    let shown = c.ok("crm configure show");
    golden("digitalocean.show", &shown);
    assert!(shown.contains(
        "primitive Nginx nginx \\\n\tparams httpd=\"/usr/sbin/nginx\" \\\n\top start timeout=40s interval=0 \\\n\top monitor timeout=30s interval=10s on-fail=restart \\\n\top stop timeout=60s interval=0\n"
    ));
    assert!(shown.contains("clone Nginx-clone Nginx\n"));
    assert!(shown.contains("colocation FloatIP-Nginx inf: FloatIP Nginx-clone\n"));
    assert!(shown.contains("\tno-quorum-policy=ignore\n"));

    // `crm configure edit ResourceName`, with an editor that changes the floating IP.
    let o = c.sh("EDITOR='sed -i s/your_floating_ip/203.0.113.10/' crm configure edit FloatIP");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        c.ok("crm configure show FloatIP"),
        "primitive FloatIP ocf:digitalocean:floatip \\\n\tparams do_token=your_digitalocean_personal_access_token floating_ip=203.0.113.10\n"
    );
    // `crm configure delete ResourceName` takes the colocation that named it along.
    let o = c.sh("crm configure delete FloatIP");
    assert_eq!(code(&o), 0);
    assert_eq!(
        stderr(&o),
        "INFO: hanging colocation:FloatIP-Nginx deleted\n"
    );
    assert!(!c.ok("crm configure show").contains("FloatIP"));
}

#[test]
fn freeswitch_tutorial_in_the_interactive_shell() {
    let c = Cluster::from_fixture("freeswitch", "freeswitch_start.xml");
    let input = std::fs::read_to_string(tutorials().join("freeswitch.shell")).unwrap();
    let o = c.shell(&[], &input);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    // The tutorial's `show` after the first primitive, as its (flattened) text has it.
    let flat: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "node 1: freeswitch-node1 node 2: freeswitch-node2 primitive FloadtIP IPaddr \\ params ip=192.168.2.10 property cib-bootstrap-options: \\ have-watchdog=false \\ dc-version=1.1.21-4.el7-f14e36fd43 \\ cluster-infrastructure=corosync \\ cluster-name=mycluster \\ stonith-enabled=false"
        ),
        "{out}"
    );
    assert!(out.contains("usage: primitive ID"), "help primitive");
    assert!(out.contains("usage: group ID RESOURCE..."), "help group");
    golden("freeswitch.show", &c.ok("crm configure show"));
    // The same commands one-shot give the same configuration.
    let d = Cluster::from_fixture("freeswitch1", "freeswitch_start.xml");
    for line in input.lines() {
        let defines = ["primitive", "group"].iter().any(|k| line.starts_with(k));
        if defines {
            d.ok(&format!("crm configure {line}"));
        }
    }
    assert_eq!(d.ok("crm configure show"), c.ok("crm configure show"));
}

#[test]
fn commits_bump_the_epoch_and_keep_the_status() {
    let c = Cluster::new("epoch", common::VALID_CIB);
    c.ok("crm configure primitive web systemd:httpd");
    let cib = tandem_cib::Cib::parse(&std::fs::read_to_string(&c.cib).unwrap()).unwrap();
    assert_eq!(cib.version.to_string(), "0.5.0");
    assert_eq!(cib.status.nodes.len(), 1, "the status section is kept");
    // `show` and `verify` change nothing.
    let before = read(&c.cib);
    c.ok("crm configure show");
    c.ok("crm configure verify");
    assert_eq!(read(&c.cib), before);
}

#[test]
fn refused_changes_leave_the_cib_file_byte_identical() {
    let c = Cluster::new("refused", common::VALID_CIB);
    let before = read(&c.cib);
    let cases: &[(&str, &str)] = &[
        (
            "crm configure primitive vip2 IPaddr2 op monitor interval=10s depth",
            "tandem: error: command line:1:48: found \"depth\", expected NAME=VALUE\n",
        ),
        (
            "crm configure primitive vip",
            "tandem: error: command line:1:14: found the end of the line, expected a resource agent ([class:[provider:]]type) or @template\n",
        ),
        (
            "crm configure primitive 1vip Dummy",
            "tandem: error: command line:1:11: found \"1vip\", expected a resource id (a letter or _, then letters, digits, _ . -)\n",
        ),
        (
            "crm configure primitive vip Dummy",
            "tandem: error: command line:1:1: vip already exists (a primitive); choose another id, or delete it first\n",
        ),
        (
            "crm configure group g vip nosuch",
            "tandem: error: command line:1:1: group g: resource nosuch does not exist; define it first\n",
        ),
        (
            "crm configure colocation c inf vip",
            "tandem: error: command line:1:14: found \"inf\", expected SCORE: (a number, inf:, -inf: or an attribute name)\n",
        ),
        (
            "crm configure location l vip rule -inf: '#uname' eq n1 or foo gt 3 and bar lt 2",
            "tandem: error: command line:1:54: found \"and\", expected or (a rule cannot mix and with or)\n",
        ),
        (
            "crm configure order o Sometimes: vip vip",
            "tandem: error: command line:1:9: found \"Sometimes:\", expected a kind (Mandatory:, Optional:, Serialize:) or a score\n",
        ),
        (
            "crm configure delete nosuch",
            "tandem: error: command line:1:1: object nosuch does not exist\n",
        ),
        (
            "crm configure frobnicate vip",
            "tandem: error: command line:1:1: found \"frobnicate\", expected a configure command (primitive, group, clone, ms, rsc_template, bundle, location, colocation, order, rsc_ticket, property, rsc_defaults, op_defaults, node, fencing_topology, tag, alert, role, acl_target, user, acl_group, xml, delete, rename, show, verify, commit, load, edit)\n",
        ),
    ];
    for (cmd, message) in cases {
        let o = c.sh(cmd);
        assert_eq!(code(&o), 1, "{cmd}");
        assert_eq!(stderr(&o), *message, "{cmd}");
        assert_eq!(read(&c.cib), before, "{cmd} changed the CIB");
    }
    // Verify's errors refuse the commit.
    let o = c.sh("crm configure property stonith-enabled=true");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).starts_with("tandem: error: commit refused, nothing was written: the configuration has errors\n  Resource start-up disabled since no STONITH resources have been defined\n"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(&c.cib), before);
    // A script with a mistake: the good lines before it are staged, the commit at the end
    // still happens only if everything verifies; a failing commit writes nothing.
    let o = c.shell(
        &[],
        "configure\nproperty stonith-enabled=true\nprimitive w systemd:httpd\n",
    );
    assert_eq!(code(&o), 1);
    assert_eq!(read(&c.cib), before);
}

#[test]
fn shell_reports_script_errors_with_file_line_and_column() {
    let c = Cluster::new("script", common::VALID_CIB);
    let script = c.dir.write(
        "setup.crm",
        "configure\nprimitive web systemd:httpd\nprimitive db ocf:heartbeat:mysql \\\n    params binary=/usr/bin/mysqld op monitor interval\ncommit\n",
    );
    let before = read(&c.cib);
    let o = c.shell(&["-f", script.to_str().unwrap()], "");
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        format!(
            "ERROR: {}:4:46: found \"interval\", expected NAME=VALUE\n",
            script.display()
        )
    );
    // The good statement was committed when the script ended (crmsh's batch mode).
    assert_ne!(read(&c.cib), before);
    assert!(
        c.ok("crm configure show web")
            .starts_with("primitive web systemd:httpd")
    );

    let o = c.shell(&[], "configure\nshow nosuch\nbogus\n");
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "ERROR: <stdin>:2:1: object nosuch does not exist\nERROR: <stdin>:3:1: found \"bogus\", expected a configure command (primitive, group, clone, ms, rsc_template, bundle, location, colocation, order, rsc_ticket, property, rsc_defaults, op_defaults, node, fencing_topology, tag, alert, role, acl_target, user, acl_group, xml, delete, rename, show, verify, commit, load, edit)\n"
    );
    let o = c.shell(&[], "configure\nprimitive x Dummy params a=\"b\nshow\n");
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "ERROR: <stdin>:4:1: found the end of the text, expected a closing \" for the quote opened at 2:28\n"
    );
    let o = c.shell(&[], "frobnicate\n");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).starts_with("ERROR: frobnicate: No such command"),
        "{}",
        stderr(&o)
    );
    // `status` on a CIB file shows the status it records, as crm_mon does with CIB_file.
    let o = c.shell(&[], "status\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("Cluster Summary:\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn shell_levels_help_and_root_level_configure() {
    let c = Cluster::new("levels", common::VALID_CIB);
    let o = c.shell(
        &[],
        "help\nconfigure show vip\ncd configure\nhelp\nls\nend\nquit\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("The top level."), "{out}");
    // The fixture's ids are not the ones crm generates: `show` writes them, so that the
    // text loads back with the same ids.
    assert!(
        out.contains("primitive vip IPaddr2 \\\n\tparams $id=vip-ia $vip-ip:ip=10.0.0.100\n"),
        "{out}"
    );
    assert!(out.contains("  commit            Write the staged changes to the CIB\n"));
    assert!(out.contains("primitive group clone ms rsc_template location"));
    let o = c.shell(&[], "help frob\n");
    assert_eq!(
        stderr(&o),
        "ERROR: no help for frob: it is not a command of this level\n"
    );
    // `tandem configure` with no command reads the configure level from a pipe.
    let mut cmd = common::tandem();
    cmd.arg("configure").env("CIB_file", &c.cib);
    let o = run_with_stdin(&mut cmd, "show rsc-options\n");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "rsc_defaults rsc-options: \\\n\t$rsc-options-stickiness:resource-stickiness=100\n"
    );
}

#[test]
fn load_update_and_replace() {
    let c = Cluster::new("load", common::VALID_CIB);
    let f = c.dir.write(
        "more.crm",
        "# web tier\nprimitive web systemd:httpd op monitor interval=20s\ngroup g vip web\n",
    );
    c.ok(&format!("crm configure load update {}", f.display()));
    let shown = c.ok("crm configure show");
    assert!(
        shown.contains("# web tier\nprimitive web systemd:httpd \\\n\top monitor interval=20s\n"),
        "{shown}"
    );
    assert!(shown.contains("group g vip web\n"));
    let r = c.dir.write(
        "all.crm",
        "node 1: node1\nproperty stonith-enabled=false\nprimitive only Dummy\n",
    );
    c.ok(&format!("crm configure load replace {}", r.display()));
    assert_eq!(
        c.ok("crm configure show"),
        "node 1: node1\nprimitive only Dummy\nproperty cib-bootstrap-options: \\\n\tstonith-enabled=false\n"
    );
    let bad = c.dir.write("bad.crm", "primitive x Dummy\nshow\n");
    let before = read(&c.cib);
    let o = c.sh(&format!("crm configure load update {}", bad.display()));
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        format!(
            "tandem: error: {}:2:1: found \"show\", expected an object definition (a file to load holds definitions only)\n",
            bad.display()
        )
    );
    assert_eq!(read(&c.cib), before);
}

#[test]
fn without_a_cib_file_the_cluster_is_needed() {
    let mut cmd = common::tandem();
    cmd.args(["configure", "show"]);
    let o = cmd.output().unwrap();
    assert_eq!(code(&o), 102);
    assert!(
        stderr(&o).contains("no cluster is running on this node"),
        "{}",
        stderr(&o)
    );
}
