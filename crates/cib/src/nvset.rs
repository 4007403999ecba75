//! Option blocks: `instance_attributes`, `meta_attributes`, `utilization` and
//! `cluster_property_set` — lists of name/value pairs with an optional score and rule,
//! possibly shared through `id-ref`.
//!
//! Precedence (Pacemaker's): blocks are considered in descending score (a block named
//! first-class, like `cib-bootstrap-options`, before all others), document order among equal
//! scores; blocks whose rule does not hold are skipped; the first value found for a name wins.

use std::collections::BTreeMap;

use tandem_xml::{Document, NodeId};

use crate::ids::IdIndex;
use crate::problem::Problems;
use crate::rules::{Rule, RuleContext, unpack_rule};
use crate::score::Score;

/// One `nvpair`. A pair without `value` is kept (it can unset a lower-precedence value).
#[derive(Clone, Debug, PartialEq)]
pub struct NvPair {
    pub id: String,
    pub name: String,
    pub value: Option<String>,
}

/// One option block, with any `id-ref` already resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct NvSet {
    /// The block's own id (for a reference, the referring element's id if it has one).
    pub id: String,
    /// The element name: `instance_attributes`, `meta_attributes`, `utilization`, ...
    pub kind: String,
    /// The id this block was copied from, if it was an `id-ref`.
    pub reference: Option<String>,
    pub score: Score,
    pub rule: Option<Rule>,
    pub pairs: Vec<NvPair>,
}

impl NvSet {
    /// The value of `name` in this block alone (rules not evaluated).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.as_deref())
    }
}

/// Reads an option block element.
pub fn unpack_nvset(doc: &Document, node: NodeId, ids: &IdIndex, problems: &mut Problems) -> NvSet {
    let kind = doc.name(node).to_string();
    let own_id = doc.attr(node, "id").map(str::to_string);
    let target = ids.follow_ref(doc, node, "", problems);
    let reference = (target != node).then(|| doc.attr(target, "id").unwrap_or("").to_string());
    let object = format!(
        "{kind} {}",
        own_id.as_deref().or(reference.as_deref()).unwrap_or("")
    );
    let score = match doc
        .attr(node, "score")
        .or_else(|| doc.attr(target, "score"))
    {
        None => Score::ZERO,
        Some(s) => Score::parse(s).unwrap_or_else(|e| {
            problems.error(&object, format!("{e}; using 0"));
            Score::ZERO
        }),
    };
    let rules: Vec<NodeId> = doc.children_named(target, "rule").collect();
    if rules.len() > 1 {
        problems.warning(&object, "more than one top-level rule: only the first is used (combine them in one rule with boolean-op)");
    }
    let rule = rules.first().map(|&r| unpack_rule(doc, r, ids, problems));
    let pairs = doc
        .children_named(target, "nvpair")
        .map(|p| {
            let p = ids.follow_ref(doc, p, "nvpair", problems);
            NvPair {
                id: doc.attr(p, "id").unwrap_or("").to_string(),
                name: doc.attr(p, "name").unwrap_or("").to_string(),
                value: doc.attr(p, "value").map(str::to_string),
            }
        })
        .collect();
    NvSet {
        id: own_id.or_else(|| reference.clone()).unwrap_or_default(),
        kind,
        reference,
        score,
        rule,
        pairs,
    }
}

/// Reads every child of `parent` named `kind` as an option block.
pub fn unpack_nvsets(
    doc: &Document,
    parent: NodeId,
    kind: &str,
    ids: &IdIndex,
    problems: &mut Problems,
) -> Vec<NvSet> {
    doc.children_named(parent, kind)
        .map(|n| unpack_nvset(doc, n, ids, problems))
        .collect()
}

/// Merges option blocks into one map by Pacemaker's precedence (see the module docs).
/// `first` names a block that goes before all others regardless of score.
pub fn evaluate<'a>(
    sets: impl IntoIterator<Item = &'a NvSet>,
    ctx: &RuleContext<'_>,
    first: Option<&str>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    evaluate_into(&mut out, sets, ctx, first);
    out
}

/// Like [`evaluate`], but values already in `out` win (so callers can layer a lower
/// precedence source, such as `rsc_defaults`, after a higher one).
pub fn evaluate_into<'a>(
    out: &mut BTreeMap<String, String>,
    sets: impl IntoIterator<Item = &'a NvSet>,
    ctx: &RuleContext<'_>,
    first: Option<&str>,
) {
    let mut ordered: Vec<&NvSet> = sets.into_iter().collect();
    // Stable sort keeps document order among equal scores.
    ordered.sort_by(|a, b| {
        let a_first = first.is_some_and(|f| a.id == f);
        let b_first = first.is_some_and(|f| b.id == f);
        b_first.cmp(&a_first).then(b.score.cmp(&a.score))
    });
    let mut unset: Vec<&str> = Vec::new();
    for set in ordered {
        if set.rule.as_ref().is_some_and(|r| !r.evaluate(ctx)) {
            continue;
        }
        for pair in &set.pairs {
            if out.contains_key(&pair.name) || unset.contains(&pair.name.as_str()) {
                continue;
            }
            match &pair.value {
                Some(v) => {
                    out.insert(pair.name.clone(), v.clone());
                }
                None => unset.push(&pair.name),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DateTime;

    #[test]
    fn precedence_by_score_rule_and_first_block() {
        let doc = Document::parse(
            r#"<r>
              <meta_attributes id="low"><nvpair id="a1" name="a" value="low"/><nvpair id="b1" name="b" value="low"/></meta_attributes>
              <meta_attributes id="high" score="10"><nvpair id="a2" name="a" value="high"/></meta_attributes>
              <meta_attributes id="ruled" score="100"><rule id="never"><expression id="e" attribute="x" operation="defined"/></rule><nvpair id="a3" name="a" value="ruled"/></meta_attributes>
              <meta_attributes id="shared-ref" id-ref="low"/>
            </r>"#,
        )
        .unwrap();
        let ids = IdIndex::build(&doc);
        let mut p = Problems::default();
        let sets = unpack_nvsets(&doc, doc.root().unwrap(), "meta_attributes", &ids, &mut p);
        assert!(p.0.is_empty(), "{:?}", p.0);
        assert_eq!(sets[3].reference.as_deref(), Some("low"));
        assert_eq!(sets[3].get("b"), Some("low"));
        let ctx = RuleContext::at(DateTime::from_epoch(0));
        let m = evaluate(&sets, &ctx, None);
        assert_eq!(m.get("a").map(String::as_str), Some("high"));
        assert_eq!(m.get("b").map(String::as_str), Some("low"));
        let m = evaluate(&sets, &ctx, Some("low"));
        assert_eq!(m.get("a").map(String::as_str), Some("low"));
    }

    #[test]
    fn broken_reference_is_reported() {
        let doc = Document::parse(r#"<r><meta_attributes id="m" id-ref="nowhere"/></r>"#).unwrap();
        let ids = IdIndex::build(&doc);
        let mut p = Problems::default();
        let sets = unpack_nvsets(&doc, doc.root().unwrap(), "meta_attributes", &ids, &mut p);
        assert!(sets[0].pairs.is_empty());
        assert_eq!(p.0.len(), 1);
        assert!(p.0[0].message.contains("refers to nothing"));
    }
}
