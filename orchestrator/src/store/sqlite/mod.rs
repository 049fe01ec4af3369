//! The SQLite store: the embedded, durable default.
//!
//! # Threads and connections
//!
//! One dedicated *writer thread* owns the only connection that writes. Every write (an append, a
//! new execution, a lease, a state machine) is sent to it as a job with a reply channel. The
//! writer blocks for one job, then takes whatever else is queued (up to [`MAX_BATCH`]), applies
//! them all in one transaction, commits once and only then replies to every waiter: this is
//! *group commit*. With `synchronous = FULL` a commit is one fsync of the write-ahead log, so
//! under load one fsync makes many executions' steps durable, and nobody hears "done" before
//! their data is on disk.
//!
//! Each job runs inside its own SAVEPOINT, so a failing job (a journal sequence another node
//! already wrote, say) is rolled back alone and told its error; its neighbours still commit.
//!
//! Reads use a small pool of separate connections. In WAL mode a reader sees the last committed
//! state and is never blocked by the writer, nor does it block it.
//!
//! # Tables
//!
//! An execution is one row of `executions`, pointing at its definition in `definitions` (each
//! distinct text once), and one row of `steps` per interpreter step: its journal entry and its
//! history events, encoded by `history_codec` with each document once. `schema` holds the
//! migrations that bring an older database up to date.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use tokio::sync::oneshot;

mod bindings;
mod callbacks;
mod executions;
mod functions;
mod queues;
mod schema;
mod versions;

use super::encoding::{from_sql_int, json, to_sql_int};
use super::memory::{name_position, paginate, parse_name_position};
use super::{
    ActivityRecord, ActivityStore, LeaseStore, MachineType, Millis, Page, PageRequest, StateMachineRecord,
    StateMachineStore, StoreError, StoreFuture, StoreResult, ready,
};

/// How many queued writes the writer takes into one transaction at most. Bigger batches mean
/// fewer fsyncs but a longer wait for the first writer in the batch.
const MAX_BATCH: usize = 512;

/// How long a connection waits for a lock held by another process (or, for the in-memory
/// variant, by the writer) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many idle read connections are kept; more are opened on demand and closed after use.
const IDLE_READERS: usize = 8;

/// The durable store in one SQLite file.
///
/// Writes go to a dedicated writer thread that batches them (group commit, see the module
/// docs). Appends, parkings and leases resolve when their batch commits; the rarer writes
/// (`create_state_machine`, tags, activities) wait for their commit before they return their
/// future, typically one fsync. Reads are answered from a reader connection before the future
/// is returned: SQLite's page cache makes them too short to be worth a thread switch. Reads never
/// wait for the writer. Dropping the store lets the writer commit what is already queued, then
/// stops it.
pub struct SqliteStore {
    /// The writer's queue; `None` once dropping has begun.
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    writer: Option<JoinHandle<()>>,
    readers: Readers,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("database", &self.readers.target).finish_non_exhaustive()
    }
}

/// Counters the writer keeps, to show how well group commit batches.
#[derive(Debug, Default)]
struct Stats {
    transactions: AtomicU64,
    writes: AtomicU64,
}

