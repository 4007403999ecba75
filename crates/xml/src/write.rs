//! Writing documents back out: the indented form Pacemaker's tools print, and W3C
//! Canonical XML (C14N 1.0, or C14N 2.0 with trimmed text) for comparisons and digests.

use std::fmt::Write as _;

use sha2::{Digest as _, Sha256};

use crate::dom::{Document, NodeId, NodeKind};

/// Options for [`Document::c14n`].
#[derive(Clone, Copy, Debug)]
pub struct C14nOptions {
    /// Keep comments ("with comments" canonicalisation).
    pub comments: bool,
    /// Trim leading and trailing whitespace of text and drop text that becomes empty
    /// (C14N 2.0's `TrimTextNodes`), so that indentation does not count.
    pub trim_text: bool,
}

impl C14nOptions {
    /// With comments, text trimmed: the comparison our round-trip tests use.
    pub const COMPARE: C14nOptions = C14nOptions {
        comments: true,
        trim_text: true,
    };
    /// Without comments, text trimmed: what digests are computed over.
    pub const DIGEST: C14nOptions = C14nOptions {
        comments: false,
        trim_text: true,
    };
}

impl Document {
    /// The whole document, indented two spaces per level, one element per line.
    pub fn to_pretty_string(&self) -> String {
        let mut out = String::new();
        for c in self.children(self.document_node()) {
            self.write_pretty(&mut out, c, 0);
        }
        out
    }

    /// One subtree, indented as [`Document::to_pretty_string`] does.
    pub fn node_to_pretty_string(&self, id: NodeId) -> String {
        let mut out = String::new();
        if id == self.document_node() {
            return self.to_pretty_string();
        }
        self.write_pretty(&mut out, id, 0);
        out
    }

    /// One subtree on a single line, with no added whitespace.
    pub fn node_to_compact_string(&self, id: NodeId) -> String {
        let mut out = String::new();
        self.write_inline(&mut out, id);
        out
    }

    fn write_pretty(&self, out: &mut String, id: NodeId, depth: usize) {
        indent(out, depth);
        match self.kind(id) {
            NodeKind::Element { .. } => {
                self.write_start_tag(out, id);
                if self.first_child(id).is_none() {
                    out.push_str("/>\n");
                } else if self.children(id).all(|c| self.is_block(c)) {
                    out.push_str(">\n");
                    for c in self.children(id) {
                        self.write_pretty(out, c, depth + 1);
                    }
                    indent(out, depth);
                    let _ = writeln!(out, "</{}>", self.name(id));
                } else {
                    out.push('>');
                    for c in self.children(id) {
                        self.write_inline(out, c);
                    }
                    let _ = writeln!(out, "</{}>", self.name(id));
                }
            }
            _ => {
                self.write_inline(out, id);
                out.push('\n');
            }
        }
    }

    /// Elements, comments and processing instructions may be indented freely; text may not.
    fn is_block(&self, id: NodeId) -> bool {
        matches!(
            self.kind(id),
            NodeKind::Element { .. } | NodeKind::Comment(_) | NodeKind::Pi { .. }
        )
    }

    fn write_start_tag(&self, out: &mut String, id: NodeId) {
        out.push('<');
        out.push_str(self.name(id));
        for (k, v) in self.attrs(id) {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape_attr(out, v);
            out.push('"');
        }
    }

    fn write_inline(&self, out: &mut String, id: NodeId) {
        match self.kind(id) {
            NodeKind::Document => {
                for c in self.children(id) {
                    self.write_inline(out, c);
                }
            }
            NodeKind::Element { .. } => {
                self.write_start_tag(out, id);
                if self.first_child(id).is_none() {
                    out.push_str("/>");
                } else {
                    out.push('>');
                    for c in self.children(id) {
                        self.write_inline(out, c);
                    }
                    let _ = write!(out, "</{}>", self.name(id));
                }
            }
            NodeKind::Text(t) => escape_text(out, t),
            NodeKind::CData(t) => {
                // "]]>" cannot appear inside a CDATA section: split it across two sections.
                let _ = write!(out, "<![CDATA[{}]]>", t.replace("]]>", "]]]]><![CDATA[>"));
            }
            NodeKind::Comment(t) => {
                let _ = write!(out, "<!--{t}-->");
            }
            NodeKind::Pi { target, content } => {
                if content.is_empty() {
                    let _ = write!(out, "<?{target}?>");
                } else {
                    let _ = write!(out, "<?{target} {content}?>");
                }
            }
            NodeKind::EntityRef(name) => {
                let _ = write!(out, "&{name};");
            }
            NodeKind::Decl(raw) => {
                let _ = write!(out, "<?{raw}?>");
            }
            NodeKind::DocType(raw) => {
                let _ = write!(out, "<!DOCTYPE {raw}>");
            }
        }
    }

    // ---- canonical form ----------------------------------------------------------------

    /// The canonical form of the whole document.
    pub fn c14n(&self, options: C14nOptions) -> String {
        self.node_c14n(self.document_node(), options)
    }

    /// The canonical form of a subtree (or of the document, for the document node).
    pub fn node_c14n(&self, id: NodeId, options: C14nOptions) -> String {
        let mut out = String::new();
        if id == self.document_node() {
            let root = self.root();
            let mut after_root = false;
            for c in self.children(id) {
                match self.kind(c) {
                    NodeKind::Element { .. } => {
                        self.c14n_into(&mut out, c, options);
                        after_root = true;
                    }
                    NodeKind::Comment(_) if !options.comments => {}
                    NodeKind::Comment(_) | NodeKind::Pi { .. } => {
                        // Outside the root, C14N separates nodes by a line feed: after them
                        // before the root, before them after it.
                        if after_root {
                            out.push('\n');
                        }
                        self.c14n_into(&mut out, c, options);
                        if !after_root && root.is_some() {
                            out.push('\n');
                        }
                    }
                    _ => {}
                }
            }
        } else {
            self.c14n_into(&mut out, id, options);
        }
        out
    }

