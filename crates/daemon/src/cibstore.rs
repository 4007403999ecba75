//! The CIB on disk: `<state_dir>/cib/`, as Pacemaker keeps `/var/lib/pacemaker/cib/`.
//!
//! ```text
//!   cib.xml            the current CIB, exactly the bytes of `Cib::to_xml`
//!   cib.xml.sig        SHA-256 of those bytes, 64 lowercase hex digits
//!   cib-N.raw (+.sig)  the versions cib.xml replaced, N counting up; the newest
//!                      MAX_CIB_BACKUPS are kept
//!   .cib.xml.new       the next cib.xml while a save is in progress
//!   .cib.xml.sig.new   its digest
//! ```
//!
//! **Saving** (crash-safe at every instant, including power loss):
//! 1. the oldest backups are removed so that one more fits the limit, then the current
//!    `cib.xml` and its `.sig` become backup N by hard link (a copy where links are not
//!    supported) — the old files' inodes stay as they are;
//! 2. the new digest and the new XML are written to the `.new` files and `fsync`ed;
//! 3. `.cib.xml.new` is renamed over `cib.xml`, the directory `fsync`ed;
//! 4. `.cib.xml.sig.new` is renamed over `cib.xml.sig`, the directory `fsync`ed — the save
//!    is complete and [`CibStore::save`] returns.
//!
//! **Loading** verifies `cib.xml` against `cib.xml.sig` and parses it. The one mismatch a
//! crash can leave is between steps 3 and 4: `cib.xml` is new, `cib.xml.sig` old, and the
//! pending `.cib.xml.sig.new` holds the new digest. Load recognises exactly that (the pending
//! digest matches `cib.xml`) and finishes the save by renaming the pending digest into
//! place. Anything else — a digest that matches nothing, a missing digest, a truncated or
//! unparsable file — is refused with an error naming the file and the problem, and nothing
//! in the directory is changed: the daemon stops rather than overwrite what may be the only
//! copy of a configuration. The operator restores a backup or removes the files (the node
//! then takes the CIB from its peers).
//!
//! So a load after a crash returns either the last CIB whose save returned or the one being
//! saved when the process died, never an older one and never a torn one. A process loads
//! before it saves (the load finishes an interrupted save); a save into a store left torn
//! and never loaded still leaves a consistent `cib.xml`, only the backup it made of the torn
//! pair fails its digest. Only one process
//! may save into a store at a time (the daemon; its socket check refuses a second daemon on
//! the same directories).

use std::fmt::Write as _;
use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest as _, Sha256};
use tandem_cib::{Cib, LoadError};

use crate::durable::{sync_dir, write_synced};

/// The store's directory under the state directory.
pub const CIB_DIR_NAME: &str = "cib";
/// The current CIB.
pub const CIB_FILE_NAME: &str = "cib.xml";
/// Appended to a CIB file's name for its digest file.
pub const SIG_SUFFIX: &str = ".sig";
/// How many replaced versions are kept as `cib-N.raw`.
pub const MAX_CIB_BACKUPS: usize = 10;
/// The largest CIB stored or loaded: what one IPC answer can carry.
pub const MAX_STORED_CIB_BYTES: u64 = crate::ipc::MAX_CIB_IPC_BYTES as u64;
/// The next `cib.xml` while a save is in progress.
const PENDING_XML: &str = ".cib.xml.new";
/// The next `cib.xml.sig` while a save is in progress.
const PENDING_SIG: &str = ".cib.xml.sig.new";
/// Length of a SHA-256 digest in hex.
const DIGEST_HEX_LEN: usize = 64;

/// The CIB persisted in `<state_dir>/cib/`.
#[derive(Debug, Clone)]
pub struct CibStore {
    dir: PathBuf,
}

/// The SHA-256 of `bytes`, as stored in `.sig` files.
pub fn digest_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(DIGEST_HEX_LEN);
    for b in Sha256::digest(bytes).iter() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

fn sig_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(SIG_SUFFIX);
    PathBuf::from(s)
}

