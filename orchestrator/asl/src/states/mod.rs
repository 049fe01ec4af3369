//! One module per state type, and the one dispatch between them.
//!
//! Each module is the whole of its type: the compiled form of its own fields (`Spec`), its
//! compilation from the authoring model (`compile`), its work once entered (`run`, called again
//! after each retry back-off), and, for types that wait, the callback that resumes them. What
//! every state shares (transitions, Retry, Catch, the query-language fields) is compiled by
//! [`crate::compile`] and applied through the verbs of [`crate::query`], so a state never asks
//! which query language it is written in.

pub(crate) mod choice;
pub(crate) mod fail;
pub(crate) mod map;
pub(crate) use map::{ChildLog, Writing};
pub(crate) mod parallel;
pub(crate) mod pass;
pub(crate) mod succeed;
pub(crate) mod task;
pub(crate) mod wait;

use serde_json::{Map, Value};

use crate::compile::Site;
use crate::execution::{Failure, Flow, StateCx, TaskReply};
use crate::history::EventKind;
use crate::machine::{Builder, State, StateMachine};
use crate::model;

/// The part of a compiled state that is particular to its type.
// Built once per definition, so the size spread between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Pass(pass::Spec),
    Task(task::Spec),
    Choice(choice::Spec),
    Wait(wait::Spec),
    Succeed,
    Fail(fail::Spec),
    Parallel(parallel::Spec),
    Map(map::Spec),
}

impl Kind {
    /// The `Type` the definition gives.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass(_) => "Pass",
            Kind::Task(_) => "Task",
            Kind::Choice(_) => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail(_) => "Fail",
            Kind::Parallel(_) => "Parallel",
            Kind::Map(_) => "Map",
        }
    }

    /// Indices of the states this one can go to besides its `Next` and its catchers'.
    pub(crate) fn targets(&self) -> Vec<usize> {
        match self {
            Kind::Choice(spec) => spec.targets(),
            _ => Vec::new(),
        }
    }

    /// Adds what `StateMachine::describe` shows of the type's own fields to `out`.
    pub(crate) fn describe(&self, machine: &StateMachine, out: &mut Map<String, Value>) {
        match self {
            Kind::Task(spec) => spec.describe(out),
            Kind::Choice(spec) => spec.describe(machine, out),
            Kind::Parallel(spec) => spec.describe(machine, out),
            Kind::Map(spec) => spec.describe(machine, out),
            Kind::Fail(_) | Kind::Pass(_) | Kind::Wait(_) | Kind::Succeed => {}
        }
    }

    /// The event recorded when the state fails because of its children or an error of its own
    /// (`MapStateFailed`, `ParallelStateFailed`), for the types that record one.
    pub(crate) fn failed_event(&self) -> Option<EventKind> {
        match self {
            Kind::Map(_) => Some(EventKind::MapStateFailed),
            Kind::Parallel(_) => Some(EventKind::ParallelStateFailed),
            _ => None,
        }
    }

    /// The event recorded when the state is stopped midway because a sibling branch or
    /// iteration failed, for the types that can be midway.
    pub(crate) fn aborted_event(&self) -> Option<EventKind> {
        match self {
            Kind::Task(_) => Some(EventKind::TaskStateAborted),
            Kind::Wait(_) => Some(EventKind::WaitStateAborted),
            Kind::Map(_) => Some(EventKind::MapStateAborted),
            Kind::Parallel(_) => Some(EventKind::ParallelStateAborted),
            _ => None,
        }
    }

    /// Whether the state runs its children as inline Map iterations, each recorded with
    /// `MapIteration*` events.
    pub(crate) fn has_inline_iterations(&self) -> bool {
        matches!(self, Kind::Map(spec) if !spec.distributed)
    }
}

/// Compiles one state of the authoring model.
pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, state: &model::State) -> State {
    match state {
        model::State::Pass(s) => pass::compile(b, site, s),
        model::State::Task(s) => task::compile(b, site, s),
        model::State::Choice(s) => choice::compile(b, site, s),
        model::State::Wait(s) => wait::compile(b, site, s),
        model::State::Succeed(s) => succeed::compile(b, site, s),
        model::State::Fail(s) => fail::compile(b, site, s),
        model::State::Parallel(s) => parallel::compile(b, site, s),
        model::State::Map(s) => map::compile(b, site, s),
    }
}

/// Runs the work of an entered state.
pub(crate) fn run(sc: StateCx<'_, '_>) -> Flow {
    match &sc.st.kind {
        Kind::Pass(spec) => pass::run(sc, spec),
        Kind::Task(spec) => task::run(sc, spec),
        Kind::Choice(spec) => choice::run(sc, spec),
        Kind::Wait(spec) => wait::run(sc, spec),
        Kind::Succeed => succeed::run(sc),
        Kind::Fail(spec) => fail::run(sc, spec),
        Kind::Parallel(spec) => parallel::run(sc, spec),
        Kind::Map(spec) => map::run(sc, spec),
    }
}

/// The timer the state waits for fired.
pub(crate) fn on_timer(sc: StateCx<'_, '_>) -> Flow {
    match &sc.st.kind {
        Kind::Wait(_) => wait::on_timer(sc),
        _ => sc.block(),
    }
}

/// The call of the `.waitForTaskToken` task the state waits for returned.
pub(crate) fn on_task_submitted(sc: StateCx<'_, '_>, output: serde_json::Value) -> Flow {
    match &sc.st.kind {
        Kind::Task(spec) => task::on_submitted(sc, spec, output),
        _ => sc.block(),
    }
}

/// The task the state waits for replied (for a Map, its `ItemReader`).
pub(crate) fn on_task_reply(sc: StateCx<'_, '_>, reply: TaskReply) -> Flow {
    match &sc.st.kind {
        Kind::Task(spec) => task::on_reply(sc, spec, reply),
        Kind::Map(spec) => map::on_items(sc, spec, reply),
        _ => sc.block(),
    }
}

/// UpdateMapRun reached the Distributed Map state that runs it.
pub(crate) fn update_map_run(sc: StateCx<'_, '_>, update: &crate::execution::MapRunUpdate) -> Flow {
    match &sc.st.kind {
        Kind::Map(spec) => map::update(sc, spec, update),
        _ => sc.block(),
    }
}

/// A redrive resumes the Parallel or Map state: `children` (slot, frame) are the unsuccessful
/// children it rebuilt, which run again; the others keep their results.
pub(crate) fn resume(sc: StateCx<'_, '_>, children: Vec<(usize, usize)>) -> Flow {
    match &sc.st.kind {
        Kind::Parallel(_) => parallel::resume(sc, children),
        Kind::Map(spec) => map::resume(sc, spec, children),
        _ => sc.block(),
    }
}

/// Child frame `child`, in `slot` of the Parallel or Map state, finished with `result`.
pub(crate) fn on_child(sc: StateCx<'_, '_>, slot: usize, child: usize, result: Result<Value, Failure>) -> Flow {
    match &sc.st.kind {
        Kind::Parallel(_) => parallel::on_child(sc, slot, child, result),
        Kind::Map(spec) => map::on_child(sc, spec, slot, child, result),
        _ => sc.block(),
    }
}
