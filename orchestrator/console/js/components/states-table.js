// The execution's "Table view": one row per state that ran, in the order it was entered.

import { durationBetween, formatDuration, h, stateStatusBadge } from '../dom.js';

export function statesTable({ progress, graphStates, nameOf, startTime, selected, onSelect }) {
  const rows = Object.entries(progress?.states || {})
    .sort((a, b) => (a[1].enteredAt ?? Infinity) - (b[1].enteredAt ?? Infinity) || (a[1].enteredEventId ?? 0) - (b[1].enteredEventId ?? 0));
  if (!rows.length) return h('div', { class: 'empty-state' }, 'No state has run yet.');
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table', 'data-testid': 'states-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Type', 'Status', 'Attempts', 'Started after', 'Duration'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map(([id, s]) => h('tr', {
        'data-state': id, 'data-status': s.status, class: id === selected ? 'is-selected' : null,
      },
      h('td', {}, h('button', { type: 'button', class: 'btn-link link-button', onClick: () => onSelect(id) }, nameOf(id)),
        id.includes('/') ? h('div', { class: 'muted small' }, id) : null),
      h('td', {}, graphStates?.get(id)?.type || ''),
      h('td', {}, stateStatusBadge(s.status)),
      h('td', { class: 'num' }, String(s.attempts ?? 1)),
      h('td', { class: 'num' }, s.enteredAt != null && startTime != null ? formatDuration((s.enteredAt - startTime) * 1000) : '–'),
      h('td', { class: 'num' }, s.enteredAt != null ? formatDuration(durationBetween(s.enteredAt, s.exitedAt)) : '–'))))));
}
