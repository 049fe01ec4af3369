//! `stepwasm new` and `stepwasm build`: a new function in each language passes its own test,
//! builds with one command, and runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context as _, Result, ensure};

/// Shared with the end-to-end tests' polyglot build, so the tools are installed once per target
/// directory.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("stepwasm-data")
}

fn stepwasm(args: &[&str], dir: &Path) -> Result<Output> {
    let output = Command::new(env!("CARGO_BIN_EXE_stepwasm"))
        .arg("--data-dir")
        .arg(data_dir())
        .args(args)
        .current_dir(dir)
        .output()?;
    ensure!(
        output.status.success(),
        "stepwasm {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(output)
}

fn run_in(dir: &Path, program: &str, args: &[&str]) -> Result<()> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .with_context(|| format!("running {program}"))?;
    ensure!(
        output.status.success(),
        "{program} {args:?} failed in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

#[test]
fn a_new_function_in_each_language_tests_builds_and_runs() -> Result<()> {
    let workspace = tempfile::tempdir()?;
    for (language, name, test) in [
        ("python", "greet-py", ["python3", "-m", "unittest"].as_slice()),
        ("js", "greet-js", ["node", "--test"].as_slice()),
        ("rust", "greet-rs", ["cargo", "test", "--quiet"].as_slice()),
    ] {
        let created = stepwasm(&["new", name, "--lang", language], workspace.path())?;
        let printed = String::from_utf8_lossy(&created.stdout);
        ensure!(printed.contains(&format!("stepwasm build {name}")), "{printed}");
        let project = workspace.path().join(name);
        run_in(&project, test[0], &test[1..])?;

        stepwasm(&["build"], &project)?;
        let component = project.join("build").join(format!("{name}.wasm"));
        let invoked = stepwasm(
            &["invoke", component.to_str().context("a UTF-8 path")?, "--input", r#"{"name": "Ada"}"#, "--json"],
            &project,
        )?;
        let report: serde_json::Value = serde_json::from_slice(&invoked.stdout)?;
        assert_eq!(report["output"]["greeting"], "Hello, Ada!", "{language}: {report}");

        // The function's own named error reaches the workflow, in every language.
        let refused = Command::new(env!("CARGO_BIN_EXE_stepwasm"))
            .arg("--data-dir")
            .arg(data_dir())
            .args(["invoke", component.to_str().context("a UTF-8 path")?, "--input", "{}", "--json"])
            .output()?;
        let report: serde_json::Value = serde_json::from_slice(&refused.stdout)?;
        assert_eq!(report["error"]["error"], "InvalidName", "{language}: {report}");
    }
    let taken = Command::new(env!("CARGO_BIN_EXE_stepwasm"))
        .args(["new", "greet-py"])
        .current_dir(workspace.path())
        .output()?;
    ensure!(!taken.status.success(), "stepwasm new must not write over a project");
    Ok(())
}
