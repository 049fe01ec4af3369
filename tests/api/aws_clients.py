"""Drives a running stepwasm server with real AWS clients: boto3 and the AWS CLI v1.

Usage: aws_clients.py ENDPOINT FUNCTIONS_DIR

The server must have the sample task functions deployed. This script creates the state
machines itself, runs the order pipeline on three samples, approves and rejects the manual step
of the approval variant, pages through executions, publishes versions and routes starts through
a weighted alias, and checks the error replies for bad input.
It exits non-zero on the first failed check and prints one line per check.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import botocore.exceptions
from botocore import xform_name

from checking import ROLE, check, expect_error, finish, sfn_client
from checking import wait as wait_for_end

ENDPOINT = sys.argv[1]
FUNCTIONS = Path(sys.argv[2])


def client(**config):
    return sfn_client(ENDPOINT, **config)


sfn = client()


def wait(arn, timeout=60):
    return wait_for_end(sfn, arn, timeout)


def history(arn, **extra):
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=50, **({"nextToken": token} if token else {}), **extra)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def entered(events):
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def sample(name):
    return (FUNCTIONS / "samples" / f"{name}.json").read_text()


# --- the order pipeline ------------------------------------------------------------------------
pipeline = sfn.create_state_machine(
    name="order-pipeline", definition=(FUNCTIONS / "order-pipeline.asl.json").read_text(), roleArn=ROLE
)["stateMachineArn"]
check(pipeline.endswith(":stateMachine:order-pipeline"), "create_state_machine returns the ARN")
again = sfn.create_state_machine(
    name="order-pipeline", definition=(FUNCTIONS / "order-pipeline.asl.json").read_text(), roleArn=ROLE
)["stateMachineArn"]
check(again == pipeline, "create_state_machine is idempotent for the same definition")
described = sfn.describe_state_machine(stateMachineArn=pipeline)
check(described["type"] == "STANDARD" and json.loads(described["definition"])["StartAt"] == "PlaceOrder", "describe_state_machine")
check(hasattr(described["creationDate"], "year"), "timestamps arrive as numbers botocore parses into datetimes")

good = sfn.start_execution(stateMachineArn=pipeline, name="good-1", input=sample("good-order"))["executionArn"]
declined = sfn.start_execution(stateMachineArn=pipeline, name="declined-1", input=sample("declined-card"))["executionArn"]
stock = sfn.start_execution(stateMachineArn=pipeline, name="stock-1", input=sample("out-of-stock"))["executionArn"]

result = wait(good)
check(result["status"] == "SUCCEEDED", "the good order succeeds")
output = json.loads(result["output"])
check(output["status"] == "COMPLETED" and output["orderId"] == "ord-1000", "the good order's output is the completed order")
events = history(good)
check(events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded", "history starts and ends right")
check([e["id"] for e in events] == list(range(1, len(events) + 1)), "history ids are gap-free")
failures = [e for e in events if e["type"] == "LambdaFunctionFailed"]
check(len(failures) == 1 and failures[0]["lambdaFunctionFailedEventDetails"]["error"] == "CarrierUnavailable", "the carrier fault was retried once")
reverse = history(good, reverseOrder=True)
check([e["id"] for e in reverse] == [e["id"] for e in reversed(events)], "reverseOrder pages newest first")
lean = sfn.get_execution_history(executionArn=good, includeExecutionData=False, maxResults=5)["events"]
check(all("input" not in e.get("stateEnteredEventDetails", {}) for e in lean), "includeExecutionData=false drops payloads")

result = wait(declined)
check(result["status"] == "FAILED" and result["error"] == "PaymentDeclined", "the declined card fails with PaymentDeclined")
names = entered(history(declined))
check("CancelOrder" in names and "RefundPayment" not in names, "the declined order is cancelled, nothing refunded")

result = wait(stock)
check(result["status"] == "FAILED" and result["error"] == "OutOfStock", "the out-of-stock order fails with OutOfStock")
names = entered(history(stock))
check(names.index("RefundPayment") < names.index("CancelOrder"), "out of stock: refund, then cancel")

# --- idempotent starts ---------------------------------------------------------------------------
waiting = sfn.create_state_machine(
    name="wait-a-bit",
    definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "End": True}}}),
    roleArn=ROLE,
)["stateMachineArn"]
first = sfn.start_execution(stateMachineArn=waiting, name="same", input='{"a": 1}')
second = sfn.start_execution(stateMachineArn=waiting, name="same", input='{"a": 1}')
check(first["executionArn"] == second["executionArn"], "StartExecution with the same name and input returns the same execution")
expect_error("ExecutionAlreadyExists", lambda: sfn.start_execution(stateMachineArn=waiting, name="same", input='{"a": 2}'), "same name, other input")

# --- the manual approval step -----------------------------------------------------------------
approval = sfn.create_state_machine(
    name="order-pipeline-approval", definition=(FUNCTIONS / "order-pipeline-approval.asl.json").read_text(), roleArn=ROLE
)["stateMachineArn"]


def token_of(arn):
    deadline = time.time() + 30
    while time.time() < deadline:
        for event in history(arn):
            details = event.get("taskScheduledEventDetails")
            if details and "waitForTaskToken" in details.get("resourceType", "") + details.get("resource", ""):
                return json.loads(details["parameters"])["Payload"]["taskToken"]
        time.sleep(0.05)
    raise AssertionError("no task token in the history")


approved = sfn.start_execution(stateMachineArn=approval, name="large-approved", input=sample("large-order"))["executionArn"]
token = token_of(approved)
time.sleep(0.2)
check(sfn.describe_execution(executionArn=approved)["status"] == "RUNNING", "a large order waits for approval")
sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "approvedBy": "ops@example.com"}))
result = wait(approved)
check(result["status"] == "SUCCEEDED", "send_task_success approves it and the order completes")

rejected = sfn.start_execution(stateMachineArn=approval, name="large-rejected", input=sample("large-order"))["executionArn"]
sfn.send_task_failure(taskToken=token_of(rejected), error="ApprovalRejected", cause="over budget")
result = wait(rejected)
check(result["status"] == "FAILED" and result["error"] == "ApprovalRejected", "send_task_failure rejects it")
check("CancelOrder" in entered(history(rejected)), "a rejected order is cancelled")
expect_error("InvalidToken", lambda: sfn.send_task_success(taskToken="not-a-token", output="{}"), "send_task_success with a bogus token")

# --- paging through executions -------------------------------------------------------------------
for index in range(7):
    sfn.start_execution(stateMachineArn=waiting, name=f"page-{index}", input="{}")
seen, token, pages = [], None, 0
while True:
    page = sfn.list_executions(stateMachineArn=waiting, maxResults=3, **({"nextToken": token} if token else {}))
    seen += [e["executionArn"] for e in page["executions"]]
    pages += 1
    token = page.get("nextToken")
    if not token:
        break
check(len(seen) == 8 and len(set(seen)) == 8 and pages == 3, f"list_executions pages 8 executions in 3 pages ({len(seen)} in {pages})")
paginator = sfn.get_paginator("list_executions")
via_paginator = [e["executionArn"] for p in paginator.paginate(stateMachineArn=waiting, PaginationConfig={"PageSize": 2}) for e in p["executions"]]
check(sorted(via_paginator) == sorted(seen), "boto3's paginator sees the same executions")
succeeded = sfn.list_executions(stateMachineArn=pipeline, statusFilter="SUCCEEDED")["executions"]
check([e["name"] for e in succeeded] == ["good-1"], "the status filter keeps only SUCCEEDED")
expect_error("InvalidToken", lambda: sfn.list_executions(stateMachineArn=waiting, nextToken="garbage"), "a forged nextToken")

# --- stop --------------------------------------------------------------------------------------
sleeper = sfn.start_execution(stateMachineArn=waiting, name="to-stop")["executionArn"]
sfn.stop_execution(executionArn=sleeper, error="Operator", cause="testing stop")
result = sfn.describe_execution(executionArn=sleeper)
check(result["status"] == "ABORTED", "stop_execution aborts a running execution")

# --- error replies for bad input ----------------------------------------------------------------
expect_error("ExecutionDoesNotExist", lambda: sfn.describe_execution(executionArn=pipeline.replace("stateMachine", "execution") + ":nope"), "unknown execution")
expect_error("InvalidArn", lambda: sfn.describe_execution(executionArn="not-an-arn"), "malformed ARN")
expect_error("StateMachineDoesNotExist", lambda: sfn.start_execution(stateMachineArn=pipeline + "-missing"), "unknown state machine")
expect_error("InvalidExecutionInput", lambda: sfn.start_execution(stateMachineArn=pipeline, input="{not json"), "input that is not JSON")
expect_error("InvalidName", lambda: sfn.start_execution(stateMachineArn=pipeline, name="bad name"), "a name with a space")
error = expect_error(
    "InvalidDefinition",
    lambda: sfn.create_state_machine(name="broken", definition='{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}', roleArn=ROLE),
    "an invalid definition",
)
check("/States/A/Next" in error.response["Error"]["Message"], "the definition error points at the fault")
report = sfn.validate_state_machine_definition(definition='{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}')
check(report["result"] == "FAIL" and report["diagnostics"][0]["location"] == "/States/A/Next", "validate_state_machine_definition")
expect_error("ValidationException", lambda: sfn.list_executions(stateMachineArn=pipeline, maxResults=1001), "maxResults over 1000")

# --- activities -----------------------------------------------------------------------------------
activity = sfn.create_activity(name="manual-review")["activityArn"]
check(sfn.describe_activity(activityArn=activity)["name"] == "manual-review", "create and describe an activity")
reviewed = sfn.create_state_machine(
    name="reviewed",
    definition=json.dumps({"StartAt": "Review", "States": {"Review": {"Type": "Task", "Resource": activity, "End": True}}}),
    roleArn=ROLE,
)["stateMachineArn"]
run = sfn.start_execution(stateMachineArn=reviewed, input='{"doc": 7}')["executionArn"]
task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
check(json.loads(task["input"]) == {"doc": 7}, "get_activity_task hands out the task input")
sfn.send_task_success(taskToken=task["taskToken"], output='{"verdict": "ok"}')
check(json.loads(wait(run)["output"]) == {"verdict": "ok"}, "the activity's answer becomes the output")

# HeartbeatSeconds: a worker that keeps sending heartbeats keeps its task past the interval; one
# that falls silent loses it with States.HeartbeatTimeout.
beating = sfn.create_state_machine(
    name="reviewed-with-heartbeats",
    definition=json.dumps(
        {"StartAt": "Review", "States": {"Review": {"Type": "Task", "Resource": activity, "HeartbeatSeconds": 2, "TimeoutSeconds": 30, "End": True}}}
    ),
    roleArn=ROLE,
)["stateMachineArn"]
run = sfn.start_execution(stateMachineArn=beating, input='{"doc": 8}')["executionArn"]
task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
for _ in range(10):
    time.sleep(0.4)
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
check(sfn.describe_execution(executionArn=run)["status"] == "RUNNING", "heartbeats keep an activity task alive past its HeartbeatSeconds")
sfn.send_task_success(taskToken=task["taskToken"], output='{"verdict": "late but alive"}')
check(json.loads(wait(run)["output"]) == {"verdict": "late but alive"}, "the heartbeating worker's answer is taken")
run = sfn.start_execution(stateMachineArn=beating, input='{"doc": 9}')["executionArn"]
task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
silent = wait(run)
check(
    (silent["status"], silent.get("error")) == ("FAILED", "States.HeartbeatTimeout"),
    f"a silent worker's task fails with States.HeartbeatTimeout ({silent['status']}, {silent.get('error')})",
)
timed_out = [e for e in history(run) if e["type"] == "ActivityTimedOut"]
check(
    len(timed_out) == 1 and timed_out[0]["activityTimedOutEventDetails"]["error"] == "States.HeartbeatTimeout",
    "the history records ActivityTimedOut with States.HeartbeatTimeout",
)
expect_error("TaskTimedOut", lambda: sfn.send_task_heartbeat(taskToken=task["taskToken"]), "a heartbeat for a task that timed out")

# --- tags ---------------------------------------------------------------------------------------
sfn.tag_resource(resourceArn=pipeline, tags=[{"key": "team", "value": "orders"}])
check(sfn.list_tags_for_resource(resourceArn=pipeline)["tags"] == [{"key": "team", "value": "orders"}], "tag and list tags")
sfn.untag_resource(resourceArn=pipeline, tagKeys=["team"])
check(sfn.list_tags_for_resource(resourceArn=pipeline)["tags"] == [], "untag")

# --- express and StartSyncExecution ---------------------------------------------------------------
express = sfn.create_state_machine(
    name="express-echo",
    definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}),
    roleArn=ROLE,
    type="EXPRESS",
)["stateMachineArn"]
sync = sfn.start_sync_execution(stateMachineArn=express, input="{}")
check(sync["status"] == "SUCCEEDED" and json.loads(sync["output"]) == {"ok": True}, "start_sync_execution on EXPRESS")
expect_error("StateMachineTypeNotSupported", lambda: sfn.start_sync_execution(stateMachineArn=pipeline), "start_sync_execution on STANDARD")
# An EXPRESS machine cannot wait for a worker, a token or a child, as on AWS.
approval_definition = json.loads((FUNCTIONS / "order-pipeline-approval.asl.json").read_text())
error = expect_error(
    "InvalidDefinition",
    lambda: sfn.create_state_machine(name="express-approval", definition=json.dumps(approval_definition), roleArn=ROLE, type="EXPRESS"),
    "an EXPRESS machine with a .waitForTaskToken task",
)
check("/States/RequestApproval/Resource" in error.response["Error"]["Message"], "the refusal names the task's path")
nested_sync = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "Child", "States": {"Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                                               "Parameters": {"StateMachineArn": express}, "End": True}}}]}}}
error = expect_error(
    "InvalidDefinition",
    lambda: sfn.update_state_machine(stateMachineArn=express, definition=json.dumps(nested_sync)),
    "an EXPRESS machine updated with a .sync task inside a Parallel branch",
)
check("/States/P/Branches/0/States/Child/Resource" in error.response["Error"]["Message"], "named by its path inside the branch")

# --- versions and aliases -------------------------------------------------------------------------
def pass_machine(tag):
    return json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"version": tag}, "End": True}}})


expect_error(
    "ValidationException",
    lambda: sfn.create_state_machine(name="versioned", definition=pass_machine("one"), roleArn=ROLE, versionDescription="x"),
    "versionDescription without publish",
)
created = sfn.create_state_machine(
    name="versioned", definition=pass_machine("one"), roleArn=ROLE, publish=True, versionDescription="first"
)
versioned, v1 = created["stateMachineArn"], created["stateMachineVersionArn"]
check(v1 == versioned + ":1", "create_state_machine(publish=True) publishes version 1")
check(sfn.publish_state_machine_version(stateMachineArn=versioned)["stateMachineVersionArn"] == v1, "publishing the same revision again returns its version")
check(sfn.publish_state_machine_version(stateMachineArn=versioned, revisionId="INITIAL")["stateMachineVersionArn"] == v1, "revisionId INITIAL matches a machine never updated")
updated = sfn.update_state_machine(stateMachineArn=versioned, definition=pass_machine("two"), publish=True, versionDescription="second")
v2 = updated["stateMachineVersionArn"]
check(v2 == versioned + ":2" and updated["revisionId"], "update_state_machine(publish=True) publishes version 2")
expect_error("ConflictException", lambda: sfn.publish_state_machine_version(stateMachineArn=versioned, revisionId="INITIAL"), "revisionId INITIAL after an update")
expect_error("ConflictException", lambda: sfn.publish_state_machine_version(stateMachineArn=versioned, revisionId="stale"), "a stale revisionId")
sfn.update_state_machine(stateMachineArn=versioned, definition=pass_machine("three"))
listed = [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=versioned)["stateMachineVersions"]]
check(listed == [v2, v1], "list_state_machine_versions is newest first (Terraform reads the first as the latest)")
paged, token = [], None
while True:
    page = sfn.list_state_machine_versions(stateMachineArn=versioned, maxResults=1, **({"nextToken": token} if token else {}))
    paged += [v["stateMachineVersionArn"] for v in page["stateMachineVersions"]]
    token = page.get("nextToken")
    if not token:
        break
check(paged == [v2, v1], "list_state_machine_versions pages one at a time with nextToken")
described = sfn.describe_state_machine(stateMachineArn=v1)
check(json.loads(described["definition"])["States"]["P"]["Result"] == {"version": "one"} and described["description"] == "first", "describe_state_machine on a version shows that version")
check(json.loads(sfn.describe_state_machine(stateMachineArn=versioned)["definition"])["States"]["P"]["Result"] == {"version": "three"}, "the machine itself is at its latest definition")

run = sfn.start_execution(stateMachineArn=v1, input="{}")["executionArn"]
result = wait(run)
check(json.loads(result["output"]) == {"version": "one"} and result["stateMachineVersionArn"] == v1 and "stateMachineAliasArn" not in result, "an execution started on a version runs it and reports it")

alias = sfn.create_state_machine_alias(
    name="live",
    description="70/30 canary",
    routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 30}],
)["stateMachineAliasArn"]
check(alias == versioned + ":live", "create_state_machine_alias")
again = sfn.create_state_machine_alias(
    name="live",
    description="70/30 canary",
    routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 30}],
)["stateMachineAliasArn"]
check(again == alias, "create_state_machine_alias is idempotent")
expect_error("ConflictException", lambda: sfn.create_state_machine_alias(name="live", routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}]), "the same alias name with other routes")
expect_error("ValidationException", lambda: sfn.create_state_machine_alias(name="bad", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 60}, {"stateMachineVersionArn": v2, "weight": 30}]), "weights that do not sum to 100")
expect_error("ResourceNotFound", lambda: sfn.create_state_machine_alias(name="ghost", routingConfiguration=[{"stateMachineVersionArn": versioned + ":9", "weight": 100}]), "an alias to a version that does not exist")
expect_error("InvalidName", lambda: sfn.create_state_machine_alias(name="42", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]), "an alias name of digits only")
described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
check(described["name"] == "live" and described["description"] == "70/30 canary" and described["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 30}], "describe_state_machine_alias")
check([a["stateMachineAliasArn"] for a in sfn.list_state_machine_aliases(stateMachineArn=versioned)["stateMachineAliases"]] == [alias], "list_state_machine_aliases")

STARTS = 1000
for n in range(STARTS):
    sfn.start_execution(stateMachineArn=alias, name=f"routed-{n}", input="{}")
through_alias = [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=alias) for e in page["executions"]]
on_v1 = sum(1 for e in through_alias if e["stateMachineVersionArn"] == v1)
on_v2 = sum(1 for e in through_alias if e["stateMachineVersionArn"] == v2)
check(len(through_alias) == STARTS and all(e["stateMachineAliasArn"] == alias for e in through_alias), f"list_executions on the alias ARN lists the {STARTS} executions started through it")
check(on_v1 + on_v2 == STARTS and abs(on_v1 - 0.7 * STARTS) <= 0.05 * STARTS, f"a 70/30 alias routes {STARTS} starts within 5% of 70/30 ({on_v1}/{on_v2})")
on_v2_listed = sum(1 for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=v2) for e in page["executions"])
check(on_v2_listed == on_v2, "list_executions on a version ARN lists the executions of that version")
outputs = {json.loads(wait(e["executionArn"])["output"])["version"] for e in through_alias[:40]}
check(outputs <= {"one", "two"}, "executions through the alias run the versions' definitions, not the latest")

expect_error("ConflictException", lambda: sfn.delete_state_machine_version(stateMachineVersionArn=v1), "a version an alias routes to cannot be deleted")
sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}])
check(sfn.describe_state_machine_alias(stateMachineAliasArn=alias)["routingConfiguration"] == [{"stateMachineVersionArn": v2, "weight": 100}], "update_state_machine_alias")
check(wait(sfn.start_execution(stateMachineArn=alias, input="{}")["executionArn"])["stateMachineVersionArn"] == v2, "an updated alias routes to its new version")
sfn.delete_state_machine_version(stateMachineVersionArn=v1)
check([v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=versioned)["stateMachineVersions"]] == [v2], "delete_state_machine_version once no alias routes to it")
expect_error("StateMachineDoesNotExist", lambda: sfn.start_execution(stateMachineArn=v1), "starting a deleted version")
sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
expect_error("ResourceNotFound", lambda: sfn.describe_state_machine_alias(stateMachineAliasArn=alias), "delete_state_machine_alias")

# --- redrive ------------------------------------------------------------------------------------
review = sfn.create_activity(name="redrive-review")["activityArn"]
redrivable = sfn.create_state_machine(
    name="redrivable",
    definition=json.dumps({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Pack", "States": {"Pack": {"Type": "Pass", "Result": "packed", "End": True}}},
        {"StartAt": "Review", "States": {"Review": {"Type": "Task", "Resource": review, "End": True}}},
    ]}}}),
    roleArn=ROLE,
)["stateMachineArn"]
run = sfn.start_execution(stateMachineArn=redrivable, input='{"doc": 9}')["executionArn"]
first = sfn.get_activity_task(activityArn=review, workerName="worker-1")
sfn.send_task_failure(taskToken=first["taskToken"], error="Rejected", cause="not yet")
failed = wait(run)
check(failed["status"] == "FAILED" and failed["redriveStatus"] == "REDRIVABLE" and failed["redriveCount"] == 0, "a failed execution is REDRIVABLE")
redrive_date = sfn.redrive_execution(executionArn=run)["redriveDate"]
redriven = sfn.describe_execution(executionArn=run)
check(redriven["status"] == "RUNNING" and redriven["redriveCount"] == 1 and redriven["redriveDate"] == redrive_date, "redrive_execution runs it again, counted and dated")
expect_error("ExecutionNotRedrivable", lambda: sfn.redrive_execution(executionArn=run), "a running execution cannot be redriven")
second = sfn.get_activity_task(activityArn=review, workerName="worker-1")
check(json.loads(second["input"]) == {"doc": 9}, "the failed state runs again with its first input")
sfn.send_task_success(taskToken=second["taskToken"], output='"approved"')
done = wait(run)
check(done["status"] == "SUCCEEDED" and json.loads(done["output"]) == ["packed", "approved"], "the redriven execution succeeds, keeping the branch that had")
events = history(run)
names = entered(events)
redriven_events = [e for e in events if e["type"] == "ExecutionRedriven"]
check(names.count("Pack") == 1 and names.count("Review") == 2, f"only the failed branch ran again ({names})")
check(len(redriven_events) == 1 and redriven_events[0]["executionRedrivenEventDetails"] == {"redriveCount": 1}, "the history records ExecutionRedriven")
check([e["id"] for e in events] == list(range(1, len(events) + 1)), "the history continues with the same ids")
listed = [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=redrivable, redriveFilter="REDRIVEN") for e in page["executions"]]
check([(e["executionArn"], e["redriveCount"]) for e in listed] == [(run, 1)], "list_executions filters redriven executions")
expect_error("ExecutionNotRedrivable", lambda: sfn.redrive_execution(executionArn=run), "a succeeded execution cannot be redriven")
check(sfn.describe_execution(executionArn=run)["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven", "describe_execution says why not")

stopped = sfn.start_execution(stateMachineArn=redrivable, input='{"doc": 10}')["executionArn"]
sfn.stop_execution(executionArn=stopped, error="Operator")
check(wait(stopped)["status"] == "ABORTED", "stop_execution aborts")
token = str(uuid.uuid4())
date = sfn.redrive_execution(executionArn=stopped, clientToken=token)["redriveDate"]
check(sfn.redrive_execution(executionArn=stopped, clientToken=token)["redriveDate"] == date, "a retried redrive_execution with its clientToken answers as the first")
task = sfn.get_activity_task(activityArn=review, workerName="worker-1")
sfn.send_task_success(taskToken=task["taskToken"], output='"late"')
check(json.loads(wait(stopped)["output"]) == ["packed", "late"], "an aborted execution is redriven from where it stopped")

# --- every operation answers -----------------------------------------------------------------------
check(sfn.list_map_runs(executionArn=declined)["mapRuns"] == [], "list_map_runs: the pipeline has no Distributed Map, so no Map Runs")
expect_error("ResourceNotFound", lambda: sfn.describe_map_run(mapRunArn="arn:aws:states:us-east-1:123456789012:mapRun:order-pipeline/Map:1"), "describe_map_run names no Map Run")
# Sends requests with members missing, so each operation's own checks answer.
unchecked = client(parameter_validation=False)
operations = unchecked.meta.service_model.operation_names
unknown = []
for operation in operations:
    try:
        getattr(unchecked, xform_name(operation))()
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] == "UnknownOperationException":
            unknown.append(operation)
check(len(operations) == 37 and unknown == [], f"all 37 operations answer ({unknown} refused as unknown)")

# --- requests AWS refuses are refused here too (found by probing: each was accepted) -------------
definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
for role, code in [("", "ValidationException"), ("r" * 300, "ValidationException"), ("not-an-arn", "InvalidArn"), ("arn:aws:s3:::bucket", "InvalidArn")]:
    expect_error(code, lambda: unchecked.create_state_machine(name="bad-role", definition=definition, roleArn=role), f"create_state_machine with roleArn {role[:20]!r}")
expect_error("ValidationException", lambda: unchecked.update_state_machine(stateMachineArn=pipeline, roleArn=""), "update_state_machine with an empty roleArn")
expect_error("InvalidArn", lambda: unchecked.delete_activity(activityArn="garbage"), "delete_activity of a malformed ARN")
expect_error("ValidationException", lambda: unchecked.tag_resource(resourceArn=pipeline), "tag_resource without tags")
expect_error("ValidationException", lambda: unchecked.untag_resource(resourceArn=pipeline), "untag_resource without tagKeys")
expect_error("ValidationException", lambda: unchecked.list_executions(), "list_executions without a state machine or Map Run")
running = sfn.start_execution(stateMachineArn=reviewed, input="{}")["executionArn"]
expect_error("ValidationException", lambda: unchecked.stop_execution(executionArn=running, error="e" * 257), "stop_execution with an error over 256 characters")
expect_error("ValidationException", lambda: unchecked.stop_execution(executionArn=running, cause="c" * 32_769), "stop_execution with a cause over 32,768 characters")
sfn.stop_execution(executionArn=running)
oversized = urllib.request.Request(
    ENDPOINT,
    data=b" " * (65 << 20),
    headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.ListStateMachines"},
)
try:
    urllib.request.urlopen(oversized)
    check(False, "a body over 64 MiB is refused")
except urllib.error.HTTPError as error:
    body = json.loads(error.read())
    check(body["__type"].endswith("#ValidationException"), f"a body over 64 MiB is refused in AWS's shape ({error.code}, {body})")

# --- the AWS CLI v1 -------------------------------------------------------------------------------
env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DISABLE_HOST_PREFIX_INJECTION="true")
aws_cli = [str(Path(sys.executable).parent / "aws"), "--endpoint-url", ENDPOINT, "--region", "us-east-1", "stepfunctions"]


def cli(*args):
    done = subprocess.run(aws_cli + list(args), env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


code, out, err = cli("list-state-machines")
check(code == 0 and "order-pipeline" in {m["name"] for m in json.loads(out)["stateMachines"]}, f"aws stepfunctions list-state-machines {err.strip()}")
code, out, err = cli("describe-execution", "--execution-arn", good)
check(code == 0 and json.loads(out)["status"] == "SUCCEEDED", f"aws stepfunctions describe-execution {err.strip()}")
code, out, err = cli("get-execution-history", "--execution-arn", declined, "--max-items", "3")
check(code == 0 and len(json.loads(out)["events"]) == 3, f"aws stepfunctions get-execution-history --max-items 3 {err.strip()}")
code, out, err = cli("start-sync-execution", "--state-machine-arn", express, "--input", "{}")
check(code == 0 and json.loads(out)["status"] == "SUCCEEDED", f"aws stepfunctions start-sync-execution {err.strip()}")
code, out, err = cli("create-state-machine", "--name", "cli-published", "--definition", pass_machine("cli"), "--role-arn", ROLE, "--publish")
check(code == 0 and json.loads(out)["stateMachineVersionArn"].endswith(":cli-published:1"), f"aws stepfunctions create-state-machine --publish {err.strip()}")
code, out, err = cli("describe-execution", "--execution-arn", "arn:aws:states:us-east-1:123456789012:execution:order-pipeline:nope")
check(code == 255 and "ExecutionDoesNotExist" in err, "the CLI reports AWS errors by name")

finish()
