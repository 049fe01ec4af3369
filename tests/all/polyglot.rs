//! Steps in Python and JavaScript: the SDKs' own tests, and the order pipeline run with
//! fraud-check written in Python and send-email in JavaScript, built from source with
//! componentize-py and ComponentizeJS, giving exactly what the Rust functions give.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context as _, Result, bail, ensure};
use serde_json::{Value, json};
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

use crate::support::run;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the polyglot components and their toolchain live between runs.
fn build_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("polyglot")
}

/// Builds the Python and JavaScript samples once per test run (the script skips what is up
/// to date). Fails with the script's own message when python3-venv, npm or a registry is
/// missing.
fn polyglot_components() -> Result<PathBuf> {
    static BUILT: Mutex<bool> = Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let out = build_dir();
    if !*built {
        let script = repository().join("guest-sdk/build-polyglot");
        // The same tools `stepwasm build` installs in the CLI tests' data directory.
        let toolchain = Path::new(env!("CARGO_TARGET_TMPDIR")).join("stepwasm-data/polyglot-toolchain");
        let build = Command::new("python3").arg(&script).arg(&out).arg("--toolchain").arg(&toolchain).output();
        let output = build.with_context(|| {
            format!("running {} (python3 is needed to build Python and JavaScript steps)", script.display())
        })?;
        if !output.status.success() {
            bail!(
                "building the Python and JavaScript samples failed (they need python3-venv, Node.js with npm, and PyPI and the npm registry the first time):\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        *built = true;
    }
    Ok(out)
}

/// A runtime with every sample function, then fraud-check and send-email replaced by their
/// Python and JavaScript ports. Compiled code is cached: an 18 MB component takes seconds.
fn polyglot_runtime() -> Result<Runtime> {
    let out = polyglot_components()?;
    let config = RuntimeConfig { artifact_cache: Some(out.join("artifacts")), ..RuntimeConfig::default() };
    let runtime = Runtime::new(config)?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    for (name, file) in [("fraud-check", "fraud-check-py.wasm"), ("send-email", "send-email-js.wasm")] {
        let component = std::fs::read(out.join(file)).with_context(|| format!("reading {file}"))?;
        runtime.register(name, &component, FunctionConfig::default())?;
    }
    Ok(runtime)
}

/// The sample orders, and one the fraud rules reject (a throwaway mailbox shipping abroad).
fn orders() -> Result<Vec<(String, Value)>> {
    let mut orders: Vec<(String, Value)> = stepwasm_functions::samples::ALL
        .iter()
        .map(|(name, order)| Ok(((*name).to_owned(), serde_json::from_str(order)?)))
        .collect::<Result<_>>()?;
    let mut suspicious: Value = serde_json::from_str(stepwasm_functions::samples::GOOD_ORDER)?;
    suspicious["customer"]["email"] = json!("ada@mailinator.com");
    suspicious["shippingAddress"]["country"] = json!("GB");
    orders.push(("suspicious".to_owned(), suspicious));
    Ok(orders)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipeline_runs_with_steps_in_python_and_javascript() -> Result<()> {
    let polyglot = polyglot_runtime()?;
    let rust = crate::support::sample_runtime()?;
    for (name, order) in orders()? {
        let with_ports = run(&polyglot, stepwasm_functions::ORDER_PIPELINE, order.clone()).await?;
        let all_rust = run(&rust, stepwasm_functions::ORDER_PIPELINE, order).await?;
        assert_eq!(with_ports.outcome, all_rust.outcome, "{name}: the ports must answer as the Rust functions do");
        let ran = |record: &stepwasm_orchestrator::engine::ExecutionRecord, state: &str| {
            record.invocations.iter().any(|invocation| invocation.state_name == state)
        };
        // A declined card fails the payment branch, and the Parallel cancels the fraud branch
        // mid-flight: whether FraudCheck answered first is a race, so only orders that pass
        // payment must show it.
        if name != "declined-card" {
            ensure!(ran(&with_ports, "FraudCheck"), "{name}: FraudCheck never ran");
        }
        if name == "good-order" {
            ensure!(ran(&with_ports, "SendEmail"), "the good order was never emailed");
        }
        if name == "suspicious" {
            let outcome = format!("{:?}", with_ports.outcome);
            ensure!(outcome.contains("FraudSuspected"), "the suspicious order passed: {outcome}");
        }
    }
    Ok(())
}

/// Runs one of the SDKs' native test suites.
fn native_tests(program: &str, args: &[&str], dir: &str) -> Result<()> {
    let dir = repository().join(dir);
    let output = Command::new(program)
        .args(args)
        .current_dir(&dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .with_context(|| format!("running {program} in {} ({program} is needed for these tests)", dir.display()))?;
    ensure!(
        output.status.success(),
        "{program} {args:?} failed in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

#[test]
fn the_python_sdk_and_its_sample_pass_their_tests() -> Result<()> {
    native_tests("python3", &["-m", "unittest", "discover", "-s", "tests"], "guest-sdk/python")?;
    native_tests("python3", &["-m", "unittest"], "functions/fraud-check-py")
}

#[test]
fn the_javascript_sdk_and_its_sample_pass_their_tests() -> Result<()> {
    native_tests("node", &["--test"], "guest-sdk/js")?;
    native_tests("node", &["--test"], "functions/send-email-js")
}
