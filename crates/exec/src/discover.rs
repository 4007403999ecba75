//! Finding agents on disk: OCF providers and agents, init scripts, fence agents.
//! (systemd units are listed over D-Bus, in [`crate::systemd`].)

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::ExecError;

/// The most directory entries read from one agent directory: a bound on the work of a
/// listing (Debian's resource-agents has ~140 OCF agents; fence-agents ~80).
pub const MAX_DIR_ENTRIES: usize = 100_000;

/// The OCF providers: directories under `OCF_ROOT/resource.d`, sorted, hidden ones skipped.
pub fn ocf_providers(ocf_root: &Path) -> Result<Vec<String>, ExecError> {
    entries(&ocf_root.join("resource.d"), |p, _| p.is_dir())
}

/// The OCF agents of one provider, or of all providers (each once), sorted.
pub fn ocf_agents(ocf_root: &Path, provider: Option<&str>) -> Result<Vec<String>, ExecError> {
    let providers = match provider {
        Some(p) => vec![p.to_string()],
        None => ocf_providers(ocf_root)?,
    };
    let mut all = Vec::new();
    for p in providers {
        all.extend(executables(&ocf_root.join("resource.d").join(p), |_| true)?);
    }
    all.sort();
    all.dedup();
    Ok(all)
}

/// The providers that have an OCF agent called `kind` (`crm ra providers TYPE`).
pub fn providers_of(ocf_root: &Path, kind: &str) -> Result<Vec<String>, ExecError> {
    Ok(ocf_providers(ocf_root)?
        .into_iter()
        .filter(|p| ocf_root.join("resource.d").join(p).join(kind).is_file())
        .collect())
}

/// The fence agents in `dir`: executables named `fence_*` (without `fence_ack_manual`,
/// which is an interactive tool, not an agent).
pub fn fence_agents(dir: &Path) -> Result<Vec<String>, ExecError> {
    executables(dir, |name| {
        name.starts_with("fence_") && name != "fence_ack_manual"
    })
}

/// The executable regular files in `dir` whose names pass `keep`, sorted, hidden skipped.
pub fn executables(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, ExecError> {
    entries(dir, |path, name| {
        keep(name)
            && std::fs::metadata(path)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

fn entries(dir: &Path, keep: impl Fn(&Path, &str) -> bool) -> Result<Vec<String>, ExecError> {
    let read = std::fs::read_dir(dir).map_err(|source| ExecError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in read.flatten().take(MAX_DIR_ENTRIES) {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !name.starts_with('.') && keep(&entry.path(), &name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lists_providers_agents_and_fence_agents() {
        let root =
            std::env::temp_dir().join(format!("tandem-exec-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mk = |rel: &str, mode: u32| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        mk("ocf/resource.d/heartbeat/IPaddr2", 0o755);
        mk("ocf/resource.d/heartbeat/Dummy", 0o755);
        mk("ocf/resource.d/heartbeat/.hidden", 0o755);
        mk("ocf/resource.d/heartbeat/notes.txt", 0o644);
        mk("ocf/resource.d/pacemaker/Dummy", 0o755);
        mk("sbin/fence_dummy", 0o755);
        mk("sbin/fence_ack_manual", 0o755);
        mk("sbin/ip", 0o755);
        let ocf = root.join("ocf");
        assert_eq!(ocf_providers(&ocf).unwrap(), ["heartbeat", "pacemaker"]);
        assert_eq!(
            ocf_agents(&ocf, Some("heartbeat")).unwrap(),
            ["Dummy", "IPaddr2"]
        );
        assert_eq!(ocf_agents(&ocf, None).unwrap(), ["Dummy", "IPaddr2"]);
        assert_eq!(
            providers_of(&ocf, "Dummy").unwrap(),
            ["heartbeat", "pacemaker"]
        );
        assert_eq!(fence_agents(&root.join("sbin")).unwrap(), ["fence_dummy"]);
        let err = ocf_agents(&ocf, Some("nope")).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "cannot read {}",
                ocf.join("resource.d/nope").display()
            )),
            "{err}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
