//! Service integrations bound to functions and HTTP endpoints: each integration pattern through
//! each kind of binding, named errors, the warning and the error for an integration nothing
//! binds, and the `/bindings` API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use stepwasm_orchestrator::api::{self, AppState};
use stepwasm_orchestrator::bindings::{Binding, NOT_BOUND, Poll, UNBOUND_WARNING};
use stepwasm_orchestrator::http_task::HttpTaskConfig;
use stepwasm_orchestrator::service::{ErrorKind, Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionRecord, ExecutionStatus, MemoryStore};
use stepwasm_runtime::{AllowList, FunctionConfig, Runtime, RuntimeConfig};

use crate::http_stub::HttpStub;
use crate::parking::{create, eventually};

/// A service that may call `stub`, with the `misbehave` fixture deployed (its `echo` mode
/// answers any value it is given) and `configured` bindings.
async fn service(stub: &HttpStub, configured: BTreeMap<String, Binding>) -> Result<Service> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let misbehave = std::fs::read(stepwasm_tests::fixtures::MISBEHAVE).context("reading the fixture")?;
    runtime.register("misbehave", &misbehave, FunctionConfig::default())?;
    let allow = AllowList::new(vec![stub.origin.parse()?]);
    let config = ServiceConfig {
        http: HttpTaskConfig { allow, ..HttpTaskConfig::default() },
        bindings: configured,
        ..ServiceConfig::default()
    };
    let service = Service::new(Arc::new(MemoryStore::default()), runtime, config);
    service.start_background_work().await?;
    Ok(service)
}

fn function(name: &str) -> Binding {
    Binding { function: Some(name.to_owned()), ..Binding::default() }
}

fn endpoint(url: String) -> Binding {
    Binding { url: Some(url), ..Binding::default() }
}

/// A machine of one Task state, `Call`, with `resource` and `parameters`; what it fails with
/// is caught into `$.caught`.
async fn machine(service: &Service, name: &str, resource: &str, parameters: Value) -> Result<String> {
    let definition = json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task", "Resource": resource, "Parameters": parameters,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}],
                "End": true
            },
            "Caught": {"Type": "Pass", "End": true}
        }
    });
    create(service, name, &definition).await
}

async fn start(service: &Service, machine: &str, input: &Value) -> Result<String> {
    Ok(service.start_execution(machine, None, Some(&input.to_string())).await?.0)
}

async fn ended(service: &Service, execution: &str) -> Result<ExecutionRecord> {
    eventually(Duration::from_secs(30), "the execution ending", || async {
        Ok(service.describe_execution(execution).await?.status != ExecutionStatus::Running)
    })
    .await?;
    Ok(service.describe_execution(execution).await?)
}

/// The output of an execution that succeeded.
async fn output(service: &Service, execution: &str) -> Result<Value> {
    let record = ended(service, execution).await?;
    ensure!(record.status == ExecutionStatus::Succeeded, "{execution}: {:?} {:?}", record.status, record.cause);
    Ok(serde_json::from_str(record.output.as_deref().context("no output")?)?)
}

async fn run(service: &Service, machine: &str, input: &Value) -> Result<Value> {
    let execution = start(service, machine, input).await?;
    output(service, &execution).await
}

