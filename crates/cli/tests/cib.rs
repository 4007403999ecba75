#![allow(clippy::unwrap_used)]
//! `tandem cib new|query|replace` and `cibadmin` through a link: exact output, exit codes,
//! and "a refused replace leaves the file byte-for-byte as it was".

mod common;

use common::*;
use tandem_xml::{C14nOptions, Document};

fn c14n(text: &str) -> String {
    Document::parse(text).unwrap().c14n(C14nOptions::COMPARE)
}

#[test]
fn query_prints_the_cib_and_sections() {
    let s = Scratch::new("cib");
    let file = s.write("cib.xml", VALID_CIB);
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "query"])
        .output()
        .unwrap();
    assert_eq!((stdout(&o).as_str(), code(&o)), (VALID_CIB, 0));
    // --cib is the same as CIB_file.
    let o = tandem()
        .arg("--cib")
        .arg(&file)
        .args(["cib", "query", "-o", "resources"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        r#"<resources>
  <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
    <instance_attributes id="vip-ia">
      <nvpair id="vip-ip" name="ip" value="10.0.0.100"/>
    </instance_attributes>
  </primitive>
</resources>
"#
    );
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "query", "--scope", "status"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        "<status>\n  <node_state id=\"1\" uname=\"node1\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"/>\n</status>\n"
    );
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "query", "-o", "crm_config"])
        .output()
        .unwrap();
    assert!(
        stdout(&o)
            .starts_with("<crm_config>\n  <cluster_property_set id=\"cib-bootstrap-options\">")
    );
}

#[test]
fn query_of_a_missing_section_or_unknown_scope() {
    let s = Scratch::new("cib");
    let file = s.write("cib.xml", VALID_CIB);
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "query", "-o", "alerts"])
        .output()
        .unwrap();
    assert_eq!(
        (stderr(&o).as_str(), stdout(&o).as_str(), code(&o)),
        ("tandem: error: the CIB has no <alerts> section\n", "", 105)
    );
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "query", "-o", "everything"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 64);
    assert!(
        stderr(&o).starts_with("error: invalid value 'everything' for '--scope <SCOPE>'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn query_as_json() {
    let s = Scratch::new("cib");
    let file = s.write("cib.xml", VALID_CIB);
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "query", "-o", "nodes", "--output-as", "json"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        r#"{
  "attributes": {},
  "children": [
    {
      "attributes": {
        "id": "1",
        "uname": "node1"
      },
      "children": [],
      "element": "node"
    }
  ],
  "element": "nodes"
}
"#
    );
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "query", "--output-as", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["element"], "cib");
    assert_eq!(v["attributes"]["epoch"], "4");
}

#[test]
fn a_malformed_cib_file_is_reported_with_line_and_column() {
    let s = Scratch::new("cib");
    let file = s.write(
        "cib.xml",
        "<cib epoch=\"1\">\n  <configuration>\n    <nodes>\n      <node id=\"1\" uname=node1/>\n",
    );
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "query"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&o),
        format!(
            "tandem: error: {}:4:26: in <node>: found the value of attribute uname without \
             quotes, expected it in `\"` or `'`\n",
            file.display()
        )
    );
    assert_eq!((stdout(&o).as_str(), code(&o)), ("", 1));
}

#[test]
fn commands_that_need_a_cluster_say_so() {
    let o = tandem().args(["cib", "query"]).output().unwrap();
    assert_eq!(
        stderr(&o),
        "tandem: error: no cluster is running on this node (no tandem daemon answers in \
         /nonexistent/tandem-test-run); to work on a CIB file instead, set CIB_file=PATH or \
         pass --cib PATH\n"
    );
    assert_eq!(code(&o), 102);
}

#[test]
fn new_prints_or_writes_an_empty_cib() {
    let o = tandem().args(["cib", "new"]).output().unwrap();
    assert_eq!((stdout(&o).as_str(), code(&o)), (tandem_cib::EMPTY_CIB, 0));
    let s = Scratch::new("cib");
    let file = s.path("fresh.xml");
    let o = tandem().args(["cib", "new"]).arg(&file).output().unwrap();
    assert_eq!(code(&o), 0);
    assert_eq!(read(&file), tandem_cib::EMPTY_CIB.as_bytes());
    std::fs::write(&file, VALID_CIB).unwrap();
    let o = tandem().args(["cib", "new"]).arg(&file).output().unwrap();
    assert_eq!(
        stderr(&o),
        format!(
            "tandem: error: {} exists; pass --force to overwrite it with an empty CIB\n",
            file.display()
        )
    );
    assert_eq!((code(&o), read(&file)), (1, VALID_CIB.as_bytes().to_vec()));
    let o = tandem()
        .args(["cib", "new", "--force"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        (code(&o), read(&file)),
        (0, tandem_cib::EMPTY_CIB.as_bytes().to_vec())
    );
}

#[test]
fn replace_with_a_newer_or_changed_cib() {
    let s = Scratch::new("cib");
    let file = s.write("cib.xml", VALID_CIB);
    // Same version, different configuration: the next epoch, num_updates reset.
    let changed = s.write(
        "changed.xml",
        &VALID_CIB.replace("10.0.0.100", "10.0.0.200"),
    );
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "replace"])
        .arg(&changed)
        .output()
        .unwrap();
    assert_eq!(
        (stderr(&o).as_str(), code(&o)),
        ("CIB replaced: version 0.4.2 -> 0.5.0\n", 0)
    );
    let now = String::from_utf8(read(&file)).unwrap();
    assert!(now.contains(r#"epoch="5" num_updates="0""#));
    assert!(now.contains("10.0.0.200"));
    // A newer version is taken as it is.
    let newer = s.write(
        "newer.xml",
        &VALID_CIB.replace(r#"epoch="4""#, r#"epoch="9""#),
    );
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "replace"])
        .arg(&newer)
        .output()
        .unwrap();
    assert_eq!(stderr(&o), "CIB replaced: version 0.5.0 -> 0.9.2\n");
    assert_eq!(
        c14n(&String::from_utf8(read(&file)).unwrap()),
        c14n(&read_to_string(&newer))
    );
}

