//! Execution history events, serialised in the shape of AWS `GetExecutionHistory`.
//!
//! An event's documents (inputs, outputs, parameters) are the interpreter's own shared values.
//! [`EventKind`] is generic over how it holds them, so a store can write each step's distinct
//! documents once and the events with references to them ([`EventKind::map_documents`]); the
//! serde form of `EventKind` is that stored form, and AWS's shape is rendered only on reading
//! ([`HistoryEvent::to_aws_json`]).

use std::sync::Arc;

use serde::ser::{Serialize, Serializer};
use serde::{Deserialize, Serialize as DeriveSerialize};
use serde_json::{Map, Value, json};

use crate::timestamp::Timestamp;

/// One event of an execution's history.
///
/// Ids start at 1 and grow by one; `previous_event_id` points at the event this one follows from
/// in its own branch of control (0 for the first state of the execution, as AWS records it).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEvent {
    /// 1-based, increasing by one per event.
    pub id: u64,
    /// The event this one follows from.
    pub previous_event_id: u64,
    /// When the event happened (the `now` passed to the step that produced it).
    pub timestamp: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

/// The state types, for `<Type>StateEntered` / `<Type>StateExited` events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, DeriveSerialize, Deserialize)]
#[allow(missing_docs)]
pub enum StateType {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

impl StateType {
    pub(crate) fn from_name(name: &str) -> StateType {
        match name {
            "Task" => StateType::Task,
            "Choice" => StateType::Choice,
            "Wait" => StateType::Wait,
            "Succeed" => StateType::Succeed,
            "Fail" => StateType::Fail,
            "Parallel" => StateType::Parallel,
            "Map" => StateType::Map,
            _ => StateType::Pass,
        }
    }

    fn name(self) -> &'static str {
        match self {
            StateType::Pass => "Pass",
            StateType::Task => "Task",
            StateType::Choice => "Choice",
            StateType::Wait => "Wait",
            StateType::Succeed => "Succeed",
            StateType::Fail => "Fail",
            StateType::Parallel => "Parallel",
            StateType::Map => "Map",
        }
    }
}

/// Which family of task events a Task state produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, DeriveSerialize, Deserialize)]
pub enum TaskFamily {
    /// A plain Lambda function ARN or a `wasm:NAME` resource: `LambdaFunction*` events.
    Lambda,
    /// A service integration (`arn:aws:states:::lambda:invoke`, …): `Task*` events.
    Service,
    /// An activity: `Activity*` events.
    Activity,
}

/// What an event records. Each variant maps to one AWS `HistoryEventType`; see
/// [`EventKind::event_type`].
///
/// Documents (inputs, outputs, parameters) are `D`: in the interpreter, shared JSON values, the
/// same ones it passes between states, serialised only when [`HistoryEvent::to_aws_json`]
/// renders the event; in a store, whatever refers to the step's copy of each.
///
/// The serde form (field names in camelCase, externally tagged) is a stored format: variants and
/// fields may be added, with defaults, but never renamed.
#[derive(Clone, Debug, PartialEq, DeriveSerialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
#[allow(missing_docs)]
pub enum EventKind<D = Arc<Value>> {
    ExecutionStarted {
        input: D,
        role_arn: String,
        state_machine_arn: String,
    },
    ExecutionSucceeded {
        output: D,
    },
    ExecutionFailed {
        error: Option<String>,
        cause: Option<String>,
    },
    ExecutionAborted {
        error: Option<String>,
        cause: Option<String>,
    },
    ExecutionTimedOut {
        error: Option<String>,
        cause: Option<String>,
    },
    ExecutionRedriven {
        redrive_count: u32,
    },
    StateEntered {
        state_type: StateType,
        name: String,
        input: D,
    },
    /// `assigned_variables` holds the `Assign` results, if the state assigned any.
    StateExited {
        state_type: StateType,
        name: String,
        output: D,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assigned_variables: Option<Map<String, Value>>,
    },
    /// `LambdaFunctionScheduled`, `TaskScheduled` or `ActivityScheduled`.
    TaskScheduled {
        family: TaskFamily,
        resource_type: String,
        resource: String,
        region: String,
        parameters: D,
        timeout_in_seconds: Option<u64>,
        heartbeat_in_seconds: Option<u64>,
    },
    TaskStarted {
        family: TaskFamily,
        resource_type: String,
        resource: String,
    },
    /// A `.waitForTaskToken` integration's call returned; the task now waits for its token.
    TaskSubmitted {
        resource_type: String,
        resource: String,
        output: D,
    },
    TaskSucceeded {
        family: TaskFamily,
        resource_type: String,
        resource: String,
        output: D,
    },
    TaskFailed {
        family: TaskFamily,
        resource_type: String,
        resource: String,
        error: Option<String>,
        cause: Option<String>,
    },
    TaskTimedOut {
        family: TaskFamily,
        resource_type: String,
        resource: String,
        error: Option<String>,
        cause: Option<String>,
    },
    MapStateStarted {
        length: usize,
    },
    MapStateSucceeded,
    MapStateFailed,
    MapStateAborted,
    MapIterationStarted {
        name: String,
        index: usize,
    },
    MapIterationSucceeded {
        name: String,
        index: usize,
    },
    MapIterationFailed {
        name: String,
        index: usize,
    },
    MapIterationAborted {
        name: String,
        index: usize,
    },
    MapRunStarted {
        map_run_arn: String,
    },
    MapRunSucceeded,
    MapRunRedriven {
        map_run_arn: String,
        redrive_count: u32,
    },
    MapRunFailed {
        error: Option<String>,
        cause: Option<String>,
    },
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    ParallelStateAborted,
    WaitStateAborted,
    TaskStateAborted,
    EvaluationFailed {
        error: String,
        cause: String,
        location: Option<String>,
        state: String,
    },
}

