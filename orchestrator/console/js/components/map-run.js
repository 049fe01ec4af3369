// The Map Run of a Distributed Map, in the step details: its status, how many children are in
// each state, its limits, (while it runs) a form to change its concurrency (UpdateMapRun), and
// its children, each an execution of its own, with their input, output and history.

import { sfn } from '../api.js';
import { announce, errorAlert, formatDate, h, keyValues, statusBadge } from '../dom.js';
import { jsonPane } from './json-view.js';

/** How many children the list shows; the rest are counted, not listed. */
const LISTED_CHILDREN = 100;

/** The ARN's `LABEL` (`…:mapRun:MACHINE/LABEL:…`). */
export function mapRunLabel(arn) {
  const rest = arn.split(':mapRun:')[1] || '';
  return rest.slice(rest.indexOf('/') + 1).split(':')[0];
}

/** A number for the total column of a count. */
function count(counts, key) {
  return String(counts?.[key] ?? 0);
}

export class MapRunPanel {
  constructor() {
    this.el = h('div', { class: 'details-section', 'data-testid': 'map-run' });
    this.key = null; // `${executionArn}\n${label}` shown
    this.run = null;
    this.inFlight = false;
    this.lastFetch = 0;
    this.typed = null; // what the person typed into the concurrency field, kept across refreshes
    this.children = new ChildList();
  }

  /** Shows the newest Map Run of the Map labelled `label` in `executionArn`. */
  show(executionArn, label) {
    const key = `${executionArn}\n${label}`;
    if (key !== this.key) {
      this.key = key;
      this.run = null;
      this.typed = null;
      this.children = new ChildList();
      this.el.replaceChildren(h('h3', {}, 'Map Run'), h('p', { class: 'muted' }, 'Loading…'));
    }
    this.refresh();
    return this.el;
  }

  /** Refetches, at most twice a second: called on every progress update while it runs. */
  async refresh(force = false) {
    if (!this.key || this.inFlight || (!force && Date.now() - this.lastFetch < 500)) return;
    const key = this.key;
    const [executionArn, label] = key.split('\n');
    this.inFlight = true;
    this.lastFetch = Date.now();
    try {
      const { mapRuns } = await sfn('ListMapRuns', { executionArn, maxResults: 1000 });
      const mine = (mapRuns || []).filter((run) => mapRunLabel(run.mapRunArn) === label);
      const newest = mine[mine.length - 1];
      const run = newest ? await sfn('DescribeMapRun', { mapRunArn: newest.mapRunArn }) : null;
      if (key !== this.key) return;
      this.run = run;
      this.render();
    } catch (error) {
      if (key === this.key) this.el.replaceChildren(h('h3', {}, 'Map Run'), errorAlert(error, 'Could not load the Map Run'));
    } finally {
      this.inFlight = false;
    }
  }

  render() {
    const run = this.run;
    if (!run) {
      this.el.replaceChildren(h('h3', {}, 'Map Run'), h('p', { class: 'muted', 'data-testid': 'map-run-none' }, 'This Map has not started a run yet.'));
      return;
    }
    const counts = run.itemCounts || {};
    const breakdown = h('span', { 'data-testid': 'map-run-counts' },
      h('span', { 'data-testid': 'map-run-succeeded' }, count(counts, 'succeeded')), ' succeeded · ',
      h('span', { 'data-testid': 'map-run-running' }, count(counts, 'running')), ' running · ',
      h('span', { 'data-testid': 'map-run-pending' }, count(counts, 'pending')), ' pending · ',
      h('span', { 'data-testid': 'map-run-failed' }, count(counts, 'failed')), ' failed · ',
      h('span', { 'data-testid': 'map-run-aborted' }, count(counts, 'aborted')), ' aborted, of ',
      h('span', { 'data-testid': 'map-run-total' }, count(counts, 'total')));
    const tolerated = [
      run.toleratedFailureCount ? `${run.toleratedFailureCount} failures` : null,
      run.toleratedFailurePercentage ? `${run.toleratedFailurePercentage}%` : null,
    ].filter(Boolean).join(' or ') || 'none';
    this.el.replaceChildren(
      h('h3', {}, 'Map Run'),
      keyValues([
        ['Status', h('span', { class: 'state-badge', 'data-status': run.status.toLowerCase(), 'data-testid': 'map-run-status' }, run.status)],
        ['Children', breakdown],
        ['Max concurrency', h('span', { 'data-testid': 'map-run-max-concurrency' }, run.maxConcurrency ? String(run.maxConcurrency) : 'no limit')],
        ['Tolerated failures', tolerated],
        run.redriveCount ? ['Redriven', `${run.redriveCount} times`] : null,
        ['Map Run ARN', h('code', { class: 'break' }, run.mapRunArn)],
      ]),
      // replaceChildren would show a null as the text "null".
      ...[run.status === 'RUNNING' ? this.updateForm(run) : null, this.children.show(run.mapRunArn)].filter(Boolean));
  }

