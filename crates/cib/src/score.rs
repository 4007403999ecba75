//! Scores: integers clamped to ±INFINITY (1,000,000), with Pacemaker's addition rule —
//! "must not" beats "must": if either side is -INFINITY the sum is -INFINITY, else if either
//! is +INFINITY the sum is +INFINITY, else the sum clamped.

use std::fmt;

/// The magnitude Pacemaker calls INFINITY.
pub const INFINITY: i32 = 1_000_000;

/// A placement score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(i32);

/// A string that is not a score.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a score: expected an integer, INFINITY, +INFINITY or -INFINITY")]
pub struct ScoreError {
    pub text: String,
}

impl Score {
    pub const ZERO: Score = Score(0);
    pub const INFINITY: Score = Score(INFINITY);
    pub const MINUS_INFINITY: Score = Score(-INFINITY);

    /// A score from an integer, clamped to ±INFINITY.
    pub fn new(value: i64) -> Score {
        Score(value.clamp(-(INFINITY as i64), INFINITY as i64) as i32)
    }

    pub fn value(self) -> i32 {
        self.0
    }

    pub fn is_infinite(self) -> bool {
        self.0.abs() >= INFINITY
    }

    pub fn is_plus_infinity(self) -> bool {
        self.0 >= INFINITY
    }

    pub fn is_minus_infinity(self) -> bool {
        self.0 <= -INFINITY
    }

    /// Parses a score as Pacemaker writes them: `INFINITY`, `+INFINITY`, `-INFINITY` (any
    /// case; `inf`/`-inf` too, as crmsh writes), integers (clamped), and the node-health colours
    /// `red` (-INFINITY), `yellow` and `green` (0) with their default values.
    pub fn parse(text: &str) -> Result<Score, ScoreError> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        let score = match lower.as_str() {
            "infinity" | "+infinity" | "inf" | "+inf" => Score::INFINITY,
            "-infinity" | "-inf" => Score::MINUS_INFINITY,
            "red" => Score::MINUS_INFINITY,
            "yellow" | "green" => Score::ZERO,
            _ => {
                let digits = t.strip_prefix('+').unwrap_or(t);
                let (neg, body) = match digits.strip_prefix('-') {
                    Some(b) => (true, b),
                    None => (false, digits),
                };
                if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ScoreError {
                        text: text.to_string(),
                    });
                }
                // Long digit strings saturate rather than fail, as Pacemaker's parser does.
                let magnitude: i64 = body.parse().unwrap_or(i64::MAX / 2);
                Score::new(if neg { -magnitude } else { magnitude })
            }
        };
        Ok(score)
    }

    /// Pacemaker's score addition (see the module documentation).
    pub fn plus(self, other: Score) -> Score {
        if self.is_minus_infinity() || other.is_minus_infinity() {
            Score::MINUS_INFINITY
        } else if self.is_plus_infinity() || other.is_plus_infinity() {
            Score::INFINITY
        } else {
            Score::new(self.0 as i64 + other.0 as i64)
        }
    }
}

impl std::ops::Add for Score {
    type Output = Score;
    fn add(self, other: Score) -> Score {
        self.plus(other)
    }
}

impl std::ops::AddAssign for Score {
    fn add_assign(&mut self, other: Score) {
        *self = self.plus(other);
    }
}

impl std::ops::Neg for Score {
    type Output = Score;
    fn neg(self) -> Score {
        Score(-self.0)
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_plus_infinity() {
            f.write_str("INFINITY")
        } else if self.is_minus_infinity() {
            f.write_str("-INFINITY")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        assert_eq!(Score::parse("INFINITY"), Ok(Score::INFINITY));
        assert_eq!(Score::parse("+INFINITY"), Ok(Score::INFINITY));
        assert_eq!(Score::parse("inf"), Ok(Score::INFINITY));
        assert_eq!(Score::parse("-inf"), Ok(Score::MINUS_INFINITY));
        assert_eq!(Score::parse("-INFINITY"), Ok(Score::MINUS_INFINITY));
        assert_eq!(Score::parse("100"), Ok(Score::new(100)));
        assert_eq!(Score::parse("+5"), Ok(Score::new(5)));
        assert_eq!(Score::parse("-5"), Ok(Score::new(-5)));
        assert_eq!(Score::parse("2000000"), Ok(Score::INFINITY));
        assert_eq!(Score::parse("99999999999999999999999"), Ok(Score::INFINITY));
        assert_eq!(Score::parse("red"), Ok(Score::MINUS_INFINITY));
        assert!(Score::parse("abc").is_err());
        assert!(Score::parse("").is_err());
        assert!(Score::parse("1.5").is_err());
    }

    #[test]
    fn minus_infinity_dominates() {
        assert_eq!(
            Score::INFINITY + Score::MINUS_INFINITY,
            Score::MINUS_INFINITY
        );
        assert_eq!(
            Score::MINUS_INFINITY + Score::INFINITY,
            Score::MINUS_INFINITY
        );
        assert_eq!(Score::INFINITY + Score::new(-999_999), Score::INFINITY);
        assert_eq!(Score::new(600_000) + Score::new(600_000), Score::INFINITY);
        assert_eq!(
            Score::new(-600_000) + Score::new(-600_000),
            Score::MINUS_INFINITY
        );
        assert_eq!(Score::new(3) + Score::new(-5), Score::new(-2));
        assert_eq!(Score::INFINITY.to_string(), "INFINITY");
        assert_eq!(Score::new(-7).to_string(), "-7");
    }
}
