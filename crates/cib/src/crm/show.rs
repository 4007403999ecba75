//! The configuration as crm text, as `crm configure show` prints it: one object per
//! statement, sorted by kind then id; the parts of a statement joined by ` \`, a newline and
//! a tab; values quoted only when they hold more than letters, digits, `_`, `.` and `-`;
//! generated ids left out (they come back the same when the text is loaded).
//!
//! Nothing is lost: an id that loading the text would not give back is written (`$id=`,
//! `$ID:NAME=VALUE`, `id=` in an operation), and an object whose text does not load back to
//! exactly its XML (see `lossless.rs`) is shown in the `xml` form, with a container's
//! members inside it.

use std::collections::BTreeSet;

use tandem_xml::{Document, NodeId, NodeKind};

use super::ids::IdSet;
use super::lossless;
use super::objects::{ObjectKind, ObjectRef, find_object, sorted_objects};

/// Shows the whole configuration, or the named objects (in `show` order). Unknown ids are
/// returned as the error. The members of a container shown in the `xml` form are left out
/// (they are in its XML) unless the container is not shown.
pub fn show(doc: &Document, ids: &[String]) -> Result<String, String> {
    let objects = select(doc, ids)?;
    let ctx = Context::of(doc);
    let shown: Vec<lossless::Shown> = objects
        .iter()
        .map(|o| lossless::render(doc, o, &ctx))
        .collect();
    let in_xml: Vec<NodeId> = objects
        .iter()
        .zip(&shown)
        .filter(|(_, s)| s.xml)
        .map(|(o, _)| o.node)
        .collect();
    let mut out = String::new();
    for (o, s) in objects.iter().zip(&shown) {
        let inside = |&x: &NodeId| x != o.node && doc.is_ancestor_or_self(x, o.node);
        if in_xml.iter().any(inside) {
            continue;
        }
        out.push_str(&s.text);
        out.push('\n');
    }
    Ok(out)
}

/// What rendering needs from the whole document, computed once per `show`.
pub(super) struct Context {
    /// Every id of the configuration.
    pub ids: IdSet,
}

impl Context {
    pub fn of(doc: &Document) -> Context {
        Context {
            ids: IdSet::of(doc),
        }
    }
}

/// The selected objects, sorted; an unknown id is the error.
fn select(doc: &Document, ids: &[String]) -> Result<Vec<ObjectRef>, String> {
    let all = sorted_objects(doc);
    if ids.is_empty() {
        return Ok(all);
    }
    for id in ids {
        if find_object(doc, id).is_none() {
            return Err(id.clone());
        }
    }
    Ok(all
        .into_iter()
        .filter(|o| {
            ids.iter().any(|id| {
                *id == o.id || (o.kind == ObjectKind::Node && doc.attr(o.node, "uname") == Some(id))
            })
        })
        .collect())
}

/// The configuration (or the named objects) as XML: a `<cib>` with the CIB's own attributes
/// around the configuration, as `show xml` prints it.
pub fn show_xml(doc: &Document, ids: &[String]) -> Result<String, String> {
    let root = doc.root().ok_or_else(String::new)?;
    let mut out = Document::new();
    let cib = out.create_element("cib");
    for (k, v) in doc.attrs(root) {
        out.set_attr(cib, k, v);
    }
    out.append_child(out.document_node(), cib);
    let conf = out.create_element("configuration");
    out.append_child(cib, conf);
    let Some(src_conf) = doc.child_named(root, "configuration") else {
        return Ok(out.to_pretty_string());
    };
    if ids.is_empty() {
        for s in doc.elements(src_conf) {
            let c = out.import(doc, s);
            out.append_child(conf, c);
        }
        return Ok(out.to_pretty_string());
    }
    let objects = select(doc, ids)?;
    for s in doc.elements(src_conf) {
        let wanted: Vec<NodeId> = objects
            .iter()
            .filter(|o| doc.is_ancestor_or_self(s, o.node))
            .map(|o| o.node)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        if wanted == [s] {
            let c = out.import(doc, s);
            out.append_child(conf, c);
            continue;
        }
        let sec = out.create_element(doc.name(s));
        out.append_child(conf, sec);
        for w in wanted {
            let c = out.import(doc, w);
            out.append_child(sec, c);
        }
    }
    Ok(out.to_pretty_string())
}

