//! The conformance suite: one set of checks that every store must pass.
//!
//! Each check takes a `&dyn Store` (which also proves the traits stay object-safe) and is run
//! against [`MemoryStore`], a file-backed [`SqliteStore`] and an in-memory [`SqliteStore`] by
//! the `suite!` macro at the bottom. Checks that only make sense for a durable store (reopening,
//! schema versions, group commit) follow it.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::json;
use stepwasm_asl::{EventKind, HistoryEvent, StateType};

use crate::engine::DocumentTexts;

use super::{
    ActivityRecord, ActivityStore, ActivityTask, Append, CallbackStore, Completion, Created, ExecutionFilter,
    ExecutionRecord, ExecutionStatus, ExecutionStore, FunctionRecord, FunctionStore, IssuedToken, JournalEntry,
    JournalInput, JournalStore, LeaseStore, MachineType, MemoryStore, Millis, Notice, PageRequest, PostgresStore,
    SqliteStore, StateMachineRecord, StateMachineStore, Store, StoreError, StoredEvent,
};
use crate::store::postgres::test_server::TestServer;

mod integrations;
mod parking;
mod redrive;
mod versions;
use integrations::{bindings_are_replaced_by_integration, queues_hand_each_message_to_one_receiver_at_a_time};
use parking::{
    a_signal_makes_its_parked_execution_due_at_once, parked_executions_are_found_by_the_tokens_they_await,
    parked_executions_wake_in_order_and_unpark_on_append,
};
use redrive::{a_redrive_with_a_step_out_of_order_changes_nothing, redrives_reopen_once_and_are_counted};
use versions::{
    aliases_route_to_versions_that_exist_and_keep_them, versions_are_numbered_once_and_listed_newest_first,
};

const REGION: &str = "arn:aws:states:us-east-1:123456789012";

fn machine(name: &str, created: Millis) -> StateMachineRecord {
    StateMachineRecord {
        arn: format!("{REGION}:stateMachine:{name}"),
        name: name.to_owned(),
        definition: r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#.to_owned(),
        role_arn: "arn:aws:iam::123456789012:role/r".to_owned(),
        machine_type: MachineType::Standard,
        created,
        updated: created,
        revision_id: format!("rev-{created}"),
        logging_configuration: json!({"level": "OFF"}),
        tracing_configuration: json!({"enabled": false}),
    }
}

