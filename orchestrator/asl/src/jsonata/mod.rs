//! JSONata, the query language of Step Functions states with `"QueryLanguage": "JSONata"`.
//!
//! A pure, self-contained implementation of JSONata 2.x as AWS runs it: no I/O, no clock (the
//! evaluation's "now" and random seed are passed in), no panics on any expression or input
//! (recursion depth, evaluation steps and regex backtracking are all bounded).
//!
//! # Layout
//!
//! - `lexer` and `parser`: text to an evaluation-ready tree (`ast`), once, at compile time.
//! - `eval` and `path`: the evaluator; `value` holds evaluation values, borrowing the input
//!   JSON instead of copying it.
//! - `functions/`: the standard library by family, plus AWS's `$partition`, `$range`, `$hash`,
//!   `$uuid`, `$parse`.
//! - `regex`: the `/…/` literals' engine; `transform`: the `| … | … |` operator.
//!
//! # Evaluating repeatedly
//!
//! Parse once with [`Jsonata::parse`] and call [`Jsonata::evaluate`] per input; evaluation
//! allocates only for the values it builds (the input is borrowed, frames live in one arena):
//!
//! ```
//! use serde_json::json;
//! use stepwasm_asl::{EvalOptions, Jsonata};
//!
//! let expr = Jsonata::parse("$map($filter(items, function($v) { $v % 2 = 0 }), function($v) { $v * 10 })").unwrap();
//! let input = json!({"items": (0..100).collect::<Vec<_>>()});
//! let bindings = serde_json::Map::new();
//! for _ in 0..3 {
//!     let out = expr.evaluate(Some(&input), &bindings, &EvalOptions::default()).unwrap();
//!     assert_eq!(out.unwrap().as_array().map(Vec::len), Some(50));
//! }
//! ```

mod ast;
mod eval;
mod functions;
mod lexer;
mod parser;
mod path;
mod regex;
mod transform;
mod value;

#[cfg(test)]
mod tests;

use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value;

use self::value::{Flags, Val};

/// A JSONata failure: its JSONata error code (`T2001`, `D3030`, `S0201`, …) and message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct JsonataError {
    /// JSONata's code: `S…` syntax, `T…` type, `D…` dynamic, `U…` resource limits.
    pub code: &'static str,
    /// What went wrong, in JSONata's wording where it has one.
    pub message: String,
    /// Character offset in the expression, where known.
    pub position: Option<usize>,
}

pub(crate) type Error = JsonataError;

impl JsonataError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        JsonataError { code, message: message.into(), position: None }
    }

    pub(crate) fn at(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }
}

/// Variables an expression can read besides its own bindings (`$states`, workflow variables).
pub trait Bindings {
    /// The value of `$name`, if bound.
    fn lookup(&self, name: &str) -> Option<&Value>;
}

impl Bindings for serde_json::Map<String, Value> {
    fn lookup(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// No variables at all.
pub(crate) struct NoBindings;

impl Bindings for NoBindings {
    fn lookup(&self, _: &str) -> Option<&Value> {
        None
    }
}

/// What one evaluation takes from outside: time and randomness, so that replay is exact.
#[derive(Clone, Copy, Debug, Default)]
pub struct EvalOptions {
    /// What `$now()` and `$millis()` return, in milliseconds since the Unix epoch (default 0).
    pub now_millis: i64,
    /// Seed for `$random()`, `$uuid()` and `$shuffle()` (default 0).
    pub random_seed: u64,
}

/// A parsed JSONata expression. Cheap to clone; parse once, evaluate many times.
#[derive(Clone, Debug)]
pub struct Jsonata {
    source: Arc<str>,
    ast: Arc<ast::Node>,
}

impl Jsonata {
    /// Parses `source`; syntax errors carry JSONata's `S0…` codes.
    pub fn parse(source: &str) -> Result<Jsonata, JsonataError> {
        let ast = parser::parse(source)?;
        Ok(Jsonata { source: Arc::from(source), ast: Arc::new(ast) })
    }

    /// The expression's text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against `input` (`$` and `$$`); `Ok(None)` is JSONata's "undefined".
    pub fn evaluate(
        &self,
        input: Option<&Value>,
        bindings: &dyn Bindings,
        options: &EvalOptions,
    ) -> Result<Option<Value>, JsonataError> {
        let mut ev = eval::Evaluator::new(bindings, options.now_millis, options.random_seed);
        let root = input.map(Val::from_json);
        ev.root = root.clone();
        // An array document is wrapped so that paths treat it as one input, as jsonata-js does.
        let context = match root {
            Some(v) if v.is_array() => {
                Some(Val::Arr(Rc::new(vec![v]), Flags { seq: true, wrapper: true, ..Flags::PLAIN }))
            }
            other => other,
        };
        let out = ev.eval(&self.ast, &context, 0)?;
        Ok(out.map(|v| v.to_json()))
    }
}
