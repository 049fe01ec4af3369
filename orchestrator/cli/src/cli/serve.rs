//! `stepwasm serve`, and the client commands that talk to a running server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use stepwasm_orchestrator::api::{self, AppState};
use stepwasm_orchestrator::mocks::MockConfig;
use stepwasm_orchestrator::objects::{ObjectStore, ObjectStoreConfig, S3Config};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{MemoryStore, PostgresStore, SqliteStore, Store};
use stepwasm_orchestrator::traces::TraceExporter;
use stepwasm_orchestrator::{Client, DataDir, function_directory};

use crate::function_source::FunctionSource;
use stepwasm_runtime::{Runtime, RuntimeConfig};

/// The address `serve` listens on, and the client commands talk to, unless told otherwise.
pub(crate) const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8083";

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8083")]
    listen: SocketAddr,

    /// Keep everything in memory (nothing survives a restart) instead of the SQLite database in
    /// the data directory.
    #[arg(long, conflicts_with = "store")]
    in_memory: bool,

    /// Keep executions in this PostgreSQL database instead of the SQLite file in the data
    /// directory, as `postgres://user:password@host:port/database`. Several nodes can share it.
    #[arg(long, value_name = "POSTGRES_URL")]
    store: Option<String>,

    #[command(flatten)]
    node: NodeArgs,

    #[command(flatten)]
    buckets: BucketArgs,

    #[command(flatten)]
    outbound: super::server_config::OutboundArgs,

    /// Write the server's logs as JSON lines (one object per event, with its fields) instead of
    /// text.
    #[arg(long)]
    log_json: bool,

    /// Listen beyond loopback without access keys: anyone who can reach the port can then do
    /// anything, task tokens and function deployments included.
    #[arg(long)]
    insecure: bool,

    #[command(flatten)]
    testing: TestingArgs,
}

/// This node among others, and what it lets run at once.
#[derive(Debug, Clone, Args)]
pub(crate) struct NodeArgs {
    /// This node's name in execution leases [default: an id kept in the data directory].
    #[arg(long)]
    node_id: Option<String>,

    /// How long a node's claim on an execution lasts unless renewed. When a node dies, the
    /// others take over its executions this long after its last renewal: shorter means a faster
    /// takeover, longer means fewer renewals and more patience with a slow or paused node.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=86_400))]
    lease_seconds: u32,

    /// How many executions may be open (not ended) at once; a start past it fails with
    /// `ExecutionLimitExceeded`, as on AWS, whose account quota is the default.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_open_executions: u64,

    /// An OpenTelemetry collector (OTLP over HTTP, such as `http://127.0.0.1:4318`) to send one
    /// trace per execution to when it ends: a span per state and per task attempt. Off unless set.
    #[arg(long, value_name = "URL", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
}

impl Default for NodeArgs {
    fn default() -> Self {
        NodeArgs { node_id: None, lease_seconds: 30, max_open_executions: 1_000_000, otlp_endpoint: None }
    }
}

/// What a server for tests does differently.
#[derive(Debug, Clone, Args)]
pub(crate) struct TestingArgs {
    /// Mocked task responses, in Step Functions Local's MockConfigFile format: an execution
    /// started as `STATE_MACHINE_ARN#TEST_CASE` has its tasks answered by that test case.
    /// Repeatable, for files that name different state machines.
    #[arg(long, value_name = "FILE", env = "SFN_MOCK_CONFIG", value_delimiter = ',')]
    mock_config: Vec<PathBuf>,

    /// How long waits really take, as a fraction of what definitions say: 0.1 runs Wait states,
    /// retry back-offs, timeouts and heartbeats ten times faster, and 0 skips them. For test
    /// servers; histories record the times things really happened.
    #[arg(long, value_name = "F", env = "WAIT_TIME_SCALE", default_value_t = 1.0)]
    wait_time_scale: f64,
}

/// What a server that is not for tests does: no mocks, waits as long as definitions say.
impl Default for TestingArgs {
    fn default() -> Self {
        TestingArgs { mock_config: Vec::new(), wait_time_scale: 1.0 }
    }
}

impl TestingArgs {
    fn apply(&self, config: &mut ServiceConfig) -> Result<()> {
        if !(self.wait_time_scale.is_finite() && self.wait_time_scale >= 0.0) {
            bail!("--wait-time-scale takes a number from 0 (no waiting) up, not {}", self.wait_time_scale);
        }
        config.wait_time_scale = self.wait_time_scale;
        let mut mocks: Option<MockConfig> = None;
        for path in &self.mock_config {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let file =
                MockConfig::parse(&text).with_context(|| format!("the mock configuration {}", path.display()))?;
            match &mut mocks {
                Some(mocks) => {
                    mocks.merge(file).with_context(|| format!("the mock configuration {}", path.display()))?
                }
                None => mocks = Some(file),
            }
        }
        config.mocks = mocks.map(Arc::new);
        Ok(())
    }
}

