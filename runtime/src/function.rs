use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use crate::cache::{ArtifactCache, ArtifactSource, CompileFailure, sha256_hex};
use crate::config::{FunctionConfig, RuntimeConfig};
use crate::engine::{self, AllocatorKind, EpochTicker};
use crate::error::{Error, Result};
use crate::invoke::{self, HostState, Invocation, TaskPre};
use crate::outbound::AllowList;
use crate::report::InvocationReport;
use crate::secrets::{GuestConfig, Secrets};
use crate::tcp::TcpAllowList;

/// The task-function host: one wasmtime engine and the functions registered on it.
///
/// Create one per process and share it (it is cheap to clone). Registering compiles a
/// component once (or loads it from the artifact cache); every invocation then gets a fresh,
/// isolated instance.
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

struct Shared {
    engine: Engine,
    linker: Linker<HostState>,
    allocator: AllocatorKind,
    config: RuntimeConfig,
    secrets: Secrets,
    cache: Option<ArtifactCache>,
    permits: Arc<Semaphore>,
    functions: RwLock<HashMap<String, Arc<Function>>>,
    /// Linked components by content hash: the same component deployed under several names (or
    /// redeployed unchanged) is compiled once.
    linked: RwLock<HashMap<String, (TaskPre, ArtifactSource)>>,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Creates the engine, with the fastest memory allocator this machine supports, and no
    /// secrets.
    pub fn new(config: RuntimeConfig) -> Result<Self> {
        Self::with_secrets(config, Secrets::default())
    }

    /// Creates the engine with the server's secrets, which functions registered on it may be
    /// granted by name.
    pub fn with_secrets(config: RuntimeConfig, secrets: Secrets) -> Result<Self> {
        let (engine, allocator) = engine::build(&config)?;
        let linker = invoke::linker(&engine)?;
        let cache = config.artifact_cache.as_deref().map(|dir| ArtifactCache::open(dir, &engine)).transpose()?;
        let ticker = EpochTicker::start(&engine, &config)?;
        let permits = Arc::new(Semaphore::new(config.max_concurrent_invocations.max(1) as usize));
        Ok(Self {
            shared: Arc::new(Shared {
                engine,
                linker,
                allocator,
                config,
                secrets,
                cache,
                permits,
                functions: RwLock::default(),
                linked: RwLock::default(),
                _ticker: ticker,
            }),
        })
    }

    /// The memory allocator the engine ended up with.
    pub fn allocator(&self) -> AllocatorKind {
        self.shared.allocator
    }

