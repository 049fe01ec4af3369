// The Map Run of a Distributed Map, in the step details: its status, how many children are in
// each state, its limits, and (while it runs) a form to change its concurrency (UpdateMapRun).

import { sfn } from '../api.js';
import { announce, errorAlert, h, keyValues } from '../dom.js';

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
  }

  /** Shows the newest Map Run of the Map labelled `label` in `executionArn`. */
  show(executionArn, label) {
    const key = `${executionArn}\n${label}`;
    if (key !== this.key) {
      this.key = key;
      this.run = null;
      this.typed = null;
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
      run.status === 'RUNNING' ? this.updateForm(run) : null);
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
