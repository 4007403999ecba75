//! `IPaddr watch`: returns as soon as the address fails, for Tandem's executor to run the
//! monitor at once instead of at its next interval.
//!
//! ```text
//!  subscribe (link, IPv4 and IPv6 address events) ─▶ look (as monitor does) ─ failing? ─▶ say, exit 0
//!        │ then, for each event about the address or its interface:
//!        └─ RTM_DELADDR / RTM_NEWADDR of the address, RTM_DELLINK of its interface,
//!           lost events (socket overrun) ─▶ look again ─ failing? ─▶ say, exit 0
//! ```
//!
//! Subscribing before the first look means a change between the two is never missed, and an
//! address already gone when the watch starts ends it at once. The look is the monitor's own
//! ([`super::present`], [`super::problem`]), so the watcher never exits while the monitor
//! would still answer "running": a link that goes down keeps its IPv4 address and the
//! monitor, like IPaddr2's, does not fail for it, so a link event alone is not a reason to
//! exit (an IPv6 address removed with its link sends its own RTM_DELADDR; an interface
//! deleted takes its addresses with it). Every look has a timeout; the executor bounds the
//! watcher's lifetime.

use std::time::Duration;

use futures::StreamExt;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::RouteNetlinkMessage;

use super::net::{Netlink, to_addr};
use super::{Config, Problem, present, problem};
use crate::ocf::{Failure, Outcome, rc};

/// The longest one look at the kernel's addresses may take.
pub const WATCH_LOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// Watches the address of `cfg` (see the module documentation).
pub async fn watch(cfg: &Config) -> Outcome {
    let (nl, mut events) = Netlink::connect_watching()?;
    let mut links = match look(&nl, cfg).await? {
        Err(problem) => return fired("when the watch started", problem, cfg),
        Ok(links) => links,
    };
    loop {
        let Some((msg, _)) = events.next().await else {
            return Err(Failure::generic("the netlink event stream ended"));
        };
        let event = match msg.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(m))
                if to_addr(m.clone()).is_some_and(|a| a.ip == cfg.ip) =>
            {
                "after RTM_DELADDR"
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m))
                if to_addr(m.clone()).is_some_and(|a| a.ip == cfg.ip) =>
            {
                "after RTM_NEWADDR"
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m))
                if links.contains(&m.header.index) =>
            {
                "after RTM_DELLINK"
            }
            NetlinkPayload::Overrun(_) => "after netlink events were lost",
            _ => continue,
        };
        match look(&nl, cfg).await? {
            Err(problem) => return fired(event, problem, cfg),
            Ok(now) => links = now,
        }
    }
}

/// The monitor's view: the interfaces the address is on, or why it is failing.
async fn look(nl: &Netlink, cfg: &Config) -> Result<Result<Vec<u32>, Problem>, Failure> {
    let found = tokio::time::timeout(WATCH_LOOK_TIMEOUT, present(nl, cfg))
        .await
        .map_err(|_| {
            Failure::generic(format!(
                "listing addresses took longer than {} s",
                WATCH_LOOK_TIMEOUT.as_secs()
            ))
        })??;
    Ok(match problem(&found) {
        Some(p) => Err(p),
        None => Ok(found.iter().map(|a| a.index).collect()),
    })
}

/// Says what was seen (one line on stdout, for the executor's log) and returns success.
fn fired(when: &str, problem: Problem, cfg: &Config) -> Outcome {
    let on = cfg
        .nic
        .as_deref()
        .map(|nic| format!(" on {nic}"))
        .unwrap_or_default();
    match problem {
        Problem::Missing => println!("{} is not configured{on} {when}", cfg.ip),
        Problem::Duplicate => println!(
            "{} is a duplicate on the network (IPv6 DAD failed){on} {when}",
            cfg.ip
        ),
    }
    Ok(rc::SUCCESS)
}
