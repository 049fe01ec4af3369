//! A small regular-expression engine for JSONata's `/…/flags` literals (JavaScript syntax:
//! classes, groups, alternation, greedy and lazy quantifiers, anchors, `\b`, back-references).
//!
//! Matching is backtracking with a visited set over (instruction, position) — the "bit-state"
//! technique — so it finds the same leftmost, preference-ordered match as a backtracking engine
//! in time linear in program size × input length. Patterns with back-references skip the
//! visited set and are bounded by a step budget instead.

/// Upper bound on backtracking steps for patterns that cannot use the visited set.
const MAX_STEPS: usize = 5_000_000;
/// Largest visited set (in bits) allocated for one search.
const MAX_VISITED: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
    Bol,
    Eol,
    WordB(bool),
    Split(usize, usize),
    Jmp(usize),
    Save(usize),
    Backref(usize),
    Match,
}

#[derive(Debug, Clone)]
enum Ast {
    Empty,
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
    Bol,
    Eol,
    WordB(bool),
    Group(Box<Ast>, Option<usize>),
    Backref(usize),
    Concat(Vec<Ast>),
    Alt(Vec<Ast>),
    Repeat { node: Box<Ast>, min: u32, max: Option<u32>, greedy: bool },
}

/// A compiled pattern.
#[derive(Debug)]
pub(crate) struct Regex {
    prog: Vec<Inst>,
    groups: usize,
    icase: bool,
    multiline: bool,
    backrefs: bool,
}

/// One match: char offsets of the whole match and of each group.
pub(crate) struct Match {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) groups: Vec<Option<(usize, usize)>>,
}

struct P<'s> {
    cs: &'s [char],
    i: usize,
    groups: usize,
    backrefs: bool,
}

fn class_escape(c: char) -> Option<(Vec<(char, char)>, bool)> {
    let digits = vec![('0', '9')];
    let word = vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')];
    let space = vec![
        (' ', ' '),
        ('\t', '\r'),
        ('\u{a0}', '\u{a0}'),
        ('\u{1680}', '\u{1680}'),
        ('\u{2000}', '\u{200a}'),
        ('\u{2028}', '\u{2029}'),
        ('\u{202f}', '\u{202f}'),
        ('\u{205f}', '\u{205f}'),
        ('\u{3000}', '\u{3000}'),
        ('\u{feff}', '\u{feff}'),
    ];
    Some(match c {
        'd' => (digits, false),
        'D' => (digits, true),
        'w' => (word, false),
        'W' => (word, true),
        's' => (space, false),
        'S' => (space, true),
        _ => return None,
    })
}

