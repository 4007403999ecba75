//! Where a command's CIB comes from and goes to: a file (`CIB_file=PATH` or `--cib PATH`,
//! as with Pacemaker's tools) or the running cluster.
//!
//! Writing a file is atomic — a temporary file in the same directory, fsync, rename, fsync
//! of the directory — so a reader never sees half a CIB and a failed write leaves the old
//! file byte-for-byte as it was.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tandem_cib::{Cib, LoadError};

/// The largest CIB file read (a very large real CIB is tens of megabytes).
pub const MAX_CIB_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// The CIB a command works on.
#[derive(Clone, Debug)]
pub enum CibSource {
    /// A CIB file; `run_dir` is still where the local daemon would answer (commands that
    /// need the running cluster whatever the CIB say where they looked).
    File {
        path: PathBuf,
        run_dir: PathBuf,
    },
    Live {
        run_dir: PathBuf,
    },
}

impl CibSource {
    pub fn new(cib_file: Option<&Path>, run_dir: &Path) -> CibSource {
        match cib_file {
            Some(p) => CibSource::File {
                path: p.to_path_buf(),
                run_dir: run_dir.to_path_buf(),
            },
            None => CibSource::Live {
                run_dir: run_dir.to_path_buf(),
            },
        }
    }

    /// The run directory of the local daemon.
    pub fn run_dir(&self) -> &Path {
        match self {
            CibSource::File { run_dir, .. } | CibSource::Live { run_dir } => run_dir,
        }
    }

    /// Reads and loads the CIB.
    pub fn load(&self) -> anyhow::Result<Cib> {
        match self {
            CibSource::File { path, .. } => load_file(path),
            CibSource::Live { run_dir } => Err(NoCluster::new(run_dir).into()),
        }
    }

    /// Replaces the stored CIB with `cib`.
    pub fn store(&self, cib: &Cib) -> anyhow::Result<()> {
        match self {
            CibSource::File { path, .. } => write_atomically(path, cib.to_xml().as_bytes()),
            CibSource::Live { run_dir } => Err(NoCluster::new(run_dir).into()),
        }
    }
}

/// A command needed the running cluster and none answers. `main` exits with Pacemaker's
/// CRM_EX_DISCONNECT (102) for it, as Pacemaker's tools do when they cannot connect.
#[derive(Debug, thiserror::Error)]
#[error(
    "no cluster is running on this node (no tandem daemon answers in {}); {hint}",
    run_dir.display()
)]
pub struct NoCluster {
    pub run_dir: PathBuf,
    /// What to do instead.
    pub hint: &'static str,
}

impl NoCluster {
    pub fn new(run_dir: &Path) -> NoCluster {
        NoCluster {
            run_dir: run_dir.to_path_buf(),
            hint: "to work on a CIB file instead, set CIB_file=PATH or pass --cib PATH",
        }
    }
}

/// Reads a CIB file's text, refusing files larger than [`MAX_CIB_FILE_BYTES`].
pub fn read_cib_text(path: &Path) -> anyhow::Result<String> {
    let meta =
        fs::metadata(path).with_context(|| format!("cannot read CIB file {}", path.display()))?;
    if meta.len() > MAX_CIB_FILE_BYTES {
        bail!(
            "CIB file {} is {} bytes, more than the {} accepted",
            path.display(),
            meta.len(),
            MAX_CIB_FILE_BYTES
        );
    }
    fs::read_to_string(path).with_context(|| format!("cannot read CIB file {}", path.display()))
}

/// Reads a CIB file; errors name the file (and line and column for XML errors).
pub fn load_file(path: &Path) -> anyhow::Result<Cib> {
    let text = read_cib_text(path)?;
    Cib::parse(&text).map_err(|e| match e {
        // `file:line:column: message`, as compilers print it.
        LoadError::Xml(e) => anyhow::anyhow!("{}:{e}", path.display()),
        e => anyhow::anyhow!("{}: {e}", path.display()),
    })
}

/// Writes `bytes` to `path` so that the file is either entirely old or entirely new
/// ([`tandem_daemon::durable`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    tandem_daemon::durable::write_atomically(path, bytes)
        .with_context(|| format!("cannot write CIB file {}", path.display()))
}
