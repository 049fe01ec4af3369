//! One module per state type, and the dispatch between them.
//!
//! Each state module exposes `run`, called once the state has been entered (and again after each
//! retry back-off); states that wait for something also expose the callback that resumes them.

pub(crate) mod choice;
pub(crate) mod fail;
pub(crate) mod map;
pub(crate) mod parallel;
pub(crate) mod pass;
pub(crate) mod succeed;
pub(crate) mod task;
pub(crate) mod wait;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::execution::{Active, Cx, Failure};
use crate::ir::{Catcher, Kind, PathOpt, State, Transition};
use crate::jsonata_states as jsonata;
use crate::payload::{self, Template};

/// What a state decided.
pub(crate) enum Flow {
    /// Leave the state with `output` (recording `<Type>StateExited`), then follow `next`.
    Exit { active: Active, output: Value, next: Transition, assigned: Option<Map<String, Value>> },
    /// [`Flow::Exit`] with an output that may be shared with the input or a history event, so
    /// states that pass their input on need not copy it.
    ExitShared { active: Active, output: Arc<Value>, next: Transition, assigned: Option<Map<String, Value>> },
    /// Wait for a task, a timer or child frames.
    Block(Active),
    /// The state failed: Retry, then Catch, then propagate.
    Fail { active: Active, failure: Failure },
    /// The frame fails without Retry/Catch (no state is active any more).
    FailFrame(Failure),
}

/// Children of a Parallel or Map state.
#[derive(Clone, Debug)]
pub(crate) struct Children {
    /// (slot, frame id) of children still running.
    pub(crate) running: Vec<(usize, usize)>,
    pub(crate) results: Vec<Option<Value>>,
    /// Map items not started yet: (index, item).
    pub(crate) pending: VecDeque<(usize, Value)>,
    /// 0 = unlimited.
    pub(crate) max_concurrency: usize,
    pub(crate) failures: u64,
    pub(crate) tolerated_count: Option<u64>,
    pub(crate) tolerated_percentage: Option<f64>,
    pub(crate) outer: Arc<BTreeMap<String, Value>>,
}

impl Children {
    pub(crate) fn running_frames(&self) -> Vec<usize> {
        self.running.iter().map(|(_, f)| *f).collect()
    }
}

/// The `States.Runtime` cause prefix AWS uses.
pub(crate) fn cause_prefix(st: &State, active: &Active) -> String {
    format!(
        "An error occurred while executing the state '{}' (entered at the event id #{}).",
        st.name, active.entered_id
    )
}

/// A `States.Runtime` failure of `st` with AWS's cause prefix.
pub(crate) fn runtime(st: &State, active: &Active, detail: &str) -> Failure {
    Failure::new("States.Runtime", Some(format!("{} {detail}", cause_prefix(st, active))))
}

/// Runs the work of an entered state.
pub(crate) fn run(cx: &mut Cx<'_>, fid: usize, active: Active) -> Flow {
    let machine = cx.machine();
    let Some(st) = machine.state(active.state) else {
        return Flow::FailFrame(Failure::new("States.Runtime", Some("internal: unknown state".into())));
    };
    if st.jsonata.is_some() {
        return jsonata::run_state(cx, fid, active, st);
    }
    match &st.kind {
        Kind::Pass { result } => pass::run(cx, fid, active, st, result.as_ref()),
        Kind::Task(spec) => task::run(cx, fid, active, st, spec),
        Kind::Choice(spec) => choice::run(cx, fid, active, st, spec),
        Kind::Wait(spec) => wait::run(cx, fid, active, st, spec),
        Kind::Succeed => succeed::run(cx, fid, active, st),
        Kind::Fail(spec) => fail::run(cx, fid, active, st, spec),
        Kind::Parallel { branches } => parallel::run(cx, fid, active, st, branches),
        Kind::Map(spec) => map::run(cx, fid, active, st, spec),
    }
}

/// A child frame of the Parallel or Map state `active` finished.
pub(crate) fn child_finished(
    cx: &mut Cx<'_>,
    fid: usize,
    active: Active,
    slot: usize,
    child: usize,
    result: Result<Value, Failure>,
) -> Flow {
    let machine = cx.machine();
    match machine.state(active.state).map(|s| (&s.kind, s)) {
        Some((Kind::Parallel { .. }, st)) => parallel::on_child(cx, fid, active, st, slot, child, result),
        Some((Kind::Map(spec), st)) => map::on_child(cx, fid, active, st, spec, slot, child, result),
        _ => Flow::Block(active),
    }
}

