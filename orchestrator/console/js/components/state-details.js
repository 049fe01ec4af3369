// The "Step details" split panel for the state selected in the graph or the table.

import { routes } from '../api.js';
import { durationBetween, formatDate, formatDuration, h, keyValues, startedExecutionArns, stateStatusBadge } from '../dom.js';
import { catchLabel } from '../graph/model.js';
import { iterationText } from '../graph/view.js';
import { jsonPane } from './json-view.js';

export function emptyDetails() {
  return h('div', { class: 'details-empty' },
    h('p', {}, 'Select a state in the graph or the table to see its input, output and errors.'));
}

/**
 * @param {{state: object, progress?: object, startTime?: number, onClose?: () => void,
 *   iteration?: {index: number, map: string}|null, payloadsLoading?: boolean}} args
 * `state` is the graph state (id, type, name, retry, catch, resource). `iteration` says that
 * `progress` covers one iteration of the enclosing Map (named `map`) rather than all of them.
 * `payloadsLoading`: `progress` was fetched without this state's input and output, which are
 * on their way.
 */
export function stateDetails({ state, progress, startTime, onClose, iteration, payloadsLoading }) {
  const status = progress?.status || 'not-started';
  const after = progress?.enteredAt != null && startTime != null
    ? formatDuration((progress.enteredAt - startTime) * 1000) : null;
  const duration = progress?.enteredAt != null
    ? formatDuration(durationBetween(progress.enteredAt, progress.exitedAt)) : null;

  const failures = progress?.failures || [];
  // A states:startExecution task names the execution it started in its result.
  const children = /:states:startExecution/.test(state.resource || '') ? startedExecutionArns(progress?.output) : [];
  return h('section', {
    class: 'state-details', 'data-testid': 'state-details', 'data-state': state.id,
    'data-status': status, 'aria-label': `Details of ${state.name}`,
  },
  h('div', { class: 'details-head' },
    h('div', {},
      h('h2', { class: 'details-title' }, state.name),
      h('div', { class: 'details-sub' }, h('span', { class: 'type-tag' }, state.type), stateStatusBadge(status, { 'data-testid': 'state-status' }))),
    onClose ? h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Close details', 'data-testid': 'close-details', onClick: onClose }, '×') : null),
  iteration ? h('p', { class: 'details-scope', 'data-testid': 'state-scope', 'data-iteration': iteration.index },
    `Iteration #${iteration.index} of ${iteration.map}`) : null,
  status === 'not-started' ? h('p', { class: 'muted' },
    iteration ? 'This state did not run in this iteration.' : 'This state has not run in this execution.') : null,
  keyValues([
    ['Attempts', String(progress?.attempts ?? (progress ? 1 : 0)), { 'data-testid': 'state-attempts' }],
    progress?.entries > 1 && ['Entered', `${progress.entries} times`],
    state.resource && ['Resource', h('code', { class: 'break' }, state.resource)],
    after && ['Started after', after],
    duration && ['Duration', duration],
    progress?.enteredAt != null && ['Entered at', formatDate(progress.enteredAt)],
    progress?.iterations && ['Iterations', iterationText(progress.iterations) || '0', { 'data-testid': 'state-iterations' }],
    children.length > 0 && ['Child execution', h('span', {}, ...children.map((arn) =>
      h('a', { href: routes.execution(arn), class: 'arn', 'data-testid': 'child-execution-link' }, arn.split(':').pop())))],
  ]),
  progress?.error || progress?.cause ? h('div', { class: 'alert alert-error details-error' },
    h('div', {}, h('strong', {}, 'Error '), h('code', { 'data-testid': 'state-error' }, progress.error || '')),
    progress.cause ? h('div', { class: 'cause', 'data-testid': 'state-cause' }, progress.cause) : null) : null,
  failures.length ? h('div', { class: 'details-section' },
    h('h3', {}, `Failed attempts (${failures.length})`),
    h('ol', { class: 'retries', 'data-testid': 'state-retries' }, failures.map((f) => h('li', { 'data-event-id': f.eventId ?? '' },
      h('div', {}, h('code', {}, f.error || 'Error'), h('span', { class: 'muted' }, ` · ${f.type || ''}${f.eventId != null ? ` · event ${f.eventId}` : ''}`)),
      f.cause ? h('div', { class: 'cause' }, f.cause) : null)))) : null,
  jsonPane('Input', progress?.input, { 'data-testid': 'state-input' },
    status === 'not-started' ? 'Not run' : payloadsLoading ? 'Loading…' : 'No input recorded'),
  jsonPane('Output', progress?.output, { 'data-testid': 'state-output' },
    status === 'in-progress' ? 'Not finished yet' : payloadsLoading ? 'Loading…' : 'No output'),
  definitionNotes(state));
}

function definitionNotes(state) {
  const items = [];
  for (const r of state.retry || []) {
    items.push(h('li', {}, h('strong', {}, 'Retry '), (r.errorEquals || []).join(', '),
      ` · max ${r.maxAttempts ?? 3} attempts, ${r.intervalSeconds ?? 1} s × ${r.backoffRate ?? 2}`));
  }
  for (const c of state.catch || []) {
    items.push(h('li', {}, h('strong', {}, 'Catch '), catchLabel(c), ` → ${c.next?.split('/').pop()}`,
      c.resultPath !== undefined ? ` (ResultPath ${c.resultPath ?? 'null'})` : ''));
  }
  if (!items.length) return null;
  return h('div', { class: 'details-section' }, h('h3', {}, 'Error handling'), h('ul', { class: 'plain-list' }, items));
}
