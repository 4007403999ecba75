//! The statement parser: words in, [`Command`]s out. Resources, nodes and name-value sets
//! are here; constraints and rules in `parse_cons.rs`.

use super::ast::{Command, Elem, FenceTarget, LoadMethod, Located, NvSection, Object};
use super::error::SyntaxError;
use super::lex::{Statement, Word, split};
use super::parse_attrs::make_promotable;
use crate::types::KNOWN_CLASSES;

/// Parses crm text (one or many statements) into commands.
pub fn parse(text: &str) -> Result<Vec<Located<Command>>, SyntaxError> {
    let mut out = Vec::new();
    for st in split(text)? {
        let mut c = parse_statement(&st)?;
        if let Command::Define(o) = &mut c.value {
            attach_comments(o, &st.comments);
        }
        out.push(c);
    }
    Ok(out)
}

/// Parses one statement.
pub fn parse_statement(st: &Statement) -> Result<Located<Command>, SyntaxError> {
    let mut p = Parser {
        st,
        i: 0,
        tail_taken: 0,
    };
    let pos = st.words.first().map(|w| w.pos).unwrap_or(st.end);
    let command = p.command()?;
    p.finish()?;
    Ok(Located {
        pos,
        value: command,
    })
}

/// A cursor over one statement's words.
pub(super) struct Parser<'a> {
    pub(super) st: &'a Statement,
    pub(super) i: usize,
    /// Words taken from the end of the statement (options crmsh reads from the tail).
    pub(super) tail_taken: usize,
}

/// Quotes a word for an error message.
pub(super) fn shown(w: &Word) -> String {
    format!("{:?}", w.text)
}

