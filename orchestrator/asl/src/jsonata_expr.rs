//! A small JSONata subset: literals, `$variables` (including `$states`), field paths with
//! mapping over arrays, indexes and filters, arithmetic, comparison, `and`/`or`, `&`, the
//! conditional `? :`, `:=` bindings, blocks, array and object constructors, and the common
//! built-ins plus AWS's `$partition`, `$range`, `$hash`, `$random`, `$uuid` and `$parse`.
//!
//! Anything outside the subset is a parse or evaluation error, never a panic.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::payload::Scope;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Literal(Value),
    Var(String),
    /// The context item (`$`).
    Context,
    Field(String),
    Path(Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Binary(Box<Expr>, String, Box<Expr>),
    Neg(Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    Bind(String, Box<Expr>),
    Block(Vec<Expr>),
    Array(Vec<Expr>),
    Object(Vec<(Expr, Expr)>),
}

/// What an expression can read.
pub(crate) struct Vars<'a> {
    pub(crate) states: &'a Value,
    pub(crate) scope: &'a Scope,
    /// Seed for `$random()` / `$uuid()`, advanced on each use.
    pub(crate) random: &'a mut u64,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Name(String),
    Var(String),
    Op(&'static str),
}

impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tok::Num(n) => write!(f, "number {n}"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::Name(n) => write!(f, "'{n}'"),
            Tok::Var(v) => write!(f, "'${v}'"),
            Tok::Op(o) => write!(f, "'{o}'"),
        }
    }
}

/// A token for an error message; `None` is the end of the expression.
fn shown(tok: Option<&Tok>) -> String {
    tok.map_or_else(|| "end of expression".to_owned(), ToString::to_string)
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    const OPS: [&str; 24] = [
        ":=", "!=", "<=", ">=", "..", "(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "+", "-", "*", "/", "%", "&",
        "=", "<", ">",
    ];
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < cs.len()
                && (cs[i].is_ascii_digit()
                    || cs[i] == '.' && cs.get(i + 1).is_some_and(char::is_ascii_digit)
                    || cs[i] == 'e'
                    || cs[i] == 'E')
            {
                i += 1;
            }
            let text: String = cs[start..i].iter().collect();
            out.push(Tok::Num(text.parse().map_err(|_| format!("bad number '{text}'"))?));
        } else if c == '"' || c == '\'' {
            i += 1;
            let mut text = String::new();
            loop {
                match cs.get(i) {
                    None => return Err("unterminated string".into()),
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        i += 1;
                        match cs.get(i) {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some('r') => text.push('\r'),
                            Some(&o) => text.push(o),
                            None => return Err("unterminated string".into()),
                        }
                    }
                    Some(&o) => text.push(o),
                }
                i += 1;
            }
            i += 1;
            out.push(Tok::Str(text));
        } else if c == '$' {
            i += 1;
            let start = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Var(cs[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(cs[start..i].iter().collect()));
        } else if c == '`' {
            let start = i + 1;
            i = start;
            while i < cs.len() && cs[i] != '`' {
                i += 1;
            }
            out.push(Tok::Name(cs[start..i.min(cs.len())].iter().collect()));
            i += 1;
        } else if c == '?' {
            out.push(Tok::Op("?"));
            i += 1;
        } else {
            let rest: String = cs[i..cs.len().min(i + 2)].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                return Err(format!("unexpected character '{c}'"));
            };
            out.push(Tok::Op(op));
            i += op.len();
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    /// Nesting, bounded so that hostile input cannot exhaust the stack.
    depth: usize,
}

const MAX_DEPTH: usize = 64;

