"""Nested executions, driven with boto3: parents that start children through
`arn:aws:states:::states:startExecution` with each integration pattern.

Usage: nested_executions.py ENDPOINT

It exits non-zero on the first failed check and prints one line per check.
"""

import json
import sys
import time
import uuid

from checking import ROLE, check, finish, sfn_client
from checking import wait as wait_for_end

ENDPOINT = sys.argv[1]
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"

sfn = sfn_client(ENDPOINT)


def wait(arn, timeout=60):
    return wait_for_end(sfn, arn, timeout)


def start(machine_arn, payload):
    name = f"run-{uuid.uuid4().hex[:12]}"
    return sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(payload))["executionArn"]


def run(machine_arn, payload):
    arn = start(machine_arn, payload)
    return arn, wait(arn)


def machine(name, definition):
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def history(arn):
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def children(machine_arn):
    return sfn.list_executions(stateMachineArn=machine_arn)["executions"]


# The child adds two numbers, or fails when asked to; it reports who started it.
child = machine(
    "adder",
    {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}],
                "Default": "Add",
            },
            "Add": {
                "Type": "Pass",
                "Parameters": {"sum.$": "States.MathAdd($.a, $.b)", "parent.$": f"$.{STARTED_BY}"},
                "End": True,
            },
            "Boom": {"Type": "Fail", "Error": "ChildFailed", "Cause": "asked to fail"},
        },
    },
)
# A child that waits for a person: a Wait of an hour.
sleeper = machine(
    "sleeper",
    {"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 3600, "End": True}}},
)


def parent_definition(resource, target, extra=None):
    task = {
        "Type": "Task",
        "Resource": resource,
        "Parameters": {
            "StateMachineArn": target,
            "Input": {"a.$": "$.a", "b": 2, "fail.$": "$.fail", f"{STARTED_BY}.$": "$$.Execution.Id"},
        },
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
    }
    task.update(extra or {})
    return {"StartAt": "Call", "States": {"Call": task, "Caught": {"Type": "Pass", "End": True}}}


# .sync:2: the child's output as JSON.
sync2 = machine("parent-sync2", parent_definition("arn:aws:states:::states:startExecution.sync:2", child))
arn, described = run(sync2, {"a": 40, "fail": False})
check(described["status"] == "SUCCEEDED", f".sync:2: the parent succeeded ({described.get('cause')})")
output = json.loads(described["output"])
check(output["Status"] == "SUCCEEDED", ".sync:2: the result is the child's description")
check(output["Output"] == {"sum": 42, "parent": arn}, f".sync:2: Output is the child's output as JSON, naming its parent ({output['Output']})")
check(isinstance(output["Input"], dict) and output["Input"][STARTED_BY] == arn, ".sync:2: Input is JSON too")
child_arn = output["ExecutionArn"]
child_described = sfn.describe_execution(executionArn=child_arn)
check(child_described["status"] == "SUCCEEDED", "the child is an execution of its own, SUCCEEDED")
check(child_described["stateMachineArn"] == child, "the child ran the machine the task named")
check(json.loads(child_described["input"])[STARTED_BY] == arn, f"the child's input carries {STARTED_BY}")
child_events = [e["type"] for e in history(child_arn)]
check(child_events[0] == "ExecutionStarted" and child_events[-1] == "ExecutionSucceeded", "the child has its own history")
events = history(arn)
scheduled = [e["taskScheduledEventDetails"] for e in events if e["type"] == "TaskScheduled"]
check(
    len(scheduled) == 1 and (scheduled[0]["resourceType"], scheduled[0]["resource"]) == ("states", "startExecution.sync:2"),
    f"the parent's history schedules states/startExecution.sync:2 ({scheduled})",
)
task_events = [e["type"] for e in events if e["type"].startswith("Task") and "State" not in e["type"]]
check(task_events == ["TaskScheduled", "TaskStarted", "TaskSucceeded"], f"the parent's task was scheduled, started and succeeded ({task_events})")

# A failing child fails the task with States.TaskFailed, its description as the cause.
arn, described = run(sync2, {"a": 1, "fail": True})
error = json.loads(described["output"])["error"]
check(error["Error"] == "States.TaskFailed", f"a failed child fails its task with States.TaskFailed ({error['Error']})")
cause = json.loads(error["Cause"])
check(
    (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "ChildFailed", "asked to fail"),
    f"the cause is the failed child's description ({cause})",
)

# .sync: the child's output as JSON text.
sync1 = machine("parent-sync", parent_definition("arn:aws:states:::states:startExecution.sync", child))
arn, described = run(sync1, {"a": 5, "fail": False})
output = json.loads(described["output"])
check(isinstance(output["Output"], str) and json.loads(output["Output"])["sum"] == 7, ".sync: Output is JSON text")
check(isinstance(output["Input"], str), ".sync: Input is JSON text")

# Request-response: the task ends as soon as the child has started.
fire = machine(
    "parent-fire",
    parent_definition("arn:aws:states:::states:startExecution", sleeper),
)
arn, described = run(fire, {"a": 1, "fail": False})
output = json.loads(described["output"])
check(described["status"] == "SUCCEEDED" and set(output) >= {"ExecutionArn", "StartDate"}, f"request-response: ExecutionArn and StartDate ({output})")
check(sfn.describe_execution(executionArn=output["ExecutionArn"])["status"] == "RUNNING", "request-response: the child runs on after its parent ended")
sfn.stop_execution(executionArn=output["ExecutionArn"])

# .waitForTaskToken: the child gets the token; the parent waits for it.
token_parent = machine(
    "parent-token",
    {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                "Parameters": {"StateMachineArn": sleeper, "Input": {"token.$": "$$.Task.Token", f"{STARTED_BY}.$": "$$.Execution.Id"}},
                "End": True,
            }
        },
    },
)
arn = start(token_parent, {})
deadline = time.time() + 30
mine = []
while time.time() < deadline and not mine:
    for item in children(sleeper):
        child_input = json.loads(sfn.describe_execution(executionArn=item["executionArn"])["input"])
        if child_input.get(STARTED_BY) == arn:
            mine.append((item["executionArn"], child_input))
    time.sleep(0.05)
