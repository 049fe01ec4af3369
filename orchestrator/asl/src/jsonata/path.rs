//! Paths (steps, sequences, tuple streams for `@` and `#`), predicates, grouping and `^( )`.

use std::collections::HashMap;
use std::rc::Rc;

use super::Error;
use super::ast::{Node, PathNode, SortTerm, Stage, Step};
use super::eval::{Evaluator, R};
use super::value::{Flags, Val, truthy};

/// What each binding a tuple holds costs, in evaluation steps: with the steps an evaluation
/// may take, a tuple stream holds at most about a hundred megabytes.
const TUPLE_BINDING_STEPS: u64 = 8;

/// One item of a tuple stream: the context (`@` in jsonata-js) and the bindings made so far.
#[derive(Clone)]
pub(crate) struct Tuple<'a> {
    ctx: Val<'a>,
    binds: Vec<(&'a str, Val<'a>)>,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn eval_path(&mut self, p: &'a PathNode, input: &Option<Val<'a>>, env: usize) -> R<'a> {
        let first_is_var = matches!(p.steps.first().map(|s| &s.node), Some(Node::Var(_)));
        let mut inputs: Vec<Option<Val<'a>>> = match input {
            Some(v) if v.is_array() && !first_is_var => v.members().into_iter().map(Some).collect(),
            other => vec![other.clone()],
        };
        let mut result: Option<Val<'a>> = None;
        let mut tuples: Option<Vec<Tuple<'a>>> = None;
        let last = p.steps.len().saturating_sub(1);
        for (i, step) in p.steps.iter().enumerate() {
            if step.tuple || tuples.is_some() {
                let ts = self.tuple_step(step, &inputs, tuples.take(), env)?;
                let empty = ts.is_empty();
                tuples = Some(ts);
                if empty {
                    break;
                }
                continue;
            }
            let r = if i == 0 && step.cons {
                let ctx = Some(Val::seq(inputs.iter().flatten().cloned().collect()));
                self.eval(&step.node, &ctx, env)?
            } else {
                Some(self.step(step, &inputs, env, i == last)?)
            };
            let empty = match &r {
                None => true,
                Some(v) => v.is_array() && v.len() == 0,
            };
            result = r;
            if empty {
                break;
            }
            if step.focus.is_none() {
                inputs = match &result {
                    Some(v) if v.is_array() => v.members().into_iter().map(Some).collect(),
                    other => vec![other.clone()],
                };
            }
        }
        if let Some(ts) = tuples {
            if let Some(pairs) = &p.group {
                return Ok(Some(self.group(pairs, None, Some(ts), env)?));
            }
            result = Some(Val::seq(ts.into_iter().map(|t| t.ctx).collect()));
        }
        if p.keep_singleton {
            result = match result {
                Some(Val::Arr(items, f)) if f.cons && !f.seq => {
                    Some(Val::Arr(Rc::new(vec![Val::Arr(items, f)]), Flags { seq: true, keep: true, ..Flags::PLAIN }))
                }
                Some(Val::Arr(items, mut f)) if f.seq => {
                    f.keep = true;
                    Some(Val::Arr(items, f))
                }
                Some(v) if !v.is_array() => {
                    Some(Val::Arr(Rc::new(vec![v]), Flags { seq: true, keep: true, ..Flags::PLAIN }))
                }
                other => other,
            };
        }
        if let Some(pairs) = &p.group {
            return Ok(Some(self.group(pairs, result, None, env)?));
        }
        Ok(result)
    }

    /// One ordinary step over every input item, flattening the results into a sequence.
    fn step(&mut self, step: &'a Step, inputs: &[Option<Val<'a>>], env: usize, last: bool) -> Result<Val<'a>, Error> {
        if let Node::Sort(terms) = &step.node {
            let items: Vec<Val<'a>> = inputs.iter().flatten().cloned().collect();
            let mut sorted = Val::seq(self.sort(terms, items, env)?);
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    sorted = self.filter(p, Some(sorted), env)?.unwrap_or_else(|| Val::seq(Vec::new()));
                }
            }
            return Ok(sorted);
        }
        let mut results = Vec::with_capacity(inputs.len());
        for inp in inputs {
            let mut res = self.eval(&step.node, inp, env)?;
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    res = self.filter(p, res, env)?;
                }
            }
            if let Some(r) = res {
                results.push(r);
            }
        }
        if last && results.len() == 1 && results[0].is_array() && !results[0].is_seq() {
            return Ok(results.pop().unwrap_or(Val::Null));
        }
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            if r.is_array() && !r.flags().cons {
                out.extend(r.into_items());
            } else {
                out.push(r);
            }
        }
        self.charge(out.len() as u64)?;
        Ok(Val::seq(out))
    }

    fn tuple_frame(&mut self, env: usize, t: &Tuple<'a>) -> usize {
        self.push_frame(env, t.binds.clone())
    }

    fn tuple_step(
        &mut self,
        step: &'a Step,
        inputs: &[Option<Val<'a>>],
        tuples: Option<Vec<Tuple<'a>>>,
        env: usize,
    ) -> Result<Vec<Tuple<'a>>, Error> {
        let tuples = tuples
            .unwrap_or_else(|| inputs.iter().flatten().map(|v| Tuple { ctx: v.clone(), binds: Vec::new() }).collect());
        let mut out = Vec::new();
        if let Node::Sort(terms) = &step.node {
            out = self.sort_tuples(terms, tuples, env)?;
            if let Some(ix) = &step.index {
                for (i, t) in out.iter_mut().enumerate() {
                    t.binds.push((ix, Val::Num(i as f64)));
                }
            }
        } else {
            for t in &tuples {
                let (mark, closures) = self.mark();
                let frame = self.tuple_frame(env, t);
                let res = self.eval(&step.node, &Some(t.ctx.clone()), frame)?;
                self.pop_frames(mark, closures);
                let Some(res) = res else { continue };
                let items = if res.is_array() { res.into_items() } else { vec![res] };
                for (bb, item) in items.into_iter().enumerate() {
                    let mut nt = t.clone();
                    match &step.focus {
                        Some(f) => nt.binds.push((f, item)),
                        None => nt.ctx = item,
                    }
                    if let Some(ix) = &step.index {
                        nt.binds.push((ix, Val::Num(bb as f64)));
                    }
                    // Each tuple holds its bindings, tens of bytes each: a stream that
                    // multiplies them is charged by its memory, so that it runs out of steps
                    // long before it runs out of memory.
                    self.charge(TUPLE_BINDING_STEPS * (nt.binds.len() as u64 + 1))?;
                    out.push(nt);
                }
            }
        }
        for stage in &step.stages {
            match stage {
                Stage::Filter(p) => out = self.filter_tuples(p, out, env)?,
                Stage::Index(name) => {
                    for (i, t) in out.iter_mut().enumerate() {
                        t.binds.push((name, Val::Num(i as f64)));
                    }
                }
            }
        }
        Ok(out)
    }

    /// A predicate `[p]`: an index (or array of indexes) or a boolean test per item.
    pub(crate) fn filter(&mut self, p: &'a Node, input: Option<Val<'a>>, env: usize) -> R<'a> {
        let Some(input) = input else { return Ok(None) };
        let items = if input.is_array() { input.into_items() } else { vec![input] };
        if let Node::Num(n) = p {
            let len = items.len() as f64;
            let mut i = n.floor();
            if i < 0.0 {
                i += len;
            }
            let hit = (i >= 0.0 && i < len).then(|| items.get(i as usize).cloned()).flatten();
            return Ok(match hit {
                Some(v) if v.is_array() => Some(v),
                Some(v) => Some(Val::seq(vec![v])),
                None => Some(Val::seq(Vec::new())),
            });
        }
        let len = items.len();
        let mut out = Vec::new();
        for (idx, item) in items.into_iter().enumerate() {
            let res = self.eval(p, &Some(item.clone()), env)?;
            if keep_item(&res, idx, len) {
                out.push(item);
            }
        }
        Ok(Some(Val::seq(out)))
    }

    fn filter_tuples(&mut self, p: &'a Node, tuples: Vec<Tuple<'a>>, env: usize) -> Result<Vec<Tuple<'a>>, Error> {
        let len = tuples.len();
        if let Node::Num(n) = p {
            let mut i = n.floor();
            if i < 0.0 {
                i += len as f64;
            }
            return Ok(if i >= 0.0 && (i as usize) < len { vec![tuples[i as usize].clone()] } else { Vec::new() });
        }
        let mut out = Vec::new();
        for (idx, t) in tuples.into_iter().enumerate() {
            let (mark, closures) = self.mark();
            let frame = self.tuple_frame(env, &t);
            let res = self.eval(p, &Some(t.ctx.clone()), frame)?;
            self.pop_frames(mark, closures);
            if keep_item(&res, idx, len) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Object construction over a sequence: `{key: value}` groups items by key.
    pub(crate) fn group(
        &mut self,
        pairs: &'a [(Node, Node)],
        input: Option<Val<'a>>,
        tuples: Option<Vec<Tuple<'a>>>,
        env: usize,
    ) -> Result<Val<'a>, Error> {
        let items: Vec<Tuple<'a>> = match (tuples, input) {
            (Some(ts), _) => ts,
            (None, Some(v)) if v.is_array() => {
                v.into_items().into_iter().map(|ctx| Tuple { ctx, binds: Vec::new() }).collect()
            }
            (None, Some(v)) => vec![Tuple { ctx: v, binds: Vec::new() }],
            (None, None) => Vec::new(),
        };
        // (key, pair index, members)
        let mut groups: Vec<(Rc<str>, usize, Vec<Tuple<'a>>)> = Vec::new();
        let mut index: HashMap<Rc<str>, usize> = HashMap::new();
        let undefined_only = items.is_empty();
        let probe = [Tuple { ctx: Val::Null, binds: Vec::new() }];
        let iter: &[Tuple<'a>] = if undefined_only { &probe } else { &items };
        for t in iter {
            for (pi, (k, _)) in pairs.iter().enumerate() {
                let (mark, closures) = self.mark();
                let frame = if t.binds.is_empty() { env } else { self.tuple_frame(env, t) };
                let ctx = if undefined_only { None } else { Some(t.ctx.clone()) };
                let key = self.eval(k, &ctx, frame)?;
                self.pop_frames(mark, closures);
                let key: Rc<str> = match key {
                    None => continue,
                    Some(Val::Str(s)) => s,
                    Some(Val::JStr(s)) => Rc::from(s),
                    Some(other) => {
                        return Err(Error::new(
                            "T1003",
                            format!(
                                "Key in object structure must evaluate to a string; got: {}",
                                super::value::stringify(&other, false).unwrap_or_else(|| "a very long value".into())
                            ),
                        ));
                    }
                };
                match index.get(&key) {
                    Some(&gi) => {
                        if groups[gi].1 != pi {
                            return Err(Error::new(
                                "D1009",
                                format!("Multiple key definitions evaluate to same key: {key}"),
                            ));
                        }
                        groups[gi].2.push(t.clone());
                    }
                    None => {
                        index.insert(key.clone(), groups.len());
                        groups.push((key, pi, vec![t.clone()]));
                    }
                }
            }
        }
        let mut out: Vec<(Rc<str>, Val<'a>)> = Vec::with_capacity(groups.len());
        for (key, pi, members) in groups {
            let (ctx, binds) = if undefined_only {
                (None, Vec::new())
            } else if members.len() == 1 {
                let t = members.into_iter().next().map(|t| (t.ctx, t.binds)).unwrap_or((Val::Null, Vec::new()));
                (Some(t.0), t.1)
            } else {
                // Merge: contexts appended (arrays flattened), bindings appended per name.
                let mut ctx = Vec::new();
                let mut binds: Vec<(&'a str, Vec<Val<'a>>)> = Vec::new();
                for t in members {
                    if t.ctx.is_array() {
                        ctx.extend(t.ctx.into_items());
                    } else {
                        ctx.push(t.ctx);
                    }
                    for (k, v) in t.binds {
                        match binds.iter_mut().find(|(n, _)| *n == k) {
                            Some((_, vs)) => vs.push(v),
                            None => binds.push((k, vec![v])),
                        }
                    }
                }
                let binds = binds
                    .into_iter()
                    .map(|(k, vs)| {
                        (k, if vs.len() == 1 { vs.into_iter().next().unwrap_or(Val::Null) } else { Val::array(vs) })
                    })
                    .collect();
                (Some(Val::array(ctx)), binds)
            };
            let (mark, closures) = self.mark();
            let frame = if binds.is_empty() { env } else { self.push_frame(env, binds) };
            let v = self.eval(&pairs[pi].1, &ctx, frame)?;
            if !v.as_ref().is_some_and(Val::is_func) {
                self.pop_frames(mark, closures);
            }
            if let Some(v) = v {
                out.push((key, v));
            }
        }
        Ok(Val::Obj(Rc::new(out)))
    }

    fn sort_keys(&mut self, terms: &'a [SortTerm], ctx: &Val<'a>, frame: usize) -> Result<Vec<Option<Val<'a>>>, Error> {
        let mut keys = Vec::with_capacity(terms.len());
        for term in terms {
            let k = self.eval(&term.expr, &Some(ctx.clone()), frame)?;
            if k.as_ref().is_some_and(|k| k.as_num().is_none() && k.as_str().is_none()) {
                return Err(Error::new(
                    "T2008",
                    "The expressions within an order-by clause must evaluate to numeric or string values",
                ));
            }
            keys.push(k);
        }
        Ok(keys)
    }

    pub(crate) fn sort(
        &mut self,
        terms: &'a [SortTerm],
        items: Vec<Val<'a>>,
        env: usize,
    ) -> Result<Vec<Val<'a>>, Error> {
        let items: Vec<Val<'a>> =
            items.into_iter().flat_map(|v| if v.is_array() { v.into_items() } else { vec![v] }).collect();
        let mut keyed = Vec::with_capacity(items.len());
        for it in items {
            let keys = self.sort_keys(terms, &it, env)?;
            keyed.push((keys, it));
        }
        sort_keyed(terms, &mut keyed)?;
        Ok(keyed.into_iter().map(|(_, v)| v).collect())
    }

    fn sort_tuples(
        &mut self,
        terms: &'a [SortTerm],
        tuples: Vec<Tuple<'a>>,
        env: usize,
    ) -> Result<Vec<Tuple<'a>>, Error> {
        let mut keyed = Vec::with_capacity(tuples.len());
        for t in tuples {
            let (mark, closures) = self.mark();
            let frame = self.tuple_frame(env, &t);
            let keys = self.sort_keys(terms, &t.ctx, frame)?;
            self.pop_frames(mark, closures);
            keyed.push((keys, t));
        }
        sort_keyed(terms, &mut keyed)?;
        Ok(keyed.into_iter().map(|(_, t)| t).collect())
    }
}

