//! Running the system's network tools (`ip`, `nft`) with a deadline: a tool that hangs
//! (a lock held by a dying process, a namespace being torn down) is killed and reported
//! instead of hanging a test.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The `ip` tool (iproute2).
pub const IP: &str = "ip";
/// The `nft` tool (nftables).
pub const NFT: &str = "nft";

/// How long one `ip` or `nft` invocation may take.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(20);

/// How often a running tool is checked for having exited.
const TOOL_POLL: Duration = Duration::from_millis(5);

/// Runs `cmd` (with `stdin` fed to it), waiting at most [`TOOL_TIMEOUT`]; its standard
/// output, or an error with the command line and its standard error when it fails.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> anyhow::Result<String> {
    let line = command_line(cmd);
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `{line}`"))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .with_context(|| format!("cannot feed `{line}`"))?;
    }
    // Output of these tools is small (below a pipe's buffer), so waiting before reading
    // cannot deadlock.
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if t.elapsed() >= TOOL_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`{line}` did not finish in {} s", TOOL_TIMEOUT.as_secs());
        }
        std::thread::sleep(TOOL_POLL);
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut out)?;
    }
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err)?;
    }
    if !status.success() {
        bail!("`{line}` failed ({status}): {}", err.trim());
    }
    Ok(out)
}

/// `ip ARGS`.
pub fn ip(args: &[&str]) -> anyhow::Result<String> {
    run(Command::new(IP).args(args), None)
}

/// `nft -f -` inside network namespace `ns`, the rules on standard input.
pub fn nft_in(ns: &str, rules: &str) -> anyhow::Result<String> {
    run(
        Command::new(IP).args(["netns", "exec", ns, NFT, "-f", "-"]),
        Some(rules),
    )
}

/// `nft ARGS` inside network namespace `ns`.
pub fn nft_args_in(ns: &str, args: &[&str]) -> anyhow::Result<String> {
    run(
        Command::new(IP).args(["netns", "exec", ns, NFT]).args(args),
        None,
    )
}

/// Whether `tool` can be run (found on PATH and answers `--version`).
pub fn available(tool: &str) -> bool {
    run(Command::new(tool).arg("--version"), None).is_ok()
        || run(Command::new(tool).arg("-V"), None).is_ok()
}

fn command_line(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_failure_are_reported() {
        assert_eq!(run(&mut Command::new("cat"), Some("abc")).unwrap(), "abc");
        let e = run(
            Command::new("sh").args(["-c", "echo nope >&2; exit 3"]),
            None,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "`sh -c echo nope >&2; exit 3` failed (exit status: 3): nope"
        );
    }
}
