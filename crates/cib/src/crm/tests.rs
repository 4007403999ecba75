//! Unit tests of the crm language: parse, apply, show.

use super::*;
use crate::Cib;

fn run(text: &str) -> Document {
    let mut doc = Cib::empty().into_document();
    for cmd in parse(text).unwrap() {
        execute(&mut doc, &cmd).unwrap();
    }
    doc
}

#[test]
fn tutorial_primitive_shows_like_crmsh() {
    let doc = run(
        r#"primitive IP ocf:heartbeat:IPaddr2 params ip=10.0.10.200 cidr_netmask="24" op monitor interval="30s""#,
    );
    assert_eq!(
        show(&doc, &[]).unwrap(),
        "primitive IP IPaddr2 \\\n\tparams ip=10.0.10.200 cidr_netmask=24 \\\n\top monitor interval=30s\n"
    );
}

fn doc_with(text: &str) -> Document {
    run(text)
}

fn apply_err(doc: &mut Document, text: &str) -> String {
    let cmds = parse(text).unwrap();
    let before = doc.digest();
    let e = execute(doc, &cmds[0]).unwrap_err();
    assert_eq!(
        doc.digest(),
        before,
        "a failed command changed the document"
    );
    e.to_string()
}

#[test]
fn syntax_errors_say_where_what_was_found_and_what_was_expected() {
    let cases = [
        (
            "primitive",
            "1:10: found the end of the line, expected a resource id (a letter or _, then letters, digits, _ . -)",
        ),
        (
            "primitive a foo:bar",
            "1:13: found \"foo:bar\", expected a resource agent [class:[provider:]]type with class one of ocf, lsb, systemd, service, stonith, heartbeat, nagios, upstart (a provider only with ocf)",
        ),
        (
            "primitive a lsb:x:y",
            "1:13: found \"lsb:x:y\", expected a resource agent [class:[provider:]]type with class one of ocf, lsb, systemd, service, stonith, heartbeat, nagios, upstart (a provider only with ocf)",
        ),
        (
            "primitive a Dummy op",
            "1:21: found the end of the line, expected an operation name (monitor, start, stop, ...)",
        ),
        (
            "primitive a Dummy op start depth=1 timeout=5",
            "1:36: found \"timeout=5\", expected operation parameters after the operation's attributes (timeout must come before depth)",
        ),
        (
            "group g",
            "1:8: found the end of the line, expected a resource id (a group needs at least one member)",
        ),
        (
            "group g a a",
            "1:11: found \"a\", expected each resource once (it is listed twice)",
        ),
        (
            "location l a",
            "1:13: found the end of the line, expected SCORE: NODE or rule",
        ),
        (
            "location l a rule",
            "1:18: found the end of the line, expected an expression (ATTR OP VALUE, defined ATTR, date ...)",
        ),
        (
            "location l a rule #uname like n1",
            "1:26: found \"like\", expected an operator (lt, gt, lte, gte, eq, ne), optionally TYPE:OP with TYPE string, integer, number or version",
        ),
        (
            "location l a rule date after 2020",
            "1:24: found \"after\", expected a date operation (lt, gt, in, spec)",
        ),
        (
            "colocation c inf: a:Leader b",
            "1:19: found \"a:Leader\", expected RESOURCE:ROLE with role one of Stopped, Started, Promoted, Unpromoted, Master, Slave",
        ),
        (
            "colocation c inf: ( a b",
            "1:19: found \"(\", expected a set closed before the end of the statement",
        ),
        (
            "colocation c inf: a b )",
            "1:23: found \")\", expected a resource (no set is open)",
        ),
        (
            "order o Mandatory: a:begin b",
            "1:20: found \"a:begin\", expected RESOURCE:ACTION with action one of start, promote, demote, stop",
        ),
        (
            "order o a b symmetrical=maybe",
            "1:13: found \"symmetrical=maybe\", expected symmetrical=true or symmetrical=false",
        ),
        (
            "property",
            "1:9: found the end of the line, expected NAME=VALUE",
        ),
        ("property foo", "1:10: found \"foo\", expected NAME=VALUE"),
        (
            "node n1:robot",
            "1:6: found \"n1:robot\", expected a node name, optionally :normal, :member, :ping or :remote",
        ),
        (
            "rename a",
            "1:9: found the end of the line, expected the new id (a letter or _, then letters, digits, _ . -)",
        ),
        (
            "load sideways f",
            "1:6: found \"sideways\", expected update or replace",
        ),
        (
            "xml <primitive id='x'",
            "1:5: found the end of input inside the tag that starts here, expected `>` to close it",
        ),
        (
            "commit now",
            "1:8: found \"now\", expected the end of the statement",
        ),
    ];
    for (text, expected) in cases {
        match parse(text) {
            Err(e) => assert_eq!(e.to_string(), expected, "{text}"),
            Ok(c) => panic!("{text} parsed: {c:?}"),
        }
    }
}

