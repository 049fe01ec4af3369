// The Choice rule builder: rows of variable / operator / value, And / Or / Not groups, and the
// JSONata Condition; each top-level rule with its Next, then the Default.

import { h } from '../dom.js';
import { assign, field, section } from './fields.js';

const COMPARISONS = ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'];
export const OPERATORS = [
  ...['String', 'Numeric', 'Timestamp'].flatMap((kind) => COMPARISONS.map((c) => `${kind}${c}`)),
  'StringMatches', 'BooleanEquals',
  ...['String', 'Numeric', 'Timestamp'].flatMap((kind) => COMPARISONS.map((c) => `${kind}${c}Path`)),
  'BooleanEqualsPath',
  'IsPresent', 'IsNull', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp',
];

const operatorOf = (rule) => OPERATORS.find((op) => op in (rule || {}));

/** The value an operator takes, from what the user typed. */
function typed(op, text) {
  if (text === undefined) return undefined;
  if (op.startsWith('Is') || op === 'BooleanEquals') return text === 'true' ? true : text === 'false' ? false : text;
  if (op.startsWith('Numeric') && !op.endsWith('Path')) {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  return text;
}

const at = (state, path) => path.reduce((value, key) => value?.[key], state);

/**
 * @param ctx {{state, jsonata: boolean, targets: string[], commit: (edit, options) => void}}
 */
export function choiceEditor(ctx) {
  const { state } = ctx;
  const rules = Array.isArray(state.Choices) ? state.Choices : [];
  const nextOptions = [['', '– choose –'], ...ctx.targets.map((n) => [n, n])];
  const rows = rules.map((rule, i) => h('li', { class: 'rule', 'data-testid': 'choice-rule', 'data-index': i },
    h('div', { class: 'rule-head' },
      h('strong', {}, `Rule ${i + 1}`),
      h('button', {
        type: 'button', class: 'btn btn-small btn-link', 'data-testid': 'remove-rule', 'aria-label': `Remove rule ${i + 1}`,
        onClick: () => ctx.commit((s) => { s.Choices.splice(i, 1); }, { rerender: true }),
      }, 'Remove')),
    ctx.jsonata && !operatorOf(rule) && !rule?.And && !rule?.Or && !rule?.Not
      ? conditionRow(ctx, ['Choices', i], rule)
      : ruleBody(ctx, ['Choices', i], rule),
    field({
      key: `Choices/${i}/Next`, label: 'Then go to', kind: 'select', value: rule?.Next ?? '', options: nextOptions,
      onChange: (v) => ctx.commit((s) => { s.Choices[i].Next = v ?? ''; }, { key: `Choices/${i}/Next` }),
    }),
    // A matching rule may set variables, and in JSONata shape the state's output.
    ruleExtra(ctx, i, rule, 'Assign'),
    ctx.jsonata ? ruleExtra(ctx, i, rule, 'Output') : null));
  const add = (label, make, testid) => h('button', {
    type: 'button', class: 'btn btn-small', 'data-testid': testid,
    onClick: () => ctx.commit((s) => {
      s.Choices ??= [];
      s.Choices.push({ ...make(), Next: ctx.targets[0] ?? '' });
    }, { rerender: true }),
  }, label);
  const simple = () => ({ Variable: '$.value', StringEquals: 'value' });
  return section('Choice rules',
    h('ol', { class: 'rules', 'data-testid': 'choice-rules' }, rows),
    h('div', { class: 'form-actions form-actions-start' },
      ctx.jsonata ? add('Add condition', () => ({ Condition: '{% true %}' }), 'add-condition') : null,
      add('Add rule', simple, 'add-rule'),
      add('Add And', () => ({ And: [simple(), simple()] }), 'add-and'),
      add('Add Or', () => ({ Or: [simple(), simple()] }), 'add-or'),
      add('Add Not', () => ({ Not: simple() }), 'add-not')),
    field({
      key: 'Default', label: 'Default (no rule matches)', kind: 'select', value: state.Default ?? '',
      options: [['', '(none: fail with States.NoChoiceMatched)'], ...ctx.targets.map((n) => [n, n])],
      onChange: (v) => ctx.commit((s) => { if (v === undefined) delete s.Default; else s.Default = v; }, { key: 'Default' }),
    }));
}

function ruleExtra(ctx, i, rule, name) {
  const key = `Choices/${i}/${name}`;
  return field({
    key, label: `${name} (when this rule matches)`, kind: 'json', value: rule?.[name],
    onChange: (v) => ctx.commit((s) => assign(s.Choices[i], name, v), { key }),
  });
}

function conditionRow(ctx, path, rule) {
  const key = `${path.join('/')}/Condition`;
  return field({
    key, label: 'Condition (JSONata)', value: rule?.Condition, placeholder: '{% $states.input.total > 100 %}',
    onChange: (v) => ctx.commit((s) => { at(s, path).Condition = v ?? ''; }, { key }),
  });
}

/** A comparison row, or an And / Or / Not group of rows. */
function ruleBody(ctx, path, rule) {
  const base = path.join('/');
  for (const group of ['And', 'Or']) {
    if (!Array.isArray(rule?.[group])) continue;
    return h('div', { class: 'rule-group', 'data-group': group },
      h('div', { class: 'rule-group-title' }, group === 'And' ? 'All of:' : 'Any of:'),
      h('ol', {}, rule[group].map((inner, j) => h('li', {},
        ruleBody(ctx, [...path, group, j], inner),
        h('button', {
          type: 'button', class: 'btn btn-small btn-link', 'aria-label': `Remove condition ${j + 1}`,
          onClick: () => ctx.commit((s) => { at(s, [...path, group]).splice(j, 1); }, { rerender: true }),
        }, 'Remove')))),
      h('button', {
        type: 'button', class: 'btn btn-small', 'data-testid': `add-to-${base}/${group}`,
        onClick: () => ctx.commit((s) => { at(s, [...path, group]).push({ Variable: '$.value', StringEquals: 'value' }); }, { rerender: true }),
      }, `Add to ${group}`));
  }
  if (rule?.Not) {
    return h('div', { class: 'rule-group', 'data-group': 'Not' },
      h('div', { class: 'rule-group-title' }, 'Not:'),
      ruleBody(ctx, [...path, 'Not'], rule.Not));
  }
  if (ctx.jsonata && rule && 'Condition' in rule) return conditionRow(ctx, path, rule);
  const op = operatorOf(rule) || 'StringEquals';
  const value = rule?.[op];
  return h('div', { class: 'rule-row' },
    field({
      key: `${base}/Variable`, label: 'Variable', value: rule?.Variable, placeholder: '$.status',
      onChange: (v) => ctx.commit((s) => { at(s, path).Variable = v ?? ''; }, { key: `${base}/Variable` }),
    }),
    field({
      key: `${base}/operator`, label: 'Operator', kind: 'select', value: op, options: OPERATORS.map((o) => [o, o]),
      onChange: (next) => ctx.commit((s) => {
        const target = at(s, path);
        const old = operatorOf(target);
        const carried = old ? target[old] : undefined;
        if (old) delete target[old];
        const fresh = next.startsWith('Is') || next === 'BooleanEquals' ? true : next.startsWith('Numeric') && !next.endsWith('Path') ? 0 : '';
        target[next] = typeof carried === typeof fresh ? carried : fresh;
      }, { rerender: true }),
    }),
    field({
      key: `${base}/${op}`, label: 'Value', value: typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value),
      onChange: (v) => ctx.commit((s) => { at(s, path)[op] = typed(op, v ?? ''); }, { key: `${base}/${op}` }),
    }));
}
