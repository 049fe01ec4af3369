// Small DOM and formatting helpers shared by every page. No framework: pages build elements with
// h() and keep references to the few nodes they patch later.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element. `attrs` keys: `class`, `style` (string), `dataset` (object), `on<Event>`
 * handlers, boolean properties (`disabled`, `hidden`, `checked`, ...), anything else as an attribute.
 * Children may be strings, nodes, arrays, or null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** Like h(), for SVG elements. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

const PROPERTIES = new Set(['disabled', 'hidden', 'checked', 'selected', 'value', 'readOnly', 'open']);

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false && !PROPERTIES.has(key)) continue;
    if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function debounce(fn, ms) {
  let timer = 0;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** Sets an attribute only when it changes, so live updates don't churn the DOM. */
export function setAttr(el, name, value) {
  const text = String(value);
  if (el.getAttribute(name) !== text) el.setAttribute(name, text);
}

// ---- formatting ----

const DATE_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3,
});

/** AWS dates are epoch seconds (floats). */
export function formatDate(seconds) {
  if (seconds == null || seconds === '') return '–';
  return DATE_FORMAT.format(new Date(Number(seconds) * 1000));
}

export function formatDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const totalSeconds = ms / 1000;
  if (totalSeconds < 60) return `${totalSeconds.toFixed(3).replace(/\.?0+$/, '')} s`;
  const seconds = Math.floor(totalSeconds % 60);
  const minutes = Math.floor(totalSeconds / 60) % 60;
  const hours = Math.floor(totalSeconds / 3600);
  if (hours) return `${hours} h ${minutes} min`;
  return `${minutes} min ${seconds} s`;
}

/** Duration between two epoch-second dates; a missing end means "until now". */
export function durationBetween(start, stop) {
  if (start == null) return null;
  const end = stop != null ? Number(stop) : Date.now() / 1000;
  return Math.max(0, (end - Number(start)) * 1000);
}

/** Pretty-prints JSON text; text that isn't JSON is shown as it is. */
/**
 * The executions a `states:startExecution` result names (its `ExecutionArn` fields, wherever
 * ResultSelector or ResultPath put them), from a JSON document given as text or as a value.
 */
export function startedExecutionArns(text) {
  let value = text;
  if (typeof text === 'string') {
    try { value = JSON.parse(text); } catch { return []; }
  }
  const found = new Set();
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [key, inner] of Object.entries(v)) {
        if (key === 'ExecutionArn' && typeof inner === 'string' && /:execution:[^:]+:[^:]+$/.test(inner)) found.add(inner);
        else walk(inner);
      }
    }
  };
  walk(value);
  return [...found];
}

export function prettyJson(text) {
  if (text == null) return '';
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// ---- shared UI bits ----

/** An alert box for an API error (or any Error). */
export function errorAlert(error, title) {
  const type = error?.type && error.type !== 'Error' ? error.type : null;
  return h('div', { class: 'alert alert-error', role: 'alert', 'data-testid': 'error' },
    h('strong', {}, title || type || 'Error'),
    title && type ? h('span', { class: 'alert-type' }, ` ${type}`) : null,
    h('div', { class: 'alert-message' }, error?.message || String(error)));
}

export function spinner(label = 'Loading') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ` ${label}…`);
}

/** AWS execution statuses -> badge colour class. */
const EXECUTION_TONE = {
  RUNNING: 'info', SUCCEEDED: 'success', FAILED: 'error', TIMED_OUT: 'error', ABORTED: 'neutral',
  PENDING_REDRIVE: 'info',
};

export function statusBadge(status, attrs = {}) {
  const tone = EXECUTION_TONE[status] || 'neutral';
  return h('span', { class: `badge badge-${tone}`, 'data-status': status, ...attrs }, status);
}

/** Console state statuses (not-started, in-progress, ...) -> human label. */
export const STATE_STATUS_LABEL = {
  'not-started': 'Not started',
  'in-progress': 'In progress',
  succeeded: 'Succeeded',
  failed: 'Failed',
  'caught-error': 'Caught error',
  cancelled: 'Cancelled',
  'timed-out': 'Timed out',
};

export function stateStatusBadge(status, attrs = {}) {
  const value = status || 'not-started';
  return h('span', { class: 'state-badge', 'data-status': value, ...attrs }, STATE_STATUS_LABEL[value] || value);
}

/** Key/value summary list (Cloudscape "key-value pairs"). */
export function keyValues(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([key, value, attrs]) =>
    h('div', { class: 'kv-item', ...(attrs || {}) }, h('dt', {}, key), h('dd', {}, value ?? '–'))));
}

let liveRegion = null;

/** Announces a status change to screen readers through the page's aria-live region. */
export function announce(message) {
  liveRegion ??= document.getElementById('live-region');
  if (!liveRegion) return;
  liveRegion.textContent = '';
  // A fresh text node after a tick makes repeated messages audible too.
  setTimeout(() => { liveRegion.textContent = message; }, 30);
}
