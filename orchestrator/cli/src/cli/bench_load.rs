//! What the API benchmarks share: a server on a port of its own ([`BenchServer`]), and a load
//! generator of StartExecution requests over keep-alive HTTP/1.1 connections, from a thread of
//! its own ([`Load`]).
//!
//! Bodies are built once but for the execution's name, so the generator costs the server's
//! cores as little as a client on the same host can.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use stepwasm_orchestrator::api::{self, AppState};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{MemoryStore, PostgresStore, SqliteStore, Store};
use stepwasm_runtime::Runtime;
use tokio::net::TcpStream;

use super::bench::StoreKind;

/// A server for a benchmark: the API on a loopback port, its store in a temporary directory
/// (removed when this is dropped), on a tokio runtime with the machine's two cores.
pub(crate) struct BenchServer {
    /// Where it listens.
    pub(crate) address: SocketAddr,
    /// Its service.
    pub(crate) service: Service,
    /// Its store.
    pub(crate) store: Arc<dyn Store>,
    runtime: Option<tokio::runtime::Runtime>,
    data: std::path::PathBuf,
}

impl BenchServer {
    /// Starts a server with `kind` of store, running task functions registered in `functions`.
    pub(crate) fn start(kind: StoreKind, functions: Runtime, bench: &str) -> Result<Self> {
        let data = std::env::temp_dir().join(format!("stepwasm-bench-{bench}-{}", std::process::id()));
        std::fs::create_dir_all(&data)?;
        let store: Arc<dyn Store> = match kind {
            StoreKind::Sqlite => Arc::new(SqliteStore::open(&data.join("stepwasm.db"))?),
            StoreKind::Memory => Arc::new(MemoryStore::default()),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        Self::serve(runtime, store, functions, ServiceConfig::default(), data)
    }

    /// Starts node `node_id` on the PostgreSQL database at `url`, which other nodes may share.
    pub(crate) fn start_on_postgres(url: &str, node_id: &str, functions: Runtime) -> Result<Self> {
        let data = std::env::temp_dir().join(format!("stepwasm-bench-{node_id}-{}", std::process::id()));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        // The pool's connections belong to the runtime they are made on: the node's own.
        let store: Arc<dyn Store> = Arc::new(runtime.block_on(PostgresStore::connect(url))?);
        let config = ServiceConfig { node_id: node_id.to_owned(), ..ServiceConfig::default() };
        Self::serve(runtime, store, functions, config, data)
    }

    fn serve(
        runtime: tokio::runtime::Runtime,
        store: Arc<dyn Store>,
        functions: Runtime,
        config: ServiceConfig,
        data: std::path::PathBuf,
    ) -> Result<Self> {
        let service = Service::new(Arc::clone(&store), functions, config);
        let address = runtime.block_on(async {
            service.start_background_work().await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let address = listener.local_addr()?;
            let state = AppState { service: service.clone() };
            tokio::spawn(api::run(listener, state, std::future::pending()));
            Ok::<_, anyhow::Error>(address)
        })?;
        Ok(Self { address, service, store, runtime: Some(runtime), data })
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        // The runtime's tasks hold the service and through it the store: end them first, so
        // the store is closed before its directory goes.
        drop(self.runtime.take());
        self.store = Arc::new(MemoryStore::default());
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// What to start, and how.
#[derive(Clone)]
pub(crate) struct Load {
    /// The servers: connection `c` goes to the `c mod n`-th.
    pub(crate) addresses: Vec<SocketAddr>,
    /// The state machine to start.
    pub(crate) machine: String,
    /// The execution input, as JSON text.
    pub(crate) input: String,
    /// Keep-alive connections, each sending one request at a time.
    pub(crate) connections: usize,
    /// How long to keep starting.
    pub(crate) length: Duration,
    /// Stop after this many starts in all, if sooner.
    pub(crate) total: Option<u64>,
    /// Execution names are `<prefix><connection>-<n>`.
    pub(crate) prefix: String,
    /// Starts per second in all, spread evenly over the connections; `None`: each connection
    /// sends its next request as soon as the last is answered.
    pub(crate) rate: Option<f64>,
    /// Waits before each start while this says no (backpressure from the server's side).
    pub(crate) admit: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

/// What a load run did.
pub(crate) struct Outcome {
    /// Each StartExecution's latency, as the client saw it.
    pub(crate) latencies: Vec<Duration>,
    /// From the first request to the last answer.
    pub(crate) elapsed: Duration,
}

impl Load {
    /// Runs the load on a new thread and waits for it.
    pub(crate) fn run(&self) -> Result<Outcome> {
        let load = self.clone();
        std::thread::spawn(move || -> Result<Outcome> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            // The connections are `!Send` tasks on this one thread.
            let local = tokio::task::LocalSet::new();
            runtime.block_on(local.run_until(load.generate()))
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the load generator panicked"))?
    }

    async fn generate(self) -> Result<Outcome> {
        let escaped_input = serde_json::to_string(&self.input)?;
        let machine = &self.machine;
        let body_start = Bytes::from(format!(r#"{{"stateMachineArn":"{machine}","input":{escaped_input},"name":""#));
        let load = Arc::new(self);
        let issued = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut connections = tokio::task::JoinSet::new();
        for connection in 0..load.connections {
            let (load, body_start, issued) = (Arc::clone(&load), body_start.clone(), Arc::clone(&issued));
            connections.spawn_local(async move { load.connection(connection, &body_start, &issued, started).await });
        }
        let mut latencies = Vec::new();
        while let Some(joined) = connections.join_next().await {
            latencies.extend(joined??);
        }
        Ok(Outcome { latencies, elapsed: started.elapsed() })
    }

    async fn connection(
        &self,
        connection: usize,
        body_start: &[u8],
        issued: &AtomicU64,
        started: Instant,
    ) -> Result<Vec<Duration>> {
        let address = self.addresses[connection % self.addresses.len()];
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (mut sender, driver) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::task::spawn_local(driver);
        let host = address.to_string();
        // Paced connections take turns: connection c sends at (c + k·connections) / rate.
        let interval = self.rate.map(|rate| Duration::from_secs_f64(self.connections as f64 / rate));
        let mut next =
            started + self.rate.map_or(Duration::ZERO, |rate| Duration::from_secs_f64(connection as f64 / rate));
        let mut latencies = Vec::new();
        let mut index = 0u64;
        while started.elapsed() < self.length {
            if let Some(interval) = interval {
                tokio::time::sleep_until(next.into()).await;
                next += interval;
            }
            if self.total.is_some_and(|total| issued.fetch_add(1, Ordering::Relaxed) >= total) {
                break;
            }
            if let Some(admit) = &self.admit {
                while !admit() {
                    tokio::time::sleep(Duration::from_micros(500)).await;
                }
            }
            let mut body = Vec::with_capacity(body_start.len() + self.prefix.len() + 24);
            body.extend_from_slice(body_start);
            body.extend_from_slice(format!("{}{connection}-{index}\"}}", self.prefix).as_bytes());
            let request = hyper::Request::post("/")
                .header("host", &host)
                .header("content-type", "application/x-amz-json-1.0")
                .header("x-amz-target", "AWSStepFunctions.StartExecution")
                .body(Full::new(Bytes::from(body)))?;
            let sent = Instant::now();
            let response = sender.send_request(request).await?;
            let status = response.status();
            let reply = response.into_body().collect().await?.to_bytes();
            ensure!(status.is_success(), "StartExecution answered {status}: {}", String::from_utf8_lossy(&reply));
            latencies.push(sent.elapsed());
            index += 1;
        }
        Ok(latencies)
    }
}
