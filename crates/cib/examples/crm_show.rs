//! Applies the crm statements of a file to an empty CIB and prints `show` (handy for
//! comparing with `crm configure show` of crmsh).
//!
//! `cargo run -p tandem-cib --example crm_show -- FILE [xml]`

use tandem_cib::{Cib, crm};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: crm_show FILE [xml]");
    let xml = args.next().is_some();
    let text = std::fs::read_to_string(&path).expect("readable file");
    let mut doc = Cib::empty().into_document();
    let cmds = match crm::parse(&text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e.in_file(&path));
            std::process::exit(1);
        }
    };
    for cmd in cmds {
        match crm::execute(&mut doc, &cmd) {
            Ok(crm::Outcome::Output(s)) => print!("{s}"),
            Ok(crm::Outcome::Changed(notes)) => notes.iter().for_each(|n| eprintln!("INFO: {n}")),
            Ok(crm::Outcome::NotPure) => {}
            Err(e) => eprintln!("{}", e.in_file(&path)),
        }
    }
    if xml {
        print!("{}", doc.to_pretty_string());
    } else {
        print!("{}", crm::show_all(&doc));
    }
}
