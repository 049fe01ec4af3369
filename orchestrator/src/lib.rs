//! The stepwasm orchestrator: AWS Step Functions, self-hosted, running Wasm task functions.
//!
//! A workflow is a state machine written in Amazon States Language. Its `Task` states run task
//! functions, WebAssembly components hosted by `stepwasm-runtime`. This crate holds everything
//! around the interpreter (`stepwasm-asl`, a pure state machine): the engine that carries out its
//! decisions, the durable store, the AWS-compatible API server, the web console, and the
//! `stepwasm` CLI.
//!
//! # Core concepts
//!
//! - **StateMachine** (`stepwasm_asl::StateMachine`): a compiled definition, built once and shared.
//! - **Execution** (`stepwasm_asl::Execution`): one run of a state machine. The interpreter takes
//!   an input event and returns history events and actions; the [`engine::Engine`] performs the
//!   actions (task invocations, timers) concurrently and feeds their results back.
//! - **HistoryEvent** (`stepwasm_asl::HistoryEvent`): what happened, in AWS's event types, served by
//!   `GetExecutionHistory`.
//! - **Store** ([`store::Store`]): narrow traits over state machines, executions, journals,
//!   leases and activities, with an in-memory and a SQLite implementation. Each step is
//!   journaled before its actions run, so executions survive a crash and resume by replay.
//! - [`service::Service`]: the Step Functions operations; [`api`] renders them as the AWS JSON
//!   1.0 protocol, so boto3 and the AWS CLI work against `stepwasm serve`. It compiles each
//!   definition once, runs Task states through any [`engine::TaskInvoker`] it is given
//!   ([`service::Service::with_invoker`]; [`engine::WasmTasks`] by default), and keeps the node's
//!   part (which executions it drives, leases, resuming) apart from the operations.
//! - **Console**: the browser app in `console/` (ES modules and vendored elkjs, compiled into the
//!   binary) served by [`api`] at `/console/`. It reads the same API plus small read endpoints:
//!   graphs from [`stepwasm_asl::StateMachine::describe`], per-state progress folded from the
//!   history by [`stepwasm_asl::progress`], and the history as server-sent events.
//! - **Deployed functions** live in the store with everything else, so every node runs what was
//!   deployed through any ([`service::Service::deploy_function`]). [`DataDir`] is where a node's
//!   own state lives (the SQLite file, compiled artifacts); [`function_directory`] moves the
//!   function files of older releases into the store; [`Client`] is how the CLI talks to a
//!   server.
//! - **Buckets** ([`objects::ObjectStore`]): where a Distributed Map's `ItemReader` reads its
//!   items and its `ResultWriter` writes its results, a directory tree on the node or any
//!   S3-compatible endpoint.
//! - **Mocks** ([`mocks::MockConfig`]): mocked task responses in Step Functions Local's
//!   `MockConfigFile` format, for tests of workflows (`stepwasm test`).
//! - **The HTTP Task** ([`http_task`]): `arn:aws:states:::http:invoke`, through the runtime's
//!   outbound client, under the server's allow-list, authenticated by locally configured
//!   connections.
//! - **Bindings** ([`bindings`]): what the service integrations of AWS definitions
//!   (`sns:publish`, `ecs:runTask.sync`, `aws-sdk:…`) run here, a function or an HTTP endpoint,
//!   set in the server's configuration or through `/bindings`.
//! - **Queues** ([`queues`]): SQS-style message queues in the store, which `sqs:sendMessage`
//!   tasks send to and workers read with any SQS client.
//! - **Access** ([`access`]): access keys, SigV4 verification and signing, console sessions; the
//!   [`api`] refuses what they do not allow.
//! - **Watching** ([`metrics`], [`traces`]): Prometheus figures on `GET /metrics`, and one
//!   OpenTelemetry trace per execution over OTLP/HTTP.
//!
//! The library knows no particular function: the `stepwasm` binary (`orchestrator/cli`) embeds
//! the sample pipeline and hands the conformance stand-ins to the `conformance` runner (feature
//! `conformance`).
//!
//! # Layout
//!
//! `engine/` (driver, clock, replay, Wasm tasks), `store/` (traits, memory, SQLite, PostgreSQL), `service/`
//! (operations by area; `node.rs` for which executions this node drives, `compiled.rs` for
//! compiled definitions), `api/` (HTTP, console endpoints and assets), `console/` (the browser
//! app's files, not Rust) and `conformance.rs` (the AWS-recorded case runner).
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//!
//! use stepwasm_orchestrator::service::{Service, ServiceConfig};
//! use stepwasm_orchestrator::store::{MachineType, MemoryStore};
//! use stepwasm_runtime::{Runtime, RuntimeConfig};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let service = Service::new(Arc::new(MemoryStore::default()), runtime, ServiceConfig::default());
//! let definition = r#"{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": true}}}"#;
//! let machine = service.create_state_machine(
//!     "hello",
//!     definition,
//!     "arn:aws:iam::123456789012:role/example",
//!     MachineType::Standard,
//!     &BTreeMap::new(),
//!     serde_json::Value::Null,
//!     serde_json::Value::Null,
//! )
//! .await?;
//! assert_eq!(machine.arn, "arn:aws:states:us-east-1:123456789012:stateMachine:hello");
//! assert_eq!(service.graph_of(definition)?["startAt"], "Hello");
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(example())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod access;
pub mod api;
pub mod bindings;
mod client;
#[cfg(feature = "conformance")]
pub mod conformance;
mod data_dir;
pub mod engine;
mod error;
pub mod function_directory;
pub mod http_task;
pub mod metrics;
pub mod mocks;
pub mod objects;
pub mod queues;
pub mod service;
pub mod store;
#[cfg(feature = "postgres-test-server")]
pub mod testing;
pub mod traces;

pub use client::{Client, ClientError};
pub use data_dir::DataDir;
pub use error::{Error, Result};
