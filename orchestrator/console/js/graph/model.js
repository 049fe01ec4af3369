// Turns the server's graph JSON (states with qualified ids) into an ELK input graph: Parallel
// states become compounds holding one compound per branch, Map states become compounds around
// their processor template, and transitions become labelled edges. Text is measured here, before
// layout, so ELK reserves the right room for labels.

const FONT_FAMILY = '"Open Sans", "Helvetica Neue", Roboto, Arial, sans-serif';
const FONTS = {
  label: `600 13px ${FONT_FAMILY}`,
  sub: `400 11px ${FONT_FAMILY}`,
  title: `700 13px ${FONT_FAMILY}`,
  edge: `400 11px ${FONT_FAMILY}`,
};

const NODE = { height: 48, minWidth: 132, maxWidth: 260, padX: 18 };
const COMPOUND_PAD = { top: 40, side: 16, bottom: 16 };
const BRANCH_PAD = 12;
const TERMINAL_SIZE = 20;
const EDGE_LABEL_MAX = 220;
const COMPOUND_TYPES = new Set(['Parallel', 'Map']);

let context = null;

/** Text width in px for a canvas font string; falls back to an estimate without a canvas. */
function measure(text, font) {
  context ??= document.createElement('canvas').getContext('2d');
  if (!context) return text.length * 7;
  context.font = font;
  return context.measureText(text).width;
}

/** Shortens `text` with an ellipsis until it fits `maxWidth`. */
function fitText(text, font, maxWidth) {
  if (measure(text, font) <= maxWidth) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(`${text.slice(0, mid)}…`, font) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

/**
 * Indexes the graph: every state gets its display name and parent container. A Parallel's
 * branch containers are `<id>/<i>`; a Map is itself the container of its processor states. The
 * longest matching prefix wins, which keeps names that contain "/" intact.
 */
export function indexGraph(graph) {
  const states = new Map();
  const containers = [];
  for (const state of graph.states || []) {
    states.set(state.id, { ...state });
    if (state.type === 'Parallel') {
      (state.branches || []).forEach((start, i) => {
        containers.push({ id: `${state.id}/${i}`, prefix: `${state.id}/${i}/`, owner: state.id, index: i, start, kind: 'branch' });
      });
    } else if (state.type === 'Map') {
      containers.push({ id: state.id, prefix: `${state.id}/`, owner: state.id, start: state.processor, kind: 'map' });
    }
  }
  containers.sort((a, b) => b.prefix.length - a.prefix.length);
  for (const state of states.values()) {
    const container = containers.find((c) => state.id.startsWith(c.prefix) && state.id !== c.owner);
    state.parent = container ? container.id : null;
    state.containerKind = container?.kind || 'root';
    state.name = container ? state.id.slice(container.prefix.length) : state.id;
  }
  return { states, containers, startAt: graph.startAt };
}

const elkId = {
  state: (id) => `s:${id}`,
  branch: (id) => `b:${id}`,
};

/** A short label for a Catch edge: its error names. */
export function catchLabel(catcher) {
  return (catcher.errorEquals || []).join(', ') || 'Catch';
}

function ruleLabel(state, i) {
  const rule = state.rules?.[i];
  return rule ? String(rule) : `Rule ${i + 1}`;
}

/**
 * Builds the ELK input. Returns `{ elk, nodes, edges }` where `nodes` maps ELK ids to what the
 * renderer needs (kind, state, display texts) and `edges` maps edge ids to kind and label.
 */
export function buildElkGraph(graph) {
  const index = indexGraph(graph);
  const nodes = new Map();
  const edges = new Map();
  const elkNodes = new Map();

  const root = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.padding': '[top=24,left=24,bottom=24,right=24]',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.edgeNode': '18',
      'elk.spacing.edgeEdge': '12',
      'elk.spacing.edgeLabel': '4',
      'elk.layered.spacing.nodeNodeBetweenLayers': '34',
      'elk.layered.spacing.edgeNodeBetweenLayers': '16',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.nodePlacement.bk.fixedAlignment': 'BALANCED',
      'elk.edgeRouting': 'ORTHOGONAL',
    },
    children: [],
    edges: [],
  };
  elkNodes.set('root', root);

  // Containers first, so states can be attached to them in definition order.
  for (const c of index.containers) {
    if (c.kind !== 'branch') continue;
    const branch = {
      id: elkId.branch(c.id),
      layoutOptions: {
        'elk.direction': 'DOWN',
        'elk.alignment': 'TOP',
        'elk.padding': `[top=${BRANCH_PAD},left=${BRANCH_PAD},bottom=${BRANCH_PAD},right=${BRANCH_PAD}]`,
      },
      children: [],
      edges: [],
    };
    elkNodes.set(branch.id, branch);
    nodes.set(branch.id, { kind: 'branch', id: c.id, owner: c.owner, index: c.index });
  }

  for (const state of index.states.values()) {
    const id = elkId.state(state.id);
    const compound = COMPOUND_TYPES.has(state.type);
    const node = compound ? compoundNode(id, state) : leafNode(id, state);
    elkNodes.set(id, node);
    nodes.set(id, { kind: compound ? 'compound' : 'state', id: state.id, state, ...node.meta });
    delete node.meta;
  }

  const parentElkId = (state) => {
    if (!state.parent) return 'root';
    return state.containerKind === 'branch' ? elkId.branch(state.parent) : elkId.state(state.parent);
  };
  // Branch compounds live inside their Parallel, in branch order.
  for (const c of index.containers) {
    if (c.kind === 'branch') elkNodes.get(elkId.state(c.owner)).children.push(elkNodes.get(elkId.branch(c.id)));
  }
  for (const state of index.states.values()) {
    elkNodes.get(parentElkId(state)).children.push(elkNodes.get(elkId.state(state.id)));
  }

  let edgeCount = 0;
  // `index` is the Choice rule's or the Catch's position, so the studio can re-point that one.
  const addEdge = (from, to, kind, label, container = 'root', index = null) => {
    const id = `e${edgeCount++}`;
    const edge = { id, sources: [from], targets: [to] };
    if (label) {
      const text = fitText(label, FONTS.edge, EDGE_LABEL_MAX);
      edge.labels = [{
        text,
        width: Math.ceil(measure(text, FONTS.edge)) + 10,
        height: 16,
        layoutOptions: { 'elk.edgeLabels.placement': 'CENTER' },
      }];
    }
    elkNodes.get(container).edges.push(edge);
    edges.set(id, { kind, label: label || '', from, to, index });
  };

  if (index.startAt && index.states.has(index.startAt)) {
    root.children.unshift(terminalNode('start', nodes));
    addEdge('start', elkId.state(index.startAt), 'start');
  }

  let needsEnd = false;
  for (const state of index.states.values()) {
    const from = elkId.state(state.id);
    const container = parentElkId(state);
    const target = (to) => (index.states.has(to) ? elkId.state(to) : null);
    if (state.next && target(state.next)) addEdge(from, target(state.next), 'next', '', container);
    (state.choices || []).forEach((to, i) => {
      if (target(to)) addEdge(from, target(to), 'choice', ruleLabel(state, i), container, i);
    });
    if (state.default && target(state.default)) addEdge(from, target(state.default), 'default', 'Default', container);
    (state.catch || []).forEach((catcher, i) => {
      if (target(catcher.next)) addEdge(from, target(catcher.next), 'catch', catchLabel(catcher), container, i);
    });
    const ends = state.end || state.type === 'Succeed' || state.type === 'Fail';
    if (!state.parent && ends) {
      needsEnd = true;
      addEdge(from, 'end', 'end', '', 'root');
    }
  }
  if (needsEnd) root.children.push(terminalNode('end', nodes));

  return { elk: root, nodes, edges, index };
}

