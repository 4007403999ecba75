//! Constraints (`location`, `colocation`, `order`, `rsc_ticket`), resource sets and rule
//! expressions.

use super::ast::Elem;
use super::error::SyntaxError;
use super::lex::Word;
use super::parse::{Parser, is_id, score_attr};

/// Roles a constraint may name (the legacy names are kept as written).
const ROLES: &[&str] = &[
    "Stopped",
    "Started",
    "Promoted",
    "Unpromoted",
    "Master",
    "Slave",
];
/// Actions an order may name.
const ACTIONS: &[&str] = &["start", "promote", "demote", "stop"];
const ORDER_KINDS: &[&str] = &["Mandatory", "Optional", "Serialize"];
const BINARY_OPS: &[&str] = &["lt", "gt", "lte", "gte", "eq", "ne"];
const EXPRESSION_TYPES: &[&str] = &["string", "integer", "number", "version"];
const DATE_SPEC_NAMES: &[&str] = &[
    "hours",
    "monthdays",
    "weekdays",
    "yeardays",
    "yearsdays",
    "months",
    "weeks",
    "years",
    "weekyears",
    "moon",
    "minutes",
    "seconds",
];

fn canonical<'a>(value: &str, list: &[&'a str]) -> Option<&'a str> {
    list.iter().find(|x| x.eq_ignore_ascii_case(value)).copied()
}

/// Which qualifier a resource reference in a constraint carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    Role,
    Action,
}

impl Qualifier {
    fn attr(self) -> &'static str {
        match self {
            Qualifier::Role => "role",
            Qualifier::Action => "action",
        }
    }

    fn values(self) -> &'static [&'static str] {
        match self {
            Qualifier::Role => ROLES,
            Qualifier::Action => ACTIONS,
        }
    }
}

