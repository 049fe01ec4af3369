//! The AWS API: any body for any of the 37 operations, through the same router `serve` runs.
//! A request may be refused, never answered with a server fault: a 5xx from input is a bug.

#![no_main]

use std::cell::{Cell, RefCell};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use stepwasm_orchestrator::api::{self, AppState};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::MemoryStore;
use stepwasm_runtime::{Runtime, RuntimeConfig};
use tower::ServiceExt as _;

const OPERATIONS: [&str; 37] = [
    "CreateStateMachine", "DescribeStateMachine", "UpdateStateMachine", "DeleteStateMachine", "ListStateMachines",
    "ValidateStateMachineDefinition", "StartExecution", "StartSyncExecution", "DescribeExecution",
    "DescribeStateMachineForExecution", "StopExecution", "ListExecutions", "GetExecutionHistory", "SendTaskSuccess",
    "SendTaskFailure", "SendTaskHeartbeat", "CreateActivity", "DescribeActivity", "DeleteActivity", "ListActivities",
    "GetActivityTask", "TagResource", "UntagResource", "ListTagsForResource", "ListMapRuns", "DescribeMapRun",
    "UpdateMapRun", "RedriveExecution", "TestState", "PublishStateMachineVersion", "ListStateMachineVersions",
    "DeleteStateMachineVersion", "CreateStateMachineAlias", "DescribeStateMachineAlias", "UpdateStateMachineAlias",
    "DeleteStateMachineAlias", "ListStateMachineAliases",
];

/// Requests served before the store starts afresh, so what the inputs create stays bounded.
const REQUESTS_PER_STORE: u32 = 5_000;

static TOKIO: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime"));
static FUNCTIONS: LazyLock<Runtime> =
    LazyLock::new(|| Runtime::new(RuntimeConfig { pooling: false, ..RuntimeConfig::default() }).expect("a Wasm runtime"));

thread_local! {
    static ROUTER: RefCell<Option<axum::Router>> = const { RefCell::new(None) };
    static SERVED: Cell<u32> = const { Cell::new(0) };
}

fn router() -> axum::Router {
    let served = SERVED.with(|served| {
        served.set(served.get() + 1);
        served.get()
    });
    ROUTER.with(|router| {
        let mut router = router.borrow_mut();
        if router.is_none() || served % REQUESTS_PER_STORE == 0 {
            let config = ServiceConfig {
                activity_poll: Duration::from_millis(1),
                wait_time_scale: 0.0,
                ..ServiceConfig::default()
            };
            let service = Service::new(Arc::new(MemoryStore::default()), FUNCTIONS.clone(), config);
            *router = Some(api::router(AppState { service }));
        }
        router.clone().expect("set above")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let operation = OPERATIONS[usize::from(pick) % OPERATIONS.len()];
    let request = Request::post("/")
        .header("x-amz-target", format!("AWSStepFunctions.{operation}"))
        .header("content-type", "application/x-amz-json-1.0")
        .body(Body::from(body.to_vec()))
        .expect("a valid request");
    let response = TOKIO.block_on(router().oneshot(request)).expect("the router never fails");
    assert!(!response.status().is_server_error(), "{operation} answered {} to {:?}", response.status(), String::from_utf8_lossy(body));
});