/// Backup number of a directory entry `cib-N.raw` or `cib-N.raw.sig`.
fn backup_number(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("cib-")?;
    let digits = rest
        .strip_suffix(".raw")
        .or_else(|| rest.strip_suffix(".raw.sig"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl CibStore {
    /// The store of `state_dir`; creates `<state_dir>/cib/` (mode 0700) if needed.
    pub fn open(state_dir: &Path) -> anyhow::Result<CibStore> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = state_dir.join(CIB_DIR_NAME);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create CIB directory {}", dir.display()))?;
        Ok(CibStore { dir })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the current CIB file.
    pub fn cib_path(&self) -> PathBuf {
        self.dir.join(CIB_FILE_NAME)
    }

    /// Path of backup `n`.
    pub fn backup_path(&self, n: u64) -> PathBuf {
        self.dir.join(format!("cib-{n}.raw"))
    }

    /// The stored CIB, `None` if none was ever saved. A file that fails its digest or does
    /// not parse is refused with an error naming it; nothing is changed on disk then.
    pub fn load(&self) -> anyhow::Result<Option<Cib>> {
        let xml = self.cib_path();
        let sig = sig_path(&xml);
        let bytes = match read_limited(&xml)? {
            Some(b) => b,
            None if sig.exists() => bail!(
                "{} is missing but its digest {} exists: the CIB was removed outside Tandem; restore a backup (cib-N.raw) or remove {} too",
                xml.display(),
                sig.display(),
                sig.display()
            ),
            None => return Ok(None),
        };
        let actual = digest_hex(&bytes);
        if let Err(problem) = check_digest(&sig, &actual)
            && !self.finish_interrupted_save(&actual)?
        {
            bail!(
                "{}: {problem}; the file is left as it is — restore a backup (cib-N.raw with its .sig) or remove {} and {} to take the CIB from the other nodes",
                xml.display(),
                xml.display(),
                sig.display()
            );
        }
        parse(&xml, &bytes).map(Some)
    }

    /// Completes a save that died between renaming the XML and renaming its digest: true if
    /// the pending digest matches `actual` (the digest of `cib.xml`) and is now in place.
    fn finish_interrupted_save(&self, actual: &str) -> anyhow::Result<bool> {
        let pending = self.dir.join(PENDING_SIG);
        if check_digest(&pending, actual).is_err() {
            return Ok(false);
        }
        let sig = sig_path(&self.cib_path());
        fs::rename(&pending, &sig)
            .and_then(|()| sync_dir(&self.dir))
            .with_context(|| {
                format!("cannot complete the interrupted save of {}", sig.display())
            })?;
        Ok(true)
    }

    /// Backup `n`, verified like [`CibStore::load`].
    pub fn load_backup(&self, n: u64) -> anyhow::Result<Cib> {
        let path = self.backup_path(n);
        let bytes = read_limited(&path)?
            .with_context(|| format!("backup {} does not exist", path.display()))?;
        check_digest(&sig_path(&path), &digest_hex(&bytes))
            .map_err(|problem| anyhow::anyhow!("{}: {problem}", path.display()))?;
        parse(&path, &bytes)
    }

    /// Numbers of the backups with both files present, oldest first.
    pub fn backups(&self) -> anyhow::Result<Vec<u64>> {
        let mut numbers: Vec<u64> = self.backup_entries()?.iter().map(|(n, _)| *n).collect();
        numbers.dedup();
        numbers.retain(|n| {
            let raw = self.backup_path(*n);
            raw.exists() && sig_path(&raw).exists()
        });
        Ok(numbers)
    }

    /// Every `cib-N.raw[.sig]` entry: (N, file name).
    fn backup_entries(&self) -> anyhow::Result<Vec<(u64, String)>> {
        let mut out = Vec::new();
        let entries = fs::read_dir(&self.dir)
            .with_context(|| format!("cannot list {}", self.dir.display()))?;
        for e in entries {
            let e = e.with_context(|| format!("cannot list {}", self.dir.display()))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(n) = backup_number(&name) {
                out.push((n, name));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Makes `cib` the stored CIB, keeping the one it replaces as a backup. When this
    /// returns, the new CIB survives a crash or power loss.
    pub fn save(&self, cib: &Cib) -> anyhow::Result<()> {
        let xml = cib.to_xml();
        let bytes = xml.as_bytes();
        if bytes.len() as u64 > MAX_STORED_CIB_BYTES {
            bail!(
                "the CIB (version {}) is {} bytes, more than the {MAX_STORED_CIB_BYTES} stored",
                cib.version,
                bytes.len()
            );
        }
        let cib_path = self.cib_path();
        let sig = sig_path(&cib_path);
        if cib_path.exists() {
            // Room first, so the directory never holds more than the limit, even if the
            // process dies right after the backup.
            let entries = self.prune(MAX_CIB_BACKUPS - 1)?;
            let n = entries.last().map_or(1, |(n, _)| n + 1);
            self.back_up(&cib_path, n)?;
        }
        let pending_xml = self.dir.join(PENDING_XML);
        let pending_sig = self.dir.join(PENDING_SIG);
        let step = || -> io::Result<()> {
            write_synced(&pending_sig, digest_hex(bytes).as_bytes())?;
            write_synced(&pending_xml, bytes)?;
            fs::rename(&pending_xml, &cib_path)?;
            sync_dir(&self.dir)?;
            fs::rename(&pending_sig, &sig)?;
            sync_dir(&self.dir)
        };
        step().with_context(|| {
            format!(
                "cannot save the CIB (version {}) to {}",
                cib.version,
                cib_path.display()
            )
        })
    }

    /// Links (or copies) `cib.xml` and its digest to backup `n`.
    fn back_up(&self, cib_path: &Path, n: u64) -> anyhow::Result<()> {
        let raw = self.backup_path(n);
        let pairs = [
            (cib_path.to_path_buf(), raw.clone()),
            (sig_path(cib_path), sig_path(&raw)),
        ];
        for (from, to) in &pairs {
            if !from.exists() {
                continue; // a digest never written: the backup stays without one
            }
            link_or_copy(from, to).with_context(|| {
                format!("cannot back up {} as {}", from.display(), to.display())
            })?;
        }
        Ok(())
    }

    /// Removes all but the newest `keep` backup numbers; returns the entries left.
    fn prune(&self, keep: usize) -> anyhow::Result<Vec<(u64, String)>> {
        let entries = self.backup_entries()?;
        let mut numbers: Vec<u64> = entries.iter().map(|(n, _)| *n).collect();
        numbers.dedup();
        let Some(&oldest_kept) = numbers.iter().rev().nth(keep.saturating_sub(1)) else {
            return Ok(entries);
        };
        let mut left = Vec::new();
        for (n, name) in entries {
            if n < oldest_kept || keep == 0 {
                let p = self.dir.join(&name);
                fs::remove_file(&p)
                    .with_context(|| format!("cannot remove old backup {}", p.display()))?;
            } else {
                left.push((n, name));
            }
        }
        Ok(left)
    }
}

/// Hard-links `from` to `to` (a copy, synced, where links are not supported).
fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            let bytes = fs::read(from)?;
            write_synced(to, &bytes)
        }
    }
}

/// The file's bytes, `None` if it does not exist; refuses files over the size limit.
fn read_limited(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if meta.len() > MAX_STORED_CIB_BYTES {
        bail!(
            "{} is {} bytes, more than the {MAX_STORED_CIB_BYTES} accepted",
            path.display(),
            meta.len()
        );
    }
    fs::read(path)
        .map(Some)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Checks the digest file `sig` against `actual`; the error says what is wrong.
fn check_digest(sig: &Path, actual: &str) -> Result<(), String> {
    let text = match fs::read(sig) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(format!("its digest file {} is missing", sig.display()));
        }
        Err(e) => {
            return Err(format!(
                "cannot read its digest file {}: {e}",
                sig.display()
            ));
        }
    };
    let text = String::from_utf8_lossy(&text);
    let expected = text.strip_suffix('\n').unwrap_or(&text);
    if expected.len() != DIGEST_HEX_LEN
        || !expected
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "its digest file {} is malformed (expected {DIGEST_HEX_LEN} lowercase hex digits, found {:?})",
            sig.display(),
            expected.chars().take(80).collect::<String>()
        ));
    }
    if expected != actual {
        return Err(format!(
            "content does not match its digest (SHA-256 {actual}, {} says {expected}): the file is damaged, truncated or was edited outside Tandem",
            sig.display()
        ));
    }
    Ok(())
}

