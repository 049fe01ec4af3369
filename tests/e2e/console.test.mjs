// The web console in a real browser, against a real `stepwasm demo` server.
//
// Run through `cargo test` (orchestrator/cli/tests/all/console_browser.rs sets STEPWASM_BIN), or by
// hand: `npm ci && STEPWASM_BIN=../../target/release/stepwasm npm test`.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";

import { artifacts, aws, openSignedIn, signIn, startBrowser, startServer, watchForPageErrors } from "./harness.mjs";

const ACCOUNT = "arn:aws:states:us-east-1:123456789012";
const APPROVAL_MACHINE = `${ACCOUNT}:stateMachine:order-pipeline-approval`;
const PLAIN_MACHINE = `${ACCOUNT}:stateMachine:order-pipeline`;

const LARGE_ORDER = {
  orderId: "ord-e2e-1",
  submittedAt: "2025-11-24T14:20:00+01:00",
  currency: "EUR",
  customer: { id: "cus-grace", name: "Grace Hopper", email: "grace@example.com", phone: "+1 212 555 0100" },
  items: [
    { sku: "LAPTOP-PRO-14", quantity: 1, unitPriceCents: 149900 },
    { sku: "HEADPHONES-NC", quantity: 1, unitPriceCents: 27900 },
  ],
  payment: {
    cardNumber: "4242 4242 4242 4242",
    expiry: "12/29",
    cvv: "123",
    cardholder: "Grace Hopper",
    billingCountry: "US",
  },
  shippingAddress: { line1: "1 Navy Way", city: "Arlington", postalCode: "22202", country: "US" },
};

// Each state's place in the pipeline: a state may only turn green after the ones before it.
const PIPELINE_ORDER = [
  ["PlaceOrder"],
  ["NeedsApproval"],
  ["RequestApproval"],
  ["ApprovalGranted"],
  ["AuthorizeAndScreen/0/ValidatePayment", "AuthorizeAndScreen/1/FraudCheck"],
  ["AuthorizeAndScreen"],
  ["CheckInventory"],
  ["Fulfil/0/GenerateShippingLabel", "Fulfil/1/Notify/0/SendEmail", "Fulfil/1/Notify/1/SendSms"],
  ["Fulfil"],
  ["ShipOrder"],
  ["CompleteOrder"],
];

// A Map whose second line fails (tolerated): its iterations differ, so one can be picked out.
const MAP_DEFINITION = {
  StartAt: "CheckLines",
  States: {
    CheckLines: {
      Type: "Map", ItemsPath: "$.lines", MaxConcurrency: 2, ToleratedFailureCount: 1,
      ItemProcessor: {
        StartAt: "IsPriceValid",
        States: {
          IsPriceValid: {
            Type: "Choice", Choices: [{ Variable: "$.price", NumericLessThan: 0, Next: "RejectLine" }], Default: "AcceptLine",
          },
          RejectLine: { Type: "Fail", Error: "NegativePrice", Cause: "a line has a negative price" },
          AcceptLine: { Type: "Pass", End: true },
        },
      },
      Next: "Done",
    },
    Done: { Type: "Succeed" },
  },
};

// The visible graph: the state machine page also keeps the editor's preview graph in its
// Definition tab.
const node = (page, state) => page.locator(`svg[data-testid="graph"]:visible [data-state="${state}"]`);
const machinePage = (arn) => `/console/#/state-machines/${encodeURIComponent(arn)}`;

