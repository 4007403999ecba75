//! `tandem-agents`: Tandem's own resource agents, as ordinary OCF executables.
//!
//! ```text
//!   $OCF_ROOT/resource.d/tandem/IPaddr   ─┐
//!   $OCF_ROOT/resource.d/tandem/Dummy    ─┼─ symlinks to one binary (`tandem`, or
//!   $OCF_ROOT/resource.d/tandem/Stateful ─┤  `tandem-agents`), which looks at argv[0]
//!   $OCF_ROOT/resource.d/tandem/process  ─┘  and runs that agent's ACTION (argv[1])
//! ```
//!
//! They are `ocf:tandem:NAME` to any OCF executor — Tandem's or Pacemaker's:
//!
//! | agent | what it manages |
//! |---|---|
//! | [`IPaddr`](ipaddr) | a floating IPv4/IPv6 address via rtnetlink, with gratuitous ARP / unsolicited NA and `preferred_src` |
//! | [`Dummy`](dummy) | nothing: a state file (for testing) |
//! | [`Stateful`](stateful) | a promotable nothing, with promotion scores |
//! | [`process`](process) | an arbitrary long-running command (the `anything` use case) |
//!
//! Each prints OCF 1.1 meta-data valid against `ra-api-1.dtd`, implements `validate-all`, and
//! passes `ocf-tester`. Install them with `tandem ra install [--ocf-root DIR]`.
//!
//! ```
//! let env = tandem_agents::ocf::Env::from_pairs(&[("OCF_RESKEY_state", "relative")]);
//! // validate-all refuses a relative state file with OCF_ERR_CONFIGURED (6).
//! assert_eq!(tandem_agents::run_agent("Dummy", Some("validate-all"), &env), 6);
//! assert!(tandem_agents::metadata("IPaddr").unwrap().contains("<parameter name=\"preferred_src\""));
//! ```

// A driver crate: agents own the clock (sleeps between announcements, stop timeouts) and
// the environment they are run with.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod dummy;
pub mod ipaddr;
pub mod ocf;
pub mod process;
pub mod stateful;

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use ocf::{Agent, Env};

/// The built-in agents, by the names they are installed under.
pub const AGENTS: [&str; 4] = ["IPaddr", "Dummy", "Stateful", "process"];

/// The OCF provider name of the built-in agents.
pub const PROVIDER: &str = "tandem";

fn agent(name: &str) -> Option<&'static dyn Agent> {
    match name {
        "IPaddr" => Some(&ipaddr::IpAddr2),
        "Dummy" => Some(&dummy::Dummy),
        "Stateful" => Some(&stateful::Stateful),
        "process" => Some(&process::ProcessAgent),
        _ => None,
    }
}

/// Runs agent `name`'s `action` with `env`; returns the OCF exit code (5 for an unknown agent).
pub fn run_agent(name: &str, action: Option<&str>, env: &Env) -> i32 {
    match agent(name) {
        Some(a) => ocf::main_for(a, action, env),
        None => {
            eprintln!(
                "no built-in agent called {name}; there are: {}",
                AGENTS.join(", ")
            );
            ocf::rc::ERR_INSTALLED
        }
    }
}

/// Whether `action` of built-in agent `name` may run inside another process — the daemon of
/// the binary that is these agents — through [`run_captured`]: it only reads state, ends
/// quickly, and writes nothing but its exit reason. That is the `monitor` of `IPaddr` (one
/// netlink dump), `process` (a pid file and `/proc`) and `Stateful` (a state file). `Dummy`
/// is not among them: its `op_sleep` makes it slow on purpose, and tests of timeouts rely on
/// its process being killed.
pub fn runs_in_process(name: &str, action: &str) -> bool {
    matches!(name, "IPaddr" | "process" | "Stateful") && action == "monitor"
}

/// Runs agent `name`'s `action` as [`run_agent`] does, but returns what it would write to
/// stderr (its exit-reason line) instead of writing it: `(exit code, stderr)`. Meant for
/// what [`runs_in_process`] allows, which writes nothing else.
pub fn run_captured(name: &str, action: &str, env: &Env) -> (i32, String) {
    let Some(a) = agent(name) else {
        return (
            ocf::rc::ERR_INSTALLED,
            format!("no built-in agent called {name}\n"),
        );
    };
    match a.run(action, env) {
        Ok(code) => (code, String::new()),
        Err(f) => (f.rc, format!("{}\n", ocf::exit_reason_line(env, &f))),
    }
}

/// An agent's meta-data XML.
pub fn metadata(name: &str) -> Option<String> {
    agent(name).map(|a| a.metadata().to_xml())
}

/// If this process was started as an agent — through a link whose name is an agent's — runs
/// it and returns the exit code. `None` for any other program name.
pub fn dispatch(args: &[OsString]) -> Option<i32> {
    let name = Path::new(args.first()?).file_name()?.to_str()?;
    if !AGENTS.contains(&name) {
        return None;
    }
    let action = args.get(1).and_then(|a| a.to_str());
    Some(run_agent(name, action, &Env::from_process()))
}

/// Installs every agent as `ocf_root/resource.d/tandem/NAME`, a symlink to `exe` (a binary
/// that calls [`dispatch`]); replaces what is there. Returns the installed paths.
pub fn install(ocf_root: &Path, exe: &Path) -> io::Result<Vec<PathBuf>> {
    use std::os::unix::fs::PermissionsExt;
    let dir = ocf_root.join("resource.d").join(PROVIDER);
    std::fs::create_dir_all(&dir)?;
    // The OCF directory must be readable by the cluster's users (ocf-tester checks that
    // meta-data runs as nobody).
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
    let mut installed = Vec::new();
    for name in AGENTS {
        let path = dir.join(name);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {
                return Err(io::Error::other(format!(
                    "{} is a directory",
                    path.display()
                )));
            }
            Ok(_) => std::fs::remove_file(&path)?,
            Err(_) => {}
        }
        std::os::unix::fs::symlink(exe, &path)?;
        installed.push(path);
    }
    Ok(installed)
}
