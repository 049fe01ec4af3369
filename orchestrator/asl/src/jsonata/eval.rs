//! The tree-walking evaluator: expressions, operators, calls and lambdas. Paths, filters,
//! grouping and sorting are in `path.rs`.

use std::rc::Rc;

use serde_json::Value;

use super::ast::{BinOp, Node};
use super::functions::{self, Builtin};
use super::value::{Flags, Func, MAX_STRING_BYTES, Val, deep_eq, opt_truthy, string_too_long, stringify};
use super::{Bindings, Error};

pub(crate) type R<'a> = Result<Option<Val<'a>>, Error>;

/// How deep evaluation may recurse (nested expressions and lambda calls).
const MAX_DEPTH: usize = 200;
/// How many bytes of a string built by `&` or `$string` cost one evaluation step.
const TEXT_BYTES_PER_STEP: usize = 8;
/// How many evaluation steps one evaluation may take, so that exponential recursion ends.
const MAX_STEPS: u64 = 20_000_000;

pub(crate) struct Frame<'a> {
    parent: Option<usize>,
    vars: Vec<(&'a str, Val<'a>)>,
}

/// One evaluation's state: the frame arena (dropped with the evaluator, so closures that
/// capture their own frame never leak), the injected clock and the random seed.
pub(crate) struct Evaluator<'a> {
    frames: Vec<Frame<'a>>,
    globals: &'a dyn Bindings,
    pub(crate) root: Option<Val<'a>>,
    pub(crate) now_millis: i64,
    random: u64,
    depth: usize,
    steps: u64,
    /// Lambdas created so far; a frame can be dropped early only if none captured it.
    closures: usize,
}

