//! Durable state: state machines, executions, their journals and histories, leases, activities.
//!
//! # How executions survive a crash
//!
//! The interpreter (`stepwasm-asl`) is deterministic: given the same inputs, at the same
//! timestamps, with the same random draws, it produces the same state and history. So the store
//! keeps, per execution, a *journal*: every [`JournalEntry`] fed to the interpreter, in order,
//! with its timestamp and the random numbers it drew. Each entry is appended in one atomic
//! write together with the history events it produced, and that write is durable before any
//! action it caused (a task invocation, a timer) is carried out. After a restart the engine
//! replays the journal to rebuild the execution exactly, then re-issues what was outstanding:
//! a task attempt that was in flight may run again (as on AWS), a completed step never does.
//!
//! History events are stored as the interpreter made them ([`HistoryEvent`]), each step's
//! documents once; AWS's event shape is rendered when the history is read ([`StoredEvent`]).
//!
//! # Parked executions
//!
//! An execution that waits only for timers and callbacks needs nothing in memory: the journal
//! can rebuild it. Such an execution is *parked* ([`ExecutionStore::park`]) with what it waits
//! for ([`Parking`]): when it wakes by itself and the task tokens of its callbacks. A node finds
//! parked executions when they are due ([`ExecutionStore::due_executions`]) or by a token
//! ([`ExecutionStore::execution_awaiting`]), rebuilds them, and their next step unparks them.
//!
//! # Several nodes
//!
//! Nothing here relies on state held in one process. A node works on an execution only while it
//! holds its [`Lease`], which expires unless renewed, so another node takes over the executions
//! of a node that died. The SQLite store is the embedded default; the traits are shaped so a
//! PostgreSQL store shared by several nodes can implement them.
//!
//! # Callbacks across nodes
//!
//! A task token is recorded when it is issued ([`CallbackStore::issue_token`]), so any node
//! can tell which execution a `SendTaskSuccess` is for. The callback itself is posted to the
//! store ([`CallbackStore::post_signal`]) before the caller is answered, so it survives the
//! crash of any node; the node that drives the execution is woken by the store's notices
//! ([`CallbackStore::watch`]: PostgreSQL's `LISTEN`/`NOTIFY`) and a node that resumes an
//! execution reads what was posted to it. Posting to a parked execution also makes it due at
//! once, so the caller is answered without waiting for the resume, and a node that stops before
//! it resumes leaves the execution to the next node that looks for due ones. A posted signal is
//! deleted once it can no longer matter: its execution ended, or parked without waiting for its
//! token.
//!
//! An Activity task is queued in the store too ([`CallbackStore::schedule_activity_task`]), so
//! a worker polling any node takes it, exactly once, and is woken by the same notices.
//!
//! # Deployed functions
//!
//! The Wasm components of task functions are kept in the store as well
//! ([`FunctionStore`]), so a function deployed through any node runs on every node, and a
//! replaced or deleted one is replaced or deleted everywhere: the store's notices say which
//! function changed.
//!
//! # Traits
//!
//! Storage is split by table, so each handler's bounds say what it touches:
//! [`StateMachineStore`], [`ExecutionStore`], [`JournalStore`], [`LeaseStore`],
//! [`ActivityStore`], [`CallbackStore`], [`FunctionStore`], [`VersionStore`]. [`Store`] is all
//! of them.
//! [`MemoryStore`], [`SqliteStore`] and [`PostgresStore`] implement every trait and pass the same
//! test suite.
//!
//! Every method returns a [`StoreFuture`], reads included, so that a store across the network
//! waits without holding a thread. A future owns what it needs: none borrows its arguments.

mod encoding;
mod history_codec;
mod memory;
pub(crate) mod postgres;
mod sqlite;
#[cfg(test)]
mod suite;
mod versions;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stepwasm_asl::HistoryEvent;