/// `InputPath` applied to the raw input; without an `InputPath`, the raw input itself (shared).
pub(crate) fn effective_input(cx: &mut Cx<'_>, fid: usize, active: &Active, st: &State) -> Result<Arc<Value>, Failure> {
    select_shared(cx, fid, active, st, &st.input_path, active.raw_input.share())
}

/// `InputPath` or `OutputPath` applied to `doc`, which is passed on untouched when the path is
/// absent (`$`).
pub(crate) fn select_shared(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    path: &PathOpt,
    doc: Arc<Value>,
) -> Result<Arc<Value>, Failure> {
    if matches!(path, PathOpt::Default) {
        return Ok(doc);
    }
    cx.eval(fid, active, &doc, None, |env, _| payload::select(path, env))
        .map(Arc::new)
        .map_err(|d| runtime(st, active, &d))
}

/// Evaluates `Assign` with `$` = `input`; reads see the variables as they were before the state.
pub(crate) fn assign(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    template: Option<&Template>,
    input: &Value,
) -> Result<Option<Map<String, Value>>, Failure> {
    let Some(t) = template else { return Ok(None) };
    let mut out = Map::new();
    for (name, field) in t.fields() {
        let v = cx.eval(fid, active, input, None, |env, e| field.eval(env, e)).map_err(|d| runtime(st, active, &d))?;
        out.insert(name.to_owned(), v);
    }
    Ok(Some(out))
}

/// The shared tail of Pass, Task, Parallel and Map: `ResultSelector`, `Assign`, `ResultPath`,
/// `OutputPath`.
pub(crate) fn finish_result(cx: &mut Cx<'_>, fid: usize, active: Active, st: &State, result: Arc<Value>) -> Flow {
    let selected = match &st.result_selector {
        Some(sel) => match cx.eval(fid, &active, &result, None, |env, e| sel.eval(env, e)) {
            Ok(v) => Arc::new(v),
            Err(d) => {
                return Flow::Fail { failure: runtime(st, &active, &d), active };
            }
        },
        None => result,
    };
    let assigned = match assign(cx, fid, &active, st, st.assign.as_ref(), &selected) {
        Ok(a) => a,
        Err(failure) => return Flow::Fail { active, failure },
    };
    let combined = match payload::apply_result_path(&st.result_path, &active.raw_input.share(), selected) {
        Ok(v) => v,
        Err(d) => {
            let failure =
                Failure::new("States.ResultPathMatchFailure", Some(format!("{} {d}", cause_prefix(st, &active))));
            return Flow::Fail { active, failure };
        }
    };
    match select_shared(cx, fid, &active, st, &st.output_path, combined) {
        Ok(output) => Flow::ExitShared { active, output, next: st.next, assigned },
        Err(failure) => Flow::Fail { failure, active },
    }
}

/// The state output when `catcher` handles an error.
pub(crate) fn catch_output(
    cx: &mut Cx<'_>,
    fid: usize,
    active: Active,
    catcher: &Catcher,
    error_output: &Value,
) -> Flow {
    let machine = cx.machine();
    let Some(st) = machine.state(active.state) else {
        return Flow::Block(active);
    };
    if st.jsonata.is_some() {
        return jsonata::catch_output(cx, fid, active, st, catcher, error_output);
    }
    let assigned = match assign(cx, fid, &active, st, catcher.assign.as_ref(), error_output) {
        Ok(a) => a,
        Err(failure) => return Flow::FailFrame(failure),
    };
    let error_output = Arc::new(error_output.clone());
    match payload::apply_result_path(&catcher.result_path, &active.raw_input.share(), error_output) {
        Ok(output) => Flow::ExitShared { active, output, next: Transition::Next(catcher.next), assigned },
        Err(d) => Flow::FailFrame(Failure::new(
            "States.ResultPathMatchFailure",
            Some(format!("{} {d}", cause_prefix(st, &active))),
        )),
    }
}
