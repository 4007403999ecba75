//! `ocf:tandem:IPaddr`: the floating IP address, IPv4 and IPv6, through rtnetlink.
//!
//! * `start`: finds the interface (the `nic` parameter, else the one with an address in a
//!   subnet containing `ip`), brings it up, adds the address (an address already there is
//!   fine), waits for IPv6 duplicate address detection, optionally makes the address the
//!   preferred source of its subnet's route and of default routes through the interface,
//!   then announces it: gratuitous ARPs (IPv4) or unsolicited neighbour advertisements (IPv6),
//!   the first at once, the rest in a background process (`arp_bg`).
//! * `stop`: stops a background announcer, restores the routes' preferred sources (before the
//!   address goes: the kernel deletes routes whose preferred source disappears), removes the
//!   address (an address already gone is fine).
//! * `monitor`: the address really is configured on the interface (and not a failed IPv6
//!   duplicate).
//! * `watch` (Tandem's executor runs it beside the recurring monitor): returns as soon as
//!   the monitor would fail, from netlink events ([`watch`]).

pub mod announce;
pub mod config;
pub mod net;
pub mod watch;

use std::net::IpAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};

use crate::ocf::{ActionSpec, Agent, Env, Failure, MetaData, Outcome, ParamSpec, log, rc};
use crate::process::proc_stat;
use announce::Announcer;
use config::{Config, contains};
use net::{Addr, AddrSpec, Link, Netlink};

/// The environment variable that turns an IPaddr process into the background announcer:
/// `IFINDEX MAC COUNT` (the rest comes from the inherited OCF parameters).
pub const ANNOUNCER_ENV: &str = "TANDEM_IPADDR_ANNOUNCER";

/// The longest wait for IPv6 duplicate address detection (the kernel's default is one probe
/// of one second; a slow link may take a few).
pub const MAX_DAD_WAIT: Duration = Duration::from_secs(10);

/// The IPaddr agent.
pub struct IpAddr2;

fn params() -> Vec<ParamSpec> {
    let p = |name, required, kind, default: Option<&str>, shortdesc, longdesc| ParamSpec {
        name,
        required,
        unique: name == "ip",
        kind,
        default: default.map(str::to_string),
        shortdesc,
        longdesc,
    };
    vec![
        p(
            "ip",
            true,
            "string",
            None,
            "IPv4 or IPv6 address",
            "The floating address, e.g. 192.0.2.10 or 2001:db8::10.",
        ),
        p(
            "cidr_netmask",
            false,
            "string",
            None,
            "Prefix length",
            "Prefix length (24) or IPv4 netmask (255.255.255.0). Default: that of the subnet the address is in.",
        ),
        p(
            "nic",
            false,
            "string",
            None,
            "Network interface",
            "The interface to put the address on. Default: the interface with an address in a subnet that contains ip.",
        ),
        p(
            "broadcast",
            false,
            "string",
            Some("+"),
            "IPv4 broadcast address",
            "Broadcast address: + computes it from the prefix, - sets none.",
        ),
        p(
            "label",
            false,
            "string",
            None,
            "IPv4 interface label",
            "The address gets the label nic:label (at most 15 characters in all), as ifconfig shows it.",
        ),
        p(
            "arp_count",
            false,
            "integer",
            Some("5"),
            "Announcements to send",
            "How many gratuitous ARPs (IPv4) or unsolicited neighbour advertisements (IPv6) to send after start.",
        ),
        p(
            "arp_interval",
            false,
            "integer",
            Some("200"),
            "Milliseconds between announcements",
            "Pause between announcements, in milliseconds.",
        ),
        p(
            "arp_bg",
            false,
            "boolean",
            Some("true"),
            "Announce in the background",
            "Send all announcements after the first from a background process, so start returns at once.",
        ),
        p(
            "preferred_src",
            false,
            "boolean",
            Some("false"),
            "Use the address as source",
            "Make the address the preferred source address of the route to its subnet and of default routes through its interface, so outgoing traffic comes from the floating address. Restored on stop.",
        ),
        p(
            "nodad",
            false,
            "boolean",
            Some("false"),
            "IPv6: skip duplicate address detection",
            "Add an IPv6 address without duplicate address detection.",
        ),
    ]
}

