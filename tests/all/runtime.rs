//! The Wasm host under misbehaving guests: limits, isolation, failure names, caching.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use stepwasm_runtime::{
    ArtifactSource, Error, FailureKind, FuelBudget, FunctionConfig, FunctionLimits, GrantedDirectory, Invocation,
    InvocationReport, Runtime, RuntimeConfig, TimeoutKind,
};
use stepwasm_tests::fixtures::MISBEHAVE;

fn misbehave_bytes() -> Result<Vec<u8>> {
    std::fs::read(MISBEHAVE).with_context(|| format!("reading fixture {MISBEHAVE}"))
}

fn runtime_with(limits: FunctionLimits) -> Result<Runtime> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    runtime.register("misbehave", &misbehave_bytes()?, FunctionConfig { limits, ..FunctionConfig::default() })?;
    Ok(runtime)
}

async fn call(runtime: &Runtime, input: Value) -> Result<InvocationReport> {
    Ok(runtime.invoke("misbehave", Invocation::new(&input)).await?)
}

fn output(report: &InvocationReport) -> Result<&Value> {
    report.outcome.as_ref().map_err(|failure| anyhow::anyhow!("unexpected failure {failure}"))
}

#[tokio::test]
async fn no_state_leaks_between_invocations() -> Result<()> {
    let runtime = runtime_with(FunctionLimits::default())?;
    // The control proves the canary is visible when it is there, so a clean read means something.
    let control = call(&runtime, json!({"mode": "canary-control"})).await?;
    assert_eq!(output(&control)?["static_dirty"], 256 * 1024);

    for round in 0..200 {
        let written = call(&runtime, json!({"mode": "canary-write"})).await?;
        assert_eq!(output(&written)?["written"], true);
        let read = call(&runtime, json!({"mode": "canary-read"})).await?;
        let seen = output(&read)?;
        assert_eq!(seen["static_dirty"], 0, "round {round}: static memory leaked: {seen}");
        assert_eq!(seen["heap_dirty"], 0, "round {round}: heap pages leaked: {seen}");
        assert_eq!(seen["calls_before"], 0, "round {round}: globals survived: {seen}");
    }
    Ok(())
}

#[tokio::test]
async fn an_endless_loop_stops_with_states_timeout_at_its_deadline() -> Result<()> {
    let deadline = Duration::from_millis(500);
    let runtime =
        runtime_with(FunctionLimits { timeout_millis: 500, fuel: FuelBudget::Unlimited, ..FunctionLimits::default() })?;
    let started = Instant::now();
    let report = call(&runtime, json!({"mode": "loop"})).await?;
    let elapsed = started.elapsed();
    let phases = report.phases;
    let failure = report.outcome.expect_err("an endless loop cannot succeed");
    assert_eq!(failure.error, "States.Timeout");
    assert_eq!(failure.kind, FailureKind::Timeout(TimeoutKind::Deadline));
    assert!(elapsed >= deadline, "stopped early, after {elapsed:?}");
    assert!(elapsed <= deadline.mul_f64(1.2), "stopped after {elapsed:?}, more than 20% past {deadline:?}");
    // The time went to the call, and the phases account for no more than the whole.
    assert!(phases.call >= deadline.mul_f64(0.95), "{phases:?}");
    assert!(phases.instantiate < deadline / 10 && phases.teardown < deadline / 10, "{phases:?}");
    assert!(phases.setup + phases.instantiate + phases.call + phases.teardown <= elapsed, "{phases:?}");
    Ok(())
}

#[tokio::test]
async fn a_task_timeout_shortens_the_function_deadline() -> Result<()> {
    let runtime = runtime_with(FunctionLimits { fuel: FuelBudget::Unlimited, ..FunctionLimits::default() })?;
    let mut invocation = Invocation::new(&json!({"mode": "loop"}));
    invocation.timeout = Some(Duration::from_millis(200));
    let started = Instant::now();
    let report = runtime.invoke("misbehave", invocation).await?;
    assert_eq!(report.outcome.expect_err("loop").kind, FailureKind::Timeout(TimeoutKind::Deadline));
    assert!(started.elapsed() < Duration::from_secs(5), "the one-minute function deadline was used instead");
    Ok(())
}

#[tokio::test]
async fn running_out_of_fuel_is_a_timeout_and_fuel_is_deterministic() -> Result<()> {
    let runtime = runtime_with(FunctionLimits { fuel: FuelBudget::Units(50_000_000), ..FunctionLimits::default() })?;
    let report = call(&runtime, json!({"mode": "loop"})).await?;
    let failure = report.outcome.expect_err("fuel must run out");
    assert_eq!(failure.error, "States.Timeout");
    assert_eq!(failure.kind, FailureKind::Timeout(TimeoutKind::Fuel));
    assert_eq!(report.fuel_consumed, 50_000_000);

    let first = call(&runtime, json!({"mode": "burn", "iterations": 10_000})).await?;
    let second = call(&runtime, json!({"mode": "burn", "iterations": 10_000})).await?;
    let more = call(&runtime, json!({"mode": "burn", "iterations": 20_000})).await?;
    assert_eq!(first.fuel_consumed, second.fuel_consumed);
    assert!(more.fuel_consumed > first.fuel_consumed);
    Ok(())
}

