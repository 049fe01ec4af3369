//! RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution runs again from the states that did
//! not succeed, under the same ARN, with its history continued (see `stepwasm_asl`'s redrive).
//!
//! A redrive rebuilds the execution from its journal, takes the redrive step, and stores that
//! step together with the row's return to RUNNING in one write ([`JournalStore::redrive`]); only
//! then is the execution driven again. The store refuses a second redrive of the same ended
//! execution, so two concurrent requests (on one node or two) cannot both run it.
//!
//! [`JournalStore::redrive`]: crate::store::JournalStore::redrive

use super::error::{ErrorKind, ServiceError};
use super::recorder::{completion, issue_tokens};
use super::{Service, ServiceResult};
use crate::engine::DocumentTexts;
use crate::store::{Append, ExecutionRecord, ExecutionStatus, JournalEntry, JournalInput, Millis, Redrive, StoreError};

/// How long after it ended an execution may be redriven: 14 days, as on AWS.
const REDRIVABLE_PERIOD_MILLIS: Millis = 14 * 24 * 3600 * 1000;
/// How long after it started an execution may still run at all: one year, as on AWS.
const MAX_EXECUTION_MILLIS: Millis = 365 * 24 * 3600 * 1000;
/// How long a redrive's `clientToken` makes a repeated request succeed again: 15 minutes.
const CLIENT_TOKEN_MILLIS: Millis = 15 * 60 * 1000;

impl Service {
    /// RedriveExecution: runs `arn` again from where it did not succeed; the redrive's date.
    /// A repeated request with the same `client_token` answers as the first did.
    pub async fn redrive_execution(&self, arn: &str, client_token: Option<&str>) -> ServiceResult<Millis> {
        let record = self.describe_execution(arn).await?;
        let now = self.inner.engine.clock().now().0;
        if let (Some(token), Some(date)) = (client_token, record.redrive_date)
            && record.redrive_token.as_deref() == Some(token)
            && now - date <= CLIENT_TOKEN_MILLIS
        {
            return Ok(date);
        }
        redrive_status(&record, now).map_err(not_redrivable)?;
        if !self.reserve_driver(arn) {
            return Err(not_redrivable(why_running()));
        }
        let redriven = self.redrive_reserved(&record, client_token).await;
        if redriven.is_err() {
            self.cancel_reservation(arn);
        }
        redriven
    }

    /// The redrive, once this node has reserved the right to drive the execution.
    async fn redrive_reserved(&self, record: &ExecutionRecord, client_token: Option<&str>) -> ServiceResult<Millis> {
        let arn = &record.arn;
        if !self.claim_lease(arn).await? {
            return Err(not_redrivable(why_running()));
        }
        let redriven = self.redrive_leased(record, client_token).await;
        if redriven.is_err() {
            let _ = self.inner.store.release(arn, &self.inner.config.node_id).await;
        }
        redriven
    }

    /// The redrive, once this node holds the execution's lease.
    async fn redrive_leased(&self, record: &ExecutionRecord, client_token: Option<&str>) -> ServiceResult<Millis> {
        let arn = &record.arn;
        let prepared = self.rebuild(record).await?;
        let Some(redriven) = self.inner.engine.redrive(prepared) else {
            return Err(not_redrivable("Execution history event limit exceeded".to_owned()));
        };
        let at = redriven.entry.at;
        let append = Append {
            execution_arn: arn.clone(),
            entry: JournalEntry {
                sequence: redriven.sequence,
                input: JournalInput::Redrive,
                at: at.0,
                entropy: redriven.entry.entropy.clone(),
            },
            events: redriven.history.clone(),
            documents: DocumentTexts::default(),
            completion: redriven.prepared.finished().map(|outcome| completion(outcome, at)),
        };
        let redrive = Redrive {
            count: record.redrive_count.saturating_add(1),
            date: at.0,
            client_token: client_token.map(str::to_owned),
        };
        // As for every step: the tokens it hands out are routable before it is stored.
        issue_tokens(&*self.inner.store, arn, redriven.prepared.start_actions()).await?;
        match self.inner.store.redrive(append, redrive).await {
            Ok(()) => {}
            Err(StoreError::Refused(_)) => return Err(not_redrivable(why_running())),
            Err(error) => return Err(error.into()),
        }
        self.publish(arn, &redriven.history);
        self.drive(arn.clone(), redriven.prepared, Vec::new());
        Ok(at.0)
    }
}

impl Service {
    /// Whether `record` can be redriven now; if not, why, in AWS's words (DescribeExecution's
    /// `redriveStatusReason`, RedriveExecution's error).
    pub fn redrive_status(&self, record: &ExecutionRecord) -> Result<(), String> {
        redrive_status(record, self.inner.engine.clock().now().0)
    }
}

fn redrive_status(record: &ExecutionRecord, now: Millis) -> Result<(), String> {
    match record.status {
        ExecutionStatus::Running | ExecutionStatus::Succeeded => {
            Err(format!("Execution is {} and cannot be redriven", record.status.as_str()))
        }
        _ if now - record.start_date > MAX_EXECUTION_MILLIS => {
            Err("Execution has exceeded the max execution time".to_owned())
        }
        _ if record.stop_date.is_some_and(|stop| now - stop > REDRIVABLE_PERIOD_MILLIS) => {
            Err("Execution redrivable period exceeded".to_owned())
        }
        _ => Ok(()),
    }
}

fn why_running() -> String {
    "Execution is RUNNING and cannot be redriven".to_owned()
}

fn not_redrivable(reason: String) -> ServiceError {
    ServiceError::new(ErrorKind::ExecutionNotRedrivable, reason)
}