impl Agent for IpAddr2 {
    fn name(&self) -> &'static str {
        "IPaddr"
    }

    fn metadata(&self) -> MetaData {
        MetaData {
            name: "IPaddr",
            version: "1.0",
            shortdesc: "Floating IPv4/IPv6 address",
            longdesc: "Manages a floating IPv4 or IPv6 address through netlink (no ip binary \
                       needed): adds it to an interface, announces it with gratuitous ARPs or \
                       unsolicited neighbour advertisements, can make it the source address of \
                       outgoing traffic, and removes it again.",
            params: params(),
            actions: vec![
                ActionSpec::new("start", "20s"),
                ActionSpec::new("stop", "20s"),
                ActionSpec::every("monitor", "20s", "10s"),
                ActionSpec::new("meta-data", "5s"),
                ActionSpec::new("validate-all", "20s"),
                ActionSpec::new("methods", "5s"),
            ],
        }
    }

    fn watches(&self) -> bool {
        true
    }

    fn run(&self, action: &str, env: &Env) -> Outcome {
        if let Some(spec) = env.var(ANNOUNCER_ENV) {
            return background_announcer(env, spec);
        }
        if !matches!(
            action,
            "start" | "stop" | "monitor" | "status" | "validate-all" | "watch"
        ) {
            return Ok(rc::ERR_UNIMPLEMENTED);
        }
        let cfg = Config::read(env)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::generic(format!("cannot start a runtime: {e}")))?;
        if action == "watch" {
            return rt.block_on(watch::watch(&cfg));
        }
        rt.block_on(async {
            let nl = Netlink::connect()?;
            match action {
                "start" => start(&nl, &cfg, env).await,
                "stop" => stop(&nl, &cfg, env).await,
                "validate-all" => resolve(&nl, &cfg).await.map(|_| rc::SUCCESS),
                _ => monitor(&nl, &cfg).await,
            }
        })
    }
}

/// Finds the interface and prefix for the address.
async fn resolve(nl: &Netlink, cfg: &Config) -> Result<(Link, u8), Failure> {
    let links = nl.links().await?;
    let addrs = nl.addrs(cfg.ip.is_ipv6()).await?;
    if let Some(nic) = &cfg.nic {
        let link = links
            .into_iter()
            .find(|l| &l.name == nic)
            .ok_or_else(|| Failure::configured(format!("interface {nic} does not exist")))?;
        let prefix = cfg
            .prefix
            .or_else(|| {
                addrs
                    .iter()
                    .filter(|a| a.index == link.index && contains(a.ip, a.prefix, cfg.ip))
                    .map(|a| a.prefix)
                    .max()
            })
            .ok_or_else(|| {
                Failure::configured(format!(
                    "cannot tell the prefix of {} on {nic}: no address there is in its subnet; set cidr_netmask",
                    cfg.ip
                ))
            })?;
        return Ok((link, prefix));
    }
    // The most specific subnet wins; ties go to the lowest interface index.
    let best = addrs
        .iter()
        .filter(|a| a.ip != cfg.ip && contains(a.ip, a.prefix, cfg.ip))
        .max_by_key(|a| (a.prefix, std::cmp::Reverse(a.index)))
        .or_else(|| addrs.iter().find(|a| a.ip == cfg.ip))
        .ok_or_else(|| {
            Failure::configured(format!(
                "no interface has an address in a subnet containing {}; set nic and cidr_netmask",
                cfg.ip
            ))
        })?;
    let link = links
        .into_iter()
        .find(|l| l.index == best.index)
        .ok_or_else(|| Failure::generic("the interface vanished"))?;
    Ok((link, cfg.prefix.unwrap_or(best.prefix)))
}

