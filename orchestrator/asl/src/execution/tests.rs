//! The interpreter's own tests: frames, tasks, timers, stops and limits.

use serde_json::json;

use super::*;
use crate::entropy::SeededEntropy;

fn start(def: &str, input: Value) -> (Execution, Step) {
    let machine = Arc::new(StateMachine::from_json(def).unwrap());
    let ctx = ExecutionContext::new("sm", "ex", Timestamp(0));
    Execution::start(machine, input, ctx, Timestamp(0), &mut SeededEntropy::new(1))
}

fn invocations(step: &Step) -> Vec<(TaskId, Value, Option<String>)> {
    step.actions
        .iter()
        .filter_map(|a| match a {
            Action::InvokeTask { task_id, payload, context, .. } => {
                Some((*task_id, Value::clone(payload), context.task_token.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn machine_timeout_and_stop() {
    let def = r#"{"StartAt":"W","TimeoutSeconds":5,"States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}"#;
    let (mut exec, step) = start(def, json!({}));
    let timers: Vec<(TimerId, Timestamp)> = step
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::StartTimer { timer_id, fire_at } => Some((*timer_id, *fire_at)),
            _ => None,
        })
        .collect();
    assert_eq!(timers.iter().map(|t| t.1.as_millis()).collect::<Vec<_>>(), [5_000, 60_000]);
    let step = exec.apply(Input::TimerFired { timer_id: timers[0].0 }, Timestamp(5_000), &mut SeededEntropy::new(1));
    assert_eq!(step.history.iter().map(HistoryEvent::event_type).collect::<Vec<_>>(), ["ExecutionTimedOut"]);
    assert!(step.actions.contains(&Action::CancelTimer { timer_id: timers[1].0 }));
    assert_eq!(step.actions.last(), Some(&Action::Complete(ExecutionOutcome::TimedOut)));
    assert_eq!(exec.outcome(), Some(&ExecutionOutcome::TimedOut));
    // Nothing happens after the end.
    let late = exec.apply(Input::TimerFired { timer_id: timers[1].0 }, Timestamp(60_000), &mut SeededEntropy::new(1));
    assert_eq!(late, Step::default());

    let (mut exec, _) = start(def, json!({}));
    let step =
        exec.apply(Input::Stop { error: Some("E".into()), cause: None }, Timestamp(1), &mut SeededEntropy::new(1));
    assert_eq!(step.history[0].event_type(), "ExecutionAborted");
    assert_eq!(step.history[0].previous_event_id, 2);
    assert!(matches!(step.actions.last(), Some(Action::Complete(ExecutionOutcome::Aborted { .. }))));
}

#[test]
fn task_tokens_and_concurrent_map_invocations() {
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters":{"FunctionName":"f","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}"#;
    let (mut exec, step) = start(def, json!({}));
    let calls = invocations(&step);
    let (task_id, payload, token) = calls[0].clone();
    let token = token.unwrap();
    assert_eq!(payload, json!({ "token": token }));
    assert_eq!(exec.task_for_token(&token), Some(task_id));
    let step = exec.apply(
        Input::TaskSucceeded { task_id, output: json!({"ok": 1}).into() },
        Timestamp(9),
        &mut SeededEntropy::new(1),
    );
    assert_eq!(step.actions.last(), Some(&Action::Complete(ExecutionOutcome::Succeeded(json!({"ok": 1})))));
    assert_eq!(exec.task_for_token(&token), None);

    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2,"End":true,
        "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"wasm:f","End":true}}}}}}"#;
    let (mut exec, step) = start(def, json!([1, 2, 3]));
    let first = invocations(&step);
    assert_eq!(first.iter().map(|c| c.1.clone()).collect::<Vec<_>>(), [json!(1), json!(2)]);
    // Completing the second item first starts the third; output order follows the items.
    let step = exec.apply(
        Input::TaskSucceeded { task_id: first[1].0, output: json!("b").into() },
        Timestamp(1),
        &mut SeededEntropy::new(1),
    );
    let third = invocations(&step);
    assert_eq!(third[0].1, json!(3));
    exec.apply(
        Input::TaskSucceeded { task_id: third[0].0, output: json!("c").into() },
        Timestamp(2),
        &mut SeededEntropy::new(1),
    );
    let step = exec.apply(
        Input::TaskSucceeded { task_id: first[0].0, output: json!("a").into() },
        Timestamp(3),
        &mut SeededEntropy::new(1),
    );
    assert_eq!(step.actions.last(), Some(&Action::Complete(ExecutionOutcome::Succeeded(json!(["a", "b", "c"])))));
}

#[test]
fn failing_branch_cancels_siblings_and_ids_chain() {
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
        {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"wasm:slow","End":true}}},
        {"StartAt":"U","States":{"U":{"Type":"Task","Resource":"wasm:fails","End":true}}}]}}}"#;
    let (mut exec, step) = start(def, json!({}));
    let calls = invocations(&step);
    let mut history = step.history;
    let step = exec.apply(
        Input::TaskFailed { task_id: calls[1].0, error: "Boom".into(), cause: None },
        Timestamp(1),
        &mut SeededEntropy::new(1),
    );
    assert!(step.actions.contains(&Action::CancelTask { task_id: calls[0].0 }));
    assert!(
        matches!(step.actions.last(), Some(Action::Complete(ExecutionOutcome::Failed { error: Some(e), .. })) if e == "Boom")
    );
    history.extend(step.history);
    for (n, e) in history.iter().enumerate() {
        assert_eq!(e.id, n as u64 + 1);
        assert!(e.previous_event_id < e.id);
    }
    // A late reply for the cancelled task is ignored.
    let late = exec.apply(
        Input::TaskSucceeded { task_id: calls[0].0, output: json!(1).into() },
        Timestamp(2),
        &mut SeededEntropy::new(1),
    );
    assert_eq!(late, Step::default());
}

