//! Attribute lists (`params ...`, `meta ...`), name-value pairs in every form `show`
//! prints (`NAME=VALUE`, `$ID:NAME=VALUE`, `@REF`, `@REF:NAME`) and operations.

use super::ast::Elem;
use super::error::SyntaxError;
use super::parse::{Parser, is_id, score_attr};

/// Words that end a list of name-value pairs (crmsh's terminators).
pub(super) const TERMINATORS: &[&str] = &[
    "params",
    "meta",
    "utilization",
    "operations",
    "op",
    "op_params",
    "op_meta",
    "rule",
    "attributes",
];

/// The attributes an `<op>` element may carry; other `op` pairs are operation parameters.
const OP_ATTRIBUTES: &[&str] = &[
    "id",
    "name",
    "interval",
    "description",
    "start-delay",
    "interval-origin",
    "timeout",
    "enabled",
    "record-pending",
    "role",
    "requires",
    "on-fail",
];

impl Parser<'_> {
    /// Attribute sets (`params ...`, `meta ...`), operations (when `ops`), in any order;
    /// pairs right after the head belong to the `implicit` set.
    pub(super) fn arguments(
        &mut self,
        e: &mut Elem,
        sets: &[(&str, &str)],
        implicit: &str,
        ops: bool,
    ) -> Result<(), SyntaxError> {
        let mut first = true;
        while let Some(w) = self.peek() {
            let kw = if w.quoted {
                None
            } else {
                sets.iter()
                    .find(|(k, _)| w.text.eq_ignore_ascii_case(k))
                    .copied()
            };
            if let Some((_, element)) = kw {
                self.i += 1;
                e.children.push(self.attr_list(element)?);
            } else if ops && self.at_kw("op") {
                self.op(e)?;
            } else if ops && self.at_kw("operations") {
                self.i += 1;
                self.operations_ids(e)?;
            } else if first && w.text.contains('=') {
                let element = sets
                    .iter()
                    .find(|(k, _)| *k == implicit)
                    .map(|(_, el)| *el)
                    .expect("the implicit set is one of the sets");
                e.children.push(self.attr_list(element)?);
            } else {
                break;
            }
            first = false;
        }
        Ok(())
    }

    /// `operations [$id=ID] [$id-ref=ID]`: the ids of the `<operations>` element.
    fn operations_ids(&mut self, e: &mut Elem) -> Result<(), SyntaxError> {
        let mut any = false;
        for key in ["$id=", "$id-ref="] {
            let Some(w) = self.peek() else { break };
            if let Some(id) = w.text.strip_prefix(key) {
                if !is_id(id) {
                    return Err(self.error(format!("{key}ID with a valid id")));
                }
                operations(e).set(&key[1..key.len() - 1], id);
                self.i += 1;
                any = true;
            }
        }
        if !any {
            return Err(self.error("$id=ID or $id-ref=ID"));
        }
        Ok(())
    }

    /// `[$id=ID | $id-ref=ID] [SCORE:] [rule ...] NAME=VALUE...`
    pub(super) fn attr_list(&mut self, element: &str) -> Result<Elem, SyntaxError> {
        self.attr_list_until(element, TERMINATORS)
    }

    /// An attribute list ending at one of `terminators`.
    pub(super) fn attr_list_until(
        &mut self,
        element: &str,
        terminators: &[&str],
    ) -> Result<Elem, SyntaxError> {
        let mut set = Elem::new(element);
        if let Some(w) = self.peek() {
            if let Some(id) = w.text.strip_prefix("$id=") {
                if !is_id(id) {
                    return Err(self.error_at(w, "$id=ID with a valid id"));
                }
                set.set("id", id);
                self.i += 1;
            } else if let Some(r) = w.text.strip_prefix("$id-ref=") {
                if !is_id(r) {
                    return Err(self.error_at(w, "$id-ref=ID with a valid id"));
                }
                set.set("id-ref", r);
                self.i += 1;
                return Ok(set);
            }
        }
        if let Some(w) = self.peek()
            && let Some(score) = w.text.strip_suffix(':')
            && !score.is_empty()
            && !w.quoted
            && !w.text.contains('=')
            && !w.text.starts_with(['@', '$'])
        {
            self.i += 1;
            let (attr, value) = score_attr(score);
            set.set(attr, &value);
        }
        set.children.extend(self.rules()?);
        set.children.extend(self.nvpairs(terminators, false)?);
        Ok(set)
    }

    /// Name-value pairs up to a terminator keyword: `NAME=VALUE`, a bare `NAME` (unless
    /// `values_required`), `$ID:NAME=VALUE` (a pair with its id), `@REF` and `@REF:NAME`
    /// (a reference to a pair elsewhere).
    pub(super) fn nvpairs(
        &mut self,
        terminators: &[&str],
        values_required: bool,
    ) -> Result<Vec<Elem>, SyntaxError> {
        let mut out = Vec::new();
        while let Some(w) = self.peek() {
            if !w.quoted && terminators.iter().any(|t| w.text.eq_ignore_ascii_case(t)) {
                break;
            }
            let Some(nv) = nvpair_word(&w.text, values_required) else {
                return Err(self.error(if w.text.starts_with(['$', '@']) {
                    "$ID:NAME=VALUE, @REFERENCE or @REFERENCE:NAME"
                } else {
                    "NAME=VALUE"
                }));
            };
            out.push(nv);
            self.i += 1;
        }
        Ok(out)
    }

    /// `op NAME [ATTR=VALUE...] [PARAM=VALUE...] [op_params ..] [op_meta ..]`; `id=` names
    /// the operation.
    fn op(&mut self, e: &mut Elem) -> Result<(), SyntaxError> {
        self.i += 1;
        let name = self.ident("an operation name (monitor, start, stop, ...)")?;
        let mut op = Elem::new("op").with("name", &name);
        let mut params = Elem::new("instance_attributes");
        let mut has_interval = false;
        while let Some(w) = self.peek() {
            if !w.quoted && TERMINATORS.iter().any(|t| w.text.eq_ignore_ascii_case(t)) {
                break;
            }
            let Some((k, v)) = w.text.split_once('=') else {
                return Err(self.error("NAME=VALUE"));
            };
            if OP_ATTRIBUTES.contains(&k) && k != "name" {
                if !params.children.is_empty() {
                    return Err(self.error(format!(
                        "operation parameters after the operation's attributes ({k} must come \
                         before {})",
                        params.children[0].get("name").unwrap_or_default()
                    )));
                }
                if k == "id" && !is_id(v) {
                    return Err(self.error("id=ID with a valid id"));
                }
                has_interval |= k == "interval";
                op.set(k, v);
            } else {
                params
                    .children
                    .push(Elem::new("nvpair").with("name", k).with("value", v));
            }
            self.i += 1;
        }
        if !has_interval {
            op.set("interval", "0");
        }
        if !params.children.is_empty() {
            op.children.push(params);
        }
        loop {
            if self.eat_kw("op_params") {
                op.children.push(self.attr_list("instance_attributes")?);
            } else if self.eat_kw("op_meta") {
                op.children.push(self.attr_list("meta_attributes")?);
            } else {
                break;
            }
        }
        operations(e).children.push(op);
        Ok(())
    }
}

