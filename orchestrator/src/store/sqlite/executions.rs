//! Executions, their journals and their histories: one `executions` row each, and one `steps`
//! row per interpreter step holding its journal entry and its history events.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::super::encoding::{EncodedStep, encode_step};
use super::super::history_codec;
use super::super::memory::{
    check_append, check_start, complete, event_position, execution_position, no_execution, paginate,
    parse_event_position, parse_execution_position,
};
use super::super::{
    Append, Created, ExecutionCounts, ExecutionFilter, ExecutionRecord, ExecutionStatus, ExecutionStore, JournalEntry,
    JournalStore, Millis, Page, PageRequest, Parking, Redrive, StoreError, StoreFuture, StoreResult, StoredEvent,
    ready,
};
use super::schema::{definition_hash, definition_id};
use super::{SqliteStore, from_sql_int, json, sql_limit, to_sql_int};

/// An execution's columns, from `executions e JOIN definitions d`.
const EXECUTION_COLUMNS: &str = "e.arn, e.state_machine_arn, e.name, d.definition, e.status, e.input, e.output, \
     e.error, e.cause, e.start_date, e.stop_date, e.version_arn, e.alias_arn, e.redrive_count, e.redrive_date, \
     e.redrive_token";

const EXECUTIONS: &str = "executions e JOIN definitions d ON d.id = e.definition_id";

fn execution_row(row: &Row<'_>) -> rusqlite::Result<(ExecutionRecord, String)> {
    let status: String = row.get(4)?;
    let record = ExecutionRecord {
        arn: row.get(0)?,
        state_machine_arn: row.get(1)?,
        name: row.get(2)?,
        definition: row.get(3)?,
        // Replaced by `decode_execution`; rusqlite's row closure cannot return our error.
        status: ExecutionStatus::Running,
        input: row.get(5)?,
        output: row.get(6)?,
        error: row.get(7)?,
        cause: row.get(8)?,
        start_date: row.get(9)?,
        stop_date: row.get(10)?,
        version_arn: row.get(11)?,
        alias_arn: row.get(12)?,
        redrive_count: row.get(13)?,
        redrive_date: row.get(14)?,
        redrive_token: row.get(15)?,
    };
    Ok((record, status))
}

fn decode_execution((mut record, status): (ExecutionRecord, String)) -> StoreResult<ExecutionRecord> {
    record.status = ExecutionStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("execution {}: status {status:?}", record.arn)))?;
    Ok(record)
}

fn execution_id(conn: &Connection, arn: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM executions WHERE arn = ?1")?
        .query_row([arn], |row| row.get(0))
        .optional()?)
}

/// Inserts `step`; `first_event` is where its events start, or would have (a step with no
/// events still records where the next one starts).
fn insert_step(conn: &Connection, execution: i64, step: &EncodedStep, first_event: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO steps (execution_id, sequence, first_event, event_count, entry, events) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![execution, step.sequence, first_event, step.event_count, step.entry, step.events])?;
    Ok(())
}

fn insert_execution(
    conn: &Connection,
    record: &ExecutionRecord,
    definition_sha256: &[u8; 32],
    start: &Append,
    step: &EncodedStep,
) -> StoreResult<Created> {
    check_append(start, 0, 1)?;
    let mut created = record.clone();
    if let Some(completion) = &start.completion {
        complete(&mut created, completion);
    }
    let definition = definition_id(conn, definition_sha256, &record.definition)?;
    // One statement finds an execution of that name or adds this one.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO executions (arn, state_machine_arn, name, definition_id, status, input, output, error, \
             cause, start_date, stop_date, version_arn, alias_arn) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (arn) DO NOTHING",
        )?
        .execute(params![
            created.arn,
            created.state_machine_arn,
            created.name,
            definition,
            created.status.as_str(),
            created.input,
            created.output,
            created.error,
            created.cause,
            created.start_date,
            created.stop_date,
            created.version_arn,
            created.alias_arn,
        ])?;
    if inserted == 0 {
        let existing = conn
            .prepare_cached(&format!("SELECT {EXECUTION_COLUMNS} FROM {EXECUTIONS} WHERE e.arn = ?1"))?
            .query_row([&record.arn], execution_row)?;
        return Ok(Created::Existing(decode_execution(existing)?));
    }
    insert_step(conn, conn.last_insert_rowid(), step, 1)?;
    Ok(Created::New(created))
}

