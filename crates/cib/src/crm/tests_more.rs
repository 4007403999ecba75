//! Unit tests of what `show` must not lose, the id forms it prints, and the bundle, alert
//! and ACL commands.

use tandem_xml::C14nOptions;

use super::*;
use crate::Cib;

fn run(text: &str) -> Document {
    let mut doc = Cib::empty().into_document();
    for cmd in parse(text).unwrap() {
        execute(&mut doc, &cmd).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    doc
}

fn from_xml(configuration: &str) -> Document {
    let text = format!(
        "<cib validate-with=\"pacemaker-3.10\" epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\">\
         <configuration><crm_config/><nodes/>{configuration}</configuration><status/></cib>"
    );
    Cib::parse(&text).unwrap().into_document()
}

/// `show`, then `load replace` into an empty CIB: every object comes back identical.
fn assert_round_trip(doc: &Document) -> String {
    let shown = show_all(doc);
    let mut back = Cib::empty().into_document();
    load(&mut back, &shown, LoadMethod::Replace).unwrap_or_else(|e| panic!("{e}\n{shown}"));
    for o in sorted_objects(doc) {
        let want = doc.node_c14n(o.node, C14nOptions::COMPARE);
        let got = find_object(&back, &o.id).map(|n| back.node_c14n(n, C14nOptions::COMPARE));
        assert_eq!(got.as_deref(), Some(want.as_str()), "{}\n{shown}", o.id);
    }
    shown
}

fn parse_err(text: &str) -> String {
    match parse(text) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("{text} parsed: {c:?}"),
    }
}

#[test]
fn ids_crm_would_not_generate_are_written_and_read_back() {
    let doc = from_xml(
        r##"<resources><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
             <instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="10.0.0.1"/>
               <nvpair id="vip-instance_attributes-cidr_netmask" name="cidr_netmask" value="24"/></instance_attributes>
             <operations><op id="vip-monitor-interval-10s" name="monitor" interval="10s"/>
               <op id="vip-start-0" name="start" interval="0"/></operations>
           </primitive></resources><constraints/>"##,
    );
    let shown = assert_round_trip(&doc);
    // The nvpair under a set with a written id is generated from that id, so its own
    // (`vip-instance_attributes-cidr_netmask`) must be written too; `vip-start-0` is what
    // crm generates and is left out.
    assert_eq!(
        shown,
        "primitive vip IPaddr2 \\\n\tparams $id=vip-ia $vip-ip:ip=10.0.0.1 \
         $vip-instance_attributes-cidr_netmask:cidr_netmask=24 \\\n\
         \top monitor interval=10s id=vip-monitor-interval-10s \\\n\top start interval=0\n"
    );
}

#[test]
fn reference_forms_parse_into_references() {
    let doc = run(
        "primitive a Dummy params x=1 operations $id=a-ops op monitor interval=5s\n\
         primitive b Dummy params $id-ref=a meta @a-instance_attributes-x \
         utilization @a-instance_attributes-x:cpu operations $id-ref=a-ops\n\
         primitive c Dummy params $c-x:x=2",
    );
    let b = show(&doc, &["b".to_string()]).unwrap();
    // `$id-ref=RESOURCE` names that resource's first set of the kind, as in crmsh.
    assert_eq!(
        b,
        "primitive b Dummy \\\n\tparams $id-ref=a-instance_attributes \\\n\
         \tmeta @a-instance_attributes-x \\\n\tutilization @a-instance_attributes-x:cpu \\\n\
         \toperations  $id-ref=a-ops\n"
    );
    let d = doc.root().unwrap();
    assert!(doc.find_by_id(d, "c-x").is_some());
    assert!(
        doc.find_by_id(d, "a-ops-monitor-5s").is_some(),
        "ops named from their set"
    );
    assert_round_trip(&doc);
    assert_eq!(
        parse_err("primitive a Dummy params $x"),
        "1:26: found \"$x\", expected $ID:NAME=VALUE, @REFERENCE or @REFERENCE:NAME"
    );
    assert_eq!(
        parse_err("primitive a Dummy params @1x"),
        "1:26: found \"@1x\", expected $ID:NAME=VALUE, @REFERENCE or @REFERENCE:NAME"
    );
    assert_eq!(
        parse_err("primitive a Dummy operations x"),
        "1:30: found \"x\", expected $id=ID or $id-ref=ID"
    );
    assert_eq!(
        parse_err("primitive a Dummy op monitor id=9x"),
        "1:30: found \"id=9x\", expected id=ID with a valid id"
    );
}

