//! Compilation of each state type (continuation of the `Compiler` in the parent module).

use std::collections::HashMap;

use serde_json::Value;

use super::{Common, Compiler};
use crate::ir::{ChoiceBranch, ChoiceSpec, FailSpec, Kind, MapSpec, NumSource, State, TaskSpec, WaitSpec};
use crate::jsonata_states::JTemplate;
use crate::model::{self, QueryLanguage, SubMachine};
use crate::states::choice;
use crate::states::task::TaskResource;
use crate::timestamp::Timestamp;

impl Compiler {
    fn sub_scope(&mut self, sub: &SubMachine, prefix: &str, loc: &str, ql: QueryLanguage) -> usize {
        self.scope(&sub.start_at, &sub.states, prefix, loc, ql)
    }

    pub(super) fn state(
        &mut self,
        name: &str,
        id: &str,
        s: &model::State,
        index: &HashMap<&str, usize>,
        loc: &str,
        scope_ql: QueryLanguage,
    ) -> State {
        let state_ql = |q: Option<QueryLanguage>| q.unwrap_or(scope_ql);
        match s {
            model::State::Pass(p) => {
                let c = Common {
                    input_path: p.input_path.as_ref(),
                    output_path: p.output_path.as_ref(),
                    result_path: p.result_path.as_ref(),
                    parameters: p.parameters.as_ref(),
                    assign: p.assign.as_ref(),
                    output: p.output.as_ref(),
                    next: p.next.as_deref(),
                    end: p.end,
                    query_language: p.query_language,
                    ..Common::default()
                };
                self.common(
                    name,
                    id,
                    &c,
                    Kind::Pass { result: p.result.clone().map(std::sync::Arc::new) },
                    index,
                    loc,
                    scope_ql,
                )
            }
            model::State::Task(t) => {
                let jsonata = state_ql(t.query_language) == QueryLanguage::JSONata;
                let resource = match t.resource.as_deref() {
                    None => {
                        self.diag(
                            "SCHEMA_VALIDATION_FAILED",
                            &format!("{loc}/Resource"),
                            "A Task state requires a 'Resource'",
                        );
                        TaskResource::Other(String::new())
                    }
                    Some(r) => TaskResource::parse(r).unwrap_or_else(|e| {
                        self.diag("INVALID_RESOURCE", &format!("{loc}/Resource"), e);
                        TaskResource::Other(r.to_owned())
                    }),
                };
                let timeout = self.num_source(
                    t.timeout_seconds.as_ref(),
                    t.timeout_seconds_path.as_ref(),
                    "TimeoutSeconds",
                    loc,
                    jsonata,
                );
                let heartbeat = self.num_source(
                    t.heartbeat_seconds.as_ref(),
                    t.heartbeat_seconds_path.as_ref(),
                    "HeartbeatSeconds",
                    loc,
                    jsonata,
                );
                if let (Some(NumSource::Fixed(beat)), Some(NumSource::Fixed(limit))) = (&heartbeat, &timeout)
                    && let (Some(beat), Some(limit)) = (beat.as_u64(), limit.as_u64())
                    && beat >= limit
                {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{loc}/HeartbeatSeconds"),
                        format!("HeartbeatSeconds ({beat}) must be smaller than TimeoutSeconds ({limit})"),
                    );
                }
                let c = Common {
                    input_path: t.input_path.as_ref(),
                    output_path: t.output_path.as_ref(),
                    result_path: t.result_path.as_ref(),
                    parameters: t.parameters.as_ref(),
                    result_selector: t.result_selector.as_ref(),
                    assign: t.assign.as_ref(),
                    arguments: t.arguments.as_ref(),
                    output: t.output.as_ref(),
                    retry: t.retry.as_ref(),
                    catch: t.catch.as_ref(),
                    next: t.next.as_deref(),
                    end: t.end,
                    query_language: t.query_language,
                    ..Common::default()
                };
                self.common(name, id, &c, Kind::Task(TaskSpec { resource, timeout, heartbeat }), index, loc, scope_ql)
            }
            model::State::Choice(ch) => {
                let ql = state_ql(ch.query_language);
                if ch.choices.is_empty() {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{loc}/Choices"),
                        "A Choice state must have at least one rule in 'Choices'",
                    );
                }
                let mut branches = Vec::new();
                for (i, rule) in ch.choices.iter().enumerate() {
                    let rloc = format!("{loc}/Choices/{i}");
                    let compiled = choice::compile_rule(rule, &rloc, ql, &mut self.diags);
                    let next = match rule.next.as_deref() {
                        Some(n) => self.target(index, n, &format!("{rloc}/Next")),
                        None => {
                            self.diag("SCHEMA_VALIDATION_FAILED", &rloc, "A Choice rule must have a 'Next'");
                            usize::MAX
                        }
                    };
                    let (assign, jsonata_assign, jsonata_output) = if ql == QueryLanguage::JSONata {
                        (
                            None,
                            self.jtemplate(rule.assign.as_ref(), &format!("{rloc}/Assign")),
                            self.jtemplate(rule.output.as_ref(), &format!("{rloc}/Output")),
                        )
                    } else {
                        (self.assign_template(rule.assign.as_ref(), &format!("{rloc}/Assign")), None, None)
                    };
                    branches.push(ChoiceBranch { rule: compiled, next, assign, jsonata_assign, jsonata_output });
                }
                let default = ch.default.as_deref().map(|d| self.target(index, d, &format!("{loc}/Default")));
                let c = Common {
                    input_path: ch.input_path.as_ref(),
                    output_path: ch.output_path.as_ref(),
                    assign: ch.assign.as_ref(),
                    output: ch.output.as_ref(),
                    terminal_kind: true,
                    query_language: ch.query_language,
                    ..Common::default()
                };
                self.common(name, id, &c, Kind::Choice(ChoiceSpec { branches, default }), index, loc, scope_ql)
            }
            model::State::Wait(w) => {
                let jsonata = state_ql(w.query_language) == QueryLanguage::JSONata;
                let set =
                    [w.seconds.is_some(), w.seconds_path.is_some(), w.timestamp.is_some(), w.timestamp_path.is_some()];
                if set.iter().filter(|b| **b).count() != 1 {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        loc,
                        "A Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
                    );
                }
                let spec = if w.seconds.is_some() || w.seconds_path.is_some() {
                    self.num_source(w.seconds.as_ref(), w.seconds_path.as_ref(), "Seconds", loc, jsonata)
                        .map(WaitSpec::Seconds)
                } else {
                    let literal = match &w.timestamp {
                        Some(Value::String(s)) => {
                            if !(jsonata && s.trim_start().starts_with("{%")) && Timestamp::parse_rfc3339(s).is_none() {
                                self.diag(
                                    "SCHEMA_VALIDATION_FAILED",
                                    &format!("{loc}/Timestamp"),
                                    format!("'{s}' is not an RFC 3339 timestamp"),
                                );
                            }
                            Some(s.clone())
                        }
                        Some(_) => {
                            self.diag(
                                "SCHEMA_VALIDATION_FAILED",
                                &format!("{loc}/Timestamp"),
                                "Timestamp must be a string",
                            );
                            None
                        }
                        None => None,
                    };
                    self.str_source(literal.as_ref(), w.timestamp_path.as_ref(), "Timestamp", loc, jsonata)
                        .map(WaitSpec::Timestamp)
                };
                let c = Common {
                    input_path: w.input_path.as_ref(),
                    output_path: w.output_path.as_ref(),
                    assign: w.assign.as_ref(),
                    output: w.output.as_ref(),
                    next: w.next.as_deref(),
                    end: w.end,
                    query_language: w.query_language,
                    ..Common::default()
                };
                let kind = Kind::Wait(spec.unwrap_or(WaitSpec::Seconds(NumSource::Fixed(Value::from(0)))));
                self.common(name, id, &c, kind, index, loc, scope_ql)
            }
            model::State::Succeed(s) => {
                let c = Common {
                    input_path: s.input_path.as_ref(),
                    output_path: s.output_path.as_ref(),
                    output: s.output.as_ref(),
                    terminal_kind: true,
                    query_language: s.query_language,
                    ..Common::default()
                };
                self.common(name, id, &c, Kind::Succeed, index, loc, scope_ql)
            }
            model::State::Fail(f) => {
                let jsonata = state_ql(f.query_language) == QueryLanguage::JSONata;
                let error = self.str_source(f.error.as_ref(), f.error_path.as_ref(), "Error", loc, jsonata);
                let cause = self.str_source(f.cause.as_ref(), f.cause_path.as_ref(), "Cause", loc, jsonata);
                let c = Common { terminal_kind: true, query_language: f.query_language, ..Common::default() };
                self.common(name, id, &c, Kind::Fail(FailSpec { error, cause }), index, loc, scope_ql)
            }
            model::State::Parallel(p) => {
                let ql = state_ql(p.query_language);
                if p.branches.is_empty() {
                    self.diag(
                        "SCHEMA_VALIDATION_FAILED",
                        &format!("{loc}/Branches"),
                        "A Parallel state needs at least one branch",
                    );
                }
                let branches = p
                    .branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| self.sub_scope(b, &format!("{id}/{i}/"), &format!("{loc}/Branches/{i}"), ql))
                    .collect();
                let c = Common {
                    input_path: p.input_path.as_ref(),
                    output_path: p.output_path.as_ref(),
                    result_path: p.result_path.as_ref(),
                    parameters: p.parameters.as_ref(),
                    result_selector: p.result_selector.as_ref(),
                    assign: p.assign.as_ref(),
                    arguments: p.arguments.as_ref(),
                    output: p.output.as_ref(),
                    retry: p.retry.as_ref(),
                    catch: p.catch.as_ref(),
                    next: p.next.as_deref(),
                    end: p.end,
                    query_language: p.query_language,
                    ..Common::default()
                };
                self.common(name, id, &c, Kind::Parallel { branches }, index, loc, scope_ql)
            }
            model::State::Map(m) => self.map(name, id, m, index, loc, scope_ql),
        }
    }

    fn map(
        &mut self,
        name: &str,
        id: &str,
        m: &model::MapState,
        index: &HashMap<&str, usize>,
        loc: &str,
        scope_ql: QueryLanguage,
    ) -> State {
        let ql = m.query_language.unwrap_or(scope_ql);
        let jsonata = ql == QueryLanguage::JSONata;
        let (processor, field) = match (&m.item_processor, &m.iterator) {
            (Some(p), None) => (Some(p), "ItemProcessor"),
            (None, Some(p)) => (Some(p), "Iterator"),
            (Some(_), Some(_)) => {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    loc,
                    "A Map state cannot have both 'ItemProcessor' and 'Iterator'",
                );
                (None, "ItemProcessor")
            }
            (None, None) => {
                self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    loc,
                    "A Map state requires an 'ItemProcessor' (or legacy 'Iterator')",
                );
                (None, "ItemProcessor")
            }
        };
        let mut distributed = false;
        if let Some(cfg) = processor.and_then(|p| p.processor_config.as_ref()) {
            match cfg.mode.as_deref() {
                None | Some("INLINE") => {}
                Some("DISTRIBUTED") => distributed = true,
                Some(other) => self.diag(
                    "SCHEMA_VALIDATION_FAILED",
                    &format!("{loc}/{field}/ProcessorConfig/Mode"),
                    format!("Unknown processor mode '{other}'"),
                ),
            }
        }
        let processor =
            processor.map_or(usize::MAX, |p| self.sub_scope(p, &format!("{id}/"), &format!("{loc}/{field}"), ql));
        if m.item_selector.is_some() && m.parameters.is_some() {
            self.diag("SCHEMA_VALIDATION_FAILED", loc, "A Map state cannot have both 'ItemSelector' and 'Parameters'");
        }
        let (selector_value, selector_field) = match (&m.item_selector, &m.parameters) {
            (Some(v), _) => (Some(v), "ItemSelector"),
            (None, Some(v)) => (Some(v), "Parameters"),
            (None, None) => (None, "ItemSelector"),
        };
        let items_path = m.items_path.as_ref().and_then(|p| self.path(p, &format!("{loc}/ItemsPath"), true));
        if jsonata && m.items_path.is_some() {
            self.diag(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{loc}/ItemsPath"),
                "The field 'ItemsPath' is not supported in JSONata states",
            );
        }
        if !jsonata && m.items.is_some() {
            self.diag(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{loc}/Items"),
                "The field 'Items' is supported only in JSONata states",
            );
        }
        let jsonata_items = if jsonata { self.jtemplate(m.items.as_ref(), &format!("{loc}/Items")) } else { None };
        let item_selector = if jsonata {
            // JSONata ItemSelector is evaluated per item like Arguments; keep it in the JSONata spec.
            None
        } else {
            self.template(selector_value, &format!("{loc}/{selector_field}"))
        };
        let max_concurrency = self
            .num_source(m.max_concurrency.as_ref(), m.max_concurrency_path.as_ref(), "MaxConcurrency", loc, jsonata)
            .map(|s| (s, "MaxConcurrencyPath"));
        let tolerated_count = self
            .num_source(
                m.tolerated_failure_count.as_ref(),
                m.tolerated_failure_count_path.as_ref(),
                "ToleratedFailureCount",
                loc,
                jsonata,
            )
            .map(|s| (s, "ToleratedFailureCountPath"));
        let tolerated_percentage = self
            .num_source(
                m.tolerated_failure_percentage.as_ref(),
                m.tolerated_failure_percentage_path.as_ref(),
                "ToleratedFailurePercentage",
                loc,
                jsonata,
            )
            .map(|s| (s, "ToleratedFailurePercentagePath"));
        let spec = MapSpec {
            processor,
            items_path,
            jsonata_items,
            item_selector,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
            distributed,
        };
        let c = Common {
            input_path: m.input_path.as_ref(),
            output_path: m.output_path.as_ref(),
            result_path: m.result_path.as_ref(),
            result_selector: m.result_selector.as_ref(),
            assign: m.assign.as_ref(),
            arguments: m.arguments.as_ref(),
            output: m.output.as_ref(),
            retry: m.retry.as_ref(),
            catch: m.catch.as_ref(),
            next: m.next.as_deref(),
            end: m.end,
            query_language: m.query_language,
            ..Common::default()
        };
        let mut state = self.common(name, id, &c, Kind::Map(spec), index, loc, scope_ql);
        if jsonata && let (Some(spec), Some(v)) = (state.jsonata.as_mut(), selector_value) {
            // Reuse `arguments` for the per-item selector of a JSONata Map.
            spec.arguments = Some(JTemplate::compile(v, &format!("{loc}/{selector_field}"), &mut self.diags));
        }
        state
    }
}
