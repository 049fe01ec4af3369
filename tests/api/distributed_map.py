"""Distributed Maps over real data, driven with boto3: a 10,000-row CSV read from a local bucket
directory and from an S3 API (moto's server), batched, counted and inspected as Map Runs.

Usage: distributed_map.py ENDPOINT S3_ENDPOINT BUCKETS_DIR

The server must read local buckets from BUCKETS_DIR and the others from S3_ENDPOINT.
It exits non-zero on the first failed check and prints one line per check.
"""

import json
import sys
import time
import uuid
from pathlib import Path

import boto3

from checking import CREDENTIALS, ROLE, check, expect_error, finish, sfn_client
from checking import wait as wait_for_end

ENDPOINT, S3_ENDPOINT, BUCKETS = sys.argv[1], sys.argv[2], Path(sys.argv[3])
ROWS = 10_000
REGIONS = ["eu", "us", "ap"]

sfn = sfn_client(ENDPOINT)
s3 = boto3.client("s3", endpoint_url=S3_ENDPOINT, **CREDENTIALS)


def wait(arn, timeout=120):
    return wait_for_end(sfn, arn, timeout)


def run(machine_arn, payload):
    arn = sfn.start_execution(stateMachineArn=machine_arn, name=f"run-{uuid.uuid4().hex[:12]}", input=json.dumps(payload))[
        "executionArn"
    ]
    return arn, wait(arn)


def machine(name, definition):
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


# The data: 10,000 orders, once in a local bucket directory and once in S3.
rows = [f"o-{i},{i % 97 + 1},{REGIONS[i % 3]}" for i in range(ROWS)]
csv_text = "order_id,amount,region\n" + "\n".join(rows) + "\n"
expected_total = sum(i % 97 + 1 for i in range(ROWS))
local = BUCKETS / "orders-local" / "2026" / "12"
local.mkdir(parents=True)
(local / "orders.csv").write_text(csv_text)
s3.create_bucket(Bucket="orders-s3")
s3.put_object(Bucket="orders-s3", Key="2026/12/orders.csv", Body=csv_text.encode())
for n in range(5):
    s3.put_object(Bucket="orders-s3", Key=f"manifests/part-{n}.json", Body=b"x" * (n + 1))
s3.put_object(Bucket="orders-s3", Key="other/ignored.json", Body=b"{}")

# A sum over every order, 100 orders per child.
summing = machine(
    "sum-orders",
    {
        "QueryLanguage": "JSONata",
        "StartAt": "Sum",
        "States": {
            "Sum": {
                "Type": "Map",
                "Label": "orders",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Arguments": {"Bucket": "{% $states.input.bucket %}", "Key": "2026/12/orders.csv"},
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": "{% $states.input.limit %}"},
                },
                "ItemBatcher": {"MaxItemsPerBatch": 100, "BatchInput": {"source": "{% $states.input.bucket %}"}},
                "MaxConcurrency": 10,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Batch",
                    "States": {
                        "Batch": {
                            "Type": "Pass",
                            "Output": "{% {'source': $states.input.BatchInput.source, 'count': $count($states.input.Items), 'total': $sum($states.input.Items.$number(amount))} %}",
                            "End": True,
                        }
                    },
                },
                "Output": "{% {'batches': $count($states.result), 'orders': $sum($states.result.count), 'total': $sum($states.result.total), 'sources': $distinct($states.result.source)} %}",
                "End": True,
            }
        },
    },
)