/// The configured address's entries: on the configured interface, or on any.
pub(crate) async fn present(nl: &Netlink, cfg: &Config) -> Result<Vec<Addr>, Failure> {
    let only = match &cfg.nic {
        Some(nic) => match nl.link(nic).await? {
            Some(l) => Some(l.index),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    Ok(nl
        .addrs(cfg.ip.is_ipv6())
        .await?
        .into_iter()
        .filter(|a| a.ip == cfg.ip && only.is_none_or(|i| a.index == i))
        .filter(|a| cfg.prefix.is_none_or(|p| a.prefix == p))
        .collect())
}

async fn monitor(nl: &Netlink, cfg: &Config) -> Outcome {
    match problem(&present(nl, cfg).await?) {
        None => Ok(rc::SUCCESS),
        Some(Problem::Missing) => Ok(rc::NOT_RUNNING),
        Some(Problem::Duplicate) => Err(Failure::generic(format!(
            "{} is a duplicate on the network (IPv6 DAD failed)",
            cfg.ip
        ))),
    }
}

/// Why the monitor would not say "running".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The address is not configured (where it should be).
    Missing,
    /// It is, but IPv6 duplicate address detection failed.
    Duplicate,
}

/// What the monitor thinks of the address's entries `found` (see [`present`]).
pub(crate) fn problem(found: &[Addr]) -> Option<Problem> {
    if found.iter().any(|a| a.dadfailed) {
        Some(Problem::Duplicate)
    } else if found.is_empty() {
        Some(Problem::Missing)
    } else {
        None
    }
}

async fn start(nl: &Netlink, cfg: &Config, env: &Env) -> Outcome {
    let (link, prefix) = resolve(nl, cfg).await?;
    if !link.up {
        nl.set_up(link.index).await?;
    }
    let label = match (&cfg.label, cfg.ip) {
        (Some(l), IpAddr::V4(_)) => Some(format!("{}:{l}", link.name)),
        _ => None,
    };
    nl.add_addr(&AddrSpec {
        index: link.index,
        ip: cfg.ip,
        prefix,
        broadcast: cfg.broadcast_for(prefix),
        label,
        nodad: cfg.nodad,
    })
    .await?;
    let usable = wait_for_dad(nl, cfg, link.index, env).await?;
    if cfg.preferred_src {
        prefsrc::apply(nl, cfg, link.index, env).await?;
    }
    if usable {
        announce(cfg, &link, env);
    }
    log(
        "IPaddr",
        env,
        "INFO",
        &format!("{}/{prefix} is up on {}", cfg.ip, link.name),
    );
    Ok(rc::SUCCESS)
}

/// Waits until an IPv6 address has passed duplicate address detection. `Ok(false)` if it
/// is still tentative after the wait (it works, but cannot be announced yet).
async fn wait_for_dad(nl: &Netlink, cfg: &Config, index: u32, env: &Env) -> Result<bool, Failure> {
    if cfg.ip.is_ipv4() || cfg.nodad {
        return Ok(true);
    }
    // Leave a quarter of the operation's time for the rest of the start.
    let budget = env.timeout_ms().map_or(MAX_DAD_WAIT, |ms| {
        Duration::from_millis(ms * 3 / 4).min(MAX_DAD_WAIT)
    });
    let deadline = tokio::time::Instant::now() + budget;
    loop {
        let entry = nl
            .addrs(true)
            .await?
            .into_iter()
            .find(|a| a.ip == cfg.ip && a.index == index);
        match entry {
            Some(a) if a.dadfailed => {
                let _ = nl.del_addr(&a).await;
                return Err(Failure::generic(format!(
                    "{} is already in use on the network (IPv6 DAD failed)",
                    cfg.ip
                )));
            }
            Some(a) if !a.tentative => return Ok(true),
            None => {
                return Err(Failure::generic(format!(
                    "{} vanished after it was added",
                    cfg.ip
                )));
            }
            Some(_) if tokio::time::Instant::now() >= deadline => {
                log(
                    "IPaddr",
                    env,
                    "WARNING",
                    &format!("{} is still tentative; not announcing it", cfg.ip),
                );
                return Ok(false);
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn stop(nl: &Netlink, cfg: &Config, env: &Env) -> Outcome {
    stop_announcer(env, cfg.ip);
    let found = present(nl, cfg).await?;
    for a in &found {
        prefsrc::restore(nl, cfg, a.index, env).await?;
        nl.del_addr(a).await?;
    }
    prefsrc::forget(env);
    Ok(rc::SUCCESS)
}

/// The pid file of the background announcer for an address.
fn announcer_pidfile(env: &Env, ip: IpAddr) -> PathBuf {
    env.rsctmp().join(format!("IPaddr-announce-{ip}.pid"))
}

fn mac6(link: &Link) -> Option<[u8; 6]> {
    link.mac.get(..6)?.try_into().ok()
}

/// Sends the first announcement now and the others as configured. Failures to announce are
/// logged, not fatal: the address works; neighbours learn it a little later.
fn announce(cfg: &Config, link: &Link, env: &Env) {
    if cfg.arp_count == 0 {
        return;
    }
    let Some(mac) = mac6(link) else {
        log(
            "IPaddr",
            env,
            "INFO",
            &format!("{} has no Ethernet address; nothing to announce", link.name),
        );
        return;
    };
    let announcer = match cfg.ip {
        IpAddr::V4(ip) => Announcer::arp(link.index, mac, ip),
        IpAddr::V6(ip) => Announcer::na(link.index, mac, ip),
    };
    let announcer = match announcer {
        Ok(a) => a,
        Err(e) => {
            return log(
                "IPaddr",
                env,
                "WARNING",
                &format!("cannot announce {}: {e}", cfg.ip),
            );
        }
    };
    if let Err(e) = announcer.send() {
        log(
            "IPaddr",
            env,
            "WARNING",
            &format!("cannot announce {}: {e}", cfg.ip),
        );
    }
    let rest = cfg.arp_count - 1;
    if rest == 0 {
        return;
    }
    if cfg.arp_bg {
        spawn_announcer(cfg, link, mac, rest, env);
    } else {
        for _ in 0..rest {
            std::thread::sleep(Duration::from_millis(cfg.arp_interval_ms));
            let _ = announcer.send();
        }
    }
}

fn spawn_announcer(cfg: &Config, link: &Link, mac: [u8; 6], count: u64, env: &Env) {
    stop_announcer(env, cfg.ip);
    let mac_hex: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    let spawned = Command::new("/proc/self/exe")
        .arg0("IPaddr")
        .arg("start")
        .env(
            ANNOUNCER_ENV,
            format!("{} {} {count}", link.index, mac_hex.join(":")),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Not in the operation's process group: the operation is over when start returns.
        .process_group(0)
        .spawn();
    match spawned {
        Ok(child) => {
            let pid = child.id();
            if let Some(ticks) = i32::try_from(pid).ok().and_then(proc_stat).map(|s| s.1) {
                let _ = std::fs::create_dir_all(env.rsctmp());
                let _ = std::fs::write(announcer_pidfile(env, cfg.ip), format!("{pid} {ticks}\n"));
            }
        }
        Err(e) => log(
            "IPaddr",
            env,
            "WARNING",
            &format!("cannot start the background announcer: {e}"),
        ),
    }
}

/// Stops a background announcer of this address, if one runs: after a stop, this node
/// must not claim the address any more.
fn stop_announcer(env: &Env, ip: IpAddr) {
    let pidfile = announcer_pidfile(env, ip);
    if let Ok(text) = std::fs::read_to_string(&pidfile) {
        let mut f = text.split_whitespace();
        if let (Some(Ok(pid)), Some(Ok(ticks))) = (
            f.next().map(str::parse::<i32>),
            f.next().map(str::parse::<u64>),
        ) && proc_stat(pid).is_some_and(|s| s.1 == ticks)
            && let Some(p) = Pid::from_raw(pid)
        {
            let _ = kill_process(p, Signal::KILL);
        }
        let _ = std::fs::remove_file(&pidfile);
    }
}

/// The background announcer: `IFINDEX MAC COUNT` from the environment.
fn background_announcer(env: &Env, spec: &str) -> Outcome {
    let cfg = Config::read(env)?;
    let bad = || Failure::generic(format!("bad {ANNOUNCER_ENV}={spec:?}"));
    let f: Vec<&str> = spec.split_whitespace().collect();
    let [index, mac, count] = f.as_slice() else {
        return Err(bad());
    };
    let index: u32 = index.parse().map_err(|_| bad())?;
    let count: u64 = count.parse().map_err(|_| bad())?;
    let bytes: Vec<u8> = mac
        .split(':')
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    let mac: [u8; 6] = bytes.try_into().map_err(|_| bad())?;
    let announcer = match cfg.ip {
        IpAddr::V4(ip) => Announcer::arp(index, mac, ip),
        IpAddr::V6(ip) => Announcer::na(index, mac, ip),
    }
    .map_err(|e| Failure::generic(e.to_string()))?;
    for _ in 0..count {
        std::thread::sleep(Duration::from_millis(cfg.arp_interval_ms));
        let _ = announcer.send();
    }
    let pidfile = announcer_pidfile(env, cfg.ip);
    if std::fs::read_to_string(&pidfile)
        .is_ok_and(|t| t.split_whitespace().next() == Some(&std::process::id().to_string()))
    {
        let _ = std::fs::remove_file(&pidfile);
    }
    Ok(rc::SUCCESS)
}

mod prefsrc {
    //! `preferred_src`: which routes get the address as their preferred source, and how the
    //! original sources are remembered (a state file of `DST/LEN METRIC ORIGINAL` lines in
    //! `$HA_RSCTMP`) and restored.

    use super::*;

    fn state(env: &Env) -> PathBuf {
        env.rsctmp()
            .join(format!("IPaddr-{}.prefsrc", env.instance()))
    }

    fn key(r: &rtnetlink::packet_route::route::RouteMessage) -> Option<String> {
        let (dst, len) = net::route_destination(r)?;
        Some(format!("{dst}/{len} {}", net::route_metric(r)))
    }

    /// Routes to the address's subnet and default routes through the interface.
    fn wanted(cfg: &Config, r: &rtnetlink::packet_route::route::RouteMessage) -> bool {
        net::route_destination(r).is_some_and(|(dst, len)| len == 0 || contains(dst, len, cfg.ip))
    }

    pub(super) async fn apply(
        nl: &Netlink,
        cfg: &Config,
        index: u32,
        env: &Env,
    ) -> Result<(), Failure> {
        let path = state(env);
        let mut saved = std::fs::read_to_string(&path).unwrap_or_default();
        for r in nl.routes(cfg.ip.is_ipv6(), index).await? {
            let current = net::route_prefsrc(&r);
            if !wanted(cfg, &r) || current == Some(cfg.ip) {
                continue;
            }
            let Some(k) = key(&r) else { continue };
            let original = current.map_or("-".to_string(), |ip| ip.to_string());
            saved.push_str(&format!("{k} {original}\n"));
            nl.set_prefsrc(&r, Some(cfg.ip)).await?;
        }
        write_state(&path, &saved)
    }

    pub(super) async fn restore(
        nl: &Netlink,
        cfg: &Config,
        index: u32,
        env: &Env,
    ) -> Result<(), Failure> {
        let saved = std::fs::read_to_string(state(env)).unwrap_or_default();
        let original = |k: &str| -> Option<IpAddr> {
            saved.lines().rev().find_map(|l| {
                let (lk, orig) = l.rsplit_once(' ')?;
                (lk == k).then(|| orig.parse().ok())?
            })
        };
        let configured: Vec<IpAddr> = nl
            .addrs(cfg.ip.is_ipv6())
            .await?
            .into_iter()
            .map(|a| a.ip)
            .collect();
        for r in nl.routes(cfg.ip.is_ipv6(), index).await? {
            if net::route_prefsrc(&r) != Some(cfg.ip) {
                continue;
            }
            // Back to the original source if it still exists; else let the kernel choose.
            let back = key(&r)
                .and_then(|k| original(&k))
                .filter(|ip| configured.contains(ip) && *ip != cfg.ip);
            nl.set_prefsrc(&r, back).await?;
        }
        Ok(())
    }

    pub(super) fn forget(env: &Env) {
        let _ = std::fs::remove_file(state(env));
    }

    fn write_state(path: &Path, text: &str) -> Result<(), Failure> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(path, text)
            .map_err(|e| Failure::generic(format!("cannot write {}: {e}", path.display())))
    }
}
