//! `tandem resource`: resource commands. The `force-*` ones are `crm_resource --force-*`:
//! run one action of a resource defined in the CIB on this node, bypassing the cluster —
//! the way users debug an agent with exactly the parameters the cluster would give it.
//!
//! The resource's instance attributes (rules evaluated now), its meta-attributes (its own,
//! then its parents', then `rsc_defaults`) and the timeout of the matching configured
//! operation (else `op_defaults`, else 20 s) go to the agent as the executor passes them.
//! For a clone, its primitive is used; groups are refused, as crm_resource refuses them.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tandem_cib::resources::Primitive;
use tandem_cib::{Cib, RscRef, RuleContext};
use tandem_exec::{AgentId, ExecStatus, OpRequest, OpResult, Runner, parse_duration_ms};

use crate::cibsource::CibSource;
use crate::cmd::ra::{AgentDirs, runtime};

/// The feature set passed as `crm_feature_set`, as crm_resource does (some agents read it).
const CRM_FEATURE_SET: &str = "3.19.0";

/// Default operation timeout when neither the operation nor `op_defaults` sets one.
const DEFAULT_TIMEOUT_MS: u64 = 20_000;

#[derive(Args, Debug)]
pub struct ResourceArgs {
    #[command(flatten)]
    pub dirs: AgentDirs,
    #[command(subcommand)]
    pub command: ResourceCommand,
}

#[derive(Args, Debug)]
pub struct ForceArgs {
    /// The resource id.
    pub rsc: String,
    /// Timeout for the action (`30s`, `2min`); default: the configured operation's.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

// The variants are crm_resource's option names (`--force-start`, ...), prefix included.
#[allow(clippy::enum_variant_names)]
#[derive(Subcommand, Debug)]
pub enum ResourceCommand {
    /// Run the resource's start action here, bypassing the cluster (crm_resource --force-start).
    ForceStart(ForceArgs),
    /// Run the resource's stop action here (crm_resource --force-stop).
    ForceStop(ForceArgs),
    /// Run the resource's monitor action here (crm_resource --force-check).
    ForceCheck {
        #[command(flatten)]
        args: ForceArgs,
        /// OCF_CHECK_LEVEL for the monitor (0, 10, 20).
        #[arg(long, value_name = "LEVEL")]
        check_level: Option<u32>,
    },
    /// Run the resource's promote action here (crm_resource --force-promote).
    ForcePromote(ForceArgs),
    /// Run the resource's demote action here (crm_resource --force-demote).
    ForceDemote(ForceArgs),
    /// crmsh's other resource commands (`stop RSC`, `move RSC NODE`, `cleanup RSC`, `why RSC`,
    /// ...): they change the cluster's CIB (see `rsc`).
    #[command(external_subcommand)]
    Cluster(Vec<String>),
}

pub fn run(args: ResourceArgs, source: &CibSource) -> anyhow::Result<ExitCode> {
    run_code(args, source).map(ExitCode::from)
}

/// Runs a resource command; the exit status is the agent's OCF code.
pub fn run_code(args: ResourceArgs, source: &CibSource) -> anyhow::Result<u8> {
    let (args_f, action, level) = match args.command {
        ResourceCommand::ForceStart(a) => (a, "start", None),
        ResourceCommand::ForceStop(a) => (a, "stop", None),
        ResourceCommand::ForceCheck { args, check_level } => (args, "monitor", check_level),
        ResourceCommand::ForcePromote(a) => (a, "promote", None),
        ResourceCommand::ForceDemote(a) => (a, "demote", None),
        ResourceCommand::Cluster(words) => {
            let verb = words.first().map(String::as_str).unwrap_or_default();
            if !super::rsc::COMMANDS.contains(&verb) {
                bail!(
                    "{verb}: no such resource command (tandem has {}, force-start, force-stop, \
                     force-check, force-promote, force-demote)",
                    super::rsc::COMMANDS.join(", ")
                );
            }
            return super::rsc::run(&words, source);
        }
    };
    let cib = source.load()?;
    let mut req = force_request(&cib, &args_f.rsc, action, super::ra::now())?;
    if let Some(t) = &args_f.timeout {
        req.timeout_ms = parse_duration_ms(t).with_context(|| format!("--timeout {t}"))?;
    }
    if let Some(level) = level {
        req.params
            .insert("OCF_CHECK_LEVEL".into(), level.to_string());
    }
    let runner = Runner::new(args.dirs.config());
    let result = runtime()?.block_on(runner.run(&req, std::future::pending()));
    print!("{}", report(&req, &result));
    Ok(u8::try_from(result.rc.code()).unwrap_or(1))
}

/// The primitive a force action runs on: the resource itself, or a clone's primitive.
fn primitive<'a>(cib: &'a Cib, id: &str) -> anyhow::Result<&'a Primitive> {
    let Some(entry) = cib.config.find_resource(id) else {
        bail!("resource {id} is not defined in the CIB");
    };
    match entry.rsc {
        RscRef::Primitive(p) => Ok(p),
        RscRef::Clone(c) => match c.child.as_ref() {
            tandem_cib::resources::Resource::Primitive(p) => Ok(p),
            _ => bail!("the force options do not support clones of groups ({id})"),
        },
        RscRef::Group(_) => bail!("the force options do not support group resources ({id})"),
        RscRef::Bundle(_) => bail!("the force options do not support bundles ({id})"),
    }
}

