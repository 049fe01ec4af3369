//! What each state of an execution is doing, folded from the execution's history.
//!
//! The web console colours a workflow graph by this projection and shows each state's input,
//! output, attempts and failures. It reads the history in AWS `GetExecutionHistory` shape, the
//! form every store keeps, so it works for any execution, finished or running, on any node.
//!
//! AWS history events name only the states they enter and exit; every other event (a task
//! scheduled, a Lambda failing, a Map iteration ending) says which state it belongs to through
//! its `previousEventId` chain. An *entry* is one run of a state, from its `…StateEntered` event
//! on: a state in a loop or a Map processor has many. Following the chain, each event belongs to
//! the entry its previous event belonged to, a `…StateEntered` event starts a new entry, and a
//! `…StateExited` event hands the chain back to the entry that contains the state (the Parallel
//! or Map around it, or none at the top level). The same chains tell which Map iteration each
//! entry ran in, so [`project_iteration`] can show a Map's inner states for one iteration, as the
//! AWS console's iteration selector does.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::StateMachine;

/// A state's status, in the AWS console's vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateStatus {
    /// Entered and not yet left.
    InProgress,
    /// Left normally.
    Succeeded,
    /// Failed, and the failure ended its branch or the execution.
    Failed,
    /// Failed, and a Catch handled it.
    CaughtError,
    /// Stopped from outside: the execution was stopped, or a sibling branch failed.
    Cancelled,
    /// Failed with `States.Timeout`, unhandled.
    TimedOut,
}

/// One failed attempt of a state (a task error, a timeout, a failed branch).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptFailure {
    /// The history event that reported it.
    pub event_id: u64,
    /// That event's type, such as `LambdaFunctionFailed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The error name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// How a Map state's iterations stand.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IterationCounts {
    /// Iterations started.
    pub total: u64,
    /// Iterations that succeeded.
    pub succeeded: u64,
    /// Iterations that failed.
    pub failed: u64,
    /// Iterations that were aborted.
    pub aborted: u64,
    /// Iterations still running.
    pub running: u64,
    /// The indexes of the latest run's failed iterations, ascending; at most
    /// [`MAX_FAILED_INDEXES`], so a console can offer them first.
    pub failed_indexes: Vec<u64>,
}

/// How many failed iteration indexes a Map state's progress lists.
pub const MAX_FAILED_INDEXES: usize = 1000;

/// One iteration of a Map state, to look at on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapIteration {
    /// The Map state's qualified id.
    pub map: String,
    /// The iteration's index in the Map's latest run.
    pub index: u64,
}

/// The projection of one state. Details (input, output, attempts, failures) are those of its
/// latest entry; the status gathers all of them, so a Map iteration that failed shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateProgress {
    /// The state's own name.
    pub name: String,
    /// Where it stands.
    pub status: StateStatus,
    /// How many times it was entered (loops, Map iterations).
    pub entries: u64,
    /// Task states: how many times the latest entry was scheduled (1 + retries).
    #[serde(skip_serializing_if = "is_zero")]
    pub attempts: u64,
    /// The effective input of the latest entry, as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Its output, as JSON text, once it has left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// When the latest entry started, in epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entered_at: Option<f64>,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exited_at: Option<f64>,
    /// The latest entry's `…StateEntered` event.
    pub entered_event_id: u64,
    /// Its `…StateExited` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exited_event_id: Option<u64>,
    /// The error that failed the latest entry, or that its Catch handled (a retried failure that
    /// a later attempt overcame is only in `failures`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Every failed attempt of the latest entry, in order: what Retry retried and what Catch caught.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<AttemptFailure>,
    /// Map states: their iterations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterations: Option<IterationCounts>,
    /// A `.waitForTaskToken` task is waiting for `SendTaskSuccess` or `SendTaskFailure`: in the
    /// latest entry that waits, when several do (concurrent Map iterations).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_callback: bool,
    /// The request the waiting task was scheduled with (its `Parameters` as JSON text). The task
    /// token, which the definition must pass to someone, is inside; a service that knows the
    /// execution's tokens finds the right one here even when several entries of the state wait.
    #[serde(skip)]
    pub callback_request: Option<String>,
}

