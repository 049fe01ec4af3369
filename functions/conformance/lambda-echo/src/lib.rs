//! Stand-in for `echo_function.py`: answers `{"Return": "HelloWorld"}` whatever the input.

use serde_json::{Value, json};
use stepwasm_guest::{Context, TaskError};

/// Returns the fixed greeting.
pub fn handle(_event: Value, _ctx: &Context) -> Result<Value, TaskError> {
    Ok(json!({ "Return": "HelloWorld" }))
}

stepwasm_guest::export_task!(handle);
