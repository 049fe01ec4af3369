//! Deployed functions live in the store: one deployed through a node runs on every node that
//! shares the store, a replaced or deleted one changes everywhere, and the function files of an
//! older release move into the store and survive a restart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use stepwasm_orchestrator::function_directory;
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionRecord, ExecutionStatus, PostgresStore, SqliteStore, Store};
use stepwasm_orchestrator::testing::TestServer;
use stepwasm_runtime::{FunctionConfig, FunctionLimits, Runtime, RuntimeConfig};

use crate::parking::{create, eventually};

/// A conformance stand-in's component, by the handler file it replaces.
fn handler(file: &str) -> Result<&'static [u8]> {
    let (_, component) = stepwasm_functions::CONFORMANCE_HANDLERS
        .iter()
        .find(|(handler, _)| *handler == file)
        .with_context(|| format!("the {file} stand-in"))?;
    Ok(component)
}

/// A node with nothing registered in its runtime: it knows only what the store tells it.
async fn bare_node(store: Arc<dyn Store>, name: &str) -> Result<Service> {
    let config = ServiceConfig { node_id: name.to_owned(), ..ServiceConfig::default() };
    let service = Service::new(store, Runtime::new(RuntimeConfig::default())?, config);
    service.start_background_work().await?;
    Ok(service)
}

