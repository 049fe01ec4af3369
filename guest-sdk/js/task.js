// The handler contract: JSON in, JSON or a named error out.

import { host } from '#host';

/**
 * A named failure, reported to the workflow.
 *
 * `error` is the name the workflow's `Retry` and `Catch` rules match in `ErrorEquals`, so pick
 * names a workflow author can act on (`PaymentDeclined`, `CarrierUnavailable`) and keep them
 * stable. `cause` is free text or JSON (see {@link details}). Leave `States.` names to the engine
 * (the host replaces them with `Runtime.ReservedErrorName`) and `Runtime.` names to the host,
 * whose own failures they name.
 */
export class TaskError extends Error {
  /**
   * @param {string} error the name `Retry` and `Catch` match
   * @param {string} [cause] why, as text or JSON
   */
  constructor(error, cause = '') {
    super(cause ? `${error}: ${cause}` : error);
    this.name = 'TaskError';
    this.error = error;
    this.cause = cause;
  }
}

/**
 * `value` as JSON text, for a {@link TaskError} cause: a `Catch` handler can then read its fields
 * with `States.StringToJson($.Cause)`.
 *
 * @param {unknown} value
 * @returns {string}
 */
export function details(value) {
  return JSON.stringify(value);
}

/** What an invocation is running for. */
export class Context {
  #deadline;

  /**
   * @param {{functionName: string, executionId: string, stateName: string, attempt: number,
   *          remainingMillis: number | bigint}} fields
   */
  constructor({ functionName, executionId, stateName, attempt, remainingMillis }) {
    /** The name the function was deployed under. */
    this.functionName = functionName;
    /** The ARN of the workflow execution. */
    this.executionId = executionId;
    /** The name of the Task state being executed. */
    this.stateName = stateName;
    /** 1 on the first attempt, 2 on the first retry, and so on. */
    this.attempt = attempt;
    // The host's `remaining-millis` is a u64, which arrives as a BigInt.
    this.#deadline = performance.now() + Number(remainingMillis);
  }

  /** Milliseconds left before the host stops this call with `States.Timeout`. */
  remainingMillis() {
    return Math.max(0, Math.floor(this.#deadline - performance.now()));
  }

  /**
   * A context for calling a handler natively in unit tests.
   *
   * @param {string} [stateName]
   * @param {{attempt?: number, remainingMillis?: number, functionName?: string, executionId?: string}} [options]
   */
  static forTest(stateName = 'Test', options = {}) {
    const {
      attempt = 1,
      remainingMillis = 60_000,
      functionName = 'test',
      executionId = 'arn:aws:states:local:000000000000:execution:test:test',
    } = options;
    return new Context({ functionName, executionId, stateName, attempt, remainingMillis });
  }
}

/**
 * Wraps `fn` as the component's `handle` export: `export const handle = handler(fn)`.
 *
 * `fn(input, ctx)` receives the parsed JSON input and a {@link Context}, and returns (or resolves
 * to) any JSON-serialisable value; `undefined` is sent as `null`. Throw a {@link TaskError} (or
 * any object with a string `error` property, such as an `HttpError`) for a named failure. Any
 * other exception is reported to the host as a panic, and the call traps: the workflow sees
 * `Runtime.Panic` with the message and stack as cause.
 *
 * The returned function speaks the raw WIT signature (JSON text in, a `result` out); unit tests
 * call `fn` itself, which stays available as `handle.handler`.
 *
 * @template I, O
 * @param {(input: I, ctx: Context) => O | Promise<O>} fn
 */
export function handler(fn) {
  if (typeof fn !== 'function') {
    throw new TypeError('stepwasm.handler expects the handler function');
  }
  const handle = (input, witContext) => {
    let payload;
    try {
      payload = JSON.parse(input);
    } catch (err) {
      return failed(new TaskError('InvalidInput', `the input is not JSON: ${err.message}`));
    }
    let output;
    try {
      output = fn(payload, new Context(witContext));
    } catch (err) {
      return failed(err);
    }
    // ComponentizeJS runs the event loop until a returned promise settles, so async handlers
    // (and `await` inside them) work even though the export is synchronous.
    if (output !== null && typeof output === 'object' && typeof output.then === 'function') {
      return output.then(succeeded, failed);
    }
    return succeeded(output);
  };
  handle.handler = fn;
  return handle;
}

/** Whether a thrown value names its failure, as a `TaskError` does. */
export function isNamedFailure(thrown) {
  return thrown !== null && typeof thrown === 'object' && typeof thrown.error === 'string';
}

function succeeded(output) {
  let text;
  try {
    text = JSON.stringify(output === undefined ? null : output);
  } catch (err) {
    return failed(new TaskError('InvalidOutput', `the handler's result cannot be written as JSON: ${err.message}`));
  }
  if (text === undefined) {
    return failed(new TaskError('InvalidOutput', `the handler's result cannot be written as JSON: ${typeof output}`));
  }
  return { tag: 'ok', val: text };
}

function failed(thrown) {
  if (isNamedFailure(thrown)) {
    const cause = thrown.cause === undefined || thrown.cause === null ? '' : thrown.cause;
    return { tag: 'err', val: { error: thrown.error, cause: typeof cause === 'string' ? cause : details(cause) } };
  }
  host.reportPanic(panicReport(thrown));
  // Letting the exception out of the export traps the instance, which is what a panic must do:
  // ComponentizeJS's glue rethrows it, or fails to encode it as a task-error (it has no `error`
  // name) and aborts. An Error with its own `payload`, as ComponentizeJS's import errors have,
  // would be taken for the err result instead, so that one is wrapped.
  const plain = thrown instanceof Error && !Object.hasOwn(thrown, 'payload');
  throw plain ? thrown : new Error(panicReport(thrown));
}

/** The panic cause: the exception first (what a reader of the execution needs), then where. */
export function panicReport(thrown) {
  if (!(thrown instanceof Error)) {
    return `uncaught exception: ${String(thrown)}`;
  }
  const message = `${thrown.name}: ${thrown.message}`;
  return thrown.stack ? `${message}\n\n${thrown.stack.trimEnd()}` : message;
}
