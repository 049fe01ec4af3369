//! Functions AWS Step Functions adds to JSONata: `$partition`, `$range`, `$hash`, `$uuid`,
//! `$parse` (and `$random`, which JSONata already has).

use super::{Args, arg, items_arg, ok, str_arg, string_val};
use crate::jsonata::Error;
use crate::jsonata::eval::{Evaluator, R};
use crate::jsonata::value::Val;

fn int_arg(a: &Args<'_>, i: usize, name: &str) -> Result<i64, Error> {
    match arg(a, i) {
        Some(Val::Num(n)) if n.fract() == 0.0 && n.abs() < 9e15 => Ok(*n as i64),
        _ => Err(Error::new("T0410", format!("Argument {} of function ${name} must be an integer", i + 1))),
    }
}

pub(super) fn partition<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let xs =
        items_arg(a, 0).ok_or_else(|| Error::new("T0410", "Argument 1 of function $partition must be an array"))?;
    let size = int_arg(a, 1, "partition")?;
    if size < 1 {
        return Err(Error::new("D3040", "The chunk size of $partition must be a positive integer"));
    }
    ok(Val::array(xs.chunks(size as usize).map(|c| Val::array(c.to_vec())).collect()))
}

pub(super) fn range<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let start = int_arg(a, 0, "range")?;
    let end = int_arg(a, 1, "range")?;
    let step = if arg(a, 2).is_some() { int_arg(a, 2, "range")? } else { 1 };
    if step == 0 {
        return Err(Error::new("D3040", "The step of $range must not be zero"));
    }
    let count = if (step > 0 && start > end) || (step < 0 && start < end) { 0 } else { (end - start) / step + 1 };
    if count > 1000 {
        return Err(Error::new("D3040", "$range produces at most 1000 elements"));
    }
    ev.charge(count as u64)?;
    ok(Val::array((0..count).map(|i| Val::Num((start + i * step) as f64)).collect()))
}

pub(super) fn hash<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(data) = str_arg(a, 0, "hash")? else { return Ok(None) };
    let algorithm = str_arg(a, 1, "hash")?.unwrap_or("SHA-256");
    let digest = crate::intrinsics::hash(data, algorithm).ok_or_else(|| {
        Error::new(
            "D3137",
            format!("$hash does not support the algorithm '{algorithm}' (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"),
        )
    })?;
    ok(string_val(digest))
}

pub(super) fn uuid<'a>(ev: &mut Evaluator<'a>, _: &Args<'a>) -> R<'a> {
    let mut e = crate::entropy::SeededEntropy::new(ev.next_u64());
    ok(string_val(crate::entropy::uuid_v4(&mut e)))
}

pub(super) fn parse<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "parse")? else { return Ok(None) };
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| Error::new("D3137", format!("$parse: {e}")))?;
    ok(Val::from_owned_json(v))
}
