"""TestState, driven with boto3, on the order pipeline's states: with their real functions and
with mocks, at the INFO, DEBUG and TRACE inspection levels, and its errors.

Usage: test_state.py ENDPOINT FUNCTIONS_DIR

The server must have the sample functions deployed.
It exits non-zero on the first failed check and prints one line per check.
"""

import json
import sys
from pathlib import Path

from checking import check, expect_error, finish, sfn_client

ENDPOINT, FUNCTIONS = sys.argv[1], Path(sys.argv[2])
sfn = sfn_client(ENDPOINT)
pipeline = (FUNCTIONS / "order-pipeline.asl.json").read_text()
approval = (FUNCTIONS / "order-pipeline-approval.asl.json").read_text()
order = (FUNCTIONS / "samples/good-order.json").read_text()
STEPS = ["input", "afterInputPath", "afterParameters", "result", "afterResultSelector", "afterResultPath"]


def test(**request):
    return sfn.test_state(**request)


# A Task with its real function, at each inspection level.
info = test(definition=pipeline, stateName="PlaceOrder", input=order)
placed = json.loads(info["output"])
check(
    (info["status"], info["nextState"], placed["orderId"]) == ("SUCCEEDED", "AuthorizeAndScreen", "ord-1000"),
    "INFO: PlaceOrder runs place-order and goes to AuthorizeAndScreen",
)
check("inspectionData" not in info, "INFO shows no inspection data")
for level in ["DEBUG", "TRACE"]:
    debug = test(definition=pipeline, stateName="PlaceOrder", input=order, inspectionLevel=level)
    data = debug["inspectionData"]
    check(all(isinstance(data.get(step), str) for step in STEPS), f"{level}: every step of the data flow, as JSON text ({sorted(data)})")
    parameters = json.loads(data["afterParameters"])
    check(set(parameters) == {"order", "receivedAt"} and parameters["order"]["orderId"] == "ord-1000", f"{level}: afterParameters")
    check(json.loads(data["result"]) == json.loads(debug["output"]), f"{level}: the result becomes the output (ResultPath $)")

# A state inside a Parallel branch, its task mocked to fail: nothing catches it there.
declined = test(
    definition=pipeline,
    stateName="ValidatePayment",
    input=json.dumps(placed),
    mock={"errorOutput": {"error": "PaymentDeclined", "cause": "insufficient funds"}},
)
check(
    (declined["status"], declined.get("error"), declined.get("cause")) == ("FAILED", "PaymentDeclined", "insufficient funds"),
    f"a mocked error fails a state without a Catch ({declined['status']})",
)

# A caught error: ShipOrder's Catch sends it to RefundPayment.
caught = test(
    definition=pipeline,
    stateName="ShipOrder",
    input=json.dumps(placed),
    mock={"errorOutput": {"error": "CarrierRefused", "cause": "no pickup today"}},
)
check(
    (caught["status"], caught["nextState"], caught.get("error")) == ("CAUGHT_ERROR", "RefundPayment", "CarrierRefused"),
    f"a caught error: CAUGHT_ERROR, to the Catch's Next ({caught['status']}, {caught.get('nextState')})",
)
check(json.loads(caught["output"])["error"] == {"Error": "CarrierRefused", "Cause": "no pickup today"}, "the output has the error at the Catch's ResultPath")

# A retriable error: GenerateShippingLabel retries CarrierUnavailable after 1 s.
retriable = test(
    definition=pipeline,
    stateName="GenerateShippingLabel",
    input=json.dumps(placed),
    inspectionLevel="DEBUG",
    mock={"errorOutput": {"error": "CarrierUnavailable", "cause": "busy"}},
)
check(
    (retriable["status"], retriable.get("error")) == ("RETRIABLE", "CarrierUnavailable")
    and retriable["inspectionData"]["errorDetails"]["retryBackoffIntervalSeconds"] == 1,
    f"a retriable error: RETRIABLE, with the back-off ({retriable['status']}, {retriable.get('inspectionData', {}).get('errorDetails')})",
)

