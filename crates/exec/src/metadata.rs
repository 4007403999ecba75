//! Agent meta-data (OCF 1.1 "Metadata"): what parameters an agent takes and the timeouts it
//! advises for each action, and the check `crm configure verify` makes with it.

use tandem_xml::{Document, NodeId};

use crate::error::ExecError;
use crate::types::Class;

/// `s` escaped for XML character data.
pub(crate) fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    tandem_xml::escape_text(&mut out, s);
    out
}

/// `s` escaped for a double-quoted XML attribute value.
pub(crate) fn xml_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    tandem_xml::escape_attr(&mut out, s);
    out
}

/// One parameter an agent accepts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamInfo {
    /// Its name (`ip`).
    pub name: String,
    /// Must be given.
    pub required: bool,
    /// Must be unique across resources of this agent (OCF 1.0 `unique`).
    pub unique: bool,
    /// OCF 1.1 `unique-group`: the combination of the group's values must be unique.
    pub unique_group: Option<String>,
    /// Can change without a restart (through `reload-agent`).
    pub reloadable: bool,
    /// Marked deprecated.
    pub deprecated: bool,
    /// One-line description.
    pub shortdesc: String,
    /// Full description.
    pub longdesc: String,
    /// `string`, `integer`, `boolean`, `select`, `time`, ...
    pub content_type: String,
    /// The default value, if any.
    pub default: Option<String>,
    /// The allowed values of a `select`.
    pub options: Vec<String>,
}

/// One action an agent implements, with its advised timing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionInfo {
    /// `start`, `monitor`, ...
    pub name: String,
    /// Advised timeout, as written (`20s`, `100`).
    pub timeout: Option<String>,
    /// Advised interval, as written.
    pub interval: Option<String>,
    /// `OCF_CHECK_LEVEL` this entry is for.
    pub depth: Option<String>,
    /// Role this entry is for (`Promoted`, `Unpromoted`, legacy `Master`, `Slave`).
    pub role: Option<String>,
}

impl ActionInfo {
    /// The advised timeout in milliseconds, if given and well formed.
    pub fn timeout_ms(&self) -> Option<u64> {
        self.timeout
            .as_deref()
            .and_then(|t| parse_duration_ms(t).ok())
    }
}

/// An agent's meta-data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentMetadata {
    /// `<resource-agent name>`.
    pub name: String,
    /// `<resource-agent version>`: the agent's own version.
    pub version: Option<String>,
    /// `<version>`: the OCF API version it follows.
    pub ocf_version: Option<String>,
    /// One-line description.
    pub shortdesc: String,
    /// Full description.
    pub longdesc: String,
    /// Its parameters, in document order.
    pub parameters: Vec<ParamInfo>,
    /// Its actions, in document order.
    pub actions: Vec<ActionInfo>,
}

impl AgentMetadata {
    /// Parses meta-data XML; `agent` names the agent in error messages.
    pub fn parse(agent: &str, xml: &str) -> Result<AgentMetadata, ExecError> {
        let bad = |why: String| ExecError::BadMetadata {
            agent: agent.to_string(),
            why,
        };
        let doc = Document::parse(xml).map_err(|e| bad(e.to_string()))?;
        let root = doc.root().ok_or_else(|| bad("no root element".into()))?;
        if !doc.is(root, "resource-agent") {
            return Err(bad(format!(
                "the root element is <{}>, expected <resource-agent>",
                doc.name(root)
            )));
        }
        let mut md = AgentMetadata {
            name: doc.attr(root, "name").unwrap_or_default().to_string(),
            version: doc.attr(root, "version").map(str::to_string),
            ocf_version: doc
                .child_named(root, "version")
                .map(|v| doc.text(v).trim().to_string()),
            // Fence agents put their short description in an attribute.
            shortdesc: Some(desc(&doc, root, "shortdesc"))
                .filter(|s| !s.is_empty())
                .or_else(|| doc.attr(root, "shortdesc").map(str::to_string))
                .unwrap_or_default(),
            longdesc: desc(&doc, root, "longdesc"),
            ..AgentMetadata::default()
        };
        if let Some(params) = doc.child_named(root, "parameters") {
            for p in doc.children_named(params, "parameter") {
                md.parameters.push(parse_param(&doc, p).map_err(&bad)?);
            }
        }
        if let Some(actions) = doc.child_named(root, "actions") {
            for a in doc.children_named(actions, "action") {
                let name = doc
                    .attr(a, "name")
                    .ok_or_else(|| bad("an <action> has no name attribute".into()))?;
                let attr = |n: &str| doc.attr(a, n).map(str::to_string);
                md.actions.push(ActionInfo {
                    name: name.to_string(),
                    timeout: attr("timeout"),
                    interval: attr("interval"),
                    depth: attr("depth"),
                    role: attr("role"),
                });
            }
        }
        Ok(md)
    }