/// One Task state that calls `greet`.
async fn deploy_greeting(service: &Service) -> Result<String> {
    let definition = json!({
        "StartAt": "Greet",
        "States": {"Greet": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:greet", "End": true}}
    });
    create(service, "greeting", &definition).await
}

async fn run_to_end(service: &Service, machine: &str, input: &Value) -> Result<ExecutionRecord> {
    let (arn, _) = service.start_execution(machine, None, Some(&input.to_string())).await?;
    eventually(Duration::from_secs(20), "the execution to end", || async {
        Ok(service.describe_execution(&arn).await?.status != ExecutionStatus::Running)
    })
    .await?;
    Ok(service.describe_execution(&arn).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_deployed_through_one_node_runs_on_the_other_and_changes_everywhere() -> Result<()> {
    let url = TestServer::database().await?;
    let a = bare_node(Arc::new(PostgresStore::connect(&url).await?), "node-a").await?;
    let b = bare_node(Arc::new(PostgresStore::connect(&url).await?), "node-b").await?;
    let machine = deploy_greeting(&a).await?;

    // Started on B the moment A has answered the deployment: before A's notice reaches B, the
    // task finds the function in the store.
    let deployed = a.deploy_function("greet", handler("id_function.py")?.to_vec(), FunctionConfig::default()).await?;
    let input = json!({"hello": "world"});
    let greeted = run_to_end(&b, &machine, &input).await?;
    ensure!(greeted.status == ExecutionStatus::Succeeded, "{greeted:?}");
    ensure!(greeted.output.as_deref().map(serde_json::from_str::<Value>).transpose()? == Some(input.clone()));
    let listed = b.functions().await?;
    ensure!(listed.len() == 1 && listed[0].sha256 == deployed.sha256, "node-b lists {listed:?}");

    // Replaced through A: B runs the new component once the store's notice reaches it.
    let replaced = Instant::now();
    a.deploy_function("greet", handler("raise_exception.py")?.to_vec(), FunctionConfig::default()).await?;
    // Each node compiles the component, so a loaded machine can take a few seconds.
    eventually(Duration::from_secs(10), "node-b to run the replacement", || async {
        Ok(b.runtime().function("greet").is_some_and(|function| function.sha256() != deployed.sha256))
    })
    .await?;
    println!("a function replaced through node-a was registered on node-b within {:?}", replaced.elapsed());
    let failed = run_to_end(&b, &machine, &input).await?;
    ensure!(failed.status == ExecutionStatus::Failed, "the replacement raises: {failed:?}");
    ensure!(failed.error.as_deref() != Some("Lambda.ResourceNotFoundException"), "{failed:?}");

    // Deleted through A: gone from B too.
    a.delete_function("greet").await?;
    eventually(Duration::from_secs(10), "node-b to forget the deleted function", || async {
        Ok(b.runtime().function("greet").is_none())
    })
    .await?;
    ensure!(b.functions().await?.is_empty(), "node-b still lists a deleted function");
    let missing = run_to_end(&b, &machine, &input).await?;
    ensure!(missing.error.as_deref() == Some("Lambda.ResourceNotFoundException"), "{missing:?}");
    let again = a.delete_function("greet").await;
    ensure!(again.as_ref().is_err_and(|error| error.to_string().contains("ResourceNotFound")), "{again:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_files_of_an_older_release_move_into_the_store_and_survive_a_restart() -> Result<()> {
    let data = tempfile::tempdir()?;
    let (database, files) = (data.path().join("stepwasm.db"), data.path().join("functions"));
    std::fs::create_dir_all(&files)?;
    std::fs::write(files.join("greet.wasm"), handler("id_function.py")?)?;
    let limits = FunctionLimits { timeout_millis: 1_234, ..FunctionLimits::default() };
    let config = FunctionConfig { limits, ..FunctionConfig::default() };
    std::fs::write(files.join("greet.json"), serde_json::to_vec(&config)?)?;
    std::fs::write(files.join("broken.wasm"), b"not a component")?;

    let machine = {
        let service = bare_node(Arc::new(SqliteStore::open(&database)?), "node").await?;
        let moved = function_directory::move_into_store(&files, &service).await?;
        ensure!(moved.deployed == ["greet"], "{moved:?}");
        ensure!(moved.problems.len() == 1 && moved.problems[0].starts_with("broken: "), "{moved:?}");
        ensure!(!files.join("greet.wasm").exists() && !files.join("greet.json").exists(), "the moved files stay");
        ensure!(files.join("broken.wasm").exists(), "a file that could not be moved is kept");
        // Moving again finds nothing new and changes nothing.
        let again = function_directory::move_into_store(&files, &service).await?;
        ensure!(again.deployed.is_empty() && again.problems.len() == 1, "{again:?}");
        deploy_greeting(&service).await?
    };

    // A restarted server registers the function from its database, settings and all.
    let service = bare_node(Arc::new(SqliteStore::open(&database)?), "node").await?;
    let greet = service.function("greet").await?;
    ensure!(greet.config == config && greet.deployed.is_some(), "{greet:?}");
    ensure!(service.runtime().function("greet").is_some_and(|f| *f.config() == config), "greet is not registered");
    let greeted = run_to_end(&service, &machine, &json!({"n": 1})).await?;
    ensure!(greeted.status == ExecutionStatus::Succeeded, "{greeted:?}");
    Ok(())
}

/// Found by probing: concurrent deployments of one name answered 500 (every write used the same
/// temporary file), and of the same bytes under different names 400 (the artifact cache).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deployments_all_succeed_on_a_fresh_data_directory() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let runtime =
        Runtime::new(RuntimeConfig { artifact_cache: Some(dir.path().join("artifacts")), ..RuntimeConfig::default() })?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("stepwasm.db"))?);
    let service = Service::new(store, runtime, ServiceConfig::default());
    let component = handler("id_function.py")?.to_vec();
    let deploy = |name: String| {
        let (service, component) = (service.clone(), component.clone());
        tokio::spawn(async move { service.deploy_function(&name, component, FunctionConfig::default()).await })
    };
    let same: Vec<_> = (0..24).map(|_| deploy("same".to_owned())).collect();
    let different: Vec<_> = (0..24).map(|i| deploy(format!("copy-{i}"))).collect();
    for deployment in same.into_iter().chain(different) {
        deployment.await?.map_err(|error| anyhow::anyhow!("a concurrent deployment failed: {error}"))?;
    }
    ensure!(service.functions().await?.len() == 25, "every function is listed once");
    Ok(())
}
