// State machine versions and aliases through the official AWS SDK for JavaScript v3, against a
// real `stepwasm demo` server: the SDK's own serialisation and error parsing are part of the test.
//
// Run by hand: `npm ci && STEPWASM_BIN=../../target/release/stepwasm node --test sdk.test.mjs`.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  CreateStateMachineAliasCommand, CreateStateMachineCommand, DeleteStateMachineAliasCommand,
  DeleteStateMachineVersionCommand, DescribeExecutionCommand, DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand, ListStateMachineAliasesCommand, ListStateMachineVersionsCommand,
  PublishStateMachineVersionCommand, SFNClient, StartExecutionCommand, UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand, paginateListExecutions,
} from "@aws-sdk/client-sfn";

import { startServer } from "./harness.mjs";

const ROLE = "arn:aws:iam::123456789012:role/stepwasm-sdk-test";
// Each version's Result names it, so an execution's output shows which version ran.
const definition = (version) =>
  JSON.stringify({ StartAt: "Which", States: { Which: { Type: "Pass", Result: { version }, End: true } } });

describe("the AWS SDK for JavaScript", () => {
  let server;
  let sfn;

  before(async () => {
    server = await startServer();
    sfn = new SFNClient({
      endpoint: server.endpoint,
      region: "us-east-1",
      // The server's own key: the SDK's SigV4 signatures are verified.
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
  });

  after(async () => {
    sfn?.destroy();
    await server?.stop();
  });

  const send = (Command, input) => sfn.send(new Command(input));

  test("publishes versions and routes executions through an alias", async () => {
    await assert.rejects(
      send(CreateStateMachineCommand, { name: "unpublished", definition: definition(0), roleArn: ROLE, versionDescription: "x" }),
      { name: "ValidationException" },
      "a version description needs publish",
    );

    const created = await send(CreateStateMachineCommand, {
      name: "sdk-versions", definition: definition(1), roleArn: ROLE, publish: true, versionDescription: "first",
    });
    const machine = created.stateMachineArn;
    const v1 = `${machine}:1`;
    const v2 = `${machine}:2`;
    assert.equal(created.stateMachineVersionArn, v1);

    const updated = await send(UpdateStateMachineCommand, {
      stateMachineArn: machine, definition: definition(2), publish: true, versionDescription: "second",
    });
    assert.equal(updated.stateMachineVersionArn, v2);
    assert.ok(updated.revisionId, "an update reports its revision");

    const versions = await send(ListStateMachineVersionsCommand, { stateMachineArn: machine });
    assert.deepEqual(versions.stateMachineVersions.map((v) => v.stateMachineVersionArn), [v2, v1], "newest first");
    const firstPage = await send(ListStateMachineVersionsCommand, { stateMachineArn: machine, maxResults: 1 });
    assert.deepEqual(firstPage.stateMachineVersions.map((v) => v.stateMachineVersionArn), [v2]);
    const secondPage = await send(ListStateMachineVersionsCommand, {
      stateMachineArn: machine, maxResults: 1, nextToken: firstPage.nextToken,
    });
    assert.deepEqual(secondPage.stateMachineVersions.map((v) => v.stateMachineVersionArn), [v1]);

    // A version keeps its own definition after the machine moves on.
    const described = await send(DescribeStateMachineCommand, { stateMachineArn: v1 });
    assert.deepEqual(JSON.parse(described.definition), JSON.parse(definition(1)));
    assert.equal(described.description, "first");

    // Publishing an already published revision hands back that version rather than a new one.
    const again = await send(PublishStateMachineVersionCommand, { stateMachineArn: machine, revisionId: updated.revisionId });
    assert.equal(again.stateMachineVersionArn, v2);
    await assert.rejects(
      send(PublishStateMachineVersionCommand, { stateMachineArn: machine, revisionId: "INITIAL" }),
      { name: "ConflictException" },
      "the machine has been updated since its initial revision",
    );

    const alias = await send(CreateStateMachineAliasCommand, {
      name: "live",
      routingConfiguration: [{ stateMachineVersionArn: v1, weight: 50 }, { stateMachineVersionArn: v2, weight: 50 }],
    });
    assert.equal(alias.stateMachineAliasArn, `${machine}:live`);
    const aliasArn = alias.stateMachineAliasArn;

    const started = new Set();
    for (let batch = 0; batch < 10; batch++) {
      const starts = Array.from({ length: 20 }, () => send(StartExecutionCommand, { stateMachineArn: aliasArn, input: "{}" }));
      for (const { executionArn } of await Promise.all(starts)) started.add(executionArn);
    }
    assert.equal(started.size, 200);

    const perVersion = { [v1]: 0, [v2]: 0 };
    const listed = new Set();
    for await (const page of paginateListExecutions({ client: sfn }, { stateMachineArn: aliasArn, maxResults: 50 })) {
      for (const execution of page.executions) {
        listed.add(execution.executionArn);
        assert.equal(execution.stateMachineAliasArn, aliasArn);
        assert.ok(execution.stateMachineVersionArn in perVersion, `ran ${execution.stateMachineVersionArn}`);
        perVersion[execution.stateMachineVersionArn]++;
      }
    }
    assert.deepEqual(listed, started, "listing by the alias finds exactly the executions started through it");
    // A fair 50/50 split falls outside 60..140 of 200 with probability below 1e-7.
    for (const [version, count] of Object.entries(perVersion)) assert.ok(count >= 60, `${version} ran ${count} of 200`);

    await assert.rejects(
      send(DeleteStateMachineVersionCommand, { stateMachineVersionArn: v1 }),
      { name: "ConflictException" },
      "an alias still routes to version 1",
    );

    await send(UpdateStateMachineAliasCommand, {
      stateMachineAliasArn: aliasArn, routingConfiguration: [{ stateMachineVersionArn: v2, weight: 100 }],
    });
    const routing = (await send(DescribeStateMachineAliasCommand, { stateMachineAliasArn: aliasArn })).routingConfiguration;
    assert.deepEqual(routing.map((r) => [r.stateMachineVersionArn, r.weight]), [[v2, 100]]);

    const { executionArn } = await send(StartExecutionCommand, { stateMachineArn: aliasArn, input: "{}" });
    let execution;
    for (let attempt = 0; attempt < 100; attempt++) {
      execution = await send(DescribeExecutionCommand, { executionArn });
      if (execution.status !== "RUNNING") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(execution.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(execution.output), { version: 2 });
    assert.equal(execution.stateMachineVersionArn, v2);
    assert.equal(execution.stateMachineAliasArn, aliasArn);

    // Once the alias is gone nothing routes to version 1, so it can be deleted.
    await send(DeleteStateMachineAliasCommand, { stateMachineAliasArn: aliasArn });
    const aliases = await send(ListStateMachineAliasesCommand, { stateMachineArn: machine });
    assert.deepEqual(aliases.stateMachineAliases, []);
    await send(DeleteStateMachineVersionCommand, { stateMachineVersionArn: v1 });
    const remaining = await send(ListStateMachineVersionsCommand, { stateMachineArn: machine });
    assert.deepEqual(remaining.stateMachineVersions.map((v) => v.stateMachineVersionArn), [v2]);
  });
});