/// Parses stored bytes; errors name the file (and line and column for XML errors).
fn parse(path: &Path, bytes: &[u8]) -> anyhow::Result<Cib> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.valid_up_to()
        )
    })?;
    Cib::parse(text).map_err(|e| match e {
        LoadError::Xml(e) => anyhow::anyhow!("{}:{e}", path.display()),
        e => anyhow::anyhow!("{}: {e}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let d =
                std::env::temp_dir().join(format!("tandem-cibstore-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&d);
            Scratch(d)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn cib(epoch: u64) -> Cib {
        Cib::parse(&format!(
            r#"<cib admin_epoch="0" epoch="{epoch}" num_updates="0"><configuration><crm_config/><nodes/><resources><primitive id="r{epoch}" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration><status/></cib>"#
        ))
        .unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_empty_store_loads_nothing() {
        let s = Scratch::new("empty");
        let store = CibStore::open(&s.0).unwrap();
        assert!(store.load().unwrap().is_none());
        assert!(store.backups().unwrap().is_empty());
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(store.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn save_then_load_gives_the_same_cib_and_digest() {
        let s = Scratch::new("roundtrip");
        let store = CibStore::open(&s.0).unwrap();
        let c = cib(5);
        store.save(&c).unwrap();
        let loaded = store.load().unwrap().unwrap();
        assert_eq!(loaded.to_xml(), c.to_xml());
        assert_eq!(loaded.version.to_string(), "0.5.0");
        let bytes = fs::read(store.cib_path()).unwrap();
        assert_eq!(bytes, c.to_xml().as_bytes());
        assert_eq!(
            fs::read_to_string(store.dir().join("cib.xml.sig")).unwrap(),
            digest_hex(&bytes)
        );
        assert_eq!(names(store.dir()), ["cib.xml", "cib.xml.sig"]);
    }

    #[test]
    fn replaced_versions_become_numbered_backups_and_old_ones_go() {
        let s = Scratch::new("backups");
        let store = CibStore::open(&s.0).unwrap();
        let total = MAX_CIB_BACKUPS as u64 + 5;
        for epoch in 1..=total {
            store.save(&cib(epoch)).unwrap();
        }
        // Saves 2..=total each backed up the previous one: numbers 1..total-1, the newest
        // MAX_CIB_BACKUPS kept.
        let expect: Vec<u64> = (total - MAX_CIB_BACKUPS as u64..total).collect();
        assert_eq!(store.backups().unwrap(), expect);
        for n in &expect {
            // backup n holds the version save n+1 replaced: epoch n.
            assert_eq!(store.load_backup(*n).unwrap().version.epoch, *n);
        }
        assert_eq!(names(store.dir()).len(), 2 + 2 * MAX_CIB_BACKUPS);
        assert_eq!(store.load().unwrap().unwrap().version.epoch, total);
        let err = store.load_backup(1).unwrap_err().to_string();
        assert!(err.contains("cib-1.raw does not exist"), "{err}");
    }

    /// Damages the stored file and checks that load refuses it, naming the file and the
    /// problem, and leaves every file in the directory byte for byte as it was.
    fn refused_unchanged(store: &CibStore, damage: impl FnOnce(&Path), expect: &str) {
        damage(store.dir());
        let before: Vec<(String, Vec<u8>)> = names(store.dir())
            .into_iter()
            .map(|n| {
                let b = fs::read(store.dir().join(&n)).unwrap();
                (n, b)
            })
            .collect();
        let err = format!("{:#}", store.load().unwrap_err());
        assert!(err.contains(expect), "{err}");
        assert!(
            err.contains(&store.cib_path().display().to_string()),
            "{err}"
        );
        let after: Vec<(String, Vec<u8>)> = names(store.dir())
            .into_iter()
            .map(|n| {
                let b = fs::read(store.dir().join(&n)).unwrap();
                (n, b)
            })
            .collect();
        assert_eq!(before, after, "load changed the directory");
    }

    fn damaged_store(name: &str) -> (Scratch, CibStore) {
        let s = Scratch::new(name);
        let store = CibStore::open(&s.0).unwrap();
        store.save(&cib(1)).unwrap();
        store.save(&cib(2)).unwrap();
        (s, store)
    }

    #[test]
    fn a_flipped_byte_is_refused_and_left_alone() {
        let (_s, store) = damaged_store("flip");
        refused_unchanged(
            &store,
            |d| {
                let p = d.join("cib.xml");
                let mut b = fs::read(&p).unwrap();
                b[20] ^= 0x01;
                fs::write(&p, b).unwrap();
            },
            "content does not match its digest",
        );
    }

    #[test]
    fn a_truncated_file_is_refused_and_left_alone() {
        let (_s, store) = damaged_store("truncate");
        refused_unchanged(
            &store,
            |d| {
                let p = d.join("cib.xml");
                let b = fs::read(&p).unwrap();
                fs::write(&p, &b[..b.len() / 2]).unwrap();
            },
            "damaged, truncated or was edited outside Tandem",
        );
    }

    #[test]
    fn a_missing_or_malformed_digest_is_refused() {
        let (_s, store) = damaged_store("nosig");
        refused_unchanged(
            &store,
            |d| fs::remove_file(d.join("cib.xml.sig")).unwrap(),
            "cib.xml.sig is missing",
        );
        fs::write(store.dir().join("cib.xml.sig"), "zz").unwrap();
        refused_unchanged(
            &store,
            |_| {},
            "is malformed (expected 64 lowercase hex digits",
        );
    }

    #[test]
    fn a_digest_without_its_cib_is_refused() {
        let (_s, store) = damaged_store("noxml");
        let before = fs::read(store.dir().join("cib.xml.sig")).unwrap();
        fs::remove_file(store.cib_path()).unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("cib.xml is missing but its digest"), "{err}");
        assert_eq!(fs::read(store.dir().join("cib.xml.sig")).unwrap(), before);
    }

    #[test]
    fn a_matching_digest_over_unparsable_xml_is_refused_with_its_position() {
        let (_s, store) = damaged_store("unparsable");
        refused_unchanged(
            &store,
            |d| {
                let bad = b"<cib epoch=\"3\">\n<configuration>\n</cib>\n";
                fs::write(d.join("cib.xml"), bad).unwrap();
                fs::write(d.join("cib.xml.sig"), digest_hex(bad)).unwrap();
            },
            "cib.xml:3:",
        );
        refused_unchanged(
            &store,
            |d| {
                let bad = b"<status/>";
                fs::write(d.join("cib.xml"), bad).unwrap();
                fs::write(d.join("cib.xml.sig"), digest_hex(bad)).unwrap();
            },
            "the root element is <status>, expected <cib>",
        );
    }

    #[test]
    fn a_save_interrupted_before_its_digest_is_finished_by_load() {
        let (_s, store) = damaged_store("interrupted");
        // What a crash between the two renames leaves: new XML, old digest, pending digest.
        let new = cib(3).to_xml();
        fs::write(store.dir().join(PENDING_SIG), digest_hex(new.as_bytes())).unwrap();
        fs::write(store.cib_path(), &new).unwrap();
        assert_eq!(store.load().unwrap().unwrap().version.epoch, 3);
        assert!(!store.dir().join(PENDING_SIG).exists());
        assert_eq!(
            fs::read_to_string(store.dir().join("cib.xml.sig")).unwrap(),
            digest_hex(new.as_bytes())
        );
        // A pending digest that matches nothing does not excuse a damaged file.
        fs::write(store.dir().join(PENDING_SIG), digest_hex(b"other")).unwrap();
        refused_unchanged(
            &store,
            |d| fs::write(d.join("cib.xml"), "<cib/>").unwrap(),
            "content does not match its digest",
        );
    }

    #[test]
    fn a_save_after_an_interrupted_one_overwrites_the_leftovers() {
        let (_s, store) = damaged_store("leftovers");
        fs::write(store.dir().join(PENDING_XML), "half a ci").unwrap();
        fs::write(store.dir().join(PENDING_SIG), "0123").unwrap();
        assert_eq!(store.load().unwrap().unwrap().version.epoch, 2);
        store.save(&cib(4)).unwrap();
        assert_eq!(store.load().unwrap().unwrap().version.epoch, 4);
        assert!(!store.dir().join(PENDING_XML).exists());
        assert!(!store.dir().join(PENDING_SIG).exists());
    }

    #[test]
    fn backup_names_are_recognised_exactly() {
        assert_eq!(backup_number("cib-12.raw"), Some(12));
        assert_eq!(backup_number("cib-12.raw.sig"), Some(12));
        assert_eq!(backup_number("cib-.raw"), None);
        assert_eq!(backup_number("cib-+1.raw"), None);
        assert_eq!(backup_number("cib-1.xml"), None);
        assert_eq!(backup_number("cib.xml"), None);
    }
}
