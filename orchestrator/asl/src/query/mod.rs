//! The query-language layer: the few verbs every state uses to read its input and shape its
//! output, the same whichever language the state is written in.
//!
//! A state asks for its effective [`input`](StateCx::input), its
//! [`arguments`](StateCx::arguments), a value given by one of its fields
//! ([`number`](StateCx::number), [`string`](StateCx::string), [`select`](StateCx::select)), and
//! leaves with a result ([`finish`](StateCx::finish)) or with the document it was given
//! ([`pass_on`](StateCx::pass_on)). The engine uses [`catch_output`](StateCx::catch_output) when
//! a catcher handles an error. Each verb dispatches once on the state's [`StateIo`] to
//! [`jsonpath`] or [`jsonata`]; no state type asks which language it is in.
//!
//! The two languages differ in how they fail as well as in what they compute: a JSONPath field
//! that does not resolve is `States.Runtime`, a JSONata expression that fails is
//! `States.QueryEvaluationError` after an `EvaluationFailed` event. [`StateCx::invalid`] gives a
//! state the right one for a value of the wrong shape.

pub(crate) mod jsonata;
mod jsonpath;

use std::sync::Arc;

use serde_json::Value;

use crate::execution::{Failure, Flow, StateCx};
use crate::ir::{BranchIo, Catcher, NumSource, Selector, StateIo, StrSource, Transition};

impl StateCx<'_, '_> {
    /// The effective input: JSONPath's `InputPath` applied to the raw input (shared when there is
    /// none); in JSONata, the raw input itself.
    pub(crate) fn input(&mut self) -> Result<Arc<Value>, Failure> {
        let st = self.st;
        let raw = self.active.raw_input.share();
        match &st.io {
            StateIo::JsonPath(io) => {
                let input = jsonpath::select(self, &io.input_path, raw)?;
                self.cx.inspect("afterInputPath", &input);
                Ok(input)
            }
            StateIo::Jsonata(_) => Ok(raw),
        }
    }

    /// What the state hands on (a task's payload, a branch's input, a Pass state's result):
    /// `Parameters` over `input`, or JSONata's `Arguments`; without either, `input` itself.
    pub(crate) fn arguments(&mut self, input: &Arc<Value>) -> Result<Arc<Value>, Failure> {
        let st = self.st;
        let (step, arguments) = match &st.io {
            StateIo::JsonPath(io) => match &io.parameters {
                Some(t) => ("afterParameters", jsonpath::template(self, t, input, None).map(Arc::new)?),
                None => ("afterParameters", Arc::clone(input)),
            },
            StateIo::Jsonata(io) => match &io.arguments {
                Some(t) => ("afterArguments", jsonata::state_value(self, t, "Arguments", input, None).map(Arc::new)?),
                None => ("afterArguments", Arc::clone(input)),
            },
        };
        self.cx.inspect(step, &arguments);
        Ok(arguments)
    }

    /// Evaluates `selector` with `$` (or `$states.input`) = `input`; `map_item` is the Map item
    /// being selected for (`$$.Map.Item`, `$states.context.Map.Item`).
    pub(crate) fn select(
        &mut self,
        selector: &Selector,
        field: &str,
        input: &Value,
        map_item: Option<(usize, &Value)>,
    ) -> Result<Value, Failure> {
        match selector {
            Selector::JsonPath(t) => jsonpath::template(self, t, input, map_item),
            Selector::Jsonata(t) => jsonata::state_value(self, t, field, input, map_item),
        }
    }

    /// The value of a numeric field (`TimeoutSeconds`, `MaxConcurrency`, …), read from `input`
    /// when it is given by a path.
    pub(crate) fn number(&mut self, source: &NumSource, field: &str, input: &Value) -> Result<Value, Failure> {
        match source {
            NumSource::Fixed(v) => Ok(v.clone()),
            NumSource::Path(p) => jsonpath::path(self, p, input),
            NumSource::Expr(t) => jsonata::state_value(self, t, field, input, None),
        }
    }

    /// The value of a string field (a Fail state's `Error`, a Wait's `Timestamp`), read from
    /// `input` when it is given by a path or an intrinsic.
    pub(crate) fn string(&mut self, source: &StrSource, field: &str, input: &Value) -> Result<Value, Failure> {
        match source {
            StrSource::Literal(s) => Ok(Value::String(s.clone())),
            StrSource::Path(p) => jsonpath::path(self, p, input),
            StrSource::Call(c) => jsonpath::call(self, c, input),
            StrSource::Expr(t) => jsonata::state_value(self, t, field, input, None),
        }
    }

    /// The failure for a field whose value has the wrong shape, `detail` saying why: in JSONPath
    /// `States.Runtime`, in JSONata `States.QueryEvaluationError` (recorded as `EvaluationFailed`).
    pub(crate) fn invalid(&mut self, detail: &str) -> Failure {
        match &self.st.io {
            StateIo::JsonPath(_) => self.runtime(detail),
            StateIo::Jsonata(_) => jsonata::evaluation_failed(self, detail),
        }
    }

    /// Leaves a state that produced `result` (Pass, Task, Parallel, Map): JSONPath's
    /// `ResultSelector`, `Assign`, `ResultPath` and `OutputPath`, or JSONata's `Assign` and
    /// `Output`.
    pub(crate) fn finish(self, result: Arc<Value>) -> Flow {
        let st = self.st;
        self.cx.inspect("result", &result);
        match &st.io {
            StateIo::JsonPath(io) => jsonpath::finish(self, io, result),
            StateIo::Jsonata(io) => {
                let input = self.active.raw_input.share();
                jsonata::leave(self, io.assign.as_ref(), io.output.as_ref(), &input, Some(&result), st.next)
            }
        }
    }

    /// Leaves a state that passes on the document it was given (Choice, Wait, Succeed) for `next`:
    /// the `Assign` of `branch` (a Choice rule) or else of the state, then JSONPath's `OutputPath`
    /// or JSONata's `Output`.
    pub(crate) fn pass_on(self, input: Arc<Value>, branch: Option<&BranchIo>, next: Transition) -> Flow {
        let st = self.st;
        match (&st.io, branch) {
            (StateIo::JsonPath(io), Some(BranchIo::JsonPath { assign, .. })) => {
                jsonpath::pass_on(self, assign.as_ref(), &io.output_path, input, next)
            }
            (StateIo::JsonPath(io), _) => jsonpath::pass_on(self, io.assign.as_ref(), &io.output_path, input, next),
            (StateIo::Jsonata(_), Some(BranchIo::Jsonata { assign, output })) => {
                jsonata::leave(self, assign.as_ref(), output.as_ref(), &input, None, next)
            }
            (StateIo::Jsonata(io), _) => {
                jsonata::leave(self, io.assign.as_ref(), io.output.as_ref(), &input, None, next)
            }
        }
    }

    /// The state's output when `catcher` handles an error whose error output is `error_output`.
    pub(crate) fn catch_output(self, catcher: &Catcher, error_output: &Value) -> Flow {
        match &catcher.io {
            BranchIo::JsonPath { assign, result_path } => {
                jsonpath::catch_output(self, assign.as_ref(), result_path, catcher.next, error_output)
            }
            BranchIo::Jsonata { assign, output } => {
                jsonata::catch_output(self, assign.as_ref(), output.as_ref(), catcher.next, error_output)
            }
        }
    }
}
