//! A Pratt parser with jsonata-js's binding powers, building the evaluation-ready [`Node`] tree.

use super::Error;
use super::ast::{BinOp, LambdaDef, Node, PathNode, SortTerm, Stage, Step};
use super::lexer::{Tok, lex};

/// Nesting bound, so that hostile expressions cannot exhaust the stack while parsing.
const MAX_DEPTH: usize = 120;

pub(crate) fn parse(src: &str) -> Result<Node, Error> {
    let toks = lex(src)?;
    let mut p = Parser { toks, i: 0, depth: 0, end: src.chars().count() };
    let node = p.expr(0)?;
    if let Some((t, pos)) = p.toks.get(p.i) {
        return Err(Error::new("S0201", format!("Syntax error: {}", shown(t))).at(*pos));
    }
    Ok(node)
}

fn shown(t: &Tok) -> String {
    match t {
        Tok::Num(n) => n.to_string(),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Name(n, _) => n.to_string(),
        Tok::Var(v) => format!("${v}"),
        Tok::Op(o) => (*o).to_owned(),
        Tok::Regex(_) => "regex".to_owned(),
    }
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    depth: usize,
    end: usize,
}

fn infix_bp(t: &Tok) -> u8 {
    match t {
        Tok::Op(op) => match *op {
            "." => 75,
            "[" | "(" | "@" | "#" => 80,
            "{" => 70,
            "*" | "/" | "%" => 60,
            "+" | "-" | "&" => 50,
            "=" | "!=" | "<" | "<=" | ">" | ">=" | "^" | "~>" | "?:" | "??" => 40,
            "?" | ".." => 20,
            ":=" => 10,
            _ => 0,
        },
        Tok::Name(n, false) => match n.as_ref() {
            "and" => 30,
            "or" => 25,
            "in" => 40,
            _ => 0,
        },
        _ => 0,
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(t, _)| t)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.end, |(_, p)| *p)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    fn expect(&mut self, op: &str) -> Result<(), Error> {
        if self.is_op(op) {
            self.i += 1;
            return Ok(());
        }
        match self.peek() {
            None => Err(Error::new("S0203", format!("Expected \"{op}\" before end of expression")).at(self.end)),
            Some(t) => Err(Error::new("S0202", format!("Expected \"{op}\", got \"{}\"", shown(t))).at(self.pos())),
        }
    }

    fn expr(&mut self, rbp: u8) -> Result<Node, Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::new("S0208", "The expression nests too deeply").at(self.pos()));
        }
        let r = self.expr_inner(rbp);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, rbp: u8) -> Result<Node, Error> {
        let mut left = self.nud()?;
        while let Some(t) = self.peek() {
            let bp = infix_bp(t);
            if bp <= rbp {
                break;
            }
            let t = t.clone();
            self.i += 1;
            left = self.led(t, bp, left)?;
        }
        Ok(left)
    }

    fn nud(&mut self) -> Result<Node, Error> {
        let pos = self.pos();
        let Some((tok, _)) = self.toks.get(self.i).cloned() else {
            return Err(Error::new("S0207", "Unexpected end of expression").at(self.end));
        };
        self.i += 1;
        Ok(match tok {
            Tok::Num(n) => Node::Num(n),
            Tok::Str(s) => Node::Str(s),
            Tok::Regex(r) => Node::Regex(r),
            Tok::Var(v) => Node::Var(v),
            Tok::Name(n, true) => name_path(n),
            Tok::Name(n, false) => match n.as_ref() {
                "true" => Node::Bool(true),
                "false" => Node::Bool(false),
                "null" => Node::Null,
                "function" if self.is_op("(") => self.lambda()?,
                _ => name_path(n),
            },
            Tok::Op("-") => match self.expr(70)? {
                Node::Num(n) => Node::Num(-n),
                other => Node::Neg(Box::new(other)),
            },
            Tok::Op("*") => Node::Wildcard,
            Tok::Op("**") => Node::Descendants,
            Tok::Op("?") => Node::Placeholder,
            Tok::Op("(") => {
                let mut items = Vec::new();
                while !self.is_op(")") {
                    items.push(self.expr(0)?);
                    if !self.is_op(";") {
                        break;
                    }
                    self.i += 1;
                }
                self.expect(")")?;
                Node::Block(items)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.is_op("]") {
                    loop {
                        let item = self.expr(0)?;
                        items.push(item);
                        if !self.is_op(",") {
                            break;
                        }
                        self.i += 1;
                    }
                }
                self.expect("]")?;
                Node::Array(items)
            }
            Tok::Op("{") => Node::Object(self.object_body()?),
            Tok::Op("|") => {
                let pattern = self.expr(0)?;
                self.expect("|")?;
                let update = self.expr(0)?;
                let delete = if self.is_op(",") {
                    self.i += 1;
                    Some(Box::new(self.expr(0)?))
                } else {
                    None
                };
                self.expect("|")?;
                Node::Transform(Box::new(pattern), Box::new(update), delete)
            }
            Tok::Op(op) => {
                return Err(Error::new("S0211", format!("The symbol {op} cannot be used as a unary operator")).at(pos));
            }
        })
    }

    fn object_body(&mut self) -> Result<Vec<(Node, Node)>, Error> {
        let mut pairs = Vec::new();
        if !self.is_op("}") {
            loop {
                let k = self.expr(0)?;
                self.expect(":")?;
                let v = self.expr(0)?;
                pairs.push((k, v));
                if !self.is_op(",") {
                    break;
                }
                self.i += 1;
            }
        }
        self.expect("}")?;
        Ok(pairs)
    }

    fn lambda(&mut self) -> Result<Node, Error> {
        self.expect("(")?;
        let mut params = Vec::new();
        while !self.is_op(")") {
            match self.toks.get(self.i).cloned() {
                Some((Tok::Var(v), _)) => params.push(v),
                _ => {
                    return Err(
                        Error::new("S0208", "Parameters of a function definition must be variables").at(self.pos())
                    );
                }
            }
            self.i += 1;
            if self.is_op(",") {
                self.i += 1;
            }
        }
        self.expect(")")?;
        let signature = if self.is_op("<") { Some(self.signature()?) } else { None };
        self.expect("{")?;
        let body = if self.is_op("}") { Node::Block(Vec::new()) } else { self.expr(0)? };
        self.expect("}")?;
        Ok(Node::Lambda(Box::new(LambdaDef { params, body, signature })))
    }

    /// Reads `<…>` and keeps one type letter per parameter (`-` and modifiers dropped).
    fn signature(&mut self) -> Result<Vec<char>, Error> {
        self.i += 1;
        let mut text = String::new();
        let mut depth = 1;
        while let Some((t, _)) = self.toks.get(self.i) {
            self.i += 1;
            match t {
                Tok::Op("<") => depth += 1,
                Tok::Op(">") => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            text.push_str(&shown(t));
        }
        let params = text.split(':').next().unwrap_or_default();
        let mut out = Vec::new();
        let mut nest = 0;
        for c in params.chars() {
            match c {
                '<' | '(' => nest += 1,
                '>' | ')' => nest -= 1,
                'b' | 'n' | 's' | 'a' | 'o' | 'f' | 'x' | 'j' | 'l' if nest == 0 => out.push(c),
                _ => {}
            }
        }
        Ok(out)
    }

    fn led(&mut self, tok: Tok, bp: u8, left: Node) -> Result<Node, Error> {
        let pos = self.pos();
        let bin = |op: BinOp, l: Node, r: Node| Node::Binary(op, Box::new(l), Box::new(r));
        Ok(match tok {
            Tok::Name(n, false) => {
                let right = self.expr(bp)?;
                match n.as_ref() {
                    "and" => Node::And(Box::new(left), Box::new(right)),
                    "or" => Node::Or(Box::new(left), Box::new(right)),
                    _ => bin(BinOp::In, left, right),
                }
            }
            Tok::Op(".") => {
                let right = self.expr(bp)?;
                path_join(left, right, pos)?
            }
            Tok::Op("[") => {
                if self.is_op("]") {
                    self.i += 1;
                    let mut path = into_path(left);
                    path.keep_singleton = true;
                    return Ok(Node::Path(Box::new(path)));
                }
                let pred = self.expr(0)?;
                self.expect("]")?;
                attach_predicate(left, pred)
            }
            Tok::Op("{") => {
                let pairs = self.object_body()?;
                match left {
                    Node::Path(mut p) if p.group.is_none() => {
                        p.group = Some(pairs);
                        Node::Path(p)
                    }
                    Node::Filtered { expr, predicates, group: None, keep } => {
                        Node::Filtered { expr, predicates, group: Some(pairs), keep }
                    }
                    Node::Path(_) | Node::Filtered { .. } => {
                        return Err(Error::new("S0210", "Each step can only have one grouping expression").at(pos));
                    }
                    other => Node::Filtered {
                        expr: Box::new(other),
                        predicates: Vec::new(),
                        group: Some(pairs),
                        keep: false,
                    },
                }
            }
            Tok::Op("(") => {
                let mut args = Vec::new();
                if !self.is_op(")") {
                    loop {
                        args.push(self.expr(0)?);
                        if !self.is_op(",") {
                            break;
                        }
                        self.i += 1;
                    }
                }
                self.expect(")")?;
                Node::Call(Box::new(left), args)
            }
            Tok::Op(op @ ("@" | "#")) => {
                let Some((Tok::Var(v), _)) = self.toks.get(self.i).cloned() else {
                    return Err(Error::new("S0214", format!("The right side of {op} must be a variable name")).at(pos));
                };
                self.i += 1;
                let mut path = into_path(left);
                let Some(step) = path.steps.last_mut() else {
                    return Err(Error::new("S0214", "Nothing to bind").at(pos));
                };
                if op == "@" {
                    step.focus = Some(v);
                } else if step.stages.is_empty() {
                    step.index = Some(v);
                } else {
                    step.stages.push(Stage::Index(v));
                }
                step.tuple = true;
                Node::Path(Box::new(path))
            }
            Tok::Op("^") => {
                self.expect("(")?;
                let mut terms = Vec::new();
                loop {
                    let descending = if self.is_op(">") {
                        self.i += 1;
                        true
                    } else {
                        if self.is_op("<") {
                            self.i += 1;
                        }
                        false
                    };
                    terms.push(SortTerm { expr: self.expr(0)?, descending });
                    if !self.is_op(",") {
                        break;
                    }
                    self.i += 1;
                }
                self.expect(")")?;
                let mut path = into_path(left);
                path.steps.push(Step::new(Node::Sort(terms)));
                Node::Path(Box::new(path))
            }
            Tok::Op("?") => {
                let then = self.expr(0)?;
                let otherwise = if self.is_op(":") {
                    self.i += 1;
                    Some(Box::new(self.expr(0)?))
                } else {
                    None
                };
                Node::Cond(Box::new(left), Box::new(then), otherwise)
            }
            Tok::Op(":=") => {
                let Node::Var(name) = left else {
                    return Err(
                        Error::new("S0212", "The left side of := must be a variable name (start with $)").at(pos)
                    );
                };
                Node::Bind(name, Box::new(self.expr(bp - 1)?))
            }
            Tok::Op(op) => {
                let right = self.expr(bp)?;
                match op {
                    "+" => bin(BinOp::Add, left, right),
                    "-" => bin(BinOp::Sub, left, right),
                    "*" => bin(BinOp::Mul, left, right),
                    "/" => bin(BinOp::Div, left, right),
                    "%" => bin(BinOp::Mod, left, right),
                    "=" => bin(BinOp::Eq, left, right),
                    "!=" => bin(BinOp::Ne, left, right),
                    "<" => bin(BinOp::Lt, left, right),
                    "<=" => bin(BinOp::Le, left, right),
                    ">" => bin(BinOp::Gt, left, right),
                    ">=" => bin(BinOp::Ge, left, right),
                    "&" => bin(BinOp::Concat, left, right),
                    "~>" => Node::Apply(Box::new(left), Box::new(right)),
                    "?:" => Node::Elvis(Box::new(left), Box::new(right)),
                    "??" => Node::Coalesce(Box::new(left), Box::new(right)),
                    ".." => Node::Range(Box::new(left), Box::new(right)),
                    other => return Err(Error::new("S0201", format!("Syntax error: {other}")).at(pos)),
                }
            }
            other => return Err(Error::new("S0201", format!("Syntax error: {}", shown(&other))).at(pos)),
        })
    }
}