for bucket in ["orders-local", "orders-s3"]:
    arn, described = run(summing, {"bucket": bucket, "limit": 0})
    check(described["status"] == "SUCCEEDED", f"{bucket}: the distributed map over {ROWS} CSV rows succeeded ({described.get('cause')})")
    output = json.loads(described["output"])
    check(
        output == {"batches": 100, "orders": ROWS, "total": expected_total, "sources": bucket},
        f"{bucket}: 100 batches saw every order once and summed them ({output})",
    )
    runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    check(len(runs) == 1 and runs[0]["executionArn"] == arn, f"{bucket}: list_map_runs names the one Map Run")
    map_run = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
    check(map_run["status"] == "SUCCEEDED" and map_run["executionArn"] == arn, f"{bucket}: describe_map_run: SUCCEEDED")
    counts = map_run["itemCounts"]
    check(
        (counts["total"], counts["succeeded"], counts["failed"], counts["pending"], counts["running"]) == (100, 100, 0, 0, 0),
        f"{bucket}: the Map Run counted 100 children, all succeeded ({counts})",
    )
    check(map_run["maxConcurrency"] == 10 and "stopDate" in map_run, f"{bucket}: the Map Run kept its MaxConcurrency and stop date")
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    started = [e for e in events if e["type"] == "MapRunStarted"]
    check(
        len(started) == 1 and started[0]["mapRunStartedEventDetails"]["mapRunArn"] == runs[0]["mapRunArn"],
        f"{bucket}: the history's MapRunStarted names the same Map Run",
    )
    check(any(e["type"] == "MapRunSucceeded" for e in events), f"{bucket}: the history records MapRunSucceeded")
    check(not any(e["type"].startswith("Pass") for e in events), f"{bucket}: the children's states are not in the parent's history")

    # Each batch ran as a child execution of its own.
    children, token = [], None
    while True:
        page = sfn.list_executions(mapRunArn=runs[0]["mapRunArn"], maxResults=30, **({"nextToken": token} if token else {}))
        children += page["executions"]
        token = page.get("nextToken")
        if not token:
            break
    check(
        len(children) == 100 and len({c["executionArn"] for c in children}) == 100,
        f"{bucket}: list_executions(mapRunArn) pages through 100 child executions ({len(children)})",
    )
    check(
        all(c["status"] == "SUCCEEDED" and c["mapRunArn"] == runs[0]["mapRunArn"] for c in children),
        f"{bucket}: every child SUCCEEDED and names its Map Run",
    )
    child = sfn.describe_execution(executionArn=children[0]["executionArn"])
    batch = json.loads(child["input"])
    check(
        child["mapRunArn"] == runs[0]["mapRunArn"] and len(batch["Items"]) == 100 and batch["BatchInput"] == {"source": bucket},
        f"{bucket}: describe_execution of a child: its batch as input, and its Map Run",
    )
    check(json.loads(child["output"])["count"] == 100, f"{bucket}: the child's output is its batch's sum")
    check(child["stateMachineArn"].endswith(":stateMachine:sum-orders/orders"), f"{bucket}: the child runs the Map's processor ({child['stateMachineArn']})")
    child_events = [e["type"] for e in sfn.get_execution_history(executionArn=child["executionArn"])["events"]]
    check(
        child_events == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"],
        f"{bucket}: the child's history is its own ({child_events})",
    )
    backwards = [e["id"] for e in sfn.get_execution_history(executionArn=child["executionArn"], reverseOrder=True)["events"]]
    check(backwards == [4, 3, 2, 1], "a child's history reads backwards too")

