//! The server's figures, in Prometheus' text format on `GET /metrics`.
//!
//! One process-wide set, as a metrics registry usually is: the engine, the stores and the API
//! record into [`global`] wherever the thing happens, and [`render`] encodes it on a scrape.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `stepwasm_executions_started_total` | counter | `state_machine` |
//! | `stepwasm_executions_finished_total` | counter | `state_machine`, `status` |
//! | `stepwasm_state_transitions_total` | counter | |
//! | `stepwasm_task_invocation_seconds` | histogram | `function`, `outcome` |
//! | `stepwasm_task_fuel` | histogram | `function`, `outcome` |
//! | `stepwasm_store_commit_seconds` | histogram | `store` |
//! | `stepwasm_store_commit_batch_size` | histogram | `store` |
//! | `stepwasm_executions` | gauge | `state` (`running`, `parked`), from the store at scrape time |
//! | `stepwasm_http_requests_total` | counter | `operation`, `status` |

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MachineLabels {
    state_machine: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FinishedLabels {
    state_machine: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    function: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    status: String,
}

/// Histogram buckets: `start`, then ×`factor`, `count` of them.
#[derive(Clone)]
struct Buckets {
    start: f64,
    factor: f64,
    count: u16,
}

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(self.start, self.factor, self.count))
    }
}