/// Where the database is.
#[derive(Debug, Clone)]
enum Target {
    File(PathBuf),
    /// A `memdb` VFS URI: a database in memory shared by this process's connections to it.
    Memory(String),
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and its parent directory, brings the
    /// schema up to date, and starts the writer thread.
    ///
    /// Fails with [`StoreError::SchemaTooNew`] if a newer stepwasm has written the database.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io { path: parent.to_path_buf(), source })?;
        }
        Self::start(Target::File(path.to_path_buf()))
    }

    /// A database in memory, gone when the store is dropped: for tests that want the SQLite
    /// code paths without a file. It has no write-ahead log, so readers may briefly wait for a
    /// commit (up to the busy timeout) instead of reading past it.
    pub fn open_in_memory() -> StoreResult<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // A name starting with "/" makes the memdb database shared by every connection that
        // opens it in this process; it lives as long as one of them (the writer's) is open.
        Self::start(Target::Memory(format!("file:/stepwasm-{}-{n}?vfs=memdb", std::process::id())))
    }

    fn start(target: Target) -> StoreResult<Self> {
        let mut conn = open_connection(&target)?;
        if matches!(target, Target::File(_)) {
            // WAL lets readers run beside the writer, and makes a commit one sequential append
            // to the log. It is a property of the file, so setting it once here is enough.
            let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Refused(format!(
                    "the database cannot use a write-ahead log (journal mode stayed {mode:?})"
                )));
            }
        }
        schema::migrate(&mut conn)?;
        let stats = Arc::new(Stats::default());
        let (jobs, queue) = mpsc::channel();
        let writer_stats = Arc::clone(&stats);
        let writer = std::thread::Builder::new()
            .name("stepwasm-store-writer".into())
            .spawn(move || run_writer(&conn, &queue, &writer_stats))
            .map_err(|source| StoreError::Io { path: target_path(&target), source })?;
        Ok(Self {
            jobs: Some(jobs),
            writer: Some(writer),
            readers: Readers { target, idle: Mutex::new(Vec::new()) },
            stats,
        })
    }

    /// How many transactions the writer has committed since the store was opened. With
    /// [`writes`](Self::writes) it shows how many writes share one commit (one fsync).
    pub fn transactions(&self) -> u64 {
        self.stats.transactions.load(Ordering::Relaxed)
    }

    /// How many writes (appends, creations, lease and state-machine changes) the writer has
    /// applied since the store was opened, successful or not.
    pub fn writes(&self) -> u64 {
        self.stats.writes.load(Ordering::Relaxed)
    }

    /// Queues a write; the reply arrives once its batch has committed (or failed).
    fn submit<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        reply: Reply<T>,
    ) {
        let job: Box<dyn Job> = Box::new(Work { op: Some(op), result: None, reply });
        let Some(jobs) = &self.jobs else { return job.reply() };
        if let Err(mpsc::SendError(job)) = jobs.send(job) {
            // The writer has stopped: replying with no result reports `Closed`.
            job.reply();
        }
    }

    /// Runs a write and blocks the calling thread until it is durable.
    fn write<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        // A std channel, not a oneshot: `blocking_recv` panics inside a tokio runtime, and these
        // synchronous trait methods are called from async handlers.
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(op, Reply::Blocking(tx));
        rx.recv().unwrap_or(Err(StoreError::Closed))
    }

    /// Queues a write now (so writes keep the order of the calls) and returns a future that
    /// resolves when it is durable. Dropping the future does not cancel the write.
    fn write_async<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let (tx, rx) = oneshot::channel();
        self.submit(op, Reply::Async(tx));
        Box::pin(async move { rx.await.unwrap_or(Err(StoreError::Closed)) })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has committed what is already queued, so
        // nothing a caller was promised is lost; then wait for it so the file is closed cleanly.
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn target_path(target: &Target) -> PathBuf {
    match target {
        Target::File(path) => path.clone(),
        Target::Memory(uri) => PathBuf::from(uri),
    }
}

/// Opens a connection with the settings every connection needs.
fn open_connection(target: &Target) -> StoreResult<Connection> {
    let conn = match target {
        Target::File(path) => Connection::open(path),
        Target::Memory(uri) => Connection::open_with_flags(uri, OpenFlags::default()),
    }
    .map_err(|e| StoreError::database(format!("cannot open {}", target_path(target).display()), e))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // One plan per statement, whatever its parameters. Without this, a statement whose bound value
    // the planner compared with a partial index's condition is compiled again every time it is
    // bound to a new value: SendTaskSuccess to a parked execution spent a sixth of its time in
    // SQLite's parser.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // FULL: a commit has reached the disk when it returns. NORMAL would be faster in WAL mode
    // but can lose the last commits on power loss, and we acknowledge appends on commit.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::database("a query failed", error)
    }
}

// ---------------------------------------------------------------------------------------------
// The writer.

/// One queued write, type-erased so writes of every result type share one queue.
trait Job: Send {
    /// Runs the write on the writer's connection, inside a savepoint; `true` if it succeeded.
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Replaces a success with `error`: the transaction it was part of did not commit.
    fn fail(&mut self, error: StoreError);
    /// Sends the outcome to the waiter; with no outcome, that is [`StoreError::Closed`].
    fn reply(self: Box<Self>);
}

