//! `stepwasm invoke` and the interim `stepwasm demo`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use serde_json::Value;
use stepwasm_orchestrator::DataDir;

use crate::function_source::FunctionSource;
use stepwasm_runtime::{
    FuelBudget, FunctionConfig, FunctionLimits, GrantedDirectory, Invocation, InvocationReport, Runtime, RuntimeConfig,
};

#[derive(Debug, Args)]
pub(crate) struct InvokeArgs {
    /// A sample function's name (such as `validate-payment`) or the path of a `.wasm` component.
    function: String,

    /// The input, as JSON.
    #[arg(long, default_value = "{}")]
    input: String,

    /// Wall-clock limit in milliseconds.
    #[arg(long, default_value_t = FunctionLimits::default().timeout_millis)]
    timeout_ms: u64,

    /// Fuel budget (units of guest work); 0 for none.
    #[arg(long, default_value_t = 12_000_000_000)]
    fuel: u64,

    /// Memory cap in MiB.
    #[arg(long, default_value_t = 64)]
    memory_mib: u64,

    /// Grant read-only access to a host directory, as HOST_DIR:GUEST_PATH.
    #[arg(long, value_name = "HOST_DIR:GUEST_PATH")]
    read_only_dir: Option<String>,

    /// The attempt number the function sees (1 is the first attempt).
    #[arg(long, default_value_t = 1)]
    attempt: u32,

    #[command(flatten)]
    grants: super::grants::Grants,

    /// Secrets the function may be granted, as NAME=VALUE lines; `STEPWASM_SECRET_<NAME>`
    /// environment variables are read too.
    #[arg(long, value_name = "FILE")]
    secrets_file: Option<std::path::PathBuf>,

    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &InvokeArgs, data_dir: &DataDir) -> Result<ExitCode> {
    let input: Value = serde_json::from_str(&args.input).context("--input is not valid JSON")?;
    let source = FunctionSource::resolve(&args.function)?;
    let secrets = super::grants::load_secrets(args.secrets_file.as_deref())?;
    let runtime = Runtime::with_secrets(
        RuntimeConfig { artifact_cache: Some(data_dir.artifacts()), ..RuntimeConfig::default() },
        secrets,
    )?;
    let config = FunctionConfig {
        limits: FunctionLimits {
            fuel: if args.fuel == 0 { FuelBudget::Unlimited } else { FuelBudget::Units(args.fuel) },
            timeout_millis: args.timeout_ms,
            max_memory_bytes: args.memory_mib.saturating_mul(1 << 20),
            ..FunctionLimits::default()
        },
        read_only_directory: args.read_only_dir.as_deref().map(parse_grant).transpose()?,
        ..FunctionConfig::default()
    };
    let config = args.grants.apply(config)?;
    runtime.register(source.name(), &source.component()?, config)?;

    let mut invocation = Invocation::new(&input);
    invocation.attempt = args.attempt;
    invocation.state_name = source.name().to_owned();
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = tokio.block_on(runtime.invoke(source.name(), invocation))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report_json(&report))?);
    } else {
        print_report(&report);
    }
    Ok(if report.outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn parse_grant(grant: &str) -> Result<GrantedDirectory> {
    let (host, guest) = grant.split_once(':').context("--read-only-dir takes HOST_DIR:GUEST_PATH")?;
    Ok(GrantedDirectory { host_path: host.into(), guest_path: guest.to_owned() })
}

fn print_report(report: &InvocationReport) {
    match &report.outcome {
        Ok(output) => {
            println!("output:");
            println!("{}", serde_json::to_string_pretty(output).unwrap_or_else(|_| output.to_string()));
        }
        Err(failure) => {
            println!("error: {}", failure.error);
            println!("cause: {}", failure.cause);
        }
    }
    for line in &report.logs {
        println!("log {:?}: {}", line.level, line.message);
    }
    if report.dropped_log_lines > 0 {
        println!("log: {} more lines dropped (output cap)", report.dropped_log_lines);
    }
    for (stream, captured) in [("stdout", &report.stdout), ("stderr", &report.stderr)] {
        if !captured.text.is_empty() {
            println!("{stream}:\n{}", captured.text.trim_end());
        }
        if captured.is_truncated() {
            println!("{stream}: {} more bytes dropped (output cap)", captured.dropped_bytes);
        }
    }
    println!("fuel used: {}", report.fuel_consumed);
    println!("duration: {}", format_duration(report.duration));
}

fn report_json(report: &InvocationReport) -> Value {
    let (output, error) = match &report.outcome {
        Ok(output) => (output.clone(), Value::Null),
        Err(failure) => (Value::Null, serde_json::json!({"error": failure.error, "cause": failure.cause})),
    };
    serde_json::json!({
        "output": output,
        "error": error,
        "logs": report.logs,
        "stdout": report.stdout.text,
        "stderr": report.stderr.text,
        "fuelConsumed": report.fuel_consumed,
        "durationMicros": u64::try_from(report.duration.as_micros()).unwrap_or(u64::MAX),
    })
}

pub(crate) fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        format!("{:.1} µs", duration.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", duration.as_secs_f64() * 1e3)
    }
}
