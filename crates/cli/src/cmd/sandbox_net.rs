//! `tandem sandbox --netns`: the sandbox on a real (virtual) network, built by
//! [`tandem_testkit::NetnsCluster`] — each node in its own network namespace on a bridge, a
//! client namespace, a floating IP (`ocf:tandem:IPaddr`) and a web server that answers with
//! its node's name, in a group — so a newcomer can watch a failover as the tutorials do
//! with `curl` in a loop. Needs root.
//!
//! ```text
//!  tandem sandbox --netns [--nodes N] [--links 2] [--detach]
//!  tandem sandbox probe [--count N] [--duration S]   who answers on the floating IP
//!  tandem sandbox kill|pause|resume NODE              kill -9 / SIGSTOP / SIGCONT its processes
//!  tandem sandbox isolate|heal NODE                   pull / plug its cables (--netns)
//!  tandem sandbox status [--output-as json] | down
//! ```
//!
//! `kill`, `pause` and `resume` work on a loopback sandbox too (they find a node's processes
//! by the marker in their environment); `probe`, `isolate` and `heal` need the namespaces.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tandem_testkit::netns::{self, NetSpec, NetnsCluster};
use tandem_testkit::probe::{self, Answer, ProbeConfig, Sample};
use tandem_testkit::procs::{self, Signal};
use tandem_testkit::record::{self, Record};

use super::sandbox::{
    RESOURCES_TIMEOUT, STOP, foreground, names, refuse_second_sandbox, status_text, watch_signals,
};

/// What `tandem sandbox kill|pause|resume|isolate|heal NODE` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Kill,
    Pause,
    Resume,
    Isolate,
    Heal,
}

