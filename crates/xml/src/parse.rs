//! Parsing text into a [`Document`] with quick-xml's event reader.
//!
//! Attribute values are normalised as XML 1.0 requires (tabs and newlines written literally
//! become spaces; character references survive), predefined entities and character
//! references are resolved, other entity references are kept as [`NodeKind::EntityRef`].
//! Whitespace-only text between elements is dropped unless [`ParseOptions::keep_blank_text`]
//! is set, as Pacemaker's own parser does: indentation is the writer's business.

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::dom::{Document, NodeId, NodeKind};
use crate::error::{ParseError, Position};

/// The deepest element nesting accepted. A CIB is about ten levels deep; the bound keeps
/// recursive consumers (writers, diff) far from the stack limit on hostile input.
pub const MAX_DEPTH: usize = 256;

/// The largest input accepted, in bytes (a large real CIB is tens of megabytes).
pub const MAX_INPUT_BYTES: usize = 1 << 30;

/// How to parse.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseOptions {
    /// Keep whitespace-only text nodes (off by default).
    pub keep_blank_text: bool,
}

impl Document {
    /// Parses `text` with default options.
    pub fn parse(text: &str) -> Result<Document, ParseError> {
        Self::parse_with(text, ParseOptions::default())
    }

    /// Parses `text`.
    pub fn parse_with(text: &str, options: ParseOptions) -> Result<Document, ParseError> {
        Parser::new(text, options).run()
    }
}