/// The projection of a whole execution.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionProgress {
    /// The last history event folded in.
    pub last_event_id: u64,
    /// How many times a state was entered.
    pub transitions: u64,
    /// The states that ran, by qualified id; states not listed have not started.
    pub states: BTreeMap<String, StateProgress>,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// Folds `events` (AWS history events, in id order) of an execution of `machine`.
/// Events that name states the machine does not have are ignored.
pub fn project(machine: &StateMachine, events: &[Value]) -> ExecutionProgress {
    project_focused(machine, events, None)
}

/// [`project`], except that the states inside `iteration.map` show that one iteration of the
/// Map's latest run instead of all of them; a state that did not run in it is left out.
pub fn project_iteration(machine: &StateMachine, events: &[Value], iteration: &MapIteration) -> ExecutionProgress {
    project_focused(machine, events, Some(iteration))
}

fn project_focused(machine: &StateMachine, events: &[Value], focus: Option<&MapIteration>) -> ExecutionProgress {
    let mut fold = Fold::new(machine);
    for event in events {
        fold.apply(event);
    }
    fold.finish(focus)
}

/// The Map iteration an entry ran in: the Map's entry and the iteration's index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Iteration {
    map_entry: u64,
    index: u64,
}

/// A failure not yet followed by a success, exit or retry.
#[derive(Clone, Debug)]
struct PendingFailure {
    error: Option<String>,
    cause: Option<String>,
    timed_out: bool,
}

#[derive(Debug)]
struct Entry {
    state: usize,
    parent: Option<u64>,
    input: Option<String>,
    output: Option<String>,
    entered_at: Option<f64>,
    exited_at: Option<f64>,
    entered_event_id: u64,
    exited_event_id: Option<u64>,
    attempts: u64,
    failures: Vec<AttemptFailure>,
    pending_failure: Option<PendingFailure>,
    outcome: Option<StateStatus>,
    iterations: IterationCounts,
    /// The innermost Map iteration this entry runs in.
    iteration: Option<Iteration>,
    awaiting_callback: bool,
    /// What the latest `.waitForTaskToken` scheduling sent, as JSON text.
    callback_request: Option<String>,
    /// How many redrives came before the entry.
    redrive: u32,
}

struct StateDescription {
    id: String,
    name: String,
    state_type: &'static str,
    /// A Fail state's literal `Error` and `Cause`: AWS records them only when the Fail state
    /// ends the execution, not when it ends a Map iteration.
    fail_error: Option<String>,
    fail_cause: Option<String>,
}

struct Fold {
    states: Vec<StateDescription>,
    by_name: HashMap<String, usize>,
    entries: BTreeMap<u64, Entry>,
    /// Entries of each state, oldest first.
    entries_of: HashMap<usize, Vec<u64>>,
    unfinished: BTreeSet<u64>,
    /// Event id → the entry it belongs to.
    owner: HashMap<u64, Option<u64>>,
    /// Event id → the Map iteration it happened in.
    iteration_of: HashMap<u64, Option<Iteration>>,
    last_event_id: u64,
    transitions: u64,
    /// How many `ExecutionRedriven` events so far.
    redrives: u32,
    /// The entries the execution's end closed, which a redrive may resume.
    closed_by_end: BTreeSet<u64>,
}

impl Fold {
    fn new(machine: &StateMachine) -> Fold {
        let states: Vec<StateDescription> = machine
            .states()
            .map(|info| StateDescription {
                id: info.id.to_owned(),
                name: info.name.to_owned(),
                state_type: info.state_type,
                fail_error: info.fail_error.map(str::to_owned),
                fail_cause: info.fail_cause.map(str::to_owned),
            })
            .collect();
        // State names are unique across a definition, nested ones included.
        let by_name = states.iter().enumerate().map(|(index, state)| (state.name.clone(), index)).collect();
        Fold {
            states,
            by_name,
            entries: BTreeMap::new(),
            entries_of: HashMap::new(),
            unfinished: BTreeSet::new(),
            owner: HashMap::new(),
            iteration_of: HashMap::new(),
            last_event_id: 0,
            transitions: 0,
            redrives: 0,
            closed_by_end: BTreeSet::new(),
        }
    }

