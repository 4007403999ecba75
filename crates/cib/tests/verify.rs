#![allow(clippy::unwrap_used)]
//! Exact output of every `verify` check: one small CIB per check, the whole list of findings
//! compared line by line.

use tandem_cib::{Cib, DateTime, Verdict, verify, verify_at};

/// A CIB with fencing disabled (so only the check under test speaks), `crm_config` pairs,
/// and the other configuration sections given as raw XML.
fn cib(options: &str, sections: &str) -> Cib {
    let xml = format!(
        r#"<cib epoch="1" num_updates="0" admin_epoch="0"><configuration>
        <crm_config><cluster_property_set id="cib-bootstrap-options">
          <nvpair id="o-fencing" name="stonith-enabled" value="false"/>{options}
        </cluster_property_set></crm_config>
        {sections}
        </configuration><status/></cib>"#
    );
    Cib::parse(&xml).unwrap()
}

fn lines(cib: &Cib) -> Vec<String> {
    verify(cib).iter().map(ToString::to_string).collect()
}

fn check(sections: &str, expected: &[&str]) {
    assert_eq!(lines(&cib("", sections)), expected);
}

const DUMMY: &str = r#"class="ocf" provider="pacemaker" type="Dummy""#;

#[test]
fn a_clean_configuration_has_nothing_to_report() {
    let c = cib(
        r#"<nvpair id="o2" name="no-quorum-policy" value="ignore"/>"#,
        r#"<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
        <resources><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
          <instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="10.0.0.1"/></instance_attributes>
          <meta_attributes id="vip-m"><nvpair id="vip-tr" name="target-role" value="Started"/></meta_attributes>
          <operations><op id="vip-mon" name="monitor" interval="30s" on-fail="restart"/></operations>
        </primitive>
        <clone id="web-clone"><primitive id="web" class="systemd" type="nginx"/></clone></resources>
        <constraints><rsc_colocation id="c1" rsc="vip" with-rsc="web-clone" score="INFINITY"/>
          <rsc_order id="o1" first="web-clone" then="vip"/></constraints>"#,
    );
    assert_eq!(lines(&c), Vec::<String>::new());
    assert_eq!(Verdict::of(&verify(&c)), Verdict::Valid);
    assert_eq!(Verdict::Valid.summary(), None);
}