/// Where a write's outcome goes.
enum Reply<T> {
    Async(oneshot::Sender<StoreResult<T>>),
    Blocking(mpsc::SyncSender<StoreResult<T>>),
}

/// A write and its outcome: `op` runs once, its result waits for the commit before it is sent.
struct Work<T, F> {
    op: Option<F>,
    result: Option<StoreResult<T>>,
    reply: Reply<T>,
}

impl<T: Send, F: FnOnce(&Connection) -> StoreResult<T> + Send> Job for Work<T, F> {
    fn apply(&mut self, conn: &Connection) -> bool {
        let Some(op) = self.op.take() else { return false };
        let result = op(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn fail(&mut self, error: StoreError) {
        if !matches!(self.result, Some(Err(_))) {
            self.result = Some(Err(error));
        }
    }

    fn reply(self: Box<Self>) {
        let result = self.result.unwrap_or(Err(StoreError::Closed));
        // A waiter that went away (a dropped future) does not care; the write stands.
        match self.reply {
            Reply::Async(tx) => drop(tx.send(result)),
            Reply::Blocking(tx) => drop(tx.send(result)),
        }
    }
}

/// The writer thread: batch, apply, commit, reply, until the store is dropped.
fn run_writer(conn: &Connection, queue: &mpsc::Receiver<Box<dyn Job>>, stats: &Stats) {
    // `recv` keeps returning queued jobs after the store dropped its sender, so everything
    // queued before the drop is still written.
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        stats.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let started = std::time::Instant::now();
        commit_batch(conn, &mut batch, stats);
        crate::metrics::global().store_committed("sqlite", batch.len(), started.elapsed());
        for job in batch {
            job.reply();
        }
    }
}

/// Applies a batch in one transaction, each job in its own savepoint, and commits it.
fn commit_batch(conn: &Connection, batch: &mut [Box<dyn Job>], stats: &Stats) {
    // Each job gets the error, and rusqlite's error is not `Clone`: they share its text.
    let fail_all = |jobs: &mut [Box<dyn Job>], what: &str, error: &rusqlite::Error| {
        for job in jobs {
            job.fail(StoreError::database(what, std::io::Error::other(error.to_string())));
        }
    };
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return fail_all(batch, "starting a write transaction failed", &e);
    }
    // The jobs from `open` on are in the open transaction.
    let mut open = 0;
    for i in 0..batch.len() {
        // Cached statements: parsing these once per job was a measurable share of the writer.
        if let Err(e) = conn.prepare_cached("SAVEPOINT job").and_then(|mut savepoint| savepoint.execute([])) {
            batch[i].fail(StoreError::database("starting a savepoint failed", e));
            continue;
        }
        if batch[i].apply(conn) {
            if let Err(e) = conn.prepare_cached("RELEASE job").and_then(|mut release| release.execute([])) {
                batch[i].fail(StoreError::database("releasing a savepoint failed", e));
            }
        } else if conn.is_autocommit() {
            // Some errors (a full disk, an I/O error) make SQLite roll back the whole
            // transaction, taking the earlier jobs' writes with it: fail those, start afresh.
            for job in &mut batch[open..i] {
                job.fail(StoreError::Refused(
                    "a write failed and rolled back the transaction this write was part of".into(),
                ));
            }
            open = i + 1;
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                return fail_all(&mut batch[open..], "starting a write transaction failed", &e);
            }
        } else if let Err(e) = conn.execute_batch("ROLLBACK TO job; RELEASE job") {
            batch[i].fail(StoreError::database("rolling back a savepoint failed", e));
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            stats.transactions.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            fail_all(&mut batch[open..], "committing failed, so this write was not saved", &e);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reads.

/// A pool of read connections, opened on demand.
struct Readers {
    target: Target,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn with<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = open_connection(&self.target)?;
                // A guard: a read path must never write behind the writer's back.
                conn.pragma_update(None, "query_only", true)?;
                conn
            }
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

// ---------------------------------------------------------------------------------------------
// Rows.

const STATE_MACHINE_COLUMNS: &str = "arn, name, definition, role_arn, machine_type, created, updated, \
     revision_id, logging_configuration, tracing_configuration";

fn state_machine_row(row: &Row<'_>) -> rusqlite::Result<StoredMachine> {
    Ok(StoredMachine {
        arn: row.get(0)?,
        name: row.get(1)?,
        definition: row.get(2)?,
        role_arn: row.get(3)?,
        machine_type: row.get(4)?,
        created: row.get(5)?,
        updated: row.get(6)?,
        revision_id: row.get(7)?,
        logging_configuration: row.get(8)?,
        tracing_configuration: row.get(9)?,
    })
}

/// A state machine row before its text columns are decoded (decoding errors are ours, not
/// rusqlite's, so they are reported as [`StoreError::Corrupt`]).
struct StoredMachine {
    arn: String,
    name: String,
    definition: String,
    role_arn: String,
    machine_type: String,
    created: Millis,
    updated: Millis,
    revision_id: String,
    logging_configuration: String,
    tracing_configuration: String,
}

impl StoredMachine {
    fn decode(self) -> StoreResult<StateMachineRecord> {
        let machine_type = match self.machine_type.as_str() {
            "STANDARD" => MachineType::Standard,
            "EXPRESS" => MachineType::Express,
            other => return Err(StoreError::Corrupt(format!("state machine {}: type {other:?}", self.arn))),
        };
        Ok(StateMachineRecord {
            logging_configuration: json(&self.logging_configuration, &self.arn)?,
            tracing_configuration: json(&self.tracing_configuration, &self.arn)?,
            arn: self.arn,
            name: self.name,
            definition: self.definition,
            role_arn: self.role_arn,
            machine_type,
            created: self.created,
            updated: self.updated,
            revision_id: self.revision_id,
        })
    }
}

/// The state machine with this ARN, read on `conn`.
fn state_machine_in(conn: &Connection, arn: &str) -> StoreResult<Option<StateMachineRecord>> {
    conn.prepare_cached(&format!("SELECT {STATE_MACHINE_COLUMNS} FROM state_machines WHERE arn = ?1"))?
        .query_row([arn], state_machine_row)
        .optional()?
        .map(StoredMachine::decode)
        .transpose()
}

/// SQLite's `LIMIT` for a page: one more than asked, to learn whether another page follows;
/// -1 (no limit) for a limit of 0.
fn sql_limit(limit: usize) -> i64 {
    if limit == 0 { -1 } else { i64::try_from(limit).map_or(-1, |l| l.saturating_add(1)) }
}

// ---------------------------------------------------------------------------------------------
// Writes (run on the writer thread).

fn upsert_state_machine(conn: &Connection, record: &StateMachineRecord, create: bool) -> StoreResult<bool> {
    let sql = if create {
        format!(
            "INSERT INTO state_machines ({STATE_MACHINE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (arn) DO NOTHING"
        )
    } else {
        "UPDATE state_machines SET name = ?2, definition = ?3, role_arn = ?4, machine_type = ?5, created = ?6, \
         updated = ?7, revision_id = ?8, logging_configuration = ?9, tracing_configuration = ?10 WHERE arn = ?1"
            .to_owned()
    };
    let changed = conn.prepare_cached(&sql)?.execute(params![
        record.arn,
        record.name,
        record.definition,
        record.role_arn,
        record.machine_type.as_str(),
        record.created,
        record.updated,
        record.revision_id,
        record.logging_configuration.to_string(),
        record.tracing_configuration.to_string(),
    ])?;
    Ok(changed == 1)
}

// ---------------------------------------------------------------------------------------------
// The traits.

impl StateMachineStore for SqliteStore {
    fn create_state_machine(&self, record: &StateMachineRecord) -> StoreFuture<'_, bool> {
        ready({
            let record = record.clone();
            self.write(move |conn| upsert_state_machine(conn, &record, true))
        })
    }

    fn update_state_machine(&self, record: &StateMachineRecord) -> StoreFuture<'_, bool> {
        ready({
            let record = record.clone();
            self.write(move |conn| upsert_state_machine(conn, &record, false))
        })
    }

