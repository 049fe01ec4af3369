// Definitions to start from. The order pipeline is read from the server when it is deployed
// (the sample as the demo runs it), else this copy of functions/order-pipeline.asl.json is used.

import { sfn } from '../api.js';

const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';

const ORDER_PIPELINE = {
  "Comment": "Sample e-commerce order pipeline (a copy of functions/order-pipeline.asl.json without its comments).",
  "StartAt": "PlaceOrder",
  "States": {
    "PlaceOrder": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:place-order",
      "Parameters": {
        "order.$": "$",
        "receivedAt.$": "$$.Execution.StartTime"
      },
      "Next": "AuthorizeAndScreen"
    },
    "AuthorizeAndScreen": {
      "Type": "Parallel",
      "Branches": [
        {
          "StartAt": "ValidatePayment",
          "States": {
            "ValidatePayment": {
              "Type": "Task",
              "Resource": "arn:aws:lambda:us-east-1:123456789012:function:validate-payment",
              "End": true
            }
          }
        },
        {
          "StartAt": "FraudCheck",
          "States": {
            "FraudCheck": {
              "Type": "Task",
              "Resource": "arn:aws:lambda:us-east-1:123456789012:function:fraud-check",
              "End": true
            }
          }
        }
      ],
      "ResultSelector": {
        "authorization.$": "$[0]",
        "fraud.$": "$[1]"
      },
      "ResultPath": "$.checks",
      "Catch": [
        {
          "ErrorEquals": [
            "PaymentDeclined",
            "FraudSuspected",
            "InvalidOrder"
          ],
          "ResultPath": "$.error",
          "Next": "CancelOrder"
        }
      ],
      "Next": "CheckInventory"
    },
    "CheckInventory": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:check-inventory",
      "ResultPath": "$.inventory",
      "Catch": [
        {
          "ErrorEquals": [
            "OutOfStock"
          ],
          "ResultPath": "$.error",
          "Next": "RefundPayment"
        }
      ],
      "Next": "Fulfil"
    },
    "Fulfil": {
      "Type": "Parallel",
      "Branches": [
        {
          "StartAt": "GenerateShippingLabel",
          "States": {
            "GenerateShippingLabel": {
              "Type": "Task",
              "Resource": "arn:aws:lambda:us-east-1:123456789012:function:generate-shipping-label",
              "Retry": [
                {
                  "ErrorEquals": [
                    "CarrierUnavailable"
                  ],
                  "IntervalSeconds": 1,
                  "BackoffRate": 2,
                  "MaxAttempts": 3
                }
              ],
              "End": true
            }
          }
        },
        {
          "StartAt": "Notify",
          "States": {
            "Notify": {
              "Type": "Parallel",
              "Branches": [
                {
                  "StartAt": "SendEmail",
                  "States": {
                    "SendEmail": {
                      "Type": "Task",
                      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:send-email",
                      "End": true
                    }
                  }
                },
                {
                  "StartAt": "SendSms",
                  "States": {
                    "SendSms": {
                      "Type": "Task",
                      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:send-sms",
                      "End": true
                    }
                  }
                }
              ],
              "ResultSelector": {
                "email.$": "$[0]",
                "sms.$": "$[1]"
              },
              "End": true
            }
          }
        }
      ],
      "ResultSelector": {
        "shippingLabel.$": "$[0]",
        "notifications.$": "$[1]"
      },
      "ResultPath": "$.fulfilment",
      "Catch": [
        {
          "ErrorEquals": [
            "States.ALL"
          ],
          "ResultPath": "$.error",
          "Next": "RefundPayment"
        }
      ],
      "Next": "ShipOrder"
    },
    "ShipOrder": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ship-order",
      "ResultPath": "$.shipment",
      "Catch": [
        {
          "ErrorEquals": [
            "States.ALL"
          ],
          "ResultPath": "$.error",
          "Next": "RefundPayment"
        }
      ],
      "Next": "CompleteOrder"
    },
    "CompleteOrder": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:complete-order",
      "End": true
    },
    "RefundPayment": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:refund-payment",
      "ResultPath": "$.refund",
      "Retry": [
        {
          "ErrorEquals": [
            "States.ALL"
          ],
          "IntervalSeconds": 1,
          "MaxAttempts": 2,
          "BackoffRate": 2
        }
      ],
      "Next": "CancelOrder"
    },
    "CancelOrder": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:cancel-order",
      "ResultPath": "$.cancellation",
      "Retry": [
        {
          "ErrorEquals": [
            "States.ALL"
          ],
          "IntervalSeconds": 1,
          "MaxAttempts": 2,
          "BackoffRate": 2
        }
      ],
      "Next": "OrderCancelled"
    },
    "OrderCancelled": {
      "Type": "Fail",
      "ErrorPath": "$.error.Error",
      "CausePath": "$.error.Cause"
    }
  }
};