/// One object's text (comments first, then the statement), without a final newline.
pub fn show_object(doc: &Document, o: &ObjectRef) -> String {
    lossless::render(doc, o, &Context::of(doc)).text
}

/// The crm statement for an object, printing the ids of the elements in `explicit`; `None`
/// for what the crm syntax cannot express.
pub(super) fn crm_text(
    doc: &Document,
    o: &ObjectRef,
    explicit: &BTreeSet<NodeId>,
) -> Option<String> {
    let r = Render { doc, explicit };
    let parts = match o.kind {
        ObjectKind::Node => r.node(o.node),
        ObjectKind::Primitive | ObjectKind::Template => r.primitive(o.node, o.kind),
        ObjectKind::Group | ObjectKind::Clone | ObjectKind::Ms => r.container(o.node, o.kind),
        ObjectKind::Location => r.location(o.node),
        ObjectKind::Colocation | ObjectKind::Order | ObjectKind::Ticket => {
            r.simple_constraint(o.node, o.kind)
        }
        ObjectKind::Tag => Some(vec![r.tag(o.node)]),
        ObjectKind::Fencing => Some(r.fencing(o.node)),
        ObjectKind::Property | ObjectKind::RscDefaults | ObjectKind::OpDefaults => {
            r.nvset_object(o.node, o.kind)
        }
        ObjectKind::Bundle => r.bundle(o.node),
        ObjectKind::Alert => r.alert(o.node),
        ObjectKind::AclRole => r.acl_role(o.node),
        ObjectKind::AclTarget | ObjectKind::AclGroup => r.acl_subject(o.node, o.kind),
        ObjectKind::AclUser => None,
    }?;
    Some(with_comments(doc, o.node, parts.join(" \\\n\t")))
}

/// The `xml` form of an object: what it is, exactly (an `op_defaults` set inside
/// `<op_defaults>`, so that it does not read back as `rsc_defaults`).
pub(super) fn xml_text(doc: &Document, o: &ObjectRef) -> String {
    let text = if o.kind == ObjectKind::OpDefaults {
        let mut wrapped = Document::new();
        let top = wrapped.create_element("op_defaults");
        wrapped.append_child(wrapped.document_node(), top);
        let set = wrapped.import(doc, o.node);
        wrapped.append_child(top, set);
        wrapped.node_to_pretty_string(top)
    } else {
        doc.node_to_pretty_string(o.node)
    };
    // The last line break is the statement's end; every other one continues it.
    format!("xml {}", text.trim_end_matches('\n').replace('\n', " \\\n"))
}

/// Comments directly inside the object come first, as `#` lines.
fn with_comments(doc: &Document, n: NodeId, body: String) -> String {
    let comments: Vec<String> = doc
        .children(n)
        .filter_map(|c| match doc.kind(c) {
            // crmsh's form: a comment that does not start with `#` gets `# ` in front.
            NodeKind::Comment(t) if t.trim().starts_with('#') => Some(t.trim().to_string()),
            NodeKind::Comment(t) => Some(format!("# {}", t.trim())),
            _ => None,
        })
        .collect();
    if comments.is_empty() {
        body
    } else {
        format!("{}\n{body}", comments.join("\n"))
    }
}

/// True for a value crmsh prints without quotes.
pub fn needs_no_quotes(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A value as crmsh prints it: bare, or in double quotes with inner quotes escaped.
pub fn quote(v: &str) -> String {
    if needs_no_quotes(v) {
        v.to_string()
    } else {
        format!("\"{}\"", v.replace('"', "\\\""))
    }
}

pub(super) fn nvpair_text(name: &str, value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{name}={}", quote(v)),
        None => name.to_string(),
    }
}

/// `INFINITY` as crmsh writes scores (`inf`, `-inf`).
fn score_text(doc: &Document, n: NodeId) -> String {
    match doc.attr(n, "score") {
        Some(s) if !s.is_empty() => s.replace("INFINITY", "inf"),
        _ => doc.attr(n, "score-attribute").unwrap_or("").to_string(),
    }
}

pub(super) struct Render<'d> {
    pub doc: &'d Document,
    /// Elements whose id loading would not give back: shown.
    pub explicit: &'d BTreeSet<NodeId>,
}