fn name_path(n: Box<str>) -> Node {
    Node::Path(Box::new(PathNode { steps: vec![Step::new(Node::Name(n))], keep_singleton: false, group: None }))
}

fn into_path(node: Node) -> PathNode {
    match node {
        Node::Path(p) => *p,
        Node::Filtered { expr, predicates, group: None, keep } => {
            let mut step = Step::new(*expr);
            step.stages = predicates.into_iter().map(Stage::Filter).collect();
            PathNode { steps: vec![step], keep_singleton: keep, group: None }
        }
        other => PathNode { steps: vec![Step::new(other)], keep_singleton: false, group: None },
    }
}

fn step_node(node: Node) -> Node {
    // String literals inside a path are field names.
    match node {
        Node::Str(s) => Node::Name(s),
        other => other,
    }
}

fn path_join(left: Node, right: Node, pos: usize) -> Result<Node, Error> {
    let mut path = into_path(match left {
        Node::Str(s) => Node::Name(s),
        other => other,
    });
    if path.group.is_some() {
        // `a{...}.b` keeps the grouped object as a step.
        path = PathNode { steps: vec![Step::new(Node::Path(Box::new(path)))], keep_singleton: false, group: None };
    }
    match right {
        Node::Path(rp) if rp.group.is_none() => {
            let rp = *rp;
            path.keep_singleton |= rp.keep_singleton;
            for (n, mut s) in rp.steps.into_iter().enumerate() {
                if n == 0 {
                    s.cons = false;
                }
                s.node = step_node(s.node);
                path.steps.push(s);
            }
        }
        Node::Num(_) | Node::Bool(_) | Node::Null => {
            return Err(
                Error::new("S0213", "The literal value cannot be used as a step within a path expression").at(pos)
            );
        }
        other => {
            let mut s = Step::new(step_node(other));
            s.cons = false;
            path.steps.push(s);
        }
    }
    Ok(Node::Path(Box::new(path)))
}

fn attach_predicate(left: Node, pred: Node) -> Node {
    match left {
        Node::Path(mut p) if p.group.is_none() => {
            if let Some(step) = p.steps.last_mut() {
                step.stages.push(Stage::Filter(pred));
            }
            Node::Path(p)
        }
        Node::Name(n) => {
            let mut step = Step::new(Node::Name(n));
            step.stages.push(Stage::Filter(pred));
            Node::Path(Box::new(PathNode { steps: vec![step], keep_singleton: false, group: None }))
        }
        Node::Filtered { expr, mut predicates, group: None, keep } => {
            predicates.push(pred);
            Node::Filtered { expr, predicates, group: None, keep }
        }
        other => Node::Filtered { expr: Box::new(other), predicates: vec![pred], group: None, keep: false },
    }
}
