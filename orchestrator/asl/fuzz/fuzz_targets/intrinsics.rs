//! Intrinsic functions: any text after `States.` as a Pass state's `Parameters` expression, so
//! calls, nested calls, arguments and paths inside them are parsed and evaluated.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|call: &str| {
    let call = format!("States.{call}");
    let definition = serde_json::json!({
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"value.$": call}, "End": true}}
    });
    common::run(&definition.to_string());
});
