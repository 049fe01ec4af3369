//! The 18 `States.*` intrinsic functions: parsed once into an AST, evaluated with AWS semantics.
//!
//! Every evaluation failure is reported as a plain message; the interpreter turns it into a
//! `States.Runtime` error, which is what AWS reports (never `States.IntrinsicFailure`).

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::entropy::{self, Entropy, SeededEntropy};
use crate::jsonpath::{Path, Roots};

/// The intrinsic functions, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Func {
    fn from_name(name: &str) -> Option<(Func, usize, usize)> {
        // (function, min args, max args)
        Some(match name {
            "Format" => (Func::Format, 1, usize::MAX),
            "StringToJson" => (Func::StringToJson, 1, 1),
            "JsonToString" => (Func::JsonToString, 1, 1),
            "Array" => (Func::Array, 0, usize::MAX),
            "ArrayPartition" => (Func::ArrayPartition, 2, 2),
            "ArrayContains" => (Func::ArrayContains, 2, 2),
            "ArrayRange" => (Func::ArrayRange, 3, 3),
            "ArrayGetItem" => (Func::ArrayGetItem, 2, 2),
            "ArrayLength" => (Func::ArrayLength, 1, 1),
            "ArrayUnique" => (Func::ArrayUnique, 1, 1),
            "Base64Encode" => (Func::Base64Encode, 1, 1),
            "Base64Decode" => (Func::Base64Decode, 1, 1),
            "Hash" => (Func::Hash, 2, 2),
            "JsonMerge" => (Func::JsonMerge, 3, 3),
            "MathRandom" => (Func::MathRandom, 2, 3),
            "MathAdd" => (Func::MathAdd, 2, 2),
            "StringSplit" => (Func::StringSplit, 2, 2),
            "UUID" => (Func::Uuid, 0, 0),
            _ => return None,
        })
    }
}

/// One piece of a string literal used as a `States.Format` template.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    Hole,
}

#[derive(Clone, Debug, PartialEq)]
enum Arg {
    Literal(Value),
    /// A string literal, kept with its escape-aware template split for `States.Format`.
    Str(String, Vec<Piece>),
    Path(Path),
    Call(Box<Call>),
}

/// A parsed intrinsic call such as `States.Format('{}', $.name)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Call {
    func: Func,
    name: String,
    args: Vec<Arg>,
}

const MAX_NESTING: usize = 10;