use crate::engine::DocumentTexts;

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use versions::{
    AliasRecord, AliasWrite, MAX_ALIASES, MAX_VERSIONS, PublishRequest, Published, Route, VersionDeletion,
    VersionRecord, VersionStore, decide_alias_write, decide_publish, version_arn,
};

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {what}: {source}")]
    Database {
        /// What the store was doing.
        what: String,
        /// The database's own error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store cannot do what was asked: a write to an execution that does not exist, a value
    /// too large to store, a database that cannot be set up as the store needs.
    #[error("{0}")]
    Refused(String),
    /// The data directory cannot be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The database was written by a newer stepwasm.
    #[error("the database schema is version {found}, newer than this stepwasm knows ({known})")]
    SchemaTooNew {
        /// The schema version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A stored value could not be decoded.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The store has shut down.
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    /// A database failure while doing `what`.
    pub fn database(what: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Database { what: what.into(), source: Box::new(source) }
    }
}

/// The store's result type.
pub type StoreResult<T> = Result<T, StoreError>;

/// A boxed future, so the traits stay object-safe.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'a>>;

/// A store answer that is already known, as a future: for stores whose reads do not wait on I/O
/// worth yielding for (the in-memory store, SQLite's page cache).
pub(crate) fn ready<'a, T: Send + 'a>(result: StoreResult<T>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(result))
}

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The wake-up time of a parked execution that a signal was posted for: before any timer.
pub const SIGNALLED: Millis = 0;

/// `STANDARD` or `EXPRESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MachineType {
    /// Durable, exactly-once state transitions.
    Standard,
    /// In memory, at-least-once, capped at five minutes.
    Express,
}

impl MachineType {
    /// The AWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "STANDARD",
            Self::Express => "EXPRESS",
        }
    }
}

/// A state machine as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateMachineRecord {
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The ASL definition, as the user sent it.
    pub definition: String,
    /// The IAM role ARN the user gave (kept, not enforced).
    pub role_arn: String,
    /// STANDARD or EXPRESS.
    pub machine_type: MachineType,
    /// When it was created.
    pub created: Millis,
    /// When its definition or role last changed.
    pub updated: Millis,
    /// Changes on every update, for `UpdateStateMachine` replies.
    pub revision_id: String,
    /// Logging configuration as the user sent it (kept, not acted on).
    pub logging_configuration: Value,
    /// Tracing configuration as the user sent it.
    pub tracing_configuration: Value,
}

/// An execution's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Still running (or waiting).
    Running,
    /// Ended with an output.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Ran past the machine's `TimeoutSeconds`.
    TimedOut,
    /// Stopped by `StopExecution`.
    Aborted,
}

impl ExecutionStatus {
    /// The AWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Aborted => "ABORTED",
        }
    }

    /// Parses the AWS name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "RUNNING" => Self::Running,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "TIMED_OUT" => Self::TimedOut,
            "ABORTED" => Self::Aborted,
            _ => return None,
        })
    }
}

/// How many executions have not ended, by whether something drives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutionCounts {
    /// RUNNING and not parked.
    pub running: u64,
    /// RUNNING and parked: waiting in the store for a timer or a callback.
    pub parked: u64,
}

/// An execution as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`.
    pub arn: String,
    /// The state machine it runs.
    pub state_machine_arn: String,
    /// Its name, unique per state machine.
    pub name: String,
    /// The definition it runs: a copy, so updating the machine does not change it mid-run.
    pub definition: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// The input, as JSON text.
    pub input: String,
    /// The output, as JSON text, once it succeeded.
    pub output: Option<String>,
    /// The error, once it failed.
    pub error: Option<String>,
    /// The cause, once it failed.
    pub cause: Option<String>,
    /// When it started.
    pub start_date: Millis,
    /// When it ended.
    pub stop_date: Option<Millis>,
    /// The version it runs, if it was started through a version or an alias.
    pub version_arn: Option<String>,
    /// The alias it was started through, if any.
    pub alias_arn: Option<String>,
    /// How many times it was redriven.
    pub redrive_count: u32,
    /// When it was last redriven.
    pub redrive_date: Option<Millis>,
    /// The `clientToken` of its last redrive, so that a retried RedriveExecution is answered
    /// rather than refused.
    pub redrive_token: Option<String>,
}

/// What a redrive writes to an execution's row, with the step that redrives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// The execution's redrive count from now on.
    pub count: u32,
    /// When it was redriven.
    pub date: Millis,
    /// The request's `clientToken`.
    pub client_token: Option<String>,
}

/// What creating an execution did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A new execution.
    New(ExecutionRecord),
    /// One of that name already existed; it is returned as stored.
    Existing(ExecutionRecord),
}

