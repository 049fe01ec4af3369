// An execution: summary, input/output, approvals, and the Graph | Table | Events views with a
// "Step details" panel. One EventSource feeds the events table and triggers /progress refetches;
// the graph is laid out once and only its attributes change afterwards.

import { ApiError, TERMINAL_EVENTS, consoleApi, routes, sfn } from '../api.js';
import {
  announce, durationBetween, errorAlert, formatDate, formatDuration, h, keyValues, prettyJson, spinner, statusBadge,
} from '../dom.js';
import { ApprovalCards } from '../components/approval.js';
import { EventsTable } from '../components/events-table.js';
import { jsonPane, setJson } from '../components/json-view.js';
import { MapIterationBar } from '../components/map-iterations.js';
import { MapRunPanel } from '../components/map-run.js';
import { emptyDetails, stateDetails } from '../components/state-details.js';
import { statesTable } from '../components/states-table.js';
import { tabs } from '../components/tabs.js';
import { GraphView } from '../graph/view.js';
import { navigate, routeQuery, setBreadcrumbs, setRouteQuery } from '../nav.js';

const PROGRESS_DELAY_MS = 150;

function lastSegment(arn) {
  return String(arn).split(':').pop();
}

/** The Map iteration a link asks for (`?map=<id>&iteration=<n>`), or null for all iterations. */
function iterationFromQuery(query) {
  const map = query.get('map');
  const index = Number(query.get('iteration'));
  return map && query.get('iteration') !== '' && Number.isInteger(index) && index >= 0 ? { map, index } : null;
}

function machineArnOf(executionArn) {
  // arn:aws:states:region:account:execution:<machine>:<name> -> ...:stateMachine:<machine>
  const parts = String(executionArn).split(':');
  return parts.length >= 8 ? [...parts.slice(0, 5), 'stateMachine', parts[6]].join(':') : null;
}

export function executionPage(main, arn) {
  const name = lastSegment(arn);
  const machineArn = machineArnOf(arn);
  setBreadcrumbs([
    { label: 'stepwasm', href: '#/' },
    { label: 'State machines', href: '#/' },
    ...(machineArn ? [{ label: lastSegment(machineArn), href: routes.machine(machineArn) }] : []),
    { label: name },
  ]);
  const page = new ExecutionPage(arn);
  main.append(page.el);
  page.start();
  return () => page.destroy();
}

class ExecutionPage {
  constructor(arn) {
    this.arn = arn;
    this.alive = true;
    this.execution = null;
    this.progress = null;
    this.progressScope = null; // the iteration `progress` was fetched for
    this.progressDetails = null; // the state whose input and output `progress` carries
    this.graph = null;
    this.selected = null;
    this.source = null;
    this.progressTimer = 0;
    this.progressInFlight = false;
    this.progressDirty = false;
    this.progressUnavailable = false;
    // {map, index} while one Map's inner states show a single iteration; null shows them all.
    this.iteration = iterationFromQuery(routeQuery());
    this.el = h('div', { class: 'container' }, spinner('Loading execution'));
  }

