//! [`LoopbackCluster`]: N `tandem daemon` processes on 127.0.0.1..N in one directory.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, bail};
use rustix::process::Signal;
use tandem_daemon::ipc::{self, Request, Response};

use crate::Placement;
use crate::config::{self, DEFAULT_TOKEN_MS, MAX_NODES};
use crate::procs;
use crate::record::{NodeRecord, Record};
use crate::wait::eventually_unless;
use crate::{MARKER_VAR, NODE_VAR};

/// How long the daemons get to form one quorate view of every node.
pub const FORM_TIMEOUT: Duration = Duration::from_secs(60);

/// How long one IPC status poll may take (a daemon busy starting up answers later).
const POLL_IPC_TIMEOUT: Duration = Duration::from_secs(2);

/// How often [`LoopbackCluster::configure`] retries a commit refused because the CIB
/// changed since it was read.
const CONFIGURE_RETRIES: u32 = 20;

/// The refusal [`LoopbackCluster::configure`] retries.
const CHANGED_SINCE_READ: &str = "the CIB changed since it was read";

/// How many bytes of each daemon log an error report quotes (the end of the log).
const LOG_TAIL_BYTES: usize = 4000;

/// What to build.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Number of nodes (1..=[`MAX_NODES`]).
    pub nodes: usize,
    /// The `tandem` binary: daemons and agents run from it.
    pub tandem: PathBuf,
    /// Where to build the cluster; it must not exist or be empty. `None`: a new directory
    /// under the system temporary directory named after `tag`.
    pub dir: Option<PathBuf>,
    /// Used in the temporary directory's name and as the cluster name.
    pub tag: String,
    /// The totem UDP port; `None`: a free one.
    pub port: Option<u16>,
    pub token_ms: u32,
    /// Each node's address on link 0, 1, ... (`None`: one link, node `i` on 127.0.0.i).
    /// With addresses given, `port` must be given too (no free-port search: the addresses
    /// may not exist in this network namespace).
    pub links: Option<Vec<Vec<Ipv4Addr>>>,
    /// The network namespace each node's daemon runs in (`ip netns exec NS`); `None`:
    /// this process's namespace.
    pub netns: Option<Vec<String>>,
}

impl Spec {
    pub fn new(tandem: impl Into<PathBuf>, nodes: usize, tag: &str) -> Spec {
        Spec {
            nodes,
            tandem: tandem.into(),
            dir: None,
            tag: tag.to_string(),
            port: None,
            token_ms: DEFAULT_TOKEN_MS,
            links: None,
            netns: None,
        }
    }
}

/// A running (or stopped) loopback cluster. Dropping it tears everything down.
pub struct LoopbackCluster {
    dir: PathBuf,
    /// Whether teardown removes `dir` itself (we created it) or only its contents.
    created_dir: bool,
    tandem: PathBuf,
    nodes: usize,
    port: u16,
    /// Node `i`'s addresses per link (index `i - 1`).
    links: Vec<Vec<Ipv4Addr>>,
    /// Node `i`'s network namespace (index `i - 1`), if any.
    netns: Option<Vec<String>>,
    daemons: Vec<Option<Child>>,
    cancel: Option<&'static AtomicBool>,
    done: bool,
}

impl LoopbackCluster {
    /// Writes the configuration, the key and the agents; starts nothing.
    pub fn create(spec: &Spec) -> anyhow::Result<LoopbackCluster> {
        if !(1..=MAX_NODES).contains(&spec.nodes) {
            bail!(
                "--nodes {}: a loopback cluster has 1 to {MAX_NODES} nodes",
                spec.nodes
            );
        }
        check_placement_spec(spec)?;
        let (dir, created_dir) = prepare_dir(spec)?;
        let port = match spec.port {
            Some(p) => p,
            None => config::free_udp_port(spec.nodes, config::auto_port_base())?,
        };
        let links = match &spec.links {
            Some(l) => l.clone(),
            None => (1..=spec.nodes)
                .map(|i| vec![config::node_addr(i)])
                .collect(),
        };
        let c = LoopbackCluster {
            dir,
            created_dir,
            tandem: spec.tandem.clone(),
            nodes: spec.nodes,
            port,
            links,
            netns: spec.netns.clone(),
            daemons: (0..spec.nodes).map(|_| None).collect(),
            cancel: None,
            done: false,
        };
        // From here on, a failure tears down what was made (Drop).
        c.write_files(&spec.tag, spec.token_ms)?;
        Ok(c)
    }

