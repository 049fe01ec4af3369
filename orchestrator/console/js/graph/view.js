// The graph component: lays a definition out once with ELK, draws it, and then only patches
// node attributes (status, selection, validation marks). Adds zoom/pan, keyboard selection and a
// legend.

import { h, s, setAttr, STATE_STATUS_LABEL } from '../dom.js';
import { buildElkGraph, catchLabel } from './model.js';
import { drawGraph } from './render.js';

const layoutCache = new Map();
const LAYOUT_CACHE_SIZE = 16;
const MIN_CANVAS_HEIGHT = 320;
const MAX_CANVAS_HEIGHT = 1400;
const MIN_FIT_SCALE = 0.5;
let elk = null;

/** Lays a graph out, reusing the result for a definition already seen. */
async function layout(graph) {
  const key = JSON.stringify(graph);
  if (layoutCache.has(key)) return layoutCache.get(key);
  if (!globalThis.ELK) throw new Error('The layout engine (vendor/elkjs/elk.bundled.js) did not load.');
  elk ??= new globalThis.ELK();
  const model = buildElkGraph(graph);
  const promise = elk.layout(model.elk).then((laid) => ({ laid, model }));
  layoutCache.set(key, promise);
  if (layoutCache.size > LAYOUT_CACHE_SIZE) layoutCache.delete(layoutCache.keys().next().value);
  promise.catch(() => layoutCache.delete(key));
  return promise;
}

const STATUS_GLYPH = {
  'in-progress': '●', succeeded: '✓', failed: '✕', 'caught-error': '!', cancelled: '–', 'timed-out': '◷',
};

export class GraphView {
  /**
   * @param {{onSelect?: (id: string|null) => void, legend?: 'status'|'edges', label?: string,
   *   draggable?: string, keepView?: boolean}} options `draggable`: a selector of elements a pointer
   *   drag does not pan; `keepView`: a new graph keeps the user's zoom and pan
   */
  constructor(options = {}) {
    this.options = options;
    this.states = new Map();
    this.progress = null;
    this.scope = null;
    this.invalid = new Map();
    this.selected = null;
    this.transform = { x: 0, y: 0, k: 1 };
    this.userMoved = false;
    this.renderedKey = null;

    this.viewport = s('g', { class: 'viewport' });
    this.svg = s('svg', {
      class: 'graph-svg', 'data-testid': 'graph', role: 'group',
      'aria-label': options.label || 'State machine graph',
    }, this.viewport);
    this.message = h('div', { class: 'graph-message', hidden: true });
    const button = (label, text, onClick, testid) => h('button', {
      type: 'button', class: 'btn btn-icon', title: label, 'aria-label': label, 'data-testid': testid, onClick,
    }, text);
    this.el = h('div', { class: 'graph-view' },
      h('div', { class: 'graph-canvas' },
        this.svg,
        this.message,
        h('div', { class: 'graph-controls' },
          button('Zoom in', '+', () => this.zoomBy(1.25), 'graph-zoom-in'),
          button('Zoom out', '−', () => this.zoomBy(0.8), 'graph-zoom-out'),
          button('Fit to view', '⤢', () => this.fit({ all: true }), 'graph-fit'))),
      legend(options.legend || 'edges'));

    this.bindEvents();
    // Tabs hide the graph; fit once it gets a size, unless the user already zoomed.
    this.resizeObserver = new ResizeObserver(() => {
      if (!this.userMoved && this.svg.clientWidth > 0) this.fit();
    });
    this.resizeObserver.observe(this.svg);
  }

