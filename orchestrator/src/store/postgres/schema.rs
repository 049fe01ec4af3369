//! The PostgreSQL schema and its migrations.
//!
//! The layout is SQLite's version 2 (see `store::sqlite::schema`): an execution is one row of
//! `executions`, pointing at its definition in `definitions`, and one row of `steps` per
//! interpreter step, holding its journal entry and its history events encoded with each document
//! once. Names and ARNs compare as bytes (`COLLATE "C"`), as on SQLite, whatever the database's
//! locale, so listings page the same on every store.

use deadpool_postgres::Client;

use super::super::{StoreError, StoreResult};
use super::failed;

/// Each migration, in order; the schema's version is how many have run.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE state_machines (
        arn TEXT COLLATE \"C\" PRIMARY KEY,
        name TEXT COLLATE \"C\" NOT NULL,
        definition TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        machine_type TEXT NOT NULL,
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL,
        revision_id TEXT NOT NULL,
        logging_configuration TEXT NOT NULL,
        tracing_configuration TEXT NOT NULL
    );
    CREATE INDEX state_machines_by_name ON state_machines (name, arn);

    CREATE TABLE tags (
        arn TEXT COLLATE \"C\" NOT NULL,
        key TEXT COLLATE \"C\" NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (arn, key)
    );

    CREATE TABLE definitions (
        id BIGSERIAL PRIMARY KEY,
        sha256 BYTEA NOT NULL UNIQUE,
        definition TEXT NOT NULL
    );

    -- No foreign key to state_machines: executions stay readable after their machine is deleted.
    CREATE TABLE executions (
        id BIGSERIAL PRIMARY KEY,
        arn TEXT COLLATE \"C\" NOT NULL UNIQUE,
        state_machine_arn TEXT COLLATE \"C\" NOT NULL,
        name TEXT NOT NULL,
        definition_id BIGINT NOT NULL REFERENCES definitions (id),
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        start_date BIGINT NOT NULL,
        stop_date BIGINT,
        -- Set while the execution is parked (the largest integer: until a callback comes; 0 once
        -- a signal is posted for it, to be woken at once); nothing drives it until then. `parking`
        -- says what it waits for (JSON).
        wake_at BIGINT,
        parking TEXT
    );
    CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date, arn);
    CREATE INDEX executions_by_start ON executions (start_date, arn);
    CREATE INDEX executions_running ON executions (arn) WHERE status = 'RUNNING' AND wake_at IS NULL;
    CREATE INDEX executions_parked ON executions (wake_at) WHERE wake_at IS NOT NULL;

    -- One row per step; its events are first_event .. first_event + event_count - 1. The
    -- primary key is what stops two nodes from both writing step N of one execution.
    CREATE TABLE steps (
        execution_id BIGINT NOT NULL REFERENCES executions (id),
        sequence BIGINT NOT NULL,
        first_event BIGINT NOT NULL,
        event_count BIGINT NOT NULL,
        entry TEXT NOT NULL,
        events TEXT NOT NULL,
        PRIMARY KEY (execution_id, sequence)
    );

    -- The task tokens parked executions wait for, so any node finds who to wake.
    CREATE TABLE awaited_tokens (
        token TEXT PRIMARY KEY,
        execution_id BIGINT NOT NULL REFERENCES executions (id)
    );
    CREATE INDEX awaited_tokens_by_execution ON awaited_tokens (execution_id);

    -- Not tied to executions: EXPRESS executions live in memory but may still be leased.
    CREATE TABLE leases (
        execution_arn TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires BIGINT NOT NULL
    );
    CREATE INDEX leases_by_owner ON leases (owner);

    CREATE TABLE activities (
        arn TEXT COLLATE \"C\" PRIMARY KEY,
        name TEXT COLLATE \"C\" NOT NULL,
        created BIGINT NOT NULL
    );
    CREATE INDEX activities_by_name ON activities (name, arn);

    -- One step of one execution in one round trip: the step is written only if it continues the
    -- journal and the history. Either way the row says where they continue, so the caller can
    -- explain a refusal. The execution's row lock orders concurrent writers across nodes.
    CREATE FUNCTION stepwasm_append(
        p_arn TEXT, p_sequence BIGINT, p_first_event BIGINT, p_event_count BIGINT, p_entry TEXT,
        p_events TEXT, p_status TEXT, p_output TEXT, p_error TEXT, p_cause TEXT, p_stop_date BIGINT,
        OUT written BOOLEAN, OUT next_sequence BIGINT, OUT next_event BIGINT
    ) LANGUAGE plpgsql AS $$
    DECLARE
        v_execution BIGINT;
        v_sequence BIGINT;
        v_first BIGINT;
        v_count BIGINT;
    BEGIN
        written := FALSE;
        SELECT id INTO v_execution FROM executions WHERE arn = p_arn FOR UPDATE;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        SELECT sequence, first_event, event_count INTO v_sequence, v_first, v_count
            FROM steps WHERE execution_id = v_execution ORDER BY sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            next_sequence := 0;
            next_event := 1;
        ELSE
            next_sequence := v_sequence + 1;
            next_event := CASE WHEN v_count = 0 THEN GREATEST(v_first, 1) ELSE v_first + v_count END;
        END IF;
        IF p_sequence <> next_sequence OR (p_event_count > 0 AND p_first_event <> next_event) THEN
            RETURN;
        END IF;
        INSERT INTO steps (execution_id, sequence, first_event, event_count, entry, events)
            VALUES (v_execution, p_sequence, next_event, p_event_count, p_entry, p_events);
        UPDATE executions SET wake_at = NULL, parking = NULL WHERE id = v_execution AND wake_at IS NOT NULL;
        IF FOUND THEN
            DELETE FROM awaited_tokens WHERE execution_id = v_execution;
        END IF;
        IF p_status IS NOT NULL THEN
            UPDATE executions SET status = p_status, output = p_output, error = p_error, cause = p_cause,
                stop_date = p_stop_date WHERE id = v_execution;
        END IF;
        written := TRUE;
    END
    $$;
