//! Executions, their journals and their histories, as on SQLite: one `executions` row each, and
//! one `steps` row per interpreter step holding its journal entry and its history events.

use deadpool_postgres::Transaction;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::super::encoding::{EncodedStep, encode_step};
use super::super::history_codec;
use super::super::memory::{
    check_append, check_start, complete, event_position, execution_position, no_execution, paginate,
    parse_event_position, parse_execution_position,
};
use super::super::{
    Append, Created, ExecutionCounts, ExecutionFilter, ExecutionRecord, ExecutionStatus, ExecutionStore, JournalEntry,
    JournalStore, Millis, Page, PageRequest, Parking, Redrive, StoreError, StoreFuture, StoreResult, StoredEvent,
};
use super::group_commit::PendingAppend;
use super::{PostgresStore, failed, from_sql_int, get, json, sql_limit, to_sql_int};
use sha2::{Digest, Sha256};

/// An execution's columns, from `executions e JOIN definitions d`.
const EXECUTION_COLUMNS: &str = "e.arn, e.state_machine_arn, e.name, d.definition, e.status, e.input, e.output, \
     e.error, e.cause, e.start_date, e.stop_date, e.version_arn, e.alias_arn, e.redrive_count, e.redrive_date, \
     e.redrive_token";

const EXECUTIONS: &str = "executions e JOIN definitions d ON d.id = e.definition_id";

fn execution(row: &Row) -> StoreResult<ExecutionRecord> {
    let arn: String = get(row, 0)?;
    let status: &str = get(row, 4)?;
    let status = ExecutionStatus::parse(status)
        .ok_or_else(|| StoreError::Corrupt(format!("execution {arn}: status {status:?}")))?;
    Ok(ExecutionRecord {
        state_machine_arn: get(row, 1)?,
        name: get(row, 2)?,
        definition: get(row, 3)?,
        status,
        input: get(row, 5)?,
        output: get(row, 6)?,
        error: get(row, 7)?,
        cause: get(row, 8)?,
        start_date: get(row, 9)?,
        stop_date: get(row, 10)?,
        version_arn: get(row, 11)?,
        alias_arn: get(row, 12)?,
        redrive_count: u32::try_from(get::<i64>(row, 13)?)
            .map_err(|_| StoreError::Corrupt(format!("execution {arn}: a redrive count out of range")))?,
        redrive_date: get(row, 14)?,
        redrive_token: get(row, 15)?,
        arn,
    })
}

pub(super) async fn execute(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    what: &str,
) -> StoreResult<u64> {
    let statement = tx.prepare_cached(sql).await.map_err(failed("preparing a statement"))?;
    tx.execute(&statement, params).await.map_err(failed(what))
}

pub(super) async fn query(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    what: &str,
) -> StoreResult<Vec<Row>> {
    let statement = tx.prepare_cached(sql).await.map_err(failed("preparing a statement"))?;
    tx.query(&statement, params).await.map_err(failed(what))
}

/// Inserts `step`; `first_event` is where its events start, or would have (a step with no
/// events still records where the next one starts).
async fn insert_step(tx: &Transaction<'_>, execution: i64, step: &EncodedStep, first_event: i64) -> StoreResult<()> {
    execute(
        tx,
        "INSERT INTO steps (execution_id, sequence, first_event, event_count, entry, events) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&execution, &step.sequence, &first_event, &step.event_count, &step.entry, &step.events],
        "writing a step",
    )
    .await?;
    Ok(())
}

/// The id of `definition` in `definitions`, which gets it if it is new.
async fn definition_id(tx: &Transaction<'_>, definition: &str) -> StoreResult<i64> {
    let sha256: [u8; 32] = Sha256::digest(definition.as_bytes()).into();
    // Nearly every execution runs a definition stored already, so it is looked up first. When
    // it is new, two writers may insert it at once: the second's insert waits for the first and
    // then does nothing, and a statement after it sees the first's row.
    let find = "SELECT id FROM definitions WHERE sha256 = $1";
    if let Some(row) = query(tx, find, &[&&sha256[..]], "looking a definition up").await?.first() {
        return get(row, 0);
    }
    let inserted = query(
        tx,
        "INSERT INTO definitions (sha256, definition) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING RETURNING id",
        &[&&sha256[..], &definition],
        "storing a definition",
    )
    .await?;
    if let Some(row) = inserted.first() {
        return get(row, 0);
    }
    match query(tx, find, &[&&sha256[..]], "looking a definition up").await?.first() {
        Some(row) => get(row, 0),
        None => Err(StoreError::Corrupt("a definition was neither found nor stored".into())),
    }
}

