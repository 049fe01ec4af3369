//! The Step Functions service: what the API operations do, on top of the store and the engine.
//!
//! Each operation is a method of [`Service`] that takes plain Rust values and returns a
//! [`ServiceError`] carrying the AWS error name and message. STANDARD executions are journaled
//! in the store step by step and resumed after a restart; EXPRESS executions run in memory.
//! A STANDARD execution that only waits (for a timer at least [`ServiceConfig::park_after`] off,
//! or a callback) is parked in the store; a loop on every node wakes parked executions when they
//! are due, and a callback or StopExecution wakes its execution at once.
//!
//! Callbacks and stops reach their execution from any node: the token says which execution
//! it is for (the store records every token issued), the signal is posted to the store before
//! the caller is answered, and the node that drives the execution takes it from there, woken by
//! the store's notices. A node that resumes an execution reads what was posted to it.

mod activities;
mod bindings;
mod children;
mod compiled;
mod error;
mod executions;
mod functions;
mod machines;
mod map_runs;
mod names;
mod nested;
mod node;
mod quota;
mod recorder;
mod redrive;
mod test_state;
mod versions;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use stepwasm_asl::{HistoryEvent, TaskResource};
use stepwasm_runtime::Runtime;
use tokio::sync::{broadcast, mpsc};

use crate::access::AccessKeys;
use crate::bindings::{Binding, Bindings, BoundIntegrations};
use crate::engine::{
    BoxFuture, Clock, Engine, InvocationRecord, Signal, TaskCall, TaskInvoker, TaskOutcome, WasmTasks, function_name,
};
use crate::http_task::{HttpTaskConfig, HttpTasks};
use crate::mocks::{MockConfig, MockedExecution, MockedTasks, TestCaseLookup};
use crate::objects::{BucketTasks, ObjectStore};
use crate::queues::Queues;
use crate::store::{ActivityTask, Store};
use crate::traces::TraceExporter;
use activities::ActivityWakeups;
use functions::FunctionSync;

pub use bindings::{BindingDescription, UnboundIntegration};
pub use error::{ErrorKind, ServiceError};
pub use executions::{ExecutionDescription, HistoryPage, SyncOutcome};
pub use functions::FunctionDescription;
pub(crate) use machines::task_resources;
pub use machines::{StateMachineDescription, ValidationReport};
pub use map_runs::{MapRunLimits, MapRunPage};
pub use test_state::{MockError, StateConfiguration, TestStateMock, TestStateReply, TestStateRequest};
pub use versions::{MachineView, RouteRequest, check_description};

/// The service's result type.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// This node's name in execution leases. Default: `node-<pid>`.
    pub node_id: String,
    /// Which data directory (or process) runs as `node_id`: a second instance under the same
    /// name on the same store is refused, since the two would take each other's executions for
    /// their own; the same instance restarting is not a second one. Empty (the default): no
    /// check, for an embedder that runs one service per store or names its nodes itself.
    pub instance_id: String,
    /// How long a lease lasts without renewal, in milliseconds. Default 30 s: another node takes
    /// over a dead node's executions after at most this long.
    pub lease_ttl_millis: i64,
    /// The largest execution input, task output or callback output, in bytes of UTF-8.
    /// Default 262,144 (256 KiB), as on AWS.
    pub max_payload_bytes: usize,
    /// How long GetActivityTask waits for work before answering with no task. Default 60 s,
    /// as on AWS (clients should read with a longer socket timeout).
    pub activity_poll: Duration,
    /// An execution that waits only for a timer at least this far off is parked: dropped from
    /// memory, and rebuilt from its journal when the timer is due. `None` keeps every execution
    /// in memory. Default 500 ms: a shorter wait costs less than a rebuild.
    pub park_after: Option<Duration>,
    /// The buckets Distributed Maps read their items from. Default: none, so an `ItemReader`
    /// fails with `States.ItemReaderFailed` saying so.
    pub objects: ObjectStore,
    /// Where the service reads the time. Default: the system clock. Tests pass a clock they can
    /// [`advance`](crate::engine::Clock::advance), to wake parked executions without waiting.
    pub clock: Clock,
    /// Mocked task responses: an execution started as `STATE_MACHINE_ARN#TEST_CASE` has its
    /// tasks answered by that test case, as on Step Functions Local. Default: none.
    pub mocks: Option<Arc<MockConfig>>,
    /// How long waits really take, as a fraction of what definitions say
    /// ([`stepwasm_asl::ExecutionContext::wait_time_scale`]). Default 1; test servers use less.
    pub wait_time_scale: f64,
    /// What HTTP Tasks (`arn:aws:states:::http:invoke`) may reach, and the connections they
    /// authenticate with. Default: no origin, so every HTTP Task fails saying so.
    pub http: HttpTaskConfig,
    /// The access keys API calls must be signed with. Default: none, an open server.
    pub access_keys: AccessKeys,
    /// How many executions may be open (not ended) at once, as AWS's account quota of
    /// 1,000,000. A start past it fails with `ExecutionLimitExceeded`, so a machine that starts
    /// copies of itself stops there.
    pub max_open_executions: u64,
    /// Where each execution's trace goes when it ends (OTLP/HTTP). Default: nowhere.
    pub traces: Option<Arc<TraceExporter>>,
    /// Service integrations bound by the server's configuration, by integration
    /// (`sns:publish`); the API cannot change these. Default: none.
    pub bindings: BTreeMap<String, Binding>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            node_id: format!("node-{}", std::process::id()),
            instance_id: String::new(),
            lease_ttl_millis: 30_000,
            max_payload_bytes: 262_144,
            activity_poll: activities::DEFAULT_ACTIVITY_POLL,
            park_after: Some(Duration::from_millis(500)),
            clock: Clock::new(),
            objects: ObjectStore::default(),
            mocks: None,
            wait_time_scale: 1.0,
            http: HttpTaskConfig::default(),
            access_keys: AccessKeys::default(),
            max_open_executions: 1_000_000,
            traces: None,
            bindings: BTreeMap::new(),
        }
    }
}