/// Where Distributed Maps read their items (`ItemReader`).
#[derive(Debug, Args, Default)]
pub(crate) struct BucketArgs {
    /// A directory whose subdirectories are buckets: `s3://B/K` is the file `DIR/B/K`
    /// [default: `buckets` in the data directory].
    #[arg(long, value_name = "DIR")]
    buckets: Option<PathBuf>,

    /// An S3-compatible endpoint for the buckets that are not directories, such as
    /// `https://s3.us-east-1.amazonaws.com` or a MinIO server. Requests are signed with the
    /// standard AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION variables.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL_S3")]
    s3_endpoint: Option<String>,
}

impl BucketArgs {
    fn local_root(&self, data_dir: &DataDir) -> PathBuf {
        self.buckets.clone().unwrap_or_else(|| data_dir.root().join("buckets"))
    }

    /// Where the buckets are, for the start-up banner.
    fn describe(&self, data_dir: &DataDir) -> String {
        let local = self.local_root(data_dir).display().to_string();
        match &self.s3_endpoint {
            Some(endpoint) => format!("directories in {local}, then S3 at {endpoint}"),
            None => format!("directories in {local}"),
        }
    }

    fn open(&self, data_dir: &DataDir) -> Result<ObjectStore> {
        let local_root = self.local_root(data_dir);
        let config =
            ObjectStoreConfig { local_root: Some(local_root), s3: self.s3_endpoint.clone().map(S3Config::from_env) };
        ObjectStore::open(&config).context("opening the buckets")
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum FunctionCommand {
    /// Deploy (or replace) a Wasm task function on a running server.
    Deploy {
        /// The function's name; Lambda ARNs in definitions refer to it.
        name: String,
        /// The component (`.wasm`), or the name of a sample function.
        file: String,
        /// Wall-clock limit per invocation, in milliseconds.
        #[arg(long)]
        timeout_ms: Option<u64>,
        /// Fuel budget per invocation; 0 for none.
        #[arg(long)]
        fuel: Option<u64>,
        /// Memory cap, in MiB.
        #[arg(long)]
        memory_mib: Option<u64>,
        #[command(flatten)]
        grants: super::grants::Grants,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// List the functions deployed on a running server.
    List {
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Remove a function from a running server.
    Delete {
        /// The function's name.
        name: String,
        #[command(flatten)]
        endpoint: Endpoint,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Endpoint {
    /// The server's URL.
    #[arg(long, default_value = DEFAULT_ENDPOINT)]
    endpoint: String,
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// The state machine definition (Amazon States Language, JSON).
    definition: PathBuf,
    /// The state machine's name [default: the file name without `.asl.json`].
    #[arg(long)]
    name: Option<String>,
    /// STANDARD or EXPRESS.
    #[arg(long = "type", default_value = "STANDARD")]
    machine_type: String,
    /// The IAM role ARN to record (stepwasm keeps it, AWS requires it).
    #[arg(long, default_value = "arn:aws:iam::123456789012:role/stepwasm")]
    role_arn: String,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// A configured server, ready to serve.
pub(crate) struct Server {
    pub(crate) state: AppState,
    pub(crate) describe_store: String,
    /// Held while the server runs: the data directory is this server's alone.
    _lock: Option<std::fs::File>,
}

/// Where a server keeps its executions.
pub(crate) enum StoreChoice {
    /// The SQLite file in the data directory.
    Sqlite,
    /// Nowhere durable.
    Memory,
    /// A PostgreSQL database, by its URL.
    Postgres(String),
}

/// Builds the service: the store, the runtime, the deployed functions. Runs on the runtime that
/// will serve, which a PostgreSQL store's connections belong to.
pub(crate) async fn build_server(
    data_dir: &DataDir,
    choice: &StoreChoice,
    node: &NodeArgs,
    buckets: &BucketArgs,
    outbound: super::server_config::ServerSecrets,
    testing: &TestingArgs,
) -> Result<Server> {
    let in_memory = matches!(choice, StoreChoice::Memory);
    // Two servers on one data directory would share its SQLite file and its node id: each would
    // take the other's executions for its own.
    let lock = if in_memory { None } else { Some(lock_data_dir(data_dir)?) };
    let runtime = Runtime::with_secrets(
        RuntimeConfig { artifact_cache: Some(data_dir.artifacts()), ..RuntimeConfig::default() },
        outbound.secrets,
    )?;
    let (store, describe_store): (Arc<dyn Store>, String) = match choice {
        StoreChoice::Memory => (Arc::new(MemoryStore::default()), "in memory".into()),
        StoreChoice::Postgres(url) => {
            let store = PostgresStore::connect(url).await.with_context(|| format!("connecting to {url}"))?;
            (Arc::new(store), format!("PostgreSQL at {}", without_password(url)))
        }
        StoreChoice::Sqlite => {
            let path = data_dir.root().join("stepwasm.db");
            let store = SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
            (Arc::new(store), format!("SQLite at {}", path.display()))
        }
    };
    let mut config = ServiceConfig {
        lease_ttl_millis: i64::from(node.lease_seconds) * 1000,
        max_open_executions: node.max_open_executions,
        traces: node.otlp_endpoint.as_deref().map(|endpoint| Arc::new(TraceExporter::new(endpoint))),
        objects: buckets.open(data_dir)?,
        http: outbound.http,
        access_keys: outbound.access_keys,
        bindings: outbound.bindings,
        ..ServiceConfig::default()
    };
    testing.apply(&mut config)?;
    match node.node_id.clone() {
        Some(node_id) => config.node_id = node_id,
        // The same node after a restart: it resumes its executions at once instead of waiting
        // for its own old leases to lapse.
        None if !in_memory => config.node_id = persistent_node_id(data_dir)?,
        None => {}
    }
    if !in_memory {
        // Restarted on the same data directory, a node is the same instance: it takes its
        // name back at once. Another data directory under the same name is another node.
        config.instance_id = persistent_id(data_dir, "instance-id", "instance")?;
    }
    let service = Service::new(store, runtime, config);
    if !in_memory {
        let directory = data_dir.root().join("functions");
        let moved = function_directory::move_into_store(&directory, &service)
            .await
            .with_context(|| format!("moving the functions in {} into the store", directory.display()))?;
        if !moved.deployed.is_empty() {
            eprintln!("stepwasm: moved {} functions from {} into the store", moved.deployed.len(), directory.display());
        }
        for problem in moved.problems {
            eprintln!("stepwasm: a function in {} could not be moved into the store: {problem}", directory.display());
        }
    }
    Ok(Server { state: AppState { service }, describe_store, _lock: lock })
}

/// Locks the data directory for this process; released when it exits, however it exits.
fn lock_data_dir(data_dir: &DataDir) -> Result<std::fs::File> {
    std::fs::create_dir_all(data_dir.root())
        .with_context(|| format!("creating the data directory {}", data_dir.root().display()))?;
    let path = data_dir.root().join("server.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another stepwasm server is using the data directory {}: give this one its own --data-dir, or stop the other",
            data_dir.root().display()
        ),
        Err(std::fs::TryLockError::Error(error)) => Err(error).with_context(|| format!("locking {}", path.display())),
    }
}

/// A connection string fit to print: its password replaced.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The node id kept in the data directory, created on first use.
fn persistent_node_id(data_dir: &DataDir) -> Result<String> {
    persistent_id(data_dir, "node-id", "node")
}

/// An id kept in the file `name` of the data directory, created (as `PREFIX-HEX`) on first use.
fn persistent_id(data_dir: &DataDir, name: &str, prefix: &str) -> Result<String> {
    let path = data_dir.root().join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(existing.to_owned());
        }
    }
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos());
    let id = format!("{prefix}-{:x}", millis ^ u128::from(std::process::id()));
    std::fs::create_dir_all(data_dir.root())?;
    std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
    Ok(id)
}

pub(crate) fn serve(args: &ServeArgs, data_dir: &DataDir) -> Result<ExitCode> {
    let choice = match (&args.store, args.in_memory) {
        (Some(url), _) => StoreChoice::Postgres(url.clone()),
        (None, true) => StoreChoice::Memory,
        (None, false) => StoreChoice::Sqlite,
    };
    // What the node does (which executions it takes over or gives up, what it could not send),
    // on stderr: as text, or as one JSON object a line for a log collector.
    let logs =
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::INFO).with_target(false);
    if args.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async move {
        let outbound = args.outbound.load()?;
        if outbound.access_keys.is_empty() && !args.listen.ip().is_loopback() && !args.insecure {
            bail!(
                "refusing to listen on {} without access keys: anyone who could reach it could do anything. \
                 Give keys with --access-keys-file (ACCESS_KEY_ID SECRET_ACCESS_KEY lines), or say --insecure",
                args.listen
            );
        }
        let server = build_server(
            data_dir,
            &choice,
            &args.node,
            &args.buckets,
            outbound,
            &args.testing,
        )
        .await?;
        let listener =
            tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
        let address = listener.local_addr()?;
        let resumed = server.state.service.start_background_work().await?;
        println!("stepwasm serving on http://{address} (store: {})", server.describe_store);
        println!("node {} (leases of {} s)", server.state.service.node_id(), args.node.lease_seconds);
        if let Some(endpoint) = &args.node.otlp_endpoint {
            println!("traces: one per execution, to the OTLP collector at {endpoint}");
        }
        if resumed > 0 {
            println!("resumed {resumed} running executions");
        }
        let functions = server.state.service.functions().await?;
        if !functions.is_empty() {
            let names: Vec<&str> = functions.iter().map(|function| function.name.as_str()).collect();
            println!("{} deployed functions: {}", names.len(), names.join(", "));
        }
        let keys = server.state.service.access_keys();
        match (keys.first(), api::sign_in_token(keys)) {
            (Some((id, secret)), Some(token)) => {
                println!("AWS clients: --endpoint-url http://{address}, signed with a configured access key, for example");
                println!(
                    "  AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={secret} aws stepfunctions list-state-machines --endpoint-url http://{address} --region us-east-1"
                );
                println!("web console: http://{address}/console/ (sign in with an access key, or open http://{address}/console/#/sign-in?token={token} within 12 hours)");
            }
            _ => {
                println!("AWS clients: --endpoint-url http://{address} (any region, any credentials: the server is open)");
                println!(
                    "  AWS_ACCESS_KEY_ID=any AWS_SECRET_ACCESS_KEY=any aws stepfunctions list-state-machines --endpoint-url http://{address} --region us-east-1"
                );
                println!("web console: http://{address}/console/");
            }
        }
        println!("buckets for ItemReader: {}", args.buckets.describe(data_dir));
        for path in &args.testing.mock_config {
            println!("mocks: start an execution on STATE_MACHINE_ARN#TEST_CASE to use {}", path.display());
        }
        let scale = args.testing.wait_time_scale;
        if scale == 0.0 {
            println!("waits, retry back-offs, timeouts and heartbeats are skipped (--wait-time-scale 0)");
        } else if scale != 1.0 {
            println!("waits, retry back-offs, timeouts and heartbeats take {scale} times as long as definitions say");
        }
        api::run(listener, server.state, shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

pub(crate) fn function(command: &FunctionCommand) -> Result<ExitCode> {
    match command {
        FunctionCommand::Deploy { name, file, timeout_ms, fuel, memory_mib, grants, endpoint } => {
            let source = FunctionSource::resolve(file)?;
            let mut parameters = Vec::new();
            if let Some(timeout) = timeout_ms {
                parameters.push(("timeoutMillis", timeout.to_string()));
            }
            if let Some(fuel) = fuel {
                parameters.push(("fuel", fuel.to_string()));
            }
            if let Some(memory) = memory_mib {
                parameters.push(("memoryMib", memory.to_string()));
            }
            parameters.extend(grants.parameters());
            let reply = Client::new(&endpoint.endpoint).deploy_function(name, &source.component()?, &parameters)?;
            println!("deployed {name} ({})", reply["arn"].as_str().unwrap_or_default());
        }
        FunctionCommand::List { endpoint } => {
            let reply = Client::new(&endpoint.endpoint).get("/functions")?;
            for function in reply["functions"].as_array().into_iter().flatten() {
                println!(
                    "{}  sha256:{}",
                    function["name"].as_str().unwrap_or_default(),
                    function["sha256"].as_str().unwrap_or_default()
                );
            }
        }
        FunctionCommand::Delete { name, endpoint } => {
            Client::new(&endpoint.endpoint).delete(&format!("/functions/{name}"))?;
            println!("deleted {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn deploy(args: &DeployArgs) -> Result<ExitCode> {
    let definition =
        std::fs::read_to_string(&args.definition).with_context(|| format!("reading {}", args.definition.display()))?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args
            .definition
            .file_name()
            .map(|file| file.to_string_lossy().trim_end_matches(".json").trim_end_matches(".asl").to_owned())
            .unwrap_or_else(|| "state-machine".into()),
    };
    let arn = Client::new(&args.endpoint.endpoint).deploy_state_machine(
        &name,
        &definition,
        &args.machine_type,
        &args.role_arn,
    )?;
    println!("{arn}");
    Ok(ExitCode::SUCCESS)
}
