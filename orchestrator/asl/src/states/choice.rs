//! Choice: picks the next state with the first matching rule (or `Default`).
//!
//! Rules are compiled once. A type mismatch makes a comparison false, never an error; a
//! `Variable` (or `…Path` operand) that does not resolve is `States.Runtime`, except for
//! `IsPresent`.

use std::cmp::Ordering;

use serde_json::Value;

use serde_json::Map;

use crate::compile::{Fields, Site};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::execution::{Failure, Flow, StateCx};
use crate::intrinsics::json_equal;
use crate::ir::{BranchIo, Selector, Transition};
use crate::jsonpath::{Path, Roots};
use crate::machine::{Builder, State, StateMachine};
use crate::model::{ChoiceRule, ChoiceState, QueryLanguage};
use crate::names;
use crate::states::Kind;
use crate::template::JTemplate;
use crate::timestamp::parse_rfc3339;

/// A Choice state's own fields.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// `Choices`, in order.
    pub(crate) branches: Vec<Branch>,
    /// `Default`: the index of the state to go to when no rule matches.
    pub(crate) default: Option<usize>,
}

/// One entry of `Choices`.
#[derive(Clone, Debug)]
pub(crate) struct Branch {
    pub(crate) rule: Rule,
    /// The index of the state it goes to.
    pub(crate) next: usize,
    /// Its `Assign` (and, in JSONata, `Output`).
    pub(crate) io: BranchIo,
}

impl Spec {
    pub(crate) fn targets(&self) -> Vec<usize> {
        self.branches.iter().map(|b| b.next).chain(self.default).collect()
    }

    pub(crate) fn describe(&self, machine: &StateMachine, out: &mut Map<String, Value>) {
        out.insert("choices".into(), self.branches.iter().map(|b| machine.id_value(b.next)).collect());
        out.insert("rules".into(), self.branches.iter().map(|b| Value::from(b.rule.label())).collect());
        if let Some(d) = self.default {
            out.insert("default".into(), machine.id_value(d));
        }
    }
}

pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, ch: &ChoiceState) -> State {
    let ql = site.ql(ch.query_language);
    if ch.choices.is_empty() {
        b.diag(
            "SCHEMA_VALIDATION_FAILED",
            &site.at("Choices"),
            "A Choice state must have at least one rule in 'Choices'",
        );
    }
    let mut branches = Vec::new();
    for (i, rule) in ch.choices.iter().enumerate() {
        let rloc = site.at(&format!("Choices/{i}"));
        let compiled = compile_rule(rule, &rloc, ql, &mut b.diags);
        let next = match rule.next.as_deref() {
            Some(n) => b.target(site.index, n, &format!("{rloc}/Next")),
            None => {
                b.diag("SCHEMA_VALIDATION_FAILED", &rloc, "A Choice rule must have a 'Next'");
                usize::MAX
            }
        };
        let io = b.branch_io(ql, rule.assign.as_ref(), rule.output.as_ref(), &rloc);
        branches.push(Branch { rule: compiled, next, io });
    }
    let default = ch.default.as_deref().map(|d| b.target(site.index, d, &site.at("Default")));
    let fields = Fields {
        input_path: ch.input_path.as_ref(),
        output_path: ch.output_path.as_ref(),
        assign: ch.assign.as_ref(),
        output: ch.output.as_ref(),
        terminal_kind: true,
        query_language: ch.query_language,
        ..Fields::default()
    };
    State { common: b.common(site, &fields), kind: Kind::Choice(Spec { branches, default }) }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Clone, Debug)]
pub(crate) enum Operand {
    Value(Value),
    Path(Path),
}

/// A compiled Choice rule.
#[derive(Clone, Debug)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare {
        variable: Path,
        family: Family,
        cmp: Cmp,
        operand: Operand,
    },
    Matches {
        variable: Path,
        pattern: String,
    },
    Is {
        variable: Path,
        test: TypeTest,
        expected: bool,
    },
    /// A JSONata rule's `Condition`.
    Condition(Selector),
    /// Placeholder for a rule that failed validation.
    Invalid,
}

/// (comparison, type test, operand is a path) of an operator name.
type OperatorKind = (Option<(Family, Cmp)>, Option<TypeTest>, bool);