/// One input fed to the interpreter, with what it needs to replay identically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// 0 for the start, then 1, 2, … with no gaps.
    pub sequence: u64,
    /// The input; `Start` for sequence 0.
    pub input: JournalInput,
    /// The time the interpreter was given.
    pub at: Millis,
    /// The random numbers it drew, in order.
    pub entropy: Vec<u64>,
}

/// A serialisable mirror of `stepwasm_asl::Input`, plus the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum JournalInput {
    /// The execution started with the stored input.
    Start,
    /// A task attempt returned.
    TaskSucceeded {
        /// The task.
        task_id: u64,
        /// Its result, shared with the step that applied it.
        output: Arc<Value>,
    },
    /// A task attempt failed.
    TaskFailed {
        /// The task.
        task_id: u64,
        /// The error name.
        error: String,
        /// The cause.
        cause: Option<String>,
    },
    /// A task attempt ran out of time.
    TaskTimedOut {
        /// The task.
        task_id: u64,
    },
    /// A task's worker missed its heartbeat.
    TaskHeartbeatTimedOut {
        /// The task.
        task_id: u64,
    },
    /// A `.waitForTaskToken` task's call returned; the task waits for its token.
    TaskSubmitted {
        /// The task.
        task_id: u64,
        /// What the call returned.
        output: Value,
    },
    /// A timer fired.
    TimerFired {
        /// The timer.
        timer_id: u64,
    },
    /// StopExecution.
    Stop {
        /// The error to record.
        error: Option<String>,
        /// The cause to record.
        cause: Option<String>,
    },
    /// UpdateMapRun.
    UpdateMapRun {
        /// The Map Run.
        map_run_arn: String,
        /// New `MaxConcurrency`.
        max_concurrency: Option<u64>,
        /// New `ToleratedFailureCount`.
        tolerated_failure_count: Option<u64>,
        /// New `ToleratedFailurePercentage`.
        tolerated_failure_percentage: Option<f64>,
    },
    /// RedriveExecution.
    Redrive,
}

/// One history event as read back, in AWS's `GetExecutionHistory` shape.
///
/// Stores keep events in the interpreter's form ([`HistoryEvent`], each step's documents once)
/// and render this shape only when the history is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The event id, 1-based, gap-free per execution.
    pub id: u64,
    /// The event as AWS returns it (`type`, `timestamp`, `…EventDetails`).
    pub event: Value,
}

impl StoredEvent {
    /// The event in AWS's shape.
    pub fn render(event: &HistoryEvent) -> Self {
        StoredEvent { id: event.id, event: event.to_aws_json() }
    }
}

/// How an execution ended, written with its last journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The final status.
    pub status: ExecutionStatus,
    /// The output, on success.
    pub output: Option<String>,
    /// The error, on failure.
    pub error: Option<String>,
    /// The cause, on failure.
    pub cause: Option<String>,
    /// When it ended.
    pub stop_date: Millis,
}

/// Everything one interpreter step wrote, stored atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct Append {
    /// The execution.
    pub execution_arn: String,
    /// The journal entry.
    pub entry: JournalEntry,
    /// The history events it produced, continuing the execution's ids.
    pub events: Vec<HistoryEvent>,
    /// The JSON text of documents in `events` that the engine serialised already; a store
    /// writes those as they are.
    pub documents: DocumentTexts,
    /// Set when this step ended the execution.
    pub completion: Option<Completion>,
}

/// What a parked execution waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parking {
    /// When it wakes by itself (its first timer or callback deadline); `None`: only a callback
    /// or a stop wakes it.
    pub wake_at: Option<Millis>,
    /// The callbacks (`.waitForTaskToken` tasks whose function has returned) it waits for.
    pub callbacks: Vec<AwaitedCallback>,
}

/// A callback a parked execution waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitedCallback {
    /// The task.
    pub task_id: u64,
    /// Its token, which SendTaskSuccess and SendTaskFailure quote.
    pub token: String,
    /// When it times out (`TimeoutSeconds` from when it was scheduled), if ever.
    pub deadline: Option<Millis>,
    /// Its `HeartbeatSeconds`, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_seconds: Option<u64>,
    /// When it misses its heartbeat unless one arrives first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_deadline: Option<Millis>,
}

/// A page request: at most `limit` items after the opaque `after` position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageRequest {
    /// How many items at most.
    pub limit: usize,
    /// Where the previous page ended (the `next` of the last page), if any.
    pub after: Option<String>,
    /// Newest first instead of oldest first.
    pub reverse: bool,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where this page ended, if more items follow.
    pub next: Option<String>,
}

