//! Activities: tasks that remote workers take with GetActivityTask and answer with SendTask*.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::error::{ErrorKind, ServiceError};
use super::names::{activity_arn, check_name, decode_page_token, encode_page_token, page_size};
use super::{Service, ServiceResult};
use crate::store::{ActivityRecord, PageRequest};

/// Work waiting for an activity worker: what GetActivityTask hands out.
#[derive(Debug, Clone)]
pub struct ActivityTask {
    /// The task token to answer with.
    pub token: String,
    /// The task input, as JSON text.
    pub input: String,
}

/// Per-activity queues of scheduled tasks, with a wake-up for long-polling workers.
#[derive(Debug, Default)]
pub(crate) struct ActivityQueues {
    queues: Mutex<HashMap<String, VecDeque<ActivityTask>>>,
    arrived: Notify,
}

impl ActivityQueues {
    pub(crate) fn push(&self, activity_arn: &str, task: ActivityTask) {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let queue = queues.entry(activity_arn.to_owned()).or_default();
        // A resumed execution re-schedules its outstanding activity task with the same token.
        if !queue.iter().any(|queued| queued.token == task.token) {
            queue.push_back(task);
        }
        drop(queues);
        self.arrived.notify_waiters();
    }

    fn pop(&self, activity_arn: &str) -> Option<ActivityTask> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner).get_mut(activity_arn).and_then(VecDeque::pop_front)
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
        self.inner.store.delete_activity(arn).await?;
        Ok(())
    }

    /// ListActivities, by name.
    pub async fn list_activities(
        &self,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> ServiceResult<(Vec<ActivityRecord>, Option<String>)> {
        let page = PageRequest {
            limit: page_size(max_results)?,
            after: next_token.map(|token| decode_page_token("activities", token)).transpose()?,
            reverse: false,
        };
        let page = self.inner.store.list_activities(&page).await?;
        Ok((page.items, page.next.map(|position| encode_page_token("activities", &position))))
    }

    /// GetActivityTask: waits up to the poll duration for a task; `None` when none came.
    pub async fn get_activity_task(&self, arn: &str) -> ServiceResult<Option<ActivityTask>> {
        self.describe_activity(arn).await?;
        let deadline = tokio::time::Instant::now() + self.inner.config.activity_poll;
        loop {
            // Register interest before looking, so a push between the look and the wait is seen.
            let arrived = self.inner.activities.arrived.notified();
            if let Some(task) = self.inner.activities.pop(arn) {
                return Ok(Some(task));
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return Ok(None);
            }
        }
    }
}

fn activity_does_not_exist(arn: &str) -> ServiceError {
    ServiceError::new(ErrorKind::ActivityDoesNotExist, format!("Activity Does Not Exist: '{arn}'"))
}

/// How long GetActivityTask waits by default, as on AWS.
pub(crate) const DEFAULT_ACTIVITY_POLL: Duration = Duration::from_secs(60);
