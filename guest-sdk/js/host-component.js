// The host as seen from inside the component: the `stepwasm:task` world's imports.
//
// Only the component build reaches this module (the `stepwasm-component` condition of the
// `#host` import); ComponentizeJS provides the `stepwasm:*` and `wasi:*` modules it imports.

import { log, reportPanic } from 'stepwasm:task/host@0.1.0';
import { get as configGet } from 'wasi:config/store@0.2.0-rc.1';
import { handle as sendRequest } from 'wasi:http/outgoing-handler@0.2.12';
import {
  Fields,
  IncomingBody,
  OutgoingBody,
  OutgoingRequest,
  RequestOptions,
  httpErrorCode,
} from 'wasi:http/types@0.2.12';

// wasi:io output streams accept at most 4096 bytes per blocking write.
const WRITE_CHUNK = 4096;
const READ_CHUNK = 64n * 1024n;
const WIT_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const disposeSymbol = Symbol.dispose || Symbol.for('dispose');

/**
 * Drops a WASI resource now. Resources must go children first (a stream before its body, a
 * pollable before its future) or the host traps, so they are never left to the garbage collector.
 */
function drop(resource) {
  resource[disposeSymbol]();
}

/**
 * Thrown for a failed exchange; http.js turns it into an `HttpError` with the request's URL. The
 * name comes from `code` (a wasi:http error code) unless `name` gives it.
 */
function failure({ code, name, detail = '' }) {
  return Object.assign(new Error(code ? `wasi:http ${code}` : detail), { wasiHttp: { code, name, detail } });
}

/** The failure for an `error-code` variant: its WIT name, and its payload as text. */
function errorCodeFailure(errorCode) {
  const payload = errorCode.val;
  let detail = '';
  if (payload !== undefined && payload !== null) {
    detail =
      typeof payload === 'object'
        ? Object.entries(payload)
            .filter(([, value]) => value !== undefined && value !== null)
            .map(([key, value]) => `${key}=${JSON.stringify(typeof value === 'bigint' ? Number(value) : value)}`)
            .join(', ')
        : String(payload);
  }
  return failure({ code: errorCode.tag, detail });
}

/** The failure for a `stream-error` of a body read or write, with the HTTP error behind it. */
function streamFailure(streamError) {
  if (streamError.tag === 'closed') return failure({ detail: 'the connection closed early' });
  const ioError = streamError.val;
  try {
    const errorCode = httpErrorCode(ioError);
    if (errorCode) return errorCodeFailure(errorCode);
    // The debug string may go on with a host backtrace; its first line says what failed.
    const detail = ioError.toDebugString().trim().split('\n')[0];
    // wasmtime hands the error of a body cut at the host's cap over untyped (no error code); its
    // text is all there is to go on.
    const name = detail.includes('body size exceeds limit') ? 'Http.ResponseTooLarge' : 'Http.Error';
    return failure({ name, detail });
  } finally {
    drop(ioError);
  }
}

function witMethod(method) {
  return WIT_METHODS.has(method) ? { tag: method.toLowerCase() } : { tag: 'other', val: method };
}

function requestOptions(timeoutMs) {
  if (timeoutMs === undefined) return undefined;
  const options = new RequestOptions();
  const nanos = BigInt(Math.round(timeoutMs)) * 1_000_000n;
  options.setConnectTimeout(nanos);
  options.setFirstByteTimeout(nanos);
  options.setBetweenBytesTimeout(nanos);
  return options;
}

/** Writes and finishes the request body; returns a failure rather than throwing it, so that the
 * response's own error (an origin refused, say), which explains it better, can win. */
function writeBody(outgoingBody, body) {
  if (body !== undefined && body.length > 0) {
    const stream = outgoingBody.write();
    try {
      for (let start = 0; start < body.length; start += WRITE_CHUNK) {
        stream.blockingWriteAndFlush(body.subarray(start, start + WRITE_CHUNK));
      }
    } catch (err) {
      drop(stream);
      // Dropping the body unfinished tells the host the request is incomplete.
      drop(outgoingBody);
      return streamFailure(err.payload);
    }
    drop(stream);
  }
  try {
    OutgoingBody.finish(outgoingBody, undefined);
  } catch (err) {
    return errorCodeFailure(err.payload);
  }
  return undefined;
}

function readResponse(response) {
  const status = response.status();
  const headerFields = response.headers();
  const headers = headerFields.entries();
  drop(headerFields);
  const incomingBody = response.consume();
  const stream = incomingBody.stream();
  const chunks = [];
  let length = 0;
  try {
    for (;;) {
      let chunk;
      try {
        chunk = stream.blockingRead(READ_CHUNK);
      } catch (err) {
        if (err.payload?.tag === 'closed') break;
        throw streamFailure(err.payload);
      }
      chunks.push(chunk);
      length += chunk.length;
    }
  } finally {
    drop(stream);
  }
  drop(IncomingBody.finish(incomingBody));
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return { status, headers, body };
}

/** One request and its whole response, without redirects. */
function send({ method, url, headers, body, timeoutMs }) {
  const target = new URL(url);
  const encoder = new TextEncoder();
  const invalid = (detail) => failure({ name: 'Http.InvalidRequest', detail });
  let fields;
  try {
    fields = Fields.fromList(headers.map(([name, value]) => [name, encoder.encode(value)]));
  } catch (err) {
    throw invalid(`the host refuses these headers (${err.payload?.tag ?? err.message})`);
  }
  const outgoing = new OutgoingRequest(fields);
  try {
    outgoing.setMethod(witMethod(method));
    outgoing.setScheme({ tag: target.protocol === 'https:' ? 'HTTPS' : 'HTTP' });
    outgoing.setAuthority(target.host);
    outgoing.setPathWithQuery(`${target.pathname || '/'}${target.search}`);
  } catch {
    drop(outgoing);
    throw invalid('the method, host or path cannot be sent');
  }
  // The body must be taken before `handle` consumes the request, and written after it, so that a
  // large body streams out instead of filling a buffer nobody drains yet.
  const outgoingBody = outgoing.body();
  let future;
  try {
    future = sendRequest(outgoing, requestOptions(timeoutMs));
  } catch (err) {
    drop(outgoingBody);
    throw errorCodeFailure(err.payload);
  }
  let outcome;
  let writeFailure;
  try {
    writeFailure = writeBody(outgoingBody, body);
    const ready = future.subscribe();
    ready.block();
    drop(ready);
    outcome = future.get();
  } finally {
    drop(future);
  }
  if (outcome === undefined || outcome.tag === 'err') throw failure({ detail: 'no response' });
  if (outcome.val.tag === 'err') throw errorCodeFailure(outcome.val.val);
  if (writeFailure !== undefined) throw writeFailure;
  const response = outcome.val.val;
  try {
    return readResponse(response);
  } finally {
    drop(response);
  }
}

export const host = {
  inComponent: true,
  log,
  reportPanic,
  configGet(name) {
    try {
      return configGet(name) ?? undefined;
    } catch (err) {
      // A host-side failure, not something a workflow can act on: let it become a panic.
      throw new Error(`reading configuration ${JSON.stringify(name)} failed: ${JSON.stringify(err.payload)}`);
    }
  },
  send,
};