/// Something that happened to an execution, for live views such as the console.
#[derive(Debug, Clone)]
pub struct ExecutionEvent {
    /// The execution.
    pub execution_arn: String,
    /// The history event, in AWS's shape.
    pub event: Value,
}

/// The Step Functions service.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    runtime: Runtime,
    /// Keeps `runtime` in step with the functions deployed in the store.
    functions: Arc<FunctionSync>,
    engine: Engine,
    /// Every definition compiled once, for starts, resumes, progress and graphs.
    machines: compiled::CompiledMachines,
    config: ServiceConfig,
    /// Signal channels of the executions this node is driving.
    /// `None`: a start or a resume on this node has reserved the execution and is about to
    /// drive it, so nothing else here may.
    live: Mutex<HashMap<String, Option<LiveDriver>>>,
    events: broadcast::Sender<ExecutionEvent>,
    activities: Arc<ActivityWakeups>,
    /// Executions this node scheduled activity tasks for, whose tasks go when they end.
    activity_executions: Arc<Mutex<HashSet<String>>>,
    /// Told when this node parks an execution, so the wake-up loop sees a new earliest time.
    parked: tokio::sync::Notify,
    /// Whether the wake-up loop runs.
    waking: std::sync::atomic::AtomicBool,
    /// Bounds the executions resumed at once for signals posted here: a burst of callbacks
    /// waits here as small tasks rather than as that many rebuilt executions.
    resuming: tokio::sync::Semaphore,
    /// The ARN of each execution that ends on this node, for parents waiting on a child.
    endings: broadcast::Sender<String>,
    /// Answers the tasks of executions that run a test case, when mocks are configured.
    mocked: Option<Arc<MockedTasks>>,
    /// The open executions, counted for the quota.
    open: quota::OpenExecutions,
    /// What the service integrations of definitions run here.
    bindings: Bindings,
    /// The SQS-style queues in the store.
    queues: Queues,
}

impl Service {
    /// A service over `store`, running Task states as functions registered in `runtime`.
    pub fn new(store: Arc<dyn Store>, runtime: Runtime, config: ServiceConfig) -> Self {
        let tasks = Arc::new(WasmTasks::new(runtime.clone()));
        Self::with_invoker(store, runtime, tasks, config)
    }

    /// A service over `store` whose Task states are run by `tasks` (activities still go to
    /// their workers). `runtime` is where the functions API registers functions; `tasks` may
    /// run them or do anything else, such as answer with canned results in a test.
    pub fn with_invoker(
        store: Arc<dyn Store>,
        runtime: Runtime,
        tasks: Arc<dyn TaskInvoker>,
        config: ServiceConfig,
    ) -> Self {
        let activities = Arc::new(ActivityWakeups::default());
        let activity_executions = Arc::new(Mutex::new(HashSet::new()));
        let functions = Arc::new(FunctionSync::new(Arc::clone(&store), runtime.clone()));
        let tasks = TaskRouting {
            inner: tasks,
            functions: Arc::clone(&functions),
            store: Arc::clone(&store),
            activities: Arc::clone(&activities),
            activity_executions: Arc::clone(&activity_executions),
        };
        let bindings = Bindings::new(config.bindings.clone(), Arc::clone(&store));
        let queues = Queues::new(Arc::clone(&store), config.clock.clone());
        let (events, _) = broadcast::channel(4096);
        let (endings, _) = broadcast::channel(1024);
        let inner = Arc::new_cyclic(|service| {
            let tasks = Arc::new(BucketTasks::new(Arc::new(tasks), config.objects.clone()));
            let tasks = Arc::new(BoundIntegrations::new(tasks, bindings.clone(), config.http.clone(), queues.clone()));
            let tasks = Arc::new(HttpTasks::new(tasks, config.http.clone()));
            let tasks: Arc<dyn TaskInvoker> = Arc::new(nested::NestedExecutions::new(service.clone(), tasks));
            let mocked = config.mocks.as_ref().map(|mocks| {
                let lookup = test_case_lookup(Arc::clone(&store));
                Arc::new(MockedTasks::new(Arc::clone(mocks), Arc::clone(&tasks), Some(lookup)))
            });
            let tasks = match &mocked {
                Some(mocked) => Arc::clone(mocked) as Arc<dyn TaskInvoker>,
                None => tasks,
            };
            Inner {
                store,
                runtime,
                functions,
                engine: Engine::with_clock(tasks, config.clock.clone()),
                machines: compiled::CompiledMachines::default(),
                config,
                live: Mutex::new(HashMap::new()),
                events,
                activities,
                activity_executions,
                parked: tokio::sync::Notify::new(),
                waking: std::sync::atomic::AtomicBool::new(false),
                resuming: tokio::sync::Semaphore::new(RESUMED_AT_ONCE),
                endings,
                mocked,
                open: quota::OpenExecutions::default(),
                bindings,
                queues,
            }
        });
        Self { inner }
    }

