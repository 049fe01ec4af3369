//! Array, object and higher-order functions.

use std::rc::Rc;

use super::{Args, arg, fn_arg, items_arg, ok, sig_err, str_arg};
use crate::jsonata::Error;
use crate::jsonata::eval::{Evaluator, R};
use crate::jsonata::value::{Val, deep_eq, truthy};

pub(super) fn append<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    match (items_arg(a, 0), items_arg(a, 1)) {
        (None, None) => Ok(None),
        (Some(x), None) => Ok(arg(a, 0).cloned()).map(|v| v.map(|v| if v.is_array() { v } else { Val::array(x) })),
        (None, Some(y)) => Ok(arg(a, 1).cloned()).map(|v| v.map(|v| if v.is_array() { v } else { Val::array(y) })),
        (Some(mut x), Some(y)) => {
            x.extend(y);
            ok(Val::array(x))
        }
    }
}

pub(super) fn reverse<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(items_arg(a, 0).map(|mut xs| {
        xs.reverse();
        Val::array(xs)
    }))
}

pub(super) fn distinct<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    if !v.is_array() {
        return ok(v.clone());
    }
    let mut out: Vec<Val<'a>> = Vec::new();
    for it in v.members() {
        if !out.iter().any(|o| deep_eq(o, &it)) {
            out.push(it);
        }
    }
    ok(if v.is_seq() { Val::seq(out) } else { Val::array(out) })
}

pub(super) fn shuffle<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(mut xs) = items_arg(a, 0) else { return Ok(None) };
    for i in (1..xs.len()).rev() {
        let j = (ev.next_random() * (i + 1) as f64) as usize;
        xs.swap(i, j.min(i));
    }
    ok(Val::array(xs))
}

pub(super) fn zip<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let lists: Vec<Vec<Val<'a>>> = (0..a.len()).map(|i| items_arg(a, i).unwrap_or_default()).collect();
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    ok(Val::array((0..n).map(|i| Val::array(lists.iter().map(|l| l[i].clone()).collect())).collect()))
}

pub(super) fn sort<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(xs) = items_arg(a, 0) else { return Ok(None) };
    let f = match arg(a, 1) {
        None => None,
        Some(_) => Some(fn_arg(a, 1, "sort")?),
    };
    if f.is_none() {
        let all_num = xs.iter().all(|x| x.as_num().is_some());
        let all_str = xs.iter().all(|x| x.as_str().is_some());
        if !all_num && !all_str {
            return Err(Error::new(
                "D3070",
                "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function",
            ));
        }
    }
    ev.charge(xs.len() as u64)?;
    // Merge sort; the comparator says whether its first argument belongs after its second.
    let sorted = merge_sort(ev, xs, f.as_ref())?;
    ok(Val::array(sorted))
}

fn after<'a>(ev: &mut Evaluator<'a>, f: Option<&Val<'a>>, x: &Val<'a>, y: &Val<'a>) -> Result<bool, Error> {
    match f {
        Some(f) => Ok(ev.apply(f, vec![Some(x.clone()), Some(y.clone())])?.as_ref().is_some_and(truthy)),
        None => Ok(match (x.as_num(), y.as_num()) {
            (Some(p), Some(q)) => p > q,
            _ => x.as_str() > y.as_str(),
        }),
    }
}

fn merge_sort<'a>(ev: &mut Evaluator<'a>, xs: Vec<Val<'a>>, f: Option<&Val<'a>>) -> Result<Vec<Val<'a>>, Error> {
    if xs.len() <= 1 {
        return Ok(xs);
    }
    let mut right = xs;
    let left: Vec<Val<'a>> = right.drain(..right.len() / 2).collect();
    let left = merge_sort(ev, left, f)?;
    let right = merge_sort(ev, right, f)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if after(ev, f, &left[i], &right[j])? {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    Ok(out)
}

pub(super) fn keys<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let mut out: Vec<Rc<str>> = Vec::new();
    let objects = if v.is_array() { v.members() } else { vec![v.clone()] };
    for o in objects {
        for (k, _) in o.entries() {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    ok(Val::seq(out.into_iter().map(Val::Str).collect()))
}

pub(super) fn lookup<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let key = str_arg(a, 1, "lookup")?.ok_or_else(|| sig_err("lookup", 1))?;
    Ok(crate::jsonata::eval::lookup_field(v, key))
}

pub(super) fn spread<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let objects = if v.is_array() { v.members() } else { vec![v.clone()] };
    let mut out = Vec::new();
    for o in objects {
        if o.is_object() {
            for (k, x) in o.entries() {
                out.push(Val::Obj(Rc::new(vec![(k, x)])));
            }
        } else {
            out.push(o);
        }
    }
    ok(Val::seq(out))
}

