//! Splitting crm text into statements and words, the way a POSIX shell splits a command line
//! (crmsh hands each line to Python's `shlex`): whitespace separates words; `"..."` and
//! `'...'` quote (the quotes are removed, `\"` and `\\` escape inside double quotes); a
//! backslash outside quotes escapes the next character; a backslash at the end of a line
//! continues the statement on the next line. A line whose first word starts with `#` is a
//! comment. Every word remembers the line and column where it starts.
//!
//! An `xml` statement is not split: everything after the keyword is one word, taken
//! verbatim (XML has its own quoting), lines joined where they end in ` \` (the space and
//! backslash dropped, the line break kept), so that what `show` prints in the `xml` form
//! reads back exactly.

use super::error::{Pos, SyntaxError};

/// The most bytes of crm text read at once (a large configuration is a few megabytes).
pub const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;
/// The most words one statement may have (a very long group or resource set has hundreds).
pub const MAX_WORDS: usize = 100_000;

/// One word of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The text with quotes and escapes removed.
    pub text: String,
    pub pos: Pos,
    /// True if any part of the word was quoted or escaped (a quoted `params` is a value, not
    /// a keyword).
    pub quoted: bool,
}

/// One statement: its words, the comment lines right before it, and its raw text (for
/// `xml ...` statements, whose XML must not be shell-split).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub words: Vec<Word>,
    pub comments: Vec<String>,
    pub raw: String,
    /// Where the statement ends (just after its last character), for "end of line" errors.
    pub end: Pos,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
    column: u32,
}

impl Lexer<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }
}

/// Splits `text` into statements.
pub fn split(text: &str) -> Result<Vec<Statement>, SyntaxError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(SyntaxError::new(
            Pos::START,
            format!("{} bytes of text", text.len()),
            format!("at most {MAX_TEXT_BYTES} bytes"),
        ));
    }
    let mut lx = Lexer {
        chars: text.chars().peekable(),
        line: 1,
        column: 1,
    };
    let mut out = Vec::new();
    let mut comments = Vec::new();
    loop {
        skip_blank(&mut lx);
        if lx.peek().is_none() {
            break;
        }
        if lx.peek() == Some('#') {
            comments.push(rest_of_line(&mut lx));
            continue;
        }
        let st = statement(&mut lx, std::mem::take(&mut comments))?;
        if !st.words.is_empty() {
            out.push(st);
        }
    }
    Ok(out)
}

/// Skips whitespace, including newlines, between statements.
fn skip_blank(lx: &mut Lexer<'_>) {
    while let Some(c) = lx.peek() {
        if c.is_whitespace() {
            lx.bump();
        } else if c == '\\' {
            // A lone continuation between statements is blank too.
            let mut ahead = lx.chars.clone();
            ahead.next();
            if ahead.next() == Some('\n') {
                lx.bump();
                lx.bump();
            } else {
                return;
            }
        } else {
            return;
        }
    }
}

fn rest_of_line(lx: &mut Lexer<'_>) -> String {
    let mut s = String::new();
    while let Some(c) = lx.peek() {
        if c == '\n' {
            break;
        }
        s.push(c);
        lx.bump();
    }
    s
}

/// Reads words up to an unescaped newline (or the end of the text).
fn statement(lx: &mut Lexer<'_>, comments: Vec<String>) -> Result<Statement, SyntaxError> {
    let mut words = Vec::new();
    let mut raw = String::new();
    loop {
        // Blanks inside the statement (not newlines).
        while let Some(c) = lx.peek() {
            if c == '\n' {
                break;
            }
            if c == '\\' {
                let mut ahead = lx.chars.clone();
                ahead.next();
                if ahead.next() == Some('\n') {
                    lx.bump();
                    lx.bump();
                    raw.push(' ');
                    continue;
                }
                break;
            }
            if !c.is_whitespace() {
                break;
            }
            raw.push(c);
            lx.bump();
        }
        match lx.peek() {
            None | Some('\n') => break,
            Some(_) => {
                if words.len() >= MAX_WORDS {
                    return Err(SyntaxError::new(
                        lx.pos(),
                        "another word",
                        format!("at most {MAX_WORDS} words in one statement"),
                    ));
                }
                let w = word(lx, &mut raw)?;
                let xml = words.is_empty() && !w.quoted && w.text.eq_ignore_ascii_case("xml");
                words.push(w);
                if xml {
                    if let Some(rest) = verbatim(lx, &mut raw) {
                        words.push(rest);
                    }
                    break;
                }
            }
        }
    }
    let end = lx.pos();
    Ok(Statement {
        words,
        comments,
        raw,
        end,
    })
}

