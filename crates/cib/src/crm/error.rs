//! Errors of the crm language: where (line and column), what was found, what was expected.

use std::fmt;

/// A position in crm text, both 1-based; columns count characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Text that is not valid crm syntax. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: found {found}, expected {expected}")]
pub struct SyntaxError {
    pub pos: Pos,
    /// What is at `pos`, as the user wrote it (quoted), or "the end of the line".
    pub found: String,
    pub expected: String,
}

impl SyntaxError {
    pub fn new(pos: Pos, found: impl Into<String>, expected: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos,
            found: found.into(),
            expected: expected.into(),
        }
    }

    /// The message prefixed with the name of the file (or `<stdin>`, `command line`).
    pub fn in_file(&self, origin: &str) -> String {
        format!("{origin}:{self}")
    }
}

/// A statement that parsed but cannot be applied to the configuration as it is (the object
/// exists already, a referenced object is missing, ...). The configuration is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct ApplyError {
    /// The start of the statement.
    pub pos: Pos,
    pub message: String,
}

impl ApplyError {
    pub fn new(pos: Pos, message: impl Into<String>) -> ApplyError {
        ApplyError {
            pos,
            message: message.into(),
        }
    }

    pub fn in_file(&self, origin: &str) -> String {
        format!("{origin}:{self}")
    }
}

/// Either kind of error, for callers that parse and apply in one go.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrmError {
    #[error("{0}")]
    Syntax(#[from] SyntaxError),
    #[error("{0}")]
    Apply(#[from] ApplyError),
}

impl CrmError {
    pub fn in_file(&self, origin: &str) -> String {
        match self {
            CrmError::Syntax(e) => e.in_file(origin),
            CrmError::Apply(e) => e.in_file(origin),
        }
    }
}