fn bp(t: &Tok) -> u8 {
    match t {
        Tok::Op(":=") => 10,
        Tok::Op("?") => 20,
        Tok::Name(n) if n == "or" => 25,
        Tok::Name(n) if n == "and" => 30,
        Tok::Op("=" | "!=" | "<" | "<=" | ">" | ">=") => 40,
        Tok::Name(n) if n == "in" => 40,
        Tok::Op("&" | "+" | "-") => 50,
        Tok::Op("*" | "/" | "%") => 60,
        Tok::Op(".") => 75,
        Tok::Op("[" | "(") => 80,
        _ => 0,
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        match self.next() {
            Some(Tok::Op(o)) if o == op => Ok(()),
            other => Err(format!("expected '{op}' but found {}", shown(other.as_ref()))),
        }
    }

    fn list(&mut self, close: &str) -> Result<Vec<Expr>, String> {
        let mut items = Vec::new();
        if self.peek() == Some(&Tok::Op(if close == ")" { ")" } else { "]" })) {
            self.i += 1;
            return Ok(items);
        }
        loop {
            items.push(self.expr(0)?);
            match self.next() {
                Some(Tok::Op(",")) => {}
                Some(Tok::Op(o)) if o == close => return Ok(items),
                other => return Err(format!("expected ',' or '{close}' but found {}", shown(other.as_ref()))),
            }
        }
    }

    fn nud(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Literal(num(n))),
            Some(Tok::Str(s)) => Ok(Expr::Literal(Value::String(s))),
            Some(Tok::Name(n)) => Ok(match n.as_str() {
                "true" => Expr::Literal(Value::Bool(true)),
                "false" => Expr::Literal(Value::Bool(false)),
                "null" => Expr::Literal(Value::Null),
                _ => Expr::Field(n),
            }),
            Some(Tok::Var(v)) if v.is_empty() => Ok(Expr::Context),
            Some(Tok::Var(v)) => Ok(Expr::Var(v)),
            Some(Tok::Op("-")) => Ok(Expr::Neg(Box::new(self.expr(70)?))),
            Some(Tok::Op("(")) => {
                let mut exprs = Vec::new();
                loop {
                    if self.peek() == Some(&Tok::Op(")")) {
                        self.i += 1;
                        break;
                    }
                    exprs.push(self.expr(0)?);
                    match self.next() {
                        Some(Tok::Op(";")) => {}
                        Some(Tok::Op(")")) => break,
                        other => return Err(format!("expected ';' or ')' but found {}", shown(other.as_ref()))),
                    }
                }
                Ok(Expr::Block(exprs))
            }
            Some(Tok::Op("[")) => Ok(Expr::Array(self.list("]")?)),
            Some(Tok::Op("{")) => {
                let mut pairs = Vec::new();
                if self.peek() == Some(&Tok::Op("}")) {
                    self.i += 1;
                    return Ok(Expr::Object(pairs));
                }
                loop {
                    let k = self.expr(0)?;
                    self.expect(":")?;
                    let v = self.expr(0)?;
                    pairs.push((k, v));
                    match self.next() {
                        Some(Tok::Op(",")) => {}
                        Some(Tok::Op("}")) => return Ok(Expr::Object(pairs)),
                        other => return Err(format!("expected ',' or '}}' but found {}", shown(other.as_ref()))),
                    }
                }
            }
            other => Err(format!("unexpected {}", shown(other.as_ref()))),
        }
    }

    fn expr(&mut self, min: u8) -> Result<Expr, String> {
        self.depth += 1;
        let e = if self.depth > MAX_DEPTH {
            Err("the expression nests too deeply".to_owned())
        } else {
            self.expr_inner(min)
        };
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, min: u8) -> Result<Expr, String> {
        let mut left = self.nud()?;
        while let Some(t) = self.peek().cloned() {
            let p = bp(&t);
            if p <= min {
                break;
            }
            self.i += 1;
            left = match t {
                Tok::Op(".") => Expr::Path(Box::new(left), Box::new(self.expr(75)?)),
                Tok::Op("[") => {
                    let idx = self.expr(0)?;
                    self.expect("]")?;
                    Expr::Index(Box::new(left), Box::new(idx))
                }
                Tok::Op("(") => {
                    let Expr::Var(name) = left else {
                        return Err("only $functions can be called".into());
                    };
                    Expr::Call(name, self.list(")")?)
                }
                Tok::Op("?") => {
                    let then = self.expr(0)?;
                    let otherwise = if self.peek() == Some(&Tok::Op(":")) {
                        self.i += 1;
                        Some(Box::new(self.expr(0)?))
                    } else {
                        None
                    };
                    Expr::Cond(Box::new(left), Box::new(then), otherwise)
                }
                Tok::Op(":=") => {
                    let Expr::Var(name) = left else {
                        return Err("':=' needs a $variable on its left".into());
                    };
                    Expr::Bind(name, Box::new(self.expr(p - 1)?))
                }
                Tok::Op(op) => Expr::Binary(Box::new(left), op.to_owned(), Box::new(self.expr(p)?)),
                Tok::Name(n) => Expr::Binary(Box::new(left), n, Box::new(self.expr(p)?)),
                other => return Err(format!("unexpected {other}")),
            };
        }
        Ok(left)
    }
}

