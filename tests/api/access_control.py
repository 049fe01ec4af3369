"""Access control with real AWS clients: a server with access keys accepts boto3 and the AWS CLI
signed with one of them, refuses a wrong secret, a stale date and an unknown key with AWS's
errors, refuses unsigned requests everywhere but the console's own files, and lets the console
in with a session.

Usage: access_control.py ENDPOINT ACCESS_KEY_ID SECRET_ACCESS_KEY
"""

import datetime
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import boto3
import botocore.exceptions
from botocore.config import Config

from checking import ROLE, check, expect_error, finish

ENDPOINT, KEY_ID, SECRET = sys.argv[1:4]


def sfn(key_id=KEY_ID, secret=SECRET):
    return boto3.client(
        "stepfunctions",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


signed = sfn()
machine = signed.create_state_machine(
    name="guarded",
    definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    roleArn=ROLE,
)["stateMachineArn"]
check(machine.endswith(":guarded"), "boto3 signed with a configured key creates a state machine")
started = signed.start_execution(stateMachineArn=machine, input="{}")
check("executionArn" in started, "and starts an execution")

expect_error("InvalidSignatureException", lambda: sfn(secret="not-the-secret").list_state_machines(), "a wrong secret is refused")
expect_error("UnrecognizedClientException", lambda: sfn(key_id="AKIAUNKNOWN").list_state_machines(), "an unknown key is refused")

# A request signed twenty minutes ago: botocore asks get_current_datetime when it signs.
stale = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)).replace(tzinfo=None)
with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
    error = expect_error("InvalidSignatureException", lambda: sfn().list_state_machines(), "a request signed 20 minutes ago is refused")
check("Signature expired" in error.response["Error"]["Message"], f"and says why: {error.response['Error']['Message']}")


def raw(method, path, body=None, headers=None):
    request = urllib.request.Request(ENDPOINT + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


status, body, _ = raw("POST", "/", b"{}", {"X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Type": "application/x-amz-json-1.0"})
check(json.loads(body)["__type"].endswith("#MissingAuthenticationTokenException"), f"an unsigned call is refused ({status})")
status, body, _ = raw("GET", "/functions")
check(status == 403, "so is an unsigned /functions")
status, body, _ = raw("GET", f"/console/api/executions/{started['executionArn']}/progress")
check(status == 403, "and the console's progress, which would hand out task tokens")
status, body, _ = raw("GET", "/console/")
check(status == 200 and b"stepwasm console" in body, "the console's page itself loads, to sign in")

status, body, _ = raw("POST", "/console/api/session", json.dumps({"accessKeyId": KEY_ID, "secretAccessKey": "wrong"}).encode())
check(status == 400, "the console cannot sign in with a wrong secret")
status, body, headers = raw("POST", "/console/api/session", json.dumps({"accessKeyId": KEY_ID, "secretAccessKey": SECRET}).encode())
cookie = headers.get("Set-Cookie", "")
check(status == 200 and "HttpOnly" in cookie and "SameSite=Strict" in cookie, "it signs in with a key and its secret")
session = cookie.split(";")[0]
status, body, _ = raw("GET", f"/console/api/executions/{started['executionArn']}/progress", headers={"Cookie": session})
check(status == 200, "and its session reads progress")
status, body, _ = raw("POST", "/", b"{}", {"X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Type": "application/x-amz-json-1.0", "Cookie": session})
check(status == 200 and "guarded" in body.decode(), "and calls the API")
status, body, _ = raw("GET", "/functions", headers={"Cookie": session.replace("v1.", "v1.X")})
check(status == 403, "a forged session is refused")

# The AWS CLI, with the credentials given the way the server's banner prints them.
aws = str(Path(sys.executable).parent / "aws")
env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1")
done = subprocess.run([aws, "stepfunctions", "list-state-machines", "--endpoint-url", ENDPOINT, "--region", "us-east-1"], env=env, capture_output=True, text=True, timeout=60)
check(done.returncode == 0 and "guarded" in done.stdout, f"the AWS CLI signed with the key lists state machines {done.stderr.strip()}")
env["AWS_SECRET_ACCESS_KEY"] = "wrong"
done = subprocess.run([aws, "stepfunctions", "list-state-machines", "--endpoint-url", ENDPOINT, "--region", "us-east-1"], env=env, capture_output=True, text=True, timeout=60)
check(done.returncode != 0 and "InvalidSignatureException" in done.stderr, "and is refused with a wrong secret")

finish()