",
    "
    -- 2: task tokens as issued, and signals posted for executions, so that a callback reaches
    -- its execution from any node and survives a crash.
    CREATE TABLE task_tokens (
        token TEXT COLLATE \"C\" PRIMARY KEY,
        execution_arn TEXT COLLATE \"C\" NOT NULL,
        state_name TEXT NOT NULL,
        issued BIGINT NOT NULL
    );
    CREATE INDEX task_tokens_by_execution ON task_tokens (execution_arn, issued);

    CREATE TABLE signals (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        execution_arn TEXT COLLATE \"C\" NOT NULL,
        signal TEXT NOT NULL
    );
    CREATE INDEX signals_by_execution ON signals (execution_arn, id);
",
    "
    -- 3: activity tasks queued for workers on any node. A taken task keeps its row, so that a
    -- resumed execution scheduling it again does not queue it twice.
    CREATE TABLE activity_tasks (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        activity_arn TEXT COLLATE \"C\" NOT NULL,
        token TEXT COLLATE \"C\" NOT NULL UNIQUE,
        execution_arn TEXT COLLATE \"C\" NOT NULL,
        input TEXT NOT NULL,
        taken BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX activity_tasks_waiting ON activity_tasks (activity_arn, id) WHERE NOT taken;
    CREATE INDEX activity_tasks_by_execution ON activity_tasks (execution_arn);
",
    "
    -- 4: deployed task functions, so that every node runs what was deployed through any.
    CREATE TABLE functions (
        name TEXT COLLATE \"C\" PRIMARY KEY,
        sha256 TEXT NOT NULL,
        config TEXT NOT NULL,
        deployed BIGINT NOT NULL,
        component BYTEA NOT NULL
    );
",
    "
    -- 5: published versions of state machines and their aliases, and which version and alias an
    -- execution was started through.
    ALTER TABLE state_machines ADD COLUMN last_version BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE state_machine_versions (
        machine_arn TEXT COLLATE \"C\" NOT NULL,
        version BIGINT NOT NULL,
        definition TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        description TEXT,
        created BIGINT NOT NULL,
        logging_configuration TEXT NOT NULL,
        tracing_configuration TEXT NOT NULL,
        PRIMARY KEY (machine_arn, version)
    );
    CREATE TABLE state_machine_aliases (
        arn TEXT COLLATE \"C\" PRIMARY KEY,
        machine_arn TEXT COLLATE \"C\" NOT NULL,
        name TEXT COLLATE \"C\" NOT NULL,
        description TEXT,
        -- JSON: the routes, each a version and its weight.
        routes TEXT NOT NULL,
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL
    );
    CREATE INDEX state_machine_aliases_by_machine ON state_machine_aliases (machine_arn, name);
    ALTER TABLE executions ADD COLUMN version_arn TEXT COLLATE \"C\";
    ALTER TABLE executions ADD COLUMN alias_arn TEXT COLLATE \"C\";
    CREATE INDEX executions_by_version ON executions (version_arn, start_date, arn) WHERE version_arn IS NOT NULL;
    CREATE INDEX executions_by_alias ON executions (alias_arn, start_date, arn) WHERE alias_arn IS NOT NULL;
",
    "
    -- 6: how often each execution was redriven, when last, and with which client token.
    ALTER TABLE executions ADD COLUMN redrive_count BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE executions ADD COLUMN redrive_date BIGINT;
    ALTER TABLE executions ADD COLUMN redrive_token TEXT;
",
    "
    -- 7: service integrations bound through the API: what each runs here (JSON); and the
    -- SQS-style message queues with their messages.
    CREATE TABLE bindings (
        integration TEXT COLLATE \"C\" PRIMARY KEY,
        target TEXT NOT NULL,
        updated BIGINT NOT NULL
    );

    CREATE TABLE queues (
        name TEXT COLLATE \"C\" PRIMARY KEY,
        created BIGINT NOT NULL,
        attributes TEXT NOT NULL
    );
    CREATE TABLE queue_messages (
        id TEXT COLLATE \"C\" PRIMARY KEY,
        queue TEXT COLLATE \"C\" NOT NULL,
        body TEXT NOT NULL,
        attributes TEXT NOT NULL,
        sent BIGINT NOT NULL,
        visible_at BIGINT NOT NULL,
        receive_count INTEGER NOT NULL
    );
    CREATE INDEX queue_messages_due ON queue_messages (queue, visible_at, sent);
",
];

