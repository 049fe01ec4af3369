use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capture::{CappedPipe, LogLevel, LogSink};
use crate::error::{Error, Result, boxed};
use crate::function::Function;
use crate::outbound::GuestHooks;
use crate::report::{FailureKind, InvocationPhases, InvocationReport, TaskFailure, TimeoutKind, error_names};
use crate::secrets::GuestConfig;
use crate::tcp;

#[allow(unreachable_pub, missing_docs)]
pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        world: "task",
        path: "wit",
        exports: { default: async },
        // The WASI packages are wasmtime's own; only stepwasm's interfaces and `wasi:config`
        // are generated here.
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        },
    });
}

use bindings::stepwasm::task::{host, types};
use bindings::wasi::config::store;

/// One call of a task function: its input and what it runs for.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The state's effective input, as JSON text.
    input: String,
    /// The workflow execution's id (its ARN), passed to the guest.
    pub execution_id: String,
    /// The Task state's name, passed to the guest.
    pub state_name: String,
    /// 1 for the first attempt; retries count up.
    pub attempt: u32,
    /// A deadline shorter than the function's own, such as a Task's `TimeoutSeconds`.
    pub timeout: Option<Duration>,
}

impl Invocation {
    /// A first attempt with `input`, outside any workflow.
    pub fn new(input: &Value) -> Self {
        // Serialising a Value cannot fail: its map keys are strings.
        Self::from_json_text(serde_json::to_string(input).unwrap_or_else(|_| "null".to_owned()))
    }

    /// A first attempt with input that is already JSON text, which saves a copy.
    ///
    /// The text is passed on as it is; a function whose SDK cannot parse it fails with
    /// `InvalidInput`.
    pub fn from_json_text(input: String) -> Self {
        Self { input, execution_id: String::new(), state_name: String::new(), attempt: 1, timeout: None }
    }

    /// The input, as JSON text.
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// Everything the host keeps for one instance, dropped with it.
pub(crate) struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    http_hooks: GuestHooks,
    config: Arc<GuestConfig>,
    table: ResourceTable,
    limiter: MemoryLimiter,
    logs: LogSink,
    panic_message: Option<String>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.http_hooks }
    }
}

impl types::Host for HostState {}

impl store::Host for HostState {
    fn get(&mut self, key: String) -> Result<Option<String>, store::Error> {
        Ok(self.config.values.get(&key).cloned())
    }

    fn get_all(&mut self) -> Result<Vec<(String, String)>, store::Error> {
        Ok(self.config.values.iter().map(|(key, value)| (key.clone(), value.clone())).collect())
    }
}

impl host::Host for HostState {
    fn log(&mut self, level: host::Level, message: String) {
        let level = match level {
            host::Level::Trace => LogLevel::Trace,
            host::Level::Debug => LogLevel::Debug,
            host::Level::Info => LogLevel::Info,
            host::Level::Warn => LogLevel::Warn,
            host::Level::Error => LogLevel::Error,
        };
        self.logs.push(level, message);
    }

    fn report_panic(&mut self, message: String) {
        // Keep the first report: a panic inside the panic handler must not hide the original.
        self.panic_message.get_or_insert(message);
    }
}

/// Enforces a function's memory cap and remembers a refusal, so the trap that follows can be
/// reported as running out of memory rather than as an anonymous `unreachable`.
struct MemoryLimiter {
    max_memory_bytes: usize,
    refused: Option<usize>,
}

/// Tables only hold function references; this is far above what compiled languages need.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_memory_bytes {
            self.refused.get_or_insert(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Linker for every task function: WASI (with nothing granted unless configured), outbound HTTP
/// (refused unless the function's allow-list grants the origin), configuration and the host
/// interface.
pub(crate) fn linker(engine: &wasmtime::Engine) -> Result<wasmtime::component::Linker<HostState>> {
    type Own = wasmtime::component::HasSelf<HostState>;
    let mut linker = wasmtime::component::Linker::new(engine);
    let engine_error = |error: wasmtime::Error| Error::Engine { source: boxed(&error) };
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_error)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(engine_error)?;
    host::add_to_linker::<HostState, Own>(&mut linker, |state| state).map_err(engine_error)?;
    types::add_to_linker::<HostState, Own>(&mut linker, |state| state).map_err(engine_error)?;
    store::add_to_linker::<HostState, Own>(&mut linker, |state| state).map_err(engine_error)?;
    Ok(linker)
}

