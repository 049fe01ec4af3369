//! Service integrations bound through the API.

use rusqlite::{OptionalExtension, Row, params};

use super::super::{BindingRecord, BindingStore, StoreFuture, ready};
use super::SqliteStore;

fn binding_record(row: &Row<'_>) -> rusqlite::Result<BindingRecord> {
    Ok(BindingRecord { integration: row.get(0)?, target: row.get(1)?, updated: row.get(2)? })
}

impl BindingStore for SqliteStore {
    fn put_binding(&self, record: &BindingRecord) -> StoreFuture<'_, ()> {
        let record = record.clone();
        self.write_async(move |conn| {
            conn.prepare_cached(
                "INSERT INTO bindings (integration, target, updated) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (integration) DO UPDATE SET target = excluded.target, updated = excluded.updated",
            )?
            .execute(params![record.integration, record.target, record.updated])?;
            Ok(())
        })
    }

    fn binding(&self, integration: &str) -> StoreFuture<'_, Option<BindingRecord>> {
        ready(self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT integration, target, updated FROM bindings WHERE integration = ?1")?
                .query_row([integration], binding_record)
                .optional()?)
        }))
    }

    fn list_bindings(&self) -> StoreFuture<'_, Vec<BindingRecord>> {
        ready(self.readers.with(|conn| {
            let mut statement =
                conn.prepare_cached("SELECT integration, target, updated FROM bindings ORDER BY integration")?;
            let rows = statement.query_map([], binding_record)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        }))
    }

    fn delete_binding(&self, integration: &str) -> StoreFuture<'_, bool> {
        let integration = integration.to_owned();
        self.write_async(move |conn| {
            Ok(conn.prepare_cached("DELETE FROM bindings WHERE integration = ?1")?.execute([integration])? == 1)
        })
    }
}
