//! Stand-in for the AWS-recorded handler `large_output_string.py`: it answers with a string of
//! 257 × 1024 ASCII `a` characters, just over Step Functions' 256 KiB limit for a state's output.

use serde_json::Value;
use stepwasm_guest::{Context, TaskError};

/// Returns a string one KiB over the state payload limit.
pub fn handle(_event: Value, _ctx: &Context) -> Result<Value, TaskError> {
    Ok(Value::String("a".repeat(257 * 1024)))
}

stepwasm_guest::export_task!(handle);
