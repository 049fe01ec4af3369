//! Stand-in for `id_function.py`: returns its input event unchanged.

use serde_json::Value;
use stepwasm_guest::{Context, TaskError};

/// Returns the input.
pub fn handle(event: Value, _ctx: &Context) -> Result<Value, TaskError> {
    Ok(event)
}

stepwasm_guest::export_task!(handle);
