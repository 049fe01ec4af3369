//! The AWS Step Functions operations: request members in, response members out.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use crate::service::{ErrorKind, MapRunLimits, Service, ServiceError, check_description};
use crate::store::{ExecutionRecord, ExecutionStatus, MachineType, StateMachineRecord};

pub(super) type Reply = Result<Value, ApiError>;

/// Runs operation `name` with the JSON `body`.
pub(crate) async fn dispatch(service: &Service, name: &str, body: Value) -> Reply {
    match name {
        name if super::versions::OPERATIONS.contains(&name) => super::versions::dispatch(service, name, body).await,
        "CreateStateMachine" => create_state_machine(service, parse(body)?).await,
        "DescribeStateMachine" => describe_state_machine(service, &parse(body)?).await,
        "UpdateStateMachine" => update_state_machine(service, parse(body)?).await,
        "DeleteStateMachine" => {
            let request: ArnRequest = parse(body)?;
            service.delete_state_machine(required(&request.state_machine_arn, "stateMachineArn")?).await?;
            Ok(json!({}))
        }
        "ListStateMachines" => list_state_machines(service, &parse(body)?).await,
        "ValidateStateMachineDefinition" => validate_definition(service, &parse(body)?).await,
        "StartExecution" => start_execution(service, parse(body)?).await,
        "StartSyncExecution" => start_sync_execution(service, parse(body)?).await,
        "DescribeExecution" => {
            let request: ArnRequest = parse(body)?;
            let described = service.describe(required(&request.execution_arn, "executionArn")?).await?;
            let record = &described.record;
            let Some(map_run_arn) = &described.map_run_arn else {
                return Ok(describe_execution_reply(record, service.redrive_status(record)));
            };
            // A Map Run's child is redriven with its Map Run, by redriving the parent.
            let redrivable = match record.status {
                ExecutionStatus::Running | ExecutionStatus::Succeeded => service.redrive_status(record),
                _ => Ok(()),
            };
            let mut reply = describe_execution_reply(record, redrivable);
            reply["mapRunArn"] = json!(map_run_arn);
            if reply["redriveStatus"] == "REDRIVABLE" {
                reply["redriveStatus"] = json!("REDRIVABLE_BY_MAP_RUN");
            }
            Ok(reply)
        }
        "DescribeStateMachineForExecution" => {
            let request: ArnRequest = parse(body)?;
            let (execution, machine) =
                service.state_machine_for_execution(required(&request.execution_arn, "executionArn")?).await?;
            Ok(json!({
                "stateMachineArn": execution.version_arn.as_ref().unwrap_or(&machine.arn),
                "name": machine.name,
                "definition": execution.definition,
                "roleArn": machine.role_arn,
                "updateDate": seconds(machine.updated),
                "revisionId": machine.revision_id,
            }))
        }
        "StopExecution" => {
            let request: StopRequest = parse(body)?;
            let arn = required(&request.execution_arn, "executionArn")?;
            at_most(request.error.as_deref(), "error", 256)?;
            at_most(request.cause.as_deref(), "cause", 32_768)?;
            let stop_date = service.stop_execution(arn, request.error, request.cause).await?;
            Ok(json!({ "stopDate": seconds(stop_date) }))
        }
        "ListExecutions" => list_executions(service, &parse(body)?).await,
        "GetExecutionHistory" => get_execution_history(service, &parse(body)?).await,
        "SendTaskSuccess" => {
            let request: TaskTokenRequest = parse(body)?;
            let output = request.output.as_deref().ok_or_else(|| ApiError::missing("output"))?;
            service.send_task_success(required(&request.task_token, "taskToken")?, output).await?;
            Ok(json!({}))
        }
        "SendTaskFailure" => {
            let request: TaskTokenRequest = parse(body)?;
            service
                .send_task_failure(required(&request.task_token, "taskToken")?, request.error, request.cause)
                .await?;
            Ok(json!({}))
        }
        "SendTaskHeartbeat" => {
            let request: TaskTokenRequest = parse(body)?;
            service.send_task_heartbeat(required(&request.task_token, "taskToken")?).await?;
            Ok(json!({}))
        }
        "CreateActivity" => {
            let request: ActivityRequest = parse(body)?;
            let record = service.create_activity(required(&request.name, "name")?).await?;
            if let Some(tags) = request.tags.filter(|tags| !tags.is_empty()) {
                service.tag_resource(&record.arn, &tags.into_iter().map(|tag| (tag.key, tag.value)).collect()).await?;
            }
            Ok(json!({ "activityArn": record.arn, "creationDate": seconds(record.created) }))
        }
        "DescribeActivity" => {
            let request: ActivityRequest = parse(body)?;
            let record = service.describe_activity(required(&request.activity_arn, "activityArn")?).await?;
            Ok(json!({ "activityArn": record.arn, "name": record.name, "creationDate": seconds(record.created) }))
        }
        "DeleteActivity" => {
            let request: ActivityRequest = parse(body)?;
            service.delete_activity(required(&request.activity_arn, "activityArn")?).await?;
            Ok(json!({}))
        }
        "ListActivities" => {
            let request: ListRequest = parse(body)?;
            let (activities, next) =
                service.list_activities(request.max_results, request.next_token.as_deref()).await?;
            let items: Vec<Value> = activities
                .iter()
                .map(|activity| json!({"activityArn": activity.arn, "name": activity.name, "creationDate": seconds(activity.created)}))
                .collect();
            Ok(with_token(json!({ "activities": items }), next))
        }
        "GetActivityTask" => {
            let request: ActivityRequest = parse(body)?;
            match service.get_activity_task(required(&request.activity_arn, "activityArn")?).await? {
                Some(task) => Ok(json!({ "taskToken": task.token, "input": task.input })),
                None => Ok(json!({})),
            }
        }
        "TagResource" => {
            let request: TagRequest = parse(body)?;
            let tags = request.tags.ok_or_else(|| ApiError::missing("tags"))?;
            let tags = tags.into_iter().map(|tag| (tag.key, tag.value)).collect();
            service.tag_resource(required(&request.resource_arn, "resourceArn")?, &tags).await?;
            Ok(json!({}))
        }
        "UntagResource" => {
            let request: TagRequest = parse(body)?;
            let keys = request.tag_keys.ok_or_else(|| ApiError::missing("tagKeys"))?;
            service.untag_resource(required(&request.resource_arn, "resourceArn")?, &keys).await?;
            Ok(json!({}))
        }
        "ListTagsForResource" => {
            let request: TagRequest = parse(body)?;
            let tags = service.list_tags(required(&request.resource_arn, "resourceArn")?).await?;
            Ok(
                json!({ "tags": tags.into_iter().map(|(key, value)| json!({"key": key, "value": value})).collect::<Vec<_>>() }),
            )
        }
        "ListMapRuns" => {
            let request: ListMapRunsRequest = parse(body)?;
            let page = service
                .list_map_runs(
                    required(&request.execution_arn, "executionArn")?,
                    request.max_results,
                    request.next_token.as_deref(),
                )
                .await?;
            let execution_arn = request.execution_arn.unwrap_or_default();
            let runs: Vec<Value> = page
                .map_runs
                .iter()
                .map(|run| {
                    let mut item = json!({
                        "executionArn": execution_arn,
                        "mapRunArn": run.arn,
                        "stateMachineArn": format!("{}/{}", page.state_machine_arn, map_run_label(&run.arn)),
                        "startDate": seconds(run.start.as_millis()),
                    });
                    if let Some(stop) = run.stop {
                        item["stopDate"] = json!(seconds(stop.as_millis()));
                    }
                    item
                })
                .collect();
            let mut reply = json!({ "mapRuns": runs });
            if let Some(token) = page.next_token {
                reply["nextToken"] = json!(token);
            }
            Ok(reply)
        }
        "DescribeMapRun" => {
            let request: MapRunRequest = parse(body)?;
            let (execution_arn, run) = service.describe_map_run(required(&request.map_run_arn, "mapRunArn")?).await?;
            Ok(describe_map_run(&execution_arn, &run))
        }
        "UpdateMapRun" => {
            let request: MapRunRequest = parse(body)?;
            let limits = MapRunLimits {
                max_concurrency: request.max_concurrency,
                tolerated_failure_count: request.tolerated_failure_count,
                tolerated_failure_percentage: request.tolerated_failure_percentage,
            };
            service.update_map_run(required(&request.map_run_arn, "mapRunArn")?, limits).await?;
            Ok(json!({}))
        }
        "RedriveExecution" => {
            let request: RedriveRequest = parse(body)?;
            let redrive_date = service
                .redrive_execution(required(&request.execution_arn, "executionArn")?, request.client_token.as_deref())
                .await?;
            Ok(json!({ "redriveDate": seconds(redrive_date) }))
        }
        "TestState" => {
            let reply = service.test_state(parse(body)?).await?;
            let mut out = json!({ "status": reply.status });
            let fields = [
                ("nextState", reply.next_state),
                ("output", reply.output),
                ("error", reply.error),
                ("cause", reply.cause),
            ];
            for (field, value) in fields {
                if let Some(value) = value {
                    out[field] = json!(value);
                }
            }
            if let Some(data) = reply.inspection_data {
                out["inspectionData"] = data;
            }
            Ok(out)
        }
        other => Err(ApiError(ServiceError::new(
            ErrorKind::UnknownOperation,
            format!("{other} is not an AWS Step Functions operation"),
        ))),
    }
}