    fn apply(&mut self, event: &Value) {
        let id = event["id"].as_u64().unwrap_or(0);
        let previous = event["previousEventId"].as_u64().unwrap_or(0);
        let event_type = event["type"].as_str().unwrap_or_default();
        let details = details(event);
        self.last_event_id = self.last_event_id.max(id);
        let inherited = self.owner.get(&previous).copied().flatten();
        if let Some(entry) = inherited {
            self.resume_closed(entry);
        }
        let mut iteration = self.iteration_of.get(&previous).copied().flatten();
        let owner = if event_type.ends_with("StateEntered") {
            self.enter(id, inherited, iteration, event, details)
        } else if event_type.ends_with("StateExited") {
            let (owner, exited_in) = self.exit(id, inherited, event, details);
            // What follows a Map's exit is outside its iterations, but still inside the ones the
            // Map itself ran in.
            iteration = exited_in;
            owner
        } else if event_type == "ExecutionRedriven" {
            self.redrives += 1;
            None
        } else if event_type.starts_with("Execution") {
            self.end_execution(event_type, details);
            None
        } else {
            let owner = self.owner_of_inner_event(event_type, inherited, details);
            if let Some(entry) = owner {
                self.record(entry, id, event_type, details);
                if event_type == "MapIterationStarted" {
                    iteration = details["index"].as_u64().map(|index| Iteration { map_entry: entry, index });
                }
            }
            owner
        };
        self.owner.insert(id, owner);
        self.iteration_of.insert(id, iteration);
    }

    /// A `…StateEntered` event starts an entry, inside the entry its chain came from.
    fn enter(
        &mut self,
        id: u64,
        parent: Option<u64>,
        iteration: Option<Iteration>,
        event: &Value,
        details: &Value,
    ) -> Option<u64> {
        let state = self.state_named(details)?;
        self.transitions += 1;
        let is_fail = self.states[state].state_type == "Fail";
        self.entries.insert(
            id,
            Entry {
                state,
                parent,
                input: details["input"].as_str().map(str::to_owned),
                output: None,
                entered_at: event["timestamp"].as_f64(),
                // A Fail state has no exit event: it ends where it starts.
                exited_at: if is_fail { event["timestamp"].as_f64() } else { None },
                entered_event_id: id,
                exited_event_id: None,
                attempts: 0,
                failures: Vec::new(),
                pending_failure: is_fail.then(|| PendingFailure {
                    error: self.states[state].fail_error.clone(),
                    cause: self.states[state].fail_cause.clone(),
                    timed_out: false,
                }),
                // A Fail state fails as soon as it is entered.
                outcome: is_fail.then_some(StateStatus::Failed),
                iterations: IterationCounts::default(),
                iteration,
                awaiting_callback: false,
                callback_request: None,
                redrive: self.redrives,
            },
        );
        self.entries_of.entry(state).or_default().push(id);
        if !is_fail {
            self.unfinished.insert(id);
        }
        Some(id)
    }

    /// A `…StateExited` event ends its entry and hands the chain back to the containing entry.
    /// Returns that entry and the Map iteration the state ran in.
    fn exit(
        &mut self,
        id: u64,
        inherited: Option<u64>,
        event: &Value,
        details: &Value,
    ) -> (Option<u64>, Option<Iteration>) {
        let Some(state) = self.state_named(details) else { return (None, None) };
        let Some(entry_id) = inherited
            .and_then(|candidate| self.ancestor_or_self(candidate, |entry| entry.state == state))
            .or_else(|| self.latest_unfinished(state))
        else {
            return (None, None);
        };
        // Only Parallel and Map states contain others; skipping the rest keeps a large Map's
        // many exits from each scanning every running entry.
        if matches!(self.states[state].state_type, "Parallel" | "Map") {
            let caught = self.entries.get(&entry_id).is_some_and(|entry| entry.pending_failure.is_some());
            self.finish_descendants(entry_id, caught);
        }
        let Some(entry) = self.entries.get_mut(&entry_id) else { return (None, None) };
        entry.output = details["output"].as_str().map(str::to_owned);
        entry.exited_at = event["timestamp"].as_f64();
        entry.exited_event_id = Some(id);
        entry.awaiting_callback = false;
        entry.outcome =
            Some(if entry.pending_failure.is_some() { StateStatus::CaughtError } else { StateStatus::Succeeded });
        let (parent, iteration) = (entry.parent, entry.iteration);
        self.unfinished.remove(&entry_id);
        (parent, iteration)
    }

