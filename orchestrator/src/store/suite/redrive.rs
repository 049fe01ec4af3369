//! Redrives, against every store.

use super::{execution, start, step, succeeded};
use crate::store::{
    Completion, ExecutionFilter, ExecutionStatus, JournalInput, PageRequest, Redrive, Store, StoreError,
};

fn failed(stop_date: i64) -> Completion {
    Completion {
        status: ExecutionStatus::Failed,
        output: None,
        error: Some("Boom".to_owned()),
        cause: Some("it broke".to_owned()),
        stop_date,
    }
}

fn redrive(count: u32, date: i64, token: &str) -> Redrive {
    Redrive { count, date, client_token: Some(token.to_owned()) }
}

/// The redrive step: journal entry `sequence`, its events from `first_event` on.
fn redrive_step(arn: &str, sequence: u64, first_event: u64) -> crate::store::Append {
    let mut append = step(arn, sequence, first_event, 2);
    append.entry.input = JournalInput::Redrive;
    append
}

pub(super) async fn redrives_reopen_once_and_are_counted(store: &dyn Store) {
    let record = start(store, &execution("redriven", "once", 1_000)).await;
    let arn = &record.arn;
    // Running: not redrivable.
    let refused = store.redrive(redrive_step(arn, 1, 3), redrive(1, 2_000, "early")).await;
    assert!(matches!(refused, Err(StoreError::Refused(_))), "{refused:?}");

    let mut ending = step(arn, 1, 3, 1);
    ending.completion = Some(failed(1_500));
    store.append(ending).await.unwrap();

    store.redrive(redrive_step(arn, 2, 4), redrive(1, 2_000, "first")).await.unwrap();
    let reopened = store.execution(arn).await.unwrap().unwrap();
    assert_eq!(reopened.status, ExecutionStatus::Running);
    assert_eq!((reopened.stop_date, reopened.error.as_deref(), reopened.cause.as_deref()), (None, None, None));
    assert_eq!((reopened.redrive_count, reopened.redrive_date), (1, Some(2_000)));
    assert_eq!(reopened.redrive_token.as_deref(), Some("first"));
    let journal = store.journal(arn).await.unwrap();
    assert_eq!(journal.last().map(|entry| &entry.input), Some(&JournalInput::Redrive));
    assert!(store.running_executions().await.unwrap().contains(arn), "a redriven execution is resumed on restart");

    // A second redrive of the same ended execution loses: the row is running again.
    let again = store.redrive(redrive_step(arn, 2, 4), redrive(1, 2_001, "second")).await;
    assert!(matches!(again, Err(StoreError::Refused(_))), "{again:?}");

    // It succeeds this time; the count stays, and the listings filter on it.
    let mut done = step(arn, 3, 6, 1);
    done.completion = Some(succeeded(3_000));
    store.append(done).await.unwrap();
    let finished = store.execution(arn).await.unwrap().unwrap();
    assert_eq!(
        (finished.status, finished.redrive_count, finished.stop_date),
        (ExecutionStatus::Succeeded, 1, Some(3_000))
    );

    let never = start(store, &execution("redriven", "never", 1_100)).await;
    let listed = |redriven: bool| async move {
        let filter = ExecutionFilter { redriven: Some(redriven), ..ExecutionFilter::default() };
        let page = PageRequest { limit: 10, after: None, reverse: false };
        let items = store.list_executions(&filter, &page).await.unwrap().items;
        items.into_iter().map(|record| record.name).collect::<Vec<_>>()
    };
    assert_eq!(listed(true).await, ["once"]);
    assert_eq!(listed(false).await, [never.name]);
}

pub(super) async fn a_redrive_with_a_step_out_of_order_changes_nothing(store: &dyn Store) {
    let record = start(store, &execution("redriven", "gap", 1_000)).await;
    let arn = &record.arn;
    let mut ending = step(arn, 1, 3, 1);
    ending.completion = Some(failed(1_500));
    store.append(ending).await.unwrap();
    let gap = store.redrive(redrive_step(arn, 5, 4), redrive(1, 2_000, "gap")).await;
    assert!(matches!(gap, Err(StoreError::Refused(_))), "{gap:?}");
    let unchanged = store.execution(arn).await.unwrap().unwrap();
    assert_eq!((unchanged.status, unchanged.redrive_count), (ExecutionStatus::Failed, 0), "rolled back as a whole");
    assert_eq!(unchanged.error.as_deref(), Some("Boom"));
    assert_eq!(store.journal(arn).await.unwrap().len(), 2);
}
