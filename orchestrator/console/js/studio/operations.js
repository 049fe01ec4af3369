// Edits of a definition: insert, move, delete, duplicate, connect and rename states. Every
// operation takes a definition, returns `{definition, selected}` for a changed copy (or null when
// nothing changes) and never touches its input, so the undo history can keep the old text.
//
// Places are qualified state ids (see document.js) and drop targets:
//   {kind: 'edge', from, to, edge: 'next'|'choice'|'default'|'start'|'end'}  between two states
//   {kind: 'after', id}            after a state (before it, when it is a Succeed or Fail)
//   {kind: 'container', id}        at the end of a container: '' (the top level), a Parallel
//                                  branch `<Parallel>/<i>`, or a Map's processor `<Map>`
//   {kind: 'new-branch', id}       as a new branch of the Parallel `id`

import { allNames, indexStates, uniqueName } from './document.js';

const TERMINAL = new Set(['Succeed', 'Fail', 'Choice']);
const CATCHING = new Set(['Task', 'Parallel', 'Map']);

/** A copy of `object` with `oldKey` replaced by `newKey` at the same position. */
export function replaceKey(object, oldKey, newKey, value) {
  if (!(oldKey in object)) {
    object[newKey] = value;
    return object;
  }
  const entries = Object.entries(object);
  for (const key of Object.keys(object)) delete object[key];
  for (const [key, v] of entries) {
    if (key === oldKey) object[newKey] = value;
    else if (key !== newKey) object[key] = v;
  }
  return object;
}

/** Points `state` at `next` (a name), or makes it the end of its flow when `next` is null. */
export function setNext(state, next) {
  if (next == null) replaceKey(state, 'Next', 'End', true);
  else replaceKey(state, 'End', 'Next', next);
}

/** Names a new state of `type` from the palette. Functions are camel-cased: place-order → PlaceOrder. */
export function baseName(item) {
  if (item.function) return item.function.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('') || 'Task';
  return item.type;
}

/** The ASL object a palette item creates. Compound states get uniquely named children. */
export function newState(definition, item, taken = allNames(definition)) {
  const child = (base) => {
    const name = uniqueName(definition, base, taken);
    taken.add(name);
    return name;
  };
  if (item.function) return { Type: 'Task', Resource: item.arn };
  switch (item.type) {
    case 'Task': return { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'my-function', 'Payload.$': '$' } };
    case 'Wait': return { Type: 'Wait', Seconds: 1 };
    case 'Fail': return { Type: 'Fail', Error: 'Failed', Cause: 'Describe why the workflow failed.' };
    case 'Choice': return { Type: 'Choice', Choices: [] };
    case 'Parallel': return {
      Type: 'Parallel',
      Branches: [1, 2].map(() => {
        const name = child('Branch');
        return { StartAt: name, States: { [name]: { Type: 'Pass', End: true } } };
      }),
    };
    case 'Map': {
      const name = child('ProcessItem');
      return { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: name, States: { [name]: { Type: 'Pass', End: true } } } };
    }
    default: return { Type: item.type };
  }
}

/** Every place in `scope` that transitions to `name`, as setters. */
function referencesTo(scope, name) {
  const refs = [];
  if (scope.StartAt === name) refs.push({ kind: 'start', set: (to) => { if (to == null) delete scope.StartAt; else scope.StartAt = to; } });
  for (const state of Object.values(scope.States || {})) {
    if (!state || typeof state !== 'object') continue;
    if (state.Next === name) refs.push({ kind: 'next', state, set: (to) => setNext(state, to) });
    if (state.Default === name) refs.push({ kind: 'default', state, set: (to) => { if (to == null) delete state.Default; else state.Default = to; } });
    (Array.isArray(state.Choices) ? state.Choices : []).forEach((rule) => {
      if (rule?.Next === name) refs.push({ kind: 'choice', state, set: (to) => { if (to == null) state.Choices = state.Choices.filter((r) => r !== rule); else rule.Next = to; } });
    });
    (Array.isArray(state.Catch) ? state.Catch : []).forEach((catcher) => {
      if (catcher?.Next === name) refs.push({ kind: 'catch', state, set: (to) => { if (to == null) state.Catch = state.Catch.filter((c) => c !== catcher); else catcher.Next = to; } });
    });
  }
  return refs;
}