    /// The entry an event other than enter, exit or execution belongs to. Parallel and Map events
    /// can follow the last event of a nested state, so they climb to the container they name.
    fn owner_of_inner_event(&self, event_type: &str, inherited: Option<u64>, details: &Value) -> Option<u64> {
        if event_type.starts_with("MapIteration") {
            let state = self.state_named(details)?;
            return inherited
                .and_then(|candidate| self.ancestor_or_self(candidate, |entry| entry.state == state))
                .or_else(|| self.latest_unfinished(state));
        }
        let container = if event_type.starts_with("ParallelState") {
            "Parallel"
        } else if event_type.starts_with("MapState") || event_type.starts_with("MapRun") {
            "Map"
        } else {
            return inherited;
        };
        inherited.and_then(|candidate| {
            self.ancestor_or_self(candidate, |entry| self.states[entry.state].state_type == container)
        })
    }

    fn record(&mut self, entry_id: u64, event_id: u64, event_type: &str, details: &Value) {
        let Some(entry) = self.entries.get_mut(&entry_id) else { return };
        match event_type {
            "MapIterationStarted" => {
                entry.iterations.total += 1;
                entry.iterations.running += 1;
            }
            "MapIterationSucceeded" | "MapIterationFailed" | "MapIterationAborted" => {
                entry.iterations.running = entry.iterations.running.saturating_sub(1);
                match event_type {
                    "MapIterationSucceeded" => entry.iterations.succeeded += 1,
                    "MapIterationFailed" => {
                        entry.iterations.failed += 1;
                        if let Some(index) = details["index"].as_u64() {
                            entry.iterations.failed_indexes.push(index);
                        }
                    }
                    _ => entry.iterations.aborted += 1,
                }
            }
            _ if event_type.ends_with("Scheduled") => {
                entry.attempts += 1;
                entry.pending_failure = None;
                entry.awaiting_callback =
                    details["resource"].as_str().is_some_and(|r| r.ends_with(".waitForTaskToken"));
                entry.callback_request = entry
                    .awaiting_callback
                    .then(|| details["parameters"].as_str().or(details["input"].as_str()).map(str::to_owned))
                    .flatten();
            }
            _ if event_type.ends_with("Succeeded") => {
                entry.pending_failure = None;
                entry.awaiting_callback = false;
            }
            _ if is_failure(event_type) => {
                let error = details["error"].as_str().map(str::to_owned);
                let cause = details["cause"].as_str().map(str::to_owned);
                let timed_out = event_type.ends_with("TimedOut");
                entry.failures.push(AttemptFailure {
                    event_id,
                    event_type: event_type.to_owned(),
                    error: error.clone(),
                    cause: cause.clone(),
                });
                entry.pending_failure = Some(PendingFailure { error, cause, timed_out });
                entry.awaiting_callback = false;
            }
            _ if event_type.ends_with("Aborted") => {
                entry.outcome = Some(StateStatus::Cancelled);
                entry.awaiting_callback = false;
                self.unfinished.remove(&entry_id);
            }
            _ => {}
        }
    }

    /// A redrive resumed `entry` (a Parallel or Map the execution's end had closed), and the
    /// entries it runs in: they run again.
    fn resume_closed(&mut self, entry: u64) {
        let mut next = Some(entry);
        while let Some(id) = next.filter(|id| self.closed_by_end.remove(id)) {
            let Some(entry) = self.entries.get_mut(&id) else { break };
            entry.outcome = None;
            entry.pending_failure = None;
            entry.exited_at = None;
            self.unfinished.insert(id);
            next = entry.parent;
        }
    }