fn operator(name: &str) -> Option<OperatorKind> {
    let (base, is_path) = match name.strip_suffix("Path") {
        Some(b) if !b.starts_with("Is") => (b, true),
        _ => (name, false),
    };
    let test = match base {
        "IsNull" => Some(TypeTest::Null),
        "IsPresent" => Some(TypeTest::Present),
        "IsNumeric" => Some(TypeTest::Numeric),
        "IsString" => Some(TypeTest::String),
        "IsBoolean" => Some(TypeTest::Boolean),
        "IsTimestamp" => Some(TypeTest::Timestamp),
        _ => None,
    };
    if test.is_some() {
        return Some((None, test, false));
    }
    let (family, rest) = [
        ("String", Family::String),
        ("Numeric", Family::Numeric),
        ("Boolean", Family::Boolean),
        ("Timestamp", Family::Timestamp),
    ]
    .into_iter()
    .find_map(|(p, f)| base.strip_prefix(p).map(|r| (f, r)))?;
    let cmp = match rest {
        "Equals" => Cmp::Eq,
        "LessThan" => Cmp::Lt,
        "GreaterThan" => Cmp::Gt,
        "LessThanEquals" => Cmp::Le,
        "GreaterThanEquals" => Cmp::Ge,
        _ => return None,
    };
    Some((Some((family, cmp)), None, is_path))
}

/// Compiles one rule (top-level or nested), reporting problems under `loc`.
fn compile_rule(rule: &ChoiceRule, loc: &str, ql: QueryLanguage, diags: &mut Diagnostics) -> Rule {
    compile_inner(rule, loc, ql, diags, true)
}

fn compile_inner(rule: &ChoiceRule, loc: &str, ql: QueryLanguage, diags: &mut Diagnostics, top: bool) -> Rule {
    let mut diag = |l: &str, m: String| diags.push(Diagnostic::new("SCHEMA_VALIDATION_FAILED", l, m));
    if !top && rule.next.is_some() {
        diag(&format!("{loc}/Next"), "Nested Choice rules cannot have 'Next'".into());
    }
    if ql == QueryLanguage::JSONata {
        return match &rule.condition {
            Some(c) => Rule::Condition(Selector::Jsonata(JTemplate::compile(c, &format!("{loc}/Condition"), diags))),
            None => {
                diag(loc, "A JSONata Choice rule needs a 'Condition'".into());
                Rule::Invalid
            }
        };
    }
    let ops = rule.operators();
    let combinators = [rule.and.is_some(), rule.or.is_some(), rule.not.is_some()].iter().filter(|b| **b).count();
    if rule.condition.is_some() {
        diag(&format!("{loc}/Condition"), "'Condition' is supported only in JSONata states".into());
        return Rule::Invalid;
    }
    match ops.len() + combinators {
        1 => {}
        0 => {
            diag(loc, "A Choice rule needs a comparison operator, 'And', 'Or' or 'Not'".into());
            return Rule::Invalid;
        }
        _ => {
            let mut found: Vec<&str> = ops.iter().map(|(name, _)| *name).collect();
            found.extend(
                [("And", rule.and.is_some()), ("Or", rule.or.is_some()), ("Not", rule.not.is_some())]
                    .into_iter()
                    .filter_map(|(name, set)| set.then_some(name)),
            );
            let found = found.join(", ");
            diag(
                loc,
                format!("A Choice rule can have only one comparison operator, 'And', 'Or' or 'Not'; it has {found}"),
            );
            return Rule::Invalid;
        }
    }
    let nested = |rules: &Vec<ChoiceRule>, field: &str, diags: &mut Diagnostics| -> Vec<Rule> {
        if rules.is_empty() {
            diags.push(Diagnostic::new(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{loc}/{field}"),
                format!("'{field}' needs at least one rule"),
            ));
        }
        rules
            .iter()
            .enumerate()
            .map(|(i, r)| compile_inner(r, &format!("{loc}/{field}/{i}"), ql, diags, false))
            .collect()
    };
    if let Some(rules) = &rule.and {
        return Rule::And(nested(rules, "And", diags));
    }
    if let Some(rules) = &rule.or {
        return Rule::Or(nested(rules, "Or", diags));
    }
    if let Some(r) = &rule.not {
        return Rule::Not(Box::new(compile_inner(r, &format!("{loc}/Not"), ql, diags, false)));
    }
    let Some(&(name, value)) = ops.first() else {
        return Rule::Invalid;
    };
    let Some(var_text) = &rule.variable else {
        diags.push(Diagnostic::new(
            "SCHEMA_VALIDATION_FAILED",
            loc,
            format!("The comparison '{name}' needs a 'Variable'"),
        ));
        return Rule::Invalid;
    };
    let variable = match Path::parse(var_text) {
        Ok(p) => p,
        Err(e) => {
            diags.push(Diagnostic::new("INVALID_JSON_PATH", &format!("{loc}/Variable"), e));
            return Rule::Invalid;
        }
    };
    let oloc = format!("{loc}/{name}");
    let bad = |diags: &mut Diagnostics, what: &str| {
        diags.push(Diagnostic::new("SCHEMA_VALIDATION_FAILED", &oloc, format!("'{name}' must be {what}")));
        Rule::Invalid
    };
    match operator(name) {
        Some((None, Some(test), _)) => match value {
            Value::Bool(expected) => Rule::Is { variable, test, expected: *expected },
            _ => bad(diags, "a boolean"),
        },
        Some((Some((family, cmp)), None, true)) => match value.as_str().map(Path::parse) {
            Some(Ok(p)) => Rule::Compare { variable, family, cmp, operand: Operand::Path(p) },
            _ => bad(diags, "a valid JSONPath"),
        },
        Some((Some((family, cmp)), None, false)) => {
            let ok = match family {
                Family::String => value.is_string(),
                Family::Numeric => value.is_number(),
                Family::Boolean => value.is_boolean() && cmp == Cmp::Eq,
                Family::Timestamp => value.as_str().and_then(parse_rfc3339).is_some(),
            };
            if !ok {
                return bad(
                    diags,
                    match family {
                        Family::String => "a string",
                        Family::Numeric => "a number",
                        Family::Boolean => "a boolean",
                        Family::Timestamp => "an RFC 3339 timestamp",
                    },
                );
            }
            Rule::Compare { variable, family, cmp, operand: Operand::Value(value.clone()) }
        }
        _ if name == "StringMatches" => match value.as_str() {
            Some(p) => Rule::Matches { variable, pattern: p.to_owned() },
            None => bad(diags, "a string"),
        },
        _ => bad(diags, "a known operator"),
    }
}

