//! The HTTP Task (`arn:aws:states:::http:invoke`) against a server on 127.0.0.1: each kind of
//! connection, AWS's result shape and status errors, and the server's allow-list.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use stepwasm_orchestrator::http_task::{Authorization, Connection, Connections, HttpTaskConfig};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionStatus, MemoryStore, Store};
use stepwasm_runtime::{AllowList, Runtime, RuntimeConfig};

use crate::http_stub::HttpStub;
use crate::parking::{create, eventually};

const API_KEY: &str = "key-5e1f0c";
const PASSWORD: &str = "pw-b7d20a";
const CLIENT_SECRET: &str = "cs-90c3e4";

fn connections(stub: &HttpStub) -> Connections {
    let mut with_key =
        Connection::new("payments", Authorization::ApiKey { name: "x-api-key".into(), value: API_KEY.into() });
    with_key.headers.push(("x-tenant".into(), "shop-1".into()));
    let basic =
        Connection::new("ledger", Authorization::Basic { username: "stepwasm".into(), password: PASSWORD.into() });
    let oauth = Connection::new(
        "crm",
        Authorization::OAuthClientCredentials {
            endpoint: stub.url("/token"),
            method: "POST".into(),
            client_id: "client-1".into(),
            client_secret: CLIENT_SECRET.into(),
            parameters: vec![("scope".into(), "orders".into())],
        },
    );
    Connections::new([with_key, basic, oauth])
}

fn service(allowed: &[&str], connections: Connections) -> Result<Service> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
    let allow = AllowList::new(allowed.iter().map(|origin| origin.parse()).collect::<Result<Vec<_>, _>>()?);
    let config = ServiceConfig {
        http: HttpTaskConfig { allow, connections, ..HttpTaskConfig::default() },
        ..ServiceConfig::default()
    };
    Ok(Service::new(store, Runtime::new(RuntimeConfig::default())?, config))
}

/// A machine with one HTTP Task whose arguments are `parameters`, its failures caught and
/// returned as the output.
async fn machine(service: &Service, name: &str, parameters: Value) -> Result<String> {
    let definition = json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task", "Resource": "arn:aws:states:::http:invoke", "Parameters": parameters,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}],
                "End": true
            },
            "Caught": {"Type": "Pass", "End": true}
        }
    });
    create(service, name, &definition).await
}

async fn run(service: &Service, machine: &str) -> Result<(Value, String)> {
    let (arn, _) = service.start_execution(machine, None, Some("{}")).await?;
    eventually(Duration::from_secs(20), "the execution ending", || async {
        Ok(service.describe_execution(&arn).await?.status != ExecutionStatus::Running)
    })
    .await?;
    let execution = service.describe_execution(&arn).await?;
    ensure!(execution.status == ExecutionStatus::Succeeded, "{arn}: {:?}", execution.status);
    let output: Value = serde_json::from_str(execution.output.as_deref().context("no output")?)?;
    let page = service.history(&arn, Some(1000), false, None, true).await?;
    Ok((output, serde_json::to_string(&page.events)?))
}