# stateConfiguration: retries already used, and a Map's failed iterations.
spent = test(
    definition=pipeline,
    stateName="GenerateShippingLabel",
    input=json.dumps(placed),
    inspectionLevel="DEBUG",
    mock={"errorOutput": {"error": "CarrierUnavailable", "cause": "busy"}},
    stateConfiguration={"retrierRetryCount": 2},
)
check(
    spent["status"] == "RETRIABLE" and spent["inspectionData"]["errorDetails"]["retryBackoffIntervalSeconds"] == 4,
    f"retrierRetryCount 2: the third retry waits 1 s x 2^2 ({spent.get('inspectionData', {}).get('errorDetails')})",
)
exhausted = test(
    definition=pipeline,
    stateName="GenerateShippingLabel",
    input=json.dumps(placed),
    mock={"errorOutput": {"error": "CarrierUnavailable", "cause": "busy"}},
    stateConfiguration={"retrierRetryCount": 3},
)
check(exhausted["status"] == "FAILED", f"retrierRetryCount 3 of MaxAttempts 3: no retry is left ({exhausted['status']})")
mapped = json.dumps(
    {
        "Type": "Map",
        "ToleratedFailureCount": 1,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "TooMany"}],
        "Next": "Fine",
    }
)
tolerated = test(definition=mapped, input="[1, 2, 3]", mock={"result": "[1, 2]"}, stateConfiguration={"mapIterationFailureCount": 1})
check((tolerated["status"], tolerated["nextState"]) == ("SUCCEEDED", "Fine"), "one failed iteration is tolerated")
too_many = test(definition=mapped, input="[1, 2, 3]", mock={"result": "[1]"}, stateConfiguration={"mapIterationFailureCount": 2})
check(
    (too_many["status"], too_many["nextState"], too_many.get("error")) == ("CAUGHT_ERROR", "TooMany", "States.ExceedToleratedFailureThreshold"),
    f"two are not ({too_many['status']}, {too_many.get('error')})",
)
expect_error(
    "ValidationException",
    lambda: test(definition=mapped, input="[]", mock={"result": "[]"}, stateConfiguration={"mapItemReaderData": "a,b"}),
    "mapItemReaderData for a Map without an ItemReader",
)

# A mocked Map still reads and selects its items, and DEBUG shows each step.
lines = {"lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}
selecting = json.dumps(
    {
        "Type": "Map",
        "ItemsPath": "$.lines",
        "ItemSelector": {"sku.$": "$$.Map.Item.Value.sku", "at.$": "$$.Map.Item.Index"},
        "MaxConcurrency": 2,
        "ToleratedFailureCount": 1,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }
)
selected = test(definition=selecting, input=json.dumps(lines), mock={"result": "[1, 2]"}, inspectionLevel="DEBUG")
data = selected["inspectionData"]
check(
    json.loads(data["afterItemsPath"]) == lines["lines"]
    and json.loads(data["afterItemSelector"]) == [{"sku": "a", "at": 0}, {"sku": "b", "at": 1}]
    and (data["maxConcurrency"], data["toleratedFailureCount"]) == (2, 1)
    and "afterParameters" not in data,
    f"a Map's items, after ItemsPath and ItemSelector, and its limits ({data})",
)
broken = test(definition=selecting.replace("$.lines", "$.nothing"), input=json.dumps(lines), mock={"result": "[]"})
check((broken["status"], broken.get("error")) == ("FAILED", "States.Runtime"), "a Map whose ItemsPath finds nothing fails, mock or not")
reading = json.dumps(
    {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {"Bucket": "b", "Key": "k.csv"},
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        },
        "ItemBatcher": {"MaxItemsPerBatch": 2},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}},
        },
        "End": True,
    }
)
batched = test(
    definition=reading,
    input="{}",
    mock={"result": "[]"},
    inspectionLevel="DEBUG",
    stateConfiguration={"mapItemReaderData": "sku,qty\na,1\nb,2\nc,3\n"},
)
check(
    json.loads(batched["inspectionData"]["afterItemBatcher"])
    == [{"Items": [{"sku": "a", "qty": "1"}, {"sku": "b", "qty": "2"}]}, {"Items": [{"sku": "c", "qty": "3"}]}],
    f"mapItemReaderData is read as the ItemReader says, then batched ({batched['inspectionData'].get('afterItemBatcher')})",
)

# A Choice state, given alone.
choice = json.dumps(json.loads(approval)["States"]["NeedsApproval"])
small = test(definition=choice, input=json.dumps({"totalCents": 500}))
large = test(definition=choice, input=json.dumps({"totalCents": 500000}))
check(
    (small["nextState"], large["nextState"]) == ("AuthorizeAndScreen", "RequestApproval"),
    "a Choice given alone goes where its rules say",
)

