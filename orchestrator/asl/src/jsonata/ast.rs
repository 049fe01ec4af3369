//! The parsed form of an expression, already shaped for evaluation (paths as step lists,
//! predicates and bindings attached to their steps), as jsonata-js's `processAST` leaves it.

use std::sync::Arc;

use super::regex::Regex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    In,
}

#[derive(Debug)]
pub(crate) enum Node {
    Num(f64),
    Str(Box<str>),
    Bool(bool),
    Null,
    Regex(Arc<Regex>),
    /// A field name (only ever a path step).
    Name(Box<str>),
    /// `$name`; `""` is the context (`$`), `"$"` the root (`$$`).
    Var(Box<str>),
    Wildcard,
    Descendants,
    Path(Box<PathNode>),
    Neg(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    /// `a ?: b`
    Elvis(Box<Node>, Box<Node>),
    /// `a ?? b`
    Coalesce(Box<Node>, Box<Node>),
    Block(Vec<Node>),
    /// `[a, b..c]`
    Array(Vec<Node>),
    /// `a..b`, only inside an array constructor.
    Range(Box<Node>, Box<Node>),
    /// A standalone object constructor, grouping over the context.
    Object(Vec<(Node, Node)>),
    Bind(Box<str>, Box<Node>),
    Lambda(Box<LambdaDef>),
    Call(Box<Node>, Vec<Node>),
    /// `?` as a call argument.
    Placeholder,
    /// `a ~> b`
    Apply(Box<Node>, Box<Node>),
    /// `| pattern | update, delete |`
    Transform(Box<Node>, Box<Node>, Option<Box<Node>>),
    /// A non-path expression with predicates (`$[0]`) or a group (`expr{...}`).
    Filtered {
        expr: Box<Node>,
        predicates: Vec<Node>,
        group: Option<Vec<(Node, Node)>>,
        keep: bool,
    },
    /// `^(...)`, only as a path step.
    Sort(Vec<SortTerm>),
}

#[derive(Debug)]
pub(crate) struct SortTerm {
    pub(crate) expr: Node,
    pub(crate) descending: bool,
}

#[derive(Debug)]
pub(crate) struct LambdaDef {
    pub(crate) params: Vec<Box<str>>,
    pub(crate) body: Node,
    /// The parameter types of a `<…>` signature, when given (one letter per parameter).
    pub(crate) signature: Option<Vec<char>>,
}

#[derive(Debug)]
pub(crate) enum Stage {
    Filter(Node),
    Index(Box<str>),
}

#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) node: Node,
    /// Filters applied to each input item's result (or to the tuple stream after `@`/`#`).
    pub(crate) stages: Vec<Stage>,
    pub(crate) focus: Option<Box<str>>,
    pub(crate) index: Option<Box<str>>,
    /// `@` or `#` appear here: the path becomes a tuple stream.
    pub(crate) tuple: bool,
    /// The first step is an array constructor: evaluated once, not per item.
    pub(crate) cons: bool,
}

#[derive(Debug)]
pub(crate) struct PathNode {
    pub(crate) steps: Vec<Step>,
    pub(crate) keep_singleton: bool,
    pub(crate) group: Option<Vec<(Node, Node)>>,
}

impl Step {
    pub(crate) fn new(node: Node) -> Step {
        let cons = matches!(node, Node::Array(_));
        Step { node, stages: Vec::new(), focus: None, index: None, tuple: false, cons }
    }
}
