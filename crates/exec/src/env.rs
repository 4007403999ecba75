//! The environment an OCF agent runs in, exactly as the OCF 1.1 API and Pacemaker define it:
//!
//! | variable | value |
//! |---|---|
//! | `OCF_RA_VERSION_MAJOR`, `OCF_RA_VERSION_MINOR` | `1`, `1` |
//! | `OCF_ROOT` | the OCF root (`/usr/lib/ocf`) |
//! | `OCF_EXIT_REASON_PREFIX` | `ocf-exit-reason:` |
//! | `OCF_RESOURCE_INSTANCE` | the resource id (`rsc:N` for unique clone instances) |
//! | `OCF_RESOURCE_TYPE`, `OCF_RESOURCE_PROVIDER` | the agent's type and provider |
//! | `OCF_RESKEY_<name>` | each instance attribute |
//! | `OCF_CHECK_LEVEL` | the operation's depth, unprefixed (as Pacemaker does) |
//! | `OCF_RESKEY_CRM_meta_<name>` | each meta-attribute, `-` turned into `_` |
//! | `OCF_RESKEY_CRM_meta_interval`, `..._timeout` | the operation's interval and timeout in ms |
//!
//! Parameters travel only through the environment and argv is just `[agent, action]`:
//! nothing is ever interpreted by a shell.

use std::path::Path;

use crate::types::OpRequest;

/// The marker an agent writes to stderr in front of its exit reason.
pub const EXIT_REASON_PREFIX: &str = "ocf-exit-reason:";

/// Exit reasons are cut at this many characters, as Pacemaker does: they are stored in the
/// CIB status section of every node and printed on one line of `crm_mon`.
pub const MAX_EXIT_REASON_CHARS: usize = 128;

/// Environment variables inherited from the executor's own environment that are removed
/// before an agent runs, so nothing of another resource's configuration can leak in.
const SCRUBBED_PREFIXES: &[&str] = &["OCF_", "PCMK_", "CRM_meta_"];