/// A filter for listing executions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionFilter {
    /// Only this state machine's.
    pub state_machine_arn: Option<String>,
    /// Only those with this status.
    pub status: Option<ExecutionStatus>,
    /// Only those started through this version (directly or through an alias).
    pub version_arn: Option<String>,
    /// Only those started through this alias.
    pub alias_arn: Option<String>,
    /// Only those redriven at least once (`true`) or never (`false`).
    pub redriven: Option<bool>,
}

impl ExecutionFilter {
    /// Whether `execution` passes the filter.
    pub fn admits(&self, execution: &ExecutionRecord) -> bool {
        fn matches(wanted: Option<&String>, actual: Option<&String>) -> bool {
            wanted.is_none_or(|wanted| actual == Some(wanted))
        }
        matches(self.state_machine_arn.as_ref(), Some(&execution.state_machine_arn))
            && self.status.is_none_or(|status| status == execution.status)
            && matches(self.version_arn.as_ref(), execution.version_arn.as_ref())
            && matches(self.alias_arn.as_ref(), execution.alias_arn.as_ref())
            && self.redriven.is_none_or(|redriven| redriven == (execution.redrive_count > 0))
    }
}

/// A node's claim on a running execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The execution.
    pub execution_arn: String,
    /// The node holding it.
    pub owner: String,
    /// When the claim lapses unless renewed.
    pub expires: Millis,
}

/// An activity as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created: Millis,
}

/// State machines and their tags.
pub trait StateMachineStore: Send + Sync {
    /// Stores a new state machine; `false` if one with that ARN exists (nothing changes).
    fn create_state_machine(&self, record: &StateMachineRecord) -> StoreFuture<'_, bool>;
    /// Replaces a state machine; `false` if there is none.
    fn update_state_machine(&self, record: &StateMachineRecord) -> StoreFuture<'_, bool>;
    /// The state machine with this ARN.
    fn state_machine(&self, arn: &str) -> StoreFuture<'_, Option<StateMachineRecord>>;
    /// State machines by name, a page at a time.
    fn list_state_machines(&self, page: &PageRequest) -> StoreFuture<'_, Page<StateMachineRecord>>;
    /// Deletes a state machine (its executions stay readable); `false` if there was none.
    fn delete_state_machine(&self, arn: &str) -> StoreFuture<'_, bool>;
    /// Adds or replaces tags on any resource.
    fn tag_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> StoreFuture<'_, ()>;
    /// Removes tags from a resource.
    fn untag_resource(&self, arn: &str, keys: &[String]) -> StoreFuture<'_, ()>;
    /// A resource's tags.
    fn tags(&self, arn: &str) -> StoreFuture<'_, BTreeMap<String, String>>;
}

/// Executions: creation (idempotent by name), reads and listing.
pub trait ExecutionStore: Send + Sync {
    /// Creates a RUNNING execution with its start journal entry and first history events, in one
    /// write, or returns the existing execution of that ARN unchanged.
    fn create_execution(&self, record: &ExecutionRecord, start: &Append) -> StoreFuture<'_, Created>;
    /// The execution with this ARN.
    fn execution(&self, arn: &str) -> StoreFuture<'_, Option<ExecutionRecord>>;
    /// Executions, newest first, a page at a time.
    fn list_executions(&self, filter: &ExecutionFilter, page: &PageRequest) -> StoreFuture<'_, Page<ExecutionRecord>>;
    /// The ARNs of every RUNNING execution that is not parked: those some node must drive.
    fn running_executions(&self) -> StoreFuture<'_, Vec<String>>;
    /// How many RUNNING executions are driven and how many parked, for the metrics.
    fn execution_counts(&self) -> StoreFuture<'_, ExecutionCounts>;
    /// Parks a RUNNING execution: nothing drives it, and it is not among
    /// [`running_executions`](Self::running_executions), until [`due_executions`](Self::due_executions)
    /// names it or one of its callbacks arrives ([`execution_awaiting`](Self::execution_awaiting)).
    /// Its next append unparks it.
    fn park(&self, execution_arn: &str, parking: &Parking) -> StoreFuture<'_, ()>;
    /// How a parked execution is parked.
    fn parking(&self, execution_arn: &str) -> StoreFuture<'_, Option<Parking>>;
    /// The parked execution waiting for the callback with this task token.
    fn execution_awaiting(&self, task_token: &str) -> StoreFuture<'_, Option<String>>;
    /// Parked executions whose wake-up time is `now` or earlier, earliest first, at most `limit`.
    fn due_executions(&self, now: Millis, limit: usize) -> StoreFuture<'_, Vec<String>>;
    /// The earliest wake-up time of any parked execution.
    fn next_wake(&self) -> StoreFuture<'_, Option<Millis>>;
}