    fn state_machine(&self, arn: &str) -> StoreFuture<'_, Option<StateMachineRecord>> {
        ready(self.state_machine_blocking(arn))
    }

    fn list_state_machines(&self, page: &PageRequest) -> StoreFuture<'_, Page<StateMachineRecord>> {
        ready(self.list_state_machines_blocking(page))
    }

    fn delete_state_machine(&self, arn: &str) -> StoreFuture<'_, bool> {
        ready(self.delete_state_machine_blocking(arn))
    }

    fn tag_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> StoreFuture<'_, ()> {
        ready(self.tag_resource_blocking(arn, tags))
    }

    fn untag_resource(&self, arn: &str, keys: &[String]) -> StoreFuture<'_, ()> {
        ready(self.untag_resource_blocking(arn, keys))
    }

    fn tags(&self, arn: &str) -> StoreFuture<'_, BTreeMap<String, String>> {
        ready(self.tags_blocking(arn))
    }
}

/// Lists a table ordered by (name, ARN), from `page.after` on, `limit + 1` rows.
fn list_by_name<T>(
    conn: &Connection,
    table: &str,
    columns: &str,
    page: &PageRequest,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let (direction, compare) = if page.reverse { ("DESC", "<") } else { ("ASC", ">") };
    let after = page.after.as_deref().map(parse_name_position).transpose()?;
    let (filter, args) = match after {
        Some((name, arn)) => {
            (format!("WHERE (name, arn) {compare} (?2, ?3)"), vec![SqlValue::Text(name), SqlValue::Text(arn)])
        }
        None => (String::new(), Vec::new()),
    };
    let sql = format!("SELECT {columns} FROM {table} {filter} ORDER BY name {direction}, arn {direction} LIMIT ?1");
    let mut query = conn.prepare_cached(&sql)?;
    let params = std::iter::once(SqlValue::Integer(sql_limit(page.limit))).chain(args);
    let rows = query.query_map(rusqlite::params_from_iter(params), row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl LeaseStore for SqliteStore {
    fn claim(&self, execution_arn: &str, owner: &str, now: Millis, ttl_millis: i64) -> StoreFuture<'_, bool> {
        let (arn, owner) = (execution_arn.to_owned(), owner.to_owned());
        self.write_async(move |conn| {
            // One statement, so the check and the take cannot be split by another writer (this
            // matters for a shared PostgreSQL store; the same UPSERT works there).
            let changed = conn
                .prepare_cached(
                    "INSERT INTO leases (execution_arn, owner, expires) VALUES (?1, ?2, ?3 + ?4) \
                     ON CONFLICT (execution_arn) DO UPDATE SET owner = excluded.owner, expires = excluded.expires \
                     WHERE leases.owner = excluded.owner OR leases.expires <= ?3",
                )?
                .execute(params![arn, owner, now, ttl_millis])?;
            Ok(changed == 1)
        })
    }

    fn renew_all(&self, owner: &str, now: Millis, ttl_millis: i64) -> StoreFuture<'_, Vec<String>> {
        let owner = owner.to_owned();
        // A lapsed lease that nobody took over is renewed too: no other node has worked on it,
        // and one that did would have changed its owner.
        self.write_async(move |conn| {
            let mut statement =
                conn.prepare_cached("UPDATE leases SET expires = ?2 + ?3 WHERE owner = ?1 RETURNING execution_arn")?;
            let mut renewed = statement
                .query_map(params![owner, now, ttl_millis], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            renewed.sort_unstable();
            Ok(renewed)
        })
    }

    fn release(&self, execution_arn: &str, owner: &str) -> StoreFuture<'_, ()> {
        let (arn, owner) = (execution_arn.to_owned(), owner.to_owned());
        self.write_async(move |conn| {
            conn.prepare_cached("DELETE FROM leases WHERE execution_arn = ?1 AND owner = ?2")?
                .execute(params![arn, owner])?;
            Ok(())
        })
    }
}

