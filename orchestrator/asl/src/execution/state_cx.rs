//! What a state sees while it runs ([`StateCx`]) and what it decides ([`Flow`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{Active, Cx, Failure};
use crate::ir::Transition;
use crate::machine::State;
use crate::names;

/// What a state decided.
pub(crate) enum Flow {
    /// Leave the state with `output` (recording `<Type>StateExited`), then follow `next`.
    /// The output may be shared with the input or a history event, so states that pass their
    /// input on need not copy it.
    Exit { active: Active, output: Arc<Value>, next: Transition, assigned: Option<Map<String, Value>> },
    /// Wait for a task, a timer or child frames.
    Block(Active),
    /// The state failed: Retry, then Catch, then propagate.
    Fail { active: Active, failure: Failure },
    /// The frame fails without Retry/Catch: the state's Catch itself failed, or (`None`) no
    /// state is active.
    FailFrame(Option<Active>, Failure),
}

/// Children of a Parallel or Map state.
#[derive(Clone, Debug)]
pub(crate) struct Children {
    /// (slot, frame id) of children still running.
    pub(crate) running: Vec<(usize, usize)>,
    /// Each slot's output, once it has one.
    pub(crate) results: Vec<Option<Value>>,
    /// Map items not started yet: (index, item).
    pub(crate) pending: VecDeque<(usize, Value)>,
    /// 0 = unlimited.
    pub(crate) max_concurrency: usize,
    /// Children that failed so far (Map with a tolerated failure threshold).
    pub(crate) failures: u64,
    /// `ToleratedFailureCount`, resolved.
    pub(crate) tolerated_count: Option<u64>,
    /// `ToleratedFailurePercentage`, resolved.
    pub(crate) tolerated_percentage: Option<f64>,
    /// The variables the children can read: the parent's, as they were when the state started.
    pub(crate) outer: Arc<BTreeMap<String, Value>>,
    /// A Distributed Map's run, by its index in the execution's Map Runs.
    pub(crate) map_run: Option<usize>,
    /// Each child's input and outcome, by slot, for a Distributed Map's `ResultWriter`.
    pub(crate) log: Option<Vec<Option<crate::states::ChildLog>>>,
}

impl Children {
    pub(crate) fn running_frames(&self) -> Vec<usize> {
        self.running.iter().map(|(_, f)| *f).collect()
    }
}

/// One entered state at work: the execution step in progress, the frame it runs in, its compiled
/// definition and its progress so far.
///
/// States take it by value and give back a [`Flow`]; the query-language verbs (`input`,
/// `arguments`, `finish`, …) are in [`crate::query`].
pub(crate) struct StateCx<'a, 'x> {
    pub(crate) cx: &'a mut Cx<'x>,
    pub(crate) fid: usize,
    pub(crate) st: &'a State,
    pub(crate) active: Active,
}

impl StateCx<'_, '_> {
    /// The state fails with `failure` (Retry and Catch apply).
    pub(crate) fn fail(self, failure: Failure) -> Flow {
        Flow::Fail { active: self.active, failure }
    }

    /// The state waits for what `active.wait` says.
    pub(crate) fn block(self) -> Flow {
        Flow::Block(self.active)
    }

    /// The state leaves with `output` for `next`.
    pub(crate) fn exit(self, output: Arc<Value>, next: Transition, assigned: Option<Map<String, Value>>) -> Flow {
        Flow::Exit { active: self.active, output, next, assigned }
    }

    /// AWS's prefix for the causes of the state's own errors.
    pub(crate) fn cause_prefix(&self) -> String {
        cause_prefix(self.st, &self.active)
    }

    /// A [`names::RUNTIME`] failure of the state, with AWS's cause prefix.
    pub(crate) fn runtime(&self, detail: &str) -> Failure {
        Failure::new(names::RUNTIME, Some(format!("{} {detail}", self.cause_prefix())))
    }
}

/// The `States.Runtime` cause prefix AWS uses.
pub(crate) fn cause_prefix(st: &State, active: &Active) -> String {
    format!(
        "An error occurred while executing the state '{}' (entered at the event id #{}).",
        st.name, active.entered_id
    )
}