pub fn up(a: super::sandbox::UpArgs) -> anyhow::Result<ExitCode> {
    let record_path = record::record_path();
    refuse_second_sandbox(&record_path)?;
    watch_signals()?;
    let tandem = std::env::current_exe().context("cannot find the tandem binary")?;
    let mut spec = NetSpec::new(tandem, a.nodes, "sandbox");
    spec.links = a.links;
    spec.dir = a.dir.clone();
    // Not the automatic `tandem-PID-N`: a detached sandbox outlives this process, and
    // the testkit's sweep removes clusters whose owner is gone.
    spec.prefix = Some(format!("{}sandbox-{}", netns::PREFIX, std::process::id()));
    let mut c = NetnsCluster::create(&spec)?;
    c.set_cancel(&STOP);
    if let Err(e) = start(&mut c, a.empty, &record_path) {
        eprintln!("Tearing the sandbox down ...");
        let _ = c.teardown();
        let _ = std::fs::remove_file(&record_path);
        return Err(e);
    }
    print_usage(&c, a.empty);
    if a.detach {
        let dir = c.dir().to_path_buf();
        c.detach().save(&record_path)?;
        println!(
            "The sandbox keeps running in {}; `tandem sandbox down` stops it.",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("Press Ctrl-C to stop the sandbox and remove it.\n");
    foreground(&c);
    println!("\nStopping the sandbox ...");
    let torn = c.teardown();
    let _ = std::fs::remove_file(&record_path);
    torn?;
    println!(
        "Done: every daemon and service stopped, every namespace and {} removed.",
        c.dir().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Starts the daemons, waits for the cluster, loads the example configuration and waits
/// for the floating IP and the web server to run.
fn start(c: &mut NetnsCluster, empty: bool, record_path: &Path) -> anyhow::Result<()> {
    let n = c.nodes();
    let addrs: Vec<String> = (0..c.net().links())
        .map(|l| format!("{}-{}", netns::node_addr(1, l), netns::node_addr(n, l)))
        .collect();
    println!(
        "Starting a {n}-node Tandem cluster in network namespaces {}-node1..{n} (addresses {}, bridge in {}, files in {}) ...",
        c.net().prefix(),
        addrs.join(" and "),
        c.net().switch_ns(),
        c.dir().display()
    );
    let t = Instant::now();
    c.start_all()?;
    c.record().save(record_path)?;
    c.wait_formed()?;
    println!(
        "The cluster formed in {:.1} s: {} online, quorate.",
        t.elapsed().as_secs_f64(),
        names(c).join(" ")
    );
    if empty {
        return Ok(());
    }
    let crm = c.dir().join("sandbox.crm");
    std::fs::write(&crm, c.example_config())
        .with_context(|| format!("cannot write {}", crm.display()))?;
    println!("Loading the example configuration ({}) ...", crm.display());
    let crm_arg = crm.display().to_string();
    c.tool_ok(1, &["configure", "load", "update", &crm_arg])?;
    let p = c.wait_placement(
        1,
        "the floating IP and the web server to run",
        RESOURCES_TIMEOUT,
        |p| p.node(netns::VIP_RSC).is_some() && p.node(netns::VIP_RSC) == p.node(netns::WEB_RSC),
    )?;
    println!(
        "The floating IP {} and the web server run on {} ({:.1} s after the daemons started).\n",
        netns::vip(),
        p.node(netns::VIP_RSC).expect("checked"),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn print_usage(c: &NetnsCluster, empty: bool) {
    print!("{}", status_text(c.tandem(), &c.run_dir(1)));
    println!();
    println!("Point other tandem commands at a node of the sandbox:");
    println!("    export TANDEM_RUN_DIR={}", c.run_dir(1).display());
    if !empty {
        println!("Watch the floating IP from the client namespace:");
        println!("    tandem sandbox probe             # which node answers, every 20 ms");
        println!(
            "    ip netns exec {} curl http://{}/",
            c.client_ns(),
            netns::vip()
        );
    }
    println!("and break things:");
    println!("    tandem sandbox kill node1        # kill -9 of all its processes");
    println!("    tandem sandbox pause node1       # SIGSTOP; tandem sandbox resume node1");
    println!("    tandem sandbox isolate node1     # cables pulled; tandem sandbox heal node1");
    println!("    tandem node standby node1; tandem resource move HAService node2");
    println!(
        "Logs: {}/nodeN/daemon.log. Configuration: {}.",
        c.dir().display(),
        c.config_path().display()
    );
}

/// The running sandbox's record, or an error saying none runs.
fn running() -> anyhow::Result<Record> {
    let path = record::record_path();
    match Record::load(&path)? {
        Some(r) => Ok(r),
        None => bail!("no sandbox is running (no {})", path.display()),
    }
}

/// `tandem sandbox kill|pause|resume|isolate|heal NODE`.
pub fn node_fault(f: Fault, node: &str) -> anyhow::Result<ExitCode> {
    let r = running()?;
    let Some(i) = r.nodes.iter().position(|n| n.name == node).map(|k| k + 1) else {
        let names: Vec<&str> = r.nodes.iter().map(|n| n.name.as_str()).collect();
        bail!(
            "the sandbox has no node {node} (its nodes: {})",
            names.join(", ")
        );
    };
    match f {
        Fault::Kill => {
            let pids = procs::marked(&r.dir, Some(node));
            if pids.is_empty() {
                bail!("{node} has no process running");
            }
            let left = procs::kill_marked(&r.dir, Some(node));
            if !left.is_empty() {
                bail!("processes of {node} would not die: {left:?}");
            }
            println!("{node}: killed {} (kill -9)", processes(pids.len()));
        }
        Fault::Pause | Fault::Resume => {
            let (sig, done, hint) = if f == Fault::Pause {
                (
                    Signal::STOP,
                    "paused",
                    format!("; `tandem sandbox resume {node}` continues them"),
                )
            } else {
                (Signal::CONT, "resumed", String::new())
            };
            let pids = procs::signal_marked(&r.dir, Some(node), sig);
            if pids.is_empty() {
                bail!("{node} has no process running");
            }
            println!("{node}: {} {done}{hint}", processes(pids.len()));
        }
        Fault::Isolate | Fault::Heal => {
            let Some(net) = &r.network else {
                bail!(
                    "the sandbox runs on loopback: isolate and heal need `tandem sandbox --netns`"
                );
            };
            let up = f == Fault::Heal;
            for l in 0..net.links {
                netns::set_cable(&net.switch_ns, i, l, up)?;
            }
            if up {
                if let Some(ns) = &r.nodes[i - 1].netns {
                    netns::clear_fault_table(ns)?;
                }
                println!("{node}: cables plugged in");
            } else {
                println!("{node}: cables pulled; `tandem sandbox heal {node}` plugs them back in");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn processes(n: usize) -> String {
    if n == 1 {
        "1 process".into()
    } else {
        format!("{n} processes")
    }
}

/// `tandem sandbox probe`: probes until Ctrl-C, `count` probes or `duration` seconds;
/// prints a line whenever the answer changes and a summary at the end.
pub fn probe(count: Option<u64>, duration: Option<f64>) -> anyhow::Result<ExitCode> {
    let r = running()?;
    let Some(net) = &r.network else {
        bail!("the sandbox runs on loopback: probe needs `tandem sandbox --netns`");
    };
    let limit = match duration {
        Some(d) if d.is_finite() && d > 0.0 => Some(Duration::from_secs_f64(d)),
        Some(d) => bail!("--duration {d}: give a positive number of seconds"),
        None => None,
    };
    watch_signals()?;
    let cfg = ProbeConfig::new(net.web, Some(&net.client_ns));
    // This process has nothing else to do: its main thread moves to the client namespace.
    probe::enter_netns(&net.client_ns)?;
    println!(
        "Probing http://{}/ from namespace {} every {} ms (Ctrl-C stops).",
        net.web,
        net.client_ns,
        cfg.interval.as_millis()
    );
    let start = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    while !STOP.load(Ordering::SeqCst)
        && count.is_none_or(|c| (samples.len() as u64) < c)
        && limit.is_none_or(|l| start.elapsed() < l)
    {
        let began = Instant::now();
        let answer = probe::probe_once(&cfg);
        let s = Sample {
            at: began.duration_since(start),
            took: began.elapsed(),
            answer,
        };
        if let Some(line) = change_line(&samples, &s) {
            println!("{line}");
        }
        samples.push(s);
        if let Some(rest) = cfg.interval.checked_sub(began.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    println!("{}", probe_summary(&samples));
    Ok(ExitCode::SUCCESS)
}

/// The line to print for `s` after `before`, if its answer differs from the last one.
pub fn change_line(before: &[Sample], s: &Sample) -> Option<String> {
    let last = before.last();
    let at = format!("{:>9.3} s", s.at.as_secs_f64());
    match &s.answer {
        Answer::Node(n) => {
            if last.is_some_and(|l| l.node() == Some(n.as_str())) {
                return None;
            }
            let gap = match last {
                Some(l) if l.node().is_none() => {
                    let last_ok = before.iter().rev().find(|x| x.node().is_some());
                    last_ok.map(|o| {
                        format!(
                            ", after {:.2} s without an answer",
                            s.at.saturating_sub(o.at).as_secs_f64()
                        )
                    })
                }
                _ => None,
            };
            Some(format!("{at}  {n} answers{}", gap.unwrap_or_default()))
        }
        Answer::Failed(kind) => {
            if last.is_some_and(|l| l.node().is_none()) {
                return None;
            }
            Some(format!("{at}  no answer ({})", kind.name()))
        }
    }
}

/// `N probes: node1 250, node2 40, 10 unanswered; 1 outage, the longest 0.90 s`.
pub fn probe_summary(samples: &[Sample]) -> String {
    let mut parts: Vec<String> = probe::answer_counts(samples)
        .iter()
        .map(|(n, c)| format!("{n} {c}"))
        .collect();
    let failed = samples.iter().filter(|s| s.node().is_none()).count();
    if failed > 0 {
        parts.push(format!("{failed} unanswered"));
    }
    let outages = probe::outages(samples);
    let ended: Vec<Duration> = outages.iter().filter_map(probe::Outage::duration).collect();
    let mut out = match (outages.len(), ended.iter().max()) {
        (0, _) => "no outage".to_string(),
        (1, Some(d)) => format!("1 outage, {:.2} s", d.as_secs_f64()),
        (k, Some(d)) => format!("{k} outages, the longest {:.2} s", d.as_secs_f64()),
        (k, None) => format!("{k} outage{}", if k == 1 { "" } else { "s" }),
    };
    if outages.last().is_some_and(|o| o.recovered.is_none()) {
        out.push_str(", still no answer at the end");
    }
    format!(
        "{} probe{}: {}; {out}",
        samples.len(),
        if samples.len() == 1 { "" } else { "s" },
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_testkit::probe::Failure;

    fn s(ms: u64, a: Option<&str>) -> Sample {
        Sample {
            at: Duration::from_millis(ms),
            took: Duration::from_millis(1),
            answer: match a {
                Some(n) => Answer::Node(n.into()),
                None => Answer::Failed(Failure::ConnectTimeout),
            },
        }
    }

    #[test]
    fn lines_and_summary() {
        let v = [
            s(0, Some("node1")),
            s(20, Some("node1")),
            s(40, None),
            s(140, None),
            s(940, Some("node2")),
            s(960, Some("node2")),
        ];
        let lines: Vec<String> = (0..v.len())
            .filter_map(|k| change_line(&v[..k], &v[k]))
            .collect();
        assert_eq!(
            lines,
            vec![
                "    0.000 s  node1 answers",
                "    0.040 s  no answer (connect-timeout)",
                "    0.940 s  node2 answers, after 0.92 s without an answer",
            ]
        );
        assert_eq!(
            probe_summary(&v),
            "6 probes: node1 2, node2 2, 2 unanswered; 1 outage, 0.92 s"
        );
        assert_eq!(probe_summary(&v[..2]), "2 probes: node1 2; no outage");
        assert_eq!(
            probe_summary(&v[..3]),
            "3 probes: node1 2, 1 unanswered; 1 outage, still no answer at the end"
        );
    }
}
