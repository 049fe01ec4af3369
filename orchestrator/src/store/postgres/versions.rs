//! Versions and aliases of state machines. Every write locks its machine's row first
//! (`FOR UPDATE`), so publishes, alias writes and version deletions of one machine happen one
//! at a time across all nodes, and each decides on what it read.

use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::super::memory::{paginate, parse_version_position, version_position};
use super::super::{
    AliasRecord, AliasWrite, Page, PageRequest, PublishRequest, Published, StateMachineRecord, StoreFuture,
    StoreResult, VersionDeletion, VersionRecord, VersionStore, decide_alias_write, decide_publish,
};
use super::executions::{execute, query};
use super::{
    PostgresStore, STATE_MACHINE_COLUMNS, failed, from_sql_int, get, json, sql_limit, state_machine, to_sql_int,
};

const VERSION_COLUMNS: &str = "machine_arn, version, definition, role_arn, revision_id, description, created, \
     logging_configuration, tracing_configuration";

const ALIAS_COLUMNS: &str = "arn, machine_arn, name, description, routes, created, updated";

fn version(row: &Row) -> StoreResult<VersionRecord> {
    let machine_arn: String = get(row, 0)?;
    let number: i64 = get(row, 1)?;
    let what = format!("{machine_arn}:{number}");
    Ok(VersionRecord {
        version: from_sql_int(number, &what)?,
        definition: get(row, 2)?,
        role_arn: get(row, 3)?,
        revision_id: get(row, 4)?,
        description: get(row, 5)?,
        created: get(row, 6)?,
        logging_configuration: json(get(row, 7)?, &what)?,
        tracing_configuration: json(get(row, 8)?, &what)?,
        machine_arn,
    })
}

fn alias(row: &Row) -> StoreResult<AliasRecord> {
    let arn: String = get(row, 0)?;
    Ok(AliasRecord {
        machine_arn: get(row, 1)?,
        name: get(row, 2)?,
        description: get(row, 3)?,
        routes: json(get(row, 4)?, &arn)?,
        created: get(row, 5)?,
        updated: get(row, 6)?,
        arn,
    })
}

/// The machine, its row locked until the transaction ends, and the highest version it published.
async fn lock_machine(tx: &Transaction<'_>, arn: &str) -> StoreResult<Option<(StateMachineRecord, u64)>> {
    let sql = format!("SELECT {STATE_MACHINE_COLUMNS}, last_version FROM state_machines WHERE arn = $1 FOR UPDATE");
    let rows = query(tx, &sql, &[&arn], "locking a state machine").await?;
    let Some(row) = rows.first() else { return Ok(None) };
    Ok(Some((state_machine(row)?, from_sql_int(get(row, 10)?, "version")?)))
}

async fn publish(tx: &Transaction<'_>, request: &PublishRequest) -> StoreResult<Published> {
    let arn = &request.machine_arn;
    let locked = lock_machine(tx, arn).await?;
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = $1 ORDER BY version DESC LIMIT 1"
    );
    let newest = query(tx, &sql, &[arn], "reading the newest version").await?.first().map(version).transpose()?;
    let count =
        query(tx, "SELECT COUNT(*) FROM state_machine_versions WHERE machine_arn = $1", &[arn], "counting versions")
            .await?;
    let count: i64 = count.first().map(|row| get(row, 0)).transpose()?.unwrap_or(0);
    let decided = decide_publish(
        request,
        locked.as_ref().map(|(machine, _)| machine),
        locked.as_ref().map_or(0, |(_, highest)| *highest),
        newest.as_ref(),
        usize::try_from(count).unwrap_or(usize::MAX),
    );
    let Published::New(version) = decided else { return Ok(decided) };
    let number = to_sql_int(version.version, "version")?;
    let sql =
        format!("INSERT INTO state_machine_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    execute(
        tx,
        &sql,
        &[
            &version.machine_arn,
            &number,
            &version.definition,
            &version.role_arn,
            &version.revision_id,
            &version.description,
            &version.created,
            &version.logging_configuration.to_string(),
            &version.tracing_configuration.to_string(),
        ],
        "publishing a version",
    )
    .await?;
    execute(tx, "UPDATE state_machines SET last_version = $2 WHERE arn = $1", &[arn, &number], "numbering versions")
        .await?;
    Ok(Published::New(version))
}

async fn put_alias(tx: &Transaction<'_>, record: &AliasRecord, create: bool) -> StoreResult<AliasWrite> {
    let locked = lock_machine(tx, &record.machine_arn).await?;
    let rows = query(
        tx,
        "SELECT version FROM state_machine_versions WHERE machine_arn = $1",
        &[&record.machine_arn],
        "reading versions",
    )
    .await?;
    let present = rows.iter().map(|row| from_sql_int(get(row, 0)?, "version")).collect::<StoreResult<Vec<_>>>()?;
    let sql = format!("SELECT {ALIAS_COLUMNS} FROM state_machine_aliases WHERE arn = $1");
    let stored = query(tx, &sql, &[&record.arn], "reading an alias").await?.first().map(alias).transpose()?;
    let count = query(
        tx,
        "SELECT COUNT(*) FROM state_machine_aliases WHERE machine_arn = $1",
        &[&record.machine_arn],
        "counting aliases",
    )
    .await?;
    let count: i64 = count.first().map(|row| get(row, 0)).transpose()?.unwrap_or(0);
    let decided = decide_alias_write(
        record,
        create,
        locked.as_ref().map(|(machine, _)| machine),
        |version| present.contains(&version),
        stored.as_ref(),
        usize::try_from(count).unwrap_or(usize::MAX),
    );
    let AliasWrite::Written(record) = decided else { return Ok(decided) };
    let routes = serde_json::to_string(&record.routes).unwrap_or_else(|_| "[]".to_owned());
    let sql = format!(
        "INSERT INTO state_machine_aliases ({ALIAS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (arn) DO UPDATE SET description = excluded.description, routes = excluded.routes, \
         updated = excluded.updated"
    );
    execute(
        tx,
        &sql,
        &[
            &record.arn,
            &record.machine_arn,
            &record.name,
            &record.description,
            &routes,
            &record.created,
            &record.updated,
        ],
        "writing an alias",
    )
    .await?;
    Ok(AliasWrite::Written(record))
}

