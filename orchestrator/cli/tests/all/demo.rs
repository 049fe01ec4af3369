//! `stepwasm demo`, the README's main job: the three sample orders end as their stories say,
//! and the pipeline's functions really call the stand-in services they were granted.

use std::process::Command;

use anyhow::Result;

#[test]
fn the_demo_runs_its_orders_through_the_stand_in_services() -> Result<()> {
    let data = tempfile::tempdir()?;
    let output = Command::new(env!("CARGO_BIN_EXE_stepwasm"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["demo", "--exit", "--listen", "127.0.0.1:0"])
        .output()?;
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the demo failed:\n{printed}{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("== good-order") && printed.contains("   SUCCEEDED in "), "{printed}");
    assert!(printed.contains("error: PaymentDeclined") && printed.contains("error: OutOfStock"), "{printed}");
    // The good order and the out-of-stock one are both authorized before the stock check; the
    // declined card never reaches the processor. Only the good order is notified.
    assert!(
        printed.contains("requests the stand-ins accepted: 2 card processor, 1 email provider, 1 SMS gateway"),
        "{printed}"
    );
    Ok(())
}
