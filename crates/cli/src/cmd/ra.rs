//! `tandem ra`: resource agents, as `crm ra` shows them — classes, lists, meta-data, the
//! providers of a type — and `tandem ra install`, which puts Tandem's own agents under
//! `OCF_ROOT/resource.d/tandem/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tandem_cib::{Cib, RscRef};
use tandem_exec::{
    AgentId, AgentMetadata, Class, ExecConfig, OpConfig, Runner, check_op_timeouts, discover,
};

/// Where agents are looked for.
#[derive(Args, Debug, Clone)]
pub struct AgentDirs {
    /// The OCF root (agents are under `resource.d/PROVIDER/TYPE`).
    #[arg(
        long,
        env = "OCF_ROOT",
        value_name = "DIR",
        default_value = "/usr/lib/ocf",
        global = true
    )]
    pub ocf_root: PathBuf,
}

impl AgentDirs {
    /// From the environment (`OCF_ROOT`), for commands without agent options.
    pub fn from_env() -> AgentDirs {
        AgentDirs {
            ocf_root: std::env::var_os("OCF_ROOT")
                .filter(|v| !v.is_empty())
                .map_or_else(|| PathBuf::from("/usr/lib/ocf"), PathBuf::from),
        }
    }

    pub fn config(&self) -> ExecConfig {
        ExecConfig {
            ocf_root: self.ocf_root.clone(),
            ..ExecConfig::default()
        }
    }
}

#[derive(Args, Debug)]
pub struct RaArgs {
    #[command(flatten)]
    pub dirs: AgentDirs,
    #[command(subcommand)]
    pub command: RaCommand,
}

#[derive(Subcommand, Debug)]
pub enum RaCommand {
    /// The agent classes, with the OCF providers.
    Classes,
    /// The agents of a class: `list ocf`, `list ocf heartbeat`, `list ocf:heartbeat`, `list stonith`.
    List {
        /// CLASS or CLASS:PROVIDER.
        class: String,
        /// PROVIDER (OCF).
        provider: Option<String>,
    },
    /// An agent's description, parameters and advised operation timeouts (`meta` too, as
    /// in crmsh).
    #[command(alias = "meta")]
    Info {
        /// `ocf:heartbeat:IPaddr2`, `IPaddr2`, `systemd:nginx`, `stonith:fence_ipmilan`, ...
        agent: String,
    },
    /// An agent's meta-data XML.
    #[command(name = "meta-data")]
    MetaData {
        /// The agent.
        agent: String,
    },
    /// The OCF providers that have an agent of this type.
    Providers {
        /// The agent type (`IPaddr2`).
        kind: String,
        /// Only this class (must be ocf).
        class: Option<String>,
    },
    /// Installs Tandem's agents (IPaddr, Dummy, Stateful, process) as
    /// `OCF_ROOT/resource.d/tandem/NAME`, links to this program.
    Install,
}

