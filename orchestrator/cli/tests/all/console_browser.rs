//! The web console in a real browser: runs the Playwright tests in `tests/e2e` (Node's test
//! runner with `playwright-core`, driving the system's Chromium) against this build's `stepwasm`
//! binary. Screenshots land in `target/tmp/console-e2e`.
//!
//! Needs Node.js 20 or later and Chromium (Debian: `apt-get install nodejs npm chromium`);
//! `.ci/run` installs both. `playwright-core` comes from npm with `npm ci` on first use.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail, ensure};

fn on_path(program: &str) -> bool {
    Command::new("which").arg(program).output().is_ok_and(|output| output.status.success())
}

#[test]
fn the_console_works_in_a_real_browser() -> Result<()> {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
    if !on_path("node") || !on_path("npm") {
        bail!("the browser tests need Node.js 20+ and npm (Debian: apt-get install nodejs npm)");
    }
    let chromium_given = std::env::var_os("STEPWASM_CHROMIUM").is_some_and(|path| Path::new(&path).exists());
    if !chromium_given
        && !on_path("chromium")
        && !on_path("chromium-browser")
        && !Path::new("/usr/bin/chromium").exists()
    {
        bail!("the browser tests need Chromium (Debian: apt-get install chromium), or STEPWASM_CHROMIUM=<path>");
    }
    if !e2e.join("node_modules/playwright-core/package.json").exists() {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .status()
            .context("running npm ci in tests/e2e")?;
        ensure!(installed.success(), "npm ci in tests/e2e failed");
    }
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-e2e");
    std::fs::create_dir_all(&artifacts)?;
    let output = Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec", "console.test.mjs"])
        .current_dir(&e2e)
        .env("STEPWASM_BIN", env!("CARGO_BIN_EXE_stepwasm"))
        .env("E2E_ARTIFACTS", &artifacts)
        .output()
        .context("running node --test in tests/e2e")?;
    let report = String::from_utf8_lossy(&output.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&output.stderr));
    eprintln!("screenshots: {}", artifacts.display());
    ensure!(output.status.success(), "the browser tests failed:\n{report}");
    for clean in ["ℹ fail 0", "ℹ cancelled 0", "ℹ skipped 0"] {
        ensure!(report.contains(clean), "the browser tests did not all run and pass:\n{report}");
    }
    Ok(())
}
