//! Message queues kept in the store, spoken to as Amazon SQS.
//!
//! A definition that sends to SQS (`arn:aws:states:::sqs:sendMessage`, or
//! `sqs:sendMessage.waitForTaskToken` with the task token in the message) and a worker that
//! reads the queue work together on one server: the queue lives in the store beside the
//! executions, so every node sees it and it survives a restart. Workers use any SQS client
//! against the server's endpoint (boto3's `sqs` client, `aws sqs`): `CreateQueue`,
//! `GetQueueUrl`, `ListQueues`, `SendMessage`, `ReceiveMessage` with long polling,
//! `DeleteMessage`, `ChangeMessageVisibility`, `GetQueueAttributes`, `PurgeQueue` and
//! `DeleteQueue`, in SQS's JSON protocol ([`crate::api`]).
//!
//! A received message is hidden for the queue's visibility timeout; its receipt handle is the
//! one that may delete it. A message not deleted in time is received again. Messages a task
//! sends get an id derived from the execution and the task, so a task run again after a crash
//! does not send twice.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use md5::{Digest as _, Md5};
use serde_json::Value;

use crate::engine::Clock;
use crate::store::{Millis, QueueCounts, QueueMessage, QueueRecord, Store, StoreError};

/// The account queue ARNs and URLs name, as state machine ARNs do.
pub const ACCOUNT: &str = "123456789012";

/// SQS's limits.
const MAX_BODY_BYTES: usize = 262_144;
const MAX_WAIT_SECONDS: u64 = 20;
const MAX_VISIBILITY_SECONDS: u64 = 43_200;
const MAX_DELAY_SECONDS: u64 = 900;
const MAX_RECEIVE: u64 = 10;

/// How often a long poll looks again for messages another node sent.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Why a queue operation failed, as SQS names it.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// No queue of that name.
    #[error("The specified queue does not exist.")]
    DoesNotExist,
    /// A queue of that name exists with other attributes.
    #[error("A queue already exists with the same name and a different value for attribute {0}")]
    NameExists(String),
    /// A parameter is out of range or malformed.
    #[error("{0}")]
    InvalidParameter(String),
    /// A receipt handle that is not a message's latest.
    #[error("The input receipt handle \"{0}\" is not a valid receipt handle.")]
    ReceiptHandleIsInvalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A message as SendMessage answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Its id.
    pub message_id: String,
    /// The MD5 of its body, in hex.
    pub md5_of_body: String,
}

/// A message as ReceiveMessage answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The message.
    pub message: QueueMessage,
    /// The handle that may delete it.
    pub receipt: String,
    /// The MD5 of its body, in hex.
    pub md5_of_body: String,
}

/// What to send.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// The body.
    pub body: String,
    /// Message attributes, as SQS's `MessageAttributes` (JSON object), kept as given.
    pub attributes: Value,
    /// How long it stays hidden first; the queue's `DelaySeconds` when `None`.
    pub delay_seconds: Option<u64>,
    /// Its id; a random one when `None`. Sending an id twice sends once.
    pub id: Option<String>,
}

/// The queues of one store.
#[derive(Clone)]
pub struct Queues {
    store: Arc<dyn Store>,
    clock: Clock,
    /// Wakes this node's long polls when this node sends.
    sent: Arc<tokio::sync::Notify>,
}

