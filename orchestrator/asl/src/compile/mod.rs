//! The compiler's toolkit: parsing a definition into the authoring model, and compiling the
//! pieces every state shares (transitions, Retry, Catch, paths, templates and the query-language
//! fields) into the IR, reporting every problem at once with the JSON pointer of its field.
//!
//! Each state type compiles its own fields with these tools (`states/<type>.rs`);
//! [`crate::machine`] walks the definition's scopes and puts the states together.

use std::collections::HashMap;

mod schema;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics, escape_pointer};
use crate::intrinsics::{self, Call};
use crate::ir::{
    BranchIo, Catcher, Common, JsonPathIo, JsonataIo, NumSource, PathOpt, ResultPath, Retrier, StateIo, StrSource,
    Transition,
};
use crate::jsonpath::{Path, Root};
use crate::model::{self, QueryLanguage, StateMachineDefinition};
use crate::names;
use crate::template::{self, JTemplate, Template};

/// Parses a definition's JSON text into the authoring model, reporting every schema problem.
pub fn parse_definition(text: &str) -> Result<StateMachineDefinition, Vec<Diagnostic>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        vec![Diagnostic::new("INVALID_JSON_DESCRIPTION", "", format!("The definition is not valid JSON: {e}"))]
    })?;
    // serde_json keeps the last of two equal keys; AWS rejects the definition instead.
    let mut diags = schema::duplicate_keys(text);
    match definition_from_value(&value) {
        Ok(def) if diags.is_empty() => Ok(def),
        Ok(_) => Err(diags),
        Err(more) => {
            diags.extend(more);
            Err(diags)
        }
    }
}

/// Like [`parse_definition`], from an already parsed JSON value.
pub fn definition_from_value(value: &Value) -> Result<StateMachineDefinition, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    schema::check_machine(value, "", true, &mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    serde_json::from_value(value.clone())
        .map_err(|e| vec![Diagnostic::new("SCHEMA_VALIDATION_FAILED", "", e.to_string())])
}

/// Compiles the shared pieces of states, collecting diagnostics.
pub(crate) struct Compiler {
    pub(crate) diags: Diagnostics,
    /// The machine's `QueryLanguage` (default JSONPath).
    pub(crate) machine_ql: QueryLanguage,
    /// Every state name seen so far, in any scope, with its location: names are unique in the
    /// whole machine.
    pub(crate) names: HashMap<String, String>,
}

/// Where the state being compiled sits.
pub(crate) struct Site<'a> {
    /// Its name in the definition.
    pub(crate) name: &'a str,
    /// Its qualified id (`Parallel/1/Name`).
    pub(crate) id: &'a str,
    /// The JSON pointer of the state (`/States/Name`).
    pub(crate) loc: &'a str,
    /// State name → index, for the states it can go to (its scope).
    pub(crate) index: &'a HashMap<&'a str, usize>,
    /// The query language of its scope (the machine's, or an enclosing state's).
    pub(crate) scope_ql: QueryLanguage,
}

impl Site<'_> {
    /// The pointer of `field` of the state.
    pub(crate) fn at(&self, field: &str) -> String {
        format!("{}/{field}", self.loc)
    }

    /// The state's query language: its own `QueryLanguage`, else its scope's.
    pub(crate) fn ql(&self, own: Option<QueryLanguage>) -> QueryLanguage {
        own.unwrap_or(self.scope_ql)
    }
}

/// The fields shared by most state types, borrowed from the model; a type that lacks one leaves
/// it `None`.
#[derive(Default)]
pub(crate) struct Fields<'a> {
    pub(crate) input_path: Option<&'a Option<String>>,
    pub(crate) output_path: Option<&'a Option<String>>,
    pub(crate) result_path: Option<&'a Option<String>>,
    pub(crate) parameters: Option<&'a Value>,
    pub(crate) result_selector: Option<&'a Value>,
    pub(crate) assign: Option<&'a Value>,
    pub(crate) arguments: Option<&'a Value>,
    pub(crate) output: Option<&'a Value>,
    pub(crate) retry: Option<&'a Vec<model::Retrier>>,
    pub(crate) catch: Option<&'a Vec<model::Catcher>>,
    pub(crate) next: Option<&'a str>,
    pub(crate) end: Option<bool>,
    /// Choice, Succeed and Fail: the state has no `Next` or `End` of its own.
    pub(crate) terminal_kind: bool,
    pub(crate) query_language: Option<QueryLanguage>,
}