const FAN_OUT = {
  Comment: 'Fan-out: checks every line of an order in parallel with a Map, then sums the results.',
  StartAt: 'CheckLines',
  States: {
    CheckLines: {
      Type: 'Map',
      ItemsPath: '$.lines',
      MaxConcurrency: 10,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'CheckLine',
        States: {
          CheckLine: { Type: 'Pass', Parameters: { 'sku.$': '$.sku', 'ok': true }, End: true },
        },
      },
      ResultPath: '$.checked',
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

const HUMAN_APPROVAL = {
  Comment: 'Human approval: the task waits for SendTaskSuccess or SendTaskFailure with its token.',
  StartAt: 'RequestApproval',
  States: {
    RequestApproval: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: `${LAMBDA}request-approval`,
        Payload: { 'order.$': '$', 'taskToken.$': '$$.Task.Token' },
      },
      TimeoutSeconds: 86400,
      ResultPath: '$.approval',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Rejected' }],
      Next: 'IsApproved',
    },
    IsApproved: {
      Type: 'Choice',
      Choices: [{ Variable: '$.approval.approved', BooleanEquals: true, Next: 'Approved' }],
      Default: 'Rejected',
    },
    Approved: { Type: 'Succeed' },
    Rejected: { Type: 'Fail', Error: 'ApprovalRejected', Cause: 'The request was not approved.' },
  },
};

const SAGA = {
  Comment: 'Saga: each step has a compensation; a failure undoes the steps already done, then fails.',
  StartAt: 'ReserveStock',
  States: {
    ReserveStock: {
      Type: 'Task', Resource: `${LAMBDA}check-inventory`, ResultPath: '$.inventory',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'OrderFailed' }],
      Next: 'ChargeCard',
    },
    ChargeCard: {
      Type: 'Task', Resource: `${LAMBDA}validate-payment`, ResultPath: '$.payment',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ReleaseStock' }],
      Next: 'Ship',
    },
    Ship: {
      Type: 'Task', Resource: `${LAMBDA}ship-order`, ResultPath: '$.shipment',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RefundCard' }],
      End: true,
    },
    RefundCard: {
      Type: 'Task', Resource: `${LAMBDA}refund-payment`, ResultPath: '$.refund',
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
      Next: 'ReleaseStock',
    },
    ReleaseStock: {
      Type: 'Task', Resource: `${LAMBDA}cancel-order`, ResultPath: '$.cancellation',
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
      Next: 'OrderFailed',
    },
    OrderFailed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
  },
};

const EMPTY = { Comment: 'A new state machine', StartAt: '', States: {} };

export const TEMPLATES = [
  { id: 'blank', label: 'Blank', description: 'An empty canvas.', definition: () => EMPTY },
  { id: 'order-pipeline', label: 'Order pipeline', description: 'Parallel checks, fulfilment, compensations.', definition: orderPipeline },
  { id: 'fan-out', label: 'Fan-out with Map', description: 'One iteration per item.', definition: () => FAN_OUT },
  { id: 'human-approval', label: 'Human approval', description: 'waitForTaskToken, then a Choice.', definition: () => HUMAN_APPROVAL },
  { id: 'saga', label: 'Saga with compensation', description: 'Catch, compensating tasks, Fail.', definition: () => SAGA },
];

/** The deployed order-pipeline's definition, parsed; the embedded copy when it is not deployed. */
async function orderPipeline() {
  try {
    const { stateMachines = [] } = await sfn('ListStateMachines', { maxResults: 1000 });
    const machine = stateMachines.find((m) => m.name === 'order-pipeline');
    if (machine) return JSON.parse((await sfn('DescribeStateMachine', { stateMachineArn: machine.stateMachineArn })).definition);
  } catch {
    // Not deployed here (or not readable): the copy below is the same workflow.
  }
  return ORDER_PIPELINE;
}

/** The text of a template's definition, 2-space indented. */
export async function templateText(id) {
  const template = TEMPLATES.find((t) => t.id === id);
  return JSON.stringify(await template.definition(), null, 2);
}
