//! The small regular-expression subset `rsc-pattern` needs (POSIX extended syntax: literals,
//! `.`, `^`, `$`, `*`, `+`, `?`, bracket classes, groups with submatches, `|`), matched by
//! backtracking. Resource ids are short, so the exponential worst case of backtracking is
//! bounded by [`MAX_STEPS`].

/// The most matching steps one search may take before giving up (no match).
pub const MAX_STEPS: usize = 100_000;
/// The longest pattern accepted.
pub const MAX_PATTERN_LEN: usize = 1_000;
/// The longest text matched (matching recurses per character; ids are short).
pub const MAX_TEXT_LEN: usize = 1_000;

#[derive(Clone, Debug)]
enum Node {
    Char(char),
    Any,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
    Start,
    End,
    Group(usize, Vec<Vec<Node>>),
    Repeat(Box<Node>, usize, usize),
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    alts: Vec<Vec<Node>>,
    groups: usize,
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    groups: usize,
    _s: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn alternatives(&mut self, depth: usize) -> Option<Vec<Vec<Node>>> {
        if depth > 32 {
            return None;
        }
        let mut alts = vec![self.sequence(depth)?];
        while self.peek() == Some('|') {
            self.pos += 1;
            alts.push(self.sequence(depth)?);
        }
        Some(alts)
    }

    fn sequence(&mut self, depth: usize) -> Option<Vec<Node>> {
        let mut seq = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            self.pos += 1;
            let atom = match c {
                '.' => Node::Any,
                '^' => Node::Start,
                '$' => Node::End,
                '(' => {
                    self.groups += 1;
                    let g = self.groups;
                    let alts = self.alternatives(depth + 1)?;
                    if self.peek() != Some(')') {
                        return None;
                    }
                    self.pos += 1;
                    Node::Group(g, alts)
                }
                '[' => self.class()?,
                '\\' => {
                    let e = self.peek()?;
                    self.pos += 1;
                    Node::Char(e)
                }
                '*' | '+' | '?' => return None,
                c => Node::Char(c),
            };
            let atom = match self.peek() {
                Some('*') => Node::Repeat(Box::new(atom), 0, usize::MAX),
                Some('+') => Node::Repeat(Box::new(atom), 1, usize::MAX),
                Some('?') => Node::Repeat(Box::new(atom), 0, 1),
                _ => {
                    seq.push(atom);
                    continue;
                }
            };
            self.pos += 1;
            seq.push(atom);
        }
        Some(seq)
    }

    fn class(&mut self) -> Option<Node> {
        let mut negated = false;
        if self.peek() == Some('^') {
            negated = true;
            self.pos += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek()?;
            self.pos += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                let hi = self.chars[self.pos + 1];
                self.pos += 2;
                items.push((c, hi));
            } else {
                items.push((c, c));
            }
        }
        Some(Node::Class { negated, items })
    }
}

struct Matcher<'a> {
    text: &'a [char],
    caps: Vec<Option<(usize, usize)>>,
    steps: usize,
}

impl Matcher<'_> {
    /// Matches `seq[i..]` then the continuation `k` at text position `pos`.
    fn seq(
        &mut self,
        seq: &[Node],
        pos: usize,
        k: &mut dyn FnMut(&mut Self, usize) -> bool,
    ) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return false;
        }
        let Some((first, rest)) = seq.split_first() else {
            return k(self, pos);
        };
        match first {
            Node::Char(c) => self.text.get(pos) == Some(c) && self.seq(rest, pos + 1, k),
            Node::Any => pos < self.text.len() && self.seq(rest, pos + 1, k),
            Node::Class { negated, items } => match self.text.get(pos) {
                Some(&ch) => {
                    let inside = items.iter().any(|&(lo, hi)| lo <= ch && ch <= hi);
                    inside != *negated && self.seq(rest, pos + 1, k)
                }
                None => false,
            },
            Node::Start => pos == 0 && self.seq(rest, pos, k),
            Node::End => pos == self.text.len() && self.seq(rest, pos, k),
            Node::Group(g, alts) => {
                let g = *g;
                for alt in alts {
                    let saved = self.caps[g];
                    let ok = self.seq(alt, pos, &mut |m: &mut Self, end| {
                        let before = m.caps[g];
                        m.caps[g] = Some((pos, end));
                        if m.seq(rest, end, k) {
                            return true;
                        }
                        m.caps[g] = before;
                        false
                    });
                    if ok {
                        return true;
                    }
                    self.caps[g] = saved;
                }
                false
            }
            Node::Repeat(atom, min, max) => self.repeat(atom, *min, *max, 0, rest, pos, k),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn repeat(
        &mut self,
        atom: &Node,
        min: usize,
        max: usize,
        count: usize,
        rest: &[Node],
        pos: usize,
        k: &mut dyn FnMut(&mut Self, usize) -> bool,
    ) -> bool {
        // Greedy: try one more repetition first.
        if count < max {
            let one = std::slice::from_ref(atom);
            let more = self.seq(one, pos, &mut |m: &mut Self, next| {
                next != pos && m.repeat(atom, min, max, count + 1, rest, next, k)
            });
            if more {
                return true;
            }
        }
        count >= min && self.seq(rest, pos, k)
    }
}

impl Pattern {
    /// Compiles a pattern; `None` if it is not valid (or too long).
    pub fn compile(text: &str) -> Option<Pattern> {
        if text.len() > MAX_PATTERN_LEN {
            return None;
        }
        let mut p = Parser {
            chars: text.chars().collect(),
            pos: 0,
            groups: 0,
            _s: text,
        };
        let alts = p.alternatives(0)?;
        if p.pos != p.chars.len() {
            return None;
        }
        Some(Pattern {
            alts,
            groups: p.groups,
        })
    }

    /// Searches `text`; on a match returns the submatches `%1..` (empty strings for groups that
    /// did not take part).
    pub fn captures(&self, text: &str) -> Option<Vec<String>> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > MAX_TEXT_LEN {
            return None;
        }
        let root = Node::Group(0, self.alts.clone());
        for start in 0..=chars.len() {
            let mut m = Matcher {
                text: &chars,
                caps: vec![None; self.groups + 1],
                steps: 0,
            };
            if m.seq(std::slice::from_ref(&root), start, &mut |_, _| true) {
                return Some(
                    (1..=self.groups)
                        .map(|g| {
                            m.caps[g]
                                .map(|(a, b)| chars[a..b].iter().collect())
                                .unwrap_or_default()
                        })
                        .collect(),
                );
            }
        }
        None
    }

    #[cfg(test)]
    fn is_match(&self, text: &str) -> bool {
        self.captures(text).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_posix_extended() {
        let p = Pattern::compile("^web-(.*)-([0-9]+)$").unwrap();
        assert_eq!(
            p.captures("web-front-12"),
            Some(vec!["front".to_string(), "12".to_string()])
        );
        assert!(p.captures("xweb-a-1").is_none());
        assert!(Pattern::compile("rsc[13]").unwrap().is_match("my-rsc3"));
        assert!(!Pattern::compile("rsc[^13]").unwrap().is_match("rsc3"));
        assert!(Pattern::compile("a|b").unwrap().is_match("xbx"));
        assert!(Pattern::compile("^ab?c+$").unwrap().is_match("acc"));
        assert!(Pattern::compile("(").is_none());
        assert!(Pattern::compile("*a").is_none());
    }
}
