//! Message queues, shared by every node on the database. Receivers poll, so sending needs no
//! notice; two receivers at once take different messages (`SKIP LOCKED`).

use tokio_postgres::Row;

use super::super::{
    Millis, QueueCounts, QueueMessage, QueueRecord, QueueStore, StoreFuture, StoreResult, parse_receipt, ready,
    with_receipts,
};
use super::{PostgresStore, get};

const MESSAGE_COLUMNS: &str = "id, queue, body, attributes, sent, visible_at, receive_count";

fn queue_record(row: &Row) -> StoreResult<QueueRecord> {
    Ok(QueueRecord { name: get(row, 0)?, created: get(row, 1)?, attributes: get(row, 2)? })
}

fn queue_message(row: &Row) -> StoreResult<QueueMessage> {
    Ok(QueueMessage {
        id: get(row, 0)?,
        queue: get(row, 1)?,
        body: get(row, 2)?,
        attributes: get(row, 3)?,
        sent: get(row, 4)?,
        visible_at: get(row, 5)?,
        receive_count: u32::try_from(get::<i32>(row, 6)?).unwrap_or(0),
    })
}

impl QueueStore for PostgresStore {
    fn create_queue(&self, record: &QueueRecord) -> StoreFuture<'_, bool> {
        let record = record.clone();
        Box::pin(async move {
            let created = self
                .execute(
                    "INSERT INTO queues (name, created, attributes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&record.name, &record.created, &record.attributes],
                )
                .await?;
            Ok(created == 1)
        })
    }

    fn queue(&self, name: &str) -> StoreFuture<'_, Option<QueueRecord>> {
        let name = name.to_owned();
        Box::pin(async move {
            let rows = self.query("SELECT name, created, attributes FROM queues WHERE name = $1", &[&name]).await?;
            rows.first().map(queue_record).transpose()
        })
    }

    fn list_queues(&self) -> StoreFuture<'_, Vec<QueueRecord>> {
        Box::pin(async move {
            let rows = self.query("SELECT name, created, attributes FROM queues ORDER BY name", &[]).await?;
            rows.iter().map(queue_record).collect()
        })
    }

    fn delete_queue(&self, name: &str) -> StoreFuture<'_, bool> {
        let name = name.to_owned();
        Box::pin(async move {
            let rows = self
                .query(
                    "WITH messages AS (DELETE FROM queue_messages WHERE queue = $1) \
                     DELETE FROM queues WHERE name = $1 RETURNING name",
                    &[&name],
                )
                .await?;
            Ok(!rows.is_empty())
        })
    }

    fn send_message(&self, message: &QueueMessage) -> StoreFuture<'_, bool> {
        let message = message.clone();
        Box::pin(async move {
            let count = i32::try_from(message.receive_count).unwrap_or(i32::MAX);
            let sent = self
                .execute(
                    &format!(
                        "INSERT INTO queue_messages ({MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT DO NOTHING"
                    ),
                    &[
                        &message.id,
                        &message.queue,
                        &message.body,
                        &message.attributes,
                        &message.sent,
                        &message.visible_at,
                        &count,
                    ],
                )
                .await?;
            Ok(sent == 1)
        })
    }

    fn receive_messages(
        &self,
        queue: &str,
        now: Millis,
        max: usize,
        hidden_until: Millis,
    ) -> StoreFuture<'_, Vec<(QueueMessage, String)>> {
        let queue = queue.to_owned();
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        Box::pin(async move {
            let rows = self
                .query(
                    &format!(
                        "UPDATE queue_messages SET visible_at = $3, receive_count = receive_count + 1 WHERE id IN \
                         (SELECT id FROM queue_messages WHERE queue = $1 AND visible_at <= $2 ORDER BY sent, id \
                          LIMIT $4 FOR UPDATE SKIP LOCKED) \
                         RETURNING {MESSAGE_COLUMNS}"
                    ),
                    &[&queue, &now, &hidden_until, &max],
                )
                .await?;
            Ok(with_receipts(rows.iter().map(queue_message).collect::<StoreResult<Vec<_>>>()?))
        })
    }

    fn delete_message(&self, queue: &str, receipt: &str) -> StoreFuture<'_, bool> {
        let Some((id, count)) = parse_receipt(receipt) else { return ready(Ok(false)) };
        let (queue, id, count) = (queue.to_owned(), id.to_owned(), i32::try_from(count).unwrap_or(i32::MAX));
        Box::pin(async move {
            let deleted = self
                .execute(
                    "DELETE FROM queue_messages WHERE id = $1 AND queue = $2 AND receive_count = $3",
                    &[&id, &queue, &count],
                )
                .await?;
            Ok(deleted == 1)
        })
    }

    fn change_visibility(&self, queue: &str, receipt: &str, visible_at: Millis) -> StoreFuture<'_, bool> {
        let Some((id, count)) = parse_receipt(receipt) else { return ready(Ok(false)) };
        let (queue, id, count) = (queue.to_owned(), id.to_owned(), i32::try_from(count).unwrap_or(i32::MAX));
        Box::pin(async move {
            let changed = self
                .execute(
                    "UPDATE queue_messages SET visible_at = $4 WHERE id = $1 AND queue = $2 AND receive_count = $3",
                    &[&id, &queue, &count, &visible_at],
                )
                .await?;
            Ok(changed == 1)
        })
    }

    fn purge_queue(&self, queue: &str) -> StoreFuture<'_, ()> {
        let queue = queue.to_owned();
        Box::pin(async move {
            self.execute("DELETE FROM queue_messages WHERE queue = $1", &[&queue]).await?;
            Ok(())
        })
    }

    fn queue_counts(&self, queue: &str, now: Millis) -> StoreFuture<'_, QueueCounts> {
        let queue = queue.to_owned();
        Box::pin(async move {
            let rows = self
                .query(
                    "SELECT COUNT(*) FILTER (WHERE visible_at <= $2), COUNT(*) FILTER (WHERE visible_at > $2) \
                     FROM queue_messages WHERE queue = $1",
                    &[&queue, &now],
                )
                .await?;
            let count = |index: usize| -> StoreResult<u64> {
                Ok(rows
                    .first()
                    .map(|row| get::<i64>(row, index))
                    .transpose()?
                    .map_or(0, |n| u64::try_from(n).unwrap_or(0)))
            };
            Ok(QueueCounts { visible: count(0)?, hidden: count(1)? })
        })
    }
}