/// The output of the call a `.waitForTaskToken` task made, once its history records it.
async fn submitted(service: &Service, execution: &str) -> Result<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page = service.history(execution, Some(1000), false, None, true).await?;
        let found = page.events.iter().find_map(|event| {
            let text = event["taskSubmittedEventDetails"]["output"].as_str()?;
            serde_json::from_str::<Value>(text).ok()
        });
        if let Some(found) = found {
            return Ok(found);
        }
        ensure!(std::time::Instant::now() < deadline, "the call was not submitted within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_bindings_serve_each_integration_pattern() -> Result<()> {
    let stub = HttpStub::start().await;
    let service = service(&stub, BTreeMap::new()).await?;
    service.put_binding("sns:publish", function("misbehave")).await?;
    let poll = Poll { function: "misbehave".to_owned(), seconds: 1 };
    service.put_binding("ecs:runTask", Binding { poll: Some(poll), ..function("misbehave") }).await?;
    // A resource that calls the integration names it as well.
    service.put_binding("arn:aws:states:::sqs:sendMessage.waitForTaskToken", function("misbehave")).await?;

    // Request-response: the function's answer is the result.
    let publish = json!({"mode": "echo", "value": {"MessageId": "m-1", "Topic.$": "$.topic"}});
    let published = machine(&service, "publish", "arn:aws:states:::sns:publish", publish).await?;
    assert_eq!(
        run(&service, &published, &json!({"topic": "orders"})).await?,
        json!({"MessageId": "m-1", "Topic": "orders"})
    );

    // .sync: the function starts a job; the poll function is called with its answer until
    // the job ends.
    let job = |status: Value| json!({"mode": "echo", "value": {"mode": "echo", "value": status}});
    let succeeds = job(json!({"Status": "SUCCEEDED", "Output": {"exitCode": 0}}));
    let sync = machine(&service, "job-succeeds", "arn:aws:states:::ecs:runTask.sync", succeeds).await?;
    assert_eq!(run(&service, &sync, &json!({})).await?, json!({"exitCode": 0}));
    let fails = job(json!({"Status": "FAILED", "Error": "ECS.TaskFailed", "Cause": "exit code 3"}));
    let sync = machine(&service, "job-fails", "arn:aws:states:::ecs:runTask.sync", fails).await?;
    let caught = run(&service, &sync, &json!({})).await?;
    assert_eq!(caught["caught"], json!({"Error": "ECS.TaskFailed", "Cause": "exit code 3"}));

    // .waitForTaskToken: the function gets the token; the task ends when it comes back.
    let send = json!({"mode": "echo", "value": {"MessageId": "q-1", "Token.$": "$$.Task.Token"}});
    let queued = machine(&service, "queued", "arn:aws:states:::sqs:sendMessage.waitForTaskToken", send).await?;
    let execution = start(&service, &queued, &json!({})).await?;
    let sent = submitted(&service, &execution).await?;
    assert_eq!(sent["MessageId"], "q-1", "{sent}");
    let token = sent["Token"].as_str().context("the function was not given the token")?;
    service.send_task_success(token, r#"{"approved": true}"#).await?;
    assert_eq!(output(&service, &execution).await?, json!({"approved": true}));

    // A binding to a function nobody deployed fails the task, saying so.
    service.put_binding("sns:publish", function("publisher")).await?;
    let caught = run(&service, &published, &json!({"topic": "orders"})).await?;
    assert_eq!(caught["caught"]["Error"], "Lambda.ResourceNotFoundException");
    let cause = caught["caught"]["Cause"].as_str().unwrap_or_default();
    assert!(cause.contains("sns:publish") && cause.contains("\"publisher\""), "{cause}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_bindings_serve_each_integration_pattern() -> Result<()> {
    let stub = HttpStub::start().await;
    let service = service(&stub, BTreeMap::new()).await?;
    let headers = BTreeMap::from([("x-team".to_owned(), "orders".to_owned())]);
    service.put_binding("aws-sdk:dynamodb:getItem", Binding { headers, ..endpoint(stub.url("/echo")) }).await?;
    service.put_binding("ecs:runTask", endpoint(stub.url("/job"))).await?;
    service.put_binding("sqs:sendMessage", endpoint(stub.url("/echo"))).await?;
    service.put_binding("sns:publish", endpoint(stub.url("/fail"))).await?;
    service.put_binding("ses:sendEmail", endpoint(stub.url("/status/503"))).await?;
    service.put_binding("events:putEvents", endpoint("http://127.0.0.2:9/events".to_owned())).await?;

    // Request-response: the arguments are POSTed as JSON; the JSON answer is the result.
    let get_item = json!({"TableName": "orders", "Key": {"id": {"S.$": "$.id"}}});
    let machine_arn = machine(&service, "get-item", "arn:aws:states:::aws-sdk:dynamodb:getItem", get_item).await?;
    let answer = run(&service, &machine_arn, &json!({"id": "o-1"})).await?;
    assert_eq!(answer["method"], "POST");
    assert_eq!(answer["path"], "/echo");
    let sent: Value = serde_json::from_str(answer["body"].as_str().context("no body")?)?;
    assert_eq!(sent, json!({"TableName": "orders", "Key": {"id": {"S": "o-1"}}}));
    assert_eq!(answer["headers"]["x-team"], "orders");
    assert_eq!(answer["headers"]["x-stepwasm-integration"], "aws-sdk:dynamodb:getItem");
    assert_eq!(answer["headers"]["content-type"], "application/json");

    // .sync: 202 Accepted is followed to its Location until the job ends.
    let job = machine(&service, "job", "arn:aws:states:::ecs:runTask.sync", json!({"Cluster": "c"})).await?;
    assert_eq!(run(&service, &job, &json!({})).await?, json!({"state": "done", "polls": 2}));
    let polled: Vec<String> =
        stub.seen().iter().filter(|seen| seen.path.starts_with("/job")).map(|seen| seen.path.clone()).collect();
    assert_eq!(polled, ["/job", "/job/status?polls=0", "/job/status?polls=1", "/job/status?polls=2"]);

    // .waitForTaskToken: the token travels in the arguments; the task waits for it.
    let send = json!({"QueueUrl": "q", "MessageBody": {"Token.$": "$$.Task.Token"}});
    let queued = machine(&service, "queued", "arn:aws:states:::sqs:sendMessage.waitForTaskToken", send).await?;
    let execution = start(&service, &queued, &json!({})).await?;
    let answer = submitted(&service, &execution).await?;
    let body: Value = serde_json::from_str(answer["body"].as_str().context("no body")?)?;
    let token = body["MessageBody"]["Token"].as_str().context("no token sent")?;
    service.send_task_failure(token, Some("Rejected".to_owned()), Some("by a person".to_owned())).await?;
    let caught = output(&service, &execution).await?;
    assert_eq!(caught["caught"], json!({"Error": "Rejected", "Cause": "by a person"}));

    // Failures: named by the answer, or by its status; an origin off the allow-list is never
    // called.
    for (name, resource, error, cause) in [
        ("named", "arn:aws:states:::sns:publish", "SNS.InvalidParameterException", "Invalid parameter: TopicArn"),
        ("status", "arn:aws:states:::ses:sendEmail", "States.Http.StatusCode.503", "status 503"),
        ("refused", "arn:aws:states:::events:putEvents", "States.Http.OriginNotAllowed", "allow-list"),
    ] {
        let machine_arn = machine(&service, name, resource, json!({})).await?;
        let caught = run(&service, &machine_arn, &json!({})).await?;
        assert_eq!(caught["caught"]["Error"], error, "{name}: {caught}");
        let found = caught["caught"]["Cause"].as_str().unwrap_or_default();
        assert!(found.contains(cause), "{name}: {found}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbound_integrations_are_warned_of_and_fail_by_name() -> Result<()> {
    let stub = HttpStub::start().await;
    let configured = BTreeMap::from([("ses:sendEmail".to_owned(), function("misbehave"))]);
    let service = service(&stub, configured).await?;
    let definition = json!({
        "StartAt": "Notify",
        "States": {
            "Notify": {
                "Type": "Parallel", "End": true,
                "Branches": [
                    {"StartAt": "Email", "States": {"Email": {"Type": "Task", "Resource": "arn:aws:states:::ses:sendEmail",
                        "Parameters": {"mode": "echo", "value": {"MessageId": "e-1"}}, "End": true}}},
                    {"StartAt": "Sms", "States": {"Sms": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                        "Parameters": {"mode": "echo", "value": {"MessageId": "s-1"}}, "End": true}}}
                ]
            }
        }
    })
    .to_string();

    let report = service.validate_definition(&definition, None).await?;
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    let [(code, location, message)] = report.warnings.as_slice() else {
        anyhow::bail!("one warning expected: {:?}", report.warnings);
    };
    assert_eq!(code, UNBOUND_WARNING);
    assert_eq!(location, "/States/Notify/Branches/1/States/Sms/Resource");
    assert!(message.contains("sns:publish") && message.contains("PUT /bindings/sns:publish"), "{message}");

    let notify = create(&service, "notify", &serde_json::from_str(&definition)?).await?;
    let execution = start(&service, &notify, &json!({})).await?;
    let record = ended(&service, &execution).await?;
    assert_eq!(record.status, ExecutionStatus::Failed);
    assert_eq!(record.error.as_deref(), Some(NOT_BOUND));
    let cause = record.cause.unwrap_or_default();
    assert!(
        cause.contains("sns:publish") && cause.contains("state Sms") && cause.contains("[bindings.\"sns:publish\"]"),
        "{cause}"
    );

    // Bound through the API: no warning, and the execution runs.
    service.put_binding("sns:publish", function("misbehave")).await?;
    let report = service.validate_definition(&definition, None).await?;
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(run(&service, &notify, &json!({})).await?, json!([{"MessageId": "e-1"}, {"MessageId": "s-1"}]));

    // The configuration's binding is not the API's to change.
    let refused = service.put_binding("ses:sendEmail", function("other")).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Conflict, "{refused:?}");
    let refused = service.delete_binding("ses:sendEmail").await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Conflict, "{refused:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bindings_api_puts_lists_and_deletes() -> Result<()> {
    let stub = HttpStub::start().await;
    let configured = BTreeMap::from([("ses:sendEmail".to_owned(), function("misbehave"))]);
    let service = service(&stub, configured).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(api::run(listener, AppState { service }, std::future::pending()));
    let job_url = stub.url("/job");

    tokio::task::spawn_blocking(move || -> Result<()> {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let read = |mut reply: ureq::http::Response<ureq::Body>| -> Result<(u16, Value)> {
            let status = reply.status().as_u16();
            Ok((status, serde_json::from_str(&reply.body_mut().read_to_string()?)?))
        };
        let put = |integration: &str, body: &Value| {
            read(
                agent
                    .put(&format!("{base}/bindings/{integration}"))
                    .content_type("application/json")
                    .send(body.to_string())?,
            )
        };

        let (status, bound) = put("sns:publish", &json!({"function": "misbehave"}))?;
        assert_eq!(status, 200, "{bound}");
        assert_eq!(bound["integration"], "sns:publish");
        assert_eq!(bound["function"], "misbehave");
        assert_eq!(bound["source"], "api");
        assert!(bound["updated"].is_number(), "{bound}");
        // A resource, percent-encoded, names its integration.
        let (status, bound) = put("arn%3Aaws%3Astates%3A%3A%3Aecs%3ArunTask.sync", &json!({"url": job_url}))?;
        assert_eq!((status, bound["integration"].as_str()), (200, Some("ecs:runTask")), "{bound}");

        let (status, listed) = read(agent.get(&format!("{base}/bindings")).call()?)?;
        assert_eq!(status, 200);
        let names: Vec<(&str, &str)> = listed["bindings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|binding| Some((binding["integration"].as_str()?, binding["source"].as_str()?)))
            .collect();
        assert_eq!(names, [("ses:sendEmail", "configuration"), ("ecs:runTask", "api"), ("sns:publish", "api")]);

        let (status, found) = read(agent.get(&format!("{base}/bindings/ecs:runTask")).call()?)?;
        assert_eq!((status, found["url"].clone()), (200, json!(job_url)));

        for (integration, body, error, says) in [
            ("sns:publish", json!({"function": "a", "url": "https://x.example"}), "ValidationException", "not both"),
            ("sns:publish", json!({"function": "a", "timeout": 3}), "ValidationException", "unknown field"),
            ("sns", json!({"function": "a"}), "ValidationException", "SERVICE:ACTION"),
            ("ses:sendEmail", json!({"function": "a"}), "ConflictException", "configuration file"),
        ] {
            let (status, refused) = put(integration, &body)?;
            assert_eq!(status, 400, "{refused}");
            assert!(refused["__type"].as_str().unwrap_or_default().ends_with(error), "{refused}");
            assert!(refused["message"].as_str().unwrap_or_default().contains(says), "{refused}");
        }

        let (status, deleted) = read(agent.delete(&format!("{base}/bindings/sns:publish")).call()?)?;
        assert_eq!((status, deleted), (200, json!({})));
        let (status, missing) = read(agent.get(&format!("{base}/bindings/sns:publish")).call()?)?;
        assert_eq!(status, 400);
        assert!(missing["__type"].as_str().unwrap_or_default().ends_with("ResourceNotFound"), "{missing}");
        Ok(())
    })
    .await?
}

/// The AWS-native pipeline, whose confirmations go through SES and SNS integrations, ends as
/// the pipeline of functions does for every sample order, its messages sent through the
/// built-in functions the integrations are bound to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_native_pipeline_runs_to_each_outcome_through_its_bindings() -> Result<()> {
    let configured = stepwasm_functions::INTEGRATIONS
        .iter()
        .map(|(integration, name)| ((*integration).to_owned(), function(name)))
        .collect();
    let config = ServiceConfig { bindings: configured, ..ServiceConfig::default() };
    let service = Service::new(Arc::new(MemoryStore::default()), crate::support::sample_runtime()?, config);
    service.start_background_work().await?;
    let report = service.validate_definition(stepwasm_functions::ORDER_PIPELINE_AWS, None).await?;
    assert!(report.diagnostics.is_empty() && report.warnings.is_empty(), "{report:?}");
    let aws =
        create(&service, "order-pipeline-aws", &serde_json::from_str(stepwasm_functions::ORDER_PIPELINE_AWS)?).await?;
    let functions =
        create(&service, "order-pipeline", &serde_json::from_str(stepwasm_functions::ORDER_PIPELINE)?).await?;

    for (name, order) in stepwasm_functions::samples::ALL {
        let input: Value = serde_json::from_str(order)?;
        let through_integrations = ended(&service, &start(&service, &aws, &input).await?).await?;
        let through_functions = ended(&service, &start(&service, &functions, &input).await?).await?;
        assert_eq!(
            (through_integrations.status, &through_integrations.error),
            (through_functions.status, &through_functions.error),
            "{name}: {:?}",
            through_integrations.cause
        );
        if through_integrations.status == ExecutionStatus::Succeeded {
            let output: Value = serde_json::from_str(through_integrations.output.as_deref().unwrap_or("null"))?;
            assert_eq!(output["status"], "COMPLETED", "{name}: {output}");
            // The message ids are those the bound functions gave.
            for id in ["emailMessageId", "smsMessageId"] {
                assert_eq!(output[id].as_str().map(str::len), Some(36), "{name}: {output}");
            }
            let page = service.history(&through_integrations.arn, Some(1000), false, None, true).await?;
            let calls: BTreeMap<String, Value> = page
                .events
                .iter()
                .filter_map(|event| {
                    let details = &event["taskScheduledEventDetails"];
                    let called = format!("{}:{}", details["resourceType"].as_str()?, details["resource"].as_str()?);
                    Some((called, serde_json::from_str(details["parameters"].as_str()?).ok()?))
                })
                .collect();
            let email = &calls["aws-sdk:sesv2:sendEmail"];
            assert_eq!(email["Destination"]["ToAddresses"], json!([input["customer"]["email"]]), "{email}");
            let sms = &calls["sns:publish"];
            let text = sms["Message"].as_str().unwrap_or_default();
            assert!(
                text.starts_with(&format!("Order {} confirmed", input["orderId"].as_str().unwrap_or("?"))),
                "{sms}"
            );
            if *name == "good-order" {
                let body = email["Content"]["Simple"]["Body"]["Text"]["Data"].as_str().unwrap_or_default();
                assert!(body.contains("2 x MUG-CERAMIC-350") && body.contains("71.94 USD"), "{body}");
                assert_eq!(sms["PhoneNumber"], "+14155550132", "{sms}");
            }
        }
    }
    Ok(())
}

/// The server's own queue between a workflow and a worker, through boto3's `sqs` client
/// (`tests/api/sqs_queue.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_and_a_worker_share_a_queue_through_boto3() -> Result<()> {
    let service = Service::new(
        Arc::new(MemoryStore::default()),
        Runtime::new(RuntimeConfig::default())?,
        ServiceConfig::default(),
    );
    crate::aws_clients::run_client_script(service, "sqs_queue.py", &[]).await
}

/// aiosmtpd's SMTP server (`tests/api/smtp_relay.py`), and the messages it takes.
struct SmtpRelay {
    address: String,
    messages: tokio::sync::mpsc::UnboundedReceiver<Value>,
    _process: tokio::process::Child,
}

impl SmtpRelay {
    async fn start() -> Result<Self> {
        use tokio::io::AsyncBufReadExt as _;
        let python = tokio::task::spawn_blocking(crate::aws_clients::client_python).await??;
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("api/smtp_relay.py");
        let mut process = tokio::process::Command::new(&python)
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the SMTP relay (aiosmtpd, from PyPI)")?;
        let mut lines = tokio::io::BufReader::new(process.stdout.take().context("the relay's stdout")?).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the SMTP relay did not listen within 30 s")??
            .context("the SMTP relay exited before it listened")?;
        let address = first.strip_prefix("listening ").context("the relay's first line")?.to_owned();
        let (sender, messages) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(message) = serde_json::from_str::<Value>(&line) {
                    let _ = sender.send(message);
                }
            }
        });
        Ok(Self { address, messages, _process: process })
    }

    async fn next_message(&mut self) -> Result<Value> {
        tokio::time::timeout(Duration::from_secs(30), self.messages.recv())
            .await
            .context("no message reached the relay within 30 s")?
            .context("the relay exited")
    }
}

