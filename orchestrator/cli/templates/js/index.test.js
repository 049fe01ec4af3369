// Unit tests of {{name}}: `node --test` in this directory. They call the handler directly,
// natively, without building a component.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Context } from './stepwasm/index.js';
import { greet, handle } from './index.js';

test('greets by name', () => {
  assert.deepEqual(greet({ name: 'Ada' }, Context.forTest('Greet')), { greeting: 'Hello, Ada!', attempt: 1 });
});

test('sees the attempt number', () => {
  assert.equal(greet({ name: 'Ada' }, Context.forTest('Greet', { attempt: 3 })).attempt, 3);
});

test('a missing name is a named error', () => {
  assert.throws(() => greet({}, Context.forTest('Greet')), { error: 'InvalidName' });
});

test('the export answers JSON text with a result, as the host sees it', () => {
  const ctx = {
    functionName: '{{name}}',
    executionId: 'arn:test',
    stateName: 'Greet',
    attempt: 1,
    remainingMillis: 1000n,
  };
  assert.deepEqual(handle('{"name":"Grace"}', ctx), { tag: 'ok', val: '{"greeting":"Hello, Grace!","attempt":1}' });
  assert.equal(handle('{}', ctx).val.error, 'InvalidName');
});