# A ResultWriter exports the children's results, to a local bucket and to S3.
(BUCKETS / "results-local").mkdir()
s3.create_bucket(Bucket="results-s3")
exporting = machine(
    "export-results",
    {
        "StartAt": "Tally",
        "States": {
            "Tally": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Parameters": {"Bucket": "orders-local", "Key": "2026/12/orders.csv"},
                    "ReaderConfig": {"InputType": "CSV", "MaxItems": 40},
                },
                "ItemBatcher": {"MaxItemsPerBatch": 10},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Count",
                    "States": {"Count": {"Type": "Pass", "Parameters": {"count.$": "States.ArrayLength($.Items)"}, "End": True}},
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket.$": "$.bucket", "Prefix": "tallies"},
                },
                "End": True,
            }
        },
    },
)
for bucket in ["results-local", "results-s3"]:
    arn, described = run(exporting, {"bucket": bucket})
    output = json.loads(described["output"])
    details = output.get("ResultWriterDetails", {})
    check(
        described["status"] == "SUCCEEDED" and details.get("Bucket") == bucket and details.get("Key", "").endswith("/manifest.json"),
        f"{bucket}: the Map's output names the manifest the ResultWriter wrote ({output})",
    )
    check(output["MapRunArn"] == sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"], f"{bucket}: and its Map Run")

    def read(key):
        if bucket == "results-local":
            return (BUCKETS / bucket / key).read_bytes()
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    manifest = json.loads(read(details["Key"]))
    files = manifest["ResultFiles"]
    check(
        manifest["DestinationBucket"] == bucket and len(files["SUCCEEDED"]) == 1 and files["FAILED"] == [] and files["PENDING"] == [],
        f"{bucket}: the manifest lists one SUCCEEDED file ({files})",
    )
    succeeded = json.loads(read(files["SUCCEEDED"][0]["Key"]))
    check(files["SUCCEEDED"][0]["Size"] == len(read(files["SUCCEEDED"][0]["Key"])), f"{bucket}: the manifest gives the file's size")
    check(
        len(succeeded) == 4 and all(json.loads(r["Output"]) == {"count": 10} and r["Status"] == "SUCCEEDED" for r in succeeded),
        f"{bucket}: SUCCEEDED_0.json holds the 4 children with their outputs",
    )
    check(
        sfn.describe_execution(executionArn=succeeded[0]["ExecutionArn"])["status"] == "SUCCEEDED",
        f"{bucket}: each written result names its child execution",
    )

arn, described = run(summing, {"bucket": "orders-local", "limit": 250})
check(json.loads(described["output"])["orders"] == 250, "ReaderConfig.MaxItems (a JSONata expression) reads only the first 250 rows")

arn, described = run(summing, {"bucket": "no-such-bucket", "limit": 0})
check(
    described["status"] == "FAILED" and described["error"] == "States.ItemReaderFailed" and "no-such-bucket" in described["cause"],
    f"a missing bucket fails the execution with States.ItemReaderFailed ({described.get('cause')})",
)

# Listing objects: every key under a prefix, in key order, with its size.
listing = machine(
    "list-manifests",
    {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "orders-s3", "Prefix.$": "$.prefix"}},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Object",
                    "States": {"Object": {"Type": "Pass", "Parameters": {"key.$": "$.Key", "size.$": "$.Size"}, "End": True}},
                },
                "End": True,
            }
        },
    },
)
arn, described = run(listing, {"prefix": "manifests/"})
check(
    json.loads(described.get("output", "null")) == [{"key": f"manifests/part-{n}.json", "size": n + 1} for n in range(5)],
    f"s3:listObjectsV2 iterates the objects under the prefix, in key order ({described.get('output') or described.get('cause')})",
)

# A Map Run that fails: rows whose amount is 13 fail, and none is tolerated. A redrive runs only
# the failed children again.
failing = machine(
    "fail-thirteen",
    {
        "QueryLanguage": "JSONata",
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Arguments": {"Bucket": "orders-local", "Key": "2026/12/orders.csv"},
                    "ReaderConfig": {"InputType": "CSV", "MaxItems": 30},
                },
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Amount",
                    "States": {
                        "Amount": {
                            "Type": "Choice",
                            "Choices": [{"Condition": "{% $states.input.amount = '13' %}", "Next": "Unlucky"}],
                            "Default": "Fine",
                        },
                        "Unlucky": {"Type": "Fail", "Error": "Unlucky", "Cause": "13"},
                        "Fine": {"Type": "Succeed"},
                    },
                },
                "End": True,
            }
        },
    },
)
arn, described = run(failing, {})
check(described["status"] == "FAILED", f"an untolerated child failure fails the execution ({described.get('error')})")
map_run_arn = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
map_run = sfn.describe_map_run(mapRunArn=map_run_arn)
counts = map_run["itemCounts"]
check(
    map_run["status"] == "FAILED" and (counts["succeeded"], counts["failed"], counts["pending"]) == (12, 1, 17),
    f"the failed Map Run counts 12 succeeded, 1 failed, 17 never started ({map_run['status']}, {counts})",
)
sfn.redrive_execution(executionArn=arn)
described = wait(arn)
map_run = sfn.describe_map_run(mapRunArn=map_run_arn)
check(
    described["status"] == "FAILED" and map_run["redriveCount"] == 1 and "redriveDate" in map_run,
    f"a redrive runs the Map Run again and counts it ({map_run['redriveCount']})",
)
events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
check(
    [e["mapRunRedrivenEventDetails"]["redriveCount"] for e in events if e["type"] == "MapRunRedriven"] == [1],
    "the history records MapRunRedriven",
)
failed_children = sfn.list_executions(mapRunArn=map_run_arn, statusFilter="FAILED")["executions"]
check(len(failed_children) == 1, f"list_executions(mapRunArn, statusFilter=FAILED) finds the unlucky child ({len(failed_children)})")
unlucky = sfn.describe_execution(executionArn=failed_children[0]["executionArn"])
check(
    (unlucky["error"], unlucky["cause"], unlucky["redriveCount"], unlucky["redriveStatus"]) == ("Unlucky", "13", 1, "REDRIVABLE_BY_MAP_RUN"),
    f"the failed child ran again as the same execution, redriven once ({unlucky['redriveCount']}, {unlucky['redriveStatus']})",
)
unlucky_events = [e["type"] for e in sfn.get_execution_history(executionArn=unlucky["executionArn"])["events"]]
check(unlucky_events.count("ExecutionRedriven") == 1 and unlucky_events.count("ExecutionFailed") == 2, f"its history shows both runs ({unlucky_events})")
expect_error(
    "ExecutionDoesNotExist",
    lambda: sfn.describe_execution(executionArn=unlucky["executionArn"][:-4] + "0000"),
    "describe_execution of a child that does not exist",
)

