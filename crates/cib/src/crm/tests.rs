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
