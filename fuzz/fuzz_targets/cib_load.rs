//! The XML loader and the CIB model on arbitrary input.
//!
//! Properties checked on every input (a failure is a crash libFuzzer reports and saves):
//! * parsing never panics — malformed input is an `Err` with a position;
//! * whatever parses writes out as text that parses again to the same canonical form
//!   (comments kept, indentation ignored), and writing that again gives the same text;
//! * whatever loads as a CIB can be verified and written, and the written CIB loads again
//!   with the same typed configuration and status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_cib::{Cib, verify};
use tandem_xml::{C14nOptions, Document};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = Document::parse(text) else {
        return;
    };
    let written = doc.to_pretty_string();
    let again = Document::parse(&written).expect("written XML parses");
    assert_eq!(
        again.c14n(C14nOptions::COMPARE),
        doc.c14n(C14nOptions::COMPARE),
        "write + parse keeps the canonical form"
    );
    assert_eq!(again.to_pretty_string(), written, "writing is stable");

    let Ok(cib) = Cib::from_document(doc) else {
        return;
    };
    let _ = verify(&cib);
    let reloaded = Cib::parse(&cib.to_xml()).expect("a written CIB loads");
    assert_eq!(
        reloaded.config, cib.config,
        "typed configuration survives writing"
    );
    assert_eq!(reloaded.status, cib.status, "typed status survives writing");
});