/// The last step of an execution.
///
/// The id is cast because, given a bare parameter, SQLite plans this `ORDER BY … DESC` around
/// the value bound and marks the statement to be planned again whenever another is bound: a
/// parse and plan on every append, a tenth of the writer's time.
const LAST_STEP: &str = "SELECT sequence, first_event, event_count FROM steps \
     WHERE execution_id = CAST(?1 AS INTEGER) ORDER BY sequence DESC LIMIT 1";

fn insert_append(conn: &Connection, append: &Append, step: &EncodedStep) -> StoreResult<()> {
    let arn = &append.execution_arn;
    let execution = execution_id(conn, arn)?.ok_or_else(|| no_execution(arn))?;
    // Sequences and event ids both grow with the step, so the last step tells what comes next.
    let last: Option<(i64, i64, i64)> = conn
        .prepare_cached(LAST_STEP)?
        .query_row([execution], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    let (next_sequence, next_event) = match last {
        Some((sequence, first, count)) => (sequence + 1, if count == 0 { first.max(1) } else { first + count }),
        None => (0, 1),
    };
    check_append(append, from_sql_int(next_sequence, "sequence")?, from_sql_int(next_event, "event id")?)?;
    insert_step(conn, execution, step, next_event)?;
    unpark(conn, execution)?;
    if let Some(c) = &append.completion {
        conn.prepare_cached(
            "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stop_date = ?6 WHERE id = ?1",
        )?
        .execute(params![execution, c.status.as_str(), c.output, c.error, c.cause, c.stop_date])?;
    }
    Ok(())
}

/// Reopens a finished execution and appends the step that redrives it.
fn insert_redrive(conn: &Connection, append: &Append, redrive: &Redrive, step: &EncodedStep) -> StoreResult<()> {
    let arn = &append.execution_arn;
    let reopened = conn
        .prepare_cached(
            "UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL, stop_date = NULL, \
             redrive_count = ?2, redrive_date = ?3, redrive_token = ?4 WHERE arn = ?1 AND status <> 'RUNNING'",
        )?
        .execute(params![arn, redrive.count, redrive.date, redrive.client_token])?;
    if reopened == 0 {
        return Err(match execution_id(conn, arn)? {
            Some(_) => StoreError::Refused(format!("execution {arn} is running: it cannot be redriven")),
            None => no_execution(arn),
        });
    }
    // A refused step rolls the whole write back, reopening included.
    insert_append(conn, append, step)
}

/// Ends a parking, if the execution is parked.
fn unpark(conn: &Connection, execution: i64) -> StoreResult<()> {
    let unparked = conn
        .prepare_cached("UPDATE executions SET wake_at = NULL, parking = NULL WHERE id = ?1 AND wake_at IS NOT NULL")?
        .execute([execution])?;
    if unparked == 1 {
        conn.prepare_cached("DELETE FROM awaited_tokens WHERE execution_id = ?1")?.execute([execution])?;
    }
    Ok(())
}

impl ExecutionStore for SqliteStore {
    fn create_execution(&self, record: &ExecutionRecord, start: &Append) -> StoreFuture<'_, Created> {
        // Hashing and encoding happen here, on the caller's thread, to keep the writer's short.
        let prepared = check_start(record, start).and_then(|()| {
            Ok((record.clone(), definition_hash(&record.definition), start.clone(), encode_step(start)?))
        });
        match prepared {
            Ok((record, sha256, start, step)) => {
                self.write_async(move |conn| insert_execution(conn, &record, &sha256, &start, &step))
            }
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }

    fn execution(&self, arn: &str) -> StoreFuture<'_, Option<ExecutionRecord>> {
        ready(self.execution_blocking(arn))
    }

    fn list_executions(&self, filter: &ExecutionFilter, page: &PageRequest) -> StoreFuture<'_, Page<ExecutionRecord>> {
        ready(self.list_executions_blocking(filter, page))
    }

    fn running_executions(&self) -> StoreFuture<'_, Vec<String>> {
        ready(self.running_executions_blocking())
    }

    fn execution_counts(&self) -> StoreFuture<'_, ExecutionCounts> {
        ready(self.readers.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT COUNT(*) FILTER (WHERE wake_at IS NULL), COUNT(*) FILTER (WHERE wake_at IS NOT NULL) \
                 FROM executions WHERE status = 'RUNNING'",
            )?;
            let (running, parked): (i64, i64) = query.query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(ExecutionCounts { running: running.unsigned_abs(), parked: parked.unsigned_abs() })
        }))
    }

    fn park(&self, execution_arn: &str, parking: &Parking) -> StoreFuture<'_, ()> {
        let arn = execution_arn.to_owned();
        let parking = parking.clone();
        self.write_async(move |conn| {
            let Some(execution) = execution_id(conn, &arn)? else { return Ok(()) };
            unpark(conn, execution)?;
            let text = serde_json::to_string(&parking)
                .map_err(|e| StoreError::database(format!("the parking of {arn} cannot be encoded"), e))?;
            let parked = conn
                .prepare_cached(
                    "UPDATE executions SET wake_at = ?2, parking = ?3 WHERE id = ?1 AND status = 'RUNNING'",
                )?
                .execute(params![execution, parking.wake_at.unwrap_or(Millis::MAX), text])?;
            if parked == 1 {
                let mut insert =
                    conn.prepare_cached("INSERT OR REPLACE INTO awaited_tokens (token, execution_id) VALUES (?1, ?2)")?;
                for callback in &parking.callbacks {
                    insert.execute(params![callback.token, execution])?;
                }
            }
            Ok(())
        })
    }

    fn parking(&self, execution_arn: &str) -> StoreFuture<'_, Option<Parking>> {
        ready(self.parking_blocking(execution_arn))
    }

    fn execution_awaiting(&self, task_token: &str) -> StoreFuture<'_, Option<String>> {
        ready(self.execution_awaiting_blocking(task_token))
    }

    fn due_executions(&self, now: Millis, limit: usize) -> StoreFuture<'_, Vec<String>> {
        ready(self.due_executions_blocking(now, limit))
    }

    fn next_wake(&self) -> StoreFuture<'_, Option<Millis>> {
        ready(self.next_wake_blocking())
    }
}