impl Compiler {
    pub(crate) fn diag(&mut self, code: &str, loc: &str, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(code, loc, msg));
    }

    pub(crate) fn target(&mut self, index: &HashMap<&str, usize>, name: &str, loc: &str) -> usize {
        match index.get(name) {
            Some(&i) => i,
            None => {
                self.diag("MISSING_TRANSITION_TARGET", loc, format!("Missing 'Next' target: {name}"));
                usize::MAX
            }
        }
    }

    pub(crate) fn path(&mut self, text: &str, loc: &str, allow_context: bool) -> Option<Path> {
        match Path::parse(text) {
            Ok(p) => {
                if !allow_context && *p.root() == Root::Context {
                    self.diag(
                        "INVALID_JSON_PATH",
                        loc,
                        format!("The path '{text}' may not refer to the context object"),
                    );
                }
                Some(p)
            }
            Err(e) => {
                self.diag("INVALID_JSON_PATH", loc, e);
                None
            }
        }
    }

    pub(crate) fn path_opt(&mut self, field: Option<&Option<String>>, loc: &str) -> PathOpt {
        match field {
            None => PathOpt::Default,
            Some(None) => PathOpt::Null,
            Some(Some(text)) => self.path(text, loc, true).map_or(PathOpt::Default, PathOpt::Path),
        }
    }

    pub(crate) fn result_path(&mut self, field: Option<&Option<String>>, loc: &str) -> ResultPath {
        match field {
            None => ResultPath::Default,
            Some(None) => ResultPath::Discard,
            Some(Some(text)) => match self.path(text, loc, false) {
                Some(p) if p.keys().is_some() && *p.root() == Root::Input => ResultPath::Path(p),
                // `path` has said why already.
                Some(p) if *p.root() == Root::Context => ResultPath::Default,
                Some(_) => {
                    self.diag(
                        "INVALID_JSON_PATH",
                        loc,
                        format!("ResultPath '{text}' must be a reference path such as $.a.b"),
                    );
                    ResultPath::Default
                }
                None => ResultPath::Default,
            },
        }
    }

    pub(crate) fn template(&mut self, v: Option<&Value>, loc: &str) -> Option<Template> {
        v.map(|v| Template::compile(v, loc, &mut self.diags))
    }

    pub(crate) fn jtemplate(&mut self, v: Option<&Value>, loc: &str) -> Option<JTemplate> {
        v.map(|v| JTemplate::compile(v, loc, &mut self.diags))
    }

    fn error_list(&mut self, errors: &[String], loc: &str, last: bool) {
        if errors.is_empty() {
            self.diag("SCHEMA_VALIDATION_FAILED", loc, "ErrorEquals must list at least one error name");
        }
        if errors.iter().any(|e| e == names::ALL) {
            if errors.len() != 1 {
                self.diag("SCHEMA_VALIDATION_FAILED", loc, "States.ALL must appear alone in ErrorEquals");
            }
            if !last {
                self.diag("SCHEMA_VALIDATION_FAILED", loc, "A Retrier or Catcher with States.ALL must be the last one");
            }
        }
    }

    /// Compiles the fields every state shares, checking that each belongs to the state's query
    /// language.
    pub(crate) fn common(&mut self, site: &Site<'_>, c: &Fields<'_>) -> Common {
        let loc = site.loc;
        let ql = match c.query_language {
            Some(QueryLanguage::JSONPath) if self.machine_ql == QueryLanguage::JSONata => {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &site.at("QueryLanguage"),
                    "A JSONata state machine cannot use JSONPath in a state",
                );
                site.scope_ql
            }
            own => site.ql(own),
        };
        let jsonata = ql == QueryLanguage::JSONata;
        let misplaced: &[(&str, bool)] = if jsonata {
            &[
                ("InputPath", c.input_path.is_some()),
                ("OutputPath", c.output_path.is_some()),
                ("ResultPath", c.result_path.is_some()),
                ("Parameters", c.parameters.is_some()),
                ("ResultSelector", c.result_selector.is_some()),
            ]
        } else {
            &[("Arguments", c.arguments.is_some()), ("Output", c.output.is_some())]
        };
        for (field, _) in misplaced.iter().filter(|(_, set)| *set) {
            let message = if jsonata {
                format!("The field '{field}' is not supported in JSONata states")
            } else {
                format!("The field '{field}' is supported only in JSONata states")
            };
            self.diag("SCHEMA_VALIDATION_FAILED", &site.at(field), message);
        }
        let next = if c.terminal_kind {
            Transition::End
        } else {
            match (c.next, c.end) {
                (Some(_), Some(true)) => {
                    self.diag("SCHEMA_VALIDATION_FAILED", loc, "A state cannot have both 'Next' and 'End'");
                    Transition::End
                }
                (Some(n), _) => Transition::Next(self.target(site.index, n, &site.at("Next"))),
                (None, Some(true)) => Transition::End,
                (None, _) => {
                    self.diag("SCHEMA_VALIDATION_FAILED", loc, "A state must have either 'Next' or 'End': true");
                    Transition::End
                }
            }
        };
        let retriers = c.retry.map(Vec::as_slice).unwrap_or_default();
        let retry = retriers
            .iter()
            .enumerate()
            .map(|(i, r)| self.retrier(r, &format!("{loc}/Retry/{i}"), i + 1 == retriers.len()))
            .collect();
        let catchers = c.catch.map(Vec::as_slice).unwrap_or_default();
        let catch = catchers
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let cloc = format!("{loc}/Catch/{i}");
                self.error_list(&k.error_equals, &format!("{cloc}/ErrorEquals"), i + 1 == catchers.len());
                let next = self.target(site.index, &k.next, &format!("{cloc}/Next"));
                let result_path = self.result_path(k.result_path.as_ref(), &format!("{cloc}/ResultPath"));
                let io = self.branch_io(ql, k.assign.as_ref(), k.output.as_ref(), &cloc);
                let io = match io {
                    BranchIo::JsonPath { assign, .. } => BranchIo::JsonPath { assign, result_path },
                    jsonata => jsonata,
                };
                Catcher { errors: k.error_equals.clone(), next, io }
            })
            .collect();
        let io = if jsonata {
            StateIo::Jsonata(JsonataIo {
                arguments: self.jtemplate(c.arguments, &site.at("Arguments")),
                output: self.jtemplate(c.output, &site.at("Output")),
                assign: self.jtemplate(c.assign, &site.at("Assign")),
            })
        } else {
            // Assign is checked first, so its problems are listed first (golden files rely on it).
            let assign = self.assign_template(c.assign, &site.at("Assign"));
            StateIo::JsonPath(JsonPathIo {
                assign,
                input_path: self.path_opt(c.input_path, &site.at("InputPath")),
                parameters: self.template(c.parameters, &site.at("Parameters")),
                result_selector: self.template(c.result_selector, &site.at("ResultSelector")),
                result_path: self.result_path(c.result_path, &site.at("ResultPath")),
                output_path: self.path_opt(c.output_path, &site.at("OutputPath")),
            })
        };
        Common { id: site.id.to_owned(), name: site.name.to_owned(), io, retry, catch, next }
    }

    /// The `Assign` and `Output` of a Choice rule or a catcher at `loc`, in `ql`.
    pub(crate) fn branch_io(
        &mut self,
        ql: QueryLanguage,
        assign: Option<&Value>,
        output: Option<&Value>,
        loc: &str,
    ) -> BranchIo {
        if ql == QueryLanguage::JSONata {
            BranchIo::Jsonata {
                assign: self.jtemplate(assign, &format!("{loc}/Assign")),
                output: self.jtemplate(output, &format!("{loc}/Output")),
            }
        } else {
            BranchIo::JsonPath {
                assign: self.assign_template(assign, &format!("{loc}/Assign")),
                result_path: ResultPath::Default,
            }
        }
    }

    fn retrier(&mut self, r: &model::Retrier, rloc: &str, last: bool) -> Retrier {
        self.error_list(&r.error_equals, &format!("{rloc}/ErrorEquals"), last);
        let backoff_rate = r.backoff_rate.unwrap_or(2.0);
        if backoff_rate < 1.0 {
            self.diag("SCHEMA_VALIDATION_FAILED", &format!("{rloc}/BackoffRate"), "BackoffRate must be at least 1.0");
        }
        if r.interval_seconds == Some(0) {
            self.diag(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{rloc}/IntervalSeconds"),
                "IntervalSeconds must be a positive integer",
            );
        }
        let full_jitter = match r.jitter_strategy.as_deref() {
            None | Some("NONE") => false,
            Some("FULL") => true,
            Some(other) => {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{rloc}/JitterStrategy"),
                    format!("Unknown JitterStrategy '{other}' (FULL or NONE)"),
                );
                false
            }
        };
        Retrier {
            errors: r.error_equals.clone(),
            interval_seconds: r.interval_seconds.unwrap_or(1),
            max_attempts: r.max_attempts.unwrap_or(3),
            backoff_rate,
            max_delay_seconds: r.max_delay_seconds,
            full_jitter,
        }
    }

    pub(crate) fn assign_template(&mut self, v: Option<&Value>, loc: &str) -> Option<Template> {
        let v = v?;
        if !v.is_object() {
            self.diag("SCHEMA_VALIDATION_FAILED", loc, "Assign must be a JSON object");
            return None;
        }
        template::check_renamed_keys(v, loc, &mut self.diags);
        // Compile every top-level field as a template so that `fields()` sees them all.
        let fields = v
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, val)| {
                let floc = format!("{loc}/{}", escape_pointer(k));
                match k.strip_suffix(".$") {
                    Some(name) => {
                        let t = match val.as_str().map(template::compile_expression) {
                            Some(Ok(t)) => t,
                            Some(Err(e)) => {
                                self.diag("INVALID_JSON_PATH", &floc, e);
                                Template::Literal(Value::Null)
                            }
                            None => {
                                self.diag(
                                    "SCHEMA_VALIDATION_FAILED",
                                    &floc,
                                    format!("The value for the field '{k}' must be a string"),
                                );
                                Template::Literal(Value::Null)
                            }
                        };
                        (name.to_owned(), t)
                    }
                    None => (k.clone(), Template::compile(val, &floc, &mut self.diags)),
                }
            })
            .collect();
        Some(Template::Object(fields))
    }

    /// A number field given as `field` (literal, or an expression in JSONata) or `{field}Path`;
    /// `own` is the state's `QueryLanguage`.
    pub(crate) fn num_source(
        &mut self,
        site: &Site<'_>,
        own: Option<QueryLanguage>,
        fixed: Option<&Value>,
        path: Option<&String>,
        field: &str,
    ) -> Option<NumSource> {
        let (loc, jsonata) = (site.loc, site.ql(own) == QueryLanguage::JSONata);
        match (fixed, path) {
            (Some(_), Some(_)) => {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    loc,
                    format!("'{field}' and '{field}Path' are mutually exclusive"),
                );
                None
            }
            (Some(v), None) => {
                if jsonata && v.is_string() {
                    return Some(NumSource::Expr(JTemplate::compile(v, &format!("{loc}/{field}"), &mut self.diags)));
                }
                let (ok, what) = match field {
                    "TimeoutSeconds" | "HeartbeatSeconds" => (v.as_u64().is_some_and(|n| n > 0), "a positive integer"),
                    "ToleratedFailurePercentage" => {
                        (v.as_f64().is_some_and(|f| (0.0..=100.0).contains(&f)), "a number from 0 to 100")
                    }
                    _ => (v.as_u64().is_some(), "a non-negative integer"),
                };
                if !ok {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{loc}/{field}"),
                        format!("'{field}' must be {what}"),
                    );
                }
                Some(NumSource::Fixed(v.clone()))
            }
            (None, Some(p)) => {
                if jsonata {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{loc}/{field}Path"),
                        format!("The field '{field}Path' is not supported in JSONata states"),
                    );
                }
                self.path(p, &format!("{loc}/{field}Path"), true).map(NumSource::Path)
            }
            (None, None) => None,
        }
    }

    /// A string field given as `field` (literal, or an expression in JSONata) or `{field}Path`
    /// (a path or an intrinsic); `own` is the state's `QueryLanguage`.
    pub(crate) fn str_source(
        &mut self,
        site: &Site<'_>,
        own: Option<QueryLanguage>,
        literal: Option<&String>,
        path: Option<&String>,
        field: &str,
    ) -> Option<StrSource> {
        let (loc, jsonata) = (site.loc, site.ql(own) == QueryLanguage::JSONata);
        match (literal, path) {
            (Some(_), Some(_)) => {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    loc,
                    format!("'{field}' and '{field}Path' are mutually exclusive"),
                );
                None
            }
            (Some(s), None) if jsonata && s.trim_start().starts_with("{%") => Some(StrSource::Expr(
                JTemplate::compile(&Value::String(s.clone()), &format!("{loc}/{field}"), &mut self.diags),
            )),
            (Some(s), None) => Some(StrSource::Literal(s.clone())),
            (None, Some(p)) => {
                let ploc = format!("{loc}/{field}Path");
                if intrinsics::looks_like_call(p) {
                    match Call::parse(p) {
                        Ok(c) => Some(StrSource::Call(c)),
                        Err(e) => {
                            self.diag("INVALID_JSON_PATH", &ploc, e);
                            None
                        }
                    }
                } else {
                    self.path(p, &ploc, true).map(StrSource::Path)
                }
            }
            (None, None) => None,
        }
    }
}
