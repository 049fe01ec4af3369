// The definition editor ("Studio-lite"): a textarea validated by the server as you type, the
// diagnostics as a list that points at states, and a live graph preview that keeps the last good
// graph while the text is invalid.

import { ApiError, consoleApi, sfn } from '../api.js';
import { announce, debounce, h } from '../dom.js';
import { GraphView } from '../graph/view.js';

const VALIDATE_DELAY_MS = 300;

/**
 * The qualified id of the state a diagnostic location points at ('' for the whole document).
 * Locations are JSON pointers such as /States/A/Branches/0/States/B/Next; ids qualify nested
 * states the way the graph does (A/0/B, and Map/Inner for a Map's processor).
 */
export function stateFromLocation(location) {
  if (!location) return '';
  const parts = location.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let prefix = '';
  let current = '';
  let i = 0;
  while (i + 1 < parts.length && parts[i] === 'States') {
    current = prefix + parts[i + 1];
    i += 2;
    if (parts[i] === 'Branches' && /^\d+$/.test(parts[i + 1] ?? '')) {
      prefix = `${current}/${parts[i + 1]}/`;
      i += 2;
    } else if (parts[i] === 'ItemProcessor' || parts[i] === 'Iterator') {
      prefix = `${current}/`;
      i += 1;
    } else {
      break;
    }
  }
  return current;
}

export class DefinitionEditor {
  /**
   * @param {{initial: string, onValidity?: (valid: boolean) => void, preview?: boolean, onInput?: () => void}} options
   */
  constructor(options) {
    this.options = options;
    this.valid = false;
    this.seq = 0;
    this.lastGraph = null;
    this.previewUnavailable = false;

    this.textarea = h('textarea', {
      class: 'code-editor', 'data-testid': 'definition-editor',
      'aria-label': 'State machine definition (ASL JSON)', spellcheck: 'false', autocomplete: 'off',
      autocapitalize: 'off', wrap: 'off', rows: 24, 'aria-describedby': 'definition-status',
      onInput: () => this.changed(),
    });
    this.textarea.value = options.initial || '';
    this.status = h('div', {
      class: 'validation-status', id: 'definition-status', 'data-testid': 'validation-status',
      role: 'status', 'data-result': 'pending',
    }, 'Checking…');
    this.diagnostics = h('ul', { class: 'diagnostics', 'data-testid': 'diagnostics', 'aria-label': 'Problems' });
    const format = h('button', {
      type: 'button', class: 'btn btn-small', 'data-testid': 'format-definition',
      onClick: () => this.format(),
    }, 'Format JSON');

    this.graph = options.preview === false ? null : new GraphView({ label: 'Definition preview', legend: 'edges' });
    this.el = h('div', { class: 'editor-layout' },
      h('div', { class: 'editor-main' },
        h('div', { class: 'editor-toolbar' }, this.status, format),
        this.textarea,
        this.diagnostics),
      this.graph ? h('div', { class: 'editor-preview' }, h('h3', { class: 'pane-title' }, 'Preview'), this.graph.el) : null);

    this.validateSoon = debounce(() => this.validate(), VALIDATE_DELAY_MS);
    this.validate();
  }

  get value() {
    return this.textarea.value;
  }

  setValue(text) {
    this.textarea.value = text;
    this.changed();
  }

  changed() {
    this.setValid(false);
    this.setStatus('pending', 'Checking…');
    this.options.onInput?.();
    this.validateSoon();
  }

  format() {
    try {
      this.setValue(JSON.stringify(JSON.parse(this.textarea.value), null, 2));
    } catch {
      // Invalid JSON stays as it is; the diagnostics already say where.
    }
  }

  setValid(valid) {
    if (this.valid === valid) return;
    this.valid = valid;
    this.options.onValidity?.(valid);
  }

  setStatus(result, text) {
    this.status.dataset.result = result;
    this.status.textContent = text;
  }