/// The newest schema version this build knows.
pub(super) const VERSION: i64 = MIGRATIONS.len() as i64;

/// The key of the advisory lock that lets one node at a time migrate.
const MIGRATION_LOCK: i64 = 0x7374_6570_7761_736d; // "stepwasm"

/// Brings the schema up to [`VERSION`], one transaction per migration. Several nodes may start
/// at once: an advisory lock makes the others wait, and they then find the work done.
pub(super) async fn migrate(client: &mut Client) -> StoreResult<()> {
    loop {
        let tx = client.transaction().await.map_err(failed("starting a migration"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(failed("taking the migration lock"))?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS stepwasm_schema (version BIGINT NOT NULL)")
            .await
            .map_err(failed("creating the schema version table"))?;
        let found: i64 = match tx
            .query_opt("SELECT version FROM stepwasm_schema", &[])
            .await
            .map_err(failed("reading the schema version"))?
        {
            Some(row) => row.try_get(0).map_err(failed("reading the schema version"))?,
            None => {
                tx.execute("INSERT INTO stepwasm_schema (version) VALUES (0)", &[])
                    .await
                    .map_err(failed("recording the schema version"))?;
                0
            }
        };
        if found > VERSION {
            return Err(StoreError::SchemaTooNew { found, known: VERSION });
        }
        let Some(migration) = usize::try_from(found).ok().and_then(|v| MIGRATIONS.get(v)) else {
            return Ok(());
        };
        tx.batch_execute(migration).await.map_err(failed(&format!("migrating the schema to version {}", found + 1)))?;
        tx.execute("UPDATE stepwasm_schema SET version = $1", &[&(found + 1)])
            .await
            .map_err(failed("recording the schema version"))?;
        tx.commit().await.map_err(failed("committing a migration"))?;
    }
}
