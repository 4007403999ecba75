//! The corosync.conf syntax: `key: value` lines and `name { ... }` sections, `#` comments.
//!
//! Corosync's own parser is line based. Tutorials sometimes show a whole file flattened onto
//! one line (`totem { version: 2 cluster_name: c } nodelist { ... }`), so this parser works on
//! tokens instead and ends a value at a newline, a `}` or the next `identifier:`; on ordinary
//! one-option-per-line files both readings agree.

use super::ConfigError;

/// Deepest section nesting accepted (corosync uses 3: `nodelist { node { } }`,
/// `quorum { device { net { } } }`); deeper input is certainly not a corosync.conf.
pub const MAX_DEPTH: usize = 8;
/// Largest file accepted; real files are a few kilobytes.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

/// One `key: value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A `name { ... }` block (the file itself is an unnamed section).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
    pub sections: Vec<Section>,
}

impl Section {
    /// The last value given for `key` (corosync keeps the last one too).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Sub-sections called `name`, in file order.
    pub fn sections_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections.iter().filter(move |s| s.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Colon,
    Open,
    Close,
    Newline,
}

fn tokenize(file: &str, text: &str) -> Result<Vec<(Tok, usize)>, ConfigError> {
    let mut toks = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let trimmed = raw.trim_start();
        if trimmed.starts_with('#') {
            toks.push((Tok::Newline, line));
            continue;
        }
        let mut word = String::new();
        let flush = |word: &mut String, toks: &mut Vec<(Tok, usize)>| {
            if !word.is_empty() {
                toks.push((Tok::Word(std::mem::take(word)), line));
            }
        };
        let chars: Vec<char> = raw.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '{' => {
                    flush(&mut word, &mut toks);
                    toks.push((Tok::Open, line));
                }
                '}' => {
                    flush(&mut word, &mut toks);
                    toks.push((Tok::Close, line));
                }
                ':' if word_is_key(&word) && chars.get(i + 1).is_none_or(|n| n.is_whitespace()) => {
                    flush(&mut word, &mut toks);
                    toks.push((Tok::Colon, line));
                }
                c if c.is_whitespace() => flush(&mut word, &mut toks),
                '\0' => {
                    return Err(ConfigError::Syntax {
                        file: file.to_string(),
                        line,
                        message: "NUL byte in configuration".into(),
                    });
                }
                c => word.push(c),
            }
            i += 1;
        }
        flush(&mut word, &mut toks);
        toks.push((Tok::Newline, line));
    }
    Ok(toks)
}

fn word_is_key(w: &str) -> bool {
    let mut chars = w.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// Parses corosync.conf text into a tree of sections; `file` names the source in errors.
pub fn parse(file: &str, text: &str) -> Result<Section, ConfigError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::Syntax {
            file: file.to_string(),
            line: 0,
            message: format!("file is larger than {MAX_CONFIG_BYTES} bytes"),
        });
    }
    let toks = tokenize(file, text)?;
    let mut stack: Vec<Section> = vec![Section::default()];
    let mut i = 0;
    let err = |line: usize, message: String| ConfigError::Syntax {
        file: file.to_string(),
        line,
        message,
    };
    while i < toks.len() {
        let (tok, line) = &toks[i];
        match tok {
            Tok::Newline => i += 1,
            Tok::Close => {
                if stack.len() == 1 {
                    return Err(err(*line, "'}' without a matching '{'".into()));
                }
                let done = stack.pop().expect("stack holds more than the root");
                stack.last_mut().expect("root stays").sections.push(done);
                i += 1;
            }
            Tok::Open => return Err(err(*line, "'{' without a section name".into())),
            Tok::Colon => return Err(err(*line, "':' without an option name".into())),
            Tok::Word(w) => match toks.get(i + 1).map(|t| &t.0) {
                Some(Tok::Open) => {
                    if stack.len() > MAX_DEPTH {
                        return Err(err(
                            *line,
                            format!("sections nested deeper than {MAX_DEPTH}"),
                        ));
                    }
                    stack.push(Section {
                        name: w.clone(),
                        line: *line,
                        ..Section::default()
                    });
                    i += 2;
                }
                Some(Tok::Colon) => {
                    let (value, next) = read_value(&toks, i + 2);
                    stack.last_mut().expect("root stays").entries.push(Entry {
                        key: w.clone(),
                        value,
                        line: *line,
                    });
                    i = next;
                }
                _ => {
                    return Err(err(
                        *line,
                        format!("expected 'key: value' or 'section {{', found '{w}'"),
                    ));
                }
            },
        }
    }
    if stack.len() > 1 {
        let open = stack.last().expect("non-empty");
        return Err(err(
            open.line,
            format!("section '{}' is not closed (missing '}}')", open.name),
        ));
    }
    Ok(stack.pop().expect("root"))
}