impl<D> EventKind<D> {
    /// The same event with each document replaced by what `f` makes of it, in field order.
    pub fn map_documents<'a, E>(&'a self, mut f: impl FnMut(&'a D) -> E) -> EventKind<E> {
        use EventKind as K;
        match self {
            K::ExecutionStarted { input, role_arn, state_machine_arn } => K::ExecutionStarted {
                input: f(input),
                role_arn: role_arn.clone(),
                state_machine_arn: state_machine_arn.clone(),
            },
            K::ExecutionSucceeded { output } => K::ExecutionSucceeded { output: f(output) },
            K::ExecutionFailed { error, cause } => K::ExecutionFailed { error: error.clone(), cause: cause.clone() },
            K::ExecutionAborted { error, cause } => K::ExecutionAborted { error: error.clone(), cause: cause.clone() },
            K::ExecutionTimedOut { error, cause } => {
                K::ExecutionTimedOut { error: error.clone(), cause: cause.clone() }
            }
            K::ExecutionRedriven { redrive_count } => K::ExecutionRedriven { redrive_count: *redrive_count },
            K::StateEntered { state_type, name, input } => {
                K::StateEntered { state_type: *state_type, name: name.clone(), input: f(input) }
            }
            K::StateExited { state_type, name, output, assigned_variables } => K::StateExited {
                state_type: *state_type,
                name: name.clone(),
                output: f(output),
                assigned_variables: assigned_variables.clone(),
            },
            K::TaskScheduled {
                family,
                resource_type,
                resource,
                region,
                parameters,
                timeout_in_seconds,
                heartbeat_in_seconds,
            } => K::TaskScheduled {
                family: *family,
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                region: region.clone(),
                parameters: f(parameters),
                timeout_in_seconds: *timeout_in_seconds,
                heartbeat_in_seconds: *heartbeat_in_seconds,
            },
            K::TaskStarted { family, resource_type, resource } => {
                K::TaskStarted { family: *family, resource_type: resource_type.clone(), resource: resource.clone() }
            }
            K::TaskSubmitted { resource_type, resource, output } => {
                K::TaskSubmitted { resource_type: resource_type.clone(), resource: resource.clone(), output: f(output) }
            }
            K::TaskSucceeded { family, resource_type, resource, output } => K::TaskSucceeded {
                family: *family,
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                output: f(output),
            },
            K::TaskFailed { family, resource_type, resource, error, cause } => K::TaskFailed {
                family: *family,
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                error: error.clone(),
                cause: cause.clone(),
            },
            K::TaskTimedOut { family, resource_type, resource, error, cause } => K::TaskTimedOut {
                family: *family,
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                error: error.clone(),
                cause: cause.clone(),
            },
            K::MapStateStarted { length } => K::MapStateStarted { length: *length },
            K::MapStateSucceeded => K::MapStateSucceeded,
            K::MapStateFailed => K::MapStateFailed,
            K::MapStateAborted => K::MapStateAborted,
            K::MapIterationStarted { name, index } => K::MapIterationStarted { name: name.clone(), index: *index },
            K::MapIterationSucceeded { name, index } => K::MapIterationSucceeded { name: name.clone(), index: *index },
            K::MapIterationFailed { name, index } => K::MapIterationFailed { name: name.clone(), index: *index },
            K::MapIterationAborted { name, index } => K::MapIterationAborted { name: name.clone(), index: *index },
            K::MapRunStarted { map_run_arn } => K::MapRunStarted { map_run_arn: map_run_arn.clone() },
            K::MapRunSucceeded => K::MapRunSucceeded,
            K::MapRunRedriven { map_run_arn, redrive_count } => {
                K::MapRunRedriven { map_run_arn: map_run_arn.clone(), redrive_count: *redrive_count }
            }
            K::MapRunFailed { error, cause } => K::MapRunFailed { error: error.clone(), cause: cause.clone() },
            K::ParallelStateStarted => K::ParallelStateStarted,
            K::ParallelStateSucceeded => K::ParallelStateSucceeded,
            K::ParallelStateFailed => K::ParallelStateFailed,
            K::ParallelStateAborted => K::ParallelStateAborted,
            K::WaitStateAborted => K::WaitStateAborted,
            K::TaskStateAborted => K::TaskStateAborted,
            K::EvaluationFailed { error, cause, location, state } => K::EvaluationFailed {
                error: error.clone(),
                cause: cause.clone(),
                location: location.clone(),
                state: state.clone(),
            },
        }
    }
}

