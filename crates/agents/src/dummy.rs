//! `ocf:tandem:Dummy`: a resource that is "running" while its state file exists. For
//! testing clusters, constraints and failover without touching anything real (like
//! Pacemaker's `ocf:pacemaker:Dummy`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ocf::{ActionSpec, Agent, Env, Failure, MetaData, Outcome, ParamSpec, number_param, rc};

/// The longest `op_sleep` accepted, in seconds: it exists to simulate slow agents, not to
/// hang one forever.
pub const MAX_OP_SLEEP_SECS: u64 = 3600;

/// The Dummy agent.
pub struct Dummy;

/// The state file of a state-file agent: the `state` parameter, or
/// `$HA_RSCTMP/<Agent>-<instance>.state`.
pub fn state_file(env: &Env, agent: &str) -> PathBuf {
    match env.param("state") {
        Some(p) => PathBuf::from(p),
        None => env
            .rsctmp()
            .join(format!("{agent}-{}.state", env.instance())),
    }
}

/// Checks that a state file's path is absolute and its directory exists or can be created.
pub fn check_state_path(path: &Path) -> Result<(), Failure> {
    if !path.is_absolute() {
        return Err(Failure::configured(format!(
            "state file {} must be an absolute path",
            path.display()
        )));
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::new(
            rc::ERR_PERM,
            format!("cannot create the state directory {}: {e}", dir.display()),
        )
    })
}

/// Writes `content` to the state file (creating its directory).
pub fn write_state(path: &Path, content: &str) -> Result<(), Failure> {
    check_state_path(path)?;
    std::fs::write(path, content)
        .map_err(|e| Failure::generic(format!("cannot write state file {}: {e}", path.display())))
}

/// Removes the state file; a missing one is fine (stop is idempotent).
pub fn remove_state(path: &Path) -> Result<(), Failure> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Failure::generic(format!(
            "cannot remove state file {}: {e}",
            path.display()
        ))),
    }
}

impl Agent for Dummy {
    fn name(&self) -> &'static str {
        "Dummy"
    }

    fn metadata(&self) -> MetaData {
        MetaData {
            name: "Dummy",
            version: "1.0",
            shortdesc: "Example stateless resource agent",
            longdesc: "A resource that is running while its state file exists. It does nothing \
                       else, which makes it the tool for trying out constraints, groups, clones \
                       and failover without touching a real service.",
            params: vec![
                ParamSpec {
                    name: "state",
                    required: false,
                    unique: true,
                    kind: "string",
                    default: Some("$HA_RSCTMP/Dummy-$OCF_RESOURCE_INSTANCE.state".into()),
                    shortdesc: "State file",
                    longdesc: "Location to store the resource state in.",
                },
                ParamSpec {
                    name: "fake",
                    required: false,
                    unique: false,
                    kind: "string",
                    default: Some("dummy".into()),
                    shortdesc: "Fake attribute that can be changed to cause a reload",
                    longdesc: "Fake attribute that can be changed to cause a reload; written into the state file.",
                },
                ParamSpec {
                    name: "op_sleep",
                    required: false,
                    unique: false,
                    kind: "integer",
                    default: Some("0".into()),
                    shortdesc: "Operation sleep duration in seconds",
                    longdesc: "Number of seconds to sleep during every operation, to simulate a slow agent.",
                },
            ],
            actions: vec![
                ActionSpec::new("start", "20s"),
                ActionSpec::new("stop", "20s"),
                ActionSpec::every("monitor", "20s", "10s"),
                ActionSpec::new("reload", "20s"),
                ActionSpec::new("migrate_to", "20s"),
                ActionSpec::new("migrate_from", "20s"),
                ActionSpec::new("meta-data", "5s"),
                ActionSpec::new("validate-all", "20s"),
            ],
        }
    }

    fn run(&self, action: &str, env: &Env) -> Outcome {
        let path = state_file(env, "Dummy");
        let sleep = number_param(env, "op_sleep", 0)?;
        if sleep > MAX_OP_SLEEP_SECS {
            return Err(Failure::configured(format!(
                "op_sleep={sleep} is more than {MAX_OP_SLEEP_SECS} seconds"
            )));
        }
        if sleep > 0 && action != "validate-all" {
            std::thread::sleep(Duration::from_secs(sleep));
        }
        let fake = env.param("fake").unwrap_or("dummy");
        match action {
            "start" | "migrate_from" => {
                write_state(&path, &format!("{fake}\n"))?;
                Ok(rc::SUCCESS)
            }
            "stop" | "migrate_to" => {
                remove_state(&path)?;
                Ok(rc::SUCCESS)
            }
            "monitor" | "status" => Ok(if path.exists() {
                rc::SUCCESS
            } else {
                rc::NOT_RUNNING
            }),
            "reload" => {
                if path.exists() {
                    write_state(&path, &format!("{fake}\n"))?;
                }
                Ok(rc::SUCCESS)
            }
            "validate-all" => {
                if !path.is_absolute() {
                    return Err(Failure::configured(format!(
                        "state file {} must be an absolute path",
                        path.display()
                    )));
                }
                Ok(rc::SUCCESS)
            }
            _ => Ok(rc::ERR_UNIMPLEMENTED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_in_a_temp_dir() {
        let dir = std::env::temp_dir().join(format!("tandem-dummy-{}", std::process::id()));
        let state = dir.join("d.state");
        let s = state.to_str().unwrap();
        let env = Env::from_pairs(&[("OCF_RESKEY_state", s), ("OCF_RESKEY_fake", "v2")]);
        assert_eq!(Dummy.run("monitor", &env), Ok(rc::NOT_RUNNING));
        assert_eq!(Dummy.run("start", &env), Ok(rc::SUCCESS));
        assert_eq!(std::fs::read_to_string(&state).unwrap(), "v2\n");
        assert_eq!(Dummy.run("start", &env), Ok(rc::SUCCESS));
        assert_eq!(Dummy.run("monitor", &env), Ok(rc::SUCCESS));
        assert_eq!(Dummy.run("stop", &env), Ok(rc::SUCCESS));
        assert_eq!(Dummy.run("stop", &env), Ok(rc::SUCCESS));
        assert_eq!(Dummy.run("monitor", &env), Ok(rc::NOT_RUNNING));
        assert_eq!(Dummy.run("promote", &env), Ok(rc::ERR_UNIMPLEMENTED));
        let bad = Env::from_pairs(&[("OCF_RESKEY_state", "relative.state")]);
        assert_eq!(
            Dummy.run("validate-all", &bad).unwrap_err().rc,
            rc::ERR_CONFIGURED
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn default_state_file() {
        let env = Env::from_pairs(&[("OCF_RESOURCE_INSTANCE", "d1"), ("HA_RSCTMP", "/tmp/x")]);
        assert_eq!(
            state_file(&env, "Dummy"),
            PathBuf::from("/tmp/x/Dummy-d1.state")
        );
    }
}
