//! The PostgreSQL store: one database shared by several nodes.
//!
//! # Connections
//!
//! A pool of connections (deadpool), each with its prepared statements cached. Appends are
//! group-committed (`group_commit`): many executions' steps share one transaction. Each step is
//! one call of the `stepwasm_append` function, which locks its execution's row first
//! (`FOR UPDATE`), so two nodes that both believe they drive an execution cannot both write its
//! next step: the second finds the step taken and is told so, exactly as on SQLite. Other writes
//! are one transaction each. Leases are single `INSERT … ON CONFLICT` statements, so a claim is
//! atomic without a lock.
//!
//! # Tables
//!
//! The layout is SQLite's (see `schema`); the store suite runs against both.

mod bindings;
mod callbacks;
mod executions;
mod functions;
mod group_commit;
mod queues;
mod schema;
#[cfg(any(test, feature = "postgres-test-server"))]
// Public for the `testing` module, which only the feature builds.
#[cfg_attr(not(feature = "postgres-test-server"), allow(unreachable_pub))]
pub(crate) mod test_server;
mod versions;

use std::collections::BTreeMap;

use deadpool_postgres::{Client, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, ToSql};

use super::encoding::{from_sql_int, json, to_sql_int};
use super::memory::{name_position, paginate, parse_name_position};
use super::{
    ActivityRecord, ActivityStore, LeaseStore, MachineType, Millis, Page, PageRequest, StateMachineRecord,
    StateMachineStore, StoreError, StoreFuture, StoreResult,
};

/// Connections kept open to the database: the group-commit writers' and the rest's.
const POOL_SIZE: usize = 16 + group_commit::WRITERS;

/// The durable store in a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// For connections outside the pool: the signal watch's.
    config: tokio_postgres::Config,
    /// Appends waiting for their group's commit.
    appends: tokio::sync::mpsc::UnboundedSender<group_commit::PendingAppend>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("pool", &self.pool.status()).finish()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// brings its schema up to date.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Refused(format!("{url:?} is not a PostgreSQL connection string: {e}")))?;
        let manager = Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Refused(format!("a connection pool for {url:?} cannot be built: {e}")))?;
        schema::migrate(&mut pool.get().await.map_err(|e| StoreError::database("connecting to PostgreSQL", e))?)
            .await?;
        let appends = group_commit::start(&pool);
        Ok(Self { pool, config, appends })
    }

    async fn client(&self) -> StoreResult<Client> {
        self.pool.get().await.map_err(|e| StoreError::database("connecting to PostgreSQL", e))
    }

    /// Runs one statement and returns how many rows it changed.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(failed("preparing a statement"))?;
        client.execute(&statement, params).await.map_err(failed("a write"))
    }

    /// Runs one query.
    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(failed("preparing a statement"))?;
        client.query(&statement, params).await.map_err(failed("a query"))
    }
}

/// Wraps a database error with what the store was doing.
fn failed(what: &str) -> impl FnOnce(tokio_postgres::Error) -> StoreError + '_ {
    move |error| StoreError::database(what, error)
}

/// Column `index` of `row`, or an error naming it: a type that does not match is corruption,
/// never a panic.
fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> StoreResult<T> {
    row.try_get(index).map_err(|e| StoreError::Corrupt(format!("column {index}: {e}")))
}

/// PostgreSQL's `LIMIT` for a page: one more than asked, to learn whether another page follows;
/// `None` (no limit) for a limit of 0.
fn sql_limit(limit: usize) -> Option<i64> {
    (limit != 0).then(|| i64::try_from(limit).map_or(i64::MAX, |l| l.saturating_add(1)))
}

const STATE_MACHINE_COLUMNS: &str = "arn, name, definition, role_arn, machine_type, created, updated, \
     revision_id, logging_configuration, tracing_configuration";

fn state_machine(row: &Row) -> StoreResult<StateMachineRecord> {
    let arn: String = get(row, 0)?;
    let machine_type = match get::<&str>(row, 4)? {
        "STANDARD" => MachineType::Standard,
        "EXPRESS" => MachineType::Express,
        other => return Err(StoreError::Corrupt(format!("state machine {arn}: type {other:?}"))),
    };
    Ok(StateMachineRecord {
        name: get(row, 1)?,
        definition: get(row, 2)?,
        role_arn: get(row, 3)?,
        machine_type,
        created: get(row, 5)?,
        updated: get(row, 6)?,
        revision_id: get(row, 7)?,
        logging_configuration: json(get(row, 8)?, &arn)?,
        tracing_configuration: json(get(row, 9)?, &arn)?,
        arn,
    })
}

