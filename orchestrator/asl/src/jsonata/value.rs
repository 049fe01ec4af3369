//! Values during evaluation: JSON borrowed from the input without copying, plus what JSON
//! lacks (functions, regexes, sequences and their flags).

use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::{Map, Number, Value};

use super::ast::LambdaDef;
use super::functions::Builtin;
use super::regex::Regex;

/// Sequence flags (jsonata-js marks its arrays the same way).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// A result sequence: flattened into enclosing paths, unwrapped when a singleton.
    pub(crate) seq: bool,
    /// A singleton sequence that must stay an array (`[]` in a path).
    pub(crate) keep: bool,
    /// Built by an array constructor: never flattened by a path step.
    pub(crate) cons: bool,
    /// The top-level wrapper around an array input document.
    pub(crate) wrapper: bool,
}

impl Flags {
    pub(crate) const SEQ: Flags = Flags { seq: true, keep: false, cons: false, wrapper: false };
    pub(crate) const PLAIN: Flags = Flags { seq: false, keep: false, cons: false, wrapper: false };
    pub(crate) const CONS: Flags = Flags { seq: false, keep: false, cons: true, wrapper: false };
}

/// A function value.
pub(crate) enum Func<'a> {
    Lambda {
        def: &'a LambdaDef,
        frame: usize,
        input: Option<Val<'a>>,
    },
    Builtin(&'static Builtin),
    /// `$f(?, 1)`: `None` marks a placeholder.
    Partial {
        target: Val<'a>,
        args: Vec<Option<Option<Val<'a>>>>,
    },
    /// `$f ~> $g`.
    Chain(Val<'a>, Val<'a>),
    Regex(&'a Regex),
    /// `| pattern | update, delete |`, waiting for the object to transform.
    Transform {
        node: &'a super::ast::Node,
        frame: usize,
    },
}

/// An evaluated value; `Option<Val>` is JSONata's "maybe undefined".
#[derive(Clone)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<str>),
    /// A string borrowed from the input.
    JStr(&'a str),
    /// An array or object borrowed from the input.
    Json(&'a Value),
    Arr(Rc<Vec<Val<'a>>>, Flags),
    Obj(Rc<Vec<(Rc<str>, Val<'a>)>>),
    Func(Rc<Func<'a>>),
}

impl<'a> Val<'a> {
    pub(crate) fn from_json(v: &'a Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => Val::JStr(s),
            Value::Array(_) | Value::Object(_) => Val::Json(v),
        }
    }

    /// Copies an owned JSON value (for results that outlive their source).
    pub(crate) fn from_owned_json(v: Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => Val::Str(Rc::from(s)),
            Value::Array(items) => Val::array(items.into_iter().map(Val::from_owned_json).collect()),
            Value::Object(m) => {
                Val::Obj(Rc::new(m.into_iter().map(|(k, v)| (Rc::from(k), Val::from_owned_json(v))).collect()))
            }
        }
    }

    pub(crate) fn str(s: &str) -> Val<'a> {
        Val::Str(Rc::from(s))
    }

    pub(crate) fn seq(items: Vec<Val<'a>>) -> Val<'a> {
        Val::Arr(Rc::new(items), Flags::SEQ)
    }

    pub(crate) fn array(items: Vec<Val<'a>>) -> Val<'a> {
        Val::Arr(Rc::new(items), Flags::PLAIN)
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::JStr(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn is_array(&self) -> bool {
        matches!(self, Val::Arr(..) | Val::Json(Value::Array(_)))
    }

    pub(crate) fn is_object(&self) -> bool {
        matches!(self, Val::Obj(_) | Val::Json(Value::Object(_)))
    }

    pub(crate) fn is_func(&self) -> bool {
        matches!(self, Val::Func(_))
    }

    pub(crate) fn flags(&self) -> Flags {
        match self {
            Val::Arr(_, f) => *f,
            _ => Flags::PLAIN,
        }
    }

    pub(crate) fn is_seq(&self) -> bool {
        self.flags().seq
    }

    /// The members of an array (an empty list for anything else).
    pub(crate) fn members(&self) -> Vec<Val<'a>> {
        match self {
            Val::Arr(items, _) => items.as_ref().clone(),
            Val::Json(Value::Array(items)) => items.iter().map(Val::from_json).collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Val::Arr(items, _) => items.len(),
            Val::Json(Value::Array(items)) => items.len(),
            _ => 1,
        }
    }

    /// An array's members, or the value itself as a one-item list.
    pub(crate) fn into_items(self) -> Vec<Val<'a>> {
        match self {
            Val::Arr(items, _) => Rc::try_unwrap(items).unwrap_or_else(|rc| rc.as_ref().clone()),
            Val::Json(Value::Array(items)) => items.iter().map(Val::from_json).collect(),
            other => vec![other],
        }
    }

    /// The field `key` of an object.
    pub(crate) fn field(&self, key: &str) -> Option<Val<'a>> {
        match self {
            Val::Json(Value::Object(m)) => m.get(key).map(Val::from_json),
            Val::Obj(fields) => fields.iter().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v.clone()),
            _ => None,
        }
    }

    /// An object's entries in order.
    pub(crate) fn entries(&self) -> Vec<(Rc<str>, Val<'a>)> {
        match self {
            Val::Json(Value::Object(m)) => m.iter().map(|(k, v)| (Rc::from(k.as_str()), Val::from_json(v))).collect(),
            Val::Obj(fields) => fields.as_ref().clone(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Num(_) => "number",
            Val::Str(_) | Val::JStr(_) => "string",
            Val::Json(Value::Array(_)) | Val::Arr(..) => "array",
            Val::Json(_) | Val::Obj(_) => "object",
            Val::Func(_) => "function",
        }
    }

    /// Converts to JSON; functions become `""` as in JSONata's `$string`.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => num_json(*n),
            Val::Str(s) => Value::String(s.to_string()),
            Val::JStr(s) => Value::String((*s).to_owned()),
            Val::Json(v) => (*v).clone(),
            Val::Arr(items, _) => Value::Array(items.iter().map(Val::to_json).collect()),
            Val::Obj(fields) => {
                let mut m = Map::new();
                for (k, v) in fields.iter() {
                    m.insert(k.to_string(), v.to_json());
                }
                Value::Object(m)
            }
            Val::Func(_) => Value::String(String::new()),
        }
    }
}

/// A JSON number for `n`: integers within 2^53 print without a fraction.
pub(crate) fn num_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// JSONata truthiness (`$boolean`); `None` for undefined.
pub(crate) fn truthy(v: &Val<'_>) -> bool {
    match v {
        Val::Null => false,
        Val::Bool(b) => *b,
        Val::Num(n) => *n != 0.0,
        Val::Str(s) => !s.is_empty(),
        Val::JStr(s) => !s.is_empty(),
        Val::Json(Value::Array(items)) => items.iter().any(|x| truthy(&Val::from_json(x))),
        Val::Arr(items, _) => items.iter().any(truthy),
        Val::Json(Value::Object(m)) => !m.is_empty(),
        Val::Obj(fields) => !fields.is_empty(),
        Val::Json(other) => truthy(&Val::from_json(other)),
        Val::Func(_) => false,
    }
}

pub(crate) fn opt_truthy(v: &Option<Val<'_>>) -> bool {
    v.as_ref().is_some_and(truthy)
}

/// Deep equality (JSONata 2.x `=`).
pub(crate) fn deep_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Null, Val::Null) => true,
        _ => {
            if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                return x == y;
            }
            if a.is_array() && b.is_array() {
                let (x, y) = (a.members(), b.members());
                return x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| deep_eq(p, q));
            }
            if a.is_object() && b.is_object() {
                let (x, y) = (a.entries(), b.entries());
                return x.len() == y.len() && x.iter().all(|(k, v)| b.field(k).is_some_and(|w| deep_eq(v, &w)));
            }
            if let (Val::Func(x), Val::Func(y)) = (a, b) {
                return Rc::ptr_eq(x, y);
            }
            false
        }
    }
}