#[test]
fn what_crm_cannot_express_is_shown_as_xml() {
    // A nested rule, an expression id crm would not generate, an unknown attribute.
    let doc = from_xml(
        r##"<resources><primitive id="a" class="ocf" provider="heartbeat" type="Dummy" foo="bar"/>
           <primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/></resources>
           <constraints><rsc_location id="l" rsc="b"><rule id="l-rule" score="10">
             <expression id="my-expr" attribute="#uname" operation="eq" value="n1"/></rule></rsc_location>
           <rsc_location id="m" rsc="b"><rule id="m-rule" score="10" boolean-op="or">
             <expression id="m-rule-expression" attribute="#uname" operation="eq" value="n1"/>
             <rule id="m-inner" score="0"><expression id="m-inner-expression" attribute="x" operation="defined"/></rule>
           </rule></rsc_location></constraints>"##,
    );
    let shown = assert_round_trip(&doc);
    let heads: Vec<String> = shown
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '<']))
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        heads,
        [
            "xml <primitive",
            "primitive b",
            "xml <rsc_location",
            "xml <rsc_location"
        ]
    );
}

#[test]
fn a_container_in_xml_form_carries_its_members() {
    // The meta set after the member: the crm text would put it first.
    let doc = from_xml(
        r##"<resources><clone id="c"><primitive id="p" class="ocf" provider="heartbeat" type="Dummy"/>
             <meta_attributes id="c-meta_attributes"><nvpair id="c-meta_attributes-interleave" name="interleave" value="true"/></meta_attributes>
           </clone><group id="g"><meta_attributes id="g-meta_attributes"/>
             <primitive id="q" class="ocf" provider="heartbeat" type="Dummy"/></group></resources><constraints/>"##,
    );
    let shown = assert_round_trip(&doc);
    assert_eq!(
        shown,
        "primitive q Dummy\ngroup g q \\\n\tmeta\n\
         xml <clone id=\"c\"> \\\n  <primitive id=\"p\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/> \\\n  \
         <meta_attributes id=\"c-meta_attributes\"> \\\n    \
         <nvpair id=\"c-meta_attributes-interleave\" name=\"interleave\" value=\"true\"/> \\\n  \
         </meta_attributes> \\\n</clone>\n"
    );
    // Shown alone, the member is its own object; with its container, it is inside.
    assert_eq!(
        show(&doc, &["p".to_string()]).unwrap(),
        "primitive p Dummy\n"
    );
    let both = show(&doc, &["p".to_string(), "c".to_string()]).unwrap();
    assert!(
        both.starts_with("xml <clone") && !both.contains("primitive p"),
        "{both}"
    );
}

#[test]
fn comments_are_kept_as_written() {
    let doc = run("# web tier\n### no space ###\nprimitive web Dummy");
    let web = find_object(&doc, "web").unwrap();
    assert_eq!(
        doc.node_c14n(web, C14nOptions::COMPARE),
        "<primitive class=\"ocf\" id=\"web\" provider=\"heartbeat\" type=\"Dummy\">\
         <!--# web tier--><!--### no space ###--></primitive>"
    );
    assert_eq!(
        show_all(&doc),
        "# web tier\n### no space ###\nprimitive web Dummy\n"
    );
    // A comment written in XML as `<!-- text -->` is shown `# text` but would read back
    // as `<!--# text-->`: that object is shown in XML.
    let doc = from_xml(
        "<resources><primitive id=\"a\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">\
         <!-- odd --></primitive></resources><constraints/>",
    );
    assert!(assert_round_trip(&doc).starts_with("xml <primitive"));
}

#[test]
fn bundles_take_in_their_primitive() {
    let mut doc = run("primitive web apache\nprimitive other Dummy\n\
         bundle b docker image=pcmk:web network port-mapping port=80 primitive web meta target-role=Stopped");
    let b = find_object(&doc, "b").unwrap();
    let kids: Vec<&str> = doc.elements(b).map(|c| doc.name(c)).collect();
    assert_eq!(kids, ["docker", "network", "primitive", "meta_attributes"]);
    assert_eq!(
        doc.attr(doc.descend(b, &["network", "port-mapping"]).unwrap(), "id"),
        Some("b-0")
    );
    assert_round_trip(&doc);
    let e = |doc: &mut Document, t: &str| {
        let c = parse(t).unwrap();
        execute(doc, &c[0]).unwrap_err().to_string()
    };
    assert_eq!(
        e(&mut doc, "bundle b2 docker image=x primitive nosuch"),
        "1:1: bundle b2: resource nosuch does not exist; define it first"
    );
    assert_eq!(
        e(&mut doc, "bundle b3 docker image=x primitive web"),
        "1:1: bundle b3: web is already in bundle b; a resource can be in one container only"
    );
    assert_eq!(
        parse_err("bundle b4 network port-mapping port=80"),
        "1:39: found the end of the line, expected a container: docker, podman or rkt with its settings"
    );
    assert_eq!(
        parse_err("bundle b4 docker image=x frob"),
        "1:26: found \"frob\", expected NAME=VALUE"
    );
    // Deleting the bundle keeps its primitive.
    for c in parse("delete b").unwrap() {
        execute(&mut doc, &c).unwrap();
    }
    assert!(show_all(&doc).contains("primitive web apache\n"));
}

