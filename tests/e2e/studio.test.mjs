// Workflow Studio (the console's design mode) in a real browser, against a real `stepwasm demo`
// server: drag and drop, the inspector, the engine's diagnostics, undo, saving and running.
//
// Run by hand from tests/e2e: `STEPWASM_BIN=../../target/release/stepwasm node --test studio.test.mjs`.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { artifacts, aws, openSignedIn, startBrowser, startServer } from "./harness.mjs";
// The studio's document model has no DOM: its edge cases are checked here without a browser.
import { detectIndent, graphOf, serialize } from "../../orchestrator/console/js/studio/document.js";
import { lineDiff } from "../../orchestrator/console/js/studio/diff.js";
import { History } from "../../orchestrator/console/js/studio/history.js";
import * as ops from "../../orchestrator/console/js/studio/operations.js";
import { templateText } from "../../orchestrator/console/js/studio/templates.js";

const ACCOUNT = "arn:aws:states:us-east-1:123456789012";
const LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:";
const machineArn = (name) => `${ACCOUNT}:stateMachine:${name}`;
const studioPath = (name) => `/console/#/studio/${encodeURIComponent(machineArn(name))}`;
const functionsDir = new URL("../../functions/", import.meta.url);
const GOOD_ORDER = JSON.parse(readFileSync(new URL("samples/good-order.json", functionsDir), "utf8"));
const ORDER_PIPELINE = JSON.parse(readFileSync(new URL("order-pipeline.asl.json", functionsDir), "utf8"));

// Tall enough that the palette and the graph are on screen together: a drag that had to scroll
// between its source and its target would start from the wrong place.
const VIEWPORT = { width: 1440, height: 1250 };

// Only the studio's graph: a state machine's page has a graph of its own.
const GRAPH = '[data-testid="studio"] svg[data-testid="graph"]';
const node = (page, id) => page.locator(`${GRAPH} g.node[data-state="${id}"]`);
const edgeZone = (page, edge, from) => page.locator(`[data-testid="drop-edge"][data-edge="${edge}"][data-from="${from}"]`);
const definitionText = (page) => page.getByTestId("studio-json").inputValue();
const definition = async (page) => JSON.parse(await definitionText(page));

async function waitForValidation(page, result) {
  await page.locator(`[data-testid="validation-status"][data-result="${result}"]`).waitFor();
}

async function waitForDefinition(page, predicate, message) {
  for (let i = 0; i < 200; i++) {
    try {
      if (predicate(await definition(page))) return;
    } catch {
      // The text is being edited; look again.
    }
    await page.waitForTimeout(50);
  }
  assert.fail(`${message}\n${await definitionText(page)}`);
}

async function waitForExecution(server, executionArn) {
  for (let i = 0; i < 200; i++) {
    const described = await aws(server.endpoint, "DescribeExecution", { executionArn });
    if (described.status !== "RUNNING") return described;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`${executionArn} still runs after 20 s`);
}