impl EventKind {
    /// The AWS `HistoryEventType`, e.g. `PassStateEntered` or `LambdaFunctionScheduled`.
    pub fn event_type(&self) -> String {
        use EventKind as K;
        let fam = |f: &TaskFamily, what: &str| match f {
            TaskFamily::Lambda => format!("LambdaFunction{what}"),
            TaskFamily::Service => format!("Task{what}"),
            TaskFamily::Activity => format!("Activity{what}"),
        };
        match self {
            K::ExecutionStarted { .. } => "ExecutionStarted".into(),
            K::ExecutionSucceeded { .. } => "ExecutionSucceeded".into(),
            K::ExecutionFailed { .. } => "ExecutionFailed".into(),
            K::ExecutionAborted { .. } => "ExecutionAborted".into(),
            K::ExecutionTimedOut { .. } => "ExecutionTimedOut".into(),
            K::ExecutionRedriven { .. } => "ExecutionRedriven".into(),
            K::StateEntered { state_type, .. } => format!("{}StateEntered", state_type.name()),
            K::StateExited { state_type, .. } => format!("{}StateExited", state_type.name()),
            K::TaskScheduled { family, .. } => fam(family, "Scheduled"),
            K::TaskStarted { family, .. } => fam(family, "Started"),
            K::TaskSubmitted { .. } => "TaskSubmitted".into(),
            K::TaskSucceeded { family, .. } => fam(family, "Succeeded"),
            K::TaskFailed { family, .. } => fam(family, "Failed"),
            K::TaskTimedOut { family, .. } => fam(family, "TimedOut"),
            K::MapStateStarted { .. } => "MapStateStarted".into(),
            K::MapStateSucceeded => "MapStateSucceeded".into(),
            K::MapStateFailed => "MapStateFailed".into(),
            K::MapStateAborted => "MapStateAborted".into(),
            K::MapIterationStarted { .. } => "MapIterationStarted".into(),
            K::MapIterationSucceeded { .. } => "MapIterationSucceeded".into(),
            K::MapIterationFailed { .. } => "MapIterationFailed".into(),
            K::MapIterationAborted { .. } => "MapIterationAborted".into(),
            K::MapRunStarted { .. } => "MapRunStarted".into(),
            K::MapRunSucceeded => "MapRunSucceeded".into(),
            K::MapRunRedriven { .. } => "MapRunRedriven".into(),
            K::MapRunFailed { .. } => "MapRunFailed".into(),
            K::ParallelStateStarted => "ParallelStateStarted".into(),
            K::ParallelStateSucceeded => "ParallelStateSucceeded".into(),
            K::ParallelStateFailed => "ParallelStateFailed".into(),
            K::ParallelStateAborted => "ParallelStateAborted".into(),
            K::WaitStateAborted => "WaitStateAborted".into(),
            K::TaskStateAborted => "TaskStateAborted".into(),
            K::EvaluationFailed { .. } => "EvaluationFailed".into(),
        }
    }

