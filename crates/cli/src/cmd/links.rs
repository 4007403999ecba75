//! `tandem links`: link status in `corosync-cfgtool -s`'s layout. Exit 1 if a link to a
//! configured node is down.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use tandem_daemon::ipc::{self, DaemonStatus, Request, Response};

#[derive(Args, Debug)]
pub struct LinksArgs {
    /// Show link status (the default; accepted for corosync-cfgtool compatibility).
    #[arg(short = 's')]
    pub status: bool,
}

pub fn render(s: &DaemonStatus) -> (String, bool) {
    let mut o = format!("Local node ID {}, transport {}\n", s.node_id, s.transport);
    let mut faulty = false;
    for (link, addr) in &s.local_links {
        o.push_str(&format!(
            "LINK ID {link} udp\n\taddr\t= {addr}\n\tstatus:\n"
        ));
        let mut rows: Vec<(u32, String)> = vec![(s.node_id, "localhost".into())];
        for p in s.peer_links.iter().filter(|p| p.link == *link) {
            faulty |= !p.connected;
            rows.push((
                p.node,
                if p.connected {
                    "connected".into()
                } else {
                    "disconnected".into()
                },
            ));
        }
        rows.sort();
        for (id, state) in rows {
            o.push_str(&format!("\t\tnodeid: {id:>10}:\t{state}\n"));
        }
    }
    (o, faulty)
}

pub fn run(_a: LinksArgs, run_dir: &Path) -> anyhow::Result<ExitCode> {
    let s = match ipc::call(run_dir, &Request::Status)? {
        Response::Status(s) => *s,
        Response::Error { message } => bail!("{message}"),
        other => bail!("unexpected answer {other:?}"),
    };
    let (text, faulty) = render(&s);
    print!("{text}");
    Ok(if faulty {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
