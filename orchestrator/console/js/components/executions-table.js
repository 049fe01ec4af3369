// A state machine's executions: status filter, "Load more" paging with nextToken, and a quiet
// refresh every few seconds while any execution shown is still running.

import { routes, sfn } from '../api.js';
import { durationBetween, errorAlert, formatDate, formatDuration, h, spinner, statusBadge } from '../dom.js';
import { qualifierOf } from './versions.js';

const PAGE = 25;
const REFRESH_MS = 3000;
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

/** "2 via live", "2", or "latest": what an execution was started on. */
function startedThrough(execution) {
  const version = qualifierOf(execution.stateMachineVersionArn);
  if (!version) return 'latest';
  const alias = qualifierOf(execution.stateMachineAliasArn);
  return alias ? `${version} via ${alias}` : version;
}

export class ExecutionsTable {
  constructor(stateMachineArn) {
    this.arn = stateMachineArn;
    this.items = [];
    this.nextToken = null;
    this.seq = 0;
    this.timer = 0;

    this.filter = h('select', {
      class: 'select', id: 'status-filter', 'data-testid': 'status-filter', 'aria-label': 'Filter by status',
      onChange: () => this.load(),
    }, h('option', { value: '' }, 'All'), STATUSES.map((s) => h('option', { value: s }, s)));
    this.tbody = h('tbody');
    this.message = h('div', { class: 'table-message' });
    this.more = h('button', {
      type: 'button', class: 'btn', 'data-testid': 'executions-load-more', hidden: true,
      onClick: () => this.load({ append: true }),
    }, 'Load more');
    this.live = h('span', { class: 'muted auto-refresh', hidden: true }, h('span', { class: 'pulse', 'aria-hidden': 'true' }), 'Auto-refreshing');
    this.el = h('div', { class: 'executions' },
      h('div', { class: 'toolbar' },
        h('label', { class: 'toolbar-label', for: 'status-filter' }, 'Status'), this.filter,
        h('button', { type: 'button', class: 'btn', 'data-testid': 'executions-refresh', onClick: () => this.refresh() }, 'Refresh'),
        this.live),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table', 'data-testid': 'executions' },
          h('thead', {}, h('tr', {}, ['Name', 'Status', 'Version', 'Started', 'Ended', 'Duration'].map((c) => h('th', { scope: 'col' }, c)))),
          this.tbody)),
      this.message,
      h('div', { class: 'table-footer' }, this.more));
  }

  body(extra) {
    const body = { stateMachineArn: this.arn, ...extra };
    if (this.filter.value) body.statusFilter = this.filter.value;
    return body;
  }

  /** Loads the first page (or the next one with `append`). */
  async load({ append = false } = {}) {
    const seq = ++this.seq;
    if (!append) this.message.replaceChildren(spinner('Loading executions'));
    this.more.disabled = true;
    try {
      const extra = { maxResults: PAGE };
      if (append && this.nextToken) extra.nextToken = this.nextToken;
      const result = await sfn('ListExecutions', this.body(extra));
      if (seq !== this.seq) return;
      this.items = append ? this.items.concat(result.executions || []) : result.executions || [];
      this.nextToken = result.nextToken || null;
      this.render();
    } catch (error) {
      if (seq !== this.seq) return;
      this.message.replaceChildren(errorAlert(error, 'Could not list executions'));
    } finally {
      this.more.disabled = false;
    }
  }

  /** Re-reads as many executions as are shown, so new and finished ones appear in place. */
  async refresh() {
    const seq = ++this.seq;
    try {
      const maxResults = Math.min(1000, Math.max(PAGE, this.items.length));
      const result = await sfn('ListExecutions', this.body({ maxResults }));
      if (seq !== this.seq) return;
      this.items = result.executions || [];
      this.nextToken = result.nextToken || null;
      this.render();
    } catch (error) {
      if (seq === this.seq) this.message.replaceChildren(errorAlert(error, 'Could not refresh executions'));
    }
  }

  render() {
    this.message.replaceChildren();
    this.tbody.replaceChildren(...this.items.map((e) => h('tr', { 'data-execution-arn': e.executionArn, 'data-status': e.status },
      h('td', {}, h('a', { href: routes.execution(e.executionArn) }, e.name)),
      h('td', {}, statusBadge(e.status)),
      h('td', { class: 'nowrap', 'data-testid': 'execution-version' }, startedThrough(e)),
      h('td', { class: 'nowrap' }, formatDate(e.startDate)),
      h('td', { class: 'nowrap' }, e.stopDate ? formatDate(e.stopDate) : '–'),
      h('td', { class: 'nowrap' }, formatDuration(durationBetween(e.startDate, e.stopDate))))));
    if (!this.items.length) {
      this.message.replaceChildren(h('div', { class: 'empty-state' },
        this.filter.value ? `No ${this.filter.value} executions.` : 'No executions yet. Start one with the form on this page.'));
    }
    this.more.hidden = !this.nextToken;
    const running = this.items.some((e) => e.status === 'RUNNING');
    this.live.hidden = !running;
    clearTimeout(this.timer);
    if (running) this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }

  destroy() {
    this.seq++;
    clearTimeout(this.timer);
  }
}
