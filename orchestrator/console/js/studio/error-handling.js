// Retry and Catch editors for Task, Parallel and Map states.

import { h } from '../dom.js';
import { assign, field, listField, section } from './fields.js';

/** A retrier's or catcher's title and its Remove button (the last one removes the field). */
function handlerHead(ctx, key, word, i) {
  return h('div', { class: 'rule-head' },
    h('strong', {}, `${word[0].toUpperCase()}${word.slice(1)} ${i + 1}`),
    h('button', {
      type: 'button', class: 'btn btn-small btn-link', 'aria-label': `Remove ${word} ${i + 1}`, 'data-testid': `remove-${word}`,
      onClick: () => ctx.commit((s) => {
        s[key].splice(i, 1);
        if (!s[key].length) delete s[key];
      }, { rerender: true }),
    }, 'Remove'));
}

/** @param ctx {{state, jsonata: boolean, targets: string[], commit: (edit, options) => void}} */
export function retryEditor(ctx) {
  const retriers = Array.isArray(ctx.state.Retry) ? ctx.state.Retry : [];
  const set = (i, key, value) => ctx.commit((s) => assign(s.Retry[i], key, value), { key: `Retry/${i}/${key}` });
  const number = (i, key, label, r) => field({ key: `Retry/${i}/${key}`, label, kind: 'number', value: r?.[key], onChange: (v) => set(i, key, v) });
  return section('Retry',
    h('ol', { class: 'handlers', 'data-testid': 'retriers' }, retriers.map((r, i) => h('li', { class: 'handler', 'data-testid': 'retrier', 'data-index': i },
      handlerHead(ctx, 'Retry', 'retrier', i),
      listField({ key: `Retry/${i}/ErrorEquals`, label: 'Errors (comma-separated)', value: r?.ErrorEquals, onChange: (v) => set(i, 'ErrorEquals', v ?? []) }),
      h('div', { class: 'field-row' },
        number(i, 'IntervalSeconds', 'Interval (s)', r),
        number(i, 'MaxAttempts', 'Max attempts', r),
        number(i, 'BackoffRate', 'Backoff rate', r)),
      h('div', { class: 'field-row' },
        number(i, 'MaxDelaySeconds', 'Max delay (s)', r),
        field({
          key: `Retry/${i}/JitterStrategy`, label: 'Jitter', kind: 'select', value: r?.JitterStrategy ?? '',
          options: [['', '(default: NONE)'], ['FULL', 'FULL'], ['NONE', 'NONE']],
          onChange: (v) => set(i, 'JitterStrategy', v),
        }))))),
    h('button', {
      type: 'button', class: 'btn btn-small', 'data-testid': 'add-retrier',
      onClick: () => ctx.commit((s) => {
        s.Retry ??= [];
        s.Retry.push({ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 });
      }, { rerender: true }),
    }, 'Add retrier'));
}

export function catchEditor(ctx) {
  const catchers = Array.isArray(ctx.state.Catch) ? ctx.state.Catch : [];
  const set = (i, key, value) => ctx.commit((s) => assign(s.Catch[i], key, value), { key: `Catch/${i}/${key}` });
  const options = [['', '– choose –'], ...ctx.targets.map((n) => [n, n])];
  return section('Catch',
    h('ol', { class: 'handlers', 'data-testid': 'catchers' }, catchers.map((c, i) => h('li', { class: 'handler', 'data-testid': 'catcher', 'data-index': i },
      handlerHead(ctx, 'Catch', 'catcher', i),
      listField({ key: `Catch/${i}/ErrorEquals`, label: 'Errors (comma-separated)', value: c?.ErrorEquals, onChange: (v) => set(i, 'ErrorEquals', v ?? []) }),
      field({
        key: `Catch/${i}/Next`, label: 'Then go to', kind: 'select', value: c?.Next ?? '', options,
        onChange: (v) => ctx.commit((s) => { s.Catch[i].Next = v ?? ''; }, { key: `Catch/${i}/Next` }),
      }),
      ctx.jsonata
        ? field({ key: `Catch/${i}/Output`, label: 'Output (JSONata)', kind: 'json', value: c?.Output, onChange: (v) => set(i, 'Output', v) })
        : field({ key: `Catch/${i}/ResultPath`, label: 'ResultPath', value: c?.ResultPath, placeholder: '$.error', onChange: (v) => set(i, 'ResultPath', v) }),
      field({ key: `Catch/${i}/Assign`, label: 'Assign (variables)', kind: 'json', value: c?.Assign, onChange: (v) => set(i, 'Assign', v) })))),
    h('button', {
      type: 'button', class: 'btn btn-small', 'data-testid': 'add-catcher',
      onClick: () => ctx.commit((s) => {
        s.Catch ??= [];
        s.Catch.push(ctx.jsonata
          ? { ErrorEquals: ['States.ALL'], Next: ctx.targets[0] ?? '' }
          : { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: ctx.targets[0] ?? '' });
      }, { rerender: true }),
    }, 'Add catcher'));
}