    /// The execution ended: whatever is still running ended with it.
    fn end_execution(&mut self, event_type: &str, details: &Value) {
        let ending = match event_type {
            "ExecutionSucceeded" => StateStatus::Succeeded,
            "ExecutionFailed" => StateStatus::Failed,
            "ExecutionTimedOut" => StateStatus::TimedOut,
            "ExecutionAborted" => StateStatus::Cancelled,
            _ => return,
        };
        self.closed_by_end = std::mem::take(&mut self.unfinished);
        for &entry_id in &self.closed_by_end {
            if let Some(entry) = self.entries.get_mut(&entry_id) {
                entry.outcome = Some(match (&entry.pending_failure, ending) {
                    (Some(failure), _) if failure.timed_out => StateStatus::TimedOut,
                    (Some(_), _) => StateStatus::Failed,
                    (None, StateStatus::Failed) => StateStatus::Cancelled,
                    (None, other) => other,
                });
                entry.awaiting_callback = false;
            }
        }
        // A Fail state whose Error is computed (ErrorPath) records it only here, as the
        // execution's error: it belongs to the Fail state entered last.
        if event_type == "ExecutionFailed"
            && let Some(entry) =
                self.entries.values_mut().rev().find(|entry| self.states[entry.state].state_type == "Fail")
            && entry.pending_failure.as_ref().is_none_or(|failure| failure.error.is_none())
        {
            entry.pending_failure = Some(PendingFailure {
                error: details["error"].as_str().map(str::to_owned),
                cause: details["cause"].as_str().map(str::to_owned),
                timed_out: false,
            });
        }
    }

    /// Ends the entries still running inside a container that has just ended. AWS records no
    /// exit for a Parallel that ends a branch of another Parallel, so an entry without a failure
    /// succeeded with its container, unless the container failed, which cancelled it.
    fn finish_descendants(&mut self, container: u64, container_failed: bool) {
        let inside: Vec<u64> = self
            .unfinished
            .iter()
            .copied()
            .filter(|&id| {
                id != container && self.ancestor_or_self(id, |entry| entry.entered_event_id == container).is_some()
            })
            .collect();
        for entry_id in inside {
            self.unfinished.remove(&entry_id);
            if let Some(entry) = self.entries.get_mut(&entry_id) {
                entry.outcome = Some(match &entry.pending_failure {
                    Some(failure) if failure.timed_out => StateStatus::TimedOut,
                    Some(_) => StateStatus::Failed,
                    None if container_failed => StateStatus::Cancelled,
                    None => StateStatus::Succeeded,
                });
                entry.awaiting_callback = false;
            }
        }
    }

    fn ancestor_or_self(&self, start: u64, matches: impl Fn(&Entry) -> bool) -> Option<u64> {
        let mut current = Some(start);
        while let Some(id) = current {
            let entry = self.entries.get(&id)?;
            if matches(entry) {
                return Some(id);
            }
            current = entry.parent;
        }
        None
    }

    fn latest_unfinished(&self, state: usize) -> Option<u64> {
        self.entries_of.get(&state)?.iter().rev().copied().find(|id| self.unfinished.contains(id))
    }

    fn state_named(&self, details: &Value) -> Option<usize> {
        self.by_name.get(details["name"].as_str()?).copied()
    }

    /// Whether `entry` ran inside iteration `index` of the Map entry `map_entry`, at any depth.
    fn runs_in(&self, entry: &Entry, map_entry: u64, index: u64) -> bool {
        let mut iteration = entry.iteration;
        while let Some(current) = iteration {
            if current == (Iteration { map_entry, index }) {
                return true;
            }
            iteration = self.entries.get(&current.map_entry).and_then(|map| map.iteration);
        }
        false
    }

