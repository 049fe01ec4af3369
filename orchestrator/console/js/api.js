// The server's two APIs: the AWS Step Functions JSON 1.0 protocol at `POST /`, and the console's
// read endpoints under `/console/api`. Paths are absolute because pages live behind hash routes.

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/stepwasm';

/** An AWS-shaped error: `type` is the `__type` without its namespace (e.g. ValidationException). */
export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.name = 'ApiError';
    this.type = type;
    this.status = status;
  }
}

async function send(path, init) {
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError('NetworkError', `Could not reach the stepwasm server (${error.message}).`, 0);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // Non-JSON bodies (a proxy's error page, say) are reported as text below.
  }
  if (!response.ok) {
    const type = String(body?.__type || '').split('#').pop() || `HTTP ${response.status}`;
    // The session ended (it expired, or its key was removed): sign in again.
    if (type === 'MissingAuthenticationTokenException') location.hash = '#/sign-in';
    const message = body?.message || body?.Message || text.trim() || response.statusText;
    throw new ApiError(type, message, response.status);
  }
  if (body === null) throw new ApiError('InvalidResponse', `The server sent something that is not JSON: ${text.slice(0, 200)}`, response.status);
  return body;
}

/** Calls one Step Functions operation, e.g. sfn('ListStateMachines', {maxResults: 50}). */
export function sfn(operation, body = {}) {
  return send('/', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `AWSStepFunctions.${operation}`,
    },
    body: JSON.stringify(body),
  });
}

const enc = encodeURIComponent;

export const consoleApi = {
  stateMachineGraph: (arn) => send(`/console/api/state-machines/${enc(arn)}/graph`).then((r) => r.graph),
  executionGraph: (arn) => send(`/console/api/executions/${enc(arn)}/graph`).then((r) => r.graph),
  /**
   * Per-state progress. With `scope` ({map, index}) the states inside that Map are projected from
   * one iteration only; the Map itself and every other state keep their aggregate. Only the
   * state `details` names (none when null) carries its input and output: payloads can be large,
   * and this is refetched while an execution runs.
   */
  progress: (arn, scope, details) => {
    const query = new URLSearchParams({ details: details ?? '' });
    if (scope) {
      query.set('map', scope.map);
      query.set('iteration', String(scope.index));
    }
    return send(`/console/api/executions/${enc(arn)}/progress?${query}`);
  },
  /** The graph of a definition that is not saved yet (the editor's live preview). */
  previewGraph: (definition) => send('/console/api/graph', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: definition,
  }).then((r) => r.graph),
  eventsUrl: (arn) => `/console/api/executions/${enc(arn)}/events`,
  /** Fires the execution's earliest timer now (a Wait, a retry back-off). */
  nextTimer: (arn) => send(`/console/api/executions/${enc(arn)}/next-timer`, { method: 'POST' }),
};

export const TERMINAL_EVENTS = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

// ---- hash routes ----

export const routes = {
  machines: () => '#/',
  machine: (arn, tab) => `#/state-machines/${enc(arn)}${tab ? `?tab=${tab}` : ''}`,
  execution: (arn) => `#/executions/${enc(arn)}`,
  /** Workflow Studio: a new state machine (from a template), or an existing one. */
  studio: (arn, template) => (arn ? `#/studio/${enc(arn)}` : `#/studio${template ? `?template=${template}` : ''}`),
};