impl P<'_> {
    fn peek(&self) -> Option<char> {
        self.cs.get(self.i).copied()
    }

    fn alt(&mut self, depth: usize) -> Result<Ast, String> {
        if depth > 100 {
            return Err("pattern nests too deeply".into());
        }
        let mut branches = vec![self.concat(depth)?];
        while self.peek() == Some('|') {
            self.i += 1;
            branches.push(self.concat(depth)?);
        }
        Ok(if branches.len() == 1 { branches.remove(0) } else { Ast::Alt(branches) })
    }

    fn concat(&mut self, depth: usize) -> Result<Ast, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom(depth)?;
            items.push(self.quantified(atom)?);
        }
        Ok(Ast::Concat(items))
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.cs[start..self.i].iter().collect::<String>().parse().ok()
    }

    fn quantified(&mut self, atom: Ast) -> Result<Ast, String> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                let save = self.i;
                self.i += 1;
                let Some(min) = self.number() else {
                    self.i = save;
                    return Ok(atom);
                };
                let max = if self.peek() == Some(',') {
                    self.i += 1;
                    if self.peek() == Some('}') { None } else { Some(self.number().ok_or("bad quantifier")?) }
                } else {
                    Some(min)
                };
                if self.peek() != Some('}') {
                    self.i = save;
                    return Ok(atom);
                }
                if max.is_some_and(|m| m < min) || min > 1000 || max.is_some_and(|m| m > 1000) {
                    return Err("numbers out of order in {} quantifier".into());
                }
                (min, max)
            }
            _ => return Ok(atom),
        };
        if matches!(atom, Ast::Bol | Ast::Eol | Ast::WordB(_)) {
            return Err("nothing to repeat".into());
        }
        self.i += 1;
        let greedy = if self.peek() == Some('?') {
            self.i += 1;
            false
        } else {
            true
        };
        Ok(Ast::Repeat { node: Box::new(atom), min, max, greedy })
    }

    fn escape_char(&mut self) -> Result<char, String> {
        let c = self.peek().ok_or("\\ at end of pattern")?;
        self.i += 1;
        Ok(match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'f' => '\u{c}',
            'v' => '\u{b}',
            '0' => '\0',
            'x' | 'u' => {
                let n = if c == 'x' { 2 } else { 4 };
                let hex: String = self.cs.get(self.i..self.i + n).ok_or("bad escape")?.iter().collect();
                self.i += n;
                char::from_u32(u32::from_str_radix(&hex, 16).map_err(|_| "bad escape")?).ok_or("bad escape")?
            }
            other => other,
        })
    }

    fn atom(&mut self, depth: usize) -> Result<Ast, String> {
        let c = self.peek().ok_or("unexpected end")?;
        self.i += 1;
        Ok(match c {
            '.' => Ast::Any,
            '^' => Ast::Bol,
            '$' => Ast::Eol,
            '*' | '+' | '?' => return Err("nothing to repeat".into()),
            '(' => {
                let index = if self.cs.get(self.i..self.i + 2) == Some(&['?', ':']) {
                    self.i += 2;
                    None
                } else if self.peek() == Some('?') {
                    return Err("lookaround is not supported".into());
                } else {
                    self.groups += 1;
                    Some(self.groups)
                };
                let inner = self.alt(depth + 1)?;
                if self.peek() != Some(')') {
                    return Err("unterminated group".into());
                }
                self.i += 1;
                Ast::Group(Box::new(inner), index)
            }
            '[' => self.class()?,
            '\\' => {
                let e = self.peek().ok_or("\\ at end of pattern")?;
                if let Some((ranges, neg)) = class_escape(e) {
                    self.i += 1;
                    Ast::Class(ranges, neg)
                } else if e == 'b' || e == 'B' {
                    self.i += 1;
                    Ast::WordB(e == 'b')
                } else if e.is_ascii_digit() && e != '0' {
                    self.backrefs = true;
                    Ast::Backref(self.number().unwrap_or(0) as usize)
                } else {
                    Ast::Char(self.escape_char()?)
                }
            }
            other => Ast::Char(other),
        })
    }

    fn class(&mut self) -> Result<Ast, String> {
        let neg = self.peek() == Some('^');
        if neg {
            self.i += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek().ok_or("unterminated character class")?;
            self.i += 1;
            if c == ']' && !first {
                break;
            }
            if c == ']' {
                break;
            }
            first = false;
            let lo = if c == '\\' {
                let e = self.peek().ok_or("unterminated character class")?;
                if let Some((rs, n)) = class_escape(e) {
                    self.i += 1;
                    if n {
                        // Complement of a set within a class: approximate by its gaps.
                        let mut prev = '\0';
                        for (a, b) in rs.iter().copied().collect::<std::collections::BTreeSet<_>>() {
                            if a > prev {
                                ranges.push((prev, char::from_u32(a as u32 - 1).unwrap_or(prev)));
                            }
                            prev = char::from_u32(b as u32 + 1).unwrap_or(b);
                        }
                        ranges.push((prev, char::MAX));
                    } else {
                        ranges.extend(rs);
                    }
                    continue;
                }
                if e == 'b' {
                    self.i += 1;
                    '\u{8}'
                } else {
                    self.escape_char()?
                }
            } else {
                c
            };
            if self.peek() == Some('-') && self.cs.get(self.i + 1).is_some_and(|&n| n != ']') {
                self.i += 1;
                let mut hi = self.peek().ok_or("unterminated character class")?;
                self.i += 1;
                if hi == '\\' {
                    hi = self.escape_char()?;
                }
                if hi < lo {
                    return Err("range out of order in character class".into());
                }
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
        Ok(Ast::Class(ranges, neg))
    }
}

fn emit(ast: &Ast, prog: &mut Vec<Inst>) -> Result<(), String> {
    if prog.len() > 100_000 {
        return Err("pattern too large".into());
    }
    match ast {
        Ast::Empty => {}
        Ast::Char(c) => prog.push(Inst::Char(*c)),
        Ast::Any => prog.push(Inst::Any),
        Ast::Class(r, n) => prog.push(Inst::Class(r.clone(), *n)),
        Ast::Bol => prog.push(Inst::Bol),
        Ast::Eol => prog.push(Inst::Eol),
        Ast::WordB(b) => prog.push(Inst::WordB(*b)),
        Ast::Backref(n) => prog.push(Inst::Backref(*n)),
        Ast::Group(inner, idx) => {
            if let Some(i) = idx {
                prog.push(Inst::Save(2 * i));
            }
            emit(inner, prog)?;
            if let Some(i) = idx {
                prog.push(Inst::Save(2 * i + 1));
            }
        }
        Ast::Concat(items) => {
            for it in items {
                emit(it, prog)?;
            }
        }
        Ast::Alt(branches) => {
            let mut jumps = Vec::new();
            for (bi, b) in branches.iter().enumerate() {
                if bi + 1 < branches.len() {
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    emit(b, prog)?;
                    jumps.push(prog.len());
                    prog.push(Inst::Jmp(0));
                    let next = prog.len();
                    prog[split] = Inst::Split(split + 1, next);
                } else {
                    emit(b, prog)?;
                }
            }
            let end = prog.len();
            for j in jumps {
                prog[j] = Inst::Jmp(end);
            }
        }
        Ast::Repeat { node, min, max, greedy } => {
            for _ in 0..*min {
                emit(node, prog)?;
            }
            let split = |a: usize, b: usize| if *greedy { Inst::Split(a, b) } else { Inst::Split(b, a) };
            match max {
                None => {
                    let l = prog.len();
                    prog.push(Inst::Jmp(0));
                    emit(node, prog)?;
                    prog.push(Inst::Jmp(l));
                    let end = prog.len();
                    prog[l] = split(l + 1, end);
                }
                Some(max) => {
                    let mut holes = Vec::new();
                    for _ in *min..*max {
                        holes.push(prog.len());
                        prog.push(Inst::Jmp(0));
                        emit(node, prog)?;
                    }
                    let end = prog.len();
                    for h in holes {
                        prog[h] = split(h + 1, end);
                    }
                }
            }
        }
    }
    Ok(())
}

fn is_word(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

impl Regex {
    pub(crate) fn new(pattern: &str, icase: bool, multiline: bool) -> Result<Regex, String> {
        let cs: Vec<char> = pattern.chars().collect();
        let mut p = P { cs: &cs, i: 0, groups: 0, backrefs: false };
        let ast = p.alt(0)?;
        if p.i < cs.len() {
            return Err("unmatched ')'".into());
        }
        let mut prog = vec![Inst::Save(0)];
        emit(&ast, &mut prog)?;
        prog.push(Inst::Save(1));
        prog.push(Inst::Match);
        let _ = Ast::Empty;
        Ok(Regex { prog, groups: p.groups, icase, multiline, backrefs: p.backrefs })
    }

    /// The first match starting at or after char offset `from`.
    pub(crate) fn find_at(&self, s: &[char], from: usize) -> Result<Option<Match>, String> {
        let n = s.len();
        let width = n + 1;
        let use_visited = !self.backrefs && self.prog.len().saturating_mul(width) <= MAX_VISITED;
        let mut visited = if use_visited { vec![0u64; (self.prog.len() * width).div_ceil(64)] } else { Vec::new() };
        let slots = 2 * (self.groups + 1);
        let mut steps = 0usize;
        enum Job {
            Try(usize, usize),
            Restore(usize, Option<usize>),
        }
        for start in from..=n {
            let mut caps: Vec<Option<usize>> = vec![None; slots];
            let mut stack = vec![Job::Try(0, start)];
            while let Some(job) = stack.pop() {
                let (mut pc, mut pos) = match job {
                    Job::Restore(k, old) => {
                        caps[k] = old;
                        continue;
                    }
                    Job::Try(pc, pos) => (pc, pos),
                };
                loop {
                    steps += 1;
                    if steps > MAX_STEPS {
                        return Err("the regular expression took too long to match".into());
                    }
                    if use_visited {
                        let bit = pc * width + pos;
                        if visited[bit / 64] & (1 << (bit % 64)) != 0 {
                            break;
                        }
                        visited[bit / 64] |= 1 << (bit % 64);
                    }
                    let Some(inst) = self.prog.get(pc) else { break };
                    match inst {
                        Inst::Char(c) => {
                            let ok = s.get(pos).is_some_and(|x| if self.icase { fold(*x) == fold(*c) } else { x == c });
                            if !ok {
                                break;
                            }
                            pc += 1;
                            pos += 1;
                        }
                        Inst::Any => {
                            if !s.get(pos).is_some_and(|c| !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')) {
                                break;
                            }
                            pc += 1;
                            pos += 1;
                        }
                        Inst::Class(ranges, neg) => {
                            let Some(&c) = s.get(pos) else { break };
                            let hit = |c: char| ranges.iter().any(|(a, b)| *a <= c && c <= *b);
                            let inside =
                                hit(c) || (self.icase && (hit(fold(c)) || c.to_uppercase().next().is_some_and(hit)));
                            if inside == *neg {
                                break;
                            }
                            pc += 1;
                            pos += 1;
                        }
                        Inst::Bol => {
                            if !(pos == 0 || (self.multiline && matches!(s.get(pos - 1), Some('\n' | '\r')))) {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::Eol => {
                            if !(pos == n || (self.multiline && matches!(s.get(pos), Some('\n' | '\r')))) {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::WordB(want) => {
                            let at = is_word(pos.checked_sub(1).and_then(|p| s.get(p))) != is_word(s.get(pos));
                            if at != *want {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::Split(a, b) => {
                            stack.push(Job::Try(*b, pos));
                            pc = *a;
                        }
                        Inst::Jmp(a) => pc = *a,
                        Inst::Save(k) => {
                            stack.push(Job::Restore(*k, caps[*k]));
                            caps[*k] = Some(pos);
                            pc += 1;
                        }
                        Inst::Backref(k) => {
                            if let (Some(Some(a)), Some(Some(b))) = (caps.get(2 * k), caps.get(2 * k + 1)) {
                                let len = b.saturating_sub(*a);
                                let ok = pos + len <= n
                                    && (0..len).all(|j| {
                                        let (x, y) = (s[a + j], s[pos + j]);
                                        if self.icase { fold(x) == fold(y) } else { x == y }
                                    });
                                if !ok {
                                    break;
                                }
                                pos += len;
                            }
                            pc += 1;
                        }
                        Inst::Match => {
                            let pair = |k: usize| match (
                                caps.get(2 * k).copied().flatten(),
                                caps.get(2 * k + 1).copied().flatten(),
                            ) {
                                (Some(a), Some(b)) => Some((a, b)),
                                _ => None,
                            };
                            let whole = pair(0).unwrap_or((start, pos));
                            return Ok(Some(Match {
                                start: whole.0,
                                end: whole.1,
                                groups: (1..=self.groups).map(pair).collect(),
                            }));
                        }
                    }
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(p: &str, s: &str) -> Option<(usize, usize)> {
        let cs: Vec<char> = s.chars().collect();
        Regex::new(p, false, false).unwrap().find_at(&cs, 0).unwrap().map(|m| (m.start, m.end))
    }

    #[test]
    fn matches_like_javascript() {
        assert_eq!(find("a(b+)", "xxabbb"), Some((2, 6)));
        assert_eq!(find("a+?", "aaa"), Some((0, 1)));
        assert_eq!(find("^\\d{2,3}$", "123"), Some((0, 3)));
        assert_eq!(find("^\\d{2,3}$", "1234"), None);
        assert_eq!(find("cat|dog", "hotdog"), Some((3, 6)));
        assert_eq!(find("[^a-c]+", "abcxyz"), Some((3, 6)));
        assert_eq!(find("(a)\\1", "xaa"), Some((1, 3)));
        assert_eq!(find("\\bfox\\b", "the fox"), Some((4, 7)));
        assert_eq!(find("(a*)*c", &"a".repeat(5000)), None);
        assert!(Regex::new("(", false, false).is_err());
        assert!(Regex::new("a**", false, false).is_err());
        assert!(Regex::new("(?=a)", false, false).is_err());
    }
}
