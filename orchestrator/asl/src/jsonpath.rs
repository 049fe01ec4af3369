//! AWS's JSONPath dialect (Jayway JsonPath): parsed once at compile time, evaluated per state.
//!
//! A *definite* path (`$.a.b`, `$.items[0]`, `$['key']`) yields exactly one value or an error worded
//! like Jayway's; an *indefinite* path (wildcards, slices, index lists, filters, deep scans) yields
//! an array, empty when nothing matched. Roots are `$` (the state input), `$$` (the context object)
//! and `$name` (a workflow variable).

use std::cell::Cell;
use std::fmt;

use serde_json::Value;

/// The most steps (nodes visited, items tested, values copied) one evaluation may take. Filters can nest
/// paths that scan the whole document for every node they test, so a short path can ask for
/// time exponential in its length; it fails instead, since no definition may cost more than
/// its own execution. Real paths over a 256 KiB document take a few hundred thousand at most.
const MAX_STEPS: u64 = 1_000_000;

/// What is left of one evaluation's steps. Once they are spent every step is refused, so the
/// evaluation unwinds at once and reports it.
struct Steps {
    left: Cell<u64>,
    exceeded: Cell<bool>,
}

impl Steps {
    fn new() -> Self {
        Steps { left: Cell::new(MAX_STEPS), exceeded: Cell::new(false) }
    }

    /// Takes `n` steps; `false` once the budget is spent.
    fn take(&self, n: usize) -> bool {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        match self.left.get().checked_sub(n) {
            Some(left) if !self.exceeded.get() => {
                self.left.set(left);
                true
            }
            _ => {
                self.exceeded.set(true);
                false
            }
        }
    }
}

/// Where a path starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Root {
    /// `$`: the value the path is applied to (usually the state input).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Child(String),
    Children(Vec<String>),
    Index(i64),
    Indices(Vec<i64>),
    Wildcard,
    Slice(Option<i64>, Option<i64>, Option<i64>),
    DeepScan(Option<String>),
    Filter(Box<Filter>),
}

impl Segment {
    fn is_definite(&self) -> bool {
        matches!(self, Segment::Child(_) | Segment::Index(_))
    }
}

/// A parsed JSONPath expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
}

/// The roots a path can read from during evaluation.
pub(crate) trait Roots {
    fn input(&self) -> &Value;
    fn context(&self) -> &Value;
    fn variable(&self, name: &str) -> Option<&Value>;
}

/// Plain roots for callers that have every value at hand.
#[cfg(test)]
pub(crate) struct SimpleRoots<'a> {
    pub(crate) input: &'a Value,
    pub(crate) context: &'a Value,
}

