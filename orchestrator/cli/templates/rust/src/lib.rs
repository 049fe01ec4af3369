//! {{name}}: a stepwasm task function.
//!
//! - Input: `{"name": "Ada"}`.
//! - Output: `{"greeting": "Hello, Ada!", "attempt": 1}`.
//! - Errors: `InvalidName` when `name` is missing or empty; its cause is JSON,
//!   `{"field": "name", "problem": "..."}`, so a `Catch` can read it with
//!   `States.StringToJson($.Cause)`.

use serde::{Deserialize, Serialize};
use stepwasm_guest::{Context, TaskError};

/// The state's input.
#[derive(Debug, Deserialize)]
pub struct Greet {
    #[serde(default)]
    name: String,
}

/// The state's result.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Greeting {
    greeting: String,
    attempt: u32,
}

/// Called once per Task-state attempt with the state's input; returns the state's result.
pub fn handle(input: Greet, ctx: &Context) -> Result<Greeting, TaskError> {
    let name = input.name.trim();
    if name.is_empty() {
        let problem = serde_json::json!({"field": "name", "problem": "must be a non-empty string"});
        return Err(TaskError::with_details("InvalidName", &problem));
    }
    stepwasm_guest::info!("greeting {name} on attempt {}", ctx.attempt());
    Ok(Greeting { greeting: format!("Hello, {name}!"), attempt: ctx.attempt() })
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_by_name() {
        let greeting = handle(Greet { name: " Ada ".into() }, &Context::for_test("Greet")).unwrap();
        assert_eq!(greeting, Greeting { greeting: "Hello, Ada!".into(), attempt: 1 });
    }

    #[test]
    fn a_missing_name_is_a_named_error() {
        let error = handle(Greet { name: String::new() }, &Context::for_test("Greet")).unwrap_err();
        assert_eq!(error.error, "InvalidName");
    }
}
