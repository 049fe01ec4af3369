//! What the targets share: running a definition to its end against a fixed document, with every
//! task answered at once.

use std::sync::Arc;

use serde_json::{Value, json};
use stepwasm_asl::{Action, ExecutionContext, Input, SeededEntropy, StateMachine, Timestamp, run_to_completion};

/// A document with something for most paths to find: nesting, arrays, numbers, strings, nulls.
pub fn document() -> Value {
    json!({
        "order": {"id": "o-1", "total": 71.94, "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1, "tags": ["x", "y"]}]},
        "flags": [true, false, null],
        "text": "a,b,c",
        "n": 3,
        "nested": {"deep": {"deeper": [[1, 2], [3, [4, 5]]]}},
        "empty": {}
    })
}

#[allow(dead_code, reason = "the JSONata target runs no definition")]
/// Compiles `definition` and, if it compiles, runs it to its end: tasks succeed with their
/// input, timers fire at once. Errors are fine; panics, hangs and runaway memory are not.
pub fn run(definition: &str) {
    let Ok(parsed) = stepwasm_asl::parse_definition(definition) else { return };
    let Ok(machine) = stepwasm_asl::compile(&parsed) else { return };
    let machine: Arc<StateMachine> = Arc::new(machine);
    let context = ExecutionContext::new("fuzz", "fuzz", Timestamp::from_millis(1_700_000_000_000));
    let mut tasks = |action: &Action| match action {
        Action::InvokeTask { task_id, payload, .. } => {
            Input::TaskSucceeded { task_id: *task_id, output: Arc::clone(payload) }
        }
        _ => unreachable!("only task invocations are handed to tasks"),
    };
    let _ = run_to_completion(machine, document(), context, &mut tasks, &mut SeededEntropy::new(7));
}