impl ActivityStore for SqliteStore {
    fn create_activity(&self, record: &ActivityRecord) -> StoreFuture<'_, ActivityRecord> {
        ready(self.create_activity_blocking(record))
    }

    fn activity(&self, arn: &str) -> StoreFuture<'_, Option<ActivityRecord>> {
        ready(self.activity_blocking(arn))
    }

    fn list_activities(&self, page: &PageRequest) -> StoreFuture<'_, Page<ActivityRecord>> {
        ready(self.list_activities_blocking(page))
    }

    fn delete_activity(&self, arn: &str) -> StoreFuture<'_, bool> {
        ready(self.delete_activity_blocking(arn))
    }
}

fn activity_row(row: &Row<'_>) -> rusqlite::Result<ActivityRecord> {
    Ok(ActivityRecord { arn: row.get(0)?, name: row.get(1)?, created: row.get(2)? })
}

/// The stores' answers, computed on the calling thread; the trait methods wrap them in ready futures.
impl SqliteStore {
    fn state_machine_blocking(&self, arn: &str) -> StoreResult<Option<StateMachineRecord>> {
        self.readers.with(|conn| state_machine_in(conn, arn))
    }

    fn list_state_machines_blocking(&self, page: &PageRequest) -> StoreResult<Page<StateMachineRecord>> {
        let rows = self
            .readers
            .with(|conn| list_by_name(conn, "state_machines", STATE_MACHINE_COLUMNS, page, state_machine_row))?;
        let items = rows.into_iter().map(StoredMachine::decode).collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items.into_iter(), page.limit, |m| name_position(&m.name, &m.arn)))
    }

    fn delete_state_machine_blocking(&self, arn: &str) -> StoreResult<bool> {
        let arn = arn.to_owned();
        self.write(move |conn| {
            // A deleted resource's tags, versions and aliases go with it, as on AWS; its
            // executions stay.
            conn.prepare_cached("DELETE FROM tags WHERE arn = ?1")?.execute([&arn])?;
            versions::delete_versions_and_aliases(conn, &arn)?;
            Ok(conn.prepare_cached("DELETE FROM state_machines WHERE arn = ?1")?.execute([&arn])? == 1)
        })
    }

    fn tag_resource_blocking(&self, arn: &str, tags: &BTreeMap<String, String>) -> StoreResult<()> {
        let arn = arn.to_owned();
        let tags = tags.clone();
        self.write(move |conn| {
            let mut upsert = conn.prepare_cached(
                "INSERT INTO tags (arn, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
            )?;
            for (key, value) in &tags {
                upsert.execute(params![arn, key, value])?;
            }
            Ok(())
        })
    }

    fn untag_resource_blocking(&self, arn: &str, keys: &[String]) -> StoreResult<()> {
        let arn = arn.to_owned();
        let keys = keys.to_vec();
        self.write(move |conn| {
            let mut delete = conn.prepare_cached("DELETE FROM tags WHERE arn = ?1 AND key = ?2")?;
            for key in &keys {
                delete.execute(params![arn, key])?;
            }
            Ok(())
        })
    }

    fn tags_blocking(&self, arn: &str) -> StoreResult<BTreeMap<String, String>> {
        self.readers.with(|conn| {
            let mut query = conn.prepare_cached("SELECT key, value FROM tags WHERE arn = ?1")?;
            let rows = query.query_map([arn], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn create_activity_blocking(&self, record: &ActivityRecord) -> StoreResult<ActivityRecord> {
        let record = record.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO activities (arn, name, created) VALUES (?1, ?2, ?3) ON CONFLICT (arn) DO NOTHING",
            )?
            .execute(params![record.arn, record.name, record.created])?;
            Ok(conn
                .prepare_cached("SELECT arn, name, created FROM activities WHERE arn = ?1")?
                .query_row([&record.arn], activity_row)?)
        })
    }

    fn activity_blocking(&self, arn: &str) -> StoreResult<Option<ActivityRecord>> {
        self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT arn, name, created FROM activities WHERE arn = ?1")?
                .query_row([arn], activity_row)
                .optional()?)
        })
    }

    fn list_activities_blocking(&self, page: &PageRequest) -> StoreResult<Page<ActivityRecord>> {
        let items =
            self.readers.with(|conn| list_by_name(conn, "activities", "arn, name, created", page, activity_row))?;
        Ok(paginate(items.into_iter(), page.limit, |a| name_position(&a.name, &a.arn)))
    }

    fn delete_activity_blocking(&self, arn: &str) -> StoreResult<bool> {
        let arn = arn.to_owned();
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM tags WHERE arn = ?1")?.execute([&arn])?;
            Ok(conn.prepare_cached("DELETE FROM activities WHERE arn = ?1")?.execute([&arn])? == 1)
        })
    }
}
