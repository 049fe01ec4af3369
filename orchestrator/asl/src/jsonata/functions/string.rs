//! String functions.

use base64::Engine as _;

use super::{Args, arg, fn_arg, match_object, num_arg, ok, regex_arg, regex_err, sig_err, str_arg, string_val};
use crate::jsonata::Error;
use crate::jsonata::eval::{Evaluator, R};
use crate::jsonata::value::{Val, string_too_long, stringify};

pub(super) fn string<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let pretty = matches!(arg(a, 1), Some(Val::Bool(true)));
    let text = match arg(a, 0) {
        None => None,
        Some(v) if v.as_str().is_some() => Some(v.clone()),
        Some(Val::Func(_)) => Some(Val::str("")),
        Some(Val::Num(n)) if !n.is_finite() => {
            return Err(Error::new("D3001", "Attempting to invoke string function on Infinity or NaN"));
        }
        Some(v) => Some(string_val(stringify(v, pretty).ok_or_else(string_too_long)?)),
    };
    ev.charge_text(&text)?;
    Ok(text)
}

pub(super) fn length<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(str_arg(a, 0, "length")?.map(|s| Val::Num(s.chars().count() as f64)))
}

pub(super) fn substring<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "substring")? else { return Ok(None) };
    let start = num_arg(a, 1, "substring")?.ok_or_else(|| sig_err("substring", 1))?;
    let len = num_arg(a, 2, "substring")?;
    let cs: Vec<char> = s.chars().collect();
    let n = cs.len() as f64;
    let mut st = start.trunc();
    if st < 0.0 {
        st = (n + st).max(0.0);
    }
    let end = match len {
        None => n,
        Some(l) if l <= 0.0 => st,
        Some(l) => (st + l.trunc()).min(n),
    };
    let (st, end) = (st.min(n) as usize, end.max(st).min(n) as usize);
    ok(string_val(cs[st..end].iter().collect()))
}

pub(super) fn substring_before<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "substringBefore")? else { return Ok(None) };
    let p = str_arg(a, 1, "substringBefore")?.unwrap_or_default();
    ok(string_val(s.find(p).map_or(s, |i| &s[..i]).to_owned()))
}

pub(super) fn substring_after<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "substringAfter")? else { return Ok(None) };
    let p = str_arg(a, 1, "substringAfter")?.unwrap_or_default();
    ok(string_val(s.find(p).map_or(s, |i| &s[i + p.len()..]).to_owned()))
}

pub(super) fn uppercase<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(str_arg(a, 0, "uppercase")?.map(|s| string_val(s.to_uppercase())))
}

pub(super) fn lowercase<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(str_arg(a, 0, "lowercase")?.map(|s| string_val(s.to_lowercase())))
}

pub(super) fn trim<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(str_arg(a, 0, "trim")?.map(|s| string_val(s.split_whitespace().collect::<Vec<_>>().join(" "))))
}

pub(super) fn pad<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "pad")? else { return Ok(None) };
    let width = num_arg(a, 1, "pad")?.ok_or_else(|| sig_err("pad", 1))?;
    let fill: Vec<char> = str_arg(a, 2, "pad")?.filter(|f| !f.is_empty()).unwrap_or(" ").chars().collect();
    let len = s.chars().count();
    let target = width.abs().trunc() as usize;
    if target <= len {
        return ok(Val::str(s));
    }
    ev.charge((target - len) as u64)?;
    let padding: String = fill.iter().cycle().take(target - len).collect();
    ok(string_val(if width < 0.0 { padding + s } else { s.to_owned() + &padding }))
}

pub(super) fn contains<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "contains")? else { return Ok(None) };
    if let Some(re) = regex_arg(a, 1) {
        let cs: Vec<char> = s.chars().collect();
        return ok(Val::Bool(re.find_at(&cs, 0).map_err(regex_err)?.is_some()));
    }
    let p = str_arg(a, 1, "contains")?.ok_or_else(|| sig_err("contains", 1))?;
    ok(Val::Bool(s.contains(p)))
}

