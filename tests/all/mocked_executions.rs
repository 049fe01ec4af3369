//! A server for tests: executions started as `STATE_MACHINE_ARN#TEST_CASE` answered from a
//! Step Functions Local mock file, and waits scaled to nothing; driven with boto3.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use stepwasm_orchestrator::mocks::MockConfig;
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::SqliteStore;
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

use crate::aws_clients::run_client_script;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_runs_test_cases_of_a_step_functions_local_mock_file() -> Result<()> {
    let data = tempfile::tempdir()?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let mut mocks = MockConfig::parse(&std::fs::read_to_string(functions.join("order-pipeline.mocks.json"))?)?;
    // The example of AWS's Step Functions Local guide, as it is written there, beside the
    // pipeline's own.
    let guide = MockConfig::parse(&std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("api/step-functions-local.mocks.json"),
    )?)?;
    mocks.merge(guide)?;
    let store = Arc::new(SqliteStore::open(&data.path().join("stepwasm.db"))?);
    let config = ServiceConfig { mocks: Some(Arc::new(mocks)), wait_time_scale: 0.0, ..ServiceConfig::default() };
    let service = Service::new(store, runtime, config);
    run_client_script(service, "mocked_executions.py", &[functions.as_os_str()]).await
}
