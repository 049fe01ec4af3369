//! The service driven with a task invoker of the test's own: no Wasm function runs, so what
//! reaches the invoker and what the service makes of its answers can be checked exactly.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};
use stepwasm_orchestrator::engine::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionRecord, ExecutionStatus, MachineType, MemoryStore};
use stepwasm_runtime::{Runtime, RuntimeConfig};

/// Declines cards that end in `0000`, charges any other, and refunds whatever it is asked to;
/// remembers every call as (state, payload).
#[derive(Default)]
struct FakePayments {
    calls: Mutex<Vec<(String, Value)>>,
}

impl TaskInvoker for FakePayments {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        let payload = Value::clone(&call.payload);
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((call.context.state_name.clone(), payload.clone()));
        let outcome = match call.context.state_name.as_str() {
            "Charge" if payload["card"].as_str().is_some_and(|card| card.ends_with("0000")) => {
                TaskOutcome::Failed { error: "PaymentDeclined".into(), cause: Some("insufficient funds".into()) }
            }
            "Charge" => TaskOutcome::Succeeded(json!({"charged": payload["amount"]})),
            _ => TaskOutcome::Succeeded(json!({"refunded": true})),
        };
        Box::pin(async move { (outcome, None) })
    }
}

const DEFINITION: &str = r#"{
  "StartAt": "Charge",
  "States": {
    "Charge": {
      "Type": "Task", "Resource": "wasm:charge",
      "Parameters": {"card.$": "$.card", "amount.$": "$.total"},
      "ResultPath": "$.payment",
      "Catch": [{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "Refund"}],
      "End": true
    },
    "Refund": {"Type": "Task", "Resource": "wasm:refund", "InputPath": "$.error", "End": true}
  }
}"#;

async fn finished(service: &Service, arn: &str) -> Result<ExecutionRecord> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let record = service.describe_execution(arn).await?;
        if record.status != ExecutionStatus::Running {
            return Ok(record);
        }
        if Instant::now() > deadline {
            bail!("{arn} did not finish within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_run_on_an_injected_invoker() -> Result<()> {
    let payments = Arc::new(FakePayments::default());
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let service = Service::with_invoker(
        Arc::new(MemoryStore::default()),
        runtime,
        Arc::clone(&payments) as Arc<dyn TaskInvoker>,
        ServiceConfig::default(),
    );
    let machine = service
        .create_state_machine(
            "payments",
            DEFINITION,
            "arn:aws:iam::123456789012:role/test",
            MachineType::Standard,
            &BTreeMap::new(),
            Value::Null,
            Value::Null,
        )
        .await?;

    let (paid, _) = service.start_execution(&machine.arn, Some("paid"), Some(r#"{"card":"4242","total":12}"#)).await?;
    let paid = finished(&service, &paid).await?;
    assert_eq!(paid.status, ExecutionStatus::Succeeded, "{paid:?}");
    let output: Value = serde_json::from_str(paid.output.as_deref().unwrap_or("null"))?;
    assert_eq!(output, json!({"card": "4242", "total": 12, "payment": {"charged": 12}}));

    let (declined_arn, _) =
        service.start_execution(&machine.arn, Some("declined"), Some(r#"{"card":"40000000","total":5}"#)).await?;
    let declined = finished(&service, &declined_arn).await?;
    assert_eq!(declined.status, ExecutionStatus::Succeeded, "{declined:?}");
    assert_eq!(declined.output.as_deref(), Some(r#"{"refunded":true}"#));

    let calls = payments.calls.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(
        calls,
        [
            ("Charge".to_owned(), json!({"card": "4242", "amount": 12})),
            ("Charge".to_owned(), json!({"card": "40000000", "amount": 5})),
            ("Refund".to_owned(), json!({"Error": "PaymentDeclined", "Cause": "insufficient funds"})),
        ]
    );
    // `wasm:NAME` tasks are recorded like Lambda functions.
    let history = service.history(&declined_arn, Some(100), false, None, true).await?;
    let types: Vec<&str> = history.events.iter().filter_map(|event| event["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionFailed",
            "TaskStateExited",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    Ok(())
}