fn keep_item(res: &Option<Val<'_>>, idx: usize, len: usize) -> bool {
    let Some(res) = res else { return false };
    let hits = |n: f64| {
        let mut i = n.floor();
        if i < 0.0 {
            i += len as f64;
        }
        i == idx as f64
    };
    match res {
        Val::Num(n) => hits(*n),
        v if v.is_array() && v.len() > 0 && v.members().iter().all(|x| matches!(x, Val::Num(_))) => {
            v.members().iter().any(|x| x.as_num().is_some_and(hits))
        }
        v => truthy(v),
    }
}

fn sort_keyed<T>(terms: &[SortTerm], keyed: &mut [(Vec<Option<Val<'_>>>, T)]) -> Result<(), Error> {
    for (ti, _) in terms.iter().enumerate() {
        let mut kind = None;
        for (keys, _) in keyed.iter() {
            if let Some(k) = &keys[ti] {
                let this = k.as_num().is_some();
                if kind.is_some_and(|was| was != this) {
                    return Err(Error::new("T2007", "Type mismatch when comparing values in order-by clause"));
                }
                kind = Some(this);
            }
        }
    }
    keyed.sort_by(|(a, _), (b, _)| {
        use std::cmp::Ordering;
        for (ti, term) in terms.iter().enumerate() {
            let ord = match (&a[ti], &b[ti]) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = match (x.as_num(), y.as_num()) {
                        (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
                        _ => x.as_str().unwrap_or_default().cmp(y.as_str().unwrap_or_default()),
                    };
                    if term.descending { o.reverse() } else { o }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
    Ok(())
}
