//! Parked executions, against every store: woken in order of their time, found by the tokens
//! they await, made due by a signal, and unparked by their next step.

use super::{execution, start, step, succeeded};
use crate::store::{AwaitedCallback, ExecutionCounts, Millis, Parking, Store};

fn wake(at: Millis) -> Parking {
    Parking { wake_at: Some(at), callbacks: Vec::new() }
}

pub(super) async fn parked_executions_wake_in_order_and_unpark_on_append(store: &dyn Store) {
    let (early, late, active) = (execution("m", "early", 1), execution("m", "late", 2), execution("m", "active", 3));
    for record in [&early, &late, &active] {
        start(store, record).await;
    }
    assert_eq!(store.next_wake().await.unwrap(), None);
    store.park(&late.arn, &wake(5_000)).await.unwrap();
    store.park(&early.arn, &wake(4_000)).await.unwrap();
    assert_eq!(
        store.running_executions().await.unwrap(),
        std::slice::from_ref(&active.arn),
        "parked executions need no driver"
    );
    assert_eq!(store.execution_counts().await.unwrap(), ExecutionCounts { running: 1, parked: 2 });
    assert_eq!(store.next_wake().await.unwrap(), Some(4_000));
    assert!(store.due_executions(3_999, 10).await.unwrap().is_empty());
    assert_eq!(store.due_executions(4_000, 10).await.unwrap(), std::slice::from_ref(&early.arn));
    assert_eq!(store.due_executions(9_000, 10).await.unwrap(), [early.arn.clone(), late.arn.clone()]);
    assert_eq!(store.due_executions(9_000, 1).await.unwrap(), std::slice::from_ref(&early.arn));

    // Parking again moves the wake-up; the next step unparks.
    store.park(&early.arn, &wake(6_000)).await.unwrap();
    assert_eq!(store.next_wake().await.unwrap(), Some(5_000));
    store.append(step(&late.arn, 1, 3, 1)).await.unwrap();
    assert_eq!(store.due_executions(9_000, 10).await.unwrap(), std::slice::from_ref(&early.arn));
    let mut running = store.running_executions().await.unwrap();
    running.sort();
    assert_eq!(running, [active.arn.clone(), late.arn.clone()]);

    // A finished execution is never parked.
    let mut end = step(&active.arn, 1, 3, 1);
    end.completion = Some(succeeded(7_000));
    store.append(end).await.unwrap();
    store.park(&active.arn, &wake(1)).await.unwrap();
    assert_eq!(store.due_executions(9_000, 10).await.unwrap(), std::slice::from_ref(&early.arn));
    assert_eq!(
        store.execution_counts().await.unwrap(),
        ExecutionCounts { running: 1, parked: 1 },
        "the late one runs again, the early one waits, the active one ended"
    );
}

pub(super) async fn parked_executions_are_found_by_the_tokens_they_await(store: &dyn Store) {
    let (approval, other) = (execution("m", "approval", 1), execution("m", "other", 2));
    start(store, &approval).await;
    start(store, &other).await;
    let callback = |task_id: u64, token: &str, deadline| AwaitedCallback {
        task_id,
        token: token.to_owned(),
        deadline,
        heartbeat_seconds: deadline.map(|_| 30),
        heartbeat_deadline: deadline.map(|at| at - 1),
    };
    let parking =
        Parking { wake_at: None, callbacks: vec![callback(3, "token-a", None), callback(4, "token-b", None)] };
    store.park(&approval.arn, &parking).await.unwrap();
    assert_eq!(store.parking(&approval.arn).await.unwrap(), Some(parking));
    assert_eq!(store.parking(&other.arn).await.unwrap(), None);
    assert_eq!(store.execution_awaiting("token-b").await.unwrap(), Some(approval.arn.clone()));
    assert_eq!(store.execution_awaiting("token-c").await.unwrap(), None);
    // Waiting only for callbacks, it has no wake-up time and is never due.
    assert_eq!(store.next_wake().await.unwrap(), None);
    assert!(store.due_executions(Millis::MAX - 1, 10).await.unwrap().is_empty());
    assert!(store.running_executions().await.unwrap().iter().all(|arn| *arn != approval.arn));

    // Parked anew, it waits for what it says now; its next step ends the parking.
    let timed = Parking { wake_at: Some(9_000), callbacks: vec![callback(5, "token-c", Some(9_000))] };
    store.park(&approval.arn, &timed).await.unwrap();
    assert_eq!(store.execution_awaiting("token-a").await.unwrap(), None);
    assert_eq!(store.execution_awaiting("token-c").await.unwrap(), Some(approval.arn.clone()));
    assert_eq!(store.next_wake().await.unwrap(), Some(9_000));
    store.append(step(&approval.arn, 1, 3, 1)).await.unwrap();
    assert_eq!(store.execution_awaiting("token-c").await.unwrap(), None);
    assert_eq!(store.parking(&approval.arn).await.unwrap(), None);
}

pub(super) async fn a_signal_makes_its_parked_execution_due_at_once(store: &dyn Store) {
    let (answered, timed, active) =
        (execution("m", "answered", 1), execution("m", "timed", 2), execution("m", "active", 3));
    for record in [&answered, &timed, &active] {
        start(store, record).await;
    }
    let awaiting = Parking {
        wake_at: None,
        callbacks: vec![AwaitedCallback {
            task_id: 3,
            token: "token-a".to_owned(),
            deadline: None,
            heartbeat_seconds: None,
            heartbeat_deadline: None,
        }],
    };
    store.park(&answered.arn, &awaiting).await.unwrap();
    store.park(&timed.arn, &wake(4_000)).await.unwrap();
    assert_eq!(store.due_executions(5_000, 10).await.unwrap(), std::slice::from_ref(&timed.arn));

    // A signal for an execution that is driven changes nothing about it.
    store.post_signal(&active.arn, "{}").await.unwrap();
    assert_eq!(store.running_executions().await.unwrap(), std::slice::from_ref(&active.arn));

    // Answered, the parked one is due now, ahead of every timer, and still waits for the same.
    store.post_signal(&answered.arn, "{}").await.unwrap();
    assert_eq!(store.due_executions(1, 10).await.unwrap(), std::slice::from_ref(&answered.arn));
    assert_eq!(store.due_executions(5_000, 10).await.unwrap(), [answered.arn.clone(), timed.arn.clone()]);
    assert_eq!(store.parking(&answered.arn).await.unwrap(), Some(awaiting));
    assert_eq!(store.execution_counts().await.unwrap(), ExecutionCounts { running: 1, parked: 2 });

    // Parked again once the signal is taken, it waits for its own time.
    store.park(&answered.arn, &wake(6_000)).await.unwrap();
    assert_eq!(store.due_executions(5_000, 10).await.unwrap(), std::slice::from_ref(&timed.arn));
    assert_eq!(store.due_executions(6_000, 10).await.unwrap(), [timed.arn.clone(), answered.arn.clone()]);
    // Or its next step unparks it.
    store.post_signal(&timed.arn, "{}").await.unwrap();
    store.append(step(&timed.arn, 1, 3, 1)).await.unwrap();
    assert_eq!(store.due_executions(6_000, 10).await.unwrap(), std::slice::from_ref(&answered.arn));
    assert_eq!(store.execution_counts().await.unwrap(), ExecutionCounts { running: 2, parked: 1 });
}