/// Whether a `.$` value looks like an intrinsic call rather than a path.
pub(crate) fn looks_like_call(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

impl Call {
    /// Parses a whole expression such as `States.Array(1, $.x)`.
    pub(crate) fn parse(text: &str) -> Result<Call, String> {
        let mut p = Parser { s: text.as_bytes(), i: 0, text };
        p.ws();
        let call = p.call(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("unexpected text after the closing parenthesis"));
        }
        Ok(call)
    }

    /// Evaluates the call.
    pub(crate) fn eval(&self, roots: &dyn Roots, entropy: &mut dyn Entropy) -> Result<Value, String> {
        let mut args = Vec::with_capacity(self.args.len());
        for a in &self.args {
            args.push(match a {
                Arg::Literal(v) => v.clone(),
                Arg::Str(s, _) => Value::String(s.clone()),
                Arg::Path(p) => p.eval(roots)?,
                Arg::Call(c) => c.eval(roots, entropy)?,
            });
        }
        let name = &self.name;
        let bad = |what: &str| format!("The {name} function {what}");
        match self.func {
            Func::Format => {
                let (tpl, rest) = args.split_first().ok_or_else(|| bad("needs a template"))?;
                let pieces = match self.args.first() {
                    Some(Arg::Str(_, pieces)) => pieces.clone(),
                    _ => match tpl {
                        Value::String(s) => split_template(s),
                        _ => return Err(bad("expects a string template as its first argument")),
                    },
                };
                let holes = pieces.iter().filter(|p| **p == Piece::Hole).count();
                if holes != rest.len() {
                    return Err(format!(
                        "The number of arguments ({}) does not match the number of placeholders ({holes}) in the {name} template",
                        rest.len()
                    ));
                }
                let mut out = String::new();
                let mut it = rest.iter();
                for p in pieces {
                    match p {
                        Piece::Text(t) => out.push_str(&t),
                        Piece::Hole => out.push_str(&java_string(it.next().unwrap_or(&Value::Null))),
                    }
                }
                Ok(Value::String(out))
            }
            Func::StringToJson => {
                let s = str_arg(&args, 0).ok_or_else(|| bad("expects a string"))?;
                if s.trim().is_empty() {
                    return Ok(Value::Null);
                }
                serde_json::from_str(s)
                    .map_err(|e| format!("The {name} function could not parse its argument as JSON: {e}"))
            }
            Func::JsonToString => Ok(Value::String(
                serde_json::to_string(&args.first().cloned().unwrap_or(Value::Null)).unwrap_or_default(),
            )),
            Func::Array => Ok(Value::Array(args)),
            Func::ArrayPartition => {
                let arr = arr_arg(&args, 0).ok_or_else(|| bad("expects an array as its first argument"))?;
                let n =
                    int_arg(&args, 1).filter(|n| *n > 0).ok_or_else(|| bad("expects a positive integer chunk size"))?;
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                Ok(Value::Array(arr.chunks(n).map(|c| Value::Array(c.to_vec())).collect()))
            }
            Func::ArrayContains => {
                let arr = arr_arg(&args, 0).ok_or_else(|| bad("expects an array as its first argument"))?;
                let needle = args.get(1).unwrap_or(&Value::Null);
                Ok(Value::Bool(arr.iter().any(|v| json_equal(v, needle))))
            }
            Func::ArrayRange => {
                let (Some(start), Some(end), Some(step)) = (int_arg(&args, 0), int_arg(&args, 1), int_arg(&args, 2))
                else {
                    return Err(bad("expects integer arguments"));
                };
                if step == 0 {
                    return Err(bad("expects a non-zero step"));
                }
                let mut out = Vec::new();
                let mut v = start;
                while (step > 0 && v <= end) || (step < 0 && v >= end) {
                    if out.len() >= 1000 {
                        return Err(bad("cannot produce more than 1000 elements"));
                    }
                    out.push(Value::from(v));
                    v = match v.checked_add(step) {
                        Some(v) => v,
                        None => break,
                    };
                }
                Ok(Value::Array(out))
            }
            Func::ArrayGetItem => {
                let arr = arr_arg(&args, 0).ok_or_else(|| bad("expects an array as its first argument"))?;
                let i = int_arg(&args, 1).ok_or_else(|| bad("expects an integer index"))?;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| arr.get(i))
                    .cloned()
                    .ok_or_else(|| format!("The index {i} is out of bounds for an array of length {}", arr.len()))
            }
            Func::ArrayLength => Ok(Value::from(arr_arg(&args, 0).ok_or_else(|| bad("expects an array"))?.len())),
            Func::ArrayUnique => {
                let arr = arr_arg(&args, 0).ok_or_else(|| bad("expects an array"))?;
                let mut out: Vec<Value> = Vec::new();
                for v in arr {
                    if !out.iter().any(|o| json_equal(o, v)) {
                        out.push(v.clone());
                    }
                }
                Ok(Value::Array(out))
            }
            Func::Base64Encode => {
                let s = str_arg(&args, 0).ok_or_else(|| bad("expects a string"))?;
                if s.chars().count() > 10_000 {
                    return Err(bad("accepts at most 10000 characters"));
                }
                Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(s)))
            }
            Func::Base64Decode => {
                let s = str_arg(&args, 0).ok_or_else(|| bad("expects a string"))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| format!("The {name} function could not decode its argument: {e}"))?;
                String::from_utf8(bytes).map(Value::String).map_err(|_| bad("decoded bytes that are not UTF-8"))
            }
            Func::Hash => {
                let data = str_arg(&args, 0).ok_or_else(|| bad("expects a string to hash"))?;
                let alg = str_arg(&args, 1).ok_or_else(|| bad("expects an algorithm name"))?;
                hash(data, alg).map(Value::String).ok_or_else(|| {
                    format!("The {name} function does not support the algorithm '{alg}' (MD5, SHA-1, SHA-256, SHA-384, SHA-512)")
                })
            }
            Func::JsonMerge => {
                let (Some(Value::Object(a)), Some(Value::Object(b))) = (args.first(), args.get(1)) else {
                    return Err(bad("expects two JSON objects"));
                };
                if args.get(2) != Some(&Value::Bool(false)) {
                    return Err(bad("supports only shallow merges: its third argument must be false"));
                }
                let mut out: Map<String, Value> = a.clone();
                for (k, v) in b {
                    out.insert(k.clone(), v.clone());
                }
                Ok(Value::Object(out))
            }
            Func::MathRandom => {
                let (Some(start), Some(end)) = (int_arg(&args, 0), int_arg(&args, 1)) else {
                    return Err(bad("expects integer bounds"));
                };
                if end <= start {
                    return Err(bad("expects a start lower than its end"));
                }
                let span = end.abs_diff(start);
                let v = match args.get(2) {
                    Some(seed) => {
                        let seed = seed.as_i64().ok_or_else(|| bad("expects an integer seed"))?;
                        entropy::below(&mut SeededEntropy::new(seed as u64), span)
                    }
                    None => entropy::below(entropy, span),
                };
                Ok(Value::from(start.wrapping_add(v as i64)))
            }
            Func::MathAdd => {
                let (Some(a), Some(b)) = (args.first().and_then(Value::as_f64), args.get(1).and_then(Value::as_f64))
                else {
                    return Err(bad("expects two numbers"));
                };
                // AWS rounds each operand half-up (Java Math.round) before adding.
                let round = |x: f64| (x + 0.5).floor();
                let sum = round(a) + round(b);
                if sum.abs() > 9.0e15 {
                    return Err(bad("result is out of range"));
                }
                Ok(Value::from(sum as i64))
            }
            Func::StringSplit => {
                let (Some(s), Some(delims)) = (str_arg(&args, 0), str_arg(&args, 1)) else {
                    return Err(bad("expects two strings"));
                };
                let parts = s
                    .split(|c| delims.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_owned()))
                    .collect();
                Ok(Value::Array(parts))
            }
            Func::Uuid => Ok(Value::String(entropy::uuid_v4(entropy))),
        }
    }
}