/** Where a state's flow goes on: its Next, or null when it ends (or cannot go on). */
function continuation(state) {
  return typeof state?.Next === 'string' ? state.Next : null;
}

/** Gives the new state `name` its continuation `next` (null: it ends), as its type allows. */
function continueWith(state, next) {
  delete state.Next;
  delete state.End;
  if (state.Type === 'Succeed' || state.Type === 'Fail') return;
  if (state.Type === 'Choice') {
    if (next != null) state.Default = next;
    return;
  }
  if (next == null) state.End = true;
  else state.Next = next;
}

/** Adds `state` as `name` to `scope`, after `afterName` in the key order when given. */
function addToScope(scope, name, state, afterName) {
  scope.States ??= {};
  if (afterName == null || !(afterName in scope.States)) {
    scope.States[name] = state;
    return;
  }
  const entries = Object.entries(scope.States);
  for (const key of Object.keys(scope.States)) delete scope.States[key];
  for (const [key, value] of entries) {
    scope.States[key] = value;
    if (key === afterName) scope.States[name] = state;
  }
}

/** The state a container's flow ends at, to append after; or, failing that, one to insert before. */
function endOf(scope) {
  const states = Object.entries(scope.States || {});
  const ending = states.filter(([, s]) => s?.End === true);
  if (ending.length) return { after: ending[ending.length - 1][0] };
  const terminal = states.filter(([, s]) => s?.Type === 'Succeed' || s?.Type === 'Fail');
  if (terminal.length) return { before: terminal[terminal.length - 1][0] };
  return {};
}

/** Places `state` (named `name`) at `target` in `definition` (mutated). Returns false when it can't. */
function place(definition, name, state, target) {
  const { states, containers } = indexStates(definition);
  if (target.kind === 'new-branch') {
    const parallel = states.get(target.id)?.state;
    if (parallel?.Type !== 'Parallel') return false;
    continueWith(state, null);
    parallel.Branches ??= [];
    parallel.Branches.push({ StartAt: name, States: { [name]: state } });
    return `${target.id}/${parallel.Branches.length - 1}/${name}`;
  }
  if (target.kind === 'container') {
    const container = containers.get(target.id);
    if (!container) return false;
    const { scope, prefix } = container;
    const end = endOf(scope);
    if (end.after) return place(definition, name, state, { kind: 'after', id: prefix + end.after });
    if (end.before) return insertBefore(scope, prefix, name, state, end.before);
    addToScope(scope, name, state);
    continueWith(state, null);
    if (!scope.StartAt || !(scope.StartAt in scope.States)) scope.StartAt = name;
    return prefix + name;
  }
  if (target.kind === 'edge' && target.edge === 'start') {
    const old = definition.StartAt;
    addToScope(definition, name, state);
    continueWith(state, old ?? null);
    definition.StartAt = name;
    return name;
  }
  const fromId = target.kind === 'edge' ? target.from : target.id;
  const from = states.get(fromId);
  if (!from) return false;
  const { scope, prefix } = from;
  const source = from.state;
  const toName = target.kind === 'edge' && target.to !== 'end' ? states.get(target.to)?.name : null;
  if (target.kind === 'edge' && target.edge === 'choice') {
    for (const rule of source.Choices || []) if (rule?.Next === toName) rule.Next = name;
    addToScope(scope, name, state, from.name);
    continueWith(state, toName);
    return prefix + name;
  }
  if (target.kind === 'edge' && target.edge === 'default' || target.kind === 'after' && source.Type === 'Choice') {
    const next = source.Default ?? null;
    source.Default = name;
    addToScope(scope, name, state, from.name);
    continueWith(state, next);
    return prefix + name;
  }
  // Nothing can follow a Succeed or a Fail: "after" it means just before it.
  if ((target.kind === 'after' || target.edge === 'end') && (source.Type === 'Succeed' || source.Type === 'Fail')) {
    return insertBefore(scope, prefix, name, state, from.name);
  }
  const next = continuation(source);
  addToScope(scope, name, state, from.name);
  continueWith(state, next);
  setNext(source, name);
  return prefix + name;
}