/// Ends a parking, if the execution is parked.
async fn unpark(tx: &Transaction<'_>, execution: i64) -> StoreResult<()> {
    let unparked = execute(
        tx,
        "UPDATE executions SET wake_at = NULL, parking = NULL WHERE id = $1 AND wake_at IS NOT NULL",
        &[&execution],
        "unparking",
    )
    .await?;
    if unparked == 1 {
        execute(tx, "DELETE FROM awaited_tokens WHERE execution_id = $1", &[&execution], "unparking").await?;
    }
    Ok(())
}

impl PostgresStore {
    async fn insert_execution(
        &self,
        record: &ExecutionRecord,
        start: &Append,
        step: &EncodedStep,
    ) -> StoreResult<Created> {
        check_append(start, 0, 1)?;
        let mut created = record.clone();
        if let Some(completion) = &start.completion {
            complete(&mut created, completion);
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        let definition = definition_id(&tx, &record.definition).await?;
        // One statement finds an execution of that name or adds this one.
        let inserted = query(
            &tx,
            "INSERT INTO executions (arn, state_machine_arn, name, definition_id, status, input, output, error, \
             cause, start_date, stop_date, version_arn, alias_arn) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (arn) DO NOTHING RETURNING id",
            &[
                &created.arn,
                &created.state_machine_arn,
                &created.name,
                &definition,
                &created.status.as_str(),
                &created.input,
                &created.output,
                &created.error,
                &created.cause,
                &created.start_date,
                &created.stop_date,
                &created.version_arn,
                &created.alias_arn,
            ],
            "creating an execution",
        )
        .await?;
        let Some(row) = inserted.first() else {
            let sql = format!("SELECT {EXECUTION_COLUMNS} FROM {EXECUTIONS} WHERE e.arn = $1");
            let existing = query(&tx, &sql, &[&record.arn], "reading an execution").await?;
            let existing = existing.first().ok_or_else(|| no_execution(&record.arn))?;
            return Ok(Created::Existing(execution(existing)?));
        };
        insert_step(&tx, get(row, 0)?, step, 1).await?;
        tx.commit().await.map_err(failed("committing a new execution"))?;
        Ok(Created::New(created))
    }

    async fn insert_append(&self, append: Append, step: EncodedStep) -> StoreResult<()> {
        // Event ids must run on from the first; where the first must be, the database knows.
        let first_event = match append.events.first() {
            Some(first) => {
                check_append(&append, append.entry.sequence, first.id)?;
                to_sql_int(first.id, "event id")?
            }
            None => 0,
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let pending = PendingAppend {
            sequence: step.sequence,
            first_event,
            event_count: step.event_count,
            entry: step.entry,
            events: step.events,
            status: append.completion.as_ref().map(|c| c.status.as_str()),
            stop_date: append.completion.as_ref().map(|c| c.stop_date),
            append,
            reply,
        };
        self.appends.send(pending).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn insert_redrive(&self, append: Append, redrive: Redrive, step: EncodedStep) -> StoreResult<()> {
        let arn = &append.execution_arn;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        // The row lock makes a concurrent redrive wait, then find the execution running.
        let reopened = query(
            &tx,
            "UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL, stop_date = NULL, \
             redrive_count = $2, redrive_date = $3, redrive_token = $4 WHERE arn = $1 AND status <> 'RUNNING' \
             RETURNING id",
            &[arn, &i64::from(redrive.count), &redrive.date, &redrive.client_token],
            "reopening an execution",
        )
        .await?;
        let Some(row) = reopened.first() else {
            let found = query(&tx, "SELECT id FROM executions WHERE arn = $1", &[arn], "reading an execution").await?;
            return Err(match found.first() {
                Some(_) => StoreError::Refused(format!("execution {arn} is running: it cannot be redriven")),
                None => no_execution(arn),
            });
        };
        let execution: i64 = get(row, 0)?;
        let last = query(
            &tx,
            "SELECT sequence, first_event, event_count FROM steps WHERE execution_id = $1 \
             ORDER BY sequence DESC LIMIT 1",
            &[&execution],
            "reading the last step",
        )
        .await?;
        let (next_sequence, next_event) = match last.first() {
            Some(row) => {
                let (sequence, first, count): (i64, i64, i64) = (get(row, 0)?, get(row, 1)?, get(row, 2)?);
                (sequence + 1, if count == 0 { first.max(1) } else { first + count })
            }
            None => (0, 1),
        };
        check_append(&append, from_sql_int(next_sequence, "sequence")?, from_sql_int(next_event, "event id")?)?;
        insert_step(&tx, execution, &step, next_event).await?;
        if let Some(c) = &append.completion {
            execute(
                &tx,
                "UPDATE executions SET status = $2, output = $3, error = $4, cause = $5, stop_date = $6 WHERE id = $1",
                &[&execution, &c.status.as_str(), &c.output, &c.error, &c.cause, &c.stop_date],
                "completing an execution",
            )
            .await?;
        }
        tx.commit().await.map_err(failed("committing a redrive"))
    }

    async fn park_execution(&self, arn: &str, parking: &Parking) -> StoreResult<()> {
        let text = serde_json::to_string(parking)
            .map_err(|e| StoreError::database(format!("the parking of {arn} cannot be encoded"), e))?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        let found =
            query(&tx, "SELECT id FROM executions WHERE arn = $1 FOR UPDATE", &[&arn], "locking an execution").await?;
        let Some(row) = found.first() else { return Ok(()) };
        let execution: i64 = get(row, 0)?;
        unpark(&tx, execution).await?;
        let parked = execute(
            &tx,
            "UPDATE executions SET wake_at = $2, parking = $3 WHERE id = $1 AND status = 'RUNNING'",
            &[&execution, &parking.wake_at.unwrap_or(Millis::MAX), &text],
            "parking an execution",
        )
        .await?;
        if parked == 1 {
            for callback in &parking.callbacks {
                execute(
                    &tx,
                    "INSERT INTO awaited_tokens (token, execution_id) VALUES ($1, $2) \
                     ON CONFLICT (token) DO UPDATE SET execution_id = excluded.execution_id",
                    &[&callback.token, &execution],
                    "recording an awaited token",
                )
                .await?;
            }
        }
        tx.commit().await.map_err(failed("committing a parking"))
    }

    async fn execution_id(&self, arn: &str) -> StoreResult<Option<i64>> {
        self.query("SELECT id FROM executions WHERE arn = $1", &[&arn])
            .await?
            .first()
            .map(|row| get(row, 0))
            .transpose()
    }

    async fn list_executions_page(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ExecutionRecord>> {
        let after = page.after.as_deref().map(parse_execution_position).transpose()?;
        let limit = sql_limit(page.limit);
        let status = filter.status.map(|status| status.as_str());
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&limit];
        let mut conditions = Vec::new();
        // Built per case rather than `($2 IS NULL OR …)`, which would keep the planner from
        // using the (state_machine_arn, start_date, arn) index.
        if let Some(machine) = &filter.state_machine_arn {
            params.push(machine);
            conditions.push(format!("e.state_machine_arn = ${}", params.len()));
        }
        if let Some(status) = &status {
            params.push(status);
            conditions.push(format!("e.status = ${}", params.len()));
        }
        if let Some(version) = &filter.version_arn {
            params.push(version);
            conditions.push(format!("e.version_arn = ${}", params.len()));
        }
        if let Some(alias) = &filter.alias_arn {
            params.push(alias);
            conditions.push(format!("e.alias_arn = ${}", params.len()));
        }
        match filter.redriven {
            Some(true) => conditions.push("e.redrive_count > 0".to_owned()),
            Some(false) => conditions.push("e.redrive_count = 0".to_owned()),
            None => {}
        }
        // Newest first by default, so "after" means an older key.
        let (direction, compare) = if page.reverse { ("ASC", ">") } else { ("DESC", "<") };
        if let Some((start, arn)) = &after {
            params.push(start);
            params.push(arn);
            conditions.push(format!("(e.start_date, e.arn) {compare} (${}, ${})", params.len() - 1, params.len()));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM {EXECUTIONS} {filter} \
             ORDER BY e.start_date {direction}, e.arn {direction} LIMIT $1"
        );
        let rows = self.query(&sql, &params).await?;
        let items = rows.iter().map(execution).collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items.into_iter(), page.limit, |e| execution_position(e.start_date, &e.arn)))
    }

    /// Up to `wanted` events past `after` (an event id; none: from the first or the last event):
    /// with higher ids, oldest first, or with lower ids, newest first if `reverse`.
    async fn history_page(&self, arn: &str, page: &PageRequest) -> StoreResult<Page<StoredEvent>> {
        let after = page.after.as_deref().map(parse_event_position).transpose()?;
        let wanted = if page.limit == 0 { usize::MAX } else { page.limit + 1 };
        let Some(execution) = self.execution_id(arn).await? else {
            return Ok(paginate(std::iter::empty::<StoredEvent>(), page.limit, |e| event_position(e.id)));
        };
        let after_sql = after.map(|id| to_sql_int(id, "event id")).transpose()?;
        // Every step selected holds at least one event past `after`, so `wanted` steps are enough:
        // a page of a long history reads a page of steps, not the whole history.
        let steps = (page.limit != 0).then(|| i64::try_from(wanted).unwrap_or(i64::MAX));
        let rows = if page.reverse {
            self.query(
                "SELECT first_event, events FROM steps \
                 WHERE execution_id = $1 AND event_count > 0 AND first_event < $2 ORDER BY sequence DESC LIMIT $3",
                &[&execution, &after_sql.unwrap_or(i64::MAX), &steps],
            )
            .await?
        } else {
            self.query(
                "SELECT first_event, events FROM steps \
                 WHERE execution_id = $1 AND event_count > 0 AND first_event + event_count > $2 ORDER BY sequence LIMIT $3",
                &[&execution, &after_sql.unwrap_or(0), &steps],
            )
            .await?
        };
        let past = |id: u64| match after {
            Some(after) if page.reverse => id < after,
            Some(after) => id > after,
            None => true,
        };
        let mut items = Vec::new();
        for row in &rows {
            if items.len() >= wanted {
                break;
            }
            let first = from_sql_int(get(row, 0)?, "event id")?;
            let mut events: Vec<StoredEvent> =
                history_codec::decode(get(row, 1)?, first)?.iter().map(StoredEvent::render).collect();
            if page.reverse {
                events.reverse();
            }
            let room = wanted - items.len();
            items.extend(events.into_iter().filter(|event| past(event.id)).take(room));
        }
        Ok(paginate(items.into_iter(), page.limit, |e| event_position(e.id)))
    }
}

impl ExecutionStore for PostgresStore {
    fn create_execution(&self, record: &ExecutionRecord, start: &Append) -> StoreFuture<'_, Created> {
        let prepared =
            check_start(record, start).and_then(|()| Ok((record.clone(), start.clone(), encode_step(start)?)));
        Box::pin(async move {
            let (record, start, step) = prepared?;
            self.insert_execution(&record, &start, &step).await
        })
    }

