// Form fields of the inspector. Each field is `div.field[data-field=<pointer>]`, where the pointer
// is relative to the state (`ResultPath`, `Catch/0/Next`), so an engine diagnostic at
// `/States/<name>/<pointer>` finds its field; its error shows in `[data-testid=field-error-<pointer>]`.
// Values are written as typed: a number field holding "abc" writes the string, and the engine's
// own validation says what is wrong with it.

import { h } from '../dom.js';

/** Marks "no change": the typed text cannot be written yet (e.g. JSON that does not parse). */
export const INVALID = Symbol('invalid');

const PARSE = {
  text: (text) => (text === '' ? undefined : text),
  number: (text) => {
    if (text.trim() === '') return undefined;
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  },
  json: (text) => {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return INVALID;
    }
  },
  select: (text) => (text === '' ? undefined : text),
  boolean: (text) => (text === '' ? undefined : text === 'true'),
};

function show(kind, value) {
  if (value === undefined) return '';
  if (kind === 'json') return JSON.stringify(value, null, 2);
  if (kind === 'boolean') return String(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * One labelled input. `onChange(value)` gets the parsed value (undefined: remove the key).
 * `options` for selects: [[value, label], ...].
 */
export function field({ key, label, kind = 'text', value, options, hint, onChange, placeholder, id }) {
  const testid = `field-${key}`;
  const inputId = id || `studio-${key.replace(/[^A-Za-z0-9]/g, '-')}`;
  const error = h('div', { class: 'field-error', role: 'alert', hidden: true, 'data-testid': `field-error-${key}` });
  const attrs = { id: inputId, 'data-testid': testid, 'aria-describedby': `${inputId}-error` };
  error.id = `${inputId}-error`;
  let input;
  if (kind === 'select' || kind === 'boolean') {
    const choices = kind === 'boolean' ? [['', '–'], ['true', 'true'], ['false', 'false']] : options;
    input = h('select', { class: 'select', ...attrs }, choices.map(([v, text]) => h('option', { value: v }, text)));
    input.value = show(kind, value);
  } else if (kind === 'json') {
    input = h('textarea', { class: 'code-editor code-editor-small', spellcheck: 'false', placeholder, ...attrs });
    input.value = show(kind, value);
    input.rows = Math.min(10, Math.max(2, input.value.split('\n').length));
  } else {
    input = h('input', { class: 'input', autocomplete: 'off', spellcheck: 'false', placeholder, ...attrs });
    input.value = show(kind, value);
  }
  const local = (message) => {
    error.textContent = message;
    error.hidden = !message;
    error.dataset.source = 'form';
    input.setAttribute('aria-invalid', message ? 'true' : 'false');
  };
  input.addEventListener(kind === 'select' || kind === 'boolean' ? 'change' : 'input', () => {
    const parsed = PARSE[kind](input.value);
    if (parsed === INVALID) {
      local('Not valid JSON yet.');
      return;
    }
    if (error.dataset.source === 'form') local('');
    onChange(parsed);
  });
  return h('div', { class: 'field', 'data-field': key },
    h('label', { for: inputId }, label),
    hint ? h('div', { class: 'field-hint' }, hint) : null,
    input,
    error);
}

/** A small group of fields under a heading. */
export function section(title, ...children) {
  const content = children.flat().filter(Boolean);
  if (!content.length) return null;
  return h('fieldset', { class: 'studio-section' }, h('legend', {}, title), content);
}

/** Sets or removes `key` of `object`, keeping the other keys where they are. */
export function assign(object, key, value) {
  if (value === undefined) delete object[key];
  else object[key] = value;
}

/** A comma-separated list of error names <-> an array. */
export function listField({ key, label, value, onChange, hint }) {
  return field({
    key, label, hint, value: Array.isArray(value) ? value.join(', ') : value,
    onChange: (text) => onChange(text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean)),
  });
}

/**
 * Shows diagnostics at their fields inside `root`: each goes to the field whose pointer is the
 * longest prefix of its location; the rest are returned for the form's general list.
 */
export function showDiagnostics(root, diagnostics) {
  for (const error of root.querySelectorAll('.field-error')) {
    if (error.dataset.source === 'engine') {
      error.textContent = '';
      error.hidden = true;
      delete error.dataset.source;
      error.previousElementSibling?.setAttribute('aria-invalid', 'false');
    }
  }
  const fields = [...root.querySelectorAll('.field[data-field]')];
  const unplaced = [];
  for (const d of diagnostics) {
    let best = null;
    for (const f of fields) {
      const key = f.dataset.field;
      if ((d.relative === key || d.relative.startsWith(`${key}/`)) && (!best || key.length > best.dataset.field.length)) best = f;
    }
    const error = best?.querySelector(':scope > .field-error');
    if (!error || error.dataset.source === 'form') {
      unplaced.push(d);
      continue;
    }
    error.textContent = error.dataset.source === 'engine' ? `${error.textContent} ${d.message}` : d.message;
    error.dataset.source = 'engine';
    error.dataset.code = d.code || '';
    error.dataset.severity = d.severity || 'ERROR';
    error.hidden = false;
    error.previousElementSibling?.setAttribute('aria-invalid', 'true');
  }
  return unplaced;
}
