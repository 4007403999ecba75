//! What every agent shares: the OCF exit codes, reading the OCF environment, exit reasons,
//! logging, and meta-data that validates against Debian's `ra-api-1.dtd` (the DTD
//! `ocf-tester` checks with).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// OCF exit codes (OCF Resource Agent API 1.1).
pub mod rc {
    /// Success; for monitor: running.
    pub const SUCCESS: i32 = 0;
    /// Generic error.
    pub const ERR_GENERIC: i32 = 1;
    /// Bad arguments.
    pub const ERR_ARGS: i32 = 2;
    /// Action not implemented.
    pub const ERR_UNIMPLEMENTED: i32 = 3;
    /// Insufficient privileges.
    pub const ERR_PERM: i32 = 4;
    /// Something needed is not installed.
    pub const ERR_INSTALLED: i32 = 5;
    /// Bad configuration.
    pub const ERR_CONFIGURED: i32 = 6;
    /// Cleanly stopped.
    pub const NOT_RUNNING: i32 = 7;
    /// Running promoted.
    pub const RUNNING_PROMOTED: i32 = 8;
    /// Failed while promoted.
    pub const FAILED_PROMOTED: i32 = 9;
}

/// Where agents keep state when no path is configured, as resource-agents does
/// (`$HA_RSCTMP`, `/run/resource-agents`): cleared at boot, like the resources themselves.
pub const DEFAULT_RSCTMP: &str = "/run/resource-agents";

/// A failed action: the exit code and the exit reason printed for the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The OCF exit code.
    pub rc: i32,
    /// One line saying what went wrong.
    pub reason: String,
}

impl Failure {
    /// A failure with this code.
    pub fn new(rc: i32, reason: impl Into<String>) -> Failure {
        Failure {
            rc,
            reason: reason.into(),
        }
    }

    /// Bad configuration (`OCF_ERR_CONFIGURED`).
    pub fn configured(reason: impl Into<String>) -> Failure {
        Failure::new(rc::ERR_CONFIGURED, reason)
    }

    /// Generic error (`OCF_ERR_GENERIC`).
    pub fn generic(reason: impl Into<String>) -> Failure {
        Failure::new(rc::ERR_GENERIC, reason)
    }
}

/// An action's result: an exit code, or a failure with its reason.
pub type Outcome = Result<i32, Failure>;

/// The OCF environment an agent was started with.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The environment of this process.
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment from owned pairs (an executor running an agent in-process).
    pub fn from_owned(pairs: &[(String, String)]) -> Env {
        Env {
            vars: pairs.iter().cloned().collect(),
        }
    }

    /// An environment from pairs (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env {
        Env {
            vars: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A variable, if set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// An instance parameter (`OCF_RESKEY_<name>`), if set and not empty.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.var(&format!("OCF_RESKEY_{name}"))
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter, with the OCF spellings of true (`1`, `yes`, `true`, `on`).
    pub fn flag(&self, name: &str, default: bool) -> bool {
        match self.param(name) {
            Some(v) => is_true(v),
            None => default,
        }
    }

    /// A meta-attribute (`OCF_RESKEY_CRM_meta_<name>`).
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.var(&format!("OCF_RESKEY_CRM_meta_{name}"))
    }

    /// The resource id (`OCF_RESOURCE_INSTANCE`), `default` when run by hand.
    pub fn instance(&self) -> &str {
        self.var("OCF_RESOURCE_INSTANCE").unwrap_or("default")
    }

    /// The operation's interval in ms (0 if unset).
    pub fn interval_ms(&self) -> u64 {
        self.meta("interval")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// The operation's timeout in ms, if the cluster gave one.
    pub fn timeout_ms(&self) -> Option<u64> {
        self.meta("timeout").and_then(|v| v.parse().ok())
    }

    /// A monitor with interval 0 is a probe.
    pub fn is_probe(&self, action: &str) -> bool {
        action == "monitor" && self.interval_ms() == 0
    }

    /// The state directory (`$HA_RSCTMP`, default [`DEFAULT_RSCTMP`]).
    pub fn rsctmp(&self) -> PathBuf {
        PathBuf::from(
            self.var("HA_RSCTMP")
                .filter(|v| !v.is_empty())
                .unwrap_or(DEFAULT_RSCTMP),
        )
    }

    /// The `PATH` to look programs up in.
    pub fn path(&self) -> &str {
        self.var("PATH").unwrap_or("/usr/sbin:/usr/bin:/sbin:/bin")
    }
}

/// The OCF spellings of true.
pub fn is_true(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "1" | "yes" | "true" | "on" | "y"
    )
}

/// Writes a log line to stderr, where the executor captures it.
pub fn log(agent: &str, env: &Env, level: &str, msg: &str) {
    eprintln!(
        "{agent}({})[{}]: {level}: {msg}",
        env.instance(),
        std::process::id()
    );
}