impl<'a> Parser<'a> {
    pub(super) fn peek(&self) -> Option<&'a Word> {
        self.st.words.get(self.i)
    }

    pub(super) fn remaining(&self) -> usize {
        self.st.words.len() - self.i
    }

    pub(super) fn advance(&mut self) -> Option<&'a Word> {
        let w = self.st.words.get(self.i)?;
        self.i += 1;
        Some(w)
    }

    /// An error at the current word: "found X, expected `expected`".
    pub(super) fn error(&self, expected: impl Into<String>) -> SyntaxError {
        match self.peek() {
            Some(w) => SyntaxError::new(w.pos, shown(w), expected),
            None => SyntaxError::new(self.st.end, "the end of the line", expected),
        }
    }

    /// An error at a word already taken.
    pub(super) fn error_at(&self, w: &Word, expected: impl Into<String>) -> SyntaxError {
        SyntaxError::new(w.pos, shown(w), expected)
    }

    /// True if the current word is the keyword `kw` (unquoted, any case).
    pub(super) fn at_kw(&self, kw: &str) -> bool {
        self.peek()
            .is_some_and(|w| !w.quoted && w.text.eq_ignore_ascii_case(kw))
    }

    pub(super) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Takes the next word, whatever it is.
    pub(super) fn word(&mut self, expected: &str) -> Result<&'a Word, SyntaxError> {
        match self.peek() {
            Some(_) => Ok(self.advance().expect("peeked")),
            None => Err(self.error(expected)),
        }
    }

    /// Takes an object id (`[A-Za-z_][A-Za-z0-9_.-]*`, an XML name without colons).
    pub(super) fn ident(&mut self, what: &str) -> Result<String, SyntaxError> {
        let expected = if what.ends_with(')') {
            what.to_string()
        } else {
            format!("{what} (a letter or _, then letters, digits, _ . -)")
        };
        match self.peek() {
            Some(w) if is_id(&w.text) => {
                self.i += 1;
                Ok(w.text.clone())
            }
            _ => Err(self.error(expected)),
        }
    }

    pub(super) fn finish(&self) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("the end of the statement")),
        }
    }

    fn command(&mut self) -> Result<Command, SyntaxError> {
        let kw = self.word("a command")?;
        let name = if kw.quoted {
            String::new()
        } else {
            kw.text.to_ascii_lowercase()
        };
        let define = |o: Object| Ok(Command::Define(o));
        match name.as_str() {
            "primitive" => define(self.primitive("primitive")?),
            "rsc_template" => define(self.primitive("template")?),
            "group" => define(self.group()?),
            "clone" => define(self.clone("clone")?),
            "ms" | "master" => define(self.clone("ms")?),
            "node" => define(self.node()?),
            "property" => define(self.nvset(NvSection::Property)?),
            "rsc_defaults" => define(self.nvset(NvSection::RscDefaults)?),
            "op_defaults" => define(self.nvset(NvSection::OpDefaults)?),
            "location" => define(Object::Constraint(self.location()?)),
            "colocation" | "collocation" => define(Object::Constraint(self.colocation()?)),
            "order" => define(Object::Constraint(self.order()?)),
            "rsc_ticket" => define(Object::Constraint(self.rsc_ticket()?)),
            "fencing_topology" | "fencing-topology" => define(self.fencing()?),
            "tag" => define(self.tag()?),
            "bundle" => define(self.bundle()?),
            "alert" => define(self.alert()?),
            "role" => define(self.acl_role()?),
            "acl_target" | "user" => define(self.acl_subject("acl_target")?),
            "acl_group" => define(self.acl_subject("acl_group")?),
            "xml" => define(self.xml()?),
            "delete" | "rm" => Ok(Command::Delete(self.ids_to_end("an object id", 1)?)),
            "rename" => {
                let from = self.ident("the id of the object to rename")?;
                let to = self.ident("the new id")?;
                Ok(Command::Rename { from, to })
            }
            "show" => {
                let xml = self.eat_kw("xml");
                let ids = self.ids_to_end("an object id", 0)?;
                Ok(Command::Show { xml, ids })
            }
            "verify" => Ok(Command::Verify),
            "commit" => Ok(Command::Commit {
                force: self.eat_kw("force"),
            }),
            "load" => self.load(),
            "edit" => Ok(Command::Edit(self.ids_to_end("an object id", 0)?)),
            _ => Err(self.error_at(
                kw,
                "a configure command (primitive, group, clone, ms, rsc_template, bundle, \
                 location, colocation, order, rsc_ticket, property, rsc_defaults, op_defaults, \
                 node, fencing_topology, tag, alert, role, acl_target, user, acl_group, xml, \
                 delete, rename, show, verify, commit, load, edit)",
            )),
        }
    }

    /// The rest of the statement as ids (at least `min`).
    fn ids_to_end(&mut self, what: &str, min: usize) -> Result<Vec<String>, SyntaxError> {
        let mut ids = Vec::new();
        while self.peek().is_some() {
            ids.push(self.ident(what)?);
        }
        if ids.len() < min {
            return Err(self.error(what));
        }
        Ok(ids)
    }

    fn load(&mut self) -> Result<Command, SyntaxError> {
        let xml = self.eat_kw("xml");
        let method = if self.eat_kw("update") {
            LoadMethod::Update
        } else if self.eat_kw("replace") {
            LoadMethod::Replace
        } else {
            return Err(self.error("update or replace"));
        };
        let path = self.word("a file name")?.text.clone();
        Ok(Command::Load { method, xml, path })
    }

    // ---- resources -------------------------------------------------------------------

    /// `primitive ID SPEC [description=D] [params ..] [meta ..] [utilization ..] [op ..]...`
    /// (also `rsc_template`, whose element is `template`).
    fn primitive(&mut self, element: &str) -> Result<Object, SyntaxError> {
        let mut e = Elem::new(element).with("id", &self.ident("a resource id")?);
        let spec = self.word("a resource agent ([class:[provider:]]type) or @template")?;
        match spec.text.strip_prefix('@') {
            Some(t) if element == "primitive" && !spec.quoted && is_id(t) => e.set("template", t),
            _ => {
                let (class, provider, kind) = agent_spec(&spec.text)
                    .ok_or_else(|| self.error_at(spec, agent_expectation()))?;
                e.set("class", class);
                if let Some(p) = provider {
                    e.set("provider", p);
                }
                e.set("type", kind);
            }
        }
        self.description(&mut e);
        self.arguments(
            &mut e,
            &[
                ("params", "instance_attributes"),
                ("meta", "meta_attributes"),
                ("utilization", "utilization"),
            ],
            "params",
            true,
        )?;
        Ok(Object::Primitive(e))
    }

    pub(super) fn description(&mut self, e: &mut Elem) {
        if let Some(w) = self.peek()
            && let Some(d) = w.text.strip_prefix("description=")
        {
            e.set("description", d);
            self.i += 1;
        }
    }

    /// `group ID RSC... [description=D] [params ..] [meta ..]`
    fn group(&mut self) -> Result<Object, SyntaxError> {
        let mut elem = Elem::new("group").with("id", &self.ident("a group id")?);
        let mut members: Vec<String> = Vec::new();
        while let Some(w) = self.peek() {
            if w.text.contains('=') || self.at_kw("params") || self.at_kw("meta") {
                break;
            }
            let id = self.ident("a resource id")?;
            if members.contains(&id) {
                return Err(self.error_at(w, "each resource once (it is listed twice)"));
            }
            members.push(id);
        }
        if members.is_empty() {
            return Err(self.error("a resource id (a group needs at least one member)"));
        }
        self.description(&mut elem);
        let sets = &[
            ("params", "instance_attributes"),
            ("meta", "meta_attributes"),
        ];
        self.arguments(&mut elem, sets, "params", false)?;
        Ok(Object::Group { elem, members })
    }

    /// `clone ID RSC [description=D] [params ..] [meta ..]`; `ms` is a promotable clone.
    fn clone(&mut self, kind: &str) -> Result<Object, SyntaxError> {
        let mut elem = Elem::new("clone").with("id", &self.ident("a clone id")?);
        let child = self.ident("the id of the resource to clone")?;
        self.description(&mut elem);
        let sets = &[
            ("params", "instance_attributes"),
            ("meta", "meta_attributes"),
        ];
        self.arguments(&mut elem, sets, "params", false)?;
        if kind == "ms" {
            make_promotable(&mut elem);
        }
        Ok(Object::Clone { elem, child })
    }

    /// `node [ID: | $id=ID] UNAME[:TYPE] [description=D] [attributes ..] [utilization ..]`
    fn node(&mut self) -> Result<Object, SyntaxError> {
        let mut e = Elem::new("node");
        if let Some(id) = self.initial_id() {
            e.set("id", &id);
        }
        let w = self.word("a node name")?;
        let (uname, kind) = match w.text.split_once(':') {
            Some((u, t)) => (u, Some(t)),
            None => (w.text.as_str(), None),
        };
        let valid_kind = kind.is_none_or(|t| ["normal", "member", "ping", "remote"].contains(&t));
        if uname.is_empty() || !valid_kind {
            return Err(self.error_at(
                w,
                "a node name, optionally :normal, :member, :ping or :remote",
            ));
        }
        if e.id().is_none() {
            e.set("id", uname);
        }
        e.set("uname", uname);
        if let Some(t) = kind {
            e.set("type", t);
        }
        self.description(&mut e);
        let sets = &[
            ("attributes", "instance_attributes"),
            ("utilization", "utilization"),
        ];
        self.arguments(&mut e, sets, "attributes", false)?;
        Ok(Object::Node(e))
    }

    /// `ID:` or `$id=ID` at the start of `node` and `property`.
    fn initial_id(&mut self) -> Option<String> {
        let w = self.peek()?;
        let id = if let Some(id) = w.text.strip_prefix("$id=") {
            id
        } else {
            // Node ids may start with a digit (`node 1: node1`).
            let id = w.text.strip_suffix(':')?;
            let valid = !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if w.quoted || !valid {
                return None;
            }
            id
        };
        self.i += 1;
        Some(id.to_string())
    }

    /// `property [ID: | $id=ID] [rule ...] NAME=VALUE...` (and the defaults).
    fn nvset(&mut self, section: NvSection) -> Result<Object, SyntaxError> {
        let name = match section {
            NvSection::Property => "cluster_property_set",
            _ => "meta_attributes",
        };
        let mut set = Elem::new(name);
        if let Some(id) = self.initial_id() {
            set.set("id", &id);
        }
        set.children.extend(self.rules()?);
        let pairs = self.nvpairs(&[], true)?;
        if pairs.is_empty() && set.children.is_empty() {
            return Err(self.error("NAME=VALUE"));
        }
        set.children.extend(pairs);
        Ok(Object::NvSet { section, set })
    }

    /// `fencing_topology [TARGET:|pattern:P|attr:N=V] DEVICES...` (no target: every node).
    fn fencing(&mut self) -> Result<Object, SyntaxError> {
        let mut target = FenceTarget::AllNodes;
        let mut levels = Vec::new();
        while let Some(w) = self.advance() {
            let t = &w.text;
            if let Some(p) = t.strip_prefix("pattern:") {
                target = FenceTarget::Pattern(p.to_string());
            } else if let Some(rest) = t.strip_prefix("attr:") {
                let (name, value) = rest
                    .split_once('=')
                    .ok_or_else(|| self.error_at(w, "attr:NAME=VALUE"))?;
                target = FenceTarget::Attribute {
                    name: name.to_string(),
                    value: value.to_string(),
                };
            } else if let Some(n) = t.strip_suffix(':') {
                target = FenceTarget::Node(n.to_string());
            } else {
                if target == FenceTarget::AllNodes && levels.iter().any(|(t, _)| t != &target) {
                    return Err(self.error_at(w, "a target (NODE:) before each device list"));
                }
                levels.push((target.clone(), t.clone()));
            }
        }
        if levels.is_empty() {
            return Err(self.error("a fencing device"));
        }
        Ok(Object::Fencing(levels))
    }

    /// `tag ID[:] RSC...`
    fn tag(&mut self) -> Result<Object, SyntaxError> {
        let w = self.word("a tag id")?;
        let id = w.text.strip_suffix(':').unwrap_or(&w.text);
        if !is_id(id) {
            return Err(self.error_at(w, "a tag id"));
        }
        let mut e = Elem::new("tag").with("id", id);
        while self.peek().is_some() {
            let r = self.ident("a resource id")?;
            e.children.push(Elem::new("obj_ref").with("id", &r));
        }
        if e.children.is_empty() {
            return Err(self.error("a resource id (a tag needs at least one member)"));
        }
        Ok(Object::Tag(e))
    }

    /// `xml <element ...>`: the XML after the keyword (the lexer keeps it verbatim).
    fn xml(&mut self) -> Result<Object, SyntaxError> {
        let w = self.word("XML text")?;
        let doc = tandem_xml::Document::parse(&w.text).map_err(|e| {
            // The XML parser's position is within the XML text, which starts at `w.pos`
            // and keeps the statement's line breaks.
            let pos = if e.position.line <= 1 {
                super::error::Pos {
                    line: w.pos.line,
                    column: w.pos.column + e.position.column.max(1) as u32 - 1,
                }
            } else {
                super::error::Pos {
                    line: w.pos.line + e.position.line as u32 - 1,
                    column: e.position.column as u32,
                }
            };
            let msg = e.message.strip_prefix("found ").unwrap_or(&e.message);
            match msg.split_once(", expected ") {
                Some((found, expected)) => SyntaxError::new(pos, found, expected),
                None => SyntaxError::new(pos, "malformed XML", msg),
            }
        })?;
        let root = doc
            .root()
            .ok_or_else(|| SyntaxError::new(w.pos, "no element", "one XML element"))?;
        Ok(Object::Xml(super::apply::elem_from_doc(&doc, root)))
    }
}