/// Unwraps singleton sequences and drops empty ones (the end of jsonata-js's `evaluate`).
pub(crate) fn finish(v: Option<Val<'_>>) -> Option<Val<'_>> {
    match v {
        Some(Val::Arr(items, f)) if f.seq => match items.len() {
            0 => None,
            1 if !f.keep => items.first().cloned(),
            _ => Some(Val::Arr(items, f)),
        },
        other => other,
    }
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(globals: &'a dyn Bindings, now_millis: i64, random: u64) -> Evaluator<'a> {
        Evaluator {
            frames: vec![Frame { parent: None, vars: Vec::new() }],
            globals,
            root: None,
            now_millis,
            random,
            depth: 0,
            steps: 0,
            closures: 0,
        }
    }

    pub(crate) fn next_random(&mut self) -> f64 {
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        (self.next_random() * (1u64 << 53) as f64) as u64 ^ self.random
    }

    /// Charges `n` steps (long loops inside built-ins count too).
    pub(crate) fn charge(&mut self, n: u64) -> Result<(), Error> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > MAX_STEPS {
            return Err(Error::new("U1002", "The expression took too many evaluation steps"));
        }
        Ok(())
    }

    pub(crate) fn push_frame(&mut self, parent: usize, vars: Vec<(&'a str, Val<'a>)>) -> usize {
        self.frames.push(Frame { parent: Some(parent), vars });
        self.frames.len() - 1
    }

    /// Drops frames from `mark` on, unless a closure may have captured one of them.
    pub(crate) fn pop_frames(&mut self, mark: usize, closures_before: usize) {
        if self.closures == closures_before {
            self.frames.truncate(mark);
        }
    }

    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.frames.len(), self.closures)
    }

    fn bind(&mut self, env: usize, name: &'a str, v: Val<'a>) {
        if let Some(frame) = self.frames.get_mut(env) {
            match frame.vars.iter_mut().find(|(k, _)| *k == name) {
                Some(slot) => slot.1 = v,
                None => frame.vars.push((name, v)),
            }
        }
    }

    pub(crate) fn lookup(&self, env: usize, name: &str) -> Option<Val<'a>> {
        let mut at = Some(env);
        while let Some(i) = at {
            let frame = self.frames.get(i)?;
            if let Some((_, v)) = frame.vars.iter().rev().find(|(k, _)| *k == name) {
                return Some(v.clone());
            }
            at = frame.parent;
        }
        if name == "$" {
            return self.root.clone();
        }
        if let Some(v) = self.globals.lookup(name) {
            return Some(Val::from_json(v));
        }
        functions::builtin(name).map(|b| Val::Func(Rc::new(Func::Builtin(b))))
    }

    pub(crate) fn eval(&mut self, node: &'a Node, input: &Option<Val<'a>>, env: usize) -> R<'a> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(Error::new(
                "U1001",
                "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
            ));
        }
        let r = self.charge(1).and_then(|()| self.eval_inner(node, input, env));
        self.depth -= 1;
        Ok(finish(r?))
    }

    /// Dispatches on the node; bulky cases live in their own functions so that this frame,
    /// which recursion stacks up, stays small.
    fn eval_inner(&mut self, node: &'a Node, input: &Option<Val<'a>>, env: usize) -> R<'a> {
        Ok(match node {
            Node::Num(n) => Some(Val::Num(*n)),
            Node::Str(s) => Some(Val::JStr(s)),
            Node::Bool(b) => Some(Val::Bool(*b)),
            Node::Null => Some(Val::Null),
            Node::Name(n) => input.as_ref().and_then(|i| lookup_field(i, n)),
            Node::Var(name) if name.is_empty() => match input {
                Some(Val::Arr(items, f)) if f.wrapper => items.first().cloned(),
                other => other.clone(),
            },
            Node::Var(name) => self.lookup(env, name),
            Node::Path(p) => return self.eval_path(p, input, env),
            Node::Call(callee, args) => return self.call(callee, args, None, input, env),
            Node::Binary(op, l, r) => return self.eval_binary(*op, l, r, input, env),
            Node::Block(items) => return self.eval_block(items, input, env),
            Node::Array(items) => return self.eval_array(items, input, env),
            Node::Filtered { expr, predicates, group, keep } => {
                return self.eval_filtered(expr, predicates, group.as_deref(), *keep, input, env);
            }
            _ => return self.eval_other(node, input, env),
        })
    }

    #[inline(never)]
    fn eval_binary(&mut self, op: BinOp, l: &'a Node, r: &'a Node, input: &Option<Val<'a>>, env: usize) -> R<'a> {
        let a = self.eval(l, input, env)?;
        let b = self.eval(r, input, env)?;
        let result = binary(op, a, b)?;
        if op == BinOp::Concat {
            self.charge_text(&result)?;
        }
        Ok(result)
    }

    /// Charges for a string just built, by its size: an expression that keeps concatenating
    /// whole documents runs out of steps before it runs out of memory.
    pub(crate) fn charge_text(&mut self, text: &Option<Val<'a>>) -> Result<(), Error> {
        let bytes = text.as_ref().and_then(Val::as_str).map_or(0, str::len);
        self.charge((bytes / TEXT_BYTES_PER_STEP) as u64)
    }

    #[inline(never)]
    fn eval_block(&mut self, items: &'a [Node], input: &Option<Val<'a>>, env: usize) -> R<'a> {
        let (mark, closures) = self.mark();
        let frame = self.push_frame(env, Vec::new());
        let mut last = None;
        for it in items {
            last = self.eval(it, input, frame)?;
        }
        if !last.as_ref().is_some_and(Val::is_func) {
            self.pop_frames(mark, closures);
        }
        Ok(last)
    }

    #[inline(never)]
    fn eval_array(&mut self, items: &'a [Node], input: &Option<Val<'a>>, env: usize) -> R<'a> {
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            if let Node::Range(lo, hi) = it {
                self.range(lo, hi, input, env, &mut out)?;
                continue;
            }
            match self.eval(it, input, env)? {
                None => {}
                // Nested constructors stay arrays; sequences are flattened in.
                Some(v @ Val::Arr(_, Flags { cons: true, .. })) => out.push(v),
                Some(Val::Arr(xs, f)) if f.seq => out.extend(xs.iter().cloned()),
                Some(v) => out.push(v),
            }
        }
        Ok(Some(Val::Arr(Rc::new(out), Flags::CONS)))
    }

    #[inline(never)]
    fn eval_filtered(
        &mut self,
        expr: &'a Node,
        predicates: &'a [Node],
        group: Option<&'a [(Node, Node)]>,
        keep: bool,
        input: &Option<Val<'a>>,
        env: usize,
    ) -> R<'a> {
        let mut v = self.eval(expr, input, env)?;
        for p in predicates {
            v = self.filter(p, v, env)?;
        }
        if let Some(pairs) = group {
            v = Some(self.group(pairs, v, None, env)?);
        }
        if keep && let Some(Val::Arr(items, mut f)) = v {
            f.keep = true;
            v = Some(Val::Arr(items, f));
        }
        Ok(v)
    }

    #[inline(never)]
    fn eval_other(&mut self, node: &'a Node, input: &Option<Val<'a>>, env: usize) -> R<'a> {
        Ok(match node {
            Node::Regex(r) => Some(Val::Func(Rc::new(Func::Regex(r)))),
            Node::Wildcard => match input.as_ref().map(wildcard) {
                Some(found) => {
                    self.charge(found.len() as u64)?;
                    Some(found)
                }
                None => None,
            },
            Node::Descendants => match input {
                Some(i) => {
                    let mut out = Vec::new();
                    descendants(i, &mut out);
                    self.charge(out.len() as u64)?;
                    Some(Val::seq(out))
                }
                None => None,
            },
            Node::Neg(x) => match self.eval(x, input, env)? {
                None => None,
                Some(Val::Num(n)) => Some(Val::Num(-n)),
                Some(_) => return Err(Error::new("D1002", "Cannot negate a non-numeric value")),
            },
            Node::And(l, r) => {
                let a = opt_truthy(&self.eval(l, input, env)?);
                Some(Val::Bool(a && opt_truthy(&self.eval(r, input, env)?)))
            }
            Node::Or(l, r) => {
                let a = opt_truthy(&self.eval(l, input, env)?);
                Some(Val::Bool(a || opt_truthy(&self.eval(r, input, env)?)))
            }
            Node::Cond(c, t, f) => {
                if opt_truthy(&self.eval(c, input, env)?) {
                    self.eval(t, input, env)?
                } else if let Some(f) = f {
                    self.eval(f, input, env)?
                } else {
                    None
                }
            }
            Node::Elvis(l, r) => {
                let a = self.eval(l, input, env)?;
                if opt_truthy(&a) { a } else { self.eval(r, input, env)? }
            }
            Node::Coalesce(l, r) => match self.eval(l, input, env)? {
                Some(v) => Some(v),
                None => self.eval(r, input, env)?,
            },
            Node::Range(..) => return Err(Error::new("S0201", "A range (..) is only allowed inside [ ]")),
            Node::Object(pairs) => Some(self.group(pairs, input.clone(), None, env)?),
            Node::Bind(name, x) => {
                let v = self.eval(x, input, env)?;
                if let Some(v) = &v {
                    self.bind(env, name, v.clone());
                }
                v
            }
            Node::Lambda(def) => {
                self.closures += 1;
                Some(Val::Func(Rc::new(Func::Lambda { def, frame: env, input: input.clone() })))
            }
            Node::Placeholder => return Err(Error::new("S0201", "? is only allowed as a function argument")),
            Node::Apply(l, r) => {
                let lhs = self.eval(l, input, env)?;
                if let Node::Call(callee, args) = r.as_ref() {
                    return self.call(callee, args, Some(lhs), input, env);
                }
                match self.eval(r, input, env)? {
                    Some(f @ Val::Func(_)) => match lhs {
                        Some(g @ Val::Func(_)) => Some(Val::Func(Rc::new(Func::Chain(g, f)))),
                        other => self.apply(&f, vec![other])?,
                    },
                    _ => {
                        return Err(Error::new(
                            "T2006",
                            "The right side of the function application operator ~> must be a function",
                        ));
                    }
                }
            }
            Node::Transform(..) => {
                self.closures += 1;
                Some(Val::Func(Rc::new(Func::Transform { node, frame: env })))
            }
            Node::Sort(_) => return Err(Error::new("S0201", "^( ) must follow an expression")),
            // Handled by `eval_inner`.
            _ => None,
        })
    }

    fn range(
        &mut self,
        lo: &'a Node,
        hi: &'a Node,
        input: &Option<Val<'a>>,
        env: usize,
        out: &mut Vec<Val<'a>>,
    ) -> Result<(), Error> {
        let a = self.eval(lo, input, env)?;
        let b = self.eval(hi, input, env)?;
        let int = |v: &Option<Val<'_>>| match v {
            None => Ok(None),
            Some(Val::Num(n)) if n.fract() == 0.0 => Ok(Some(*n)),
            Some(_) => Err(()),
        };
        let a = int(&a).map_err(|()| {
            Error::new("T2003", "The left side of the range operator (..) must evaluate to an integer")
        })?;
        let b = int(&b).map_err(|()| {
            Error::new("T2004", "The right side of the range operator (..) must evaluate to an integer")
        })?;
        let (Some(a), Some(b)) = (a, b) else { return Ok(()) };
        if b - a > 1e7 {
            return Err(Error::new(
                "D2014",
                format!(
                    "The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {}.",
                    b - a + 1.0
                ),
            ));
        }
        if a <= b {
            self.charge((b - a) as u64)?;
            let mut x = a;
            while x <= b {
                out.push(Val::Num(x));
                x += 1.0;
            }
        }
        Ok(())
    }

    fn call(
        &mut self,
        callee: &'a Node,
        args: &'a [Node],
        applied: Option<Option<Val<'a>>>,
        input: &Option<Val<'a>>,
        env: usize,
    ) -> R<'a> {
        let f = self.eval(callee, input, env)?;
        let Some(f @ Val::Func(_)) = f else {
            let name = match callee {
                Node::Var(v) => format!("${v}"),
                _ => "the expression".into(),
            };
            return Err(Error::new("T1006", format!("Attempted to invoke a non-function: {name}")));
        };
        let mut vals: Vec<Option<Val<'a>>> = Vec::with_capacity(args.len() + 1);
        let mut partial = false;
        let mut holes: Vec<bool> = Vec::new();
        if let Some(a) = applied {
            vals.push(a);
            holes.push(false);
        }
        for a in args {
            if matches!(a, Node::Placeholder) {
                partial = true;
                vals.push(None);
                holes.push(true);
            } else {
                vals.push(self.eval(a, input, env)?);
                holes.push(false);
            }
        }
        if partial {
            let args = vals.into_iter().zip(holes).map(|(v, hole)| if hole { None } else { Some(v) }).collect();
            return Ok(Some(Val::Func(Rc::new(Func::Partial { target: f, args }))));
        }
        if let Val::Func(func) = &f
            && let Func::Builtin(b) = func.as_ref()
            && b.context
            && vals.len() < b.min
        {
            vals.insert(0, input.clone());
        }
        self.apply(&f, vals)
    }

    /// Calls a function value.
    pub(crate) fn apply(&mut self, f: &Val<'a>, args: Vec<Option<Val<'a>>>) -> R<'a> {
        let Val::Func(func) = f else {
            return Err(Error::new("T1006", "Attempted to invoke a non-function"));
        };
        match func.as_ref() {
            Func::Lambda { def, frame, input } => {
                if let Some(sig) = &def.signature {
                    for (i, (t, a)) in sig.iter().zip(&args).enumerate() {
                        if a.as_ref().is_some_and(|a| !matches_type(*t, a)) {
                            return Err(Error::new(
                                "T0410",
                                format!("Argument {} of function does not match function signature", i + 1),
                            ));
                        }
                    }
                }
                let (mark, closures) = self.mark();
                let mut vars = Vec::with_capacity(def.params.len());
                for (p, a) in def.params.iter().zip(args) {
                    if let Some(a) = a {
                        vars.push((p.as_ref(), a));
                    }
                }
                let frame = self.push_frame(*frame, vars);
                let r = self.eval(&def.body, input, frame)?;
                if !r.as_ref().is_some_and(Val::is_func) {
                    self.pop_frames(mark, closures);
                }
                Ok(r)
            }
            Func::Builtin(b) => self.call_builtin(b, &args),
            Func::Partial { target, args: fixed } => {
                let mut supplied = args.into_iter();
                let full = fixed.iter().map(|a| a.clone().unwrap_or_else(|| supplied.next().flatten())).collect();
                self.apply(target, full)
            }
            Func::Chain(first, second) => {
                let mid = self.apply(first, args)?;
                self.apply(second, vec![mid])
            }
            Func::Regex(re) => {
                let s = args.into_iter().next().flatten();
                match s.as_ref().and_then(Val::as_str) {
                    Some(s) => Ok(functions::regex_first_match(re, s)),
                    None => Ok(None),
                }
            }
            Func::Transform { node, frame } => {
                let target = args.into_iter().next().flatten();
                super::transform::run(self, node, *frame, target)
            }
        }
    }

    fn call_builtin(&mut self, b: &'static Builtin, args: &functions::Args<'a>) -> R<'a> {
        if args.len() > b.max {
            return Err(Error::new(
                "T0410",
                format!("Argument {} of function ${} does not match function signature", b.max + 1, b.name),
            ));
        }
        (b.f)(self, args)
    }

    /// How many arguments a function takes (for `$map`'s and friends' optional arguments).
    pub(crate) fn arity(f: &Val<'a>) -> usize {
        match f {
            Val::Func(func) => match func.as_ref() {
                Func::Lambda { def, .. } => def.params.len(),
                Func::Builtin(b) => b.max,
                Func::Partial { args, .. } => args.iter().filter(|a| a.is_none()).count(),
                Func::Chain(..) | Func::Regex(_) | Func::Transform { .. } => 1,
            },
            _ => 0,
        }
    }

    /// Calls `f` with as many of `args` as it accepts.
    pub(crate) fn call_hof(&mut self, f: &Val<'a>, mut args: Vec<Option<Val<'a>>>) -> R<'a> {
        let n = Self::arity(f).max(1);
        args.truncate(n);
        self.apply(f, args)
    }
}