/// Every figure the server keeps.
pub struct Metrics {
    registry: Registry,
    started: Family<MachineLabels, Counter>,
    finished: Family<FinishedLabels, Counter>,
    transitions: Counter,
    task_seconds: Family<TaskLabels, Histogram, Buckets>,
    task_fuel: Family<TaskLabels, Histogram, Buckets>,
    commit_seconds: Family<StoreLabels, Histogram, Buckets>,
    commit_batch: Family<StoreLabels, Histogram, Buckets>,
    executions: Family<StateLabels, Gauge>,
    requests: Family<RequestLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("stepwasm");
        let started = Family::<MachineLabels, Counter>::default();
        registry.register("executions_started", "Executions started, by state machine", started.clone());
        let finished = Family::<FinishedLabels, Counter>::default();
        registry.register("executions_finished", "Executions ended, by state machine and status", finished.clone());
        let transitions = Counter::default();
        registry.register("state_transitions", "States entered", transitions.clone());
        // 10 µs to about 40 s: a fresh Wasm instance to a function at its deadline.
        let task_seconds = Family::new_with_constructor(Buckets { start: 0.000_01, factor: 3.0, count: 15 });
        registry.register(
            "task_invocation_seconds",
            "Task attempts and how long each took, by function and outcome",
            task_seconds.clone(),
        );
        let task_fuel = Family::new_with_constructor(Buckets { start: 1_000.0, factor: 4.0, count: 12 });
        registry.register(
            "task_fuel",
            "Fuel (Wasm work) each task attempt used, by function and outcome",
            task_fuel.clone(),
        );
        let commit_seconds = Family::new_with_constructor(Buckets { start: 0.000_05, factor: 2.0, count: 16 });
        registry.register("store_commit_seconds", "How long each durable commit took", commit_seconds.clone());
        let commit_batch = Family::new_with_constructor(Buckets { start: 1.0, factor: 2.0, count: 10 });
        registry.register("store_commit_batch_size", "Writes per durable commit (group commit)", commit_batch.clone());
        let executions = Family::<StateLabels, Gauge>::default();
        registry.register(
            "executions",
            "Executions not yet ended: running (driven) or parked (waiting in the store)",
            executions.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "API requests, by operation and HTTP status", requests.clone());
        Self {
            registry,
            started,
            finished,
            transitions,
            task_seconds,
            task_fuel,
            commit_seconds,
            commit_batch,
            executions,
            requests,
        }
    }

    /// An execution of `state_machine` started.
    pub fn execution_started(&self, state_machine: &str) {
        self.started.get_or_create(&MachineLabels { state_machine: state_machine.to_owned() }).inc();
    }

    /// An execution of `state_machine` ended with `status` (`SUCCEEDED`, `FAILED`, …).
    pub fn execution_finished(&self, state_machine: &str, status: &str) {
        let labels = FinishedLabels { state_machine: state_machine.to_owned(), status: status.to_owned() };
        self.finished.get_or_create(&labels).inc();
    }

    /// `count` states were entered.
    pub fn states_entered(&self, count: u64) {
        if count > 0 {
            self.transitions.inc_by(count);
        }
    }

    /// A task attempt ran `function` (`succeeded`, `failed` or `timed_out`).
    pub fn task_invoked(&self, function: &str, outcome: &str, took: Duration, fuel: u64) {
        let labels = TaskLabels { function: function.to_owned(), outcome: outcome.to_owned() };
        self.task_seconds.get_or_create(&labels).observe(took.as_secs_f64());
        // Fuel is a count of guest instructions; as a float it only loses digits past 2^53.
        #[expect(clippy::cast_precision_loss, reason = "a histogram observation")]
        self.task_fuel.get_or_create(&labels).observe(fuel as f64);
    }

    /// A durable commit of `writes` writes took `took`.
    pub fn store_committed(&self, store: &str, writes: usize, took: Duration) {
        let labels = StoreLabels { store: store.to_owned() };
        self.commit_seconds.get_or_create(&labels).observe(took.as_secs_f64());
        #[expect(clippy::cast_precision_loss, reason = "a histogram observation")]
        self.commit_batch.get_or_create(&labels).observe(writes as f64);
    }

    /// An API request for `operation` was answered with `status`.
    pub fn request_answered(&self, operation: &str, status: u16) {
        let labels = RequestLabels { operation: operation.to_owned(), status: status.to_string() };
        self.requests.get_or_create(&labels).inc();
    }

    /// How many executions are running and parked now.
    pub fn set_executions(&self, running: u64, parked: u64) {
        for (state, count) in [("running", running), ("parked", parked)] {
            self.executions
                .get_or_create(&StateLabels { state: state.to_owned() })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    /// Everything, in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The state machine an execution ARN names
/// (`arn:aws:states:REGION:ACCOUNT:execution|express:MACHINE:NAME`).
pub fn machine_of(execution_arn: &str) -> &str {
    execution_arn.split(':').nth(6).unwrap_or_default()
}

/// How many of `events` enter a state.
pub fn states_entered(events: &[stepwasm_asl::HistoryEvent]) -> u64 {
    // By variant: the type's name is formatted anew for each event, on every step's hot path.
    events.iter().filter(|event| matches!(event.kind, stepwasm_asl::EventKind::StateEntered { .. })).count() as u64
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use stepwasm_asl::{EventKind, HistoryEvent, StateType, Timestamp};

    use super::*;

    #[test]
    fn only_state_entered_events_count_as_states_entered() {
        let document = Arc::new(serde_json::json!({}));
        let event =
            |id: u64, kind: EventKind| HistoryEvent { id, previous_event_id: id - 1, timestamp: Timestamp(0), kind };
        let entered = |state_type: StateType| EventKind::StateEntered {
            state_type,
            name: "S".into(),
            input: Arc::clone(&document),
        };
        let events = [
            event(1, entered(StateType::Pass)),
            event(
                2,
                EventKind::StateExited {
                    state_type: StateType::Pass,
                    name: "S".into(),
                    output: Arc::clone(&document),
                    assigned_variables: None,
                },
            ),
            event(3, entered(StateType::Map)),
        ];
        assert_eq!(states_entered(&events), 2);
        assert_eq!(states_entered(&events[1..2]), 0);
    }

    #[test]
    fn figures_render_in_the_text_format() {
        let metrics = Metrics::new();
        metrics.execution_started("orders");
        metrics.execution_finished("orders", "SUCCEEDED");
        metrics.states_entered(3);
        metrics.task_invoked("place-order", "succeeded", Duration::from_micros(40), 50_000);
        metrics.request_answered("StartExecution", 200);
        metrics.set_executions(2, 5);
        let text = metrics.render();
        for line in [
            "stepwasm_executions_started_total{state_machine=\"orders\"} 1",
            "stepwasm_executions_finished_total{state_machine=\"orders\",status=\"SUCCEEDED\"} 1",
            "stepwasm_state_transitions_total 3",
            "stepwasm_task_invocation_seconds_count{function=\"place-order\",outcome=\"succeeded\"} 1",
            "stepwasm_http_requests_total{operation=\"StartExecution\",status=\"200\"} 1",
            "stepwasm_executions{state=\"parked\"} 5",
        ] {
            assert!(text.contains(line), "{line} is missing from:\n{text}");
        }
    }
}