impl Parser<'_> {
    /// `location ID RSC|/PATTERN/|{ SET } [ATTR=VALUE...] (SCORE: NODE | rule ...)`
    pub(super) fn location(&mut self) -> Result<Elem, SyntaxError> {
        let mut e = Elem::new("rsc_location").with("id", &self.ident("a constraint id")?);
        let w = self.word("a resource, /pattern/ or { resource set }")?;
        if w.text == "{" && !w.quoted {
            let mut words = Vec::new();
            loop {
                let t = self.word("} closing the resource set")?;
                if t.text == "}" && !t.quoted {
                    break;
                }
                words.push(t);
            }
            if words.is_empty() {
                return Err(self.error_at(w, "a non-empty resource set"));
            }
            e.children
                .extend(resource_sets(self, &words, Qualifier::Role)?);
        } else if let Some(p) = w
            .text
            .strip_prefix('/')
            .and_then(|t| t.strip_suffix('/'))
            .filter(|p| !p.is_empty())
        {
            e.set("rsc-pattern", p);
        } else if is_id(&w.text) {
            e.set("rsc", &w.text);
        } else {
            return Err(self.error_at(w, "a resource id, /pattern/ or { resource set }"));
        }
        while let Some(w) = self.peek() {
            let Some((k, v)) = w.text.split_once('=') else {
                break;
            };
            let k = k.strip_prefix('$').unwrap_or(k);
            if !matches!(k, "role" | "resource-discovery") {
                return Err(self.error(
                    "role=ROLE, resource-discovery=always|never|exclusive, SCORE: NODE or rule",
                ));
            }
            e.set(k, v);
            self.i += 1;
        }
        if let Some(w) = self.peek()
            && let Some(score) = w.text.strip_suffix(':')
            && !w.quoted
            && !score.is_empty()
        {
            self.i += 1;
            let (attr, value) = score_attr(score);
            e.set(attr, &value);
            let node = self.word("a node name")?;
            e.set("node", &node.text);
            if let Some(w) = self.peek()
                && let Some(r) = w.text.strip_prefix("role=")
                && e.get("role").is_none()
            {
                e.set("role", r);
                self.i += 1;
            }
            return Ok(e);
        }
        let rules = self.rules()?;
        if rules.is_empty() {
            return Err(self.error("SCORE: NODE or rule"));
        }
        e.children.extend(rules);
        Ok(e)
    }

    /// `colocation ID SCORE: RSC[:ROLE] RSC[:ROLE] [node-attribute=A]` or with sets.
    pub(super) fn colocation(&mut self) -> Result<Elem, SyntaxError> {
        let mut e = Elem::new("rsc_colocation").with("id", &self.ident("a constraint id")?);
        let (attr, value) = self.score_word()?;
        e.set(attr, &value);
        if let Some(v) = self.take_tail("node-attribute=") {
            e.set("node-attribute", &v);
        }
        self.resources(&mut e, Qualifier::Role, &["rsc", "with-rsc"])?;
        Ok(e)
    }

    /// `order ID [KIND:|SCORE:] RSC[:ACTION] RSC[:ACTION] [symmetrical=BOOL]` or with sets.
    pub(super) fn order(&mut self) -> Result<Elem, SyntaxError> {
        let mut e = Elem::new("rsc_order").with("id", &self.ident("a constraint id")?);
        if let Some(w) = self.peek()
            && let Some(k) = w.text.strip_suffix(':')
            && !w.quoted
        {
            let kind = match canonical(k, ORDER_KINDS) {
                Some(kind) => kind,
                None => match score_attr(k) {
                    ("score", v) if v == "0" => "Optional",
                    ("score", _) => "Mandatory",
                    _ => {
                        return Err(
                            self.error("a kind (Mandatory:, Optional:, Serialize:) or a score")
                        );
                    }
                },
            };
            e.set("kind", kind);
            self.i += 1;
        }
        if let Some(v) = self.take_tail("symmetrical=") {
            let b = crate::types::parse_bool(&v).ok_or_else(|| {
                let w = &self.st.words[self.st.words.len() - 1];
                self.error_at(w, "symmetrical=true or symmetrical=false")
            })?;
            e.set("symmetrical", if b { "true" } else { "false" });
        }
        self.resources(&mut e, Qualifier::Action, &["first", "then"])?;
        Ok(e)
    }

    /// `rsc_ticket ID TICKET: RSC[:ROLE]... [loss-policy=POLICY]`
    pub(super) fn rsc_ticket(&mut self) -> Result<Elem, SyntaxError> {
        let mut e = Elem::new("rsc_ticket").with("id", &self.ident("a constraint id")?);
        let w = self.word("TICKET:")?;
        let Some(ticket) = w.text.strip_suffix(':').filter(|t| !t.is_empty()) else {
            return Err(self.error_at(w, "TICKET:"));
        };
        e.set("ticket", ticket);
        if let Some(v) = self.take_tail("loss-policy=") {
            if !matches!(v.as_str(), "stop" | "demote" | "fence" | "freeze") {
                let w = &self.st.words[self.st.words.len() - 1];
                return Err(self.error_at(w, "loss-policy=stop|demote|fence|freeze"));
            }
            e.set("loss-policy", &v);
        }
        self.resources(&mut e, Qualifier::Role, &["rsc"])?;
        Ok(e)
    }

    /// A `SCORE:` word, as the attribute it becomes.
    fn score_word(&mut self) -> Result<(&'static str, String), SyntaxError> {
        let w = self.word("SCORE:")?;
        match w.text.strip_suffix(':').filter(|s| !s.is_empty()) {
            Some(s) if !w.quoted => Ok(score_attr(s)),
            _ => Err(self.error_at(w, "SCORE: (a number, inf:, -inf: or an attribute name)")),
        }
    }

    /// Takes the statement's last word if it starts with `prefix` (crmsh reads these
    /// options from the end), returning the value.
    fn take_tail(&mut self, prefix: &str) -> Option<String> {
        if self.remaining() < 2 {
            return None;
        }
        let last = self.st.words.last()?;
        let v = last.text.strip_prefix(prefix)?.to_string();
        // Shorten the view of the statement by one word.
        self.tail_taken += 1;
        Some(v)
    }

    /// The words left before any tail options.
    fn body_words(&self) -> &[Word] {
        let end = self.st.words.len() - self.tail_taken;
        &self.st.words[self.i.min(end)..end]
    }

    /// Two (or, for tickets, one) plain references, or resource sets.
    fn resources(&mut self, e: &mut Elem, q: Qualifier, names: &[&str]) -> Result<(), SyntaxError> {
        let words: Vec<&Word> = self.body_words().iter().collect();
        if words.is_empty() {
            return Err(self.error(format!("{} resource(s) or resource sets", names.len())));
        }
        let plain = words.len() == names.len()
            && words.iter().all(|w| {
                !matches!(w.text.as_str(), "(" | ")" | "[" | "]") && !w.text.contains('=')
            });
        if plain {
            for (w, name) in words.iter().zip(names) {
                let (rsc, qual) = split_ref(self, w, q)?;
                e.set(name, &rsc);
                if let Some((kind, value)) = qual {
                    e.set(&format!("{name}-{kind}"), &value);
                }
            }
        } else {
            e.children.extend(resource_sets(self, &words, q)?);
        }
        self.i = self.st.words.len();
        Ok(())
    }

    // ---- rules -----------------------------------------------------------------------

    /// Zero or more `rule [$id=ID] [$role=ROLE] [SCORE:] EXPRESSION`.
    pub(super) fn rules(&mut self) -> Result<Vec<Elem>, SyntaxError> {
        let mut out = Vec::new();
        while self.eat_kw("rule") {
            let mut rule = Elem::new("rule");
            if let Some(w) = self.peek() {
                if let Some(id) = w.text.strip_prefix("$id=") {
                    rule.set("id", id);
                    self.i += 1;
                } else if let Some(r) = w.text.strip_prefix("$id-ref=") {
                    rule.set("id-ref", r);
                    self.i += 1;
                    out.push(rule);
                    continue;
                }
            }
            if let Some(w) = self.peek()
                && let Some(r) = w
                    .text
                    .strip_prefix("$role=")
                    .or_else(|| w.text.strip_prefix("role="))
            {
                let role = canonical(r, ROLES).ok_or_else(|| self.error(role_expectation()))?;
                rule.set("role", role);
                self.i += 1;
            }
            match self.peek() {
                Some(w) if !w.quoted && w.text.ends_with(':') && w.text.len() > 1 => {
                    let (attr, value) = score_attr(&w.text[..w.text.len() - 1]);
                    rule.set(attr, &value);
                    self.i += 1;
                }
                _ => rule.set("score", "INFINITY"),
            }
            self.expression(&mut rule)?;
            out.push(rule);
        }
        Ok(out)
    }

    /// `SIMPLE [and|or SIMPLE]...` (one kind of boolean operator per rule).
    fn expression(&mut self, rule: &mut Elem) -> Result<(), SyntaxError> {
        let mut op: Option<String> = None;
        rule.children.push(self.simple_expression()?);
        while let Some(w) = self.peek() {
            let lower = w.text.to_ascii_lowercase();
            if w.quoted || !matches!(lower.as_str(), "and" | "or") {
                break;
            }
            match &op {
                Some(o) if *o != lower => {
                    return Err(self.error(format!("{o} (a rule cannot mix and with or)")));
                }
                _ => op = Some(lower),
            }
            self.i += 1;
            rule.children.push(self.simple_expression()?);
        }
        if op.as_deref() == Some("or") {
            rule.set("boolean-op", "or");
        }
        Ok(())
    }

    /// `ATTR [TYPE:]OP VALUE`, `defined ATTR`, `not_defined ATTR` or `date ...`.
    fn simple_expression(&mut self) -> Result<Elem, SyntaxError> {
        if self.eat_kw("date") {
            return self.date_expression();
        }
        for unary in ["defined", "not_defined"] {
            if self.eat_kw(unary) {
                let attr = self.word("a node attribute name")?;
                return Ok(Elem::new("expression")
                    .with("operation", unary)
                    .with("attribute", &attr.text));
            }
        }
        let attr = self.word("an expression (ATTR OP VALUE, defined ATTR, date ...)")?;
        if attr.text.contains('=') || attr.text.is_empty() {
            return Err(self.error_at(
                attr,
                "an expression (ATTR OP VALUE, defined ATTR, date ...)",
            ));
        }
        let opw = self.word("an operator (lt, gt, lte, gte, eq, ne)")?;
        let (kind, op) = match opw.text.split_once(':') {
            Some((t, o)) => (canonical(t, EXPRESSION_TYPES), o),
            None => (None, opw.text.as_str()),
        };
        let op = canonical(op, BINARY_OPS)
            .filter(|_| kind.is_some() || !opw.text.contains(':'))
            .ok_or_else(|| {
                self.error_at(opw, "an operator (lt, gt, lte, gte, eq, ne), optionally TYPE:OP with TYPE string, integer, number or version")
            })?;
        let value = self.word("a value")?;
        let mut e = Elem::new("expression")
            .with("operation", op)
            .with("attribute", &attr.text);
        if let Some(k) = kind {
            e.set("type", k);
        }
        match value_source(&value.text) {
            Some((source, v)) => {
                e.set("value", v);
                e.set("value-source", source);
            }
            None => e.set("value", &value.text),
        }
        Ok(e)
    }

    /// `lt END`, `gt START`, `in start=S end=E | in start=S DURATION...`, `spec SPEC...`.
    fn date_expression(&mut self) -> Result<Elem, SyntaxError> {
        let opw = self.word("a date operation (lt, gt, in, spec)")?;
        let op = match opw.text.to_ascii_lowercase().as_str() {
            "lt" => "lt",
            "gt" => "gt",
            "in" | "in_range" => "in_range",
            "spec" | "date_spec" => "date_spec",
            _ => return Err(self.error_at(opw, "a date operation (lt, gt, in, spec)")),
        };
        let mut e = Elem::new("date_expression").with("operation", op);
        match op {
            "lt" | "gt" => {
                let v = self.word("a date")?;
                e.set(if op == "lt" { "end" } else { "start" }, &v.text);
            }
            "in_range" => {
                let mut duration = Elem::new("duration");
                let pairs = self.date_pairs(true)?;
                if pairs.len() < 2 && !pairs.iter().any(|(k, _)| k == "end") {
                    return Err(self
                        .error("start=DATE end=DATE or start=DATE and a duration (years=1 ...)"));
                }
                for (k, v) in pairs {
                    if k == "start" || k == "end" {
                        e.set(&k, &v);
                    } else {
                        duration.set(&k, &v);
                    }
                }
                if !duration.attrs.is_empty() {
                    e.children.push(duration);
                }
            }
            _ => {
                let mut spec = Elem::new("date_spec");
                for (k, v) in self.date_pairs(false)? {
                    spec.set(&k, &v);
                }
                if spec.attrs.is_empty() {
                    return Err(self.error("a date spec (hours=9-16, weekdays=1-5, ...)"));
                }
                e.children.push(spec);
            }
        }
        Ok(e)
    }

    fn date_pairs(&mut self, range: bool) -> Result<Vec<(String, String)>, SyntaxError> {
        let mut out = Vec::new();
        while let Some(w) = self.peek() {
            let Some((k, v)) = w.text.split_once('=') else {
                break;
            };
            let known = DATE_SPEC_NAMES.contains(&k) || (range && matches!(k, "start" | "end"));
            if !known {
                break;
            }
            out.push((k.to_string(), v.to_string()));
            self.i += 1;
        }
        Ok(out)
    }
}