# UpdateMapRun while children wait: one at a time at first, then all at once.
slow = machine(
    "slow-children",
    {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Pause",
                    "States": {"Pause": {"Type": "Wait", "Seconds": 5, "End": True}},
                },
                "End": True,
            }
        },
    },
)
arn = sfn.start_execution(stateMachineArn=slow, input=json.dumps([1, 2, 3, 4]))["executionArn"]


def map_run_when(arn, condition, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        if runs:
            described = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
            if condition(described):
                return described
        time.sleep(0.05)
    check(False, what)


started = map_run_when(arn, lambda run: run["itemCounts"]["running"] == 1, "the slow Map Run starts one child")
check(started["itemCounts"]["pending"] == 3, "with MaxConcurrency 1, three children wait")
sfn.update_map_run(mapRunArn=started["mapRunArn"], maxConcurrency=4, toleratedFailureCount=2)
updated = map_run_when(arn, lambda run: run["itemCounts"]["pending"] == 0, "after update_map_run, every child has started")
check(
    updated["maxConcurrency"] == 4 and updated["toleratedFailureCount"] == 2 and updated["status"] in ("RUNNING", "SUCCEEDED"),
    f"describe_map_run shows the new limits ({updated['maxConcurrency']}, {updated['toleratedFailureCount']})",
)
check(wait(arn)["status"] == "SUCCEEDED", "the updated Map Run completes")
expect_error(
    "ValidationException",
    lambda: sfn.update_map_run(mapRunArn=started["mapRunArn"], maxConcurrency=2),
    "update_map_run of a finished Map Run",
)
expect_error(
    "ValidationException",
    lambda: sfn.update_map_run(mapRunArn=started["mapRunArn"], toleratedFailurePercentage=150),
    "update_map_run with a percentage over 100",
)

# Errors, as AWS shapes them.
expect_error(
    "ResourceNotFound",
    lambda: sfn.describe_map_run(mapRunArn="arn:aws:states:us-east-1:123456789012:mapRun:sum-orders/orders:nobody:0000"),
    "describe_map_run of an unknown Map Run",
)
expect_error(
    "InvalidArn",
    lambda: sfn.describe_map_run(mapRunArn="arn:aws:states:us-east-1:123456789012:execution:sum-orders:x"),
    "describe_map_run of an execution ARN",
)
error = expect_error(
    "InvalidDefinition",
    lambda: machine(
        "bad-reader",
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}},
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                    "End": True,
                }
            },
        },
    ),
    "an s3:getObject reader without an InputType",
)
check("/States/M/ItemReader/ReaderConfig" in error.response["Error"]["Message"], "the fault is named by its path")

finish()
