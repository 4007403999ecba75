//! Tool-name compatibility: `crm_verify -L -V` run through a link named `crm_verify` becomes
//! `tandem verify -L -V`, and so on. Tools whose flags we accept natively just get the
//! matching subcommand put in front of their arguments.

use std::ffi::OsString;
use std::path::Path;

/// Link names and the `tandem` subcommand words they stand for. A link named `crm` needs no
/// row: `crm` alone is the shell (`tandem`), `crm configure ...` is `tandem configure ...`,
/// and `crm -f FILE` is `tandem -f FILE`.
const TOOLS: &[(&str, &[&str])] = &[
    // crm_verify's flags (-L, -x, -X, -p, -S, -V, -q, --output-as) are `tandem verify`'s.
    ("crm_verify", &["verify"]),
    // crm_simulate's flags (-x, -L, -S, -s, -Q, -t, -q, -u, -d, -f, -i, -G) are `tandem simulate`'s.
    ("crm_simulate", &["simulate"]),
];

/// Rewrites the argument vector of a compatibility invocation into a `tandem` one.
pub fn translate(mut args: Vec<OsString>) -> Vec<OsString> {
    let Some(argv0) = args.first() else {
        return args;
    };
    let name = Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("tandem")
        .to_string();
    if let Some((_, words)) = TOOLS.iter().find(|(tool, _)| *tool == name) {
        let rest = args.split_off(1);
        args = vec![OsString::from("tandem")];
        args.extend(words.iter().map(OsString::from));
        args.extend(rest);
    }
    args
}
