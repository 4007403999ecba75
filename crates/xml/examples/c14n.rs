//! Prints the canonical form (with comments, text trimmed) of each file named on the
//! command line — handy for comparing with another C14N implementation.
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).expect("readable file");
        match tandem_xml::Document::parse(&text) {
            Ok(doc) => print!("{}", doc.c14n(tandem_xml::C14nOptions::COMPARE)),
            Err(e) => eprintln!("{path}:{e}"),
        }
    }
}