/// ses-send-email granted TCP to an aiosmtpd relay hands it each email: the AWS-native pipeline's
/// confirmation arrives as a real message, a recipient the relay refuses fails the step with
/// SES's error, and without the grant the function cannot connect at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_send_email_delivers_through_an_smtp_relay_it_is_granted() -> Result<()> {
    use stepwasm_runtime::TcpAllowList;
    let mut relay = SmtpRelay::start().await?;
    let runtime = crate::support::sample_runtime()?;
    let ses = stepwasm_functions::ALL
        .iter()
        .find(|sample| sample.name == "ses-send-email")
        .context("the ses-send-email sample")?
        .component;
    let variables = BTreeMap::from([("SMTP_SERVER".to_owned(), relay.address.clone())]);
    let granted = FunctionConfig {
        allowed_tcp: TcpAllowList::new([relay.address.parse()?]),
        variables: variables.clone(),
        ..FunctionConfig::default()
    };
    runtime.register("ses-send-email", ses, granted)?;
    runtime.register("ses-ungranted", ses, FunctionConfig { variables, ..FunctionConfig::default() })?;
    // Granted the relay, but configured to reach another port of the same host.
    let elsewhere = FunctionConfig {
        allowed_tcp: TcpAllowList::new([relay.address.parse()?]),
        variables: BTreeMap::from([("SMTP_SERVER".to_owned(), "127.0.0.1:1".to_owned())]),
        ..FunctionConfig::default()
    };
    runtime.register("ses-elsewhere", ses, elsewhere)?;
    let direct = runtime.clone();
    let mut configured: BTreeMap<String, Binding> = stepwasm_functions::INTEGRATIONS
        .iter()
        .map(|(integration, name)| ((*integration).to_owned(), function(name)))
        .collect();
    configured.insert("aws-sdk:ses:sendEmail".into(), function("ses-ungranted"));
    let config = ServiceConfig { bindings: configured, ..ServiceConfig::default() };
    let service = Service::new(Arc::new(MemoryStore::default()), runtime, config);
    service.start_background_work().await?;

    let pipeline =
        create(&service, "order-pipeline-aws", &serde_json::from_str(stepwasm_functions::ORDER_PIPELINE_AWS)?).await?;
    let (_, order) =
        stepwasm_functions::samples::ALL.iter().find(|(name, _)| *name == "good-order").context("the good order")?;
    let order: Value = serde_json::from_str(order)?;
    let completed = run(&service, &pipeline, &order).await?;
    let message = relay.next_message().await?;
    assert_eq!(message["mailFrom"], "orders@shop.example", "{message}");
    assert_eq!(message["rcptTos"], json!([order["customer"]["email"]]), "{message}");
    let data = message["data"].as_str().unwrap_or_default();
    let message_id = completed["emailMessageId"].as_str().context("the pipeline's emailMessageId")?;
    assert!(data.contains(&format!("\r\nMessage-ID: <{message_id}@stepwasm>\r\n")), "{data}");
    assert!(data.contains("\r\nSubject: ") && data.contains("2 x MUG-CERAMIC-350"), "{data}");

    let email = |to: &str| {
        json!({
            "FromEmailAddress": "orders@shop.example",
            "Destination": {"ToAddresses": [to]},
            "Content": {"Simple": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi\n.\nStill here"}}}}
        })
    };
    let send = machine(&service, "send", "arn:aws:states:::aws-sdk:sesv2:sendEmail", email("ada@example.com")).await?;
    let sent = run(&service, &send, &json!({})).await?;
    assert!(sent["MessageId"].is_string(), "{sent}");
    let message = relay.next_message().await?;
    let data = message["data"].as_str().unwrap_or_default();
    assert!(data.ends_with("\r\n\r\nHi\r\n.\r\nStill here\r\n"), "a lone dot survives the transfer: {data:?}");

    let refused =
        machine(&service, "refused", "arn:aws:states:::aws-sdk:sesv2:sendEmail", email("nobody@example.com")).await?;
    let caught = run(&service, &refused, &json!({})).await?;
    assert_eq!(caught["caught"]["Error"], "SesV2.MessageRejectedException", "{caught}");
    let cause = caught["caught"]["Cause"].as_str().unwrap_or_default();
    assert!(cause.contains("550") && cause.contains("User unknown"), "{cause}");

    let v1 = json!({
        "Source": "orders@shop.example",
        "Destination": {"ToAddresses": ["ada@example.com"]},
        "Message": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi"}}}
    });
    let ungranted = machine(&service, "ungranted", "arn:aws:states:::aws-sdk:ses:sendEmail", v1).await?;
    let caught = run(&service, &ungranted, &json!({})).await?;
    assert_eq!(caught["caught"]["Error"], "Stepwasm.SmtpUnavailable", "{caught}");
    let cause = caught["caught"]["Cause"].as_str().unwrap_or_default();
    assert!(cause.contains(&format!("--allow-tcp {}", relay.address)), "{cause}");
    let report = direct.invoke("ses-elsewhere", stepwasm_runtime::Invocation::new(&email("ada@example.com"))).await?;
    let failure = report.outcome.expect_err("a connection to an endpoint that is not granted");
    assert_eq!(failure.error, "Stepwasm.SmtpUnavailable", "{}", failure.cause);
    assert!(failure.cause.contains("--allow-tcp 127.0.0.1:1"), "{}", failure.cause);
    assert!(relay.messages.try_recv().is_err(), "nothing else reached the relay");
    Ok(())
}
