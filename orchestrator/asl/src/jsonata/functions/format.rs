//! `$formatNumber`, `$formatBase`, `$formatInteger` and `$parseInteger` (XPath picture strings).

use super::numeric::round_half_even;
use super::{Args, num_arg, ok, sig_err, str_arg, string_val};
use crate::jsonata::Error;
use crate::jsonata::eval::{Evaluator, R};
use crate::jsonata::value::Val;

struct Sub {
    prefix: String,
    suffix: String,
    min_int: usize,
    grouping: Vec<usize>,
    min_frac: usize,
    max_frac: usize,
    exp_digits: Option<usize>,
    scale: f64,
}

fn is_active(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '#' | '.' | ',')
}

fn sub_picture(p: &str) -> Result<Sub, Error> {
    let cs: Vec<char> = p.chars().collect();
    let first = cs.iter().position(|c| is_active(*c)).unwrap_or(cs.len());
    let last = cs.iter().rposition(|c| is_active(*c)).map_or(first, |i| i + 1);
    let prefix: String = cs[..first].iter().collect();
    let mut mantissa: String = cs[first..last.max(first)].iter().collect();
    let mut suffix: String = cs[last.max(first)..].iter().collect();
    // An exponent: `e` followed by digits right after the mantissa.
    let mut exp_digits = None;
    if let Some(rest) = suffix.strip_prefix('e') {
        let n = rest.chars().take_while(char::is_ascii_digit).count();
        if n > 0 {
            exp_digits = Some(n);
            suffix = rest.chars().skip(n).collect();
        }
    } else if let Some(i) = mantissa.find('e') {
        exp_digits = Some(mantissa[i + 1..].chars().filter(char::is_ascii_digit).count());
        mantissa.truncate(i);
    }
    let scale = if prefix.contains('%') || suffix.contains('%') {
        100.0
    } else if prefix.contains('‰') || suffix.contains('‰') {
        1000.0
    } else {
        1.0
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
    if frac.contains('.') {
        return Err(Error::new("D3081", "A sub-picture must not contain more than one decimal separator"));
    }
    let min_int = int.chars().filter(char::is_ascii_digit).count();
    let mut grouping = Vec::new();
    let mut digits_right = 0;
    for c in int.chars().rev() {
        if c == ',' {
            grouping.push(digits_right);
        } else {
            digits_right += 1;
        }
    }
    let min_frac = frac.chars().filter(char::is_ascii_digit).count();
    let max_frac = frac.chars().filter(|c| c.is_ascii_digit() || *c == '#').count();
    Ok(Sub { prefix, suffix, min_int, grouping, min_frac, max_frac, exp_digits, scale })
}

fn group_digits(int: &str, grouping: &[usize]) -> String {
    if grouping.is_empty() {
        return int.to_owned();
    }
    let regular =
        grouping.first().copied().filter(|g| *g > 0 && grouping.iter().enumerate().all(|(i, x)| *x == g * (i + 1)));
    let digits: Vec<char> = int.chars().collect();
    let mut out = Vec::new();
    for (i, c) in digits.iter().rev().enumerate() {
        let at = i;
        let sep = match regular {
            Some(g) => at > 0 && at % g == 0,
            None => at > 0 && grouping.contains(&at),
        };
        if sep {
            out.push(',');
        }
        out.push(*c);
    }
    out.into_iter().rev().collect()
}

pub(super) fn format_number<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(x) = num_arg(a, 0, "formatNumber")? else { return Ok(None) };
    let picture = str_arg(a, 1, "formatNumber")?.ok_or_else(|| sig_err("formatNumber", 1))?;
    let (pos, neg) = match picture.split_once(';') {
        Some((p, n)) => (p, Some(n)),
        None => (picture, None),
    };
    let sub = sub_picture(if x < 0.0 { neg.unwrap_or(pos) } else { pos })?;
    let mut v = x.abs() * sub.scale;
    let mut exponent = None;
    if let Some(ed) = sub.exp_digits {
        let mut e = 0i32;
        if v != 0.0 {
            let target = sub.min_int.max(1) as i32;
            e = v.log10().floor() as i32 + 1 - target;
            v /= 10f64.powi(e);
        }
        exponent = Some((e, ed));
    }
    let rounded = round_half_even(v, sub.max_frac as i32);
    let text = format!("{rounded:.*}", sub.max_frac);
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut frac = frac.trim_end_matches('0').to_owned();
    while frac.len() < sub.min_frac {
        frac.push('0');
    }
    let mut int = int.trim_start_matches('0').to_owned();
    while int.len() < sub.min_int {
        int.insert(0, '0');
    }
    let mut out = sub.prefix.clone();
    if x < 0.0 && neg.is_none() {
        out.insert(0, '-');
    }
    out.push_str(&group_digits(&int, &sub.grouping));
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    if let Some((e, digits)) = exponent {
        out.push('e');
        if e < 0 {
            out.push('-');
        }
        out.push_str(&format!("{:0>digits$}", e.abs()));
    }
    out.push_str(&sub.suffix);
    ok(string_val(out))
}

