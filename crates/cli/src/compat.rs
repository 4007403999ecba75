//! Tool-name compatibility: `crm_verify -L -V` run through a link named `crm_verify` becomes
//! `tandem verify -L -V`, and so on. Tools whose flags we accept natively just get the
//! matching subcommand put in front of their arguments; tools whose flags pick the operation
//! (`cibadmin -Q`, `cibadmin -R -x FILE`) have their own translation.

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
    // crm_mon's flags (-1, -i, -r, -n, -f, -o, -t, -A) are `tandem mon`'s.
    ("crm_mon", &["mon"]),
    ("corosync-quorumtool", &["quorum"]),
    ("corosync-cmapctl", &["cmap"]),
    ("corosync-cfgtool", &["links"]),
    (
        "corosync-keygen",
        &["keygen", "-k", "/etc/corosync/authkey"],
    ),
];

/// Rewrites the argument vector of a compatibility invocation into a `tandem` one. An error
/// is a usage message for a flag the tool has but Tandem does not support.
pub fn translate(mut args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let Some(argv0) = args.first() else {
        return Ok(args);
    };
    let name = Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("tandem")
        .to_string();
    if name == "cibadmin" {
        return cibadmin(args.split_off(1));
    }
    if name == "crm_resource" {
        return crate::cmd::resource::crm_resource_args(args.split_off(1));
    }
    if let Some((_, words)) = TOOLS.iter().find(|(tool, _)| *tool == name) {
        let rest = args.split_off(1);
        args = vec![OsString::from("tandem")];
        args.extend(words.iter().map(OsString::from));
        args.extend(rest);
    }
    Ok(args)
}

/// What a `cibadmin` invocation asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CibadminMode {
    Query,
    Replace,
    Empty,
}