check(len(mine) == 1, ".waitForTaskToken: one child was started, naming its parent")
token_child, child_input = mine[0]
submitted = [e for e in history(arn) if e["type"] == "TaskSubmitted"]
check(
    len(submitted) == 1 and json.loads(submitted[0]["taskSubmittedEventDetails"]["output"])["ExecutionArn"] == token_child,
    ".waitForTaskToken: TaskSubmitted records the started child",
)
check(sfn.describe_execution(executionArn=arn)["status"] == "RUNNING", ".waitForTaskToken: the parent waits for the token")
sfn.send_task_success(taskToken=child_input["token"], output=json.dumps({"approved": True}))
described = wait(arn)
check(
    described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"approved": True},
    ".waitForTaskToken: SendTaskSuccess with the child's token ends the parent's task",
)
sfn.stop_execution(executionArn=token_child)

# A parent parked on a callback with HeartbeatSeconds: each heartbeat wakes it to move the
# deadline, and a missed one fails the task with States.HeartbeatTimeout.
beating = machine(
    "parent-heartbeat",
    {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                "HeartbeatSeconds": 3,
                "Parameters": {"StateMachineArn": sleeper, "Input": {"token.$": "$$.Task.Token", f"{STARTED_BY}.$": "$$.Execution.Id"}},
                "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.error", "Next": "Missed"}],
                "End": True,
            },
            "Missed": {"Type": "Pass", "End": True},
        },
    },
)
arn = start(beating, {})
token = None
deadline = time.time() + 30
while time.time() < deadline and token is None:
    for item in children(sleeper):
        child_input = json.loads(sfn.describe_execution(executionArn=item["executionArn"])["input"])
        if child_input.get(STARTED_BY) == arn:
            token, beating_child = child_input["token"], item["executionArn"]
    time.sleep(0.05)
check(token is not None, "HeartbeatSeconds: the child got the parent's token")
started = time.time()
while time.time() - started < 5:
    time.sleep(0.7)
    sfn.send_task_heartbeat(taskToken=token)
check(sfn.describe_execution(executionArn=arn)["status"] == "RUNNING", "heartbeats kept the parked parent waiting past its HeartbeatSeconds")
described = wait(arn, timeout=15)
error = json.loads(described["output"])["error"]
check(error["Error"] == "States.HeartbeatTimeout", f"without heartbeats the task fails with States.HeartbeatTimeout ({error})")
check(time.time() - started >= 5 + 2.5, "it failed only after a full HeartbeatSeconds without a heartbeat")
sfn.stop_execution(executionArn=beating_child)

# Stopping a parent stops the .sync child it waits for.
waiting = machine("parent-waits", parent_definition("arn:aws:states:::states:startExecution.sync:2", sleeper))
arn = start(waiting, {"a": 1, "fail": False})
deadline = time.time() + 30
sleeping = None
while time.time() < deadline and sleeping is None:
    for item in children(sleeper):
        if item["status"] == "RUNNING" and json.loads(sfn.describe_execution(executionArn=item["executionArn"])["input"]).get(STARTED_BY) == arn:
            sleeping = item["executionArn"]
    time.sleep(0.05)
check(sleeping is not None, ".sync: the parent started its child")
sfn.stop_execution(executionArn=arn, error="Cancelled", cause="no longer needed")
check(wait(arn)["status"] == "ABORTED", "the parent was stopped")
stopped = wait(sleeping, timeout=10)
check(stopped["status"] == "ABORTED", f"stopping the parent stopped its .sync child ({stopped['status']})")

# TimeoutSeconds bounds the wait for a .sync child.
impatient = machine(
    "parent-impatient",
    parent_definition("arn:aws:states:::states:startExecution.sync", sleeper, {"TimeoutSeconds": 1}),
)
arn, described = run(impatient, {"a": 1, "fail": False})
check(json.loads(described["output"])["error"]["Error"] == "States.Timeout", "a .sync task past its TimeoutSeconds fails with States.Timeout")

# A machine that does not exist fails the task with the Step Functions error.
missing = machine(
    "parent-missing",
    parent_definition("arn:aws:states:::states:startExecution.sync", child.replace(":adder", ":no-such-machine")),
)
arn, described = run(missing, {"a": 1, "fail": False})
error = json.loads(described["output"])["error"]
check(
    error["Error"] == "StepFunctions.StateMachineDoesNotExistException" and "no-such-machine" in error["Cause"],
    f"a missing machine: StepFunctions.StateMachineDoesNotExistException ({error})",
)

# A child named by the task: a second start of the same name is refused as on AWS.
named = machine(
    "parent-named",
    {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child, "Name.$": "$.name", "Input": {"a": 1, "b": 1, "fail": False, f"{STARTED_BY}.$": "$$.Execution.Id"}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    },
)
name = f"child-{uuid.uuid4().hex[:8]}"
arn, described = run(named, {"name": name})
output = json.loads(described["output"])
check(output["Name"] == name and output["Output"]["sum"] == 2, "a Name given to the task names the child")
arn, described = run(named, {"name": name})
error = json.loads(described["output"])["error"]["Error"]
check(error == "StepFunctions.ExecutionAlreadyExistsException", f"a name taken by an ended execution is refused ({error})")

finish()