/// The operation request crm_resource would make for `action` of resource `id`.
pub fn force_request(
    cib: &Cib,
    id: &str,
    action: &str,
    now: tandem_cib::DateTime,
) -> anyhow::Result<OpRequest> {
    let p = primitive(cib, id)?;
    let agent = AgentId::new(p.class.parse()?, p.provider.as_deref(), &p.agent)?;
    let mut ctx = RuleContext::at(now);
    ctx.resource = Some((p.class.as_str(), p.provider.as_deref(), p.agent.as_str()));
    let params = tandem_cib::nvset::evaluate(&p.instance, &ctx, None);
    let meta = cib.config.resource_meta(&p.id, &ctx);
    let timeout_ms = configured_timeout(cib, p, action, &ctx);
    // An anonymous clone's instances are called by the clone's name, as crm_resource does.
    let mut req = OpRequest::new(id, agent, action).timeout_ms(timeout_ms);
    req.params = params;
    req.params
        .insert("crm_feature_set".into(), CRM_FEATURE_SET.into());
    req.meta = meta;
    Ok(req)
}

/// The action's timeout: its configured operation (for monitor, the first one), else
/// `op_defaults`, else 20 s.
fn configured_timeout(cib: &Cib, p: &Primitive, action: &str, ctx: &RuleContext<'_>) -> u64 {
    let op = p
        .ops
        .iter()
        .filter(|o| o.name == action)
        .min_by_key(|o| u64::from(action != "monitor" && o.interval_ms != 0));
    if let Some(ms) = op.and_then(|o| o.timeout_ms()) {
        return ms;
    }
    tandem_cib::nvset::evaluate(&cib.config.op_defaults, ctx, None)
        .get("timeout")
        .and_then(|t| parse_duration_ms(t).ok())
        .unwrap_or(DEFAULT_TIMEOUT_MS)
}