/// Journals and histories.
pub trait JournalStore: Send + Sync {
    /// Appends one step atomically. The future resolves once it is durable; many appends share
    /// one commit (group commit).
    fn append(&self, append: Append) -> StoreFuture<'_, ()>;
    /// Appends the step that redrives an execution and makes it RUNNING again, in one atomic
    /// write. Refused ([`StoreError::Refused`]) while the execution runs, or if another writer
    /// appended first: two redrives never both succeed.
    fn redrive(&self, append: Append, redrive: Redrive) -> StoreFuture<'_, ()>;
    /// The whole journal of an execution, in order.
    fn journal(&self, execution_arn: &str) -> StoreFuture<'_, Vec<JournalEntry>>;
    /// History events, a page at a time (`after` is the last event id seen).
    fn history(&self, execution_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<StoredEvent>>;
}

/// Claims on running executions, so one node at a time works on each.
///
/// Each write resolves once it is durable, as appends do; many share one commit. (They are
/// futures so that waking thousands of executions at once waits on commits, not on threads.)
pub trait LeaseStore: Send + Sync {
    /// Claims the execution for `owner` until `now + ttl` if it is unclaimed, expired, or
    /// already `owner`'s. Resolves to whether `owner` holds it now.
    fn claim(&self, execution_arn: &str, owner: &str, now: Millis, ttl_millis: i64) -> StoreFuture<'_, bool>;
    /// Extends every lease `owner` holds to `now + ttl`; resolves to the executions it holds,
    /// in ARN order. One it drives and that is missing here has been taken over.
    fn renew_all(&self, owner: &str, now: Millis, ttl_millis: i64) -> StoreFuture<'_, Vec<String>>;
    /// Gives up a claim.
    fn release(&self, execution_arn: &str, owner: &str) -> StoreFuture<'_, ()>;
}

/// Activities.
pub trait ActivityStore: Send + Sync {
    /// Creates an activity; returns the stored one if that ARN exists.
    fn create_activity(&self, record: &ActivityRecord) -> StoreFuture<'_, ActivityRecord>;
    /// The activity with this ARN.
    fn activity(&self, arn: &str) -> StoreFuture<'_, Option<ActivityRecord>>;
    /// Activities by name, a page at a time.
    fn list_activities(&self, page: &PageRequest) -> StoreFuture<'_, Page<ActivityRecord>>;
    /// Deletes an activity; `false` if there was none.
    fn delete_activity(&self, arn: &str) -> StoreFuture<'_, bool>;
}

/// A task token as issued to a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The token, as `$$.Task.Token` gives it.
    pub token: String,
    /// The execution whose task holds it.
    pub execution_arn: String,
    /// The Task state it was issued in.
    pub state_name: String,
    /// When it was issued: a retried task gets a newer one.
    pub issued: Millis,
}

/// A signal (a callback, a stop) posted for an execution and not yet deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedSignal {
    /// Its id, unique in the store.
    pub id: i64,
    /// The execution it is for.
    pub execution_arn: String,
    /// The signal, encoded by the service.
    pub signal: String,
}

/// An Activity task waiting for a worker's GetActivityTask, or handed to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTask {
    /// The activity it was scheduled on.
    pub activity_arn: String,
    /// The task token the worker answers with.
    pub token: String,
    /// The execution whose Task state scheduled it.
    pub execution_arn: String,
    /// The task input, as JSON text.
    pub input: String,
}

/// What a store's watch tells its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A signal was posted for this execution (by any node).
    Signal(String),
    /// A task was scheduled on this activity (by any node).
    ActivityTask(String),
    /// This function was deployed, replaced or deleted (by any node).
    Function(String),
    /// Notices may have been missed (the watch reconnected): look again at everything.
    MaybeMissed,
}