  /** Lays out and draws `graph`; does nothing when it is the graph already shown. */
  async setGraph(graph) {
    const key = JSON.stringify(graph);
    if (key === this.renderedKey) return;
    this.pendingKey = key;
    const started = performance.now();
    const { laid, model } = await layout(graph);
    if (this.pendingKey !== key) return; // a newer graph arrived meanwhile
    this.renderedKey = key;
    const drawing = drawGraph(laid, model);
    this.viewport.replaceChildren(drawing.group);
    this.states = drawing.states;
    this.size = { width: drawing.width, height: drawing.height };
    // Exposed for performance checks: layout plus drawing, in ms.
    this.svg.dataset.layoutMs = String(Math.round(performance.now() - started));
    // The studio redraws after every edit; a view the user zoomed or panned stays as it is.
    if (!(this.options.keepView && this.userMoved)) this.fit();
    for (const id of this.states.keys()) this.refreshNode(id);
    if (this.selected && !this.states.has(this.selected)) this.selected = null;
    if (this.selected) markSelected(this.states.get(this.selected), true);
  }

  showMessage(text) {
    this.message.textContent = text || '';
    this.message.hidden = !text;
  }

  /**
   * Applies a /progress projection: statuses, titles, Map iteration counts. `scope` ({map, index})
   * says the progress shows one iteration of that Map; its node gets data-iteration.
   */
  setProgress(progress, scope = null) {
    this.progress = progress;
    this.scope = scope;
    for (const id of this.states.keys()) this.refreshNode(id);
  }

  /** Marks states that validation diagnostics point at; `marks` maps state id -> messages. */
  setInvalid(marks) {
    this.invalid = marks;
    for (const id of this.states.keys()) this.refreshNode(id);
  }

  select(id, { focus = false, notify = false } = {}) {
    const previous = this.selected && this.states.get(this.selected);
    if (previous) markSelected(previous, false);
    this.selected = id && this.states.has(id) ? id : null;
    const refs = this.selected && this.states.get(this.selected);
    if (refs) {
      markSelected(refs, true);
      if (focus) refs.g.focus({ preventScroll: true });
      this.reveal(refs.g);
    }
    if (notify) this.options.onSelect?.(id);
  }

  refreshNode(id) {
    const refs = this.states.get(id);
    if (!refs) return;
    const { g, frame, title, icon, iterations, meta } = refs;
    const progress = this.progress?.states?.[id];
    const status = progress?.status || 'not-started';
    setAttr(g, 'data-status', status);
    if (frame) setAttr(frame, 'data-frame-status', status);
    setAttr(g, 'aria-label', `${meta.state.name}, ${meta.state.type}, ${status}`);
    const glyph = STATUS_GLYPH[status] || '';
    const glyphEl = icon.querySelector('text');
    if (glyphEl.textContent !== glyph) glyphEl.textContent = glyph;
    const messages = this.invalid.get(id);
    if (messages?.length) setAttr(g, 'data-invalid', 'true');
    else if (g.hasAttribute('data-invalid')) g.removeAttribute('data-invalid');
    frame?.toggleAttribute('data-frame-invalid', Boolean(messages?.length));
    if (iterations) {
      // The badge always counts every iteration, even while one iteration is shown inside.
      const text = iterationText(progress?.iterations);
      if (iterations.textContent !== text) iterations.textContent = text;
    }
    const iteration = this.scope?.map === id ? this.scope.index : null;
    if (iteration != null) setAttr(g, 'data-iteration', iteration);
    else if (g.hasAttribute('data-iteration')) g.removeAttribute('data-iteration');
    frame?.toggleAttribute('data-frame-iteration', iteration != null);
    const lines = nodeTitle(meta.state, status, progress, messages, iteration);
    if (title.textContent !== lines) title.textContent = lines;
  }

  // ---- zoom and pan ----

  applyTransform() {
    const { x, y, k } = this.transform;
    this.viewport.setAttribute('transform', `translate(${x},${y}) scale(${k})`);
  }

