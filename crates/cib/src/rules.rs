//! Rules: the conditions that make a location constraint or an option block apply —
//! node-attribute comparisons, dates and date specifications, resource and operation
//! matches, nested with `and`/`or`. Evaluated against a [`RuleContext`] that carries `now`;
//! nothing here reads a clock.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use tandem_xml::{Document, NodeId};

use crate::ids::IdIndex;
use crate::problem::Problems;
use crate::score::Score;
use crate::time::{DateTime, Duration};
use crate::types::Role;

/// A `<rule>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: String,
    pub score: Option<Score>,
    pub score_attribute: Option<String>,
    pub boolean_op: BoolOp,
    pub role: Option<Role>,
    pub expressions: Vec<Expression>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoolOp {
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expression {
    Attribute(AttrExpr),
    Date(DateExpr),
    Resource {
        id: String,
        class: Option<String>,
        provider: Option<String>,
        agent: Option<String>,
    },
    Operation {
        id: String,
        name: Option<String>,
        interval_ms: Option<u64>,
    },
    Rule(Rule),
}

/// `<expression attribute operation value type value-source>`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrExpr {
    pub id: String,
    pub attribute: String,
    pub operation: CmpOp,
    pub value: Option<String>,
    pub value_type: Option<ValueType>,
    pub value_source: ValueSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Gt,
    Lte,
    Gte,
    Eq,
    Ne,
    Defined,
    NotDefined,
    /// An operation we could not read: never matches (and `verify` reports it).
    Invalid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    String,
    Integer,
    Number,
    Version,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueSource {
    Literal,
    Param,
    Meta,
}

/// `<date_expression>`.
#[derive(Clone, Debug, PartialEq)]
pub struct DateExpr {
    pub id: String,
    pub operation: DateOp,
    pub start: Option<DateTime>,
    pub end: Option<DateTime>,
    pub duration: Option<Duration>,
    pub spec: Option<DateSpec>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateOp {
    InRange,
    Gt,
    Lt,
    DateSpec,
    /// An operation we could not read: never matches.
    Invalid,
}

/// Inclusive ranges per calendar field; a field not given matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DateSpec {
    pub years: Option<(i64, i64)>,
    pub months: Option<(i64, i64)>,
    pub monthdays: Option<(i64, i64)>,
    pub weekdays: Option<(i64, i64)>,
    pub yeardays: Option<(i64, i64)>,
    pub hours: Option<(i64, i64)>,
    pub minutes: Option<(i64, i64)>,
    pub seconds: Option<(i64, i64)>,
    pub weeks: Option<(i64, i64)>,
    pub weekyears: Option<(i64, i64)>,
}

/// What a rule is evaluated against.
#[derive(Clone, Copy, Debug)]
pub struct RuleContext<'a> {
    pub now: DateTime,
    /// The node's attributes (including the built-in `#uname`, `#id`, `#kind`, `#is_dc`,
    /// `#cluster-name`, `#site-name` the caller provides), if a node is concerned.
    pub node_attrs: Option<&'a BTreeMap<String, String>>,
    /// (class, provider, type) of the resource concerned.
    pub resource: Option<(&'a str, Option<&'a str>, &'a str)>,
    /// (name, interval in ms) of the operation concerned.
    pub operation: Option<(&'a str, u64)>,
    /// The resource's parameters and meta-attributes, for `value-source`.
    pub params: Option<&'a BTreeMap<String, String>>,
    pub meta: Option<&'a BTreeMap<String, String>>,
}

impl<'a> RuleContext<'a> {
    /// A context with only a time.
    pub fn at(now: DateTime) -> RuleContext<'a> {
        RuleContext {
            now,
            node_attrs: None,
            resource: None,
            operation: None,
            params: None,
            meta: None,
        }
    }

    pub fn with_node(mut self, attrs: &'a BTreeMap<String, String>) -> Self {
        self.node_attrs = Some(attrs);
        self
    }
}

impl Rule {
    /// Whether the rule holds. A rule without expressions holds (and `tandem verify` warns).
    pub fn evaluate(&self, ctx: &RuleContext<'_>) -> bool {
        if self.expressions.is_empty() {
            return true;
        }
        let mut results = self.expressions.iter().map(|e| e.evaluate(ctx));
        match self.boolean_op {
            BoolOp::And => results.all(|r| r),
            BoolOp::Or => results.any(|r| r),
        }
    }
}

impl Expression {
    pub fn evaluate(&self, ctx: &RuleContext<'_>) -> bool {
        match self {
            Expression::Attribute(a) => a.evaluate(ctx),
            Expression::Date(d) => d.evaluate(ctx.now),
            Expression::Resource {
                class,
                provider,
                agent,
                ..
            } => match ctx.resource {
                Some((c, p, t)) => {
                    class.as_deref().is_none_or(|x| x == c)
                        && provider.as_deref().is_none_or(|x| Some(x) == p)
                        && agent.as_deref().is_none_or(|x| x == t)
                }
                None => false,
            },
            Expression::Operation {
                name, interval_ms, ..
            } => match ctx.operation {
                Some((n, i)) => {
                    name.as_deref().is_none_or(|x| x == n) && interval_ms.is_none_or(|x| x == i)
                }
                None => false,
            },
            Expression::Rule(r) => r.evaluate(ctx),
        }
    }
}

impl AttrExpr {
    pub fn evaluate(&self, ctx: &RuleContext<'_>) -> bool {
        let actual = ctx
            .node_attrs
            .and_then(|m| m.get(&self.attribute))
            .map(String::as_str);
        let expected: Option<&str> = match self.value_source {
            ValueSource::Literal => self.value.as_deref(),
            ValueSource::Param => self
                .value
                .as_deref()
                .and_then(|k| ctx.params?.get(k))
                .map(String::as_str),
            ValueSource::Meta => self
                .value
                .as_deref()
                .and_then(|k| ctx.meta?.get(k))
                .map(String::as_str),
        };
        match self.operation {
            CmpOp::Defined => actual.is_some(),
            CmpOp::NotDefined => actual.is_none(),
            CmpOp::Invalid => false,
            op => {
                let (Some(l), Some(r)) = (actual, expected) else {
                    return op == CmpOp::Ne;
                };
                let ord = compare(l, r, self.effective_type());
                match op {
                    CmpOp::Lt => ord == Ordering::Less,
                    CmpOp::Gt => ord == Ordering::Greater,
                    CmpOp::Lte => ord != Ordering::Greater,
                    CmpOp::Gte => ord != Ordering::Less,
                    CmpOp::Eq => ord == Ordering::Equal,
                    CmpOp::Ne => ord != Ordering::Equal,
                    CmpOp::Defined | CmpOp::NotDefined | CmpOp::Invalid => {
                        unreachable!("handled above")
                    }
                }
            }
        }
    }

    /// The comparison type: as given, else numeric for ordering operators, string otherwise.
    pub fn effective_type(&self) -> ValueType {
        self.value_type.unwrap_or(match self.operation {
            CmpOp::Lt | CmpOp::Gt | CmpOp::Lte | CmpOp::Gte => ValueType::Number,
            _ => ValueType::String,
        })
    }
}

/// Compares two attribute values by type; values that do not parse as the type are compared
/// as strings.
pub fn compare(l: &str, r: &str, t: ValueType) -> Ordering {
    match t {
        ValueType::String => l.to_ascii_lowercase().cmp(&r.to_ascii_lowercase()),
        ValueType::Integer => match (parse_integer(l), parse_integer(r)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => compare(l, r, ValueType::Number),
        },
        ValueType::Number => match (l.trim().parse::<f64>(), r.trim().parse::<f64>()) {
            (Ok(a), Ok(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => l.cmp(r),
        },
        ValueType::Version => compare_versions(l, r),
    }
}

/// An integer as Pacemaker reads one for `type="integer"`: a decimal number is truncated
/// (`3.6` is 3).
fn parse_integer(v: &str) -> Option<i64> {
    let v = v.trim();
    v.parse::<i64>().ok().or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f.trunc() as i64)
    })
}

