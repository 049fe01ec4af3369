//! Map Runs: what a Distributed Map's run looks like from outside (DescribeMapRun, ListMapRuns).
//!
//! The interpreter keeps one [`MapRun`] per `MapRunStarted`, and counts its children as they
//! start, succeed, fail or are abandoned. It is part of the execution's state, so a replay of the
//! journal rebuilds it exactly.

use super::{Cursor, Cx, MapRunUpdate, Wait};
use crate::states;
use crate::timestamp::Timestamp;

/// `RUNNING`, `SUCCEEDED`, `FAILED` or `ABORTED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapRunStatus {
    /// Children still run or wait to.
    Running,
    /// Every child succeeded, or the failures stayed within the tolerated threshold.
    Succeeded,
    /// More children failed than tolerated, or the Map failed on its own.
    Failed,
    /// The execution was stopped, or another branch failed it.
    Aborted,
}

impl MapRunStatus {
    /// As AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MapRunStatus::Running => "RUNNING",
            MapRunStatus::Succeeded => "SUCCEEDED",
            MapRunStatus::Failed => "FAILED",
            MapRunStatus::Aborted => "ABORTED",
        }
    }
}

/// How many of a Map Run's children are in each state. Each child is one item, or one batch
/// with an `ItemBatcher`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapRunCounts {
    /// Not started yet.
    pub pending: u64,
    /// Started, not finished.
    pub running: u64,
    /// Finished successfully.
    pub succeeded: u64,
    /// Finished with an error.
    pub failed: u64,
    /// Abandoned when the Map Run failed or the execution stopped.
    pub aborted: u64,
    /// All of them.
    pub total: u64,
}

/// One run of a Distributed Map.
#[derive(Clone, Debug, PartialEq)]
pub struct MapRun {
    /// The Map Run's ARN, as `MapRunStarted` records it.
    pub arn: String,
    /// The Map state's name.
    pub state_name: String,
    /// Where it stands.
    pub status: MapRunStatus,
    /// When it started.
    pub start: Timestamp,
    /// When it ended, unless it runs.
    pub stop: Option<Timestamp>,
    /// `MaxConcurrency` as resolved (0: no limit).
    pub max_concurrency: u64,
    /// `ToleratedFailureCount` as resolved (0 when not set).
    pub tolerated_failure_count: u64,
    /// `ToleratedFailurePercentage` as resolved (0 when not set).
    pub tolerated_failure_percentage: f64,
    /// The children, by state.
    pub counts: MapRunCounts,
    /// How many times a redrive ran its unsuccessful children again.
    pub redrive_count: u32,
    /// When it was last redriven.
    pub redrive_date: Option<Timestamp>,
}

impl Cx<'_> {
    /// Records a new Map Run with `total` children, none started; returns its index.
    pub(crate) fn map_run_started(&mut self, run: MapRun) -> usize {
        self.exec.map_runs.push(run);
        self.exec.map_runs.len() - 1
    }

    /// The Map Runs so far.
    pub(crate) fn map_runs(&self) -> &[MapRun] {
        &self.exec.map_runs
    }

    /// Applies `change` to Map Run `index`.
    pub(crate) fn map_run(&mut self, index: Option<usize>, change: impl FnOnce(&mut MapRun, Timestamp)) {
        let now = self.now;
        if let Some(run) = index.and_then(|i| self.exec.map_runs.get_mut(i)) {
            change(run, now);
        }
    }
}

impl Cx<'_> {
    /// UpdateMapRun: the Map state whose run it is takes the new limits.
    pub(crate) fn update_map_run(&mut self, update: &MapRunUpdate) {
        let Some(index) = self.exec.map_runs.iter().position(|run| run.arn == update.map_run_arn) else {
            return;
        };
        let holder = self.exec.frames.iter().position(|frame| {
            matches!(frame, Some(frame) if matches!(&frame.cursor,
                Cursor::Blocked(active) if matches!(&active.wait, Wait::Children(c) if c.map_run == Some(index))))
        });
        let Some(fid) = holder else {
            return;
        };
        let Some(frame) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) else {
            return;
        };
        let Cursor::Blocked(active) = std::mem::replace(&mut frame.cursor, Cursor::Done) else {
            return;
        };
        let flow = self.with_state(fid, active, |sc| states::update_map_run(sc, update));
        self.handle(fid, flow);
    }
}

impl MapRun {
    /// The run ends with `status`; children still running are abandoned.
    pub(crate) fn end(&mut self, status: MapRunStatus, now: Timestamp) {
        if self.status != MapRunStatus::Running {
            return;
        }
        self.status = status;
        self.stop = Some(now);
        if status != MapRunStatus::Succeeded {
            self.counts.aborted += self.counts.running;
            self.counts.running = 0;
        }
    }

    /// A redrive runs `rerun` unsuccessful children again.
    pub(crate) fn redriven(&mut self, rerun: u64, now: Timestamp) {
        self.status = MapRunStatus::Running;
        self.stop = None;
        self.counts.failed = 0;
        self.counts.aborted = 0;
        self.counts.running += rerun;
        self.redrive_count += 1;
        self.redrive_date = Some(now);
    }
}
