//! What a guest may reach and read: outbound HTTP to granted origins only, within its deadline
//! and response cap; variables and secrets, with secrets masked in everything recorded.

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use stepwasm_runtime::{
    AllowList, Error, FailureKind, FunctionConfig, FunctionLimits, Invocation, InvocationReport, MASK, Runtime,
    RuntimeConfig, Secrets, TimeoutKind,
};
use stepwasm_tests::fixtures::OUTBOUND;

use crate::http_stub::{HttpStub, echoed};

fn outbound_bytes() -> Result<Vec<u8>> {
    std::fs::read(OUTBOUND).with_context(|| format!("reading fixture {OUTBOUND}"))
}

fn runtime_granting(origins: &[&str], limits: FunctionLimits) -> Result<Runtime> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let allowed_outbound = AllowList::new(origins.iter().map(|origin| origin.parse()).collect::<Result<Vec<_>, _>>()?);
    let config = FunctionConfig { limits, allowed_outbound, ..FunctionConfig::default() };
    runtime.register("outbound", &outbound_bytes()?, config)?;
    Ok(runtime)
}

async fn fetch(runtime: &Runtime, url: &str) -> Result<InvocationReport> {
    Ok(runtime.invoke("outbound", Invocation::new(&json!({"mode": "fetch", "url": url}))).await?)
}

fn failure_name(report: &InvocationReport) -> &str {
    report.outcome.as_ref().err().map_or("(succeeded)", |failure| failure.error.as_str())
}

#[tokio::test]
async fn a_granted_origin_is_reached() -> Result<()> {
    let stub = HttpStub::start().await;
    let runtime = runtime_granting(&[&stub.origin], FunctionLimits::default())?;
    let report = runtime
        .invoke(
            "outbound",
            Invocation::new(
                &json!({"mode": "fetch", "url": stub.url("/echo/charge?id=7"), "method": "POST", "body": "hi"}),
            ),
        )
        .await?;
    let output = report.outcome.as_ref().map_err(|failure| anyhow::anyhow!("{failure}"))?;
    assert_eq!(output["status"], 200);
    let seen = echoed(output["body"].as_str().unwrap_or_default());
    assert_eq!((seen["method"].as_str(), seen["path"].as_str()), (Some("POST"), Some("/echo/charge?id=7")));
    assert_eq!(seen["body"], "hi");
    assert_eq!(stub.connections(), 1);
    Ok(())
}

#[tokio::test]
async fn any_other_origin_is_refused_without_a_connection() -> Result<()> {
    let granted = HttpStub::start().await;
    let other = HttpStub::start().await;
    let runtime = runtime_granting(&[&granted.origin], FunctionLimits::default())?;

    let refused = fetch(&runtime, &other.url("/echo")).await?;
    assert_eq!(failure_name(&refused), "Http.OriginNotAllowed");

    // A redirect is a new request, checked like the first.
    let target = other.url("/echo");
    let redirected = fetch(&runtime, &granted.url(&format!("/redirect?to={target}"))).await?;
    assert_eq!(failure_name(&redirected), "Http.OriginNotAllowed");
    assert_eq!(granted.connections(), 1, "the granted origin answered the redirect");
    assert_eq!(other.connections(), 0, "a refused origin must never see a connection");

    // With nothing granted, nothing goes out at all.
    let closed = runtime_granting(&[], FunctionLimits::default())?;
    assert_eq!(failure_name(&fetch(&closed, &granted.url("/echo")).await?), "Http.OriginNotAllowed");
    assert_eq!(granted.connections(), 1);
    Ok(())
}

#[tokio::test]
async fn a_redirect_within_the_granted_origins_is_followed() -> Result<()> {
    let stub = HttpStub::start().await;
    let runtime = runtime_granting(&[&stub.origin], FunctionLimits::default())?;
    let report = fetch(&runtime, &stub.url(&format!("/redirect?to={}", stub.url("/echo/landed")))).await?;
    let output = report.outcome.as_ref().map_err(|failure| anyhow::anyhow!("{failure}"))?;
    assert_eq!(echoed(output["body"].as_str().unwrap_or_default())["path"], "/echo/landed");
    Ok(())
}