pub fn run(args: RaArgs) -> anyhow::Result<ExitCode> {
    let runner = Runner::new(args.dirs.config());
    let rt = runtime()?;
    match args.command {
        RaCommand::Classes => print!("{}", classes(&args.dirs.ocf_root)),
        RaCommand::List { class, provider } => {
            let (class, provider) = match class.split_once(':') {
                Some((c, p)) => (c.to_string(), Some(p.to_string())),
                None => (class, provider),
            };
            let class: Class = class.parse()?;
            if class != Class::Ocf && provider.is_some() {
                bail!("only ocf agents have providers");
            }
            let agents = rt.block_on(runner.list_agents(class, provider.as_deref()))?;
            print!("{}", multicolumn(&agents, terminal_width()));
        }
        RaCommand::Info { agent } => {
            let agent = resolve_agent(&args.dirs.ocf_root, &agent)?;
            let xml = rt.block_on(runner.metadata(&agent))?;
            let md = AgentMetadata::parse(&agent.to_string(), &xml)?;
            print!("{}", info_text(&agent, &md));
        }
        RaCommand::MetaData { agent } => {
            let agent = resolve_agent(&args.dirs.ocf_root, &agent)?;
            print!("{}", rt.block_on(runner.metadata(&agent))?);
        }
        RaCommand::Providers { kind, class } => {
            if let Some(c) = class
                && c.parse::<Class>()? != Class::Ocf
            {
                bail!("only ocf agents have providers");
            }
            println!(
                "{}",
                discover::providers_of(&args.dirs.ocf_root, &kind)?.join(" ")
            );
        }
        RaCommand::Install => {
            let exe = std::env::current_exe().context("cannot find the path of this program")?;
            let installed = tandem_agents::install(&args.dirs.ocf_root, &exe)
                .with_context(|| format!("cannot install into {}", args.dirs.ocf_root.display()))?;
            for p in installed {
                println!("{}", p.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A runtime for the executor's async API (D-Bus, processes).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start an async runtime")
}

/// `crm ra classes`: one class per line, `ocf / PROVIDERS`.
pub fn classes(ocf_root: &Path) -> String {
    let mut out = String::new();
    let mut names: Vec<&str> = Class::ALL.iter().map(|c| c.as_str()).collect();
    names.sort_unstable();
    for name in names {
        if name == "ocf" {
            let providers = discover::ocf_providers(ocf_root).unwrap_or_default();
            let _ = writeln!(out, "ocf / {}", providers.join(" "));
        } else {
            let _ = writeln!(out, "{name}");
        }
    }
    out
}

/// An agent named on the command line. A bare type is `ocf:heartbeat:TYPE` when heartbeat
/// has it, else the first provider that does (as crmsh resolves it).
pub fn resolve_agent(ocf_root: &Path, spec: &str) -> anyhow::Result<AgentId> {
    let agent: AgentId = spec.parse()?;
    let bare = !spec.contains(':');
    if bare
        && !ocf_root.join("resource.d/heartbeat").join(spec).exists()
        && let Some(p) = discover::providers_of(ocf_root, spec)
            .unwrap_or_default()
            .first()
    {
        return Ok(AgentId::ocf(p, spec)?);
    }
    Ok(agent)
}

/// Words in as many columns as fit in `width`, filled row by row (as `crm ra list`).
pub fn multicolumn(words: &[String], width: usize) -> String {
    let Some(longest) = words.iter().map(String::len).max() else {
        return String::new();
    };
    let col = longest + 2;
    let per_row = (width / col).max(1);
    let mut out = String::new();
    for row in words.chunks(per_row) {
        let line: String = row.iter().map(|w| format!("{w:<col$}")).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80)
}

/// `crm ra info`: description, parameters (`*` required, `[default]`), advised timeouts.
pub fn info_text(agent: &AgentId, md: &AgentMetadata) -> String {
    let mut out = String::new();
    let title = if md.shortdesc.is_empty() {
        md.name.as_str()
    } else {
        md.shortdesc.as_str()
    };
    let _ = writeln!(out, "{title} ({agent})\n");
    if !md.longdesc.is_empty() {
        let _ = writeln!(out, "{}\n", md.longdesc.trim());
    }
    if !md.parameters.is_empty() {
        out.push_str("Parameters (*: required, []: default):\n\n");
        for p in &md.parameters {
            let default = p
                .default
                .as_deref()
                .map(|d| format!(", [{d}]"))
                .unwrap_or_default();
            let star = if p.required { "*" } else { "" };
            let _ = writeln!(
                out,
                "{}{star} ({}{default}): {}",
                p.name, p.content_type, p.shortdesc
            );
            for line in p.longdesc.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let _ = writeln!(out, "    {line}");
            }
            out.push('\n');
        }
    }
    out.push_str("Operations' defaults (advisory minimum):\n\n");
    for a in md
        .actions
        .iter()
        .filter(|a| a.name != "meta-data" && a.name != "validate-all")
    {
        let name = match (&a.role, &a.depth) {
            (Some(role), _) => format!("{}_{role}", a.name),
            (None, Some(d)) if d != "0" => format!("{}_depth_{d}", a.name),
            _ => a.name.clone(),
        };
        let mut line = format!("    {name:<20}");
        if let Some(t) = &a.timeout {
            let _ = write!(line, " timeout={t}");
        }
        if let Some(i) = &a.interval {
            let _ = write!(line, " interval={i}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// How long one agent's meta-data may take during `configure verify`.
const VERIFY_METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// crmsh's check that operation timeouts are not below what the agent advises, for every
/// primitive of `cib` whose agent's meta-data can be read here (others are skipped, as
/// crmsh skips agents it cannot find). Lines like
/// `vip: specified timeout 20s for monitor is smaller than the advised 100`.
pub fn advised_timeout_warnings(cib: &Cib, dirs: &AgentDirs) -> Vec<String> {
    let Ok(rt) = runtime() else { return Vec::new() };
    let runner = Runner::new(dirs.config());
    let ctx = tandem_cib::RuleContext::at(now());
    let op_defaults = tandem_cib::nvset::evaluate(&cib.config.op_defaults, &ctx, None);
    let default_timeout = op_defaults.get("timeout").map_or("20s", String::as_str);
    let mut cache: BTreeMap<String, Option<AgentMetadata>> = BTreeMap::new();
    let mut warnings = Vec::new();
    for entry in cib.config.all_resources() {
        let RscRef::Primitive(p) = entry.rsc else {
            continue;
        };
        let Ok(agent) = AgentId::new(
            p.class.parse().unwrap_or(Class::Ocf),
            p.provider.as_deref(),
            &p.agent,
        ) else {
            continue;
        };
        let md = cache.entry(agent.to_string()).or_insert_with(|| {
            let xml = rt
                .block_on(async {
                    tokio::time::timeout(VERIFY_METADATA_TIMEOUT, runner.metadata(&agent)).await
                })
                .ok()?
                .ok()?;
            AgentMetadata::parse(&agent.to_string(), &xml).ok()
        });
        let Some(md) = md else { continue };
        let ops: Vec<OpConfig> = p
            .ops
            .iter()
            .map(|o| OpConfig {
                name: o.name.clone(),
                timeout: o.timeout.clone(),
                role: o.role.map(|r| r.to_string()),
                depth: o
                    .instance
                    .iter()
                    .find_map(|s| s.get("OCF_CHECK_LEVEL"))
                    .map(str::to_string),
            })
            .collect();
        warnings.extend(check_op_timeouts(
            &p.id,
            agent.class,
            md,
            &ops,
            default_timeout,
        ));
    }
    warnings
}

/// The current time; `TANDEM_NOW` (ISO 8601, or seconds since the epoch) fixes it, for
/// reproducing a situation and for tests (as crm_simulate's `-t` does).
pub fn now() -> tandem_cib::DateTime {
    if let Ok(fixed) = std::env::var("TANDEM_NOW") {
        if let Ok(secs) = fixed.trim().parse::<i64>() {
            return tandem_cib::DateTime::from_epoch(secs);
        }
        if let Ok(t) = tandem_cib::DateTime::parse(&fixed) {
            return t;
        }
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    tandem_cib::DateTime::from_epoch(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fill_rows() {
        let words: Vec<String> = ["a", "bbb", "cc", "d", "eeeee"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(multicolumn(&words, 21), "a      bbb    cc\nd      eeeee\n");
        assert_eq!(multicolumn(&words, 1), "a\nbbb\ncc\nd\neeeee\n");
        assert_eq!(multicolumn(&[], 80), "");
    }
}
