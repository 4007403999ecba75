//! Constraints: location, colocation, order, ticket — in their two-resource and
//! resource-set forms.

use tandem_xml::{Document, NodeId};

use crate::ids::IdIndex;
use crate::problem::Problems;
use crate::rules::{Rule, unpack_rule};
use crate::score::Score;
use crate::types::{Role, parse_bool};

/// A `<resource_set>`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSet {
    pub id: String,
    pub sequential: Option<bool>,
    pub require_all: Option<bool>,
    pub ordering: Option<String>,
    pub action: Option<String>,
    pub role: Option<Role>,
    pub score: Option<Score>,
    pub kind: Option<String>,
    pub resources: Vec<String>,
}

/// What a location constraint applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum LocationTarget {
    Resource(String),
    /// A regular expression over resource ids (`rsc-pattern`).
    Pattern(String),
    Sets(Vec<ResourceSet>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    pub id: String,
    pub target: LocationTarget,
    pub node: Option<String>,
    pub score: Option<Score>,
    pub rules: Vec<Rule>,
    pub role: Option<Role>,
    /// `always`, `never` or `exclusive`.
    pub resource_discovery: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Colocation {
    pub id: String,
    pub score: Score,
    pub rsc: Option<String>,
    pub with_rsc: Option<String>,
    pub rsc_role: Option<Role>,
    pub with_rsc_role: Option<Role>,
    pub node_attribute: Option<String>,
    pub influence: Option<bool>,
    pub sets: Vec<ResourceSet>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKind {
    Mandatory,
    Optional,
    Serialize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: String,
    pub first: Option<String>,
    pub then: Option<String>,
    pub first_action: Option<String>,
    pub then_action: Option<String>,
    pub kind: Option<OrderKind>,
    /// The deprecated `score` form of kind (0 = Optional, otherwise Mandatory).
    pub score: Option<Score>,
    pub symmetrical: Option<bool>,
    /// `require-all` on a two-resource order with a clone first (false: one instance of the
    /// clone running is enough).
    pub require_all: Option<bool>,
    pub sets: Vec<ResourceSet>,
}

impl Order {
    /// `kind` as given, else from the old `score`, else Mandatory.
    pub fn effective_kind(&self) -> OrderKind {
        match (self.kind, self.score) {
            (Some(k), _) => k,
            (None, Some(s)) if s == Score::ZERO => OrderKind::Optional,
            _ => OrderKind::Mandatory,
        }
    }

    /// `symmetrical` as given, else true except for Serialize.
    pub fn effective_symmetrical(&self) -> bool {
        self.symmetrical
            .unwrap_or(self.effective_kind() != OrderKind::Serialize)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub ticket: String,
    pub rsc: Option<String>,
    pub rsc_role: Option<Role>,
    pub loss_policy: Option<String>,
    pub sets: Vec<ResourceSet>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    Location(Location),
    Colocation(Colocation),
    Order(Order),
    Ticket(Ticket),
}

impl Constraint {
    pub fn id(&self) -> &str {
        match self {
            Constraint::Location(c) => &c.id,
            Constraint::Colocation(c) => &c.id,
            Constraint::Order(c) => &c.id,
            Constraint::Ticket(c) => &c.id,
        }
    }

    /// Every resource id this constraint names (not expanding patterns or tags).
    pub fn resource_refs(&self) -> Vec<&str> {
        fn sets(s: &[ResourceSet]) -> Vec<&str> {
            s.iter()
                .flat_map(|s| s.resources.iter().map(String::as_str))
                .collect()
        }
        match self {
            Constraint::Location(l) => match &l.target {
                LocationTarget::Resource(r) => vec![r.as_str()],
                LocationTarget::Pattern(_) => vec![],
                LocationTarget::Sets(s) => sets(s),
            },
            Constraint::Colocation(c) => c
                .rsc
                .iter()
                .chain(c.with_rsc.iter())
                .map(String::as_str)
                .chain(sets(&c.sets))
                .collect(),
            Constraint::Order(o) => o
                .first
                .iter()
                .chain(o.then.iter())
                .map(String::as_str)
                .chain(sets(&o.sets))
                .collect(),
            Constraint::Ticket(t) => t
                .rsc
                .iter()
                .map(String::as_str)
                .chain(sets(&t.sets))
                .collect(),
        }
    }
}

// ---- unpacking ---------------------------------------------------------------------------

struct Reader<'a> {
    doc: &'a Document,
    ids: &'a IdIndex,
    problems: &'a mut Problems,
    object: String,
}

impl Reader<'_> {
    fn text(&self, n: NodeId, name: &str) -> Option<String> {
        self.doc.attr(n, name).map(str::to_string)
    }

    fn score(&mut self, n: NodeId, name: &str) -> Option<Score> {
        let v = self.doc.attr(n, name)?;
        match Score::parse(v) {
            Ok(s) => Some(s),
            Err(e) => {
                self.problems.error(&self.object, format!("{name}: {e}"));
                None
            }
        }
    }

    fn role(&mut self, n: NodeId, name: &str) -> Option<Role> {
        let v = self.doc.attr(n, name)?;
        Role::parse_or_report(v, &self.object.clone(), self.problems)
    }

    fn flag(&mut self, n: NodeId, name: &str) -> Option<bool> {
        let v = self.doc.attr(n, name)?;
        let b = parse_bool(v);
        if b.is_none() {
            self.problems
                .error(&self.object, format!("{name}={v:?} is not a boolean"));
        }
        b
    }

    fn kind(&mut self, n: NodeId) -> Option<OrderKind> {
        match self.doc.attr(n, "kind")? {
            "Mandatory" | "mandatory" => Some(OrderKind::Mandatory),
            "Optional" | "optional" => Some(OrderKind::Optional),
            "Serialize" | "serialize" => Some(OrderKind::Serialize),
            other => {
                self.problems.error(
                    &self.object,
                    format!("kind {other:?} is not Mandatory, Optional or Serialize"),
                );
                None
            }
        }
    }

    fn sets(&mut self, n: NodeId) -> Vec<ResourceSet> {
        let nodes: Vec<NodeId> = self.doc.children_named(n, "resource_set").collect();
        nodes
            .into_iter()
            .map(|s| {
                let s = self
                    .ids
                    .follow_ref(self.doc, s, "resource_set", self.problems);
                let resources = self
                    .doc
                    .children_named(s, "resource_ref")
                    .filter_map(|r| self.doc.attr(r, "id").map(str::to_string))
                    .collect::<Vec<_>>();
                if resources.is_empty() {
                    self.problems.error(
                        &self.object,
                        format!(
                            "resource_set {} names no resources",
                            self.doc.attr(s, "id").unwrap_or("")
                        ),
                    );
                }
                ResourceSet {
                    id: self.doc.attr(s, "id").unwrap_or("").to_string(),
                    sequential: self.flag(s, "sequential"),
                    require_all: self.flag(s, "require-all"),
                    ordering: self.text(s, "ordering"),
                    action: self.text(s, "action"),
                    role: self.role(s, "role"),
                    score: self.score(s, "score"),
                    kind: self.text(s, "kind"),
                    resources,
                }
            })
            .collect()
    }
}

/// Reads one constraint element; `None` for elements that are not constraints.
pub fn unpack_constraint(
    doc: &Document,
    n: NodeId,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Option<Constraint> {
    let id = doc.attr(n, "id").unwrap_or("").to_string();
    let object = format!("{} {id}", doc.name(n));
    let mut r = Reader {
        doc,
        ids,
        problems,
        object,
    };
    let c = match doc.name(n) {
        "rsc_location" => Constraint::Location(unpack_location(&mut r, n, id)),
        "rsc_colocation" => {
            let sets = r.sets(n);
            let score = r.score(n, "score").unwrap_or(Score::ZERO);
            let c = Colocation {
                id,
                score,
                rsc: r.text(n, "rsc"),
                with_rsc: r.text(n, "with-rsc"),
                rsc_role: r.role(n, "rsc-role"),
                with_rsc_role: r.role(n, "with-rsc-role"),
                node_attribute: r.text(n, "node-attribute"),
                influence: r.flag(n, "influence"),
                sets,
            };
            if c.sets.is_empty() && (c.rsc.is_none() || c.with_rsc.is_none()) {
                r.problems.error(
                    &r.object,
                    "needs both `rsc` and `with-rsc`, or resource sets",
                );
            }
            Constraint::Colocation(c)
        }
        "rsc_order" => {
            let sets = r.sets(n);
            let o = Order {
                id,
                first: r.text(n, "first"),
                then: r.text(n, "then"),
                first_action: r.text(n, "first-action"),
                then_action: r.text(n, "then-action"),
                kind: r.kind(n),
                score: r.score(n, "score"),
                symmetrical: r.flag(n, "symmetrical"),
                require_all: r.flag(n, "require-all"),
                sets,
            };
            if o.sets.is_empty() && (o.first.is_none() || o.then.is_none()) {
                r.problems
                    .error(&r.object, "needs both `first` and `then`, or resource sets");
            }
            Constraint::Order(o)
        }
        "rsc_ticket" => {
            let sets = r.sets(n);
            let ticket = r.text(n, "ticket").unwrap_or_else(|| {
                r.problems.error(&r.object, "no `ticket` given");
                String::new()
            });
            Constraint::Ticket(Ticket {
                id,
                ticket,
                rsc: r.text(n, "rsc"),
                rsc_role: r.role(n, "rsc-role"),
                loss_policy: r.text(n, "loss-policy"),
                sets,
            })
        }
        _ => return None,
    };
    Some(c)
}

fn unpack_location(r: &mut Reader<'_>, n: NodeId, id: String) -> Location {
    let doc = r.doc;
    let sets = r.sets(n);
    let target = if let Some(rsc) = r.text(n, "rsc") {
        LocationTarget::Resource(rsc)
    } else if let Some(p) = r.text(n, "rsc-pattern") {
        LocationTarget::Pattern(p)
    } else {
        if sets.is_empty() {
            r.problems.error(
                &r.object,
                "names no resource: give `rsc`, `rsc-pattern` or a resource set",
            );
        }
        LocationTarget::Sets(sets)
    };
    let rules: Vec<Rule> = doc
        .children_named(n, "rule")
        .map(|rn| unpack_rule(doc, rn, r.ids, r.problems))
        .collect();
    let node = r.text(n, "node");
    let score = r.score(n, "score");
    if rules.is_empty() && (node.is_none() || score.is_none()) {
        r.problems
            .error(&r.object, "needs `node` and `score`, or a rule");
    }
    if rules.len() > 1 {
        r.problems.warning(
            &r.object,
            "more than one top-level rule (Pacemaker 3 allows one); all are applied",
        );
    }
    let resource_discovery = r.text(n, "resource-discovery");
    if let Some(d) = &resource_discovery
        && !["always", "never", "exclusive"].contains(&d.as_str())
    {
        r.problems.error(
            &r.object,
            format!("resource-discovery {d:?} is not always, never or exclusive"),
        );
    }
    Location {
        id,
        target,
        node,
        score,
        rules,
        role: r.role(n, "role"),
        resource_discovery,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(xml: &str) -> (Vec<Constraint>, Problems) {
        let doc = Document::parse(xml).unwrap();
        let ids = IdIndex::build(&doc);
        let mut p = Problems::default();
        let cs = doc
            .elements(doc.root().unwrap())
            .filter_map(|n| unpack_constraint(&doc, n, &ids, &mut p))
            .collect();
        (cs, p)
    }

    #[test]
    fn all_kinds() {
        let (cs, p) = load(
            r##"<constraints>
              <rsc_location id="l1" rsc="vip" node="n1" score="100"/>
              <rsc_location id="l2" rsc-pattern="^web" resource-discovery="exclusive"><rule id="r" score="-INFINITY"><expression id="e" attribute="#uname" operation="eq" value="n2"/></rule></rsc_location>
              <rsc_colocation id="c1" rsc="vip" with-rsc="web-clone" score="INFINITY" with-rsc-role="Master"/>
              <rsc_order id="o1" first="vip" then="web" kind="Optional"/>
              <rsc_order id="o2" first="a" then="b" score="0"/>
              <rsc_order id="o3"><resource_set id="s1" sequential="false"><resource_ref id="a"/><resource_ref id="b"/></resource_set><resource_set id="s2"><resource_ref id="c"/></resource_set></rsc_order>
              <rsc_ticket id="t1" ticket="T" rsc="db" loss-policy="fence"/>
            </constraints>"##,
        );
        assert!(p.0.is_empty(), "{:?}", p.0);
        assert_eq!(cs.len(), 7);
        let Constraint::Colocation(c) = &cs[2] else {
            panic!()
        };
        assert_eq!(
            (c.score, c.with_rsc_role),
            (Score::INFINITY, Some(Role::Promoted))
        );
        let Constraint::Order(o) = &cs[4] else {
            panic!()
        };
        assert_eq!(o.effective_kind(), OrderKind::Optional);
        let Constraint::Order(o) = &cs[5] else {
            panic!()
        };
        assert_eq!(o.sets.len(), 2);
        assert_eq!(o.sets[0].sequential, Some(false));
        assert!(o.effective_symmetrical());
        assert_eq!(cs[5].resource_refs(), vec!["a", "b", "c"]);
    }

    #[test]
    fn incomplete_constraints_are_reported() {
        let (_, p) = load(
            r#"<constraints><rsc_location id="l" rsc="x" score="5"/><rsc_colocation id="c" rsc="x" score="oops"/></constraints>"#,
        );
        let text: Vec<String> = p.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "error: rsc_location l: needs `node` and `score`, or a rule",
                "error: rsc_colocation c: score: \"oops\" is not a score: expected an integer, INFINITY, +INFINITY or -INFINITY",
                "error: rsc_colocation c: needs both `rsc` and `with-rsc`, or resource sets",
            ]
        );
    }
}