/// crm_resource's report: the result line, then the agent's output line by line.
pub fn report(req: &OpRequest, r: &OpResult) -> String {
    let mut out = match r.status {
        ExecStatus::Done => format!(
            "Operation {} for {} ({}) returned: '{}' ({})\n",
            req.action,
            req.rsc_id,
            req.agent,
            r.rc.description(),
            r.rc.code()
        ),
        status => format!(
            "Operation {} for {} ({}) failed: '{}'{}\n",
            req.action,
            req.rsc_id,
            req.agent,
            status.as_str(),
            r.exit_reason
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
    };
    for (name, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        for line in text.lines() {
            out.push_str(&format!(" >  {name}: {line}\n"));
        }
    }
    out
}

/// crm_resource's operations and the `tandem resource` verbs they become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CrmResourceOp {
    Force(&'static str),
    Move,
    Ban,
    Clear,
    Cleanup,
    Locate,
    Why,
    List,
    Restart,
    SetParam,
    GetParam,
    DeleteParam,
}

/// What crm_resource was told besides the operation.
#[derive(Default)]
struct CrmResourceArgs {
    rsc: Option<OsString>,
    node: Option<OsString>,
    lifetime: Option<OsString>,
    timeout: Option<OsString>,
    param: Option<OsString>,
    value: Option<OsString>,
    set_kind: Option<&'static str>,
    force: bool,
}

/// `crm_resource` → `tandem resource`: `--force-start|stop|check|promote|demote` (with
/// `-T/--timeout`), `-M/--move`, `-B/--ban` (`-N NODE`, `-u LIFETIME`, `-f/--force`),
/// `-U/--clear`, `-C/--cleanup`, `-W/--locate`, `-Y/--why`, `-L/--list`, `--restart`, and
/// `-p/-g/-d` (set, get, delete a parameter; `-m/--meta`, `-z/--utilization`; `-v VALUE`), with
/// `-r/--resource`; `-V`/`-Q` are accepted. Anything else is refused by name.
pub fn crm_resource_args(rest: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let mut op: Option<CrmResourceOp> = None;
    let mut a = CrmResourceArgs::default();
    let mut passed: Vec<OsString> = Vec::new();
    let mut it = rest.into_iter();
    while let Some(arg) = it.next() {
        let text = arg.to_string_lossy().into_owned();
        let (flag, inline) = match text.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(OsString::from(v))),
            _ => (text.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("crm_resource: {name} needs a value"))
        };
        let chosen = match flag.as_str() {
            "--force-start" => Some(CrmResourceOp::Force("force-start")),
            "--force-stop" => Some(CrmResourceOp::Force("force-stop")),
            "--force-check" => Some(CrmResourceOp::Force("force-check")),
            "--force-promote" => Some(CrmResourceOp::Force("force-promote")),
            "--force-demote" => Some(CrmResourceOp::Force("force-demote")),
            "-M" | "--move" => Some(CrmResourceOp::Move),
            "-B" | "--ban" => Some(CrmResourceOp::Ban),
            "-U" | "--clear" => Some(CrmResourceOp::Clear),
            "-C" | "--cleanup" => Some(CrmResourceOp::Cleanup),
            "-W" | "--locate" => Some(CrmResourceOp::Locate),
            "-Y" | "--why" => Some(CrmResourceOp::Why),
            "-L" | "--list" => Some(CrmResourceOp::List),
            "--restart" => Some(CrmResourceOp::Restart),
            "-p" | "--set-parameter" => {
                a.param = Some(value(&flag)?);
                Some(CrmResourceOp::SetParam)
            }
            "-g" | "--get-parameter" => {
                a.param = Some(value(&flag)?);
                Some(CrmResourceOp::GetParam)
            }
            "-d" | "--delete-parameter" => {
                a.param = Some(value(&flag)?);
                Some(CrmResourceOp::DeleteParam)
            }
            _ => None,
        };
        if let Some(c) = chosen {
            if op.is_some_and(|old| old != c) {
                return Err("crm_resource: give only one operation".into());
            }
            op = Some(c);
            continue;
        }
        match flag.as_str() {
            "-r" | "--resource" => a.rsc = Some(value(&flag)?),
            "-N" | "--node" => a.node = Some(value(&flag)?),
            "-u" | "--lifetime" => a.lifetime = Some(value(&flag)?),
            "-T" | "--timeout" => a.timeout = Some(value(&flag)?),
            "-v" | "--parameter-value" => a.value = Some(value(&flag)?),
            "-m" | "--meta" => a.set_kind = Some("meta"),
            "-z" | "--utilization" => a.set_kind = Some("utilization"),
            "-f" | "--force" => a.force = true,
            "-V" | "--verbose" | "-Q" | "--quiet" => {}
            "-h" | "--help" => passed.push("--help".into()),
            other => {
                return Err(format!(
                    "crm_resource: {other} is not supported by tandem yet (supported: \
                     --force-start, --force-stop, --force-check, --force-promote, \
                     --force-demote, --move, --ban, --clear, --cleanup, --locate, --why, --list, \
                     --restart, --set-parameter, --get-parameter, --delete-parameter with -r, \
                     -N, -u, -v, -m, -z, -f, -T)"
                ));
            }
        }
    }
    let mut out: Vec<OsString> = vec!["tandem".into(), "resource".into()];
    let Some(op) = op else {
        if passed.is_empty() {
            return Err("crm_resource: no operation given".into());
        }
        out.extend(passed);
        return Ok(out);
    };
    out.extend(crm_resource_words(op, a)?);
    out.extend(passed);
    Ok(out)
}

