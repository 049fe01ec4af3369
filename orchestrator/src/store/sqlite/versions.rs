//! Versions and aliases of state machines. Every write runs on the one writer thread, so the
//! checks and the write they decide are one transaction.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::super::memory::{paginate, parse_version_position, version_position};
use super::super::{
    AliasRecord, AliasWrite, Page, PageRequest, PublishRequest, Published, StoreResult, VersionDeletion, VersionRecord,
    VersionStore, decide_alias_write, decide_publish,
};
use super::{SqliteStore, StoreFuture, from_sql_int, json, ready, sql_limit, to_sql_int};

const VERSION_COLUMNS: &str = "machine_arn, version, definition, role_arn, revision_id, description, created, \
     logging_configuration, tracing_configuration";

const ALIAS_COLUMNS: &str = "arn, machine_arn, name, description, routes, created, updated";

/// A version row: its stored number, and the record with its JSON columns still text.
type VersionRow = (i64, VersionRecord, String, String);

fn version_row(row: &Row<'_>) -> rusqlite::Result<VersionRow> {
    let record = VersionRecord {
        machine_arn: row.get(0)?,
        // Set by `decode_version`, which reports a bad number as corrupt data.
        version: 0,
        definition: row.get(2)?,
        role_arn: row.get(3)?,
        revision_id: row.get(4)?,
        description: row.get(5)?,
        created: row.get(6)?,
        logging_configuration: serde_json::Value::Null,
        tracing_configuration: serde_json::Value::Null,
    };
    Ok((row.get(1)?, record, row.get(7)?, row.get(8)?))
}

fn decode_version((number, mut record, logging, tracing): VersionRow) -> StoreResult<VersionRecord> {
    let what = format!("{}:{number}", record.machine_arn);
    record.version = from_sql_int(number, &what)?;
    record.logging_configuration = json(&logging, &what)?;
    record.tracing_configuration = json(&tracing, &what)?;
    Ok(record)
}

fn query_versions(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> StoreResult<Vec<VersionRecord>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(args, version_row)?;
    rows.map(|row| decode_version(row?)).collect()
}

fn alias_row(row: &Row<'_>) -> rusqlite::Result<(AliasRecord, String)> {
    let record = AliasRecord {
        arn: row.get(0)?,
        machine_arn: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        routes: Vec::new(),
        created: row.get(5)?,
        updated: row.get(6)?,
    };
    Ok((record, row.get(4)?))
}

fn query_aliases(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> StoreResult<Vec<AliasRecord>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(args, alias_row)?;
    rows.map(|row| {
        let (mut record, routes) = row?;
        record.routes = json(&routes, &record.arn)?;
        Ok(record)
    })
    .collect()
}

fn aliases_of(conn: &Connection, machine_arn: &str) -> StoreResult<Vec<AliasRecord>> {
    query_aliases(
        conn,
        &format!("SELECT {ALIAS_COLUMNS} FROM state_machine_aliases WHERE machine_arn = ?1"),
        [machine_arn],
    )
}

fn publish(conn: &Connection, request: &PublishRequest) -> StoreResult<Published> {
    let arn = &request.machine_arn;
    let machine = super::state_machine_in(conn, arn)?;
    let highest: i64 = conn
        .prepare_cached("SELECT last_version FROM state_machines WHERE arn = ?1")?
        .query_row([arn], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    let newest = query_versions(
        conn,
        &format!(
            "SELECT {VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = ?1 ORDER BY version DESC LIMIT 1"
        ),
        [arn],
    )?;
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM state_machine_versions WHERE machine_arn = ?1")?
        .query_row([arn], |row| row.get(0))?;
    let decided = decide_publish(
        request,
        machine.as_ref(),
        from_sql_int(highest, "version")?,
        newest.first(),
        usize::try_from(count).unwrap_or(usize::MAX),
    );
    let Published::New(version) = decided else { return Ok(decided) };
    let number = to_sql_int(version.version, "version")?;
    conn.prepare_cached(&format!(
        "INSERT INTO state_machine_versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        version.machine_arn,
        number,
        version.definition,
        version.role_arn,
        version.revision_id,
        version.description,
        version.created,
        version.logging_configuration.to_string(),
        version.tracing_configuration.to_string(),
    ])?;
    conn.prepare_cached("UPDATE state_machines SET last_version = ?2 WHERE arn = ?1")?.execute(params![arn, number])?;
    Ok(Published::New(version))
}

fn put_alias(conn: &Connection, alias: &AliasRecord, create: bool) -> StoreResult<AliasWrite> {
    let machine = super::state_machine_in(conn, &alias.machine_arn)?;
    let mut has_version = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM state_machine_versions WHERE machine_arn = ?1 AND version = ?2)",
    )?;
    let mut present = Vec::new();
    for route in &alias.routes {
        let number = to_sql_int(route.version, "version")?;
        if has_version.query_row(params![alias.machine_arn, number], |row| row.get::<_, bool>(0))? {
            present.push(route.version);
        }
    }
    let stored = query_aliases(
        conn,
        &format!("SELECT {ALIAS_COLUMNS} FROM state_machine_aliases WHERE arn = ?1"),
        [&alias.arn],
    )?;
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM state_machine_aliases WHERE machine_arn = ?1")?
        .query_row([&alias.machine_arn], |row| row.get(0))?;
    let decided = decide_alias_write(
        alias,
        create,
        machine.as_ref(),
        |version| present.contains(&version),
        stored.first(),
        usize::try_from(count).unwrap_or(usize::MAX),
    );
    let AliasWrite::Written(record) = decided else { return Ok(decided) };
    let routes = serde_json::to_string(&record.routes).unwrap_or_else(|_| "[]".to_owned());
    conn.prepare_cached(&format!(
        "INSERT INTO state_machine_aliases ({ALIAS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (arn) DO UPDATE SET description = excluded.description, routes = excluded.routes, \
         updated = excluded.updated"
    ))?
    .execute(params![
        record.arn,
        record.machine_arn,
        record.name,
        record.description,
        routes,
        record.created,
        record.updated
    ])?;
    Ok(AliasWrite::Written(record))
}