    fn execution(&self, arn: &str) -> StoreFuture<'_, Option<ExecutionRecord>> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let sql = format!("SELECT {EXECUTION_COLUMNS} FROM {EXECUTIONS} WHERE e.arn = $1");
            self.query(&sql, &[&arn]).await?.first().map(execution).transpose()
        })
    }

    fn list_executions(&self, filter: &ExecutionFilter, page: &PageRequest) -> StoreFuture<'_, Page<ExecutionRecord>> {
        let (filter, page) = (filter.clone(), page.clone());
        Box::pin(async move { self.list_executions_page(&filter, &page).await })
    }

    fn execution_counts(&self) -> StoreFuture<'_, ExecutionCounts> {
        Box::pin(async move {
            let rows = self
                .query(
                    "SELECT COUNT(*) FILTER (WHERE wake_at IS NULL), COUNT(*) FILTER (WHERE wake_at IS NOT NULL) \
                     FROM executions WHERE status = 'RUNNING'",
                    &[],
                )
                .await?;
            let row = rows.first().ok_or(StoreError::Closed)?;
            let (running, parked): (i64, i64) = (get(row, 0)?, get(row, 1)?);
            Ok(ExecutionCounts { running: running.unsigned_abs(), parked: parked.unsigned_abs() })
        })
    }

    fn running_executions(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            // Matches the partial index `executions_running`, so it is used.
            let rows = self
                .query("SELECT arn FROM executions WHERE status = 'RUNNING' AND wake_at IS NULL ORDER BY arn", &[])
                .await?;
            rows.iter().map(|row| get(row, 0)).collect()
        })
    }

    fn park(&self, execution_arn: &str, parking: &Parking) -> StoreFuture<'_, ()> {
        let (arn, parking) = (execution_arn.to_owned(), parking.clone());
        Box::pin(async move { self.park_execution(&arn, &parking).await })
    }

    fn parking(&self, execution_arn: &str) -> StoreFuture<'_, Option<Parking>> {
        let arn = execution_arn.to_owned();
        Box::pin(async move {
            let rows =
                self.query("SELECT parking FROM executions WHERE arn = $1 AND wake_at IS NOT NULL", &[&arn]).await?;
            match rows.first() {
                Some(row) => get::<Option<&str>>(row, 0)?.map(|text| json(text, &arn)).transpose(),
                None => Ok(None),
            }
        })
    }

    fn execution_awaiting(&self, task_token: &str) -> StoreFuture<'_, Option<String>> {
        let token = task_token.to_owned();
        Box::pin(async move {
            self.query(
                "SELECT e.arn FROM awaited_tokens t JOIN executions e ON e.id = t.execution_id WHERE t.token = $1",
                &[&token],
            )
            .await?
            .first()
            .map(|row| get(row, 0))
            .transpose()
        })
    }

    fn due_executions(&self, now: Millis, limit: usize) -> StoreFuture<'_, Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Box::pin(async move {
            let rows = self
                .query(
                    "SELECT arn FROM executions WHERE wake_at IS NOT NULL AND wake_at <= $1 ORDER BY wake_at LIMIT $2",
                    &[&now, &limit],
                )
                .await?;
            rows.iter().map(|row| get(row, 0)).collect()
        })
    }

    fn next_wake(&self) -> StoreFuture<'_, Option<Millis>> {
        Box::pin(async move {
            let rows = self.query("SELECT MIN(wake_at) FROM executions WHERE wake_at IS NOT NULL", &[]).await?;
            let earliest: Option<Millis> = match rows.first() {
                Some(row) => get(row, 0)?,
                None => None,
            };
            Ok(earliest.filter(|at| *at != Millis::MAX))
        })
    }
}

impl JournalStore for PostgresStore {
    fn append(&self, append: Append) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let step = encode_step(&append)?;
            self.insert_append(append, step).await
        })
    }

    fn redrive(&self, append: Append, redrive: Redrive) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let step = encode_step(&append)?;
            self.insert_redrive(append, redrive, step).await
        })
    }

    fn journal(&self, execution_arn: &str) -> StoreFuture<'_, Vec<JournalEntry>> {
        let arn = execution_arn.to_owned();
        Box::pin(async move {
            let rows = self
                .query(
                    "SELECT s.entry FROM steps s JOIN executions e ON e.id = s.execution_id \
                     WHERE e.arn = $1 ORDER BY s.sequence",
                    &[&arn],
                )
                .await?;
            rows.iter().map(|row| json(get(row, 0)?, &arn)).collect()
        })
    }

    fn history(&self, execution_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<StoredEvent>> {
        let (arn, page) = (execution_arn.to_owned(), page.clone());
        Box::pin(async move { self.history_page(&arn, &page).await })
    }
}