fn compare(family: Family, a: &Value, b: &Value) -> Option<Ordering> {
    match family {
        Family::String => Some(a.as_str()?.cmp(b.as_str()?)),
        Family::Numeric => {
            let (Value::Number(x), Value::Number(y)) = (a, b) else {
                return None;
            };
            if json_equal(a, b) {
                return Some(Ordering::Equal);
            }
            x.as_f64()?.partial_cmp(&y.as_f64()?)
        }
        Family::Boolean => {
            let (Value::Bool(x), Value::Bool(y)) = (a, b) else {
                return None;
            };
            Some(x.cmp(y))
        }
        Family::Timestamp => Some(parse_rfc3339(a.as_str()?)?.cmp(&parse_rfc3339(b.as_str()?)?)),
    }
}

/// `*` matches any run of characters; `\*` is a literal star.
fn glob(pattern: &str, text: &str) -> bool {
    let mut toks: Vec<Option<char>> = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => toks.push(Some(chars.next().unwrap_or('\\'))),
            '*' => toks.push(None),
            c => toks.push(Some(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    let (mut t, mut p, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while t < text.len() {
        match toks.get(p) {
            Some(Some(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(None) => {
                star = Some(p);
                mark = t;
                p += 1;
            }
            _ => match star {
                Some(s) => {
                    p = s + 1;
                    mark += 1;
                    t = mark;
                }
                None => return false,
            },
        }
    }
    toks[p.min(toks.len())..].iter().all(Option::is_none)
}

impl Rule {
    /// The rule as a short human-readable condition, for the console's Choice edges:
    /// `$.total > 100000`, `$.note is present`, `$.a == "x" and (not ($.b < 3))`.
    pub(crate) fn label(&self) -> String {
        let joined = |rules: &[Rule], word: &str| {
            rules.iter().map(|rule| rule.nested_label()).collect::<Vec<_>>().join(&format!(" {word} "))
        };
        match self {
            Rule::And(rules) => joined(rules, "and"),
            Rule::Or(rules) => joined(rules, "or"),
            Rule::Not(rule) => format!("not ({})", rule.label()),
            Rule::Compare { variable, family, cmp, operand } => {
                let symbol = match cmp {
                    Cmp::Eq => "==",
                    Cmp::Lt => "<",
                    Cmp::Gt => ">",
                    Cmp::Le => "<=",
                    Cmp::Ge => ">=",
                };
                let operand = match (operand, family) {
                    (Operand::Path(path), _) => path.text().to_owned(),
                    (Operand::Value(value), Family::Timestamp) => format!("timestamp {value}"),
                    (Operand::Value(value), _) => value.to_string(),
                };
                format!("{} {symbol} {operand}", variable.text())
            }
            Rule::Matches { variable, pattern } => {
                format!("{} matches {}", variable.text(), Value::from(pattern.as_str()))
            }
            Rule::Is { variable, test, expected } => {
                let what = match test {
                    TypeTest::Null => "null",
                    TypeTest::Present => "present",
                    TypeTest::Numeric => "numeric",
                    TypeTest::String => "a string",
                    TypeTest::Boolean => "a boolean",
                    TypeTest::Timestamp => "a timestamp",
                };
                let is = if *expected { "is" } else { "is not" };
                format!("{} {is} {what}", variable.text())
            }
            Rule::Condition(Selector::Jsonata(JTemplate::Expr { text, .. })) => text.trim().to_owned(),
            Rule::Condition(Selector::Jsonata(JTemplate::Literal(value))) => value.to_string(),
            Rule::Condition(_) => "Condition".to_owned(),
            Rule::Invalid => "invalid rule".to_owned(),
        }
    }

    /// [`Rule::label`], parenthesised when it combines other rules.
    fn nested_label(&self) -> String {
        match self {
            Rule::And(_) | Rule::Or(_) | Rule::Not(_) => format!("({})", self.label()),
            _ => self.label(),
        }
    }

    /// Evaluates the rule; the error is a `States.Runtime` detail.
    pub(crate) fn eval(&self, roots: &dyn Roots) -> Result<bool, String> {
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.eval(roots)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.eval(roots)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(roots)?),
            Rule::Is { variable, test, expected } => {
                let value = variable.try_eval(roots)?;
                let holds = match (test, &value) {
                    (TypeTest::Present, v) => v.is_some(),
                    (_, None) => return Ok(false),
                    (TypeTest::Null, Some(v)) => v.is_null(),
                    (TypeTest::Numeric, Some(v)) => v.is_number(),
                    (TypeTest::String, Some(v)) => v.is_string(),
                    (TypeTest::Boolean, Some(v)) => v.is_boolean(),
                    (TypeTest::Timestamp, Some(v)) => v.as_str().and_then(parse_rfc3339).is_some(),
                };
                Ok(holds == *expected)
            }
            Rule::Compare { variable, family, cmp, operand } => {
                let a = variable.eval(roots)?;
                let b = match operand {
                    Operand::Value(v) => v.clone(),
                    Operand::Path(p) => p.eval(roots)?,
                };
                Ok(match compare(*family, &a, &b) {
                    None => false,
                    Some(o) => match cmp {
                        Cmp::Eq => o == Ordering::Equal,
                        Cmp::Lt => o == Ordering::Less,
                        Cmp::Gt => o == Ordering::Greater,
                        Cmp::Le => o != Ordering::Greater,
                        Cmp::Ge => o != Ordering::Less,
                    },
                })
            }
            Rule::Matches { variable, pattern } => Ok(variable.eval(roots)?.as_str().is_some_and(|s| glob(pattern, s))),
            Rule::Condition(_) | Rule::Invalid => Err("This rule cannot be evaluated in a JSONPath state".into()),
        }
    }
}

/// Whether `rule` holds for `input`.
fn holds(sc: &mut StateCx<'_, '_>, rule: &Rule, input: &Value) -> Result<bool, Failure> {
    match rule {
        Rule::Condition(condition) => Ok(sc.select(condition, "Condition", input, None)? == Value::Bool(true)),
        rule => {
            let verdict = sc.cx.eval(sc.fid, &sc.active, input, None, |env, _| rule.eval(env));
            verdict.map_err(|d| sc.runtime(&d))
        }
    }
}

pub(crate) fn run(mut sc: StateCx<'_, '_>, spec: &Spec) -> Flow {
    let input = match sc.input() {
        Ok(v) => v,
        Err(failure) => return sc.fail(failure),
    };
    for branch in &spec.branches {
        match holds(&mut sc, &branch.rule, &input) {
            Ok(true) => return sc.pass_on(input, Some(&branch.io), Transition::Next(branch.next)),
            Ok(false) => {}
            Err(failure) => return sc.fail(failure),
        }
    }
    match spec.default {
        Some(d) => sc.pass_on(input, None, Transition::Next(d)),
        None => {
            let cause = format!("{} No Matches!", sc.cause_prefix());
            sc.fail(Failure::new(names::NO_CHOICE_MATCHED, Some(cause)))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::run_json;

    fn check(rule: &str, input: Value) -> String {
        let def = format!(
            r#"{{"StartAt":"C","States":{{"C":{{"Type":"Choice","Choices":[{{{rule},"Next":"T"}}],"Default":"F"}},
               "T":{{"Type":"Pass","Result":"T","End":true}},"F":{{"Type":"Pass","Result":"F","End":true}}}}}}"#
        );
        run_json(&def, input).output().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "error".into())
    }

    #[test]
    fn type_mismatches_are_false_and_is_operators_follow_aws() {
        assert_eq!(check(r#""Variable":"$.v","NumericEquals":0"#, json!({"v": 0.0})), "T");
        assert_eq!(check(r#""Variable":"$.v","NumericEquals":1"#, json!({"v": true})), "F");
        assert_eq!(check(r##""Variable":"$.v","StringEquals":"0""##, json!({"v": 0})), "F");
        assert_eq!(check(r#""Variable":"$.v","IsBoolean":false"#, json!({"v": null})), "T");
        assert_eq!(check(r#""Variable":"$.v","IsPresent":true"#, json!({"v": null})), "T");
        assert_eq!(check(r#""Variable":"$.w","IsPresent":false"#, json!({"v": null})), "T");
        assert_eq!(check(r#""Variable":"$.v","IsNull":false"#, json!({"v": ""})), "T");
        assert_eq!(check(r#""Variable":"$.v","StringGreaterThan":"A""#, json!({"v": "A "})), "T");
        assert_eq!(check(r#""Variable":"$.v","StringGreaterThanEqualsPath":"$.w""#, json!({"v": "", "w": ""})), "T");
        assert_eq!(
            check(
                r#""Variable":"$.v","TimestampEquals":"2012-10-09T19:00:55Z""#,
                json!({"v": "2012-10-09T20:00:55+01:00"})
            ),
            "T"
        );
        assert_eq!(
            check(
                r#""Variable":"$.v","TimestampEquals":"2012-10-09T19:00:55Z""#,
                json!({"v": "2023-02-24 12:15:56.832957"})
            ),
            "F"
        );
        assert_eq!(check(r#""Variable":"$.v","StringMatches":"log-*.txt""#, json!({"v": "log-1.txt"})), "T");
        assert_eq!(check(r#""Not":{"Variable":"$.v","BooleanEquals":true}"#, json!({"v": false})), "T");
        assert_eq!(
            check(
                r#""And":[{"Variable":"$.v","IsNumeric":true},{"Variable":"$.v","NumericGreaterThan":2}]"#,
                json!({"v": 3})
            ),
            "T"
        );
        assert_eq!(check(r#""Variable":"$.missing","NumericEquals":1"#, json!({})), "error");
    }

    #[test]
    fn no_match_without_default_fails() {
        let out = run_json(
            r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.v","IsNull":true,"Next":"T"}]},"T":{"Type":"Succeed"}}}"#,
            json!({"v": 1}),
        );
        assert_eq!(out.failure().unwrap().0.as_deref(), Some("States.NoChoiceMatched"));
        assert!(glob("a\\*b*", "a*bcd") && !glob("a*c", "abd") && glob("*", ""));
    }
}
