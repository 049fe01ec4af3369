// Native unit tests of the JavaScript SDK: `node --test` in guest-sdk/js.
//
// Outside Wasm the SDK uses host-native.js, so what is tested here is the SDK's own logic: JSON
// conversions, error mapping, panic reports, redirects and `wasi:http` codes.

import assert from 'node:assert/strict';
import { mock, test } from 'node:test';

import { Context, HttpError, TaskError, config, details, handler, http, log } from '../index.js';
import { panicReport } from '../task.js';

const witContext = { functionName: 'fn', executionId: 'arn:x', stateName: 'State', attempt: 2, remainingMillis: 5000n };

test('details are JSON text and task errors carry their name', () => {
  assert.equal(details({ sku: 'Ü-1', n: [1, 2] }), '{"sku":"Ü-1","n":[1,2]}');
  const failure = new TaskError('OutOfStock', 'none left');
  assert.equal(failure.message, 'OutOfStock: none left');
  assert.ok(failure instanceof Error);
});

test('the export returns the result as JSON text', async () => {
  const handle = handler((doc, ctx) => ({ got: doc, state: ctx.stateName, attempt: ctx.attempt }));
  assert.deepEqual(handle('{"a":1}', witContext), { tag: 'ok', val: '{"got":{"a":1},"state":"State","attempt":2}' });
  assert.deepEqual(handler(() => undefined)('{}', witContext), { tag: 'ok', val: 'null' });
  assert.deepEqual(await handler(async (doc) => doc)('[1]', witContext), { tag: 'ok', val: '[1]' });
  assert.equal(typeof handle.handler, 'function');
});

test('named failures become the err result', async () => {
  const failing = handler(() => {
    throw new TaskError('PaymentDeclined', 'card refused');
  });
  assert.deepEqual(failing('{}', witContext), { tag: 'err', val: { error: 'PaymentDeclined', cause: 'card refused' } });
  const asyncFailing = handler(async () => {
    throw new HttpError('Http.Timeout', 'GET https://x/: connection-timeout');
  });
  assert.deepEqual(await asyncFailing('{}', witContext), {
    tag: 'err',
    val: { error: 'Http.Timeout', cause: 'GET https://x/: connection-timeout' },
  });
  const plainObject = handler(() => {
    throw { error: 'Custom', cause: { why: 1 } };
  });
  assert.deepEqual(plainObject('{}', witContext), { tag: 'err', val: { error: 'Custom', cause: '{"why":1}' } });
});

test('bad input and unserialisable output have the SDK names', () => {
  const echo = handler((doc) => doc);
  assert.equal(echo('{oops', witContext).val.error, 'InvalidInput');
  assert.equal(handler(() => 10n)('{}', witContext).val.error, 'InvalidOutput');
  assert.equal(handler(() => () => 1)('{}', witContext).val.error, 'InvalidOutput');
});

test('other exceptions are reported as a panic, then rethrown to trap', () => {
  const stderr = mock.method(process.stderr, 'write', () => true);
  try {
    const crash = handler((doc) => doc.missing.field);
    assert.throws(() => crash('{}', witContext), TypeError);
    const written = stderr.mock.calls.map((call) => call.arguments[0]).join('');
    assert.match(written, /^\[PANIC\] TypeError: .*\n\n/);
    assert.throws(
      () =>
        handler(() => {
          throw 'text';
        })('{}', witContext),
      /text/,
    );
  } finally {
    stderr.mock.restore();
  }
  assert.equal(panicReport(42), 'uncaught exception: 42');
});

test('the context counts down from the host remaining time', () => {
  const ctx = new Context(witContext);
  assert.ok(ctx.remainingMillis() > 4000 && ctx.remainingMillis() <= 5000);
  assert.equal(Context.forTest('Charge', { attempt: 3 }).attempt, 3);
  assert.equal(Context.forTest().stateName, 'Test');
});

