//! `tandem sandbox`: a real cluster of N daemons on 127.0.0.1..N in a temporary directory,
//! with an example configuration running (a Dummy and a web server in a group), for trying
//! Tandem without machines. The cluster itself is built and torn down by
//! [`tandem_testkit::LoopbackCluster`], the same code the end-to-end tests use.
//!
//! ```text
//!  tandem sandbox [--nodes N]   build, start, configure, wait, print status; refresh the
//!                               status until Ctrl-C / SIGTERM, then tear everything down
//!  tandem sandbox --detach      the same, but leave it running and return
//!  tandem sandbox status        where the running sandbox is, and its `tandem status`
//!  tandem sandbox down          stop it (from any terminal)
//!  tandem sandbox --netns       each node in its own network namespace, with a floating IP
//!                               and a web server: see [`super::sandbox_net`] for it and
//!                               for probe, kill, pause, resume, isolate, heal
//! ```
//!
//! A state file (see [`tandem_testkit::record`]) records the sandbox's directory and
//! daemons; one sandbox runs per user at a time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tandem_testkit::record::{self, Record};
use tandem_testkit::{LoopbackCluster, Spec, config, eventually};

use super::sandbox_net::{self, Fault};
use crate::output::OutputAs;

/// The nodes of a sandbox unless `--nodes` says otherwise.
pub const DEFAULT_NODES: usize = 3;
/// The first TCP port tried for the web server.
pub const HTTP_PORT: u16 = 8080;
/// How long the example resources get to start after the configuration is loaded.
pub(super) const RESOURCES_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the foreground sandbox re-reads the status.
const REFRESH: Duration = Duration::from_secs(2);
/// How long `down` waits for a foreground sandbox to tear itself down after SIGTERM.
const OWNER_TEARDOWN_WAIT: Duration = Duration::from_secs(60);
/// The resources of the example configuration that must run before the sandbox is ready.
const EXAMPLE_RESOURCES: [&str; 2] = ["Dummy", "WebServer"];

/// Set by SIGINT, SIGTERM or SIGHUP: stop waiting, tear down.
pub(super) static STOP: AtomicBool = AtomicBool::new(false);

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: Option<SandboxCommand>,
    #[command(flatten)]
    pub up: UpArgs,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Number of nodes. 2 reproduces the two-node tutorials (two_node quorum,
    /// no-quorum-policy=ignore).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_NODES)]
    pub nodes: usize,
    /// Build the cluster in DIR (it must not exist or be empty) instead of a new
    /// temporary directory; its contents are removed at the end.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Leave the cluster running in the background; `tandem sandbox down` stops it.
    #[arg(long)]
    pub detach: bool,
    /// The cluster's UDP port (default: the first free one from 15405).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// The web server's TCP port on 127.0.0.1 (default: the first free one from 8080).
    #[arg(long, value_name = "PORT")]
    pub http_port: Option<u16>,
    /// Only start the daemons: no example configuration.
    #[arg(long)]
    pub empty: bool,
    /// Each node in its own network namespace (needs root): a bridge, a client namespace,
    /// a floating IP (ocf:tandem:IPaddr) and a web server answering with its node's name.
    #[arg(long, conflicts_with_all = ["port", "http_port"])]
    pub netns: bool,
    /// With --netns: links per node; 2 is a redundant ring (two interfaces in
    /// corosync.conf, each link on its own bridge).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "netns")]
    pub links: usize,
}

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Where the running sandbox is, its nodes (namespaces, addresses, the floating IP),
    /// and its `tandem status`.
    Status {
        /// `json`: the sandbox's nodes, namespaces, addresses, VIP and client namespace.
        #[arg(long = "output-as", value_enum, default_value_t)]
        output_as: OutputAs,
    },
    /// Which node answers on the floating IP (--netns), probed every 20 ms from the client
    /// namespace: one line per change, then a summary (Ctrl-C stops).
    Probe {
        /// Stop after N probes.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Stop after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        duration: Option<f64>,
    },
    /// kill -9 of every process of NODE (daemon, agents, services).
    Kill { node: String },
    /// SIGSTOP to every process of NODE, as a frozen machine.
    Pause { node: String },
    /// SIGCONT to every process of NODE.
    Resume { node: String },
    /// Pull every cable of NODE (--netns): nodes and client no longer reach it.
    Isolate { node: String },
    /// Plug NODE's cables back in and remove its firewall rules (--netns).
    Heal { node: String },
    /// Stop the running sandbox and remove its directory (and its namespaces).
    Down,
    /// The sandbox's web server (what the WebServer resource runs): answers every HTTP
    /// request with the name of the node it runs on.
    #[command(hide = true)]
    Serve {
        #[arg(long, value_name = "ADDR:PORT")]
        listen: SocketAddr,
    },
}

