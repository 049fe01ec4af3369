//! Distributed Maps reading a 10,000-row CSV from a local bucket directory and from a real S3 API
//! (moto's server, from PyPI), driven and inspected with boto3.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use stepwasm_orchestrator::objects::{ObjectStore, ObjectStoreConfig, S3Config};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::SqliteStore;
use stepwasm_runtime::{Runtime, RuntimeConfig};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::aws_clients::{client_python, run_client_script};

/// Starts `moto_server` on a free port of 127.0.0.1 and returns it with its URL, read from the
/// line it logs when it listens.
async fn start_moto(python: &Path) -> Result<(Child, String)> {
    let moto = python.with_file_name("moto_server");
    let mut child = Command::new(&moto)
        .args(["-H", "127.0.0.1", "-p", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {} (moto[server] from PyPI)", moto.display()))?;
    let stderr = child.stderr.take().context("moto_server's stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(at) = line.find("Running on http://") {
                let url = line[at + "Running on ".len()..].trim().to_owned();
                return Ok(url);
            }
        }
        bail!("moto_server exited before it listened")
    })
    .await
    .context("moto_server did not start listening within 60 s")??;
    // Keep draining its log, so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_runs_distributed_maps_over_local_and_s3_buckets() -> Result<()> {
    let python = tokio::task::spawn_blocking(client_python).await??;
    let (_moto, s3_endpoint) = start_moto(&python).await?;
    let data = tempfile::tempdir()?;
    let buckets = data.path().join("buckets");
    let objects = ObjectStore::open(&ObjectStoreConfig {
        local_root: Some(buckets.clone()),
        s3: Some(S3Config {
            endpoint: s3_endpoint.clone(),
            region: "us-east-1".into(),
            credentials: Some(("test".into(), "test".into(), None)),
        }),
    })?;
    let store = Arc::new(SqliteStore::open(&data.path().join("stepwasm.db"))?);
    let service = Service::new(
        store,
        Runtime::new(RuntimeConfig::default())?,
        ServiceConfig { objects, ..ServiceConfig::default() },
    );
    let args = [std::ffi::OsStr::new(&s3_endpoint), buckets.as_os_str()];
    run_client_script(service, "distributed_map.py", &args).await
}
