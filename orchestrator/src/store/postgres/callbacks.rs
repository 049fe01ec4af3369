//! Task tokens, posted signals and queued activity tasks, and the watch that wakes a node when
//! another posts a signal or schedules a task.
//!
//! Posting a signal sends `NOTIFY stepwasm_signals` with the execution's ARN, and scheduling an
//! activity task sends `NOTIFY stepwasm_activity_tasks` with the activity's, in the same
//! statement (deploying a function notifies too, see `functions`), so the notice goes out when the row is committed and never before. Each node
//! keeps one connection outside the pool that `LISTEN`s; when it is lost, the watch reconnects
//! and says notices may have been missed, so the node looks again at what it drives.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Row};

use super::super::{
    ActivityTask, CallbackStore, IssuedToken, Notice, PostedSignal, SIGNALLED, StoreFuture, StoreResult,
};
use super::functions::FUNCTIONS;
use super::{PostgresStore, get};

/// The notification channels.
const SIGNALS: &str = "stepwasm_signals";
const ACTIVITY_TASKS: &str = "stepwasm_activity_tasks";

fn issued_token(row: &Row) -> StoreResult<IssuedToken> {
    Ok(IssuedToken { token: get(row, 0)?, execution_arn: get(row, 1)?, state_name: get(row, 2)?, issued: get(row, 3)? })
}

impl CallbackStore for PostgresStore {
    fn issue_token(&self, token: &IssuedToken) -> StoreFuture<'_, ()> {
        let token = token.clone();
        Box::pin(async move {
            self.execute(
                "INSERT INTO task_tokens (token, execution_arn, state_name, issued) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (token) DO NOTHING",
                &[&token.token, &token.execution_arn, &token.state_name, &token.issued],
            )
            .await?;
            Ok(())
        })
    }

    fn token(&self, token: &str) -> StoreFuture<'_, Option<IssuedToken>> {
        let token = token.to_owned();
        Box::pin(async move {
            let rows = self
                .query("SELECT token, execution_arn, state_name, issued FROM task_tokens WHERE token = $1", &[&token])
                .await?;
            rows.first().map(issued_token).transpose()
        })
    }

    fn tokens_of(&self, execution_arn: &str) -> StoreFuture<'_, Vec<IssuedToken>> {
        let arn = execution_arn.to_owned();
        Box::pin(async move {
            let rows = self
                .query(
                    "SELECT token, execution_arn, state_name, issued FROM task_tokens WHERE execution_arn = $1 \
                     ORDER BY issued, token",
                    &[&arn],
                )
                .await?;
            rows.iter().map(issued_token).collect()
        })
    }

    fn post_signal(&self, execution_arn: &str, signal: &str) -> StoreFuture<'_, i64> {
        let (arn, signal) = (execution_arn.to_owned(), signal.to_owned());
        Box::pin(async move {
            let sql = format!(
                "WITH posted AS (INSERT INTO signals (execution_arn, signal) VALUES ($1, $2) RETURNING id), \
                 woken AS (UPDATE executions SET wake_at = {SIGNALLED} WHERE arn = $1 AND wake_at IS NOT NULL) \
                 SELECT id, pg_notify('{SIGNALS}', $1)::text FROM posted"
            );
            let rows = self.query(&sql, &[&arn, &signal]).await?;
            let row =
                rows.first().ok_or_else(|| super::super::StoreError::Corrupt("a posted signal has no id".into()))?;
            get(row, 0)
        })
    }

    fn signals(&self, execution_arn: &str) -> StoreFuture<'_, Vec<PostedSignal>> {
        let arn = execution_arn.to_owned();
        Box::pin(async move {
            let rows = self
                .query("SELECT id, execution_arn, signal FROM signals WHERE execution_arn = $1 ORDER BY id", &[&arn])
                .await?;
            rows.iter()
                .map(|row| Ok(PostedSignal { id: get(row, 0)?, execution_arn: get(row, 1)?, signal: get(row, 2)? }))
                .collect()
        })
    }

    fn delete_signals(&self, ids: &[i64]) -> StoreFuture<'_, ()> {
        let ids = ids.to_vec();
        Box::pin(async move {
            if !ids.is_empty() {
                self.execute("DELETE FROM signals WHERE id = ANY($1)", &[&ids]).await?;
            }
            Ok(())
        })
    }

    fn schedule_activity_task(&self, task: &ActivityTask) -> StoreFuture<'_, ()> {
        let task = task.clone();
        Box::pin(async move {
            let sql = format!(
                "WITH queued AS (INSERT INTO activity_tasks (activity_arn, token, execution_arn, input) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (token) DO NOTHING RETURNING id) \
                 SELECT pg_notify('{ACTIVITY_TASKS}', $1)::text FROM queued"
            );
            self.query(&sql, &[&task.activity_arn, &task.token, &task.execution_arn, &task.input]).await?;
            Ok(())
        })
    }

    fn take_activity_task(&self, activity_arn: &str) -> StoreFuture<'_, Option<ActivityTask>> {
        let arn = activity_arn.to_owned();
        Box::pin(async move {
            // SKIP LOCKED: two workers polling at once take two tasks rather than queue up on one.
            let rows = self
                .query(
                    "UPDATE activity_tasks SET taken = TRUE WHERE id = \
                     (SELECT id FROM activity_tasks WHERE activity_arn = $1 AND NOT taken ORDER BY id LIMIT 1 \
                      FOR UPDATE SKIP LOCKED) \
                     RETURNING activity_arn, token, execution_arn, input",
                    &[&arn],
                )
                .await?;
            rows.first()
                .map(|row| {
                    Ok(ActivityTask {
                        activity_arn: get(row, 0)?,
                        token: get(row, 1)?,
                        execution_arn: get(row, 2)?,
                        input: get(row, 3)?,
                    })
                })
                .transpose()
        })
    }

    fn drop_activity_tasks(&self, execution_arn: &str) -> StoreFuture<'_, ()> {
        let arn = execution_arn.to_owned();
        Box::pin(async move {
            self.execute("DELETE FROM activity_tasks WHERE execution_arn = $1", &[&arn]).await?;
            Ok(())
        })
    }

    fn watch(&self) -> Option<mpsc::UnboundedReceiver<Notice>> {
        let (notices, receiver) = mpsc::unbounded_channel();
        tokio::spawn(listen(self.config.clone(), notices));
        Some(receiver)
    }
}