async fn delete_version(tx: &Transaction<'_>, machine_arn: &str, number: u64) -> StoreResult<VersionDeletion> {
    lock_machine(tx, machine_arn).await?;
    let sql = format!("SELECT {ALIAS_COLUMNS} FROM state_machine_aliases WHERE machine_arn = $1 ORDER BY arn");
    let aliases = query(tx, &sql, &[&machine_arn], "reading aliases").await?;
    for row in &aliases {
        let alias = alias(row)?;
        if alias.routes_to(number) {
            return Ok(VersionDeletion::RoutedBy(alias.arn));
        }
    }
    execute(
        tx,
        "DELETE FROM state_machine_versions WHERE machine_arn = $1 AND version = $2",
        &[&machine_arn, &to_sql_int(number, "version")?],
        "deleting a version",
    )
    .await?;
    Ok(VersionDeletion::Deleted)
}

/// Deletes a machine's versions and aliases, in the transaction that deletes the machine.
pub(super) async fn delete_versions_and_aliases(tx: &Transaction<'_>, machine_arn: &str) -> StoreResult<()> {
    execute(tx, "DELETE FROM state_machine_versions WHERE machine_arn = $1", &[&machine_arn], "deleting versions")
        .await?;
    execute(tx, "DELETE FROM state_machine_aliases WHERE machine_arn = $1", &[&machine_arn], "deleting aliases")
        .await?;
    Ok(())
}

impl PostgresStore {
    /// Runs `write` in a transaction and commits it.
    async fn in_transaction<T>(&self, write: impl AsyncFnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        let outcome = write(&tx).await?;
        tx.commit().await.map_err(failed("committing"))?;
        Ok(outcome)
    }
}

impl VersionStore for PostgresStore {
    fn publish_version(&self, request: &PublishRequest) -> StoreFuture<'_, Published> {
        let request = request.clone();
        Box::pin(async move { self.in_transaction(async |tx| publish(tx, &request).await).await })
    }

    fn version(&self, machine_arn: &str, number: u64) -> StoreFuture<'_, Option<VersionRecord>> {
        let machine_arn = machine_arn.to_owned();
        Box::pin(async move {
            let sql =
                format!("SELECT {VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = $1 AND version = $2");
            let number = to_sql_int(number, "version")?;
            self.query(&sql, &[&machine_arn, &number]).await?.first().map(version).transpose()
        })
    }

    fn list_versions(&self, machine_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<VersionRecord>> {
        let (machine_arn, page) = (machine_arn.to_owned(), page.clone());
        Box::pin(async move {
            let before = match page.after.as_deref().map(parse_version_position).transpose()? {
                Some(after) => to_sql_int(after, "version")?,
                None => i64::MAX,
            };
            let sql = format!(
                "SELECT {VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = $1 AND version < $2 \
                 ORDER BY version DESC LIMIT $3"
            );
            let rows = self.query(&sql, &[&machine_arn, &before, &sql_limit(page.limit)]).await?;
            let items = rows.iter().map(version).collect::<StoreResult<Vec<_>>>()?;
            Ok(paginate(items.into_iter(), page.limit, |version| version_position(version.version)))
        })
    }

    fn delete_version(&self, machine_arn: &str, number: u64) -> StoreFuture<'_, VersionDeletion> {
        let machine_arn = machine_arn.to_owned();
        Box::pin(async move { self.in_transaction(async |tx| delete_version(tx, &machine_arn, number).await).await })
    }

    fn put_alias(&self, record: &AliasRecord, create: bool) -> StoreFuture<'_, AliasWrite> {
        let record = record.clone();
        Box::pin(async move { self.in_transaction(async |tx| put_alias(tx, &record, create).await).await })
    }

    fn alias(&self, arn: &str) -> StoreFuture<'_, Option<AliasRecord>> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let sql = format!("SELECT {ALIAS_COLUMNS} FROM state_machine_aliases WHERE arn = $1");
            self.query(&sql, &[&arn]).await?.first().map(alias).transpose()
        })
    }

    fn list_aliases(&self, machine_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<AliasRecord>> {
        let (machine_arn, page) = (machine_arn.to_owned(), page.clone());
        Box::pin(async move {
            let after = page.after.clone().unwrap_or_default();
            let sql = format!(
                "SELECT {ALIAS_COLUMNS} FROM state_machine_aliases WHERE machine_arn = $1 AND name > $2 \
                 ORDER BY name LIMIT $3"
            );
            let rows = self.query(&sql, &[&machine_arn, &after, &sql_limit(page.limit)]).await?;
            let items = rows.iter().map(alias).collect::<StoreResult<Vec<_>>>()?;
            Ok(paginate(items.into_iter(), page.limit, |alias| alias.name.clone()))
        })
    }

    fn delete_alias(&self, arn: &str) -> StoreFuture<'_, bool> {
        let arn = arn.to_owned();
        Box::pin(
            async move { Ok(self.execute("DELETE FROM state_machine_aliases WHERE arn = $1", &[&arn]).await? == 1) },
        )
    }
}
