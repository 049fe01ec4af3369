//! Stand-in for the AWS-recorded function that answers with a large UTF-8 string: 100,000 "€"
//! characters, 300,000 bytes of JSON, over Step Functions' 256 KiB limit for a task result.

use serde_json::Value;
use stepwasm_guest::{Context, TaskError};

/// Returns a string whose UTF-8 encoding exceeds the state payload limit.
pub fn handle(_event: Value, _ctx: &Context) -> Result<Value, TaskError> {
    Ok(Value::String("€".repeat(100_000)))
}

stepwasm_guest::export_task!(handle);
