//! `stepwasm demo`: the main job. Serves the API and the web console with the durable store,
//! starts local stand-ins for the services the pipeline calls (card processor, email, SMS),
//! deploys the sample functions and the order pipelines through it, runs three sample orders,
//! starts a large one that waits for a person's approval in the console, and keeps serving.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::{Value, json};
use stepwasm_orchestrator::DataDir;
use stepwasm_orchestrator::api;

use stepwasm_orchestrator::Client;

use stepwasm_orchestrator::access::AccessKeys;
use stepwasm_orchestrator::http_task::HttpTaskConfig;

use super::serve::{BucketArgs, NodeArgs, StoreChoice, TestingArgs, build_server, shutdown_signal};
use super::server_config::ServerSecrets;
use super::stand_ins::{self, StandIn};

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Address to serve on; if it is taken, a free port is used instead.
    #[arg(long, default_value = "127.0.0.1:8083")]
    listen: std::net::SocketAddr,

    /// Access keys every request must be signed with (`ACCESS_KEY_ID SECRET_ACCESS_KEY` lines).
    /// Without them the demo's server is open, as it listens on loopback.
    #[arg(long, value_name = "FILE")]
    access_keys_file: Option<std::path::PathBuf>,

    /// Stop after printing the results instead of serving on.
    #[arg(long)]
    exit: bool,
}

/// The orders the demo runs, and what each shows.
const ORDERS: &[(&str, &str, &str)] = &[
    ("good-order", stepwasm_functions::samples::GOOD_ORDER, "completes; the carrier fails once and is retried"),
    ("declined-card", stepwasm_functions::samples::DECLINED_CARD, "the card is declined; the order is cancelled"),
    ("out-of-stock", stepwasm_functions::samples::OUT_OF_STOCK, "an item is out of stock; refund, then cancel"),
];

