//! The compiled state machine: every state of a definition, top level and nested, in one table
//! indexed by the transitions, built once per definition and shared through `Arc`.
//!
//! This is where the pieces meet: [`crate::compile`] compiles what states share, each state
//! type its own fields (`states/`), and the [`Builder`] here walks the definition's scopes (the
//! top level, each Parallel branch, each Map processor) to put them in order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::{Deref, DerefMut};

use serde_json::{Map, Value, json};

use crate::compile::{Compiler, Site, definition_from_value, parse_definition};
use crate::diagnostic::{Diagnostic, escape_pointer};
use crate::error::{Error, Result};
use crate::ir::{Common, Retrier, StrSource, Transition};
use crate::model::{self, QueryLanguage, StateMachineDefinition, SubMachine};
use crate::states::{self, Kind};

/// One compiled state: what every state has ([`Common`], reached through `Deref`) and what its
/// type adds ([`Kind`]).
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub(crate) common: Common,
    pub(crate) kind: Kind,
}

impl State {
    /// Indices of every state this one can transition to.
    pub(crate) fn targets(&self) -> impl Iterator<Item = usize> + '_ {
        let next = match self.next {
            Transition::Next(i) => Some(i),
            Transition::End => None,
        };
        next.into_iter().chain(self.kind.targets()).chain(self.catch.iter().map(|c| c.next))
    }
}

impl Deref for State {
    type Target = Common;

    fn deref(&self) -> &Common {
        &self.common
    }
}

/// A validated, compiled state machine.
///
/// Build it once per definition with [`StateMachine::from_json`] or [`compile`](crate::compile) and
/// share it (`Arc<StateMachine>`) between all executions of that definition.
#[derive(Debug)]
pub struct StateMachine {
    pub(crate) states: Vec<State>,
    pub(crate) start: usize,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) comment: Option<String>,
    pub(crate) query_language: QueryLanguage,
}

/// Read-only view of one compiled state, for graphs and diagnostics.
#[derive(Clone, Debug)]
pub struct StateInfo<'a> {
    /// Qualified id: `Name` at the top level, `Parallel/1/Name` inside branch 1 of `Parallel`,
    /// `Map/Name` inside the processor of `Map`.
    pub id: &'a str,
    /// The state's own name.
    pub name: &'a str,
    /// `Pass`, `Task`, `Choice`, `Wait`, `Succeed`, `Fail`, `Parallel` or `Map`.
    pub state_type: &'static str,
    /// Qualified ids of the states this one can go to (Next, Choice targets, Catch targets).
    pub transitions: Vec<&'a str>,
    /// A Fail state's `Error`, when it is given literally rather than by a path or expression.
    pub fail_error: Option<&'a str>,
    /// A Fail state's `Cause`, likewise.
    pub fail_cause: Option<&'a str>,
}

impl StateMachine {
    /// The qualified id of the top-level start state.
    pub fn start_at(&self) -> &str {
        self.states.get(self.start).map_or("", |s| s.id.as_str())
    }

