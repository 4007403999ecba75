//! The `lsb` class: `/etc/init.d/NAME start|stop|status`, no parameters. `monitor` runs
//! `status`, whose exit codes LSB defines differently (see [`crate::rc::lsb_to_ocf`]).
//! Meta-data is made up from the script's LSB comment header.

use std::future::Future;
use std::io::Read;
use std::path::Path;

use crate::metadata::{xml_attr, xml_text};

use crate::rc::{OcfRc, lsb_to_ocf};
use crate::runner::{ExecConfig, check_executable, invocation, not_installed, run_process};
use crate::types::{ExecStatus, OpRequest, OpResult};

/// The most bytes of an init script read when looking for its header: the header is a
/// comment block at the top; a huge script must not be read whole.
const MAX_HEADER_SCAN_BYTES: u64 = 64 * 1024;

pub(crate) async fn run(
    cfg: &ExecConfig,
    req: &OpRequest,
    cancel: impl Future<Output = ()>,
) -> OpResult {
    let path = cfg.lsb_dir.join(&req.agent.kind);
    if req.action == "meta-data" {
        return match metadata(&req.agent.kind, &path) {
            Some(xml) => {
                let mut r = OpResult::immediate(OcfRc::Ok, ExecStatus::Done, None);
                r.stdout = xml;
                r
            }
            None => not_installed(format!(
                "{} is not installed: cannot read {}",
                req.agent,
                path.display()
            )),
        };
    }
    if let Err(result) = check_executable(&req.agent, &path) {
        return result;
    }
    let action = if req.action == "monitor" {
        "status"
    } else {
        req.action.as_str()
    };
    let inv = invocation(cfg, path, &[action], req);
    let action_owned = action.to_string();
    run_process(
        inv,
        req,
        cancel,
        move |code| lsb_to_ocf(&action_owned, code),
        false,
    )
    .await
}

/// The LSB header fields Pacemaker shows (LSB Core, "Comment Conventions for Init Scripts").
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LsbHeader {
    /// `# Provides:`
    pub provides: String,
    /// `# Required-Start:`
    pub required_start: String,
    /// `# Required-Stop:`
    pub required_stop: String,
    /// `# Should-Start:`
    pub should_start: String,
    /// `# Should-Stop:`
    pub should_stop: String,
    /// `# Default-Start:`
    pub default_start: String,
    /// `# Default-Stop:`
    pub default_stop: String,
    /// `# Short-Description:`
    pub short_description: String,
    /// `# Description:` and its continuation lines (`#` followed by a tab or two spaces).
    pub description: String,
}

impl LsbHeader {
    /// Reads the block between `### BEGIN INIT INFO` and `### END INIT INFO`.
    pub fn parse(script: &str) -> LsbHeader {
        let mut h = LsbHeader::default();
        let mut lines = script
            .lines()
            .skip_while(|l| !l.starts_with("### BEGIN INIT INFO"))
            .skip(1)
            .peekable();
        while let Some(line) = lines.next() {
            if line.starts_with("### END INIT INFO") || !line.starts_with('#') {
                break;
            }
            let Some((key, value)) = line[1..].split_once(':') else {
                continue;
            };
            let value = value.trim().to_string();
            let slot = match key.trim() {
                "Provides" => &mut h.provides,
                "Required-Start" => &mut h.required_start,
                "Required-Stop" => &mut h.required_stop,
                "Should-Start" => &mut h.should_start,
                "Should-Stop" => &mut h.should_stop,
                "Default-Start" => &mut h.default_start,
                "Default-Stop" => &mut h.default_stop,
                "Short-Description" => &mut h.short_description,
                "Description" => {
                    let mut desc = value;
                    while let Some(next) =
                        lines.next_if(|l| l.starts_with("#\t") || l.starts_with("#  "))
                    {
                        desc.push(' ');
                        desc.push_str(next[1..].trim());
                    }
                    h.description = desc;
                    continue;
                }
                _ => continue,
            };
            if slot.is_empty() {
                *slot = value;
            }
        }
        h
    }
}

/// Meta-data for an init script, made from its header.
pub fn metadata(name: &str, path: &Path) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_HEADER_SCAN_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    Some(metadata_xml(name, &LsbHeader::parse(&text)))
}

fn metadata_xml(name: &str, h: &LsbHeader) -> String {
    let or_name = |s: &str| {
        if s.is_empty() {
            name.to_string()
        } else {
            s.to_string()
        }
    };
    let mut x = String::from("<?xml version=\"1.0\"?>\n");
    x += &format!(
        "<resource-agent name=\"{}\" version=\"0.1\">\n",
        xml_attr(name)
    );
    x += "  <version>1.0</version>\n";
    x += &format!(
        "  <longdesc lang=\"en\">{}</longdesc>\n",
        xml_text(&or_name(&h.description))
    );
    x += &format!(
        "  <shortdesc lang=\"en\">{}</shortdesc>\n",
        xml_text(&or_name(&h.short_description))
    );
    x += "  <parameters/>\n  <actions>\n";
    for (action, extra) in [
        ("meta-data", "timeout=\"5s\""),
        ("start", "timeout=\"15s\""),
        ("stop", "timeout=\"15s\""),
        ("status", "timeout=\"15s\""),
        ("restart", "timeout=\"15s\""),
        ("force-reload", "timeout=\"15s\""),
        ("monitor", "timeout=\"15s\" interval=\"15s\""),
    ] {
        x += &format!("    <action name=\"{action}\" {extra}/>\n");
    }
    x += "  </actions>\n  <special tag=\"LSB\">\n";
    for (tag, value) in [
        ("Provides", &h.provides),
        ("Required-Start", &h.required_start),
        ("Required-Stop", &h.required_stop),
        ("Should-Start", &h.should_start),
        ("Should-Stop", &h.should_stop),
        ("Default-Start", &h.default_start),
        ("Default-Stop", &h.default_stop),
    ] {
        x += &format!("    <{tag}>{}</{tag}>\n", xml_text(value));
    }
    x += "  </special>\n</resource-agent>\n";
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::AgentMetadata;

    const SCRIPT: &str = "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          web\n# Required-Start:    $network\n# Default-Start:     2 3 4 5\n# Short-Description: Web <server>\n# Description:       Serves pages\n#                    over HTTP & more.\n# Default-Stop:      0 1 6\n### END INIT INFO\necho hi\n";

    #[test]
    fn header_fields() {
        let h = LsbHeader::parse(SCRIPT);
        assert_eq!(h.provides, "web");
        assert_eq!(h.required_start, "$network");
        assert_eq!(h.short_description, "Web <server>");
        assert_eq!(h.description, "Serves pages over HTTP & more.");
        assert_eq!(h.default_stop, "0 1 6");
        assert_eq!(LsbHeader::parse("#!/bin/sh\necho\n"), LsbHeader::default());
    }

    #[test]
    fn made_up_metadata_parses() {
        let xml = metadata_xml("web", &LsbHeader::parse(SCRIPT));
        let md = AgentMetadata::parse("lsb:web", &xml).unwrap();
        assert_eq!(md.shortdesc, "Web <server>");
        assert_eq!(md.longdesc, "Serves pages over HTTP & more.");
        assert_eq!(
            md.advice("start", None, None).unwrap().timeout.as_deref(),
            Some("15s")
        );
        let bare = metadata_xml("x", &LsbHeader::default());
        assert_eq!(AgentMetadata::parse("lsb:x", &bare).unwrap().shortdesc, "x");
    }
}