pub fn run(a: SandboxArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        None if a.up.netns => sandbox_net::up(a.up),
        None => up(a.up),
        Some(SandboxCommand::Status { output_as }) => status(output_as),
        Some(SandboxCommand::Probe { count, duration }) => sandbox_net::probe(count, duration),
        Some(SandboxCommand::Kill { node }) => sandbox_net::node_fault(Fault::Kill, &node),
        Some(SandboxCommand::Pause { node }) => sandbox_net::node_fault(Fault::Pause, &node),
        Some(SandboxCommand::Resume { node }) => sandbox_net::node_fault(Fault::Resume, &node),
        Some(SandboxCommand::Isolate { node }) => sandbox_net::node_fault(Fault::Isolate, &node),
        Some(SandboxCommand::Heal { node }) => sandbox_net::node_fault(Fault::Heal, &node),
        Some(SandboxCommand::Down) => down(),
        Some(SandboxCommand::Serve { listen }) => {
            tandem_testkit::serve::serve(listen)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn up(a: UpArgs) -> anyhow::Result<ExitCode> {
    let record_path = record::record_path();
    refuse_second_sandbox(&record_path)?;
    watch_signals()?;
    let tandem = std::env::current_exe().context("cannot find the tandem binary")?;
    let mut spec = Spec::new(tandem, a.nodes, "sandbox");
    spec.dir = a.dir.clone();
    spec.port = Some(match a.port {
        Some(p) => p,
        None => config::free_udp_port(a.nodes, config::SANDBOX_PORT)?,
    });
    let mut cluster = LoopbackCluster::create(&spec)?;
    cluster.set_cancel(&STOP);
    let http = if a.empty {
        None
    } else {
        let port = match a.http_port {
            Some(p) => p,
            None => config::free_tcp_port(HTTP_PORT)?,
        };
        Some(SocketAddr::from(([127, 0, 0, 1], port)))
    };
    let result = start(&mut cluster, http, &record_path);
    if let Err(e) = result {
        eprintln!("Tearing the sandbox down ...");
        let _ = cluster.teardown();
        let _ = std::fs::remove_file(&record_path);
        return Err(e);
    }
    print_usage(&cluster, http);
    if a.detach {
        let mut r = cluster.detach();
        r.http = http.map(|h| format!("http://{h}/"));
        r.save(&record_path)?;
        println!("The sandbox keeps running; `tandem sandbox down` stops it.");
        return Ok(ExitCode::SUCCESS);
    }
    println!("Press Ctrl-C to stop the sandbox and remove it.\n");
    foreground(&cluster);
    println!("\nStopping the sandbox ...");
    let torn = cluster.teardown();
    let _ = std::fs::remove_file(&record_path);
    torn?;
    println!(
        "Done: every daemon and service stopped, {} removed.",
        cluster.dir().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Starts the daemons, waits for the cluster, loads the example configuration and waits
/// for it to run.
fn start(
    cluster: &mut LoopbackCluster,
    http: Option<SocketAddr>,
    record_path: &Path,
) -> anyhow::Result<()> {
    println!(
        "Starting a {}-node Tandem cluster in {} (nodes {} on 127.0.0.1-{}, UDP port {}) ...",
        cluster.nodes(),
        cluster.dir().display(),
        names(cluster).join(", "),
        cluster.nodes(),
        cluster.port()
    );
    let t = Instant::now();
    cluster.start_all()?;
    let mut r = cluster.record();
    r.http = http.map(|h| format!("http://{h}/"));
    r.save(record_path)?;
    cluster.wait_formed()?;
    println!(
        "The cluster formed in {:.1} s: {} online, quorate.",
        t.elapsed().as_secs_f64(),
        names(cluster).join(" ")
    );
    let Some(http) = http else {
        return Ok(());
    };
    let crm = cluster.dir().join("sandbox.crm");
    std::fs::write(&crm, example_config(cluster, http))
        .with_context(|| format!("cannot write {}", crm.display()))?;
    println!("Loading the example configuration ({}) ...", crm.display());
    let crm_arg = crm.display().to_string();
    cluster.tool_ok(1, &["configure", "load", "update", &crm_arg])?;
    eventually_resources(cluster)?;
    println!(
        "The example resources run ({:.1} s after the daemons started).\n",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Waits until every example resource runs somewhere.
fn eventually_resources(cluster: &LoopbackCluster) -> anyhow::Result<()> {
    cluster
        .wait_placement(1, "the example resources to run", RESOURCES_TIMEOUT, |p| {
            EXAMPLE_RESOURCES.iter().all(|r| p.node(r).is_some())
        })
        .map(drop)
}

/// The example configuration, in the crm language: fencing off as the tutorials set it (no
/// fencing devices on loopback), stickiness so resources do not fail back, and a group of a
/// Dummy and a web server with monitors. Two nodes ignore loss of quorum, as the two-node
/// tutorials configure it.
pub fn example_config(cluster: &LoopbackCluster, http: SocketAddr) -> String {
    let mut s = String::from("property stonith-enabled=false");
    if cluster.nodes() == 2 {
        s.push_str(" no-quorum-policy=ignore");
    }
    s.push('\n');
    s.push_str("rsc_defaults resource-stickiness=100\n");
    s.push_str("primitive Dummy ocf:tandem:Dummy op monitor interval=10s timeout=20s\n");
    s.push_str(&format!(
        "primitive WebServer ocf:tandem:process params binfile=\"{}\" cmdline_options=\"sandbox serve --listen {http}\" logfile=\"{}\" op monitor interval=5s timeout=20s\n",
        cluster.tandem().display(),
        cluster.dir().join("webserver.log").display()
    ));
    s.push_str("group HAService Dummy WebServer\n");
    s
}

pub(super) fn names(cluster: &LoopbackCluster) -> Vec<String> {
    (1..=cluster.nodes()).map(|i| cluster.name(i)).collect()
}

fn print_usage(cluster: &LoopbackCluster, http: Option<SocketAddr>) {
    print!("{}", status_text(cluster.tandem(), &cluster.run_dir(1)));
    println!();
    println!("Point other tandem commands at a node of the sandbox:");
    println!("    export TANDEM_RUN_DIR={}", cluster.run_dir(1).display());
    println!(
        "    (or --run-dir {}; node2's is {})",
        cluster.run_dir(1).display(),
        cluster.run_dir(2.min(cluster.nodes())).display()
    );
    println!("and try, for example:");
    println!("    tandem status");
    println!("    tandem node standby node1        # the group moves; tandem node online node1");
    println!("    tandem resource move HAService node2; tandem resource clear HAService");
    if let Some(h) = http {
        println!("    curl http://{h}/                # which node answers");
    }
    println!(
        "Logs: {}/nodeN/daemon.log. Configuration: {}.",
        cluster.dir().display(),
        cluster.config_path().display()
    );
}

/// `tandem status` against `run_dir`; `tandem quorum` when status cannot answer.
pub(super) fn status_text(tandem: &Path, run_dir: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new(tandem)
            .arg("--run-dir")
            .arg(run_dir)
            .args(args)
            .env_remove("CIB_file")
            .output()
    };
    match run(&["status"]) {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            let mut s = format!(
                "(tandem status: {})\n",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            if let Ok(q) = run(&["quorum"]) {
                s.push_str(&String::from_utf8_lossy(&q.stdout));
            }
            s
        }
        Err(e) => format!("(cannot run tandem status: {e})\n"),
    }
}

/// Prints the status whenever it changes, until a signal.
pub(super) fn foreground(cluster: &LoopbackCluster) {
    let mut last = String::new();
    while !STOP.load(Ordering::SeqCst) {
        let i = (1..=cluster.nodes())
            .find(|&i| cluster.view(i).is_some())
            .unwrap_or(1);
        let text = status_text(cluster.tandem(), &cluster.run_dir(i));
        let key: String = text
            .lines()
            .filter(|l| !l.contains("Last updated"))
            .collect::<Vec<_>>()
            .join("\n");
        if key != last && !last.is_empty() {
            println!(
                "---- the status changed ({} seen from {}) ----",
                now_text(),
                cluster.name(i)
            );
            print!("{text}");
        }
        last = key;
        let t = Instant::now();
        while t.elapsed() < REFRESH && !STOP.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn now_text() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    tandem_daemon::timestamp(secs)
}

/// A sandbox already runs: refuse. A stale record (nothing of it runs) is cleaned up.
pub(super) fn refuse_second_sandbox(record_path: &Path) -> anyhow::Result<()> {
    let Some(r) = Record::load(record_path)? else {
        return Ok(());
    };
    if r.alive() {
        bail!(
            "a sandbox runs already in {} (recorded in {}); `tandem sandbox down` stops it",
            r.dir.display(),
            record_path.display()
        );
    }
    record::teardown(&r)?;
    std::fs::remove_file(record_path)
        .with_context(|| format!("cannot remove {}", record_path.display()))
}

/// Sets [`STOP`] on SIGINT, SIGTERM or SIGHUP (from a thread with its own runtime). Returns
/// once the handlers are installed, so no early signal is lost.
pub(super) fn watch_signals() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (tx, rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
    std::thread::spawn(move || {
        rt.block_on(async move {
            let kinds = [
                SignalKind::interrupt(),
                SignalKind::terminate(),
                SignalKind::hangup(),
            ];
            let mut streams = Vec::new();
            for k in kinds {
                match signal(k) {
                    Ok(s) => streams.push(s),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            let _ = tx.send(Ok(()));
            let [a, b, c] = &mut streams[..] else {
                return;
            };
            tokio::select! {
                _ = a.recv() => {}
                _ = b.recv() => {}
                _ = c.recv() => {}
            }
            STOP.store(true, Ordering::SeqCst);
        });
    });
    rx.recv()
        .context("the signal watcher did not start")?
        .context("cannot install signal handlers")
}

fn status(output_as: OutputAs) -> anyhow::Result<ExitCode> {
    if output_as == OutputAs::Xml {
        bail!("tandem sandbox status: --output-as is text or json");
    }
    let path = record::record_path();
    let Some(r) = Record::load(&path)? else {
        if output_as == OutputAs::Json {
            println!("{}", serde_json::json!({ "running": false }));
        } else {
            println!("No sandbox is running (no {}).", path.display());
        }
        return Ok(ExitCode::from(1));
    };
    let alive = tandem_testkit::procs::marked(&r.dir, None);
    let up = |pid: Option<u32>| {
        pid.and_then(|p| i32::try_from(p).ok())
            .is_some_and(|p| alive.contains(&p))
    };
    if output_as == OutputAs::Json {
        println!("{}", status_json(&r, up));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Sandbox in {} ({}, UDP port {})",
        r.dir.display(),
        if r.detached {
            "detached".to_string()
        } else {
            format!("owned by pid {}", r.owner_pid)
        },
        r.port
    );
    for n in &r.nodes {
        println!(
            "  {:<8} pid {:<8} {:<8} --run-dir {}",
            n.name,
            n.pid.map_or("-".to_string(), |p| p.to_string()),
            if up(n.pid) { "running" } else { "stopped" },
            n.run_dir.display()
        );
        if let Some(ns) = &n.netns {
            let addrs: Vec<String> = n.addrs.iter().map(ToString::to_string).collect();
            println!("           namespace {ns}, {}", addrs.join(", "));
        }
    }
    if let Some(h) = &r.http {
        println!("  web server: {h}");
    }
    if let Some(net) = &r.network {
        println!("  floating IP {}, web server http://{}/", net.vip, net.web);
        println!(
            "  client namespace {} ({}): `tandem sandbox probe` watches the floating IP",
            net.client_ns, net.client_addr
        );
    }
    println!();
    let tandem = std::env::current_exe().context("cannot find the tandem binary")?;
    if let Some(n) = r
        .nodes
        .iter()
        .find(|n| up(n.pid) && n.run_dir.join("tandem.sock").exists())
    {
        print!("{}", status_text(&tandem, &n.run_dir));
    }
    Ok(ExitCode::SUCCESS)
}

/// `tandem sandbox status --output-as json`.
fn status_json(r: &Record, up: impl Fn(Option<u32>) -> bool) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = r
        .nodes
        .iter()
        .map(|n| {
            let addrs: Vec<String> = n.addrs.iter().map(ToString::to_string).collect();
            serde_json::json!({
                "name": n.name,
                "pid": n.pid,
                "running": up(n.pid),
                "namespace": n.netns,
                "addresses": addrs,
                "run_dir": n.run_dir,
                "log": n.log,
            })
        })
        .collect();
    let net = r.network.as_ref();
    serde_json::json!({
        "running": true,
        "dir": r.dir,
        "detached": r.detached,
        "owner_pid": r.owner_pid,
        "port": r.port,
        "netns": net.is_some(),
        "nodes": nodes,
        "vip": net.map(|n| n.vip.to_string()),
        "web": net.map(|n| format!("http://{}/", n.web)).or_else(|| r.http.clone()),
        "client_namespace": net.map(|n| n.client_ns.clone()),
        "client_address": net.map(|n| n.client_addr.to_string()),
        "switch_namespace": net.map(|n| n.switch_ns.clone()),
        "namespaces": net.map(|n| n.namespaces.clone()).unwrap_or_default(),
    })
}

fn down() -> anyhow::Result<ExitCode> {
    let path = record::record_path();
    let Some(r) = Record::load(&path)? else {
        println!("No sandbox is running.");
        return Ok(ExitCode::SUCCESS);
    };
    let owner = i32::try_from(r.owner_pid).ok();
    if let (false, Some(pid)) = (r.detached, owner)
        && tandem_testkit::procs::alive(pid)
    {
        // A foreground sandbox tears itself down on SIGTERM.
        println!("Asking the sandbox (pid {pid}) to stop ...");
        tandem_testkit::procs::terminate(pid);
        let _ = eventually("the sandbox to stop", OWNER_TEARDOWN_WAIT, || {
            (!tandem_testkit::procs::alive(pid)).then_some(())
        });
    }
    println!("Stopping the sandbox in {} ...", r.dir.display());
    record::teardown(&r)?;
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    println!("Done.");
    Ok(ExitCode::SUCCESS)
}
