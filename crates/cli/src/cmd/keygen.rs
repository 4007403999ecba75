//! `tandem keygen`: write a new authkey, like `corosync-keygen`.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use tandem_totem::authkey::{DEFAULT_AUTHKEY_BYTES, MAX_AUTHKEY_BYTES, MIN_AUTHKEY_BYTES};

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the key.
    #[arg(short = 'k', long = "key-file", value_name = "FILE", default_value = tandem_daemon::DEFAULT_AUTHKEY, overrides_with = "key_file")]
    pub key_file: PathBuf,
    /// Key size in bytes (128..4096).
    #[arg(short = 's', long = "size", value_name = "BYTES", default_value_t = DEFAULT_AUTHKEY_BYTES)]
    pub size: usize,
    /// Accepted for corosync-keygen compatibility; keys always come from /dev/urandom.
    #[arg(short = 'r', hide = true)]
    pub random_source: bool,
    /// Less output.
    #[arg(short = 'l', hide = true)]
    pub less: bool,
}

pub fn run(a: KeygenArgs) -> anyhow::Result<ExitCode> {
    if !(MIN_AUTHKEY_BYTES..=MAX_AUTHKEY_BYTES).contains(&a.size) {
        bail!(
            "key size {} is out of range: it must be {MIN_AUTHKEY_BYTES} to {MAX_AUTHKEY_BYTES} bytes",
            a.size
        );
    }
    let mut key = vec![0u8; a.size];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .context("reading /dev/urandom")?;
    if let Some(dir) = a.key_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = a.key_file.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o400)
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(&key)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &a.key_file)
        .with_context(|| format!("cannot write {}", a.key_file.display()))?;
    println!(
        "Writing tandem key to {} ({} bytes).",
        a.key_file.display(),
        a.size
    );
    Ok(ExitCode::SUCCESS)
}
