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
/// remembers every call as (state, payload), and the payload's JSON text if the engine gave one.
#[derive(Default)]
struct FakePayments {
    calls: Mutex<Vec<(String, Value)>>,
    texts: Mutex<Vec<Option<String>>>,
}

impl TaskInvoker for FakePayments {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        let payload = Value::clone(&call.payload);
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((call.context.state_name.clone(), payload.clone()));
        self.texts.lock().unwrap_or_else(PoisonError::into_inner).push(call.payload_text.as_deref().map(str::to_owned));
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
    // Each payload was serialised once, for the journal, and the invoker got that text: for the
    // task the start schedules and for one scheduled later.
    let texts = payments.texts.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(texts.len(), calls.len());
    for (text, (state, payload)) in texts.iter().zip(&calls) {
        let text = text.as_deref().unwrap_or_else(|| panic!("{state} got no payload text"));
        assert_eq!(&serde_json::from_str::<Value>(text)?, payload, "{state}");
    }
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

/// Answers every call of a `.waitForTaskToken` task as the function would (it only sends the
/// token on), and counts the calls.
#[derive(Default)]
struct CountedCalls {
    calls: Mutex<u32>,
}

impl TaskInvoker for CountedCalls {
    fn invoke(&self, _call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        *self.calls.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        Box::pin(async move { (TaskOutcome::Succeeded(json!({"sent": true})), None) })
    }
}

/// A callback task records `TaskSubmitted` once its call returns; an execution rebuilt from a
/// journal that says so waits for the token instead of making the call again.
#[tokio::test]
async fn a_submitted_callback_is_not_called_again_after_a_resume() -> Result<()> {
    use stepwasm_asl::{ExecutionContext, ExecutionOutcome, Input, StateMachine};
    use stepwasm_orchestrator::engine::{Engine, ReplayEntry, Signal};

    let machine = Arc::new(StateMachine::from_json(
        r#"{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters":{"FunctionName":"notify","Payload":{"token.$":"$$.Task.Token"}},"TimeoutSeconds":60,"End":true}}}"#,
    )?);
    let counted = Arc::new(CountedCalls::default());
    let engine = Engine::new(counted.clone());
    let context = ExecutionContext::new("ask", "run-1", engine.clock().now());

    // Driven live, the call is made once and recorded as submitted; then the token answers.
    let (signals, receiver) = tokio::sync::mpsc::unbounded_channel();
    let seen = Mutex::new(Vec::new());
    let mut observe = |event: &stepwasm_asl::HistoryEvent| {
        seen.lock().unwrap_or_else(PoisonError::into_inner).push(event.to_aws_json());
    };
    let live = engine.run(Arc::clone(&machine), json!({}), context.clone(), receiver, &mut observe);
    let answer = async {
        let deadline = Instant::now() + Duration::from_secs(10);
        let token = loop {
            let events = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if events.iter().any(|event| event["type"] == "TaskSubmitted") {
                let scheduled = events.iter().find(|event| event["type"] == "TaskScheduled").cloned();
                let parameters = scheduled.map(|e| e["taskScheduledEventDetails"]["parameters"].clone());
                let parameters: Value = serde_json::from_str(
                    parameters.and_then(|p| p.as_str().map(str::to_owned)).as_deref().unwrap_or("null"),
                )
                .unwrap_or_default();
                break parameters["Payload"]["token"].as_str().unwrap_or_default().to_owned();
            }
            assert!(Instant::now() < deadline, "no TaskSubmitted: {events:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let _ = signals.send(Signal::TaskSuccess { token, output: json!({"approved": "live"}) });
    };
    let (record, ()) = tokio::join!(live, answer);
    assert_eq!(record.outcome, ExecutionOutcome::Succeeded(json!({"approved": "live"})));
    assert_eq!(*counted.calls.lock().unwrap_or_else(PoisonError::into_inner), 1);

    // Rebuilt from a journal that records the submission: only the token is awaited.
    let prepared = engine.start(Arc::clone(&machine), json!({}), context.clone());
    let (at, entropy) = prepared.start_entry().map(|(at, entropy)| (at, entropy.to_vec())).expect("a start entry");
    let (task_id, token) = match prepared.start_actions().first() {
        Some(stepwasm_asl::Action::InvokeTask { task_id, context, .. }) => (*task_id, context.task_token.clone()),
        other => bail!("expected the invocation, got {other:?}"),
    };
    let journal = vec![
        ReplayEntry { input: None, at, entropy },
        ReplayEntry {
            input: Some(Input::TaskSubmitted { task_id, output: json!({"sent": true}) }),
            at,
            entropy: Vec::new(),
        },
    ];
    let before = *counted.calls.lock().unwrap_or_else(PoisonError::into_inner);
    let resumed = engine.resume(machine, json!({}), context, journal).map_err(|error| anyhow::anyhow!("{error}"))?;
    let (signals, receiver) = tokio::sync::mpsc::unbounded_channel();
    signals.send(Signal::TaskSuccess { token: token.unwrap_or_default(), output: json!({"approved": true}) })?;
    let record =
        engine.drive(resumed, receiver, &mut |_| {}, None).await.map_err(|error| anyhow::anyhow!("{error}"))?;
    assert_eq!(record.outcome, ExecutionOutcome::Succeeded(json!({"approved": true})));
    assert_eq!(*counted.calls.lock().unwrap_or_else(PoisonError::into_inner), before, "the call was not made again");
    Ok(())
}