/// Task tokens, the signals sent to executions, and activity tasks waiting for workers, shared
/// by every node.
pub trait CallbackStore: Send + Sync {
    /// Records a newly issued token (once: issuing it again changes nothing).
    fn issue_token(&self, token: &IssuedToken) -> StoreFuture<'_, ()>;
    /// Who a token was issued to.
    fn token(&self, token: &str) -> StoreFuture<'_, Option<IssuedToken>>;
    /// Every token issued to an execution's tasks, oldest first.
    fn tokens_of(&self, execution_arn: &str) -> StoreFuture<'_, Vec<IssuedToken>>;
    /// Stores a signal for an execution; resolves to its id once it is durable, and notifies
    /// every node watching. A parked execution becomes due at once ([`SIGNALLED`]) in the same
    /// write, so a signal accepted by a node that stops before it resumes the execution is still
    /// taken: by whichever node next looks for [`due_executions`](ExecutionStore::due_executions).
    fn post_signal(&self, execution_arn: &str, signal: &str) -> StoreFuture<'_, i64>;
    /// The signals posted for an execution and not deleted, oldest first.
    fn signals(&self, execution_arn: &str) -> StoreFuture<'_, Vec<PostedSignal>>;
    /// Deletes signals.
    fn delete_signals(&self, ids: &[i64]) -> StoreFuture<'_, ()>;
    /// Queues an activity task for its workers, and notifies every node watching. Once per
    /// token: scheduling it again, even after a worker took it, changes nothing.
    fn schedule_activity_task(&self, task: &ActivityTask) -> StoreFuture<'_, ()>;
    /// Takes the oldest task queued on an activity, so that no other worker gets it.
    fn take_activity_task(&self, activity_arn: &str) -> StoreFuture<'_, Option<ActivityTask>>;
    /// Forgets an execution's activity tasks, taken or not: it has ended.
    fn drop_activity_tasks(&self, execution_arn: &str) -> StoreFuture<'_, ()>;
    /// Notices of signals posted and activity tasks scheduled by other processes, for a store
    /// that several nodes share; `None` for a store only this process uses. Each call starts a
    /// new watch.
    fn watch(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Notice>>;
}

/// A deployed task function, without its component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    /// Its name, which Task states refer to.
    pub name: String,
    /// The SHA-256 of its component, in lowercase hex.
    pub sha256: String,
    /// Its settings (limits, grants) as JSON, which the store keeps as given.
    pub config: String,
    /// When it was deployed.
    pub deployed: Millis,
}

/// Deployed task functions, shared by every node.
pub trait FunctionStore: Send + Sync {
    /// Stores a function, replacing the one of the same name, and notifies every node watching.
    fn put_function(&self, record: &FunctionRecord, component: &[u8]) -> StoreFuture<'_, ()>;
    /// A function, without its component.
    fn function(&self, name: &str) -> StoreFuture<'_, Option<FunctionRecord>>;
    /// A function with its component.
    fn function_component(&self, name: &str) -> StoreFuture<'_, Option<(FunctionRecord, Vec<u8>)>>;
    /// Every function, by name.
    fn list_functions(&self) -> StoreFuture<'_, Vec<FunctionRecord>>;
    /// Deletes a function, and notifies every node watching; `false` if there was none.
    fn delete_function(&self, name: &str) -> StoreFuture<'_, bool>;
}

/// A service integration bound through the API (`PUT /bindings/{integration}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRecord {
    /// The integration it binds, `SERVICE:ACTION` (`sns:publish`, `aws-sdk:s3:getObject`).
    pub integration: String,
    /// What it is bound to, as JSON, which the store keeps as given.
    pub target: String,
    /// When it was last put.
    pub updated: Millis,
}

/// Service integrations bound through the API, shared by every node.
pub trait BindingStore: Send + Sync {
    /// Stores a binding, replacing the one for the same integration.
    fn put_binding(&self, record: &BindingRecord) -> StoreFuture<'_, ()>;
    /// The binding of one integration.
    fn binding(&self, integration: &str) -> StoreFuture<'_, Option<BindingRecord>>;
    /// Every binding, by integration.
    fn list_bindings(&self) -> StoreFuture<'_, Vec<BindingRecord>>;
    /// Deletes a binding; `false` if there was none.
    fn delete_binding(&self, integration: &str) -> StoreFuture<'_, bool>;
}

