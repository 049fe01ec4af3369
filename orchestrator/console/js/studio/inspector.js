// The inspector: the form of the selected state, with every field its type allows in its query
// language (a state's QueryLanguage, else the definition's). Edits go through `commit(edit,
// {key, rerender})`: `edit` changes a fresh copy of the state; `key` names the field so typing in
// it is one undo step; `rerender` rebuilds the form when its shape changed (rules, retriers).

import { h } from '../dom.js';
import { queryLanguageOf } from './document.js';
import { assign, field, section, showDiagnostics } from './fields.js';
import { choiceEditor } from './choice-rules.js';
import { catchEditor, retryEditor } from './error-handling.js';

// [key, kind, placeholder]. The JSONPath and JSONata field sets differ per state type.
const PATH = (key, placeholder = '$') => [key, 'text', placeholder];
const JSON_VALUE = (key) => [key, 'json'];
const NUMBER = (key) => [key, 'number'];
const TIMEOUTS_PATH = [NUMBER('TimeoutSeconds'), PATH('TimeoutSecondsPath', '$.timeout'), NUMBER('HeartbeatSeconds'), PATH('HeartbeatSecondsPath', '$.heartbeat')];
const TIMEOUTS_JSONATA = [NUMBER('TimeoutSeconds'), NUMBER('HeartbeatSeconds')];
const IO_PATH = [PATH('InputPath'), JSON_VALUE('Parameters'), JSON_VALUE('ResultSelector'), PATH('ResultPath'), PATH('OutputPath')];
const MAP_PATH = [
  PATH('ItemsPath'), JSON_VALUE('ItemSelector'), JSON_VALUE('ItemReader'), JSON_VALUE('ItemBatcher'), JSON_VALUE('ResultWriter'),
  NUMBER('MaxConcurrency'), PATH('MaxConcurrencyPath', '$.concurrency'), NUMBER('ToleratedFailureCount'), PATH('ToleratedFailureCountPath', '$.count'),
  NUMBER('ToleratedFailurePercentage'), PATH('ToleratedFailurePercentagePath', '$.percentage'), JSON_VALUE('Label'),
];
const MAP_JSONATA = [
  JSON_VALUE('Items'), JSON_VALUE('ItemSelector'), JSON_VALUE('ItemReader'), JSON_VALUE('ItemBatcher'), JSON_VALUE('ResultWriter'),
  NUMBER('MaxConcurrency'), NUMBER('ToleratedFailureCount'), NUMBER('ToleratedFailurePercentage'),
];

export const FIELDS = {
  Task: {
    JSONPath: [['Resource', 'text', 'arn:aws:lambda:…:function:name'], ...TIMEOUTS_PATH, ...IO_PATH, JSON_VALUE('Credentials'), JSON_VALUE('Assign')],
    JSONata: [['Resource', 'text', 'arn:aws:lambda:…:function:name'], ...TIMEOUTS_JSONATA, JSON_VALUE('Arguments'), JSON_VALUE('Output'), JSON_VALUE('Credentials'), JSON_VALUE('Assign')],
  },
  Pass: {
    JSONPath: [PATH('InputPath'), JSON_VALUE('Parameters'), JSON_VALUE('Result'), PATH('ResultPath'), PATH('OutputPath'), JSON_VALUE('Assign')],
    JSONata: [JSON_VALUE('Output'), JSON_VALUE('Assign')],
  },
  Wait: {
    JSONPath: [NUMBER('Seconds'), ['Timestamp', 'text', '2030-01-01T00:00:00Z'], PATH('SecondsPath', '$.seconds'), PATH('TimestampPath', '$.until'), PATH('InputPath'), PATH('OutputPath'), JSON_VALUE('Assign')],
    JSONata: [NUMBER('Seconds'), ['Timestamp', 'text', '{% $states.input.until %}'], JSON_VALUE('Output'), JSON_VALUE('Assign')],
  },
  Choice: {
    JSONPath: [PATH('InputPath'), PATH('OutputPath'), JSON_VALUE('Assign')],
    JSONata: [JSON_VALUE('Output'), JSON_VALUE('Assign')],
  },
  Succeed: { JSONPath: [PATH('InputPath'), PATH('OutputPath')], JSONata: [JSON_VALUE('Output')] },
  Fail: {
    JSONPath: [['Error', 'text', 'MyError'], ['Cause', 'text', 'what went wrong'], PATH('ErrorPath', '$.error.Error'), PATH('CausePath', '$.error.Cause')],
    JSONata: [['Error', 'text', 'MyError'], ['Cause', 'text', 'what went wrong']],
  },
  Parallel: {
    JSONPath: [...IO_PATH, JSON_VALUE('Assign')],
    JSONata: [JSON_VALUE('Arguments'), JSON_VALUE('Output'), JSON_VALUE('Assign')],
  },
  Map: {
    JSONPath: [...MAP_PATH, ...IO_PATH, JSON_VALUE('Assign')],
    JSONata: [...MAP_JSONATA, JSON_VALUE('Output'), JSON_VALUE('Assign')],
  },
};

const HANDLES_ERRORS = new Set(['Task', 'Parallel', 'Map']);
const END = '(end)';

/**
 * Builds the form for one state.
 * @param {{entry, definition, siblings: string[], commit, onRename, onDelete, onDuplicate, onAddBranch}} ctx
 */