/// Compares dotted version strings numerically, field by field (`3.10 > 3.9`).
pub fn compare_versions(l: &str, r: &str) -> Ordering {
    let fields = |s: &str| -> Vec<i64> {
        s.split('.')
            .map(|p| p.trim().parse::<i64>().unwrap_or(0))
            .collect()
    };
    let (a, b) = (fields(l), fields(r));
    for i in 0..a.len().max(b.len()) {
        let o = a
            .get(i)
            .copied()
            .unwrap_or(0)
            .cmp(&b.get(i).copied().unwrap_or(0));
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl DateExpr {
    pub fn evaluate(&self, now: DateTime) -> bool {
        match self.operation {
            DateOp::Gt => self.start.is_some_and(|s| now > s),
            DateOp::Lt => self.end.is_some_and(|e| now < e),
            DateOp::InRange => {
                let end = self
                    .end
                    .or_else(|| Some(self.start?.plus(self.duration.as_ref()?)));
                if self.start.is_none() && end.is_none() {
                    return false;
                }
                self.start.is_none_or(|s| now >= s) && end.is_none_or(|e| now <= e)
            }
            DateOp::DateSpec => self.spec.as_ref().is_some_and(|s| s.matches(now)),
            DateOp::Invalid => false,
        }
    }
}

impl DateSpec {
    pub fn matches(&self, now: DateTime) -> bool {
        let f = now.fields();
        let within =
            |range: Option<(i64, i64)>, v: i64| range.is_none_or(|(lo, hi)| lo <= v && v <= hi);
        within(self.years, f.year)
            && within(self.months, f.month as i64)
            && within(self.monthdays, f.monthday as i64)
            && within(self.weekdays, f.weekday as i64)
            && within(self.yeardays, f.yearday as i64)
            && within(self.hours, f.hour as i64)
            && within(self.minutes, f.minute as i64)
            && within(self.seconds, f.second as i64)
            && within(self.weeks, f.week as i64)
            && within(self.weekyears, f.weekyear)
    }
}

// ---- unpacking ---------------------------------------------------------------------------

/// The deepest rule nesting followed (rules may reference each other with `id-ref`).
pub const MAX_RULE_DEPTH: usize = 32;

/// Reads a `<rule>` element (following `id-ref`).
pub fn unpack_rule(doc: &Document, node: NodeId, ids: &IdIndex, problems: &mut Problems) -> Rule {
    unpack_rule_depth(doc, node, ids, problems, 0)
}

fn unpack_rule_depth(
    doc: &Document,
    node: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
    depth: usize,
) -> Rule {
    let node = ids.follow_ref(doc, node, "rule", problems);
    let id = doc.attr(node, "id").unwrap_or("").to_string();
    let object = format!("rule {id}");
    let score = doc.attr(node, "score").and_then(|s| match Score::parse(s) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.error(&object, format!("{e}; the rule is treated as score 0"));
            None
        }
    });
    let boolean_op = match doc.attr(node, "boolean-op") {
        None | Some("and") => BoolOp::And,
        Some("or") => BoolOp::Or,
        Some(other) => {
            problems.error(
                &object,
                format!("boolean-op {other:?} is not `and` or `or`; using `and`"),
            );
            BoolOp::And
        }
    };
    let role = doc
        .attr(node, "role")
        .and_then(|r| Role::parse_or_report(r, &object, problems));
    let mut expressions = Vec::new();
    for child in doc.elements(node) {
        let e = match doc.name(child) {
            "expression" => Expression::Attribute(unpack_attr_expr(doc, child, problems)),
            "date_expression" => Expression::Date(unpack_date_expr(doc, child, problems)),
            "rsc_expression" => Expression::Resource {
                id: doc.attr(child, "id").unwrap_or("").to_string(),
                class: doc.attr(child, "class").map(str::to_string),
                provider: doc.attr(child, "provider").map(str::to_string),
                agent: doc.attr(child, "type").map(str::to_string),
            },
            "op_expression" => Expression::Operation {
                id: doc.attr(child, "id").unwrap_or("").to_string(),
                name: doc.attr(child, "name").map(str::to_string),
                interval_ms: doc
                    .attr(child, "interval")
                    .and_then(|i| crate::time::parse_ms(i).ok()),
            },
            "rule" if depth < MAX_RULE_DEPTH => {
                Expression::Rule(unpack_rule_depth(doc, child, ids, problems, depth + 1))
            }
            "rule" => {
                problems.error(
                    &object,
                    format!("rules nested deeper than {MAX_RULE_DEPTH}"),
                );
                continue;
            }
            _ => continue,
        };
        expressions.push(e);
    }
    Rule {
        id,
        score,
        score_attribute: doc.attr(node, "score-attribute").map(str::to_string),
        boolean_op,
        role,
        expressions,
    }
}

