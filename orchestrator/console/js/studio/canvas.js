// The studio's graph: the console's GraphView (ELK layout, SVG drawing) plus drop targets. Palette
// items arrive by HTML5 drag and drop; states already on the graph are moved, connected through the
// handle under each node (with Shift: a new Catch), and Choice rules, Defaults and Catches are
// re-pointed by dragging their edge's label, all with pointer events (SVG elements cannot be
// HTML5-draggable).
//
// Drop targets, from the most to the least specific: a "+" on an edge (insert between), a node
// (insert after it), a Parallel branch or a Map's frame (append inside), a Parallel's frame outside
// its branches (a new branch), the empty canvas (append to the top-level flow).

import { h, s } from '../dom.js';
import { GraphView } from '../graph/view.js';

export const DRAG_TYPE = 'application/x-stepwasm-state';
const DROP_EDGES = new Set(['next', 'choice', 'default', 'start', 'end']);
const DRAG_THRESHOLD = 5;
const RECONNECTABLE = new Set(['choice', 'default', 'catch']);

/** What dropping at `element` means, as an operations.js target. */
export function dropTargetAt(element) {
  if (!element?.closest) return null;
  const zone = element.closest('.drop-zone');
  if (zone) return { kind: 'edge', edge: zone.dataset.edge, from: zone.dataset.from, to: zone.dataset.to };
  const node = element.closest('.node[data-state]');
  if (node) return { kind: 'after', id: node.dataset.state };
  const branch = element.closest('.branch[data-branch]');
  if (branch) return { kind: 'container', id: branch.dataset.branch };
  const frame = element.closest('.compound-frame[data-frame-for]');
  if (frame) {
    const id = frame.dataset.frameFor;
    const type = element.ownerSVGElement?.querySelector(`.node[data-state="${CSS.escape(id)}"]`)?.dataset.type;
    return type === 'Parallel' ? { kind: 'new-branch', id } : { kind: 'container', id };
  }
  if (element.closest('svg[data-testid=graph]')) return { kind: 'container', id: '' };
  return null;
}

export class StudioCanvas {
  /**
   * @param {{onSelect: (id: string|null) => void, onDropItem: (item, target) => void,
   *   onMove: (id: string, target) => void, onConnect: (from: string, to: string, asCatch: boolean) => void,
   *   onReconnect: (from: string, link: {kind, index}, to: string) => void, onDelete: (id: string) => void,
   *   onCut: (id: string) => void, onPaste: (afterId: string) => void}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.graph = new GraphView({
      label: 'Workflow design', legend: 'edges', draggable: '.node, .connect-handle, .edge-label', keepView: true,
      onSelect: (id) => handlers.onSelect(id),
    });
    this.hint = h('div', { class: 'studio-empty-hint', 'data-testid': 'studio-empty-hint', hidden: true },
      'Drag a state here from the palette, or pick one and press Enter.');
    this.graph.svg.parentElement.append(this.hint);
    this.el = this.graph.el;
    this.el.classList.add('studio-canvas');
    this.ghost = h('div', { class: 'studio-ghost', hidden: true, 'aria-hidden': 'true' });
    document.body.append(this.ghost);
    this.bindDrop();
    this.bindPointerDrags();
    this.bindKeys();
  }

  get svg() {
    return this.graph.svg;
  }

  /** Draws `graph`, marks invalid states and selects `selected` (keeping it in view). */
  async show(graph, selected, invalid) {
    this.hint.hidden = graph.states.length > 0;
    await this.graph.setGraph(graph);
    this.decorate();
    this.graph.setInvalid(invalid);
    this.graph.select(selected);
  }

  /** Adds the "+" drop zones on edges and the connection handles under nodes, once per drawing. */
  decorate() {
    const content = this.graph.viewport.querySelector('.graph-content');
    if (!content || content.querySelector('.layer-studio')) return;
    const layer = s('g', { class: 'layer-studio' });
    for (const edge of content.querySelectorAll('.edge')) {
      const kind = edge.dataset.kind;
      const path = edge.querySelector('.edge-path');
      if (!DROP_EDGES.has(kind) || !path) continue;
      const length = path.getTotalLength();
      // Choice edges carry their rule's label at the middle; their "+" sits near the target.
      const point = path.getPointAtLength(length * (kind === 'choice' || kind === 'default' ? 0.82 : 0.5));
      layer.append(s('g', {
        class: 'drop-zone', 'data-testid': 'drop-edge', 'data-edge': kind,
        'data-from': edge.dataset.from, 'data-to': edge.dataset.to, transform: `translate(${point.x},${point.y})`,
      }, s('title', {}, 'Drop a state here to insert it'), s('circle', { r: 9 }), s('text', { y: 0.5 }, '+')));
    }
    for (const [id, refs] of this.graph.states) {
      const type = refs.meta.state.type;
      if (type === 'Succeed' || type === 'Fail') continue;
      const box = (refs.frame || refs.g).querySelector('.shape');
      const at = (refs.frame || refs.g).transform.baseVal.consolidate()?.matrix;
      if (!box || !at) continue;
      const x = at.e + Number(box.getAttribute('width')) / 2;
      const y = at.f + Number(box.getAttribute('height'));
      layer.append(s('g', {
        class: 'connect-handle', 'data-testid': 'connect-handle', 'data-for': id, transform: `translate(${x},${y})`,
      }, s('title', {}, `Drag onto another state to connect ${refs.meta.state.name} to it; with Shift, to catch its errors there`),
      s('circle', { r: 6 })));
    }
    content.append(layer);
  }