#[cfg(test)]
impl Roots for SimpleRoots<'_> {
    fn input(&self) -> &Value {
        self.input
    }
    fn context(&self) -> &Value {
        self.context
    }
    fn variable(&self, _name: &str) -> Option<&Value> {
        None
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Path {
    /// Parses `text`; the error explains what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Path, String> {
        Parser { s: text.as_bytes(), i: 0, text, depth: 0 }.parse_path()
    }

    /// The path as written in the definition.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn root(&self) -> &Root {
        &self.root
    }

    /// Whether the path names exactly one location (no wildcards, slices, lists or filters).
    pub(crate) fn is_definite(&self) -> bool {
        self.segments.iter().all(Segment::is_definite)
    }

    /// For a `$.a.b` style path: the chain of object keys, used by ResultPath to write into a
    /// document. `None` when the path has anything but child keys and indices.
    pub(crate) fn keys(&self) -> Option<Vec<KeyOrIndex<'_>>> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Child(k) => Some(KeyOrIndex::Key(k)),
                Segment::Index(i) => Some(KeyOrIndex::Index(*i)),
                _ => None,
            })
            .collect()
    }

    /// Evaluates the path. A definite path that does not resolve is an error carrying the Jayway
    /// message (without the `Invalid path` prefix, which [`Path::eval`] adds).
    pub(crate) fn eval(&self, roots: &dyn Roots) -> Result<Value, String> {
        self.eval_raw(roots).map_err(|detail| format!("Invalid path '{}' : {detail}", self.text))
    }

    /// Like [`Path::eval`] but answers `None` instead of an error when nothing matches, for
    /// Choice's `IsPresent` and variable references; an error only when the path takes too
    /// many steps.
    pub(crate) fn try_eval(&self, roots: &dyn Roots) -> Result<Option<Value>, String> {
        let steps = Steps::new();
        let found = self.eval_with(roots, &steps).ok();
        if steps.exceeded.get() {
            return Err(self.too_many_steps());
        }
        Ok(found)
    }

    fn too_many_steps(&self) -> String {
        format!("Invalid path '{}' : evaluating it takes more than {MAX_STEPS} steps", self.text)
    }

    fn eval_raw(&self, roots: &dyn Roots) -> Result<Value, String> {
        let steps = Steps::new();
        let found = self.eval_with(roots, &steps);
        if steps.exceeded.get() {
            return Err(format!("evaluating it takes more than {MAX_STEPS} steps"));
        }
        found
    }

    fn eval_with(&self, roots: &dyn Roots, steps: &Steps) -> Result<Value, String> {
        let root = match &self.root {
            Root::Input => roots.input(),
            Root::Context => roots.context(),
            Root::Variable(name) => match roots.variable(name) {
                Some(v) => v,
                None => return Err(format!("The variable '{name}' is not defined")),
            },
        };
        if self.is_definite() {
            walk_definite(root, &self.segments, &self.root).cloned()
        } else {
            Ok(copied(apply_segments(&self.segments, root, roots, steps), steps))
        }
    }

    /// What the path finds, for a filter's operand: `None` where evaluation would fail, without
    /// wording the failure, since a filter may test many items.
    fn find(&self, roots: &dyn Roots, steps: &Steps) -> Option<Value> {
        let root = match &self.root {
            Root::Input => roots.input(),
            Root::Context => roots.context(),
            Root::Variable(name) => roots.variable(name)?,
        };
        if self.is_definite() {
            let found = walk_found(root, &self.segments)?;
            steps.take(self.segments.len() + weight(found)).then(|| found.clone())
        } else {
            Some(copied(apply_segments(&self.segments, root, roots, steps), steps))
        }
    }
}

/// The values found, copied into an array, each charged for its size.
fn copied(found: Vec<&Value>, steps: &Steps) -> Value {
    let mut out = Vec::with_capacity(found.len());
    for value in found {
        if !steps.take(weight(value)) {
            break;
        }
        out.push(value.clone());
    }
    Value::Array(out)
}

/// How many values `value` holds, itself included, counting no further than a copy's worth
/// of steps could pay for.
fn weight(value: &Value) -> usize {
    fn count(value: &Value, total: &mut usize) {
        *total += 1;
        if *total > MAX_STEPS as usize {
            return;
        }
        match value {
            Value::Array(items) => items.iter().for_each(|item| count(item, total)),
            Value::Object(map) => map.values().for_each(|item| count(item, total)),
            _ => {}
        }
    }
    let mut total = 0;
    count(value, &mut total);
    total
}

/// A definite path's value, if it has one.
fn walk_found<'a>(root: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    segments.iter().try_fold(root, |current, segment| match segment {
        Segment::Child(key) => current.as_object()?.get(key),
        Segment::Index(i) => {
            let items = current.as_array()?;
            resolve_index(*i, items.len()).and_then(|i| items.get(i))
        }
        _ => None,
    })
}

fn apply_segments<'a>(segments: &[Segment], root: &'a Value, roots: &dyn Roots, steps: &Steps) -> Vec<&'a Value> {
    let mut out = vec![root];
    for seg in segments {
        let mut next = Vec::new();
        for v in out {
            apply_segment(seg, v, roots, steps, &mut next);
        }
        out = next;
    }
    out
}