/// Refuses a member longer than AWS allows, as AWS words it.
fn at_most(value: Option<&str>, member: &str, limit: usize) -> Result<(), ApiError> {
    match value {
        Some(value) if value.chars().count() > limit => Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {limit}"
        ))),
        _ => Ok(()),
    }
}

/// The `LABEL` of `…:mapRun:MACHINE/LABEL:ID`.
fn map_run_label(arn: &str) -> &str {
    arn.split_once(":mapRun:")
        .and_then(|(_, rest)| rest.split_once('/'))
        .and_then(|(_, rest)| rest.split_once(':'))
        .map_or("", |(label, _)| label)
}

fn describe_map_run(execution_arn: &str, run: &stepwasm_asl::MapRun) -> Value {
    let c = run.counts;
    // Each child is an item, or one batch of items; the children are not executions of their
    // own here, so both counts are the children's.
    let counts = json!({
        "pending": c.pending,
        "running": c.running,
        "succeeded": c.succeeded,
        "failed": c.failed,
        "timedOut": 0,
        "aborted": c.aborted,
        "total": c.total,
        "resultsWritten": 0,
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    });
    let mut reply = json!({
        "mapRunArn": run.arn,
        "executionArn": execution_arn,
        "status": run.status.as_str(),
        "startDate": seconds(run.start.as_millis()),
        "maxConcurrency": run.max_concurrency,
        "toleratedFailurePercentage": run.tolerated_failure_percentage,
        "toleratedFailureCount": run.tolerated_failure_count,
        "itemCounts": counts,
        "executionCounts": counts,
        "redriveCount": run.redrive_count,
    });
    if let Some(stop) = run.stop {
        reply["stopDate"] = json!(seconds(stop.as_millis()));
    }
    if let Some(date) = run.redrive_date {
        reply["redriveDate"] = json!(seconds(date.as_millis()));
    }
    reply
}

