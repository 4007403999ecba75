//! `ocf:tandem:Stateful`: a promotable resource (two roles, Unpromoted and Promoted) kept in
//! a state file, for testing promotable clones.
//!
//! It tells the cluster how much it wants to be promoted the standard way, through
//! `crm_attribute --promotion -l reboot -v SCORE` (5 when unpromoted, 10 when promoted;
//! `-D` on stop), which sets the transient node attribute `master-<resource>` that the
//! scheduler reads. Where no `crm_attribute` is installed (no cluster tools on the node, as
//! under `ocf-tester`), or it fails because no cluster is running, the agent logs that and
//! carries on: the score is advice for the scheduler, the resource's own state is what its
//! actions report. Until Tandem's daemon serves `crm_attribute` itself, this is what happens
//! under Tandem too; under Pacemaker the scores reach the cluster.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::dummy::{check_state_path, remove_state, state_file, write_state};
use crate::ocf::{ActionSpec, Agent, Env, Failure, MetaData, Outcome, ParamSpec, log, rc};

/// Promotion score while unpromoted.
pub const UNPROMOTED_SCORE: i64 = 5;
/// Promotion score while promoted.
pub const PROMOTED_SCORE: i64 = 10;
/// How long `crm_attribute` may take before it is killed.
pub const CRM_ATTRIBUTE_TIMEOUT: Duration = Duration::from_secs(10);

/// The Stateful agent.
pub struct Stateful;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Unpromoted,
    Promoted,
}

fn read_role(path: &Path) -> Option<Role> {
    match std::fs::read_to_string(path).ok()?.trim() {
        "promoted" => Some(Role::Promoted),
        _ => Some(Role::Unpromoted),
    }
}

fn write_role(path: &Path, role: Role) -> Result<(), Failure> {
    let text = match role {
        Role::Unpromoted => "unpromoted\n",
        Role::Promoted => "promoted\n",
    };
    write_state(path, text)
}

/// The arguments of the `crm_attribute` call for a score (`None` deletes it).
pub fn crm_attribute_args(score: Option<i64>) -> Vec<String> {
    let mut args = vec!["--promotion".to_string(), "-l".into(), "reboot".into()];
    match score {
        Some(s) => args.extend(["-v".to_string(), s.to_string()]),
        None => args.push("-D".into()),
    }
    args
}

/// Finds an executable on `PATH`.
pub fn find_program(path_var: &str, name: &str) -> Option<PathBuf> {
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn set_score(env: &Env, score: Option<i64>) {
    let what = score.map_or("delete".to_string(), |s| s.to_string());
    let Some(program) = find_program(env.path(), "crm_attribute") else {
        log(
            "Stateful",
            env,
            "INFO",
            &format!("crm_attribute not found: promotion score ({what}) not recorded"),
        );
        return;
    };
    let child = Command::new(&program)
        .args(crm_attribute_args(score))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        log(
            "Stateful",
            env,
            "WARNING",
            &format!("cannot run {}", program.display()),
        );
        return;
    };
    let deadline = Instant::now() + CRM_ATTRIBUTE_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    if !status.is_some_and(|s| s.success()) {
        log(
            "Stateful",
            env,
            "WARNING",
            &format!(
                "crm_attribute could not record the promotion score ({what}); is the cluster running?"
            ),
        );
    }
}