pub(crate) type TaskPre = bindings::TaskPre<HostState>;

pub(crate) async fn invoke(function: &Function, invocation: Invocation) -> Result<InvocationReport> {
    let setup_started = Instant::now();
    let limits = &function.config().limits;
    let timeout = invocation.timeout.map_or(limits.timeout(), |task| task.min(limits.timeout()));
    let output_cap = usize::try_from(limits.max_output_bytes).unwrap_or(usize::MAX);
    let stdout = CappedPipe::new(output_cap);
    let stderr = CappedPipe::new(output_cap);

    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(stdout.clone()).stderr(stderr.clone()).allow_udp(false);
    let allowed_tcp = function.allowed_tcp();
    if allowed_tcp.is_empty() {
        wasi.allow_tcp(false).allow_ip_name_lookup(false);
    } else {
        wasi.allow_tcp(true).allow_ip_name_lookup(true).socket_addr_check(tcp::address_check(Arc::clone(allowed_tcp)));
    }
    if let Some(granted) = &function.config().read_only_directory {
        wasi.preopened_dir(&granted.host_path, &granted.guest_path, FsPerms::ReadOnly)
            .map_err(|error| Error::Instantiation { function: function.name().to_owned(), source: boxed(&error) })?;
    }
    let state = HostState {
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
        http_hooks: GuestHooks {
            allow: Arc::clone(function.allowed_outbound()),
            max_body_bytes: limits.max_http_response_bytes,
        },
        config: Arc::clone(function.guest_config()),
        table: ResourceTable::new(),
        limiter: MemoryLimiter {
            max_memory_bytes: usize::try_from(limits.max_memory_bytes).unwrap_or(usize::MAX),
            refused: None,
        },
        logs: LogSink::new(output_cap),
        panic_message: None,
    };

    let mut store = Store::new(function.engine(), state);
    store.limiter(|state| &mut state.limiter);
    let fuel_budget = limits.fuel.units();
    store
        .set_fuel(fuel_budget)
        .map_err(|error| Error::Instantiation { function: function.name().to_owned(), source: boxed(&error) })?;

    let started = Instant::now();
    // A Task's TimeoutSeconds can be years; past the clock's range it is simply "never".
    let deadline = started.checked_add(timeout).unwrap_or(started + Duration::from_secs(365 * 24 * 3600));
    // Check the deadline on every epoch tick and otherwise yield, so that a guest in a tight
    // loop hands its tokio worker back once per tick instead of starving other work.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        Ok(if Instant::now() >= deadline { UpdateDeadline::Interrupt } else { UpdateDeadline::Yield(1) })
    });

    let context = types::Context {
        function_name: function.name().to_owned(),
        execution_id: invocation.execution_id,
        state_name: invocation.state_name,
        attempt: invocation.attempt,
        remaining_millis: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    };

    // The epoch deadline stops guest code that is running; this outer timeout also stops a guest
    // that is blocked in a host call (a WASI sleep or poll), where no epoch check happens. It
    // reads tokio's clock, so it follows virtual time in tests with paused time.
    let mut phases = InvocationPhases { setup: started - setup_started, ..InvocationPhases::default() };
    let mut call_started = started;
    let call = async {
        let task = function.pre().instantiate_async(&mut store).await.map_err(CallError::Instantiate)?;
        call_started = Instant::now();
        task.call_handle(&mut store, &invocation.input, &context).await.map_err(CallError::Call)
    };
    let result = tokio::time::timeout(timeout, call).await;
    let call_ended = Instant::now();
    phases.instantiate = call_started - started;
    phases.call = call_ended - call_started;
    let outcome = match result {
        Err(_elapsed) => Err(deadline_failure(timeout)),
        Ok(Ok(Ok(output))) => parse_output(&output),
        Ok(Ok(Err(guest))) => Err(guest_failure(guest)),
        // A trap during instantiation (a start function running out of memory, say) is the
        // guest's failure; anything else there, such as an exhausted pool, is the host's.
        Ok(Err(CallError::Instantiate(error))) if error.root_cause().downcast_ref::<Trap>().is_none() => {
            return Err(Error::Instantiation { function: function.name().to_owned(), source: boxed(&error) });
        }
        Ok(Err(CallError::Instantiate(error) | CallError::Call(error))) => {
            Err(classify_trap(&error, store.data(), fuel_budget, timeout))
        }
    };
    let duration = call_ended - started;
    let fuel_consumed = fuel_budget.saturating_sub(store.get_fuel().unwrap_or(0));
    // Taking the host state out drops the instance, which resets its memory and frees its slot.
    let HostState { logs, .. } = store.into_data();
    let (logs, dropped_log_lines) = logs.finish();
    let mut report = InvocationReport {
        outcome,
        logs,
        dropped_log_lines,
        stdout: stdout.take(),
        stderr: stderr.take(),
        fuel_consumed,
        duration,
        phases,
    };
    mask_secrets(&mut report, &function.guest_config().masker);
    report.phases.teardown = call_ended.elapsed();
    Ok(report)
}