  async validate() {
    const seq = ++this.seq;
    const definition = this.textarea.value;
    let result;
    try {
      result = await sfn('ValidateStateMachineDefinition', { definition });
    } catch (error) {
      if (seq !== this.seq) return;
      this.setStatus('error', `Could not check the definition: ${error.message}`);
      this.renderDiagnostics([]);
      return;
    }
    if (seq !== this.seq) return;
    const diagnostics = result.diagnostics || [];
    this.renderDiagnostics(diagnostics, result.truncated);
    if (result.result === 'OK') {
      const warnings = diagnostics.filter((d) => d.severity === 'WARNING').length;
      const noted = warnings ? `, ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}` : '';
      this.setStatus('ok', `Valid definition (OK)${noted}`);
      this.setValid(true);
      this.updatePreview(definition, seq);
    } else {
      const errors = diagnostics.filter((d) => d.severity !== 'WARNING').length || diagnostics.length;
      this.setStatus('error', `${errors} ${errors === 1 ? 'problem' : 'problems'} found`);
      this.setValid(false);
      this.markInvalid(diagnostics);
      announce(`The definition has ${errors} ${errors === 1 ? 'problem' : 'problems'}`);
    }
  }

  async updatePreview(definition, seq) {
    if (!this.graph) return;
    this.graph.setInvalid(new Map());
    if (this.previewUnavailable) return;
    try {
      const graph = await consoleApi.previewGraph(definition);
      if (seq !== this.seq) return;
      this.lastGraph = graph;
      this.graph.showMessage('');
      await this.graph.setGraph(graph);
    } catch (error) {
      if (seq !== this.seq) return;
      if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
        this.previewUnavailable = true;
        this.graph.showMessage('This server cannot draw a preview of unsaved definitions.');
      } else {
        this.graph.showMessage(`No preview: ${error.message}`);
      }
    }
  }

  /** Resolves a diagnostic's state to an id that exists in the preview, if any. */
  resolveState(location) {
    const id = stateFromLocation(location);
    if (!id || !this.graph || this.graph.states.has(id)) return id;
    const name = id.split('/').pop();
    for (const [key, refs] of this.graph.states) if (refs.meta.state.name === name) return key;
    return id;
  }

  markInvalid(diagnostics) {
    if (!this.graph) return;
    const marks = new Map();
    for (const d of diagnostics) {
      const id = this.resolveState(d.location);
      if (!id) continue;
      if (!marks.has(id)) marks.set(id, []);
      marks.get(id).push(`${d.code}: ${d.message}`);
    }
    this.graph.setInvalid(marks);
  }

  renderDiagnostics(diagnostics, truncated) {
    this.diagnostics.replaceChildren(...diagnostics.map((d) => {
      const id = this.resolveState(d.location);
      const name = id ? id.split('/').pop() : '';
      return h('li', {
        class: 'diagnostic', 'data-code': d.code || '', 'data-location': d.location || '', 'data-state': id,
        'data-severity': d.severity || 'ERROR',
      }, h('button', { type: 'button', class: 'diagnostic-button', onClick: () => this.reveal(d, id) },
        h('span', { class: 'diagnostic-severity', 'aria-hidden': 'true' }, d.severity === 'WARNING' ? '⚠' : '✕'),
        h('span', { class: 'diagnostic-text' },
          h('span', { class: 'diagnostic-head' },
            h('strong', { class: 'diagnostic-state' }, name || 'Definition'),
            h('code', { class: 'diagnostic-code' }, d.code || ''),
            d.location ? h('span', { class: 'diagnostic-location' }, d.location) : null),
          h('span', { class: 'diagnostic-message' }, d.message || ''))));
    }));
    if (truncated) this.diagnostics.append(h('li', { class: 'diagnostic-more' }, 'More problems were found than are listed.'));
  }

  /** Selects the state a diagnostic points at, and puts the caret on it in the text. */
  reveal(diagnostic, id) {
    if (id && this.graph) this.graph.select(id);
    const text = this.textarea.value;
    let start = -1;
    let end = -1;
    const at = /line (\d+) column (\d+)/.exec(diagnostic.message || '');
    if (!diagnostic.location && at) {
      const lines = text.split('\n');
      const line = Math.min(Number(at[1]), lines.length) - 1;
      start = lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, Number(at[2]) - 1);
      end = start;
    } else if (id) {
      const name = id.split('/').pop();
      const key = new RegExp(`"${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`).exec(text);
      if (key) {
        start = key.index;
        end = key.index + name.length + 2;
      }
    }
    if (start < 0) return;
    this.textarea.focus();
    this.textarea.setSelectionRange(start, end);
    const line = text.slice(0, start).split('\n').length - 1;
    const lineHeight = parseFloat(getComputedStyle(this.textarea).lineHeight) || 18;
    this.textarea.scrollTop = Math.max(0, line * lineHeight - this.textarea.clientHeight / 3);
  }

  destroy() {
    this.validateSoon.cancel();
    this.seq++;
    this.graph?.destroy();
  }
}
