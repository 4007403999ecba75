//! Addresses of elements inside a document, written like a small subset of XPath:
//! `/cib/configuration/resources/primitive[@id='vip']`, `/cib/status/node_state[2]`.
//! `/` alone is the document node. A step without a predicate is the first element of that
//! name; `name[N]` is the N-th (1-based) among its same-named siblings.

use std::fmt;

use crate::dom::{Document, NodeId};

/// One step of a [`Path`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The element of this name whose `id` attribute has this value.
    Id { name: String, id: String },
    /// The element of this name at this 0-based position among same-named siblings.
    Index { name: String, index: usize },
}

/// A path from the document node down to an element.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Step>);

impl Path {
    /// The path of element `id` in `doc`: by `id` attribute where that identifies it among
    /// its same-named siblings, by position otherwise.
    pub fn of(doc: &Document, id: NodeId) -> Path {
        let mut steps = Vec::new();
        let mut at = Some(id);
        while let Some(n) = at {
            if n == doc.document_node() {
                break;
            }
            steps.push(Step::for_node(doc, n));
            at = doc.parent(n);
        }
        steps.reverse();
        Path(steps)
    }

    /// The path one step further down.
    pub fn child(&self, step: Step) -> Path {
        let mut steps = self.0.clone();
        steps.push(step);
        Path(steps)
    }

    /// The node this path names in `doc`.
    pub fn resolve(&self, doc: &Document) -> Option<NodeId> {
        let mut at = doc.document_node();
        for step in &self.0 {
            at = match step {
                Step::Id { name, id } => doc
                    .children_named(at, name)
                    .find(|&c| doc.attr(c, "id") == Some(id))?,
                Step::Index { name, index } => doc.children_named(at, name).nth(*index)?,
            };
        }
        Some(at)
    }

    /// Parses the textual form written by `Display`.
    pub fn parse(text: &str) -> Result<Path, String> {
        if text == "/" {
            return Ok(Path::default());
        }
        let mut rest = text
            .strip_prefix('/')
            .ok_or_else(|| format!("path {text:?} does not start with '/'"))?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            let end = rest.find(['/', '[']).unwrap_or(rest.len());
            let name = &rest[..end];
            if name.is_empty() {
                return Err(format!("empty step in path {text:?}"));
            }
            rest = &rest[end..];
            let step = if let Some(pred) = rest.strip_prefix('[') {
                let (step, after) = parse_predicate(name, pred)
                    .ok_or_else(|| format!("bad predicate in path {text:?}"))?;
                rest = after;
                step
            } else {
                Step::Index {
                    name: name.to_string(),
                    index: 0,
                }
            };
            steps.push(step);
            if let Some(r) = rest.strip_prefix('/') {
                rest = r;
                if rest.is_empty() {
                    return Err(format!("path {text:?} ends with '/'"));
                }
            } else if !rest.is_empty() {
                return Err(format!("unexpected {rest:?} in path {text:?}"));
            }
        }
        Ok(Path(steps))
    }
}

fn parse_predicate<'a>(name: &str, pred: &'a str) -> Option<(Step, &'a str)> {
    if let Some(q) = pred.strip_prefix("@id=") {
        let quote = q.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let body = &q[1..];
        let close = body.find(quote)?;
        let after = body[close + 1..].strip_prefix(']')?;
        return Some((
            Step::Id {
                name: name.to_string(),
                id: body[..close].to_string(),
            },
            after,
        ));
    }
    let close = pred.find(']')?;
    let n: usize = pred[..close].parse().ok()?;
    (n >= 1).then(|| {
        (
            Step::Index {
                name: name.to_string(),
                index: n - 1,
            },
            &pred[close + 1..],
        )
    })
}

impl Step {
    fn for_node(doc: &Document, n: NodeId) -> Step {
        let name = doc.name(n).to_string();
        let parent = doc.parent(n).unwrap_or(doc.document_node());
        if let Some(id) = doc.attr(n, "id") {
            let unique = doc
                .children_named(parent, &name)
                .filter(|&c| doc.attr(c, "id") == Some(id))
                .count()
                == 1;
            let quotable = !(id.contains('\'') && id.contains('"'));
            if unique && quotable {
                return Step::Id {
                    name,
                    id: id.to_string(),
                };
            }
        }
        let index = doc
            .children_named(parent, &name)
            .take_while(|&c| c != n)
            .count();
        Step::Index { name, index }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("/");
        }
        for step in &self.0 {
            match step {
                Step::Id { name, id } if id.contains('\'') => write!(f, "/{name}[@id=\"{id}\"]")?,
                Step::Id { name, id } => write!(f, "/{name}[@id='{id}']")?,
                Step::Index { name, index: 0 } => write!(f, "/{name}")?,
                Step::Index { name, index } => write!(f, "/{name}[{}]", index + 1)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_and_resolve() {
        let doc = Document::parse(
            "<cib><status><node_state id=\"1\"/><node_state id=\"1\"/><x/><x/></status><p id=\"a'b\"/></cib>",
        )
        .unwrap();
        let status = doc.descend(doc.root().unwrap(), &["status"]).unwrap();
        let kids: Vec<_> = doc.elements(status).collect();
        let paths: Vec<String> = kids
            .iter()
            .map(|&k| Path::of(&doc, k).to_string())
            .collect();
        assert_eq!(
            paths,
            vec![
                "/cib/status/node_state",
                "/cib/status/node_state[2]",
                "/cib/status/x",
                "/cib/status/x[2]"
            ]
        );
        for (&k, p) in kids.iter().zip(&paths) {
            let parsed = Path::parse(p).unwrap();
            assert_eq!(parsed.to_string(), *p);
            assert_eq!(parsed.resolve(&doc), Some(k));
        }
        let p = doc.find_by_id(doc.root().unwrap(), "a'b").unwrap();
        assert_eq!(Path::of(&doc, p).to_string(), "/cib/p[@id=\"a'b\"]");
        assert_eq!(
            Path::parse("/cib/p[@id=\"a'b\"]").unwrap().resolve(&doc),
            Some(p)
        );
        assert_eq!(
            Path::parse("/").unwrap().resolve(&doc),
            Some(doc.document_node())
        );
        assert!(Path::parse("cib").is_err());
        assert!(Path::parse("/cib/").is_err());
        assert!(Path::parse("/cib[0]").is_err());
        assert!(Path::parse("/cib[@id='x").is_err());
    }
}
