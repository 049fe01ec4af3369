//! Stand-in for `return_bytes_str.py`: returns the text `HelloWorld!` as a JSON string.

use serde_json::Value;
use stepwasm_guest::{Context, TaskError};

/// Returns `"HelloWorld!"`.
pub fn handle(_event: Value, _ctx: &Context) -> Result<Value, TaskError> {
    Ok(Value::String("HelloWorld!".to_owned()))
}

stepwasm_guest::export_task!(handle);