function terminalNode(kind, nodes) {
  nodes.set(kind, { kind, id: kind });
  return { id: kind, width: TERMINAL_SIZE, height: TERMINAL_SIZE };
}

function leafNode(id, state) {
  const sub = subtitle(state);
  const label = fitText(state.name, FONTS.label, NODE.maxWidth - 2 * NODE.padX);
  const subText = fitText(sub, FONTS.sub, NODE.maxWidth - 2 * NODE.padX);
  const retryRoom = state.retry?.length ? 16 : 0;
  const width = Math.ceil(Math.max(
    NODE.minWidth,
    measure(label, FONTS.label) + 2 * NODE.padX + retryRoom,
    measure(subText, FONTS.sub) + 2 * NODE.padX,
  ));
  return { id, width, height: NODE.height, meta: { label, sub: subText } };
}

function compoundNode(id, state) {
  const label = fitText(state.name, FONTS.title, 320);
  const typeText = state.type === 'Map' && state.mode === 'DISTRIBUTED' ? 'Map (distributed)' : state.type;
  // Room for the title, the type tag and (for Map) the iteration badge.
  const titleWidth = measure(label, FONTS.title) + measure(typeText, FONTS.sub) + 2 * COMPOUND_PAD.side + 24
    + (state.type === 'Map' ? 120 : 0) + (state.retry?.length ? 36 : 0);
  const minWidth = Math.ceil(Math.max(160, titleWidth));
  return {
    id,
    layoutOptions: {
      'elk.direction': state.type === 'Parallel' ? 'RIGHT' : 'DOWN',
      'elk.padding': `[top=${COMPOUND_PAD.top},left=${COMPOUND_PAD.side},bottom=${COMPOUND_PAD.bottom},right=${COMPOUND_PAD.side}]`,
      'elk.nodeSize.constraints': '[MINIMUM_SIZE]',
      // (height, width): with INCLUDE_CHILDREN and direction DOWN, elkjs 0.12.1 reads a
      // compound's minimum size transposed (checked by laying out a one-branch Parallel).
      'elk.nodeSize.minimum': `(40, ${minWidth})`,
      'elk.spacing.nodeNode': '20',
    },
    children: [],
    edges: [],
    meta: { label, sub: typeText },
  };
}

function subtitle(state) {
  if (state.type === 'Task' && state.resource) {
    const parts = String(state.resource).split(':');
    const last = parts[parts.length - 1];
    return last && last !== state.name ? `Task · ${last}` : 'Task';
  }
  return state.type;
}

export const PADDING = { compoundTop: COMPOUND_PAD.top, compoundBottom: COMPOUND_PAD.bottom, branch: BRANCH_PAD };