type Out = Result<Option<Value>, String>;

struct Ctx<'a, 'b> {
    vars: &'a Vars<'b>,
    locals: BTreeMap<String, Value>,
    random: u64,
}

fn num(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

fn flatten_seq(items: Vec<Value>) -> Option<Value> {
    match items.len() {
        0 => None,
        1 => items.into_iter().next(),
        _ => Some(Value::Array(items)),
    }
}

fn truthy(v: &Option<Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => a.iter().any(|x| truthy(&Some(x.clone()))),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Bool(true)) => true,
    }
}

fn to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

impl Ctx<'_, '_> {
    fn eval(&mut self, e: &Expr, ctx: &Value) -> Out {
        match e {
            Expr::Literal(v) => Ok(Some(v.clone())),
            Expr::Context => Ok(Some(ctx.clone())),
            Expr::Var(name) => Ok(match name.as_str() {
                "states" => Some(self.vars.states.clone()),
                _ => self.locals.get(name).or_else(|| self.vars.scope.get(name)).cloned(),
            }),
            Expr::Field(name) => Ok(field(ctx, name)),
            Expr::Path(l, r) => {
                let Some(base) = self.eval(l, ctx)? else {
                    return Ok(None);
                };
                match base {
                    Value::Array(items) => {
                        let mut out = Vec::new();
                        for it in items {
                            match self.eval(r, &it)? {
                                Some(Value::Array(xs)) => out.extend(xs),
                                Some(v) => out.push(v),
                                None => {}
                            }
                        }
                        Ok(flatten_seq(out))
                    }
                    other => self.eval(r, &other),
                }
            }
            Expr::Index(l, idx) => {
                let Some(base) = self.eval(l, ctx)? else {
                    return Ok(None);
                };
                let items = match base {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                if let Expr::Literal(Value::Number(n)) = idx.as_ref() {
                    let i = n.as_f64().unwrap_or(0.0).floor() as i64;
                    let len = items.len() as i64;
                    let i = if i < 0 { len + i } else { i };
                    return Ok(usize::try_from(i).ok().and_then(|i| items.get(i)).cloned());
                }
                let mut out = Vec::new();
                for it in items {
                    if truthy(&self.eval(idx, &it)?) {
                        out.push(it);
                    }
                }
                Ok(flatten_seq(out))
            }
            Expr::Neg(x) => match self.eval(x, ctx)? {
                Some(Value::Number(n)) => Ok(Some(num(-n.as_f64().unwrap_or(0.0)))),
                None => Ok(None),
                Some(other) => Err(format!("cannot negate {other}")),
            },
            Expr::Cond(c, t, f) => {
                if truthy(&self.eval(c, ctx)?) {
                    self.eval(t, ctx)
                } else {
                    f.as_ref().map_or(Ok(None), |f| self.eval(f, ctx))
                }
            }
            Expr::Bind(name, x) => {
                let v = self.eval(x, ctx)?;
                if let Some(v) = &v {
                    self.locals.insert(name.clone(), v.clone());
                }
                Ok(v)
            }
            Expr::Block(xs) => {
                let mut last = None;
                for x in xs {
                    last = self.eval(x, ctx)?;
                }
                Ok(last)
            }
            Expr::Array(xs) => {
                let mut out = Vec::new();
                for x in xs {
                    if let Some(v) = self.eval(x, ctx)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Expr::Object(pairs) => {
                let mut out = Map::new();
                for (k, v) in pairs {
                    let Some(Value::String(k)) = self.eval(k, ctx)? else {
                        return Err("object keys must be strings".into());
                    };
                    if let Some(v) = self.eval(v, ctx)? {
                        out.insert(k, v);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            Expr::Binary(l, op, r) => self.binary(l, op, r, ctx),
            Expr::Call(name, args) => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.eval(a, ctx)?);
                }
                self.call(name, &vals)
            }
        }
    }

    fn binary(&mut self, l: &Expr, op: &str, r: &Expr, ctx: &Value) -> Out {
        if op == "and" {
            return Ok(Some(Value::Bool(truthy(&self.eval(l, ctx)?) && truthy(&self.eval(r, ctx)?))));
        }
        if op == "or" {
            return Ok(Some(Value::Bool(truthy(&self.eval(l, ctx)?) || truthy(&self.eval(r, ctx)?))));
        }
        let (a, b) = (self.eval(l, ctx)?, self.eval(r, ctx)?);
        match op {
            "&" => Ok(Some(Value::String(format!(
                "{}{}",
                a.as_ref().map(to_string).unwrap_or_default(),
                b.as_ref().map(to_string).unwrap_or_default()
            )))),
            "=" | "!=" => {
                let (Some(a), Some(b)) = (a, b) else {
                    return Ok(Some(Value::Bool(false)));
                };
                let eq = crate::intrinsics::json_eq(&a, &b);
                Ok(Some(Value::Bool(if op == "=" { eq } else { !eq })))
            }
            "in" => {
                let (Some(a), Some(b)) = (a, b) else {
                    return Ok(Some(Value::Bool(false)));
                };
                let items = match b {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                Ok(Some(Value::Bool(items.iter().any(|x| crate::intrinsics::json_eq(x, &a)))))
            }
            _ => {
                let (Some(a), Some(b)) = (a, b) else {
                    return Ok(None);
                };
                if let (Value::String(x), Value::String(y)) = (&a, &b) {
                    let res = match op {
                        "<" => x < y,
                        "<=" => x <= y,
                        ">" => x > y,
                        ">=" => x >= y,
                        _ => return Err(format!("operator '{op}' needs numbers")),
                    };
                    return Ok(Some(Value::Bool(res)));
                }
                let (Some(x), Some(y)) = (a.as_f64().filter(|_| a.is_number()), b.as_f64().filter(|_| b.is_number()))
                else {
                    return Err(format!("operator '{op}' needs numbers, got {a} and {b}"));
                };
                Ok(Some(match op {
                    "+" => num(x + y),
                    "-" => num(x - y),
                    "*" => num(x * y),
                    "/" => num(x / y),
                    "%" => num(x % y),
                    "<" => Value::Bool(x < y),
                    "<=" => Value::Bool(x <= y),
                    ">" => Value::Bool(x > y),
                    ">=" => Value::Bool(x >= y),
                    _ => return Err(format!("unknown operator '{op}'")),
                }))
            }
        }
    }

    fn next_random(&mut self) -> u64 {
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn call(&mut self, name: &str, args: &[Option<Value>]) -> Out {
        let arg = |i: usize| args.get(i).cloned().flatten();
        let array = |v: Option<Value>| match v {
            Some(Value::Array(a)) => a,
            Some(other) => vec![other],
            None => Vec::new(),
        };
        let numbers = |v: Option<Value>| -> Result<Vec<f64>, String> {
            array(v)
                .iter()
                .map(|x| x.as_f64().filter(|_| x.is_number()).ok_or_else(|| format!("${name} expects numbers")))
                .collect()
        };
        Ok(match name {
            "sum" => Some(num(numbers(arg(0))?.iter().sum())),
            "count" => Some(Value::from(array(arg(0)).len())),
            "max" => numbers(arg(0))?.into_iter().reduce(f64::max).map(num),
            "min" => numbers(arg(0))?.into_iter().reduce(f64::min).map(num),
            "average" => {
                let xs = numbers(arg(0))?;
                (!xs.is_empty()).then(|| num(xs.iter().sum::<f64>() / xs.len() as f64))
            }
            "abs" => arg(0).and_then(|v| v.as_f64()).map(|x| num(x.abs())),
            "floor" => arg(0).and_then(|v| v.as_f64()).map(|x| num(x.floor())),
            "ceil" => arg(0).and_then(|v| v.as_f64()).map(|x| num(x.ceil())),
            "round" => arg(0).and_then(|v| v.as_f64()).map(|x| num(x.round())),
            "not" => Some(Value::Bool(!truthy(&arg(0)))),
            "boolean" => arg(0).map(|v| Value::Bool(truthy(&Some(v)))),
            "exists" => Some(Value::Bool(arg(0).is_some())),
            "string" => arg(0).map(|v| Value::String(to_string(&v))),
            "number" => match arg(0) {
                Some(Value::String(s)) => Some(
                    serde_json::from_str::<Number>(s.trim())
                        .map(Value::Number)
                        .map_err(|_| format!("$number cannot convert '{s}'"))?,
                ),
                Some(v @ Value::Number(_)) => Some(v),
                Some(Value::Bool(b)) => Some(Value::from(u8::from(b))),
                Some(other) => return Err(format!("$number cannot convert {other}")),
                None => None,
            },
            "length" => arg(0).and_then(|v| v.as_str().map(|s| Value::from(s.chars().count()))),
            "uppercase" => arg(0).and_then(|v| v.as_str().map(|s| Value::String(s.to_uppercase()))),
            "lowercase" => arg(0).and_then(|v| v.as_str().map(|s| Value::String(s.to_lowercase()))),
            "trim" => arg(0)
                .and_then(|v| v.as_str().map(|s| Value::String(s.split_whitespace().collect::<Vec<_>>().join(" ")))),
            "contains" => match (arg(0), arg(1)) {
                (Some(Value::String(s)), Some(Value::String(p))) => Some(Value::Bool(s.contains(&p))),
                _ => None,
            },
            "join" => {
                let sep = arg(1).and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                Some(Value::String(array(arg(0)).iter().map(to_string).collect::<Vec<_>>().join(&sep)))
            }
            "split" => match (arg(0), arg(1)) {
                (Some(Value::String(s)), Some(Value::String(p))) => {
                    Some(Value::Array(s.split(p.as_str()).map(|x| Value::String(x.to_owned())).collect()))
                }
                _ => None,
            },
            "keys" => match arg(0) {
                Some(Value::Object(m)) => Some(Value::Array(m.keys().map(|k| Value::String(k.clone())).collect())),
                _ => None,
            },
            "append" => {
                let mut a = array(arg(0));
                a.extend(array(arg(1)));
                Some(Value::Array(a))
            }
            "merge" => {
                let mut out = Map::new();
                for v in array(arg(0)) {
                    if let Value::Object(m) = v {
                        out.extend(m);
                    }
                }
                Some(Value::Object(out))
            }
            "type" => arg(0).map(|v| {
                Value::String(
                    match v {
                        Value::Null => "null",
                        Value::Bool(_) => "boolean",
                        Value::Number(_) => "number",
                        Value::String(_) => "string",
                        Value::Array(_) => "array",
                        Value::Object(_) => "object",
                    }
                    .into(),
                )
            }),
            "parse" => match arg(0) {
                Some(Value::String(s)) => {
                    Some(normalize(serde_json::from_str(&s).map_err(|e| format!("$parse: {e}"))?))
                }
                _ => return Err("$parse expects a string".into()),
            },
            "partition" => {
                let size =
                    arg(1).and_then(|v| v.as_f64()).filter(|n| *n >= 1.0).ok_or("$partition expects a positive size")?
                        as u64;
                Some(Value::Array(array(arg(0)).chunks(size as usize).map(|c| Value::Array(c.to_vec())).collect()))
            }
            "range" => {
                let int = |v: Option<Value>| v.and_then(|v| v.as_f64()).filter(|f| f.fract() == 0.0).map(|f| f as i64);
                let (Some(start), Some(end)) = (int(arg(0)), int(arg(1))) else {
                    return Err("$range expects integers".into());
                };
                let step = int(arg(2)).unwrap_or(1);
                if step == 0 {
                    return Err("$range expects a non-zero step".into());
                }
                let mut out = Vec::new();
                let mut v = start;
                while (step > 0 && v <= end) || (step < 0 && v >= end) {
                    if out.len() >= 1000 {
                        return Err("$range produces at most 1000 elements".into());
                    }
                    out.push(Value::from(v));
                    v += step;
                }
                Some(Value::Array(out))
            }
            "random" => Some(num((self.next_random() >> 11) as f64 / (1u64 << 53) as f64)),
            "uuid" => {
                let mut e = crate::entropy::SeededEntropy::new(self.next_random());
                Some(Value::String(crate::entropy::uuid_v4(&mut e)))
            }
            "hash" => {
                let call = crate::intrinsics::Call::parse("States.Hash($.d, $.a)")?;
                let input = serde_json::json!({"d": arg(0), "a": arg(1).unwrap_or(Value::String("SHA-256".into()))});
                let ctx = Value::Null;
                Some(call.eval(
                    &crate::jsonpath::SimpleRoots { input: &input, context: &ctx },
                    &mut crate::entropy::SeededEntropy::new(0),
                )?)
            }
            other => return Err(format!("the function ${other} is not supported")),
        })
    }
}

/// JSONata numbers are doubles: `-0` and `2.0` are printed as `0` and `2`.
fn normalize(v: Value) -> Value {
    match v {
        Value::Number(n) => n.as_f64().map_or(Value::Number(n), |f| if f == 0.0 { Value::from(0) } else { num(f) }),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        other => other,
    }
}

fn field(ctx: &Value, name: &str) -> Option<Value> {
    match ctx {
        Value::Object(m) => m.get(name).cloned(),
        Value::Array(items) => flatten_seq(items.iter().filter_map(|it| field(it, name)).collect()),
        _ => None,
    }
}

impl Expr {
    pub(crate) fn parse(text: &str) -> Result<Expr, String> {
        let mut p = Parser { toks: lex(text)?, i: 0, depth: 0 };
        let e = p.expr(0)?;
        if p.i < p.toks.len() {
            return Err(format!("unexpected {}", shown(p.toks.get(p.i))));
        }
        Ok(e)
    }

    /// Evaluates; `Ok(None)` is JSONata's "undefined".
    pub(crate) fn eval(&self, vars: &Vars<'_>) -> Out {
        let root = vars.states.get("input").cloned().unwrap_or(Value::Null);
        let mut cx = Ctx { vars, locals: BTreeMap::new(), random: *vars.random };
        cx.eval(self, &root)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn eval(text: &str) -> Option<Value> {
        let states = json!({"input": {"xs": [1, 2, 3], "o": {"a": [{"b": 1}, {"b": 2}]}, "s": "hi"}});
        let mut scope = Scope::default();
        scope.own.insert("k".into(), json!(1));
        let mut seed = 0;
        Expr::parse(text).unwrap().eval(&Vars { states: &states, scope: &scope, random: &mut seed }).unwrap()
    }

    #[test]
    fn evaluates_the_subset() {
        assert_eq!(eval("$sum($states.input.xs) + $k"), Some(json!(7)));
        assert_eq!(eval("$states.input.o.a.b"), Some(json!([1, 2])));
        assert_eq!(eval("$states.input.xs[1]"), Some(json!(2)));
        assert_eq!(eval("$states.input.xs[$ > 1]"), Some(json!([2, 3])));
        assert_eq!(eval("$doesNotExist"), None);
        assert_eq!(eval("$states.input.s & '!' = 'hi!' ? 'y' : 'n'"), Some(json!("y")));
        assert_eq!(eval("($v := 2; $v * 3)"), Some(json!(6)));
        assert_eq!(eval("{'foo': 'bar', 'n': $number('2')}"), Some(json!({"foo": "bar", "n": 2})));
        assert_eq!(eval("$range(1, 9, 2)"), Some(json!([1, 3, 5, 7, 9])));
        assert_eq!(eval("$partition([1,2,3], 2)"), Some(json!([[1, 2], [3]])));
        assert_eq!(eval("$parse('-0')"), Some(json!(0)));
        assert_eq!(eval("$not(true)"), Some(json!(false)));
        assert!(Expr::parse("1 +").is_err());
        assert!(Expr::parse("@@").is_err());
        assert!(Expr::parse(&"(".repeat(100_000)).is_err());
        assert!(Expr::parse(&"-".repeat(100_000)).is_err());
    }
}
