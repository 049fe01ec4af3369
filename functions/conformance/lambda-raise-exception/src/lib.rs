//! Stand-in for `raise_exception.py`: fails the way a Python Lambda raising `Exception` does.

use serde_json::{Value, json};
use stepwasm_guest::{Context, TaskError};

/// Always fails with error `Exception`; the cause has the shape of Lambda's error payload.
pub fn handle(_event: Value, _ctx: &Context) -> Result<Value, TaskError> {
    Err(TaskError::with_details(
        "Exception",
        &json!({
            "errorMessage": "Some exception was raised.",
            "errorType": "Exception",
            "stackTrace": [],
        }),
    ))
}

stepwasm_guest::export_task!(handle);