/// True for an id crmsh accepts: `[A-Za-z_][A-Za-z0-9_.-]*`.
pub fn is_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn agent_expectation() -> String {
    format!(
        "a resource agent [class:[provider:]]type with class one of {} (a provider only with ocf)",
        KNOWN_CLASSES.join(", ")
    )
}

/// Resolves `[class:[provider:]]type` as crmsh does: a bare type and `ocf:type` are OCF
/// agents of the `heartbeat` provider.
pub fn agent_spec(spec: &str) -> Option<(&str, Option<&str>, &str)> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
    };
    // Types may have a directory part (`stonith:external/sbd`).
    let valid_type = |s: &str| s.split('/').all(valid);
    let parts: Vec<&str> = spec.split(':').collect();
    let (class, provider, kind) = match parts.as_slice() {
        [t] => ("ocf", Some("heartbeat"), *t),
        [c, t] if *c == "ocf" => ("ocf", Some("heartbeat"), *t),
        [c, t] => (*c, None, *t),
        [c, p, t] if *c == "ocf" && valid(p) => (*c, Some(*p), *t),
        _ => return None,
    };
    (KNOWN_CLASSES.contains(&class) && valid_type(kind)).then_some((class, provider, kind))
}

/// A score word (without its colon) as the attribute it becomes: `inf`, `-inf`, `100`,
/// `mandatory` are `score`; anything else names a node attribute (`score-attribute`).
pub(super) fn score_attr(score: &str) -> (&'static str, String) {
    match score.to_ascii_lowercase().as_str() {
        "advisory" => return ("score", "0".to_string()),
        "mandatory" => return ("score", "INFINITY".to_string()),
        _ => {}
    }
    let body = score.strip_prefix(['+', '-']).unwrap_or(score);
    let sign = &score[..score.len() - body.len()];
    if matches!(body, "inf" | "infinity" | "INF" | "INFINITY") {
        return ("score", format!("{sign}INFINITY"));
    }
    if !body.is_empty() && body.chars().all(|c| c.is_ascii_digit()) {
        return ("score", score.to_string());
    }
    ("score-attribute", score.to_string())
}