    /// The settings the runtime was created with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.shared.config
    }

    /// Validates, compiles and registers a component under `name`, replacing any function of
    /// that name.
    ///
    /// The component must implement the `stepwasm:task` world and import nothing but what that
    /// world offers (WASI, `wasi:http`, `wasi:config` and the stepwasm host interface). Secrets the
    /// configuration grants are looked up now, so a missing one fails here, not mid-workflow. Compiling takes tens of milliseconds, so async callers
    /// should run this on a blocking thread.
    pub fn register(&self, name: &str, wasm: &[u8], config: FunctionConfig) -> Result<Arc<Function>> {
        validate_name(name)?;
        self.validate_config(name, &config)?;
        let guest_config = GuestConfig::resolve(&config.variables, &config.secrets, &self.shared.secrets)
            .map_err(|secret| Error::MissingSecret { function: name.to_owned(), secret })?;
        let allowed_outbound = Arc::new(config.allowed_outbound.clone());
        let allowed_tcp = Arc::new(config.allowed_tcp.clone());
        let sha256 = sha256_hex(wasm);
        let known = self.shared.linked.read().unwrap_or_else(PoisonError::into_inner).get(&sha256).cloned();
        let (pre, source) = match known {
            Some(linked) => linked,
            None => {
                let linked = self.link(name, &sha256, wasm)?;
                self.shared
                    .linked
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(sha256.clone(), linked.clone());
                linked
            }
        };
        let function = Arc::new(Function {
            name: name.to_owned(),
            sha256,
            source,
            config,
            guest_config,
            allowed_outbound,
            allowed_tcp,
            pre,
            engine: self.shared.engine.clone(),
            permits: Arc::clone(&self.shared.permits),
        });
        self.shared
            .functions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), Arc::clone(&function));
        Ok(function)
    }

    /// Compiles (or loads from the cache) and links a component against the task world.
    fn link(&self, name: &str, sha256: &str, wasm: &[u8]) -> Result<(TaskPre, ArtifactSource)> {
        let invalid = |reason: String| Error::InvalidComponent { function: name.to_owned(), reason };
        let (component, source) = match &self.shared.cache {
            Some(cache) => match cache.load_or_compile(&self.shared.engine, sha256, wasm) {
                Ok(ready) => ready,
                Err(CompileFailure::Invalid(error)) => return Err(invalid(format!("{error:#}"))),
                Err(CompileFailure::Cache(error)) => return Err(error),
            },
            None => (
                Component::new(&self.shared.engine, wasm).map_err(|error| invalid(format!("{error:#}")))?,
                ArtifactSource::Compiled,
            ),
        };
        let instance_pre = self
            .shared
            .linker
            .instantiate_pre(&component)
            .map_err(|error| invalid(format!("it needs an import stepwasm does not grant: {error:#}")))?;
        let pre = TaskPre::new(instance_pre)
            .map_err(|error| invalid(format!("it does not export the stepwasm:task world: {error:#}")))?;
        Ok((pre, source))
    }

    /// The function registered under `name`.
    pub fn function(&self, name: &str) -> Option<Arc<Function>> {
        self.shared.functions.read().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
    }

    /// Removes a function; invocations already running finish normally.
    pub fn unregister(&self, name: &str) -> Option<Arc<Function>> {
        let mut functions = self.shared.functions.write().unwrap_or_else(PoisonError::into_inner);
        let removed = functions.remove(name)?;
        if !functions.values().any(|function| function.sha256 == removed.sha256) {
            self.shared.linked.write().unwrap_or_else(PoisonError::into_inner).remove(&removed.sha256);
        }
        Some(removed)
    }

    /// The names of all registered functions, sorted.
    pub fn function_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.shared.functions.read().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect();
        names.sort();
        names
    }

    /// Invokes the function registered under `name` in a fresh instance.
    ///
    /// Guest failures are in the report's `outcome`; `Err` means the host could not run it.
    pub async fn invoke(&self, name: &str, invocation: Invocation) -> Result<InvocationReport> {
        let function = self.function(name).ok_or_else(|| Error::UnknownFunction(name.to_owned()))?;
        function.invoke(invocation).await
    }

    fn validate_config(&self, name: &str, config: &FunctionConfig) -> Result<()> {
        let invalid = |reason: String| Error::InvalidLimits { function: name.to_owned(), reason };
        let limits = &config.limits;
        if limits.max_memory_bytes > self.shared.config.max_memory_ceiling_bytes {
            return Err(invalid(format!(
                "max-memory-bytes {} is above the runtime's ceiling of {} bytes",
                limits.max_memory_bytes, self.shared.config.max_memory_ceiling_bytes
            )));
        }
        if limits.timeout_millis == 0 || limits.timeout_millis > MAX_TIMEOUT_MILLIS {
            return Err(invalid(format!("timeout-millis must be between 1 and {MAX_TIMEOUT_MILLIS} (one year)")));
        }
        if let Some(granted) = &config.read_only_directory {
            cap_std::fs::Dir::open_ambient_dir(&granted.host_path, cap_std::ambient_authority()).map_err(|source| {
                Error::GrantedDirectory { function: name.to_owned(), path: granted.host_path.clone(), source }
            })?;
        }
        Ok(())
    }
}

/// The longest wall-clock limit a function may have: a year, as long as a STANDARD execution.
const MAX_TIMEOUT_MILLIS: u64 = 365 * 24 * 3600 * 1000;

/// Function names follow Lambda's rule, so that a Lambda ARN can name any of them.
fn validate_name(name: &str) -> Result<()> {
    let valid =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidComponent {
            function: name.to_owned(),
            reason: "a function name has 1 to 64 characters: letters, digits, '-' and '_'".into(),
        })
    }
}

/// A registered task function: compiled, linked and ready to instantiate.
pub struct Function {
    name: String,
    sha256: String,
    source: ArtifactSource,
    config: FunctionConfig,
    guest_config: Arc<GuestConfig>,
    allowed_outbound: Arc<AllowList>,
    allowed_tcp: Arc<TcpAllowList>,
    pre: TaskPre,
    engine: Engine,
    permits: Arc<Semaphore>,
}

impl Function {
    /// The name it is registered under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The SHA-256 of the component's bytes, in hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Whether the code was compiled now or loaded from the artifact cache.
    pub fn artifact_source(&self) -> ArtifactSource {
        self.source
    }

    /// The limits and grants it was registered with.
    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    /// Runs one invocation in a fresh instance, waiting for a free slot first.
    pub async fn invoke(&self, invocation: Invocation) -> Result<InvocationReport> {
        // The semaphore is never closed, so acquiring only fails in theory; run anyway then.
        let _permit = self.permits.acquire().await.ok();
        invoke::invoke(self, invocation).await
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn pre(&self) -> &TaskPre {
        &self.pre
    }

    pub(crate) fn guest_config(&self) -> &Arc<GuestConfig> {
        &self.guest_config
    }

    pub(crate) fn allowed_outbound(&self) -> &Arc<AllowList> {
        &self.allowed_outbound
    }

    pub(crate) fn allowed_tcp(&self) -> &Arc<TcpAllowList> {
        &self.allowed_tcp
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").field("name", &self.name).field("sha256", &self.sha256).finish_non_exhaustive()
    }
}
