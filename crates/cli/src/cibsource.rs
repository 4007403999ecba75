//! Where a command's CIB comes from and goes to: a file (`CIB_file=PATH` or `--cib PATH`,
//! as with Pacemaker's tools) or the running cluster.
//!
//! The running cluster is reached through [`crate::live`].
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
    /// A CIB file.
    File {
        path: PathBuf,
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
            },
            None => CibSource::Live {
                run_dir: run_dir.to_path_buf(),
            },
        }
    }

    /// Reads and loads the CIB (live: the whole CIB, status included).
    pub fn load(&self) -> anyhow::Result<Cib> {
        match self {
            CibSource::File { path, .. } => load_file(path),
            CibSource::Live { run_dir } => crate::live::query(run_dir),
        }
    }

    /// Replaces the stored CIB, read as `base`, with `new`. Refused (nothing written) if
    /// the stored CIB is no longer at `base`'s version: someone else changed it meanwhile.
    /// A file compares the whole version (its status is rewritten too); the running cluster
    /// takes only `new`'s configuration and compares `admin_epoch` and `epoch`, as status
    /// updates go on independently.
    pub fn store(&self, base: &Cib, new: &Cib) -> anyhow::Result<()> {
        match self {
            CibSource::File { path, .. } => {
                let current = load_file(path)?;
                if current.version != base.version {
                    bail!(
                        "the CIB changed since it was read (version {} then, {} now); nothing \
                         was written, run the command again",
                        base.version,
                        current.version
                    );
                }
                write_atomically(path, new.to_xml().as_bytes())
            }
            CibSource::Live { run_dir } => crate::live::commit(run_dir, base, new).map(|_| ()),
        }
    }

    /// Sets (`Some`) or deletes (`None`) transient attribute `name` of `node` (its
    /// `status` entry; gone when the node restarts).
    pub fn set_transient_attr(
        &self,
        node: &str,
        name: &str,
        value: Option<&str>,
    ) -> anyhow::Result<()> {
        match self {
            CibSource::File { .. } => self.edit_status(|doc| {
                crate::cibedit::set_transient_attr(doc, node, name, value).map(|_| ())
            }),
            CibSource::Live { run_dir } => crate::live::attr_update(run_dir, node, name, value),
        }
    }

    /// Forgets the failures of resource `rsc` (every resource if `None`) on `node` (every
    /// node if `None`): their fail counts and failed operations. The running cluster
    /// re-probes them; in a file the successful history stays as it is.
    pub fn cleanup(&self, rsc: Option<&str>, node: Option<&str>) -> anyhow::Result<()> {
        match self {
            CibSource::File { .. } => {
                self.edit_status(|doc| crate::cibedit::cleanup(doc, rsc, node).map(|_| ()))
            }
            CibSource::Live { run_dir } => crate::live::cleanup(run_dir, rsc, node),
        }
    }

    /// The name of the node this command runs on, in the running cluster.
    pub fn local_node(&self) -> anyhow::Result<String> {
        match self {
            CibSource::File { path, .. } => bail!(
                "{} is a CIB file: there is no local node; name the node",
                path.display()
            ),
            CibSource::Live { .. } => Ok(self.cluster_info()?.local_node),
        }
    }

    /// The cluster as status shows it: the whole CIB, DC, quorum, members, last change.
    /// For a file, what the file records ([`crate::crmmon::file_cluster_info`]).
    pub fn cluster_info(&self) -> anyhow::Result<tandem_daemon::ipc::ClusterInfo> {
        match self {
            CibSource::File { path } => {
                let xml = read_cib_text(path)?;
                let cib = load_file(path)?;
                Ok(crate::crmmon::file_cluster_info(&cib, xml))
            }
            CibSource::Live { run_dir } => crate::live::cluster_info(run_dir),
        }
    }

    /// The CIB and what the cluster says besides (DC, quorum, this node) for `status`.
    pub fn status_input(&self) -> anyhow::Result<(Cib, crate::crmmon::ClusterView)> {
        let info = self.cluster_info()?;
        let cib = Cib::parse(&info.cib).map_err(|e| anyhow::anyhow!("the cluster's CIB: {e}"))?;
        Ok((cib, crate::crmmon::ClusterView::from_info(&info)))
    }

    /// A change confined to the status section of a file: `num_updates` goes up.
    fn edit_status(
        &self,
        edit: impl FnOnce(&mut tandem_xml::Document) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let base = self.load()?;
        let mut doc = base.document().clone();
        edit(&mut doc)?;
        let next = base.successor(doc)?;
        self.store(&base, &next)
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
