//! Test support: temporary directories, network namespaces (kept in step with
//! `crates/exec/tests/common`; a shared test-kit crate would hold both).
#![allow(dead_code)]

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

/// A network namespace, deleted when dropped (also when the test panics).
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    /// A new namespace with loopback up and IPv6 duplicate address detection off for new
    /// interfaces (so addresses are usable at once).
    pub fn new() -> NetNs {
        let ns = NetNs {
            name: unique("tdma"),
        };
        run(&["ip", "netns", "add", &ns.name]);
        for cmd in [
            "ip link set lo up",
            "sysctl -q -w net.ipv6.conf.all.accept_dad=0",
            "sysctl -q -w net.ipv6.conf.default.accept_dad=0",
        ] {
            ns.exec(&cmd.split(' ').collect::<Vec<_>>());
        }
        ns
    }

    /// Two namespaces joined by a veth pair: `va` in the first, `vb` in the second, both up.
    pub fn pair() -> (NetNs, NetNs) {
        let (a, b) = (NetNs::new(), NetNs::new());
        a.exec(&[
            "ip", "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &b.name,
        ]);
        a.exec(&["ip", "link", "set", "va", "up"]);
        b.exec(&["ip", "link", "set", "vb", "up"]);
        (a, b)
    }

    /// Runs a command inside the namespace; panics if it fails.
    pub fn exec(&self, args: &[&str]) -> String {
        let mut full = vec!["ip", "netns", "exec", &self.name];
        full.extend_from_slice(args);
        run(&full)
    }

    /// A command that will run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `f` on a thread that has entered this namespace: processes it spawns are born
    /// inside the namespace (namespaces belong to threads; children inherit the spawner's).
    pub fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        use std::os::fd::AsFd;
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

    /// The MAC address of an interface.
    pub fn mac(&self, dev: &str) -> String {
        self.exec(&["cat", &format!("/sys/class/net/{dev}/address")])
            .trim()
            .to_string()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}
