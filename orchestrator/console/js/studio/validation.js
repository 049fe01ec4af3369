// The engine's own validation of the design: ValidateStateMachineDefinition on the current text,
// debounced, with each diagnostic tied to the state and the field its location points at.

import { sfn } from '../api.js';
import { debounce } from '../dom.js';
import { stateFromLocation } from '../components/editor.js';
import { indexStates } from './document.js';

const DELAY_MS = 250;

/**
 * Splits diagnostics by state: `byState` maps a qualified state id to its diagnostics, each with
 * `relative` (the location below the state, e.g. `Catch/0/Next`); `general` holds the others.
 */
export function placeDiagnostics(definition, diagnostics) {
  const { states } = indexStates(definition || {});
  const byState = new Map();
  const general = [];
  for (const d of diagnostics) {
    const id = stateFromLocation(d.location || '');
    const entry = id && states.get(id);
    if (!entry || !(d.location === entry.pointer || d.location.startsWith(`${entry.pointer}/`))) {
      general.push({ ...d, relative: (d.location || '').replace(/^\//, '') });
      continue;
    }
    const relative = d.location.slice(entry.pointer.length + 1).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!byState.has(id)) byState.set(id, []);
    byState.get(id).push({ ...d, relative });
  }
  return { byState, general };
}

export class Validator {
  /** @param {(result: {text, diagnostics, ok: boolean, errors: number} | {text, failure: Error}) => void} onResult */
  constructor(onResult) {
    this.onResult = onResult;
    this.seq = 0;
    this.soon = debounce((text) => this.run(text), DELAY_MS);
  }

  request(text) {
    this.seq++;
    this.soon(text);
  }

  async run(text) {
    const seq = ++this.seq;
    try {
      const result = await sfn('ValidateStateMachineDefinition', { definition: text });
      if (seq !== this.seq) return;
      const diagnostics = result.diagnostics || [];
      const errors = diagnostics.filter((d) => d.severity !== 'WARNING').length;
      this.onResult({ text, diagnostics, ok: result.result === 'OK' && errors === 0, errors, truncated: result.truncated });
    } catch (failure) {
      if (seq === this.seq) this.onResult({ text, failure });
    }
  }

  destroy() {
    this.soon.cancel();
    this.seq++;
  }
}
