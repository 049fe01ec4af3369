"""What the client scripts share: one printed line per check, a Step Functions client for a
local endpoint, and waiting for an execution to end.

Every script exits non-zero at its first failed check and ends with "N passed, 0 failed", the
line the Rust test that runs it looks for.
"""

import sys
import time

import boto3
import botocore.exceptions
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/stepwasm"
CREDENTIALS = dict(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
_passed = 0


def check(condition, what):
    global _passed
    if not condition:
        print(f"FAIL {what}", flush=True)
        sys.exit(1)
    _passed += 1
    print(f"ok   {what}", flush=True)


def expect_error(code, call, what):
    try:
        call()
    except botocore.exceptions.ClientError as error:
        got = error.response["Error"]["Code"]
        check(got == code, f"{what}: {code} (got {got}: {error.response['Error'].get('Message')})")
        return error
    check(False, f"{what}: expected {code}, but the call succeeded")


def sfn_client(endpoint, **config):
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        # StartSyncExecution carries the `sync-` host prefix; a local endpoint needs it off.
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}, **config),
        **CREDENTIALS,
    )


def wait(sfn, arn, timeout=60):
    """The execution's description once it has ended."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running after {timeout} s")


def finish():
    print(f"{_passed} passed, 0 failed", flush=True)