#[test]
fn apply_errors_leave_the_document_unchanged() {
    let mut doc = doc_with("primitive a Dummy\nprimitive b Dummy\ngroup g a\nclone c b");
    let cases = [
        (
            "primitive a Dummy",
            "1:1: a already exists (a primitive); choose another id, or delete it first",
        ),
        (
            "group g2 a",
            "1:1: group g2: a is already in group g; a resource can be in one container only",
        ),
        (
            "group g2 c",
            "1:1: group g2: c is a clone, a group holds primitives only",
        ),
        (
            "clone c2 b",
            "1:1: clone c2: b is already in clone c; a resource can be in one container only",
        ),
        (
            "clone c2 x",
            "1:1: clone c2: resource x does not exist; define it first",
        ),
        ("delete a x", "1:1: object x does not exist"),
        (
            "rename a b",
            "1:1: the id b is already used by another element; choose another id",
        ),
        ("rename x y", "1:1: object x does not exist"),
        (
            "primitive g-meta Dummy params $id=a-x y=1\nprimitive q Dummy params $id=a-x",
            "1:1: the id a-x is already used by another element; choose another id",
        ),
        (
            "fencing_topology a\nfencing_topology a",
            "1:1: fencing_topology already exists; delete it first or use load update",
        ),
    ];
    for (text, expected) in cases {
        let cmds = parse(text).unwrap();
        for c in &cmds[..cmds.len() - 1] {
            execute(&mut doc, c).unwrap();
        }
        let before = doc.digest();
        let e = execute(&mut doc, cmds.last().unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            expected.replace("1:1:", &format!("{}:", cmds.last().unwrap().pos)),
            "{text}"
        );
        assert_eq!(doc.digest(), before, "{text} changed the document");
    }
    assert_eq!(
        apply_err(&mut doc, "show nosuch"),
        "1:1: object nosuch does not exist"
    );
}

#[test]
fn delete_follows_crmsh() {
    let mut doc = doc_with(
        "primitive a Dummy\nprimitive b Dummy\nprimitive c Dummy\ngroup g a b\n\
         colocation col1 inf: c g\norder o1 Mandatory: a c\ncolocation col2 inf: ( a b c )\n\
         location l1 c 100: n1\ntag t a c",
    );
    let cmds = parse("delete g").unwrap();
    let Outcome::Changed(notes) = execute(&mut doc, &cmds[0]).unwrap() else {
        panic!()
    };
    assert_eq!(notes, vec!["modified colocation:col1 from g to a"]);
    assert!(
        show(&doc, &[])
            .unwrap()
            .contains("colocation col1 inf: c a\n")
    );
    let cmds = parse("delete c").unwrap();
    let Outcome::Changed(notes) = execute(&mut doc, &cmds[0]).unwrap() else {
        panic!()
    };
    assert_eq!(
        notes,
        vec![
            "hanging colocation:col1 deleted",
            "hanging order:o1 deleted",
            "colocation:col2 updated",
            "hanging location:l1 deleted",
            "tag:t updated"
        ]
    );
    assert_eq!(
        show(&doc, &[]).unwrap(),
        "primitive a Dummy\nprimitive b Dummy\ntag t a\ncolocation col2 inf: ( a b )\n"
    );
    // The last member of a group takes the group with it.
    let mut doc = doc_with("primitive a Dummy\ngroup g a\nclone cl g");
    for c in parse("delete a").unwrap() {
        execute(&mut doc, &c).unwrap();
    }
    assert_eq!(show(&doc, &[]).unwrap(), "");
}

