//! Message queues.

use rusqlite::{OptionalExtension, Row, params};

use super::super::{
    Millis, QueueCounts, QueueMessage, QueueRecord, QueueStore, StoreFuture, parse_receipt, ready, with_receipts,
};
use super::SqliteStore;

const MESSAGE_COLUMNS: &str = "id, queue, body, attributes, sent, visible_at, receive_count";

fn queue_record(row: &Row<'_>) -> rusqlite::Result<QueueRecord> {
    Ok(QueueRecord { name: row.get(0)?, created: row.get(1)?, attributes: row.get(2)? })
}

fn queue_message(row: &Row<'_>) -> rusqlite::Result<QueueMessage> {
    Ok(QueueMessage {
        id: row.get(0)?,
        queue: row.get(1)?,
        body: row.get(2)?,
        attributes: row.get(3)?,
        sent: row.get(4)?,
        visible_at: row.get(5)?,
        receive_count: u32::try_from(row.get::<_, i64>(6)?).unwrap_or(u32::MAX),
    })
}

impl QueueStore for SqliteStore {
    fn create_queue(&self, record: &QueueRecord) -> StoreFuture<'_, bool> {
        let record = record.clone();
        self.write_async(move |conn| {
            let created = conn
                .prepare_cached(
                    "INSERT INTO queues (name, created, attributes) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                )?
                .execute(params![record.name, record.created, record.attributes])?;
            Ok(created == 1)
        })
    }

    fn queue(&self, name: &str) -> StoreFuture<'_, Option<QueueRecord>> {
        ready(self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT name, created, attributes FROM queues WHERE name = ?1")?
                .query_row([name], queue_record)
                .optional()?)
        }))
    }

    fn list_queues(&self) -> StoreFuture<'_, Vec<QueueRecord>> {
        ready(self.readers.with(|conn| {
            let mut statement = conn.prepare_cached("SELECT name, created, attributes FROM queues ORDER BY name")?;
            let rows = statement.query_map([], queue_record)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        }))
    }

    fn delete_queue(&self, name: &str) -> StoreFuture<'_, bool> {
        let name = name.to_owned();
        self.write_async(move |conn| {
            conn.prepare_cached("DELETE FROM queue_messages WHERE queue = ?1")?.execute([&name])?;
            Ok(conn.prepare_cached("DELETE FROM queues WHERE name = ?1")?.execute([&name])? == 1)
        })
    }

    fn send_message(&self, message: &QueueMessage) -> StoreFuture<'_, bool> {
        let message = message.clone();
        self.write_async(move |conn| {
            let sent = conn
                .prepare_cached(&format!(
                    "INSERT INTO queue_messages ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING"
                ))?
                .execute(params![
                    message.id,
                    message.queue,
                    message.body,
                    message.attributes,
                    message.sent,
                    message.visible_at,
                    i64::from(message.receive_count)
                ])?;
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
        self.write_async(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "UPDATE queue_messages SET visible_at = ?3, receive_count = receive_count + 1 WHERE id IN \
                 (SELECT id FROM queue_messages WHERE queue = ?1 AND visible_at <= ?2 ORDER BY sent, id LIMIT ?4) \
                 RETURNING {MESSAGE_COLUMNS}"
            ))?;
            let received: Vec<QueueMessage> = statement
                .query_map(params![queue, now, hidden_until, max], queue_message)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(with_receipts(received))
        })
    }

    fn delete_message(&self, queue: &str, receipt: &str) -> StoreFuture<'_, bool> {
        let Some((id, count)) = parse_receipt(receipt) else { return ready(Ok(false)) };
        let (queue, id) = (queue.to_owned(), id.to_owned());
        self.write_async(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM queue_messages WHERE id = ?1 AND queue = ?2 AND receive_count = ?3")?
                .execute(params![id, queue, i64::from(count)])?;
            Ok(deleted == 1)
        })
    }

    fn change_visibility(&self, queue: &str, receipt: &str, visible_at: Millis) -> StoreFuture<'_, bool> {
        let Some((id, count)) = parse_receipt(receipt) else { return ready(Ok(false)) };
        let (queue, id) = (queue.to_owned(), id.to_owned());
        self.write_async(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE queue_messages SET visible_at = ?4 WHERE id = ?1 AND queue = ?2 AND receive_count = ?3",
                )?
                .execute(params![id, queue, i64::from(count), visible_at])?;
            Ok(changed == 1)
        })
    }

    fn purge_queue(&self, queue: &str) -> StoreFuture<'_, ()> {
        let queue = queue.to_owned();
        self.write_async(move |conn| {
            conn.prepare_cached("DELETE FROM queue_messages WHERE queue = ?1")?.execute([queue])?;
            Ok(())
        })
    }

    fn queue_counts(&self, queue: &str, now: Millis) -> StoreFuture<'_, QueueCounts> {
        ready(self.readers.with(|conn| {
            let (visible, hidden): (i64, i64) = conn
                .prepare_cached(
                    "SELECT COALESCE(SUM(visible_at <= ?2), 0), COALESCE(SUM(visible_at > ?2), 0) \
                     FROM queue_messages WHERE queue = ?1",
                )?
                .query_row(params![queue, now], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(QueueCounts { visible: u64::try_from(visible).unwrap_or(0), hidden: u64::try_from(hidden).unwrap_or(0) })
        }))
    }
}