describe("the web console", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
  });

  after(async () => {
    await browser?.stop();
    await server?.stop();
  });

  const openPage = (path, viewport = { width: 1440, height: 900 }) => openSignedIn(browser, server, path, viewport);

  test("refuses a wrong secret, and signs in with the link the server printed", async () => {
    const page = await browser.browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchForPageErrors(page);
    await page.goto(`${server.endpoint}/console/`);
    await page.getByLabel("Access key ID").fill(server.accessKeyId);
    await page.getByLabel("Secret access key").fill("not-the-secret");
    await page.getByTestId("sign-in-submit").click();
    await page.getByTestId("error").waitFor();
    assert.equal(await page.getByRole("link", { name: "order-pipeline", exact: true }).count(), 0);

    const link = server.output.join("").match(/(http:\/\/\S+\/console\/#\/sign-in\?token=\S+)\)/);
    assert.ok(link, "the demo prints a sign-in link");
    await page.goto(link[1]);
    await page.getByRole("link", { name: "order-pipeline", exact: true }).waitFor();
    assert.doesNotMatch(page.url(), /token=/, "the token leaves the address bar");
    assert.deepEqual(errors.filter((error) => !error.includes("400")), []);
    await page.close();
  });

  test("lists the state machines", async () => {
    const { page, errors } = await openPage("/console/");
    for (const name of ["order-pipeline", "order-pipeline-approval"]) {
      await page.getByRole("link", { name, exact: true }).waitFor();
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("starts a large order, lights it up live, and completes it after approval in the browser", async () => {
    const { page, errors } = await openPage(machinePage(APPROVAL_MACHINE));
    // The definition is drawn: compound boxes for the Parallels, labelled Choice edges.
    await node(page, "AuthorizeAndScreen/1/FraudCheck").waitFor();
    assert.equal(await node(page, "Fulfil/1/Notify").getAttribute("data-type"), "Parallel");
    await page.locator('svg[data-testid="graph"]:visible').getByText("$.totalCents > 100000").first().waitFor();

    const input = page.getByLabel("Execution input (JSON)");
    await input.fill("{ not json");
    await page.getByTestId("start-input-error").waitFor();
    assert.equal(await page.getByTestId("start-execution").isDisabled(), true, "invalid input cannot be started");
    await input.fill(JSON.stringify(LARGE_ORDER, null, 2));
    await page.getByLabel("Execution name").fill("e2e-approved");
    // From here on, record every status change the page makes, in order. Routes are hash
    // changes in one document, so the recorder survives the move to the execution page.
    await page.evaluate(() => {
      window.__statusChanges = [];
      new MutationObserver((mutations) => {
        // One time per update, so states patched together count as simultaneous.
        const at = performance.now();
        for (const mutation of mutations) {
          const status = mutation.target.getAttribute("data-status");
          const state = mutation.target.getAttribute("data-state");
          if (state) window.__statusChanges.push({ state, status, at });
        }
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["data-status"] });
    });
    await page.getByTestId("start-execution").click();

    // The execution page: the first states turn green, then the run waits for a person.
    await page.waitForURL(/#\/executions\//);
    await node(page, "PlaceOrder").and(page.locator('[data-status="succeeded"]')).waitFor();
    await node(page, "RequestApproval").and(page.locator('[data-status="in-progress"]')).waitFor();
    assert.equal(await node(page, "ShipOrder").getAttribute("data-status"), "not-started");
    assert.equal(await page.getByTestId("execution-status").textContent().then((t) => t.trim()), "RUNNING");

    const approval = page.locator('[data-testid="approval"][data-state="RequestApproval"]');
    await approval.waitFor();
    await page.screenshot({ path: join(artifacts, "console-awaiting-approval.png"), fullPage: false });
    await approval.getByTestId("approve").click();

    await page.locator('[data-testid="execution-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 30_000 });
    for (const step of PIPELINE_ORDER.flat()) {
      assert.equal(await node(page, step).getAttribute("data-status"), "succeeded", step);
    }
    assert.equal(await node(page, "CancelOrder").getAttribute("data-status"), "not-started");

    // Green one by one: each state turned green no earlier than the states before it, over
    // several separate updates (the shipping label's carrier fails once and is retried after 1 s).
    const changes = await page.evaluate(() => window.__statusChanges);
    const greenAt = new Map();
    for (const change of changes) {
      if (change.status === "succeeded" && !greenAt.has(change.state)) greenAt.set(change.state, change.at);
    }
    const stages = PIPELINE_ORDER;
    for (let index = 1; index < stages.length; index++) {
      for (const earlier of stages[index - 1]) {
        for (const later of stages[index]) {
          assert.ok(greenAt.has(earlier) && greenAt.has(later), `${earlier} and ${later} turned green live`);
          assert.ok(greenAt.get(earlier) <= greenAt.get(later), `${earlier} turned green before ${later}`);
        }
      }
    }
    const distinctMoments = new Set([...greenAt.values()].map((at) => Math.round(at / 50)));
    assert.ok(distinctMoments.size >= 3, `states turned green in ${distinctMoments.size} separate updates`);
    assert.ok(greenAt.get("ShipOrder") - greenAt.get("CheckInventory") >= 500, "the retried label delays the rest");

    // The output, on the page and through the API.
    const executionArn = decodeURIComponent(page.url().split("#/executions/")[1]);
    const described = await aws(server.endpoint, "DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    const output = JSON.parse(described.output);
    assert.equal(output.status, "COMPLETED");
    assert.equal(output.orderId, "ord-e2e-1");
    const shownOutput = JSON.parse(await page.getByTestId("execution-output").textContent());
    assert.deepEqual(shownOutput, output);
    const history = await aws(server.endpoint, "GetExecutionHistory", { executionArn, maxResults: 1000 });
    const approvalEvent = history.events.find((event) => event.type === "TaskSucceeded");
    assert.ok(approvalEvent, "the approval reached the history as TaskSucceeded");
    assert.equal(JSON.parse(approvalEvent.taskSucceededEventDetails.output).approved, true);

    // The state details panel and the event history.
    await node(page, "Fulfil/0/GenerateShippingLabel").click();
    const details = page.locator('[data-testid="state-details"][data-state="Fulfil/0/GenerateShippingLabel"]');
    await details.waitFor();
    await details.getByTestId("state-retries").getByText("CarrierUnavailable").first().waitFor();
    // Payloads arrive with a progress fetch of their own once a state is selected.
    await details.getByTestId("state-output").filter({ hasText: /trackingNumber/ }).waitFor();
    await page.getByRole("tab", { name: "Event view" }).click();
    const rows = page.locator('table[data-testid="events"] tbody tr[data-event-id]');
    await rows.last().waitFor();
    assert.equal(await rows.count(), history.events.length);
    assert.equal(await rows.last().getAttribute("data-type"), "ExecutionSucceeded");

    await page.getByRole("tab", { name: "Graph view" }).click();
    await node(page, "CompleteOrder").waitFor();
    // The whole page, as the README shows it.
    await page.screenshot({ path: join(artifacts, "console-execution-succeeded.png"), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("rejecting in the browser cancels the order", async () => {
    const { executionArn } = await aws(server.endpoint, "StartExecution", {
      stateMachineArn: APPROVAL_MACHINE,
      name: "e2e-rejected",
      input: JSON.stringify({ ...LARGE_ORDER, orderId: "ord-e2e-2" }),
    });
    const { page, errors } = await openPage(`/console/#/executions/${encodeURIComponent(executionArn)}`);
    const approval = page.locator('[data-testid="approval"][data-state="RequestApproval"]');
    await approval.getByTestId("reject").click();
    await page.locator('[data-testid="execution-status"][data-status="FAILED"]').waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId("execution-error").textContent(), /ApprovalRejected/);
    await node(page, "RequestApproval").and(page.locator('[data-status="caught-error"]')).waitFor();
    await node(page, "CancelOrder").and(page.locator('[data-status="succeeded"]')).waitFor();
    assert.equal(await node(page, "OrderCancelled").getAttribute("data-status"), "failed");

    // Keyboard: a focused state opens its details with Enter, and says what it is.
    const cancelOrder = node(page, "CancelOrder");
    assert.equal(await cancelOrder.getAttribute("aria-label"), "CancelOrder, Task, succeeded");
    await cancelOrder.focus();
    await page.keyboard.press("Enter");
    const details = page.locator('[data-testid="state-details"][data-state="CancelOrder"]');
    await details.waitFor();
    await details.getByTestId("state-output").filter({ hasText: /cancellation/ }).waitFor();
    const described = await aws(server.endpoint, "DescribeExecution", { executionArn });
    assert.equal(described.status, "FAILED");
    assert.equal(described.error, "ApprovalRejected");
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("stops a waiting execution, redrives it, and re-runs it with the same input", async () => {
    const input = JSON.stringify({ ...LARGE_ORDER, orderId: "ord-e2e-3" });
    const { executionArn } = await aws(server.endpoint, "StartExecution", {
      stateMachineArn: APPROVAL_MACHINE,
      name: "e2e-stopped",
      input,
    });
    const { page, errors } = await openPage(`/console/#/executions/${encodeURIComponent(executionArn)}`);
    await node(page, "RequestApproval").and(page.locator('[data-status="in-progress"]')).waitFor();
    await page.getByTestId("stop-execution").click();
    await page.getByTestId("confirm-stop").click();
    await page.locator('[data-testid="execution-status"][data-status="ABORTED"]').waitFor();
    await node(page, "RequestApproval").and(page.locator('[data-status="cancelled"]')).waitFor();
    assert.equal(await page.getByTestId("stop-execution").isVisible(), false, "a stopped execution cannot be stopped again");
    assert.equal((await aws(server.endpoint, "DescribeExecution", { executionArn })).status, "ABORTED");

    // Redrive resumes the stopped execution where it was, live, under the same ARN.
    await page.getByTestId("redrive-execution").click();
    await page.locator('[data-testid="execution-status"][data-status="RUNNING"]').waitFor();
    await node(page, "RequestApproval").and(page.locator('[data-status="in-progress"]')).waitFor();
    assert.equal(await page.getByTestId("redrive-execution").isVisible(), false, "a running execution cannot be redriven");
    const redriven = await aws(server.endpoint, "DescribeExecution", { executionArn });
    assert.equal(redriven.status, "RUNNING");
    assert.equal(redriven.redriveCount, 1);
    await aws(server.endpoint, "StopExecution", { executionArn });
    await page.locator('[data-testid="execution-status"][data-status="ABORTED"]').waitFor();

    await page.getByTestId("rerun-execution").click();
    await page.waitForURL((url) => !decodeURIComponent(url.hash).endsWith(":e2e-stopped"));
    const rerunArn = decodeURIComponent(page.url().split("#/executions/")[1]);
    assert.notEqual(rerunArn, executionArn);
    const rerun = await aws(server.endpoint, "DescribeExecution", { executionArn: rerunArn });
    assert.equal(rerun.status, "RUNNING");
    assert.deepEqual(JSON.parse(rerun.input), JSON.parse(input));
    await node(page, "RequestApproval").and(page.locator('[data-status="in-progress"]')).waitFor();
    await aws(server.endpoint, "StopExecution", { executionArn: rerunArn });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("an invalid definition typed into the editor shows the diagnostic at the right state", async () => {
    const { page, errors } = await openPage(machinePage(PLAIN_MACHINE), { width: 1280, height: 720 });
    await page.getByRole("tab", { name: "Definition" }).click();
    const editor = page.getByTestId("definition-editor");
    await editor.waitFor();
    await page.getByTestId("validation-status").getByText(/valid/i).waitFor();
    const definition = await editor.inputValue();
    const broken = definition.replace(/("ShipOrder"[\s\S]*?"Next":\s*)"CompleteOrder"/, '$1"Nowhere"');
    assert.notEqual(broken, definition, "the edit applies");
    await editor.fill(broken);

    // The broken transition, at ShipOrder; and CompleteOrder, which nothing reaches any more.
    const diagnostic = page.locator('[data-testid="diagnostics"] li[data-location="/States/ShipOrder/Next"]');
    await diagnostic.waitFor();
    assert.equal(await diagnostic.getAttribute("data-state"), "ShipOrder");
    assert.equal(await diagnostic.getAttribute("data-code"), "MISSING_TRANSITION_TARGET");
    assert.match(await diagnostic.textContent(), /Nowhere/);
    const unreachable = page.locator('[data-testid="diagnostics"] li[data-state="CompleteOrder"]');
    assert.match(await unreachable.textContent(), /not reachable/);
    assert.equal(await page.locator('[data-testid="diagnostics"] li').count(), 2);
    await page.locator('svg[data-testid="graph"]:visible [data-state="ShipOrder"][data-invalid="true"]').waitFor();
    const marked = await page
      .locator('svg[data-testid="graph"]:visible [data-invalid="true"]')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-state")).sort());
    assert.deepEqual(marked, ["CompleteOrder", "ShipOrder"], "the graph marks exactly the states at fault");

    // Mending it clears the diagnostic.
    await editor.fill(definition);
    await page.getByTestId("validation-status").getByText(/valid/i).waitFor();
    await diagnostic.waitFor({ state: "detached" });
    await page.screenshot({ path: join(artifacts, "console-editor.png") });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("shows one Map iteration at a time", async () => {
    const { stateMachineArn } = await aws(server.endpoint, "CreateStateMachine", {
      name: "e2e-map-lines",
      definition: JSON.stringify(MAP_DEFINITION),
      roleArn: "arn:aws:iam::123456789012:role/stepwasm",
    });
    const { executionArn } = await aws(server.endpoint, "StartExecution", {
      stateMachineArn,
      name: "e2e-map",
      input: JSON.stringify({ lines: [{ price: 3 }, { price: -1 }, { price: 5 }] }),
    });
    const { page, errors } = await openPage(`/console/#/executions/${encodeURIComponent(executionArn)}`);
    await page.locator('[data-testid="execution-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 30_000 });
    const status = (state) => node(page, state).getAttribute("data-status");
    const showing = (iteration) => node(page, "CheckLines").and(page.locator(`[data-iteration="${iteration}"]`)).waitFor();

    // All iterations together: one line was rejected, the others accepted.
    await node(page, "CheckLines/RejectLine").and(page.locator('[data-status="failed"]')).waitFor();
    await node(page, "CheckLines/AcceptLine").and(page.locator('[data-status="succeeded"]')).waitFor();
    const badge = page.getByTestId("map-iterations");
    const aggregate = await badge.textContent();
    assert.match(aggregate, /2\/3/);

    // The selector offers the failed iteration first, marked, then the others.
    const selector = page.locator('select[data-testid="map-iteration"][data-map="CheckLines"]');
    assert.equal(await selector.getAttribute("aria-label"), "Iteration of CheckLines");
    const options = await selector.locator("option").evaluateAll((all) => all.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options.map(([value]) => value), ["", "1", "0", "2"]);
    assert.equal(options[0][1], "All iterations");
    assert.match(options[1][1], /#1 .*failed/);

    // Iteration 1 is the rejected line; the step details say which iteration they show.
    await selector.selectOption("1");
    await showing(1);
    assert.equal(await status("CheckLines/RejectLine"), "failed");
    assert.equal(await status("CheckLines/AcceptLine"), "not-started");
    assert.equal(await status("CheckLines/IsPriceValid"), "succeeded");
    assert.match(page.url(), /[?&]map=CheckLines&iteration=1\b/);
    await node(page, "CheckLines/RejectLine").click();
    const details = page.locator('[data-testid="state-details"][data-state="CheckLines/RejectLine"]');
    await details.waitFor();
    assert.equal(await details.getAttribute("data-status"), "failed");
    await details.getByTestId("state-input").filter({ hasText: /-1/ }).waitFor();
    assert.equal(await details.getByTestId("state-error").textContent(), "NegativePrice");
    assert.match(await details.getByTestId("state-scope").textContent(), /#1 of CheckLines/);

    // Iteration 0 was accepted; the open details follow the change. The badge still counts all.
    await selector.selectOption("0");
    await showing(0);
    assert.equal(await status("CheckLines/AcceptLine"), "succeeded");
    assert.equal(await status("CheckLines/RejectLine"), "not-started");
    await details.and(page.locator('[data-status="not-started"]')).waitFor();
    assert.equal(await badge.textContent(), aggregate);

    // A link reproduces the selection.
    const link = await browser.browser.newPage({ viewport: { width: 1440, height: 900 } });
    await signIn(link, server);
    await link.goto(page.url());
    await link.locator('svg[data-testid="graph"] [data-state="CheckLines"][data-iteration="0"]').waitFor();
    assert.equal(await link.getByTestId("map-iteration").inputValue(), "0");
    await link.close();

    // Back to all iterations.
    await selector.selectOption("");
    await node(page, "CheckLines").and(page.locator(":not([data-iteration])")).waitFor();
    await node(page, "CheckLines/RejectLine").and(page.locator('[data-status="failed"]')).waitFor();
    assert.equal(await status("CheckLines/AcceptLine"), "succeeded");
    assert.doesNotMatch(page.url(), /iteration=/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("shows a Distributed Map's Map Run and raises its concurrency", async () => {
    const { stateMachineArn } = await aws(server.endpoint, "CreateStateMachine", {
      name: "e2e-map-run",
      definition: JSON.stringify({
        StartAt: "Ship",
        States: {
          Ship: {
            Type: "Map",
            Label: "parcels",
            MaxConcurrency: 1,
            ItemProcessor: {
              ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
              StartAt: "Pause",
              States: { Pause: { Type: "Wait", Seconds: 4, End: true } },
            },
            End: true,
          },
        },
      }),
      roleArn: "arn:aws:iam::123456789012:role/stepwasm",
    });
    const { executionArn } = await aws(server.endpoint, "StartExecution", {
      stateMachineArn,
      name: "e2e-map-run",
      input: JSON.stringify([1, 2, 3, 4, 5]),
    });
    const { page, errors } = await openPage(`/console/#/executions/${encodeURIComponent(executionArn)}`);
    await node(page, "Ship").click();
    const panel = page.getByTestId("map-run");
    await panel.getByTestId("map-run-status").filter({ hasText: "RUNNING" }).waitFor({ timeout: 30_000 });
    assert.equal(await panel.getByTestId("map-run-total").textContent(), "5");
    assert.equal(await panel.getByTestId("map-run-running").textContent(), "1", "MaxConcurrency 1 runs one child");
    assert.equal(await panel.getByTestId("map-run-max-concurrency").textContent(), "1");

    // Raising the concurrency starts the waiting children at once.
    await panel.getByTestId("map-run-concurrency").fill("5");
    await panel.getByTestId("map-run-update").click();
    await panel.getByTestId("map-run-max-concurrency").filter({ hasText: "5" }).waitFor();
    await panel.getByTestId("map-run-pending").filter({ hasText: /^0$/ }).waitFor();
    const run = await aws(server.endpoint, "DescribeMapRun", {
      mapRunArn: (await aws(server.endpoint, "ListMapRuns", { executionArn })).mapRuns[0].mapRunArn,
    });
    assert.equal(run.maxConcurrency, 5);

    // The panel follows the run to its end.
    await page.locator('[data-testid="execution-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 30_000 });
    await panel.getByTestId("map-run-status").filter({ hasText: "SUCCEEDED" }).waitFor({ timeout: 10_000 });
    assert.equal(await panel.getByTestId("map-run-succeeded").textContent(), "5");
    assert.equal(await panel.getByTestId("map-run-form").count(), 0, "a finished Map Run cannot be updated");

    // Each child is an execution of its own, with its input and history.
    await panel.getByTestId("map-run-show-children").click();
    const children = panel.getByTestId("map-run-child");
    await children.first().waitFor();
    assert.equal(await children.count(), 5);
    assert.equal(await panel.locator('[data-testid="map-run-child"][data-status="SUCCEEDED"]').count(), 5);
    await children.nth(2).getByRole("button").click();
    await panel.getByTestId("child-status").filter({ hasText: "SUCCEEDED" }).waitFor();
    assert.equal(JSON.parse(await panel.getByTestId("child-input").textContent()), 3);
    const events = await panel.getByTestId("child-events").locator("li").allTextContents();
    assert.deepEqual(events, ["1 ExecutionStarted", "2 WaitStateEntered", "3 WaitStateExited", "4 ExecutionSucceeded"]);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("links a parent execution and the child it started, both ways", async () => {
    const role = "arn:aws:iam::123456789012:role/stepwasm";
    const child = await aws(server.endpoint, "CreateStateMachine", {
      name: "e2e-child",
      definition: JSON.stringify({ StartAt: "Echo", States: { Echo: { Type: "Pass", End: true } } }),
      roleArn: role,
    });
    const parent = await aws(server.endpoint, "CreateStateMachine", {
      name: "e2e-parent",
      definition: JSON.stringify({
        StartAt: "StartChild",
        States: {
          StartChild: {
            Type: "Task",
            Resource: "arn:aws:states:::states:startExecution.sync:2",
            Parameters: {
              StateMachineArn: child.stateMachineArn,
              Input: { "order.$": "$.order", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id" },
            },
            End: true,
          },
        },
      }),
      roleArn: role,
    });
    const { executionArn } = await aws(server.endpoint, "StartExecution", {
      stateMachineArn: parent.stateMachineArn,
      name: "e2e-parent",
      input: JSON.stringify({ order: "ord-7" }),
    });
    const { page, errors } = await openPage(`/console/#/executions/${encodeURIComponent(executionArn)}`);
    await page.locator('[data-testid="execution-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 30_000 });
    await node(page, "StartChild").click();
    const childLink = page.getByTestId("child-execution-link");
    await childLink.waitFor();
    await childLink.click();
    await page.getByTestId("parent-execution-link").waitFor();
    const childArn = await page.getByTestId("execution-arn").textContent();
    assert.match(childArn, /:execution:e2e-child:/, "the link opens the child execution");
    assert.equal(await page.getByTestId("summary-status").textContent(), "SUCCEEDED");
    await page.getByTestId("parent-execution-link").click();
    await page.getByTestId("execution-arn").filter({ hasText: executionArn }).waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("skips an hour-long Wait with the next-timer button", async () => {
    const { stateMachineArn } = await aws(server.endpoint, "CreateStateMachine", {
      name: "e2e-hour",
      definition: JSON.stringify({ StartAt: "Hour", States: { Hour: { Type: "Wait", Seconds: 3600, End: true } } }),
      roleArn: "arn:aws:iam::123456789012:role/stepwasm",
    });
    const { executionArn } = await aws(server.endpoint, "StartExecution", { stateMachineArn, name: "e2e-hour" });
    const { page, errors } = await openPage(`/console/#/executions/${encodeURIComponent(executionArn)}`);
    await node(page, "Hour").and(page.locator('[data-status="in-progress"]')).waitFor();
    await page.getByTestId("next-timer").click();
    await page.locator('[data-testid="execution-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId("next-timer").isHidden(), true, "an ended execution has no timers to skip");
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("filters executions by status", async () => {
    const { page, errors } = await openPage(machinePage(PLAIN_MACHINE));
    await page.getByRole("tab", { name: "Executions" }).click();
    const rows = page.locator('table[data-testid="executions"] tbody tr[data-execution-arn]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 3, "the demo's three orders");
    await page.getByTestId("status-filter").selectOption("FAILED");
    await page.waitForFunction(
      () => document.querySelectorAll('table[data-testid="executions"] tbody tr[data-execution-arn]').length === 2,
    );
    const names = await rows.allTextContents();
    assert.ok(names.every((text) => /declined-card|out-of-stock/.test(text)), names.join(" | "));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("publishes a version, shows an alias's routes, and starts through the alias", async () => {
    const pass = (version) =>
      JSON.stringify({ StartAt: "Which", States: { Which: { Type: "Pass", Result: { version }, End: true } } });
    const { stateMachineArn: arn } = await aws(server.endpoint, "CreateStateMachine", {
      name: "e2e-versions", definition: pass("one"), roleArn: "arn:aws:iam::123456789012:role/e2e",
    });
    const { page, errors } = await openPage(machinePage(arn));
    await page.getByRole("tab", { name: "Versions and aliases" }).click();
    assert.equal(await page.getByTestId("start-target").isVisible(), false, "nothing to choose before a version exists");
    await page.getByTestId("version-description").fill("first cut");
    await page.getByTestId("publish-version").click();
    await page.locator(`[data-testid="versions"] tr[data-version-arn="${arn}:1"]`).getByText("first cut").waitFor();

    // A second version and an alias made through the API appear once the page reads them again.
    await aws(server.endpoint, "UpdateStateMachine", { stateMachineArn: arn, definition: pass("two"), publish: true });
    await aws(server.endpoint, "CreateStateMachineAlias", {
      name: "live",
      routingConfiguration: [{ stateMachineVersionArn: `${arn}:1`, weight: 100 }],
    });
    await page.reload();
    await page.getByRole("tab", { name: "Versions and aliases" }).click();
    const alias = page.locator(`[data-testid="aliases"] tr[data-alias-arn="${arn}:live"]`);
    await alias.getByText("version 1: 100%").waitFor();
    assert.equal(await page.locator('[data-testid="versions"] tr').count(), 2);

    await page.getByTestId("start-target").selectOption(`${arn}:live`);
    await page.getByTestId("start-execution").click();
    await page.waitForURL(/#\/executions\//);
    const execution = decodeURIComponent(page.url().split("#/executions/")[1]);
    const described = await aws(server.endpoint, "DescribeExecution", { executionArn: execution });
    assert.equal(described.stateMachineAliasArn, `${arn}:live`);
    assert.equal(described.stateMachineVersionArn, `${arn}:1`);

    assert.deepEqual(errors, []);
    await page.close();

    const listed = await openPage(machinePage(arn));
    await listed.page.getByRole("tab", { name: "Executions" }).click();
    await listed.page.getByTestId("execution-version").getByText("1 via live").waitFor();
    assert.deepEqual(listed.errors, []);
    await listed.page.close();
  });
});