function insertBefore(scope, prefix, name, state, beforeName) {
  for (const ref of referencesTo(scope, beforeName)) ref.set(name);
  addToScope(scope, name, state);
  continueWith(state, beforeName);
  return prefix + name;
}

/** Inserts a new state from a palette item at `target`. */
export function insertState(definition, item, target) {
  const copy = structuredClone(definition);
  const taken = allNames(copy);
  const name = uniqueName(copy, baseName(item), taken);
  taken.add(name);
  const state = newState(copy, item, taken);
  const selected = place(copy, name, state, target);
  return selected ? { definition: copy, selected } : null;
}

/** Takes a state out of its flow: whatever pointed at it points at its continuation. */
function detach(definition, entry) {
  const { scope, name, state } = entry;
  const next = state?.Type === 'Choice' ? state.Default ?? null : continuation(state);
  for (const ref of referencesTo(scope, name)) {
    if (ref.state === state) continue;
    if (ref.kind === 'start' && next == null) {
      const rest = Object.keys(scope.States).filter((n) => n !== name);
      ref.set(rest[0] ?? null);
    } else {
      ref.set(next);
    }
  }
  delete scope.States[name];
}

/** Drops branches left empty and Parallels left without branches' StartAt. */
function pruneEmptyBranches(definition) {
  for (const entry of indexStates(definition).states.values()) {
    const state = entry.state;
    if (state?.Type === 'Parallel' && Array.isArray(state.Branches)) {
      state.Branches = state.Branches.filter((b) => Object.keys(b?.States || {}).length > 0);
    }
  }
}

export function deleteState(definition, id) {
  const copy = structuredClone(definition);
  const entry = indexStates(copy).states.get(id);
  if (!entry) return null;
  const next = entry.state?.Next;
  // The selection goes on to the next state, else back to one that led here.
  const before = referencesTo(entry.scope, entry.name).find((ref) => ref.state && ref.state !== entry.state);
  const beforeName = before && Object.keys(entry.scope.States).find((key) => entry.scope.States[key] === before.state);
  detach(copy, entry);
  pruneEmptyBranches(copy);
  const remaining = indexStates(copy).states;
  const selected = [next, beforeName].map((n) => n && entry.prefix + n).find((id) => id && remaining.has(id)) ?? null;
  return { definition: copy, selected };
}

/** Moves a state (with everything inside it) to `target`. */
export function moveState(definition, id, target) {
  if ([target.id, target.from, target.to].some((t) => t && (t === id || t.startsWith(`${id}/`)))) return null;
  const copy = structuredClone(definition);
  const entry = indexStates(copy).states.get(id);
  if (!entry) return null;
  detach(copy, entry);
  const selected = place(copy, entry.name, entry.state, target);
  if (!selected) return null;
  pruneEmptyBranches(copy);
  return { definition: copy, selected: indexStates(copy).states.has(selected) ? selected : null };
}

/** Renames every state in `value`'s nested scopes that `rename` maps, references included. */
function renameInScope(scope, rename) {
  if (!scope || typeof scope !== 'object') return;
  const map = (n) => (typeof n === 'string' && rename.has(n) ? rename.get(n) : n);
  if (scope.StartAt) scope.StartAt = map(scope.StartAt);
  const entries = Object.entries(scope.States || {});
  if (!scope.States) return;
  for (const key of Object.keys(scope.States)) delete scope.States[key];
  for (const [name, state] of entries) {
    scope.States[map(name)] = state;
    if (!state || typeof state !== 'object') continue;
    if (state.Next) state.Next = map(state.Next);
    if (state.Default) state.Default = map(state.Default);
    for (const rule of state.Choices || []) if (rule?.Next) rule.Next = map(rule.Next);
    for (const catcher of state.Catch || []) if (catcher?.Next) catcher.Next = map(catcher.Next);
    for (const branch of state.Branches || []) renameInScope(branch, rename);
    renameInScope(state.ItemProcessor || state.Iterator, rename);
  }
}

