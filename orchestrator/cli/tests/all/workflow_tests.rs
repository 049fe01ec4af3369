//! `stepwasm test`: the sample pipeline's test files pass, a failing expectation fails the run
//! with a line that says why, and the JUnit report says the same.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::Result;

fn functions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions")
}

fn stepwasm_test(data: &Path, args: &[&std::ffi::OsStr]) -> Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_stepwasm")).arg("--data-dir").arg(data).arg("test").args(args).output()?)
}

#[test]
fn the_sample_pipelines_test_files_pass() -> Result<()> {
    let data = tempfile::tempdir()?;
    let junit = data.path().join("junit.xml");
    let files =
        [functions_dir().join("order-pipeline.test.json"), functions_dir().join("order-pipeline-approval.test.json")];
    let output = stepwasm_test(
        data.path(),
        &[files[0].as_os_str(), files[1].as_os_str(), "--junit".as_ref(), junit.as_os_str()],
    )?;
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stepwasm test failed:\n{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(report.lines().any(|line| line == "10 passed, 0 failed"), "{report}");
    assert_eq!(report.matches("\n  ok    ").count(), 10, "{report}");
    let xml = std::fs::read_to_string(&junit)?;
    assert_eq!(xml.matches("<testcase ").count(), 10, "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    Ok(())
}

#[test]
fn a_broken_expectation_fails_the_run_and_says_why() -> Result<()> {
    let data = tempfile::tempdir()?;
    let functions = functions_dir();
    let file = data.path().join("broken.test.json");
    let test = serde_json::json!({
        "stateMachine": functions.join("order-pipeline.asl.json"),
        "cases": [
            {"name": "passes", "inputFile": functions.join("samples/good-order.json"), "expect": {"status": "SUCCEEDED"}},
            {
                "name": "expects the wrong outcome",
                "inputFile": functions.join("samples/declined-card.json"),
                "expect": {"status": "SUCCEEDED", "path": ["PlaceOrder", "ShipOrder"], "attempts": {"PlaceOrder": 2}}
            }
        ]
    });
    std::fs::write(&file, serde_json::to_vec_pretty(&test)?)?;
    let junit = data.path().join("junit.xml");
    let output = stepwasm_test(data.path(), &[file.as_os_str(), "--junit".as_ref(), junit.as_os_str()])?;
    let report = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.lines().any(|line| line == "1 passed, 1 failed"), "{report}");
    for why in [
        "  FAIL  expects the wrong outcome",
        r#"status: expected "SUCCEEDED", got "FAILED""#,
        r#"path: expected "ShipOrder" to be entered"#,
        "attempts of PlaceOrder: expected 2, got 1",
        r#"the execution failed with "PaymentDeclined""#,
    ] {
        assert!(report.contains(why), "missing {why:?} in:\n{report}");
    }
    let xml = std::fs::read_to_string(&junit)?;
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");

    // A test file that names a test case its mock file lacks is refused before anything runs.
    let mocks = data.path().join("mocks.json");
    std::fs::write(
        &mocks,
        r#"{"StateMachines": {"order-pipeline": {"TestCases": {"Real": {}}}}, "MockedResponses": {}}"#,
    )?;
    let unknown = serde_json::json!({
        "stateMachine": functions.join("order-pipeline.asl.json"),
        "mockConfig": mocks,
        "cases": [{"name": "x", "testCase": "Imagined", "expect": {"status": "SUCCEEDED"}}]
    });
    std::fs::write(&file, serde_json::to_vec(&unknown)?)?;
    let output = stepwasm_test(data.path(), &[file.as_os_str()])?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no test case 'Imagined' for 'order-pipeline' (it has: Real)"), "{stderr}");
    Ok(())
}