/// The `tandem resource` words for one crm_resource operation.
fn crm_resource_words(op: CrmResourceOp, a: CrmResourceArgs) -> Result<Vec<OsString>, String> {
    let need_rsc = |what: &str| {
        a.rsc
            .clone()
            .ok_or_else(|| format!("crm_resource: {what} needs -r RESOURCE"))
    };
    let mut w: Vec<OsString> = Vec::new();
    match op {
        CrmResourceOp::Force(verb) => {
            w.extend([verb.into(), need_rsc("--force-*")?]);
            if let Some(t) = a.timeout {
                w.extend(["--timeout".into(), t]);
            }
        }
        CrmResourceOp::Move | CrmResourceOp::Ban => {
            let verb = if op == CrmResourceOp::Move {
                "move"
            } else {
                "ban"
            };
            w.extend([verb.into(), need_rsc(verb)?]);
            w.extend(a.node);
            w.extend(a.lifetime);
            if a.force {
                w.push("force".into());
            }
        }
        CrmResourceOp::Clear => {
            w.extend(["clear".into(), need_rsc("--clear")?]);
            w.extend(a.node);
        }
        CrmResourceOp::Cleanup => {
            w.push("cleanup".into());
            w.extend(a.rsc);
            w.extend(a.node);
        }
        CrmResourceOp::Locate => w.extend(["locate".into(), need_rsc("--locate")?]),
        CrmResourceOp::Why => w.extend(["why".into(), need_rsc("--why")?]),
        CrmResourceOp::List => w.push("status".into()),
        CrmResourceOp::Restart => w.extend(["restart".into(), need_rsc("--restart")?]),
        CrmResourceOp::SetParam | CrmResourceOp::GetParam | CrmResourceOp::DeleteParam => {
            let kind = a.set_kind.unwrap_or("param");
            let rsc = need_rsc("a parameter operation")?;
            let name = a.param.clone().unwrap_or_default();
            let (verb, value) = match op {
                CrmResourceOp::SetParam => (
                    "set",
                    Some(
                        a.value
                            .clone()
                            .ok_or("crm_resource: --set-parameter needs -v VALUE")?,
                    ),
                ),
                CrmResourceOp::GetParam => ("show", None),
                _ => ("delete", None),
            };
            w.extend([kind.into(), rsc, verb.into(), name]);
            w.extend(value);
        }
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(args: &[&str]) -> Result<Vec<String>, String> {
        crm_resource_args(args.iter().map(OsString::from).collect()).map(|v| {
            v.into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        })
    }

    #[test]
    fn crm_resource_force_options() {
        assert_eq!(
            tr(&["--force-start", "-r", "vip", "-V"]).unwrap(),
            ["tandem", "resource", "force-start", "vip"]
        );
        assert_eq!(
            tr(&["--resource=db", "--force-check", "--timeout=30s"]).unwrap(),
            [
                "tandem",
                "resource",
                "force-check",
                "db",
                "--timeout",
                "30s"
            ]
        );
        assert_eq!(
            tr(&["--force-stop"]).unwrap_err(),
            "crm_resource: --force-* needs -r RESOURCE"
        );
        assert_eq!(tr(&["-L"]).unwrap(), ["tandem", "resource", "status"]);
        assert!(
            tr(&["--digests"])
                .unwrap_err()
                .starts_with("crm_resource: --digests is not supported by tandem yet")
        );
        assert!(tr(&[]).is_err());
    }

    #[test]
    fn crm_resource_cluster_operations() {
        assert_eq!(
            tr(&["--move", "-r", "IP", "-N", "node3", "-u", "PT1H"]).unwrap(),
            ["tandem", "resource", "move", "IP", "node3", "PT1H"]
        );
        assert_eq!(
            tr(&["-B", "-r", "IP", "--force"]).unwrap(),
            ["tandem", "resource", "ban", "IP", "force"]
        );
        assert_eq!(
            tr(&["-U", "--resource=IP"]).unwrap(),
            ["tandem", "resource", "clear", "IP"]
        );
        assert_eq!(
            tr(&["-C", "-N", "node2"]).unwrap(),
            ["tandem", "resource", "cleanup", "node2"]
        );
        assert_eq!(
            tr(&["-W", "-r", "IP"]).unwrap(),
            ["tandem", "resource", "locate", "IP"]
        );
        assert_eq!(
            tr(&["-r", "IP", "--meta", "-p", "target-role", "-v", "Stopped"]).unwrap(),
            [
                "tandem",
                "resource",
                "meta",
                "IP",
                "set",
                "target-role",
                "Stopped"
            ]
        );
        assert_eq!(
            tr(&["-r", "IP", "-g", "ip"]).unwrap(),
            ["tandem", "resource", "param", "IP", "show", "ip"]
        );
        assert_eq!(
            tr(&["-M"]).unwrap_err(),
            "crm_resource: move needs -r RESOURCE"
        );
    }
}