impl JournalStore for SqliteStore {
    fn append(&self, append: Append) -> StoreFuture<'_, ()> {
        match encode_step(&append) {
            Ok(step) => self.write_async(move |conn| insert_append(conn, &append, &step)),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }

    fn redrive(&self, append: Append, redrive: Redrive) -> StoreFuture<'_, ()> {
        match encode_step(&append) {
            Ok(step) => self.write_async(move |conn| insert_redrive(conn, &append, &redrive, &step)),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }

    fn journal(&self, execution_arn: &str) -> StoreFuture<'_, Vec<JournalEntry>> {
        ready(self.journal_blocking(execution_arn))
    }

    fn history(&self, execution_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<StoredEvent>> {
        ready(self.history_blocking(execution_arn, page))
    }
}

/// Up to `wanted` events past `after` (an event id; none: from the first or the last event):
/// with higher ids, oldest first, or with lower ids, newest first if `reverse`.
fn history_page(
    conn: &Connection,
    execution: i64,
    after: Option<u64>,
    reverse: bool,
    wanted: usize,
) -> StoreResult<Vec<StoredEvent>> {
    let after = after.map(|id| to_sql_int(id, "event id")).transpose()?;
    let (sql, bound) = if reverse {
        (
            "SELECT first_event, event_count, events FROM steps \
             WHERE execution_id = ?1 AND event_count > 0 AND first_event < ?2 ORDER BY sequence DESC",
            after.unwrap_or(i64::MAX),
        )
    } else {
        (
            "SELECT first_event, event_count, events FROM steps \
             WHERE execution_id = ?1 AND event_count > 0 AND first_event + event_count > ?2 ORDER BY sequence",
            after.unwrap_or(0),
        )
    };
    let past = |id: u64| match after.and_then(|after| u64::try_from(after).ok()) {
        Some(after) if reverse => id < after,
        Some(after) => id > after,
        None => true,
    };
    let mut query = conn.prepare_cached(sql)?;
    let mut rows = query.query(params![execution, bound])?;
    let mut items = Vec::new();
    while items.len() < wanted
        && let Some(row) = rows.next()?
    {
        let (first, count): (i64, i64) = (row.get(0)?, row.get(1)?);
        let mut events = match row.get::<_, Option<String>>(2)? {
            Some(text) => step_events(&text, first)?,
            None => legacy_events(conn, execution, first, first + count)?,
        };
        if reverse {
            events.reverse();
        }
        items.extend(events.into_iter().filter(|event| past(event.id)).take(wanted - items.len()));
    }
    Ok(items)
}

