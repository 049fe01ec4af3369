"""The server's queues through boto3's `sqs` client: a workflow sends a job to a queue with
`sqs:sendMessage.waitForTaskToken`, a worker long-polls the queue, does the job and answers the
task token; and the queue behaves as SQS does (visibility timeout, receipts, attributes, errors).

Usage: sqs_queue.py ENDPOINT
"""

import hashlib
import json
import sys
import threading
import time

import boto3
from botocore.config import Config

from checking import CREDENTIALS, ROLE, check, expect_error, finish, sfn_client, wait

ENDPOINT = sys.argv[1]
sfn = sfn_client(ENDPOINT)
sqs = boto3.client("sqs", endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1}), **CREDENTIALS)

jobs = sqs.create_queue(QueueName="label-jobs", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
check(jobs.endswith("/123456789012/label-jobs"), f"CreateQueue answers the queue's URL: {jobs}")
check(sqs.create_queue(QueueName="label-jobs", Attributes={"VisibilityTimeout": "30"})["QueueUrl"] == jobs, "creating it again is idempotent")
expect_error("QueueAlreadyExists", lambda: sqs.create_queue(QueueName="label-jobs", Attributes={"VisibilityTimeout": "5"}), "the same name with other attributes is refused")
check(sqs.get_queue_url(QueueName="label-jobs")["QueueUrl"] == jobs, "GetQueueUrl finds it")
expect_error("AWS.SimpleQueueService.NonExistentQueue", lambda: sqs.get_queue_url(QueueName="nowhere"), "an unknown queue is SQS's NonExistentQueue")
try:
    sqs.get_queue_url(QueueName="nowhere")
except sqs.exceptions.QueueDoesNotExist:
    check(True, "which boto3 raises as sqs.exceptions.QueueDoesNotExist")

definition = {
    "StartAt": "PrintLabel",
    "States": {
        "PrintLabel": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": jobs, "MessageBody": {"orderId.$": "$.orderId", "token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 60,
            "End": True,
        }
    },
}
validated = sfn.validate_state_machine_definition(definition=json.dumps(definition))
check(validated["result"] == "OK" and validated["diagnostics"] == [], f"sqs:sendMessage needs no binding: {validated['diagnostics']}")
machine = sfn.create_state_machine(name="labels", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def worker(done):
    """Long-polls for one job, prints its label, answers the token, deletes the message."""
    while not done:
        received = sqs.receive_message(QueueUrl=jobs, WaitTimeSeconds=10, MaxNumberOfMessages=1, AttributeNames=["All"])
        for message in received.get("Messages", []):
            job = json.loads(message["Body"])
            sfn.send_task_success(taskToken=job["token"], output=json.dumps({"label": f"LBL-{job['orderId']}", "receives": message["Attributes"]["ApproximateReceiveCount"]}))
            sqs.delete_message(QueueUrl=jobs, ReceiptHandle=message["ReceiptHandle"])
            done.append(job["orderId"])


done = []
thread = threading.Thread(target=worker, args=(done,))
# The worker is already waiting in ReceiveMessage when the workflow sends: the long poll wakes.
thread.start()
time.sleep(0.5)
started = time.time()
execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"orderId": "ord-7"}))["executionArn"]
described = wait(sfn, execution)
thread.join(timeout=30)
check(described["status"] == "SUCCEEDED", f"the workflow ends when the worker answers: {described.get('cause')}")
check(json.loads(described["output"]) == {"label": "LBL-ord-7", "receives": "1"}, f"with the worker's answer: {described['output']}")
check(done == ["ord-7"], "the worker got the job once")
check(time.time() - started < 8, "the waiting receive woke when the message was sent, not at the end of its wait")
history = sfn.get_execution_history(executionArn=execution)["events"]
submitted = [event for event in history if event["type"] == "TaskSubmitted"]
check(len(submitted) == 1 and "MD5OfMessageBody" in json.loads(submitted[0]["taskSubmittedEventDetails"]["output"]), "the send is recorded as TaskSubmitted with SQS's answer")