pub(super) fn split<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "split")? else { return Ok(None) };
    let limit = match num_arg(a, 2, "split")? {
        Some(l) if l < 0.0 => {
            return Err(Error::new("D3020", "Third argument of split function must evaluate to a positive number"));
        }
        Some(l) => Some(l.floor() as usize),
        None => None,
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(re) = regex_arg(a, 1) {
        let cs: Vec<char> = s.chars().collect();
        let mut at = 0;
        let mut from = 0;
        while from <= cs.len() {
            let Some(m) = re.find_at(&cs, from).map_err(regex_err)? else { break };
            if m.end == m.start {
                if m.start >= cs.len() {
                    break;
                }
                from = m.start + 1;
                if m.start == 0 {
                    continue;
                }
            } else {
                from = m.end;
            }
            parts.push(cs[at..m.start].iter().collect());
            at = m.end;
        }
        parts.push(cs[at..].iter().collect());
    } else {
        let sep = str_arg(a, 1, "split")?.ok_or_else(|| sig_err("split", 1))?;
        if sep.is_empty() {
            parts = s.chars().map(String::from).collect();
        } else {
            parts = s.split(sep).map(str::to_owned).collect();
        }
    }
    if let Some(l) = limit {
        parts.truncate(l);
    }
    ok(Val::array(parts.into_iter().map(string_val).collect()))
}

pub(super) fn join<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(items) = super::items_arg(a, 0) else { return Ok(None) };
    let sep = str_arg(a, 1, "join")?.unwrap_or_default();
    let mut parts = Vec::with_capacity(items.len());
    for it in &items {
        parts.push(
            it.as_str()
                .ok_or_else(|| Error::new("T0412", "Argument 1 of function $join must be an array of strings"))?,
        );
    }
    ok(string_val(parts.join(sep)))
}

pub(super) fn match_<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "match")? else { return Ok(None) };
    let re = regex_arg(a, 1).ok_or_else(|| sig_err("match", 1))?;
    let limit = num_arg(a, 2, "match")?.map(|l| l.max(0.0) as usize);
    let cs: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut from = 0;
    while from <= cs.len() && limit.is_none_or(|l| out.len() < l) {
        let Some(m) = re.find_at(&cs, from).map_err(regex_err)? else { break };
        from = if m.end == m.start { m.end + 1 } else { m.end };
        out.push(match_object(&cs, &m));
    }
    Ok(Some(Val::seq(out)))
}

pub(super) fn replace<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "replace")? else { return Ok(None) };
    let limit = match num_arg(a, 3, "replace")? {
        Some(l) if l < 0.0 => {
            return Err(Error::new("D3011", "Fourth argument of replace function must evaluate to a positive number"));
        }
        Some(l) => Some(l.floor() as usize),
        None => None,
    };
    let replacement = arg(a, 2).cloned().ok_or_else(|| sig_err("replace", 2))?;
    if replacement.as_str().is_none() && !replacement.is_func() {
        return Err(sig_err("replace", 2));
    }
    let Some(re) = regex_arg(a, 1) else {
        let pat = str_arg(a, 1, "replace")?.ok_or_else(|| sig_err("replace", 1))?;
        if pat.is_empty() {
            return Err(Error::new("D3010", "Second argument of replace function cannot be an empty string"));
        }
        let rep = replacement.as_str().ok_or_else(|| sig_err("replace", 2))?;
        return ok(string_val(match limit {
            Some(l) => s.replacen(pat, rep, l),
            None => s.replace(pat, rep),
        }));
    };
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut at = 0;
    let mut count = 0;
    while at <= cs.len() && limit.is_none_or(|l| count < l) {
        let Some(m) = re.find_at(&cs, at).map_err(regex_err)? else { break };
        if m.end == m.start {
            return Err(Error::new("D1004", "Regular expression matches zero length string"));
        }
        out.extend(&cs[at..m.start]);
        let piece = match replacement.as_str() {
            Some(tpl) => expand(tpl, &cs, &m),
            None => {
                let f = fn_arg(a, 2, "replace")?;
                match ev.apply(&f, vec![Some(match_object(&cs, &m))])? {
                    Some(v) if v.as_str().is_some() => v.as_str().unwrap_or_default().to_owned(),
                    _ => {
                        return Err(Error::new(
                            "D3012",
                            "Attempted to replace a matched string with a non-string value",
                        ));
                    }
                }
            }
        };
        out.push_str(&piece);
        at = m.end;
        count += 1;
    }
    out.extend(&cs[at.min(cs.len())..]);
    ok(string_val(out))
}

