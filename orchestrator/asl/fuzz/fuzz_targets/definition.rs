//! The definition compiler and interpreter: any text as a whole state machine definition,
//! validated, and if it compiles, run to its end.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|definition: &str| {
    let _ = stepwasm_asl::validate(definition);
    common::run(definition);
});
