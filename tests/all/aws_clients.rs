//! Real AWS clients against the API: boto3 and the AWS CLI v1, from a Python virtualenv that
//! the test creates on first use (pinned versions, from PyPI).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use stepwasm_orchestrator::api::{self, AppState};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::SqliteStore;
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

/// moto's server is the S3 API of the Distributed Map test; aiosmtpd is the SMTP relay that
/// ses-send-email delivers to.
const CLIENTS: &[&str] = &["boto3==1.44.8", "awscli==1.46.3", "moto[server]==5.2.5", "aiosmtpd==1.4.6"];

/// The virtualenv's python, created once per target directory.
pub(crate) fn client_python() -> Result<PathBuf> {
    if let Some(python) = std::env::var_os("STEPWASM_TEST_PYTHON") {
        return Ok(PathBuf::from(python));
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aws-clients-venv");
    let python = venv.join("bin/python");
    let marker = venv.join(CLIENTS.join(" "));
    if marker.exists() {
        return Ok(python);
    }
    let created =
        Command::new("python3").arg("-m").arg("venv").arg(&venv).status().context("running python3 -m venv")?;
    if !created.success() {
        bail!("python3 -m venv failed; install python3 with venv support (Debian: python3-venv)");
    }
    let installed = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args(CLIENTS)
        .status()
        .context("running pip")?;
    if !installed.success() {
        bail!("pip could not install {CLIENTS:?}");
    }
    std::fs::write(&marker, b"")?;
    Ok(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_the_aws_cli_drive_the_order_pipeline() -> Result<()> {
    let data = tempfile::tempdir()?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    let store = Arc::new(SqliteStore::open(&data.path().join("stepwasm.db"))?);
    let service = Service::new(store, runtime, ServiceConfig::default());
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    run_client_script(service, "aws_clients.py", &[functions.as_os_str()]).await
}

/// Serves `service`'s API on a free port and runs `tests/api/SCRIPT ENDPOINT ARGS…` with the
/// clients' python, which must print one line per check and end with "N passed, 0 failed".
pub(crate) async fn run_client_script(service: Service, script: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
    let python = tokio::task::spawn_blocking(client_python).await??;
    service.start_background_work().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::run(listener, AppState { service }, async move {
        let _ = stopped.await;
    }));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("api").join(script);
    let output = tokio::process::Command::new(&python).arg(&path).arg(&endpoint).args(args).output().await?;
    let _ = stop.send(());
    server.await??;
    let report = String::from_utf8_lossy(&output.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the checks of {script} failed:\n{report}");
    assert!(report.contains(" passed, 0 failed"), "{script} did not finish:\n{report}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_the_aws_cli_sign_with_the_servers_access_keys() -> Result<()> {
    let (key_id, secret) = ("AKIASTEPWASMTEST01", "s3cr3t/4ccess+k3y-for-tests");
    let config = ServiceConfig {
        access_keys: stepwasm_orchestrator::access::AccessKeys::new([(key_id.to_owned(), secret.to_owned())]),
        ..ServiceConfig::default()
    };
    let service = Service::new(
        Arc::new(stepwasm_orchestrator::store::MemoryStore::default()),
        Runtime::new(RuntimeConfig::default())?,
        config,
    );
    run_client_script(service, "access_control.py", &[key_id.as_ref(), secret.as_ref()]).await
}