  setDropHighlight(element) {
    if (this.highlighted === element) return;
    this.highlighted?.removeAttribute('data-drop-active');
    this.highlighted = element;
    element?.setAttribute('data-drop-active', 'true');
  }

  highlightFor(element) {
    return element?.closest?.('.drop-zone, .node[data-state], .branch, .compound-frame') || null;
  }

  bindDrop() {
    const svg = this.svg;
    svg.addEventListener('dragover', (event) => {
      if (!event.dataTransfer?.types.includes(DRAG_TYPE)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      this.el.classList.add('studio-dragging');
      this.setDropHighlight(this.highlightFor(event.target));
    });
    svg.addEventListener('dragleave', (event) => {
      if (!svg.contains(event.relatedTarget)) this.endDrag();
    });
    svg.addEventListener('drop', (event) => {
      const data = event.dataTransfer?.getData(DRAG_TYPE);
      this.endDrag();
      if (!data) return;
      event.preventDefault();
      const target = dropTargetAt(event.target);
      if (target) this.handlers.onDropItem(JSON.parse(data), target);
    });
    document.addEventListener('dragend', this.onDragEnd = () => this.endDrag());
  }

  endDrag() {
    this.el.classList.remove('studio-dragging');
    this.setDropHighlight(null);
    this.ghost.hidden = true;
  }

  /** Moving a node, or drawing a connection from a handle, with the pointer. */
  bindPointerDrags() {
    let drag = null;
    this.svg.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      const handle = event.target.closest?.('.connect-handle');
      const edge = handle ? null : event.target.closest?.('.edge-label')?.closest('.edge');
      const node = handle || edge ? null : event.target.closest?.('.node[data-state]');
      const start = { x: event.clientX, y: event.clientY, active: false, pointer: event.pointerId };
      if (handle) drag = { ...start, kind: 'connect', id: handle.dataset.for };
      else if (edge && RECONNECTABLE.has(edge.dataset.kind)) {
        const link = { kind: edge.dataset.kind, index: edge.dataset.index == null ? undefined : Number(edge.dataset.index) };
        drag = { ...start, kind: 'reconnect', id: edge.dataset.from, link };
      } else if (node) drag = { ...start, kind: 'move', id: node.dataset.state };
    });
    this.onPointerMove = (event) => {
      if (!drag || event.pointerId !== drag.pointer) return;
      if (!drag.active && Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_THRESHOLD) return;
      if (!drag.active) {
        drag.active = true;
        // The click that ends this drag must not select what is under the pointer.
        this.graph.dragged = true;
        this.el.classList.add(drag.kind === 'move' ? 'studio-dragging' : 'studio-connecting');
        const name = this.graph.states.get(drag.id)?.meta.state.name || drag.id;
        this.ghost.textContent = { move: `Move ${name}`, connect: `Connect ${name} to…`, reconnect: `Re-point ${name}'s ${drag.link?.kind} to…` }[drag.kind];
        this.ghost.hidden = false;
      }
      this.ghost.style.transform = `translate(${event.clientX + 12}px, ${event.clientY + 12}px)`;
      this.setDropHighlight(this.highlightFor(document.elementFromPoint(event.clientX, event.clientY)));
    };
    this.onPointerUp = (event) => {
      if (!drag || event.pointerId !== drag.pointer) return;
      const done = drag;
      drag = null;
      this.el.classList.remove('studio-connecting');
      this.endDrag();
      if (!done.active) return;
      setTimeout(() => { this.graph.dragged = false; }, 0);
      const element = document.elementFromPoint(event.clientX, event.clientY);
      if (done.kind !== 'move') {
        const to = element?.closest?.('.node[data-state]')?.dataset.state;
        if (!to || to === done.id) return;
        if (done.kind === 'connect') this.handlers.onConnect(done.id, to, event.shiftKey);
        else this.handlers.onReconnect(done.id, done.link, to);
        return;
      }
      const target = dropTargetAt(element);
      if (target) this.handlers.onMove(done.id, target);
    };
    window.addEventListener('pointermove', this.onPointerMove);
    window.addEventListener('pointerup', this.onPointerUp);
  }

  bindKeys() {
    this.svg.addEventListener('keydown', (event) => {
      const node = event.target.closest?.('.node[data-state]');
      if (!node) return;
      // Moving with the keyboard: cut a state, select where it goes, paste it after that state.
      if ((event.ctrlKey || event.metaKey) && (event.key === 'x' || event.key === 'v')) {
        event.preventDefault();
        if (event.key === 'x') this.handlers.onCut(node.dataset.state);
        else this.handlers.onPaste(node.dataset.state);
        return;
      }
      if (event.key === 'Escape') {
        this.graph.select(null, { notify: true });
        return;
      }
      if (event.key === 'Delete' || event.key === 'Backspace') {
        event.preventDefault();
        this.handlers.onDelete(node.dataset.state);
        return;
      }
      const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      const nodes = [...this.svg.querySelectorAll('.layer-nodes .node[data-state]')];
      const next = nodes[nodes.indexOf(node) + step];
      if (next) this.graph.select(next.dataset.state, { focus: true, notify: true });
    });
  }

  /** Focuses the selected node (after a keyboard action redrew the graph). */
  focusSelected() {
    const refs = this.graph.selected && this.graph.states.get(this.graph.selected);
    refs?.g.focus({ preventScroll: true });
  }

  destroy() {
    window.removeEventListener('pointermove', this.onPointerMove);
    window.removeEventListener('pointerup', this.onPointerUp);
    document.removeEventListener('dragend', this.onDragEnd);
    this.ghost.remove();
    this.graph.destroy();
  }
}
