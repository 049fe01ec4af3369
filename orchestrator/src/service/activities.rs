//! Activities: tasks that remote workers take with GetActivityTask and answer with SendTask*.
//!
//! Scheduled tasks wait in the store, so a worker polling any node takes each exactly once.
//! A poll waits on its activity's wake-up here, which a task scheduled on this node, or the
//! store's notice of one scheduled on another, sets off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::error::{ErrorKind, ServiceError};
use super::names::{Listing, activity_arn, check_name};
use super::{Service, ServiceResult};
use crate::store::{ActivityRecord, ActivityTask, ExecutionStatus};

/// Per-activity wake-ups for long-polling workers.
#[derive(Debug, Default)]
pub(crate) struct ActivityWakeups {
    by_activity: Mutex<HashMap<String, Arc<Notify>>>,
}

impl ActivityWakeups {
    fn of(&self, activity_arn: &str) -> Arc<Notify> {
        let mut by_activity = self.by_activity.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(by_activity.entry(activity_arn.to_owned()).or_default())
    }

    /// Wakes the workers polling `activity_arn` on this node.
    pub(crate) fn wake(&self, activity_arn: &str) {
        let by_activity = self.by_activity.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(arrived) = by_activity.get(activity_arn) {
            arrived.notify_waiters();
        }
    }

    /// Wakes every worker polling on this node, to look again.
    pub(crate) fn wake_all(&self) {
        let by_activity = self.by_activity.lock().unwrap_or_else(PoisonError::into_inner);
        by_activity.values().for_each(|arrived| arrived.notify_waiters());
    }
}

impl Service {
    /// CreateActivity: idempotent on the name.
    pub async fn create_activity(&self, name: &str) -> ServiceResult<ActivityRecord> {
        check_name(name)?;
        let record = ActivityRecord {
            arn: activity_arn(name),
            name: name.to_owned(),
            created: self.inner.engine.clock().now().0,
        };
        Ok(self.inner.store.create_activity(&record).await?)
    }

    /// DescribeActivity.
    pub async fn describe_activity(&self, arn: &str) -> ServiceResult<ActivityRecord> {
        self.inner.store.activity(arn).await?.ok_or_else(|| activity_does_not_exist(arn))
    }

    /// DeleteActivity.
    pub async fn delete_activity(&self, arn: &str) -> ServiceResult<()> {
        super::names::activity_name(arn)?;
        self.inner.store.delete_activity(arn).await?;
        Ok(())
    }

    /// ListActivities, by name.
    pub async fn list_activities(
        &self,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> ServiceResult<(Vec<ActivityRecord>, Option<String>)> {
        let listing = Listing::new("activities");
        let page = listing.request(max_results, next_token, false)?;
        let page = self.inner.store.list_activities(&page).await?;
        Ok((page.items, listing.next_token(page.next)))
    }

    /// GetActivityTask: waits up to the poll duration for a task; `None` when none came.
    pub async fn get_activity_task(&self, arn: &str) -> ServiceResult<Option<ActivityTask>> {
        self.describe_activity(arn).await?;
        let deadline = tokio::time::Instant::now() + self.inner.config.activity_poll;
        let arrived = self.inner.activities.of(arn);
        loop {
            // Created before looking, so a wake-up between the look and the wait is not lost.
            let woken = arrived.notified();
            while let Some(task) = self.inner.store.take_activity_task(arn).await? {
                // A task of an execution that has ended, left behind by a node that crashed:
                // no worker can answer it.
                if self.is_running(&task.execution_arn).await? {
                    return Ok(Some(task));
                }
                self.inner.store.drop_activity_tasks(&task.execution_arn).await?;
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return Ok(None);
            }
        }
    }

    async fn is_running(&self, execution_arn: &str) -> ServiceResult<bool> {
        let execution = self.inner.store.execution(execution_arn).await?;
        Ok(execution.is_some_and(|execution| execution.status == ExecutionStatus::Running))
    }
}

fn activity_does_not_exist(arn: &str) -> ServiceError {
    ServiceError::new(ErrorKind::ActivityDoesNotExist, format!("Activity Does Not Exist: '{arn}'"))
}

/// How long GetActivityTask waits by default, as on AWS.
pub(crate) const DEFAULT_ACTIVITY_POLL: Duration = Duration::from_secs(60);