fn execution(machine: &str, name: &str, start_date: Millis) -> ExecutionRecord {
    ExecutionRecord {
        arn: format!("{REGION}:execution:{machine}:{name}"),
        state_machine_arn: format!("{REGION}:stateMachine:{machine}"),
        name: name.to_owned(),
        definition: "{}".to_owned(),
        status: ExecutionStatus::Running,
        input: format!(r#"{{"name":"{name}"}}"#),
        output: None,
        error: None,
        cause: None,
        start_date,
        stop_date: None,
        version_arn: None,
        alias_arn: None,
        redrive_count: 0,
        redrive_date: None,
        redrive_token: None,
    }
}

/// Event `id`: a Pass state entered, with a document of its own.
fn event(id: u64) -> HistoryEvent {
    HistoryEvent {
        id,
        previous_event_id: id - 1,
        timestamp: stepwasm_asl::Timestamp(id as i64),
        kind: EventKind::StateEntered {
            state_type: StateType::Pass,
            name: format!("S{id}"),
            input: Arc::new(json!({"event": id, "text": "a \"quoted\" word"})),
        },
    }
}

/// Journal entry `sequence` with `events` history events from `first_event` on.
fn step(arn: &str, sequence: u64, first_event: u64, events: u64) -> Append {
    let input = if sequence == 0 { JournalInput::Start } else { JournalInput::TimerFired { timer_id: sequence } };
    Append {
        execution_arn: arn.to_owned(),
        entry: JournalEntry { sequence, input, at: 1_000 + sequence as i64, entropy: vec![sequence] },
        events: (first_event..first_event + events).map(event).collect(),
        documents: DocumentTexts::default(),
        completion: None,
    }
}

fn succeeded(stop_date: Millis) -> Completion {
    Completion {
        status: ExecutionStatus::Succeeded,
        output: Some(r#"{"ok":true}"#.to_owned()),
        error: None,
        cause: None,
        stop_date,
    }
}

fn page(limit: usize, after: Option<String>, reverse: bool) -> PageRequest {
    PageRequest { limit, after, reverse }
}

/// Creates an execution with its start entry and two events; it must be new.
async fn start(store: &dyn Store, record: &ExecutionRecord) -> ExecutionRecord {
    match store.create_execution(record, &step(&record.arn, 0, 1, 2)).await.unwrap() {
        Created::New(created) => created,
        Created::Existing(existing) => panic!("{} already existed: {existing:?}", record.arn),
    }
}

/// Collects every page of a listing, checking that `next` is set exactly when more follow.
async fn all_pages<T, F: std::future::Future<Output = super::Page<T>>>(
    mut fetch: impl FnMut(Option<String>) -> F,
    limit: usize,
) -> Vec<T> {
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(after).await;
        assert!(page.items.len() <= limit, "a page is longer than its limit");
        let full = page.items.len() == limit;
        items.extend(page.items);
        match page.next {
            Some(next) => {
                assert!(full, "a short page claims more follow");
                after = Some(next);
            }
            None => return items,
        }
    }
}

async fn state_machine_crud(store: &dyn Store) {
    let alpha = machine("alpha", 1);
    assert!(store.create_state_machine(&alpha).await.unwrap());
    assert!(!store.create_state_machine(&machine("alpha", 99)).await.unwrap(), "a second create must not replace");
    assert_eq!(store.state_machine(&alpha.arn).await.unwrap(), Some(alpha.clone()));
    assert_eq!(store.state_machine("arn:nope").await.unwrap(), None);

    let mut updated = alpha.clone();
    updated.definition = r#"{"StartAt":"Q","States":{"Q":{"Type":"Succeed"}}}"#.to_owned();
    updated.updated = 5;
    updated.revision_id = "rev-5".to_owned();
    updated.machine_type = MachineType::Express;
    assert!(store.update_state_machine(&updated).await.unwrap());
    assert_eq!(store.state_machine(&alpha.arn).await.unwrap(), Some(updated));
    assert!(!store.update_state_machine(&machine("ghost", 1)).await.unwrap());

    for name in ["delta", "bravo", "charlie", "echo"] {
        assert!(store.create_state_machine(&machine(name, 2)).await.unwrap());
    }
    let names = |items: Vec<StateMachineRecord>| items.into_iter().map(|m| m.name).collect::<Vec<_>>();
    let forward =
        all_pages(|after| async move { store.list_state_machines(&page(2, after, false)).await.unwrap() }, 2).await;
    assert_eq!(names(forward), ["alpha", "bravo", "charlie", "delta", "echo"]);
    let backward =
        all_pages(|after| async move { store.list_state_machines(&page(3, after, true)).await.unwrap() }, 3).await;
    assert_eq!(names(backward), ["echo", "delta", "charlie", "bravo", "alpha"]);
    let everything = store.list_state_machines(&PageRequest::default()).await.unwrap();
    assert_eq!((everything.items.len(), everything.next), (5, None), "a limit of 0 means no limit");

    assert!(store.delete_state_machine(&alpha.arn).await.unwrap());
    assert!(!store.delete_state_machine(&alpha.arn).await.unwrap());
    assert_eq!(store.state_machine(&alpha.arn).await.unwrap(), None);
    assert_eq!(store.list_state_machines(&page(10, None, false)).await.unwrap().items.len(), 4);
}

async fn tags(store: &dyn Store) {
    let m = machine("tagged", 1);
    store.create_state_machine(&m).await.unwrap();
    assert!(store.tags(&m.arn).await.unwrap().is_empty());
    let first = BTreeMap::from([("team".to_owned(), "payments".to_owned()), ("env".to_owned(), "dev".to_owned())]);
    store.tag_resource(&m.arn, &first).await.unwrap();
    store.tag_resource(&m.arn, &BTreeMap::from([("env".to_owned(), "prod".to_owned())])).await.unwrap();
    let expected = BTreeMap::from([("team".to_owned(), "payments".to_owned()), ("env".to_owned(), "prod".to_owned())]);
    assert_eq!(store.tags(&m.arn).await.unwrap(), expected);

    store.untag_resource(&m.arn, &["team".to_owned(), "absent".to_owned()]).await.unwrap();
    assert_eq!(store.tags(&m.arn).await.unwrap(), BTreeMap::from([("env".to_owned(), "prod".to_owned())]));
    assert!(store.tags("arn:other").await.unwrap().is_empty(), "tags belong to one resource");

    store.delete_state_machine(&m.arn).await.unwrap();
    assert!(store.tags(&m.arn).await.unwrap().is_empty(), "deleting a resource drops its tags");
}

async fn create_execution_is_idempotent(store: &dyn Store) {
    let record = execution("m", "once", 10);
    assert_eq!(start(store, &record).await, record);

    let mut again = record.clone();
    again.input = r#"{"different":true}"#.to_owned();
    let created = store.create_execution(&again, &step(&again.arn, 0, 1, 5)).await.unwrap();
    assert_eq!(created, Created::Existing(record.clone()), "the stored execution comes back unchanged");
    assert_eq!(store.journal(&record.arn).await.unwrap().len(), 1, "nothing more was written");
    assert_eq!(store.history(&record.arn, &PageRequest::default()).await.unwrap().items.len(), 2);
    assert_eq!(store.execution(&record.arn).await.unwrap(), Some(record.clone()));
    assert_eq!(store.running_executions().await.unwrap(), std::slice::from_ref(&record.arn));

    // A start entry must begin the journal and belong to the execution.
    let bad = execution("m", "bad-start", 10);
    assert!(store.create_execution(&bad, &step(&bad.arn, 1, 1, 1)).await.is_err());
    assert!(store.create_execution(&bad, &step(&record.arn, 0, 1, 1)).await.is_err());
    assert_eq!(store.execution(&bad.arn).await.unwrap(), None, "a failed create leaves nothing behind");
    assert!(store.journal(&bad.arn).await.unwrap().is_empty());

    // An execution that ends in its first step.
    let quick = execution("m", "quick", 11);
    let mut first = step(&quick.arn, 0, 1, 3);
    first.completion = Some(succeeded(12));
    let Created::New(created) = store.create_execution(&quick, &first).await.unwrap() else { panic!("not new") };
    assert_eq!(created.status, ExecutionStatus::Succeeded);
    assert_eq!(store.execution(&quick.arn).await.unwrap(), Some(created));
}

async fn append_checks_order_and_completes(store: &dyn Store) {
    let record = execution("m", "steps", 10);
    start(store, &record).await;
    let arn = &record.arn;
    store.append(step(arn, 1, 3, 2)).await.unwrap();
    store.append(step(arn, 2, 5, 0)).await.unwrap();

    let duplicate = store.append(step(arn, 2, 5, 1)).await.unwrap_err();
    assert!(duplicate.to_string().contains("already has journal entry 2"), "{duplicate}");
    assert!(store.append(step(arn, 4, 5, 1)).await.is_err(), "a gap in the journal");
    assert!(store.append(step(arn, 3, 6, 1)).await.is_err(), "a gap in the history");
    assert!(store.append(step(arn, 3, 4, 1)).await.is_err(), "a repeated event id");
    assert!(store.append(step("arn:missing", 0, 1, 1)).await.is_err(), "an unknown execution");
    assert_eq!(store.journal(arn).await.unwrap().len(), 3, "failed appends leave nothing behind");
    assert_eq!(store.history(arn, &PageRequest::default()).await.unwrap().items.len(), 4);
    assert_eq!(store.execution(arn).await.unwrap().unwrap().status, ExecutionStatus::Running);

    let mut last = step(arn, 3, 5, 1);
    last.completion = Some(Completion {
        status: ExecutionStatus::Failed,
        output: None,
        error: Some("States.TaskFailed".to_owned()),
        cause: Some("boom".to_owned()),
        stop_date: 99,
    });
    store.append(last).await.unwrap();
    let done = store.execution(arn).await.unwrap().unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(
        (done.error.as_deref(), done.cause.as_deref(), done.stop_date),
        (Some("States.TaskFailed"), Some("boom"), Some(99))
    );
    assert_eq!(done.input, record.input, "completion leaves the rest of the row alone");
    assert!(store.running_executions().await.unwrap().is_empty());

    let ids: Vec<u64> = store.history(arn, &PageRequest::default()).await.unwrap().items.iter().map(|e| e.id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
}

async fn journal_reads_back_equal(store: &dyn Store) {
    let record = execution("m", "journal", 10);
    start(store, &record).await;
    let inputs = [
        JournalInput::TaskSucceeded { task_id: 1, output: json!({"nested": [1, "two", null, {"x": 1.5}]}).into() },
        JournalInput::TaskFailed {
            task_id: 2, error: "Oops".to_owned(), cause: Some("ünïcödé \u{1F600}".to_owned())
        },
        JournalInput::TaskFailed { task_id: 3, error: "NoCause".to_owned(), cause: None },
        JournalInput::TaskTimedOut { task_id: 4 },
        JournalInput::TaskHeartbeatTimedOut { task_id: 5 },
        JournalInput::TimerFired { timer_id: 5 },
        JournalInput::Stop { error: Some("Stopped".to_owned()), cause: None },
    ];
    let mut expected = store.journal(&record.arn).await.unwrap();
    for (sequence, input) in (1u64..).zip(inputs) {
        let entry = JournalEntry {
            sequence,
            input,
            at: 1_700_000_000_000 + sequence as i64,
            entropy: vec![0, u64::MAX, sequence],
        };
        expected.push(entry.clone());
        store
            .append(Append {
                execution_arn: record.arn.clone(),
                entry,
                events: vec![],
                documents: DocumentTexts::default(),
                completion: None,
            })
            .await
            .unwrap();
    }
    assert_eq!(expected.len(), 8);
    assert_eq!(store.journal(&record.arn).await.unwrap(), expected);
    assert!(store.journal("arn:none").await.unwrap().is_empty());
}

async fn history_pages_both_ways(store: &dyn Store) {
    let record = execution("m", "history", 10);
    start(store, &record).await;
    // 2 events from the start, then 23 more: 25.
    let mut next = 3;
    for (sequence, count) in (1..).zip([5, 0, 10, 8]) {
        store.append(step(&record.arn, sequence, next, count)).await.unwrap();
        next += count;
    }
    let ids = |p: &super::Page<StoredEvent>| p.items.iter().map(|e| e.id).collect::<Vec<_>>();

    let first = store.history(&record.arn, &page(10, None, false)).await.unwrap();
    assert_eq!(ids(&first), (1..=10).collect::<Vec<_>>());
    assert_eq!(first.items[0], StoredEvent::render(&event(1)), "events read back equal");
    let second = store.history(&record.arn, &page(10, first.next, false)).await.unwrap();
    assert_eq!(ids(&second), (11..=20).collect::<Vec<_>>());
    let third = store.history(&record.arn, &page(10, second.next, false)).await.unwrap();
    assert_eq!((ids(&third), third.next), ((21..=25).collect::<Vec<_>>(), None));

    let newest = store.history(&record.arn, &page(10, None, true)).await.unwrap();
    assert_eq!(ids(&newest), (16..=25).rev().collect::<Vec<_>>());
    let arn = &record.arn;
    let backward =
        all_pages(|after| async move { store.history(arn, &page(10, after, true)).await.unwrap() }, 10).await;
    assert_eq!(backward.iter().map(|e| e.id).collect::<Vec<_>>(), (1..=25).rev().collect::<Vec<_>>());

    // `after` is the last event id seen, whichever store issued it.
    let from_seven = store.history(&record.arn, &page(3, Some("7".to_owned()), false)).await.unwrap();
    assert_eq!(ids(&from_seven), [8, 9, 10]);
    let before_seven = store.history(&record.arn, &page(3, Some("7".to_owned()), true)).await.unwrap();
    assert_eq!(ids(&before_seven), [6, 5, 4]);
    let exact = store.history(&record.arn, &page(25, None, false)).await.unwrap();
    assert_eq!((exact.items.len(), exact.next), (25, None), "a page that ends the history has no next");
    assert!(store.history("arn:none", &page(10, None, false)).await.unwrap().items.is_empty());
}

async fn execution_listing_pages(store: &dyn Store) {
    let statuses = [ExecutionStatus::Running, ExecutionStatus::Succeeded, ExecutionStatus::Failed];
    let mut all = Vec::new();
    for i in 0..30i64 {
        let machine = if i % 4 == 0 { "other" } else { "main" };
        // Start dates with ties, so the ARN must break them.
        let mut record = execution(machine, &format!("run-{i:02}"), 1_000 + i / 3);
        // Some started through version 1 or 2, and some of those through an alias.
        if i % 5 != 0 {
            record.version_arn = Some(format!("{}:{}", record.state_machine_arn, 1 + i % 2));
        }
        if i % 3 == 1 {
            record.alias_arn = Some(format!("{}:live", record.state_machine_arn));
        }
        start(store, &record).await;
        record.status = statuses[i as usize % 3];
        if record.status != ExecutionStatus::Running {
            let mut end = step(&record.arn, 1, 3, 1);
            end.completion = Some(Completion { status: record.status, ..succeeded(2_000) });
            store.append(end).await.unwrap();
        }
        all.push(record);
    }
    // Newest first: start date descending, ties by ARN descending.
    all.sort_by(|a, b| (b.start_date, &b.arn).cmp(&(a.start_date, &a.arn)));

    let cases = [
        ExecutionFilter::default(),
        ExecutionFilter { status: Some(ExecutionStatus::Succeeded), ..Default::default() },
        ExecutionFilter { state_machine_arn: Some(format!("{REGION}:stateMachine:main")), ..Default::default() },
        ExecutionFilter {
            state_machine_arn: Some(format!("{REGION}:stateMachine:main")),
            status: Some(ExecutionStatus::Running),
            ..Default::default()
        },
        ExecutionFilter {
            state_machine_arn: Some(format!("{REGION}:stateMachine:main")),
            version_arn: Some(format!("{REGION}:stateMachine:main:2")),
            ..Default::default()
        },
        ExecutionFilter {
            state_machine_arn: Some(format!("{REGION}:stateMachine:main")),
            alias_arn: Some(format!("{REGION}:stateMachine:main:live")),
            status: Some(ExecutionStatus::Succeeded),
            ..Default::default()
        },
    ];
    for filter in &cases {
        let expected: Vec<&String> = all.iter().filter(|e| filter.admits(e)).map(|e| &e.arn).collect();
        assert!(!expected.is_empty());
        for limit in [1, 4, 7, 100] {
            let listed = all_pages(
                |after| async move { store.list_executions(filter, &page(limit, after, false)).await.unwrap() },
                limit,
            )
            .await;
            let arns: Vec<&String> = listed.iter().map(|e| &e.arn).collect();
            assert_eq!(arns, expected, "{filter:?}, {limit} a page: no duplicates, no gaps, newest first");
            let unique: HashSet<_> = arns.iter().collect();
            assert_eq!(unique.len(), arns.len());

            let reversed = all_pages(
                |after| async move { store.list_executions(filter, &page(limit, after, true)).await.unwrap() },
                limit,
            )
            .await;
            let mut oldest_first = expected.clone();
            oldest_first.reverse();
            assert_eq!(reversed.iter().map(|e| &e.arn).collect::<Vec<_>>(), oldest_first);
        }
    }
    let listed = store.list_executions(&ExecutionFilter::default(), &page(1, None, false)).await.unwrap();
    assert_eq!(store.execution(&listed.items[0].arn).await.unwrap().as_ref(), Some(&listed.items[0]));
    for record in all.iter().filter(|e| e.alias_arn.is_some()).take(3) {
        let stored = store.execution(&record.arn).await.unwrap().expect("stored");
        assert_eq!((&stored.version_arn, &stored.alias_arn), (&record.version_arn, &record.alias_arn));
    }
}

async fn bad_page_positions_are_rejected(store: &dyn Store) {
    let junk = page(5, Some("not a position".to_owned()), false);
    assert!(matches!(store.list_state_machines(&junk).await, Err(StoreError::Corrupt(_))));
    assert!(matches!(store.list_activities(&junk).await, Err(StoreError::Corrupt(_))));
    assert!(matches!(store.list_executions(&ExecutionFilter::default(), &junk).await, Err(StoreError::Corrupt(_))));
    assert!(matches!(store.history("arn:x", &junk).await, Err(StoreError::Corrupt(_))));
}

async fn leases(store: &dyn Store) {
    let (arn, other) = ("arn:execution:leased", "arn:execution:other");
    assert!(store.claim(arn, "node-a", 1_000, 100).await.unwrap(), "an unclaimed execution");
    assert!(!store.claim(arn, "node-b", 1_050, 100).await.unwrap(), "contested while a's lease holds");
    assert!(store.claim(arn, "node-a", 1_050, 100).await.unwrap(), "the holder may claim again (extends to 1150)");
    assert!(!store.claim(arn, "node-b", 1_120, 100).await.unwrap(), "the extension holds");
    assert!(store.claim(other, "node-a", 1_120, 100).await.unwrap());

    assert!(store.claim(arn, "node-b", 1_150, 100).await.unwrap(), "an expired lease is taken over");
    assert!(!store.claim(arn, "node-a", 1_160, 100).await.unwrap(), "the old holder has lost it");
    assert_eq!(store.renew_all("node-a", 1_160, 100).await.unwrap(), [other], "a renews only what it still holds");
    assert_eq!(store.renew_all("node-b", 1_200, 500).await.unwrap(), [arn]);
    assert!(!store.claim(arn, "node-a", 1_600, 100).await.unwrap(), "b's renewal lasts until 1700");
    assert!(store.claim(arn, "node-a", 1_700, 100).await.unwrap());

    store.release(arn, "node-b").await.unwrap();
    assert!(!store.claim(arn, "node-b", 1_710, 100).await.unwrap(), "releasing another node's lease does nothing");
    store.release(arn, "node-a").await.unwrap();
    assert!(store.claim(arn, "node-b", 1_710, 100).await.unwrap(), "a released lease is free");
    assert!(store.renew_all("nobody", 1_710, 100).await.unwrap().is_empty());
}

async fn activities(store: &dyn Store) {
    let activity = |name: &str, created| ActivityRecord {
        arn: format!("{REGION}:activity:{name}"),
        name: name.to_owned(),
        created,
    };
    let approve = activity("approve", 5);
    assert_eq!(store.create_activity(&approve).await.unwrap(), approve);
    assert_eq!(store.create_activity(&activity("approve", 99)).await.unwrap(), approve, "the stored one is returned");
    assert_eq!(store.activity(&approve.arn).await.unwrap(), Some(approve.clone()));
    for name in ["ship", "audit", "pack"] {
        store.create_activity(&activity(name, 6)).await.unwrap();
    }
    let listed =
        all_pages(|after| async move { store.list_activities(&page(3, after, false)).await.unwrap() }, 3).await;
    assert_eq!(listed.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["approve", "audit", "pack", "ship"]);
    let reversed =
        all_pages(|after| async move { store.list_activities(&page(1, after, true)).await.unwrap() }, 1).await;
    assert_eq!(reversed.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["ship", "pack", "audit", "approve"]);
    assert!(store.delete_activity(&approve.arn).await.unwrap());
    assert!(!store.delete_activity(&approve.arn).await.unwrap());
    assert_eq!(store.activity(&approve.arn).await.unwrap(), None);
}

async fn task_tokens_route_to_their_execution(store: &dyn Store) {
    let issued = |token: &str, arn: &str, state: &str, at| IssuedToken {
        token: token.to_owned(),
        execution_arn: arn.to_owned(),
        state_name: state.to_owned(),
        issued: at,
    };
    let (first, second) = (format!("{REGION}:execution:m:one"), format!("{REGION}:execution:m:two"));
    store.issue_token(&issued("t-late", &first, "Approve", 20)).await.unwrap();
    store.issue_token(&issued("t-early", &first, "Approve", 10)).await.unwrap();
    store.issue_token(&issued("t-other", &second, "Ship", 15)).await.unwrap();
    store.issue_token(&issued("t-late", &second, "Changed", 99)).await.unwrap();
    assert_eq!(
        store.token("t-late").await.unwrap(),
        Some(issued("t-late", &first, "Approve", 20)),
        "issuing a token again changes nothing"
    );
    assert_eq!(store.token("t-unknown").await.unwrap(), None);
    let of_first: Vec<String> = store.tokens_of(&first).await.unwrap().into_iter().map(|t| t.token).collect();
    assert_eq!(of_first, ["t-early", "t-late"], "oldest first");
    assert!(store.tokens_of("nothing").await.unwrap().is_empty());
}

async fn posted_signals_wait_until_deleted(store: &dyn Store) {
    let (first, second) = (format!("{REGION}:execution:m:one"), format!("{REGION}:execution:m:two"));
    let a = store.post_signal(&first, "a").await.unwrap();
    let b = store.post_signal(&second, "b").await.unwrap();
    let c = store.post_signal(&first, "c").await.unwrap();
    assert!(a < c, "ids grow: {a} {c}");
    let signals = |arn: String| async move {
        store.signals(&arn).await.unwrap().into_iter().map(|p| (p.id, p.signal)).collect::<Vec<_>>()
    };
    assert_eq!(signals(first.clone()).await, [(a, "a".to_owned()), (c, "c".to_owned())]);
    assert_eq!(signals(second.clone()).await, [(b, "b".to_owned())]);
    store.delete_signals(&[a, 12_345]).await.unwrap();
    store.delete_signals(&[]).await.unwrap();
    assert_eq!(signals(first.clone()).await, [(c, "c".to_owned())]);
    store.delete_signals(&[b, c]).await.unwrap();
    assert!(signals(first).await.is_empty());
    assert!(signals(second).await.is_empty());
}

fn activity_task(activity: &str, token: &str, execution: &str) -> ActivityTask {
    ActivityTask {
        activity_arn: format!("{REGION}:activity:{activity}"),
        token: token.to_owned(),
        execution_arn: format!("{REGION}:execution:m:{execution}"),
        input: format!("{{\"token\":\"{token}\"}}"),
    }
}

async fn activity_tasks_are_taken_once_in_order(store: &dyn Store) {
    let (first, second, other) =
        (activity_task("work", "t1", "one"), activity_task("work", "t2", "two"), activity_task("rest", "t3", "one"));
    for task in [&first, &second, &other] {
        store.schedule_activity_task(task).await.unwrap();
    }
    let take = |activity: &'static str| async move {
        store.take_activity_task(&format!("{REGION}:activity:{activity}")).await.unwrap()
    };
    assert_eq!(take("work").await.as_ref(), Some(&first));
    // Scheduling a task again, as a resumed execution does, queues nothing, taken or not.
    store.schedule_activity_task(&first).await.unwrap();
    store.schedule_activity_task(&second).await.unwrap();
    assert_eq!(take("work").await.as_ref(), Some(&second));
    assert_eq!(take("work").await, None);
    assert_eq!(take("nothing").await, None);

    // An ended execution's tasks go, waiting or taken, and only its own.
    store.schedule_activity_task(&activity_task("work", "t4", "one")).await.unwrap();
    store.schedule_activity_task(&activity_task("work", "t5", "two")).await.unwrap();
    store.drop_activity_tasks(&first.execution_arn).await.unwrap();
    assert_eq!(take("rest").await, None);
    assert_eq!(take("work").await.map(|task| task.token).as_deref(), Some("t5"));
    // A dropped token may be scheduled afresh.
    store.schedule_activity_task(&first).await.unwrap();
    assert_eq!(take("work").await.as_ref(), Some(&first));
}

fn function(name: &str, sha256: &str, deployed: Millis) -> FunctionRecord {
    FunctionRecord {
        name: name.to_owned(),
        sha256: sha256.to_owned(),
        config: format!(r#"{{"limits":{{"timeout-millis":{deployed}}}}}"#),
        deployed,
    }
}

async fn functions_are_replaced_by_name_and_keep_their_components(store: &dyn Store) {
    assert_eq!(store.list_functions().await.unwrap(), vec![]);
    assert_eq!(store.function("charge").await.unwrap(), None);
    // Every byte value survives, including what no text encoding would.
    let component: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let (charge, refund) = (function("charge", "aa", 1), function("refund", "bb", 2));
    store.put_function(&refund, b"\0asm refund").await.unwrap();
    store.put_function(&charge, &component).await.unwrap();
    assert_eq!(store.list_functions().await.unwrap(), vec![charge.clone(), refund.clone()], "sorted by name");
    assert_eq!(store.function("charge").await.unwrap().as_ref(), Some(&charge));
    assert_eq!(store.function_component("charge").await.unwrap(), Some((charge, component)));

    let replaced = function("charge", "cc", 3);
    store.put_function(&replaced, b"\0asm v2").await.unwrap();
    assert_eq!(store.function_component("charge").await.unwrap(), Some((replaced.clone(), b"\0asm v2".to_vec())));
    assert_eq!(store.list_functions().await.unwrap(), vec![replaced, refund.clone()]);

    assert!(store.delete_function("charge").await.unwrap());
    assert!(!store.delete_function("charge").await.unwrap(), "a second delete finds nothing");
    assert_eq!(store.function_component("charge").await.unwrap(), None);
    assert_eq!(store.list_functions().await.unwrap(), vec![refund]);
}

/// Tasks each create an execution and append four steps, all at once; every tenth also tries to
/// append a step twice. Returns how many writes were sent.
async fn concurrent_appends(store: Arc<dyn Store>) -> u64 {
    const TASKS: usize = 200;
    const STEPS: u64 = 4;
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let record = execution("busy", &format!("run-{i:03}"), i as i64);
            // Released together, so the writes arrive while others are being committed.
            barrier.wait().await;
            start(&*store, &record).await;
            let mut writes = 1;
            for sequence in 1..=STEPS {
                let mut append = step(&record.arn, sequence, 1 + 2 * sequence, 2);
                if sequence == STEPS {
                    append.completion = Some(succeeded(10_000));
                }
                store.append(append).await.unwrap();
                writes += 1;
                if i % 10 == 0 && sequence == 1 {
                    // Lost races must fail alone, without taking their batch down with them.
                    assert!(store.append(step(&record.arn, 1, 3, 2)).await.is_err());
                    writes += 1;
                }
            }
            writes
        }));
    }
    let mut writes = 0;
    for task in tasks {
        writes += task.await.unwrap();
    }
    for i in 0..TASKS {
        let arn = execution("busy", &format!("run-{i:03}"), 0).arn;
        assert_eq!(store.execution(&arn).await.unwrap().unwrap().status, ExecutionStatus::Succeeded);
        assert_eq!(store.journal(&arn).await.unwrap().len() as u64, STEPS + 1);
        let ids: Vec<u64> =
            store.history(&arn, &PageRequest::default()).await.unwrap().items.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=2 * STEPS + 2).collect::<Vec<_>>());
    }
    assert!(store.running_executions().await.unwrap().is_empty());
    writes
}