/** A copy of the state right after it, named `<name>Copy` (its inner states likewise). */
export function duplicateState(definition, id) {
  const copy = structuredClone(definition);
  const entry = indexStates(copy).states.get(id);
  if (!entry) return null;
  const taken = allNames(copy);
  const clone = structuredClone(entry.state);
  const inner = new Map();
  const wrapper = { States: { x: clone } };
  for (const nested of indexStates(wrapper).states.values()) {
    if (nested.id === 'x') continue;
    const name = uniqueName(copy, `${nested.name}Copy`, taken);
    taken.add(name);
    inner.set(nested.name, name);
  }
  for (const branch of clone.Branches || []) renameInScope(branch, inner);
  renameInScope(clone.ItemProcessor || clone.Iterator, inner);
  const name = uniqueName(copy, `${entry.name}Copy`, taken);
  const selected = place(copy, name, clone, { kind: 'after', id });
  return selected ? { definition: copy, selected } : null;
}

/**
 * Points a transition of state `id` at the state named `to` (null: End, or no Default). `link`
 * says which: {kind: 'next'}, {kind: 'default'}, {kind: 'choice', index}, {kind: 'catch', index}.
 */
export function connect(definition, id, link, to) {
  const copy = structuredClone(definition);
  const state = indexStates(copy).states.get(id)?.state;
  if (!state) return null;
  if (link.kind === 'next') {
    if (TERMINAL.has(state.Type)) return null;
    setNext(state, to);
  } else if (link.kind === 'default') {
    if (to == null) delete state.Default;
    else state.Default = to;
  } else if (link.kind === 'choice') {
    const rule = state.Choices?.[link.index];
    if (!rule) return null;
    rule.Next = to ?? '';
  } else if (link.kind === 'catch') {
    const catcher = state.Catch?.[link.index];
    if (!catcher) return null;
    catcher.Next = to ?? '';
  }
  return { definition: copy, selected: id };
}

/**
 * The graph's "drag from the handle" connection: Next, or for a Choice its Default, then a new
 * rule; `asCatch` adds a Catch of every error (States.ALL) instead.
 */
export function connectByHandle(definition, id, toId, asCatch = false) {
  const { states } = indexStates(definition);
  const from = states.get(id);
  const to = states.get(toId);
  if (!from || !to || from.scope !== to.scope) return null;
  if (asCatch) {
    if (!CATCHING.has(from.state.Type)) return null;
    const copy = structuredClone(definition);
    const state = indexStates(copy).states.get(id).state;
    const jsonata = (state.QueryLanguage || copy.QueryLanguage) === 'JSONata';
    state.Catch ??= [];
    state.Catch.push(jsonata ? { ErrorEquals: ['States.ALL'], Next: to.name } : { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: to.name });
    return { definition: copy, selected: id };
  }
  if (from.state.Type === 'Choice') {
    if (!from.state.Default) return connect(definition, id, { kind: 'default' }, to.name);
    const copy = structuredClone(definition);
    const choice = indexStates(copy).states.get(id).state;
    choice.Choices ??= [];
    choice.Choices.push((choice.QueryLanguage || copy.QueryLanguage) === 'JSONata'
      ? { Condition: '{% true %}', Next: to.name }
      : { Variable: '$.value', StringEquals: 'value', Next: to.name });
    return { definition: copy, selected: id };
  }
  return connect(definition, id, { kind: 'next' }, to.name);
}

/** Renames a state in place (same key position) and every transition to it. */
export function renameState(definition, id, newName) {
  const copy = structuredClone(definition);
  const entry = indexStates(copy).states.get(id);
  if (!entry || !newName || newName === entry.name || allNames(copy).has(newName)) return null;
  renameInScope(entry.scope, new Map([[entry.name, newName]]));
  return { definition: copy, selected: entry.prefix + newName };
}

/** Replaces one state's object (the inspector's edits), keeping its place. */
export function updateState(definition, id, edit) {
  const copy = structuredClone(definition);
  const entry = indexStates(copy).states.get(id);
  if (!entry) return null;
  edit(entry.state, copy);
  return { definition: copy, selected: id };
}