/// Forwards notices until the receiver is dropped, reconnecting whenever the connection is lost.
async fn listen(config: tokio_postgres::Config, notices: mpsc::UnboundedSender<Notice>) {
    const LONGEST_BACKOFF: Duration = Duration::from_secs(2);
    let mut backoff = Duration::from_millis(50);
    while !notices.is_closed() {
        if let Ok((client, mut connection)) = config.connect(tokio_postgres::NoTls).await {
            // The connection's messages (notifications among them) only arrive while it is polled.
            let (payloads, mut received) = mpsc::unbounded_channel();
            let pump = tokio::spawn(async move {
                let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                while let Some(Ok(message)) = messages.next().await {
                    let AsyncMessage::Notification(notification) = message else { continue };
                    let subject = notification.payload().to_owned();
                    let notice = match notification.channel() {
                        SIGNALS => Notice::Signal(subject),
                        FUNCTIONS => Notice::Function(subject),
                        _ => Notice::ActivityTask(subject),
                    };
                    if payloads.send(notice).is_err() {
                        break;
                    }
                }
            });
            if client
                .batch_execute(&format!("LISTEN {SIGNALS}; LISTEN {ACTIVITY_TASKS}; LISTEN {FUNCTIONS}"))
                .await
                .is_ok()
            {
                backoff = Duration::from_millis(50);
                // Whatever was posted before the LISTEN took effect was not announced.
                if notices.send(Notice::MaybeMissed).is_err() {
                    return;
                }
                loop {
                    tokio::select! {
                        notice = received.recv() => match notice {
                            Some(notice) => if notices.send(notice).is_err() { return },
                            None => break,
                        },
                        () = notices.closed() => return,
                    }
                }
            }
            pump.abort();
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = notices.closed() => return,
        }
        backoff = (backoff * 2).min(LONGEST_BACKOFF);
    }
}
