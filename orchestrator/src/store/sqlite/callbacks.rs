//! Task tokens, posted signals and queued activity tasks.

use rusqlite::{OptionalExtension, Row, params};

use super::super::{ActivityTask, CallbackStore, IssuedToken, Notice, PostedSignal, SIGNALLED, StoreFuture};
use super::SqliteStore;

fn issued_token(row: &Row<'_>) -> rusqlite::Result<IssuedToken> {
    Ok(IssuedToken { token: row.get(0)?, execution_arn: row.get(1)?, state_name: row.get(2)?, issued: row.get(3)? })
}

impl CallbackStore for SqliteStore {
    fn issue_token(&self, token: &IssuedToken) -> StoreFuture<'_, ()> {
        let token = token.clone();
        self.write_async(move |conn| {
            conn.prepare_cached(
                "INSERT INTO task_tokens (token, execution_arn, state_name, issued) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (token) DO NOTHING",
            )?
            .execute(params![token.token, token.execution_arn, token.state_name, token.issued])?;
            Ok(())
        })
    }

    fn token(&self, token: &str) -> StoreFuture<'_, Option<IssuedToken>> {
        super::super::ready(self.readers.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT token, execution_arn, state_name, issued FROM task_tokens WHERE token = ?1")?
                .query_row([token], issued_token)
                .optional()?)
        }))
    }

    fn tokens_of(&self, execution_arn: &str) -> StoreFuture<'_, Vec<IssuedToken>> {
        super::super::ready(self.readers.with(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT token, execution_arn, state_name, issued FROM task_tokens WHERE execution_arn = ?1 \
                 ORDER BY issued, token",
            )?;
            let rows = statement.query_map([execution_arn], issued_token)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        }))
    }

    fn post_signal(&self, execution_arn: &str, signal: &str) -> StoreFuture<'_, i64> {
        let (arn, signal) = (execution_arn.to_owned(), signal.to_owned());
        self.write_async(move |conn| {
            conn.prepare_cached("INSERT INTO signals (execution_arn, signal) VALUES (?1, ?2)")?
                .execute(params![arn, signal])?;
            let id = conn.last_insert_rowid();
            conn.prepare_cached("UPDATE executions SET wake_at = ?2 WHERE arn = ?1 AND wake_at IS NOT NULL")?
                .execute(params![arn, SIGNALLED])?;
            Ok(id)
        })
    }

    fn signals(&self, execution_arn: &str) -> StoreFuture<'_, Vec<PostedSignal>> {
        super::super::ready(self.readers.with(|conn| {
            let mut statement = conn
                .prepare_cached("SELECT id, execution_arn, signal FROM signals WHERE execution_arn = ?1 ORDER BY id")?;
            let rows = statement.query_map([execution_arn], |row| {
                Ok(PostedSignal { id: row.get(0)?, execution_arn: row.get(1)?, signal: row.get(2)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        }))
    }

    fn delete_signals(&self, ids: &[i64]) -> StoreFuture<'_, ()> {
        let ids = ids.to_vec();
        self.write_async(move |conn| {
            let mut statement = conn.prepare_cached("DELETE FROM signals WHERE id = ?1")?;
            for id in ids {
                statement.execute([id])?;
            }
            Ok(())
        })
    }

    fn schedule_activity_task(&self, task: &ActivityTask) -> StoreFuture<'_, ()> {
        let task = task.clone();
        self.write_async(move |conn| {
            conn.prepare_cached(
                "INSERT INTO activity_tasks (activity_arn, token, execution_arn, input) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (token) DO NOTHING",
            )?
            .execute(params![task.activity_arn, task.token, task.execution_arn, task.input])?;
            Ok(())
        })
    }

    fn take_activity_task(&self, activity_arn: &str) -> StoreFuture<'_, Option<ActivityTask>> {
        let arn = activity_arn.to_owned();
        self.write_async(move |conn| {
            Ok(conn
                .prepare_cached(
                    "UPDATE activity_tasks SET taken = 1 WHERE id = \
                     (SELECT id FROM activity_tasks WHERE activity_arn = ?1 AND taken = 0 ORDER BY id LIMIT 1) \
                     RETURNING activity_arn, token, execution_arn, input",
                )?
                .query_row([arn], |row| {
                    Ok(ActivityTask {
                        activity_arn: row.get(0)?,
                        token: row.get(1)?,
                        execution_arn: row.get(2)?,
                        input: row.get(3)?,
                    })
                })
                .optional()?)
        })
    }

    fn drop_activity_tasks(&self, execution_arn: &str) -> StoreFuture<'_, ()> {
        let arn = execution_arn.to_owned();
        self.write_async(move |conn| {
            conn.prepare_cached("DELETE FROM activity_tasks WHERE execution_arn = ?1")?.execute([arn])?;
            Ok(())
        })
    }

    fn watch(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Notice>> {
        // One process owns a SQLite database: every signal and task comes from the node that
        // reads it.
        None
    }
}
