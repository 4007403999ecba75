//! Loads each CIB file named on the command line and prints what `tandem verify` finds in it
//! (unpacking problems and the verify checks), one line per finding, prefixed by the file.
fn main() {
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                println!("{path}: cannot read: {e}");
                continue;
            }
        };
        match tandem_cib::Cib::parse(&text) {
            Ok(cib) => {
                for p in tandem_cib::verify(&cib) {
                    println!("{path}: {p}");
                }
            }
            Err(e) => println!("{path}: LOAD ERROR {e}"),
        }
    }
}