/// `$0`, `$1`… and `$$` in a replacement string.
fn expand(tpl: &str, cs: &[char], m: &crate::jsonata::regex::Match) -> String {
    let t: Vec<char> = tpl.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < t.len() {
        if t[i] == '$' && i + 1 < t.len() {
            if t[i + 1] == '$' {
                out.push('$');
                i += 2;
                continue;
            }
            if t[i + 1].is_ascii_digit() {
                // Longest group number that exists, as jsonata-js does.
                let mut j = i + 1;
                let mut best: Option<(usize, usize)> = None;
                let mut n = 0usize;
                while j < t.len() && t[j].is_ascii_digit() {
                    n = n * 10 + t[j].to_digit(10).unwrap_or(0) as usize;
                    if n <= m.groups.len() {
                        best = Some((n, j + 1));
                    }
                    j += 1;
                }
                match best {
                    Some((0, next)) => {
                        out.extend(&cs[m.start..m.end]);
                        i = next;
                    }
                    Some((g, next)) => {
                        if let Some(Some((a, b))) = m.groups.get(g - 1) {
                            out.extend(&cs[*a..*b]);
                        }
                        i = next;
                    }
                    None => i += 2,
                }
                continue;
            }
        }
        out.push(t[i]);
        i += 1;
    }
    out
}

pub(super) fn base64encode<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(str_arg(a, 0, "base64encode")?.map(|s| string_val(base64::engine::general_purpose::STANDARD.encode(s))))
}

pub(super) fn base64decode<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "base64decode")? else { return Ok(None) };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| Error::new("D3137", format!("Invalid base64 string: {e}")))?;
    ok(string_val(String::from_utf8_lossy(&bytes).into_owned()))
}

fn percent_encode(s: &str, keep: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || keep.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

pub(super) fn encode_url_component<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(str_arg(a, 0, "encodeUrlComponent")?.map(|s| string_val(percent_encode(s, "-_.!~*'()"))))
}

pub(super) fn encode_url<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    Ok(str_arg(a, 0, "encodeUrl")?.map(|s| string_val(percent_encode(s, "-_.!~*'();/?:@&=+$,#"))))
}

pub(super) fn decode_url<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "decodeUrl")? else { return Ok(None) };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(b) = hex else {
                return Err(Error::new("D3140", format!("Malformed URL passed to $decodeUrl(): \"{s}\"")));
            };
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out)
        .map_err(|_| Error::new("D3140", format!("Malformed URL passed to $decodeUrl(): \"{s}\"")))?;
    ok(string_val(text))
}

pub(super) fn eval<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(src) = str_arg(a, 0, "eval")? else { return Ok(None) };
    let expr = crate::jsonata::parser::parse(src).map_err(|e| {
        Error::new("D3120", format!("Syntax error in expression passed to function eval: {}", e.message))
    })?;
    // The parsed tree lives only for this call; its result is converted to JSON before it ends.
    let input = arg(a, 1).map(Val::to_json).or_else(|| ev.root.as_ref().map(Val::to_json));
    let globals = crate::jsonata::NoBindings;
    let mut inner = Evaluator::new(&globals, ev.now_millis, ev.next_u64());
    ev.charge(1)?;
    let out = match &input {
        Some(v) => {
            inner.root = Some(Val::from_json(v));
            inner.eval(&expr, &Some(Val::from_json(v)), 0)?
        }
        None => inner.eval(&expr, &None, 0)?,
    };
    Ok(out.map(|v| Val::from_owned_json(v.to_json())))
}
