//! Nested executions (`states:startExecution` with each integration pattern), driven and
//! inspected with boto3.

use std::sync::Arc;

use anyhow::Result;
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::SqliteStore;
use stepwasm_runtime::{Runtime, RuntimeConfig};

use crate::aws_clients::run_client_script;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_runs_parents_that_start_children() -> Result<()> {
    let data = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&data.path().join("stepwasm.db"))?);
    let service = Service::new(store, Runtime::new(RuntimeConfig::default())?, ServiceConfig::default());
    run_client_script(service, "nested_executions.py", &[]).await
}
