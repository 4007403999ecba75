//! `tandem-xml`: the XML layer under the CIB.
//!
//! A Pacemaker CIB is an XML document that users edit by hand and tools rewrite; whatever we
//! do to it must keep what we do not understand. This crate holds such documents faithfully
//! and cheaply:
//!
//! ```text
//!   text ──parse──▶ Document (arena of nodes: ordered attributes, comments, unknown
//!                   │           elements and attributes, entity references, all kept)
//!                   ├──to_pretty_string──▶ indented text, as `cibadmin -Q` prints it
//!                   ├──c14n──▶ Canonical XML (for comparisons) ──sha256──▶ digest
//!                   └──diff(other)──▶ Patch ──apply──▶ other   (Patch ⇄ XML)
//! ```
//!
//! quick-xml does the tokenising; the tree, the writers, canonicalisation and the diff are
//! ours. This is a core crate: no I/O, no clock.
//!
//! ```
//! use tandem_xml::{Document, C14nOptions};
//! let before = Document::parse(r#"<cib epoch="1"><configuration/></cib>"#).unwrap();
//! let mut after = before.clone();
//! let root = after.root().unwrap();
//! after.set_attr(root, "epoch", "2");
//! let patch = before.diff(&after);
//! let mut replica = before.clone();
//! patch.apply(&mut replica).unwrap();
//! assert_eq!(replica.digest(), after.digest());
//! assert_eq!(replica.c14n(C14nOptions::COMPARE), r#"<cib epoch="2"><configuration></configuration></cib>"#);
//! ```

mod diff;
mod dom;
mod error;
mod parse;
mod path;
mod write;

pub use diff::{Op, PATCH_FORMAT, Patch, id_step};
pub use dom::{Attr, Children, Descendants, Document, MAX_NODES, Name, NodeId, NodeKind};
pub use error::{ParseError, PatchError, Position};
pub use parse::{MAX_DEPTH, MAX_INPUT_BYTES, ParseOptions};
pub use path::{Path, Step};
pub use write::{C14nOptions, escape_attr, escape_text};