#[tokio::test]
async fn a_memory_bomb_gets_the_memory_error_and_the_host_carries_on() -> Result<()> {
    let runtime = runtime_with(FunctionLimits { max_memory_bytes: 16 << 20, ..FunctionLimits::default() })?;
    let report = call(&runtime, json!({"mode": "memory-bomb"})).await?;
    let failure = report.outcome.expect_err("the bomb must be refused");
    assert_eq!(failure.error, "Runtime.OutOfMemory");
    assert!(failure.cause.contains("over its limit of 16777216 bytes"), "{}", failure.cause);

    let after = call(&runtime, json!({"mode": "echo", "value": {"still": "alive"}})).await?;
    assert_eq!(output(&after)?, &json!({"still": "alive"}));
    Ok(())
}

#[tokio::test]
async fn a_panic_message_reaches_the_cause() -> Result<()> {
    let runtime = runtime_with(FunctionLimits::default())?;
    let report = call(&runtime, json!({"mode": "panic", "message": "boom: order o-3 is cursed"})).await?;
    let failure = report.outcome.expect_err("a panic is a failure");
    assert_eq!(failure.error, "Runtime.Panic");
    assert!(failure.cause.starts_with("boom: order o-3 is cursed (at "), "{}", failure.cause);
    assert!(failure.cause.contains("lib.rs:"), "the location is missing: {}", failure.cause);
    Ok(())
}

#[tokio::test]
async fn output_that_is_not_json_is_an_error() -> Result<()> {
    let runtime = runtime_with(FunctionLimits::default())?;
    let report = call(&runtime, json!({"mode": "not-json"})).await?;
    let failure = report.outcome.expect_err("not JSON");
    assert_eq!(failure.error, "Runtime.InvalidOutput");
    assert!(failure.cause.contains("this is { not json"), "{}", failure.cause);
    Ok(())
}

#[tokio::test]
async fn oversized_stdout_is_truncated_not_fatal() -> Result<()> {
    let runtime = runtime_with(FunctionLimits { max_output_bytes: 4096, ..FunctionLimits::default() })?;
    let report = call(&runtime, json!({"mode": "stdout-flood", "bytes": 100 * 1024})).await?;
    let written = output(&report)?["written"].as_u64().context("written")?;
    assert_eq!(report.stdout.text.len(), 4096);
    assert_eq!(report.stdout.dropped_bytes, written - 4096);
    assert!(report.stdout.text.starts_with("xxxx"));
    Ok(())
}

#[tokio::test]
async fn opening_a_path_that_was_not_granted_fails() -> Result<()> {
    let granted = tempfile::tempdir()?;
    std::fs::write(granted.path().join("hello.txt"), "granted content")?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let bytes = misbehave_bytes()?;
    runtime.register("sealed", &bytes, FunctionConfig::default())?;
    runtime.register(
        "reader",
        &bytes,
        FunctionConfig {
            read_only_directory: Some(GrantedDirectory {
                host_path: granted.path().to_path_buf(),
                guest_path: "/data".into(),
            }),
            ..FunctionConfig::default()
        },
    )?;

    let host_file = granted.path().join("hello.txt").display().to_string();
    for (function, path) in [("sealed", host_file.as_str()), ("sealed", "/data/hello.txt"), ("reader", "/etc/passwd")] {
        let report = runtime.invoke(function, Invocation::new(&json!({"mode": "open-file", "path": path}))).await?;
        assert_eq!(output(&report)?["opened"], false, "{function} could read {path}");
    }
    let report =
        runtime.invoke("reader", Invocation::new(&json!({"mode": "open-file", "path": "/data/hello.txt"}))).await?;
    assert_eq!(output(&report)?["contents"], "granted content");
    Ok(())
}

#[tokio::test]
async fn the_artifact_cache_is_reused_after_an_engine_restart() -> Result<()> {
    let cache = tempfile::tempdir()?;
    let config = RuntimeConfig { artifact_cache: Some(cache.path().to_path_buf()), ..RuntimeConfig::default() };
    let bytes = misbehave_bytes()?;
    {
        let first = Runtime::new(config.clone())?;
        let function = first.register("misbehave", &bytes, FunctionConfig::default())?;
        assert_eq!(function.artifact_source(), ArtifactSource::Compiled);
    }
    let artifacts: Vec<_> = std::fs::read_dir(cache.path())?.collect::<Result<_, _>>()?;
    assert_eq!(artifacts.len(), 1, "exactly one artifact is written");

    let restarted = Runtime::new(config.clone())?;
    let started = Instant::now();
    let function = restarted.register("misbehave", &bytes, FunctionConfig::default())?;
    let load_time = started.elapsed();
    assert_eq!(function.artifact_source(), ArtifactSource::Cached);
    let report = restarted.invoke("misbehave", Invocation::new(&json!({"mode": "echo", "value": 7}))).await?;
    assert_eq!(output(&report)?, &json!(7));
    eprintln!("registration from the cache took {load_time:?}");

    // The same component under another name is not compiled again.
    let alias = restarted.register("alias", &bytes, FunctionConfig::default())?;
    assert_eq!(alias.artifact_source(), ArtifactSource::Cached);

    // A corrupted artifact is recompiled, not trusted.
    std::fs::write(artifacts[0].path(), b"garbage")?;
    let function = Runtime::new(config)?.register("misbehave", &bytes, FunctionConfig::default())?;
    assert_eq!(function.artifact_source(), ArtifactSource::Compiled);
    Ok(())
}

