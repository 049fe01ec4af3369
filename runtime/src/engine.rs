use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::config::RuntimeConfig;
use crate::error::{Error, Result, boxed};

/// How instances get their memory, from fastest to most widely available.
///
/// The runtime tries them in this order and keeps the first the machine supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocatorKind {
    /// Pooled slots whose dirty pages are reset in place (needs Linux 6.7+ for `PAGEMAP_SCAN`).
    /// About 10 µs per fresh instance, and it scales across cores.
    PoolingKeepResident,
    /// Pooled slots released with batched `madvise`. About 15 µs per fresh instance.
    PoolingBatchedDecommit,
    /// Memory mapped per instance. About 25 µs per fresh instance; needs no address-space
    /// reservation.
    OnDemand,
}

impl fmt::Display for AllocatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PoolingKeepResident => "pooling, pages kept resident (pagemap scan)",
            Self::PoolingBatchedDecommit => "pooling, batched decommit",
            Self::OnDemand => "on-demand",
        })
    }
}

/// Creates the process's engine with the fastest allocator the machine supports.
pub(crate) fn build(config: &RuntimeConfig) -> Result<(Engine, AllocatorKind)> {
    let candidates: &[AllocatorKind] = if config.pooling {
        &[AllocatorKind::PoolingKeepResident, AllocatorKind::PoolingBatchedDecommit, AllocatorKind::OnDemand]
    } else {
        &[AllocatorKind::OnDemand]
    };
    let mut last_error = None;
    for &kind in candidates {
        match Engine::new(&engine_config(config, kind)) {
            Ok(engine) => return Ok((engine, kind)),
            Err(error) => last_error = Some(error),
        }
    }
    let source = match last_error {
        Some(error) => boxed(&error),
        None => "no allocator was tried".into(),
    };
    Err(Error::Engine { source })
}

fn engine_config(config: &RuntimeConfig, kind: AllocatorKind) -> Config {
    let mut wasm = Config::new();
    // Both limits are compiled into the code, so they stay on for every function; a function
    // without a fuel budget simply gets an unreachable amount.
    wasm.consume_fuel(true);
    wasm.epoch_interruption(true);
    wasm.memory_init_cow(true);
    if config.perf_map {
        wasm.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }

    let slots = config.max_concurrent_invocations.max(1);
    let mut pool = PoolingAllocationConfig::new();
    // A Rust component is several core instances (the program, WASI adapters, shims), so core
    // instances and tables get more slots than components. Memories stay one per component:
    // only the program's own memory is sized by `max_memory_size`.
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(4))
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(2))
        .total_stacks(slots)
        .max_memory_size(usize::try_from(config.max_memory_ceiling_bytes).unwrap_or(usize::MAX));
    match kind {
        AllocatorKind::PoolingKeepResident => {
            // Measured on this class of machine: resetting dirty pages in place instead of
            // unmapping them takes a fresh instance from ~21 µs to ~8 µs. Without the pagemap
            // scan, keep-resident is slower than the default, so the two go together or not at all.
            pool.linear_memory_keep_resident(2 << 20)
                .table_keep_resident(64 << 10)
                .async_stack_keep_resident(128 << 10)
                .pagemap_scan(Enabled::Yes)
                .decommit_batch_size(32);
            wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        AllocatorKind::PoolingBatchedDecommit => {
            pool.decommit_batch_size(32);
            wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        AllocatorKind::OnDemand => {
            wasm.allocation_strategy(InstanceAllocationStrategy::OnDemand);
        }
    }
    wasm
}

/// Advances the engine's epoch at a fixed interval, which is what deadlines are measured in.
///
/// Stops when dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub(crate) fn start(engine: &Engine, config: &RuntimeConfig) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let tick = config.epoch_tick();
        let engine = engine.clone();
        let stopped = Arc::clone(&stop);
        // A plain thread rather than a tokio task: ticks must keep coming even when every tokio
        // worker is busy running guests.
        thread::Builder::new()
            .name("stepwasm-epoch".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .map_err(|error| Error::Engine { source: Box::new(error) })?;
        Ok(Self { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
