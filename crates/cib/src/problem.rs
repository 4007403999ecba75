//! What unpacking and validation find wrong. A CIB with problems still loads (Pacemaker
//! ignores what it cannot use and says so); `tandem verify` prints them.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One finding: which object, what is wrong, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// The object concerned, as users name it: `primitive vip`, `rsc_order o1`, `nvpair n3`.
    pub object: String,
    pub message: String,
}

impl Problem {
    pub fn error(object: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            object: object.into(),
            message: message.into(),
        }
    }

    pub fn warning(object: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            object: object.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.object.is_empty() {
            write!(f, "{level}: {}", self.message)
        } else {
            write!(f, "{level}: {}: {}", self.object, self.message)
        }
    }
}

/// Collects problems while unpacking.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn error(&mut self, object: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::error(object, message));
    }

    pub fn warning(&mut self, object: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::warning(object, message));
    }
}