pub(super) fn format_base<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(x) = num_arg(a, 0, "formatBase")? else { return Ok(None) };
    let radix = num_arg(a, 1, "formatBase")?.unwrap_or(10.0);
    if !(2.0..=36.0).contains(&radix) {
        return Err(Error::new(
            "D3100",
            format!("The radix of the formatBase function must be between 2 and 36.  It was given {radix}"),
        ));
    }
    let mut n = round_half_even(x, 0).abs() as u128;
    let radix = radix as u128;
    let mut digits = Vec::new();
    loop {
        digits.push(std::char::from_digit((n % radix) as u32, radix as u32).unwrap_or('0'));
        n /= radix;
        if n == 0 {
            break;
        }
    }
    if x < 0.0 {
        digits.push('-');
    }
    ok(string_val(digits.into_iter().rev().collect()))
}

const FEW: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const DECADES: [&str; 8] = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const MAGNITUDES: [&str; 4] = ["thousand", "million", "billion", "trillion"];

fn words(n: u64, prev: bool) -> String {
    if n <= 19 {
        format!("{}{}", if prev { " and " } else { "" }, FEW[n as usize])
    } else if n < 100 {
        let mut w = format!("{}{}", if prev { " and " } else { "" }, DECADES[(n / 10 - 2) as usize]);
        if !n.is_multiple_of(10) {
            w.push('-');
            w.push_str(FEW[(n % 10) as usize]);
        }
        w
    } else if n < 1000 {
        let mut w = format!("{}{} hundred", if prev { ", " } else { "" }, FEW[(n / 100) as usize]);
        if !n.is_multiple_of(100) {
            w.push_str(&words(n % 100, true));
        }
        w
    } else {
        let mag = ((n as f64).log10().floor() as usize / 3).min(MAGNITUDES.len());
        let factor = 1000u64.pow(mag as u32);
        let mut w = format!("{}{} {}", if prev { ", " } else { "" }, words(n / factor, false), MAGNITUDES[mag - 1]);
        if !n.is_multiple_of(factor) {
            w.push_str(&words(n % factor, true));
        }
        w
    }
}

