//! Map Runs: DescribeMapRun and ListMapRuns.
//!
//! A Map Run is part of its execution's state (the interpreter counts its children), so these
//! operations rebuild the execution from its journal and read it there: nothing is stored twice,
//! and what they report is exactly what a resume would continue from. A Map Run's ARN names its
//! execution ([`stepwasm_asl::execution_of_map_run`]), so DescribeMapRun needs no index.

use stepwasm_asl::{MapRun, execution_of_map_run};

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

/// The execution a Map Run ARN names: an error for what is not a Map Run ARN at all, `None` for
/// a well-formed one that no stepwasm execution can have made.
fn map_run_execution(arn: &str) -> ServiceResult<Option<String>> {
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
