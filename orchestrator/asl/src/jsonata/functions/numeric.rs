//! Numeric, aggregation, boolean and type functions.

use super::{Args, arg, items_arg, num, num_arg, ok, sig_err};
use crate::jsonata::Error;
use crate::jsonata::eval::{Evaluator, R};
use crate::jsonata::value::{Val, truthy};

pub(super) fn number<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(match arg(a, 0) {
        None => None,
        Some(Val::Num(n)) => Some(Val::Num(*n)),
        Some(Val::Bool(b)) => Some(Val::Num(if *b { 1.0 } else { 0.0 })),
        Some(v) if v.as_str().is_some() => {
            let s = v.as_str().unwrap_or_default().trim();
            let parsed = parse_number(s);
            match parsed {
                Some(n) if n.is_finite() => Some(Val::Num(n)),
                _ => return Err(Error::new("D3030", format!("Unable to cast value to a number: \"{s}\""))),
            }
        }
        Some(_) => return Err(Error::new("D3030", "Unable to cast value to a number")),
    })
}

fn parse_number(s: &str) -> Option<f64> {
    let radix = |p: &str, r| s.strip_prefix(p).and_then(|d| i64::from_str_radix(d, r).ok()).map(|n| n as f64);
    if let Some(n) = radix("0x", 16).or_else(|| radix("0X", 16)).or_else(|| radix("0b", 2)).or_else(|| radix("0o", 8)) {
        return Some(n);
    }
    // JSON number syntax only (no "Infinity", no leading "+").
    serde_json::from_str::<serde_json::Number>(s).ok().and_then(|n| n.as_f64())
}

fn unary<'a>(a: &Args<'a>, name: &str, f: impl Fn(f64) -> f64) -> R<'a> {
    match num_arg(a, 0, name)? {
        None => Ok(None),
        Some(x) => num(f(x)),
    }
}

pub(super) fn abs<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    unary(a, "abs", f64::abs)
}

pub(super) fn floor<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    unary(a, "floor", f64::floor)
}

pub(super) fn ceil<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    unary(a, "ceil", f64::ceil)
}

/// Round half to even at `precision` decimal places, as jsonata-js does.
pub(crate) fn round_half_even(x: f64, precision: i32) -> f64 {
    let shifted: f64 = format!("{x}e{precision}").parse().unwrap_or(x * 10f64.powi(precision));
    let mut r = shifted.round();
    if (shifted - shifted.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r -= shifted.signum();
    }
    let back: f64 = format!("{r}e{}", -precision).parse().unwrap_or(r / 10f64.powi(precision));
    if back == 0.0 { 0.0 } else { back }
}

pub(super) fn round<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(x) = num_arg(a, 0, "round")? else { return Ok(None) };
    let p = num_arg(a, 1, "round")?.unwrap_or(0.0);
    num(round_half_even(x, p as i32))
}

pub(super) fn power<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(x) = num_arg(a, 0, "power")? else { return Ok(None) };
    let y = num_arg(a, 1, "power")?.ok_or_else(|| sig_err("power", 1))?;
    let r = x.powf(y);
    if !r.is_finite() {
        return Err(Error::new(
            "D3061",
            format!(
                "The power function has resulted in a value that cannot be represented as a JSON number: base={x}, exponent={y}"
            ),
        ));
    }
    ok(Val::Num(r))
}

pub(super) fn sqrt<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(x) = num_arg(a, 0, "sqrt")? else { return Ok(None) };
    if x < 0.0 {
        return Err(Error::new("D3060", format!("The sqrt function cannot be applied to a negative number: {x}")));
    }
    ok(Val::Num(x.sqrt()))
}

pub(super) fn random<'a>(ev: &mut Evaluator<'a>, _: &Args<'a>) -> R<'a> {
    ok(Val::Num(ev.next_random()))
}

fn numbers(a: &Args<'_>, name: &str) -> Result<Option<Vec<f64>>, Error> {
    let Some(items) = items_arg(a, 0) else { return Ok(None) };
    items
        .iter()
        .map(|v| {
            v.as_num().ok_or_else(|| {
                Error::new("T0412", format!("Argument 1 of function ${name} must be an array of numbers"))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

pub(super) fn sum<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    match numbers(a, "sum")? {
        None => Ok(None),
        Some(xs) => num(xs.iter().sum()),
    }
}

pub(super) fn max<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(numbers(a, "max")?.and_then(|xs| xs.into_iter().reduce(f64::max)).map(Val::Num))
}

pub(super) fn min<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(numbers(a, "min")?.and_then(|xs| xs.into_iter().reduce(f64::min)).map(Val::Num))
}

pub(super) fn average<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(numbers(a, "average")?.filter(|xs| !xs.is_empty()).map(|xs| Val::Num(xs.iter().sum::<f64>() / xs.len() as f64)))
}

pub(super) fn count<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    ok(Val::Num(items_arg(a, 0).map_or(0, |xs| xs.len()) as f64))
}

pub(super) fn boolean<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(arg(a, 0).map(|v| Val::Bool(truthy(v))))
}

pub(super) fn not<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(arg(a, 0).map(|v| Val::Bool(!truthy(v))))
}

pub(super) fn exists<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    ok(Val::Bool(arg(a, 0).is_some()))
}

pub(super) fn type_of<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(arg(a, 0).map(|v| Val::str(v.type_name())))
}