fn roman(mut n: u64) -> String {
    const TABLE: [(u64, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (v, s) in TABLE {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

fn ordinal_suffix(n: u64) -> &'static str {
    match (n % 10, n % 100) {
        (1, x) if x != 11 => "st",
        (2, x) if x != 12 => "nd",
        (3, x) if x != 13 => "rd",
        _ => "th",
    }
}

/// Formats `n` with an XPath integer picture (`0001`, `#,##0`, `I`, `w`, `A`, with `;o`).
pub(crate) fn integer_picture(n: i64, picture: &str) -> String {
    let (pic, ordinal) = match picture.split_once(';') {
        Some((p, m)) => (p, m.contains('o')),
        None => (picture, false),
    };
    let abs = n.unsigned_abs();
    let sign = if n < 0 { "-" } else { "" };
    let body = match pic {
        "I" => roman(abs),
        "i" => roman(abs).to_lowercase(),
        "w" | "W" | "Ww" => {
            let w = words(abs, false);
            match pic {
                "W" => w.to_uppercase(),
                "Ww" => w
                    .split(' ')
                    .map(|p| {
                        let mut c = p.chars();
                        c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => w,
            }
        }
        "A" | "a" => {
            let mut k = abs;
            let mut s = String::new();
            while k > 0 {
                k -= 1;
                s.insert(0, char::from(b'a' + (k % 26) as u8));
                k /= 26;
            }
            if pic == "A" { s.to_uppercase() } else { s }
        }
        _ => {
            let min = pic.chars().filter(char::is_ascii_digit).count().max(1);
            let mut grouping = Vec::new();
            let mut right = 0;
            for c in pic.chars().rev() {
                if c.is_ascii_digit() || c == '#' {
                    right += 1;
                } else {
                    grouping.push(right);
                }
            }
            let digits = format!("{abs:0>min$}");
            let mut s = group_digits(&digits, &grouping);
            if ordinal {
                s.push_str(ordinal_suffix(abs));
            }
            return format!("{sign}{s}");
        }
    };
    if ordinal && matches!(pic, "w" | "W" | "Ww") {
        return format!("{sign}{body}");
    }
    format!("{sign}{body}")
}

pub(super) fn format_integer<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(x) = num_arg(a, 0, "formatInteger")? else { return Ok(None) };
    let picture = str_arg(a, 1, "formatInteger")?.ok_or_else(|| sig_err("formatInteger", 1))?;
    ok(string_val(integer_picture(x.trunc() as i64, picture)))
}

fn parse_words(s: &str) -> Option<f64> {
    let mut total = 0f64;
    let mut current = 0f64;
    for w in s.split(|c: char| c.is_whitespace() || c == '-' || c == ',').filter(|w| !w.is_empty() && *w != "and") {
        let w = w.to_lowercase();
        if let Some(i) = FEW.iter().position(|f| *f == w) {
            current += i as f64;
        } else if let Some(i) = DECADES.iter().position(|f| *f == w) {
            current += (i as f64 + 2.0) * 10.0;
        } else if w == "hundred" {
            current *= 100.0;
        } else if let Some(i) = MAGNITUDES.iter().position(|f| *f == w) {
            total += current * 1000f64.powi(i as i32 + 1);
            current = 0.0;
        } else {
            return None;
        }
    }
    Some(total + current)
}

fn parse_roman(s: &str) -> Option<f64> {
    let value = |c: char| match c.to_ascii_uppercase() {
        'I' => Some(1.0),
        'V' => Some(5.0),
        'X' => Some(10.0),
        'L' => Some(50.0),
        'C' => Some(100.0),
        'D' => Some(500.0),
        'M' => Some(1000.0),
        _ => None,
    };
    let vals: Vec<f64> = s.chars().map(value).collect::<Option<_>>()?;
    let mut total = 0.0;
    for (i, v) in vals.iter().enumerate() {
        if vals.get(i + 1).is_some_and(|next| next > v) { total -= v } else { total += v }
    }
    Some(total)
}

pub(super) fn parse_integer<'a>(_: &mut Evaluator<'a>, a: &Args<'a>) -> R<'a> {
    let Some(s) = str_arg(a, 0, "parseInteger")? else { return Ok(None) };
    let picture = str_arg(a, 1, "parseInteger")?.ok_or_else(|| sig_err("parseInteger", 1))?;
    let pic = picture.split(';').next().unwrap_or_default();
    let parsed = match pic {
        "I" | "i" => parse_roman(s),
        "w" | "W" | "Ww" => parse_words(s),
        _ => {
            let digits: String = s.chars().filter(|c| c.is_ascii_digit() || *c == '-').collect();
            digits.parse::<f64>().ok()
        }
    };
    parsed
        .map(Val::Num)
        .map(Some)
        .ok_or_else(|| Error::new("D3137", format!("Unable to parse '{s}' with picture '{picture}'")))
}
