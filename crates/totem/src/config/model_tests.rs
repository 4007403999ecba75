use super::*;

fn load(text: &str) -> Result<ClusterConfig, ConfigError> {
    ClusterConfig::from_text("corosync.conf", text)
}

const THREE: &str = "nodelist {\n node {\n  ring0_addr: 127.0.0.1\n  nodeid: 1\n }\n node {\n  ring0_addr: 127.0.0.2\n  nodeid: 2\n }\n node {\n  ring0_addr: 127.0.0.3\n  nodeid: 3\n }\n}\n";

#[test]
fn tutorial_udpu_two_node_loads_unchanged() {
    let cfg = load(include_str!("../../tests/fixtures/udpu-two-node.conf")).unwrap();
    assert_eq!(cfg.cluster_name(), "lbcluster");
    assert_eq!(cfg.nodes.len(), 2);
    assert_eq!(cfg.nodes[0].display_name(), "primary");
    assert_eq!(cfg.nodes[1].addrs[&0], "secondary_private_IP_address");
    assert!(cfg.quorum.enabled && cfg.quorum.two_node && cfg.quorum.wait_for_all);
    assert_eq!(cfg.port(0), 5405);
    assert!(cfg.logging.to_logfile);
    assert_eq!(
        cfg.logging.logfile.as_deref(),
        Some("/var/log/corosync/corosync.log")
    );
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn tutorial_freebsd_three_node_loads_unchanged() {
    let cfg = load(include_str!("../../tests/fixtures/freebsd-three-node.conf")).unwrap();
    assert_eq!(
        cfg.nodes.iter().map(|n| n.nodeid).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(cfg.quorum.expected_votes, Some(2));
    // No `token` in the tutorial's file: Tandem's default, not Corosync's 3000 + 650.
    assert_eq!(cfg.timing().token_ms, 800);
    assert_eq!(cfg.timing().consensus_ms, 960);
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn tutorial_flattened_file_loads_with_an_encryption_warning() {
    let cfg = load(include_str!(
        "../../tests/fixtures/freeswitch-one-line.conf"
    ))
    .unwrap();
    assert_eq!(cfg.cluster_name(), "mycluster");
    assert_eq!(cfg.nodes[1].addrs[&0], "freeswitch-node2");
    assert!(cfg.quorum.two_node);
    assert_eq!(cfg.warnings.len(), 1);
    assert!(
        cfg.warnings[0]
            .message
            .starts_with("encryption off in totem")
    );
}

#[test]
fn unknown_options_warn_with_line() {
    let cfg = load("totem {\n  version: 2\n  frobnicate: 3\n}\nmystery {\n}\n").unwrap();
    let w: Vec<String> = cfg.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        vec![
            "corosync.conf:3: unknown option 'totem.frobnicate' ignored",
            "corosync.conf:5: unknown section 'mystery' ignored"
        ]
    );
}

#[test]
fn bad_values_name_file_line_and_option() {
    let e = load("totem {\n  token: soon\n}\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "corosync.conf:2: totem.token: expected a non-negative integer, got 'soon'"
    );
    let e = load("quorum {\n provider: corosync_votequorum\n two_node: maybe\n}\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "corosync.conf:3: quorum.two_node: expected yes/no, on/off or 1/0, got 'maybe'"
    );
    let e = load("totem {\n version: 3\n}\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "corosync.conf:2: totem.version: only version 2 exists, got '3'"
    );
    let e = load("quorum {\n provider: other\n}\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("corosync.conf:2: quorum.provider:")
    );
    let e = load("nodelist {\n node {\n  ring0_addr: a\n  nodeid: 0\n }\n}\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "corosync.conf:4: nodelist.node.nodeid: nodeid 0 is reserved"
    );
    let e = load("totem {\n join: 100\n consensus: 100\n}\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("consensus (100 ms) must be greater than join (100 ms)")
    );
}

#[test]
fn nodelist_rules() {
    let e = load("nodelist {\n node {\n ring0_addr: a\n nodeid: 1\n }\n node {\n ring0_addr: b\n nodeid: 1\n }\n}\n")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "corosync.conf: nodeid 1 appears twice in the nodelist (lines 2 and 6)"
    );
    let e = load("nodelist {\n node {\n ring0_addr: host-a\n }\n}\n").unwrap_err();
    assert!(e.to_string().contains("nodeid is required"));
    // Corosync derives a missing nodeid from an IPv4 ring0 address.
    let cfg = load("nodelist {\n node {\n ring0_addr: 10.0.0.1\n }\n}\n").unwrap();
    assert_eq!(cfg.nodes[0].nodeid, 0x0a00_0001);
    let cfg = load("nodelist {\n node {\n ring0_addr: a\n ring1_addr: b\n nodeid: 4\n quorum_votes: 2\n }\n}\n").unwrap();
    assert_eq!(cfg.nodes[0].addrs.len(), 2);
    assert_eq!(cfg.nodes[0].quorum_votes, 2);
    assert_eq!(cfg.links(), vec![0, 1]);
    assert_eq!(cfg.port(1), 5406);
    let e = load("nodelist {\n node {\n ring8_addr: a\n nodeid: 4\n }\n}\n").unwrap_err();
    assert!(e.to_string().contains("ring0_addr .. ring7_addr"));
}

#[test]
fn two_node_implies_wait_for_all_unless_explicitly_off() {
    let q = |extra: &str| {
        load(&format!(
            "quorum {{\n provider: corosync_votequorum\n two_node: 1\n{extra}}}\n{}",
            THREE.replace(" node {\n  ring0_addr: 127.0.0.3\n  nodeid: 3\n }\n", "")
        ))
        .unwrap()
        .quorum
    };
    assert!(q("").wait_for_all);
    assert!(!q(" wait_for_all: 0\n").wait_for_all);
}

#[test]
fn votequorum_refuses_conflicts() {
    // two_node + auto_tie_breaker: two_node is switched off.
    let two = THREE.replace(" node {\n  ring0_addr: 127.0.0.3\n  nodeid: 3\n }\n", "");
    let cfg = load(&format!(
        "quorum {{\n provider: corosync_votequorum\n two_node: 1\n auto_tie_breaker: 1\n}}\n{two}"
    ))
    .unwrap();
    assert!(!cfg.quorum.two_node && cfg.quorum.auto_tie_breaker);
    assert!(cfg.warnings[0].message.contains("two_node is disabled"));
    // two_node with three nodes: ignored.
    let cfg = load(&format!(
        "quorum {{\n provider: corosync_votequorum\n two_node: 1\n}}\n{THREE}"
    ))
    .unwrap();
    assert!(!cfg.quorum.two_node);
    // ATB with an odd node count and no wait_for_all: ATB off...
    let cfg = load(&format!(
        "quorum {{\n provider: corosync_votequorum\n auto_tie_breaker: 1\n}}\n{THREE}"
    ))
    .unwrap();
    assert!(!cfg.quorum.auto_tie_breaker);
    // ...and with last_man_standing as well, an error.
    let e = load(&format!("quorum {{\n provider: corosync_votequorum\n auto_tie_breaker: 1\n last_man_standing: 1\n}}\n{THREE}")).unwrap_err();
    assert!(e.to_string().contains("needs wait_for_all"));
    // ATB with an odd count and wait_for_all: kept.
    let cfg = load(&format!("quorum {{\n provider: corosync_votequorum\n auto_tie_breaker: 1\n wait_for_all: 1\n}}\n{THREE}")).unwrap();
    assert!(cfg.quorum.auto_tie_breaker);
    // qdevice with two_node / ATB / LMS: an error.
    for opt in ["two_node: 1", "auto_tie_breaker: 1", "last_man_standing: 1"] {
        let e = load(&format!("quorum {{\n provider: corosync_votequorum\n {opt}\n device {{\n model: net\n }}\n}}\n{two}")).unwrap_err();
        assert!(
            e.to_string()
                .contains("quorum.device (line 4) cannot be combined"),
            "{e}"
        );
    }
    // No nodelist and no expected_votes.
    let e = load("quorum {\n provider: corosync_votequorum\n}\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("nodelist or quorum.expected_votes must be configured")
    );
}

#[test]
fn atb_node_forms() {
    let q = |v: &str| {
        load(&format!("quorum {{\n provider: corosync_votequorum\n auto_tie_breaker: 1\n wait_for_all: 1\n auto_tie_breaker_node: {v}\n}}\n{THREE}"))
            .map(|c| c.quorum.auto_tie_breaker_node)
    };
    assert_eq!(q("lowest").unwrap(), AtbNode::Lowest);
    assert_eq!(q("highest").unwrap(), AtbNode::Highest);
    assert_eq!(q("3 1").unwrap(), AtbNode::List(vec![3, 1]));
    assert!(q("sometimes").is_err());
}