impl PostgresStore {
    async fn upsert_state_machine(&self, record: &StateMachineRecord, create: bool) -> StoreResult<bool> {
        let sql = if create {
            format!(
                "INSERT INTO state_machines ({STATE_MACHINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (arn) DO NOTHING"
            )
        } else {
            "UPDATE state_machines SET name = $2, definition = $3, role_arn = $4, machine_type = $5, created = $6, \
             updated = $7, revision_id = $8, logging_configuration = $9, tracing_configuration = $10 WHERE arn = $1"
                .to_owned()
        };
        let changed = self
            .execute(
                &sql,
                &[
                    &record.arn,
                    &record.name,
                    &record.definition,
                    &record.role_arn,
                    &record.machine_type.as_str(),
                    &record.created,
                    &record.updated,
                    &record.revision_id,
                    &record.logging_configuration.to_string(),
                    &record.tracing_configuration.to_string(),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// A table ordered by (name, ARN), from `page.after` on, `limit + 1` rows.
    async fn list_by_name(&self, table: &str, columns: &str, page: &PageRequest) -> StoreResult<Vec<Row>> {
        let (direction, compare) = if page.reverse { ("DESC", "<") } else { ("ASC", ">") };
        let limit = sql_limit(page.limit);
        match page.after.as_deref().map(parse_name_position).transpose()? {
            Some((name, arn)) => {
                let sql = format!(
                    "SELECT {columns} FROM {table} WHERE (name, arn) {compare} ($2, $3) \
                     ORDER BY name {direction}, arn {direction} LIMIT $1"
                );
                self.query(&sql, &[&limit, &name, &arn]).await
            }
            None => {
                let sql = format!("SELECT {columns} FROM {table} ORDER BY name {direction}, arn {direction} LIMIT $1");
                self.query(&sql, &[&limit]).await
            }
        }
    }
}

impl StateMachineStore for PostgresStore {
    fn create_state_machine(&self, record: &StateMachineRecord) -> StoreFuture<'_, bool> {
        let record = record.clone();
        Box::pin(async move { self.upsert_state_machine(&record, true).await })
    }

    fn update_state_machine(&self, record: &StateMachineRecord) -> StoreFuture<'_, bool> {
        let record = record.clone();
        Box::pin(async move { self.upsert_state_machine(&record, false).await })
    }

    fn state_machine(&self, arn: &str) -> StoreFuture<'_, Option<StateMachineRecord>> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let sql = format!("SELECT {STATE_MACHINE_COLUMNS} FROM state_machines WHERE arn = $1");
            self.query(&sql, &[&arn]).await?.first().map(state_machine).transpose()
        })
    }

    fn list_state_machines(&self, page: &PageRequest) -> StoreFuture<'_, Page<StateMachineRecord>> {
        let page = page.clone();
        Box::pin(async move {
            let rows = self.list_by_name("state_machines", STATE_MACHINE_COLUMNS, &page).await?;
            let items = rows.iter().map(state_machine).collect::<StoreResult<Vec<_>>>()?;
            Ok(paginate(items.into_iter(), page.limit, |m| name_position(&m.name, &m.arn)))
        })
    }

    fn delete_state_machine(&self, arn: &str) -> StoreFuture<'_, bool> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
            // A deleted resource's tags, versions and aliases go with it, as on AWS; its
            // executions stay.
            tx.execute("DELETE FROM tags WHERE arn = $1", &[&arn]).await.map_err(failed("deleting tags"))?;
            versions::delete_versions_and_aliases(&tx, &arn).await?;
            let deleted = tx
                .execute("DELETE FROM state_machines WHERE arn = $1", &[&arn])
                .await
                .map_err(failed("deleting a state machine"))?;
            tx.commit().await.map_err(failed("committing"))?;
            Ok(deleted == 1)
        })
    }

    fn tag_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> StoreFuture<'_, ()> {
        let (arn, tags) = (arn.to_owned(), tags.clone());
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
            let upsert = tx
                .prepare_cached(
                    "INSERT INTO tags (arn, key, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
                )
                .await
                .map_err(failed("preparing a statement"))?;
            for (key, value) in &tags {
                tx.execute(&upsert, &[&arn, key, value]).await.map_err(failed("writing a tag"))?;
            }
            tx.commit().await.map_err(failed("committing"))
        })
    }

    fn untag_resource(&self, arn: &str, keys: &[String]) -> StoreFuture<'_, ()> {
        let (arn, keys) = (arn.to_owned(), keys.to_vec());
        Box::pin(async move {
            self.execute("DELETE FROM tags WHERE arn = $1 AND key = ANY($2)", &[&arn, &keys]).await?;
            Ok(())
        })
    }

    fn tags(&self, arn: &str) -> StoreFuture<'_, BTreeMap<String, String>> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let rows = self.query("SELECT key, value FROM tags WHERE arn = $1", &[&arn]).await?;
            rows.iter().map(|row| Ok((get(row, 0)?, get(row, 1)?))).collect()
        })
    }
}