/// A step's events, rendered in AWS's shape.
fn step_events(text: &str, first: i64) -> StoreResult<Vec<StoredEvent>> {
    let events = history_codec::decode(text, from_sql_int(first, "event id")?)?;
    Ok(events.iter().map(StoredEvent::render).collect())
}

/// Events a version 1 database stored one per row, with ids strictly between `after` and
/// The events a version 1 database stored one per row, from id `first` up to `end`, oldest first.
fn legacy_events(conn: &Connection, execution: i64, first: i64, end: i64) -> StoreResult<Vec<StoredEvent>> {
    let mut query = conn.prepare_cached(
        "SELECT event_id, event FROM legacy_history WHERE execution_id = ?1 AND event_id >= ?2 AND event_id < ?3 \
         ORDER BY event_id",
    )?;
    let rows = query.query_map(params![execution, first, end], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.map(|row| {
        let (id, text): (i64, String) = row?;
        Ok(StoredEvent { id: from_sql_int(id, "event id")?, event: json(&text, "a stored history event")? })
    })
    .collect()
}

/// The stores' answers, computed on the calling thread; the trait methods wrap them in ready futures.
impl SqliteStore {
    fn execution_blocking(&self, arn: &str) -> StoreResult<Option<ExecutionRecord>> {
        self.readers.with(|conn| {
            conn.prepare_cached(&format!("SELECT {EXECUTION_COLUMNS} FROM {EXECUTIONS} WHERE e.arn = ?1"))?
                .query_row([arn], execution_row)
                .optional()?
                .map(decode_execution)
                .transpose()
        })
    }

    fn list_executions_blocking(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ExecutionRecord>> {
        let after = page.after.as_deref().map(parse_execution_position).transpose()?;
        let mut conditions = Vec::new();
        let mut args = vec![SqlValue::Integer(sql_limit(page.limit))];
        // Built per case rather than `(?1 IS NULL OR …)`, which would keep SQLite from using
        // the (state_machine_arn, start_date, arn) index.
        if let Some(machine) = &filter.state_machine_arn {
            args.push(SqlValue::Text(machine.clone()));
            conditions.push(format!("e.state_machine_arn = ?{}", args.len()));
        }
        if let Some(status) = filter.status {
            args.push(SqlValue::Text(status.as_str().to_owned()));
            conditions.push(format!("e.status = ?{}", args.len()));
        }
        if let Some(version) = &filter.version_arn {
            args.push(SqlValue::Text(version.clone()));
            conditions.push(format!("e.version_arn = ?{}", args.len()));
        }
        if let Some(alias) = &filter.alias_arn {
            args.push(SqlValue::Text(alias.clone()));
            conditions.push(format!("e.alias_arn = ?{}", args.len()));
        }
        match filter.redriven {
            Some(true) => conditions.push("e.redrive_count > 0".to_owned()),
            Some(false) => conditions.push("e.redrive_count = 0".to_owned()),
            None => {}
        }
        // Newest first by default, so "after" means an older key.
        let (direction, compare) = if page.reverse { ("ASC", ">") } else { ("DESC", "<") };
        if let Some((start, arn)) = after {
            args.push(SqlValue::Integer(start));
            args.push(SqlValue::Text(arn));
            conditions.push(format!("(e.start_date, e.arn) {compare} (?{}, ?{})", args.len() - 1, args.len()));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM {EXECUTIONS} {filter} \
             ORDER BY e.start_date {direction}, e.arn {direction} LIMIT ?1"
        );
        let rows = self.readers.with(|conn| {
            let mut query = conn.prepare_cached(&sql)?;
            let rows = query.query_map(rusqlite::params_from_iter(args), execution_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        let items = rows.into_iter().map(decode_execution).collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items.into_iter(), page.limit, |e| execution_position(e.start_date, &e.arn)))
    }

    fn running_executions_blocking(&self) -> StoreResult<Vec<String>> {
        self.readers.with(|conn| {
            // Matches the partial index `executions_running` word for word, so it is used.
            let mut query = conn.prepare_cached(
                "SELECT arn FROM executions WHERE status = 'RUNNING' AND wake_at IS NULL ORDER BY arn",
            )?;
            let rows = query.query_map([], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn parking_blocking(&self, execution_arn: &str) -> StoreResult<Option<Parking>> {
        let text: Option<Option<String>> = self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT parking FROM executions WHERE arn = ?1 AND wake_at IS NOT NULL")?
                .query_row([execution_arn], |row| row.get(0))
                .optional()?)
        })?;
        text.flatten().map(|text| json(&text, execution_arn)).transpose()
    }

    fn execution_awaiting_blocking(&self, task_token: &str) -> StoreResult<Option<String>> {
        self.readers.with(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT e.arn FROM awaited_tokens t JOIN executions e ON e.id = t.execution_id WHERE t.token = ?1",
                )?
                .query_row([task_token], |row| row.get(0))
                .optional()?)
        })
    }

    fn due_executions_blocking(&self, now: Millis, limit: usize) -> StoreResult<Vec<String>> {
        self.readers.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT arn FROM executions WHERE wake_at IS NOT NULL AND wake_at <= ?1 ORDER BY wake_at LIMIT ?2",
            )?;
            let rows = query.query_map(params![now, i64::try_from(limit).unwrap_or(i64::MAX)], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn next_wake_blocking(&self) -> StoreResult<Option<Millis>> {
        self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT MIN(wake_at) FROM executions WHERE wake_at IS NOT NULL")?
                .query_row([], |row| row.get::<_, Option<Millis>>(0))?
                .filter(|at| *at != Millis::MAX))
        })
    }

    fn journal_blocking(&self, execution_arn: &str) -> StoreResult<Vec<JournalEntry>> {
        let texts: Vec<String> = self.readers.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT s.entry FROM steps s JOIN executions e ON e.id = s.execution_id \
                 WHERE e.arn = ?1 ORDER BY s.sequence",
            )?;
            let rows = query.query_map([execution_arn], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        texts.iter().map(|text| json(text, execution_arn)).collect()
    }

    fn history_blocking(&self, execution_arn: &str, page: &PageRequest) -> StoreResult<Page<StoredEvent>> {
        let after = page.after.as_deref().map(parse_event_position).transpose()?;
        let wanted = if page.limit == 0 { usize::MAX } else { page.limit + 1 };
        let items = self.readers.with(|conn| {
            let Some(execution) = execution_id(conn, execution_arn)? else { return Ok(Vec::new()) };
            history_page(conn, execution, after, page.reverse, wanted)
        })?;
        Ok(paginate(items.into_iter(), page.limit, |e| event_position(e.id)))
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    #[test]
    fn finding_the_last_step_is_planned_once_for_every_execution() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        // Steps alone are what this is about; their executions need not exist.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        for execution in 10..40_i64 {
            for sequence in 0..3_i64 {
                let last: Option<i64> = conn
                    .prepare_cached(LAST_STEP)
                    .unwrap()
                    .query_row([execution], |row| row.get(0))
                    .optional()
                    .unwrap();
                assert_eq!(last, (sequence > 0).then(|| sequence - 1));
                conn.execute(
                    "INSERT INTO steps (execution_id, sequence, first_event, event_count, entry, events) \
                     VALUES (?1, ?2, ?2, 1, '{}', NULL)",
                    params![execution, sequence],
                )
                .unwrap();
            }
        }
        let statement = conn.prepare_cached(LAST_STEP).unwrap();
        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
    }
}