impl Agent for Stateful {
    fn name(&self) -> &'static str {
        "Stateful"
    }

    fn metadata(&self) -> MetaData {
        MetaData {
            name: "Stateful",
            version: "1.0",
            shortdesc: "Example promotable resource agent",
            longdesc: "A promotable resource kept in a state file: started means unpromoted, \
                       promote and demote switch the role. It records its promotion score with \
                       crm_attribute --promotion (5 unpromoted, 10 promoted).",
            params: vec![ParamSpec {
                name: "state",
                required: false,
                unique: true,
                kind: "string",
                default: Some("$HA_RSCTMP/Stateful-$OCF_RESOURCE_INSTANCE.state".into()),
                shortdesc: "State file",
                longdesc: "Location to store the resource state in.",
            }],
            actions: vec![
                ActionSpec::new("start", "20s"),
                ActionSpec::new("stop", "20s"),
                ActionSpec::new("promote", "10s"),
                ActionSpec::new("demote", "10s"),
                ActionSpec::new("notify", "5s"),
                ActionSpec {
                    role: Some("Promoted"),
                    ..ActionSpec::every("monitor", "20s", "10s")
                },
                ActionSpec {
                    role: Some("Unpromoted"),
                    ..ActionSpec::every("monitor", "20s", "11s")
                },
                ActionSpec::new("meta-data", "5s"),
                ActionSpec::new("validate-all", "30s"),
            ],
        }
    }

    fn run(&self, action: &str, env: &Env) -> Outcome {
        let path = state_file(env, "Stateful");
        let role = read_role(&path);
        match action {
            "start" => {
                if role.is_none() {
                    write_role(&path, Role::Unpromoted)?;
                    set_score(env, Some(UNPROMOTED_SCORE));
                }
                Ok(rc::SUCCESS)
            }
            "stop" => {
                remove_state(&path)?;
                set_score(env, None);
                Ok(rc::SUCCESS)
            }
            "monitor" => Ok(match role {
                None => rc::NOT_RUNNING,
                Some(Role::Unpromoted) => rc::SUCCESS,
                Some(Role::Promoted) => rc::RUNNING_PROMOTED,
            }),
            "promote" => match role {
                None => Err(Failure::generic(
                    "cannot promote: the resource is not running",
                )),
                Some(_) => {
                    write_role(&path, Role::Promoted)?;
                    set_score(env, Some(PROMOTED_SCORE));
                    Ok(rc::SUCCESS)
                }
            },
            "demote" => match role {
                None => Ok(rc::NOT_RUNNING),
                Some(_) => {
                    write_role(&path, Role::Unpromoted)?;
                    set_score(env, Some(UNPROMOTED_SCORE));
                    Ok(rc::SUCCESS)
                }
            },
            "notify" => Ok(rc::SUCCESS),
            "validate-all" => {
                if path.is_absolute() {
                    Ok(rc::SUCCESS)
                } else {
                    check_state_path(&path).map(|()| rc::SUCCESS)
                }
            }
            _ => Ok(rc::ERR_UNIMPLEMENTED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scores() {
        let dir = std::env::temp_dir().join(format!("tandem-stateful-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("calls");
        let fake = dir.join("crm_attribute");
        std::fs::write(
            &fake,
            format!("#!/bin/sh\necho \"$*\" >> {}\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let state = dir.join("s.state");
        let env = Env::from_pairs(&[
            ("OCF_RESKEY_state", state.to_str().unwrap()),
            ("PATH", dir.to_str().unwrap()),
            ("OCF_RESOURCE_INSTANCE", "s:0"),
        ]);
        let steps = [
            ("monitor", rc::NOT_RUNNING),
            ("demote", rc::NOT_RUNNING),
            ("start", rc::SUCCESS),
            ("monitor", rc::SUCCESS),
            ("promote", rc::SUCCESS),
            ("promote", rc::SUCCESS),
            ("monitor", rc::RUNNING_PROMOTED),
            ("demote", rc::SUCCESS),
            ("monitor", rc::SUCCESS),
            ("stop", rc::SUCCESS),
            ("monitor", rc::NOT_RUNNING),
        ];
        for (action, want) in steps {
            assert_eq!(Stateful.run(action, &env), Ok(want), "{action}");
        }
        assert_eq!(
            Stateful.run("promote", &env).unwrap_err().reason,
            "cannot promote: the resource is not running"
        );
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "--promotion -l reboot -v 5\n--promotion -l reboot -v 10\n--promotion -l reboot -v 10\n\
             --promotion -l reboot -v 5\n--promotion -l reboot -D\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
