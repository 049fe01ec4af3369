//! `$now`, `$millis`, `$fromMillis`, `$toMillis`. "Now" is the evaluation's injected time,
//! fixed for the whole evaluation as in jsonata-js; nothing here reads a clock.

use super::format::integer_picture;
use super::{Args, arg, num_arg, ok, sig_err, str_arg, string_val};
use crate::jsonata::Error;
use crate::jsonata::eval::{Evaluator, R};
use crate::jsonata::value::Val;
use crate::timestamp::{civil_from_days, days_from_civil};

const DAY_MS: i64 = 86_400_000;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

struct Parts {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
    weekday: usize,
    yday: i64,
    offset_min: i64,
}

fn parts(ms: i64, offset_min: i64) -> Parts {
    let local = ms + offset_min * 60_000;
    let days = local.div_euclid(DAY_MS);
    let rem = local.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        hour: rem / 3_600_000,
        minute: rem / 60_000 % 60,
        second: rem / 1000 % 60,
        milli: rem % 1000,
        weekday: (days + 3).rem_euclid(7) as usize,
        yday: days - days_from_civil(year, 1, 1) + 1,
        offset_min,
    }
}

/// `2017-11-07T15:12:37.121Z`
pub(crate) fn format_iso(ms: i64) -> String {
    let p = parts(ms, 0);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", p.year, p.month, p.day, p.hour, p.minute, p.second, p.milli)
}

/// Parses ISO 8601 date-times (`2017-11-07`, `…T15:12:37`, fractions, `Z` or `±hh:mm`).
pub(crate) fn parse_iso(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let t = b.get(from..from + len)?;
        t.iter().all(u8::is_ascii_digit).then(|| std::str::from_utf8(t).ok()?.parse().ok())?
    };
    let year = num(0, 4)?;
    let (month, day) = if b.len() >= 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
        (num(5, 2)?, num(8, 2)?)
    } else if b.len() == 7 && b.get(4) == Some(&b'-') {
        (num(5, 2)?, 1)
    } else if b.len() == 4 {
        (1, 1)
    } else {
        return None;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * DAY_MS;
    let mut i = if b.len() >= 10 { 10 } else { b.len() };
    if i < b.len() && (b[i] == b'T' || b[i] == b' ') {
        let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
        if b.get(i + 3) != Some(&b':') || h > 24 || m > 59 {
            return None;
        }
        ms += h * 3_600_000 + m * 60_000;
        i += 6;
        if b.get(i) == Some(&b':') {
            let sec = num(i + 1, 2)?;
            if sec > 60 {
                return None;
            }
            ms += sec * 1000;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let frac = std::str::from_utf8(&b[start..j]).ok()?;
                if frac.is_empty() {
                    return None;
                }
                let padded: String = frac.chars().chain("000".chars()).take(3).collect();
                ms += padded.parse::<i64>().ok()?;
                i = j;
            }
        }
        match b.get(i) {
            None => {}
            Some(b'Z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1, 2)?;
                let om = if b.get(i + 3) == Some(&b':') { num(i + 4, 2)? } else { num(i + 3, 2)? };
                let off = (oh * 60 + om) * 60_000;
                ms += if sign == b'+' { -off } else { off };
            }
            _ => return None,
        }
    } else if i != b.len() {
        return None;
    }
    Some(ms)
}

fn parse_offset(tz: &str) -> Option<i64> {
    let t = tz.trim();
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i64>().ok()?, 0),
        4 => (digits[..2].parse::<i64>().ok()?, digits[2..].parse::<i64>().ok()?),
        _ => return None,
    };
    Some(sign * (h * 60 + m))
}

fn name_case(name: &str, modifier: &str, width: Option<usize>) -> String {
    let name: String = match width {
        Some(w) => name.chars().take(w).collect(),
        None => name.to_owned(),
    };
    match modifier {
        "N" => name.to_uppercase(),
        "n" => name.to_lowercase(),
        _ => name,
    }
}

