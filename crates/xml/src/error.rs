//! Errors of this crate. None of them leaves a document half-changed: parsing builds a new
//! document or nothing, and a patch that fails is undone before the error is returned.

use std::fmt;

/// Where in the input something was found: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The line and column of byte `offset` in `text` (clamped to the text's end).
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The input is not well-formed XML (or exceeds a named limit). Nothing was built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {message}")]
pub struct ParseError {
    pub position: Position,
    /// What was found and what was expected, in words.
    pub message: String,
}

/// A patch could not be applied or read. The document is exactly as it was before.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("patch step {step}: no element at {path}")]
    NoSuchPath { step: usize, path: String },
    #[error("patch step {step}: {path} has no child position {position}")]
    NoSuchPosition {
        step: usize,
        path: String,
        position: usize,
    },
    #[error("patch step {step}: the target of `modify` at {path} is not an element")]
    NotAnElement { step: usize, path: String },
    #[error("malformed patch: {0}")]
    Malformed(String),
}
