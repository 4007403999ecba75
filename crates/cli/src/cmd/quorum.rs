//! `tandem quorum`: quorum and membership, in corosync-quorumtool's layout.
//! Exit status for `-s`: 0 quorate, 2 not quorate, 1 error.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use tandem_daemon::ipc::{self, DaemonStatus, Request, Response};

#[derive(Args, Debug)]
pub struct QuorumArgs {
    /// Show quorum status (the default).
    #[arg(short = 's')]
    pub status: bool,
    /// List the members.
    #[arg(short = 'l')]
    pub list: bool,
    /// Set expected votes (lowers quorum; like `corosync-quorumtool -e`).
    #[arg(short = 'e', value_name = "VOTES")]
    pub expected: Option<u32>,
    /// Show node ids in hexadecimal.
    #[arg(short = 'H')]
    pub hex: bool,
}

fn get_status(run_dir: &Path) -> anyhow::Result<DaemonStatus> {
    match ipc::call(run_dir, &Request::Status)? {
        Response::Status(s) => Ok(*s),
        Response::Error { message } => bail!("{message}"),
        other => bail!("unexpected answer {other:?}"),
    }
}

fn id(v: u32, hex: bool) -> String {
    if hex {
        format!("0x{v:08x}")
    } else {
        v.to_string()
    }
}

pub fn render_status(s: &DaemonStatus, date: &str, hex: bool) -> String {
    let q = &s.quorum;
    let yes = |b: bool| if b { "Yes" } else { "No" };
    let mut o = String::new();
    o.push_str("Quorum information\n------------------\n");
    o.push_str(&format!("Date:             {date}\n"));
    let provider = if q.enabled {
        "corosync_votequorum"
    } else {
        "Not configured"
    };
    o.push_str(&format!("Quorum provider:  {provider}\n"));
    o.push_str(&format!("Nodes:            {}\n", s.members.len()));
    o.push_str(&format!("Node ID:          {}\n", id(s.node_id, hex)));
    o.push_str(&format!("Ring ID:          {}\n", s.ring));
    o.push_str(&format!("Quorate:          {}\n", yes(q.quorate)));
    if q.enabled {
        o.push_str("\nVotequorum information\n----------------------\n");
        o.push_str(&format!("Expected votes:   {}\n", q.expected_votes));
        o.push_str(&format!("Highest expected: {}\n", q.highest_expected));
        o.push_str(&format!("Total votes:      {}\n", q.total_votes));
        let blocked = if q.quorate { "" } else { " Activity blocked" };
        o.push_str(&format!("Quorum:           {}{blocked}\n", q.quorum));
        let mut flags = Vec::new();
        if q.two_node {
            flags.push("2Node");
        }
        if q.quorate {
            flags.push("Quorate");
        }
        if q.wait_for_all {
            flags.push("WaitForAll");
        }
        if q.last_man_standing {
            flags.push("LastManStanding");
        }
        if q.auto_tie_breaker {
            flags.push("AutoTieBreaker");
        }
        o.push_str(&format!("Flags:            {}\n", flags.join(" ")));
    }
    o.push('\n');
    o.push_str(&render_members(s, hex));
    o
}

pub fn render_members(s: &DaemonStatus, hex: bool) -> String {
    let mut o = String::from("Membership information\n----------------------\n");
    o.push_str("    Nodeid      Votes Name\n");
    for m in &s.members {
        let local = if m.id == s.node_id { " (local)" } else { "" };
        o.push_str(&format!(
            "{:>10} {:>10} {}{local}\n",
            id(m.id, hex),
            m.votes,
            m.name
        ));
    }
    o
}

fn now_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // corosync-quorumtool prints ctime(3): "Wed Jan  1 10:00:00 2025" (here in UTC).
    let days = secs / 86_400;
    let wday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let ts = tandem_daemon::timestamp(secs);
    let (mon, rest) = ts.split_at(4);
    let (day, time) = rest.split_at(2);
    let year = 1970 + (days as f64 / 365.2425) as u64;
    format!(
        "{wday} {mon}{:>2}{time} {year}",
        day.trim_start_matches('0')
    )
}

pub fn run(a: QuorumArgs, run_dir: &Path) -> anyhow::Result<ExitCode> {
    if let Some(v) = a.expected {
        return match ipc::call(run_dir, &Request::SetExpectedVotes { votes: v })? {
            Response::Done => Ok(ExitCode::SUCCESS),
            Response::Error { message } => bail!("cannot set expected votes: {message}"),
            other => bail!("unexpected answer {other:?}"),
        };
    }
    let s = get_status(run_dir)?;
    if a.list && !a.status {
        print!("{}", render_members(&s, a.hex));
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render_status(&s, &now_date(), a.hex));
    Ok(if s.quorum.quorate {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