# lambda:invoke with mocks, checked as fieldValidationMode says.
invoke = json.dumps(
    {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "place-order", "Payload.$": "$"},
        "ResultSelector": {"body.$": "$.Payload"},
        "End": True,
    }
)
mocked = test(definition=invoke, input="{}", mock={"result": json.dumps({"StatusCode": 200, "Payload": {"ok": True}})}, inspectionLevel="DEBUG")
check(
    mocked["status"] == "SUCCEEDED" and "nextState" not in mocked and json.loads(mocked["output"]) == {"body": {"ok": True}},
    "a mocked lambda:invoke result passes through ResultSelector",
)
check(json.loads(mocked["inspectionData"]["afterResultSelector"]) == {"body": {"ok": True}}, "DEBUG shows afterResultSelector")
expect_error(
    "ValidationException",
    lambda: test(definition=invoke, input="{}", mock={"result": json.dumps({"StatusCode": 200, "Payload": {}, "Extra": 1})}),
    "STRICT refuses a field Lambda's response does not have",
)
expect_error(
    "ValidationException",
    lambda: test(definition=invoke, input="{}", mock={"result": json.dumps({"Payload": {}})}),
    "STRICT wants StatusCode",
)
partial = test(definition=invoke, input="{}", mock={"result": json.dumps({"Payload": {"x": 1}}), "fieldValidationMode": "PRESENT"})
check(partial["status"] == "SUCCEEDED", "PRESENT checks only the fields given")
anything = test(definition=invoke, input="{}", mock={"result": json.dumps({"Weird": 1}), "fieldValidationMode": "NONE"})
check(anything["status"] == "SUCCEEDED", "NONE checks nothing")

# JSONata, with variables.
jsonata = json.dumps(
    {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Assign": {"seen": "{% $seen + 1 %}"},
        "Output": "{% {'greeting': 'hello ' & $states.input.name, 'seen': $seen} %}",
        "Next": "Done",
    }
)
greeted = test(definition=jsonata, input=json.dumps({"name": "Ada"}), variables=json.dumps({"seen": 41}), inspectionLevel="DEBUG")
check(
    json.loads(greeted["output"]) == {"greeting": "hello Ada", "seen": 41} and greeted["nextState"] == "Done",
    "a JSONata state reads the variables given",
)
check(json.loads(greeted["inspectionData"]["variables"]) == {"seen": 42}, "DEBUG shows the variables it assigned")

# The context object.
context = test(
    definition=json.dumps({"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"}, "End": True}),
    context=json.dumps({"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:m:e"}}),
)
check(json.loads(context["output"]) == {"id": "arn:aws:states:us-east-1:123456789012:execution:m:e"}, "the context given is $$")

# A Parallel state, tested with a mock of its branches' results.
screened = test(
    definition=pipeline,
    stateName="AuthorizeAndScreen",
    input=json.dumps(placed),
    inspectionLevel="DEBUG",
    mock={"result": json.dumps([{"authorizationId": "auth_1", "amountCents": 7194}, {"score": 3, "triggeredRules": []}])},
)
check(
    (screened["status"], screened["nextState"]) == ("SUCCEEDED", "CheckInventory")
    and json.loads(screened["output"])["checks"] == {"authorization": {"authorizationId": "auth_1", "amountCents": 7194}, "fraud": {"score": 3, "triggeredRules": []}},
    "a Parallel state's mocked result goes through its ResultSelector and ResultPath",
)
check(json.loads(screened["inspectionData"]["result"])[1]["score"] == 3, "DEBUG shows the mocked result")
expect_error(
    "ValidationException",
    lambda: test(definition=pipeline, stateName="AuthorizeAndScreen", input=json.dumps(placed)),
    "a Parallel state without a mock",
)

# Errors, as AWS shapes them.
expect_error("InvalidDefinition", lambda: test(definition='{"Type": "Pass", "Nxt": "A"}'), "an invalid state")
expect_error("InvalidDefinition", lambda: test(definition="{"), "a definition that is not JSON")
expect_error("ValidationException", lambda: test(definition=pipeline, stateName="Nowhere"), "a state name the definition lacks")
expect_error(
    "ValidationException",
    lambda: test(definition=json.dumps({"Type": "Pass", "End": True}), inspectionLevel="LOUD"),
    "an unknown inspection level",
)
expect_error(
    "ValidationException",
    lambda: test(definition=approval, stateName="RequestApproval", input=order),
    "a callback task without a mock",
)
callback = test(
    definition=approval,
    stateName="RequestApproval",
    input=order,
    mock={"result": json.dumps({"approved": True})},
)
check(
    callback["status"] == "SUCCEEDED" and json.loads(callback["output"])["approval"] == {"approved": True},
    "a callback task answered by its mock",
)

finish()
