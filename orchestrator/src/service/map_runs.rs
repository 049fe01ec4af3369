//! Map Runs: DescribeMapRun, ListMapRuns and UpdateMapRun.
//!
//! A Map Run is part of its execution's state (the interpreter counts its children), so these
//! operations rebuild the execution from its journal and read it there: nothing is stored twice,
//! and what they report is exactly what a resume would continue from. A Map Run's ARN names its
//! execution ([`stepwasm_asl::execution_of_map_run`]), so DescribeMapRun needs no index.

use stepwasm_asl::{MapRun, MapRunStatus, execution_of_map_run};

use crate::engine::Signal;

use super::error::{ErrorKind, ServiceError};
use super::names::Listing;
use super::{Service, ServiceResult};

/// One page of ListMapRuns.
#[derive(Debug, Clone)]
pub struct MapRunPage {
    /// The execution's state machine.
    pub state_machine_arn: String,
    /// The Map Runs, in the order they started.
    pub map_runs: Vec<MapRun>,
    /// Where the next page starts.
    pub next_token: Option<String>,
}

impl Service {
    /// ListMapRuns: the Map Runs an execution has started, oldest first.
    pub async fn list_map_runs(
        &self,
        execution_arn: &str,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> ServiceResult<MapRunPage> {
        let listing = Listing::new(format!("map-runs {execution_arn}"));
        let page = listing.request(max_results, next_token, false)?;
        let record = self.describe_execution(execution_arn).await?;
        let runs = self.rebuild(&record).await?.execution().map_runs().to_vec();
        let start = match &page.after {
            Some(after) => after.parse::<usize>().map_err(|_| ServiceError::invalid_token())?,
            None => 0,
        };
        let end = start.saturating_add(page.limit).min(runs.len());
        let next = (end < runs.len()).then(|| end.to_string());
        Ok(MapRunPage {
            state_machine_arn: record.state_machine_arn,
            map_runs: runs.get(start..end).map(<[MapRun]>::to_vec).unwrap_or_default(),
            next_token: listing.next_token(next),
        })
    }

    /// DescribeMapRun: the Map Run and the execution it belongs to.
    pub async fn describe_map_run(&self, arn: &str) -> ServiceResult<(String, MapRun)> {
        let not_found = || ServiceError::new(ErrorKind::ResourceNotFound, format!("Resource not found: '{arn}'"));
        let execution_arn = map_run_execution(arn)?.ok_or_else(not_found)?;
        let Some(record) = self.inner.store.execution(&execution_arn).await? else {
            return Err(not_found());
        };
        let prepared = self.rebuild(&record).await?;
        let run = prepared.execution().map_runs().iter().find(|run| run.arn == arn).cloned();
        Ok((execution_arn, run.ok_or_else(not_found)?))
    }
}

/// What UpdateMapRun changes; at least one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MapRunLimits {
    /// `maxConcurrency`: 0 to 10,000 (0: no limit).
    pub max_concurrency: Option<i64>,
    /// `toleratedFailureCount`: 0 or more.
    pub tolerated_failure_count: Option<i64>,
    /// `toleratedFailurePercentage`: 0 to 100.
    pub tolerated_failure_percentage: Option<f64>,
}

impl Service {
    /// UpdateMapRun: new limits for a running Map Run, applied to the children still to come.
    pub async fn update_map_run(&self, arn: &str, limits: MapRunLimits) -> ServiceResult<()> {
        let invalid = |member: &str, constraint: &str, value: String| {
            ServiceError::validation(format!(
                "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have value {constraint}"
            ))
        };
        let max_concurrency = match limits.max_concurrency {
            Some(n) if !(0..=10_000).contains(&n) => {
                return Err(invalid("maxConcurrency", "between 0 and 10000", n.to_string()));
            }
            other => other.and_then(|n| u64::try_from(n).ok()),
        };
        let tolerated_failure_count = match limits.tolerated_failure_count {
            Some(n) if n < 0 => {
                return Err(invalid("toleratedFailureCount", "greater than or equal to 0", n.to_string()));
            }
            other => other.and_then(|n| u64::try_from(n).ok()),
        };
        let tolerated_failure_percentage = match limits.tolerated_failure_percentage {
            Some(p) if !(0.0..=100.0).contains(&p) => {
                return Err(invalid("toleratedFailurePercentage", "between 0 and 100", p.to_string()));
            }
            other => other,
        };
        if max_concurrency.is_none() && tolerated_failure_count.is_none() && tolerated_failure_percentage.is_none() {
            return Err(ServiceError::validation(
                "At least one of maxConcurrency, toleratedFailureCount or toleratedFailurePercentage must be given",
            ));
        }
        let (execution_arn, run) = self.describe_map_run(arn).await?;
        if run.status != MapRunStatus::Running {
            return Err(ServiceError::validation(format!(
                "The Map Run '{arn}' is {}: only a running Map Run can be updated",
                run.status.as_str()
            )));
        }
        let signal = Signal::UpdateMapRun {
            map_run_arn: arn.to_owned(),
            max_concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
        };
        self.post_signal(&execution_arn, &signal).await
    }
}

/// The execution a Map Run ARN names: an error for what is not a Map Run ARN at all, `None` for
/// a well-formed one that no stepwasm execution can have made.
pub(super) fn map_run_execution(arn: &str) -> ServiceResult<Option<String>> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let well_formed = matches!(parts.as_slice(),
        ["arn", partition, "states", _, _, "mapRun", rest]
            if partition.starts_with("aws") && rest.contains('/'));
    if !well_formed {
        return Err(ServiceError::new(
            ErrorKind::InvalidArn,
            format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
        ));
    }
    Ok(execution_of_map_run(arn))
}
