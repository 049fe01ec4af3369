//! Validation and compilation: authoring model → [`StateMachine`] IR, reporting every problem at once.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;

mod schema;
mod states;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ir::{
    Catcher, JsonataSpec, Kind, NumSource, PathOpt, ResultPath, Retrier, State, StateMachine, StrSource, Transition,
};
use crate::jsonata_states::JTemplate;
use crate::jsonpath::{Path, Root};
use crate::model::{self, QueryLanguage, StateMachineDefinition};
use crate::payload::Template;

/// One problem found in a definition.
///
/// `code` follows AWS `ValidateStateMachineDefinition` where a matching code is known
/// (`SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET` — which AWS also uses for unreachable
/// states —, `DUPLICATE_STATE_NAME`, `INVALID_JSON_DESCRIPTION`, …); `location` is a JSON pointer
/// into the definition (`/States/Charge/Next`), pointing at the field to fix wherever possible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Machine-readable problem class.
    pub code: String,
    /// JSON pointer to the offending field (`""` for the whole document).
    pub location: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(code: &str, location: &str, message: impl Into<String>) -> Self {
        Diagnostic { code: code.to_owned(), location: location.to_owned(), message: message.into() }
    }
}

/// Formatted like statelint: `<location>: <message>`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = if self.location.is_empty() { "/" } else { &self.location };
        write!(f, "{loc}: {}", self.message)
    }
}

pub(crate) type Diagnostics = Vec<Diagnostic>;

/// Escapes a key for use in a JSON pointer.
pub(crate) fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

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

/// Lists every problem in a definition given as JSON text; empty when it is valid.
pub fn validate(text: &str) -> Vec<Diagnostic> {
    match parse_definition(text) {
        Ok(def) => compile(&def).err().unwrap_or_default(),
        Err(diags) => diags,
    }
}

impl StateMachine {
    /// Parses, validates and compiles a definition given as JSON text.
    pub fn from_json(text: &str) -> Result<StateMachine> {
        let def = parse_definition(text).map_err(Error::InvalidDefinition)?;
        compile(&def).map_err(Error::InvalidDefinition)
    }

    /// Parses, validates and compiles a definition given as a JSON value.
    pub fn from_value(value: &Value) -> Result<StateMachine> {
        let def = definition_from_value(value).map_err(Error::InvalidDefinition)?;
        compile(&def).map_err(Error::InvalidDefinition)
    }
}

/// Validates an authoring-model definition and compiles it into the IR, returning all problems.
pub fn compile(def: &StateMachineDefinition) -> Result<StateMachine, Vec<Diagnostic>> {
    let ql = def.query_language.unwrap_or(QueryLanguage::JSONPath);
    let mut c = Compiler { states: Vec::new(), diags: Vec::new(), machine_ql: ql, names: HashMap::new() };
    let start = c.scope(&def.start_at, &def.states, "", "", ql);
    if !c.diags.is_empty() {
        return Err(c.diags);
    }
    let states: Option<Vec<State>> = c.states.into_iter().collect();
    match states {
        Some(states) => Ok(StateMachine {
            states,
            start,
            timeout_seconds: def.timeout_seconds,
            comment: def.comment.clone(),
            query_language: ql,
        }),
        None => Err(vec![Diagnostic::new("SCHEMA_VALIDATION_FAILED", "", "internal: a state was not compiled")]),
    }
}

fn model_targets(s: &model::State) -> Vec<&str> {
    let mut out = Vec::new();
    let (next, catch) = match s {
        model::State::Pass(p) => (p.next.as_deref(), None),
        model::State::Task(t) => (t.next.as_deref(), t.catch.as_ref()),
        model::State::Wait(w) => (w.next.as_deref(), None),
        model::State::Parallel(p) => (p.next.as_deref(), p.catch.as_ref()),
        model::State::Map(m) => (m.next.as_deref(), m.catch.as_ref()),
        model::State::Choice(c) => {
            out.extend(c.choices.iter().filter_map(|r| r.next.as_deref()));
            out.extend(c.default.as_deref());
            (None, None)
        }
        model::State::Succeed(_) | model::State::Fail(_) => (None, None),
    };
    out.extend(next);
    out.extend(catch.into_iter().flatten().map(|c| c.next.as_str()));
    out
}

struct Compiler {
    states: Vec<Option<State>>,
    diags: Diagnostics,
    machine_ql: QueryLanguage,
    /// Every state name seen so far, in any scope, with its location: names are unique in the
    /// whole machine.
    names: HashMap<String, String>,
}