pub(crate) fn run(args: &DemoArgs, data_dir: &DataDir) -> Result<ExitCode> {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let stand_ins = tokio.block_on(stand_ins::start())?;
    let outbound = ServerSecrets {
        secrets: stand_ins::secrets(&stand_ins),
        http: HttpTaskConfig::default(),
        access_keys: match &args.access_keys_file {
            Some(file) => super::server_config::load_access_keys(std::iter::once(file.clone()))?,
            None => AccessKeys::default(),
        },
        bindings: std::collections::BTreeMap::new(),
    };
    let keys = outbound.access_keys.clone();
    let server = tokio.block_on(build_server(
        data_dir,
        &StoreChoice::Sqlite,
        &NodeArgs::default(),
        &BucketArgs::default(),
        outbound,
        &TestingArgs::default(),
    ))?;
    let store = server.describe_store.clone();
    let listener = tokio.block_on(async {
        match tokio::net::TcpListener::bind(args.listen).await {
            Ok(listener) => Ok(listener),
            Err(_) => tokio::net::TcpListener::bind(("127.0.0.1", 0)).await,
        }
    })?;
    let address = listener.local_addr()?;
    let endpoint = format!("http://{address}");
    let state = server.state.clone();
    tokio.block_on(state.service.start_background_work())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio.spawn(api::run(listener, server.state, async move {
        tokio::select! {
            _ = shutdown_signal() => {}
            _ = stopped => {}
        }
    }));

    println!("stepwasm demo: serving the AWS Step Functions API on {endpoint} (store: {store})");
    let client = match keys.first() {
        Some((id, secret)) => Client::new(&endpoint).with_credentials(id, secret),
        None => Client::new(&endpoint),
    };
    for sample in stepwasm_functions::ALL {
        let grants = stand_ins.iter().find(|stand_in| stand_in.function == sample.name).map(StandIn::grants);
        client.deploy_function(sample.name, sample.component, grants.as_ref().map_or(&[], |grants| &grants[..]))?;
    }
    println!("deployed {} task functions through PUT /functions/{{name}}", stepwasm_functions::ALL.len());
    for stand_in in &stand_ins {
        println!(
            "  {} calls a stand-in {} at {} (the only origin it may reach; its API key is the secret {})",
            stand_in.function, stand_in.service, stand_in.origin, stand_in.key_secret
        );
    }
    for (integration, function) in stepwasm_functions::INTEGRATIONS {
        client.put_json(&format!("/bindings/{integration}"), &json!({ "function": function }))?;
    }
    let bound: Vec<String> = stepwasm_functions::INTEGRATIONS
        .iter()
        .map(|(integration, function)| format!("{integration} → {function}"))
        .collect();
    println!("bound the AWS integrations {} through PUT /bindings/{{integration}}", bound.join(", "));
    let machine_arn = client.deploy_state_machine(
        "order-pipeline",
        stepwasm_functions::ORDER_PIPELINE,
        "STANDARD",
        "arn:aws:iam::123456789012:role/stepwasm",
    )?;
    println!("deployed the state machine {machine_arn}");
    let approval_machine_arn = client.deploy_state_machine(
        "order-pipeline-approval",
        stepwasm_functions::ORDER_PIPELINE_WITH_APPROVAL,
        "STANDARD",
        "arn:aws:iam::123456789012:role/stepwasm",
    )?;
    println!("deployed the state machine {approval_machine_arn} (orders above 1,000.00 wait for a person)");
    let aws_machine_arn = client.deploy_state_machine(
        "order-pipeline-aws",
        stepwasm_functions::ORDER_PIPELINE_AWS,
        "STANDARD",
        "arn:aws:iam::123456789012:role/stepwasm",
    )?;
    println!("deployed the state machine {aws_machine_arn} (notifies through SES and SNS, as on AWS)");
    println!("\nWatch them in the web console: {endpoint}/console/");
    if let Some(token) = api::sign_in_token(&keys) {
        println!("  (signed in for 12 hours by this link: {endpoint}/console/#/sign-in?token={token})");
    }

    let mut all_as_expected = true;
    for (name, order, story) in ORDERS {
        let execution_name = format!("{name}-{}", unique_suffix());
        let started = client
            .call("StartExecution", &json!({"stateMachineArn": machine_arn, "name": execution_name, "input": order}))?;
        let arn = started["executionArn"].as_str().context("StartExecution returned no executionArn")?.to_owned();
        let clock = Instant::now();
        let described = wait_for_end(&client, &arn)?;
        println!("\n== {name}: {story}");
        println!(
            "   {} in {:.0} ms  ({arn})",
            described["status"].as_str().unwrap_or("?"),
            clock.elapsed().as_secs_f64() * 1e3
        );
        match described["status"].as_str() {
            Some("SUCCEEDED") => println!("   output: {}", described["output"].as_str().unwrap_or_default()),
            _ => {
                println!("   error: {}", described["error"].as_str().unwrap_or("null"));
                println!("   cause: {}", described["cause"].as_str().unwrap_or("null"));
            }
        }
        let compensations = compensations(&client, &arn)?;
        if !compensations.is_empty() {
            println!("   compensation: {}", compensations.join(" → "));
        }
        all_as_expected &= (described["status"] == "SUCCEEDED") == (*name == "good-order");
    }

    // The same good order through the AWS-native variant: its SES and SNS calls run through
    // the bindings.
    let started = client.call(
        "StartExecution",
        &json!({
            "stateMachineArn": aws_machine_arn,
            "name": format!("good-order-aws-{}", unique_suffix()),
            "input": stepwasm_functions::samples::GOOD_ORDER,
        }),
    )?;
    let aws_arn = started["executionArn"].as_str().context("StartExecution returned no executionArn")?.to_owned();
    let described = wait_for_end(&client, &aws_arn)?;
    println!("\n== good-order, AWS-native: the confirmations go through SES and SNS integrations, bound here");
    println!("   {}  ({aws_arn})", described["status"].as_str().unwrap_or("?"));
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap_or("null")).unwrap_or_default();
    if let (Some(email), Some(sms)) = (output["emailMessageId"].as_str(), output["smsMessageId"].as_str()) {
        println!("   SES message {email} and SNS message {sms}, from the bound ses-send-email and sns-publish");
    }
    all_as_expected &= described["status"] == "SUCCEEDED";

    // The large order waits for a person, so the demo does not wait for it.
    let started = client.call(
        "StartExecution",
        &json!({
            "stateMachineArn": approval_machine_arn,
            "name": format!("large-order-{}", unique_suffix()),
            "input": stepwasm_functions::samples::LARGE_ORDER,
        }),
    )?;
    let large_order_arn = started["executionArn"].as_str().context("StartExecution returned no executionArn")?;
    println!("\n== large-order: above 1,000.00, so it waits at RequestApproval for a person");
    println!("   RUNNING  ({large_order_arn})");
    println!(
        "   approve or reject it in the console: {endpoint}/console/#/executions/{}",
        stepwasm_orchestrator::access::uri_encode(large_order_arn)
    );

    let accepted: Vec<String> =
        stand_ins.iter().map(|stand_in| format!("{} {}", stand_in.accepted(), stand_in.service)).collect();
    println!("\nrequests the stand-ins accepted: {}", accepted.join(", "));

    println!("\nInspect them with any AWS client, for example:");
    // An open server takes any key, but the AWS CLI sends nothing it cannot sign.
    let (id, secret) = keys.first().unwrap_or(("demo", "demo"));
    println!(
        "  AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={secret} aws stepfunctions list-executions --endpoint-url {endpoint} --region us-east-1 --state-machine-arn {machine_arn}"
    );
    println!(
        "  AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={secret} aws stepfunctions get-execution-history --endpoint-url {endpoint} --region us-east-1 --execution-arn {large_order_arn}"
    );
    if !all_as_expected {
        eprintln!("stepwasm demo: an order did not end as expected");
    }
    if args.exit {
        let _ = stop.send(());
    } else {
        println!("\nServing until Ctrl-C.");
    }
    tokio.block_on(serving)??;
    Ok(if all_as_expected { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn wait_for_end(client: &Client, arn: &str) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = client.call("DescribeExecution", &json!({"executionArn": arn}))?;
        if described["status"] != "RUNNING" {
            return Ok(described);
        }
        if Instant::now() > deadline {
            bail!("{arn} is still running after a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The compensation states the execution entered, from its history.
fn compensations(client: &Client, arn: &str) -> Result<Vec<String>> {
    let history = client.call("GetExecutionHistory", &json!({"executionArn": arn, "maxResults": 1000}))?;
    Ok(history["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|event| event["type"] == "TaskStateEntered")
        .filter_map(|event| event["stateEnteredEventDetails"]["name"].as_str())
        .filter(|name| matches!(*name, "RefundPayment" | "CancelOrder"))
        .map(str::to_owned)
        .collect())
}

/// Execution names must be unique per machine and the store is durable, so each run adds one.
fn unique_suffix() -> String {
    let millis =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_millis());
    format!("{millis:x}")
}
