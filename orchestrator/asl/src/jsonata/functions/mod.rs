//! The function library: JSONata's built-ins plus AWS's additions, one file per family.

mod array;
mod aws;
mod datetime;
mod format;
mod numeric;
mod string;

use std::rc::Rc;

use super::Error;
use super::eval::{Evaluator, R};
use super::regex::Regex;
use super::value::{Func, Val};

pub(crate) type Args<'a> = Vec<Option<Val<'a>>>;
type Imp = for<'a> fn(&mut Evaluator<'a>, &Args<'a>) -> R<'a>;

/// A built-in function.
pub(crate) struct Builtin {
    pub(crate) name: &'static str,
    /// Fewest arguments; with `context`, a call with fewer gets the context item prepended.
    pub(crate) min: usize,
    pub(crate) max: usize,
    pub(crate) context: bool,
    pub(crate) f: Imp,
}

const fn b(name: &'static str, min: usize, max: usize, context: bool, f: Imp) -> Builtin {
    Builtin { name, min, max, context, f }
}

static BUILTINS: &[Builtin] = &[
    // strings
    b("string", 1, 2, true, string::string),
    b("length", 1, 1, true, string::length),
    b("substring", 2, 3, true, string::substring),
    b("substringBefore", 2, 2, true, string::substring_before),
    b("substringAfter", 2, 2, true, string::substring_after),
    b("uppercase", 1, 1, true, string::uppercase),
    b("lowercase", 1, 1, true, string::lowercase),
    b("trim", 1, 1, true, string::trim),
    b("pad", 2, 3, true, string::pad),
    b("contains", 2, 2, true, string::contains),
    b("split", 2, 3, true, string::split),
    b("join", 1, 2, false, string::join),
    b("match", 2, 3, true, string::match_),
    b("replace", 3, 4, true, string::replace),
    b("base64encode", 1, 1, true, string::base64encode),
    b("base64decode", 1, 1, true, string::base64decode),
    b("encodeUrlComponent", 1, 1, true, string::encode_url_component),
    b("encodeUrl", 1, 1, true, string::encode_url),
    b("decodeUrlComponent", 1, 1, true, string::decode_url),
    b("decodeUrl", 1, 1, true, string::decode_url),
    b("eval", 1, 2, false, string::eval),
    // numbers
    b("number", 1, 1, true, numeric::number),
    b("abs", 1, 1, true, numeric::abs),
    b("floor", 1, 1, true, numeric::floor),
    b("ceil", 1, 1, true, numeric::ceil),
    b("round", 1, 2, true, numeric::round),
    b("power", 2, 2, true, numeric::power),
    b("sqrt", 1, 1, true, numeric::sqrt),
    b("random", 0, 0, false, numeric::random),
    b("sum", 1, 1, false, numeric::sum),
    b("max", 1, 1, false, numeric::max),
    b("min", 1, 1, false, numeric::min),
    b("average", 1, 1, false, numeric::average),
    b("count", 0, 1, false, numeric::count),
    b("formatNumber", 2, 3, true, format::format_number),
    b("formatBase", 1, 2, true, format::format_base),
    b("formatInteger", 2, 2, true, format::format_integer),
    b("parseInteger", 2, 2, true, format::parse_integer),
    // booleans and types
    b("boolean", 1, 1, true, numeric::boolean),
    b("not", 1, 1, true, numeric::not),
    b("exists", 1, 1, false, numeric::exists),
    b("type", 1, 1, false, numeric::type_of),
    // arrays, objects, higher-order
    b("append", 2, 2, false, array::append),
    b("reverse", 1, 1, false, array::reverse),
    b("distinct", 1, 1, false, array::distinct),
    b("shuffle", 1, 1, false, array::shuffle),
    b("zip", 0, 64, false, array::zip),
    b("sort", 1, 2, false, array::sort),
    b("keys", 1, 1, false, array::keys),
    b("lookup", 2, 2, false, array::lookup),
    b("spread", 1, 1, false, array::spread),
    b("merge", 1, 1, false, array::merge),
    b("each", 2, 2, false, array::each),
    b("sift", 2, 2, false, array::sift),
    b("error", 0, 1, false, array::error),
    b("assert", 2, 2, false, array::assert),
    b("single", 1, 2, false, array::single),
    b("map", 2, 2, false, array::map),
    b("filter", 2, 2, false, array::filter),
    b("reduce", 2, 3, false, array::reduce),
    // dates
    b("now", 0, 2, false, datetime::now),
    b("millis", 0, 0, false, datetime::millis),
    b("fromMillis", 1, 3, false, datetime::from_millis),
    b("toMillis", 1, 2, false, datetime::to_millis),
    // AWS Step Functions
    b("partition", 2, 2, false, aws::partition),
    b("range", 2, 3, false, aws::range),
    b("hash", 1, 2, false, aws::hash),
    b("uuid", 0, 0, false, aws::uuid),
    b("parse", 1, 1, false, aws::parse),
];