fn unpack_attr_expr(doc: &Document, node: NodeId, problems: &mut Problems) -> AttrExpr {
    let id = doc.attr(node, "id").unwrap_or("").to_string();
    let object = format!("expression {id}");
    let operation = match doc.attr(node, "operation") {
        Some("lt") => CmpOp::Lt,
        Some("gt") => CmpOp::Gt,
        Some("lte") => CmpOp::Lte,
        Some("gte") => CmpOp::Gte,
        Some("eq") => CmpOp::Eq,
        Some("ne") => CmpOp::Ne,
        Some("defined") => CmpOp::Defined,
        Some("not_defined") => CmpOp::NotDefined,
        other => {
            problems.error(
                &object,
                format!("operation {other:?} is not one of lt, gt, lte, gte, eq, ne, defined, not_defined; the expression never matches"),
            );
            CmpOp::Invalid
        }
    };
    let value_type = match doc.attr(node, "type") {
        None => None,
        Some("string") => Some(ValueType::String),
        Some("integer") => Some(ValueType::Integer),
        Some("number") => Some(ValueType::Number),
        Some("version") => Some(ValueType::Version),
        Some(other) => {
            problems.warning(
                &object,
                format!(
                    "type {other:?} is not string, integer, number or version; comparing as strings"
                ),
            );
            Some(ValueType::String)
        }
    };
    let value_source = match doc.attr(node, "value-source") {
        None | Some("literal") => ValueSource::Literal,
        Some("param") => ValueSource::Param,
        Some("meta") => ValueSource::Meta,
        Some(other) => {
            problems.warning(
                &object,
                format!("value-source {other:?} is not literal, param or meta; using literal"),
            );
            ValueSource::Literal
        }
    };
    let attribute = doc.attr(node, "attribute").unwrap_or_else(|| {
        problems.error(&object, "no `attribute` given");
        ""
    });
    AttrExpr {
        id,
        attribute: attribute.to_string(),
        operation,
        value: doc.attr(node, "value").map(str::to_string),
        value_type,
        value_source,
    }
}

