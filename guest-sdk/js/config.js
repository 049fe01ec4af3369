// The function's configuration: its deployed variables and the server secrets it was granted.
//
// Both come through `wasi:config/store`, by name:
//
//     const apiKey = config.get('PAYMENTS_API_KEY');
//     if (apiKey === undefined) throw new TaskError('NotConfigured', 'PAYMENTS_API_KEY is not set');
//
// A granted secret wins over a variable of the same name. Secret values are masked wherever the
// host records text the function produced (logs, stdout, stderr, error causes and the output).
// Outside Wasm (native unit tests) `get` reads the environment variable of the same name.

import { host } from '#host';

/**
 * The value of `name`, or `undefined` when the function has no variable or secret of that name.
 *
 * @param {string} name
 * @returns {string | undefined}
 */
export function get(name) {
  return host.configGet(name);
}