fn connection_arn(name: &str) -> String {
    format!("arn:aws:events:us-east-1:123456789012:connection/{name}/0b6f6f7e-5c1a-4e0e-9d3f-1d2c3b4a5f6e")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_connection_authorizes_the_request() -> Result<()> {
    let stub = HttpStub::start().await;
    let service = service(&[&stub.origin], connections(&stub))?;

    let key = machine(
        &service,
        "api-key",
        json!({
            "ApiEndpoint": stub.url("/echo/charges"), "Method": "POST",
            "Authentication": {"ConnectionArn": connection_arn("payments")},
            "Headers": {"x-request": "r-1"}, "QueryParameters": {"limit": "5"},
            "RequestBody": {"amount": 1250, "currency": "EUR"}
        }),
    )
    .await?;
    let (output, history) = run(&service, &key).await?;
    assert_eq!(output["StatusCode"], 200);
    assert_eq!(output["StatusText"], "OK");
    assert_eq!(output["Headers"]["x-stub"], json!(["yes"]));
    let seen = &output["ResponseBody"];
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/echo/charges?limit=5");
    // The API got the key; the task's result (and so the history) shows it masked.
    assert_eq!(seen["headers"]["x-api-key"], "***");
    let charges =
        stub.seen().into_iter().find(|request| request.path == "/echo/charges?limit=5").context("not called")?;
    assert_eq!(charges.headers["x-api-key"], API_KEY);
    assert_eq!(seen["headers"]["x-tenant"], "shop-1");
    assert_eq!(seen["headers"]["x-request"], "r-1");
    assert_eq!(seen["headers"]["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(seen["body"].as_str().unwrap_or_default())?,
        json!({"amount": 1250, "currency": "EUR"})
    );
    assert!(!history.contains(API_KEY), "the API key is in the history");

    let basic = machine(
        &service,
        "basic",
        json!({
            "ApiEndpoint": stub.url("/echo/entries"), "Method": "GET",
            "Authentication": {"ConnectionArn": connection_arn("ledger")}
        }),
    )
    .await?;
    let (output, history) = run(&service, &basic).await?;
    // base64("stepwasm:pw-b7d20a")
    assert_eq!(output["ResponseBody"]["headers"]["authorization"], "Basic ***");
    assert!(!history.contains("c3RlcHdhc206cHctYjdkMjBh") && !history.contains(PASSWORD));
    let basic_seen = stub.seen().into_iter().find(|request| request.path == "/echo/entries").context("not called")?;
    assert_eq!(basic_seen.headers["authorization"], "Basic c3RlcHdhc206cHctYjdkMjBh");

    let oauth = machine(
        &service,
        "oauth",
        json!({
            "ApiEndpoint": stub.url("/echo/contacts"), "Method": "PUT",
            "Authentication": {"ConnectionArn": connection_arn("crm")},
            "RequestBody": {"tags": ["vip", "eu"], "name": "Ada"},
            "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}}
        }),
    )
    .await?;
    let (output, _) = run(&service, &oauth).await?;
    assert_eq!(output["StatusCode"], 200);
    let token_request = stub.seen().into_iter().find(|request| request.path == "/token").context("no token request")?;
    assert!(
        token_request.body.contains("grant_type=client_credentials") && token_request.body.contains("scope=orders")
    );
    assert_eq!(token_request.headers["authorization"], "Basic Y2xpZW50LTE6Y3MtOTBjM2U0"); // client-1:cs-90c3e4
    let contacts = stub.seen().into_iter().find(|request| request.path == "/echo/contacts").context("not called")?;
    assert_eq!(contacts.headers["authorization"], "Bearer token-1");
    assert_eq!(contacts.headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(contacts.body, "name=Ada&tags%5B%5D=vip&tags%5B%5D=eu");

    // The token is kept until it expires: a second call asks for none.
    run(&service, &oauth).await?;
    assert_eq!(stub.seen().iter().filter(|request| request.path == "/token").count(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_status_fails_with_its_code_and_the_response_as_cause() -> Result<()> {
    let stub = HttpStub::start().await;
    let service = service(&[&stub.origin], connections(&stub))?;
    let failing = machine(
        &service,
        "failing",
        json!({
            "ApiEndpoint": stub.url("/status/503"), "Method": "GET",
            "Authentication": {"ConnectionArn": connection_arn("payments")}
        }),
    )
    .await?;
    let (output, _) = run(&service, &failing).await?;
    assert_eq!(output["caught"]["Error"], "States.Http.StatusCode.503");
    let cause: Value = serde_json::from_str(output["caught"]["Cause"].as_str().unwrap_or_default())?;
    assert_eq!(cause["StatusCode"], 503);
    assert_eq!(cause["ResponseBody"], json!({"message": "status 503"}));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_off_the_allow_list_is_never_called() -> Result<()> {
    let stub = HttpStub::start().await;
    let elsewhere = HttpStub::start().await;
    let service = service(&[&stub.origin], connections(&stub))?;
    let refused = machine(
        &service,
        "refused",
        json!({
            "ApiEndpoint": elsewhere.url("/echo"), "Method": "GET",
            "Authentication": {"ConnectionArn": connection_arn("payments")}
        }),
    )
    .await?;
    let (output, _) = run(&service, &refused).await?;
    assert_eq!(output["caught"]["Error"], "States.Http.OriginNotAllowed");
    assert_eq!(elsewhere.connections(), 0);

    let unknown = machine(
        &service,
        "unknown-connection",
        json!({
            "ApiEndpoint": stub.url("/echo"), "Method": "GET",
            "Authentication": {"ConnectionArn": connection_arn("nobody")}
        }),
    )
    .await?;
    let (output, _) = run(&service, &unknown).await?;
    assert_eq!(output["caught"]["Error"], "States.Http.ConnectionNotFound");
    assert_eq!(stub.connections(), 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_state_at_trace_shows_the_request_and_the_response() -> Result<()> {
    use stepwasm_orchestrator::service::TestStateRequest;
    let stub = HttpStub::start().await;
    let service = service(&[&stub.origin], connections(&stub))?;
    let state = json!({
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke", "End": true,
        "Parameters": {
            "ApiEndpoint": stub.url("/echo/quote"), "Method": "POST",
            "Authentication": {"ConnectionArn": connection_arn("payments")},
            "RequestBody": {"sku": "MUG-1"}
        }
    });
    let request = |level: &str| TestStateRequest {
        definition: Some(state.to_string()),
        input: Some("{}".to_owned()),
        inspection_level: Some(level.to_owned()),
        ..TestStateRequest::default()
    };
    let traced = service.test_state(request("TRACE")).await?;
    assert_eq!(traced.status, "SUCCEEDED");
    let data = traced.inspection_data.context("no inspection data")?;
    assert_eq!(data["request"]["method"], "POST");
    assert_eq!(data["request"]["url"], stub.url("/echo/quote"));
    assert_eq!(data["request"]["body"], r#"{"sku":"MUG-1"}"#);
    let sent_headers = data["request"]["headers"].as_str().context("request headers")?;
    assert!(sent_headers.contains("x-api-key: ***") && !sent_headers.contains(API_KEY), "{sent_headers}");
    assert_eq!(data["response"]["statusCode"], "200");
    assert_eq!(data["response"]["statusMessage"], "OK");
    assert!(data["response"]["body"].as_str().is_some_and(|body| body.contains("/echo/quote")));
    // DEBUG shows the data flow, not the exchange.
    let debugged = service.test_state(request("DEBUG")).await?.inspection_data.context("no inspection data")?;
    ensure!(debugged.get("request").is_none() && debugged.get("result").is_some(), "{debugged}");
    Ok(())
}
