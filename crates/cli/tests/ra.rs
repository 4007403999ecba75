//! `tandem ra` and `tandem resource force-*` against the real binary, with agents in a
//! private OCF root: listing, info, meta-data, install (the `tandem` binary then *is* the
//! agents), one-off actions with the CIB's parameters, and `configure verify`'s advice.
// Tests of a driver crate: they own the clock, threads and child processes.
#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Scratch, code, stderr, stdout, tandem};

/// An OCF root with Tandem's agents installed by `tandem ra install`, plus a script agent
/// `test:Echo` that prints its environment and advises long timeouts.
fn ocf_root(s: &Scratch) -> std::path::PathBuf {
    let root = s.path("ocf");
    let out = tandem()
        .args(["ra", "install", "--ocf-root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let listed: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    let dir = root.join("resource.d/tandem");
    assert_eq!(
        listed,
        ["IPaddr", "Dummy", "Stateful", "process"].map(|a| dir.join(a).display().to_string())
    );
    let echo = root.join("resource.d/test/Echo");
    std::fs::create_dir_all(echo.parent().unwrap()).unwrap();
    std::fs::write(
        &echo,
        "#!/bin/sh\ncase $1 in\nmeta-data) cat <<'EOF'\n<?xml version=\"1.0\"?>\n<resource-agent name=\"Echo\">\n\
         <version>1.1</version><longdesc lang=\"en\">Echoes.</longdesc><shortdesc lang=\"en\">Echo agent</shortdesc>\n\
         <parameters><parameter name=\"word\" required=\"1\"><longdesc lang=\"en\">A word.</longdesc>\
         <shortdesc lang=\"en\">word</shortdesc><content type=\"string\" default=\"hi\"/></parameter></parameters>\n\
         <actions><action name=\"start\" timeout=\"100\"/><action name=\"stop\" timeout=\"100\"/>\
         <action name=\"monitor\" timeout=\"30s\" interval=\"10s\"/><action name=\"meta-data\" timeout=\"5\"/></actions>\n\
         </resource-agent>\nEOF\nexit 0;;\nstart) echo \"word=$OCF_RESKEY_word timeout=$OCF_RESKEY_CRM_meta_timeout \
         stick=$OCF_RESKEY_CRM_meta_resource_stickiness level=${OCF_CHECK_LEVEL:-none}\"; exit 0;;\n\
         monitor) echo 'ocf-exit-reason:nothing here' >&2; exit 7;;\nesac\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&echo, std::fs::Permissions::from_mode(0o755)).unwrap();
    root
}

fn ra(root: &Path, args: &[&str]) -> std::process::Output {
    tandem()
        .arg("ra")
        .args(args)
        .arg("--ocf-root")
        .arg(root)
        .output()
        .unwrap()
}

#[test]
fn classes_list_providers_info_and_metadata() {
    let s = Scratch::new("ra");
    let root = ocf_root(&s);
    assert_eq!(
        stdout(&ra(&root, &["classes"])),
        "lsb\nocf / tandem test\nservice\nstonith\nsystemd\n"
    );
    let out = tandem()
        .env("COLUMNS", "40")
        .args(["ra", "list", "ocf:tandem", "--ocf-root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "Dummy     IPaddr    Stateful  process\n");
    assert_eq!(stdout(&ra(&root, &["list", "ocf", "test"])), "Echo\n");
    assert_eq!(stdout(&ra(&root, &["providers", "Dummy"])), "tandem\n");
    assert_eq!(
        stdout(&ra(&root, &["info", "ocf:test:Echo"])),
        "Echo agent (ocf:test:Echo)\n\nEchoes.\n\nParameters (*: required, []: default):\n\n\
         word* (string, [hi]): word\n    A word.\n\nOperations' defaults (advisory minimum):\n\n\
         \x20   start                timeout=100\n    stop                 timeout=100\n\
         \x20   monitor              timeout=30s interval=10s\n"
    );
    // A bare type is found under whichever provider has it.
    let md = stdout(&ra(&root, &["meta-data", "Stateful"]));
    assert!(md.contains("<resource-agent name=\"Stateful\""), "{md}");
    let out = ra(&root, &["info", "ocf:test:Nope"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("the meta-data action returned 'not installed' (5)"),
        "{}",
        stderr(&out)
    );
}

/// Installed agents are links to the `tandem` binary, which runs as the agent they name.
#[test]
fn installed_agents_run_through_the_tandem_binary() {
    let s = Scratch::new("ra-run");
    let root = ocf_root(&s);
    let dummy = root.join("resource.d/tandem/Dummy");
    let state = s.path("d.state");
    let run = |action: &str| {
        std::process::Command::new(&dummy)
            .arg(action)
            .env("OCF_RESKEY_state", &state)
            .output()
            .unwrap()
            .status
            .code()
            .unwrap()
    };
    assert_eq!(run("monitor"), 7);
    assert_eq!(run("start"), 0);
    assert_eq!(run("monitor"), 0);
    assert_eq!(run("stop"), 0);
    assert_eq!(run("monitor"), 7);
}

const CIB_HEAD: &str = r#"<cib crm_feature_set="3.19.0" validate-with="pacemaker-3.10" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes/>
    <resources>"#;
const CIB_TAIL: &str = r#"
    </resources>
    <constraints/>
    <rsc_defaults><meta_attributes id="d"><nvpair id="d-s" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>
  </configuration>
  <status/>
</cib>
"#;

#[test]
fn force_actions_use_the_cib_definition() {
    let s = Scratch::new("force");
    let root = ocf_root(&s);
    let state = s.path("d.state");
    let cib = s.write(
        "cib.xml",
        &format!(
            r#"{CIB_HEAD}
      <primitive id="echo" class="ocf" provider="test" type="Echo">
        <instance_attributes id="echo-ia"><nvpair id="echo-w" name="word" value="two words"/></instance_attributes>
        <operations>
          <op id="echo-start" name="start" interval="0" timeout="45s"/>
          <op id="echo-mon" name="monitor" interval="10s" timeout="15s"/>
        </operations>
      </primitive>
      <clone id="dc"><primitive id="d" class="ocf" provider="tandem" type="Dummy">
        <instance_attributes id="d-ia"><nvpair id="d-st" name="state" value="{}"/></instance_attributes>
      </primitive></clone>
      <group id="g"><primitive id="g1" class="ocf" provider="tandem" type="Dummy"/></group>{CIB_TAIL}"#,
            state.display()
        ),
    );
    let force = |args: &[&str]| {
        tandem()
            .arg("--cib")
            .arg(&cib)
            .arg("resource")
            .args(args)
            .arg("--ocf-root")
            .arg(&root)
            .output()
            .unwrap()
    };
    let out = force(&["force-start", "echo"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "Operation start for echo (ocf:test:Echo) returned: 'ok' (0)\n \
         >  stdout: word=two words timeout=45000 stick=100 level=none\n"
    );
    let out = force(&["force-check", "echo", "--check-level", "10"]);
    assert_eq!(code(&out), 7);
    assert_eq!(
        stdout(&out),
        "Operation monitor for echo (ocf:test:Echo) returned: 'not running' (7)\n >  stderr: ocf-exit-reason:nothing here\n"
    );
    let out = force(&["force-promote", "echo", "--timeout", "1min"]);
    assert_eq!(
        (code(&out), stdout(&out).lines().next().unwrap()),
        (
            3,
            "Operation promote for echo (ocf:test:Echo) returned: 'unimplemented feature' (3)"
        )
    );
    // A clone runs its primitive, under the clone's name.
    assert_eq!(code(&force(&["force-start", "dc"])), 0);
    assert!(state.exists());
    assert_eq!(
        stdout(&force(&["force-check", "dc"])),
        "Operation monitor for dc (ocf:tandem:Dummy) returned: 'ok' (0)\n"
    );
    assert_eq!(code(&force(&["force-stop", "dc"])), 0);
    assert!(!state.exists());
    let out = force(&["force-start", "g"]);
    assert_eq!(
        (code(&out), stderr(&out)),
        (
            1,
            "tandem: error: the force options do not support group resources (g)\n".into()
        )
    );
    let out = force(&["force-start", "nosuch"]);
    assert_eq!(
        stderr(&out),
        "tandem: error: resource nosuch is not defined in the CIB\n"
    );
    // Through a link named crm_resource, with its own flags.
    let link = s.path("crm_resource");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tandem"), &link).unwrap();
    let out = std::process::Command::new(&link)
        .env("CIB_file", &cib)
        .env("OCF_ROOT", &root)
        .args(["--force-start", "-r", "echo", "--timeout=5s"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "Operation start for echo (ocf:test:Echo) returned: 'ok' (0)\n \
         >  stdout: word=two words timeout=5000 stick=100 level=none\n"
    );
    // Without a CIB there is no definition to use.
    let out = tandem()
        .args(["resource", "force-start", "echo"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 102);
}

#[test]
fn configure_verify_warns_about_timeouts_below_the_advice() {
    let s = Scratch::new("advised");
    let root = ocf_root(&s);
    let cib = s.write(
        "cib.xml",
        &format!(
            r#"{CIB_HEAD}
      <primitive id="echo" class="ocf" provider="test" type="Echo">
        <operations><op id="echo-mon" name="monitor" interval="10s" timeout="20s"/></operations>
      </primitive>{CIB_TAIL}"#
        ),
    );
    let out = tandem()
        .env("OCF_ROOT", &root)
        .arg("--cib")
        .arg(&cib)
        .args(["configure", "verify"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "warnings are not errors");
    assert_eq!(
        stderr(&out),
        "WARNING: echo: specified timeout 20s for monitor is smaller than the advised 30s\n\
         WARNING: echo: default timeout 20s for start is smaller than the advised 100\n\
         WARNING: echo: default timeout 20s for stop is smaller than the advised 100\n"
    );
}
