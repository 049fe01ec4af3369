//! Tokens. A `/` starts a regular expression where an operand is expected, as in jsonata-js.

use std::sync::Arc;

use super::Error;
use super::regex::Regex;

#[derive(Clone, Debug)]
pub(crate) enum Tok {
    Num(f64),
    Str(Box<str>),
    /// A name; `quoted` for backtick names, which are never keywords.
    Name(Box<str>, bool),
    Var(Box<str>),
    Op(&'static str),
    Regex(Arc<Regex>),
}

const OPS: [&str; 35] = [
    "..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??", ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":",
    "?", "+", "-", "*", "/", "%", "|", "=", "<", ">", "^", "&", "!", "~",
];

fn is_op_char(c: char) -> bool {
    ".[]{}(),@#;:?+-*/%|=<>^&!~\"'`".contains(c)
}

pub(crate) fn lex(src: &str) -> Result<Vec<(Tok, usize)>, Error> {
    let cs: Vec<char> = src.chars().collect();
    let mut out: Vec<(Tok, usize)> = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && cs.get(i + 1) == Some(&'*') {
            let mut j = i + 2;
            while j + 1 < cs.len() && !(cs[j] == '*' && cs[j + 1] == '/') {
                j += 1;
            }
            if j + 1 >= cs.len() {
                return Err(Error::new("S0106", "Comment has no closing tag").at(start));
            }
            i = j + 2;
            continue;
        }
        let operand_before = matches!(
            out.last(),
            Some((Tok::Num(_) | Tok::Str(_) | Tok::Var(_) | Tok::Regex(_), _)) | Some((Tok::Op(")" | "]" | "}"), _))
        ) || matches!(out.last(), Some((Tok::Name(n, q), _)) if *q || !matches!(n.as_ref(), "and" | "or" | "in"));
        if c == '/' && !operand_before {
            let (re, next) = scan_regex(&cs, i + 1)?;
            out.push((Tok::Regex(re), start));
            i = next;
            continue;
        }
        if c == '"' || c == '\'' {
            let (s, next) = scan_string(&cs, i)?;
            out.push((Tok::Str(s.into_boxed_str()), start));
            i = next;
            continue;
        }
        if c == '`' {
            let Some(end) = cs[i + 1..].iter().position(|&x| x == '`') else {
                return Err(
                    Error::new("S0105", "Quoted property name must be terminated with a backquote (`)").at(start)
                );
            };
            let name: String = cs[i + 1..i + 1 + end].iter().collect();
            out.push((Tok::Name(name.into_boxed_str(), true), start));
            i += end + 2;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < cs.len() && cs[j].is_ascii_digit() {
                j += 1;
            }
            if j + 1 < cs.len() && cs[j] == '.' && cs[j + 1].is_ascii_digit() {
                j += 1;
                while j < cs.len() && cs[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < cs.len() && (cs[j] == 'e' || cs[j] == 'E') {
                let mut k = j + 1;
                if k < cs.len() && (cs[k] == '+' || cs[k] == '-') {
                    k += 1;
                }
                if k < cs.len() && cs[k].is_ascii_digit() {
                    while k < cs.len() && cs[k].is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            let text: String = cs[i..j].iter().collect();
            let n: f64 =
                text.parse().map_err(|_| Error::new("S0102", format!("Number out of range: {text}")).at(start))?;
            if !n.is_finite() {
                return Err(Error::new("S0102", format!("Number out of range: {text}")).at(start));
            }
            out.push((Tok::Num(n), start));
            i = j;
            continue;
        }
        if c == '$' {
            let mut j = i + 1;
            while j < cs.len() && !cs[j].is_whitespace() && !is_op_char(cs[j]) {
                j += 1;
            }
            out.push((Tok::Var(cs[i + 1..j].iter().collect::<String>().into_boxed_str()), start));
            i = j;
            continue;
        }
        if c == 'λ' {
            out.push((Tok::Name("function".into(), false), start));
            i += 1;
            continue;
        }
        if is_op_char(c) {
            let two: String = cs[i..cs.len().min(i + 2)].iter().collect();
            let op = OPS.iter().find(|op| op.chars().count() == 2 && two == **op).or_else(|| {
                let one = c.to_string();
                OPS.iter().find(|op| **op == one)
            });
            let Some(op) = op else {
                return Err(Error::new("S0204", format!("Unknown operator: {c}")).at(start));
            };
            i += op.chars().count();
            out.push((Tok::Op(op), start));
            continue;
        }
        let mut j = i;
        while j < cs.len() && !cs[j].is_whitespace() && !is_op_char(cs[j]) && cs[j] != '$' {
            j += 1;
        }
        out.push((Tok::Name(cs[i..j].iter().collect::<String>().into_boxed_str(), false), start));
        i = j;
    }
    Ok(out)
}

fn scan_string(cs: &[char], start: usize) -> Result<(String, usize), Error> {
    let quote = cs[start];
    let mut i = start + 1;
    let mut s = String::new();
    while i < cs.len() {
        let c = cs[i];
        if c == quote {
            return Ok((s, i + 1));
        }
        if c == '\\' {
            i += 1;
            match cs.get(i) {
                Some('"') => s.push('"'),
                Some('\\') => s.push('\\'),
                Some('/') => s.push('/'),
                Some('b') => s.push('\u{8}'),
                Some('f') => s.push('\u{c}'),
                Some('n') => s.push('\n'),
                Some('r') => s.push('\r'),
                Some('t') => s.push('\t'),
                Some('u') => {
                    let hex = |at: usize| -> Option<u32> {
                        let h: String = cs.get(at..at + 4)?.iter().collect();
                        u32::from_str_radix(&h, 16).ok()
                    };
                    let Some(mut code) = hex(i + 1) else {
                        return Err(
                            Error::new("S0104", "The escape sequence \\u must be followed by 4 hex digits").at(i)
                        );
                    };
                    i += 4;
                    if (0xD800..0xDC00).contains(&code)
                        && cs.get(i + 1) == Some(&'\\')
                        && cs.get(i + 2) == Some(&'u')
                        && let Some(low) = hex(i + 3).filter(|l| (0xDC00..0xE000).contains(l))
                    {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        i += 6;
                    }
                    s.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                }
                Some(other) => {
                    return Err(Error::new("S0103", format!("Unsupported escape sequence: \\{other}")).at(i));
                }
                None => break,
            }
        } else {
            s.push(c);
        }
        i += 1;
    }
    Err(Error::new("S0101", "String literal must be terminated by a matching quote").at(start))
}

fn scan_regex(cs: &[char], start: usize) -> Result<(Arc<Regex>, usize), Error> {
    let mut depth = 0i32;
    let mut i = start;
    while i < cs.len() {
        let c = cs[i];
        let escaped = {
            let mut n = 0;
            while i > n && cs[i - n - 1] == '\\' {
                n += 1;
            }
            n % 2 == 1
        };
        if c == '/' && depth == 0 && !escaped {
            let pattern: String = cs[start..i].iter().collect();
            if pattern.is_empty() {
                return Err(Error::new("S0301", "Empty regular expressions are not allowed").at(start));
            }
            let mut j = i + 1;
            while j < cs.len() && (cs[j] == 'i' || cs[j] == 'm') {
                j += 1;
            }
            let flags: String = cs[i + 1..j].iter().collect();
            let re = Regex::new(&pattern, flags.contains('i'), flags.contains('m'))
                .map_err(|e| Error::new("S0302", format!("Invalid regular expression /{pattern}/: {e}")).at(start))?;
            return Ok((Arc::new(re), j));
        }
        if !escaped {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    Err(Error::new("S0302", "No terminating / in regular expression").at(start))
}