pub(super) fn merge<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(objects) = items_arg(a, 0) else { return Ok(None) };
    let mut out: Vec<(Rc<str>, Val<'a>)> = Vec::new();
    for o in objects {
        if !o.is_object() {
            return Err(Error::new("T0412", "Argument 1 of function $merge must be an array of objects"));
        }
        for (k, v) in o.entries() {
            match out.iter_mut().find(|(x, _)| *x == k) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
        }
    }
    ok(Val::Obj(Rc::new(out)))
}

pub(super) fn each<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(o) = arg(a, 0).cloned() else { return Ok(None) };
    if !o.is_object() {
        return Err(sig_err("each", 0));
    }
    let f = fn_arg(a, 1, "each")?;
    let mut out = Vec::new();
    for (k, v) in o.entries() {
        if let Some(r) = ev.call_hof(&f, vec![Some(v), Some(Val::Str(k)), Some(o.clone())])? {
            out.push(r);
        }
    }
    ok(Val::seq(out))
}

pub(super) fn sift<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(o) = arg(a, 0).cloned() else { return Ok(None) };
    if !o.is_object() {
        return Err(sig_err("sift", 0));
    }
    let f = fn_arg(a, 1, "sift")?;
    let mut out = Vec::new();
    for (k, v) in o.entries() {
        if ev
            .call_hof(&f, vec![Some(v.clone()), Some(Val::Str(k.clone())), Some(o.clone())])?
            .as_ref()
            .is_some_and(truthy)
        {
            out.push((k, v));
        }
    }
    Ok((!out.is_empty()).then(|| Val::Obj(Rc::new(out))))
}

pub(super) fn error<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let msg = str_arg(a, 0, "error")?.unwrap_or("$error() function evaluated");
    Err(Error::new("D3137", msg))
}

pub(super) fn assert<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    match arg(a, 0) {
        Some(Val::Bool(true)) => Ok(None),
        Some(Val::Bool(false)) => {
            Err(Error::new("D3141", str_arg(a, 1, "assert")?.unwrap_or("$assert() statement failed")))
        }
        _ => Err(Error::new("T0410", "Argument 1 of function $assert does not match function signature")),
    }
}

pub(super) fn single<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(xs) = items_arg(a, 0) else { return Ok(None) };
    let f = match arg(a, 1) {
        None => None,
        Some(_) => Some(fn_arg(a, 1, "single")?),
    };
    let mut found = None;
    let whole = Val::array(xs.clone());
    for (i, x) in xs.into_iter().enumerate() {
        let hit = match &f {
            None => true,
            Some(f) => ev
                .call_hof(f, vec![Some(x.clone()), Some(Val::Num(i as f64)), Some(whole.clone())])?
                .as_ref()
                .is_some_and(truthy),
        };
        if hit {
            if found.is_some() {
                return Err(Error::new(
                    "D3138",
                    "The $single() function expected exactly 1 matching result.  Instead it matched more.",
                ));
            }
            found = Some(x);
        }
    }
    found.map(Some).ok_or_else(|| {
        Error::new("D3139", "The $single() function expected exactly 1 matching result.  Instead it matched 0.")
    })
}

pub(super) fn map<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(xs) = items_arg(a, 0) else { return Ok(None) };
    let f = fn_arg(a, 1, "map")?;
    let whole = Val::array(xs.clone());
    let mut out = Vec::with_capacity(xs.len());
    for (i, x) in xs.into_iter().enumerate() {
        if let Some(r) = ev.call_hof(&f, vec![Some(x), Some(Val::Num(i as f64)), Some(whole.clone())])? {
            out.push(r);
        }
    }
    ok(Val::seq(out))
}

pub(super) fn filter<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(xs) = items_arg(a, 0) else { return Ok(None) };
    let f = fn_arg(a, 1, "filter")?;
    let whole = Val::array(xs.clone());
    let mut out = Vec::new();
    for (i, x) in xs.into_iter().enumerate() {
        if ev
            .call_hof(&f, vec![Some(x.clone()), Some(Val::Num(i as f64)), Some(whole.clone())])?
            .as_ref()
            .is_some_and(truthy)
        {
            out.push(x);
        }
    }
    ok(Val::seq(out))
}

pub(super) fn reduce<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(xs) = items_arg(a, 0) else { return Ok(None) };
    let f = fn_arg(a, 1, "reduce")?;
    if crate::jsonata::eval::Evaluator::arity(&f) < 2 {
        return Err(Error::new(
            "D3050",
            "The second argument of reduce function must be a function with at least two arguments",
        ));
    }
    let whole = Val::array(xs.clone());
    let mut iter = xs.into_iter().enumerate();
    let mut acc = match arg(a, 2) {
        Some(init) => Some(init.clone()),
        None => iter.next().map(|(_, x)| x),
    };
    for (i, x) in iter {
        acc = ev.call_hof(&f, vec![acc, Some(x), Some(Val::Num(i as f64)), Some(whole.clone())])?;
    }
    Ok(acc)
}
