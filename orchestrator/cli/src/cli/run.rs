//! `stepwasm run` and `stepwasm validate`: one definition, in memory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::Value;
use stepwasm_asl::{ExecutionContext, ExecutionOutcome, HistoryEvent, StateMachine};
use stepwasm_orchestrator::engine::{Engine, ExecutionRecord, WasmTasks};
use stepwasm_orchestrator::{DataDir, bindings};

use crate::function_source::FunctionSource;
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The state machine definition (Amazon States Language, JSON).
    definition: PathBuf,

    /// The execution input, as JSON.
    #[arg(long, default_value = "{}", conflicts_with = "input_file")]
    input: String,

    /// Read the execution input from a file.
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,

    /// Deploy a function for this run, as NAME=FILE.wasm (repeatable). The sample pipeline's
    /// functions are always available.
    #[arg(long = "function", value_name = "NAME=FILE")]
    functions: Vec<String>,

    /// Also print the execution's history.
    #[arg(long)]
    history: bool,

    /// Print the result (and history) as JSON, with history events in AWS's shape.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The state machine definitions to check.
    #[arg(required = true)]
    definitions: Vec<PathBuf>,

    /// The server's configuration file, whose `[bindings]` say which service integrations run
    /// there: each integration a definition calls that it does not bind is warned of.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(crate) fn run(args: &RunArgs, data_dir: &DataDir) -> Result<ExitCode> {
    let machine = Arc::new(load_definition(&args.definition)?);
    let input_text = match &args.input_file {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        None => args.input.clone(),
    };
    let input: Value = serde_json::from_str(&input_text).context("the input is not valid JSON")?;
    let runtime = sample_runtime(data_dir)?;
    for spec in &args.functions {
        let (name, path) = spec.split_once('=').context("--function takes NAME=FILE.wasm")?;
        let source = FunctionSource::resolve(path)?;
        runtime.register(name, &source.component()?, FunctionConfig::default())?;
    }
    let machine_name = args
        .definition
        .file_stem()
        .map_or("state-machine".into(), |stem| stem.to_string_lossy().trim_end_matches(".asl").to_owned());
    let record = run_once(&runtime, machine, input, &machine_name)?;
    print_record(&record, args.history, args.json)?;
    Ok(if matches!(record.outcome, ExecutionOutcome::Succeeded(_)) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A runtime with every sample function deployed, compiled artifacts cached in the data dir.
pub(crate) fn sample_runtime(data_dir: &DataDir) -> Result<Runtime> {
    let runtime =
        Runtime::new(RuntimeConfig { artifact_cache: Some(data_dir.artifacts()), ..RuntimeConfig::default() })?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    Ok(runtime)
}

/// Runs one execution on a fresh tokio runtime and returns its record.
pub(crate) fn run_once(
    runtime: &Runtime,
    machine: Arc<StateMachine>,
    input: Value,
    machine_name: &str,
) -> Result<ExecutionRecord> {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let engine = Engine::new(Arc::new(WasmTasks::new(runtime.clone())));
    let execution_name = stepwasm_orchestrator::engine::random_uuid();
    let context = ExecutionContext::new(machine_name, &execution_name, engine.clock().now());
    // No callback can reach an in-memory run; the engine ends a run left waiting for one.
    let (_, signals) = tokio::sync::mpsc::unbounded_channel();
    Ok(tokio.block_on(engine.run(machine, input, context, signals, &mut |_| {})))
}

pub(crate) fn load_definition(path: &Path) -> Result<StateMachine> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match StateMachine::from_json(&text) {
        Ok(machine) => Ok(machine),
        Err(stepwasm_asl::Error::InvalidDefinition(diagnostics)) => {
            for diagnostic in &diagnostics {
                eprintln!("{}: {diagnostic}", path.display());
            }
            bail!("{} is not a valid state machine ({} problems)", path.display(), diagnostics.len())
        }
        Err(error) => bail!("{}: {error}", path.display()),
    }
}

fn print_record(record: &ExecutionRecord, history: bool, json: bool) -> Result<()> {
    if json {
        let (status, output, error, cause) = outcome_parts(&record.outcome);
        let mut report = serde_json::json!({ "status": status, "output": output, "error": error, "cause": cause });
        if history {
            report["events"] = record.history.iter().map(HistoryEvent::to_aws_json).collect();
        }
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    if history {
        for event in &record.history {
            let detail = event_detail(event);
            println!("{:>4}  {:<32} {detail}", event.id, event.event_type());
        }
        println!();
    }
    let (status, output, error, cause) = outcome_parts(&record.outcome);
    println!("status: {status}");
    if !output.is_null() {
        println!("output:\n{}", serde_json::to_string_pretty(&output)?);
    }
    if !error.is_null() || !cause.is_null() {
        println!("error: {}", error.as_str().unwrap_or("null"));
        println!("cause: {}", cause.as_str().unwrap_or("null"));
    }
    Ok(())
}

/// The state name an event concerns, if any, for the history table.
fn event_detail(event: &HistoryEvent) -> String {
    let json = event.to_aws_json();
    let Some(details) = json.as_object().and_then(|object| {
        object.iter().find(|(key, _)| key.ends_with("EventDetails")).and_then(|(_, details)| details.as_object())
    }) else {
        return String::new();
    };
    let pick = |key: &str| details.get(key).and_then(Value::as_str).map(str::to_owned);
    pick("name")
        .or_else(|| pick("resource"))
        .or_else(|| pick("error").map(|error| format!("{error}: {}", pick("cause").unwrap_or_default())))
        .unwrap_or_default()
}

pub(crate) fn outcome_parts(outcome: &ExecutionOutcome) -> (&'static str, Value, Value, Value) {
    let text = |value: &Option<String>| value.clone().map_or(Value::Null, Value::String);
    match outcome {
        ExecutionOutcome::Succeeded(output) => ("SUCCEEDED", output.clone(), Value::Null, Value::Null),
        ExecutionOutcome::Failed { error, cause } => ("FAILED", Value::Null, text(error), text(cause)),
        ExecutionOutcome::TimedOut => ("TIMED_OUT", Value::Null, Value::Null, Value::Null),
        ExecutionOutcome::Aborted { error, cause } => ("ABORTED", Value::Null, text(error), text(cause)),
    }
}

pub(crate) fn validate(args: &ValidateArgs) -> Result<ExitCode> {
    let bindings = match &args.config {
        Some(config) => super::server_config::bindings_in(config)?,
        None => Default::default(),
    };
    let mut all_valid = true;
    for path in &args.definitions {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let diagnostics = stepwasm_asl::validate(&text);
        if diagnostics.is_empty() {
            println!("{}: valid", path.display());
            let document: Value = serde_json::from_str(&text)?;
            for (location, integration) in bindings::integrations_in(&document) {
                if !integration.has_fallback() && !bindings.contains_key(&integration.name) {
                    let place =
                        if args.config.is_some() { "nothing in the configuration binds" } else { "no --config binds" };
                    println!(
                        "{}: warning: {location}: {place} the integration {}: {} [{}]",
                        path.display(),
                        integration.name,
                        bindings::how_to_bind(&integration.name),
                        bindings::UNBOUND_WARNING
                    );
                }
            }
        } else {
            all_valid = false;
            for diagnostic in &diagnostics {
                println!("{}: {} [{}]", path.display(), diagnostic, diagnostic.code);
            }
        }
    }
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
