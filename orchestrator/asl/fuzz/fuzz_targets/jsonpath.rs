//! JSONPath: any text after `$` as a Pass state's `Parameters` path, parsed and evaluated.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|path: &str| {
    let path = format!("${path}");
    let definition = serde_json::json!({
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"picked.$": path}, "ResultPath": "$.out", "OutputPath": "$", "End": true}}
    });
    common::run(&definition.to_string());
});