    fn write_files(&self, name: &str, token_ms: u32) -> anyhow::Result<()> {
        let conf =
            config::corosync_conf_links(&cluster_name(name), &self.links, self.port, token_ms);
        std::fs::write(self.config_path(), conf)
            .with_context(|| format!("cannot write {}", self.config_path().display()))?;
        write_authkey(&self.authkey_path())?;
        tandem_agents::install(&self.ocf_root(), &self.tandem).with_context(|| {
            format!(
                "cannot install the agents under {}",
                self.ocf_root().display()
            )
        })?;
        for i in 1..=self.nodes {
            for d in [self.state_dir(i), self.run_dir(i), self.rsctmp(i)] {
                std::fs::create_dir_all(&d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
            }
        }
        Ok(())
    }

    /// Startup waits give up when `flag` becomes true (the sandbox's signal handler).
    pub fn set_cancel(&mut self, flag: &'static AtomicBool) {
        self.cancel = Some(flag);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn nodes(&self) -> usize {
        self.nodes
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Node `i`'s address on each link (link 0 first).
    pub fn addrs(&self, i: usize) -> &[Ipv4Addr] {
        &self.links[i - 1]
    }
    /// The network namespace node `i`'s daemon runs in, if not this process's.
    pub fn netns(&self, i: usize) -> Option<&str> {
        self.netns.as_ref().map(|n| n[i - 1].as_str())
    }
    pub fn tandem(&self) -> &Path {
        &self.tandem
    }
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("corosync.conf")
    }
    pub fn authkey_path(&self) -> PathBuf {
        self.dir.join("authkey")
    }
    pub fn ocf_root(&self) -> PathBuf {
        self.dir.join("ocf")
    }
    pub fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.join(config::node_name(i))
    }
    pub fn state_dir(&self, i: usize) -> PathBuf {
        self.node_dir(i).join("state")
    }
    /// The run directory of node `i`: `--run-dir` / `TANDEM_RUN_DIR` for tools.
    pub fn run_dir(&self, i: usize) -> PathBuf {
        self.node_dir(i).join("run")
    }
    pub fn rsctmp(&self, i: usize) -> PathBuf {
        self.node_dir(i).join("rsctmp")
    }
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.node_dir(i).join("daemon.log")
    }
    pub fn name(&self, i: usize) -> String {
        config::node_name(i)
    }
    /// Node number of `name` (`node2` → 2).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        (1..=self.nodes).find(|&i| config::node_name(i) == name)
    }

    /// Starts every node's daemon.
    pub fn start_all(&mut self) -> anyhow::Result<()> {
        (1..=self.nodes).try_for_each(|i| self.start(i))
    }

    /// Starts node `i`'s daemon (again, after a crash or stop).
    pub fn start(&mut self, i: usize) -> anyhow::Result<()> {
        if self.running(i) {
            bail!("{} runs already", self.name(i));
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))
            .with_context(|| format!("cannot open {}", self.log_path(i).display()))?;
        let mut cmd = match self.netns(i) {
            Some(ns) => {
                let mut c = Command::new(crate::cmd::IP);
                c.args(["netns", "exec", ns]).arg(&self.tandem);
                c
            }
            None => Command::new(&self.tandem),
        };
        let child = cmd
            .arg("--run-dir")
            .arg(self.run_dir(i))
            .arg("daemon")
            .arg("--config")
            .arg(self.config_path())
            .arg("--authkey")
            .arg(self.authkey_path())
            .arg("--state-dir")
            .arg(self.state_dir(i))
            .arg("--node-id")
            .arg(i.to_string())
            .env_remove("CIB_file")
            .env_remove("TANDEM_RUN_DIR")
            .env("OCF_ROOT", self.ocf_root())
            .env("HA_RSCTMP", self.rsctmp(i))
            .env(MARKER_VAR, &self.dir)
            .env(NODE_VAR, self.name(i))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", self.tandem.display()))?;
        self.daemons[i - 1] = Some(child);
        Ok(())
    }

    /// Whether node `i`'s daemon (started by us) is still running.
    pub fn running(&mut self, i: usize) -> bool {
        match &mut self.daemons[i - 1] {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The pid of node `i`'s daemon, while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.daemons[i - 1].as_ref().map(Child::id)
    }

    /// Node `i` loses power: SIGKILL to its daemon and every process of the node (agents,
    /// services), and its `HA_RSCTMP` emptied as a reboot empties `/run`.
    pub fn crash(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(mut c) = self.daemons[i - 1].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let left = procs::kill_marked(&self.dir, Some(&self.name(i)));
        if !left.is_empty() {
            bail!("processes of {} would not die: {left:?}", self.name(i));
        }
        let rsctmp = self.rsctmp(i);
        std::fs::remove_dir_all(&rsctmp)
            .and_then(|()| std::fs::create_dir_all(&rsctmp))
            .with_context(|| format!("cannot empty {}", rsctmp.display()))
    }

    /// Node `i` freezes: SIGSTOP to every process of the node (daemon, agents, services),
    /// as a hung machine or a long VM pause. [`LoopbackCluster::resume`] undoes it.
    pub fn pause(&self, i: usize) -> anyhow::Result<()> {
        if procs::signal_marked(&self.dir, Some(&self.name(i)), Signal::STOP).is_empty() {
            bail!("{} has no process to pause", self.name(i));
        }
        Ok(())
    }

    /// SIGCONT to every process of node `i`.
    pub fn resume(&self, i: usize) {
        procs::signal_marked(&self.dir, Some(&self.name(i)), Signal::CONT);
    }

    /// SIGKILL to node `i`'s daemon only (its services keep running, as after a daemon bug).
    pub fn kill_daemon(&mut self, i: usize) {
        if let Some(mut c) = self.daemons[i - 1].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM to node `i`'s daemon, waiting for it to exit (SIGKILL after the grace time).
    pub fn stop(&mut self, i: usize) {
        if let Some(mut c) = self.daemons[i - 1].take() {
            stop_child(&mut c);
        }
    }

    /// Runs `tandem --run-dir <node i> ARGS...` and returns its output.
    pub fn tool(&self, i: usize, args: &[&str]) -> anyhow::Result<Output> {
        self.tool_command(i)
            .args(args)
            .output()
            .with_context(|| format!("cannot run {}", self.tandem.display()))
    }

    /// `tandem --run-dir <node i>` with a clean environment, ready for arguments.
    pub fn tool_command(&self, i: usize) -> Command {
        let mut c = Command::new(&self.tandem);
        c.env_remove("CIB_file")
            .env("TANDEM_RUN_DIR", self.run_dir(i))
            .env("OCF_ROOT", self.ocf_root())
            .stdin(Stdio::null());
        c
    }

    /// Node `i`'s view: (members, quorate), `None` while forming or unreachable.
    pub fn view(&self, i: usize) -> Option<(Vec<u32>, bool)> {
        match ipc::call_with_timeout(&self.run_dir(i), &Request::Status, POLL_IPC_TIMEOUT) {
            Ok(Response::Status(s)) if !s.forming => {
                Some((s.members.iter().map(|m| m.id).collect(), s.quorum.quorate))
            }
            _ => None,
        }
    }

    /// Waits until every node in `up` sees exactly the members `up`, quorate.
    pub fn wait_view(&self, up: &[usize], limit: Duration) -> anyhow::Result<()> {
        let want: Vec<u32> = up
            .iter()
            .map(|&i| u32::try_from(i).expect("small"))
            .collect();
        let what = format!("one quorate view of nodes {want:?}");
        eventually_unless(&what, limit, self.cancel, || {
            up.iter()
                .all(|&i| self.view(i) == Some((want.clone(), true)))
                .then_some(())
        })
        .map_err(|e| self.with_logs(e))
    }

    /// Waits until all nodes formed one quorate view and agree on the DC.
    pub fn wait_formed(&self) -> anyhow::Result<()> {
        let all: Vec<usize> = (1..=self.nodes).collect();
        self.wait_view(&all, FORM_TIMEOUT)?;
        eventually_unless(
            "every node to know the DC",
            FORM_TIMEOUT,
            self.cancel,
            || {
                let dcs: Vec<Option<String>> = all.iter().map(|&i| self.dc(i)).collect();
                (dcs[0].is_some() && dcs.iter().all(|d| *d == dcs[0])).then_some(())
            },
        )
        .map_err(|e| self.with_logs(e))
    }

    /// The DC node `i` knows of (`None` while there is none or it cannot answer).
    pub fn dc(&self, i: usize) -> Option<String> {
        match ipc::call_with_timeout(&self.run_dir(i), &Request::ClusterStatus, POLL_IPC_TIMEOUT) {
            Ok(Response::Cluster(info)) => info.dc,
            _ => None,
        }
    }

    /// Runs `tandem ARGS` against node `i`; its standard output, or an error with its
    /// standard error when it fails.
    pub fn tool_ok(&self, i: usize, args: &[&str]) -> anyhow::Result<String> {
        let out = self.tool(i, args)?;
        if !out.status.success() {
            bail!(
                "`tandem {}` on {} failed ({}): {}{}",
                args.join(" "),
                self.name(i),
                out.status,
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
        }
        String::from_utf8(out.stdout).context("output is not UTF-8")
    }

    /// Loads `crm` (crm configure language) into the live CIB through node `i`:
    /// `tandem configure load update FILE`.
    pub fn configure(&self, i: usize, crm: &str) -> anyhow::Result<()> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let file = self
            .dir
            .join(format!("load-{}.crm", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&file, crm).with_context(|| format!("cannot write {}", file.display()))?;
        let path = file.display().to_string();
        let mut tries = 0;
        loop {
            match self.tool_ok(i, &["configure", "load", "update", &path]) {
                Ok(_) => return Ok(()),
                // Someone else (the DC recording a joining node) changed the CIB between
                // read and commit; the refusal changed nothing, so do what it says: again.
                Err(e)
                    if tries < CONFIGURE_RETRIES && e.to_string().contains(CHANGED_SINCE_READ) =>
                {
                    tries += 1;
                    std::thread::sleep(crate::wait::POLL_INTERVAL);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Node `i`'s CIB (`tandem cib query`), `None` while it cannot answer.
    pub fn cib_xml(&self, i: usize) -> Option<String> {
        let out = self.tool(i, &["cib", "query"]).ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8(out.stdout).ok()
    }

    /// Where resources run according to node `i`'s CIB.
    pub fn placement(&self, i: usize) -> Option<Placement> {
        let xml = self.cib_xml(i)?;
        crate::placement(&xml, now_epoch()).ok()
    }

    /// Waits until `ok` holds for the placement node `i` sees; that placement.
    pub fn wait_placement(
        &self,
        i: usize,
        what: &str,
        limit: Duration,
        ok: impl Fn(&Placement) -> bool,
    ) -> anyhow::Result<Placement> {
        let mut last = None;
        let r = eventually_unless(what, limit, self.cancel, || {
            let p = self.placement(i)?;
            let good = ok(&p);
            last = Some(p.clone());
            good.then_some(p)
        });
        r.map_err(|e| self.with_logs(e.context(format!("last placement seen: {last:?}"))))
    }

    /// `e` with the end of every node's log, for a failure report.
    pub fn with_logs(&self, e: anyhow::Error) -> anyhow::Error {
        e.context(format!(
            "cluster in {}\n{}",
            self.dir.display(),
            self.log_tails()
        ))
    }

    /// The end of every node's log.
    pub fn log_tails(&self) -> String {
        let mut s = String::new();
        for i in 1..=self.nodes {
            let text = std::fs::read_to_string(self.log_path(i)).unwrap_or_default();
            let mut start = text.len().saturating_sub(LOG_TAIL_BYTES);
            while !text.is_char_boundary(start) {
                start += 1;
            }
            s.push_str(&format!(
                "---- {} ({}) ----\n{}\n",
                self.name(i),
                self.log_path(i).display(),
                &text[start..]
            ));
        }
        s
    }

    /// What `tandem sandbox down` needs to stop the cluster later.
    pub fn record(&self) -> Record {
        Record {
            dir: self.dir.clone(),
            created_dir: self.created_dir,
            port: self.port,
            owner_pid: std::process::id(),
            detached: false,
            http: None,
            nodes: (1..=self.nodes)
                .map(|i| NodeRecord {
                    name: self.name(i),
                    pid: self.pid(i),
                    run_dir: self.run_dir(i),
                    log: self.log_path(i),
                    netns: self.netns(i).map(str::to_string),
                    addrs: self.addrs(i).to_vec(),
                })
                .collect(),
            network: None,
        }
    }

    /// Leaves the cluster running; nothing is torn down when this value is dropped.
    pub fn detach(mut self) -> Record {
        self.detach_in_place()
    }

    /// [`LoopbackCluster::detach`] for an owner that keeps the value (teardown and Drop do
    /// nothing afterwards).
    pub fn detach_in_place(&mut self) -> Record {
        let mut r = self.record();
        r.detached = true;
        self.done = true;
        self.daemons.clear(); // dropping a Child neither kills nor waits
        r
    }

    /// Stops every daemon (SIGTERM, then SIGKILL after [`procs::STOP_GRACE`]), kills every
    /// process left that belongs to the cluster, removes the directory. Idempotent.
    pub fn teardown(&mut self) -> anyhow::Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        // A paused node would sit on SIGTERM until the grace time ran out.
        procs::signal_marked(&self.dir, None, Signal::CONT);
        let mut children: Vec<Child> = self.daemons.iter_mut().filter_map(Option::take).collect();
        for c in &children {
            procs::signal(i32::try_from(c.id()).expect("pid fits"), Signal::TERM);
        }
        for c in &mut children {
            wait_child(c, procs::STOP_GRACE);
        }
        finish_teardown(&self.dir, self.created_dir)
    }
}

impl Drop for LoopbackCluster {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("tandem-testkit: teardown of {}: {e:#}", self.dir.display());
        }
    }
}

/// After the daemons were asked to stop: kill whatever is left, remove the files.
pub(crate) fn finish_teardown(dir: &Path, created_dir: bool) -> anyhow::Result<()> {
    let left = procs::kill_marked(dir, None);
    let removed = if created_dir {
        std::fs::remove_dir_all(dir)
    } else {
        remove_contents(dir)
    };
    if !left.is_empty() {
        bail!("processes that would not die: {left:?}");
    }
    removed.with_context(|| format!("cannot remove {}", dir.display()))
}

fn remove_contents(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() && !p.is_symlink() {
            std::fs::remove_dir_all(&p)?;
        } else {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

/// SIGTERM, wait up to the grace time, SIGKILL.
fn stop_child(c: &mut Child) {
    procs::signal(i32::try_from(c.id()).expect("pid fits"), Signal::TERM);
    wait_child(c, procs::STOP_GRACE);
}

/// Waits for `c` to exit for at most `grace`, then SIGKILLs and reaps it.
fn wait_child(c: &mut Child, grace: Duration) {
    let t = std::time::Instant::now();
    while t.elapsed() < grace {
        if !matches!(c.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(procs::POLL);
    }
    let _ = c.kill();
    let _ = c.wait();
}

fn cluster_name(tag: &str) -> String {
    let name: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() {
        "sandbox".into()
    } else {
        name
    }
}

/// The directory to build in, and whether we created it.
fn prepare_dir(spec: &Spec) -> anyhow::Result<(PathBuf, bool)> {
    let dir = match &spec.dir {
        Some(d) => {
            std::path::absolute(d).with_context(|| format!("cannot resolve {}", d.display()))?
        }
        None => fresh_temp_dir(&spec.tag)?,
    };
    match std::fs::read_dir(&dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} is not empty; give a new or empty directory",
                    dir.display()
                );
            }
            Ok((dir, spec.dir.is_none()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            Ok((dir, true))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// A new, empty directory `tandem-<tag>-<pid>-<n>` under the temporary directory.
fn fresh_temp_dir(tag: &str) -> anyhow::Result<PathBuf> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::temp_dir();
    for _ in 0..100 {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let d = base.join(format!("tandem-{tag}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", d.display())),
        }
    }
    bail!("cannot find a free directory name under {}", base.display())
}

/// A new random authkey (mode 0400) of the default size.
fn write_authkey(path: &Path) -> anyhow::Result<()> {
    let mut key = vec![0u8; tandem_totem::authkey::DEFAULT_AUTHKEY_BYTES];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .context("reading /dev/urandom")?;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o400)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(&key)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Seconds since the epoch (failure timeouts in the CIB count from wall-clock time).
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Addresses and namespaces, when given, name every node; addresses come with a port.
fn check_placement_spec(spec: &Spec) -> anyhow::Result<()> {
    if let Some(l) = &spec.links {
        if l.len() != spec.nodes {
            bail!("{} nodes but addresses for {}", spec.nodes, l.len());
        }
        let n = l.first().map_or(0, Vec::len);
        if n == 0 || l.iter().any(|a| a.len() != n) {
            bail!("every node needs an address on each link, the same number of links");
        }
        if spec.port.is_none() {
            bail!("a cluster on given addresses needs its port given");
        }
    }
    if let Some(ns) = &spec.netns
        && ns.len() != spec.nodes
    {
        bail!("{} nodes but {} network namespaces", spec.nodes, ns.len());
    }
    Ok(())
}
