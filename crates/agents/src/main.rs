//! `tandem-agents`: the built-in OCF agents as a standalone binary (the `tandem` CLI carries
//! them too). Run through a link named after an agent, it is that agent; otherwise:
//!
//! ```text
//! tandem-agents AGENT ACTION          run an agent's action (IPaddr, Dummy, Stateful, process)
//! tandem-agents install [OCF_ROOT]    link every agent into OCF_ROOT/resource.d/tandem/
//! ```

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use tandem_agents::ocf::Env;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = tandem_agents::dispatch(&args) {
        return exit(code);
    }
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match words.first().map(String::as_str) {
        Some("install") => {
            let root = PathBuf::from(words.get(1).map_or("/usr/lib/ocf", String::as_str));
            let exe = match std::env::current_exe() {
                Ok(exe) => exe,
                Err(e) => {
                    eprintln!("tandem-agents: cannot find this program's path: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match tandem_agents::install(&root, &exe) {
                Ok(paths) => {
                    for p in paths {
                        println!("{}", p.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tandem-agents: install into {} failed: {e}", root.display());
                    ExitCode::FAILURE
                }
            }
        }
        Some(name) if tandem_agents::AGENTS.contains(&name) => exit(tandem_agents::run_agent(
            name,
            words.get(1).map(String::as_str),
            &Env::from_process(),
        )),
        _ => {
            eprintln!(
                "usage: tandem-agents AGENT ACTION | tandem-agents install [OCF_ROOT]\nagents: {}",
                tandem_agents::AGENTS.join(", ")
            );
            ExitCode::from(2)
        }
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