test('config reads the environment and logs go to stderr outside Wasm', () => {
  process.env.STEPWASM_TEST_KEY = 'k-1';
  assert.equal(config.get('STEPWASM_TEST_KEY'), 'k-1');
  assert.equal(config.get('STEPWASM_SURELY_UNSET'), undefined);
  const stderr = mock.method(process.stderr, 'write', () => true);
  try {
    log.info('order', 'ord-1', 'scored', 25, { a: 1 });
    assert.equal(stderr.mock.calls[0].arguments[0], '[INFO] order ord-1 scored 25 {"a":1}\n');
  } finally {
    stderr.mock.restore();
  }
});

/** Answers exchanges from a table of url -> [status, headers, body], recording the requests. */
function serve(routes) {
  const requests = [];
  http.useTransport((req) => {
    requests.push(req);
    const [status, headers, body] = routes[req.url];
    return { status, headers, body: new TextEncoder().encode(body) };
  });
  return requests;
}

test('a response is read whole', (t) => {
  t.after(() => http.useTransport(undefined));
  serve({
    'https://api.example.com/r': [
      200,
      [
        ['Content-Type', 'application/json'],
        ['X-A', '1'],
        ['x-a', '2'],
      ],
      '{"rate": 1.1}',
    ],
  });
  const response = http.get('https://api.example.com/r');
  assert.ok(response.ok);
  assert.deepEqual(response.headers, { 'content-type': 'application/json', 'x-a': '1, 2' });
  assert.deepEqual(response.json(), { rate: 1.1 });
  assert.equal(response.errorForStatus(), response);
});

test('error statuses and bad JSON have names when asked', (t) => {
  t.after(() => http.useTransport(undefined));
  serve({ 'https://api.example.com/gone': [404, [], '<html>gone</html>'] });
  const response = http.get('https://api.example.com/gone');
  assert.equal(response.ok, false);
  assert.throws(() => response.errorForStatus(), { error: 'Http.StatusCode.404', cause: '<html>gone</html>' });
  assert.throws(() => response.json(), { error: 'Http.InvalidResponse' });
});

test('methods with a body declare its length even when empty', (t) => {
  t.after(() => http.useTransport(undefined));
  const requests = serve({ 'https://api.example.com/c': [204, [], ''] });
  http.post('https://api.example.com/c');
  http.get('https://api.example.com/c');
  assert.deepEqual(requests[0].headers, [['content-length', '0']]);
  assert.deepEqual(requests[1].headers, []);
});

test('a 302 after a POST repeats as a GET, as browsers do', (t) => {
  t.after(() => http.useTransport(undefined));
  const requests = serve({
    'https://a.example/form': [302, [['location', '/thanks']], ''],
    'https://a.example/thanks': [200, [], ''],
  });
  http.post('https://a.example/form', { json: { a: 1 } });
  assert.deepEqual(
    requests.map((r) => r.method),
    ['POST', 'GET'],
  );
  assert.equal(Object.fromEntries(requests[1].headers)['content-type'], undefined);
});

test('a redirect to a non-HTTP URL is an invalid request', (t) => {
  t.after(() => http.useTransport(undefined));
  serve({ 'https://a.example/x': [301, [['location', 'ftp://files.example/x']], ''] });
  assert.throws(() => http.get('https://a.example/x'), { error: 'Http.InvalidRequest' });
});

test('json bodies are declared', (t) => {
  t.after(() => http.useTransport(undefined));
  const requests = serve({ 'https://api.example.com/c': [201, [], ''] });
  assert.equal(http.post('https://api.example.com/c', { json: { amount: '€5' } }).status, 201);
  const headers = Object.fromEntries(requests[0].headers);
  assert.equal(new TextDecoder().decode(requests[0].body), '{"amount":"€5"}');
  assert.equal(headers['content-type'], 'application/json');
  assert.equal(headers['content-length'], String(requests[0].body.length));
  assert.throws(() => http.post('https://api.example.com/c', { body: 'x', json: {} }), TypeError);
  assert.throws(() => http.post('https://api.example.com/c', { json: 10n }), { error: 'Http.InvalidRequest' });
});