/// JavaScript's `Number.prototype.toString` for finite numbers.
pub(crate) fn js_number(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    if n.fract() == 0.0 && n.abs() < 1e21 {
        return format!("{n:.0}");
    }
    // Shortest round-trip digits, then JavaScript's choice of notation.
    let e = format!("{n:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-7..21).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{}", if exp > 0 { "+" } else { "-" }, exp.abs());
    }
    out
}

/// `$string`'s number format: 15 significant digits, then JavaScript notation.
pub(crate) fn string_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return js_number(n);
    }
    let rounded: f64 = format!("{n:.14e}").parse().unwrap_or(n);
    js_number(rounded)
}

/// The longest string an expression may build with `&` or `$string`, far beyond any state's
/// 256 KiB: strings that feed on themselves must end as an error, not as the server's memory.
pub(crate) const MAX_STRING_BYTES: usize = 8 << 20;

/// Serialises like `JSON.stringify` with `$string`'s number rule; `indent` for pretty output.
/// `None` when the text would be longer than [`MAX_STRING_BYTES`].
pub(crate) fn stringify(v: &Val<'_>, indent: bool) -> Option<String> {
    let mut out = String::new();
    write_json(v, indent, 0, &mut out);
    (out.len() <= MAX_STRING_BYTES).then_some(out)
}

/// The error for a string past [`MAX_STRING_BYTES`].
pub(crate) fn string_too_long() -> super::Error {
    super::Error::new("U1003", format!("The expression built a string longer than {MAX_STRING_BYTES} bytes"))
}

fn write_json(v: &Val<'_>, indent: bool, depth: usize, out: &mut String) {
    // Stops early: the caller refuses what is past the limit anyway.
    if out.len() > MAX_STRING_BYTES {
        return;
    }
    let pad = |out: &mut String, d: usize| {
        if indent {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', d * 2));
        }
    };
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(n) => out.push_str(&string_number(*n)),
        Val::Str(_) | Val::JStr(_) => {
            out.push_str(&serde_json::to_string(v.as_str().unwrap_or_default()).unwrap_or_default());
        }
        Val::Func(_) => out.push_str("\"\""),
        _ if v.is_array() => {
            let items = v.members();
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                write_json(it, indent, depth + 1, out);
            }
            if !items.is_empty() {
                pad(out, depth);
            }
            out.push(']');
        }
        _ => {
            let entries = v.entries();
            out.push('{');
            for (i, (k, it)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                out.push_str(&serde_json::to_string(k.as_ref()).unwrap_or_default());
                out.push(':');
                if indent {
                    out.push(' ');
                }
                write_json(it, indent, depth + 1, out);
            }
            if !entries.is_empty() {
                pad(out, depth);
            }
            out.push('}');
        }
    }
}