struct Parser<'a> {
    text: &'a str,
    reader: Reader<&'a [u8]>,
    options: ParseOptions,
    doc: Document,
    /// Open elements with the byte offset of their start tag.
    stack: Vec<(NodeId, usize)>,
    version: XmlVersion,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, options: ParseOptions) -> Self {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        Parser {
            text,
            reader,
            options,
            doc: Document::new(),
            stack: Vec::new(),
            version: XmlVersion::Implicit1_0,
        }
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            position: Position::of_offset(self.text, offset),
            message: message.into(),
        }
    }

    fn parent(&self) -> NodeId {
        self.stack
            .last()
            .map(|&(n, _)| n)
            .unwrap_or(self.doc.document_node())
    }

    fn add(&mut self, kind: NodeKind, offset: usize) -> Result<NodeId, ParseError> {
        if !self.doc.has_room() {
            return Err(self.error_at(offset, "document has too many nodes"));
        }
        let node = self.doc.create(kind);
        let parent = self.parent();
        self.doc.append_child(parent, node);
        Ok(node)
    }

    fn run(mut self) -> Result<Document, ParseError> {
        if self.text.len() > MAX_INPUT_BYTES {
            return Err(self.error_at(0, format!("input larger than {MAX_INPUT_BYTES} bytes")));
        }
        loop {
            let start = self.reader.buffer_position() as usize;
            let event = match self.reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let at = self.reader.error_position() as usize;
                    return Err(self.error_at(at, describe_quick_xml_error(&e)));
                }
            };
            match event {
                Event::Start(e) => {
                    let node = self.start_element(&e, start)?;
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(self
                            .error_at(start, format!("elements nested deeper than {MAX_DEPTH}")));
                    }
                    self.stack.push((node, start));
                }
                Event::Empty(e) => {
                    self.start_element(&e, start)?;
                }
                Event::End(_) => {
                    self.stack.pop();
                }
                Event::Text(t) => {
                    let content = t.xml_content(self.version);
                    self.text_node(&content, start)?;
                }
                Event::CData(t) => {
                    if self.stack.is_empty() {
                        return Err(self.error_at(start, "found CDATA outside the root element"));
                    }
                    let content = t.xml_content(self.version);
                    self.add(NodeKind::CData(content.as_ref().into()), start)?;
                }
                Event::GeneralRef(r) => self.reference(&r, start)?,
                Event::Comment(t) => {
                    let content = t.xml_content(self.version);
                    self.add(NodeKind::Comment(content.as_ref().into()), start)?;
                }
                Event::PI(pi) => {
                    let kind = NodeKind::Pi {
                        target: pi.target().into(),
                        content: pi.content().trim_start().into(),
                    };
                    self.add(kind, start)?;
                }
                Event::Decl(d) => {
                    if let Ok(v) = d.xml_version() {
                        self.version = v;
                    }
                    let raw: &str = &d;
                    self.add(NodeKind::Decl(raw.into()), start)?;
                }
                Event::DocType(t) => {
                    self.add(NodeKind::DocType(t.into_inner().as_ref().into()), start)?;
                }
                Event::Eof => break,
            }
        }
        if let Some(&(open, at)) = self.stack.last() {
            let name = self.doc.name(open).to_string();
            let pos = Position::of_offset(self.text, at);
            return Err(self.error_at(
                self.text.len(),
                format!("unexpected end of input: expected </{name}> to close the element opened at {pos}"),
            ));
        }
        if self.doc.root().is_none() {
            return Err(self.error_at(
                self.text.len(),
                "no root element found: expected an element such as <cib>",
            ));
        }
        Ok(self.doc)
    }

    fn start_element(
        &mut self,
        e: &quick_xml::events::BytesStart<'_>,
        start: usize,
    ) -> Result<NodeId, ParseError> {
        if self.stack.is_empty() && self.doc.root().is_some() {
            let first = self.doc.name(self.doc.root().expect("checked")).to_string();
            return Err(self.error_at(
                start,
                format!("found a second root element <{}> after </{first}>: a document has exactly one root", e.name().into_inner()),
            ));
        }
        let name = e.name().into_inner().to_string();
        let node = self.add(NodeKind::Document, start)?;
        let interned = self.doc.intern(&name);
        let mut attrs = Vec::new();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.error_at(start, format!("in <{name}>: {err}")))?;
            let value = attr.normalized_value(self.version).map_err(|err| {
                self.error_at(
                    start,
                    format!("in <{name}>: {}", describe_quick_xml_error(&err)),
                )
            })?;
            let key = self.doc.intern(attr.key.into_inner());
            attrs.push(crate::dom::Attr {
                name: key,
                value: value.as_ref().into(),
            });
        }
        // The node was added as a placeholder so that its parent link is in place; now give
        // it its real kind.
        *self.doc.kind_mut(node) = NodeKind::Element {
            name: interned,
            attrs,
        };
        Ok(node)
    }

    fn text_node(&mut self, content: &str, start: usize) -> Result<(), ParseError> {
        let blank = content.chars().all(|c| c.is_ascii_whitespace());
        if self.stack.is_empty() {
            if blank {
                return Ok(());
            }
            let found: String = content.trim().chars().take(20).collect();
            return Err(self.error_at(start, format!("found text \"{found}\" outside the root element; expected only elements, comments and processing instructions there")));
        }
        if blank && !self.options.keep_blank_text {
            return Ok(());
        }
        self.push_text(content, start)
    }

    /// Appends text, merging with a preceding text node (entity references split text into
    /// several events).
    fn push_text(&mut self, content: &str, start: usize) -> Result<(), ParseError> {
        let parent = self.parent();
        if let Some(last) = self.doc.last_child(parent)
            && let NodeKind::Text(t) = self.doc.kind(last)
        {
            let merged = format!("{t}{content}");
            self.doc.set_text(last, &merged);
            return Ok(());
        }
        self.add(NodeKind::Text(content.into()), start)?;
        Ok(())
    }

    fn reference(
        &mut self,
        r: &quick_xml::events::BytesRef<'_>,
        start: usize,
    ) -> Result<(), ParseError> {
        if self.stack.is_empty() {
            return Err(self.error_at(start, "found an entity reference outside the root element"));
        }
        let resolved: Option<String> = match r.resolve_char_ref() {
            Ok(Some(c)) => Some(c.to_string()),
            Ok(None) => {
                let name = r.xml_content(self.version);
                quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
            }
            Err(e) => return Err(self.error_at(start, describe_quick_xml_error(&e))),
        };
        match resolved {
            Some(text) => self.push_text(&text, start),
            None => {
                let name = r.xml_content(self.version).into_owned();
                self.add(NodeKind::EntityRef(name.into()), start)?;
                Ok(())
            }
        }
    }
}