fn component(p: &Parts, marker: &str) -> Result<String, Error> {
    let mut chars = marker.chars();
    let comp = chars.next().unwrap_or(' ');
    let rest: String = chars.collect::<String>().split_whitespace().collect();
    let (pres, width) = match rest.split_once(',') {
        Some((a, w)) => (a.to_owned(), Some(w.to_owned())),
        None => (rest, None),
    };
    let max_width = width.as_ref().and_then(|w| w.split('-').nth(1)).and_then(|m| m.parse::<usize>().ok());
    let min_width = width.as_ref().and_then(|w| w.split('-').next()).and_then(|m| m.parse::<usize>().ok());
    let number = |n: i64, default: &str| -> String {
        let pic = if pres.is_empty() { default.to_owned() } else { pres.clone() };
        let pic = match pic.strip_suffix('o') {
            Some(p) if !p.is_empty() => format!("{p};o"),
            _ => pic,
        };
        let mut s = integer_picture(n, &pic);
        if let Some(w) = min_width {
            while s.len() < w {
                s.insert(0, '0');
            }
        }
        s
    };
    Ok(match comp {
        'Y' => {
            let s = number(p.year, "1");
            match max_width.or_else(|| (pres.chars().filter(char::is_ascii_digit).count() == 2).then_some(2)) {
                Some(w) if s.len() > w => s[s.len() - w..].to_owned(),
                _ => s,
            }
        }
        'M' if pres.starts_with('N') || pres.starts_with('n') => {
            name_case(MONTHS[(p.month - 1) as usize], &pres, max_width)
        }
        'M' => number(p.month, "1"),
        'D' => number(p.day, "1"),
        'd' => number(p.yday, "1"),
        'F' if pres.starts_with('N') || pres.starts_with('n') || pres.is_empty() => {
            name_case(DAYS[p.weekday], if pres.is_empty() { "n" } else { &pres }, max_width)
        }
        'F' => number(p.weekday as i64 + 1, "1"),
        'H' => number(p.hour, "1"),
        'h' => number(if p.hour % 12 == 0 { 12 } else { p.hour % 12 }, "1"),
        'P' => {
            let s = if p.hour < 12 { "am" } else { "pm" };
            if pres == "N" { s.to_uppercase() } else { s.to_owned() }
        }
        'm' => number(p.minute, "01"),
        's' => number(p.second, "01"),
        'f' => {
            let digits = pres.chars().filter(char::is_ascii_digit).count().max(1);
            let ms = format!("{:03}", p.milli);
            if digits <= 3 { ms[..digits].to_owned() } else { format!("{ms:0<digits$}") }
        }
        'Z' | 'z' => {
            let o = p.offset_min;
            let body = format!("{}{:02}:{:02}", if o < 0 { '-' } else { '+' }, o.abs() / 60, o.abs() % 60);
            if comp == 'z' {
                format!("GMT{body}")
            } else if pres == "0000" || pres == "0101" {
                body.replace(':', "")
            } else if o == 0 && pres.contains('t') {
                "Z".to_owned()
            } else {
                body
            }
        }
        'E' => "ISO".to_owned(),
        other => {
            return Err(Error::new(
                "D3132",
                format!("Unknown component specifier {other} in date/time picture string"),
            ));
        }
    })
}

fn format_picture(ms: i64, picture: &str, offset_min: i64) -> Result<String, Error> {
    let p = parts(ms, offset_min);
    let mut out = String::new();
    let mut rest = picture;
    while let Some(i) = rest.find(['[', ']']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        if rest[i + 1..].starts_with(c as char) {
            out.push(c as char);
            rest = &rest[i + 2..];
            continue;
        }
        if c == b']' {
            out.push(']');
            rest = &rest[i + 1..];
            continue;
        }
        let Some(end) = rest[i..].find(']') else {
            return Err(Error::new("D3135", "No matching closing bracket ']' in date/time picture string"));
        };
        out.push_str(&component(&p, &rest[i + 1..i + end])?);
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub(super) fn now<'a>(ev: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let picture = str_arg(a, 0, "now")?;
    let tz = str_arg(a, 1, "now")?;
    let offset = tz.and_then(parse_offset).unwrap_or(0);
    match picture {
        Some(p) => ok(string_val(format_picture(ev.now_millis, p, offset)?)),
        None => ok(string_val(format_iso(ev.now_millis))),
    }
}

pub(super) fn millis<'a>(ev: &mut Evaluator<'a>, _: &Args<'a>) -> R<'a> {
    ok(Val::Num(ev.now_millis as f64))
}

pub(super) fn from_millis<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(ms) = num_arg(a, 0, "fromMillis")? else { return Ok(None) };
    if ms.abs() > 8.64e15 {
        return Err(Error::new("D3137", "The millisecond value is out of range"));
    }
    let ms = ms.floor() as i64;
    let offset = str_arg(a, 2, "fromMillis")?.and_then(parse_offset).unwrap_or(0);
    match str_arg(a, 1, "fromMillis")? {
        Some(p) => ok(string_val(format_picture(ms, p, offset)?)),
        None => ok(string_val(format_iso(ms))),
    }
}

/// Parses `s` against a picture of numeric components and literals.
fn parse_picture(s: &str, picture: &str) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut ms) = (1970, 1, 1, 0, 0, 0, 0);
    let sb: Vec<char> = s.chars().collect();
    let mut si = 0;
    let mut rest = picture;
    while !rest.is_empty() {
        if let Some(body) = rest.strip_prefix('[') {
            let end = body.find(']')?;
            let marker = &body[..end];
            rest = &body[end + 1..];
            let comp = marker.chars().next()?;
            let width = marker.chars().filter(char::is_ascii_digit).count();
            let start = si;
            while si < sb.len() && sb[si].is_ascii_digit() && (width < 2 || si - start < width) {
                si += 1;
            }
            let n: i64 = sb[start..si].iter().collect::<String>().parse().ok()?;
            match comp {
                'Y' => y = n,
                'M' => mo = n,
                'D' => d = n,
                'H' => h = n,
                'm' => mi = n,
                's' => sec = n,
                'f' => ms = n,
                _ => return None,
            }
        } else {
            let c = rest.chars().next()?;
            if sb.get(si) != Some(&c) {
                return None;
            }
            si += 1;
            rest = &rest[c.len_utf8()..];
        }
    }
    (si == sb.len()).then(|| days_from_civil(y, mo, d) * DAY_MS + ((h * 60 + mi) * 60 + sec) * 1000 + ms)
}

pub(super) fn to_millis<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "toMillis")? else { return Ok(None) };
    if arg(a, 1).is_some() {
        let p = str_arg(a, 1, "toMillis")?.ok_or_else(|| sig_err("toMillis", 1))?;
        return Ok(parse_picture(s, p).map(|ms| Val::Num(ms as f64)));
    }
    match parse_iso(s) {
        Some(ms) => ok(Val::Num(ms as f64)),
        None => Err(Error::new("D3110", format!("The timestamp value '{s}' is not a valid ISO 8601 format"))),
    }
}