impl Render<'_> {
    pub fn attr(&self, n: NodeId, name: &str) -> Option<&str> {
        self.doc.attr(n, name)
    }

    /// The id of `n` if the text must say it: loading would not give it back. (crmsh also
    /// shows the ids that statements of the same session referred to; a fresh `show`,
    /// like this one, shows none of those.)
    pub fn shown_id(&self, n: NodeId) -> Option<&str> {
        self.attr(n, "id").filter(|_| self.explicit.contains(&n))
    }

    pub fn description(&self, n: NodeId, parts: &mut Vec<String>) {
        if let Some(d) = self.attr(n, "description") {
            parts.push(nvpair_text("description", Some(d)));
        }
    }

    fn node(&self, n: NodeId) -> Option<Vec<String>> {
        let id = self.attr(n, "id").unwrap_or("");
        let uname = self.attr(n, "uname").unwrap_or(id);
        let mut head = "node".to_string();
        if id != uname {
            if needs_no_quotes(id) {
                head.push_str(&format!(" {id}:"));
            } else {
                head.push_str(&format!(" $id=\"{id}\""));
            }
        }
        head.push(' ');
        head.push_str(uname);
        // crmsh leaves out `:normal`; written out, it reads back as it was.
        if let Some(t) = self.attr(n, "type") {
            head.push(':');
            head.push_str(t);
        }
        let mut parts = vec![head];
        self.description(n, &mut parts);
        for c in self.doc.elements(n) {
            match self.doc.name(c) {
                "instance_attributes" => parts.push(self.set_line("attributes", c)),
                "utilization" => parts.push(self.set_line("utilization", c)),
                _ => return None,
            }
        }
        Some(parts)
    }

    fn agent(&self, n: NodeId) -> String {
        let class = self.attr(n, "class");
        let provider = self.attr(n, "provider");
        let kind = self.attr(n, "type").unwrap_or("");
        // crmsh leaves out class and provider for OCF agents of the heartbeat provider.
        let short = (class.is_none() && provider.is_none())
            || (class == Some("ocf") && provider.is_none())
            || provider == Some("heartbeat");
        if short {
            return kind.to_string();
        }
        let mut s = String::new();
        for part in [class, provider].into_iter().flatten() {
            s.push_str(part);
            s.push(':');
        }
        s.push_str(kind);
        s
    }

    fn primitive(&self, n: NodeId, kind: ObjectKind) -> Option<Vec<String>> {
        let id = self.attr(n, "id").unwrap_or("");
        let spec = match self
            .attr(n, "template")
            .filter(|_| kind == ObjectKind::Primitive)
        {
            Some(t) => format!("@{t}"),
            None => self.agent(n),
        };
        let mut parts = vec![format!("{} {id} {spec}", kind.keyword())];
        self.description(n, &mut parts);
        for c in self.doc.elements(n) {
            match self.doc.name(c) {
                "instance_attributes" => parts.push(self.set_line("params", c)),
                "meta_attributes" => parts.push(self.set_line("meta", c)),
                "utilization" => parts.push(self.set_line("utilization", c)),
                "operations" => parts.extend(self.operations(c)?),
                _ => return None,
            }
        }
        Some(parts)
    }

    fn operations(&self, ops: NodeId) -> Option<Vec<String>> {
        let mut parts = Vec::new();
        let mut head = String::new();
        if let Some(id) = self.attr(ops, "id") {
            head = format!("$id={}", quote(id));
        }
        if let Some(r) = self.attr(ops, "id-ref") {
            head = format!("{head} $id-ref={}", quote(r));
        }
        if !head.is_empty() {
            parts.push(format!("operations {head}"));
        }
        for op in self.doc.elements(ops) {
            if self.doc.name(op) != "op" {
                return None;
            }
            let mut line = format!("op {}", self.attr(op, "name").unwrap_or(""));
            for (k, v) in self.doc.attrs(op) {
                if k != "name" && k != "id" {
                    line.push(' ');
                    line.push_str(&nvpair_text(k, Some(v)));
                }
            }
            if let Some(id) = self.attr(op, "id").filter(|_| self.explicit.contains(&op)) {
                line.push(' ');
                line.push_str(&nvpair_text("id", Some(id)));
            }
            parts.push(line);
            for c in self.doc.elements(op) {
                match self.doc.name(c) {
                    "instance_attributes" => parts.push(self.set_line("op_params", c)),
                    "meta_attributes" => parts.push(self.set_line("op_meta", c)),
                    _ => return None,
                }
            }
        }
        Some(parts)
    }

    fn container(&self, n: NodeId, kind: ObjectKind) -> Option<Vec<String>> {
        let id = self.attr(n, "id").unwrap_or("");
        let members: Vec<&str> = self
            .doc
            .elements(n)
            .filter(|&c| super::objects::is_resource(self.doc, c))
            .map(|c| self.attr(c, "id").unwrap_or(""))
            .collect();
        let mut parts = vec![format!("{} {id} {}", kind.keyword(), members.join(" "))];
        self.description(n, &mut parts);
        for c in self.doc.elements(n) {
            match self.doc.name(c) {
                "instance_attributes" => parts.push(self.set_line("params", c)),
                "meta_attributes" => parts.push(self.set_line("meta", c)),
                _ if super::objects::is_resource(self.doc, c) => {}
                _ => return None,
            }
        }
        Some(parts)
    }

    /// `KEYWORD [$id=ID] [SCORE:] [rule ...] NAME=VALUE...` for one attribute set.
    pub(super) fn set_line(&self, keyword: &str, set: NodeId) -> String {
        let mut s = format!("{keyword} ");
        if let Some(id) = self.shown_id(set) {
            s.push_str(&format!("{} ", nvpair_text("$id", Some(id))));
        } else if let Some(r) = self.attr(set, "id-ref") {
            s.push_str(&format!("{} ", nvpair_text("$id-ref", Some(r))));
        }
        if let Some(score) = self.attr(set, "score") {
            s.push_str(&format!("{score}: "));
        }
        for c in self.doc.elements(set) {
            if self.doc.name(c) == "rule" {
                s.push_str(&format!("rule {} ", self.rule(c)));
            }
        }
        for c in self.doc.elements(set) {
            if self.doc.name(c) == "nvpair" {
                s.push_str(&self.nvpair(c));
                s.push(' ');
            }
        }
        s.truncate(s.trim_end_matches(' ').len());
        s
    }

    fn nvpair(&self, n: NodeId) -> String {
        let name = self.attr(n, "name");
        if let Some(r) = self.attr(n, "id-ref") {
            return match name {
                Some(name) => format!("@{r}:{name}"),
                None => format!("@{r}"),
            };
        }
        let text = nvpair_text(name.unwrap_or(""), self.attr(n, "value"));
        match self.shown_id(n) {
            Some(id) => format!("${id}:{text}"),
            None => text,
        }
    }

    fn rule(&self, n: NodeId) -> String {
        let mut s = Vec::new();
        if let Some(id) = self.shown_id(n) {
            s.push(nvpair_text("$id", Some(id)));
        } else if let Some(r) = self.attr(n, "id-ref") {
            return nvpair_text("$id-ref", Some(r));
        }
        if let Some(role) = self.attr(n, "role") {
            s.push(nvpair_text("$role", Some(role)));
        }
        if self.attr(n, "score") != Some("INFINITY") {
            let score = score_text(self.doc, n);
            if !score.is_empty() {
                s.push(format!("{score}:"));
            }
        }
        let op = self.attr(n, "boolean-op").unwrap_or("and");
        let exprs: Vec<String> = self
            .doc
            .elements(n)
            .filter_map(|c| match self.doc.name(c) {
                "expression" => Some(self.expression(c)),
                "date_expression" => Some(self.date_expression(c)),
                _ => None,
            })
            .collect();
        s.push(exprs.join(&format!(" {op} ")));
        s.join(" ")
    }

    fn expression(&self, n: NodeId) -> String {
        let mut op = self.attr(n, "operation").unwrap_or("").to_string();
        if let Some(t) = self.attr(n, "type") {
            op = format!("{t}:{op}");
        }
        let attribute = self.attr(n, "attribute").unwrap_or("");
        match self.attr(n, "value").filter(|v| !v.is_empty()) {
            None => format!("{op} {attribute}"),
            Some(v) => match self.attr(n, "value-source").filter(|s| *s != "literal") {
                Some(src) => format!("{attribute} {op} {src}{{{v}}}"),
                None => format!("{attribute} {op} {v}"),
            },
        }
    }

    fn date_expression(&self, n: NodeId) -> String {
        let op = self.attr(n, "operation").unwrap_or("");
        let mut l = vec![
            "date".to_string(),
            match op {
                "in_range" => "in",
                "date_spec" => "spec",
                o => o,
            }
            .to_string(),
        ];
        if op == "lt" || op == "gt" {
            let v = self.attr(n, if op == "lt" { "end" } else { "start" });
            l.push(quote(v.unwrap_or("")));
        } else {
            if op == "in_range" {
                for k in ["start", "end"] {
                    if let Some(v) = self.attr(n, k) {
                        l.push(nvpair_text(k, Some(v)));
                    }
                }
            }
            for c in self.doc.elements(n) {
                if matches!(self.doc.name(c), "duration" | "date_spec") {
                    for (k, v) in self.doc.attrs(c) {
                        if k != "id" {
                            l.push(nvpair_text(k, Some(v)));
                        }
                    }
                }
            }
        }
        l.join(" ")
    }

    fn location(&self, n: NodeId) -> Option<Vec<String>> {
        let id = self.attr(n, "id").unwrap_or("");
        let rsc = if let Some(r) = self.attr(n, "rsc") {
            r.to_string()
        } else if let Some(p) = self.attr(n, "rsc-pattern") {
            format!("/{p}/")
        } else if self.doc.child_named(n, "resource_set").is_some() {
            format!("{{ {} }}", self.sets(n, ObjectKind::Location).join(" "))
        } else {
            return None;
        };
        let mut head = format!("location {id} {rsc}");
        for a in ["role", "resource-discovery"] {
            if let Some(v) = self.attr(n, a) {
                head.push_str(&format!(" {a}={v}"));
            }
        }
        if let Some(node) = self.attr(n, "node") {
            head.push_str(&format!(" {}: {node}", score_text(self.doc, n)));
        }
        let mut parts = vec![head];
        for c in self.doc.elements(n) {
            match self.doc.name(c) {
                "rule" => parts.push(format!("rule {}", self.rule(c))),
                "resource_set" => {}
                _ => return None,
            }
        }
        Some(parts)
    }

    fn simple_constraint(&self, n: NodeId, kind: ObjectKind) -> Option<Vec<String>> {
        let id = self.attr(n, "id").unwrap_or("");
        let mut col = if self.doc.child_named(n, "resource_set").is_some() {
            self.sets(n, kind)
        } else {
            let pair: &[(&str, &str)] = match kind {
                ObjectKind::Colocation => &[("rsc", "role"), ("with-rsc", "role")],
                ObjectKind::Order => &[("first", "action"), ("then", "action")],
                _ => &[("rsc", "role")],
            };
            pair.iter()
                .map(|(a, q)| {
                    let r = self.attr(n, a).unwrap_or("");
                    let qual = self
                        .attr(n, &format!("{a}-{q}"))
                        .or_else(|| self.attr(n, &format!("{a}-instance")));
                    match qual {
                        Some(x) => format!("{r}:{x}"),
                        None => r.to_string(),
                    }
                })
                .collect()
        };
        let head = match kind {
            ObjectKind::Ticket => {
                if let Some(lp) = self.attr(n, "loss-policy") {
                    col.push(format!("loss-policy={lp}"));
                }
                let ticket = self.attr(n, "ticket").unwrap_or("");
                format!("rsc_ticket {id} {ticket}: {}", col.join(" "))
            }
            _ => {
                let mut score = score_text(self.doc, n);
                if kind == ObjectKind::Order {
                    if score.is_empty() {
                        score = self.attr(n, "kind").unwrap_or("").to_string();
                    }
                    if let Some(s) = self.attr(n, "symmetrical") {
                        col.push(format!("symmetrical={s}"));
                    }
                } else if let Some(a) = self.attr(n, "node-attribute") {
                    col.push(format!("node-attribute={a}"));
                }
                let score = if score.is_empty() {
                    String::new()
                } else {
                    format!("{score}: ")
                };
                format!("{} {id} {score}{}", kind.keyword(), col.join(" "))
            }
        };
        Some(vec![head])
    }

    /// Resource sets as crmsh writes them: `( a b )` for unordered sets, `[ a b ]` for sets
    /// that need only some members, `_rsc_set_` in front when the sets would otherwise read
    /// as a plain two-resource constraint.
    fn sets(&self, n: NodeId, kind: ObjectKind) -> Vec<String> {
        let mut col = Vec::new();
        let mut count = 0;
        let bool_of = |v: Option<&str>| v.and_then(crate::types::parse_bool);
        let (mut last_seq, mut last_req) = (None, None);
        for s in self.doc.children_named(n, "resource_set") {
            let seq = bool_of(self.attr(s, "sequential"));
            let req = bool_of(self.attr(s, "require-all"));
            if req == Some(false) {
                col.push("[".to_string());
            } else if seq == Some(false) {
                col.push("(".to_string());
            }
            let q = if kind == ObjectKind::Order {
                self.attr(s, "action")
            } else {
                self.attr(s, "role")
            };
            for r in self.doc.children_named(s, "resource_ref") {
                let id = self.attr(r, "id").unwrap_or("");
                col.push(match q {
                    Some(q) => format!("{id}:{q}"),
                    None => id.to_string(),
                });
                count += 1;
            }
            if req == Some(false) {
                if seq != Some(false) {
                    col.push("sequential=true".to_string());
                }
                col.push("]".to_string());
            } else if seq == Some(false) {
                col.push(")".to_string());
            }
            (last_seq, last_req) = (seq, req);
        }
        let seq_all = last_seq != Some(false) && last_req != Some(false);
        let ticket = kind == ObjectKind::Ticket;
        if kind != ObjectKind::Location
            && ((seq_all && !ticket && count <= 2) || (ticket && count <= 1))
        {
            col.insert(0, "_rsc_set_".to_string());
        }
        col
    }

    fn tag(&self, n: NodeId) -> String {
        let mut s = format!("tag {}", self.attr(n, "id").unwrap_or(""));
        for c in self.doc.elements(n) {
            s.push(' ');
            s.push_str(self.attr(c, "id").unwrap_or(""));
        }
        s
    }

    fn fencing(&self, n: NodeId) -> Vec<String> {
        // Levels grouped by target in document order, each target's levels by index.
        let mut targets: Vec<(String, Vec<(u64, String)>)> = Vec::new();
        for l in self.doc.children_named(n, "fencing-level") {
            let target = if let Some(p) = self.attr(l, "target-pattern") {
                format!("pattern:{p}")
            } else if let Some(a) = self.attr(l, "target-attribute") {
                format!("attr:{a}={}", self.attr(l, "target-value").unwrap_or(""))
            } else {
                format!("{}:", self.attr(l, "target").unwrap_or(""))
            };
            let index = self
                .attr(l, "index")
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            let devices = self.attr(l, "devices").unwrap_or("").to_string();
            match targets.iter_mut().find(|(t, _)| *t == target) {
                Some((_, levels)) => levels.push((index, devices)),
                None => targets.push((target, vec![(index, devices)])),
            }
        }
        let lines: Vec<(String, String)> = targets
            .into_iter()
            .map(|(t, mut levels)| {
                levels.sort_by_key(|(i, _)| *i);
                let devs: Vec<String> = levels.into_iter().map(|(_, d)| d).collect();
                (t, devs.join(" "))
            })
            .collect();
        let node_count = self
            .doc
            .root()
            .and_then(|r| self.doc.descend(r, &["configuration", "nodes"]))
            .map(|ns| self.doc.children_named(ns, "node").count())
            .unwrap_or(0);
        let same = lines.windows(2).all(|w| w[0].1 == w[1].1);
        if !lines.is_empty() && same && lines.len() == node_count {
            return vec![format!("fencing_topology {}", lines[0].1)];
        }
        let mut parts = vec!["fencing_topology".to_string()];
        parts.extend(lines.into_iter().map(|(t, d)| format!("{t} {d}")));
        parts
    }

    fn nvset_object(&self, n: NodeId, kind: ObjectKind) -> Option<Vec<String>> {
        let id = self.attr(n, "id").unwrap_or("");
        let head = if needs_no_quotes(id) {
            format!("{id}:")
        } else {
            format!("$id=\"{id}\"")
        };
        let mut parts = vec![format!("{} {head}", kind.keyword())];
        for c in self.doc.elements(n) {
            match self.doc.name(c) {
                "rule" => parts.push(format!("rule {}", self.rule(c))),
                "nvpair" => parts.push(self.nvpair(c)),
                _ => return None,
            }
        }
        Some(parts)
    }
}
