//! Stand-in for `wait_60_seconds.py`: sleeps a minute, then returns its input.
//!
//! Cases give the Task a shorter `TimeoutSeconds`, so it is expected to be stopped first. The
//! sleep goes through WASI's monotonic clock, which yields to the host instead of spinning.

use std::time::Duration;

use serde_json::Value;
use stepwasm_guest::{Context, TaskError};

/// Sleeps 60 seconds, then returns the input.
pub fn handle(event: Value, _ctx: &Context) -> Result<Value, TaskError> {
    std::thread::sleep(Duration::from_secs(60));
    Ok(event)
}

stepwasm_guest::export_task!(handle);