/// One name-value pair word as an `<nvpair>`; `None` if it is none of the forms.
fn nvpair_word(text: &str, values_required: bool) -> Option<Elem> {
    if let Some(rest) = text.strip_prefix('@') {
        let (r, name) = match rest.split_once(':') {
            Some((r, n)) => (r, Some(n).filter(|n| !n.is_empty())?),
            None => (rest, ""),
        };
        if !is_id(r) {
            return None;
        }
        let nv = Elem::new("nvpair").with("id-ref", r);
        return Some(if name.is_empty() {
            nv
        } else {
            nv.with("name", name)
        });
    }
    if let Some(rest) = text.strip_prefix('$') {
        let (id, pair) = rest.split_once(':')?;
        let (name, value) = pair.split_once('=')?;
        return (is_id(id) && !name.is_empty()).then(|| {
            Elem::new("nvpair")
                .with("id", id)
                .with("name", name)
                .with("value", value)
        });
    }
    if text.is_empty() || text.starts_with('=') {
        return None;
    }
    match text.split_once('=') {
        Some((n, v)) => Some(Elem::new("nvpair").with("name", n).with("value", v)),
        None if values_required || text.contains(':') => None,
        None => Some(Elem::new("nvpair").with("name", text)),
    }
}

/// The `<operations>` child of a primitive, created on first use.
fn operations(e: &mut Elem) -> &mut Elem {
    let at = match e.children.iter().position(|c| c.name == "operations") {
        Some(i) => i,
        None => {
            e.children.push(Elem::new("operations"));
            e.children.len() - 1
        }
    };
    &mut e.children[at]
}

/// Puts `promotable=true` first in the clone's (first) meta set, creating it if needed.
pub(super) fn make_promotable(elem: &mut Elem) {
    let nv = Elem::new("nvpair")
        .with("name", "promotable")
        .with("value", "true");
    match elem
        .children
        .iter_mut()
        .find(|c| c.name == "meta_attributes" && c.get("id-ref").is_none())
    {
        Some(meta) => {
            meta.children
                .retain(|c| c.get("name") != Some("promotable"));
            let at = meta
                .children
                .iter()
                .position(|c| c.name == "nvpair")
                .unwrap_or(meta.children.len());
            meta.children.insert(at, nv);
        }
        None => {
            let mut meta = Elem::new("meta_attributes");
            meta.children.push(nv);
            elem.children.insert(0, meta);
        }
    }
}