/// Parses a whole file of definitions (for `load`), refusing other commands.
pub fn parse_definitions(text: &str) -> Result<Vec<Located<Object>>, SyntaxError> {
    let mut out = Vec::new();
    for st in split(text)? {
        let c = parse_statement(&st)?;
        let pos = c.pos;
        match c.value {
            Command::Define(mut o) => {
                attach_comments(&mut o, &st.comments);
                out.push(Located { pos, value: o });
            }
            _ => {
                let w = &st.words[0];
                return Err(SyntaxError::new(
                    w.pos,
                    shown(w),
                    "an object definition (a file to load holds definitions only)",
                ));
            }
        }
    }
    Ok(out)
}

/// Keeps the comment lines written before a definition inside its element, as crmsh does.
pub fn attach_comments(o: &mut Object, comments: &[String]) {
    let e = match o {
        Object::Node(e)
        | Object::Primitive(e)
        | Object::Group { elem: e, .. }
        | Object::Clone { elem: e, .. }
        | Object::Constraint(e)
        | Object::Tag(e)
        | Object::Xml(e)
        | Object::Bundle(e)
        | Object::Alert(e)
        | Object::Acl(e)
        | Object::NvSet { set: e, .. } => e,
        Object::Fencing(_) => return,
    };
    e.comments.extend(comments.iter().cloned());
}