  updateForm(run) {
    const field = h('input', {
      class: 'input input-narrow', type: 'number', min: '0', max: '10000', id: 'map-run-concurrency',
      'data-testid': 'map-run-concurrency', 'aria-label': 'New max concurrency (0: no limit)',
      onInput: () => { this.typed = field.value; },
    });
    field.value = this.typed ?? String(run.maxConcurrency ?? 0);
    const message = h('div', { class: 'form-message', 'aria-live': 'polite' });
    const button = h('button', { type: 'submit', class: 'btn', 'data-testid': 'map-run-update' }, 'Update');
    const submit = async (event) => {
      event.preventDefault();
      const maxConcurrency = Number(field.value);
      if (!Number.isInteger(maxConcurrency) || maxConcurrency < 0 || maxConcurrency > 10000) {
        message.replaceChildren(h('span', { class: 'field-error' }, 'A whole number from 0 (no limit) to 10,000'));
        return;
      }
      button.disabled = true;
      try {
        await sfn('UpdateMapRun', { mapRunArn: run.mapRunArn, maxConcurrency });
        this.typed = null;
        announce(`Map Run concurrency set to ${maxConcurrency || 'no limit'}`);
        await this.refresh(true);
      } catch (error) {
        message.replaceChildren(errorAlert(error, 'Could not update the Map Run'));
        button.disabled = false;
      }
    };
    return h('form', { class: 'inline-form', 'data-testid': 'map-run-form', onSubmit: submit },
      h('label', { for: 'map-run-concurrency' }, 'Max concurrency'), field, button, message);
  }
}

/**
 * A Map Run's children, listed on request: each is read by rebuilding the parent from its
 * journal, too much work to repeat on every refresh of a running Map.
 */
class ChildList {
  constructor() {
    this.el = h('div', { class: 'map-run-children', 'data-testid': 'map-run-children' });
    this.mapRunArn = null;
    this.listed = null; // the children as last listed
    this.selected = null; // the ARN of the child whose details are open
    this.details = h('div', { 'data-testid': 'child-details' });
  }

  show(mapRunArn) {
    if (mapRunArn !== this.mapRunArn) {
      this.mapRunArn = mapRunArn;
      this.listed = null;
      this.selected = null;
      this.details.replaceChildren();
    }
    this.render();
    return this.el;
  }

  render() {
    const label = this.listed ? 'Refresh children' : 'Show children';
    const button = h('button', { type: 'button', class: 'btn', 'data-testid': 'map-run-show-children', onClick: () => this.load() }, label);
    const parts = [h('h4', {}, 'Child executions'), button, this.listed ? this.table() : null, this.details];
    this.el.replaceChildren(...parts.filter(Boolean));
  }

  async load() {
    const mapRunArn = this.mapRunArn;
    try {
      const { executions, nextToken } = await sfn('ListExecutions', { mapRunArn, maxResults: LISTED_CHILDREN });
      if (mapRunArn !== this.mapRunArn) return;
      this.listed = { executions: executions || [], more: Boolean(nextToken) };
      this.render();
    } catch (error) {
      this.el.replaceChildren(h('h4', {}, 'Child executions'), errorAlert(error, 'Could not list the children'));
    }
  }

  table() {
    const { executions, more } = this.listed;
    if (!executions.length) return h('p', { class: 'muted' }, 'No child has started yet.');
    // The names are UUIDs: their first part tells them apart, the whole one is in the title.
    const rows = executions.map((child, index) => h('tr', { 'data-testid': 'map-run-child', 'data-status': child.status },
      h('td', {}, String(index)),
      h('td', {}, h('button', {
        type: 'button', class: 'btn btn-link', title: child.name, 'aria-expanded': String(this.selected === child.executionArn),
        'aria-label': `Child ${child.name}`, onClick: () => this.open(child.executionArn),
      }, child.name.split('-')[0])),
      h('td', {}, statusBadge(child.status)),
      h('td', {}, formatDate(child.startDate))));
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'table table-compact' },
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Child'), h('th', {}, 'Status'), h('th', {}, 'Started'))),
        h('tbody', {}, rows)),
      more ? h('p', { class: 'muted' }, `The first ${LISTED_CHILDREN} children are listed.`) : null);
  }

  /** Opens a child's details: its input, output or error, and its own history's events. */
  async open(arn) {
    this.selected = arn;
    this.render();
    this.details.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      const [child, history] = await Promise.all([
        sfn('DescribeExecution', { executionArn: arn }),
        sfn('GetExecutionHistory', { executionArn: arn, maxResults: 1000 }),
      ]);
      if (arn !== this.selected) return;
      const parts = [
        h('h4', {}, `Child ${child.name}`),
        keyValues([
          ['Status', h('span', { 'data-testid': 'child-status' }, child.status)],
          ['Execution ARN', h('code', { class: 'break' }, child.executionArn)],
          child.error ? ['Error', h('code', { 'data-testid': 'child-error' }, child.error)] : null,
          child.cause ? ['Cause', child.cause] : null,
        ]),
        jsonPane('Input', child.input, { 'data-testid': 'child-input' }),
        child.output != null ? jsonPane('Output', child.output, { 'data-testid': 'child-output' }) : null,
        h('h4', {}, 'Events'),
        h('ul', { class: 'plain-list', 'data-testid': 'child-events' },
          (history.events || []).map((event) => h('li', {}, `${event.id} ${event.type}`))),
      ];
      this.details.replaceChildren(...parts.filter(Boolean));
    } catch (error) {
      this.details.replaceChildren(errorAlert(error, 'Could not load the child'));
    }
  }
}