impl Queues {
    /// The queues of `store`, timed by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Self {
        Self { store, clock, sent: Arc::new(tokio::sync::Notify::new()) }
    }

    fn now(&self) -> Millis {
        self.clock.now().0
    }

    /// CreateQueue: idempotent for the same attributes.
    pub async fn create(&self, name: &str, attributes: &BTreeMap<String, String>) -> Result<QueueRecord, QueueError> {
        check_name(name)?;
        let attributes = settings(attributes)?;
        let record = QueueRecord {
            name: name.to_owned(),
            created: self.now(),
            attributes: serde_json::to_string(&attributes).unwrap_or_default(),
        };
        if self.store.create_queue(&record).await? {
            return Ok(record);
        }
        let existing = self.get(name).await?;
        let stored: BTreeMap<String, String> = serde_json::from_str(&existing.attributes).unwrap_or_default();
        match attributes.iter().find(|(key, value)| stored.get(*key) != Some(value)) {
            Some((key, _)) => Err(QueueError::NameExists(key.clone())),
            None => Ok(existing),
        }
    }

    /// A queue by name.
    pub async fn get(&self, name: &str) -> Result<QueueRecord, QueueError> {
        self.store.queue(name).await?.ok_or(QueueError::DoesNotExist)
    }

    /// ListQueues.
    pub async fn list(&self, prefix: &str) -> Result<Vec<QueueRecord>, QueueError> {
        Ok(self.store.list_queues().await?.into_iter().filter(|queue| queue.name.starts_with(prefix)).collect())
    }

    /// DeleteQueue, with its messages.
    pub async fn delete(&self, name: &str) -> Result<(), QueueError> {
        if self.store.delete_queue(name).await? { Ok(()) } else { Err(QueueError::DoesNotExist) }
    }

    /// SendMessage.
    pub async fn send(&self, queue: &str, outgoing: Outgoing) -> Result<Sent, QueueError> {
        let record = self.get(queue).await?;
        if outgoing.body.is_empty() || outgoing.body.len() > MAX_BODY_BYTES {
            return Err(QueueError::InvalidParameter(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {MAX_BODY_BYTES} bytes and not empty."
            )));
        }
        let delay = match outgoing.delay_seconds {
            Some(seconds) => in_range("DelaySeconds", seconds, MAX_DELAY_SECONDS)?,
            None => setting(&record, "DelaySeconds", 0),
        };
        let now = self.now();
        let message = QueueMessage {
            id: outgoing.id.unwrap_or_else(crate::engine::random_uuid),
            queue: queue.to_owned(),
            body: outgoing.body,
            attributes: if outgoing.attributes.is_null() { "{}".to_owned() } else { outgoing.attributes.to_string() },
            sent: now,
            visible_at: now.saturating_add(millis(delay)),
            receive_count: 0,
        };
        self.store.send_message(&message).await?;
        self.sent.notify_waiters();
        Ok(Sent { md5_of_body: md5_hex(&message.body), message_id: message.id })
    }

    /// ReceiveMessage: up to `max` messages, waiting up to `wait_seconds` for the first (the
    /// queue's `ReceiveMessageWaitTimeSeconds` when `None`).
    pub async fn receive(
        &self,
        queue: &str,
        max: Option<u64>,
        visibility_seconds: Option<u64>,
        wait_seconds: Option<u64>,
    ) -> Result<Vec<Received>, QueueError> {
        let record = self.get(queue).await?;
        let max = match max {
            Some(max) if (1..=MAX_RECEIVE).contains(&max) => max,
            None => 1,
            Some(max) => {
                return Err(QueueError::InvalidParameter(format!(
                    "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and {MAX_RECEIVE}, if provided."
                )));
            }
        };
        let visibility = match visibility_seconds {
            Some(seconds) => in_range("VisibilityTimeout", seconds, MAX_VISIBILITY_SECONDS)?,
            None => setting(&record, "VisibilityTimeout", 30),
        };
        let wait = match wait_seconds {
            Some(seconds) => in_range("WaitTimeSeconds", seconds, MAX_WAIT_SECONDS)?,
            None => setting(&record, "ReceiveMessageWaitTimeSeconds", 0),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
        loop {
            let woken = self.sent.notified();
            let now = self.now();
            let max = usize::try_from(max).unwrap_or(1);
            let received = self.store.receive_messages(queue, now, max, now.saturating_add(millis(visibility))).await?;
            if !received.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(received
                    .into_iter()
                    .map(|(message, receipt)| Received { md5_of_body: md5_hex(&message.body), message, receipt })
                    .collect());
            }
            let until = deadline.min(tokio::time::Instant::now() + POLL_INTERVAL);
            let _ = tokio::time::timeout_at(until, woken).await;
        }
    }

    /// DeleteMessage.
    pub async fn delete_message(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        self.get(queue).await?;
        if self.store.delete_message(queue, receipt).await? {
            Ok(())
        } else {
            Err(QueueError::ReceiptHandleIsInvalid(receipt.to_owned()))
        }
    }

    /// ChangeMessageVisibility: the message may be received again in `seconds`.
    pub async fn change_visibility(&self, queue: &str, receipt: &str, seconds: u64) -> Result<(), QueueError> {
        self.get(queue).await?;
        let seconds = in_range("VisibilityTimeout", seconds, MAX_VISIBILITY_SECONDS)?;
        let at = self.now().saturating_add(millis(seconds));
        if self.store.change_visibility(queue, receipt, at).await? {
            if seconds == 0 {
                self.sent.notify_waiters();
            }
            Ok(())
        } else {
            Err(QueueError::ReceiptHandleIsInvalid(receipt.to_owned()))
        }
    }

    /// PurgeQueue.
    pub async fn purge(&self, queue: &str) -> Result<(), QueueError> {
        self.get(queue).await?;
        Ok(self.store.purge_queue(queue).await?)
    }

    /// GetQueueAttributes: the settings, the counts and the ARN.
    pub async fn attributes(&self, queue: &str) -> Result<BTreeMap<String, String>, QueueError> {
        let record = self.get(queue).await?;
        let QueueCounts { visible, hidden } = self.store.queue_counts(queue, self.now()).await?;
        let mut attributes: BTreeMap<String, String> =
            DEFAULTS.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        attributes.extend(serde_json::from_str::<BTreeMap<String, String>>(&record.attributes).unwrap_or_default());
        attributes.insert("ApproximateNumberOfMessages".into(), visible.to_string());
        attributes.insert("ApproximateNumberOfMessagesNotVisible".into(), hidden.to_string());
        attributes.insert("CreatedTimestamp".into(), (record.created / 1000).to_string());
        attributes.insert("QueueArn".into(), queue_arn(queue));
        Ok(attributes)
    }
}

