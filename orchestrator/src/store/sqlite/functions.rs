//! Deployed task functions.

use rusqlite::{OptionalExtension, Row, params};

use super::super::{FunctionRecord, FunctionStore, StoreFuture, ready};
use super::SqliteStore;

fn function_record(row: &Row<'_>) -> rusqlite::Result<FunctionRecord> {
    Ok(FunctionRecord { name: row.get(0)?, sha256: row.get(1)?, config: row.get(2)?, deployed: row.get(3)? })
}

impl FunctionStore for SqliteStore {
    fn put_function(&self, record: &FunctionRecord, component: &[u8]) -> StoreFuture<'_, ()> {
        let (record, component) = (record.clone(), component.to_vec());
        self.write_async(move |conn| {
            conn.prepare_cached(
                "INSERT INTO functions (name, sha256, config, deployed, component) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, config = excluded.config, \
                 deployed = excluded.deployed, component = excluded.component",
            )?
            .execute(params![record.name, record.sha256, record.config, record.deployed, component])?;
            Ok(())
        })
    }

    fn function(&self, name: &str) -> StoreFuture<'_, Option<FunctionRecord>> {
        ready(self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT name, sha256, config, deployed FROM functions WHERE name = ?1")?
                .query_row([name], function_record)
                .optional()?)
        }))
    }

    fn function_component(&self, name: &str) -> StoreFuture<'_, Option<(FunctionRecord, Vec<u8>)>> {
        ready(self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT name, sha256, config, deployed, component FROM functions WHERE name = ?1")?
                .query_row([name], |row| Ok((function_record(row)?, row.get(4)?)))
                .optional()?)
        }))
    }

    fn list_functions(&self) -> StoreFuture<'_, Vec<FunctionRecord>> {
        ready(self.readers.with(|conn| {
            let mut statement =
                conn.prepare_cached("SELECT name, sha256, config, deployed FROM functions ORDER BY name")?;
            let rows = statement.query_map([], function_record)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        }))
    }

    fn delete_function(&self, name: &str) -> StoreFuture<'_, bool> {
        let name = name.to_owned();
        self.write_async(move |conn| {
            Ok(conn.prepare_cached("DELETE FROM functions WHERE name = ?1")?.execute([name])? == 1)
        })
    }
}
