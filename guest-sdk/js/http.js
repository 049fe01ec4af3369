// A small blocking HTTP client over `wasi:http/outgoing-handler`.
//
//     const rate = http.get('https://api.example.com/rates/EUR').errorForStatus().json();
//     const receipt = http.post('https://api.example.com/charges', { json: { amount: 1299 } });
//
// Calls are synchronous: the component blocks on the host until the whole response is read, so a
// handler needs no `async`. A request reaches only the origins the function was deployed with
// (`--allow-outbound`). Every failure throws an `HttpError` whose `error` says what went wrong;
// left uncaught, it fails the task with that name, which the workflow can `Retry` or `Catch`. The
// names are the Rust SDK's, so a workflow need not know which language a function is in:
//
// | `error`                 | when                                                                |
// |-------------------------|---------------------------------------------------------------------|
// | `Http.OriginNotAllowed` | the origin is not in the function's allow-list (HTTP-request-denied) |
// | `Http.Timeout`          | connecting, or waiting for the response, took too long              |
// | `Http.ConnectionFailed` | DNS, connection refused or reset, TLS                               |
// | `Http.ResponseTooLarge` | the response body is larger than the host's cap                     |
// | `Http.TooManyRedirects` | more than five redirects                                            |
// | `Http.InvalidRequest`   | the URL, a header or the body cannot be sent as given               |
// | `Http.InvalidResponse`  | `response.json()` on a body that is not JSON                        |
// | `Http.StatusCode.NNN`   | `response.errorForStatus()` on a 4xx or 5xx status                  |
// | `Http.Error`            | anything else; the wasi:http error code is in the cause             |
//
// A response with an error status (404, 500...) is not an exception by itself: check
// `response.status`, or call `errorForStatus()`. Redirects (301, 302, 303, 307, 308) are followed,
// at most five, each as a new request that the host checks against the allow-list again; a 303, or
// a 301 or 302 after a POST, turns the request into a GET, as browsers do.

import { host } from '#host';
import { TaskError } from './task.js';

/** Redirects followed before giving up with `Http.TooManyRedirects`. */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Credentials meant for one origin must not be handed to another by a redirect.
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
const TIMEOUT_CODES = new Set([
  'DNS-timeout',
  'connection-timeout',
  'connection-read-timeout',
  'connection-write-timeout',
  'HTTP-response-timeout',
]);
const CONNECTION_CODES = new Set([
  'DNS-error',
  'destination-not-found',
  'destination-unavailable',
  'destination-IP-prohibited',
  'destination-IP-unroutable',
  'connection-refused',
  'connection-terminated',
  'TLS-protocol-error',
  'TLS-certificate-error',
  'TLS-alert-received',
]);
const INVALID_REQUEST_CODES = new Set([
  'HTTP-request-method-invalid',
  'HTTP-request-URI-invalid',
  'HTTP-request-URI-too-long',
  'HTTP-request-header-size',
  'HTTP-request-header-section-size',
  'HTTP-request-body-size',
]);
// Methods that carry a body, and so a Content-Length even when it is empty: some servers refuse
// them without one (411 Length Required).
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** A request that got no usable response; `error` is one of the `Http.*` names above. */
export class HttpError extends TaskError {
  /**
   * @param {string} error
   * @param {string} cause
   * @param {{method?: string, url?: string, code?: string}} [about]
   */
  constructor(error, cause, { method, url, code } = {}) {
    super(error, cause);
    this.name = 'HttpError';
    /** The request's method and URL (the last hop's, after redirects). */
    this.method = method;
    this.url = url;
    /** The `wasi:http` error code, such as `connection-refused`, when the host gave one. */
    this.code = code;
  }
}

/** A complete response: the body has been read. */
export class Response {
  /**
   * @param {number} status
   * @param {Record<string, string>} headers names in lower case; repeated headers joined with ", "
   * @param {Uint8Array} body
   * @param {string} url the URL that answered, after redirects
   */
  constructor(status, headers, body, url) {
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.url = url;
  }

