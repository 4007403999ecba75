//! `tandem mon` (`crm_mon`): the status `tandem status` prints, redrawn every `-i SECONDS`
//! until interrupted (Ctrl-C); `-1` prints it once, exactly as `tandem status` with the same
//! flags does.
//!
//! On a terminal each refresh clears the screen and draws the status from the top; into a
//! pipe or file the refreshes follow one another, separated by a blank line. If the cluster
//! cannot be reached when `mon` starts, it exits as Pacemaker's tools do (102); if it
//! becomes unreachable later, the error is shown in place of the status and `mon` keeps
//! trying at the same interval, so the display comes back with the daemon.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::cibsource::CibSource;
use crate::cmd::status;

/// crm_mon's default refresh interval.
pub const DEFAULT_INTERVAL_S: u64 = 5;
/// The longest refresh interval accepted (a day).
pub const MAX_INTERVAL_S: u64 = 86_400;
/// Clears a terminal and puts the cursor at the top left.
const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

#[derive(Args, Debug)]
pub struct MonArgs {
    /// Print the status once and exit.
    #[arg(short = '1', long = "one-shot")]
    pub one_shot: bool,
    /// Seconds between refreshes.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECONDS",
        default_value_t = DEFAULT_INTERVAL_S,
        value_parser = clap::value_parser!(u64).range(1..=MAX_INTERVAL_S)
    )]
    pub interval: u64,
    /// Show inactive resources too.
    #[arg(short = 'r', long = "inactive")]
    pub inactive: bool,
    /// Show the resources under the node they run on.
    #[arg(short = 'n', long = "group-by-node")]
    pub bynode: bool,
    /// Show fail counts (Migration Summary).
    #[arg(short = 'f', long = "failcounts")]
    pub failcounts: bool,
    /// Show the recorded operations.
    #[arg(short = 'o', long = "operations")]
    pub ops: bool,
    /// Show the operations with their timing details.
    #[arg(short = 't', long = "timing-details")]
    pub timing: bool,
    /// Show node attributes.
    #[arg(short = 'A', long = "show-node-attributes")]
    pub attributes: bool,
}

impl MonArgs {
    /// The flags as `tandem status` option words. `-1` is always there: it selects nothing
    /// but keeps crmsh's "no option means inactive" from applying, as crm_mon shows only
    /// active resources unless asked.
    fn words(&self) -> Vec<String> {
        let flags = [
            (true, "-1"),
            (self.inactive, "-r"),
            (self.bynode, "-n"),
            (self.failcounts, "-f"),
            (self.ops, "-o"),
            (self.timing, "-t"),
            (self.attributes, "-A"),
        ];
        flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, w)| w.to_string())
            .collect()
    }
}

pub fn run(args: MonArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    let words = args.words();
    // The first status decides whether there is anything to watch.
    let first = status::text(&words, source)?;
    if args.one_shot {
        print!("{first}");
        return Ok(ExitCode::SUCCESS);
    }
    let tty = std::io::stdout().is_terminal();
    let interval = Duration::from_secs(args.interval);
    let mut frame = first;
    loop {
        draw(&frame, tty)?;
        std::thread::sleep(interval);
        frame = status::text(&words, source).unwrap_or_else(|e| {
            format!(
                "tandem mon: {e:#}\n(trying again every {} s; Ctrl-C to stop)\n",
                args.interval
            )
        });
    }
}

/// Shows one refresh; an error here is a closed output (`mon | head`), which ends `mon`.
fn draw(frame: &str, tty: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if tty {
        write!(out, "{CLEAR_SCREEN}{frame}")?;
    } else {
        writeln!(out, "{frame}")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        mon: MonArgs,
    }

    fn parse(args: &[&str]) -> Result<MonArgs, clap::Error> {
        T::try_parse_from(std::iter::once("mon").chain(args.iter().copied())).map(|t| t.mon)
    }

    #[test]
    fn crm_mon_flags_become_status_words() {
        let m = parse(&["-1"]).unwrap();
        assert!(m.one_shot);
        assert_eq!(m.interval, DEFAULT_INTERVAL_S);
        assert_eq!(m.words(), ["-1"]);
        let m = parse(&["-rf", "-i", "2", "-A", "--group-by-node"]).unwrap();
        assert_eq!(m.interval, 2);
        assert_eq!(m.words(), ["-1", "-r", "-n", "-f", "-A"]);
        let m = parse(&["-o", "-t"]).unwrap();
        assert_eq!(m.words(), ["-1", "-o", "-t"]);
    }

    #[test]
    fn an_interval_outside_its_range_is_refused() {
        assert!(parse(&["-i", "0"]).is_err());
        assert!(parse(&["-i", "86401"]).is_err());
        assert!(parse(&["-i", "soon"]).is_err());
    }
}
