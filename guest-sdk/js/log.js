// Structured log lines, kept by the host with the invocation's report.
//
// `console.log` works too (stdout is captured, up to a size cap), but log lines keep their level:
//
//     log.info('order', orderId, 'scored', score);
//
// Arguments are joined with spaces, as console.log does; objects are written as JSON. Outside
// Wasm (a handler's native unit tests) lines go to stderr.

import { host } from '#host';

function format(args) {
  return args
    .map((arg) => {
      if (typeof arg === 'string') return arg;
      if (arg instanceof Error) return arg.stack || String(arg);
      if (typeof arg === 'bigint') return arg.toString();
      try {
        return JSON.stringify(arg) ?? String(arg);
      } catch {
        return String(arg);
      }
    })
    .join(' ');
}

/** Logs at `trace` level: detail that is only useful while debugging the function. */
export function trace(...args) {
  host.log('trace', format(args));
}

/** Logs at `debug` level. */
export function debug(...args) {
  host.log('debug', format(args));
}

/** Logs at `info` level: what the call did. */
export function info(...args) {
  host.log('info', format(args));
}

/** Logs at `warn` level: something a person may want to look at. */
export function warn(...args) {
  host.log('warn', format(args));
}

/** Logs at `error` level. */
export function error(...args) {
  host.log('error', format(args));
}