fn role_expectation() -> String {
    format!("a role ({})", ROLES.join(", "))
}

/// `source{value}` (a `value-source` of `param` or `meta`).
fn value_source(text: &str) -> Option<(&str, &str)> {
    let (source, rest) = text.split_once('{')?;
    let v = rest.strip_suffix('}')?;
    (!source.is_empty() && !v.is_empty() && !v.contains(['{', '}'])).then_some((source, v))
}

/// A reference's qualifier: (`role`, `action` or `instance`, its value).
type Qualified = (&'static str, String);

/// `RSC[:QUALIFIER]`: a role (or instance number) for colocations and tickets, an action
/// for orders.
fn split_ref(
    p: &Parser<'_>,
    w: &Word,
    q: Qualifier,
) -> Result<(String, Option<Qualified>), SyntaxError> {
    let (rsc, qual) = match w.text.split_once(':') {
        Some((r, x)) => (r, Some(x)),
        None => (w.text.as_str(), None),
    };
    if !is_id(rsc) {
        return Err(p.error_at(w, "a resource id"));
    }
    let qual = match qual {
        None => None,
        Some(x) if !x.is_empty() && x.chars().all(|c| c.is_ascii_digit()) => {
            Some(("instance", x.to_string()))
        }
        Some(x) => match canonical(x, q.values()) {
            Some(v) => Some((q.attr(), v.to_string())),
            None => {
                return Err(p.error_at(
                    w,
                    format!(
                        "RESOURCE:{} with {} one of {}",
                        q.attr().to_uppercase(),
                        q.attr(),
                        q.values().join(", ")
                    ),
                ));
            }
        },
    };
    Ok((rsc.to_string(), qual))
}

/// Resource sets: `a b ( c d ) [ e f ] g:Promoted ...`. Parentheses make a set whose members
/// are unordered (`sequential=false`), brackets one that needs only some members
/// (`require-all=false`); a change of role or action starts a new set.
fn resource_sets(p: &Parser<'_>, words: &[&Word], q: Qualifier) -> Result<Vec<Elem>, SyntaxError> {
    let mut b = SetBuilder {
        q,
        sets: Vec::new(),
        members: Vec::new(),
        qualifier: None,
        open: None,
        attrs: Vec::new(),
    };
    for (w, text) in split_brackets(words) {
        match text {
            "(" | "[" => {
                if let Some((o, _)) = b.open {
                    let msg = format!(
                        "a resource (sets cannot nest; the set opened at {} is still open)",
                        o.pos
                    );
                    return Err(p.error_at(w, msg));
                }
                b.save();
                b.open = Some((w, text.chars().next().expect("one char")));
            }
            ")" | "]" => {
                let Some((_, o)) = b.open else {
                    return Err(p.error_at(w, "a resource (no set is open)"));
                };
                let matching = if o == '(' { ")" } else { "]" };
                if text != matching || b.members.is_empty() {
                    return Err(p.error_at(w, format!("a resource or {matching}")));
                }
                b.save();
                b.open = None;
            }
            "_rsc_set_" => {}
            t if t.contains('=') => {
                let (k, v) = t.split_once('=').expect("checked");
                if !matches!(k, "sequential" | "require-all")
                    || crate::types::parse_bool(v).is_none()
                {
                    return Err(p.error_at(w, "sequential=BOOL or require-all=BOOL"));
                }
                b.attrs.push((k.to_string(), v.to_string()));
            }
            _ => {
                let fake = Word {
                    text: text.to_string(),
                    pos: w.pos,
                    quoted: w.quoted,
                };
                let (rsc, qual) = split_ref(p, &fake, q)?;
                b.push(rsc, qual.map(|(_, v)| v));
            }
        }
    }
    if let Some((o, _)) = b.open {
        return Err(p.error_at(o, "a set closed before the end of the statement"));
    }
    b.save();
    if b.sets.is_empty() {
        return Err(p.error("a resource"));
    }
    Ok(b.sets)
}

/// The sets built so far and the one being filled.
struct SetBuilder<'w> {
    q: Qualifier,
    sets: Vec<Elem>,
    members: Vec<Elem>,
    /// The role or action of the set being filled.
    qualifier: Option<String>,
    /// The bracket that opened the set being filled, and where.
    open: Option<(&'w Word, char)>,
    attrs: Vec<(String, String)>,
}

impl SetBuilder<'_> {
    fn push(&mut self, rsc: String, qualifier: Option<String>) {
        // One set holds one role (or action): a change starts the next set.
        if qualifier != self.qualifier && !self.members.is_empty() {
            self.save();
        }
        self.qualifier = qualifier;
        self.members
            .push(Elem::new("resource_ref").with("id", &rsc));
    }

    /// Closes the set being filled (if it has members).
    fn save(&mut self) {
        if self.members.is_empty() {
            self.qualifier = None;
            return;
        }
        let mut set = Elem::new("resource_set");
        let open = self.open.map(|(_, c)| c);
        if open == Some('[') {
            set.set("require-all", "false");
        }
        if open.is_some() {
            set.set("sequential", "false");
        }
        for (k, v) in self.attrs.drain(..) {
            set.set(&k, &v);
        }
        if let Some(v) = self.qualifier.take() {
            set.set(self.q.attr(), &v);
        }
        set.children = std::mem::take(&mut self.members);
        self.sets.push(set);
    }
}

/// Separates brackets glued to resource names (`(a` and `b)`), as crmsh does.
fn split_brackets<'w>(words: &[&'w Word]) -> Vec<(&'w Word, &'w str)> {
    let mut out = Vec::new();
    for w in words {
        let t = w.text.as_str();
        if w.quoted || t.len() < 2 {
            out.push((*w, t));
        } else if t.starts_with(['(', '[']) {
            out.push((*w, &t[..1]));
            out.push((*w, &t[1..]));
        } else if t.ends_with([')', ']']) {
            out.push((*w, &t[..t.len() - 1]));
            out.push((*w, &t[t.len() - 1..]));
        } else {
            out.push((*w, t));
        }
    }
    out
}
