//! Roles written `Master`/`Slave` or `Promoted`/`Unpromoted`: the crm language keeps what was
//! written in the XML (as crmsh does on a current schema), and `tandem verify` and the
//! scheduler (`tandem simulate`) treat both the same (they read roles with
//! `tandem_cib::Role::parse`).
#![allow(clippy::unwrap_used)]

mod common;

use common::{Scratch, code, stderr, stdout, tandem};

/// A promotable clone with roles in every place the crm language takes one: op roles,
/// target-role, a location rule role, colocation roles, an order action.
fn config(promoted: &str, unpromoted: &str) -> String {
    format!(
        "property stonith-enabled=false\nnode 1: n1\nnode 2: n2\n\
         primitive s ocf:pacemaker:Stateful op monitor interval=10s role={promoted} \
         op monitor interval=11s role={unpromoted} meta target-role={promoted}\n\
         clone ms s meta promotable=true\nprimitive d ocf:pacemaker:Dummy\n\
         colocation c inf: d ms:{promoted}\n\
         location l ms rule $role={promoted} 100: #uname eq n2\n\
         location l2 d rule $role={unpromoted} -10: #uname eq n1\n\
         location l3 d rule $role={promoted} -inf: #uname eq n1\n\
         order o Mandatory: ms:promote d:start\n"
    )
}

/// Builds a CIB file from crm text with `load replace`.
fn cib(s: &Scratch, name: &str, text: &str) -> std::path::PathBuf {
    let cib = s.path(name);
    let out = tandem().args(["cib", "new"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    std::fs::write(&cib, stdout(&out)).unwrap();
    let file = s.write(&format!("{name}.crm"), text);
    let out = tandem()
        .env("CIB_file", &cib)
        .args(["configure", "load", "replace"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    cib
}

#[test]
fn both_role_spellings_mean_the_same_everywhere() {
    let s = Scratch::new("roles");
    let old = cib(&s, "old.xml", &config("Master", "Slave"));
    let new = cib(&s, "new.xml", &config("Promoted", "Unpromoted"));
    // Kept as written.
    let xml = std::fs::read_to_string(&old).unwrap();
    assert!(
        xml.contains("role=\"Master\"") && xml.contains("rsc-role=\"Master\""),
        "{xml}"
    );
    assert!(
        xml.contains("role=\"Slave\"") && !xml.contains("Promoted"),
        "{xml}"
    );
    let shown = stdout(
        &tandem()
            .env("CIB_file", &new)
            .args(["configure", "show", "c"])
            .output()
            .unwrap(),
    );
    assert_eq!(shown, "colocation c inf: d ms:Promoted\n");
    // verify: nothing to say about either.
    for f in [&old, &new] {
        let out = tandem().args(["verify", "-x"]).arg(f).output().unwrap();
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    }
    // The scheduler: the same scores and the same transition.
    let simulate = |f: &std::path::Path| {
        let out = tandem()
            .args([
                "simulate", "-S", "-s", "-q", "true", "-u", "n1", "-u", "n2", "-x",
            ])
            .arg(f)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        stdout(&out)
    };
    let (a, b) = (simulate(&old), simulate(&new));
    assert_eq!(a, b);
    // The roles are read, not ignored: with `Started` instead, `d` is banned from n1.
    let started = cib(&s, "started.xml", &config("Started", "Started"));
    let c = simulate(&started);
    assert!(a.contains("Start      d       ( n1 )"), "{a}");
    assert!(c.contains("Start      d       ( n2 )"), "{c}");
}