fn str_arg(args: &[Value], i: usize) -> Option<&str> {
    args.get(i).and_then(Value::as_str)
}

fn arr_arg(args: &[Value], i: usize) -> Option<&Vec<Value>> {
    args.get(i).and_then(Value::as_array)
}

fn int_arg(args: &[Value], i: usize) -> Option<i64> {
    let v = args.get(i)?;
    v.as_i64().or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
}

/// JSON equality with numbers compared by value (`1` equals `1.0`), as AWS compares them: the
/// semantics of `States.ArrayContains`, and how recorded outputs are checked.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Renders a value the way Java's `toString` does for `States.Format` arguments.
fn java_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", java_string(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(java_string).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

fn split_template(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(pos) = rest.find("{}") {
        out.push(Piece::Text(rest[..pos].to_owned()));
        out.push(Piece::Hole);
        rest = &rest[pos + 2..];
    }
    out.push(Piece::Text(rest.to_owned()));
    out
}

pub(crate) fn hash(data: &str, alg: &str) -> Option<String> {
    use sha2::Digest as _;
    let bytes: Vec<u8> = match alg {
        "MD5" => md5::Md5::digest(data.as_bytes()).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data.as_bytes()).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data.as_bytes()).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data.as_bytes()).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data.as_bytes()).to_vec(),
        _ => return None,
    };
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        format!("invalid intrinsic function '{}' at character {}: {what}", self.text, self.i)
    }

    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn call(&mut self, depth: usize) -> Result<Call, String> {
        if depth >= MAX_NESTING {
            return Err(self.err("intrinsic functions nest at most 10 levels deep"));
        }
        if !self.s[self.i..].starts_with(b"States.") {
            return Err(self.err("expected 'States.<Function>('"));
        }
        self.i += "States.".len();
        let start = self.i;
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.i += 1;
        }
        let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        let Some((func, min, max)) = Func::from_name(&name) else {
            return Err(self.err(&format!("unknown intrinsic function 'States.{name}'")));
        };
        self.ws();
        if self.s.get(self.i) != Some(&b'(') {
            return Err(self.err("expected '('"));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b')') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                args.push(self.arg(depth)?);
                self.ws();
                match self.s.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.err("expected ',' or ')'")),
                }
            }
        }
        if args.len() < min || args.len() > max {
            return Err(format!(
                "States.{name} takes {} argument(s) but {} were given in '{}'",
                if min == max {
                    min.to_string()
                } else if max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                },
                args.len(),
                self.text
            ));
        }
        Ok(Call { func, name: format!("States.{name}"), args })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, String> {
        match self.s.get(self.i) {
            Some(b'\'') => self.string(),
            Some(b'$') => {
                let start = self.i;
                let (mut bracket, mut quote) = (0i32, None::<u8>);
                while let Some(&c) = self.s.get(self.i) {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), b'\\') => self.i += 1,
                        (Some(_), _) => {}
                        (None, b'\'' | b'"') => quote = Some(c),
                        (None, b'[') => bracket += 1,
                        (None, b']') => bracket -= 1,
                        (None, b',' | b')') if bracket == 0 => break,
                        (None, c) if c.is_ascii_whitespace() && bracket == 0 => break,
                        _ => {}
                    }
                    self.i += 1;
                }
                let text = String::from_utf8_lossy(&self.s[start..self.i.min(self.s.len())]).into_owned();
                Path::parse(&text).map(Arg::Path)
            }
            Some(b'S') => Ok(Arg::Call(Box::new(self.call(depth + 1)?))),
            _ => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c)) {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                match word {
                    "true" => Ok(Arg::Literal(Value::Bool(true))),
                    "false" => Ok(Arg::Literal(Value::Bool(false))),
                    "null" => Ok(Arg::Literal(Value::Null)),
                    _ => serde_json::from_str::<serde_json::Number>(word)
                        .map(|n| Arg::Literal(Value::Number(n)))
                        .map_err(|_| self.err("expected a string, number, boolean, null, path or intrinsic function")),
                }
            }
        }
    }

    fn string(&mut self) -> Result<Arg, String> {
        self.i += 1;
        let mut bytes = Vec::new();
        let mut pieces = Vec::new();
        let mut text = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string literal")),
                Some(b'\\') => {
                    let Some(&next) = self.s.get(self.i + 1) else {
                        return Err(self.err("dangling escape"));
                    };
                    bytes.push(next);
                    text.push(next);
                    self.i += 2;
                }
                Some(b'\'') => {
                    self.i += 1;
                    break;
                }
                Some(b'{') if self.s.get(self.i + 1) == Some(&b'}') => {
                    bytes.extend_from_slice(b"{}");
                    pieces.push(Piece::Text(String::from_utf8_lossy(&text).into_owned()));
                    pieces.push(Piece::Hole);
                    text.clear();
                    self.i += 2;
                }
                Some(&c) => {
                    bytes.push(c);
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        pieces.push(Piece::Text(String::from_utf8_lossy(&text).into_owned()));
        Ok(Arg::Str(String::from_utf8_lossy(&bytes).into_owned(), pieces))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jsonpath::SimpleRoots;

    fn run(expr: &str, input: &Value) -> Result<Value, String> {
        let ctx = json!({"Execution": {"Input": input}});
        Call::parse(expr)?.eval(&SimpleRoots { input, context: &ctx }, &mut SeededEntropy::new(1))
    }

    #[test]
    fn format_renders_like_java() {
        assert_eq!(
            run("States.Format('a {} b {}', $.x, $.y)", &json!({"x": null, "y": {"Arg1": 1, "Arg2": []}})).unwrap(),
            json!("a null b {Arg1=1, Arg2=[]}")
        );
        assert_eq!(run("States.Format('\\{} {}', 'x')", &json!({})).unwrap(), json!("{} x"));
        assert!(run("States.Format('{} {}', 1)", &json!({})).is_err());
    }

    #[test]
    fn math_add_rounds_half_up() {
        for (a, b, want) in
            [(1.49, 1.5, 3), (1.5, 1.51, 4), (-0.5, 0.5, 1), (-1.5, 0.0, -1), (-2.5, 0.0, -2), (-1.51, 0.0, -2)]
        {
            assert_eq!(run("States.MathAdd($.a, $.b)", &json!({"a": a, "b": b})).unwrap(), json!(want), "{a}+{b}");
        }
    }

    #[test]
    fn arrays_strings_json_and_hashes() {
        assert_eq!(run("States.ArrayPartition($.a, 2)", &json!({"a": [0, 1, 2]})).unwrap(), json!([[0, 1], [2]]));
        assert_eq!(run("States.ArrayRange(0, 10, 3)", &json!({})).unwrap(), json!([0, 3, 6, 9]));
        assert_eq!(
            run("States.ArrayContains($.a, $.b)", &json!({"a": [{"1": 2}], "b": {"1": 2}})).unwrap(),
            json!(true)
        );
        assert_eq!(run("States.ArrayUnique($.a)", &json!({"a": [1, 1.0, 2]})).unwrap(), json!([1, 2]));
        assert!(run("States.ArrayGetItem($.a, 5)", &json!({"a": [1]})).is_err());
        assert_eq!(run("States.StringSplit(', , ,', ',')", &json!({})).unwrap(), json!([" ", " "]));
        assert_eq!(run("States.StringToJson(' ')", &json!({})).unwrap(), Value::Null);
        assert_eq!(run("States.JsonToString($.a)", &json!({"a": [1, 2, "x"]})).unwrap(), json!("[1,2,\"x\"]"));
        assert_eq!(
            run("States.Hash('input data', 'MD5')", &json!({})).unwrap(),
            json!("812f45842bc6d66ee14572ce20db8e86")
        );
        assert_eq!(
            run("States.Hash('input data', 'SHA-1')", &json!({})).unwrap(),
            json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
        );
        assert_eq!(
            run("States.Base64Decode(States.Base64Encode('Data to encode'))", &json!({})).unwrap(),
            json!("Data to encode")
        );
        assert_eq!(
            run(
                "States.JsonMerge(States.StringToJson('{\"a\": 1}'), $$.Execution.Input.b, false)",
                &json!({"b": {"c": 2}})
            )
            .unwrap(),
            json!({"a": 1, "c": 2})
        );
        let r = run("States.MathRandom(1, 5)", &json!({})).unwrap().as_i64().unwrap();
        assert!((1..5).contains(&r));
        assert_eq!(run("States.UUID()", &json!({})).unwrap().as_str().unwrap().len(), 36);
    }

    #[test]
    fn parse_errors_are_reported() {
        assert!(Call::parse("States.Nope(1)").is_err());
        assert!(Call::parse("States.UUID(1)").is_err());
        assert!(Call::parse("States.Array(1").is_err());
        assert!(Call::parse("States.Array('x)").is_err());
    }
}