fn types(step: &Step) -> Vec<String> {
    step.history.iter().map(HistoryEvent::event_type).collect()
}

#[test]
fn siblings_stopped_by_a_failure_record_what_they_were_doing() {
    // A Parallel branch waits while the other fails: its Wait is aborted, then the Parallel fails.
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
        {"StartAt":"Sleep","States":{"Sleep":{"Type":"Wait","Seconds":60,"End":true}}},
        {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"wasm:fails","End":true}}}]}}}"#;
    let (mut exec, step) = start(def, json!({}));
    let calls = invocations(&step);
    let step = exec.apply(
        Input::TaskFailed { task_id: calls[0].0, error: "Boom".into(), cause: None },
        Timestamp(1),
        &mut SeededEntropy::new(1),
    );
    assert_eq!(
        types(&step),
        ["LambdaFunctionFailed", "WaitStateAborted", "ParallelStateFailed", "ExecutionFailed"],
        "{:?}",
        step.history
    );

    // A Map iteration fails while another runs a task and a third runs a nested Parallel.
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"Route",
        "States":{"Route":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"Both"}],"Default":"T"},
        "T":{"Type":"Task","Resource":"wasm:f","End":true},
        "Both":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"U","States":{"U":{"Type":"Task","Resource":"wasm:g","End":true}}}]}}}}}}"#;
    let (mut exec, step) = start(def, json!([0, 1, 2]));
    let calls = invocations(&step);
    assert_eq!(calls.len(), 3);
    let step = exec.apply(
        Input::TaskFailed { task_id: calls[0].0, error: "Boom".into(), cause: None },
        Timestamp(1),
        &mut SeededEntropy::new(1),
    );
    assert_eq!(
        types(&step),
        [
            "LambdaFunctionFailed",
            "MapIterationFailed",
            "TaskStateAborted",
            "MapIterationAborted",
            "TaskStateAborted",
            "ParallelStateAborted",
            "MapIterationAborted",
            "MapStateFailed",
            "ExecutionFailed"
        ]
    );
    let aborted: Vec<usize> = step
        .history
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::MapIterationAborted { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(aborted, [1, 2]);
    for call in &calls[1..] {
        assert!(step.actions.contains(&Action::CancelTask { task_id: call.0 }));
    }

    // A stop ends the execution without recording what each branch was doing.
    let (mut exec, _) = start(def, json!([0, 1]));
    let step = exec.apply(Input::Stop { error: None, cause: None }, Timestamp(1), &mut SeededEntropy::new(1));
    assert_eq!(types(&step), ["ExecutionAborted"]);
}