describe("Workflow Studio", () => {
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

  const openPage = (path) => openSignedIn(browser, server, path, VIEWPORT);

  test("builds Pass → Task → Succeed by drag and drop only, creates it and runs it to SUCCEEDED", async () => {
    const { page, errors } = await openPage("/console/#/");
    await page.getByTestId("create-in-studio").first().click();
    await page.getByTestId("studio-empty-hint").waitFor();
    await page.getByTestId("palette-function-place-order").waitFor();

    await page.getByTestId("palette-Pass").dragTo(page.locator(GRAPH));
    await node(page, "Pass").waitFor();
    await page.getByTestId("palette-function-place-order").dragTo(edgeZone(page, "end", "Pass"));
    await node(page, "PlaceOrder").waitFor();
    await page.getByTestId("palette-Succeed").dragTo(edgeZone(page, "end", "PlaceOrder"));
    await node(page, "Succeed").waitFor();

    const expected = {
      Comment: "A new state machine",
      StartAt: "Pass",
      States: {
        Pass: { Type: "Pass", Next: "PlaceOrder" },
        PlaceOrder: { Type: "Task", Resource: `${LAMBDA}place-order`, Next: "Succeed" },
        Succeed: { Type: "Succeed" },
      },
    };
    assert.deepEqual(await definition(page), expected);
    assert.equal(await page.locator(`${GRAPH} g.edge[data-kind="next"]`).count(), 2);
    await waitForValidation(page, "ok");
    await page.screenshot({ path: join(artifacts, "studio-built.png") });

    await page.getByTestId("studio-save").click();
    const dialog = page.getByTestId("save-dialog");
    await dialog.waitFor();
    assert.match(await page.getByTestId("save-diff").textContent(), /\+ +"PlaceOrder": \{/);
    await page.getByTestId("save-name").fill("studio-built");
    await page.getByTestId("confirm-save").click();
    await page.waitForURL(/#\/studio\/arn%3Aaws%3Astates/);
    await page.getByRole("heading", { name: "studio-built: Workflow Studio" }).waitFor();
    assert.match(await page.getByTestId("studio-saved").textContent(), /^Created\./);

    const saved = await aws(server.endpoint, "DescribeStateMachine", { stateMachineArn: machineArn("studio-built") });
    assert.deepEqual(JSON.parse(saved.definition), expected);
    const started = await aws(server.endpoint, "StartExecution", {
      stateMachineArn: machineArn("studio-built"),
      input: JSON.stringify({ order: GOOD_ORDER, receivedAt: "2025-11-24T09:31:00Z" }),
    });
    const done = await waitForExecution(server, started.executionArn);
    assert.equal(done.status, "SUCCEEDED", JSON.stringify(done));
    assert.equal(JSON.parse(done.output).orderId, GOOD_ORDER.orderId);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("starts from the templates: approval with a task token, fan-out, saga, the deployed order pipeline", async () => {
    const { page, errors } = await openPage("/console/#/studio");
    await page.getByTestId("studio-empty-hint").waitFor();
    const template = page.getByTestId("studio-template");

    await template.selectOption("human-approval");
    await node(page, "RequestApproval").waitFor();
    const approval = (await definition(page)).States.RequestApproval;
    assert.equal(approval.Resource, "arn:aws:states:::lambda:invoke.waitForTaskToken");
    assert.equal(approval.Parameters.Payload["taskToken.$"], "$$.Task.Token");
    await waitForValidation(page, "ok");

    await template.selectOption("fan-out");
    await node(page, "CheckLines/CheckLine").waitFor();
    await waitForValidation(page, "ok");

    await template.selectOption("saga");
    await node(page, "RefundCard").waitFor();
    const saga = await definition(page);
    assert.equal(saga.States.Ship.Catch[0].Next, "RefundCard");
    assert.equal(saga.States.OrderFailed.Type, "Fail");
    await waitForValidation(page, "ok");

    await template.selectOption("order-pipeline");
    await node(page, "Fulfil/1/Notify/1/SendSms").waitFor();
    assert.deepEqual(await definition(page), ORDER_PIPELINE, "the deployed order pipeline, as the demo deployed it");
    await waitForValidation(page, "ok");

    // A template is a change like any other: undo goes back to the one before.
    await page.getByTestId("studio-undo").click();
    await node(page, "RefundCard").waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("inserts a Task into the Notify branch of the order pipeline, gives it a Catch and saves it", async () => {
    const { page, errors } = await openPage("/console/#/state-machines/" + encodeURIComponent(machineArn("order-pipeline")));
    await page.getByTestId("open-studio").click();
    const branch = page.locator(`${GRAPH} g.branch[data-branch="Fulfil/1/Notify/0"]`);
    await branch.waitFor();

    // Dropped on the branch's empty space below SendEmail: appended to the branch.
    const box = await branch.boundingBox();
    await page.getByTestId("palette-function-sns-publish").dragTo(branch, { targetPosition: { x: 8, y: box.height - 6 } });
    await node(page, "Fulfil/1/Notify/0/SnsPublish").waitFor();
    const again = await branch.boundingBox();
    await page.getByTestId("palette-Pass").dragTo(branch, { targetPosition: { x: 8, y: again.height - 6 } });
    await node(page, "Fulfil/1/Notify/0/Pass").waitFor();

    // The Pass is the Catch's target, off the normal path: SnsPublish ends the branch again.
    await node(page, "Fulfil/1/Notify/0/Pass").click();
    await page.getByTestId("state-name").fill("NotifyFailed");
    await page.getByTestId("state-name").press("Enter");
    await node(page, "Fulfil/1/Notify/0/NotifyFailed").waitFor();
    await node(page, "Fulfil/1/Notify/0/SnsPublish").click();
    await page.locator('[data-testid="state-form"][data-for-state="Fulfil/1/Notify/0/SnsPublish"]').waitFor();
    await page.getByTestId("field-Next").selectOption("(end)");
    await page.getByTestId("add-catcher").click();
    await page.getByTestId("field-Catch/0/ErrorEquals").fill("States.TaskFailed, States.Timeout");
    await page.getByTestId("field-Catch/0/Next").selectOption("NotifyFailed");
    await page.getByTestId("field-Catch/0/ResultPath").fill("$.notifyError");
    await page.locator(`${GRAPH} g.edge[data-kind="catch"][data-from="Fulfil/1/Notify/0/SnsPublish"][data-to="Fulfil/1/Notify/0/NotifyFailed"]`).waitFor();
    await waitForValidation(page, "ok");
    await page.screenshot({ path: join(artifacts, "studio-editing.png") });

    const expected = structuredClone(ORDER_PIPELINE);
    expected.States.Fulfil.Branches[1].States.Notify.Branches[0] = {
      StartAt: "SendEmail",
      States: {
        SendEmail: { Type: "Task", Resource: `${LAMBDA}send-email`, Next: "SnsPublish" },
        SnsPublish: {
          Type: "Task",
          Resource: `${LAMBDA}sns-publish`,
          End: true,
          Catch: [{ ErrorEquals: ["States.TaskFailed", "States.Timeout"], ResultPath: "$.notifyError", Next: "NotifyFailed" }],
        },
        NotifyFailed: { Type: "Pass", End: true },
      },
    };
    assert.deepEqual(await definition(page), expected);

    assert.equal(await page.getByTestId("studio-dirty").isVisible(), true);
    await page.getByTestId("studio-save").click();
    await page.getByTestId("save-dialog").waitFor();
    const diff = await page.getByTestId("save-diff").textContent();
    assert.match(diff, /\+ +"SnsPublish": \{/);
    assert.match(diff, /\+ +"Next": "SnsPublish"/, "SendEmail goes on to SnsPublish");
    assert.equal(await page.locator('[data-testid="save-diff"] [data-op="-"]').count(), 0, "the rest of the text is kept as it was");
    await page.getByTestId("confirm-save").click();
    await page.getByTestId("studio-saved").waitFor();

    const saved = await aws(server.endpoint, "DescribeStateMachine", { stateMachineArn: machineArn("order-pipeline") });
    assert.deepEqual(JSON.parse(saved.definition), expected);
    assert.equal(saved.definition, await definitionText(page), "what was saved is the editor's text");
    assert.equal(await page.getByTestId("studio-dirty").isHidden(), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("undo restores the previous definition text exactly, and redo the changed text", async () => {
    const { page, errors } = await openPage(studioPath("order-pipeline-approval"));
    await node(page, "CheckInventory").waitFor();
    const original = await definitionText(page);

    // A graph action: delete a state with the Delete key.
    await node(page, "CheckInventory").click();
    await node(page, "CheckInventory").press("Delete");
    await node(page, "CheckInventory").waitFor({ state: "detached" });
    const deleted = await definitionText(page);
    assert.notEqual(deleted, original);
    assert.equal(JSON.parse(deleted).States.AuthorizeAndScreen.Next, "Fulfil", "what led to it leads past it");

    // A form edit, typed key by key, is one step.
    await node(page, "ShipOrder").click();
    await page.getByTestId("field-ResultPath").fill("");
    await page.getByTestId("field-ResultPath").pressSequentially("$.shipping");
    await waitForDefinition(page, (d) => d.States.ShipOrder.ResultPath === "$.shipping", "the form writes ResultPath");
    const edited = await definitionText(page);

    await page.getByTestId("studio-undo").click();
    assert.equal(await definitionText(page), deleted);
    await page.keyboard.press("Control+z");
    assert.equal(await definitionText(page), original, "back to the text as loaded, byte for byte");
    await node(page, "CheckInventory").waitFor();
    assert.equal(await page.getByTestId("studio-undo").isDisabled(), true);

    await page.getByTestId("studio-redo").click();
    assert.equal(await definitionText(page), deleted);
    await page.keyboard.press("Control+Shift+Z");
    assert.equal(await definitionText(page), edited);
    await page.keyboard.press("Control+z");
    await page.keyboard.press("Control+y");
    assert.equal(await definitionText(page), edited);
    assert.equal(await page.getByTestId("studio-redo").isDisabled(), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("asks before leaving unsaved changes, and stays when told to", async () => {
    const { page, errors } = await openPage(studioPath("order-pipeline-approval"));
    await node(page, "ShipOrder").click();
    await page.getByTestId("field-ResultPath").fill("$.shipping");
    await waitForDefinition(page, (d) => d.States.ShipOrder.ResultPath === "$.shipping", "the form writes ResultPath");
    const edited = await definitionText(page);

    const questions = [];
    page.once("dialog", (dialog) => {
      questions.push(dialog.message());
      dialog.dismiss();
    });
    await page.locator("#breadcrumbs").getByRole("link", { name: "State machines" }).click();
    await page.waitForFunction(() => location.hash.startsWith("#/studio/"));
    assert.match(questions[0] ?? "", /not saved/);
    assert.equal(await definitionText(page), edited, "staying keeps the work");
    assert.equal(await page.getByTestId("studio").count(), 1);

    page.once("dialog", (dialog) => dialog.accept());
    await page.locator("#breadcrumbs").getByRole("link", { name: "State machines" }).click();
    await page.getByRole("heading", { name: "State machines" }).waitFor();
    assert.equal(questions.length, 1);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("shows the engine's diagnostic at the field, marks the state and blocks saving until fixed", async () => {
    const { page, errors } = await openPage(studioPath("order-pipeline-approval"));
    await node(page, "CheckInventory").click();
    await waitForValidation(page, "ok");
    const save = page.getByTestId("studio-save");
    assert.equal(await save.isEnabled(), true);

    const resultPath = page.getByTestId("field-ResultPath");
    await resultPath.fill("$$$[");
    const error = page.getByTestId("field-error-ResultPath");
    await error.waitFor();
    assert.match(await error.textContent(), /invalid JSONPath/);
    assert.equal(await error.getAttribute("data-code"), "INVALID_JSON_PATH");
    await page.locator(`${GRAPH} g.node[data-state="CheckInventory"][data-invalid="true"]`).waitFor();
    assert.equal(await save.isDisabled(), true);
    assert.equal(await page.getByTestId("studio-save-publish").isDisabled(), true);
    await page.screenshot({ path: join(artifacts, "studio-invalid.png") });

    await resultPath.fill("$.inventory");
    await error.waitFor({ state: "hidden" });
    await waitForValidation(page, "ok");
    await page.locator(`${GRAPH} g.node[data-state="CheckInventory"]:not([data-invalid])`).waitFor();
    assert.equal(await save.isEnabled(), true);

    // A Next to a state that does not exist, typed into the JSON: the form shows where.
    const text = await definitionText(page);
    const broken = text.replace('"Next": "Fulfil"', '"Next": "Nowhere"');
    assert.notEqual(broken, text);
    await page.getByTestId("studio-json").fill(broken);
    const nextError = page.getByTestId("field-error-Next");
    await nextError.waitFor();
    assert.match(await nextError.textContent(), /Nowhere/);
    assert.equal(await save.isDisabled(), true);
    await page.getByTestId("field-Next").selectOption("Fulfil");
    await nextError.waitFor({ state: "hidden" });
    await waitForValidation(page, "ok");
    assert.equal(await definitionText(page), text, "choosing Fulfil again writes the same text");
    assert.equal(await save.isEnabled(), true);

    // A warning (an integration nothing binds here) is shown at its field but does not block saving.
    await page.getByTestId("field-Resource").fill("arn:aws:states:::dynamodb:putItem");
    const warning = page.locator('[data-testid="field-error-Resource"][data-severity="WARNING"]');
    await warning.waitFor();
    assert.match(await warning.textContent(), /dynamodb:putItem/);
    assert.equal(await page.locator('[data-testid="studio-diagnostics"] li[data-code="UNBOUND_INTEGRATION"]').count(), 1);
    await waitForValidation(page, "ok");
    assert.equal(await save.isEnabled(), true);
    assert.equal(await page.locator(`${GRAPH} g.node[data-state="CheckInventory"][data-invalid]`).count(), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("saving an untouched definition changes nothing, byte for byte", async () => {
    const before = await aws(server.endpoint, "DescribeStateMachine", { stateMachineArn: machineArn("order-pipeline-aws") });
    const { page, errors } = await openPage(studioPath("order-pipeline-aws"));
    await waitForValidation(page, "ok");
    assert.equal(await definitionText(page), before.definition);
    await page.getByTestId("studio-save").click();
    await page.getByTestId("save-diff-empty").waitFor();
    await page.getByTestId("confirm-save").click();
    await page.getByTestId("studio-saved").waitFor();
    const after = await aws(server.endpoint, "DescribeStateMachine", { stateMachineArn: machineArn("order-pipeline-aws") });
    assert.equal(after.definition, before.definition);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("inserts, moves and deletes with the keyboard only", async () => {
    const { page, errors } = await openPage("/console/#/studio");
    await page.getByTestId("studio-empty-hint").waitFor();
    await page.getByTestId("palette-Pass").focus();
    await page.keyboard.press("Enter");
    await node(page, "Pass").waitFor();
    // Focus is on the new state, so the next insert goes after it.
    await page.waitForFunction(() => document.activeElement?.dataset?.state === "Pass");
    await page.getByTestId("palette-Wait").focus();
    await page.keyboard.press("Enter");
    await node(page, "Wait").waitFor();
    await page.waitForFunction(() => document.activeElement?.dataset?.state === "Wait");
    assert.deepEqual((await definition(page)).States, { Pass: { Type: "Pass", Next: "Wait" }, Wait: { Type: "Wait", Seconds: 1, End: true } });

    // Arrow keys move the selection; Ctrl+X and Ctrl+V move a state after another one.
    await page.keyboard.press("ArrowUp");
    await page.locator(`${GRAPH} g.node[data-state="Pass"][data-selected="true"]`).waitFor();
    await page.keyboard.press("Control+x");
    await page.keyboard.press("ArrowDown");
    await page.locator(`${GRAPH} g.node[data-state="Wait"][data-selected="true"]`).waitFor();
    await page.keyboard.press("Control+v");
    await waitForDefinition(page, (d) => d.StartAt === "Wait", "Pass moved after Wait");
    assert.deepEqual((await definition(page)).States, { Pass: { Type: "Pass", End: true }, Wait: { Type: "Wait", Seconds: 1, Next: "Pass" } });

    // Delete removes the focused state and rewires around it.
    await page.waitForFunction(() => document.activeElement?.dataset?.state === "Pass");
    await page.keyboard.press("Delete");
    await node(page, "Pass").waitFor({ state: "detached" });
    const left = await definition(page);
    assert.equal(left.StartAt, "Wait");
    assert.deepEqual(left.States, { Wait: { Type: "Wait", Seconds: 1, End: true } });

    // The state after the deleted one is selected and focused; Escape leaves the machine's form.
    await page.locator('[data-testid="state-form"][data-for-state="Wait"]').waitFor();
    await page.waitForFunction(() => document.activeElement?.dataset?.state === "Wait");
    await page.keyboard.press("Escape");
    await page.getByTestId("machine-form").waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("moves a state, connects with the handle and edits Choice rules", async () => {
    const { page, errors } = await openPage("/console/#/studio");
    await page.getByTestId("studio-empty-hint").waitFor();
    const text = JSON.stringify({
      StartAt: "A",
      States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", Next: "C" }, C: { Type: "Pass", End: true } },
    }, null, 4);
    await page.getByTestId("studio-json").fill(text);
    await node(page, "C").waitFor();

    // C onto the start edge: it becomes the first state.
    await node(page, "C").dragTo(edgeZone(page, "start", "start"));
    await waitForDefinition(page, (d) => d.StartAt === "C", "C moved to the start");
    assert.deepEqual(await definition(page), {
      StartAt: "C",
      States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", End: true }, C: { Type: "Pass", Next: "A" } },
    });
    assert.match(await definitionText(page), /\n {4}"StartAt"/, "written with the original's 4-space indentation");

    // A Choice after B, its rule built in the form, its Default drawn with the handle.
    await node(page, "B").click();
    await page.getByTestId("palette-Choice").click();
    await node(page, "Choice").waitFor();
    await page.getByTestId("add-rule").click();
    await page.getByTestId("field-Choices/0/Variable").fill("$.count");
    await page.getByTestId("field-Choices/0/operator").selectOption("NumericGreaterThan");
    await page.getByTestId("field-Choices/0/NumericGreaterThan").fill("10");
    await page.getByTestId("field-Choices/0/Next").selectOption("A");
    await page.getByTestId("add-and").click();
    await page.getByTestId("field-Choices/1/And/0/Variable").fill("$.kind");
    await page.getByTestId("field-Choices/1/And/0/StringEquals").fill("bulk");
    await page.getByTestId("field-Choices/1/And/1/operator").selectOption("IsPresent");
    await page.getByTestId("field-Choices/1/And/1/Variable").fill("$.priority");
    await page.getByTestId("field-Choices/1/Next").selectOption("B");
    await page.locator('[data-testid="connect-handle"][data-for="Choice"]').dragTo(node(page, "C"));
    await waitForDefinition(page, (d) => d.States.Choice.Default === "C", "the handle set the Default");
    // The first rule's edge label, dragged onto B: that rule now goes to B.
    await page.locator(`${GRAPH} g.edge[data-kind="choice"][data-from="Choice"][data-index="0"] .edge-label`).dragTo(node(page, "B"));
    await waitForDefinition(page, (d) => d.States.Choice.Choices[0].Next === "B", "the label re-pointed the rule");
    assert.deepEqual((await definition(page)).States.Choice, {
      Type: "Choice",
      Choices: [
        { Variable: "$.count", NumericGreaterThan: 10, Next: "B" },
        { And: [{ Variable: "$.kind", StringEquals: "bulk" }, { Variable: "$.priority", IsPresent: true }], Next: "B" },
      ],
      Default: "C",
    });
    await waitForValidation(page, "ok");
    assert.deepEqual(errors, []);
    await page.close();
  });
  test("drops into a Map's processor and as a new Parallel branch, edits Retry and JSONata fields, saves and publishes", async () => {
    const stateMachineArn = (await aws(server.endpoint, "CreateStateMachine", {
      name: "studio-compound",
      roleArn: "arn:aws:iam::123456789012:role/stepwasm",
      definition: JSON.stringify({ StartAt: "Start", States: { Start: { Type: "Pass", Next: "Done" }, Done: { Type: "Succeed" } } }),
    })).stateMachineArn;
    const { page, errors } = await openPage(studioPath("studio-compound"));
    await node(page, "Start").waitFor();

    await page.getByTestId("palette-Map").dragTo(edgeZone(page, "next", "Start"));
    await node(page, "Map/ProcessItem").waitFor();
    // The Map's frame, beside its processor: appended to the processor.
    const map = page.locator(`${GRAPH} g.compound-frame[data-frame-for="Map"] > rect.shape`);
    const mapBox = await map.boundingBox();
    await page.getByTestId("palette-Wait").dragTo(map, { targetPosition: { x: 10, y: mapBox.height - 8 } });
    await node(page, "Map/Wait").waitFor();

    await page.getByTestId("palette-Parallel").dragTo(edgeZone(page, "next", "Map"));
    await node(page, "Parallel/1/Branch2").waitFor();
    // The Parallel's frame, outside its branches: a new branch.
    const parallel = page.locator(`${GRAPH} g.compound-frame[data-frame-for="Parallel"] > rect.shape`);
    const parallelBox = await parallel.boundingBox();
    await page.getByTestId("palette-Pass").dragTo(parallel, { targetPosition: { x: 8, y: parallelBox.height / 2 } });
    await node(page, "Parallel/2/Pass").waitFor();

    await node(page, "Parallel/0/Branch").click();
    await page.getByTestId("duplicate-state").click();
    await node(page, "Parallel/0/BranchCopy").waitFor();

    // With Shift, the handle adds a Catch rather than a Next.
    await page.keyboard.down("Shift");
    await page.locator('[data-testid="connect-handle"][data-for="Parallel"]').dragTo(node(page, "Done"));
    await page.keyboard.up("Shift");
    await waitForDefinition(page, (d) => d.States.Parallel.Catch?.length === 1, "Shift+drag added a Catch");

    await node(page, "Parallel").click();
    await page.getByTestId("add-retrier").click();
    await page.getByTestId("field-Retry/0/MaxAttempts").fill("5");
    await page.getByTestId("field-Retry/0/MaxDelaySeconds").fill("10");
    await page.getByTestId("field-Retry/0/JitterStrategy").selectOption("FULL");

    await node(page, "Start").click();
    await page.getByTestId("field-QueryLanguage").selectOption("JSONata");
    await page.getByTestId("field-Output").fill('{"greeting": "{% \'hello\' %}"}');
    assert.equal(await page.getByTestId("field-InputPath").count(), 0, "a JSONata state has no JSONPath fields");

    const expected = {
      StartAt: "Start",
      States: {
        Start: { Type: "Pass", Next: "Map", QueryLanguage: "JSONata", Output: { greeting: "{% 'hello' %}" } },
        Map: {
          Type: "Map",
          ItemProcessor: {
            ProcessorConfig: { Mode: "INLINE" },
            StartAt: "ProcessItem",
            States: { ProcessItem: { Type: "Pass", Next: "Wait" }, Wait: { Type: "Wait", Seconds: 1, End: true } },
          },
          Next: "Parallel",
        },
        Parallel: {
          Type: "Parallel",
          Branches: [
            { StartAt: "Branch", States: { Branch: { Type: "Pass", Next: "BranchCopy" }, BranchCopy: { Type: "Pass", End: true } } },
            { StartAt: "Branch2", States: { Branch2: { Type: "Pass", End: true } } },
            { StartAt: "Pass", States: { Pass: { Type: "Pass", End: true } } },
          ],
          Next: "Done",
          Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Done" }],
          Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2, MaxDelaySeconds: 10, JitterStrategy: "FULL" }],
        },
        Done: { Type: "Succeed" },
      },
    };
    await waitForDefinition(page, (d) => d.States.Start.Output?.greeting, "the Output was written");
    assert.deepEqual(await definition(page), expected);
    await waitForValidation(page, "ok");

    await page.getByTestId("studio-save-publish").click();
    await page.getByTestId("save-version-description").fill("designed in the studio");
    await page.getByTestId("confirm-save").click();
    await page.getByTestId("studio-saved").waitFor();
    assert.match(await page.getByTestId("studio-saved").textContent(), /as version 1\b/);

    const saved = await aws(server.endpoint, "DescribeStateMachine", { stateMachineArn });
    assert.deepEqual(JSON.parse(saved.definition), expected);
    const { stateMachineVersions } = await aws(server.endpoint, "ListStateMachineVersions", { stateMachineArn });
    assert.equal(stateMachineVersions.length, 1);
    const version = await aws(server.endpoint, "DescribeStateMachine", { stateMachineArn: stateMachineVersions[0].stateMachineVersionArn });
    assert.equal(version.description, "designed in the studio");
    assert.deepEqual(JSON.parse(version.definition), expected);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("Workflow Studio's document model", () => {
  const flow = () => ({
    StartAt: "A",
    States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Task", Resource: `${LAMBDA}x`, End: true }, Done: { Type: "Succeed" } },
  });

  test("the order pipeline template's own copy is functions/order-pipeline.asl.json without its comments", async () => {
    // Outside a browser the server cannot be asked, so the template falls back to its copy.
    const withoutComments = (value) => JSON.parse(JSON.stringify(value, (key, v) => (key === "Comment" ? undefined : v)));
    const copy = JSON.parse(await templateText("order-pipeline"));
    assert.deepEqual(withoutComments(copy), withoutComments(ORDER_PIPELINE));
  });

  test("writes a changed definition with the original's indentation and final newline", () => {
    for (const [indent, newline] of [[2, ""], [4, "\n"], ["\t", "\n"], [0, ""]]) {
      const original = JSON.stringify(flow(), null, indent || undefined) + newline;
      assert.equal(detectIndent(original), indent);
      assert.equal(serialize(flow(), original), original);
    }
  });

  test("keeps keys in place when a state's End becomes a Next", () => {
    const { definition } = ops.insertState(flow(), { type: "Wait" }, { kind: "after", id: "B" });
    assert.deepEqual(Object.keys(definition.States.B), ["Type", "Resource", "Next"]);
    assert.deepEqual(Object.keys(definition.States), ["A", "B", "Wait", "Done"], "inserted after B in the text too");
  });

  test("inserts before a Succeed rather than after it, and deletes the start state", () => {
    const chained = flow();
    chained.States.B = { Type: "Task", Resource: `${LAMBDA}x`, Next: "Done" };
    const inserted = ops.insertState(chained, { type: "Pass" }, { kind: "after", id: "Done" });
    assert.equal(inserted.definition.States.B.Next, "Pass");
    assert.equal(inserted.definition.States.Pass.Next, "Done");
    const deleted = ops.deleteState(chained, "A");
    assert.equal(deleted.definition.StartAt, "B");
    assert.equal(deleted.selected, "B");
  });

  test("duplicates a Parallel with its inner states renamed, and renames references", () => {
    const definition = JSON.parse(JSON.stringify(ORDER_PIPELINE));
    const { definition: copied, selected } = ops.duplicateState(definition, "Fulfil");
    assert.equal(selected, "FulfilCopy");
    assert.equal(copied.States.Fulfil.Next, "FulfilCopy");
    assert.equal(copied.States.FulfilCopy.Next, "ShipOrder");
    assert.equal(copied.States.FulfilCopy.Branches[1].StartAt, "NotifyCopy");
    assert.deepEqual(Object.keys(copied.States.FulfilCopy.Branches[1].States.NotifyCopy.Branches[0].States), ["SendEmailCopy"]);
    const renamed = ops.renameState(definition, "CancelOrder", "Cancel");
    assert.equal(renamed.definition.States.RefundPayment.Next, "Cancel");
    assert.equal(renamed.definition.States.AuthorizeAndScreen.Catch[0].Next, "Cancel");
    assert.equal(ops.renameState(definition, "CancelOrder", "RefundPayment"), null, "names stay unique");
  });

  test("draws nested states with qualified ids, even when a Next points nowhere", () => {
    const definition = JSON.parse(JSON.stringify(ORDER_PIPELINE));
    definition.States.ShipOrder.Next = "Nowhere";
    const graph = graphOf(definition);
    const byId = new Map(graph.states.map((state) => [state.id, state]));
    assert.deepEqual(byId.get("Fulfil/1/Notify").branches, ["Fulfil/1/Notify/0/SendEmail", "Fulfil/1/Notify/1/SendSms"]);
    assert.equal(byId.get("ShipOrder").next, undefined);
    assert.equal(byId.get("CheckInventory").catch[0].next, "RefundPayment");
  });

  test("diffs lines and undoes to the exact text", () => {
    assert.deepEqual(lineDiff("a\nb\nc", "a\nx\nc").map((l) => l.op + l.text), [" a", "-b", "+x", " c"]);
    const history = new History("one");
    history.push("one t", "field");
    history.push("one tw", "field");
    history.push("two");
    assert.equal(history.undo(), "one tw");
    assert.equal(history.undo(), "one", "typing in one field is one step");
    assert.equal(history.redo(), "one tw");
  });
});
