//! Durable file replacement, shared by everything that writes state a crash must not tear:
//! the CIB store, the ring sequence, and `tandem`'s CIB files.
//!
//! A file is replaced by writing a temporary file in the same directory, `fsync`ing it,
//! renaming it over the target and `fsync`ing the directory. Readers see the old file or the
//! new one, never a mix; after the function returns, the new content survives a crash or a
//! power loss. If anything fails, the target is left exactly as it was and the temporary
//! file is removed.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes the directory's entries (creations, renames, removals) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Writes `bytes` to `tmp` and `fsync`s it, without renaming. `tmp` is truncated first.
pub fn write_synced(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fs::File::create(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Replaces `path` with `bytes` through the temporary file `tmp` (same directory): write,
/// `fsync`, keep `path`'s permissions, rename, `fsync` the directory. On failure `tmp` is
/// removed and `path` is untouched (unless the rename itself happened).
pub fn replace_via(tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let result = (|| {
        write_synced(tmp, bytes)?;
        if let Ok(old) = fs::metadata(path) {
            fs::set_permissions(tmp, old.permissions())?;
        }
        fs::rename(tmp, path)?;
        sync_dir(&parent_dir(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(tmp);
    }
    result
}

/// Replaces `path` with `bytes` atomically and durably, through a temporary file named
/// after the target and this process (`.NAME.tmp-PID`), so concurrent writers never share
/// one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file path", path.display()),
        )
    })?;
    let tmp = parent_dir(path).join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    replace_via(&tmp, path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tandem-durable-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn replaces_content_keeps_mode_and_leaves_no_temporary() {
        let d = scratch("replace");
        let p = d.join("f");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_removes_the_temporary() {
        let d = scratch("fail");
        let p = d.join("f");
        fs::write(&p, "old").unwrap();
        // A temporary in a directory that does not exist: the write fails before any rename.
        let err = replace_via(&d.join("missing/tmp"), &p, b"new").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(fs::read(&p).unwrap(), b"old");
        // The rename fails (the target is a non-empty directory): the temporary is removed.
        let target = d.join("dir");
        fs::create_dir_all(target.join("x")).unwrap();
        let tmp = d.join("tmp");
        assert!(replace_via(&tmp, &target, b"new").is_err());
        assert!(!tmp.exists());
        assert!(target.join("x").is_dir());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("cib.xml")), PathBuf::from("."));
        assert_eq!(parent_dir(Path::new("/a/cib.xml")), PathBuf::from("/a"));
    }
}
