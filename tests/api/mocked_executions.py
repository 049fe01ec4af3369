"""A server for tests, driven with boto3: executions started as STATE_MACHINE_ARN#TEST_CASE have
their tasks answered by a Step Functions Local mock file, and waits are scaled to nothing.

Usage: mocked_executions.py ENDPOINT FUNCTIONS_DIR

The server must load functions/order-pipeline.mocks.json and tests/api/step-functions-local.mocks.json
with a wait time scale of 0, and have the sample functions deployed.
It exits non-zero on the first failed check and prints one line per check.
"""

import json
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

from checking import CREDENTIALS, ROLE, check, expect_error, finish, sfn_client
from checking import wait as wait_for_end

ENDPOINT, FUNCTIONS = sys.argv[1], Path(sys.argv[2])
sfn = sfn_client(ENDPOINT)


def machine(name, definition):
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def run(arn, payload, name=None):
    extra = {"name": name} if name else {}
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload), **extra)["executionArn"]
    return execution, wait_for_end(sfn, execution, 30)


def history(arn):
    return [e for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]]


# The pipeline, under the name its mock file gives it.
pipeline = sfn.create_state_machine(
    name="OrderPipeline", definition=(FUNCTIONS / "order-pipeline.asl.json").read_text(), roleArn=ROLE
)["stateMachineArn"]
order = json.loads((FUNCTIONS / "samples/good-order.json").read_text())

started = time.time()
arn, described = run(pipeline + "#CarrierDown", order)
elapsed = time.time() - started
check(
    (described["status"], described.get("error")) == ("FAILED", "CarrierUnavailable"),
    f"#CarrierDown: the mocked carrier fails every retry and the order is cancelled ({described.get('error')})",
)
check(elapsed < 5, f"the retries' 1 + 2 + 4 s back-offs took no time at wait time scale 0 ({elapsed:.2f} s)")
events = history(arn)
label_failures = [
    e for e in events if e["type"] == "LambdaFunctionFailed" and e["lambdaFunctionFailedEventDetails"]["error"] == "CarrierUnavailable"
]
check(len(label_failures) == 4, f"the mocked failures appear in the history as real ones would ({len(label_failures)})")
check(label_failures[0]["lambdaFunctionFailedEventDetails"]["cause"] == "the carrier's label API answers 503", "with the mocked cause")
check(arn.endswith(":execution:OrderPipeline:" + arn.rsplit(":", 1)[1]), "the execution runs the machine named before the #")

arn, described = run(pipeline + "#LabelBought", order, name="bought")
output = json.loads(described["output"])
check(
    described["status"] == "SUCCEEDED" and output["carrier"] == "DHL" and output["trackingNumber"] == "JD014600006281230704",
    "#LabelBought: the mocked label is used, the other states run their real functions",
)
check(arn.endswith(":execution:OrderPipeline:bought"), "a name given with a test case names the execution")

arn, described = run(pipeline, order)
check(described["status"] == "SUCCEEDED" and json.loads(described["output"])["carrier"] == "UPS", "without a test case, nothing is mocked")

expect_error("ValidationException", lambda: sfn.start_execution(stateMachineArn=pipeline + "#NoSuchCase"), "an unknown test case")

# The example of Step Functions Local's guide, unchanged: lambda:invoke and sqs:sendMessage.
guide = machine(
    "LambdaSQSIntegration",
    {
        "Comment": "This state machine is called: LambdaSQSIntegration",
        "StartAt": "LambdaState",
        "States": {
            "LambdaState": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"Payload.$": "$", "FunctionName": "HelloWorldFunction"},
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}],
                "Next": "SQSState",
            },
            "SQSState": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue", "MessageBody.$": "$"},
                "End": True,
            },
        },
    },
)
arn, described = run(guide + "#HappyPath", {"name": "x"})
output = json.loads(described["output"])
check(
    described["status"] == "SUCCEEDED" and output["MessageId"] == "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51",
    "HappyPath: both states answered by their mocks",
)
lambda_output = [e for e in history(arn) if e["type"] == "TaskSucceeded"][0]["taskSucceededEventDetails"]["output"]
check(json.loads(lambda_output)["Payload"] == {"StatusCode": 200, "body": "Hello from Lambda!"}, "lambda:invoke's mocked Payload is the function's result")
arn, described = run(guide + "#RetryPath", {"name": "x"})
failed = [e["taskFailedEventDetails"]["error"] for e in history(arn) if e["type"] == "TaskFailed"]
check(
    described["status"] == "SUCCEEDED"
    and failed == ["Lambda.ResourceNotReadyException", "Lambda.TimeoutException", "Lambda.TimeoutException"],
    f"RetryPath: invocation 0 and the range 1-2 throw, invocation 3 returns ({failed})",
)
arn, described = run(guide + "#HybridPath", {"name": "x"})
check(
    described["status"] == "FAILED" and described.get("error") == "SQS.QueueDoesNotExistException",
    f"HybridPath: a state the test case leaves out runs for real, here against no queue ({described.get('error')})",
)
sqs = boto3.client("sqs", endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1}), **CREDENTIALS)
queue = sqs.create_queue(QueueName="myQueue")["QueueUrl"]
arn, described = run(guide + "#HybridPath", {"name": "y"})
received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
check(
    described["status"] == "SUCCEEDED" and len(received) == 1 and json.loads(received[0]["Body"])["Payload"]["body"] == "Hello from Lambda!",
    f"and once the queue exists on this server, the real send reaches it ({[m['Body'] for m in received]})",
)

# A day-long Wait takes no time at wait time scale 0.
sleepy = machine("sleepy", {"StartAt": "Day", "States": {"Day": {"Type": "Wait", "Seconds": 86400, "End": True}}})
started = time.time()
arn, described = run(sleepy, {"day": 1})
check(described["status"] == "SUCCEEDED" and time.time() - started < 5, "a Wait of a day passes at once")

finish()
