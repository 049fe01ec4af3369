//! A task function that misbehaves on request.
//!
//! Its input names a `mode`; each mode does one thing a hostile or buggy guest might do. The
//! end-to-end tests invoke it to prove the host contains every one of them.

use std::hint::black_box;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_json::{Value, json};
use stepwasm_guest::bindings::stepwasm::task::types;
use stepwasm_guest::{Context, TaskError};

#[derive(Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
enum Mode {
    /// Returns the input.
    Echo { value: Value },
    /// Spins forever.
    Loop,
    /// Allocates 1 MiB blocks until refused.
    MemoryBomb,
    /// Panics with the given message.
    Panic { message: String },
    /// Prints `bytes` bytes to stdout.
    StdoutFlood { bytes: usize },
    /// Tries to read a host path.
    OpenFile { path: String },
    /// Sleeps, yielding to the host.
    Sleep { millis: u64 },
    /// Fails with a named error.
    Fail { error: String, cause: String },
    /// Burns a fixed amount of work.
    Burn { iterations: u64 },
    /// Sends log lines.
    Log { lines: Vec<String> },
    /// Writes 0xAB over static memory and fresh heap, and bumps a global counter.
    CanaryWrite,
    /// Writes the canary and reads it back in the same instance: proves the reader can see it.
    CanaryControl,
    /// Counts what a previous instance might have left: non-zero static bytes, non-zero fresh
    /// heap bytes, and the global counter.
    CanaryRead,
}

/// Lives in `.bss`: zero in every fresh instance unless memory leaks between instances.
static STATIC_CANARY: Mutex<[u8; 256 * 1024]> = Mutex::new([0; 256 * 1024]);
static CALLS: AtomicU64 = AtomicU64::new(0);
const HEAP_CANARY_BYTES: usize = 1 << 20;

fn handle(mode: Mode, _ctx: &Context) -> Result<Value, TaskError> {
    let calls_before = CALLS.fetch_add(1, Ordering::SeqCst);
    match mode {
        Mode::Echo { value } => Ok(value),
        Mode::Loop => {
            let mut counter = 0u64;
            loop {
                counter = black_box(counter.wrapping_add(1));
            }
        }
        Mode::MemoryBomb => {
            let mut hoard = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                black_box(&hoard);
            }
        }
        Mode::Panic { message } => panic!("{message}"),
        Mode::StdoutFlood { bytes } => {
            let line = "x".repeat(1023);
            let mut written = 0;
            while written < bytes {
                println!("{line}");
                written += 1024;
            }
            Ok(json!({ "written": written }))
        }
        Mode::OpenFile { path } => match std::fs::read(&path) {
            Ok(contents) => Ok(json!({ "opened": true, "contents": String::from_utf8_lossy(&contents) })),
            Err(error) => Ok(json!({ "opened": false, "error": error.to_string() })),
        },
        Mode::Sleep { millis } => {
            std::thread::sleep(std::time::Duration::from_millis(millis));
            Ok(json!({ "slept": millis }))
        }
        Mode::Fail { error, cause } => Err(TaskError::new(error, cause)),
        Mode::Burn { iterations } => {
            let mut acc = 0u64;
            for i in 0..iterations {
                acc = black_box(acc.wrapping_mul(31).wrapping_add(i));
            }
            Ok(json!({ "acc": acc }))
        }
        Mode::Log { lines } => {
            for line in &lines {
                stepwasm_guest::info!("{line}");
            }
            Ok(json!({ "logged": lines.len() }))
        }
        Mode::CanaryWrite => {
            STATIC_CANARY.lock().map_err(|_| TaskError::new("Poisoned", "lock"))?.fill(0xAB);
            let heap = vec![0xABu8; HEAP_CANARY_BYTES];
            std::mem::forget(heap);
            Ok(json!({ "written": true }))
        }
        Mode::CanaryControl => {
            STATIC_CANARY.lock().map_err(|_| TaskError::new("Poisoned", "lock"))?.fill(0xAB);
            let static_dirty = STATIC_CANARY
                .lock()
                .map_err(|_| TaskError::new("Poisoned", "lock"))?
                .iter()
                .filter(|b| **b != 0)
                .count();
            Ok(json!({ "static_dirty": static_dirty, "calls_before": calls_before }))
        }
        Mode::CanaryRead => {
            let static_dirty = STATIC_CANARY
                .lock()
                .map_err(|_| TaskError::new("Poisoned", "lock"))?
                .iter()
                .filter(|b| **b != 0)
                .count();
            // The allocator hands out fresh pages from memory.grow without zeroing them again,
            // so this sees exactly what the page held before this instance.
            let heap = vec![0u8; HEAP_CANARY_BYTES];
            let heap_dirty = heap.iter().filter(|b| **b != 0).count();
            Ok(json!({ "static_dirty": static_dirty, "heap_dirty": heap_dirty, "calls_before": calls_before }))
        }
    }
}

struct Misbehave;

impl stepwasm_guest::bindings::Guest for Misbehave {
    fn handle(input: String, ctx: types::Context) -> Result<String, types::TaskError> {
        // The one thing the SDK will not do: return text that is not JSON.
        if input.contains("\"not-json\"") {
            return Ok("this is { not json".to_owned());
        }
        stepwasm_guest::__run(&input, ctx, handle)
    }
}

stepwasm_guest::bindings::export!(Misbehave with_types_in stepwasm_guest::bindings);
