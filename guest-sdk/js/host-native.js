// The host as seen outside Wasm, where a handler's native unit tests run (`node --test`).
//
// Chosen by the `#host` import of package.json: the component build resolves `#host` with the
// `stepwasm-component` condition to host-component.js instead, so the WIT imports it makes never
// reach Node.js, which could not load them.

export const host = {
  inComponent: false,

  log(level, message) {
    process.stderr.write(`[${level.toUpperCase()}] ${message}\n`);
  },

  reportPanic(message) {
    process.stderr.write(`[PANIC] ${message}\n`);
  },

  // Environment variables stand in for the deployed configuration, so a test can set them.
  configGet(name) {
    return process.env[name];
  },

  send() {
    throw new Error(
      'stepwasm http needs the stepwasm host; in native tests, answer requests with ' +
        'http.useTransport((request) => ({ status, headers, body }))',
    );
  },
};