    /// The Wasm runtime task functions are registered in.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The access keys API calls must be signed with; none for an open server.
    pub fn access_keys(&self) -> &AccessKeys {
        &self.inner.config.access_keys
    }

    /// The SQS-style queues in the store.
    pub fn queues(&self) -> &Queues {
        &self.inner.queues
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// A stream of every history event as it is written.
    pub fn subscribe(&self) -> broadcast::Receiver<ExecutionEvent> {
        self.inner.events.subscribe()
    }

    /// Renders `events` in AWS's shape for the live streams, if anyone listens.
    fn publish(&self, execution_arn: &str, events: &[HistoryEvent]) {
        if self.inner.events.receiver_count() == 0 {
            return;
        }
        for event in events {
            let _ = self
                .inner
                .events
                .send(ExecutionEvent { execution_arn: execution_arn.to_owned(), event: event.to_aws_json() });
        }
    }
}

/// An execution this node drives: where its signals go, and which posted signals it was sent.
pub(crate) struct LiveDriver {
    pub(crate) sender: mpsc::UnboundedSender<Signal>,
    pub(crate) delivered: HashSet<i64>,
    /// Stops the driver, without journaling more: this node has lost the execution's lease.
    pub(crate) abandon: Arc<tokio::sync::Notify>,
    /// The drive has returned and is giving its lease back: a missing lease is no loss.
    pub(crate) ending: bool,
}

/// Queues Activity tasks for their workers instead of running a function; runs every other
/// task with `inner`, once the function it names is registered here if the store has it.
struct TaskRouting {
    inner: Arc<dyn TaskInvoker>,
    functions: Arc<FunctionSync>,
    store: Arc<dyn Store>,
    activities: Arc<ActivityWakeups>,
    activity_executions: Arc<Mutex<HashSet<String>>>,
}

impl TaskInvoker for TaskRouting {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        let TaskResource::Activity { arn } = &call.resource else {
            return match function_name(&call.resource) {
                Ok(name) if !self.functions.is_registered(&name) => Box::pin(async move {
                    // Deployed through another node a moment ago, perhaps: its notice may not
                    // have arrived yet. A function nobody deployed costs this one read per task.
                    if let Err(error) = self.functions.sync(&name).await {
                        tracing::warn!(function = %name, "the function could not be registered from the store: {error}");
                    }
                    self.inner.invoke(call).await
                }),
                _ => self.inner.invoke(call),
            };
        };
        let task = ActivityTask {
            activity_arn: arn.clone(),
            token: call.context.task_token.clone().unwrap_or_default(),
            execution_arn: call.context.execution_arn.clone(),
            input: call.payload.to_string(),
        };
        Box::pin(async move {
            self.activity_executions.lock().unwrap_or_else(PoisonError::into_inner).insert(task.execution_arn.clone());
            if let Err(error) = self.store.schedule_activity_task(&task).await {
                let failure = TaskOutcome::Failed {
                    error: "States.TaskFailed".to_owned(),
                    cause: Some(format!("the activity task could not be queued: {error}")),
                };
                return (failure, None);
            }
            self.activities.wake(&task.activity_arn);
            // The worker answers through SendTaskSuccess; this only scheduled the work.
            (TaskOutcome::Succeeded(Value::Null), None)
        })
    }
}

/// How many executions one node resumes at once, for the signals posted through it and, apart,
/// for the wake-up loop. Rebuilding one waits on a lease write; many wait together, in one group
/// commit.
const RESUMED_AT_ONCE: usize = 256;

/// The tag that records which test case an execution runs, so that a restarted server still
/// answers its tasks from it.
const TEST_CASE_TAG: &str = "stepwasm:testCase";

/// Finds an execution's test case in its tags.
fn test_case_lookup(store: Arc<dyn Store>) -> TestCaseLookup {
    Arc::new(move |execution_arn: String| {
        let store = Arc::clone(&store);
        Box::pin(async move {
            let tags = store.tags(&execution_arn).await.ok()?;
            let test_case = tags.get(TEST_CASE_TAG)?.clone();
            let machine = names::execution_parts(&execution_arn).ok()?.0.to_owned();
            Some(MockedExecution { machine, test_case })
        })
    })
}