fn unpack_date_expr(doc: &Document, node: NodeId, problems: &mut Problems) -> DateExpr {
    let id = doc.attr(node, "id").unwrap_or("").to_string();
    let object = format!("date_expression {id}");
    let mut date = |name: &str| {
        doc.attr(node, name).and_then(|v| match DateTime::parse(v) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.error(&object, format!("{name}: {e}"));
                None
            }
        })
    };
    let start = date("start");
    let end = date("end");
    let operation = match doc.attr(node, "operation") {
        None | Some("in_range") => DateOp::InRange,
        Some("gt") => DateOp::Gt,
        Some("lt") => DateOp::Lt,
        Some("date_spec") => DateOp::DateSpec,
        Some(other) => {
            problems.error(&object, format!("operation {other:?} is not in_range, gt, lt or date_spec; the expression never matches"));
            DateOp::Invalid
        }
    };
    let duration = doc
        .child_named(node, "duration")
        .map(|d| duration_from_attrs(doc, d, &object, problems));
    let spec = doc
        .child_named(node, "date_spec")
        .map(|d| unpack_date_spec(doc, d, problems));
    match operation {
        DateOp::Gt if start.is_none() => problems.error(&object, "operation gt needs `start`"),
        DateOp::Lt if end.is_none() => problems.error(&object, "operation lt needs `end`"),
        DateOp::InRange if start.is_none() && end.is_none() => {
            problems.error(&object, "operation in_range needs `start` or `end`")
        }
        DateOp::InRange if end.is_some() && duration.is_some() => problems.warning(
            &object,
            "both `end` and a duration given; the duration is ignored",
        ),
        DateOp::DateSpec if spec.is_none() => {
            problems.error(&object, "operation date_spec needs a <date_spec>")
        }
        _ => {}
    }
    DateExpr {
        id,
        operation,
        start,
        end,
        duration,
        spec,
    }
}