#[test]
fn a_state_output_over_256_kib_fails_with_data_limit_exceeded() {
    // Three copies of a 100 kB string: 300 kB out of one Pass state.
    let triple = r#"{"Type":"Pass","Parameters":{"a.$":"$.text","b.$":"$.text","c.$":"$.text"},"End":true}"#;
    let input = json!({"text": "x".repeat(100_000)});
    let (exec, step) = start(&format!(r#"{{"StartAt":"Triple","States":{{"Triple":{triple}}}}}"#), input.clone());
    let Some(ExecutionOutcome::Failed { error, cause }) = exec.outcome() else {
        panic!("expected a failure, got {:?}", exec.outcome());
    };
    assert_eq!(error.as_deref(), Some(names::DATA_LIMIT_EXCEEDED));
    assert!(cause.as_deref().is_some_and(|cause| cause.contains("'Triple'")), "{cause:?}");
    assert!(
        !step.history.iter().any(|event| matches!(event.kind, EventKind::StateExited { .. })),
        "the oversized output is never recorded"
    );

    // As on AWS, States.ALL does not catch it, and a Catch that names it does.
    let caught = |errors: &str| {
        let def = format!(
            r#"{{"StartAt":"Run","States":{{"Run":{{"Type":"Parallel","Branches":[{{"StartAt":"Triple","States":{{"Triple":{triple}}}}}],
            "Catch":[{{"ErrorEquals":{errors},"ResultPath":null,"Next":"Recovered"}}],"End":true}},
            "Recovered":{{"Type":"Pass","Result":"recovered","End":true}}}}}}"#
        );
        let (exec, _) = start(&def, input.clone());
        matches!(exec.outcome(), Some(ExecutionOutcome::Succeeded(Value::String(text))) if text == "recovered")
    };
    assert!(caught(r#"["States.DataLimitExceeded"]"#));
    assert!(!caught(r#"["States.ALL"]"#));

    let (exec, _) = start(&format!(r#"{{"StartAt":"Triple","States":{{"Triple":{triple}}}}}"#), json!({"text": "x"}));
    assert!(matches!(exec.outcome(), Some(ExecutionOutcome::Succeeded(_))), "small outputs pass");
}

#[test]
fn endless_loops_stop_at_the_history_limit() {
    let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}"#;
    let (exec, step) = start(def, json!({}));
    // AWS's error and cause, word for word.
    assert_eq!(
        exec.outcome(),
        Some(&ExecutionOutcome::Failed {
            error: Some("States.Runtime".into()),
            cause: Some("The execution reached the maximum number of history events (25000).".into()),
        })
    );
    assert!(step.history.len() <= MAX_HISTORY_EVENTS as usize + 1);
    assert_eq!(step.history.last().map(HistoryEvent::event_type).as_deref(), Some("ExecutionFailed"));
}

#[test]
fn a_wait_time_scale_shortens_every_wait_the_driver_keeps() {
    let def = r#"{"StartAt":"W","TimeoutSeconds":1000,"States":{
        "W":{"Type":"Wait","Seconds":60,"Next":"T"},
        "T":{"Type":"Task","Resource":"wasm:f","TimeoutSeconds":30,"HeartbeatSeconds":10,
             "Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":8,"MaxAttempts":1}],"End":true}}}"#;
    let fire_times = |step: &Step| -> Vec<i64> {
        step.actions
            .iter()
            .filter_map(|a| match a {
                Action::StartTimer { fire_at, .. } => Some(fire_at.as_millis()),
                _ => None,
            })
            .collect()
    };
    for (scale, expected) in [(1.0, [1_000_000, 60_000]), (0.5, [500_000, 30_000]), (0.0, [0, 0])] {
        let machine = Arc::new(StateMachine::from_json(def).unwrap());
        let mut ctx = ExecutionContext::new("sm", "ex", Timestamp(0));
        ctx.wait_time_scale = scale;
        let entropy = &mut SeededEntropy::new(1);
        let (mut exec, step) = Execution::start(machine, json!({}), ctx, Timestamp(0), entropy);
        assert_eq!(fire_times(&step), expected, "the execution timeout, then the Wait, at scale {scale}");
        let Some(Action::StartTimer { timer_id, fire_at }) = step.actions.get(1).cloned() else {
            panic!("a Wait timer")
        };
        let step = exec.apply(Input::TimerFired { timer_id }, fire_at, entropy);
        let Some(Action::InvokeTask { task_id, timeout, heartbeat, .. }) = step.actions.first().cloned() else {
            panic!("the task")
        };
        let seconds = |s: f64| Some(std::time::Duration::from_millis((s * 1000.0 * scale) as u64));
        assert_eq!((timeout, heartbeat), (seconds(30.0), seconds(10.0)), "at scale {scale}");
        // The history records what the definition says, not what was waited.
        let scheduled =
            step.history.iter().find(|e| e.event_type() == "LambdaFunctionScheduled").unwrap().to_aws_json();
        assert_eq!(scheduled["lambdaFunctionScheduledEventDetails"]["timeoutInSeconds"], 30);
        let at = fire_at.add_millis(1);
        let step = exec.apply(Input::TaskFailed { task_id, error: "Boom".into(), cause: None }, at, entropy);
        assert_eq!(fire_times(&step), [at.as_millis() + (8_000.0 * scale) as i64], "the back-off at scale {scale}");
    }
}

