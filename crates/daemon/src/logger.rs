//! Corosync-style log lines to stderr and/or a file:
//! `Nov 22 05:30:01 [1234] node1 tandem notice  [TOTEM ] A new membership (1.10) was formed.`
//! Timestamps are UTC.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use tandem_totem::{Level, LogLine};

pub struct Logger {
    node: String,
    pid: u32,
    to_stderr: bool,
    file: Option<File>,
    debug: bool,
    /// `timestamp: hires`: milliseconds after the seconds.
    hires: bool,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Mon dd HH:MM:SS` (UTC) for seconds since the epoch.
pub fn timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!(
        "{} {:02} {:02}:{:02}:{:02}",
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Notice => "notice",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

impl Logger {
    pub fn new(
        node: String,
        to_stderr: bool,
        logfile: Option<&str>,
        debug: bool,
        hires: bool,
    ) -> (Logger, Option<String>) {
        let mut problem = None;
        let file =
            logfile.and_then(
                |p| match OpenOptions::new().create(true).append(true).open(p) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        problem = Some(format!("cannot open log file {p}: {e}; logging to stderr"));
                        None
                    }
                },
            );
        let to_stderr = to_stderr || file.is_none();
        (
            Logger {
                node,
                pid: std::process::id(),
                to_stderr,
                file,
                debug,
                hires,
            },
            problem,
        )
    }

    pub fn line(&mut self, l: &LogLine) {
        if l.level == Level::Debug && !self.debug {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let stamp = if self.hires {
            format!("{}.{:03}", timestamp(now.as_secs()), now.subsec_millis())
        } else {
            timestamp(now.as_secs())
        };
        let text = format!(
            "{} [{}] {} tandem {:<7} [{:<6}] {}\n",
            stamp,
            self.pid,
            self.node,
            level_name(l.level),
            l.subsys,
            l.text
        );
        if self.to_stderr {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        if let Some(f) = self.file.as_mut() {
            let _ = f.write_all(text.as_bytes());
        }
    }

    pub fn say(&mut self, level: Level, subsys: &str, text: String) {
        self.line(&LogLine {
            level,
            subsys: subsys.to_string(),
            text,
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps() {
        assert_eq!(super::timestamp(0), "Jan 01 00:00:00");
        assert_eq!(super::timestamp(1_795_325_401), "Nov 22 05:30:01");
    }
}