impl LeaseStore for PostgresStore {
    fn claim(&self, execution_arn: &str, owner: &str, now: Millis, ttl_millis: i64) -> StoreFuture<'_, bool> {
        let (arn, owner) = (execution_arn.to_owned(), owner.to_owned());
        Box::pin(async move {
            // One statement, so no other node's claim can come between the check and the take.
            let changed = self
                .execute(
                    "INSERT INTO leases (execution_arn, owner, expires) VALUES ($1, $2, $3::BIGINT + $4::BIGINT) \
                     ON CONFLICT (execution_arn) DO UPDATE SET owner = excluded.owner, expires = excluded.expires \
                     WHERE leases.owner = excluded.owner OR leases.expires <= $3::BIGINT",
                    &[&arn, &owner, &now, &ttl_millis],
                )
                .await?;
            Ok(changed == 1)
        })
    }

    fn renew_all(&self, owner: &str, now: Millis, ttl_millis: i64) -> StoreFuture<'_, Vec<String>> {
        let owner = owner.to_owned();
        Box::pin(async move {
            // A lapsed lease that nobody took over is renewed too: no other node has worked on
            // it, and one that did would have changed its owner.
            let rows = self
                .query(
                    "UPDATE leases SET expires = $2::BIGINT + $3::BIGINT WHERE owner = $1 RETURNING execution_arn",
                    &[&owner, &now, &ttl_millis],
                )
                .await?;
            let mut renewed = rows.iter().map(|row| get(row, 0)).collect::<StoreResult<Vec<String>>>()?;
            renewed.sort_unstable();
            Ok(renewed)
        })
    }

    fn release(&self, execution_arn: &str, owner: &str) -> StoreFuture<'_, ()> {
        let (arn, owner) = (execution_arn.to_owned(), owner.to_owned());
        Box::pin(async move {
            self.execute("DELETE FROM leases WHERE execution_arn = $1 AND owner = $2", &[&arn, &owner]).await?;
            Ok(())
        })
    }
}

fn activity(row: &Row) -> StoreResult<ActivityRecord> {
    Ok(ActivityRecord { arn: get(row, 0)?, name: get(row, 1)?, created: get(row, 2)? })
}

impl ActivityStore for PostgresStore {
    fn create_activity(&self, record: &ActivityRecord) -> StoreFuture<'_, ActivityRecord> {
        let record = record.clone();
        Box::pin(async move {
            // The insert does nothing when the ARN is taken (waiting for a concurrent creator to
            // commit first), and the read after it sees whichever activity won.
            self.execute(
                "INSERT INTO activities (arn, name, created) VALUES ($1, $2, $3) ON CONFLICT (arn) DO NOTHING",
                &[&record.arn, &record.name, &record.created],
            )
            .await?;
            let rows = self.query("SELECT arn, name, created FROM activities WHERE arn = $1", &[&record.arn]).await?;
            rows.first()
                .map(activity)
                .transpose()?
                .ok_or_else(|| StoreError::Corrupt(format!("activity {} was neither stored nor found", record.arn)))
        })
    }

    fn activity(&self, arn: &str) -> StoreFuture<'_, Option<ActivityRecord>> {
        let arn = arn.to_owned();
        Box::pin(async move {
            self.query("SELECT arn, name, created FROM activities WHERE arn = $1", &[&arn])
                .await?
                .first()
                .map(activity)
                .transpose()
        })
    }

    fn list_activities(&self, page: &PageRequest) -> StoreFuture<'_, Page<ActivityRecord>> {
        let page = page.clone();
        Box::pin(async move {
            let rows = self.list_by_name("activities", "arn, name, created", &page).await?;
            let items = rows.iter().map(activity).collect::<StoreResult<Vec<_>>>()?;
            Ok(paginate(items.into_iter(), page.limit, |a| name_position(&a.name, &a.arn)))
        })
    }

    fn delete_activity(&self, arn: &str) -> StoreFuture<'_, bool> {
        let arn = arn.to_owned();
        Box::pin(async move { Ok(self.execute("DELETE FROM activities WHERE arn = $1", &[&arn]).await? == 1) })
    }
}