    /// The `<x>EventDetails` member name and its content, as `GetExecutionHistory` returns them.
    fn details(&self) -> Option<(String, Value)> {
        use EventKind as K;
        let text = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let payload = |key: &str, v: &Value| {
            let mut m = Map::new();
            m.insert(key.to_owned(), Value::String(text(v)));
            m.insert(format!("{key}Details"), json!({"truncated": false}));
            m
        };
        let err = |error: &Option<String>, cause: &Option<String>| {
            let mut m = Map::new();
            if let Some(e) = error {
                m.insert("error".into(), Value::String(e.clone()));
            }
            if let Some(c) = cause {
                m.insert("cause".into(), Value::String(c.clone()));
            }
            m
        };
        let fam_key = |f: &TaskFamily, what: &str| match f {
            TaskFamily::Lambda => format!("lambdaFunction{what}EventDetails"),
            TaskFamily::Service => format!("task{what}EventDetails"),
            TaskFamily::Activity => format!("activity{what}EventDetails"),
        };
        let svc = |m: &mut Map<String, Value>, f: &TaskFamily, rt: &str, r: &str| {
            if *f == TaskFamily::Service {
                m.insert("resourceType".into(), Value::String(rt.to_owned()));
                m.insert("resource".into(), Value::String(r.to_owned()));
            }
        };
        let (key, map) = match self {
            K::ExecutionStarted { input, role_arn, state_machine_arn } => {
                let mut m = payload("input", input);
                m.insert("roleArn".into(), Value::String(role_arn.clone()));
                m.insert("stateMachineArn".into(), Value::String(state_machine_arn.clone()));
                ("executionStartedEventDetails".to_owned(), m)
            }
            K::ExecutionSucceeded { output } => ("executionSucceededEventDetails".into(), payload("output", output)),
            K::ExecutionFailed { error, cause } => ("executionFailedEventDetails".into(), err(error, cause)),
            K::ExecutionAborted { error, cause } => ("executionAbortedEventDetails".into(), err(error, cause)),
            K::ExecutionTimedOut { error, cause } => ("executionTimedOutEventDetails".into(), err(error, cause)),
            K::ExecutionRedriven { redrive_count } => {
                let mut m = Map::new();
                m.insert("redriveCount".into(), Value::from(*redrive_count));
                ("executionRedrivenEventDetails".into(), m)
            }
            K::StateEntered { name, input, .. } => {
                let mut m = payload("input", input);
                m.insert("name".into(), Value::String(name.clone()));
                ("stateEnteredEventDetails".into(), m)
            }
            K::StateExited { name, output, assigned_variables, .. } => {
                let mut m = payload("output", output);
                m.insert("name".into(), Value::String(name.clone()));
                if let Some(vars) = assigned_variables {
                    let encoded: Map<String, Value> =
                        vars.iter().map(|(k, v)| (k.clone(), Value::String(text(v)))).collect();
                    m.insert("assignedVariables".into(), Value::Object(encoded));
                    m.insert("assignedVariablesDetails".into(), json!({"truncated": false}));
                }
                ("stateExitedEventDetails".into(), m)
            }
            K::TaskScheduled {
                family,
                resource_type,
                resource,
                region,
                parameters,
                timeout_in_seconds,
                heartbeat_in_seconds,
            } => {
                let mut m = Map::new();
                match family {
                    TaskFamily::Service => {
                        m.insert("resourceType".into(), Value::String(resource_type.clone()));
                        m.insert("resource".into(), Value::String(resource.clone()));
                        m.insert("region".into(), Value::String(region.clone()));
                        m.insert("parameters".into(), Value::String(text(parameters)));
                    }
                    TaskFamily::Lambda | TaskFamily::Activity => {
                        m.insert("resource".into(), Value::String(resource.clone()));
                        m.extend(payload("input", parameters));
                    }
                }
                if let Some(t) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), Value::from(*t));
                }
                if let Some(h) = heartbeat_in_seconds {
                    m.insert("heartbeatInSeconds".into(), Value::from(*h));
                }
                (fam_key(family, "Scheduled"), m)
            }
            K::TaskStarted { family, resource_type, resource } => {
                if *family == TaskFamily::Lambda {
                    return None;
                }
                let mut m = Map::new();
                svc(&mut m, family, resource_type, resource);
                (fam_key(family, "Started"), m)
            }
            K::TaskSubmitted { resource_type, resource, output } => {
                let mut m = payload("output", output);
                svc(&mut m, &TaskFamily::Service, resource_type, resource);
                ("taskSubmittedEventDetails".into(), m)
            }
            K::TaskSucceeded { family, resource_type, resource, output } => {
                let mut m = payload("output", output);
                svc(&mut m, family, resource_type, resource);
                (fam_key(family, "Succeeded"), m)
            }
            K::TaskFailed { family, resource_type, resource, error, cause } => {
                let mut m = err(error, cause);
                svc(&mut m, family, resource_type, resource);
                (fam_key(family, "Failed"), m)
            }
            K::TaskTimedOut { family, resource_type, resource, error, cause } => {
                let mut m = err(error, cause);
                svc(&mut m, family, resource_type, resource);
                (fam_key(family, "TimedOut"), m)
            }
            K::MapStateStarted { length } => {
                ("mapStateStartedEventDetails".into(), json_map(json!({"length": length})))
            }
            K::MapIterationStarted { name, index } => {
                ("mapIterationStartedEventDetails".into(), json_map(json!({"name": name, "index": index})))
            }
            K::MapIterationSucceeded { name, index } => {
                ("mapIterationSucceededEventDetails".into(), json_map(json!({"name": name, "index": index})))
            }
            K::MapIterationFailed { name, index } => {
                ("mapIterationFailedEventDetails".into(), json_map(json!({"name": name, "index": index})))
            }
            K::MapIterationAborted { name, index } => {
                ("mapIterationAbortedEventDetails".into(), json_map(json!({"name": name, "index": index})))
            }
            K::MapRunStarted { map_run_arn } => {
                ("mapRunStartedEventDetails".into(), json_map(json!({"mapRunArn": map_run_arn})))
            }
            K::MapRunFailed { error, cause } => ("mapRunFailedEventDetails".into(), err(error, cause)),
            K::MapRunRedriven { map_run_arn, redrive_count } => (
                "mapRunRedrivenEventDetails".into(),
                json_map(json!({"mapRunArn": map_run_arn, "redriveCount": redrive_count})),
            ),
            K::EvaluationFailed { error, cause, location, state } => {
                let mut m = json_map(json!({"error": error, "cause": cause, "state": state}));
                if let Some(l) = location {
                    m.insert("location".into(), Value::String(l.clone()));
                }
                ("evaluationFailedEventDetails".into(), m)
            }
            K::MapStateSucceeded
            | K::MapStateFailed
            | K::MapStateAborted
            | K::MapRunSucceeded
            | K::ParallelStateStarted
            | K::ParallelStateSucceeded
            | K::ParallelStateFailed
            | K::ParallelStateAborted
            | K::WaitStateAborted
            | K::TaskStateAborted => return None,
        };
        Some((key, Value::Object(map)))
    }
}

