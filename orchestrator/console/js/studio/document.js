// The studio's document: an ASL definition as text and as a parsed value. The text is kept as the
// user or the server wrote it until the value really changes, so an untouched definition saves
// byte for byte; a changed one is written with the indentation the original used, in its key
// order (JSON.parse keeps insertion order, and the operations replace keys in place).

/** The indentation `text` uses: a tab, a number of spaces, or 0 for one-line JSON. */
export function detectIndent(text) {
  const match = /\n([ \t]+)\S/.exec(text || '');
  if (!match) return text && text.includes('\n') ? 2 : 0;
  return match[1].startsWith('\t') ? '\t' : match[1].length;
}

/** Writes `value` the way `original` was written (indentation, final newline). */
export function serialize(value, original) {
  const indent = original == null ? 2 : detectIndent(original);
  const text = JSON.stringify(value, null, indent || undefined);
  return original && original.endsWith('\n') ? `${text}\n` : text;
}

/** The parsed definition, or null with the parse error when the text is not a JSON object. */
export function parseDefinition(text) {
  try {
    const value = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) return { value: null, error: 'The definition must be a JSON object.' };
    return { value, error: null };
  } catch (error) {
    return { value: null, error: error.message };
  }
}

/**
 * Every state of a definition, depth first in definition order, keyed by qualified id (the ids the
 * console's graph uses: `Parallel/<branch>/Name`, `Map/Name`). Each entry knows its scope (the
 * object holding StartAt and States), its JSON pointer and its container.
 */
export function indexStates(definition) {
  const states = new Map();
  const containers = new Map();
  const visit = (scope, prefix, pointer, container) => {
    containers.set(container ?? '', { scope, prefix, pointer });
    const named = scope && typeof scope.States === 'object' && scope.States ? scope.States : {};
    for (const [name, state] of Object.entries(named)) {
      const id = prefix + name;
      const at = `${pointer}/States/${escapePointer(name)}`;
      states.set(id, { id, name, state, scope, prefix, pointer: at, container: container ?? '' });
      if (!state || typeof state !== 'object') continue;
      if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
        state.Branches.forEach((branch, i) => visit(branch, `${id}/${i}/`, `${at}/Branches/${i}`, `${id}/${i}`));
      } else if (state.Type === 'Map') {
        const processor = state.ItemProcessor || state.Iterator;
        if (processor) visit(processor, `${id}/`, `${at}/${state.ItemProcessor ? 'ItemProcessor' : 'Iterator'}`, id);
      }
    }
  };
  visit(definition, '', '', null);
  return { states, containers };
}

export function escapePointer(name) {
  return String(name).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Every state name used anywhere in the definition (ASL names are unique per machine). */
export function allNames(definition) {
  return new Set([...indexStates(definition).states.values()].map((entry) => entry.name));
}

/** `base`, or `base2`, `base3`… whichever no state uses yet. */
export function uniqueName(definition, base, taken = allNames(definition)) {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

/** The JSONata flag for a state: its own QueryLanguage, else the definition's. */
export function queryLanguageOf(definition, state) {
  return state?.QueryLanguage || definition?.QueryLanguage || 'JSONPath';
}

const OPERATORS = /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals|Matches)(Path)?$|^Is(Null|Present|Numeric|String|Boolean|Timestamp)$/;

/** A short text for a Choice rule, for the edge label. */
export function ruleText(rule) {
  if (!rule || typeof rule !== 'object') return '';
  if (typeof rule.Condition === 'string') return rule.Condition.replace(/^\{%\s*|\s*%\}$/g, '');
  for (const op of ['And', 'Or']) {
    if (Array.isArray(rule[op])) return rule[op].map(ruleText).join(` ${op.toLowerCase()} `);
  }
  if (rule.Not) return `not (${ruleText(rule.Not)})`;
  const op = Object.keys(rule).find((key) => OPERATORS.test(key));
  if (!op) return '';
  return `${rule.Variable ?? ''} ${op} ${JSON.stringify(rule[op])}`;
}

/**
 * The graph JSON the console's graph view draws (the shape `/console/api/graph` answers), built
 * here from the definition so the drawing follows every edit at once, even an invalid one.
 */
export function graphOf(definition) {
  const { states } = indexStates(definition);
  const out = [];
  const qualify = (entry, name) => (typeof name === 'string' && states.has(entry.prefix + name) ? entry.prefix + name : undefined);
  for (const entry of states.values()) {
    const state = entry.state && typeof entry.state === 'object' ? entry.state : {};
    const node = { id: entry.id, type: String(state.Type || 'Pass') };
    if (state.Next) node.next = qualify(entry, state.Next);
    if (state.End === true) node.end = true;
    if (typeof state.Resource === 'string') {
      const fn = state.Parameters?.FunctionName ?? state.Arguments?.FunctionName;
      node.resource = typeof fn === 'string' ? `${state.Resource}:${fn.split(':').pop()}` : state.Resource;
    }
    if (node.type === 'Choice') {
      const rules = Array.isArray(state.Choices) ? state.Choices : [];
      node.choices = rules.map((rule) => qualify(entry, rule?.Next) ?? '');
      node.rules = rules.map(ruleText);
      if (state.Default) node.default = qualify(entry, state.Default);
    }
    if (node.type === 'Parallel') {
      node.branches = (Array.isArray(state.Branches) ? state.Branches : []).map((b, i) => `${entry.id}/${i}/${b?.StartAt ?? ''}`);
    }
    if (node.type === 'Map') {
      const processor = state.ItemProcessor || state.Iterator;
      node.processor = `${entry.id}/${processor?.StartAt ?? ''}`;
      if (processor?.ProcessorConfig?.Mode === 'DISTRIBUTED') node.mode = 'DISTRIBUTED';
    }
    if (Array.isArray(state.Retry) && state.Retry.length) {
      node.retry = state.Retry.map((r) => ({
        errorEquals: r?.ErrorEquals, maxAttempts: r?.MaxAttempts, intervalSeconds: r?.IntervalSeconds, backoffRate: r?.BackoffRate,
      }));
    }
    if (Array.isArray(state.Catch) && state.Catch.length) {
      node.catch = state.Catch.map((c) => ({ errorEquals: c?.ErrorEquals, next: qualify(entry, c?.Next) ?? '' }));
    }
    out.push(node);
  }
  const startAt = typeof definition?.StartAt === 'string' && states.has(definition.StartAt) ? definition.StartAt : undefined;
  return { startAt, states: out };
}