  /**
   * Shows the graph at the width of the canvas (never above 100 %) and grows the canvas to the
   * graph's height, up to MAX_CANVAS_HEIGHT, so the page scrolls instead of the graph shrinking to
   * an unreadable size. `all` ("Fit" button) shrinks it further until the whole graph is visible.
   */
  fit({ all = false } = {}) {
    const width = this.svg.clientWidth;
    if (!this.size || !width) return;
    const pad = 12;
    let k = Math.max(MIN_FIT_SCALE, Math.min(1, (width - 2 * pad) / this.size.width));
    if (!all) {
      const wanted = Math.ceil(this.size.height * k + 2 * pad);
      const height = Math.max(MIN_CANVAS_HEIGHT, Math.min(MAX_CANVAS_HEIGHT, wanted));
      if (this.svg.style.height !== `${height}px`) this.svg.style.height = `${height}px`;
    }
    const height = this.svg.clientHeight;
    if (all) k = Math.min(k, (height - 2 * pad) / this.size.height, (width - 2 * pad) / this.size.width);
    this.transform = {
      k,
      x: Math.max(pad, (width - this.size.width * k) / 2),
      y: Math.max(pad, (height - this.size.height * k) / 2),
    };
    this.userMoved = false;
    this.applyTransform();
  }

  zoomBy(factor, cx = this.svg.clientWidth / 2, cy = this.svg.clientHeight / 2) {
    const { x, y, k } = this.transform;
    const next = Math.min(3, Math.max(0.15, k * factor));
    const ratio = next / k;
    this.transform = { k: next, x: cx - (cx - x) * ratio, y: cy - (cy - y) * ratio };
    this.userMoved = true;
    this.applyTransform();
  }

  /** Pans just enough to bring a node into view (keyboard users tab through nodes). */
  reveal(g) {
    const box = g.getBBox?.();
    if (!box || !this.svg.clientWidth) return;
    const m = g.transform.baseVal.consolidate()?.matrix;
    const { x, y, k } = this.transform;
    const left = x + ((m?.e || 0) + box.x) * k;
    const top = y + ((m?.f || 0) + box.y) * k;
    const right = left + box.width * k;
    const bottom = top + box.height * k;
    const w = this.svg.clientWidth;
    const hgt = this.svg.clientHeight;
    let dx = 0;
    let dy = 0;
    if (right > w - 16) dx = w - 16 - right;
    if (left + dx < 16) dx = 16 - left;
    if (bottom > hgt - 16) dy = hgt - 16 - bottom;
    if (top + dy < 16) dy = 16 - top;
    if (dx || dy) {
      this.transform = { k, x: x + dx, y: y + dy };
      this.applyTransform();
    }
  }

  bindEvents() {
    const nodeOf = (target) => target.closest?.('.node');
    this.svg.addEventListener('click', (event) => {
      if (this.dragged) return;
      const node = nodeOf(event.target);
      // A click on a compound's body (not its header) lands on its frame.
      const id = node?.dataset.state ?? event.target.closest?.('[data-frame-for]')?.dataset.frameFor;
      if (id) this.select(id, { notify: true });
    });
    this.svg.addEventListener('keydown', (event) => {
      const node = nodeOf(event.target);
      if (!node) return;
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this.select(node.dataset.state, { notify: true });
      }
    });
    this.svg.addEventListener('focusin', (event) => {
      const node = nodeOf(event.target);
      if (!node) return;
      this.reveal(node);
      // A compound's focus ring belongs on its whole frame, not only its header.
      this.states.get(node.dataset.state)?.frame?.toggleAttribute('data-frame-focus', node.matches(':focus-visible'));
    });
    this.svg.addEventListener('focusout', (event) => {
      const node = nodeOf(event.target);
      if (node) this.states.get(node.dataset.state)?.frame?.removeAttribute('data-frame-focus');
    });
    // Ctrl/Cmd + wheel (and trackpad pinch, which arrives as ctrl+wheel) zooms; a plain wheel
    // keeps scrolling the page, so a tall graph never traps the scroll.
    this.svg.addEventListener('wheel', (event) => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      const rect = this.svg.getBoundingClientRect();
      const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
      this.zoomBy(Math.exp(-delta * 0.002), event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });

