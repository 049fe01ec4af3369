// The history as a table fed by the event stream. Events can arrive by the thousand, so rows are
// appended once per animation frame and only the first PAGE rows (then more on request) exist in
// the DOM.

import { formatDate, h } from '../dom.js';
import { setJson } from './json-view.js';

const PAGE = 500;
const COLUMNS = ['ID', 'Type', 'State', 'Started after', 'Timestamp'];
const NUMBER = new Intl.NumberFormat();

function tone(type) {
  if (/(Failed|TimedOut|Aborted)$/.test(type)) return 'error';
  if (/Succeeded$/.test(type)) return 'success';
  if (/(Started|Entered|Scheduled|Submitted)$/.test(type)) return 'info';
  return 'neutral';
}

function stateName(event) {
  return event.stateEnteredEventDetails?.name || event.stateExitedEventDetails?.name || '';
}

export class EventsTable {
  constructor() {
    this.events = [];
    this.lastId = 0;
    this.rendered = 0;
    this.limit = PAGE;
    this.frame = 0;
    this.startTime = null;

    this.tbody = h('tbody', { onClick: (event) => this.onClick(event) });
    this.count = h('span', { class: 'muted', 'data-testid': 'events-count' }, 'No events yet');
    this.more = h('button', {
      type: 'button', class: 'btn', 'data-testid': 'events-show-more', hidden: true,
      onClick: () => this.showMore(),
    }, 'Show more');
    this.table = h('table', { class: 'table table-events', 'data-testid': 'events', 'data-event-count': 0 },
      h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
      this.tbody);
    this.el = h('div', { class: 'events' },
      h('div', { class: 'table-wrap' }, this.table),
      h('div', { class: 'table-footer' }, this.count, this.more));
  }

  /** Adds one history event; ids already seen (a replay after reconnecting) are skipped. */
  add(event) {
    if (typeof event.id === 'number' && event.id <= this.lastId) return;
    this.lastId = event.id ?? this.lastId;
    if (this.startTime == null && event.type === 'ExecutionStarted') this.startTime = Number(event.timestamp);
    this.events.push(event);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  showMore() {
    this.limit += PAGE;
    this.flush();
  }

  flush() {
    this.frame = 0;
    const upto = Math.min(this.events.length, this.limit);
    if (upto > this.rendered) {
      const fragment = document.createDocumentFragment();
      for (let i = this.rendered; i < upto; i++) fragment.append(this.row(this.events[i]));
      this.tbody.append(fragment);
      this.rendered = upto;
    }
    const total = this.events.length;
    // Every event received, including rows not rendered yet (tests and benchmarks read it).
    this.table.dataset.eventCount = String(total);
    this.count.textContent = total === 0 ? 'No events yet'
      : total > this.rendered ? `Showing ${NUMBER.format(this.rendered)} of ${NUMBER.format(total)} events`
        : `${NUMBER.format(total)} ${total === 1 ? 'event' : 'events'}`;
    this.more.hidden = total <= this.rendered;
    this.more.textContent = `Show ${NUMBER.format(Math.min(PAGE, total - this.rendered))} more`;
  }

  row(event) {
    const start = this.startTime ?? Number(event.timestamp);
    const after = Math.max(0, Math.round((Number(event.timestamp) - start) * 1000));
    return h('tr', { 'data-event-id': event.id, 'data-type': event.type, class: 'event-row' },
      h('td', {}, h('button', {
        type: 'button', class: 'expander', 'aria-expanded': 'false', 'aria-label': `Show event ${event.id} details`,
      }, h('span', { class: 'chevron', 'aria-hidden': 'true' }), String(event.id))),
      h('td', {}, h('span', { class: `event-type tone-${tone(event.type)}` }, event.type)),
      h('td', {}, stateName(event)),
      h('td', { class: 'num' }, `${NUMBER.format(after)} ms`),
      h('td', { class: 'nowrap' }, formatDate(event.timestamp)));
  }

  onClick(event) {
    const button = event.target.closest('.expander');
    if (!button) return;
    const row = button.closest('tr');
    const open = button.getAttribute('aria-expanded') === 'true';
    button.setAttribute('aria-expanded', String(!open));
    if (open) {
      if (row.nextElementSibling?.classList.contains('event-detail')) row.nextElementSibling.remove();
      return;
    }
    const data = this.events.find((e) => String(e.id) === row.dataset.eventId);
    const pre = h('pre', { class: 'json', 'data-testid': 'event-json' });
    setJson(pre, data);
    row.after(h('tr', { class: 'event-detail', 'data-detail-for': row.dataset.eventId },
      h('td', { colspan: COLUMNS.length }, pre)));
  }

  destroy() {
    cancelAnimationFrame(this.frame);
  }
}
