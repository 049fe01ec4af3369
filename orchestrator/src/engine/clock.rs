use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stepwasm_asl::Timestamp;

/// Where the engine reads the time, so tests can run on virtual time.
///
/// The clock is anchored to the wall clock once, then advances with tokio's monotonic clock. In a
/// runtime with paused time (`tokio::time::pause`), waits then cost nothing: a 60-second Wait
/// state completes at once, yet every timestamp in the history stays consistent.
///
/// A test can also move the clock forward with [`Clock::advance`], for every clone at once. That
/// is how an execution parked on an hour-long timer is woken without waiting an hour: parked
/// executions are woken by reading the clock, not by a sleeping task.
#[derive(Debug, Clone)]
pub struct Clock {
    wall_origin: Timestamp,
    origin: tokio::time::Instant,
    advanced_millis: Arc<AtomicI64>,
}

impl Clock {
    /// A clock that reads the system time now and follows tokio's clock from here on.
    pub fn new() -> Self {
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis());
        Self::starting_at(Timestamp(i64::try_from(millis).unwrap_or(i64::MAX)))
    }

    /// A clock that reads `wall_origin` now.
    pub fn starting_at(wall_origin: Timestamp) -> Self {
        Self { wall_origin, origin: tokio::time::Instant::now(), advanced_millis: Arc::default() }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        let elapsed = i64::try_from(self.origin.elapsed().as_millis()).unwrap_or(i64::MAX);
        let advanced = self.advanced_millis.load(Ordering::Relaxed);
        Timestamp(self.wall_origin.0.saturating_add(elapsed).saturating_add(advanced))
    }

    /// Moves this clock, and every clone of it, `by` into the future.
    ///
    /// Work that reads the clock when it looks for what is due (parked executions, timers kept in
    /// the store) sees the jump at its next look. A sleep that has already begun in memory is not
    /// shortened.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        // fetch_update cannot fail here: the closure always returns Some.
        let _ = self
            .advanced_millis
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |advanced| Some(advanced.saturating_add(by)));
    }

    /// The time `delay` from now.
    pub fn after(&self, delay: Duration) -> Timestamp {
        Timestamp(self.now().0.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)))
    }

    /// How long from now until `at`; zero if it has passed.
    pub fn until(&self, at: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(at.0.saturating_sub(self.now().0)).unwrap_or(0))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}
