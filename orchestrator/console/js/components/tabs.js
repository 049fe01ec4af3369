// Accessible tabs (WAI-ARIA tabs pattern). Panel contents are built once and kept alive (the
// events stream, the graph's layout) but only the selected one is in the document, so test ids
// such as data-testid="graph" stay unique on a page that has two graphs.

import { h } from '../dom.js';

let seq = 0;

/**
 * @param {{id: string, label: string, panel: Element}[]} items
 * @param {{selected?: string, onChange?: (id: string) => void, label?: string, toolbar?: Element}} options
 * `toolbar` sits between the tab list and the panels, for controls shared by several tabs.
 */
export function tabs(items, options = {}) {
  const base = `tabs${++seq}`;
  const buttons = new Map();
  const panels = new Map();
  const contents = new Map();
  const list = h('div', { class: 'tab-list', role: 'tablist', 'aria-label': options.label || 'Views' });
  for (const item of items) {
    const button = h('button', {
      type: 'button', class: 'tab', role: 'tab', id: `${base}-${item.id}-tab`,
      'aria-controls': `${base}-${item.id}`, 'data-testid': `tab-${item.id}`, 'data-tab': item.id,
      onClick: () => select(item.id, true),
      onKeydown: (event) => onKey(event, item.id),
    }, item.label);
    const panel = h('div', {
      class: 'tab-panel', role: 'tabpanel', id: `${base}-${item.id}`,
      'aria-labelledby': `${base}-${item.id}-tab`, 'data-panel': item.id,
    });
    contents.set(item.id, item.panel);
    buttons.set(item.id, button);
    panels.set(item.id, panel);
    list.append(button);
  }
  const ids = items.map((item) => item.id);
  let current = null;

  function select(id, user = false) {
    if (!buttons.has(id)) id = ids[0];
    current = id;
    for (const [key, button] of buttons) {
      const active = key === id;
      button.setAttribute('aria-selected', String(active));
      button.tabIndex = active ? 0 : -1;
      const panel = panels.get(key);
      panel.hidden = !active;
      if (active && !panel.firstChild) panel.append(contents.get(key));
      else if (!active && panel.firstChild) panel.replaceChildren();
    }
    if (user) options.onChange?.(id);
  }

  function onKey(event, id) {
    const at = ids.indexOf(id);
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: ids.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = ids[(next + ids.length) % ids.length];
    select(target, true);
    buttons.get(target).focus();
  }

  select(options.selected || ids[0]);
  const el = h('div', { class: 'tabs' }, list, options.toolbar, [...panels.values()]);
  return { el, select: (id) => select(id, true), get current() { return current; } };
}
