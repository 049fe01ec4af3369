// Draws a laid-out ELK graph as SVG. Every state is a `<g class="node">` carrying data-state,
// data-type and data-status, so CSS colours it and tests can find it; live progress later only
// patches those attributes (see view.js), it never redraws.

import { s } from '../dom.js';
import { PADDING } from './model.js';

let markerSeq = 0;

const ICON_RADIUS = 9;
const HEADER_HEIGHT = 34;

/**
 * Renders `laid` (ELK output, absolute coordinates) into a new `<g>`. Returns the group, the
 * per-state element refs keyed by qualified state id, and the drawing's bounds.
 */
export function drawGraph(laid, model) {
  const prefix = `g${++markerSeq}`;
  const defs = s('defs', {},
    marker(`${prefix}-arrow`, 'arrow'),
    marker(`${prefix}-arrow-catch`, 'arrow arrow-catch'));
  const layers = {
    containers: s('g', { class: 'layer-containers' }),
    edges: s('g', { class: 'layer-edges' }),
    nodes: s('g', { class: 'layer-nodes' }),
  };
  const states = new Map();
  // Nodes are appended in reading order (top to bottom, then left to right) so Tab follows the
  // picture rather than the definition's nesting.
  const focusable = [];

  const visit = (node, depth) => {
    for (const child of node.children || []) {
      const meta = model.nodes.get(child.id);
      if (!meta) continue;
      if (meta.kind === 'branch') layers.containers.append(drawBranch(child, meta, node));
      else if (meta.kind === 'compound') {
        const refs = drawCompound(child, meta, depth);
        layers.containers.append(refs.frame);
        focusable.push([child, refs.g]);
        states.set(meta.id, refs);
      } else if (meta.kind === 'state') {
        const refs = drawLeaf(child, meta);
        focusable.push([child, refs.g]);
        states.set(meta.id, refs);
      } else {
        layers.nodes.append(drawTerminal(child, meta.kind));
      }
      visit(child, depth + 1);
    }
    for (const edge of node.edges || []) {
      const meta = model.edges.get(edge.id);
      if (meta) layers.edges.append(drawEdge(edge, meta, prefix));
    }
  };
  visit(laid, 0);
  focusable.sort(([a], [b]) => a.y - b.y || a.x - b.x);
  layers.nodes.append(...focusable.map(([, g]) => g));

  const group = s('g', { class: 'graph-content' }, defs, layers.containers, layers.edges, layers.nodes);
  return { group, states, width: laid.width || 0, height: laid.height || 0 };
}

