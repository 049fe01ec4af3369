//! Group commit: the appends of many executions share one transaction, so one commit (one WAL
//! flush) makes them all durable.
//!
//! Appends wait in a queue. A few writer tasks each take what is queued (up to [`MAX_BATCH`]),
//! send one `stepwasm_append` call per step down one connection without waiting between them
//! (tokio-postgres pipelines them), commit once, and only then answer each waiter. A refused step
//! (another node wrote it first) is a row, not an error, so it does not spoil its batch; a batch
//! that fails as a whole is retried one step at a time, so each waiter hears about its own step.

use std::sync::Arc;

use deadpool_postgres::Pool;
use futures_util::future::join_all;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_postgres::types::ToSql;

use super::super::memory::{check_append, no_execution};
use super::super::{Append, StoreError, StoreResult};
use super::{failed, from_sql_int, get};

/// How many steps one transaction takes at most.
const MAX_BATCH: usize = 256;

/// How many batches may be in flight at once, each on its own connection.
pub(super) const WRITERS: usize = 4;

const APPEND: &str = "SELECT written, next_sequence, next_event \
     FROM stepwasm_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// One step, encoded, and who waits for it.
pub(super) struct PendingAppend {
    pub(super) append: Append,
    pub(super) sequence: i64,
    pub(super) first_event: i64,
    pub(super) event_count: i64,
    pub(super) entry: String,
    pub(super) events: String,
    /// The completion's columns, when the step ends the execution.
    pub(super) status: Option<&'static str>,
    pub(super) stop_date: Option<i64>,
    pub(super) reply: oneshot::Sender<StoreResult<()>>,
}

impl PendingAppend {
    fn params(&self) -> [&(dyn ToSql + Sync); 11] {
        let completion = self.append.completion.as_ref();
        [
            &self.append.execution_arn,
            &self.sequence,
            &self.first_event,
            &self.event_count,
            &self.entry,
            &self.events,
            &self.status,
            completion.map_or(&NO_TEXT, |c| &c.output),
            completion.map_or(&NO_TEXT, |c| &c.error),
            completion.map_or(&NO_TEXT, |c| &c.cause),
            &self.stop_date,
        ]
    }
}

static NO_TEXT: Option<String> = None;

/// Starts the writers; appends sent to the returned queue are committed in groups.
pub(super) fn start(pool: &Pool) -> mpsc::UnboundedSender<PendingAppend> {
    let (queue, pending) = mpsc::unbounded_channel();
    let pending = Arc::new(Mutex::new(pending));
    for _ in 0..WRITERS {
        tokio::spawn(writer(pool.clone(), Arc::clone(&pending)));
    }
    queue
}

async fn writer(pool: Pool, pending: Arc<Mutex<mpsc::UnboundedReceiver<PendingAppend>>>) {
    loop {
        let batch = {
            let mut pending = pending.lock().await;
            let Some(first) = pending.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match pending.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let started = std::time::Instant::now();
        let committed = commit(&pool, &batch).await;
        crate::metrics::global().store_committed("postgres", batch.len(), started.elapsed());
        match committed {
            Ok(outcomes) => {
                for (append, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = append.reply.send(outcome);
                }
            }
            Err(_) => {
                // Something failed the whole transaction: give each step its own, so only the
                // step at fault is told it failed.
                for append in batch {
                    let outcome = match commit(&pool, std::slice::from_ref(&append)).await {
                        Ok(mut outcomes) => outcomes.pop().unwrap_or(Err(StoreError::Closed)),
                        Err(error) => Err(error),
                    };
                    let _ = append.reply.send(outcome);
                }
            }
        }
    }
}

/// Writes `batch` in one transaction; the outcome of each step, once committed.
async fn commit(pool: &Pool, batch: &[PendingAppend]) -> StoreResult<Vec<StoreResult<()>>> {
    let mut client = pool.get().await.map_err(|e| StoreError::database("connecting to PostgreSQL", e))?;
    if let [single] = batch {
        // Alone, a step is its own statement's transaction: no BEGIN and COMMIT round trips.
        let statement = client.prepare_cached(APPEND).await.map_err(failed("preparing a statement"))?;
        let row = client.query_one(&statement, &single.params()).await.map_err(failed("appending a step"))?;
        return Ok(vec![outcome(&single.append, &row)?]);
    }
    let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
    let statement = tx.prepare_cached(APPEND).await.map_err(failed("preparing a statement"))?;
    let params: Vec<_> = batch.iter().map(PendingAppend::params).collect();
    let rows = join_all(params.iter().map(|params| tx.query_one(&statement, params))).await;
    let mut outcomes = Vec::with_capacity(batch.len());
    for (append, row) in batch.iter().zip(rows) {
        let row = row.map_err(failed("appending a step"))?;
        outcomes.push(outcome(&append.append, &row)?);
    }
    tx.commit().await.map_err(failed("committing steps"))?;
    Ok(outcomes)
}

/// What `stepwasm_append` said about `append`: written, or why not.
fn outcome(append: &Append, row: &tokio_postgres::Row) -> StoreResult<StoreResult<()>> {
    if get::<bool>(row, 0)? {
        return Ok(Ok(()));
    }
    let arn = &append.execution_arn;
    let (Some(next_sequence), Some(next_event)) = (get::<Option<i64>>(row, 1)?, get::<Option<i64>>(row, 2)?) else {
        return Ok(Err(no_execution(arn)));
    };
    let refusal = check_append(append, from_sql_int(next_sequence, "sequence")?, from_sql_int(next_event, "event id")?)
        .err()
        .unwrap_or_else(|| StoreError::Corrupt(format!("execution {arn}: a step that continues it was not written")));
    Ok(Err(refusal))
}
