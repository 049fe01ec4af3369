// Workflow Studio: design a state machine on its graph. `#/studio` starts a new one (`?template=`
// picks a starting point), `#/studio/<arn>` edits an existing one. The page holds the definition
// text, its parsed value and the undo history; the graph, the inspector and the JSON editor are
// views of it, and every change goes through `applyText`.

import { routes, sfn } from '../api.js';
import { announce, errorAlert, h, spinner } from '../dom.js';
import { routeQuery, setBreadcrumbs, setLeaveGuard } from '../nav.js';
import { StudioCanvas } from '../studio/canvas.js';
import { graphOf, indexStates, parseDefinition, serialize } from '../studio/document.js';
import { field, section, showDiagnostics } from '../studio/fields.js';
import { History } from '../studio/history.js';
import { showFormDiagnostics, stateForm } from '../studio/inspector.js';
import * as ops from '../studio/operations.js';
import { Palette } from '../studio/palette.js';
import { confirmSave } from '../studio/save-dialog.js';
import { TEMPLATES, templateText } from '../studio/templates.js';
import { Validator, placeDiagnostics } from '../studio/validation.js';

const JSON_EDIT = 'json';
const JSON_PAUSE_MS = 1200;

export function studioPage(main, arn) {
  const name = arn ? arn.split(':').pop() : null;
  setBreadcrumbs([
    { label: 'stepwasm', href: '#/' }, { label: 'State machines', href: '#/' },
    ...(arn ? [{ label: name, href: routes.machine(arn) }] : []),
    { label: 'Workflow Studio' },
  ]);
  const root = h('div', { class: 'container container-wide studio', 'data-testid': 'studio' }, spinner('Opening Workflow Studio'));
  main.append(root);
  let studio = null;
  let alive = true;
  (async () => {
    let text;
    try {
      if (arn) text = (await sfn('DescribeStateMachine', { stateMachineArn: arn })).definition;
      else text = await templateText(routeQuery().get('template') || 'blank');
    } catch (error) {
      if (alive) root.replaceChildren(h('h1', {}, 'Workflow Studio'), errorAlert(error, 'Could not open the state machine'));
      return;
    }
    if (!alive) return;
    studio = new Studio(root, { arn, name, text });
  })();
  return () => {
    alive = false;
    studio?.destroy();
  };
}