/// One parameter in the meta-data.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    /// Name.
    pub name: &'static str,
    /// Must be given.
    pub required: bool,
    /// Must be unique among resources of this agent.
    pub unique: bool,
    /// `string`, `integer`, `boolean` or `time` (what `ra-api-1.dtd` allows).
    pub kind: &'static str,
    /// Default value.
    pub default: Option<String>,
    /// One line.
    pub shortdesc: &'static str,
    /// Full description.
    pub longdesc: &'static str,
}

/// One action in the meta-data, with its advised timeout (and interval, role, depth).
#[derive(Debug, Clone)]
pub struct ActionSpec {
    /// Name (one of the names `ra-api-1.dtd` allows).
    pub name: &'static str,
    /// Advised timeout.
    pub timeout: &'static str,
    /// Advised interval.
    pub interval: Option<&'static str>,
    /// Role.
    pub role: Option<&'static str>,
    /// Depth (OCF_CHECK_LEVEL).
    pub depth: Option<&'static str>,
}

impl ActionSpec {
    /// An action with a timeout only.
    pub const fn new(name: &'static str, timeout: &'static str) -> ActionSpec {
        ActionSpec {
            name,
            timeout,
            interval: None,
            role: None,
            depth: None,
        }
    }

    /// A recurring action.
    pub const fn every(
        name: &'static str,
        timeout: &'static str,
        interval: &'static str,
    ) -> ActionSpec {
        ActionSpec {
            name,
            timeout,
            interval: Some(interval),
            role: None,
            depth: None,
        }
    }
}

/// An agent's meta-data.
#[derive(Debug, Clone)]
pub struct MetaData {
    /// Agent name.
    pub name: &'static str,
    /// Agent version.
    pub version: &'static str,
    /// One line.
    pub shortdesc: &'static str,
    /// Full description.
    pub longdesc: &'static str,
    /// Parameters.
    pub params: Vec<ParamSpec>,
    /// Actions.
    pub actions: Vec<ActionSpec>,
}

impl MetaData {
    /// The XML, OCF 1.1 content in the element order `ra-api-1.dtd` requires.
    pub fn to_xml(&self) -> String {
        let mut x = String::from(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n",
        );
        let _ = writeln!(
            x,
            "<resource-agent name=\"{}\" version=\"{}\">",
            esc(self.name),
            esc(self.version)
        );
        x.push_str("<version>1.1</version>\n");
        let _ = writeln!(
            x,
            "<longdesc lang=\"en\">\n{}\n</longdesc>",
            esc(self.longdesc)
        );
        let _ = writeln!(
            x,
            "<shortdesc lang=\"en\">{}</shortdesc>",
            esc(self.shortdesc)
        );
        x.push_str("<parameters>\n");
        for p in &self.params {
            let _ = writeln!(
                x,
                "<parameter name=\"{}\" unique=\"{}\" required=\"{}\">",
                p.name, p.unique as u8, p.required as u8
            );
            let _ = writeln!(
                x,
                "<longdesc lang=\"en\">\n{}\n</longdesc>",
                esc(p.longdesc)
            );
            let _ = writeln!(x, "<shortdesc lang=\"en\">{}</shortdesc>", esc(p.shortdesc));
            match &p.default {
                Some(d) => {
                    let _ = writeln!(x, "<content type=\"{}\" default=\"{}\"/>", p.kind, esc(d));
                }
                None => {
                    let _ = writeln!(x, "<content type=\"{}\"/>", p.kind);
                }
            }
            x.push_str("</parameter>\n");
        }
        x.push_str("</parameters>\n<actions>\n");
        for a in &self.actions {
            let _ = write!(x, "<action name=\"{}\" timeout=\"{}\"", a.name, a.timeout);
            for (attr, value) in [
                ("interval", a.interval),
                ("role", a.role),
                ("depth", a.depth),
            ] {
                if let Some(v) = value {
                    let _ = write!(x, " {attr}=\"{v}\"");
                }
            }
            x.push_str("/>\n");
        }
        x.push_str("</actions>\n</resource-agent>\n");
        x
    }
}

/// XML escaping for text and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The non-standard action of agents that can watch their resource and exit as soon as it
/// fails (Tandem's executor runs it beside a recurring monitor; see `tandem_exec::watch`).
/// It is not in the meta-data's `<actions>` — the OCF 1.0 DTD allows only the standard
/// names there — but in the output of the `methods` action, which the meta-data lists.
pub const WATCH: &str = "watch";

