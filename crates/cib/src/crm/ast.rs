//! What a crm statement means, before it touches a CIB.
//!
//! Object definitions are parsed straight into the XML they stand for (as crmsh does), held
//! as small owned [`Elem`] trees without generated ids; [`super::apply`] assigns the ids and
//! places the elements.

use super::error::Pos;

/// An XML element under construction.
///
/// A child named [`COMMENT`] or [`TEXT`] stands for a comment or a text node at that
/// place, its content in the attribute `text` (only `xml` objects, which are kept exactly as
/// written, have them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Elem {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Elem>,
    /// Comments to keep inside the element, before its children (crm comment lines written
    /// before a definition).
    pub comments: Vec<String>,
}

/// The name of an [`Elem`] child that stands for a comment.
pub const COMMENT: &str = "#comment";
/// The name of an [`Elem`] child that stands for text.
pub const TEXT: &str = "#text";

impl Elem {
    pub fn new(name: &str) -> Elem {
        Elem {
            name: name.to_string(),
            ..Elem::default()
        }
    }

    /// Sets an attribute, replacing its value in place if present.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.attrs.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value.to_string(),
            None => self.attrs.push((name.to_string(), value.to_string())),
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> Elem {
        self.set(name, value);
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn id(&self) -> Option<&str> {
        self.get("id")
    }

    /// The element children, without the comment and text stand-ins.
    pub fn elements(&self) -> impl Iterator<Item = &Elem> {
        self.children.iter().filter(|c| !c.name.starts_with('#'))
    }
}

/// Which `<configuration>` section a name-value set lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NvSection {
    /// `property`: a `cluster_property_set` in `crm_config`.
    Property,
    /// `rsc_defaults`: a `meta_attributes` in `rsc_defaults`.
    RscDefaults,
    /// `op_defaults`: a `meta_attributes` in `op_defaults`.
    OpDefaults,
}

impl NvSection {
    pub fn keyword(self) -> &'static str {
        match self {
            NvSection::Property => "property",
            NvSection::RscDefaults => "rsc_defaults",
            NvSection::OpDefaults => "op_defaults",
        }
    }

    /// The section element.
    pub fn section(self) -> &'static str {
        match self {
            NvSection::Property => "crm_config",
            NvSection::RscDefaults => "rsc_defaults",
            NvSection::OpDefaults => "op_defaults",
        }
    }

    /// The id crmsh gives the set when none is named.
    pub fn default_id(self) -> &'static str {
        match self {
            NvSection::Property => "cib-bootstrap-options",
            NvSection::RscDefaults => "rsc-options",
            NvSection::OpDefaults => "op-options",
        }
    }
}

/// Whom a fencing level applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FenceTarget {
    /// No target written: every configured node.
    AllNodes,
    Node(String),
    Pattern(String),
    Attribute {
        name: String,
        value: String,
    },
}

/// A configuration object to create (or, when loading with `update`, to replace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// `node`: a `<node>` in `nodes`.
    Node(Elem),
    /// `primitive` or `rsc_template`: the element, placed in `resources`.
    Primitive(Elem),
    /// `group ID members...`: the members are existing primitives moved into it.
    Group { elem: Elem, members: Vec<String> },
    /// `clone`/`ms ID child`: the child is an existing primitive or group moved into it.
    Clone { elem: Elem, child: String },
    /// `location`, `colocation`, `order`, `rsc_ticket`.
    Constraint(Elem),
    /// `tag ID members...`.
    Tag(Elem),
    /// `property`, `rsc_defaults`, `op_defaults`: merged into the set of that id.
    NvSet { section: NvSection, set: Elem },
    /// `fencing_topology`: replaces the whole `fencing-topology` section.
    Fencing(Vec<(FenceTarget, String)>),
    /// `bundle ID ... [primitive RSC]`: a `primitive` child names an existing primitive
    /// that is moved into the bundle at that place.
    Bundle(Elem),
    /// `alert ID PATH ...`.
    Alert(Elem),
    /// `role`, `acl_target` (`user`), `acl_group`.
    Acl(Elem),
    /// `xml <element .../>`: any configuration element, verbatim.
    Xml(Elem),
}

impl Object {
    /// The object's id as `show`, `delete` and `rename` name it.
    pub fn id(&self) -> String {
        match self {
            Object::Node(e) => e
                .id()
                .or_else(|| e.get("uname"))
                .unwrap_or_default()
                .to_string(),
            Object::Primitive(e)
            | Object::Group { elem: e, .. }
            | Object::Clone { elem: e, .. }
            | Object::Constraint(e)
            | Object::Tag(e)
            | Object::Bundle(e)
            | Object::Alert(e)
            | Object::Acl(e) => e.id().unwrap_or_default().to_string(),
            Object::Xml(e) => match e.name.as_str() {
                "fencing-topology" => "fencing_topology".to_string(),
                "node" => e.id().or(e.get("uname")).unwrap_or_default().to_string(),
                // A defaults set written inside its section.
                "rsc_defaults" | "op_defaults" => e
                    .elements()
                    .next()
                    .and_then(Elem::id)
                    .unwrap_or_default()
                    .to_string(),
                _ => e.id().unwrap_or_default().to_string(),
            },
            Object::NvSet { section, set } => set.id().unwrap_or(section.default_id()).to_string(),
            Object::Fencing(_) => "fencing_topology".to_string(),
        }
    }
}

/// How `load` combines a file with the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadMethod {
    /// Objects in the file replace the objects of the same id; the rest stay.
    Update,
    /// The file's objects become the whole configuration.
    Replace,
}

/// One statement of the `configure` level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Define(Object),
    Delete(Vec<String>),
    Rename {
        from: String,
        to: String,
    },
    Show {
        xml: bool,
        ids: Vec<String>,
    },
    Verify,
    Commit {
        force: bool,
    },
    Load {
        method: LoadMethod,
        xml: bool,
        path: String,
    },
    Edit(Vec<String>),
}

/// A command and where its statement starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub pos: Pos,
    pub value: T,
}