#[test]
fn rename_updates_references() {
    let mut doc = doc_with(
        "rsc_template t Dummy\nprimitive a @t\nprimitive c Dummy\ncolocation col inf: c a\n\
         order o Mandatory: ( a c )\ntag tg a",
    );
    for c in parse("rename a b\nrename t tt").unwrap() {
        execute(&mut doc, &c).unwrap();
    }
    assert_eq!(
        show(&doc, &[]).unwrap(),
        "rsc_template tt Dummy\nprimitive b @tt\nprimitive c Dummy\ntag tg b\n\
         colocation col inf: c b\norder o Mandatory: ( b c )\n"
    );
}

#[test]
fn property_merges_and_comments_are_kept() {
    let doc = doc_with(
        "property a=1 b=2\nproperty b=3\n# the web tier\nprimitive web Dummy\nop_defaults $id=my-ops timeout=20s",
    );
    assert_eq!(
        show(&doc, &[]).unwrap(),
        "# the web tier\nprimitive web Dummy\nproperty cib-bootstrap-options: \\\n\ta=1 \\\n\tb=3\nop_defaults my-ops: \\\n\ttimeout=20s\n"
    );
}

#[test]
fn fencing_topology_forms() {
    let doc = doc_with(
        "node n1\nnode n2\nprimitive f1 stonith:fence_ipmilan\nprimitive f2 stonith:fence_sbd\n\
         fencing_topology n1: f1 f2 n2: f1,f2 pattern:web.* f2 attr:rack=1 f1",
    );
    assert_eq!(
        show(&doc, &["fencing_topology".to_string()]).unwrap(),
        "fencing_topology \\\n\tn1: f1 f2 \\\n\tn2: f1,f2 \\\n\tpattern:web.* f2 \\\n\tattr:rack=1 f1\n"
    );
}

#[test]
fn xml_objects_round_trip() {
    let doc = doc_with(
        "xml <alert id=\"a1\" path=\"/usr/local/bin/alert.sh\"><recipient id=\"a1-r\" value=\"/var/log/alerts\"/></alert>",
    );
    let shown = show(&doc, &[]).unwrap();
    assert_eq!(
        shown,
        "xml <alert id=\"a1\" path=\"/usr/local/bin/alert.sh\"> \\\n  <recipient id=\"a1-r\" value=\"/var/log/alerts\"/> \\\n</alert>\n"
    );
    assert_eq!(show(&doc_with(&shown), &[]).unwrap(), shown);
}

/// Deterministic mutations of the golden inputs (a tiny xorshift, no crate needed): nothing
/// panics, and a failing command never changes the document. The fuzz target
/// (`fuzz/fuzz_targets/crm_parse.rs`) does the same at scale.
#[test]
fn mutated_input_never_panics_or_half_applies() {
    let inputs = [
        include_str!("../../tests/crm/constraints.crm"),
        include_str!("../../tests/crm/quoting.crm"),
        include_str!("../../tests/crm/operations.crm"),
    ];
    let alphabet = b" \n\\\"'=:()[]{}#$@/-_abc019";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..600 {
        let base = inputs[round % inputs.len()].as_bytes();
        let mut bytes = base.to_vec();
        for _ in 0..(1 + next() % 6) {
            let at = (next() as usize) % bytes.len();
            match next() % 3 {
                0 => bytes[at] = alphabet[(next() as usize) % alphabet.len()],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
            }
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let Ok(cmds) = parse(&text) else { continue };
        let mut doc = Cib::empty().into_document();
        for c in &cmds {
            let before = doc.digest();
            if execute(&mut doc, c).is_err() {
                assert_eq!(doc.digest(), before, "round {round}: {text}");
            }
        }
        let _ = show_all(&doc);
        Cib::from_document(doc).unwrap();
    }
}