#[test]
fn a_loop_inside_a_distributed_map_child_ends_instead_of_running_forever() {
    // Found by probing: the children record no events, so the history limit never stopped it.
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{
        "ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
        "StartAt":"A","States":{"A":{"Type":"Pass","Next":"A"}}}}}}"#;
    let (exec, step) = start(def, json!([1]));
    let Some(ExecutionOutcome::Failed { error, cause }) = exec.outcome() else {
        panic!("expected a failure, got {:?}", exec.outcome())
    };
    // As on AWS, where the child is an execution of its own: it meets the history limit, and
    // its failure fails the Map.
    assert_eq!(error.as_deref(), Some("States.Runtime"));
    assert_eq!(cause.as_deref(), Some("The execution reached the maximum number of history events (25000)."));
    let types: Vec<String> = step.history.iter().map(HistoryEvent::event_type).collect();
    assert_eq!(types[types.len() - 3..], ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]);

    // A tolerated child failure leaves the Map to go on.
    let tolerant = def.replace(r#""End":true,"#, r#""End":true,"ToleratedFailureCount":1,"#);
    let (exec, _) = start(&tolerant, json!([1, 2]));
    assert!(matches!(exec.outcome(), Some(ExecutionOutcome::Failed { .. })), "both children loop: over the threshold");
    let (exec, _) = start(&tolerant.replace(r#""Next":"A""#, r#""End":true"#), json!([1, 2]));
    assert!(matches!(exec.outcome(), Some(ExecutionOutcome::Succeeded(_))));
}

#[test]
fn a_parallel_state_that_loops_to_itself_stops_at_the_history_limit() {
    // Found by probing: it ran to 25,000 events with 777 MB for one execution. The documents
    // are shared now, and a growing one meets the 256 KiB limit first.
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"P","ResultPath":null,
        "Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}]}}}"#;
    let (exec, step) = start(def, json!({"text": "x".repeat(100_000)}));
    assert!(
        matches!(exec.outcome(), Some(ExecutionOutcome::Failed { error: Some(e), .. }) if e == "States.Runtime"),
        "{:?}",
        exec.outcome()
    );
    // The state that crosses the limit records its own few events before the execution fails.
    assert!(step.history.len() <= MAX_HISTORY_EVENTS as usize + 8, "{} events", step.history.len());
    let doubling = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"P","Branches":[
        {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
        {"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}]}}}"#;
    let (exec, _) = start(doubling, json!({"x": 1}));
    assert!(
        matches!(exec.outcome(), Some(ExecutionOutcome::Failed { error: Some(e), .. }) if e == "States.DataLimitExceeded"),
        "an output that doubles each time meets the state size limit: {:?}",
        exec.outcome()
    );
}