fn json_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl HistoryEvent {
    /// The AWS `HistoryEventType` of this event.
    pub fn event_type(&self) -> String {
        self.kind.event_type()
    }

    /// The event as one element of `GetExecutionHistory`'s `events` array (timestamps as epoch
    /// seconds, payloads as JSON strings).
    pub fn to_aws_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("timestamp".into(), json!(self.timestamp.as_millis() as f64 / 1000.0));
        m.insert("type".into(), Value::String(self.event_type()));
        m.insert("id".into(), Value::from(self.id));
        m.insert("previousEventId".into(), Value::from(self.previous_event_id));
        if let Some((key, details)) = self.kind.details() {
            m.insert(key, details);
        }
        Value::Object(m)
    }
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_aws_json().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_like_get_execution_history() {
        let e = HistoryEvent {
            id: 2,
            previous_event_id: 0,
            timestamp: Timestamp(1500),
            kind: EventKind::StateEntered {
                state_type: StateType::Pass,
                name: "A".into(),
                input: Arc::new(json!({"x": 1})),
            },
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"timestamp": 1.5, "type": "PassStateEntered", "id": 2, "previousEventId": 0,
                   "stateEnteredEventDetails": {"name": "A", "input": "{\"x\":1}", "inputDetails": {"truncated": false}}})
        );
        let t = EventKind::TaskScheduled {
            family: TaskFamily::Service,
            resource_type: "lambda".into(),
            resource: "invoke".into(),
            region: "us-east-1".into(),
            parameters: Arc::new(json!({})),
            timeout_in_seconds: Some(5),
            heartbeat_in_seconds: None,
        };
        assert_eq!(t.event_type(), "TaskScheduled");
        let l = EventKind::TaskFailed {
            family: TaskFamily::Lambda,
            resource_type: String::new(),
            resource: String::new(),
            error: Some("E".into()),
            cause: None,
        };
        assert_eq!(l.event_type(), "LambdaFunctionFailed");
        assert_eq!(l.details().unwrap(), ("lambdaFunctionFailedEventDetails".to_owned(), json!({"error": "E"})));
    }
}