/// Nothing the host keeps of a call may show a secret the function was given.
fn mask_secrets(report: &mut InvocationReport, masker: &crate::Masker) {
    if masker.is_empty() {
        return;
    }
    match &mut report.outcome {
        Ok(output) => masker.mask_json(output),
        Err(failure) => {
            masker.mask_in_place(&mut failure.error);
            masker.mask_in_place(&mut failure.cause);
        }
    }
    for line in &mut report.logs {
        masker.mask_in_place(&mut line.message);
    }
    masker.mask_in_place(&mut report.stdout.text);
    masker.mask_in_place(&mut report.stderr.text);
}

enum CallError {
    Instantiate(wasmtime::Error),
    Call(wasmtime::Error),
}

fn deadline_failure(timeout: Duration) -> TaskFailure {
    TaskFailure::new(
        FailureKind::Timeout(TimeoutKind::Deadline),
        error_names::TIMEOUT,
        format!("the function ran past its deadline of {:.3} s", timeout.as_secs_f64()),
    )
}

fn parse_output(output: &str) -> Result<Value, TaskFailure> {
    serde_json::from_str(output).map_err(|error| {
        let preview: String = output.chars().take(200).collect();
        TaskFailure::new(
            FailureKind::InvalidOutput,
            error_names::INVALID_OUTPUT,
            format!("the function returned text that is not JSON ({error}): {preview:?}"),
        )
    })
}

fn guest_failure(guest: types::TaskError) -> TaskFailure {
    if guest.error.starts_with("States.") {
        return TaskFailure::new(
            FailureKind::ReservedErrorName,
            error_names::RESERVED_ERROR_NAME,
            format!(
                "the function reported the error name {:?}, but names starting with \"States.\" are reserved; its cause was: {}",
                guest.error, guest.cause
            ),
        );
    }
    TaskFailure { error: guest.error, cause: guest.cause, kind: FailureKind::Guest }
}

/// Names a failed call from the trap wasmtime reports and what the host saw during the call.
fn classify_trap(error: &wasmtime::Error, state: &HostState, fuel_budget: u64, timeout: Duration) -> TaskFailure {
    let trap = error.root_cause().downcast_ref::<Trap>().copied();
    match trap {
        Some(Trap::OutOfFuel) => {
            return TaskFailure::new(
                FailureKind::Timeout(TimeoutKind::Fuel),
                error_names::TIMEOUT,
                format!("the function used its whole fuel budget of {fuel_budget} units"),
            );
        }
        Some(Trap::Interrupt) => return deadline_failure(timeout),
        _ => {}
    }
    // A refused growth shows up as whatever the guest's allocator does next (Rust aborts with
    // `unreachable`), so the limiter's record decides, not the trap code.
    if let Some(requested) = state.limiter.refused {
        return TaskFailure::new(
            FailureKind::OutOfMemory,
            error_names::OUT_OF_MEMORY,
            format!(
                "the function needed {requested} bytes of memory, over its limit of {} bytes",
                state.limiter.max_memory_bytes
            ),
        );
    }
    if let Some(message) = &state.panic_message {
        return TaskFailure::new(FailureKind::Panic, error_names::PANIC, message.clone());
    }
    let cause = match trap {
        Some(trap) => format!("the function trapped: {trap}"),
        None => format!("the function failed in the host: {error:#}"),
    };
    TaskFailure::new(FailureKind::Trap, error_names::TRAP, cause)
}
