//! ACL permission specifications as crmsh writes them: `xpath:`, `ref:`, `type:`, `attr:`
//! and the shortcuts that stand for common XPaths (`meta:RSC:ATTR` is
//! `//primitive[@id='RSC']/meta_attributes/nvpair[@name='ATTR']`).

/// Specification words and the `acl_permission` attribute each sets.
pub(super) const SPECS: &[(&str, &str)] = &[
    ("xpath", "xpath"),
    ("ref", "reference"),
    ("reference", "reference"),
    ("tag", "object-type"),
    ("type", "object-type"),
    ("attr", "attribute"),
    ("attribute", "attribute"),
];

/// The shortcuts, in the order `show` tries them, each an XPath in parts: `@@` stands for
/// one id (or name) from the shortcut's value, `ARG1:ARG2`; a part without `@@` is always
/// there. Later parts are optional.
const SHORTCUTS: &[(&str, &[&str])] = &[
    (
        "meta",
        &[
            "//primitive[@id='@@']/meta_attributes",
            "/nvpair[@name='@@']",
        ],
    ),
    (
        "params",
        &[
            "//primitive[@id='@@']/instance_attributes",
            "/nvpair[@name='@@']",
        ],
    ),
    ("utilization", &["//primitive[@id='@@']/utilization"]),
    (
        "location",
        &["//rsc_location[@id='cli-prefer-@@' and @rsc='@@']"],
    ),
    (
        "property",
        &["//crm_config/cluster_property_set", "/nvpair[@name='@@']"],
    ),
    (
        "nodeattr",
        &["//nodes/node/instance_attributes", "/nvpair[@name='@@']"],
    ),
    ("nodeutil", &["//nodes/node/utilization", "[@uname='@@']"]),
    ("node", &["//nodes/node", "[@uname='@@']"]),
    ("status", &["/cib/status"]),
    ("cib", &["/cib"]),
];

pub(super) fn is_shortcut(name: &str) -> bool {
    SHORTCUTS.iter().any(|(s, _)| *s == name)
}

/// The XPath a shortcut stands for: `meta:web:target-role`, `property`, `status`, ...
/// `None` if `name` is no shortcut or the value does not fit it.
pub(super) fn expand_shortcut(name: &str, value: Option<&str>) -> Option<String> {
    let (_, parts) = SHORTCUTS.iter().find(|(s, _)| *s == name)?;
    let mut args = value
        .map(|v| v.split(':').collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter();
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if !part.contains("@@") {
            out.push_str(part);
            continue;
        }
        match args.next() {
            Some(arg) if !arg.is_empty() => out.push_str(&part.replace("@@", arg)),
            Some(_) => return None,
            // The first part needs its value; later ones are optional.
            None if i == 0 => return None,
            None => return Some(out),
        }
    }
    // Values left over do not fit the shortcut.
    args.next().is_none().then_some(out)
}

/// The shortcut for an XPath (`meta:web:target-role`, `status`), if one stands for it.
pub(super) fn shortcut_of(xpath: &str) -> Option<String> {
    for (name, parts) in SHORTCUTS {
        for n in 1..=parts.len() {
            if let Some(args) = match_parts(&parts[..n], xpath) {
                return Some(if args.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}:{}", args.join(":"))
                });
            }
        }
    }
    None
}

/// Matches `xpath` against the concatenated `parts`; the values of the `@@` holes, one per
/// part (a part with two holes takes the same value twice).
fn match_parts(parts: &[&str], xpath: &str) -> Option<Vec<String>> {
    let mut rest = xpath;
    let mut args = Vec::new();
    for part in parts {
        let mut value: Option<&str> = None;
        let mut pieces = part.split("@@").peekable();
        while let Some(lit) = pieces.next() {
            rest = rest.strip_prefix(lit)?;
            if pieces.peek().is_none() {
                break;
            }
            let len = id_len(rest);
            if len == 0 {
                return None;
            }
            let v = &rest[..len];
            if value.is_some_and(|old| old != v) {
                return None;
            }
            value = Some(v);
            rest = &rest[len..];
        }
        if let Some(v) = value {
            args.push(v.to_string());
        }
    }
    rest.is_empty().then_some(args)
}

/// The length of the id at the start of `s`: `[A-Za-z_][A-Za-z0-9_.-]*`.
fn id_len(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = if i == 0 {
            c.is_ascii_alphabetic() || c == '_'
        } else {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
        };
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_expand_as_crmsh_expands_them() {
        let cases = [
            (
                "meta",
                Some("app1:target-role"),
                "//primitive[@id='app1']/meta_attributes/nvpair[@name='target-role']",
            ),
            (
                "meta",
                Some("web"),
                "//primitive[@id='web']/meta_attributes",
            ),
            (
                "location",
                Some("app1"),
                "//rsc_location[@id='cli-prefer-app1' and @rsc='app1']",
            ),
            ("property", None, "//crm_config/cluster_property_set"),
            (
                "property",
                Some("stonith-enabled"),
                "//crm_config/cluster_property_set/nvpair[@name='stonith-enabled']",
            ),
            ("node", Some("n1"), "//nodes/node[@uname='n1']"),
            (
                "nodeutil",
                Some("n2"),
                "//nodes/node/utilization[@uname='n2']",
            ),
            ("status", None, "/cib/status"),
            ("cib", None, "/cib"),
        ];
        for (name, value, xpath) in cases {
            assert_eq!(
                expand_shortcut(name, value).as_deref(),
                Some(xpath),
                "{name}:{value:?}"
            );
            let back = match value {
                Some(v) => format!("{name}:{v}"),
                None => name.to_string(),
            };
            assert_eq!(shortcut_of(xpath), Some(back));
        }
        assert_eq!(expand_shortcut("meta", None), None);
        assert_eq!(expand_shortcut("status", Some("x")), None);
        assert_eq!(expand_shortcut("meta", Some("a:b:c")), None);
        assert_eq!(shortcut_of("//nodes"), None);
        // Two different ids where the shortcut has one: no shortcut.
        assert_eq!(
            shortcut_of("//rsc_location[@id='cli-prefer-a' and @rsc='b']"),
            None
        );
    }
}