/// Deletes a machine's versions and aliases, with the machine.
pub(super) fn delete_versions_and_aliases(conn: &Connection, machine_arn: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM state_machine_versions WHERE machine_arn = ?1")?.execute([machine_arn])?;
    conn.prepare_cached("DELETE FROM state_machine_aliases WHERE machine_arn = ?1")?.execute([machine_arn])?;
    Ok(())
}

impl VersionStore for SqliteStore {
    fn publish_version(&self, request: &PublishRequest) -> StoreFuture<'_, Published> {
        let request = request.clone();
        self.write_async(move |conn| publish(conn, &request))
    }

    fn version(&self, machine_arn: &str, version: u64) -> StoreFuture<'_, Option<VersionRecord>> {
        ready((|| {
            let number = to_sql_int(version, "version")?;
            let found = self.readers.with(|conn| {
                query_versions(
                    conn,
                    &format!(
                        "SELECT {VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = ?1 AND version = ?2"
                    ),
                    params![machine_arn, number],
                )
            })?;
            Ok(found.into_iter().next())
        })())
    }

    fn list_versions(&self, machine_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<VersionRecord>> {
        ready((|| {
            let before = match page.after.as_deref().map(parse_version_position).transpose()? {
                Some(after) => to_sql_int(after, "version")?,
                None => i64::MAX,
            };
            let items = self.readers.with(|conn| {
                query_versions(
                    conn,
                    &format!(
                        "SELECT {VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = ?1 AND version < ?2 \
                         ORDER BY version DESC LIMIT ?3"
                    ),
                    params![machine_arn, before, sql_limit(page.limit)],
                )
            })?;
            Ok(paginate(items.into_iter(), page.limit, |version| version_position(version.version)))
        })())
    }

    fn delete_version(&self, machine_arn: &str, version: u64) -> StoreFuture<'_, VersionDeletion> {
        let machine_arn = machine_arn.to_owned();
        self.write_async(move |conn| {
            let routed_by = aliases_of(conn, &machine_arn)?
                .into_iter()
                .filter(|alias| alias.routes_to(version))
                .map(|alias| alias.arn)
                .min();
            if let Some(alias) = routed_by {
                return Ok(VersionDeletion::RoutedBy(alias));
            }
            conn.prepare_cached("DELETE FROM state_machine_versions WHERE machine_arn = ?1 AND version = ?2")?
                .execute(params![machine_arn, to_sql_int(version, "version")?])?;
            Ok(VersionDeletion::Deleted)
        })
    }

    fn put_alias(&self, alias: &AliasRecord, create: bool) -> StoreFuture<'_, AliasWrite> {
        let alias = alias.clone();
        self.write_async(move |conn| put_alias(conn, &alias, create))
    }

    fn alias(&self, arn: &str) -> StoreFuture<'_, Option<AliasRecord>> {
        ready(self.readers.with(|conn| {
            let found = query_aliases(
                conn,
                &format!("SELECT {ALIAS_COLUMNS} FROM state_machine_aliases WHERE arn = ?1"),
                [arn],
            )?;
            Ok(found.into_iter().next())
        }))
    }

    fn list_aliases(&self, machine_arn: &str, page: &PageRequest) -> StoreFuture<'_, Page<AliasRecord>> {
        ready((|| {
            let after = page.after.clone().unwrap_or_default();
            let items = self.readers.with(|conn| {
                query_aliases(
                    conn,
                    &format!(
                        "SELECT {ALIAS_COLUMNS} FROM state_machine_aliases WHERE machine_arn = ?1 AND name > ?2 \
                         ORDER BY name LIMIT ?3"
                    ),
                    params![machine_arn, after, sql_limit(page.limit)],
                )
            })?;
            Ok(paginate(items.into_iter(), page.limit, |alias| alias.name.clone()))
        })())
    }

    fn delete_alias(&self, arn: &str) -> StoreFuture<'_, bool> {
        let arn = arn.to_owned();
        self.write_async(move |conn| {
            Ok(conn.prepare_cached("DELETE FROM state_machine_aliases WHERE arn = ?1")?.execute([arn])? == 1)
        })
    }
}