/// A message queue kept in the store (the SQS-style queues of [`crate::queues`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    /// Its name, unique.
    pub name: String,
    /// When it was created.
    pub created: Millis,
    /// Its settings as JSON (`VisibilityTimeout`, `DelaySeconds`, …), kept as given.
    pub attributes: String,
}

/// A message in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// Unique across queues; sending a message of an id already sent does nothing.
    pub id: String,
    /// Its queue's name.
    pub queue: String,
    /// The body, as sent.
    pub body: String,
    /// Its message attributes as JSON, kept as given.
    pub attributes: String,
    /// When it was sent.
    pub sent: Millis,
    /// When it can next be received: after its delay, or once a receiver's visibility
    /// timeout ends.
    pub visible_at: Millis,
    /// How often it has been received.
    pub receive_count: u32,
}

/// How many messages a queue holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Receivable now.
    pub visible: u64,
    /// Received and not yet deleted, or still delayed.
    pub hidden: u64,
}

/// Message queues, shared by every node. A received message is hidden until `visible_at`; its
/// receipt handle (`ID.COUNT`) names the one receipt that may delete it or move its time.
pub trait QueueStore: Send + Sync {
    /// Creates a queue; `false` if one of that name exists.
    fn create_queue(&self, record: &QueueRecord) -> StoreFuture<'_, bool>;
    /// A queue.
    fn queue(&self, name: &str) -> StoreFuture<'_, Option<QueueRecord>>;
    /// Every queue, by name.
    fn list_queues(&self) -> StoreFuture<'_, Vec<QueueRecord>>;
    /// Deletes a queue and its messages; `false` if there was none.
    fn delete_queue(&self, name: &str) -> StoreFuture<'_, bool>;
    /// Adds a message to its queue; `false` if a message of its id was sent before.
    fn send_message(&self, message: &QueueMessage) -> StoreFuture<'_, bool>;
    /// Takes up to `max` messages of `queue` that are visible at `now`, oldest first, and hides
    /// them until `hidden_until`; each comes with its new receipt handle.
    fn receive_messages(
        &self,
        queue: &str,
        now: Millis,
        max: usize,
        hidden_until: Millis,
    ) -> StoreFuture<'_, Vec<(QueueMessage, String)>>;
    /// Deletes the message a receipt handle names; `false` if the handle is not its latest.
    fn delete_message(&self, queue: &str, receipt: &str) -> StoreFuture<'_, bool>;
    /// Hides the message a receipt handle names until `visible_at` (now: at once); `false` if
    /// the handle is not its latest.
    fn change_visibility(&self, queue: &str, receipt: &str, visible_at: Millis) -> StoreFuture<'_, bool>;
    /// Deletes every message of a queue.
    fn purge_queue(&self, queue: &str) -> StoreFuture<'_, ()>;
    /// How many messages a queue holds, at `now`.
    fn queue_counts(&self, queue: &str, now: Millis) -> StoreFuture<'_, QueueCounts>;
}

/// A receipt handle: the message's id and how often it had been received.
pub fn receipt_handle(message: &QueueMessage) -> String {
    format!("{}.{}", message.id, message.receive_count)
}

/// Messages just received, oldest first, each with its receipt handle.
pub(crate) fn with_receipts(mut received: Vec<QueueMessage>) -> Vec<(QueueMessage, String)> {
    received.sort_by(|a, b| (a.sent, &a.id).cmp(&(b.sent, &b.id)));
    received
        .into_iter()
        .map(|message| {
            let receipt = receipt_handle(&message);
            (message, receipt)
        })
        .collect()
}

/// The message id and receive count a receipt handle names.
pub fn parse_receipt(receipt: &str) -> Option<(&str, u32)> {
    let (id, count) = receipt.rsplit_once('.')?;
    Some((id, count.parse().ok()?))
}

/// Every store trait: what the server needs.
pub trait Store:
    StateMachineStore
    + ExecutionStore
    + JournalStore
    + LeaseStore
    + ActivityStore
    + CallbackStore
    + FunctionStore
    + VersionStore
    + BindingStore
    + QueueStore
{
}

impl<
    T: StateMachineStore
        + ExecutionStore
        + JournalStore
        + LeaseStore
        + ActivityStore
        + CallbackStore
        + FunctionStore
        + VersionStore
        + BindingStore
        + QueueStore,
> Store for T
{
}