/// Collects value words up to the end of the line, a `}`, or the next `key:`.
fn read_value(toks: &[(Tok, usize)], mut i: usize) -> (String, usize) {
    let mut words: Vec<&str> = Vec::new();
    while let Some((tok, _)) = toks.get(i) {
        match tok {
            Tok::Word(w) => {
                if matches!(
                    toks.get(i + 1),
                    Some((Tok::Colon, _)) | Some((Tok::Open, _))
                ) {
                    break;
                }
                words.push(w);
                i += 1;
            }
            Tok::Colon => {
                // A colon after a value word that is not a key (`a: b: c`): keep it literally.
                words.push(":");
                i += 1;
            }
            Tok::Newline => {
                i += 1;
                break;
            }
            Tok::Open | Tok::Close => break,
        }
    }
    (words.join(" "), i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sections_and_comments() {
        let s = parse(
            "c.conf",
            "# comment\ntotem {\n  version: 2\n  interface {\n    linknumber: 0\n  }\n}\nquorum {\n auto_tie_breaker_node: 1 3 5\n}\n",
        )
        .unwrap();
        let totem = s.sections_named("totem").next().unwrap();
        assert_eq!(totem.get("version").unwrap().value, "2");
        assert_eq!(totem.get("version").unwrap().line, 3);
        let iface = totem.sections_named("interface").next().unwrap();
        assert_eq!(iface.get("linknumber").unwrap().value, "0");
        let q = s.sections_named("quorum").next().unwrap();
        assert_eq!(q.get("auto_tie_breaker_node").unwrap().value, "1 3 5");
    }

    #[test]
    fn flattened_one_line_file() {
        let s = parse(
            "c.conf",
            "totem { version: 2 secauth: off cluster_name: mycluster transport: udpu } nodelist { node { ring0_addr: n1 nodeid: 1 } }",
        )
        .unwrap();
        let totem = s.sections_named("totem").next().unwrap();
        assert_eq!(totem.get("cluster_name").unwrap().value, "mycluster");
        assert_eq!(totem.get("transport").unwrap().value, "udpu");
        let node = s
            .sections_named("nodelist")
            .next()
            .unwrap()
            .sections_named("node")
            .next()
            .unwrap();
        assert_eq!(node.get("ring0_addr").unwrap().value, "n1");
        assert_eq!(node.get("nodeid").unwrap().value, "1");
    }

    #[test]
    fn ipv6_values_keep_their_colons() {
        let s = parse("c", "nodelist {\n node {\n ring0_addr: fe80::1\n }\n}\n").unwrap();
        let node = s.sections[0].sections_named("node").next().unwrap();
        assert_eq!(node.get("ring0_addr").unwrap().value, "fe80::1");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("f.conf", "totem {\n version: 2\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.conf:1: section 'totem' is not closed (missing '}')"
        );
        let e = parse("f.conf", "totem {\n}\n}\n").unwrap_err();
        assert_eq!(e.to_string(), "f.conf:3: '}' without a matching '{'");
        let e = parse("f.conf", "totem {\n bogus\n}\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.conf:2: expected 'key: value' or 'section {', found 'bogus'"
        );
    }
}