fn duration_from_attrs(
    doc: &Document,
    node: NodeId,
    object: &str,
    problems: &mut Problems,
) -> Duration {
    let mut field = |name: &str| -> i64 {
        match doc.attr(node, name) {
            None => 0,
            Some(v) => v.trim().parse().unwrap_or_else(|_| {
                problems.error(object, format!("duration {name}={v:?} is not an integer"));
                0
            }),
        }
    };
    Duration {
        years: field("years"),
        months: field("months"),
        weeks: field("weeks"),
        days: field("days"),
        hours: field("hours"),
        minutes: field("minutes"),
        seconds: field("seconds"),
    }
}

fn unpack_date_spec(doc: &Document, node: NodeId, problems: &mut Problems) -> DateSpec {
    let object = format!("date_spec {}", doc.attr(node, "id").unwrap_or(""));
    let mut range = |name: &str| -> Option<(i64, i64)> {
        let v = doc.attr(node, name)?;
        let parsed = match v.split_once('-') {
            Some((a, b)) => a.trim().parse().ok().zip(b.trim().parse().ok()),
            None => v.trim().parse().ok().map(|n| (n, n)),
        };
        if parsed.is_none() {
            problems.error(
                &object,
                format!("{name}={v:?} is not a number or a range like 1-5"),
            );
            // A field that cannot be read must not match everything.
            return Some((1, 0));
        }
        parsed
    };
    DateSpec {
        years: range("years"),
        months: range("months"),
        monthdays: range("monthdays"),
        weekdays: range("weekdays"),
        yeardays: range("yeardays"),
        hours: range("hours"),
        minutes: range("minutes"),
        seconds: range("seconds"),
        weeks: range("weeks"),
        weekyears: range("weekyears"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(xml: &str) -> (Rule, Problems) {
        let doc = Document::parse(xml).unwrap();
        let ids = IdIndex::build(&doc);
        let mut p = Problems::default();
        let r = unpack_rule(&doc, doc.root().unwrap(), &ids, &mut p);
        (r, p)
    }

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn node_attribute_expressions() {
        let now = DateTime::from_epoch(0);
        let (r, p) = rule(
            r##"<rule id="r" score="100" boolean-op="or"><expression id="e1" attribute="#uname" operation="eq" value="node1"/><expression id="e2" attribute="cpus" operation="gte" value="8" type="integer"/></rule>"##,
        );
        assert!(p.0.is_empty());
        assert_eq!(r.score, Some(Score::new(100)));
        let n1 = attrs(&[("#uname", "node1"), ("cpus", "2")]);
        let n2 = attrs(&[("#uname", "node2"), ("cpus", "16")]);
        let n3 = attrs(&[("#uname", "node3"), ("cpus", "4")]);
        assert!(r.evaluate(&RuleContext::at(now).with_node(&n1)));
        assert!(r.evaluate(&RuleContext::at(now).with_node(&n2)));
        assert!(!r.evaluate(&RuleContext::at(now).with_node(&n3)));
        assert!(
            !r.evaluate(&RuleContext::at(now)),
            "no node: attributes are undefined"
        );
    }

    #[test]
    fn comparisons_by_type() {
        assert_eq!(compare("10", "9", ValueType::Integer), Ordering::Greater);
        assert_eq!(compare("10", "9", ValueType::String), Ordering::Less);
        assert_eq!(compare("1.5", "1.25", ValueType::Number), Ordering::Greater);
        assert_eq!(
            compare("3.10", "3.9", ValueType::Version),
            Ordering::Greater
        );
        assert_eq!(compare("ABC", "abc", ValueType::String), Ordering::Equal);
    }

    #[test]
    fn undefined_attribute_only_satisfies_ne_and_not_defined() {
        let now = DateTime::from_epoch(0);
        let empty = attrs(&[]);
        for (op, want) in [
            ("eq", false),
            ("ne", true),
            ("lt", false),
            ("defined", false),
            ("not_defined", true),
        ] {
            let (r, _) = rule(&format!(
                r#"<rule id="r"><expression id="e" attribute="x" operation="{op}" value="1"/></rule>"#
            ));
            assert_eq!(
                r.evaluate(&RuleContext::at(now).with_node(&empty)),
                want,
                "{op}"
            );
        }
    }

    #[test]
    fn value_source_param() {
        let (r, _) = rule(
            r#"<rule id="r"><expression id="e" attribute="fake" operation="gt" value="fake" value-source="param"/></rule>"#,
        );
        let node = attrs(&[("fake", "350")]);
        let low = attrs(&[("fake", "300")]);
        let high = attrs(&[("fake", "400")]);
        let ctx = |p| RuleContext {
            params: Some(p),
            ..RuleContext::at(DateTime::from_epoch(0)).with_node(&node)
        };
        assert!(r.evaluate(&ctx(&low)));
        assert!(!r.evaluate(&ctx(&high)));
    }

    #[test]
    fn date_expressions() {
        let (r, p) = rule(
            r#"<rule id="r"><date_expression id="d" operation="in_range" start="2005-001"><duration id="du" months="1"/></date_expression></rule>"#,
        );
        assert!(p.0.is_empty(), "{:?}", p.0);
        assert!(r.evaluate(&RuleContext::at(DateTime::parse("2005-020").unwrap())));
        assert!(
            r.evaluate(&RuleContext::at(DateTime::parse("2005-02-01").unwrap())),
            "end is inclusive"
        );
        assert!(!r.evaluate(&RuleContext::at(
            DateTime::parse("2005-02-01T00:00:01").unwrap()
        )));
        assert!(!r.evaluate(&RuleContext::at(DateTime::parse("2004-12-31").unwrap())));

        let (r, _) = rule(
            r#"<rule id="r"><date_expression id="d" operation="date_spec"><date_spec id="s" hours="9-16" weekdays="1-5"/></date_expression></rule>"#,
        );
        assert!(
            r.evaluate(&RuleContext::at(
                DateTime::parse("2024-06-03T10:00").unwrap()
            )),
            "Monday 10:00"
        );
        assert!(
            !r.evaluate(&RuleContext::at(
                DateTime::parse("2024-06-08T10:00").unwrap()
            )),
            "Saturday"
        );
        assert!(
            !r.evaluate(&RuleContext::at(
                DateTime::parse("2024-06-03T17:00").unwrap()
            )),
            "after hours"
        );

        let (r, _) = rule(
            r#"<rule id="r"><date_expression id="d" operation="gt" start="2005-020"/></rule>"#,
        );
        assert!(
            !r.evaluate(&RuleContext::at(DateTime::parse("2005-020").unwrap())),
            "gt is strict"
        );
        assert!(r.evaluate(&RuleContext::at(
            DateTime::parse("2005-020T00:00:01").unwrap()
        )));
    }

    #[test]
    fn bad_rules_are_reported_and_never_match() {
        let (r, p) = rule(
            r#"<rule id="r" boolean-op="xor"><expression id="e" attribute="a" operation="like" value="1"/></rule>"#,
        );
        assert_eq!(p.0.len(), 2);
        assert!(
            p.0[0].to_string().contains("boolean-op \"xor\""),
            "{}",
            p.0[0]
        );
        let a = attrs(&[("a", "1")]);
        assert!(!r.evaluate(&RuleContext::at(DateTime::from_epoch(0)).with_node(&a)));
    }

    #[test]
    fn rule_references_are_followed() {
        let doc = Document::parse(r#"<x><rule id="shared"><expression id="e" attribute="a" operation="defined"/></rule><rule id-ref="shared"/></x>"#).unwrap();
        let ids = IdIndex::build(&doc);
        let mut p = Problems::default();
        let referring = doc.elements(doc.root().unwrap()).nth(1).unwrap();
        let r = unpack_rule(&doc, referring, &ids, &mut p);
        assert_eq!(r.id, "shared");
        assert_eq!(r.expressions.len(), 1);
    }
}