fn describe_quick_xml_error(e: &quick_xml::Error) -> String {
    use quick_xml::errors::IllFormedError as I;
    match e {
        quick_xml::Error::IllFormed(I::MismatchedEndTag { expected, found }) => {
            format!("found </{found}>, expected </{expected}>")
        }
        quick_xml::Error::IllFormed(I::UnmatchedEndTag(found)) => {
            format!("found </{found}> but no element is open")
        }
        quick_xml::Error::IllFormed(I::MissingEndTag(name)) => {
            format!("expected </{name}> before the end of input")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_attributes_in_order_with_entities() {
        let doc = Document::parse(
            "<?xml version=\"1.0\"?>\n<!-- top -->\n<cib b=\"2\" a=\"x &amp; &#x41;&#10;\">\n  <x>t &lt; u</x>\n  <!--c-->\n</cib>\n",
        )
        .unwrap();
        let root = doc.root().unwrap();
        assert_eq!(
            doc.attrs(root).collect::<Vec<_>>(),
            vec![("b", "2"), ("a", "x & A\n")]
        );
        let kids: Vec<_> = doc.children(root).collect();
        assert_eq!(kids.len(), 2, "blank text dropped");
        assert_eq!(doc.text(kids[0]), "t < u");
        assert_eq!(doc.kind(kids[1]), &NodeKind::Comment("c".into()));
        assert_eq!(
            doc.children(doc.document_node()).count(),
            3,
            "decl, comment, root"
        );
    }

    #[test]
    fn literal_newlines_in_attributes_normalise_to_spaces() {
        let doc = Document::parse("<a v=\"x\ny\tz\"/>").unwrap();
        assert_eq!(doc.attr(doc.root().unwrap(), "v"), Some("x y z"));
    }

    #[test]
    fn errors_name_line_column_found_and_expected() {
        let e = Document::parse("<cib>\n  <a>\n  </b>\n</cib>").unwrap_err();
        assert_eq!(e.to_string(), "3:3: found </b>, expected </a>");
        let e = Document::parse("<cib>\n<a>").unwrap_err();
        assert_eq!(
            e.to_string(),
            "2:4: unexpected end of input: expected </a> to close the element opened at 2:1"
        );
        let e = Document::parse("<a/><b/>").unwrap_err();
        assert_eq!(e.position, Position { line: 1, column: 5 });
        assert!(e.message.contains("second root element <b>"), "{e}");
        let e = Document::parse("   ").unwrap_err();
        assert!(e.message.starts_with("no root element"), "{e}");
        let e = Document::parse("<a x=\"1\" x=\"2\"/>").unwrap_err();
        assert!(e.message.contains("in <a>"), "{e}");
        let e = Document::parse("hello <a/>").unwrap_err();
        assert!(e.message.contains("outside the root"), "{e}");
    }

    #[test]
    fn depth_limit_is_an_error_not_a_crash() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        let e = Document::parse(&deep).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e}");
    }

    #[test]
    fn unknown_entities_are_kept() {
        let doc = Document::parse("<a>x&custom;y</a>").unwrap();
        let kinds: Vec<_> = doc
            .children(doc.root().unwrap())
            .map(|c| doc.kind(c).clone())
            .collect();
        assert_eq!(
            kinds,
            vec![
                NodeKind::Text("x".into()),
                NodeKind::EntityRef("custom".into()),
                NodeKind::Text("y".into())
            ]
        );
    }
}