  /** Whether the status is 2xx. */
  get ok() {
    return this.status >= 200 && this.status < 300;
  }

  /** The body as text, in the `Content-Type` charset, else UTF-8. */
  text() {
    const charset = /charset="?([\w.:-]+)/i.exec(this.headers['content-type'] ?? '')?.[1] ?? 'utf-8';
    try {
      return new TextDecoder(charset).decode(this.body);
    } catch {
      return new TextDecoder('utf-8').decode(this.body);
    }
  }

  /** The body parsed as JSON; `Http.InvalidResponse` if it is not JSON. */
  json() {
    try {
      return JSON.parse(this.text());
    } catch (err) {
      throw new HttpError('Http.InvalidResponse', `${this.url} answered ${err.message}`, { url: this.url });
    }
  }

  /**
   * The response itself for a 1xx to 3xx status; `Http.StatusCode.NNN` for a 4xx or 5xx, with the
   * body as cause: the names the engine's own HTTP Task uses under `States.`.
   */
  errorForStatus() {
    if (this.status >= 400) {
      throw new HttpError(`Http.StatusCode.${this.status}`, this.text(), { url: this.url });
    }
    return this;
  }
}

/**
 * Sends a request and reads the whole response.
 *
 * `body` (a string, sent as UTF-8, or bytes) is sent as is; `json` is serialised and sent with
 * `Content-Type: application/json` instead. `timeoutMs` bounds connecting and each wait for data;
 * the host also bounds every request by the time the call has left. Throws an {@link HttpError}
 * for every failure, `Http.InvalidRequest` included (a URL that is not `http(s)://host/...`, a
 * header the host forbids such as `Host` or `Connection`).
 *
 * @param {string} method
 * @param {string} url
 * @param {{headers?: Record<string, string>, body?: string | Uint8Array | ArrayBuffer, json?: unknown,
 *          timeoutMs?: number, followRedirects?: boolean}} [options]
 * @returns {Response}
 */
export function request(method, url, options = {}) {
  const { headers = {}, body, json, timeoutMs, followRedirects = true } = options;
  method = method.toUpperCase();
  let headerList = Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]);
  let payload = encodeBody(method, url, body, json, headerList);
  const firstUrl = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    checkUrl(method, url);
    const raw = exchange({ method, url, headers: headerList, body: payload, timeoutMs });
    const response = new Response(raw.status, headerObject(raw.headers), raw.body, url);
    const location = response.headers.location;
    if (!followRedirects || !REDIRECT_STATUSES.has(raw.status) || location === undefined) {
      return response;
    }
    let target;
    try {
      target = new URL(location, url).href;
    } catch {
      throw invalidRequest(method, url, `redirected to ${JSON.stringify(location)}, which is not a URL`);
    }
    const becomesGet = raw.status === 303 || ((raw.status === 301 || raw.status === 302) && method === 'POST');
    if (becomesGet && method !== 'HEAD') {
      method = 'GET';
      payload = undefined;
      headerList = headerList.filter(([name]) => name !== 'content-type' && name !== 'content-length');
    }
    if (originOf(target) !== originOf(url)) {
      headerList = headerList.filter(([name]) => !CREDENTIAL_HEADERS.has(name));
    }
    url = target;
  }
  const cause = `${firstUrl}: more than ${MAX_REDIRECTS} redirects, the last to ${url}`;
  throw new HttpError('Http.TooManyRedirects', cause, { method, url });
}

/** `request('GET', url, options)`. */
export function get(url, options = {}) {
  return request('GET', url, options);
}

/** `request('POST', url, options)`, with `options.body` or `options.json` as the body. */
export function post(url, options = {}) {
  return request('POST', url, options);
}

/** The `Http.*` name for a `wasi:http` error code. */
export function errorName(code) {
  if (code === 'HTTP-request-denied') return 'Http.OriginNotAllowed';
  if (code === 'HTTP-response-body-size') return 'Http.ResponseTooLarge';
  if (TIMEOUT_CODES.has(code)) return 'Http.Timeout';
  if (CONNECTION_CODES.has(code)) return 'Http.ConnectionFailed';
  if (INVALID_REQUEST_CODES.has(code)) return 'Http.InvalidRequest';
  return 'Http.Error';
}