fn matches_type(t: char, v: &Val<'_>) -> bool {
    match t {
        'n' => matches!(v, Val::Num(_)),
        's' => v.as_str().is_some(),
        'b' => matches!(v, Val::Bool(_)),
        'l' => matches!(v, Val::Null),
        'a' => true,
        'o' => v.is_object(),
        'f' => v.is_func(),
        _ => true,
    }
}

pub(crate) fn lookup_field<'a>(v: &Val<'a>, key: &str) -> Option<Val<'a>> {
    match v {
        Val::Json(Value::Array(items)) => {
            let mut out = Vec::new();
            for it in items {
                if let Some(r) = lookup_field(&Val::from_json(it), key) {
                    push_flat(&mut out, r);
                }
            }
            Some(Val::seq(out))
        }
        Val::Arr(items, _) => {
            let mut out = Vec::new();
            for it in items.iter() {
                if let Some(r) = lookup_field(it, key) {
                    push_flat(&mut out, r);
                }
            }
            Some(Val::seq(out))
        }
        other => other.field(key),
    }
}

fn push_flat<'a>(out: &mut Vec<Val<'a>>, v: Val<'a>) {
    if v.is_array() {
        out.extend(v.into_items());
    } else {
        out.push(v);
    }
}

fn wildcard<'a>(input: &Val<'a>) -> Val<'a> {
    let target = match input {
        Val::Arr(items, f) if f.wrapper => items.first().cloned().unwrap_or(Val::Null),
        other => other.clone(),
    };
    let mut out = Vec::new();
    for (_, v) in target.entries() {
        if v.is_array() {
            flatten_into(&v, &mut out);
        } else {
            out.push(v);
        }
    }
    Val::seq(out)
}