/// Fields shared by most state types, borrowed from the model.
#[derive(Default)]
struct Common<'a> {
    input_path: Option<&'a Option<String>>,
    output_path: Option<&'a Option<String>>,
    result_path: Option<&'a Option<String>>,
    parameters: Option<&'a Value>,
    result_selector: Option<&'a Value>,
    assign: Option<&'a Value>,
    arguments: Option<&'a Value>,
    output: Option<&'a Value>,
    retry: Option<&'a Vec<model::Retrier>>,
    catch: Option<&'a Vec<model::Catcher>>,
    next: Option<&'a str>,
    end: Option<bool>,
    terminal_kind: bool,
    query_language: Option<QueryLanguage>,
}

impl Compiler {
    fn diag(&mut self, code: &str, loc: &str, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(code, loc, msg));
    }

    fn scope(
        &mut self,
        start_at: &str,
        states: &BTreeMap<String, model::State>,
        prefix: &str,
        loc: &str,
        ql: QueryLanguage,
    ) -> usize {
        if states.is_empty() {
            self.diag("SCHEMA_VALIDATION_FAILED", &format!("{loc}/States"), "At least one state is required");
            return 0;
        }
        let mut order: Vec<&str> = Vec::new();
        let mut seen: HashMap<&str, ()> = HashMap::new();
        let mut queue = VecDeque::new();
        if states.contains_key(start_at) {
            queue.push_back(start_at);
            seen.insert(start_at, ());
        } else {
            self.diag(
                "MISSING_TRANSITION_TARGET",
                &format!("{loc}/StartAt"),
                format!("Missing 'Next' target: {start_at}"),
            );
        }
        while let Some(name) = queue.pop_front() {
            order.push(name);
            if let Some(s) = states.get(name) {
                for t in model_targets(s) {
                    if states.contains_key(t) && seen.insert(t, ()).is_none() {
                        queue.push_back(t);
                    }
                }
            }
        }
        for name in states.keys() {
            let sloc = format!("{loc}/States/{}", escape_pointer(name));
            match self.names.get(name) {
                Some(first) => {
                    let msg = format!("Duplicate State name: {name} (first defined at {first})");
                    self.diag("DUPLICATE_STATE_NAME", &sloc, msg);
                }
                None => {
                    self.names.insert(name.clone(), sloc);
                }
            }
        }
        // Reported after the reachable states' own problems, as AWS does.
        let unreachable: Vec<&str> =
            states.keys().map(String::as_str).filter(|name| !seen.contains_key(name)).collect();
        order.extend(&unreachable);
        let base = self.states.len();
        let index: HashMap<&str, usize> = order.iter().enumerate().map(|(i, n)| (*n, base + i)).collect();
        self.states.extend(order.iter().map(|_| None));
        for name in &order {
            let Some(model_state) = states.get(*name) else {
                continue;
            };
            let sloc = format!("{loc}/States/{}", escape_pointer(name));
            if name.chars().count() > 80 {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &sloc,
                    format!("State name '{name}' is longer than 80 characters"),
                );
            }
            let id = format!("{prefix}{name}");
            let state = self.state(name, &id, model_state, &index, &sloc, ql);
            if let Some(slot) = index.get(name).and_then(|&i| self.states.get_mut(i)) {
                *slot = Some(state);
            }
        }
        for name in unreachable {
            // AWS reports unreachable states under MISSING_TRANSITION_TARGET, worded like this.
            self.diag(
                "MISSING_TRANSITION_TARGET",
                &format!("{loc}/States/{}", escape_pointer(name)),
                format!("State \"{name}\" is not reachable."),
            );
        }
        index.get(start_at).copied().unwrap_or(base)
    }

    fn target(&mut self, index: &HashMap<&str, usize>, name: &str, loc: &str) -> usize {
        match index.get(name) {
            Some(&i) => i,
            None => {
                self.diag("MISSING_TRANSITION_TARGET", loc, format!("Missing 'Next' target: {name}"));
                usize::MAX
            }
        }
    }

    fn path(&mut self, text: &str, loc: &str, allow_context: bool) -> Option<Path> {
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

    fn path_opt(&mut self, field: Option<&Option<String>>, loc: &str) -> PathOpt {
        match field {
            None => PathOpt::Default,
            Some(None) => PathOpt::Null,
            Some(Some(text)) => self.path(text, loc, true).map_or(PathOpt::Default, PathOpt::Path),
        }
    }

    fn result_path(&mut self, field: Option<&Option<String>>, loc: &str) -> ResultPath {
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

    fn template(&mut self, v: Option<&Value>, loc: &str) -> Option<Template> {
        v.map(|v| Template::compile(v, loc, &mut self.diags))
    }

    fn jtemplate(&mut self, v: Option<&Value>, loc: &str) -> Option<JTemplate> {
        v.map(|v| JTemplate::compile(v, loc, &mut self.diags))
    }

    fn error_list(&mut self, errors: &[String], loc: &str, last: bool) {
        if errors.is_empty() {
            self.diag("SCHEMA_VALIDATION_FAILED", loc, "ErrorEquals must list at least one error name");
        }
        if errors.iter().any(|e| e == "States.ALL") {
            if errors.len() != 1 {
                self.diag("SCHEMA_VALIDATION_FAILED", loc, "States.ALL must appear alone in ErrorEquals");
            }
            if !last {
                self.diag("SCHEMA_VALIDATION_FAILED", loc, "A Retrier or Catcher with States.ALL must be the last one");
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn common(
        &mut self,
        name: &str,
        id: &str,
        c: &Common<'_>,
        kind: Kind,
        index: &HashMap<&str, usize>,
        loc: &str,
        ql: QueryLanguage,
    ) -> State {
        let ql = match c.query_language {
            Some(QueryLanguage::JSONPath) if self.machine_ql == QueryLanguage::JSONata => {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{loc}/QueryLanguage"),
                    "A JSONata state machine cannot use JSONPath in a state",
                );
                ql
            }
            Some(q) => q,
            None => ql,
        };
        let jsonata = ql == QueryLanguage::JSONata;
        if jsonata {
            for (field, set) in [
                ("InputPath", c.input_path.is_some()),
                ("OutputPath", c.output_path.is_some()),
                ("ResultPath", c.result_path.is_some()),
                ("Parameters", c.parameters.is_some()),
                ("ResultSelector", c.result_selector.is_some()),
            ] {
                if set {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{loc}/{field}"),
                        format!("The field '{field}' is not supported in JSONata states"),
                    );
                }
            }
        } else {
            for (field, set) in [("Arguments", c.arguments.is_some()), ("Output", c.output.is_some())] {
                if set {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{loc}/{field}"),
                        format!("The field '{field}' is supported only in JSONata states"),
                    );
                }
            }
        }
        let next = if c.terminal_kind {
            Transition::End
        } else {
            match (c.next, c.end) {
                (Some(_), Some(true)) => {
                    self.diag("SCHEMA_VALIDATION_FAILED", loc, "A state cannot have both 'Next' and 'End'");
                    Transition::End
                }
                (Some(n), _) => Transition::Next(self.target(index, n, &format!("{loc}/Next"))),
                (None, Some(true)) => Transition::End,
                (None, _) if matches!(kind, Kind::Choice(_)) => Transition::End,
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
            .map(|(i, r)| {
                let rloc = format!("{loc}/Retry/{i}");
                self.error_list(&r.error_equals, &format!("{rloc}/ErrorEquals"), i + 1 == retriers.len());
                let backoff_rate = r.backoff_rate.unwrap_or(2.0);
                if backoff_rate < 1.0 {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{rloc}/BackoffRate"),
                        "BackoffRate must be at least 1.0",
                    );
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
            })
            .collect();
        let catchers = c.catch.map(Vec::as_slice).unwrap_or_default();
        let catch = catchers
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let cloc = format!("{loc}/Catch/{i}");
                self.error_list(&k.error_equals, &format!("{cloc}/ErrorEquals"), i + 1 == catchers.len());
                let next = self.target(index, &k.next, &format!("{cloc}/Next"));
                let result_path = self.result_path(k.result_path.as_ref(), &format!("{cloc}/ResultPath"));
                let (assign, jsonata_assign, jsonata_output) = if jsonata {
                    (
                        None,
                        self.jtemplate(k.assign.as_ref(), &format!("{cloc}/Assign")),
                        self.jtemplate(k.output.as_ref(), &format!("{cloc}/Output")),
                    )
                } else {
                    (self.template(k.assign.as_ref(), &format!("{cloc}/Assign")), None, None)
                };
                Catcher { errors: k.error_equals.clone(), next, result_path, assign, jsonata_assign, jsonata_output }
            })
            .collect();
        let (assign, jsonata_spec) = if jsonata {
            let spec = JsonataSpec {
                arguments: self.jtemplate(c.arguments, &format!("{loc}/Arguments")),
                output: self.jtemplate(c.output, &format!("{loc}/Output")),
                assign: self.jtemplate(c.assign, &format!("{loc}/Assign")),
            };
            (None, Some(spec))
        } else {
            (self.assign_template(c.assign, &format!("{loc}/Assign")), None)
        };
        State {
            id: id.to_owned(),
            name: name.to_owned(),
            jsonata: jsonata_spec,
            input_path: self.path_opt(c.input_path, &format!("{loc}/InputPath")),
            output_path: self.path_opt(c.output_path, &format!("{loc}/OutputPath")),
            result_path: self.result_path(c.result_path, &format!("{loc}/ResultPath")),
            parameters: self.template(c.parameters, &format!("{loc}/Parameters")),
            result_selector: self.template(c.result_selector, &format!("{loc}/ResultSelector")),
            assign,
            retry,
            catch,
            next,
            kind,
        }
    }

    fn assign_template(&mut self, v: Option<&Value>, loc: &str) -> Option<Template> {
        let v = v?;
        if !v.is_object() {
            self.diag("SCHEMA_VALIDATION_FAILED", loc, "Assign must be a JSON object");
            return None;
        }
        crate::payload::check_renamed_keys(v, loc, &mut self.diags);
        // Compile every top-level field as a template so that `fields()` sees them all.
        let fields = v
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, val)| {
                let floc = format!("{loc}/{}", escape_pointer(k));
                match k.strip_suffix(".$") {
                    Some(name) => {
                        let t = match val.as_str().map(crate::payload::compile_expression) {
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

    fn num_source(
        &mut self,
        fixed: Option<&Value>,
        path: Option<&String>,
        field: &str,
        loc: &str,
        jsonata: bool,
    ) -> Option<NumSource> {
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
                    return Some(NumSource::Jsonata(JTemplate::compile(v, &format!("{loc}/{field}"), &mut self.diags)));
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

    fn str_source(
        &mut self,
        literal: Option<&String>,
        path: Option<&String>,
        field: &str,
        loc: &str,
        jsonata: bool,
    ) -> Option<StrSource> {
        match (literal, path) {
            (Some(_), Some(_)) => {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    loc,
                    format!("'{field}' and '{field}Path' are mutually exclusive"),
                );
                None
            }
            (Some(s), None) if jsonata && s.trim_start().starts_with("{%") => Some(StrSource::Jsonata(
                JTemplate::compile(&Value::String(s.clone()), &format!("{loc}/{field}"), &mut self.diags),
            )),
            (Some(s), None) => Some(StrSource::Literal(s.clone())),
            (None, Some(p)) => {
                let ploc = format!("{loc}/{field}Path");
                if crate::intrinsics::looks_like_call(p) {
                    match crate::intrinsics::Call::parse(p) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<(String, String)> {
        validate(text).into_iter().map(|d| (d.code, d.location)).collect()
    }

    #[test]
    fn valid_definitions_compile_with_qualified_ids() {
        let sm = StateMachine::from_json(
            r#"{"StartAt":"P","Version":"1.0","States":{
                "P":{"Type":"Parallel","Next":"M","Branches":[
                    {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
                    {"StartAt":"B","States":{"B":{"Type":"Succeed"}}}]},
                "M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}}}}"#,
        )
        .unwrap();
        let ids: Vec<&str> = sm.states().map(|s| s.id).collect();
        assert_eq!(ids, ["P", "M", "P/0/A", "P/1/B", "M/I"]);
        assert_eq!(sm.start_at(), "P");
        assert_eq!(sm.states().next().unwrap().transitions, ["M"]);
    }

    #[test]
    fn reports_all_problems_at_once() {
        let got = codes(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Next":"Nope"},
                "B":{"Type":"Pass"},
                "C":{"Type":"Choice","Choices":[]},
                "D":{"Type":"Task","End":true,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]},
                "E":{"Type":"Map","End":true},
                "F":{"Type":"Pass","End":true,"InputPath":"bad"}}}"#,
        );
        let has = |code: &str, loc: &str| got.iter().any(|(c, l)| c == code && l == loc);
        assert!(has("MISSING_TRANSITION_TARGET", "/States/A/Next"), "{got:?}");
        assert!(has("MISSING_TRANSITION_TARGET", "/States/B"), "{got:?}");
        assert!(has("SCHEMA_VALIDATION_FAILED", "/States/B"), "{got:?}");
        assert!(has("SCHEMA_VALIDATION_FAILED", "/States/C/Choices"), "{got:?}");
        assert!(has("SCHEMA_VALIDATION_FAILED", "/States/D/Resource"), "{got:?}");
        assert!(has("SCHEMA_VALIDATION_FAILED", "/States/D/Retry/0/ErrorEquals"), "{got:?}");
        assert!(has("SCHEMA_VALIDATION_FAILED", "/States/E"), "{got:?}");
        assert!(has("INVALID_JSON_PATH", "/States/F/InputPath"), "{got:?}");
    }

    #[test]
    fn schema_and_json_errors() {
        let got = codes(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Bogus":1},"B":{"Type":"Nope"}}}"#);
        assert!(got.contains(&("SCHEMA_VALIDATION_FAILED".into(), "/States/A/Bogus".into())), "{got:?}");
        assert!(got.contains(&("SCHEMA_VALIDATION_FAILED".into(), "/States/B/Type".into())), "{got:?}");
        let d = validate("{not json");
        assert_eq!(d[0].code, "INVALID_JSON_DESCRIPTION");
        assert!(d[0].to_string().starts_with("/: "));
    }
}
