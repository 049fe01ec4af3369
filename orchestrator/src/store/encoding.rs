//! What the durable stores write: a step's columns, and integers and JSON as SQL holds them.

use super::{Append, StoreError, StoreResult, history_codec};

/// A step ready to be written, encoded before any connection is taken.
pub(super) struct EncodedStep {
    pub(super) sequence: i64,
    pub(super) event_count: i64,
    /// The journal entry, as JSON.
    pub(super) entry: String,
    /// The history events, as `history_codec` writes them.
    pub(super) events: String,
}

pub(super) fn encode_step(append: &Append) -> StoreResult<EncodedStep> {
    let arn = &append.execution_arn;
    let entry = serde_json::to_string(&append.entry)
        .map_err(|e| StoreError::database(format!("journal entry of {arn} cannot be encoded"), e))?;
    Ok(EncodedStep {
        sequence: to_sql_int(append.entry.sequence, "sequence")?,
        event_count: to_sql_int(append.events.len() as u64, "event count")?,
        entry,
        events: history_codec::encode(&append.events, &append.documents)?,
    })
}

/// A stored JSON text, decoded; `what` names it in the error.
pub(super) fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(super) fn to_sql_int(value: u64, what: &str) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::Refused(format!("{what} {value} is too large to store")))
}

pub(super) fn from_sql_int(value: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is negative")))
}
