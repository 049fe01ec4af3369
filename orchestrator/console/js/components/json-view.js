// JSON panes: pretty-printed, lightly highlighted `<pre>` blocks with a copy button.

import { h, prettyJson } from '../dom.js';

// Highlighting a huge document would block the page for little benefit.
const HIGHLIGHT_LIMIT = 200_000;
const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/** Fills `pre` with `text` (JSON text or a value) pretty-printed; `empty` when there is none. */
export function setJson(pre, text, empty = 'No data') {
  const pretty = text == null || text === '' ? '' : prettyJson(text);
  pre.replaceChildren();
  pre.classList.toggle('is-empty', !pretty);
  // The placeholder comes from CSS (attr(data-empty)), so an empty pane's text stays empty.
  pre.dataset.empty = empty;
  if (!pretty) return;
  if (pretty.length > HIGHLIGHT_LIMIT) {
    pre.textContent = pretty;
    return;
  }
  let last = 0;
  for (const match of pretty.matchAll(TOKEN)) {
    if (match.index > last) pre.append(pretty.slice(last, match.index));
    const [all, string, colon, literal, number] = match;
    if (string) {
      pre.append(h('span', { class: colon ? 'json-key' : 'json-string' }, string));
      if (colon) pre.append(colon);
    } else if (literal) pre.append(h('span', { class: 'json-literal' }, literal));
    else if (number) pre.append(h('span', { class: 'json-number' }, number));
    else pre.append(all);
    last = match.index + all.length;
  }
  if (last < pretty.length) pre.append(pretty.slice(last));
}

/** A titled JSON pane; returns the wrapper, whose `.pre` is the `<pre>` to update. */
export function jsonPane(title, text, attrs = {}, empty) {
  const pre = h('pre', { class: 'json', tabindex: 0, ...attrs });
  setJson(pre, text, empty);
  const copy = h('button', {
    type: 'button', class: 'btn btn-small btn-link', 'aria-label': `Copy ${title}`,
    onClick: async () => {
      try {
        await navigator.clipboard.writeText(pre.textContent);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Copy failed';
      }
      setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
    },
  }, 'Copy');
  const pane = h('section', { class: 'json-pane' },
    h('div', { class: 'json-pane-head' }, h('h3', {}, title), copy),
    pre);
  pane.pre = pre;
  return pane;
}