/// One step of a ResultPath.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KeyOrIndex<'a> {
    Key(&'a str),
    Index(i64),
}

fn root_prefix(root: &Root) -> String {
    match root {
        Root::Input => "$".to_owned(),
        Root::Context => "$$".to_owned(),
        Root::Variable(n) => format!("${n}"),
    }
}

fn render(root: &Root, segments: &[Segment]) -> String {
    let mut s = root_prefix(root);
    for seg in segments {
        match seg {
            Segment::Child(k) => s.push_str(&format!("['{k}']")),
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
            _ => s.push_str("[*]"),
        }
    }
    s
}

fn java_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_f64() => "java.lang.Double",
        Value::Number(_) => "java.lang.Integer",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "net.minidev.json.JSONArray",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

fn walk_definite<'a>(root: &'a Value, segments: &[Segment], r: &Root) -> Result<&'a Value, String> {
    let mut cur = root;
    for (n, seg) in segments.iter().enumerate() {
        let last = n + 1 == segments.len();
        cur = match seg {
            Segment::Child(key) => match cur {
                Value::Object(map) => match map.get(key) {
                    Some(v) => v,
                    None if last => {
                        return Err(format!("No results for path: {}", render(r, &segments[..=n])));
                    }
                    None => {
                        return Err(format!("Missing property in path {}", render(r, &segments[..=n])));
                    }
                },
                other => {
                    return Err(format!(
                        "Expected to find an object with property ['{key}'] in path {} but found '{}'. \
                         This is not a json object according to the JsonProvider: \
                         'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.",
                        render(r, &segments[..n]),
                        java_type(other)
                    ));
                }
            },
            Segment::Index(i) => match cur {
                Value::Array(items) => match resolve_index(*i, items.len()).and_then(|i| items.get(i)) {
                    Some(v) => v,
                    None => {
                        return Err(format!("Index out of bounds when evaluating path {}", render(r, &segments[..=n])));
                    }
                },
                other => {
                    return Err(format!("Filter: [{i}] can only be applied to arrays. Current context is: {other}"));
                }
            },
            _ => return Err("indefinite segment in a definite path".to_owned()),
        };
    }
    Ok(cur)
}

fn resolve_index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if i < 0 { len + i } else { i };
    if (0..len).contains(&i) { usize::try_from(i).ok() } else { None }
}

fn apply_segment<'a>(seg: &Segment, v: &'a Value, roots: &dyn Roots, steps: &Steps, out: &mut Vec<&'a Value>) {
    let width = match v {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 0,
    };
    if !steps.take(1 + width) {
        return;
    }
    match seg {
        Segment::Child(k) => {
            if let Some(c) = v.as_object().and_then(|m| m.get(k)) {
                out.push(c);
            }
        }
        Segment::Children(keys) => {
            if let Some(m) = v.as_object() {
                out.extend(keys.iter().filter_map(|k| m.get(k)));
            }
        }
        Segment::Index(i) => {
            if let Some(items) = v.as_array() {
                out.extend(resolve_index(*i, items.len()).and_then(|i| items.get(i)));
            }
        }
        Segment::Indices(is) => {
            if let Some(items) = v.as_array() {
                out.extend(is.iter().filter_map(|i| resolve_index(*i, items.len()).and_then(|i| items.get(i))));
            }
        }
        Segment::Wildcard => match v {
            Value::Array(items) => out.extend(items.iter()),
            Value::Object(m) => out.extend(m.values()),
            _ => {}
        },
        Segment::Slice(start, end, step) => {
            if let Some(items) = v.as_array() {
                slice(items, *start, *end, *step, out);
            }
        }
        Segment::DeepScan(key) => deep_scan(v, key.as_deref(), steps, out),
        Segment::Filter(f) => match v {
            Value::Array(items) => out.extend(items.iter().filter(|item| f.matches(item, roots, steps))),
            Value::Object(_) if f.matches(v, roots, steps) => out.push(v),
            _ => {}
        },
    }
}