class Studio {
  constructor(root, { arn, name, text }) {
    this.arn = arn;
    this.name = name;
    this.saved = arn ? text : '';
    /** What a new machine started from: leaving it unchanged loses nothing. */
    this.opened = text;
    this.text = text;
    this.definition = parseDefinition(text).value || { StartAt: '', States: {} };
    this.selected = null;
    /** The state Ctrl+X picked up, for Ctrl+V to move. */
    this.cut = null;
    this.history = new History(text);
    this.diagnostics = { byState: new Map(), general: [] };
    this.validation = { pending: true, errors: 0 };
    setLeaveGuard(() => (this.hasUnsavedChanges()
      ? 'Leave Workflow Studio? The changes to this definition are not saved.'
      : null));

    this.canvas = new StudioCanvas({
      onSelect: (id) => this.select(id),
      onDropItem: (item, target) => this.change(ops.insertState(this.definition, item, target)),
      onMove: (id, target) => this.change(ops.moveState(this.definition, id, target)),
      onConnect: (from, to, asCatch) => this.change(ops.connectByHandle(this.definition, from, to, asCatch)),
      onReconnect: (from, link, to) => {
        const { states } = indexStates(this.definition);
        if (states.get(from)?.scope !== states.get(to)?.scope) return;
        this.change(ops.connect(this.definition, from, link, states.get(to).name));
      },
      onDelete: (id) => this.remove(id, { focus: true }),
      onCut: (id) => {
        this.cut = id;
        announce(`Cut ${id.split('/').pop()}: select a state and press Ctrl+V to move it after that state`);
      },
      onPaste: (afterId) => {
        if (!this.cut) return;
        const moved = ops.moveState(this.definition, this.cut, { kind: 'after', id: afterId });
        if (!this.change(moved)) return;
        this.cut = null;
        this.focusSelectedSoon();
      },
    });
    this.palette = new Palette({ onInsert: (item) => this.insertAtSelection(item) });
    this.validator = new Validator((result) => this.validated(result));

    this.json = h('textarea', {
      class: 'code-editor studio-json', 'data-testid': 'studio-json', 'aria-label': 'Definition (ASL JSON)',
      spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off', wrap: 'off', rows: 18,
      onInput: () => this.jsonEdited(),
    });
    this.json.value = text;
    this.jsonError = h('div', { class: 'field-error', hidden: true, 'data-testid': 'studio-json-error', role: 'alert' });
    this.inspector = h('div', { class: 'studio-inspector', 'data-testid': 'studio-inspector' });
    this.status = h('div', { class: 'validation-status', 'data-testid': 'validation-status', 'data-result': 'pending', role: 'status' }, 'Checking…');
    this.problems = h('ul', { class: 'diagnostics', 'data-testid': 'studio-diagnostics', 'aria-label': 'Problems' });
    this.message = h('div', { class: 'form-message', 'data-testid': 'studio-message', 'aria-live': 'polite' });
    this.dirty = h('span', { class: 'muted', 'data-testid': 'studio-dirty', hidden: true }, 'Unsaved changes');

    const button = (testid, label, onClick, cls = 'btn') => h('button', { type: 'button', class: cls, 'data-testid': testid, onClick }, label);
    this.undoButton = button('studio-undo', 'Undo', () => this.undo());
    this.redoButton = button('studio-redo', 'Redo', () => this.redo());
    this.saveButton = button('studio-save', arn ? 'Save' : 'Create', () => this.save(false), 'btn btn-primary');
    this.publishButton = button('studio-save-publish', arn ? 'Save and publish' : 'Create and publish', () => this.save(true));
    this.undoButton.title = 'Undo (Ctrl+Z)';
    this.redoButton.title = 'Redo (Ctrl+Shift+Z or Ctrl+Y)';
    const template = h('select', {
      class: 'select', 'data-testid': 'studio-template', 'aria-label': 'Start from a template',
      onChange: async () => {
        if (!template.value) return;
        const chosen = await templateText(template.value);
        template.value = '';
        this.applyText(chosen, { source: 'template', select: null });
      },
    }, h('option', { value: '' }, 'Start from a template…'), TEMPLATES.map((t) => h('option', { value: t.id, title: t.description }, t.label)));

    root.replaceChildren(
      h('div', { class: 'page-header' },
        h('div', {},
          h('h1', {}, arn ? `${name}: Workflow Studio` : 'Workflow Studio: new state machine'),
          h('div', { class: 'page-sub' }, 'Drag states onto the graph; select one to edit it. The ASL JSON follows every change.')),
        h('div', { class: 'actions' }, this.dirty, template, this.undoButton, this.redoButton, this.publishButton, this.saveButton)),
      this.message,
      h('div', { class: 'studio-layout' },
        this.palette.el,
        h('section', { class: 'studio-center card', 'aria-label': 'Design' },
          h('div', { class: 'editor-toolbar' }, this.status),
          this.canvas.el,
          this.problems),
        h('aside', { class: 'studio-side' },
          h('section', { class: 'card studio-inspector-card' }, h('h2', { class: 'pane-title' }, 'Inspector'), this.inspector),
          h('section', { class: 'card studio-json-card' }, h('h2', { class: 'pane-title' }, h('label', { for: 'studio-json' }, 'Definition (ASL JSON)')),
            this.json, this.jsonError))));
    this.json.id = 'studio-json';

    this.onKey = (event) => this.keydown(event);
    document.addEventListener('keydown', this.onKey);
    this.palette.loadFunctions();
    const created = routeQuery().get('created');
    if (arn && created) this.showSaved(created === 'published' ? 'Created, with version 1 published.' : 'Created.');
    this.refresh({ form: true });
    this.validator.request(this.text);
  }

  // ---- the one path every change takes ----

