//! The schema and its migrations.
//!
//! `PRAGMA user_version` records how many migrations have run. Opening a database runs the
//! missing ones, each in its own transaction, and refuses a database written by a newer
//! stepwasm. A released migration is never edited; a change is a new one.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::super::{StoreError, StoreResult};

/// One step of the schema's history.
enum Migration {
    Script(&'static str),
    /// A step that needs more than SQL (hashing, re-encoding), with a script around it.
    Code {
        before: &'static str,
        code: fn(&Transaction<'_>) -> StoreResult<()>,
        after: &'static str,
    },
}

/// Version N is the first N migrations applied in order.
const MIGRATIONS: &[Migration] = &[
    // 1: the initial schema.
    Migration::Script(
        "
    CREATE TABLE state_machines (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        machine_type TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        revision_id TEXT NOT NULL,
        logging_configuration TEXT NOT NULL,
        tracing_configuration TEXT NOT NULL
    );
    CREATE INDEX state_machines_by_name ON state_machines (name, arn);

    CREATE TABLE tags (
        arn TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (arn, key)
    ) WITHOUT ROWID;

    -- No foreign key to state_machines: executions stay readable after their machine is deleted.
    CREATE TABLE executions (
        arn TEXT PRIMARY KEY,
        state_machine_arn TEXT NOT NULL,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        start_date INTEGER NOT NULL,
        stop_date INTEGER
    );
    CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date, arn);
    CREATE INDEX executions_by_start ON executions (start_date, arn);
    CREATE INDEX executions_by_status ON executions (status);

    -- The primary key is what stops two nodes from both writing step N of one execution.
    -- Ordinary rowid tables, not WITHOUT ROWID: entries can be hundreds of KiB.
    CREATE TABLE journal (
        execution_arn TEXT NOT NULL REFERENCES executions (arn),
        sequence INTEGER NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (execution_arn, sequence)
    );

    CREATE TABLE history (
        execution_arn TEXT NOT NULL REFERENCES executions (arn),
        event_id INTEGER NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (execution_arn, event_id)
    );

    -- Not tied to executions: EXPRESS executions live in memory but may still be leased.
    CREATE TABLE leases (
        execution_arn TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX leases_by_owner ON leases (owner);

    CREATE TABLE activities (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE INDEX activities_by_name ON activities (name, arn);
    ",
    ),
    // 2: executions get a numeric id and can be parked, and what every execution repeated is
    // written once: a
    // definition once per distinct text (not once per execution), a step's journal entry and
    // history events in one row with each of its documents once (see `history_codec`). History
    // rows from version 1 are kept as they were, in `legacy_history`, attributed to the last
    // step their execution had then.
    Migration::Code {
        before: "
        ALTER TABLE executions RENAME TO executions_v1;
        DROP INDEX executions_by_machine;
        DROP INDEX executions_by_start;
        DROP INDEX executions_by_status;

        CREATE TABLE definitions (
            id INTEGER PRIMARY KEY,
            sha256 BLOB NOT NULL UNIQUE,
            definition TEXT NOT NULL
        );

        CREATE TABLE executions (
            id INTEGER PRIMARY KEY,
            arn TEXT NOT NULL UNIQUE,
            state_machine_arn TEXT NOT NULL,
            name TEXT NOT NULL,
            definition_id INTEGER NOT NULL REFERENCES definitions (id),
            status TEXT NOT NULL,
            input TEXT NOT NULL,
            output TEXT,
            error TEXT,
            cause TEXT,
            start_date INTEGER NOT NULL,
            stop_date INTEGER,
            -- Set while the execution is parked (the largest integer: until a callback comes; 0 once
            -- a signal is posted for it, to be woken at once); nothing drives it until then. `parking`
            -- says what it waits for (JSON).
            wake_at INTEGER,
            parking TEXT
        );
        CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date, arn);
        CREATE INDEX executions_by_start ON executions (start_date, arn);
        -- Only what a restarting node must drive; finished and parked executions never enter it.
        CREATE INDEX executions_running ON executions (arn) WHERE status = 'RUNNING' AND wake_at IS NULL;
        CREATE INDEX executions_parked ON executions (wake_at) WHERE wake_at IS NOT NULL;

        -- One row per step. `events` is NULL for a step from version 1, whose events are in
        -- legacy_history. A step's events are first_event .. first_event + event_count - 1.
        -- The primary key is what stops two nodes from both writing step N of one execution.
        CREATE TABLE steps (
            execution_id INTEGER NOT NULL REFERENCES executions (id),
            sequence INTEGER NOT NULL,
            first_event INTEGER NOT NULL,
            event_count INTEGER NOT NULL,
            entry TEXT NOT NULL,
            events TEXT,
            PRIMARY KEY (execution_id, sequence)
        );

        -- The task tokens parked executions wait for, so any node finds who to wake.
        CREATE TABLE awaited_tokens (
            token TEXT PRIMARY KEY,
            execution_id INTEGER NOT NULL REFERENCES executions (id)
        ) WITHOUT ROWID;
        CREATE INDEX awaited_tokens_by_execution ON awaited_tokens (execution_id);

        CREATE TABLE legacy_history (
            execution_id INTEGER NOT NULL REFERENCES executions (id),
            event_id INTEGER NOT NULL,
            event TEXT NOT NULL,
            PRIMARY KEY (execution_id, event_id)
        );
        ",
        code: hash_definitions,
        after: "
        INSERT INTO executions (id, arn, state_machine_arn, name, definition_id, status, input, output, error,
                                cause, start_date, stop_date)
            SELECT v1.rowid, v1.arn, v1.state_machine_arn, v1.name, d.id, v1.status, v1.input, v1.output,
                   v1.error, v1.cause, v1.start_date, v1.stop_date
            FROM executions_v1 v1 JOIN definitions d ON d.definition = v1.definition;
        INSERT INTO steps (execution_id, sequence, first_event, event_count, entry, events)
            SELECT e.id, j.sequence, 0, 0, j.entry, NULL
            FROM journal j JOIN executions e ON e.arn = j.execution_arn;
        INSERT INTO legacy_history (execution_id, event_id, event)
            SELECT e.id, h.event_id, h.event FROM history h JOIN executions e ON e.arn = h.execution_arn;
        UPDATE steps SET
            first_event = 1,
            event_count = (SELECT COALESCE(MAX(event_id), 0) FROM legacy_history h
                           WHERE h.execution_id = steps.execution_id)
            WHERE sequence = (SELECT MAX(sequence) FROM steps s WHERE s.execution_id = steps.execution_id);
        DROP TABLE journal;
        DROP TABLE history;
        DROP TABLE executions_v1;
        ",
    },
    // 3: task tokens as issued, and signals posted for executions, so that a callback reaches
    // its execution from any node and survives a crash.
    Migration::Script(
        "
        CREATE TABLE task_tokens (
            token TEXT PRIMARY KEY,
            execution_arn TEXT NOT NULL,
            state_name TEXT NOT NULL,
            issued INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX task_tokens_by_execution ON task_tokens (execution_arn, issued);

        CREATE TABLE signals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            execution_arn TEXT NOT NULL,
            signal TEXT NOT NULL
        );
        CREATE INDEX signals_by_execution ON signals (execution_arn, id);
        ",
    ),
    // 4: activity tasks queued for workers, so that they survive a restart. A taken task keeps
    // its row, so that a resumed execution scheduling it again does not queue it twice.
    Migration::Script(
        "
        CREATE TABLE activity_tasks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            activity_arn TEXT NOT NULL,
            token TEXT NOT NULL UNIQUE,
            execution_arn TEXT NOT NULL,
            input TEXT NOT NULL,
            taken INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX activity_tasks_waiting ON activity_tasks (activity_arn, id) WHERE taken = 0;
        CREATE INDEX activity_tasks_by_execution ON activity_tasks (execution_arn);
        ",
    ),
    // 5: deployed task functions, which lived in files beside the database before.
    Migration::Script(
        "
        CREATE TABLE functions (
            name TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            config TEXT NOT NULL,
            deployed INTEGER NOT NULL,
            component BLOB NOT NULL
        ) WITHOUT ROWID;
        ",
    ),
    // 6: published versions of state machines and their aliases, and which version and alias
    // an execution was started through.
    Migration::Script(
        "
        ALTER TABLE state_machines ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE state_machine_versions (
            machine_arn TEXT NOT NULL,
            version INTEGER NOT NULL,
            definition TEXT NOT NULL,
            role_arn TEXT NOT NULL,
            revision_id TEXT NOT NULL,
            description TEXT,
            created INTEGER NOT NULL,
            logging_configuration TEXT NOT NULL,
            tracing_configuration TEXT NOT NULL,
            PRIMARY KEY (machine_arn, version)
        ) WITHOUT ROWID;
        CREATE TABLE state_machine_aliases (
            arn TEXT PRIMARY KEY,
            machine_arn TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            -- JSON: the routes, each a version and its weight.
            routes TEXT NOT NULL,
            created INTEGER NOT NULL,
            updated INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX state_machine_aliases_by_machine ON state_machine_aliases (machine_arn, name);
        ALTER TABLE executions ADD COLUMN version_arn TEXT;
        ALTER TABLE executions ADD COLUMN alias_arn TEXT;
        CREATE INDEX executions_by_version ON executions (version_arn, start_date, arn)
            WHERE version_arn IS NOT NULL;
        CREATE INDEX executions_by_alias ON executions (alias_arn, start_date, arn) WHERE alias_arn IS NOT NULL;
        ",
    ),
    // 7: how often each execution was redriven, when last, and with which client token.
    Migration::Script(
        "
        ALTER TABLE executions ADD COLUMN redrive_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE executions ADD COLUMN redrive_date INTEGER;
        ALTER TABLE executions ADD COLUMN redrive_token TEXT;
        ",
    ),
    // 8: service integrations bound through the API: what each runs here (JSON); and the
    // SQS-style message queues with their messages.
    Migration::Script(
        "
        CREATE TABLE bindings (
            integration TEXT PRIMARY KEY,
            target TEXT NOT NULL,
            updated INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE queues (
            name TEXT PRIMARY KEY,
            created INTEGER NOT NULL,
            attributes TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE queue_messages (
            id TEXT PRIMARY KEY,
            queue TEXT NOT NULL,
            body TEXT NOT NULL,
            attributes TEXT NOT NULL,
            sent INTEGER NOT NULL,
            visible_at INTEGER NOT NULL,
            receive_count INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX queue_messages_due ON queue_messages (queue, visible_at, sent);
        ",
    ),
];

/// The newest schema version this build knows.
pub(super) const VERSION: i64 = MIGRATIONS.len() as i64;

/// The id of `definition` in the `definitions` table, which gets it if it is new.
pub(super) fn definition_id(conn: &Connection, sha256: &[u8; 32], definition: &str) -> rusqlite::Result<i64> {
    // Nearly every execution runs a definition stored already.
    let known = conn
        .prepare_cached("SELECT id FROM definitions WHERE sha256 = ?1")?
        .query_row([&sha256[..]], |row| row.get(0))
        .optional()?;
    if let Some(id) = known {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO definitions (sha256, definition) VALUES (?1, ?2)")?
        .execute(params![&sha256[..], definition])?;
    Ok(conn.last_insert_rowid())
}

/// The key a definition is stored under.
pub(super) fn definition_hash(definition: &str) -> [u8; 32] {
    Sha256::digest(definition.as_bytes()).into()
}

/// Migration 2: every distinct definition of the version 1 executions, into `definitions`.
fn hash_definitions(tx: &Transaction<'_>) -> StoreResult<()> {
    let definitions: Vec<String> = tx
        .prepare("SELECT DISTINCT definition FROM executions_v1")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for definition in definitions {
        definition_id(tx, &definition_hash(&definition), &definition)?;
    }
    Ok(())
}

/// Brings the schema up to [`VERSION`], one transaction per migration.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    loop {
        // IMMEDIATE takes the write lock before reading the version, so two processes opening
        // a new file at once cannot both run migration 1.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if found > VERSION {
            return Err(StoreError::SchemaTooNew { found, known: VERSION });
        }
        let Some(migration) = usize::try_from(found).ok().and_then(|v| MIGRATIONS.get(v)) else {
            return Ok(());
        };
        let failed =
            |e: rusqlite::Error| StoreError::database(format!("migrating the schema to version {}", found + 1), e);
        match migration {
            Migration::Script(script) => tx.execute_batch(script).map_err(failed)?,
            Migration::Code { before, code, after } => {
                tx.execute_batch(before).map_err(failed)?;
                code(&tx)?;
                tx.execute_batch(after).map_err(failed)?;
            }
        }
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use stepwasm_asl::{EventKind, HistoryEvent, StateType, Timestamp};

    use super::super::super::{
        Append, ExecutionStatus, ExecutionStore, JournalEntry, JournalInput, JournalStore, PageRequest, StoredEvent,
    };
    use super::super::SqliteStore;
    use super::*;
    use crate::engine::DocumentTexts;

    const DEFINITION: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}"#;

    fn running() -> &'static str {
        "arn:aws:states:us-east-1:123456789012:execution:m:running"
    }

    /// A database as stepwasm's first release left it: one execution waiting in a Wait state
    /// after two steps and four history events, and one finished with the same definition.
    fn version_1_database(path: &std::path::Path) -> Vec<JournalEntry> {
        let conn = Connection::open(path).unwrap();
        let Migration::Script(script) = &MIGRATIONS[0] else { unreachable!("version 1 is a script") };
        conn.execute_batch(script).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let journal = vec![
            JournalEntry { sequence: 0, input: JournalInput::Start, at: 1_000, entropy: vec![7] },
            JournalEntry { sequence: 1, input: JournalInput::TimerFired { timer_id: 1 }, at: 2_000, entropy: vec![] },
        ];
        for (arn, status) in
            [(running(), "RUNNING"), ("arn:aws:states:us-east-1:123456789012:execution:m:done", "SUCCEEDED")]
        {
            conn.execute(
                "INSERT INTO executions (arn, state_machine_arn, name, definition, status, input, start_date) \
                 VALUES (?1, 'arn:aws:states:us-east-1:123456789012:stateMachine:m', 'n', ?2, ?3, '{}', 1000)",
                params![arn, DEFINITION, status],
            )
            .unwrap();
        }
        for entry in &journal {
            conn.execute(
                "INSERT INTO journal (execution_arn, sequence, entry) VALUES (?1, ?2, ?3)",
                params![running(), entry.sequence as i64, serde_json::to_string(entry).unwrap()],
            )
            .unwrap();
        }
        for id in 1..=4 {
            conn.execute(
                "INSERT INTO history (execution_arn, event_id, event) VALUES (?1, ?2, ?3)",
                params![running(), id as i64, legacy_event(id).to_string()],
            )
            .unwrap();
        }
        journal
    }

    fn legacy_event(id: u64) -> serde_json::Value {
        json!({"id": id, "previousEventId": id - 1, "type": "WaitStateEntered", "timestamp": id as f64})
    }

    fn entered(id: u64) -> HistoryEvent {
        HistoryEvent {
            id,
            previous_event_id: id - 1,
            timestamp: Timestamp(3_000),
            kind: EventKind::StateEntered {
                state_type: StateType::Pass,
                name: "P".into(),
                input: std::sync::Arc::new(json!({"id": id})),
            },
        }
    }

    fn step(sequence: u64, events: Vec<HistoryEvent>) -> Append {
        Append {
            execution_arn: running().to_owned(),
            entry: JournalEntry {
                sequence,
                input: JournalInput::TimerFired { timer_id: sequence },
                at: 3_000,
                entropy: vec![],
            },
            events,
            documents: DocumentTexts::default(),
            completion: None,
        }
    }

    fn ids(events: &[StoredEvent]) -> Vec<u64> {
        events.iter().map(|event| event.id).collect()
    }

    #[tokio::test]
    async fn a_version_1_database_migrates_and_its_executions_carry_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let journal = version_1_database(&path);
        let store = SqliteStore::open(&path).unwrap();

        let execution = store.execution(running()).await.unwrap().expect("the execution survives");
        assert_eq!((execution.status, execution.definition.as_str()), (ExecutionStatus::Running, DEFINITION));
        assert_eq!(store.running_executions().await.unwrap(), [running()]);
        assert_eq!(store.journal(running()).await.unwrap(), journal);
        let page =
            |limit, after: Option<&str>, reverse| PageRequest { limit, after: after.map(str::to_owned), reverse };
        let first = store.history(running(), &page(3, None, false)).await.unwrap();
        assert_eq!(ids(&first.items), [1, 2, 3]);
        assert_eq!(first.items[0].event, legacy_event(1), "old events read back as they were stored");

        // It continues: the next step must start at event 5, and its events follow the old ones.
        assert!(store.append(step(2, vec![entered(4)])).await.is_err());
        store.append(step(2, vec![entered(5), entered(6)])).await.unwrap();
        store.append(step(3, vec![])).await.unwrap();
        store.append(step(4, vec![entered(7)])).await.unwrap();
        let all = store.history(running(), &page(0, None, false)).await.unwrap().items;
        assert_eq!(ids(&all), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(all[4], StoredEvent::render(&entered(5)));
        let across = store.history(running(), &page(3, Some("3"), false)).await.unwrap();
        assert_eq!(ids(&across.items), [4, 5, 6]);
        let newest = store.history(running(), &page(4, None, true)).await.unwrap();
        assert_eq!(ids(&newest.items), [7, 6, 5, 4]);
        let older = store.history(running(), &page(4, newest.next.as_deref(), true)).await.unwrap();
        assert_eq!((ids(&older.items), older.next), (vec![3, 2, 1], None));

        // Both executions share one stored definition.
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let definitions: i64 = conn.query_row("SELECT COUNT(*) FROM definitions", [], |row| row.get(0)).unwrap();
        assert_eq!(definitions, 1);
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version, VERSION);
    }
}