/// The settings a queue has unless it was created with others.
const DEFAULTS: &[(&str, &str)] = &[
    ("DelaySeconds", "0"),
    ("MaximumMessageSize", "262144"),
    ("MessageRetentionPeriod", "345600"),
    ("ReceiveMessageWaitTimeSeconds", "0"),
    ("VisibilityTimeout", "30"),
];

/// A queue's ARN.
pub fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}")
}

/// The queue a `QueueUrl` names: its last path segment.
pub fn queue_name(url: &str) -> Result<&str, QueueError> {
    let name = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    if name.is_empty() || name.contains(':') {
        return Err(QueueError::InvalidParameter(format!("{url:?} is not a queue URL")));
    }
    Ok(name)
}

/// The MD5 of a body, in hex, as SQS answers it and clients check it.
pub fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

fn check_name(name: &str) -> Result<(), QueueError> {
    let valid = !name.is_empty()
        && name.len() <= 80
        && name.trim_end_matches(".fifo").bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_".contains(&byte));
    if valid {
        Ok(())
    } else {
        Err(QueueError::InvalidParameter(format!(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length: {name:?}"
        )))
    }
}

/// The attributes a queue is created with, checked; unknown ones are refused.
fn settings(given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, QueueError> {
    let mut checked = BTreeMap::new();
    for (key, value) in given {
        let limit = match key.as_str() {
            "DelaySeconds" => MAX_DELAY_SECONDS,
            "VisibilityTimeout" => MAX_VISIBILITY_SECONDS,
            "ReceiveMessageWaitTimeSeconds" => MAX_WAIT_SECONDS,
            "MessageRetentionPeriod" => 1_209_600,
            "MaximumMessageSize" => MAX_BODY_BYTES as u64,
            // Kept as given, for clients that set them; stepwasm's queues do not act on them.
            "Policy"
            | "RedrivePolicy"
            | "FifoQueue"
            | "ContentBasedDeduplication"
            | "KmsMasterKeyId"
            | "SqsManagedSseEnabled" => {
                checked.insert(key.clone(), value.clone());
                continue;
            }
            _ => return Err(QueueError::InvalidParameter(format!("Unknown Attribute {key}."))),
        };
        let number: u64 = value
            .parse()
            .map_err(|_| QueueError::InvalidParameter(format!("Invalid value for the parameter {key}.")))?;
        in_range(key, number, limit)?;
        checked.insert(key.clone(), number.to_string());
    }
    Ok(checked)
}

fn setting(record: &QueueRecord, key: &str, default: u64) -> u64 {
    serde_json::from_str::<BTreeMap<String, String>>(&record.attributes)
        .ok()
        .and_then(|attributes| attributes.get(key)?.parse().ok())
        .unwrap_or(default)
}

fn in_range(name: &str, value: u64, limit: u64) -> Result<u64, QueueError> {
    if value <= limit {
        Ok(value)
    } else {
        Err(QueueError::InvalidParameter(format!(
            "Value {value} for parameter {name} is invalid. Reason: Must be between 0 and {limit}."
        )))
    }
}

fn millis(seconds: u64) -> Millis {
    i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
}