  /**
   * Makes `text` the definition. `source` says who changed it: 'json' (the text editor, which
   * already shows it), 'form' (the inspector, whose inputs stay as typed), or anything else.
   */
  applyText(text, { source = 'ops', key = null, select, record = true } = {}) {
    // Typing in the JSON is split into steps at pauses; a form field's edit is one step.
    if (record) this.history.push(text, key, key === JSON_EDIT ? JSON_PAUSE_MS : Infinity);
    this.text = text;
    const parsed = parseDefinition(text);
    if (parsed.value) this.definition = parsed.value;
    this.jsonError.textContent = parsed.error ? `Not applied: ${parsed.error}` : '';
    this.jsonError.hidden = !parsed.error;
    if (select !== undefined) this.selected = select;
    if (this.selected && !indexStates(this.definition).states.has(this.selected)) this.selected = null;
    if (source !== 'json' && this.json.value !== text) {
      this.json.value = text;
      this.scrollJsonTo(this.selected);
    }
    this.message.replaceChildren();
    this.validation = { pending: true, errors: this.validation.errors };
    this.refresh({ form: source !== 'form' });
    this.validator.request(text);
  }

  /** Applies an operation's result, written the way the current text is written. */
  change(result, { key = null, source = 'ops' } = {}) {
    if (!result) return false;
    // An edit that changes nothing (the same Next chosen again) must not reformat the text.
    if (JSON.stringify(result.definition) === JSON.stringify(this.definition) && parseDefinition(this.text).value) {
      if (result.selected !== undefined && result.selected !== this.selected) this.select(result.selected);
      return true;
    }
    this.applyText(serialize(result.definition, this.text), { key, source, select: result.selected ?? this.selected });
    return true;
  }

  refresh({ form }) {
    const { byState } = this.diagnostics;
    const invalid = new Map([...byState].filter(([, list]) => list.some((d) => d.severity !== 'WARNING'))
      .map(([id, list]) => [id, list.map((d) => `${d.code}: ${d.message}`)]));
    this.drawn = this.canvas.show(graphOf(this.definition), this.selected, invalid);
    if (form) this.renderForm();
    this.updateButtons();
  }

  updateButtons() {
    this.updateDirty();
    this.undoButton.disabled = !this.history.canUndo;
    this.redoButton.disabled = !this.history.canRedo;
    const blocked = this.validation.pending || this.validation.errors > 0 || !parseDefinition(this.text).value;
    this.saveButton.disabled = blocked;
    this.publishButton.disabled = blocked;
  }

  // ---- selection and the inspector ----

  select(id) {
    if (id === this.selected) return;
    this.selected = id;
    this.canvas.graph.select(id);
    this.renderForm();
  }

  renderForm() {
    const entry = this.selected && indexStates(this.definition).states.get(this.selected);
    if (!entry) {
      this.inspector.replaceChildren(this.machineForm());
    } else {
      const siblings = Object.keys(entry.scope.States || {});
      this.inspector.replaceChildren(stateForm({
        entry, definition: this.definition, siblings,
        commit: (edit, { key = null, rerender = false } = {}) => this.change(
          ops.updateState(this.definition, this.selected, edit), { key: key && `${this.selected}:${key}`, source: rerender ? 'ops' : 'form' }),
        onConnect: (to) => this.change(ops.connect(this.definition, this.selected, { kind: 'next' }, to), { source: 'form' }),
        onRename: (newName) => this.rename(newName),
        onDelete: () => this.remove(this.selected),
        onDuplicate: () => this.change(ops.duplicateState(this.definition, this.selected)),
        onAddBranch: () => this.change(ops.insertState(this.definition, { type: 'Pass' }, { kind: 'new-branch', id: this.selected })),
      }));
    }
    this.showDiagnosticsInForm();
  }

