//! TestState on the order pipeline's states, mocked and real, at every inspection level,
//! driven with boto3.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::MemoryStore;
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

use crate::aws_clients::run_client_script;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_tests_single_states_of_the_pipeline() -> Result<()> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    let service = Service::new(Arc::new(MemoryStore::default()), runtime, ServiceConfig::default());
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    run_client_script(service, "test_state.py", &[functions.as_os_str()]).await
}