#[test]
fn alerts_parse_as_crmsh_parses_them() {
    let doc = run(
        "alert a /bin/a.sh meta timeout=5s select fencing attributes { standby } \
         to { /tmp/log attributes level=1 } to /tmp/other meta x=1",
    );
    let a = find_object(&doc, "a").unwrap();
    assert_eq!(
        doc.node_c14n(a, C14nOptions::COMPARE),
        "<alert id=\"a\" path=\"/bin/a.sh\"><meta_attributes id=\"a-meta_attributes\">\
         <nvpair id=\"a-meta_attributes-timeout\" name=\"timeout\" value=\"5s\"></nvpair>\
         </meta_attributes><select><select_fencing></select_fencing><select_attributes>\
         <attribute id=\"a-0\" name=\"standby\"></attribute></select_attributes></select>\
         <recipient id=\"a-recipient-1\" value=\"/tmp/log\"><instance_attributes \
         id=\"a-recipient-1-instance_attributes\"><nvpair id=\"a-recipient-1-instance_attributes-level\" \
         name=\"level\" value=\"1\"></nvpair></instance_attributes></recipient>\
         <recipient id=\"a-recipient-2\" value=\"/tmp/other\"><meta_attributes \
         id=\"a-recipient-2-meta_attributes\"><nvpair id=\"a-recipient-2-meta_attributes-x\" \
         name=\"x\" value=\"1\"></nvpair></meta_attributes></recipient></alert>"
    );
    assert_round_trip(&doc);
    assert_eq!(
        parse_err("alert a /x select"),
        "1:18: found the end of the line, expected what to select: nodes, fencing, resources or attributes { ... }"
    );
    assert_eq!(
        parse_err("alert a /x to { /y"),
        "1:19: found the end of the line, expected } closing the recipient"
    );
}

#[test]
fn acl_commands() {
    let doc = run(
        "role admin description=all write xpath:/cib read ref:web type:primitive attr:target-role\n\
         acl_target alice admin\nuser bob role:admin\nacl_group ops admin",
    );
    let shown = assert_round_trip(&doc);
    assert_eq!(
        shown,
        "role admin \\\n\tdescription=all \\\n\twrite cib \\\n\tread ref:web \\\n\
         \tread attr:target-role type:primitive\n\
         acl_target alice \\\n\tadmin\nacl_target bob \\\n\tadmin\nacl_group ops \\\n\tadmin\n"
    );
    assert_eq!(
        parse_err("role r read"),
        "1:12: found the end of the line, expected what the right applies to: xpath:XPATH, ref:ID, type:TAG [attr:NAME], or a shortcut (meta:RSC, params:RSC, utilization:RSC, location:RSC, property, node, nodeattr, nodeutil, status, cib)"
    );
    assert_eq!(
        parse_err("role r read attr:x"),
        "1:19: found the end of the line, expected type:TAG (attr: only goes with type:)"
    );
    assert_eq!(
        parse_err("role r read meta"),
        "1:13: found \"meta\", expected meta:VALUE"
    );
    assert_eq!(
        parse_err("user joe read cib"),
        "1:10: found \"read\", expected a role id (rights go in a role: define `role ID read ...` and name it here)"
    );
}

#[test]
fn roles_keep_the_name_written() {
    let doc = run("primitive a Dummy\nprimitive b Dummy\n\
         colocation c1 inf: a:Master b:Slave\ncolocation c2 inf: a:promoted b:Unpromoted\n\
         location l1 a rule $role=slave 10: #uname eq n1");
    let text = show_all(&doc);
    assert!(
        text.contains("colocation c1 inf: a:Master b:Slave\n"),
        "{text}"
    );
    assert!(
        text.contains("colocation c2 inf: a:Promoted b:Unpromoted\n"),
        "{text}"
    );
    assert!(text.contains("rule $role=Slave 10: #uname eq n1"), "{text}");
    // Both spellings mean the same to everything that reads the CIB.
    let cib = Cib::from_document(doc).unwrap();
    assert!(cib.problems.is_empty(), "{:?}", cib.problems);
}