function marker(id, cls) {
  return s('marker', {
    id, class: cls, viewBox: '0 0 10 10', refX: 9, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
}

function drawBranch(n, meta, parallel) {
  // Columns stretch to the Parallel's bottom so branches of different lengths line up.
  const bottom = parallel.y + parallel.height - PADDING.compoundBottom;
  const height = Math.max(n.height, bottom - n.y);
  return s('g', { class: 'branch', 'data-branch': meta.id, transform: `translate(${n.x},${n.y})` },
    s('title', {}, `Branch ${meta.index + 1}`),
    s('rect', { class: 'branch-shape', width: n.width, height, rx: 8 }));
}

function nodeGroup(n, meta, cls) {
  const state = meta.state;
  return s('g', {
    class: cls,
    'data-state': state.id,
    'data-type': state.type,
    'data-status': 'not-started',
    tabindex: 0,
    role: 'button',
    'aria-label': `${state.name}, ${state.type}, not-started`,
    transform: `translate(${n.x},${n.y})`,
  });
}

function statusIcon() {
  return s('g', { class: 'status-icon', 'aria-hidden': 'true' },
    s('circle', { r: ICON_RADIUS }),
    s('text', { class: 'status-glyph', y: 0.5 }));
}

function retryBadge(state, x) {
  const retriers = state.retry || [];
  if (!retriers.length) return null;
  const max = Math.max(...retriers.map((r) => r.maxAttempts ?? 3));
  const detail = retriers.map((r) => `Retry ${(r.errorEquals || []).join(', ')}: up to ${r.maxAttempts ?? 3} attempts, `
    + `every ${r.intervalSeconds ?? 1} s × ${r.backoffRate ?? 2}`).join('\n');
  const text = `↻ ${max}`;
  return s('g', { class: 'retry-badge', transform: `translate(${x},-9)` },
    s('title', {}, detail),
    s('rect', { x: -34, width: 34, height: 18, rx: 9 }),
    s('text', { x: -17, y: 9 }, text));
}

function drawLeaf(n, meta) {
  const g = nodeGroup(n, meta, 'node');
  const title = s('title');
  const icon = statusIcon();
  g.append(
    title,
    s('rect', { class: 'focus-ring', x: -5, y: -5, width: n.width + 10, height: n.height + 10, rx: 12 }),
    s('rect', { class: 'shape', width: n.width, height: n.height, rx: shapeRadius(meta.state.type, n.height) }),
    s('text', { class: 'node-label', x: n.width / 2, y: n.height / 2 - 7 }, meta.label),
    s('text', { class: 'node-sub', x: n.width / 2, y: n.height / 2 + 10 }, meta.sub),
    retryBadge(meta.state, n.width + 6) || '',
    icon,
  );
  return { g, title, icon, meta };
}

function shapeRadius(type, height) {
  // Succeed and Fail are pills, the rest rounded rectangles, as in the AWS console.
  return type === 'Succeed' || type === 'Fail' ? height / 2 : 8;
}

// A compound is two groups: the frame (dashed box, drawn behind the children) and the node
// itself, which is only the header strip. Keeping the node's box to the header means its centre is
// never covered by a child, so a click on the node (a user's or a test's) selects the compound.
// The frame carries no data-state/data-status, so only real nodes match state selectors; the view
// mirrors the node's status, selection, validity and focus onto it as data-frame-* attributes.
function drawCompound(n, meta, depth) {
  const frame = s('g', {
    class: 'compound-frame', 'data-frame-for': meta.state.id,
    transform: `translate(${n.x},${n.y})`,
  },
  s('rect', { class: 'focus-ring', x: -5, y: -5, width: n.width + 10, height: n.height + 10, rx: 14 }),
  s('rect', { class: 'shape', width: n.width, height: n.height, rx: 10 }));
  const g = nodeGroup(n, meta, 'node compound');
  g.dataset.depth = String(depth);
  const title = s('title');
  const icon = statusIcon();
  const iterations = meta.state.type === 'Map'
    ? s('text', { class: 'iterations', x: n.width - 14, y: 22, 'data-testid': 'map-iterations' })
    : null;
  g.append(
    title,
    s('rect', { class: 'compound-header', width: n.width, height: HEADER_HEIGHT, rx: 10 }),
    s('text', { class: 'compound-title', x: 16, y: 24 },
      meta.label, s('tspan', { class: 'compound-type', dx: 8 }, meta.sub)),
    iterations || '',
    retryBadge(meta.state, n.width + 6) || '',
    icon,
  );
  return { g, frame, title, icon, iterations, meta };
}

function drawTerminal(n, kind) {
  const r = n.width / 2;
  return s('g', { class: `terminal terminal-${kind}`, transform: `translate(${n.x + r},${n.y + r})`, 'data-terminal': kind },
    s('title', {}, kind === 'start' ? 'Start' : 'End'),
    s('circle', { class: 'terminal-outer', r }),
    kind === 'end' ? s('circle', { class: 'terminal-inner', r: r - 5 }) : '');
}

function drawEdge(edge, meta, prefix) {
  const g = s('g', {
    class: 'edge', 'data-kind': meta.kind,
    'data-from': stripId(meta.from), 'data-to': stripId(meta.to), 'data-index': meta.index,
  });
  const arrow = meta.kind === 'catch' ? `${prefix}-arrow-catch` : `${prefix}-arrow`;
  for (const section of edge.sections || []) {
    const points = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
    g.append(s('path', { class: 'edge-path', d: roundedPath(points), 'marker-end': `url(#${arrow})` }));
  }
  for (const label of edge.labels || []) {
    g.append(s('g', { class: 'edge-label', transform: `translate(${label.x},${label.y})` },
      meta.label !== label.text ? s('title', {}, meta.label) : '',
      s('rect', { width: label.width, height: label.height, rx: 3 }),
      s('text', { x: label.width / 2, y: label.height / 2 + 0.5 }, label.text)));
  }
  return g;
}

function stripId(elkId) {
  return elkId.replace(/^[sb]:/, '');
}

/** An orthogonal polyline with softly rounded corners. */
function roundedPath(points) {
  const r = 6;
  let d = `M ${points[0].x} ${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [a, b, c] = [points[i - 1], points[i], points[i + 1]];
    const r1 = Math.min(r, Math.hypot(b.x - a.x, b.y - a.y) / 2);
    const r2 = Math.min(r, Math.hypot(c.x - b.x, c.y - b.y) / 2);
    const p1 = towards(b, a, r1);
    const p2 = towards(b, c, r2);
    d += ` L ${p1.x} ${p1.y} Q ${b.x} ${b.y} ${p2.x} ${p2.y}`;
  }
  const last = points[points.length - 1];
  return `${d} L ${last.x} ${last.y}`;
}

function towards(from, to, distance) {
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  return { x: from.x + ((to.x - from.x) / length) * distance, y: from.y + ((to.y - from.y) / length) * distance };
}