# The queue itself, as SQS: MD5s that boto3 checks, visibility, receipts, attributes.
sent = sqs.send_message(QueueUrl=jobs, MessageBody="hello", MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}})
check(sent["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest(), "SendMessage answers the body's MD5 (boto3 checks it)")
first = sqs.receive_message(QueueUrl=jobs, VisibilityTimeout=1, MessageAttributeNames=["All"])["Messages"][0]
check(first["Body"] == "hello" and first["MessageId"] == sent["MessageId"], "ReceiveMessage hands it out")
check(first["MessageAttributes"]["kind"]["StringValue"] == "greeting", "with its message attributes when asked")
check("Messages" not in sqs.receive_message(QueueUrl=jobs), "a received message is hidden from other receivers")
attributes = sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["All"])["Attributes"]
check(attributes["ApproximateNumberOfMessagesNotVisible"] == "1" and attributes["ApproximateNumberOfMessages"] == "0", f"GetQueueAttributes counts it as in flight: {attributes}")
check(attributes["QueueArn"] == "arn:aws:sqs:us-east-1:123456789012:label-jobs", "and gives the queue's ARN")
again = sqs.receive_message(QueueUrl=jobs, WaitTimeSeconds=5)["Messages"][0]
check(again["MessageId"] == first["MessageId"] and again["ReceiptHandle"] != first["ReceiptHandle"], "not deleted within its visibility timeout, it comes back with a new receipt")
expect_error("ReceiptHandleIsInvalid", lambda: sqs.delete_message(QueueUrl=jobs, ReceiptHandle=first["ReceiptHandle"]), "the old receipt no longer deletes it")
sqs.change_message_visibility(QueueUrl=jobs, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=0)
back = sqs.receive_message(QueueUrl=jobs)["Messages"][0]
check(back["MessageId"] == first["MessageId"], "ChangeMessageVisibility to 0 returns it at once")
sqs.delete_message(QueueUrl=jobs, ReceiptHandle=back["ReceiptHandle"])
check("Messages" not in sqs.receive_message(QueueUrl=jobs, WaitTimeSeconds=1), "deleted with its latest receipt, it is gone")
expect_error("InvalidParameterValue", lambda: sqs.receive_message(QueueUrl=jobs, MaxNumberOfMessages=11), "more than 10 messages at once is refused")

sqs.send_message(QueueUrl=jobs, MessageBody="later", DelaySeconds=1)
check("Messages" not in sqs.receive_message(QueueUrl=jobs), "a delayed message waits")
check(sqs.receive_message(QueueUrl=jobs, WaitTimeSeconds=5)["Messages"][0]["Body"] == "later", "then arrives within a long poll")
check(any(url == jobs for url in sqs.list_queues(QueueNamePrefix="label")["QueueUrls"]), "ListQueues lists it")
sqs.purge_queue(QueueUrl=jobs)
sqs.delete_queue(QueueUrl=jobs)
expect_error("AWS.SimpleQueueService.NonExistentQueue", lambda: sqs.send_message(QueueUrl=jobs, MessageBody="x"), "a deleted queue takes nothing")

# A workflow that sends to a queue that does not exist fails with SQS's error.
missing = dict(definition)
missing["States"] = {
    "PrintLabel": dict(
        definition["States"]["PrintLabel"],
        Resource="arn:aws:states:::sqs:sendMessage",
        Parameters={"QueueUrl": jobs, "MessageBody.$": "$.orderId"},
    )
}
machine = sfn.create_state_machine(name="nowhere", definition=json.dumps(missing), roleArn=ROLE)["stateMachineArn"]
failed = wait(sfn, sfn.start_execution(stateMachineArn=machine, input=json.dumps({"orderId": "ord-8"}))["executionArn"])
check(failed["status"] == "FAILED" and failed["error"] == "SQS.QueueDoesNotExistException", f"a missing queue fails the task: {failed.get('error')}")

finish()
