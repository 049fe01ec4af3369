//! A Distributed Map's children as executions: ListExecutions with `mapRunArn`, and
//! DescribeExecution and GetExecutionHistory on a child's ARN.
//!
//! A child runs inside its parent and is journaled with it, so, like a Map Run, it is read by
//! rebuilding the parent from its journal, this time keeping each child's own history
//! ([`stepwasm_asl::ExecutionContext::child_executions`]). Nothing is stored twice, and what a
//! child shows is exactly what its parent ran.

use serde_json::Value;
use stepwasm_asl::{ChildExecution, ExecutionOutcome, parent_of_child};

use super::error::ServiceError;
use super::executions::{ExecutionDescription, HistoryPage, without_data};
use super::map_runs::map_run_execution;
use super::names::{Listing, page_size};
use super::{Service, ServiceResult};
use crate::store::{ExecutionRecord, ExecutionStatus};

impl Service {
    /// DescribeExecution, of an execution or of a Distributed Map's child.
    pub async fn describe(&self, arn: &str) -> ServiceResult<ExecutionDescription> {
        match self.describe_execution(arn).await {
            Ok(record) => Ok(ExecutionDescription { record, map_run_arn: None }),
            Err(not_found) => match self.child_execution(arn).await? {
                Some(child) => Ok(ExecutionDescription {
                    map_run_arn: Some(child.map_run_arn.clone()),
                    record: child_record(&child),
                }),
                None => Err(not_found),
            },
        }
    }

    /// The children of a Map Run, in the order they started, with `status` if given.
    pub async fn map_run_children(
        &self,
        map_run_arn: &str,
        status: Option<ExecutionStatus>,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> ServiceResult<(Vec<ExecutionRecord>, Option<String>)> {
        let not_found =
            || ServiceError::new(super::ErrorKind::ResourceNotFound, format!("Resource not found: '{map_run_arn}'"));
        let listing = Listing::new(format!("map-run-children {map_run_arn} {status:?}"));
        let page = listing.request(max_results, next_token, false)?;
        let parent = map_run_execution(map_run_arn)?.ok_or_else(not_found)?;
        let Some(parent) = self.inner.store.execution(&parent).await? else { return Err(not_found()) };
        let prepared = self.rebuild_as(&parent, true).await?;
        let execution = prepared.execution();
        if !execution.map_runs().iter().any(|run| run.arn == map_run_arn) {
            return Err(not_found());
        }
        let children: Vec<ExecutionRecord> = execution
            .child_executions()
            .iter()
            .filter(|child| child.map_run_arn == map_run_arn)
            .map(child_record)
            .filter(|child| status.is_none_or(|status| child.status == status))
            .collect();
        let (items, next) = window(children, page.after.as_deref(), page.limit)?;
        Ok((items, listing.next_token(next)))
    }

    /// GetExecutionHistory of a Distributed Map's child, if `arn` names one.
    pub(super) async fn child_history(
        &self,
        arn: &str,
        max_results: Option<i64>,
        reverse: bool,
        next_token: Option<&str>,
        include_execution_data: bool,
    ) -> ServiceResult<Option<HistoryPage>> {
        let listing = Listing::new(format!("history:{arn}:{reverse}"));
        // Checked before the rebuild, as for any execution.
        page_size(max_results)?;
        let Some(child) = self.child_execution(arn).await? else { return Ok(None) };
        let page = listing.request(max_results, next_token, reverse)?;
        let mut events: Vec<Value> = child.history.iter().map(stepwasm_asl::HistoryEvent::to_aws_json).collect();
        if reverse {
            events.reverse();
        }
        if !include_execution_data {
            events = events.into_iter().map(without_data).collect();
        }
        let (events, next) = window(events, page.after.as_deref(), page.limit)?;
        Ok(Some(HistoryPage { events, next_token: listing.next_token(next) }))
    }

    /// The child execution `arn` names, rebuilt from its parent, if it is one.
    async fn child_execution(&self, arn: &str) -> ServiceResult<Option<ChildExecution>> {
        let Some(parent) = parent_of_child(arn) else { return Ok(None) };
        let Some(parent) = self.inner.store.execution(&parent).await? else { return Ok(None) };
        let prepared = self.rebuild_as(&parent, true).await?;
        Ok(prepared.execution().child_executions().iter().find(|child| child.arn == arn).cloned())
    }
}

/// Items `after..after + limit` of `items`, and where the next page starts.
fn window<T>(items: Vec<T>, after: Option<&str>, limit: usize) -> ServiceResult<(Vec<T>, Option<String>)> {
    let start = match after {
        Some(after) => after.parse::<usize>().map_err(|_| ServiceError::invalid_token())?,
        None => 0,
    };
    let end = start.saturating_add(limit).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.into_iter().skip(start).take(end.saturating_sub(start)).collect(), next))
}

/// A child execution in the shape of a stored one.
fn child_record(child: &ChildExecution) -> ExecutionRecord {
    let (status, output, error, cause) = match &child.outcome {
        None => (ExecutionStatus::Running, None, None, None),
        Some(ExecutionOutcome::Succeeded(output)) => (ExecutionStatus::Succeeded, Some(output.to_string()), None, None),
        Some(ExecutionOutcome::Failed { error, cause }) => {
            (ExecutionStatus::Failed, None, error.clone(), cause.clone())
        }
        Some(ExecutionOutcome::TimedOut) => (ExecutionStatus::TimedOut, None, None, None),
        Some(ExecutionOutcome::Aborted { error, cause }) => {
            (ExecutionStatus::Aborted, None, error.clone(), cause.clone())
        }
    };
    ExecutionRecord {
        arn: child.arn.clone(),
        state_machine_arn: child.state_machine_arn.clone(),
        name: child.name.clone(),
        definition: String::new(),
        status,
        input: child.input.to_string(),
        output,
        error,
        cause,
        start_date: child.start.0,
        stop_date: child.stop.map(|stop| stop.0),
        version_arn: None,
        alias_arn: None,
        redrive_count: child.redrive_count,
        redrive_date: None,
        redrive_token: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_page_through_items() {
        let items: Vec<u32> = (0..5).collect();
        assert_eq!(window(items.clone(), None, 2).unwrap(), (vec![0, 1], Some("2".to_owned())));
        assert_eq!(window(items.clone(), Some("4"), 2).unwrap(), (vec![4], None));
        assert_eq!(window(items.clone(), Some("9"), 2).unwrap(), (vec![], None));
        assert!(window(items, Some("x"), 2).is_err());
    }
}
