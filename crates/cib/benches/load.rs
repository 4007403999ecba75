//! Loading a large CIB: parse (text → DOM), unpack (DOM → typed model), write (DOM → text),
//! and `verify`, each timed separately over several runs. Run through `bench/cib-load.sh`,
//! which makes the input; by hand:
//!
//! ```text
//! cargo bench -p tandem-cib --bench load -- FILE [RUNS]
//! ```
//!
//! Prints one line per stage with the best, median and worst of the runs, in milliseconds.

// A measurement harness, not core logic: it reads the clock and the file system.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use tandem_cib::{Cib, verify};
use tandem_xml::Document;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(path) = args.first() else {
        eprintln!("usage: load FILE [RUNS]");
        std::process::exit(64);
    };
    let runs: usize = args.get(1).map(|r| r.parse().unwrap()).unwrap_or(5);
    let text = std::fs::read_to_string(path).unwrap();
    let mut stages: [(&str, Vec<Duration>); 5] = [
        ("parse (text -> DOM)", Vec::new()),
        ("unpack (DOM -> typed model)", Vec::new()),
        ("load = parse + unpack", Vec::new()),
        ("write (DOM -> text)", Vec::new()),
        ("verify", Vec::new()),
    ];
    let mut summary = String::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let doc = Document::parse(&text).unwrap();
        let t1 = Instant::now();
        let cib = Cib::from_document(doc).unwrap();
        let t2 = Instant::now();
        let out = cib.to_xml();
        let t3 = Instant::now();
        let problems = verify(&cib);
        let t4 = Instant::now();
        stages[0].1.push(t1 - t0);
        stages[1].1.push(t2 - t1);
        stages[2].1.push(t2 - t0);
        stages[3].1.push(t3 - t2);
        stages[4].1.push(t4 - t3);
        summary = format!(
            "{} bytes in, {} bytes out, {} elements, {} resources, {} history entries, {} problems",
            text.len(),
            out.len(),
            cib.document().arena_len(),
            cib.config.all_resources().len(),
            cib.status
                .nodes
                .iter()
                .flat_map(|n| &n.resources)
                .map(|r| r.ops.len())
                .sum::<usize>(),
            problems.len()
        );
    }
    println!("{path}: {summary}");
    println!("{runs} runs; best / median / worst in ms");
    for (name, mut times) in stages {
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  {name:<30} {:>8.1} {:>8.1} {:>8.1}",
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1])
        );
    }
}