/// An agent: its meta-data and its actions.
pub trait Agent {
    /// Its name (`IPaddr`).
    fn name(&self) -> &'static str;
    /// Its meta-data.
    fn metadata(&self) -> MetaData;
    /// True if it implements [`WATCH`]: block until the resource is seen to fail (or is not
    /// running when the watch starts), print one line saying what was seen, exit 0.
    fn watches(&self) -> bool {
        false
    }
    /// Runs an action other than `meta-data`; unknown actions answer
    /// `OCF_ERR_UNIMPLEMENTED`.
    fn run(&self, action: &str, env: &Env) -> Outcome;
}

/// Runs `action` of `agent` as an OCF executable does: prints meta-data, runs the action,
/// prints the exit reason of a failure to stderr (`ocf-exit-reason:...`), returns the code.
pub fn main_for(agent: &dyn Agent, action: Option<&str>, env: &Env) -> i32 {
    let Some(action) = action else {
        eprintln!(
            "usage: {} {{start|stop|monitor|validate-all|meta-data|...}}",
            agent.name()
        );
        return rc::ERR_ARGS;
    };
    match action {
        "meta-data" => {
            print!("{}", agent.metadata().to_xml());
            rc::SUCCESS
        }
        "usage" | "help" => {
            println!("usage: {} {{{}}}", agent.name(), methods(agent).join("|"));
            rc::SUCCESS
        }
        "methods" => {
            for m in methods(agent) {
                println!("{m}");
            }
            rc::SUCCESS
        }
        _ => match agent.run(action, env) {
            Ok(code) => code,
            Err(f) => {
                eprintln!("{}", exit_reason_line(env, &f));
                f.rc
            }
        },
    }
}

/// The line an agent writes to stderr for a failure: the exit-reason prefix the cluster
/// gave (`OCF_EXIT_REASON_PREFIX`, default `ocf-exit-reason:`) and the reason on one line.
pub fn exit_reason_line(env: &Env, f: &Failure) -> String {
    let prefix = env
        .var("OCF_EXIT_REASON_PREFIX")
        .unwrap_or("ocf-exit-reason:");
    format!("{prefix}{}", f.reason.replace('\n', " "))
}

/// The actions an agent implements: those of its meta-data, and [`WATCH`] if it watches.
pub fn methods(agent: &dyn Agent) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = agent.metadata().actions.iter().map(|a| a.name).collect();
    if agent.watches() {
        names.push(WATCH);
    }
    names
}

/// A parameter whose value must be a whole number.
pub fn number_param(env: &Env, name: &str, default: u64) -> Result<u64, Failure> {
    match env.param(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            Failure::configured(format!("parameter {name}={v:?} is not a whole number"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_access() {
        let env = Env::from_pairs(&[
            ("OCF_RESKEY_ip", "192.0.2.10"),
            ("OCF_RESKEY_empty", ""),
            ("OCF_RESKEY_flag", "Yes"),
            ("OCF_RESKEY_CRM_meta_interval", "0"),
            ("OCF_RESOURCE_INSTANCE", "vip"),
        ]);
        assert_eq!(env.param("ip"), Some("192.0.2.10"));
        assert_eq!(env.param("empty"), None);
        assert!(env.flag("flag", false));
        assert!(env.flag("missing", true));
        assert!(env.is_probe("monitor"));
        assert_eq!(env.instance(), "vip");
        assert_eq!(env.rsctmp(), PathBuf::from("/run/resource-agents"));
        assert_eq!(
            number_param(&Env::from_pairs(&[("OCF_RESKEY_n", "x")]), "n", 1)
                .unwrap_err()
                .reason,
            "parameter n=\"x\" is not a whole number"
        );
    }

    #[test]
    fn metadata_xml_shape() {
        let md = MetaData {
            name: "T",
            version: "1.0",
            shortdesc: "short <x>",
            longdesc: "long & more",
            params: vec![ParamSpec {
                name: "p",
                required: true,
                unique: false,
                kind: "string",
                default: Some("a\"b".into()),
                shortdesc: "s",
                longdesc: "l",
            }],
            actions: vec![
                ActionSpec::new("start", "20s"),
                ActionSpec::every("monitor", "20s", "10s"),
            ],
        };
        assert_eq!(
            md.to_xml(),
            "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n\
             <resource-agent name=\"T\" version=\"1.0\">\n<version>1.1</version>\n\
             <longdesc lang=\"en\">\nlong &amp; more\n</longdesc>\n<shortdesc lang=\"en\">short &lt;x&gt;</shortdesc>\n\
             <parameters>\n<parameter name=\"p\" unique=\"0\" required=\"1\">\n<longdesc lang=\"en\">\nl\n</longdesc>\n\
             <shortdesc lang=\"en\">s</shortdesc>\n<content type=\"string\" default=\"a&quot;b\"/>\n</parameter>\n\
             </parameters>\n<actions>\n<action name=\"start\" timeout=\"20s\"/>\n\
             <action name=\"monitor\" timeout=\"20s\" interval=\"10s\"/>\n</actions>\n</resource-agent>\n"
        );
    }
}
