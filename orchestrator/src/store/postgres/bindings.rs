//! Service integrations bound through the API, shared by every node on the database. Nodes
//! read a binding each time a task needs it, so a change needs no notice.

use tokio_postgres::Row;

use super::super::{BindingRecord, BindingStore, StoreFuture, StoreResult};
use super::{PostgresStore, get};

fn binding_record(row: &Row) -> StoreResult<BindingRecord> {
    Ok(BindingRecord { integration: get(row, 0)?, target: get(row, 1)?, updated: get(row, 2)? })
}

impl BindingStore for PostgresStore {
    fn put_binding(&self, record: &BindingRecord) -> StoreFuture<'_, ()> {
        let record = record.clone();
        Box::pin(async move {
            self.query(
                "INSERT INTO bindings (integration, target, updated) VALUES ($1, $2, $3) \
                 ON CONFLICT (integration) DO UPDATE SET target = excluded.target, updated = excluded.updated",
                &[&record.integration, &record.target, &record.updated],
            )
            .await?;
            Ok(())
        })
    }

    fn binding(&self, integration: &str) -> StoreFuture<'_, Option<BindingRecord>> {
        let integration = integration.to_owned();
        Box::pin(async move {
            let rows = self
                .query("SELECT integration, target, updated FROM bindings WHERE integration = $1", &[&integration])
                .await?;
            rows.first().map(binding_record).transpose()
        })
    }

    fn list_bindings(&self) -> StoreFuture<'_, Vec<BindingRecord>> {
        Box::pin(async move {
            let rows =
                self.query("SELECT integration, target, updated FROM bindings ORDER BY integration", &[]).await?;
            rows.iter().map(binding_record).collect()
        })
    }

    fn delete_binding(&self, integration: &str) -> StoreFuture<'_, bool> {
        let integration = integration.to_owned();
        Box::pin(async move {
            let rows = self
                .query("DELETE FROM bindings WHERE integration = $1 RETURNING integration", &[&integration])
                .await?;
            Ok(!rows.is_empty())
        })
    }
}
