// The states browser: one item per state type and one per deployed function. Items are
// HTML5-draggable onto the graph; for the keyboard, Enter (or a click) inserts the item after the
// selected state.

import { h } from '../dom.js';
import { DRAG_TYPE } from './canvas.js';

export const STATE_TYPES = [
  ['Task', 'Runs a function or an integration'],
  ['Pass', 'Passes its input on, or fixed data'],
  ['Choice', 'Branches on rules'],
  ['Wait', 'Waits for a time or a timestamp'],
  ['Succeed', 'Ends the flow successfully'],
  ['Fail', 'Ends the flow with an error'],
  ['Parallel', 'Runs branches side by side'],
  ['Map', 'Runs a flow for each item'],
];

/** Reads the deployed functions (`GET /functions`), [] when this server has none or refuses. */
export async function listFunctions() {
  try {
    const response = await fetch('/functions');
    if (!response.ok) return [];
    const body = await response.json();
    return (body.functions || []).map((f) => ({ name: f.name, arn: f.arn }));
  } catch {
    return [];
  }
}

export class Palette {
  /** @param {{onInsert: (item) => void}} options */
  constructor({ onInsert }) {
    this.onInsert = onInsert;
    this.functionsList = h('ul', { class: 'palette-list', 'data-testid': 'palette-functions', 'aria-label': 'Functions' },
      h('li', { class: 'muted' }, 'Loading functions…'));
    this.el = h('nav', { class: 'studio-palette', 'aria-label': 'States browser', 'data-testid': 'studio-palette' },
      h('h2', { class: 'pane-title' }, 'Flow'),
      h('ul', { class: 'palette-list', 'aria-label': 'State types' },
        STATE_TYPES.map(([type, hint]) => this.item({ type }, type, hint, `palette-${type}`))),
      h('h2', { class: 'pane-title' }, 'Functions'),
      h('p', { class: 'field-hint' }, 'A Task bound to a deployed function.'),
      this.functionsList);
  }

  item(item, label, hint, testid) {
    return h('li', {}, h('button', {
      type: 'button', class: 'palette-item', draggable: 'true', 'data-testid': testid,
      'data-type': item.type || 'Task', title: `${hint}. Drag onto the graph, or press Enter to insert after the selected state.`,
      onDragstart: (event) => {
        event.dataTransfer.setData(DRAG_TYPE, JSON.stringify(item));
        event.dataTransfer.effectAllowed = 'copy';
      },
      onClick: () => this.onInsert(item),
    }, h('span', { class: 'palette-icon', 'data-type': item.type || 'Task', 'aria-hidden': 'true' }),
    h('span', { class: 'palette-label' }, label),
    h('span', { class: 'palette-hint' }, hint)));
  }

  async loadFunctions() {
    const functions = await listFunctions();
    this.functionsList.replaceChildren(...(functions.length
      ? functions.map((f) => this.item({ function: f.name, arn: f.arn }, f.name, 'Task', `palette-function-${f.name}`))
      : [h('li', { class: 'muted' }, 'No functions are deployed.')]));
  }
}
