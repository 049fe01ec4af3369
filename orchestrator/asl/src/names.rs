//! The error names the engine raises and matches, as AWS spells them.
//!
//! Retry and Catch match these by string, and users write them in definitions, so they are part
//! of the engine's contract: one constant each, used everywhere instead of a literal.

/// Matches every error except [`RUNTIME`] and [`DATA_LIMIT_EXCEEDED`] (only in Retry/Catch).
pub const ALL: &str = "States.ALL";
/// A failure of the engine itself or of the definition at run time (a path that does not
/// resolve, a value of the wrong type); never retried or caught.
pub const RUNTIME: &str = "States.Runtime";
/// Matches every error raised by a task's own work except [`TIMEOUT`] (only in Retry/Catch).
pub const TASK_FAILED: &str = "States.TaskFailed";
/// A task or the execution ran past its `TimeoutSeconds`.
pub const TIMEOUT: &str = "States.Timeout";
/// A task's worker sent no heartbeat (SendTaskHeartbeat) within its `HeartbeatSeconds`.
pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
/// A JSONata expression failed, or returned something its field cannot take.
pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
/// No Choice rule matched and the state has no `Default`.
pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
/// A `ResultPath` could not be applied to the state's input.
pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
/// A Map state had more failed iterations than `ToleratedFailureCount` / `Percentage` allow.
pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
/// A payload was larger than the service allows (256 KiB).
pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
/// A Distributed Map's `ItemReader` could not read or parse its items.
pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
/// A Distributed Map's `ResultWriter` could not write its results.
pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