  async start() {
    try {
      this.execution = await sfn('DescribeExecution', { executionArn: this.arn });
    } catch (error) {
      if (this.alive) this.el.replaceChildren(h('h1', {}, lastSegment(this.arn)), errorAlert(error, 'Could not load the execution'));
      return;
    }
    if (!this.alive) return;
    this.build();
    this.renderExecution();
    this.loadGraph();
    this.fetchProgress();
    this.openStream();
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  build() {
    const ex = this.execution;
    const machineArn = ex.stateMachineArn || machineArnOf(this.arn);
    this.statusSlot = h('span', { class: 'status-slot' });
    this.liveBadge = h('span', { class: 'live-badge', hidden: true, title: 'Receiving live updates' },
      h('span', { class: 'pulse', 'aria-hidden': 'true' }), 'Live');
    this.stopButton = h('button', { type: 'button', class: 'btn', 'data-testid': 'stop-execution', hidden: true, onClick: () => this.confirmStop() }, 'Stop');
    this.nextTimerButton = h('button', {
      type: 'button', class: 'btn', 'data-testid': 'next-timer', hidden: true,
      title: 'Fire the earliest timer now (a Wait, a retry back-off) instead of waiting for it',
      onClick: () => this.nextTimer(),
    }, 'Skip to next timer');
    this.redriveButton = h('button', { type: 'button', class: 'btn', 'data-testid': 'redrive-execution', hidden: true,
      title: 'Run the execution again from the states that did not succeed', onClick: () => this.redrive() }, 'Redrive');
    this.rerunButton = h('button', { type: 'button', class: 'btn', 'data-testid': 'rerun-execution', onClick: () => this.rerun() }, 'Re-run');
    this.actionMessage = h('div', { class: 'slot' });
    this.errorSlot = h('div', { class: 'slot' });
    this.summarySlot = h('div');
    this.input = jsonPane('Input', ex.input, { 'data-testid': 'execution-input' });
    this.output = jsonPane('Output', null, { 'data-testid': 'execution-output' });
    this.approvals = new ApprovalCards({ onSent: () => this.requestProgress() });
    this.mapRun = new MapRunPanel();

    this.graph = new GraphView({ label: 'Execution graph', legend: 'status', onSelect: (id) => this.select(id) });
    this.graphNote = h('div', { class: 'slot graph-note' });
    this.statesTable = h('div');
    this.events = new EventsTable();
    this.details = h('aside', { class: 'card details-panel', 'aria-label': 'Step details' }, emptyDetails());

    this.iterationBar = new MapIterationBar({ nameOf: (id) => this.nameOf(id), onChange: (map, index) => this.selectIteration(map, index) });
    // The iteration narrows both the graph and the table, so the selector sits above both tabs.
    const iterationSlot = h('div', { class: 'iteration-slot' }, this.iterationBar.el);

    const selected = routeQuery().get('tab') || 'graph';
    const showTab = (id) => { iterationSlot.hidden = id === 'events'; };
    this.views = tabs([
      { id: 'graph', label: 'Graph view', panel: h('div', {}, this.graphNote, this.graph.el) },
      { id: 'table', label: 'Table view', panel: this.statesTable },
      { id: 'events', label: 'Event view', panel: this.events.el },
    ], {
      selected,
      onChange: (id) => { setRouteQuery('tab', id); showTab(id); },
      label: 'Execution views',
      toolbar: iterationSlot,
    });
    showTab(this.views.current);

    this.el.replaceChildren(
      h('div', { class: 'page-header' },
        h('div', {},
          h('h1', { class: 'execution-title' }, ex.name || lastSegment(this.arn)),
          h('div', { class: 'page-sub' }, this.statusSlot, this.liveBadge)),
        h('div', { class: 'actions' },
          this.nextTimerButton,
          this.stopButton,
          this.redriveButton,
          this.rerunButton,
          h('button', { type: 'button', class: 'btn', 'data-testid': 'export-execution', onClick: () => this.exportJson() }, 'Export'),
          machineArn ? h('a', { class: 'btn btn-primary', href: routes.machine(machineArn, 'definition') }, 'Edit state machine') : null)),
      this.actionMessage,
      this.errorSlot,
      this.approvals.el,
      h('section', { class: 'card', 'aria-labelledby': 'summary-title' },
        h('h2', { class: 'card-title', id: 'summary-title' }, 'Execution summary'),
        this.summarySlot,
        h('div', { class: 'io-grid' }, this.input, this.output)),
      h('div', { class: 'workflow-layout' },
        h('section', { class: 'card card-tabs' }, this.views.el),
        this.details),
      this.stopDialog());
  }

  /** Everything derived from DescribeExecution: status, summary, output, error banner, buttons. */
  renderExecution() {
    const ex = this.execution;
    const running = ex.status === 'RUNNING';
    this.statusSlot.replaceChildren(statusBadge(ex.status, { 'data-testid': 'execution-status' }));
    this.stopButton.hidden = !running;
    this.nextTimerButton.hidden = !running;
    this.redriveButton.hidden = ex.redriveStatus !== 'REDRIVABLE';
    this.liveBadge.hidden = !running || !this.source;
    setJson(this.output.pre, ex.output, running ? 'Available when the execution succeeds' : 'No output');
    this.renderSummary();
    if (['FAILED', 'TIMED_OUT', 'ABORTED'].includes(ex.status) && (ex.error || ex.cause || ex.status !== 'ABORTED')) {
      const failed = this.failedStateName();
      this.errorSlot.replaceChildren(h('div', { class: 'alert alert-error banner', role: 'alert', 'data-testid': 'execution-error' },
        h('div', { class: 'banner-title' }, h('strong', {}, `Execution ${ex.status.toLowerCase().replace('_', ' ')}`),
          failed ? h('span', { class: 'muted' }, ` at ${failed}`) : null),
        h('div', {}, h('span', { class: 'label' }, 'Error '), h('code', { 'data-testid': 'execution-error-name' }, ex.error || '–')),
        ex.cause ? h('div', { class: 'cause', 'data-testid': 'execution-cause' }, h('span', { class: 'label' }, 'Cause '), prettyJson(ex.cause)) : null));
    } else {
      this.errorSlot.replaceChildren();
    }
  }

  failedStateName() {
    const states = Object.entries(this.progress?.states || {})
      .filter(([, s]) => s.status === 'failed' || s.status === 'timed-out');
    if (!states.length) return null;
    states.sort((a, b) => (b[1].exitedAt || 0) - (a[1].exitedAt || 0));
    return this.nameOf(states[0][0]);
  }

  renderSummary() {
    const ex = this.execution;
    const machineArn = ex.stateMachineArn || machineArnOf(this.arn);
    this.durationEl = h('span', { 'data-testid': 'execution-duration' }, formatDuration(durationBetween(ex.startDate, ex.stopDate)));
    this.summarySlot.replaceChildren(keyValues([
      ['Execution ARN', h('span', { class: 'arn', 'data-testid': 'execution-arn' }, this.arn), { class: 'kv-item kv-wide' }],
      ['State machine', machineArn ? h('a', { href: routes.machine(machineArn), 'data-testid': 'state-machine-link' }, lastSegment(machineArn)) : '–'],
      startedBy(ex.input) && ['Started by', h('a', { href: routes.execution(startedBy(ex.input)), 'data-testid': 'parent-execution-link' },
        lastSegment(startedBy(ex.input)))],
      ['Status', h('span', { 'data-testid': 'summary-status' }, ex.status)],
      ['Started', formatDate(ex.startDate)],
      ['Ended', ex.stopDate ? formatDate(ex.stopDate) : '–'],
      ['Duration', this.durationEl],
      ['State transitions', h('span', { 'data-testid': 'execution-transitions' }, this.progress?.transitions != null ? String(this.progress.transitions) : '–')],
    ]));
  }

  tick() {
    if (this.execution?.status === 'RUNNING' && this.durationEl) {
      this.durationEl.textContent = formatDuration(durationBetween(this.execution.startDate, null));
    }
    // A Distributed Map's children leave no trace in the execution's own history, so nothing
    // else announces that its counts moved.
    // The run shown may also still say RUNNING just after the execution ended.
    const moving = this.execution?.status === 'RUNNING' || this.mapRun.run?.status === 'RUNNING';
    if (moving && this.mapRun.el.isConnected) this.mapRun.refresh();
  }

  async loadGraph() {
    try {
      const graph = await consoleApi.executionGraph(this.arn);
      if (!this.alive) return;
      this.graphStates = new Map((graph.states || []).map((s) => [s.id, s]));
      // A link naming a state that is not a Map would leave no selector to undo it.
      if (this.iteration && this.graphStates.get(this.iteration.map)?.type !== 'Map') this.selectIteration(this.iteration.map, null);
      await this.graph.setGraph(graph);
      if (this.progress) this.applyProgress();
    } catch (error) {
      if (this.alive) this.graphNote.replaceChildren(errorAlert(error, 'Could not draw the graph'));
    }
  }

  nameOf(id) {
    return this.graph?.states.get(id)?.meta.state.name || id.split('/').pop();
  }

  // ---- progress ----

  /** Throttled /progress refetch: one request at a time, the next at least 150 ms later. */
  requestProgress() {
    if (this.progressUnavailable || !this.alive) return;
    if (this.progressInFlight || this.progressTimer) {
      this.progressDirty = true;
      return;
    }
    this.progressTimer = setTimeout(() => {
      this.progressTimer = 0;
      this.fetchProgress();
    }, PROGRESS_DELAY_MS);
  }

  async fetchProgress() {
    if (this.progressUnavailable) return;
    this.progressInFlight = true;
    this.progressDirty = false;
    const scope = this.iteration;
    const details = this.selected;
    try {
      const progress = await consoleApi.progress(this.arn, scope, details);
      if (!this.alive) return;
      if (scope !== this.iteration || details !== this.selected) {
        // Asked before the iteration or the selected state changed: drop it, the finally block
        // asks again.
        this.progressDirty = true;
        return;
      }
      this.progress = progress;
      this.progressScope = scope;
      this.progressDetails = details;
      this.applyProgress();
    } catch (error) {
      if (!this.alive) return;
      if (error instanceof ApiError && error.status === 404 && error.type !== 'ExecutionDoesNotExist') {
        this.progressUnavailable = true;
        this.graphNote.replaceChildren(h('div', { class: 'alert alert-info' }, 'This server does not report per-state progress, so states are not coloured.'));
      }
    } finally {
      this.progressInFlight = false;
      if (this.progressDirty && this.alive) this.requestProgress();
    }
  }

  /** Refetches now rather than after the throttle delay: a person is waiting for the change. */
  refetchProgress() {
    clearTimeout(this.progressTimer);
    this.progressTimer = 0;
    if (this.progressInFlight) this.progressDirty = true;
    else this.fetchProgress();
  }

  applyProgress() {
    const progress = this.progress;
    this.graph.setProgress(progress, this.progressScope);
    this.iterationBar.update(this.mapsWithIterations(), this.iteration);
    this.approvals.update(progress, (id) => this.nameOf(id));
    const transitions = this.summarySlot.querySelector('[data-testid="execution-transitions"]');
    if (transitions && progress.transitions != null) transitions.textContent = String(progress.transitions);
    this.statesTable.replaceChildren(statesTable({
      progress, graphStates: this.graphStates, nameOf: (id) => this.nameOf(id),
      startTime: this.execution.startDate, selected: this.selected, onSelect: (id) => this.select(id),
    }));
    if (this.selected) this.renderDetails();
    if (['FAILED', 'TIMED_OUT'].includes(this.execution.status)) this.renderExecution();
  }

  /** Map ids whose selector is shown (those that have run, and the selected one), in graph order. */
  mapsWithIterations() {
    const states = this.progress?.states || {};
    const ids = this.graphStates
      ? [...this.graphStates.values()].filter((s) => s.type === 'Map').map((s) => s.id)
      : Object.keys(states);
    const maps = new Map();
    for (const id of ids) {
      const iterations = states[id]?.iterations;
      if (iterations?.total > 0 || this.iteration?.map === id) maps.set(id, iterations || null);
    }
    return maps;
  }

  /** Shows one iteration of `map` (index null: all of them). Other Maps go back to all. */
  selectIteration(map, index) {
    this.iteration = index == null ? null : { map, index };
    setRouteQuery('map', this.iteration?.map);
    setRouteQuery('iteration', this.iteration?.index);
    this.iterationBar.update(this.mapsWithIterations(), this.iteration);
    announce(index == null ? `Showing all iterations of ${this.nameOf(map)}` : `Showing iteration ${index} of ${this.nameOf(map)}`);
    this.refetchProgress();
  }

  select(id) {
    const changed = id !== this.selected;
    this.selected = id;
    this.graph.select(id);
    for (const row of this.statesTable.querySelectorAll('tr[data-state]')) {
      row.classList.toggle('is-selected', row.dataset.state === id);
    }
    this.renderDetails();
    // Progress carries only the selected state's input and output.
    if (changed && id) this.refetchProgress();
  }

  renderDetails() {
    const id = this.selected;
    if (!id) {
      this.details.replaceChildren(emptyDetails());
      return;
    }
    const state = this.graphStates?.get(id) || { id, type: 'State' };
    // The progress shown is the projection that was fetched, which may lag the selector briefly.
    const scope = this.progressScope;
    const details = stateDetails({
      state: { ...state, name: this.nameOf(id) },
      progress: this.progress?.states?.[id],
      iteration: scope && id.startsWith(`${scope.map}/`) ? { index: scope.index, map: this.nameOf(scope.map) } : null,
      payloadsLoading: this.progressDetails !== id,
      startTime: this.execution.startDate,
      onClose: () => this.select(null),
    });
    if (state.type === 'Map' && state.mode === 'DISTRIBUTED') {
      details.append(this.mapRun.show(this.arn, state.label || this.nameOf(id)));
    }
    this.details.replaceChildren(details);
  }

  // ---- live events ----

  openStream() {
    const source = new EventSource(consoleApi.eventsUrl(this.arn));
    this.source = source;
    this.liveBadge.hidden = this.execution.status !== 'RUNNING';
    source.addEventListener('history', (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      this.events.add(event);
      if (TERMINAL_EVENTS.has(event.type)) {
        // A redriven execution's history goes on past an earlier end: only a describe tells.
        this.onTerminal().then(() => {
          if (this.source === source && this.execution.status !== 'RUNNING') this.closeStream();
        });
      } else {
        this.requestProgress();
      }
    });
    source.addEventListener('error', () => {
      // CONNECTING means the browser is reconnecting (with Last-Event-ID); CLOSED means it gave up.
      if (source.readyState === EventSource.CLOSED && this.source === source) {
        this.closeStream();
        this.graphNote.replaceChildren(h('div', { class: 'alert alert-warning', role: 'status' },
          'Live updates stopped. Reload the page to reconnect.'));
      }
    });
  }

  closeStream() {
    this.source?.close();
    this.source = null;
    this.liveBadge.hidden = true;
  }

  async onTerminal() {
    try {
      const previous = this.execution.status;
      this.execution = await sfn('DescribeExecution', { executionArn: this.arn });
      if (!this.alive) return;
      clearTimeout(this.progressTimer);
      this.progressTimer = 0;
      await this.fetchProgress();
      this.renderExecution();
      if (previous !== this.execution.status) announce(`Execution ${this.execution.status}`);
    } catch (error) {
      if (this.alive) this.actionMessage.replaceChildren(errorAlert(error, 'Could not refresh the execution'));
    }
  }

  // ---- actions ----

  stopDialog() {
    const error = h('input', { class: 'input', id: 'stop-error', 'data-testid': 'stop-error', placeholder: 'Optional' });
    const cause = h('input', { class: 'input', id: 'stop-cause', 'data-testid': 'stop-cause', placeholder: 'Optional' });
    const confirm = h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'confirm-stop' }, 'Stop execution');
    const message = h('div', { class: 'form-message' });
    this.dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'stop-title', 'data-testid': 'stop-dialog' },
      h('form', {
        method: 'dialog',
        onSubmit: async (event) => {
          event.preventDefault();
          confirm.disabled = true;
          message.replaceChildren();
          try {
            const body = { executionArn: this.arn };
            if (error.value.trim()) body.error = error.value.trim();
            if (cause.value.trim()) body.cause = cause.value.trim();
            await sfn('StopExecution', body);
            this.dialog.close();
            announce('Execution stopped');
            if (!this.source) this.onTerminal();
          } catch (err) {
            message.replaceChildren(errorAlert(err, 'Could not stop the execution'));
          } finally {
            confirm.disabled = false;
          }
        },
      },
      h('h2', { id: 'stop-title' }, 'Stop execution?'),
      h('p', {}, 'The execution ends with status ABORTED. Running tasks are abandoned; this cannot be undone.'),
      h('div', { class: 'field' }, h('label', { for: 'stop-error' }, 'Error'), error),
      h('div', { class: 'field' }, h('label', { for: 'stop-cause' }, 'Cause'), cause),
      message,
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn btn-link', onClick: () => this.dialog.close() }, 'Cancel'),
        confirm)));
    return this.dialog;
  }

  /** RedriveExecution, then follow the execution live again. */
  async redrive() {
    this.redriveButton.disabled = true;
    this.actionMessage.replaceChildren();
    try {
      await sfn('RedriveExecution', { executionArn: this.arn });
      announce('Execution redriven');
      this.execution = await sfn('DescribeExecution', { executionArn: this.arn });
      if (!this.alive) return;
      this.renderExecution();
      if (!this.source) this.openStream();
      this.requestProgress();
    } catch (error) {
      if (this.alive) this.actionMessage.replaceChildren(errorAlert(error, 'Could not redrive the execution'));
    } finally {
      this.redriveButton.disabled = false;
    }
  }

  async nextTimer() {
    this.nextTimerButton.disabled = true;
    this.actionMessage.replaceChildren();
    try {
      await consoleApi.nextTimer(this.arn);
      announce('Fired the next timer');
      this.requestProgress();
    } catch (error) {
      if (this.alive) this.actionMessage.replaceChildren(errorAlert(error, 'Could not fire the next timer'));
    } finally {
      this.nextTimerButton.disabled = false;
    }
  }

  confirmStop() {
    this.dialog.showModal();
  }

  async rerun() {
    this.rerunButton.disabled = true;
    this.actionMessage.replaceChildren();
    try {
      const ex = this.execution;
      const result = await sfn('StartExecution', { stateMachineArn: ex.stateMachineArn || machineArnOf(this.arn), input: ex.input ?? '{}' });
      announce('Execution started');
      navigate(routes.execution(result.executionArn));
    } catch (error) {
      this.actionMessage.replaceChildren(errorAlert(error, 'Could not re-run the execution'));
    } finally {
      this.rerunButton.disabled = false;
    }
  }

  exportJson() {
    const data = { execution: this.execution, progress: this.progress, events: this.events.events };
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const a = h('a', { href: url, download: `${this.execution.name || 'execution'}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  destroy() {
    this.alive = false;
    this.closeStream();
    clearTimeout(this.progressTimer);
    clearInterval(this.ticker);
    this.events?.destroy();
    this.graph?.destroy();
    if (this.dialog?.open) this.dialog.close();
  }
}

/** The execution that started this one, as a `states:startExecution` task records it in the input. */
function startedBy(input) {
  try {
    const parent = JSON.parse(input ?? 'null')?.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
    return typeof parent === 'string' && /:execution:/.test(parent) ? parent : null;
  } catch {
    return null;
  }
}