/// The rest of an `xml` statement as one word: verbatim up to a line end that is not
/// continued. `None` if there is nothing but blanks.
fn verbatim(lx: &mut Lexer<'_>, raw: &mut String) -> Option<Word> {
    while lx.peek().is_some_and(|c| c != '\n' && c.is_whitespace()) {
        raw.push(lx.bump().expect("peeked"));
    }
    let pos = lx.pos();
    let mut text = String::new();
    while let Some(c) = lx.peek() {
        if c == '\n' {
            if !text.ends_with('\\') {
                break;
            }
            text.pop();
            if text.ends_with(' ') {
                text.pop();
            }
        }
        text.push(c);
        lx.bump();
    }
    raw.push_str(&text);
    (!text.trim().is_empty()).then_some(Word {
        text,
        pos,
        quoted: true,
    })
}

fn word(lx: &mut Lexer<'_>, raw: &mut String) -> Result<Word, SyntaxError> {
    let pos = lx.pos();
    let mut text = String::new();
    let mut quoted = false;
    while let Some(c) = lx.peek() {
        if c.is_whitespace() {
            break;
        }
        match c {
            '"' | '\'' => {
                quoted = true;
                let open = lx.pos();
                raw.push(c);
                lx.bump();
                quoted_part(lx, c, open, &mut text, raw)?;
            }
            '\\' => {
                raw.push(c);
                lx.bump();
                match lx.peek() {
                    // A continuation ends the word; the caller continues the statement.
                    Some('\n') => {
                        lx.bump();
                        raw.push(' ');
                        break;
                    }
                    Some(next) => {
                        quoted = true;
                        raw.push(next);
                        text.push(next);
                        lx.bump();
                    }
                    None => {}
                }
            }
            _ => {
                raw.push(c);
                text.push(c);
                lx.bump();
            }
        }
    }
    Ok(Word { text, pos, quoted })
}

/// Reads the inside of a quoted part up to its closing quote.
fn quoted_part(
    lx: &mut Lexer<'_>,
    quote: char,
    open: Pos,
    text: &mut String,
    raw: &mut String,
) -> Result<(), SyntaxError> {
    loop {
        let Some(c) = lx.bump() else {
            return Err(SyntaxError::new(
                lx.pos(),
                "the end of the text",
                format!(
                    "a closing {quote} for the quote opened at {}:{}",
                    open.line, open.column
                ),
            ));
        };
        raw.push(c);
        if c == quote {
            return Ok(());
        }
        if c == '\\' && quote == '"' {
            match lx.peek() {
                Some(n @ ('"' | '\\' | '$' | '`')) => {
                    raw.push(n);
                    text.push(n);
                    lx.bump();
                }
                Some('\n') => {
                    raw.push('\n');
                    lx.bump();
                }
                _ => text.push('\\'),
            }
            continue;
        }
        text.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<Vec<String>> {
        split(s)
            .unwrap()
            .into_iter()
            .map(|st| st.words.into_iter().map(|w| w.text).collect())
            .collect()
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            texts(r#"primitive IP IPaddr2 params cidr_netmask="24" a='x y' b=c\ d"#),
            vec![vec![
                "primitive",
                "IP",
                "IPaddr2",
                "params",
                "cidr_netmask=24",
                "a=x y",
                "b=c d"
            ]]
        );
        assert_eq!(
            texts("primitive a Dummy \\\n    op monitor interval=10s\n\n# note\ngroup g a\n"),
            vec![
                vec!["primitive", "a", "Dummy", "op", "monitor", "interval=10s"],
                vec!["group", "g", "a"]
            ]
        );
        assert_eq!(texts(r#"x v="a\"b\\c\d""#), vec![vec!["x", r#"v=a"b\c\d"#]]);
    }

    #[test]
    fn words_know_where_they_start() {
        let st = split("  a\n b \\\n   c").unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!(st[1].words[0].pos, Pos { line: 2, column: 2 });
        assert_eq!(st[1].words[1].pos, Pos { line: 3, column: 4 });
        assert_eq!(st[1].end, Pos { line: 3, column: 5 });
    }

    #[test]
    fn comments_attach_to_the_next_statement() {
        let st = split("# one\n  # two\nnode n1\n").unwrap();
        assert_eq!(st[0].comments, vec!["# one", "# two"]);
        // A `#` inside a statement is an ordinary character (`#uname` in rules).
        assert_eq!(
            texts("location l a rule #uname eq n1"),
            vec![vec!["location", "l", "a", "rule", "#uname", "eq", "n1"]]
        );
    }

    #[test]
    fn xml_statements_are_taken_verbatim() {
        let st = split("xml <a x=\"it's\"> \\\n  <!-- don't \\\n-->  \\\n</a>\nnode n1\n").unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].words.len(), 2);
        assert_eq!(
            st[0].words[1].text,
            "<a x=\"it's\">\n  <!-- don't\n--> \n</a>"
        );
        assert_eq!(st[0].words[1].pos, Pos { line: 1, column: 5 });
        assert_eq!(st[1].words[0].text, "node");
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let e = split("primitive a Dummy params x=\"abc\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "2:1: found the end of the text, expected a closing \" for the quote opened at 1:28"
        );
    }
}