    let start = null;
    this.svg.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      // The studio drags states (and connection handles) instead of panning.
      if (this.options.draggable && event.target.closest?.(this.options.draggable)) return;
      start = { x: event.clientX, y: event.clientY, tx: this.transform.x, ty: this.transform.y, id: event.pointerId };
      this.dragged = false;
    });
    this.svg.addEventListener('pointermove', (event) => {
      if (!start || event.pointerId !== start.id) return;
      const dx = event.clientX - start.x;
      const dy = event.clientY - start.y;
      if (!this.dragged && Math.hypot(dx, dy) < 4) return;
      if (!this.dragged) this.svg.setPointerCapture(event.pointerId);
      this.dragged = true;
      this.svg.classList.add('panning');
      this.transform = { ...this.transform, x: start.tx + dx, y: start.ty + dy };
      this.userMoved = true;
      this.applyTransform();
    });
    const end = () => {
      start = null;
      this.svg.classList.remove('panning');
      // The click that ends a drag must not select; clear the flag after it fires.
      setTimeout(() => { this.dragged = false; }, 0);
    };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', end);
  }

  destroy() {
    this.resizeObserver.disconnect();
  }
}

function markSelected(refs, selected) {
  if (selected) refs.g.dataset.selected = 'true';
  else delete refs.g.dataset.selected;
  refs.frame?.toggleAttribute('data-frame-selected', selected);
}

export function iterationText(iterations) {
  if (!iterations || !iterations.total) return '';
  const parts = [`${iterations.succeeded || 0}/${iterations.total} ✓`];
  if (iterations.failed) parts.push(`${iterations.failed} ✕`);
  if (iterations.running) parts.push(`${iterations.running} running`);
  if (iterations.aborted) parts.push(`${iterations.aborted} aborted`);
  return parts.join(' · ');
}

function nodeTitle(state, status, progress, messages, iteration) {
  const lines = [`${state.name} (${state.type})`, `Status: ${STATE_STATUS_LABEL[status] || status}`];
  if (iteration != null) lines.push(`Showing iteration #${iteration} inside`);
  if (state.resource) lines.push(`Resource: ${state.resource}`);
  if (progress?.attempts > 1) lines.push(`Attempts: ${progress.attempts}`);
  if (progress?.error) lines.push(`Error: ${progress.error}`);
  for (const r of state.retry || []) lines.push(`Retry: ${(r.errorEquals || []).join(', ')} (max ${r.maxAttempts ?? 3})`);
  for (const c of state.catch || []) lines.push(`Catch: ${catchLabel(c)} → ${c.next}`);
  for (const message of messages || []) lines.push(`Invalid: ${message}`);
  return lines.join('\n');
}

function legend(kind) {
  const items = [];
  if (kind === 'status') {
    for (const status of ['in-progress', 'succeeded', 'failed', 'caught-error', 'cancelled', 'timed-out', 'not-started']) {
      items.push(h('li', {}, h('span', { class: 'legend-swatch', 'data-status': status, 'aria-hidden': 'true' },
        STATUS_GLYPH[status] || ''), STATE_STATUS_LABEL[status]));
    }
  }
  items.push(
    h('li', {}, h('span', { class: 'legend-line', 'aria-hidden': 'true' }), 'Next'),
    h('li', {}, h('span', { class: 'legend-line legend-catch', 'aria-hidden': 'true' }), 'Catch'),
    h('li', {}, h('span', { class: 'legend-retry', 'aria-hidden': 'true' }, '↻ n'), 'Retry (max attempts)'),
    h('li', { class: 'legend-hint' }, 'Drag to pan · Ctrl + scroll to zoom'),
  );
  return h('ul', { class: 'legend', 'aria-label': 'Legend', 'data-testid': 'graph-legend' }, items);
}
