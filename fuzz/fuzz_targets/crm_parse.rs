//! The crm parser and the commands it yields, on arbitrary text. Properties: nothing panics;
//! a command that fails leaves the document exactly as it was (same digest); whatever the
//! document becomes, `show` renders it and the result still loads as a CIB.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_cib::{Cib, crm};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cmds) = crm::parse(text) else {
        return;
    };
    let mut doc = Cib::parse(
        r#"<cib epoch="1"><configuration><crm_config/><nodes><node id="1" uname="n1"/></nodes>
           <resources><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
           <primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/></resources>
           <constraints/></configuration><status/></cib>"#,
    )
    .expect("the seed CIB loads")
    .into_document();
    for cmd in cmds.iter().take(64) {
        let before = doc.digest();
        if crm::execute(&mut doc, cmd).is_err() {
            assert_eq!(doc.digest(), before, "a failed command changed the document");
        }
    }
    let _ = crm::show_all(&doc);
    Cib::from_document(doc).expect("the changed document is still a CIB");
});