    fn finish(self, focus: Option<&MapIteration>) -> ExecutionProgress {
        // The focused Map's latest entry, and the prefix of the states inside it.
        let focus = focus.and_then(|focus| {
            let map_state = self.states.iter().position(|state| state.id == focus.map)?;
            let map_entry = *self.entries_of.get(&map_state)?.last()?;
            Some((format!("{}/", focus.map), map_entry, focus.index))
        });
        let mut states = BTreeMap::new();
        for (state, entry_ids) in &self.entries_of {
            let description = &self.states[*state];
            let mut entries: Vec<&Entry> = entry_ids.iter().filter_map(|id| self.entries.get(id)).collect();
            if let Some((prefix, map_entry, index)) = &focus
                && description.id.starts_with(prefix.as_str())
            {
                entries.retain(|entry| self.runs_in(entry, *map_entry, *index));
            }
            // After a redrive ran a state again, its earlier unsuccessful entries are history.
            if let Some(newest) = entries.iter().map(|entry| entry.redrive).max() {
                entries.retain(|entry| entry.redrive == newest || entry.outcome == Some(StateStatus::Succeeded));
            }
            let Some(latest) = entries.last() else { continue };
            let status = aggregate_status(&entries);
            let waiting = entries.iter().rev().find(|entry| entry.awaiting_callback);
            let failure = latest.pending_failure.as_ref();
            states.insert(
                description.id.clone(),
                StateProgress {
                    name: description.name.clone(),
                    status,
                    entries: entries.len() as u64,
                    attempts: latest.attempts,
                    input: latest.input.clone(),
                    output: latest.output.clone(),
                    entered_at: latest.entered_at,
                    exited_at: latest.exited_at,
                    entered_event_id: latest.entered_event_id,
                    exited_event_id: latest.exited_event_id,
                    error: failure.and_then(|failure| failure.error.clone()),
                    cause: failure.and_then(|failure| failure.cause.clone()),
                    failures: latest.failures.clone(),
                    iterations: (description.state_type == "Map").then(|| iteration_counts(&entries)),
                    awaiting_callback: waiting.is_some(),
                    callback_request: waiting.and_then(|entry| entry.callback_request.clone()),
                },
            );
        }
        ExecutionProgress { last_event_id: self.last_event_id, transitions: self.transitions, states }
    }
}

/// Any entry still running makes the state in progress; otherwise a failure in any entry shows
/// (a Map iteration that failed), else the latest entry's outcome.
fn aggregate_status(entries: &[&Entry]) -> StateStatus {
    let outcomes: Vec<Option<StateStatus>> = entries.iter().map(|entry| entry.outcome).collect();
    if outcomes.iter().any(Option::is_none) {
        return StateStatus::InProgress;
    }
    for severe in [StateStatus::Failed, StateStatus::TimedOut] {
        if outcomes.contains(&Some(severe)) {
            return severe;
        }
    }
    outcomes.last().copied().flatten().unwrap_or(StateStatus::InProgress)
}

/// Counts summed over every run of a Map state; failed indexes of the latest run.
fn iteration_counts(entries: &[&Entry]) -> IterationCounts {
    let mut counts = entries.iter().fold(IterationCounts::default(), |sum, entry| IterationCounts {
        total: sum.total + entry.iterations.total,
        succeeded: sum.succeeded + entry.iterations.succeeded,
        failed: sum.failed + entry.iterations.failed,
        aborted: sum.aborted + entry.iterations.aborted,
        running: sum.running + entry.iterations.running,
        failed_indexes: Vec::new(),
    });
    if let Some(latest) = entries.last() {
        let mut failed = latest.iterations.failed_indexes.clone();
        failed.sort_unstable();
        failed.truncate(MAX_FAILED_INDEXES);
        counts.failed_indexes = failed;
    }
    counts
}

/// Event types that report a failed attempt of the state they belong to (`LambdaFunctionFailed`,
/// `TaskStartFailed`, `ActivityTimedOut`, `ParallelStateFailed`, …).
fn is_failure(event_type: &str) -> bool {
    event_type.ends_with("Failed") || event_type.ends_with("TimedOut")
}

/// The event's `…EventDetails` member, or `null`.
fn details(event: &Value) -> &Value {
    event
        .as_object()
        .and_then(|fields| fields.iter().find(|(key, _)| key.ends_with("EventDetails")).map(|(_, value)| value))
        .unwrap_or(&Value::Null)
}