#[test]
fn fencing_enabled_without_a_fence_device() {
    let c = Cib::parse(r#"<cib><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>"#).unwrap();
    assert_eq!(
        lines(&c),
        [
            "error: Resource start-up disabled since no STONITH resources have been defined",
            "error: Either configure some or disable STONITH with the stonith-enabled option",
            "error: NOTE: Clusters with shared data need STONITH to ensure data integrity",
        ]
    );
    assert_eq!(
        Verdict::of(&verify(&c)).summary(),
        Some("Errors found during check: config not valid")
    );
    // A fence device anywhere (here in a group) satisfies it, as does the new option name.
    let with_device = Cib::parse(r#"<cib><configuration><crm_config/><resources><group id="g"><primitive id="f" class="stonith" type="fence_ipmilan"/></group></resources><constraints/></configuration></cib>"#).unwrap();
    assert_eq!(lines(&with_device), Vec::<String>::new());
    let disabled = Cib::parse(r#"<cib><configuration><crm_config><cluster_property_set id="p"><nvpair id="f" name="fencing-enabled" value="false"/></cluster_property_set></crm_config><resources/></configuration></cib>"#).unwrap();
    assert_eq!(lines(&disabled), Vec::<String>::new());
}

#[test]
fn fencing_rules_are_evaluated_at_the_given_time() {
    // Fencing is off only during 2024; `verify_at` decides by the time it is given.
    let c = Cib::parse(r#"<cib><configuration><crm_config><cluster_property_set id="p" score="10">
        <rule id="r"><date_expression id="d" operation="in_range" start="2024-01-01" end="2024-12-31"/></rule>
        <nvpair id="f" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><resources/></configuration></cib>"#).unwrap();
    assert_eq!(
        verify_at(&c, DateTime::from_civil(2024, 6, 1, 0, 0, 0)).len(),
        0
    );
    assert_eq!(
        verify_at(&c, DateTime::from_civil(2025, 6, 1, 0, 0, 0)).len(),
        3
    );
}

#[test]
fn dangling_references_in_constraints_and_sets() {
    check(
        &format!(
            r#"<resources><primitive id="a" {DUMMY}/><template id="t" {DUMMY}/></resources>
            <tags><tag id="tg"><obj_ref id="a"/></tag></tags>
            <constraints>
              <rsc_location id="l1" rsc="ghost" node="n1" score="10"/>
              <rsc_colocation id="c1" rsc="a" with-rsc="nowhere" score="INFINITY"/>
              <rsc_order id="o1" first="t" then="tg"/>
              <rsc_order id="o2"><resource_set id="s1"><resource_ref id="a"/><resource_ref id="b"/></resource_set></rsc_order>
              <rsc_ticket id="tk" ticket="T" rsc="gone"/>
            </constraints>"#
        ),
        &[
            "error: rsc_location l1: resource \"ghost\" does not exist; create it or correct the constraint (until then the constraint is ignored)",
            "error: rsc_colocation c1: resource \"nowhere\" does not exist; create it or correct the constraint (until then the constraint is ignored)",
            "error: rsc_order o2: resource \"b\" in resource_set s1 does not exist; create it or remove it from the set",
            "error: rsc_ticket tk: resource \"gone\" does not exist; create it or correct the constraint (until then the constraint is ignored)",
        ],
    );
}

#[test]
fn constraint_values_and_self_references() {
    check(
        &format!(
            r#"<resources><primitive id="a" {DUMMY}/><primitive id="b" {DUMMY}/></resources>
            <constraints>
              <rsc_colocation id="c1" rsc="a" with-rsc="a" score="INFINITY"/>
              <rsc_order id="o1" first="a" then="a"/>
              <rsc_order id="o2" first="a" first-action="demote" then="a" then-action="promote"/>
              <rsc_order id="o3" first="a" first-action="begin" then="b"/>
              <rsc_order id="o4"><resource_set id="s" action="go" kind="Sometimes"><resource_ref id="a"/></resource_set></rsc_order>
              <rsc_ticket id="t1" ticket="T" rsc="b" loss-policy="panic"/>
            </constraints>"#
        ),
        &[
            "error: rsc_colocation c1: colocates a with itself; name two different resources",
            "error: rsc_order o1: orders start of a after itself; name two different resources or actions",
            "error: rsc_order o3: first-action=\"begin\" is not valid (expected one of start, stop, promote, demote)",
            "error: rsc_order o4: resource_set s: action=\"go\" is not valid (expected one of start, stop, promote, demote)",
            "error: rsc_order o4: resource_set s: kind=\"Sometimes\" is not valid (expected one of Mandatory, Optional, Serialize)",
            "error: rsc_ticket t1: loss-policy=\"panic\" is not valid (expected one of stop, demote, fence, freeze)",
        ],
    );
}

#[test]
fn duplicate_ids_nodes_and_names() {
    check(
        &format!(
            r#"<nodes><node id="1" uname="n1"/><node id="1" uname="n2"/><node id="3" uname="n1"/></nodes>
            <resources><primitive id="a" {DUMMY}/><primitive id="a" {DUMMY}/></resources>"#
        ),
        &[
            "error: primitive a: id \"a\" is used by more than one element; ids must be unique",
            "error: node 1: node id \"1\" is also used by node n1; give every node its own id",
            "error: node 3: node name \"n1\" is also used by node 1; give every node its own name",
        ],
    );
}

#[test]
fn invalid_scores_intervals_and_classes() {
    check(
        r#"<resources>
            <primitive id="a" class="ocf" provider="heartbeat" type="Dummy">
              <operations><op id="a-mon" name="monitor" interval="often" timeout="soon"/></operations>
            </primitive>
            <primitive id="b" class="upstart-ish" type="x"/>
            <primitive id="c" class="lsb" provider="heartbeat" type="httpd"/>
          </resources>
          <constraints><rsc_location id="l" rsc="a" node="n1" score="lots"/></constraints>"#,
        &[
            "error: op a-mon of primitive a: interval: \"often\" is not a time interval (e.g. 30s, 500ms, 1m, PT1M or a number of seconds)",
            "error: op a-mon of primitive a: timeout: \"soon\" is not a time interval (e.g. 30s, 500ms, 1m, PT1M or a number of seconds)",
            "error: primitive b: unknown resource class \"upstart-ish\": expected ocf, lsb, systemd, service or stonith",
            "error: rsc_location l: score: \"lots\" is not a score: expected an integer, INFINITY, +INFINITY or -INFINITY",
            "error: rsc_location l: needs `node` and `score`, or a rule",
            "warning: primitive c: provider=\"heartbeat\" is only used by class ocf and is ignored for class lsb; remove it",
        ],
    );
}

#[test]
fn operations_with_the_same_name_and_interval() {
    check(
        &format!(
            r#"<resources><primitive id="db" {DUMMY}><operations>
              <op id="m1" name="monitor" interval="10s" role="Promoted"/>
              <op id="m2" name="monitor" interval="10000ms" role="Unpromoted"/>
              <op id="m3" name="monitor" interval="20s"/>
              <op id="m4" name="monitor" interval="PT20S"/>
              <op id="s1" name="start" interval="0" timeout="30s"/>
              <op id="s2" name="start" interval="0" timeout="60s"/>
              <op id="p1" name="promote" interval="5s"/>
            </operations></primitive></resources>"#
        ),
        &[
            "error: primitive db: operations m1 and m2 are both \"monitor\" with interval 10s, so neither runs; give each recurring operation a different interval (even with different roles)",
            "error: primitive db: operations m3 and m4 are both \"monitor\" with interval 20s, so neither runs; give each recurring operation a different interval",
            "warning: primitive db: operations s1 and s2 are both \"start\" with interval 0; only s1 is used — remove the other",
            "error: op p1 of primitive db: a promote operation cannot recur, so this one (interval=5s) is ignored; set interval=0",
        ],
    );
}

#[test]
fn meta_attribute_values() {
    check(
        &format!(
            r#"<resources>
              <primitive id="a" {DUMMY}>
                <meta_attributes id="a-m">
                  <nvpair id="a1" name="target-role" value="Running"/>
                  <nvpair id="a2" name="is-managed" value="perhaps"/>
                  <nvpair id="a3" name="migration-threshold" value="-1"/>
                  <nvpair id="a4" name="requires" value="everything"/>
                  <nvpair id="a5" name="multiple-active" value="panic"/>
                  <nvpair id="a6" name="failure-timeout" value="a while"/>
                  <nvpair id="a7" name="resource-stickiness" value="sticky"/>
                  <nvpair id="a8" name="target-role" value="\#default"/>
                  <nvpair id="a9" name="my-own-note" value="anything"/>
                </meta_attributes>
                <operations><op id="a-mon" name="monitor" interval="10s" on-fail="reboot" record-pending="maybe">
                  <meta_attributes id="a-mon-m"><nvpair id="a-mon-r" name="requires" value="luck"/></meta_attributes>
                </op></operations>
              </primitive>
              <clone id="c"><meta_attributes id="c-m"><nvpair id="c1" name="clone-max" value="two"/><nvpair id="c2" name="interleave" value="yes"/></meta_attributes>
                <primitive id="b" {DUMMY}/></clone>
            </resources>
            <rsc_defaults><meta_attributes id="rd"><nvpair id="rd1" name="resource-stickiness" value="INFINITY"/><nvpair id="rd2" name="priority" value="1.5"/></meta_attributes></rsc_defaults>
            <op_defaults><meta_attributes id="od"><nvpair id="od1" name="timeout" value="forever"/></meta_attributes></op_defaults>"#
        ).replace("\\#", "#"),
        &[
            "error: op a-mon of primitive a: on-fail=\"reboot\" is not valid (expected one of ignore, block, stop, restart, standby, fence, restart-container, demote); fix the value or remove it",
            "error: op a-mon of primitive a: record-pending=\"maybe\" is not valid (expected true or false); fix the value or remove it",
            "error: op a-mon of primitive a: meta-attribute requires=\"luck\" is not valid (expected one of nothing, quorum, fencing, unfencing); fix the value or remove it",
            "error: primitive a: meta-attribute target-role=\"Running\" is not valid (expected one of Stopped, Started, Unpromoted, Promoted); fix the value or remove it",
            "error: primitive a: meta-attribute is-managed=\"perhaps\" is not valid (expected true or false); fix the value or remove it",
            "error: primitive a: meta-attribute migration-threshold=\"-1\" is not valid (expected a whole number of 0 or more, or INFINITY); fix the value or remove it",
            "error: primitive a: meta-attribute requires=\"everything\" is not valid (expected one of nothing, quorum, fencing, unfencing); fix the value or remove it",
            "error: primitive a: meta-attribute multiple-active=\"panic\" is not valid (expected one of block, stop_only, stop_start, stop_unexpected); fix the value or remove it",
            "error: primitive a: meta-attribute failure-timeout=\"a while\" is not valid (expected a time interval such as 30s, 10min or PT1M); fix the value or remove it",
            "error: primitive a: meta-attribute resource-stickiness=\"sticky\" is not valid (expected an integer, INFINITY or -INFINITY); fix the value or remove it",
            "error: clone c: meta-attribute clone-max=\"two\" is not valid (expected a whole number of 0 or more); fix the value or remove it",
            "error: rsc_defaults: meta-attribute priority=\"1.5\" is not valid (expected an integer, INFINITY or -INFINITY); fix the value or remove it",
            "error: op_defaults: meta-attribute timeout=\"forever\" is not valid (expected a time interval such as 30s, 10min or PT1M); fix the value or remove it",
        ],
    );
}

#[test]
fn cluster_option_values_and_names() {
    let c = cib(
        r#"<nvpair id="o1" name="no-quorum-policy" value="panic"/>
           <nvpair id="o2" name="no_quorum_policy" value="stop"/>
           <nvpair id="o3" name="stonith-enabeld" value="true"/>
           <nvpair id="o4" name="default-resource-stickiness" value="100"/>
           <nvpair id="o5" name="redis_REPL_INFO" value="n1"/>
           <nvpair id="o6" name="last-lrm-refresh" value="1700000000"/>"#,
        "<resources/>",
    );
    assert_eq!(
        lines(&c),
        [
            "error: cluster option no-quorum-policy: \"panic\" is not one of stop, freeze, ignore, demote, fence, suicide; fix the value (until then the default, stop, applies)",
            "warning: cluster option no_quorum_policy: has no effect: the option is spelt no-quorum-policy; rename it",
            "warning: cluster option stonith-enabeld: has no effect: no option has this name (did you mean stonith-enabled?)",
            "warning: cluster option default-resource-stickiness: is no longer a cluster option and has no effect; set resource-stickiness in rsc_defaults instead",
        ]
    );
    assert_eq!(
        Verdict::of(&verify(&c)).summary(),
        Some("Errors found during check: config not valid")
    );
}

#[test]
fn promotable_clones_and_group_members() {
    check(
        &format!(
            r#"<resources>
              <clone id="ms"><meta_attributes id="ms-m"><nvpair id="ms-p" name="promotable" value="true"/></meta_attributes>
                <primitive id="svc" class="systemd" type="postgresql"/></clone>
              <master id="old"><primitive id="st" {DUMMY}/></master>
              <group id="g"><primitive id="g1" {DUMMY}/><clone id="inner"><primitive id="g2" {DUMMY}/></clone></group>
            </resources>"#
        ),
        &[
            "error: clone ms: is promotable, but svc uses a systemd agent and only ocf agents can be promoted; use an ocf agent or make it an ordinary clone",
            "error: group g: contains a <clone> (inner), but only primitives can be group members; move it out of the group",
        ],
    );
}

#[test]
fn fencing_topology_devices_and_levels() {
    let c = Cib::parse(
        r#"<cib><configuration><crm_config/><resources>
          <primitive id="ipmi-1" class="stonith" type="fence_ipmilan"/>
          <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/>
        </resources>
        <fencing-topology>
          <fencing-level id="fl1" target="n1" index="1" devices="ipmi-1"/>
          <fencing-level id="fl2" target="n1" index="1" devices="vip,pdu"/>
          <fencing-level id="fl3" target="n1" index="12" devices="ipmi-1"/>
        </fencing-topology></configuration></cib>"#,
    )
    .unwrap();
    assert_eq!(
        lines(&c),
        [
            "error: fencing-level fl3: index \"12\" is not valid (expected a number from 1 to 9); the level is ignored",
            "error: fencing-level fl2: device \"vip\" is a ocf resource, not a fence device; name a primitive of class stonith",
            "error: fencing-level fl2: device \"pdu\" does not exist; name a primitive of class stonith (until then this level cannot fence)",
            "error: fencing-level fl2: level 1 for node n1 is already defined by fencing-level fl1; give each level of a target a different index",
        ]
    );
}

#[test]
fn tags_acls_and_id_refs() {
    check(
        &format!(
            r#"<resources><primitive id="a" {DUMMY}>
                <meta_attributes id="a-m" id-ref="shared-meta"/>
              </primitive></resources>
            <constraints><rsc_location id="l" rsc="a"><rule id="r1" id-ref="no-such-rule"/></rsc_location></constraints>
            <tags><tag id="t1"><obj_ref id="a"/><obj_ref id="b"/></tag><tag id="t2"/></tags>
            <acls>
              <acl_target id="alice"><role id="admin"/></acl_target>
              <acl_role id="reader"><acl_permission id="p1" kind="read"/>
                <acl_permission id="p2" kind="read" reference="nothing-here"/></acl_role>
            </acls>"#
        ),
        &[
            "error: meta_attributes a-m: id-ref \"shared-meta\" refers to nothing: no element has that id",
            "error: rule r1: id-ref \"no-such-rule\" refers to nothing: no element has that id",
            "error: tag t1: refers to \"b\", which does not exist; remove the obj_ref or create the object",
            "error: tag t2: lists no objects; add an obj_ref or remove the tag",
            "error: acl_target alice: role \"admin\" does not exist; define an acl_role with that id or remove the reference",
            "error: acl_permission p1: give exactly one of xpath, reference or object-type",
            "error: acl_permission p2: reference \"nothing-here\" refers to nothing; correct the id or remove the permission",
        ],
    );
}

#[test]
fn rules_without_expressions() {
    check(
        &format!(
            r##"<resources><primitive id="a" {DUMMY}>
                <meta_attributes id="a-m"><rule id="empty-meta"/><nvpair id="a1" name="priority" value="1"/></meta_attributes>
              </primitive></resources>
            <constraints><rsc_location id="l" rsc="a"><rule id="outer" score="10" boolean-op="or">
                <expression id="e" attribute="#uname" operation="eq" value="n1"/><rule id="inner"/></rule></rsc_location></constraints>"##
        ),
        &[
            "warning: rule inner: contains no expressions, so it always applies; add an expression or remove the rule",
            "warning: rule empty-meta: contains no expressions, so it always applies; add an expression or remove the rule",
        ],
    );
}

#[test]
fn warnings_alone_give_the_warning_verdict() {
    let c = cib(
        r#"<nvpair id="o2" name="no_quorum_policy" value="stop"/>"#,
        "<resources/>",
    );
    assert_eq!(
        Verdict::of(&verify(&c)).summary(),
        Some("Warnings found during check: config may not be valid")
    );
}

#[test]
fn templates_are_checked_once_not_per_user() {
    check(
        r#"<resources>
            <template id="t" class="ocf" provider="heartbeat" type="apache">
              <meta_attributes id="t-m"><nvpair id="t1" name="is-managed" value="sometimes"/></meta_attributes>
              <operations><op id="t-start" name="start" interval="10s"/></operations>
            </template>
            <primitive id="web1" template="t"/><primitive id="web2" template="t"/>
          </resources>"#,
        &[
            "error: op t-start of template t: a start operation cannot recur, so this one (interval=10s) is ignored; set interval=0",
            "error: template t: meta-attribute is-managed=\"sometimes\" is not valid (expected true or false); fix the value or remove it",
        ],
    );
}
