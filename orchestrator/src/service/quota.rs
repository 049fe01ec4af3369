//! The quota on open executions (AWS's `ExecutionLimitExceeded`).
//!
//! Counting every open execution on each start would cost a scan of the store per start, so the
//! count is read from the store at most once a second and the starts since are added to it. The
//! quota is therefore approximate by up to a second of starts on other nodes, as AWS's own is.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{ErrorKind, Service, ServiceError, ServiceResult};

/// How stale the stored count may be.
const REFRESH: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct OpenExecutions {
    /// The store's count, and when it was read.
    counted: Mutex<Option<(u64, Instant)>>,
    /// Starts on this node since the count was read.
    started_since: AtomicU64,
}

impl Service {
    /// Refuses a start that would pass the quota on open executions; counts it otherwise.
    pub(super) async fn admit_start(&self) -> ServiceResult<()> {
        let limit = self.inner.config.max_open_executions;
        let open = &self.inner.open;
        let fresh = open
            .counted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .filter(|(_, at)| at.elapsed() < REFRESH)
            .map(|(count, _)| count);
        let counted = match fresh {
            Some(count) => count,
            None => {
                let counts = self.inner.store.execution_counts().await?;
                let count = counts.running + counts.parked;
                *open.counted.lock().unwrap_or_else(PoisonError::into_inner) = Some((count, Instant::now()));
                open.started_since.store(0, Ordering::Relaxed);
                count
            }
        };
        if counted + open.started_since.load(Ordering::Relaxed) >= limit {
            return Err(ServiceError::new(
                ErrorKind::ExecutionLimitExceeded,
                format!("Maximum number of running executions reached ({limit})."),
            ));
        }
        open.started_since.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
