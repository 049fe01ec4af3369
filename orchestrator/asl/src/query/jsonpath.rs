//! The verbs for JSONPath states: `InputPath`, `Parameters`, `ResultSelector`, `Assign`,
//! `ResultPath` and `OutputPath`. A path that does not resolve is `States.Runtime`.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::execution::{Failure, Flow, StateCx};
use crate::intrinsics::Call;
use crate::ir::{JsonPathIo, PathOpt, ResultPath, Transition};
use crate::jsonpath::Path;
use crate::names;
use crate::payload;
use crate::template::Template;

/// `InputPath` or `OutputPath` applied to `doc`, which is passed on untouched when the path is
/// absent (`$`).
pub(super) fn select(sc: &mut StateCx<'_, '_>, path: &PathOpt, doc: Arc<Value>) -> Result<Arc<Value>, Failure> {
    if matches!(path, PathOpt::Default) {
        return Ok(doc);
    }
    sc.cx
        .eval(sc.fid, &sc.active, &doc, None, |env, _| payload::select(path, env))
        .map(Arc::new)
        .map_err(|d| sc.runtime(&d))
}

pub(super) fn template(
    sc: &mut StateCx<'_, '_>,
    t: &Template,
    input: &Value,
    map_item: Option<(usize, &Value)>,
) -> Result<Value, Failure> {
    let map_item = map_item.map(|(index, item)| (index as u64, item));
    sc.cx.eval(sc.fid, &sc.active, input, map_item, |env, e| t.eval(env, e)).map_err(|d| sc.runtime(&d))
}

pub(super) fn path(sc: &mut StateCx<'_, '_>, p: &Path, input: &Value) -> Result<Value, Failure> {
    sc.cx.eval(sc.fid, &sc.active, input, None, |env, _| p.eval(env)).map_err(|d| sc.runtime(&d))
}

pub(super) fn call(sc: &mut StateCx<'_, '_>, c: &Call, input: &Value) -> Result<Value, Failure> {
    sc.cx.eval(sc.fid, &sc.active, input, None, |env, e| c.eval(env, e)).map_err(|d| sc.runtime(&d))
}

/// Evaluates `Assign` with `$` = `input`; reads see the variables as they were before the state.
fn assign(
    sc: &mut StateCx<'_, '_>,
    template: Option<&Template>,
    input: &Value,
) -> Result<Option<Map<String, Value>>, Failure> {
    let Some(t) = template else { return Ok(None) };
    let mut out = Map::new();
    for (name, field) in t.fields() {
        let v = sc.cx.eval(sc.fid, &sc.active, input, None, |env, e| field.eval(env, e)).map_err(|d| sc.runtime(&d))?;
        out.insert(name.to_owned(), v);
    }
    Ok(Some(out))
}

fn result_path_failure(sc: &StateCx<'_, '_>, detail: &str) -> Failure {
    Failure::new(names::RESULT_PATH_MATCH_FAILURE, Some(format!("{} {detail}", sc.cause_prefix())))
}

/// `ResultSelector`, `Assign`, `ResultPath`, `OutputPath`.
pub(super) fn finish(mut sc: StateCx<'_, '_>, io: &JsonPathIo, result: Arc<Value>) -> Flow {
    let selected = match &io.result_selector {
        Some(sel) => match template(&mut sc, sel, &result, None) {
            Ok(v) => Arc::new(v),
            Err(failure) => return sc.fail(failure),
        },
        None => result,
    };
    sc.cx.inspect("afterResultSelector", &selected);
    let assigned = match assign(&mut sc, io.assign.as_ref(), &selected) {
        Ok(a) => a,
        Err(failure) => return sc.fail(failure),
    };
    // Placing the result is the state's last use of its raw input: when the result goes inside
    // it, it is handed over, to be changed in place if nothing else holds it. One that cannot take
    // the result stays, for a Catch.
    let input = if payload::places_into_input(&io.result_path, &sc.active.raw_input) {
        sc.active.raw_input.take()
    } else {
        sc.active.raw_input.share()
    };
    let combined = match payload::apply_result_path(&io.result_path, input, selected) {
        Ok(v) => v,
        Err(d) => {
            let failure = result_path_failure(&sc, &d);
            return sc.fail(failure);
        }
    };
    sc.cx.inspect("afterResultPath", &combined);
    let next = sc.st.next;
    leave(sc, assigned, &io.output_path, combined, next)
}

/// `Assign` and `OutputPath` over the effective input.
pub(super) fn pass_on(
    mut sc: StateCx<'_, '_>,
    assign_template: Option<&Template>,
    output_path: &PathOpt,
    input: Arc<Value>,
    next: Transition,
) -> Flow {
    match assign(&mut sc, assign_template, &input) {
        Ok(assigned) => leave(sc, assigned, output_path, input, next),
        Err(failure) => sc.fail(failure),
    }
}

/// `OutputPath` over `doc`, then `next` with the variables `assigned`.
fn leave(
    mut sc: StateCx<'_, '_>,
    assigned: Option<Map<String, Value>>,
    output_path: &PathOpt,
    doc: Arc<Value>,
    next: Transition,
) -> Flow {
    match select(&mut sc, output_path, doc) {
        Ok(output) => sc.exit(output, next, assigned),
        Err(failure) => sc.fail(failure),
    }
}

/// A catcher's `Assign` over the error output, and its `ResultPath` into the raw input. A failure
/// here fails the frame: the state has already failed.
pub(super) fn catch_output(
    mut sc: StateCx<'_, '_>,
    assign_template: Option<&Template>,
    result_path: &ResultPath,
    next: usize,
    error_output: &Value,
) -> Flow {
    let assigned = match assign(&mut sc, assign_template, error_output) {
        Ok(a) => a,
        Err(failure) => return Flow::FailFrame(Some(sc.active), failure),
    };
    let error_output = Arc::new(error_output.clone());
    match payload::apply_result_path(result_path, sc.active.raw_input.share(), error_output) {
        Ok(output) => sc.exit(output, Transition::Next(next), assigned),
        Err(d) => {
            let failure = result_path_failure(&sc, &d);
            Flow::FailFrame(Some(sc.active), failure)
        }
    }
}
