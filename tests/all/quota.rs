//! The quota on open executions: a start past it is refused with `ExecutionLimitExceeded`, and a
//! machine that starts copies of itself stops there instead of filling the store.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use serde_json::json;
use stepwasm_orchestrator::service::{ErrorKind, Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionFilter, ExecutionStatus, MemoryStore, PageRequest, Store};
use stepwasm_runtime::{Runtime, RuntimeConfig};

use crate::parking::{create, eventually};

fn service(max_open_executions: u64) -> Result<Service> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
    let config = ServiceConfig { max_open_executions, ..ServiceConfig::default() };
    Ok(Service::new(store, Runtime::new(RuntimeConfig::default())?, config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_past_the_quota_is_refused() -> Result<()> {
    let service = service(3)?;
    service.start_background_work().await?;
    let waiting = json!({"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 600, "End": true}}});
    let machine = create(&service, "holding", &waiting).await?;
    for _ in 0..3 {
        service.start_execution(&machine, None, Some("{}")).await?;
    }
    let refused =
        service.start_execution(&machine, None, Some("{}")).await.err().context("a fourth start was let in")?;
    ensure!(refused.kind == ErrorKind::ExecutionLimitExceeded, "{refused:?}");
    ensure!(refused.message.contains("(3)"), "{}", refused.message);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_that_starts_itself_stops_at_the_quota() -> Result<()> {
    let service = service(5)?;
    service.start_background_work().await?;
    // Each execution starts a copy of its machine, then waits; the copies pile up until the
    // quota refuses one, whose task then fails.
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:recursive";
    let definition = json!({
        "StartAt": "StartCopy",
        "States": {
            "StartCopy": {
                "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": arn, "Input": {}},
                "Next": "Hold"
            },
            "Hold": {"Type": "Wait", "Seconds": 600, "End": true}
        }
    });
    let machine = create(&service, "recursive", &definition).await?;
    ensure!(machine == arn, "{machine}");
    service.start_execution(&machine, None, Some("{}")).await?;
    let failed = || async {
        let filter = ExecutionFilter { state_machine_arn: Some(machine.clone()), ..ExecutionFilter::default() };
        let page =
            service.store().list_executions(&filter, &PageRequest { limit: 100, after: None, reverse: false }).await?;
        Ok::<_, anyhow::Error>(
            page.items.into_iter().filter(|e| e.status == ExecutionStatus::Failed).collect::<Vec<_>>(),
        )
    };
    eventually(Duration::from_secs(20), "an execution failing at the quota", || async {
        Ok(!failed().await?.is_empty())
    })
    .await?;
    let failed = failed().await?;
    let error = failed[0].error.clone().unwrap_or_default();
    ensure!(error == "StepFunctions.ExecutionLimitExceededException", "{error}: {:?}", failed[0].cause);
    let filter = ExecutionFilter { state_machine_arn: Some(machine.clone()), ..ExecutionFilter::default() };
    let all =
        service.store().list_executions(&filter, &PageRequest { limit: 100, after: None, reverse: false }).await?.items;
    ensure!(all.len() == 5, "{} executions were started; the quota is 5", all.len());
    Ok(())
}