/// Parses a request body; a member of the wrong type is a ValidationException, as on AWS.
pub(super) fn parse<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|error| ApiError::validation(format!("1 validation error detected: {error}")))
}

pub(super) fn required<'a>(value: &'a Option<String>, member: &str) -> Result<&'a str, ApiError> {
    value.as_deref().ok_or_else(|| ApiError::missing(member))
}

/// AWS timestamps are epoch seconds, with a fraction.
pub(super) fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArnRequest {
    state_machine_arn: Option<String>,
    execution_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RedriveRequest {
    execution_arn: Option<String>,
    client_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MapRunRequest {
    map_run_arn: Option<String>,
    max_concurrency: Option<i64>,
    tolerated_failure_count: Option<i64>,
    tolerated_failure_percentage: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListMapRunsRequest {
    execution_arn: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tag {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStateMachineRequest {
    name: Option<String>,
    definition: Option<String>,
    role_arn: Option<String>,
    #[serde(rename = "type")]
    machine_type: Option<String>,
    tags: Option<Vec<Tag>>,
    logging_configuration: Option<Value>,
    tracing_configuration: Option<Value>,
    publish: Option<bool>,
    version_description: Option<String>,
}

/// `publish` and `versionDescription` of Create and UpdateStateMachine: whether to publish,
/// checked as AWS checks them.
fn publishing(publish: Option<bool>, description: Option<&str>) -> Result<bool, ApiError> {
    let publish = publish.unwrap_or(false);
    if description.is_some() && !publish {
        return Err(ApiError::validation("Version description can only be set when publish is true"));
    }
    check_description(description, "versionDescription")?;
    Ok(publish)
}

/// Publishes the revision `record` is at, for `publish: true`: that revision, not one a
/// concurrent update made since (which is a ConflictException). Returns the version's ARN.
async fn publish_revision(
    service: &Service,
    record: &StateMachineRecord,
    description: Option<&str>,
) -> Result<String, ApiError> {
    let version = service.publish_state_machine_version(&record.arn, Some(&record.revision_id), description).await?;
    Ok(version.arn())
}

fn machine_type(value: Option<&str>) -> Result<MachineType, ApiError> {
    match value {
        None | Some("STANDARD") => Ok(MachineType::Standard),
        Some("EXPRESS") => Ok(MachineType::Express),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        ))),
    }
}

async fn create_state_machine(service: &Service, request: CreateStateMachineRequest) -> Reply {
    let publish = publishing(request.publish, request.version_description.as_deref())?;
    let tags: BTreeMap<String, String> =
        request.tags.unwrap_or_default().into_iter().map(|tag| (tag.key, tag.value)).collect();
    let record = service
        .create_state_machine(
            required(&request.name, "name")?,
            required(&request.definition, "definition")?,
            required(&request.role_arn, "roleArn")?,
            machine_type(request.machine_type.as_deref())?,
            &tags,
            request.logging_configuration.unwrap_or(Value::Null),
            request.tracing_configuration.unwrap_or(Value::Null),
        )
        .await?;
    let mut reply = json!({ "stateMachineArn": record.arn, "creationDate": seconds(record.created) });
    if publish {
        reply["stateMachineVersionArn"] =
            json!(publish_revision(service, &record, request.version_description.as_deref()).await?);
    }
    Ok(reply)
}

async fn describe_state_machine(service: &Service, request: &ArnRequest) -> Reply {
    let view = service.describe_machine_or_version(required(&request.state_machine_arn, "stateMachineArn")?).await?;
    let mut reply = state_machine_reply(&view.record);
    if let Some(description) = view.description {
        reply["description"] = json!(description);
    }
    Ok(reply)
}

fn state_machine_reply(record: &StateMachineRecord) -> Value {
    let mut reply = json!({
        "stateMachineArn": record.arn,
        "name": record.name,
        "status": "ACTIVE",
        "definition": record.definition,
        "roleArn": record.role_arn,
        "type": record.machine_type.as_str(),
        "creationDate": seconds(record.created),
        "revisionId": record.revision_id,
        "loggingConfiguration": if record.logging_configuration.is_null() {
            json!({"level": "OFF", "includeExecutionData": false})
        } else {
            record.logging_configuration.clone()
        },
    });
    if !record.tracing_configuration.is_null() {
        reply["tracingConfiguration"] = record.tracing_configuration.clone();
    }
    reply
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateStateMachineRequest {
    state_machine_arn: Option<String>,
    definition: Option<String>,
    role_arn: Option<String>,
    logging_configuration: Option<Value>,
    tracing_configuration: Option<Value>,
    publish: Option<bool>,
    version_description: Option<String>,
}

async fn update_state_machine(service: &Service, request: UpdateStateMachineRequest) -> Reply {
    let publish = publishing(request.publish, request.version_description.as_deref())?;
    let record = service
        .update_state_machine(
            required(&request.state_machine_arn, "stateMachineArn")?,
            request.definition.as_deref(),
            request.role_arn.as_deref(),
            request.logging_configuration,
            request.tracing_configuration,
        )
        .await?;
    let mut reply = json!({ "updateDate": seconds(record.updated), "revisionId": record.revision_id });
    if publish {
        reply["stateMachineVersionArn"] =
            json!(publish_revision(service, &record, request.version_description.as_deref()).await?);
    }
    Ok(reply)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    max_results: Option<i64>,
    next_token: Option<String>,
    state_machine_arn: Option<String>,
    map_run_arn: Option<String>,
    status_filter: Option<String>,
    redrive_filter: Option<String>,
}

pub(super) fn with_token(mut reply: Value, next_token: Option<String>) -> Value {
    if let Some(token) = next_token {
        reply["nextToken"] = Value::String(token);
    }
    reply
}

async fn list_state_machines(service: &Service, request: &ListRequest) -> Reply {
    let (machines, next) = service.list_state_machines(request.max_results, request.next_token.as_deref()).await?;
    let items: Vec<Value> = machines
        .iter()
        .map(|machine| {
            json!({
                "stateMachineArn": machine.arn,
                "name": machine.name,
                "type": machine.machine_type.as_str(),
                "creationDate": seconds(machine.created),
            })
        })
        .collect();
    Ok(with_token(json!({ "stateMachines": items }), next))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateRequest {
    definition: Option<String>,
    max_results: Option<i64>,
}

async fn validate_definition(service: &Service, request: &ValidateRequest) -> Reply {
    let report = service.validate_definition(required(&request.definition, "definition")?, request.max_results).await?;
    let diagnostic = |severity: &str, (code, location, message): &(String, String, String)| json!({"severity": severity, "code": code, "message": message, "location": location});
    let errors = report.diagnostics.iter().map(|found| diagnostic("ERROR", found));
    let diagnostics: Vec<Value> =
        errors.chain(report.warnings.iter().map(|found| diagnostic("WARNING", found))).collect();
    let result = if report.diagnostics.is_empty() { "OK" } else { "FAIL" };
    Ok(json!({ "result": result, "diagnostics": diagnostics, "truncated": report.truncated }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartRequest {
    state_machine_arn: Option<String>,
    name: Option<String>,
    input: Option<String>,
}

async fn start_execution(service: &Service, request: StartRequest) -> Reply {
    let (arn, start) = service
        .start_execution(
            required(&request.state_machine_arn, "stateMachineArn")?,
            request.name.as_deref(),
            request.input.as_deref(),
        )
        .await?;
    Ok(json!({ "executionArn": arn, "startDate": seconds(start) }))
}

async fn start_sync_execution(service: &Service, request: StartRequest) -> Reply {
    let outcome = service
        .start_sync_execution(
            required(&request.state_machine_arn, "stateMachineArn")?,
            request.name.as_deref(),
            request.input.as_deref(),
        )
        .await?;
    let mut reply = Map::new();
    reply.insert("executionArn".into(), json!(outcome.execution_arn));
    reply.insert("stateMachineArn".into(), json!(outcome.state_machine_arn));
    reply.insert("name".into(), json!(outcome.name));
    reply.insert("startDate".into(), json!(seconds(outcome.start_date)));
    reply.insert("stopDate".into(), json!(seconds(outcome.stop_date)));
    reply.insert("status".into(), json!(outcome.status.as_str()));
    reply.insert("input".into(), json!(outcome.input));
    reply.insert("inputDetails".into(), json!({"included": true}));
    if let Some(output) = outcome.output {
        reply.insert("output".into(), json!(output));
        reply.insert("outputDetails".into(), json!({"included": true}));
    }
    if let Some(error) = outcome.error {
        reply.insert("error".into(), json!(error));
    }
    if let Some(cause) = outcome.cause {
        reply.insert("cause".into(), json!(cause));
    }
    let billed = (outcome.stop_date - outcome.start_date).max(100);
    reply.insert("billingDetails".into(), json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed}));
    Ok(Value::Object(reply))
}

/// `redrivable`: whether the execution can be redriven, or why not.
fn describe_execution_reply(record: &ExecutionRecord, redrivable: Result<(), String>) -> Value {
    let mut reply = json!({
        "executionArn": record.arn,
        "stateMachineArn": record.state_machine_arn,
        "name": record.name,
        "status": record.status.as_str(),
        "startDate": seconds(record.start_date),
        "input": record.input,
        "inputDetails": {"included": true},
        "redriveCount": record.redrive_count,
    });
    match redrivable {
        Ok(()) => reply["redriveStatus"] = json!("REDRIVABLE"),
        Err(reason) => {
            reply["redriveStatus"] = json!("NOT_REDRIVABLE");
            reply["redriveStatusReason"] = json!(reason);
        }
    }
    if let Some(date) = record.redrive_date {
        reply["redriveDate"] = json!(seconds(date));
    }
    if let Some(stop) = record.stop_date {
        reply["stopDate"] = json!(seconds(stop));
    }
    if let Some(output) = &record.output {
        reply["output"] = json!(output);
        reply["outputDetails"] = json!({"included": true});
    }
    if let Some(error) = &record.error {
        reply["error"] = json!(error);
    }
    if let Some(cause) = &record.cause {
        reply["cause"] = json!(cause);
    }
    with_version_and_alias(&mut reply, record);
    reply
}

/// Adds the version and alias an execution was started through, if any.
fn with_version_and_alias(reply: &mut Value, record: &ExecutionRecord) {
    if let Some(version) = &record.version_arn {
        reply["stateMachineVersionArn"] = json!(version);
    }
    if let Some(alias) = &record.alias_arn {
        reply["stateMachineAliasArn"] = json!(alias);
    }
}

async fn list_executions(service: &Service, request: &ListRequest) -> Reply {
    let status = match request.status_filter.as_deref() {
        None => None,
        Some(text) => Some(ExecutionStatus::parse(text).ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value '{text}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"
            ))
        })?),
    };
    let redriven = match request.redrive_filter.as_deref() {
        None => None,
        Some("REDRIVEN") => Some(true),
        Some("NOT_REDRIVEN") => Some(false),
        Some(text) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{text}' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]"
            )));
        }
    };
    let (executions, next) = match (&request.map_run_arn, &request.state_machine_arn) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation("Only one of stateMachineArn and mapRunArn can be given"));
        }
        (Some(map_run_arn), None) => {
            service.map_run_children(map_run_arn, status, request.max_results, request.next_token.as_deref()).await?
        }
        (None, None) => {
            return Err(ApiError::validation("Must provide a StateMachine ARN or a MapRun ARN"));
        }
        (None, state_machine_arn) => {
            service
                .list_executions(
                    state_machine_arn.as_deref(),
                    status,
                    redriven,
                    request.max_results,
                    request.next_token.as_deref(),
                )
                .await?
        }
    };
    let items: Vec<Value> = executions
        .iter()
        .map(|execution| {
            let mut item = json!({
                "executionArn": execution.arn,
                "stateMachineArn": execution.state_machine_arn,
                "name": execution.name,
                "status": execution.status.as_str(),
                "startDate": seconds(execution.start_date),
            });
            if let Some(stop) = execution.stop_date {
                item["stopDate"] = json!(seconds(stop));
            }
            if let Some(date) = execution.redrive_date {
                item["redriveCount"] = json!(execution.redrive_count);
                item["redriveDate"] = json!(seconds(date));
            }
            with_version_and_alias(&mut item, execution);
            if let Some(map_run_arn) = &request.map_run_arn {
                item["mapRunArn"] = json!(map_run_arn);
            }
            item
        })
        .collect();
    Ok(with_token(json!({ "executions": items }), next))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryRequest {
    execution_arn: Option<String>,
    max_results: Option<i64>,
    reverse_order: Option<bool>,
    next_token: Option<String>,
    include_execution_data: Option<bool>,
}

async fn get_execution_history(service: &Service, request: &HistoryRequest) -> Reply {
    let page = service
        .history(
            required(&request.execution_arn, "executionArn")?,
            request.max_results,
            request.reverse_order.unwrap_or(false),
            request.next_token.as_deref(),
            request.include_execution_data.unwrap_or(true),
        )
        .await?;
    Ok(with_token(json!({ "events": page.events }), page.next_token))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopRequest {
    execution_arn: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskTokenRequest {
    task_token: Option<String>,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagRequest {
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
    tag_keys: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityRequest {
    name: Option<String>,
    activity_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}