/// True for an inherited variable the agent must not see.
pub fn is_scrubbed(name: &str) -> bool {
    SCRUBBED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// A parameter that cannot be put in an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParam {
    /// The parameter's name.
    pub name: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// Builds the OCF environment of `req`, in a stable order (fixed variables, then parameters,
/// then meta-attributes, each sorted by name).
pub fn ocf_environment(
    req: &OpRequest,
    ocf_root: &Path,
) -> Result<Vec<(String, String)>, BadParam> {
    let mut env = vec![
        ("OCF_RA_VERSION_MAJOR".to_string(), "1".to_string()),
        ("OCF_RA_VERSION_MINOR".to_string(), "1".to_string()),
        ("OCF_ROOT".to_string(), ocf_root.display().to_string()),
        (
            "OCF_EXIT_REASON_PREFIX".to_string(),
            EXIT_REASON_PREFIX.to_string(),
        ),
        ("OCF_RESOURCE_INSTANCE".to_string(), req.rsc_id.clone()),
        ("OCF_RESOURCE_TYPE".to_string(), req.agent.kind.clone()),
    ];
    if let Some(provider) = &req.agent.provider {
        env.push(("OCF_RESOURCE_PROVIDER".to_string(), provider.clone()));
    }
    for (name, value) in &req.params {
        check(name, value)?;
        let var = if name == "OCF_CHECK_LEVEL" {
            name.clone()
        } else {
            format!("OCF_RESKEY_{name}")
        };
        env.push((var, value.clone()));
    }
    for (name, value) in &req.meta {
        check(name, value)?;
        let name = name.replace('-', "_");
        if name == "interval" || name == "timeout" {
            continue; // taken from the request's own fields below
        }
        env.push((format!("OCF_RESKEY_CRM_meta_{name}"), value.clone()));
    }
    env.push((
        "OCF_RESKEY_CRM_meta_interval".to_string(),
        req.interval_ms.to_string(),
    ));
    env.push((
        "OCF_RESKEY_CRM_meta_timeout".to_string(),
        req.timeout_ms.to_string(),
    ));
    Ok(env)
}

fn check(name: &str, value: &str) -> Result<(), BadParam> {
    let bad = |why| {
        Err(BadParam {
            name: name.to_string(),
            why,
        })
    };
    if name.is_empty() {
        bad("the name is empty")
    } else if name.contains('=') || name.contains('\0') {
        bad("the name contains '=' or a NUL byte, which an environment variable name cannot")
    } else if value.contains('\0') {
        bad("the value contains a NUL byte, which an environment variable cannot")
    } else {
        Ok(())
    }
}

/// The exit reason in an OCF agent's stderr: the text after the last
/// `ocf-exit-reason:` marker, up to the end of its line, cut at
/// [`MAX_EXIT_REASON_CHARS`]. `None` if there is none or it is empty.
pub fn exit_reason(stderr: &str) -> Option<String> {
    let start = stderr.rfind(EXIT_REASON_PREFIX)? + EXIT_REASON_PREFIX.len();
    let line = stderr[start..].lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return None;
    }
    Some(line.chars().take(MAX_EXIT_REASON_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AgentId;

    #[test]
    fn environment_is_exactly_the_ocf_set() {
        let req = OpRequest::new(
            "vip",
            AgentId::ocf("heartbeat", "IPaddr2").unwrap(),
            "monitor",
        )
        .interval_ms(10_000)
        .timeout_ms(30_000)
        .param("ip", "192.0.2.10")
        .param("OCF_CHECK_LEVEL", "10")
        .meta("clone-max", "2")
        .meta("notify_type", "pre")
        .meta("timeout", "999");
        let env = ocf_environment(&req, Path::new("/usr/lib/ocf")).unwrap();
        let got: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            got,
            [
                "OCF_RA_VERSION_MAJOR=1",
                "OCF_RA_VERSION_MINOR=1",
                "OCF_ROOT=/usr/lib/ocf",
                "OCF_EXIT_REASON_PREFIX=ocf-exit-reason:",
                "OCF_RESOURCE_INSTANCE=vip",
                "OCF_RESOURCE_TYPE=IPaddr2",
                "OCF_RESOURCE_PROVIDER=heartbeat",
                "OCF_CHECK_LEVEL=10",
                "OCF_RESKEY_ip=192.0.2.10",
                "OCF_RESKEY_CRM_meta_clone_max=2",
                "OCF_RESKEY_CRM_meta_notify_type=pre",
                "OCF_RESKEY_CRM_meta_interval=10000",
                "OCF_RESKEY_CRM_meta_timeout=30000",
            ]
        );
    }

    #[test]
    fn unusable_parameters_are_refused() {
        let agent = AgentId::ocf("heartbeat", "Dummy").unwrap();
        let req = OpRequest::new("d", agent.clone(), "start").param("a=b", "1");
        let err = ocf_environment(&req, Path::new("/x")).unwrap_err();
        assert_eq!(err.name, "a=b");
        let req = OpRequest::new("d", agent, "start").param("state", "x\0y");
        let err = ocf_environment(&req, Path::new("/x")).unwrap_err();
        assert_eq!(
            err.why,
            "the value contains a NUL byte, which an environment variable cannot"
        );
    }

    #[test]
    fn exit_reason_is_the_last_marker_to_end_of_line() {
        assert_eq!(exit_reason("nothing here\n"), None);
        assert_eq!(exit_reason("ocf-exit-reason:\n"), None);
        assert_eq!(
            exit_reason("INFO: x\nocf-exit-reason:first\nocf-exit-reason: second one \nmore\n"),
            Some("second one".to_string())
        );
        let long = format!("ocf-exit-reason:{}", "x".repeat(300));
        assert_eq!(exit_reason(&long).unwrap().len(), MAX_EXIT_REASON_CHARS);
    }

    #[test]
    fn scrubbed_names() {
        assert!(is_scrubbed("OCF_RESKEY_ip"));
        assert!(is_scrubbed("PCMK_service"));
        assert!(!is_scrubbed("PATH"));
    }
}