/// `cibadmin` → `tandem cib`: `-Q` (the default) → `query`, `-R` → `replace`, `-a/--empty`
/// → `new`; `-o/--scope`, `-x/--xml-file`, `-X/--xml-text`, `-p/--xml-pipe` carry over.
/// `-l/--local` and `-s/--sync-call` only matter to a live cluster and are accepted.
fn cibadmin(rest: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let mut mode = None;
    let mut passed: Vec<OsString> = Vec::new();
    let mut file: Option<OsString> = None;
    let mut it = rest.into_iter();
    let set = |mode: &mut Option<CibadminMode>, m: CibadminMode| match mode {
        Some(old) if *old != m => Err("cibadmin: give only one of -Q, -R and --empty".to_string()),
        _ => {
            *mode = Some(m);
            Ok(())
        }
    };
    while let Some(arg) = it.next() {
        let text = arg.to_string_lossy().into_owned();
        let (flag, inline) = match text.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(OsString::from(v))),
            _ => (text.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("cibadmin: {name} needs a value"))
        };
        match flag.as_str() {
            "-Q" | "--query" => set(&mut mode, CibadminMode::Query)?,
            "-R" | "--replace" => set(&mut mode, CibadminMode::Replace)?,
            "-a" | "--empty" => set(&mut mode, CibadminMode::Empty)?,
            "-o" | "--scope" => {
                passed.push("--scope".into());
                passed.push(value(&flag)?);
            }
            "-x" | "--xml-file" => file = Some(value(&flag)?),
            "-X" | "--xml-text" => {
                passed.push("--xml-text".into());
                passed.push(value(&flag)?);
            }
            "-p" | "--xml-pipe" => passed.push("--xml-pipe".into()),
            "-l" | "--local" | "-s" | "--sync-call" | "-V" | "--verbose" => {}
            "-h" | "--help" => passed.push("--help".into()),
            other if other.starts_with('-') => {
                return Err(format!(
                    "cibadmin: {other} is not supported by tandem (supported: -Q, -R, -o, -x, \
                     -X, -p, --empty); use `tandem configure` to change single objects"
                ));
            }
            // `cibadmin --empty pacemaker-3.10`: the schema version Tandem writes is fixed.
            _ if mode == Some(CibadminMode::Empty) => {}
            other => return Err(format!("cibadmin: unexpected argument {other:?}")),
        }
    }
    let mut out: Vec<OsString> = vec!["tandem".into(), "cib".into()];
    match mode.unwrap_or(CibadminMode::Query) {
        CibadminMode::Query => out.push("query".into()),
        CibadminMode::Replace => {
            out.push("replace".into());
            out.extend(file);
        }
        CibadminMode::Empty => out.push("new".into()),
    }
    out.extend(passed);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(args: &[&str]) -> Result<Vec<String>, String> {
        translate(args.iter().map(OsString::from).collect()).map(|v| {
            v.into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        })
    }

    #[test]
    fn corosync_tools_map_to_the_cluster_commands() {
        assert_eq!(
            tr(&["corosync-quorumtool", "-s"]).unwrap(),
            ["tandem", "quorum", "-s"]
        );
        assert_eq!(
            tr(&["/usr/sbin/corosync-cmapctl", "runtime.members"]).unwrap(),
            ["tandem", "cmap", "runtime.members"]
        );
        assert_eq!(
            tr(&["corosync-cfgtool", "-s"]).unwrap(),
            ["tandem", "links", "-s"]
        );
        // corosync-keygen writes Corosync's path unless -k says otherwise (the last -k wins).
        assert_eq!(
            tr(&["corosync-keygen", "-k", "/tmp/k"]).unwrap(),
            [
                "tandem",
                "keygen",
                "-k",
                "/etc/corosync/authkey",
                "-k",
                "/tmp/k"
            ]
        );
    }

    #[test]
    fn crm_verify_maps_one_to_one() {
        assert_eq!(
            tr(&["/usr/sbin/crm_verify", "-L", "-V"]).unwrap(),
            ["tandem", "verify", "-L", "-V"]
        );
        assert_eq!(
            tr(&["tandem", "cib", "query"]).unwrap(),
            ["tandem", "cib", "query"]
        );
    }

    #[test]
    fn cibadmin_modes_and_options() {
        assert_eq!(tr(&["cibadmin"]).unwrap(), ["tandem", "cib", "query"]);
        assert_eq!(
            tr(&["cibadmin", "-Q", "-o", "resources"]).unwrap(),
            ["tandem", "cib", "query", "--scope", "resources"]
        );
        assert_eq!(
            tr(&["cibadmin", "--scope=nodes", "--query", "-l"]).unwrap(),
            ["tandem", "cib", "query", "--scope", "nodes"]
        );
        assert_eq!(
            tr(&["cibadmin", "-R", "-x", "new.xml"]).unwrap(),
            ["tandem", "cib", "replace", "new.xml"]
        );
        assert_eq!(
            tr(&[
                "cibadmin",
                "--replace",
                "--scope",
                "resources",
                "--xml-file",
                "r.xml"
            ])
            .unwrap(),
            ["tandem", "cib", "replace", "r.xml", "--scope", "resources"]
        );
        assert_eq!(
            tr(&["cibadmin", "-R", "-p"]).unwrap(),
            ["tandem", "cib", "replace", "--xml-pipe"]
        );
        assert_eq!(
            tr(&["cibadmin", "--empty", "pacemaker-3.10"]).unwrap(),
            ["tandem", "cib", "new"]
        );
    }

    #[test]
    fn cibadmin_refuses_what_it_cannot_do() {
        assert_eq!(
            tr(&["cibadmin", "-M", "-x", "f.xml"]).unwrap_err(),
            "cibadmin: -M is not supported by tandem (supported: -Q, -R, -o, -x, -X, -p, \
             --empty); use `tandem configure` to change single objects"
        );
        assert_eq!(
            tr(&["cibadmin", "-Q", "-R"]).unwrap_err(),
            "cibadmin: give only one of -Q, -R and --empty"
        );
        assert_eq!(
            tr(&["cibadmin", "-o"]).unwrap_err(),
            "cibadmin: -o needs a value"
        );
    }
}