export function stateForm(ctx) {
  const { entry, definition } = ctx;
  const state = entry.state && typeof entry.state === 'object' ? entry.state : {};
  const type = String(state.Type || '');
  const language = queryLanguageOf(definition, state);
  const jsonata = language === 'JSONata';
  const targets = ctx.siblings.filter((name) => name !== entry.name);
  const sub = { state, jsonata, targets, commit: ctx.commit };

  const name = h('input', {
    class: 'input', id: 'studio-state-name', 'data-testid': 'state-name', value: entry.name, autocomplete: 'off', spellcheck: 'false',
    onChange: () => ctx.onRename(name.value.trim()),
    onKeydown: (event) => { if (event.key === 'Enter') name.blur(); },
  });
  const set = (key) => (value) => ctx.commit((s) => assign(s, key, value), { key });
  const fields = (FIELDS[type]?.[language] || []).map(([key, kind, placeholder]) => field({
    key, label: key, kind, placeholder, value: state[key], onChange: set(key),
  }));

  const transition = type === 'Choice' || type === 'Succeed' || type === 'Fail' ? null : field({
    key: 'Next', label: 'Next state', kind: 'select', value: state.End === true ? END : state.Next ?? '',
    options: [['', '– choose –'], [END, 'End of this flow'], ...targets.map((n) => [n, n])],
    hint: 'Where the flow goes after this state.',
    onChange: (value) => ctx.onConnect(value === END || value === undefined ? null : value),
  });

  const general = h('div', { class: 'studio-form-head' },
    h('div', { class: 'field' }, h('label', { for: 'studio-state-name' }, 'State name'), name,
      h('div', { class: 'field-error', hidden: true, 'data-testid': 'state-name-error', role: 'alert' })),
    h('div', { class: 'studio-form-type' }, h('span', { class: 'type-tag', 'data-testid': 'state-type' }, type || '?'),
      h('span', { class: 'muted' }, ` ${language}`)),
    h('div', { class: 'form-actions form-actions-start' },
      h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'duplicate-state', onClick: ctx.onDuplicate }, 'Duplicate'),
      type === 'Parallel' ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'add-branch', onClick: ctx.onAddBranch }, 'Add branch') : null,
      h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'delete-state', onClick: ctx.onDelete }, 'Delete')));

  return h('form', { class: 'studio-form', 'data-testid': 'state-form', 'data-for-state': entry.id, onSubmit: (e) => e.preventDefault() },
    general,
    h('div', { class: 'studio-form-problems', 'data-testid': 'state-problems' }),
    transition,
    type === 'Choice' ? choiceEditor(sub) : null,
    section('Settings',
      field({ key: 'Comment', label: 'Comment', value: state.Comment, onChange: set('Comment') }),
      field({
        key: 'QueryLanguage', label: 'Query language', kind: 'select', value: state.QueryLanguage ?? '',
        options: [['', `(machine: ${definition.QueryLanguage || 'JSONPath'})`], ['JSONPath', 'JSONPath'], ['JSONata', 'JSONata']],
        onChange: (value) => ctx.commit((s) => assign(s, 'QueryLanguage', value), { rerender: true }),
      })),
    type === 'Map' ? mapProcessorFields(state, ctx.commit) : null,
    section(jsonata ? 'Input and output (JSONata)' : 'Input and output (JSONPath)', fields),
    HANDLES_ERRORS.has(type) ? retryEditor(sub) : null,
    HANDLES_ERRORS.has(type) ? catchEditor(sub) : null);
}

/** How a Map runs its processor: inline, or as child executions (distributed). */
function mapProcessorFields(state, commit) {
  const key = state.ItemProcessor ? 'ItemProcessor' : 'Iterator';
  const config = state[key]?.ProcessorConfig || {};
  const set = (name) => (value) => commit((s) => {
    s[key] ??= {};
    const target = s[key].ProcessorConfig ?? {};
    assign(target, name, value);
    if (Object.keys(target).length) s[key].ProcessorConfig = target;
    else delete s[key].ProcessorConfig;
  }, { key: `${key}/ProcessorConfig/${name}` });
  return section('Processor',
    field({
      key: `${key}/ProcessorConfig/Mode`, label: 'Mode', kind: 'select', value: config.Mode ?? '',
      options: [['', '(default: INLINE)'], ['INLINE', 'INLINE'], ['DISTRIBUTED', 'DISTRIBUTED']], onChange: set('Mode'),
    }),
    field({
      key: `${key}/ProcessorConfig/ExecutionType`, label: 'Execution type (distributed)', kind: 'select', value: config.ExecutionType ?? '',
      options: [['', '–'], ['STANDARD', 'STANDARD'], ['EXPRESS', 'EXPRESS']], onChange: set('ExecutionType'),
    }));
}

/** Puts diagnostics (relative to the state) at their fields, the rest at the top of the form. */
export function showFormDiagnostics(form, diagnostics) {
  const rest = showDiagnostics(form, diagnostics);
  form.querySelector('[data-testid=state-problems]')?.replaceChildren(...rest.map((d) => h('div', {
    class: `alert ${d.severity === 'WARNING' ? 'alert-warning' : 'alert-error'}`, 'data-testid': 'state-problem', 'data-code': d.code || '',
  }, h('code', {}, d.relative || '/'), ` ${d.message}`)));
}
