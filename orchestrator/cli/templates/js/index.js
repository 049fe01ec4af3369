// {{name}}: a stepwasm task function.
//
// - Input: `{"name": "Ada"}`.
// - Output: `{"greeting": "Hello, Ada!", "attempt": 1}`.
// - Errors: `InvalidName` when `name` is missing or empty; its cause is JSON,
//   `{"field": "name", "problem": "..."}`, so a `Catch` can read it with `States.StringToJson($.Cause)`.

import * as stepwasm from './stepwasm/index.js';

/** Called once per Task-state attempt with the state's input; returns the state's result. */
export function greet(event, ctx) {
  const name = typeof event?.name === 'string' ? event.name.trim() : '';
  if (!name) {
    throw new stepwasm.TaskError(
      'InvalidName',
      stepwasm.details({ field: 'name', problem: 'must be a non-empty string' }),
    );
  }
  stepwasm.log.info('greeting', name, 'on attempt', ctx.attempt);
  return { greeting: `Hello, ${name}!`, attempt: ctx.attempt };
}

// The component's export: the SDK parses the input, serialises the result and names the errors.
export const handle = stepwasm.handler(greet);