    fn c14n_into(&self, out: &mut String, id: NodeId, options: C14nOptions) {
        match self.kind(id) {
            NodeKind::Element { .. } => {
                out.push('<');
                out.push_str(self.name(id));
                let mut attrs: Vec<(&str, &str)> = self.attrs(id).collect();
                attrs.sort_by(|a, b| a.0.cmp(b.0));
                for (k, v) in attrs {
                    let _ = write!(out, " {k}=\"");
                    c14n_escape_attr(out, v);
                    out.push('"');
                }
                out.push('>');
                self.c14n_children(out, id, options);
                let _ = write!(out, "</{}>", self.name(id));
            }
            NodeKind::Comment(t) if options.comments => {
                let _ = write!(out, "<!--{t}-->");
            }
            NodeKind::Pi { target, content } => {
                if content.is_empty() {
                    let _ = write!(out, "<?{target}?>");
                } else {
                    let _ = write!(out, "<?{target} {content}?>");
                }
            }
            _ => {}
        }
    }

    /// Children of an element; runs of adjacent text (text, CDATA, entity references) form one
    /// text node, as an XML data model sees them, before trimming.
    fn c14n_children(&self, out: &mut String, id: NodeId, options: C14nOptions) {
        let mut run = String::new();
        let flush = |out: &mut String, run: &mut String| {
            let text = if options.trim_text {
                run.trim_matches(is_xml_space)
            } else {
                run.as_str()
            };
            c14n_escape_text(out, text);
            run.clear();
        };
        for c in self.children(id) {
            match self.kind(c) {
                NodeKind::Text(t) | NodeKind::CData(t) => run.push_str(t),
                NodeKind::EntityRef(name) => {
                    let _ = write!(run, "&{name};");
                }
                NodeKind::Comment(_) if !options.comments => {}
                _ => {
                    flush(out, &mut run);
                    self.c14n_into(out, c, options);
                }
            }
        }
        flush(out, &mut run);
    }

    /// SHA-256 (hex) of the canonical form of the document without comments, with text
    /// trimmed: two documents that differ only in formatting, attribute order or comments
    /// have the same digest.
    pub fn digest(&self) -> String {
        self.node_digest(self.document_node())
    }

    /// [`Document::digest`] of one subtree.
    pub fn node_digest(&self, id: NodeId) -> String {
        let canonical = self.node_c14n(id, C14nOptions::DIGEST);
        let hash = Sha256::digest(canonical.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in hash.iter() {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Escapes an attribute value for the indented writer. Tabs and line breaks are written as
/// character references so that they survive the attribute-value normalisation of the next
/// parse.
pub fn escape_attr(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

/// Escapes text content for the indented writer.
pub fn escape_text(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn c14n_escape_attr(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn c14n_escape_text(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "<?xml version=\"1.0\"?>\n<!--head-->\n<cib z=\"1\" a=\"&quot;q&quot; &lt;&#10;\"><configuration><x>t&amp;u</x><!--in--><y/></configuration></cib>";

    #[test]
    fn pretty_form_is_indented_and_reparses_equal() {
        let doc = Document::parse(SAMPLE).unwrap();
        let pretty = doc.to_pretty_string();
        assert_eq!(
            pretty,
            "<?xml version=\"1.0\"?>\n<!--head-->\n<cib z=\"1\" a=\"&quot;q&quot; &lt;&#10;\">\n  <configuration>\n    <x>t&amp;u</x>\n    <!--in-->\n    <y/>\n  </configuration>\n</cib>\n"
        );
        let again = Document::parse(&pretty).unwrap();
        assert_eq!(
            again.c14n(C14nOptions::COMPARE),
            doc.c14n(C14nOptions::COMPARE)
        );
    }

    #[test]
    fn canonical_form_sorts_attributes_and_expands_empty_elements() {
        let doc = Document::parse(SAMPLE).unwrap();
        assert_eq!(
            doc.c14n(C14nOptions::COMPARE),
            "<!--head-->\n<cib a=\"&quot;q&quot; &lt;&#xA;\" z=\"1\"><configuration><x>t&amp;u</x><!--in--><y></y></configuration></cib>"
        );
        assert_eq!(
            doc.c14n(C14nOptions::DIGEST),
            "<cib a=\"&quot;q&quot; &lt;&#xA;\" z=\"1\"><configuration><x>t&amp;u</x><y></y></configuration></cib>"
        );
    }

    #[test]
    fn digest_ignores_formatting_and_attribute_order() {
        let a = Document::parse("<a x=\"1\" y=\"2\"><b/></a>").unwrap();
        let b = Document::parse("<a y=\"2\"  x=\"1\">\n  <b></b>\n</a>").unwrap();
        let c = Document::parse("<a y=\"2\" x=\"3\"><b/></a>").unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
        assert_eq!(a.digest().len(), 64);
    }

    #[test]
    fn mixed_content_is_written_inline() {
        let doc = Document::parse("<a><b>one<c/>two</b></a>").unwrap();
        assert_eq!(doc.to_pretty_string(), "<a>\n  <b>one<c/>two</b>\n</a>\n");
    }
}
