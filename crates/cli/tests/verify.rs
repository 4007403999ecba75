#![allow(clippy::unwrap_used)]
//! `tandem verify` (and `crm_verify` through a link): exact output and exit codes.

mod common;

use common::*;

const NO_STONITH_V: &str =
    "error: Resource start-up disabled since no STONITH resources have been defined
error: Either configure some or disable STONITH with the stonith-enabled option
error: NOTE: Clusters with shared data need STONITH to ensure data integrity
Errors found during check: config not valid
";

#[test]
fn the_tutorial_message_with_v() {
    let s = Scratch::new("verify");
    let file = s.write("cib.xml", tandem_cib::EMPTY_CIB);
    let o = tandem()
        .args(["verify", "-x"])
        .arg(&file)
        .arg("-V")
        .output()
        .unwrap();
    assert_eq!(stderr(&o), NO_STONITH_V);
    assert_eq!(stdout(&o), "");
    assert_eq!(code(&o), 78);
}

#[test]
fn without_v_only_the_verdict_and_the_hint() {
    let s = Scratch::new("verify");
    let file = s.write("cib.xml", tandem_cib::EMPTY_CIB);
    let o = tandem()
        .args(["verify", "--xml-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        stderr(&o),
        "Errors found during check: config not valid\n-V may provide more details\n"
    );
    assert_eq!(code(&o), 78);
    let quiet = tandem()
        .args(["verify", "-q", "-x"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!((stderr(&quiet).as_str(), code(&quiet)), ("", 78));
}

#[test]
fn a_valid_configuration_prints_nothing_and_exits_0() {
    let s = Scratch::new("verify");
    let file = s.write("cib.xml", VALID_CIB);
    let o = tandem()
        .args(["verify", "-V", "-x"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        (stderr(&o).as_str(), stdout(&o).as_str(), code(&o)),
        ("", "", 0)
    );
}

#[test]
fn warnings_only() {
    let text = VALID_CIB.replace(
        r#"name="stonith-enabled" value="false"/>"#,
        r#"name="stonith-enabled" value="false"/><nvpair id="typo" name="no_quorum_policy" value="stop"/>"#,
    );
    let o = tandem()
        .args(["verify", "-V", "-X", &text])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&o),
        "warning: cluster option no_quorum_policy: has no effect: the option is spelt no-quorum-policy; rename it\n\
         Warnings found during check: config may not be valid\n"
    );
    assert_eq!(code(&o), 78);
}

#[test]
fn sources_pipe_text_cib_file_and_live() {
    let o = run_with_stdin(tandem().args(["verify", "-p"]), VALID_CIB);
    assert_eq!((stderr(&o).as_str(), code(&o)), ("", 0));
    let o = tandem().args(["verify", "-X", VALID_CIB]).output().unwrap();
    assert_eq!(code(&o), 0);
    // CIB_file makes -L (and no flag at all) read that file.
    let s = Scratch::new("verify");
    let file = s.write("cib.xml", tandem_cib::EMPTY_CIB);
    for args in [&["verify", "-L", "-V"][..], &["verify", "-V"][..]] {
        let o = tandem().env("CIB_file", &file).args(args).output().unwrap();
        assert_eq!((stderr(&o).as_str(), code(&o)), (NO_STONITH_V, 78));
    }
    let o = tandem().args(["verify", "-L"]).output().unwrap();
    assert_eq!(
        stderr(&o),
        "tandem verify: no cluster is running on this node (no tandem daemon answers in \
         /nonexistent/tandem-test-run); check a file with -x FILE, or set CIB_file=PATH\n"
    );
    assert_eq!(code(&o), 102);
    let o = tandem().args(["verify"]).output().unwrap();
    assert_eq!(
        stderr(&o),
        "tandem verify: no input given: use -x FILE, -X TEXT, -p (stdin), or -L (the running \
         cluster; with CIB_file=PATH, that file)\n"
    );
    assert_eq!(code(&o), 66);
}

#[test]
fn malformed_input_names_file_line_and_column() {
    let s = Scratch::new("verify");
    let file = s.write(
        "bad.xml",
        "<cib>\n  <configuration>\n    <resources>\n  </configuration>\n</cib>\n",
    );
    let o = tandem().args(["verify", "-x"]).arg(&file).output().unwrap();
    assert_eq!(
        stderr(&o),
        format!(
            "tandem verify: {}:4:3: found the end tag </configuration>, expected </resources> \
             (the element opened at 3:5) (the input is not well-formed XML)\n",
            file.display()
        )
    );
    assert_eq!(code(&o), 66);
    let o = tandem()
        .args(["verify", "-V", "-X", "<config/>"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&o),
        "error: <xml-text>: the root element is <config>, expected <cib>\n\
         Errors found during check: config not valid\n"
    );
    assert_eq!(code(&o), 78);
    let o = tandem()
        .args(["verify", "-x", "/nonexistent/cib.xml"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&o),
        "tandem verify: cannot read CIB file /nonexistent/cib.xml: No such file or directory (os error 2)\n"
    );
    assert_eq!(code(&o), 66);
}

#[test]
fn xml_and_json_output() {
    let s = Scratch::new("verify");
    let file = s.write("cib.xml", tandem_cib::EMPTY_CIB);
    let o = tandem()
        .args(["verify", "--output-as", "xml", "-x"])
        .arg(&file)
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(out.starts_with("<pacemaker-result api-version=\"2.39\" request=\""));
    assert!(
        out.ends_with(
            "  <status code=\"78\" message=\"Invalid configuration\">
    <errors>
      <error>error: Resource start-up disabled since no STONITH resources have been defined</error>
      <error>error: Either configure some or disable STONITH with the stonith-enabled option</error>
      <error>error: NOTE: Clusters with shared data need STONITH to ensure data integrity</error>
      <error>Errors found during check: config not valid</error>
    </errors>
  </status>
</pacemaker-result>
"
        ),
        "{out}"
    );
    assert_eq!((stderr(&o).as_str(), code(&o)), ("", 78));
    let valid = s.write("valid.xml", VALID_CIB);
    let o = tandem()
        .args(["verify", "--output-as", "json", "-x"])
        .arg(&valid)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        "{\n  \"errors\": [],\n  \"status\": {\n    \"code\": 0,\n    \"message\": \"OK\"\n  }\n}\n"
    );
    assert_eq!(code(&o), 0);
}

#[test]
fn save_xml_writes_the_checked_cib() {
    let s = Scratch::new("verify");
    let saved = s.path("saved.xml");
    let o = tandem()
        .args(["verify", "-X", VALID_CIB, "-S"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    assert_eq!(String::from_utf8(read(&saved)).unwrap(), VALID_CIB);
}

#[test]
fn usage_errors_exit_64() {
    let o = tandem()
        .args(["verify", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 64);
}

#[cfg(unix)]
#[test]
fn crm_verify_link_takes_its_own_flags() {
    let s = Scratch::new("verify");
    let link = s.path("crm_verify");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tandem"), &link).unwrap();
    let file = s.write("cib.xml", tandem_cib::EMPTY_CIB);
    let mut cmd = std::process::Command::new(&link);
    cmd.env_remove("CIB_file")
        .args(["-L", "-V"])
        .env("CIB_file", &file);
    let o = cmd.output().unwrap();
    assert_eq!((stderr(&o).as_str(), code(&o)), (NO_STONITH_V, 78));
}
