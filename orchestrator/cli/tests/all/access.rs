//! `stepwasm serve` will not be open to a network: beyond loopback it needs access keys, or
//! `--insecure` said out loud.

use std::process::Command;

use anyhow::Result;

#[test]
fn serve_refuses_to_listen_beyond_loopback_without_keys() -> Result<()> {
    let data = tempfile::tempdir()?;
    let output = Command::new(env!("CARGO_BIN_EXE_stepwasm"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--in-memory", "--listen", "0.0.0.0:0"])
        .output()?;
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "an open server on every interface started");
    assert!(said.contains("without access keys") && said.contains("--insecure"), "{said}");
    Ok(())
}