pub(crate) fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

pub(crate) fn sig_err(name: &str, i: usize) -> Error {
    Error::new("T0410", format!("Argument {} of function ${name} does not match function signature", i + 1))
}

pub(crate) fn arg<'r, 'a>(a: &'r Args<'a>, i: usize) -> Option<&'r Val<'a>> {
    a.get(i).and_then(Option::as_ref)
}

pub(crate) fn str_arg<'r>(a: &'r Args<'_>, i: usize, name: &str) -> Result<Option<&'r str>, Error> {
    match arg(a, i) {
        None => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| sig_err(name, i)),
    }
}

pub(crate) fn num_arg(a: &Args<'_>, i: usize, name: &str) -> Result<Option<f64>, Error> {
    match arg(a, i) {
        None => Ok(None),
        Some(Val::Num(n)) => Ok(Some(*n)),
        Some(_) => Err(sig_err(name, i)),
    }
}

pub(crate) fn fn_arg<'a>(a: &Args<'a>, i: usize, name: &str) -> Result<Val<'a>, Error> {
    match arg(a, i) {
        Some(f @ Val::Func(_)) => Ok(f.clone()),
        _ => Err(sig_err(name, i)),
    }
}

/// An argument as an array (a single value becomes a one-item array); `None` if undefined.
pub(crate) fn items_arg<'a>(a: &Args<'a>, i: usize) -> Option<Vec<Val<'a>>> {
    arg(a, i).map(|v| if v.is_array() { v.members() } else { vec![v.clone()] })
}

pub(crate) fn ok<'a>(v: Val<'a>) -> R<'a> {
    Ok(Some(v))
}

pub(crate) fn num<'a>(n: f64) -> R<'a> {
    if n.is_finite() { Ok(Some(Val::Num(n))) } else { Err(Error::new("D1001", format!("Number out of range: {n}"))) }
}

pub(crate) fn string_val<'a>(s: String) -> Val<'a> {
    Val::Str(Rc::from(s))
}

/// A regex argument (`/…/` literal) or `None` for a plain string.
pub(crate) fn regex_arg<'r>(a: &'r Args<'_>, i: usize) -> Option<&'r Regex> {
    match arg(a, i) {
        Some(Val::Func(f)) => match f.as_ref() {
            Func::Regex(r) => Some(r),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn regex_err(e: String) -> Error {
    Error::new("D1004", e)
}

/// The match object `{match, index, groups}` that `$match` returns and regexes yield when called.
pub(crate) fn match_object<'a>(cs: &[char], m: &super::regex::Match) -> Val<'a> {
    let text = |a: usize, b: usize| string_val(cs[a..b].iter().collect());
    let groups = m.groups.iter().map(|g| g.map_or_else(|| Val::str(""), |(a, b)| text(a, b))).collect();
    Val::Obj(Rc::new(vec![
        (Rc::from("match"), text(m.start, m.end)),
        (Rc::from("index"), Val::Num(m.start as f64)),
        (Rc::from("groups"), Val::array(groups)),
    ]))
}

pub(crate) fn regex_first_match<'a>(re: &Regex, s: &str) -> Option<Val<'a>> {
    let cs: Vec<char> = s.chars().collect();
    re.find_at(&cs, 0).ok().flatten().map(|m| match_object(&cs, &m))
}
