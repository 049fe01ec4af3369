use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outbound::AllowList;
use crate::tcp::TcpAllowList;

/// Settings for the whole runtime: one engine, shared by every function.
///
/// The defaults suit a host that runs many short invocations at once. Per-function limits live
/// in [`FunctionLimits`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuntimeConfig {
    /// How many invocations may run at the same time; more wait for a free slot.
    ///
    /// Default 1000. Each slot reserves a pre-allocated instance, memory and stack in the pooling
    /// allocator (virtual address space, not resident memory), so raising it costs address space
    /// and lowering it queues bursts.
    pub max_concurrent_invocations: u32,

    /// The largest memory cap any single function may be given, in bytes.
    ///
    /// Default 256 MiB. Every pool slot is sized for it; a function's own
    /// [`FunctionLimits::max_memory_bytes`] must not exceed it.
    pub max_memory_ceiling_bytes: u64,

    /// How often the deadline clock ticks, in milliseconds.
    ///
    /// Default 10 ms. A guest that overruns its deadline is stopped at the next tick, so this is
    /// the precision of timeouts; a long-running guest also yields to other work once per tick.
    /// Shorter ticks cost a little CPU in a background thread.
    pub epoch_tick_millis: u64,

    /// Where compiled artifacts are cached, keyed by the component's SHA-256 and the engine
    /// settings. `None` (the default) compiles on every registration.
    ///
    /// Compiling a small component takes about 75 ms; loading its cached artifact about 0.1 ms.
    /// Artifacts are native code that is loaded without further checks, so the directory must
    /// be writable only by this service's own user.
    pub artifact_cache: Option<PathBuf>,

    /// Whether to try the pooling allocator at all. Default `true`.
    ///
    /// Pooling makes a fresh instance about 3× cheaper, but reserves address space up front. The
    /// runtime falls back to on-demand allocation on its own when pooling cannot be set up, so
    /// this only matters to force the slower mode, for example under memory checkers.
    pub pooling: bool,

    /// Whether to write `/tmp/perf-<pid>.map`, so that `perf report` names the functions of the
    /// guests' compiled code. Default `false`.
    ///
    /// The map grows with every component loaded and is never cleaned up, so this is for
    /// profiling sessions, not for production.
    pub perf_map: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            max_concurrent_invocations: 1000,
            max_memory_ceiling_bytes: 256 << 20,
            epoch_tick_millis: 10,
            artifact_cache: None,
            pooling: true,
            perf_map: false,
        }
    }
}

impl RuntimeConfig {
    pub(crate) fn epoch_tick(&self) -> Duration {
        Duration::from_millis(self.epoch_tick_millis.max(1))
    }
}

/// How much computation one invocation may perform, independent of wall-clock time.
///
/// Fuel counts executed WebAssembly instructions (roughly), so it is deterministic: the same
/// input always burns the same fuel. It complements the wall-clock deadline, which depends on
/// the machine and its load. Running out of fuel fails the call with `States.Timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FuelBudget {
    /// At most this many units. About 12 000 units run per microsecond of tight code on a
    /// current x86 core, so [`FuelBudget::DEFAULT`] is about one CPU-second.
    Units(u64),
    /// No instruction budget; only the deadline stops the call.
    Unlimited,
}

impl FuelBudget {
    /// About one CPU-second of guest code.
    pub const DEFAULT: Self = Self::Units(12_000_000_000);

    pub(crate) fn units(self) -> u64 {
        match self {
            Self::Units(units) => units,
            Self::Unlimited => u64::MAX,
        }
    }
}

impl Default for FuelBudget {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The limits one invocation of a function runs under: the stand-in for Lambda's timeout and
/// memory setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FunctionLimits {
    /// The instruction budget. Default [`FuelBudget::DEFAULT`], about one CPU-second.
    pub fuel: FuelBudget,

    /// Wall-clock time one invocation may take, in milliseconds. Default 60 000 (one minute).
    ///
    /// A Task state's `TimeoutSeconds` shortens it for that state; the shorter of the two wins.
    pub timeout_millis: u64,

    /// The most linear memory the function may grow to, in bytes. Default 64 MiB.
    ///
    /// A guest that asks for more is refused; it then fails with `Runtime.OutOfMemory`.
    pub max_memory_bytes: u64,

    /// The most bytes kept from each of stdout, stderr and the log lines. Default 64 KiB.
    ///
    /// Output past the cap is counted and dropped, never an error for the guest.
    pub max_output_bytes: u64,

    /// The largest HTTP response body the function may receive, in bytes. Default 8 MiB.
    ///
    /// A larger body fails the request with `HTTP-response-body-size`, before or while it is
    /// read; the guest SDKs name it `Http.ResponseTooLarge`.
    pub max_http_response_bytes: u64,
}

impl Default for FunctionLimits {
    fn default() -> Self {
        Self {
            fuel: FuelBudget::DEFAULT,
            timeout_millis: 60_000,
            max_memory_bytes: 64 << 20,
            max_output_bytes: 64 << 10,
            max_http_response_bytes: 8 << 20,
        }
    }
}

impl FunctionLimits {
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_millis)
    }
}

/// A host directory a function may read, seen by the guest at `guest_path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GrantedDirectory {
    /// The directory on the host.
    pub host_path: PathBuf,
    /// Where the guest sees it, such as `/data`.
    pub guest_path: String,
}

/// Everything a function is registered with besides its code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FunctionConfig {
    /// The limits each invocation runs under.
    pub limits: FunctionLimits,
    /// A directory the function may read. Default none: no filesystem at all.
    pub read_only_directory: Option<GrantedDirectory>,
    /// The origins the function may send HTTP requests to. Default none: no network at all.
    pub allowed_outbound: AllowList,
    /// The `host:port` endpoints the function may open TCP connections to. Default none: no
    /// sockets at all.
    pub allowed_tcp: TcpAllowList,
    /// Settings the function reads through `wasi:config/store`. They are part of the function's
    /// description, so they are not for secrets.
    pub variables: BTreeMap<String, String>,
    /// The names of server secrets the function may read through `wasi:config/store`. The
    /// values stay with the server (see [`Secrets`](crate::Secrets)); the host masks them in
    /// everything it records of an invocation.
    pub secrets: Vec<String>,
}
