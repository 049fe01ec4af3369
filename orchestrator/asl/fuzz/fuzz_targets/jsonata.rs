//! JSONata: any text parsed, and if it parses, evaluated against a document with bindings.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stepwasm_asl::{EvalOptions, Jsonata};

#[path = "common.rs"]
mod common;

fuzz_target!(|expression: &str| {
    let Ok(parsed) = Jsonata::parse(expression) else { return };
    let mut bindings = serde_json::Map::new();
    bindings.insert("states".to_owned(), serde_json::json!({"input": common::document(), "context": {"Execution": {"Id": "e"}}}));
    bindings.insert("limit".to_owned(), serde_json::json!(3));
    let options = EvalOptions { now_millis: 1_700_000_000_000, random_seed: 7 };
    let _ = parsed.evaluate(Some(&common::document()), &bindings, &options);
});