fn read_to_string(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn refused_replacements_leave_the_file_byte_identical() {
    let s = Scratch::new("cib");
    // Written by hand, not by tandem: any rewrite would show.
    let original = VALID_CIB.replace(
        "  <configuration>",
        "  <!-- hand edited -->\n  <configuration   >",
    );
    let file = s.write("cib.xml", &original);
    let older = s.write(
        "older.xml",
        &VALID_CIB.replace(r#"epoch="4""#, r#"epoch="3""#),
    );
    let malformed = s.write("bad.xml", "<cib epoch=\"9\">\n  <configuration>\n</cib>\n");
    let not_cib = s.write("config.xml", "<config/>\n");
    let nodes = s.write(
        "nodes.xml",
        "<nodes><node id=\"2\" uname=\"n2\"/></nodes>\n",
    );
    let cases: Vec<(Vec<std::ffi::OsString>, i32, String)> = vec![
        (
            vec!["replace".into(), older.clone().into()],
            103,
            format!(
                "tandem: error: {}: the new CIB (version 0.3.2) is older than the current one (0.4.2); refusing to go back, nothing was changed\n",
                older.display()
            ),
        ),
        (
            vec!["replace".into(), malformed.clone().into()],
            65,
            format!(
                "tandem: error: {}:3:1: found the end tag </cib>, expected </configuration> (the element opened at 2:3); nothing was changed\n",
                malformed.display()
            ),
        ),
        (
            vec!["replace".into(), not_cib.clone().into()],
            65,
            format!(
                "tandem: error: {}: the root element is <config>, expected <cib>; nothing was changed\n",
                not_cib.display()
            ),
        ),
        (
            vec![
                "replace".into(),
                nodes.clone().into(),
                "--scope".into(),
                "resources".into(),
            ],
            65,
            format!(
                "tandem: error: {}: the root element is <nodes>, expected <resources> for --scope resources; nothing was changed\n",
                nodes.display()
            ),
        ),
        (
            vec!["replace".into(), s.path("missing.xml").into()],
            66,
            format!(
                "tandem: error: cannot read CIB file {}: No such file or directory (os error 2)\n",
                s.path("missing.xml").display()
            ),
        ),
    ];
    for (args, want_code, want_err) in cases {
        let o = tandem()
            .env("CIB_file", &file)
            .arg("cib")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!((stderr(&o), code(&o)), (want_err, want_code), "{args:?}");
        assert_eq!(
            read(&file),
            original.as_bytes(),
            "{args:?} changed the file"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&s.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn replace_one_section() {
    let s = Scratch::new("cib");
    let file = s.write("cib.xml", VALID_CIB);
    let nodes = "<nodes><node id=\"1\" uname=\"node1\"/><node id=\"2\" uname=\"node2\"/></nodes>";
    let o = tandem()
        .env("CIB_file", &file)
        .args(["cib", "replace", "-o", "nodes", "-X", nodes])
        .output()
        .unwrap();
    assert_eq!(
        (stderr(&o).as_str(), code(&o)),
        ("CIB replaced: version 0.4.2 -> 0.5.0\n", 0)
    );
    let after = read_to_string(&file);
    let expected = VALID_CIB
        .replace(
            r#"epoch="4" num_updates="2""#,
            r#"epoch="5" num_updates="0""#,
        )
        .replace(
            "      <node id=\"1\" uname=\"node1\"/>\n",
            "      <node id=\"1\" uname=\"node1\"/>\n      <node id=\"2\" uname=\"node2\"/>\n",
        );
    assert_eq!(after, expected);
    // A status-only change counts as an update, not a new epoch.
    let o = run_with_stdin(
        tandem()
            .env("CIB_file", &file)
            .args(["cib", "replace", "--scope", "status", "-p"]),
        "<status/>",
    );
    assert_eq!(stderr(&o), "CIB replaced: version 0.5.0 -> 0.5.1\n");
}

#[cfg(unix)]
#[test]
fn cibadmin_link() {
    let s = Scratch::new("cib");
    let link = s.path("cibadmin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tandem"), &link).unwrap();
    let file = s.write("cib.xml", VALID_CIB);
    let run = |args: &[&str]| {
        std::process::Command::new(&link)
            .env("CIB_file", &file)
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["-Q"]);
    assert_eq!((stdout(&o).as_str(), code(&o)), (VALID_CIB, 0));
    let o = run(&["-Q", "-o", "nodes"]);
    assert_eq!(
        stdout(&o),
        "<nodes>\n  <node id=\"1\" uname=\"node1\"/>\n</nodes>\n"
    );
    let o = run(&["--empty"]);
    assert_eq!(stdout(&o), tandem_cib::EMPTY_CIB);
    let newer = s.write(
        "newer.xml",
        &VALID_CIB.replace(r#"epoch="4""#, r#"epoch="7""#),
    );
    let o = run(&["-R", "-x", newer.to_str().unwrap()]);
    assert_eq!((code(&o), read(&file)), (0, read(&newer)));
    let o = run(&["-M", "-x", "x.xml"]);
    assert_eq!(code(&o), 64);
    assert_eq!(
        stderr(&o),
        "cibadmin: -M is not supported by tandem (supported: -Q, -R, -o, -x, -X, -p, --empty); \
         use `tandem configure` to change single objects\n"
    );
}
