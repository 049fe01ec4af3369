// Native unit tests of send-email-js: `node --test` in this directory, no Wasm involved.
//
// The same cases as the Rust original's tests, so the two implementations are held to one contract.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { Context, TaskError, http } from '../../guest-sdk/js/index.js';
import { handle, render, sendEmail } from './index.js';
import { Fingerprint, formatMoney, isValidEmail } from './order-model.js';

/** The good sample as the workflow hands it to SendEmail: placed, authorized and screened. */
function doc(edit = () => {}) {
  const order = JSON.parse(readFileSync(new URL('../samples/good-order.json', import.meta.url), 'utf8'));
  edit(order);
  return {
    ...order,
    placedAt: '2025-11-24T09:30:00Z',
    totalCents: order.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
    itemCount: order.items.reduce((sum, item) => sum + item.quantity, 0),
    checks: {
      authorization: {
        authorizationId: 'auth_x',
        amountCents: 7194,
        currency: 'USD',
        cardBrand: 'Visa',
        last4: '4242',
      },
      fraud: { score: 0, threshold: 70, triggeredRules: [] },
    },
  };
}

test('renders the order into the message', () => {
  const email = render(doc());
  assert.equal(email.to, 'ada@example.com');
  assert.equal(email.subject, 'Your order ord-1000 is confirmed');
  const body = email.textBody;
  assert.ok(body.startsWith('Hi Ada,\n'));
  assert.ok(body.includes('2 x Ceramic mug, 350 ml'), body);
  assert.ok(body.includes('25.98 USD'), `line total of two mugs: ${body}`);
  assert.ok(body.includes('71.94 USD'), `order total: ${body}`);
  assert.ok(body.includes('Visa ending in 4242'));
  assert.ok(body.includes('  Suite 300\n  94105 San Francisco\n  US\n'));
  assert.ok(body.includes('Order placed 2025-11-24T09:30:00Z.'));
});

test('message ids are stable per order and recipient', () => {
  const first = render(doc()).messageId;
  assert.equal(render(doc()).messageId, first);
  const other = render(doc((order) => (order.customer.email = 'ada@example.org'))).messageId;
  assert.notEqual(other, first);
  assert.equal(first.length, 36);
  // The id the Rust original derives for the good sample.
  assert.equal(first, '4e5e5175-d5b8-8f78-aab6-14a167d18c00');
});

test('a bad address is InvalidOrder', () => {
  assert.throws(
    () => render(doc((order) => (order.customer.email = 'ada at example.com'))),
    (err) => {
      assert.ok(err instanceof TaskError);
      assert.equal(err.error, 'InvalidOrder');
      assert.deepEqual(JSON.parse(err.cause), {
        orderId: 'ord-1000',
        problems: [{ field: 'customer.email', problem: '"ada at example.com" is not an email address' }],
      });
      return true;
    },
  );
});

test('without an authorization the payment sentence is left out', () => {
  const document = doc();
  delete document.checks;
  assert.ok(!render(document).textBody.includes('reserved'));
});

test('the handler checks the input like the Rust function', () => {
  assert.equal(sendEmail(doc(), Context.forTest('SendEmail')).to, 'ada@example.com');

  const missing = doc();
  delete missing.placedAt;
  assert.throws(() => sendEmail(missing, Context.forTest()), {
    error: 'InvalidInput',
    cause: '$: missing field `placedAt`',
  });

  const badBrand = doc();
  badBrand.checks.authorization.cardBrand = 'Diners';
  assert.throws(() => sendEmail(badBrand, Context.forTest()), { error: 'InvalidInput' });
});

test('the export speaks the WIT signature: JSON text in, a result out', () => {
  const ctx = {
    functionName: 'send-email',
    executionId: 'arn:x',
    stateName: 'SendEmail',
    attempt: 1,
    remainingMillis: 1000n,
  };
  const ok = handle(JSON.stringify(doc()), ctx);
  assert.equal(ok.tag, 'ok');
  assert.equal(JSON.parse(ok.val).to, 'ada@example.com');
  assert.deepEqual(handle('{', ctx).tag, 'err');
});

test('the ported order-model helpers match the Rust ones', () => {
  assert.equal(formatMoney(0, 'USD'), '0.00 USD');
  assert.equal(formatMoney(100_000, 'USD'), '1,000.00 USD');
  assert.equal(formatMoney(123_456_789, 'GBP'), '1,234,567.89 GBP');
  assert.ok(isValidEmail('ada.lovelace+orders@mail.example.co.uk'));
  for (const bad of [
    'ada@example',
    'ada example@example.com',
    '@example.com',
    'ada@@example.com',
    'ada@-example.com',
    'ada@example.c0m',
  ]) {
    assert.ok(!isValidEmail(bad), bad);
  }
  const id = new Fingerprint('reservation').text('ord-1000');
  assert.equal(id.finish().toString(16).padStart(16, '0').length, 16);
  const split = (a, b) => new Fingerprint('x').text(a).text(b).finish();
  assert.notEqual(split('ab', 'c'), split('a', 'bc'));
});

test('with a provider configured, the message is posted to it with its id as idempotency key', (t) => {
  process.env.EMAIL_API_URL = 'https://mail.example/';
  process.env.EMAIL_API_KEY = 'k-1';
  const requests = [];
  http.useTransport((request) => {
    requests.push(request);
    const status = new TextDecoder().decode(request.body).includes('refuse@') ? 422 : 202;
    return { status, headers: [], body: new TextEncoder().encode('{"ok":true}') };
  });
  t.after(() => {
    http.useTransport(undefined);
    delete process.env.EMAIL_API_URL;
    delete process.env.EMAIL_API_KEY;
  });

  const email = sendEmail(doc(), Context.forTest('SendEmail'));
  const [request] = requests;
  assert.equal(request.method, 'POST');
  assert.equal(request.url, 'https://mail.example/emails');
  const headers = Object.fromEntries(request.headers);
  assert.equal(headers['idempotency-key'], email.messageId);
  assert.equal(headers.authorization, 'Bearer k-1');
  assert.equal(headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(request.body)), email);

  const refused = doc((order) => (order.customer.email = 'refuse@example.com'));
  assert.throws(() => sendEmail(refused, Context.forTest('SendEmail')), { error: 'Http.StatusCode.422' });
});
