//! Map Runs, as far as stepwasm has them.
//!
//! A Distributed Map runs its items inside its parent execution, as an inline Map does, so no
//! execution has Map Runs: the Map Run operations answer as AWS does for an execution without
//! any.

use super::error::{ErrorKind, ServiceError};
use super::{Service, ServiceResult};

impl Service {
    /// ListMapRuns: an execution's Map Runs, of which there are none (see the module docs).
    pub async fn list_map_runs(&self, execution_arn: &str) -> ServiceResult<Vec<String>> {
        self.describe_execution(execution_arn).await?;
        Ok(Vec::new())
    }

    /// DescribeMapRun and UpdateMapRun: a well-formed Map Run ARN names no Map Run here.
    pub fn map_run(&self, arn: &str) -> ServiceResult<()> {
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
        Err(ServiceError::new(ErrorKind::ResourceNotFound, format!("Resource not found: '{arn}'")))
    }
}
