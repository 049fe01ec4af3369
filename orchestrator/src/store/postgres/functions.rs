//! Deployed task functions, shared by every node on the database.
//!
//! Deploying or deleting a function sends `NOTIFY stepwasm_functions` with its name in the same
//! statement, so every node's watch hears of it once it is committed.

use tokio_postgres::Row;

use super::super::{FunctionRecord, FunctionStore, StoreFuture, StoreResult};
use super::{PostgresStore, get};

/// The notification channel.
pub(super) const FUNCTIONS: &str = "stepwasm_functions";

fn function_record(row: &Row) -> StoreResult<FunctionRecord> {
    Ok(FunctionRecord { name: get(row, 0)?, sha256: get(row, 1)?, config: get(row, 2)?, deployed: get(row, 3)? })
}

impl FunctionStore for PostgresStore {
    fn put_function(&self, record: &FunctionRecord, component: &[u8]) -> StoreFuture<'_, ()> {
        let (record, component) = (record.clone(), component.to_vec());
        Box::pin(async move {
            let sql = format!(
                "WITH deployed AS (INSERT INTO functions (name, sha256, config, deployed, component) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, \
                 config = excluded.config, deployed = excluded.deployed, component = excluded.component \
                 RETURNING name) \
                 SELECT pg_notify('{FUNCTIONS}', name)::text FROM deployed"
            );
            self.query(&sql, &[&record.name, &record.sha256, &record.config, &record.deployed, &component]).await?;
            Ok(())
        })
    }

    fn function(&self, name: &str) -> StoreFuture<'_, Option<FunctionRecord>> {
        let name = name.to_owned();
        Box::pin(async move {
            let rows =
                self.query("SELECT name, sha256, config, deployed FROM functions WHERE name = $1", &[&name]).await?;
            rows.first().map(function_record).transpose()
        })
    }

    fn function_component(&self, name: &str) -> StoreFuture<'_, Option<(FunctionRecord, Vec<u8>)>> {
        let name = name.to_owned();
        Box::pin(async move {
            let rows = self
                .query("SELECT name, sha256, config, deployed, component FROM functions WHERE name = $1", &[&name])
                .await?;
            rows.first().map(|row| Ok((function_record(row)?, get(row, 4)?))).transpose()
        })
    }

    fn list_functions(&self) -> StoreFuture<'_, Vec<FunctionRecord>> {
        Box::pin(async move {
            let rows = self.query("SELECT name, sha256, config, deployed FROM functions ORDER BY name", &[]).await?;
            rows.iter().map(function_record).collect()
        })
    }

    fn delete_function(&self, name: &str) -> StoreFuture<'_, bool> {
        let name = name.to_owned();
        Box::pin(async move {
            let sql = format!(
                "WITH deleted AS (DELETE FROM functions WHERE name = $1 RETURNING name) \
                 SELECT pg_notify('{FUNCTIONS}', name)::text FROM deleted"
            );
            Ok(!self.query(&sql, &[&name]).await?.is_empty())
        })
    }
}