fn slice<'a>(items: &'a [Value], start: Option<i64>, end: Option<i64>, step: Option<i64>, out: &mut Vec<&'a Value>) {
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
    let step = step.unwrap_or(1);
    if step <= 0 {
        return;
    }
    let (mut i, end) = (norm(start.unwrap_or(0)), norm(end.unwrap_or(len)));
    while i < end {
        if let Some(v) = usize::try_from(i).ok().and_then(|i| items.get(i)) {
            out.push(v);
        }
        i += step;
    }
}

fn deep_scan<'a>(v: &'a Value, key: Option<&str>, steps: &Steps, out: &mut Vec<&'a Value>) {
    if !steps.take(1) {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if key.is_none_or(|want| want == k) {
                    out.push(child);
                }
                deep_scan(child, key, steps, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                if key.is_none() {
                    out.push(child);
                }
                deep_scan(child, key, steps, out);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Filter {
    Or(Vec<Filter>),
    And(Vec<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Compare(Operand, CmpOp, Operand),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    /// `@...`: relative to the element under test.
    Current(Vec<Segment>),
    /// `$...`: absolute.
    Absolute(Box<Path>),
    Literal(Value),
}

impl Filter {
    fn matches(&self, item: &Value, roots: &dyn Roots, steps: &Steps) -> bool {
        if !steps.take(1) {
            return false;
        }
        match self {
            Filter::Or(fs) => fs.iter().any(|f| f.matches(item, roots, steps)),
            Filter::And(fs) => fs.iter().all(|f| f.matches(item, roots, steps)),
            Filter::Not(f) => !f.matches(item, roots, steps),
            Filter::Exists(op) => op.resolve(item, roots, steps).is_some(),
            Filter::Compare(a, op, b) => match (a.resolve(item, roots, steps), b.resolve(item, roots, steps)) {
                (Some(a), Some(b)) => compare(&a, *op, &b),
                _ => false,
            },
        }
    }
}

impl Operand {
    fn resolve(&self, item: &Value, roots: &dyn Roots, steps: &Steps) -> Option<Value> {
        match self {
            Operand::Literal(v) => Some(v.clone()),
            Operand::Absolute(p) => p.find(roots, steps),
            Operand::Current(segs) => {
                if segs.iter().all(Segment::is_definite) {
                    let found = walk_found(item, segs)?;
                    steps.take(segs.len() + weight(found)).then(|| found.clone())
                } else {
                    Some(copied(apply_segments(segs, item, roots, steps), steps))
                }
            }
        }
    }
}

fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().zip(y.as_f64()).and_then(|(x, y)| x.partial_cmp(&y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => {
            return match op {
                CmpOp::Eq => a == b,
                CmpOp::Ne => a != b,
                _ => false,
            };
        }
    };
    match (ord, op) {
        (Some(o), CmpOp::Eq) => o == Ordering::Equal,
        (Some(o), CmpOp::Ne) => o != Ordering::Equal,
        (Some(o), CmpOp::Lt) => o == Ordering::Less,
        (Some(o), CmpOp::Le) => o != Ordering::Greater,
        (Some(o), CmpOp::Gt) => o == Ordering::Greater,
        (Some(o), CmpOp::Ge) => o != Ordering::Less,
        (None, CmpOp::Ne) => true,
        (None, _) => false,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
    /// Filter nesting, bounded so that hostile input cannot exhaust the stack.
    depth: usize,
}

const MAX_FILTER_DEPTH: usize = 32;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == b' ') {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!("invalid JSONPath '{}' at character {}: {what}", self.text, self.i)
    }

    fn parse_path(&mut self) -> Result<Path, String> {
        if !self.eat(b'$') {
            return Err(self.err("a path must start with '$'"));
        }
        let root = if self.eat(b'$') {
            Root::Context
        } else if self.peek().is_some_and(is_var_char) {
            let start = self.i;
            while self.peek().is_some_and(is_var_char) {
                self.i += 1;
            }
            Root::Variable(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
        } else {
            Root::Input
        };
        let segments = self.parse_segments(false)?;
        if self.i != self.s.len() {
            return Err(self.err("unexpected character"));
        }
        Ok(Path { text: self.text.to_owned(), root, segments })
    }

    /// Segments up to the end of input (or, inside a filter, up to a character that cannot
    /// continue a path).
    fn parse_segments(&mut self, in_filter: bool) -> Result<Vec<Segment>, String> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(b'.') => {
                    self.i += 1;
                    if self.eat(b'.') {
                        if self.eat(b'*') || self.peek() == Some(b'[') {
                            segs.push(Segment::DeepScan(None));
                        } else {
                            let name = self.dot_name(in_filter)?;
                            segs.push(Segment::DeepScan(Some(name)));
                        }
                    } else if self.eat(b'*') {
                        segs.push(Segment::Wildcard);
                    } else {
                        let name = self.dot_name(in_filter)?;
                        segs.push(Segment::Child(name));
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    segs.push(self.bracket()?);
                }
                Some(_) if in_filter => break,
                Some(_) => return Err(self.err("expected '.' or '['")),
            }
        }
        Ok(segs)
    }

    fn dot_name(&mut self, in_filter: bool) -> Result<String, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            let stop = c == b'.' || c == b'[' || (in_filter && (c == b' ' || c == b')' || b"=!<>&|".contains(&c)));
            if stop {
                break;
            }
            self.i += 1;
        }
        if self.i == start {
            return Err(self.err("empty property name"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn bracket(&mut self) -> Result<Segment, String> {
        self.skip_ws();
        let seg = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Segment::Wildcard
            }
            Some(q @ (b'\'' | b'"')) => {
                let mut keys = vec![self.quoted(q)?];
                self.skip_ws();
                while self.eat(b',') {
                    self.skip_ws();
                    match self.peek() {
                        Some(q @ (b'\'' | b'"')) => keys.push(self.quoted(q)?),
                        _ => return Err(self.err("expected a quoted key")),
                    }
                    self.skip_ws();
                }
                if keys.len() == 1 { Segment::Child(keys.remove(0)) } else { Segment::Children(keys) }
            }
            Some(b'?') => {
                self.i += 1;
                self.skip_ws();
                if !self.eat(b'(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                let f = self.filter_or()?;
                self.skip_ws();
                if !self.eat(b')') {
                    return Err(self.err("expected ')' closing the filter"));
                }
                Segment::Filter(Box::new(f))
            }
            _ => self.index_or_slice()?,
        };
        self.skip_ws();
        if !self.eat(b']') {
            return Err(self.err("expected ']'"));
        }
        Ok(seg)
    }

    fn quoted(&mut self, q: u8) -> Result<String, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated quoted key")),
                Some(b'\\') if self.s.get(self.i + 1) == Some(&q) => {
                    out.push(q);
                    self.i += 2;
                }
                Some(c) if c == q => {
                    self.i += 1;
                    break;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn int(&mut self) -> Option<i64> {
        self.skip_ws();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        let v = text.parse().ok();
        if v.is_none() {
            self.i = start;
        }
        self.skip_ws();
        v
    }

    fn index_or_slice(&mut self) -> Result<Segment, String> {
        let first = self.int();
        if self.peek() == Some(b':') {
            self.i += 1;
            let end = self.int();
            let step = if self.eat(b':') { self.int() } else { None };
            return Ok(Segment::Slice(first, end, step));
        }
        let Some(first) = first else {
            return Err(self.err("expected an index, a slice, '*', a quoted key or a filter"));
        };
        let mut list = vec![first];
        while self.eat(b',') {
            list.push(self.int().ok_or_else(|| self.err("expected an index"))?);
        }
        Ok(if list.len() == 1 { Segment::Index(first) } else { Segment::Indices(list) })
    }

    fn filter_or(&mut self) -> Result<Filter, String> {
        let mut parts = vec![self.filter_and()?];
        loop {
            self.skip_ws();
            if self.s.get(self.i..self.i + 2) == Some(b"||") {
                self.i += 2;
                parts.push(self.filter_and()?);
            } else {
                break;
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::Or(parts) })
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        let mut parts = vec![self.filter_unary()?];
        loop {
            self.skip_ws();
            if self.s.get(self.i..self.i + 2) == Some(b"&&") {
                self.i += 2;
                parts.push(self.filter_unary()?);
            } else {
                break;
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::And(parts) })
    }

    fn filter_unary(&mut self) -> Result<Filter, String> {
        self.depth += 1;
        let f = self.filter_unary_inner();
        self.depth -= 1;
        f
    }

    fn filter_unary_inner(&mut self) -> Result<Filter, String> {
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.err("filters nest too deeply"));
        }
        self.skip_ws();
        if self.peek() == Some(b'!') && self.s.get(self.i + 1) != Some(&b'=') {
            self.i += 1;
            return Ok(Filter::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat(b'(') {
            let f = self.filter_or()?;
            self.skip_ws();
            if !self.eat(b')') {
                return Err(self.err("expected ')'"));
            }
            return Ok(f);
        }
        let left = self.operand()?;
        self.skip_ws();
        let op = [
            (&b"=="[..], CmpOp::Eq),
            (b"!=", CmpOp::Ne),
            (b"<=", CmpOp::Le),
            (b">=", CmpOp::Ge),
            (b"<", CmpOp::Lt),
            (b">", CmpOp::Gt),
        ]
        .into_iter()
        .find(|(tok, _)| self.s.get(self.i..self.i + tok.len()) == Some(*tok));
        match op {
            Some((tok, op)) => {
                self.i += tok.len();
                let right = self.operand()?;
                Ok(Filter::Compare(left, op, right))
            }
            None => Ok(Filter::Exists(left)),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.skip_ws();
        match self.peek() {
            Some(b'@') => {
                self.i += 1;
                Ok(Operand::Current(self.parse_segments(true)?))
            }
            Some(b'$') => {
                let start = self.i;
                self.i += 1;
                let root = if self.eat(b'$') { Root::Context } else { Root::Input };
                let segments = self.parse_segments(true)?;
                let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                Ok(Operand::Absolute(Box::new(Path { text, root, segments })))
            }
            Some(q @ (b'\'' | b'"')) => Ok(Operand::Literal(Value::String(self.quoted(q)?))),
            _ => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || b"-+._".contains(&c)) {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                match word {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    _ => serde_json::from_str::<serde_json::Number>(word)
                        .map(|n| Operand::Literal(Value::Number(n)))
                        .map_err(|_| self.err("expected a filter operand")),
                }
            }
        }
    }
}

fn is_var_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn eval(path: &str, input: &Value) -> Result<Value, String> {
        let ctx = json!({"Execution": {"Input": {"x": 1}}});
        Path::parse(path).unwrap().eval(&SimpleRoots { input, context: &ctx })
    }

    /// Found by the `jsonpath` fuzz target: filters nesting deep scans of the whole document
    /// took minutes on a document of twenty values.
    #[test]
    fn paths_that_would_take_exponential_time_fail_instead() {
        let document = json!({
            "order": {"id": "o-1", "total": 71.94, "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1, "tags": ["x", "y"]}]},
            "flags": [true, false, null],
            "nested": {"deep": {"deeper": [[1, 2], [3, [4, 5]]]}},
        });
        let hostile = "$..[?($..[?($..[?($..[?($..[?($..[?($)])][?($.1ty||$$.1t||$$..1ty||$$||$.1ty||$$.*)])])])][?($.1ty||$$.1t||$$..1ty||$$||$.1ty||$$.*)])]";
        let error = eval(hostile, &document).unwrap_err();
        assert!(error.contains("takes more than 1000000 steps"), "{error}");
        // Filters whose operands are definite paths that fail, nested: failures cost steps too.
        let failing = "$$..[?($..[?($$..[?($..[?($$..[?($[?($$..[?($[?($.u.M,.n%)].n)])].$.u.M,.n%)].($[?($$..[?($[?($.u.M,.n%)].n)])].$.u.M,.n%)].n)])].u)]..[?(@[?(@.(@>@)]>@)]";
        let roots = SimpleRoots { input: &document, context: &document };
        let error = Path::parse(failing).unwrap().eval(&roots).unwrap_err();
        assert!(error.contains("takes more than 1000000 steps"), "{error}");
        let ctx = json!({});
        let roots = SimpleRoots { input: &document, context: &ctx };
        assert!(Path::parse(hostile).unwrap().try_eval(&roots).is_err(), "IsPresent fails too, rather than say no");
        // Honest scans and filters over the same document are far from the limit.
        assert_eq!(eval("$..sku", &document).unwrap(), json!(["A", "B"]));
        assert_eq!(eval("$.order.items[?(@.qty > 1)].sku", &document).unwrap(), json!(["A"]));
    }

    #[test]
    fn definite_paths_return_the_value_or_jayway_errors() {
        let doc = json!({"items": [{"item_key": 0}, {"item_key": 1}], "a": {"b": null}});
        assert_eq!(eval("$.items[0]", &doc).unwrap(), json!({"item_key": 0}));
        assert_eq!(eval("$.items[-1].item_key", &doc).unwrap(), json!(1));
        assert_eq!(eval("$.a.b", &doc).unwrap(), Value::Null);
        assert_eq!(eval("$", &doc).unwrap(), doc);
        assert_eq!(eval("$$.Execution.Input.x", &doc).unwrap(), json!(1));
        assert_eq!(
            eval("$.NoSuchInputPath", &doc).unwrap_err(),
            "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
        );
        assert_eq!(
            eval("$.no.such.result.path", &doc).unwrap_err(),
            "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
        );
    }

    #[test]
    fn indefinite_paths_return_arrays_even_when_empty() {
        let empty = json!({});
        for p in ["$.items[*]", "$.items[1:]", "$.items[:1]", "$.item.items[1:5]", "$.items[1:].itemValue"] {
            assert_eq!(eval(p, &empty).unwrap(), json!([]), "{p}");
        }
        let doc = json!({"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}], "n": [1, 2, 3, 4]});
        assert_eq!(eval("$.users[?(@.status == 0)]", &doc).unwrap(), json!([{"year": 1997, "status": 0}]));
        assert_eq!(eval("$.users[?(@.year > 1997 && @.status)]", &doc).unwrap(), json!([{"year": 1998, "status": 1}]));
        assert_eq!(eval("$.users[*].year", &doc).unwrap(), json!([1997, 1998]));
        assert_eq!(eval("$.n[1:3]", &doc).unwrap(), json!([2, 3]));
        assert_eq!(eval("$.n[0,2]", &doc).unwrap(), json!([1, 3]));
        assert_eq!(eval("$..year", &doc).unwrap(), json!([1997, 1998]));
    }

    #[test]
    fn bracket_keys_keep_backslashes_and_quotes() {
        let doc = json!({"Test\\\"\"Name\"": "v", "delivery-partner": "UQS"});
        assert_eq!(eval("$['Test\\\"\"Name\"']", &doc).unwrap(), json!("v"));
        assert_eq!(eval("$.delivery-partner", &doc).unwrap(), json!("UQS"));
    }

    #[test]
    fn variables_and_bad_syntax() {
        let p = Path::parse("$var.a.b").unwrap();
        assert_eq!(p.root(), &Root::Variable("var".into()));
        assert!(Path::parse("foo").is_err());
        assert!(Path::parse("$.a[").is_err());
        assert!(Path::parse("$.a..").is_err());
        assert!(Path::parse(&format!("$[?({}@.a{})]", "(".repeat(50_000), ")".repeat(50_000))).is_err());
        assert!(Path::parse(&format!("$[?({}@.a)]", "!".repeat(50_000))).is_err());
    }
}