test('redirects are followed and 303 becomes a GET', (t) => {
  t.after(() => http.useTransport(undefined));
  const requests = serve({
    'https://a.example/start': [307, [['Location', '/next']], ''],
    'https://a.example/next': [303, [['Location', 'https://b.example/done']], ''],
    'https://b.example/done': [200, [], 'ok'],
  });
  const response = http.post('https://a.example/start', {
    body: 'data',
    headers: { Authorization: 'Bearer s', 'X-Trace': 't' },
  });
  assert.equal(response.status, 200);
  assert.equal(response.url, 'https://b.example/done');
  assert.equal(response.text(), 'ok');
  const [first, second, third] = requests;
  assert.deepEqual([first.method, second.method, third.method], ['POST', 'POST', 'GET']);
  assert.equal(new TextDecoder().decode(second.body), 'data', 'a 307 keeps the method and the body');
  assert.equal(third.body, undefined);
  assert.equal(Object.fromEntries(second.headers).authorization, 'Bearer s', 'same origin keeps credentials');
  assert.equal(Object.fromEntries(third.headers).authorization, undefined, 'another origin does not get them');
  assert.equal(Object.fromEntries(third.headers)['x-trace'], 't');
});

test('more than five redirects is an HttpError', (t) => {
  t.after(() => http.useTransport(undefined));
  const routes = {};
  for (let n = 0; n < 10; n += 1) routes[`https://a.example/${n}`] = [302, [['location', `/${n + 1}`]], ''];
  const requests = serve(routes);
  assert.throws(() => http.get('https://a.example/0'), { name: 'HttpError', error: 'Http.TooManyRedirects' });
  assert.equal(requests.length, 6);
  assert.equal(http.get('https://a.example/0', { followRedirects: false }).status, 302);
});

test('wasi:http error codes map to named errors', (t) => {
  t.after(() => http.useTransport(undefined));
  const fail = (code, detail = '') => {
    http.useTransport(() => {
      throw Object.assign(new Error(code), { wasiHttp: { code, detail } });
    });
    try {
      http.get('https://api.example.com:8443/x');
    } catch (err) {
      return err;
    }
    assert.fail('no error');
  };
  const expectations = [
    ['HTTP-request-denied', 'Http.OriginNotAllowed'],
    ['HTTP-response-body-size', 'Http.ResponseTooLarge'],
    ['connection-read-timeout', 'Http.Timeout'],
    ['DNS-timeout', 'Http.Timeout'],
    ['DNS-error', 'Http.ConnectionFailed'],
    ['TLS-certificate-error', 'Http.ConnectionFailed'],
    ['HTTP-request-URI-invalid', 'Http.InvalidRequest'],
    ['connection-limit-reached', 'Http.Error'],
    ['HTTP-protocol-error', 'Http.Error'],
  ];
  for (const [code, name] of expectations) {
    const err = fail(code);
    assert.ok(err instanceof HttpError && err instanceof TaskError, code);
    assert.equal(err.error, name, code);
    assert.equal(err.code, code);
  }
  assert.match(fail('HTTP-request-denied').cause, /--allow-outbound https:\/\/api\.example\.com:8443$/);
  assert.equal(
    fail('DNS-error', 'rcode="NXDOMAIN"').cause,
    'GET https://api.example.com:8443/x: DNS-error (rcode="NXDOMAIN")',
  );
});

test('bad urls are invalid requests, and without a host requests fail clearly', () => {
  for (const url of ['ftp://x.example/', 'not a url', 'https://user:pw@x.example/']) {
    assert.throws(() => http.get(url), { error: 'Http.InvalidRequest' }, url);
  }
  assert.throws(() => http.get('https://api.example.com/'), /useTransport/);
});