    /// Every state, top level and nested, in a stable order (each scope breadth-first from its
    /// start state).
    pub fn states(&self) -> impl Iterator<Item = StateInfo<'_>> {
        fn literal(source: &Option<StrSource>) -> Option<&str> {
            match source {
                Some(StrSource::Literal(text)) => Some(text.as_str()),
                _ => None,
            }
        }
        self.states.iter().map(move |s| {
            let fail = match &s.kind {
                Kind::Fail(fail) => Some(fail),
                _ => None,
            };
            StateInfo {
                id: &s.id,
                name: &s.name,
                state_type: s.kind.type_name(),
                transitions: s.targets().filter_map(|i| self.states.get(i)).map(|t| t.id.as_str()).collect(),
                fail_error: fail.and_then(|fail| literal(&fail.error)),
                fail_cause: fail.and_then(|fail| literal(&fail.cause)),
            }
        })
    }

    /// The machine-level `TimeoutSeconds`.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.timeout_seconds
    }

    /// The machine's default query language.
    pub fn query_language(&self) -> QueryLanguage {
        self.query_language
    }

    /// The top-level `Comment`.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    pub(crate) fn state(&self, idx: usize) -> Option<&State> {
        self.states.get(idx)
    }

    /// A stable JSON summary of the compiled machine: its shape, not its payload processing.
    ///
    /// Meant for golden-file tests and for the console's graph. The result looks like
    ///
    /// ```json
    /// {"startAt": "Charge", "queryLanguage": "JSONPath", "timeoutSeconds": 300, "states": [
    ///   {"id": "Charge", "type": "Task", "resource": "wasm:charge", "next": "Ship",
    ///    "retry": [{"errorEquals": ["States.Timeout"], "intervalSeconds": 1, "maxAttempts": 3, "backoffRate": 2.0}],
    ///    "catch": [{"errorEquals": ["States.ALL"], "next": "Refund", "resultPath": "$.error"}]},
    ///   {"id": "Fulfil", "type": "Parallel", "branches": ["Fulfil/0/Pack", "Fulfil/1/Notify"], "end": true},
    ///   {"id": "Each", "type": "Map", "processor": "Each/Item", "mode": "INLINE", "end": true},
    ///   {"id": "Route", "type": "Choice", "choices": ["Ship", "Hold"],
    ///    "rules": ["$.paid == true", "$.hold is present"], "default": "Ship"}
    /// ]}
    /// ```
    ///
    /// States are listed in the order of [`StateMachine::states`] and named by qualified id.
    /// `next` / `end` is the state's own transition (Choice, Succeed and Fail have neither);
    /// Choice lists the target of each rule in order and, under `rules`, each rule as text;
    /// Parallel lists the start state of each branch and Map the start state of its processor.
    /// Retriers show their effective values, defaults included. Optional keys are left out rather than set to `null`, except a catcher's
    /// `resultPath`, where `null` means the error output is discarded.
    pub fn describe(&self) -> Value {
        let mut out = Map::new();
        out.insert("startAt".into(), self.start_at().into());
        out.insert("queryLanguage".into(), json!(self.query_language));
        if let Some(t) = self.timeout_seconds {
            out.insert("timeoutSeconds".into(), t.into());
        }
        out.insert("states".into(), self.states.iter().map(|s| self.describe_state(s)).collect());
        Value::Object(out)
    }

    /// The qualified id of the state at `idx`, as JSON.
    pub(crate) fn id_value(&self, idx: usize) -> Value {
        self.states.get(idx).map_or(Value::Null, |s| Value::from(s.id.as_str()))
    }

    fn describe_state(&self, s: &State) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), s.id.as_str().into());
        o.insert("type".into(), s.kind.type_name().into());
        let ql = s.io.query_language();
        if ql != self.query_language {
            o.insert("queryLanguage".into(), json!(ql));
        }
        s.kind.describe(self, &mut o);
        match s.next {
            Transition::Next(n) => {
                o.insert("next".into(), self.id_value(n));
            }
            // Choice, Succeed and Fail end (or branch) by their nature, not by `"End": true`.
            Transition::End if !matches!(s.kind, Kind::Choice(_) | Kind::Succeed | Kind::Fail(_)) => {
                o.insert("end".into(), true.into());
            }
            Transition::End => {}
        }
        if !s.retry.is_empty() {
            o.insert("retry".into(), s.retry.iter().map(Retrier::describe).collect());
        }
        if !s.catch.is_empty() {
            o.insert("catch".into(), s.catch.iter().map(|c| c.describe(self.id_value(c.next))).collect());
        }
        Value::Object(o)
    }
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

/// Validates an authoring-model definition and compiles it into a [`StateMachine`], returning
/// every problem at once.
pub fn compile(def: &StateMachineDefinition) -> Result<StateMachine, Vec<Diagnostic>> {
    let ql = def.query_language.unwrap_or(QueryLanguage::JSONPath);
    let mut b =
        Builder { compiler: Compiler { diags: Vec::new(), machine_ql: ql, names: HashMap::new() }, states: Vec::new() };
    let start = b.scope(&def.start_at, &def.states, "", "", ql);
    if !b.compiler.diags.is_empty() {
        return Err(b.compiler.diags);
    }
    let states: Option<Vec<State>> = b.states.into_iter().collect();
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

/// Builds the state table: the [`Compiler`]'s tools (through `Deref`) plus the states compiled
/// so far, each scope's states placed together in the order they are reached.
pub(crate) struct Builder {
    compiler: Compiler,
    states: Vec<Option<State>>,
}

impl Deref for Builder {
    type Target = Compiler;

    fn deref(&self) -> &Compiler {
        &self.compiler
    }
}

impl DerefMut for Builder {
    fn deref_mut(&mut self) -> &mut Compiler {
        &mut self.compiler
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

impl Builder {
    /// Compiles a Parallel branch or a Map processor; returns the index of its start state.
    pub(crate) fn sub_scope(&mut self, sub: &SubMachine, prefix: &str, loc: &str, ql: QueryLanguage) -> usize {
        self.scope(&sub.start_at, &sub.states, prefix, loc, ql)
    }

    pub(crate) fn scope(
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
            let site = Site { name, id: &id, loc: &sloc, index: &index, scope_ql: ql };
            let state = states::compile(self, &site, model_state);
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