  /** The machine's own fields, shown while no state is selected. */
  machineForm() {
    const d = this.definition;
    const set = (key) => (value) => {
      const copy = structuredClone(this.definition);
      if (value === undefined) delete copy[key];
      else copy[key] = value;
      this.change({ definition: copy, selected: null }, { key: `machine:${key}`, source: 'form' });
    };
    return h('form', { class: 'studio-form', 'data-testid': 'machine-form', onSubmit: (e) => e.preventDefault() },
      h('p', { class: 'muted' }, 'Select a state on the graph to edit it. These settings apply to the whole state machine.'),
      h('div', { class: 'studio-form-problems', 'data-testid': 'state-problems' }),
      section('State machine',
        field({ key: 'StartAt', label: 'Start at', kind: 'select', value: d.StartAt ?? '', options: [['', '–'], ...Object.keys(d.States || {}).map((n) => [n, n])], onChange: set('StartAt') }),
        field({ key: 'Comment', label: 'Comment', value: d.Comment, onChange: set('Comment') }),
        field({ key: 'QueryLanguage', label: 'Query language', kind: 'select', value: d.QueryLanguage ?? '', options: [['', 'JSONPath (default)'], ['JSONPath', 'JSONPath'], ['JSONata', 'JSONata']], onChange: set('QueryLanguage') }),
        field({ key: 'TimeoutSeconds', label: 'TimeoutSeconds', kind: 'number', value: d.TimeoutSeconds, onChange: set('TimeoutSeconds') })));
  }

  showDiagnosticsInForm() {
    const form = this.inspector.firstElementChild;
    if (!form) return;
    if (form.dataset.testid === 'machine-form') {
      const rest = showDiagnostics(form, this.diagnostics.general);
      form.querySelector('[data-testid=state-problems]').replaceChildren(...rest.map((d) => h('div', { class: 'alert alert-error', 'data-testid': 'state-problem' }, d.message)));
    } else {
      showFormDiagnostics(form, this.diagnostics.byState.get(form.dataset.forState) || []);
    }
  }

  // ---- operations ----

  insertAtSelection(item) {
    const target = this.selected ? { kind: 'after', id: this.selected } : { kind: 'container', id: '' };
    if (this.change(ops.insertState(this.definition, item, target))) {
      announce(`Inserted a ${item.function || item.type} state`);
      this.focusSelectedSoon();
    }
  }

  remove(id, { focus = false } = {}) {
    const result = ops.deleteState(this.definition, id);
    if (!this.change(result)) return;
    announce(`Deleted ${id.split('/').pop()}`);
    if (focus) this.focusSelectedSoon();
  }

  rename(newName) {
    const error = this.inspector.querySelector('[data-testid=state-name-error]');
    const current = this.selected.split('/').pop();
    if (!newName || newName === current) return;
    const result = ops.renameState(this.definition, this.selected, newName);
    if (!result) {
      error.textContent = `Another state is already named ${newName}.`;
      error.hidden = false;
      return;
    }
    this.change(result);
  }

  async focusSelectedSoon() {
    await this.drawn;
    if (this.selected) this.canvas.focusSelected();
    else this.canvas.svg.querySelector('.node[data-state]')?.focus();
  }

  /** Scrolls the JSON text (without taking the focus) to the state just changed. */
  scrollJsonTo(id) {
    const entry = id && indexStates(this.definition).states.get(id);
    if (!entry) return;
    const at = this.json.value.indexOf(`${JSON.stringify(entry.name)}:`);
    if (at < 0) return;
    const line = this.json.value.slice(0, at).split('\n').length - 1;
    const lineHeight = parseFloat(getComputedStyle(this.json).lineHeight) || 17;
    this.json.scrollTop = Math.max(0, line * lineHeight - this.json.clientHeight / 3);
  }

  jsonEdited() {
    this.applyText(this.json.value, { source: 'json', key: JSON_EDIT });
  }

  undo() {
    const text = this.history.undo();
    if (text != null) this.applyText(text, { record: false, source: 'history' });
  }

  redo() {
    const text = this.history.redo();
    if (text != null) this.applyText(text, { record: false, source: 'history' });
  }

  keydown(event) {
    const mod = event.ctrlKey || event.metaKey;
    if (!mod || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key === 'z' && !event.shiftKey) this.undo();
    else if ((key === 'z' && event.shiftKey) || key === 'y') this.redo();
    else return;
    event.preventDefault();
  }

