//! Test support: temporary directories, script agents, network namespaces.
#![allow(dead_code)]

use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique name for this process and call: `prefix-PID-N`.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// True if `path` exists. When it does not: in CI (where `scripts/install-test-deps` installs
/// every package the tests use) that is a failure; elsewhere the test is skipped with a note.
pub fn require(path: &str, package: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{path} is missing: scripts/install-test-deps should have installed {package}");
    }
    eprintln!("SKIP: {path} not found (install the Debian package {package})");
    false
}

/// True if we may create network namespaces (root). Same CI rule as [`require`].
pub fn require_root() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("network-namespace tests need root");
    }
    eprintln!("SKIP: not root");
    false
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes an executable script.
pub fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs a command, panicking with its output if it fails.
pub fn run(args: &[&str]) -> String {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace with a veth pair `va`/`vb` inside, `va` up with 192.0.2.1/24 and
/// 2001:db8::1/64 (DAD off). Deleted when dropped, also when the test panics.
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    pub fn new() -> NetNs {
        let ns = NetNs {
            name: unique("tdmx"),
        };
        run(&["ip", "netns", "add", &ns.name]);
        for cmd in [
            "sysctl -q -w net.ipv6.conf.all.accept_dad=0",
            "sysctl -q -w net.ipv6.conf.default.accept_dad=0",
            "ip link add va type veth peer name vb",
            "ip link set lo up",
            "ip link set va up",
            "ip link set vb up",
            "ip addr add 192.0.2.1/24 dev va",
            "ip addr add 2001:db8::1/64 dev va",
        ] {
            ns.exec(&cmd.split(' ').collect::<Vec<_>>());
        }
        ns
    }

    /// Runs a command inside the namespace.
    pub fn exec(&self, args: &[&str]) -> String {
        let mut full = vec!["ip", "netns", "exec", &self.name];
        full.extend_from_slice(args);
        run(&full)
    }

    /// The addresses on an interface, as `ip -o addr` prints them.
    pub fn addrs(&self, dev: &str) -> String {
        self.exec(&["ip", "-o", "addr", "show", "dev", dev])
    }

    /// Runs `f` on a thread that has entered this namespace, with a current-thread tokio
    /// runtime: processes it spawns are born inside the namespace.
    pub fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap();
            rustix::thread::move_into_link_name_space(
                file.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .unwrap();
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A current-thread runtime for a test body.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
