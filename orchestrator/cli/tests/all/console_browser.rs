//! The Node.js tests in `tests/e2e`, against this build's `stepwasm` binary: the web console in
//! a real browser (`console.test.mjs`, and Workflow Studio's design mode in `studio.test.mjs`:
//! Node's test runner with `playwright-core`, driving the system's Chromium; screenshots land in
//! `target/tmp/console-e2e` and `target/tmp/studio-e2e`), and the API driven by the AWS SDK for
//! JavaScript v3 (`sdk.test.mjs`, with `@aws-sdk/client-sfn`).
//!
//! Needs Node.js 20 or later and Chromium (Debian: `apt-get install nodejs npm chromium`);
//! `.ci/run` installs both. `playwright-core` and `@aws-sdk/client-sfn` come from npm with `npm ci`
//! on first use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context as _, Result, bail, ensure};

fn on_path(program: &str) -> bool {
    Command::new("which").arg(program).output().is_ok_and(|output| output.status.success())
}

/// `tests/e2e`, with its npm packages installed.
fn e2e_directory() -> Result<PathBuf> {
    // Both tests may ask at once; one `npm ci` must finish before the other looks.
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _installing = INSTALLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
    if !on_path("node") || !on_path("npm") {
        bail!("the Node.js tests need Node.js 20+ and npm (Debian: apt-get install nodejs npm)");
    }
    let missing = ["playwright-core", "@aws-sdk/client-sfn"]
        .into_iter()
        .any(|package| !e2e.join("node_modules").join(package).join("package.json").exists());
    if missing {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .status()
            .context("running npm ci in tests/e2e")?;
        ensure!(installed.success(), "npm ci in tests/e2e failed");
    }
    Ok(e2e)
}

/// Runs one test file with Node's test runner; every test in it must run and pass.
fn node_test(e2e: &Path, file: &str, environment: &[(&str, &Path)]) -> Result<()> {
    let mut command = Command::new("node");
    command
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec", file])
        .current_dir(e2e)
        .env("STEPWASM_BIN", env!("CARGO_BIN_EXE_stepwasm"));
    for (name, value) in environment {
        command.env(name, value);
    }
    let output = command.output().with_context(|| format!("running node --test {file} in tests/e2e"))?;
    let report = String::from_utf8_lossy(&output.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&output.stderr));
    ensure!(output.status.success(), "{file} failed:\n{report}");
    for clean in ["ℹ fail 0", "ℹ cancelled 0", "ℹ skipped 0"] {
        ensure!(report.contains(clean), "{file} did not all run and pass:\n{report}");
    }
    Ok(())
}

/// Fails with what to install when no Chromium can be found.
fn require_chromium() -> Result<()> {
    let chromium_given = std::env::var_os("STEPWASM_CHROMIUM").is_some_and(|path| Path::new(&path).exists());
    if !chromium_given
        && !on_path("chromium")
        && !on_path("chromium-browser")
        && !Path::new("/usr/bin/chromium").exists()
    {
        bail!("the browser tests need Chromium (Debian: apt-get install chromium), or STEPWASM_CHROMIUM=<path>");
    }
    Ok(())
}

/// Runs a browser test file, with its screenshots in `target/tmp/<artifacts>`.
fn browser_test(file: &str, artifacts: &str) -> Result<()> {
    // One browser and demo server at a time: two would race each other's timeouts on a small machine.
    static BROWSING: Mutex<()> = Mutex::new(());
    let _browsing = BROWSING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let e2e = e2e_directory()?;
    require_chromium()?;
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join(artifacts);
    std::fs::create_dir_all(&artifacts)?;
    let result = node_test(&e2e, file, &[("E2E_ARTIFACTS", &artifacts)]);
    eprintln!("screenshots: {}", artifacts.display());
    result
}

#[test]
fn the_console_works_in_a_real_browser() -> Result<()> {
    browser_test("console.test.mjs", "console-e2e")
}

#[test]
fn workflow_studio_designs_workflows_in_a_real_browser() -> Result<()> {
    browser_test("studio.test.mjs", "studio-e2e")
}

#[test]
fn the_aws_sdk_for_javascript_drives_versions_and_aliases() -> Result<()> {
    node_test(&e2e_directory()?, "sdk.test.mjs", &[])
}