#[tokio::test]
async fn a_guest_blocked_in_a_host_call_is_stopped_at_its_deadline() -> Result<()> {
    let runtime = runtime_with(FunctionLimits { timeout_millis: 300, ..FunctionLimits::default() })?;
    let started = Instant::now();
    let report = call(&runtime, json!({"mode": "sleep", "millis": 30_000})).await?;
    let failure = report.outcome.expect_err("the sleep outlasts the deadline");
    assert_eq!(failure.kind, FailureKind::Timeout(TimeoutKind::Deadline));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn guest_errors_keep_their_names_and_reserved_names_are_refused() -> Result<()> {
    let runtime = runtime_with(FunctionLimits::default())?;
    let report = call(&runtime, json!({"mode": "fail", "error": "OutOfStock", "cause": "MUG-1"})).await?;
    let failure = report.outcome.expect_err("fails");
    assert_eq!(
        (failure.error.as_str(), failure.cause.as_str(), failure.kind),
        ("OutOfStock", "MUG-1", FailureKind::Guest)
    );

    let report = call(&runtime, json!({"mode": "fail", "error": "States.Timeout", "cause": "lying"})).await?;
    assert_eq!(report.outcome.expect_err("fails").error, "Runtime.ReservedErrorName");

    let report = call(&runtime, json!({"mode": "no-such-mode"})).await?;
    assert_eq!(report.outcome.expect_err("bad input").error, "InvalidInput");
    Ok(())
}

#[tokio::test]
async fn log_lines_are_captured_in_order() -> Result<()> {
    let runtime = runtime_with(FunctionLimits::default())?;
    let report = call(&runtime, json!({"mode": "log", "lines": ["first", "second"]})).await?;
    let messages: Vec<&str> = report.logs.iter().map(|line| line.message.as_str()).collect();
    assert_eq!(messages, ["first", "second"]);
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn a_long_running_guest_does_not_stall_other_work() -> Result<()> {
    // The loop runs for five seconds: long enough that the echo finishes first even on a
    // machine busy with other tests, unless the loop holds the thread.
    let runtime = Arc::new(runtime_with(FunctionLimits {
        timeout_millis: 5_000,
        fuel: FuelBudget::Unlimited,
        ..FunctionLimits::default()
    })?);
    // One thread only: if the looping guest held it, the echo could not finish first.
    let looping = tokio::spawn({
        let runtime = Arc::clone(&runtime);
        async move {
            let report = call(&runtime, json!({"mode": "loop"})).await;
            (Instant::now(), report)
        }
    });
    tokio::task::yield_now().await;
    let echo = call(&runtime, json!({"mode": "echo", "value": "quick"})).await?;
    let echo_done = Instant::now();
    let (loop_done, loop_report) = looping.await?;
    assert_eq!(output(&echo)?, &json!("quick"));
    assert!(loop_report?.outcome.is_err());
    assert!(echo_done < loop_done, "the echo waited for the looping guest");
    Ok(())
}

#[tokio::test]
async fn invalid_components_and_unknown_functions_are_host_errors() -> Result<()> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    // A valid core module, but not a component of the task world.
    let core_module = b"\0asm\x01\0\0\0";
    assert!(matches!(
        runtime.register("core", core_module, FunctionConfig::default()),
        Err(Error::InvalidComponent { .. })
    ));
    assert!(matches!(
        runtime.register("bad name!", &misbehave_bytes()?, FunctionConfig::default()),
        Err(Error::InvalidComponent { .. })
    ));
    assert!(matches!(
        runtime.register(
            "greedy",
            &misbehave_bytes()?,
            FunctionConfig {
                limits: FunctionLimits { max_memory_bytes: 1 << 40, ..FunctionLimits::default() },
                ..FunctionConfig::default()
            }
        ),
        Err(Error::InvalidLimits { .. })
    ));
    assert!(matches!(
        runtime.register(
            "forever",
            &misbehave_bytes()?,
            FunctionConfig {
                limits: FunctionLimits { timeout_millis: u64::MAX, ..FunctionLimits::default() },
                ..FunctionConfig::default()
            }
        ),
        Err(Error::InvalidLimits { .. })
    ));
    assert!(matches!(
        runtime.invoke("missing", Invocation::new(&json!({}))).await,
        Err(Error::UnknownFunction(name)) if name == "missing"
    ));
    Ok(())
}