  // ---- validation and saving ----

  validated(result) {
    if (result.text !== this.text) return;
    if (result.failure) {
      this.status.dataset.result = 'error';
      this.status.textContent = `Could not check the definition: ${result.failure.message}`;
      this.validation = { pending: false, errors: 1 };
      this.updateButtons();
      return;
    }
    const warnings = result.diagnostics.length - result.errors;
    this.validation = { pending: false, errors: result.errors };
    this.status.dataset.result = result.errors ? 'error' : 'ok';
    this.status.textContent = result.errors
      ? `${result.errors} ${result.errors === 1 ? 'problem' : 'problems'}: fix them to save`
      : `Valid definition${warnings ? `, ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}` : ''}`;
    this.diagnostics = placeDiagnostics(this.definition, result.diagnostics);
    this.problems.replaceChildren(...result.diagnostics.map((d) => {
      const placed = [...this.diagnostics.byState].find(([, list]) => list.some((x) => x.location === d.location && x.message === d.message));
      const id = placed?.[0] || '';
      return h('li', {
        class: 'diagnostic', 'data-code': d.code || '', 'data-location': d.location || '', 'data-state': id, 'data-severity': d.severity || 'ERROR',
      }, h('button', { type: 'button', class: 'diagnostic-button', onClick: () => id && this.select(id) },
        h('span', { class: 'diagnostic-severity', 'aria-hidden': 'true' }, d.severity === 'WARNING' ? '⚠' : '✕'),
        h('span', { class: 'diagnostic-text' },
          h('span', { class: 'diagnostic-head' }, h('strong', {}, id ? id.split('/').pop() : 'Definition'), h('code', { class: 'diagnostic-code' }, d.code || ''),
            d.location ? h('span', { class: 'diagnostic-location' }, d.location) : null),
          h('span', { class: 'diagnostic-message' }, d.message || ''))));
    }));
    this.refresh({ form: false });
    this.showDiagnosticsInForm();
  }

  async save(publish) {
    if (this.saveButton.disabled) return;
    const creating = !this.arn;
    const choice = await confirmSave({ before: this.saved, after: this.text, creating, publish });
    if (!choice) return;
    const definition = this.text;
    this.saveButton.disabled = true;
    this.publishButton.disabled = true;
    try {
      if (creating) {
        const created = await sfn('CreateStateMachine', {
          name: choice.name, definition, roleArn: choice.roleArn, type: 'STANDARD',
          ...(publish ? { publish: true, versionDescription: choice.versionDescription } : {}),
        });
        announce('State machine created');
        this.saved = definition;
        location.hash = `${routes.studio(created.stateMachineArn)}?created=${publish ? 'published' : 'saved'}`;
        return;
      }
      const updated = await sfn('UpdateStateMachine', {
        stateMachineArn: this.arn, definition,
        ...(publish ? { publish: true, versionDescription: choice.versionDescription } : {}),
      });
      this.saved = definition;
      const version = updated.stateMachineVersionArn ? ` as version ${updated.stateMachineVersionArn.split(':').pop()}` : '';
      this.showSaved(`Saved${version}. New executions use this definition.`);
      announce('Definition saved');
    } catch (error) {
      this.message.replaceChildren(errorAlert(error, 'Could not save'));
    } finally {
      this.updateButtons();
    }
  }

  showSaved(text) {
    this.message.replaceChildren(h('div', { class: 'alert alert-success', role: 'status', 'data-testid': 'studio-saved' },
      `${text} `, h('a', { href: routes.machine(this.arn) }, 'Open the state machine')));
  }

  updateDirty() {
    this.dirty.hidden = !this.arn || this.text === this.saved;
  }

  hasUnsavedChanges() {
    return this.text !== (this.saved || this.opened);
  }

  destroy() {
    setLeaveGuard(null);
    document.removeEventListener('keydown', this.onKey);
    this.validator.destroy();
    this.canvas.destroy();
  }
}