#[tokio::test]
async fn a_slow_server_meets_the_deadline_as_states_timeout() -> Result<()> {
    let stub = HttpStub::start().await;
    let runtime =
        runtime_granting(&[&stub.origin], FunctionLimits { timeout_millis: 500, ..FunctionLimits::default() })?;
    let started = std::time::Instant::now();
    let report = fetch(&runtime, &stub.url("/slow")).await?;
    let failure = report.outcome.expect_err("the server answers after ten seconds");
    assert_eq!(failure.error, "States.Timeout", "{failure}");
    assert!(matches!(failure.kind, FailureKind::Timeout(TimeoutKind::Deadline)), "{failure:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn an_oversized_response_is_refused() -> Result<()> {
    let stub = HttpStub::start().await;
    let limits = FunctionLimits { max_http_response_bytes: 1 << 20, ..FunctionLimits::default() };
    let runtime = runtime_granting(&[&stub.origin], limits)?;
    for path in ["/big", "/big-chunked"] {
        let report = fetch(&runtime, &stub.url(path)).await?;
        assert_eq!(failure_name(&report), "Http.ResponseTooLarge", "{path}: {:?}", report.outcome);
    }
    // Under the cap, the same function reads a body whole.
    let report = fetch(&runtime, &stub.url("/echo")).await?;
    assert!(report.outcome.is_ok(), "{:?}", report.outcome);
    Ok(())
}

#[tokio::test]
async fn secrets_are_read_but_never_recorded() -> Result<()> {
    let secret = "sk_live_4f9a8b7c6d5e";
    let runtime = Runtime::with_secrets(
        RuntimeConfig::default(),
        Secrets::new([
            ("PAYMENT_KEY".to_owned(), secret.to_owned()),
            ("UNGRANTED".to_owned(), "other-9f8e".to_owned()),
        ]),
    )?;
    let config = FunctionConfig {
        variables: [("REGION".to_owned(), "eu-west-1".to_owned())].into(),
        secrets: vec!["PAYMENT_KEY".to_owned()],
        ..FunctionConfig::default()
    };
    runtime.register("outbound", &outbound_bytes()?, config.clone())?;

    let names = json!(["PAYMENT_KEY", "REGION", "UNGRANTED"]);
    let read = runtime.invoke("outbound", Invocation::new(&json!({"mode": "config", "names": names}))).await?;
    let output = read.outcome.as_ref().map_err(|failure| anyhow::anyhow!("{failure}"))?;
    // The function got the value (its output proves it by the mask), a variable, and nothing it
    // was not granted.
    assert_eq!(output, &json!({"PAYMENT_KEY": MASK, "REGION": "eu-west-1", "UNGRANTED": Value::Null}));

    let leaked =
        runtime.invoke("outbound", Invocation::new(&json!({"mode": "config", "names": names, "leak": true}))).await?;
    let failure = leaked.outcome.as_ref().expect_err("the leak mode fails");
    let recorded = [
        failure.cause.clone(),
        leaked.stdout.text.clone(),
        leaked.stderr.text.clone(),
        leaked.logs.iter().map(|line| line.message.clone()).collect::<Vec<_>>().join("\n"),
    ];
    for text in &recorded {
        assert!(text.contains(MASK), "the leak reached the host: {text}");
        assert!(!text.contains(secret), "a secret was recorded: {text}");
    }

    // A secret the server lacks is refused when the function is registered.
    let missing = FunctionConfig { secrets: vec!["NOT_ON_THIS_SERVER".to_owned()], ..config };
    let refused = runtime.register("outbound-2", &outbound_bytes()?, missing);
    assert!(matches!(refused, Err(Error::MissingSecret { ref secret, .. }) if secret == "NOT_ON_THIS_SERVER"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_never_reaches_the_history_the_console_or_the_api() -> Result<()> {
    use stepwasm_orchestrator::Client;
    use stepwasm_orchestrator::api::{self, AppState};
    use stepwasm_orchestrator::service::{Service, ServiceConfig};
    use stepwasm_orchestrator::store::MemoryStore;

    let secret = "whsec_3c9d1e7f5a2b";
    let runtime =
        Runtime::with_secrets(RuntimeConfig::default(), Secrets::new([("HOOK_KEY".to_owned(), secret.to_owned())]))?;
    let service = Service::new(std::sync::Arc::new(MemoryStore::default()), runtime, ServiceConfig::default());
    service.start_background_work().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    tokio::spawn(api::run(listener, AppState { service }, std::future::pending()));

    let component = outbound_bytes()?;
    let seen = tokio::task::spawn_blocking(move || -> Result<Vec<String>> {
        let client = Client::new(&endpoint);
        client.deploy_function("outbound", &component, &[("secret", "HOOK_KEY".to_owned())])?;
        let task = |leak: bool| {
            json!({
                "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:outbound",
                "Parameters": {"mode": "config", "names": ["HOOK_KEY"], "leak": leak}, "ResultPath": "$.read"
            })
        };
        let mut read = task(false);
        read["Next"] = json!("Leak");
        let mut leak = task(true);
        leak["Catch"] = json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}]);
        leak["End"] = json!(true);
        let definition =
            json!({"StartAt": "Read", "States": {"Read": read, "Leak": leak, "Done": {"Type": "Pass", "End": true}}});
        let machine =
            client.deploy_state_machine("secrets", &definition.to_string(), "STANDARD", "arn:aws:iam::1:role/x")?;
        let started = client.call("StartExecution", &json!({"stateMachineArn": machine, "input": "{}"}))?;
        let execution = started["executionArn"].as_str().context("no ARN")?.to_owned();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let described = loop {
            let described = client.call("DescribeExecution", &json!({"executionArn": execution}))?;
            if described["status"] != "RUNNING" {
                break described;
            }
            ensure_before(deadline)?;
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        anyhow::ensure!(described["status"] == "SUCCEEDED", "{described}");
        let history = client.call("GetExecutionHistory", &json!({"executionArn": execution, "maxResults": 1000}))?;
        let progress = client.get(&format!("/console/api/executions/{execution}/progress"))?;
        let functions = client.get("/functions")?;
        Ok(vec![described.to_string(), history.to_string(), progress.to_string(), functions.to_string()])
    })
    .await??;
    let [described, history, progress, functions] =
        <[String; 4]>::try_from(seen).map_err(|_| anyhow::anyhow!("four replies"))?;
    // The reads and the leak really happened: each shows the mask where the value would be.
    assert!(described.contains(MASK) && history.contains(MASK), "the secret was never read: {history}");
    assert!(functions.contains("HOOK_KEY"), "a function shows the names of its secrets: {functions}");
    for (what, text) in [
        ("DescribeExecution", &described),
        ("the history", &history),
        ("the console", &progress),
        ("/functions", &functions),
    ] {
        assert!(!text.contains(secret), "the secret reached {what}: {text}");
    }
    Ok(())
}

fn ensure_before(deadline: std::time::Instant) -> Result<()> {
    anyhow::ensure!(std::time::Instant::now() < deadline, "the execution did not end within 30 s");
    Ok(())
}
