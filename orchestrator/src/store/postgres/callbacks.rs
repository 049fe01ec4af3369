//! Task tokens and posted signals, and the watch that wakes a node when another posts one.
//!
//! Posting a signal sends `NOTIFY stepwasm_signals` with the execution's ARN, in the same
//! statement, so the notice goes out when the signal is committed and never before. Each node
//! keeps one connection outside the pool that `LISTEN`s; when it is lost, the watch reconnects
//! and says notices may have been missed, so the node looks again at what it drives.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Row};

use super::super::{CallbackStore, IssuedToken, PostedSignal, SignalNotice, StoreFuture, StoreResult};
use super::{PostgresStore, get};

/// The notification channel.
const CHANNEL: &str = "stepwasm_signals";

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
                "WITH posted AS (INSERT INTO signals (execution_arn, signal) VALUES ($1, $2) RETURNING id) \
                 SELECT id, pg_notify('{CHANNEL}', $1)::text FROM posted"
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

    fn watch_signals(&self) -> Option<mpsc::UnboundedReceiver<SignalNotice>> {
        let (notices, receiver) = mpsc::unbounded_channel();
        tokio::spawn(listen(self.config.clone(), notices));
        Some(receiver)
    }
}

/// Forwards notices until the receiver is dropped, reconnecting whenever the connection is lost.
async fn listen(config: tokio_postgres::Config, notices: mpsc::UnboundedSender<SignalNotice>) {
    const LONGEST_BACKOFF: Duration = Duration::from_secs(2);
    let mut backoff = Duration::from_millis(50);
    while !notices.is_closed() {
        if let Ok((client, mut connection)) = config.connect(tokio_postgres::NoTls).await {
            // The connection's messages (notifications among them) only arrive while it is polled.
            let (payloads, mut received) = mpsc::unbounded_channel();
            let pump = tokio::spawn(async move {
                let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                while let Some(Ok(message)) = messages.next().await {
                    if let AsyncMessage::Notification(notification) = message
                        && payloads.send(notification.payload().to_owned()).is_err()
                    {
                        break;
                    }
                }
            });
            if client.batch_execute(&format!("LISTEN {CHANNEL}")).await.is_ok() {
                backoff = Duration::from_millis(50);
                // Whatever was posted before the LISTEN took effect was not announced.
                if notices.send(SignalNotice::MaybeMissed).is_err() {
                    return;
                }
                loop {
                    tokio::select! {
                        payload = received.recv() => match payload {
                            Some(arn) => if notices.send(SignalNotice::Posted(arn)).is_err() { return },
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