/// A store on a database of its own on the test process's PostgreSQL server.
async fn postgres_store() -> PostgresStore {
    let url = TestServer::database().await.unwrap_or_else(|error| panic!("{error}"));
    PostgresStore::connect(&url).await.unwrap_or_else(|error| panic!("connecting to {url}: {error}"))
}

/// Runs each named check against every store.
macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(&super::MemoryStore::new()).await;
                }
            )*
        }

        mod sqlite_file {
            $(
                #[tokio::test]
                async fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::SqliteStore::open(&dir.path().join("data/store.db")).unwrap();
                    super::$check(&store).await;
                }
            )*
        }

        mod sqlite_memory {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(&super::SqliteStore::open_in_memory().unwrap()).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(&super::postgres_store().await).await;
                }
            )*
        }
    };
}

suite!(
    state_machine_crud,
    tags,
    create_execution_is_idempotent,
    append_checks_order_and_completes,
    journal_reads_back_equal,
    history_pages_both_ways,
    parked_executions_wake_in_order_and_unpark_on_append,
    parked_executions_are_found_by_the_tokens_they_await,
    a_signal_makes_its_parked_execution_due_at_once,
    execution_listing_pages,
    bad_page_positions_are_rejected,
    leases,
    activities,
    task_tokens_route_to_their_execution,
    posted_signals_wait_until_deleted,
    activity_tasks_are_taken_once_in_order,
    functions_are_replaced_by_name_and_keep_their_components,
    bindings_are_replaced_by_integration,
    queues_hand_each_message_to_one_receiver_at_a_time,
    versions_are_numbered_once_and_listed_newest_first,
    aliases_route_to_versions_that_exist_and_keep_them,
    redrives_reopen_once_and_are_counted,
    a_redrive_with_a_step_out_of_order_changes_nothing,
);