const hostTransport = (req) => host.send(req);
let transport = hostTransport;

/**
 * Replaces what sends requests, for native unit tests of code that uses this client; `undefined`
 * restores the host's. The transport gets `{method, url, headers: [[name, value]], body, timeoutMs}`
 * for one exchange (redirects are followed above it) and returns
 * `{status, headers: [[name, value]], body: Uint8Array}`. Returns the previous transport.
 *
 * @param {((req: object) => {status: number, headers: [string, string | Uint8Array][], body: Uint8Array})
 *          | undefined} fn
 */
export function useTransport(fn) {
  const previous = transport;
  transport = fn ?? hostTransport;
  return previous;
}

/** One exchange, without redirects; host failures become `HttpError`s. */
function exchange(req) {
  try {
    return transport(req);
  } catch (err) {
    // A failure the host reported: `{code}` (a wasi:http error code), or `{name}` when the SDK
    // knows the name without one, and a `detail` either way.
    const failure = err?.wasiHttp;
    if (failure === undefined) throw err;
    const { method, url } = req;
    const { code, detail } = failure;
    const name = failure.name ?? (code === undefined ? 'Http.Error' : errorName(code));
    let cause = `${method} ${url}: ` + (code === undefined ? detail : `${code}${detail ? ` (${detail})` : ''}`);
    if (name === 'Http.OriginNotAllowed') {
      cause += `; deploy the function with --allow-outbound ${originOf(url)}`;
    }
    throw new HttpError(name, cause, { method, url, code });
  }
}

function invalidRequest(method, url, why) {
  return new HttpError('Http.InvalidRequest', `${method} ${url}: ${why}`, { method, url });
}

function encodeBody(method, url, body, json, headerList) {
  const names = new Set(headerList.map(([name]) => name));
  if (json !== undefined) {
    if (body !== undefined) throw new TypeError('pass either body or json, not both');
    try {
      body = JSON.stringify(json);
    } catch (err) {
      throw invalidRequest(method, url, `the JSON body cannot be written: ${err.message}`);
    }
    if (!names.has('content-type')) headerList.push(['content-type', 'application/json']);
  }
  if ((body === undefined || body === null) && !BODY_METHODS.has(method)) return undefined;
  let bytes;
  if (body === undefined || body === null) bytes = new Uint8Array(0);
  else if (typeof body === 'string') bytes = new TextEncoder().encode(body);
  else if (body instanceof Uint8Array) bytes = body;
  else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
  else throw new TypeError('body must be a string, a Uint8Array or an ArrayBuffer; use json for objects');
  // A declared length lets servers that refuse chunked uploads accept the request.
  if (!names.has('content-length')) headerList.push(['content-length', String(bytes.length)]);
  return bytes;
}

/** Throws `Http.InvalidRequest` unless `url` is an http(s) URL with a host and no credentials. */
function checkUrl(method, url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidRequest(method, url, 'not an http:// or https:// URL with a host');
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    throw invalidRequest(method, url, 'not an http:// or https:// URL with a host');
  }
  if (parsed.username || parsed.password) {
    throw invalidRequest(method, url, 'the URL carries credentials; send them in a header instead');
  }
}

/** `scheme://host[:port]`, as `--allow-outbound` takes it. */
function originOf(url) {
  return new URL(url).origin;
}

function headerObject(raw) {
  const merged = {};
  // Latin-1 maps every byte to a character, so no header value can fail to decode.
  const latin1 = new TextDecoder('latin1');
  for (const [name, value] of raw) {
    const key = name.toLowerCase();
    const text = typeof value === 'string' ? value : latin1.decode(value);
    merged[key] = key in merged ? `${merged[key]}, ${text}` : text;
  }
  return merged;
}
