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
    // The good order (twice: its AWS-native run too) and the out-of-stock one are authorized
    // before the stock check; the declined card never reaches the processor. Only the good
    // order's first run notifies through the stand-ins: the AWS-native one goes through SES
    // and SNS, bound to the built-in functions.
    assert!(
        printed.contains("requests the stand-ins accepted: 3 card processor, 1 email provider, 1 SMS gateway"),
        "{printed}"
    );
    let aws_native = printed.split("== good-order, AWS-native").nth(1).unwrap_or_default();
    assert!(aws_native.contains("SUCCEEDED"), "{printed}");
    assert!(aws_native.contains("   SES message ") && aws_native.contains(" and SNS message "), "{printed}");
    Ok(())
}

/// A GET with HTTP basic credentials, the way Prometheus scrapes; the status and the body.
fn scrape(address: &str, credentials: &str) -> Result<(u16, String)> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address)?;
    let basic = base64_encode(credentials.as_bytes());
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let status = reply.split_whitespace().nth(1).unwrap_or_default().parse()?;
    Ok((status, reply))
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        for i in 0..4 {
            text.push(if i <= chunk.len() { char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]) } else { '=' });
        }
    }
    text
}

#[test]
fn metrics_show_what_the_demo_orders_did() -> Result<()> {
    use std::io::BufRead as _;
    let data = tempfile::tempdir()?;
    let keys = data.path().join("access-keys");
    std::fs::write(&keys, "AKIAMETRICS scrape-secret-1\n")?;
    let mut demo = Command::new(env!("CARGO_BIN_EXE_stepwasm"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["demo", "--listen", "127.0.0.1:0", "--access-keys-file"])
        .arg(&keys)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = demo.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut address = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(endpoint) = line.split("API on http://").nth(1) {
            address = endpoint.split_whitespace().next().map(str::to_owned);
        }
        if line.starts_with("Serving until Ctrl-C") {
            break;
        }
    }
    let address = address.ok_or_else(|| anyhow::anyhow!("the demo never said where it serves"))?;
    let scraped = scrape(&address, "AKIAMETRICS:scrape-secret-1");
    let refused = scrape(&address, "AKIAMETRICS:wrong");
    let _ = demo.kill();
    let _ = demo.wait();
    let (status, text) = scraped?;
    assert_eq!(status, 200, "{text}");
    assert_eq!(refused?.0, 400, "a wrong secret must not scrape");
    for line in [
        "stepwasm_executions_started_total{state_machine=\"order-pipeline\"} 3",
        "stepwasm_executions_started_total{state_machine=\"order-pipeline-approval\"} 1",
        "stepwasm_executions_finished_total{state_machine=\"order-pipeline\",status=\"SUCCEEDED\"} 1",
        "stepwasm_executions_finished_total{state_machine=\"order-pipeline\",status=\"FAILED\"} 2",
        "stepwasm_executions_finished_total{state_machine=\"order-pipeline-aws\",status=\"SUCCEEDED\"} 1",
        "stepwasm_http_requests_total{operation=\"StartExecution\",status=\"200\"} 5",
        "stepwasm_http_requests_total{operation=\"PUT /bindings/{integration}\",status=\"200\"} 3",
        "stepwasm_task_invocation_seconds_count{function=\"sns-publish\",outcome=\"succeeded\"} 1",
        // The shipping label fails once for each run of the good order and is retried.
        "stepwasm_task_invocation_seconds_count{function=\"generate-shipping-label\",outcome=\"failed\"} 2",
    ] {
        assert!(text.contains(line), "{line} is missing from:\n{text}");
    }
    let value = |prefix: &str| -> f64 {
        text.lines().find_map(|line| line.strip_prefix(prefix)?.trim().parse().ok()).unwrap_or(0.0)
    };
    assert!(value("stepwasm_state_transitions_total ") >= 20.0, "{text}");
    assert!(value("stepwasm_store_commit_seconds_count{store=\"sqlite\"} ") > 0.0, "{text}");
    // The large order waits for a person: not ended, driven or parked.
    let waiting = value("stepwasm_executions{state=\"running\"} ") + value("stepwasm_executions{state=\"parked\"} ");
    assert_eq!(waiting, 1.0, "{text}");
    Ok(())
}