#[tokio::test]
async fn postgres_notifies_every_watcher_of_signals_tasks_and_functions() {
    let url = TestServer::database().await.unwrap_or_else(|error| panic!("{error}"));
    async fn next(notices: &mut tokio::sync::mpsc::UnboundedReceiver<Notice>) -> Notice {
        let notice = tokio::time::timeout(std::time::Duration::from_secs(10), notices.recv()).await;
        notice.expect("a notice within 10 s").expect("the watch is open")
    }
    let (poster, watcher) = (PostgresStore::connect(&url).await.unwrap(), PostgresStore::connect(&url).await.unwrap());
    let mut notices = watcher.watch().expect("a shared store can be watched");
    assert_eq!(next(&mut notices).await, Notice::MaybeMissed, "the watch starts by saying it may have missed some");
    poster.post_signal("arn:one", "{}").await.unwrap();
    assert_eq!(next(&mut notices).await, Notice::Signal("arn:one".to_owned()));

    // A lost connection is found again, and the watcher is told to look for what it missed.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await
        .unwrap();
    assert_eq!(next(&mut notices).await, Notice::MaybeMissed);
    poster.post_signal("arn:two", "{}").await.unwrap();
    assert_eq!(next(&mut notices).await, Notice::Signal("arn:two".to_owned()));

    let task = activity_task("work", "t1", "one");
    poster.schedule_activity_task(&task).await.unwrap();
    assert_eq!(next(&mut notices).await, Notice::ActivityTask(task.activity_arn.clone()));

    poster.put_function(&function("charge", "aa", 1), b"\0asm").await.unwrap();
    assert_eq!(next(&mut notices).await, Notice::Function("charge".to_owned()));
    assert!(poster.delete_function("charge").await.unwrap());
    assert_eq!(next(&mut notices).await, Notice::Function("charge".to_owned()));
    // Deleting what is not there announces nothing: the next notice is the next signal.
    assert!(!poster.delete_function("charge").await.unwrap());
    poster.post_signal("arn:three", "{}").await.unwrap();
    assert_eq!(next(&mut notices).await, Notice::Signal("arn:three".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_activity_tasks_polled_from_two_nodes_are_each_taken_once() {
    let url = TestServer::database().await.unwrap_or_else(|error| panic!("{error}"));
    let nodes =
        [Arc::new(PostgresStore::connect(&url).await.unwrap()), Arc::new(PostgresStore::connect(&url).await.unwrap())];
    const TASKS: usize = 200;
    for i in 0..TASKS {
        nodes[i % 2].schedule_activity_task(&activity_task("shared", &format!("t{i:03}"), "run")).await.unwrap();
    }
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let store = Arc::clone(&nodes[worker % 2]);
            tokio::spawn(async move {
                let mut taken = Vec::new();
                while let Some(task) = store.take_activity_task(&format!("{REGION}:activity:shared")).await.unwrap() {
                    taken.push(task.token);
                }
                taken
            })
        })
        .collect();
    let mut taken = Vec::new();
    for worker in workers {
        taken.extend(worker.await.unwrap());
    }
    taken.sort();
    let expected: Vec<String> = (0..TASKS).map(|i| format!("t{i:03}")).collect();
    assert_eq!(taken, expected, "every task taken by exactly one worker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_concurrent_appends() {
    concurrent_appends(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_appends() {
    concurrent_appends(Arc::new(postgres_store().await)).await;
}

#[tokio::test]
async fn postgres_reconnect_keeps_everything_and_refuses_a_newer_schema() {
    let url = TestServer::database().await.unwrap_or_else(|error| panic!("{error}"));
    let record = execution("kept", "run", 5);
    {
        let store = PostgresStore::connect(&url).await.unwrap();
        start(&store, &record).await;
        store.append(step(&record.arn, 1, 3, 2)).await.unwrap();
    }
    // A second node connecting to a migrated database finds the work done, and the data.
    let store = PostgresStore::connect(&url).await.unwrap();
    assert_eq!(store.journal(&record.arn).await.unwrap().len(), 2);
    assert_eq!(store.history(&record.arn, &PageRequest::default()).await.unwrap().items.len(), 4);

    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute("UPDATE stepwasm_schema SET version = version + 1").await.unwrap();
    match PostgresStore::connect(&url).await {
        Err(StoreError::SchemaTooNew { .. }) => {}
        other => panic!("a newer schema was not refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("store.db")).unwrap());
    let before = store.transactions();
    let began = std::time::Instant::now();
    let writes = concurrent_appends(Arc::clone(&store) as Arc<dyn Store>).await;
    let transactions = store.transactions() - before;
    println!(
        "group commit: {writes} writes in {transactions} transactions ({:.1} a commit) in {:?}",
        writes as f64 / transactions as f64,
        began.elapsed()
    );
    assert!(transactions < writes, "{writes} writes took {transactions} transactions: no group commit");
}

#[tokio::test]
async fn sqlite_reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/store.db");
    let m = machine("durable", 1);
    let tags = BTreeMap::from([("k".to_owned(), "v".to_owned())]);
    let activity = ActivityRecord { arn: format!("{REGION}:activity:a"), name: "a".to_owned(), created: 3 };
    let (done, running) = (execution("durable", "done", 10), execution("durable", "running", 11));
    let (journal, history, finished) = {
        let store = SqliteStore::open(&path).unwrap();
        store.create_state_machine(&m).await.unwrap();
        store.tag_resource(&m.arn, &tags).await.unwrap();
        store.create_activity(&activity).await.unwrap();
        start(&store, &done).await;
        let mut end = step(&done.arn, 1, 3, 2);
        end.completion = Some(succeeded(20));
        store.append(end).await.unwrap();
        start(&store, &running).await;
        store.append(step(&running.arn, 1, 3, 1)).await.unwrap();
        assert!(store.claim(&running.arn, "node-a", 100, 1_000).await.unwrap());
        let history = store.history(&done.arn, &PageRequest::default()).await.unwrap();
        (store.journal(&done.arn).await.unwrap(), history, store.execution(&done.arn).await.unwrap())
    };

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.state_machine(&m.arn).await.unwrap(), Some(m.clone()));
    assert_eq!(store.tags(&m.arn).await.unwrap(), tags);
    assert_eq!(store.activity(&activity.arn).await.unwrap(), Some(activity));
    assert_eq!(store.execution(&done.arn).await.unwrap(), finished);
    assert_eq!(store.journal(&done.arn).await.unwrap(), journal);
    assert_eq!(store.history(&done.arn, &PageRequest::default()).await.unwrap(), history);
    assert_eq!(store.running_executions().await.unwrap(), std::slice::from_ref(&running.arn));
    assert!(!store.claim(&running.arn, "node-b", 500, 1_000).await.unwrap(), "leases survive too");
    // The resumed execution carries on where its journal ends.
    assert!(store.append(step(&running.arn, 1, 4, 1)).await.is_err());
    store.append(step(&running.arn, 2, 4, 1)).await.unwrap();
    assert_eq!(store.journal(&running.arn).await.unwrap().len(), 3);
}

#[test]
fn sqlite_uses_wal_and_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(SqliteStore::open(&path).unwrap());
    // Reopening an up-to-date database is fine and migrates nothing.
    drop(SqliteStore::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw.pragma_query_value(None, "journal_mode", |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal", "the database keeps a write-ahead log");
    raw.pragma_update(None, "user_version", 99).unwrap();
    drop(raw);
    match SqliteStore::open(&path) {
        Err(StoreError::SchemaTooNew { found: 99, known }) => assert!(known < 99),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn sqlite_writes_work_outside_a_runtime() {
    // SQLite's writes wait on its own writer thread, not on tokio: polled once, outside any
    // runtime, they are done.
    fn first_poll<T>(mut future: super::StoreFuture<'_, T>) -> T {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(result) => result.unwrap(),
            std::task::Poll::Pending => panic!("a SQLite write waited for a runtime"),
        }
    }
    let store = SqliteStore::open_in_memory().unwrap();
    assert!(first_poll(store.create_state_machine(&machine("plain", 1))));
    let activity = ActivityRecord { arn: format!("{REGION}:activity:plain"), name: "plain".to_owned(), created: 1 };
    assert_eq!(first_poll(store.create_activity(&activity)), activity);
    assert_eq!(store.writes(), 2);
}
