//! Loads each CIB file named on the command line and prints the problems found in it.
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).expect("readable file");
        match tandem_cib::Cib::parse(&text) {
            Ok(cib) => {
                for p in &cib.problems {
                    println!("{path}: {p}");
                }
            }
            Err(e) => println!("{path}: LOAD ERROR {e}"),
        }
    }
}