    /// The parameter called `name`.
    pub fn parameter(&self, name: &str) -> Option<&ParamInfo> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// True if the agent lists `action` among its actions.
    pub fn has_action(&self, action: &str) -> bool {
        self.actions.iter().any(|a| a.name == action)
    }

    /// The advice for an action: the entry with the same name, role and depth if there is
    /// one, else the first entry with that name.
    pub fn advice(
        &self,
        action: &str,
        role: Option<&str>,
        depth: Option<&str>,
    ) -> Option<&ActionInfo> {
        let role = role.map(normalize_role);
        let depth = depth.unwrap_or("0");
        let same_name = || self.actions.iter().filter(|a| a.name == action);
        same_name()
            .find(|a| {
                a.role.as_deref().map(normalize_role) == role
                    && a.depth.as_deref().unwrap_or("0") == depth
            })
            .or_else(|| same_name().next())
    }
}

/// Pacemaker 2.1 renamed the roles; meta-data of older agents still says Master/Slave.
fn normalize_role(role: &str) -> &str {
    match role {
        "Master" => "Promoted",
        "Slave" => "Unpromoted",
        other => other,
    }
}

fn parse_param(doc: &Document, p: NodeId) -> Result<ParamInfo, String> {
    let name = doc
        .attr(p, "name")
        .ok_or("a <parameter> has no name attribute")?
        .to_string();
    let flag = |n: &str| matches!(doc.attr(p, n), Some("1" | "true" | "yes"));
    let content = doc.child_named(p, "content");
    let options = content
        .map(|c| {
            doc.children_named(c, "option")
                .filter_map(|o| doc.attr(o, "value").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(ParamInfo {
        required: flag("required"),
        unique: flag("unique"),
        unique_group: doc.attr(p, "unique-group").map(str::to_string),
        reloadable: flag("reloadable"),
        deprecated: doc.child_named(p, "deprecated").is_some(),
        shortdesc: desc(doc, p, "shortdesc"),
        longdesc: desc(doc, p, "longdesc"),
        content_type: content
            .and_then(|c| doc.attr(c, "type"))
            .unwrap_or("string")
            .to_string(),
        default: content
            .and_then(|c| doc.attr(c, "default"))
            .map(str::to_string),
        options,
        name,
    })
}

/// The English (or first) description element called `name` under `parent`, trimmed.
fn desc(doc: &Document, parent: NodeId, name: &str) -> String {
    let mut all = doc.children_named(parent, name);
    let first = all.next();
    let english = std::iter::once(first)
        .flatten()
        .chain(all)
        .find(|&d| doc.attr(d, "lang").is_none_or(|l| l.starts_with("en")));
    english
        .or(first)
        .map(|d| doc.text(d).trim().to_string())
        .unwrap_or_default()
}

/// Parses a duration as Pacemaker does: a number with an optional unit (`ms`, `msec`, `us`,
/// `usec`, `s`, `sec`, `m`, `min`, `h`, `hr`; none means seconds), or an ISO 8601 duration
/// of days, hours, minutes and seconds (`PT1M30S`). Returns milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<u64, ExecError> {
    let bad = |why| ExecError::BadDuration {
        value: text.to_string(),
        why,
    };
    let t = text.trim();
    if let Some(iso) = t.strip_prefix('P') {
        return parse_iso8601(iso).ok_or_else(|| bad("expected an ISO 8601 duration like PT1M30S"));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| bad("expected a whole number, optionally followed by a unit"))?;
    let factor_ms: Option<u64> = match unit.trim() {
        "" | "s" | "sec" => Some(1000),
        "ms" | "msec" => Some(1),
        "m" | "min" => Some(60_000),
        "h" | "hr" => Some(3_600_000),
        "us" | "usec" => None,
        _ => return Err(bad("unknown unit; expected ms, s, m, min, h or none")),
    };
    match factor_ms {
        Some(f) => n.checked_mul(f).ok_or_else(|| bad("too large")),
        None => Ok(n / 1000),
    }
}

fn parse_iso8601(iso: &str) -> Option<u64> {
    let (date, time) = match iso.split_once('T') {
        Some((d, t)) => (d, t),
        None => (iso, ""),
    };
    let mut ms: u64 = 0;
    for (part, units) in [
        (date, &[('D', 86_400_000u64)][..]),
        (time, &[('H', 3_600_000), ('M', 60_000), ('S', 1000)][..]),
    ] {
        let mut rest = part;
        for &(letter, factor) in units {
            if let Some((n, after)) = rest.split_once(letter) {
                ms = ms.checked_add(n.parse::<u64>().ok()?.checked_mul(factor)?)?;
                rest = after;
            }
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(ms)
}

/// An operation as configured on a resource, for [`check_op_timeouts`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpConfig {
    /// `start`, `monitor`, ...
    pub name: String,
    /// Its timeout as written, if configured.
    pub timeout: Option<String>,
    /// Its role, if any.
    pub role: Option<String>,
    /// Its `OCF_CHECK_LEVEL`, if any.
    pub depth: Option<String>,
}

/// The warnings `crm configure verify` prints when an operation's timeout is shorter than
/// the agent advises:
/// `vip: specified timeout 20s for monitor is smaller than the advised 100`.
/// Operations without a timeout use `default_timeout` (op_defaults, else 20s) and are
/// reported as "default timeout"; start and stop are checked even when not configured
/// (except for fence devices, which are never started by an agent).
pub fn check_op_timeouts(
    rsc_id: &str,
    class: Class,
    md: &AgentMetadata,
    ops: &[OpConfig],
    default_timeout: &str,
) -> Vec<String> {
    let mut checked: Vec<OpConfig> = ops.to_vec();
    if class != Class::Stonith {
        for required in ["start", "stop"] {
            if !checked.iter().any(|o| o.name == required) {
                checked.push(OpConfig {
                    name: required.to_string(),
                    ..OpConfig::default()
                });
            }
        }
    }
    let mut warnings = Vec::new();
    for op in &checked {
        let Some(advised) = md.advice(&op.name, op.role.as_deref(), op.depth.as_deref()) else {
            continue;
        };
        let (Some(advised_text), Some(advised_ms)) = (&advised.timeout, advised.timeout_ms())
        else {
            continue;
        };
        let (which, value) = match &op.timeout {
            Some(t) => ("specified timeout", t.as_str()),
            None => ("default timeout", default_timeout),
        };
        let Ok(value_ms) = parse_duration_ms(value) else {
            continue; // a bad duration is reported by the CIB's own validation
        };
        if value_ms < advised_ms {
            warnings.push(format!(
                "{rsc_id}: {which} {value} for {} is smaller than the advised {advised_text}",
                op.name
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMMYISH: &str = r#"<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Web" version="2.0">
<version>1.1</version>
<longdesc lang="de">Lang</longdesc>
<longdesc lang="en">Long &amp; detailed</longdesc>
<shortdesc lang="en">A web server</shortdesc>
<parameters>
<parameter name="config" required="1" unique="1" reloadable="1">
<longdesc lang="en">Config file</longdesc>
<shortdesc lang="en">config</shortdesc>
<content type="string" default="/etc/web.conf"/>
</parameter>
<parameter name="mode" unique-group="g">
<longdesc lang="en">Mode</longdesc>
<shortdesc lang="en">mode</shortdesc>
<content type="select" default="fast"><option value="fast"/><option value="slow"/></content>
<deprecated/>
</parameter>
</parameters>
<actions>
<action name="start" timeout="100s"/>
<action name="stop" timeout="100"/>
<action name="monitor" timeout="20s" interval="10s" depth="0"/>
<action name="monitor" timeout="60s" interval="30s" depth="10"/>
<action name="monitor" timeout="30s" interval="9s" role="Master"/>
<action name="meta-data" timeout="5s"/>
</actions>
</resource-agent>
"#;

    #[test]
    fn parses_parameters_and_actions() {
        let md = AgentMetadata::parse("ocf:x:Web", DUMMYISH).unwrap();
        assert_eq!(md.name, "Web");
        assert_eq!(md.version.as_deref(), Some("2.0"));
        assert_eq!(md.ocf_version.as_deref(), Some("1.1"));
        assert_eq!(md.longdesc, "Long & detailed");
        assert_eq!(md.shortdesc, "A web server");
        assert_eq!(
            md.parameters[0],
            ParamInfo {
                name: "config".into(),
                required: true,
                unique: true,
                unique_group: None,
                reloadable: true,
                deprecated: false,
                shortdesc: "config".into(),
                longdesc: "Config file".into(),
                content_type: "string".into(),
                default: Some("/etc/web.conf".into()),
                options: vec![],
            }
        );
        let mode = md.parameter("mode").unwrap();
        assert_eq!(mode.options, ["fast", "slow"]);
        assert!(mode.deprecated);
        assert_eq!(mode.unique_group.as_deref(), Some("g"));
        assert_eq!(md.actions.len(), 6);
        assert_eq!(
            md.advice("monitor", None, Some("10"))
                .unwrap()
                .timeout
                .as_deref(),
            Some("60s")
        );
        assert_eq!(
            md.advice("monitor", Some("Promoted"), None)
                .unwrap()
                .timeout
                .as_deref(),
            Some("30s")
        );
        assert_eq!(
            md.advice("monitor", None, None).unwrap().timeout_ms(),
            Some(20_000)
        );
        assert!(md.advice("promote", None, None).is_none());
    }

    #[test]
    fn bad_metadata_is_explained() {
        let err = AgentMetadata::parse("ocf:x:Y", "<agent/>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "meta-data of ocf:x:Y: the root element is <agent>, expected <resource-agent>"
        );
        let err = AgentMetadata::parse(
            "ocf:x:Y",
            "<resource-agent><actions><action/></actions></resource-agent>",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "meta-data of ocf:x:Y: an <action> has no name attribute"
        );
        assert!(AgentMetadata::parse("ocf:x:Y", "<resource-agent>").is_err());
    }

    #[test]
    fn durations() {
        let table = [
            ("20", 20_000),
            ("20s", 20_000),
            ("20sec", 20_000),
            (" 100 ", 100_000),
            ("500ms", 500),
            ("2min", 120_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1500us", 1),
            ("PT1M30S", 90_000),
            ("P1DT1S", 86_401_000),
        ];
        for (text, ms) in table {
            assert_eq!(parse_duration_ms(text).unwrap(), ms, "{text}");
        }
        for bad in ["", "s", "20x", "-5", "PT1X", "99999999999999999999"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_duration_ms("20x").unwrap_err().to_string(),
            "invalid duration \"20x\": unknown unit; expected ms, s, m, min, h or none"
        );
    }

    #[test]
    fn timeout_warnings_read_like_crmsh() {
        let md = AgentMetadata::parse("ocf:x:Web", DUMMYISH).unwrap();
        let ops = [
            OpConfig {
                name: "monitor".into(),
                timeout: Some("20s".into()),
                ..OpConfig::default()
            },
            OpConfig {
                name: "monitor".into(),
                timeout: Some("20s".into()),
                depth: Some("10".into()),
                ..OpConfig::default()
            },
            OpConfig {
                name: "start".into(),
                timeout: Some("90s".into()),
                ..OpConfig::default()
            },
        ];
        assert_eq!(
            check_op_timeouts("web", Class::Ocf, &md, &ops, "20s"),
            [
                "web: specified timeout 20s for monitor is smaller than the advised 60s",
                "web: specified timeout 90s for start is smaller than the advised 100s",
                "web: default timeout 20s for stop is smaller than the advised 100",
            ]
        );
        // A long enough op_defaults timeout silences the implicit ones.
        assert_eq!(
            check_op_timeouts("web", Class::Ocf, &md, &[], "2min"),
            Vec::<String>::new()
        );
        // Fence devices are not started by an agent.
        assert_eq!(
            check_op_timeouts("web", Class::Stonith, &md, &[], "20s"),
            Vec::<String>::new()
        );
    }
}