fn flatten_into<'a>(v: &Val<'a>, out: &mut Vec<Val<'a>>) {
    if v.is_array() {
        for it in v.members() {
            flatten_into(&it, out);
        }
    } else {
        out.push(v.clone());
    }
}

fn descendants<'a>(v: &Val<'a>, out: &mut Vec<Val<'a>>) {
    if v.is_array() {
        for it in v.members() {
            descendants(&it, out);
        }
    } else {
        out.push(v.clone());
        for (_, child) in v.entries() {
            descendants(&child, out);
        }
    }
}

fn num_ok<'a>(n: f64) -> R<'a> {
    if n.is_finite() { Ok(Some(Val::Num(n))) } else { Err(Error::new("D1001", format!("Number out of range: {n}"))) }
}

pub(crate) fn binary<'a>(op: BinOp, a: Option<Val<'a>>, b: Option<Val<'a>>) -> R<'a> {
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            if a.as_ref().is_some_and(|v| v.as_num().is_none()) {
                return Err(Error::new(
                    "T2001",
                    format!("The left side of the {} operator must evaluate to a number", sym(op)),
                ));
            }
            if b.as_ref().is_some_and(|v| v.as_num().is_none()) {
                return Err(Error::new(
                    "T2002",
                    format!("The right side of the {} operator must evaluate to a number", sym(op)),
                ));
            }
            let (Some(x), Some(y)) = (a.and_then(|v| v.as_num()), b.and_then(|v| v.as_num())) else {
                return Ok(None);
            };
            num_ok(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                _ => x % y,
            })
        }
        BinOp::Eq | BinOp::Ne => {
            let (Some(a), Some(b)) = (a, b) else { return Ok(Some(Val::Bool(false))) };
            let eq = deep_eq(&a, &b);
            Ok(Some(Val::Bool(if op == BinOp::Eq { eq } else { !eq })))
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let comparable =
                |v: &Option<Val<'_>>| v.as_ref().is_none_or(|v| v.as_num().is_some() || v.as_str().is_some());
            if !comparable(&a) || !comparable(&b) {
                return Err(Error::new(
                    "T2010",
                    format!(
                        "The expressions either side of operator \"{}\" must evaluate to numeric or string values",
                        sym(op)
                    ),
                ));
            }
            let (Some(a), Some(b)) = (a, b) else { return Ok(None) };
            let ord = match (&a, &b) {
                (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
                _ => match (a.as_str(), b.as_str()) {
                    (Some(x), Some(y)) => Some(x.cmp(y)),
                    _ => {
                        return Err(Error::new(
                            "T2009",
                            format!("The values either side of operator \"{}\" must be of the same data type", sym(op)),
                        ));
                    }
                },
            };
            let Some(ord) = ord else { return Ok(Some(Val::Bool(false))) };
            use std::cmp::Ordering::*;
            Ok(Some(Val::Bool(match op {
                BinOp::Lt => ord == Less,
                BinOp::Le => ord != Greater,
                BinOp::Gt => ord == Greater,
                _ => ord != Less,
            })))
        }
        BinOp::Concat => {
            let s = |v: &Option<Val<'_>>| match v {
                None => Some(String::new()),
                Some(v) => v.as_str().map(str::to_owned).or_else(|| stringify(v, false)),
            };
            let (Some(a), Some(b)) = (s(&a), s(&b)) else { return Err(string_too_long()) };
            if a.len() + b.len() > MAX_STRING_BYTES {
                return Err(string_too_long());
            }
            Ok(Some(Val::str(&(a + &b))))
        }
        BinOp::In => {
            let (Some(a), Some(b)) = (a, b) else { return Ok(Some(Val::Bool(false))) };
            let hit = if b.is_array() { b.members().iter().any(|x| deep_eq(x, &a)) } else { deep_eq(&a, &b) };
            Ok(Some(Val::Bool(hit)))
        }
    }
}

fn sym(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Mod => "%",
        BinOp::Eq => "=",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::Concat => "&",
        BinOp::In => "in",
    }
}
