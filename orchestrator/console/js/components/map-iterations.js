// The Map iteration selector above an execution's graph: one control per Map that has run. The
// graph draws a Map's processor once, so by default its inner states show all iterations at once;
// choosing an iteration asks the page to refetch /progress with the inner states projected from
// that iteration only. At most one Map is narrowed at a time, which keeps the query to one pair.

import { h } from '../dom.js';

/** Above this many iterations only the failed ones are listed; any other index is typed. */
export const LIST_LIMIT = 1000;

let seq = 0;

export class MapIterationBar {
  /**
   * @param {{nameOf: (id: string) => string, onChange: (map: string, index: number|null) => void}} options
   */
  constructor({ nameOf, onChange }) {
    this.nameOf = nameOf;
    this.onChange = onChange;
    this.controls = new Map();
    this.order = '';
    this.el = h('div', {
      class: 'iteration-bar', role: 'group', 'aria-label': 'Map iterations', 'data-testid': 'map-iteration-bar', hidden: true,
    });
  }

  /**
   * @param {Map<string, object>} maps Map id -> its aggregate `iterations`, in graph order
   * @param {{map: string, index: number}|null} selection
   */
  update(maps, selection) {
    for (const [id, control] of this.controls) {
      if (!maps.has(id)) {
        control.el.remove();
        this.controls.delete(id);
      }
    }
    for (const [id, iterations] of maps) {
      let control = this.controls.get(id);
      if (!control) {
        control = this.control(id);
        this.controls.set(id, control);
      }
      control.iterations = iterations;
      control.index = selection?.map === id ? selection.index : null;
      refresh(control);
    }
    // Re-appending moves nodes (and would close an open dropdown), so only when the set changes.
    const order = [...maps.keys()].join('\n');
    if (order !== this.order) {
      this.order = order;
      this.el.replaceChildren(...[...maps.keys()].map((id) => this.controls.get(id).el));
    }
    this.el.hidden = maps.size === 0;
  }

  control(id) {
    const name = this.nameOf(id);
    const selectId = `map-iteration-${++seq}`;
    const select = h('select', {
      class: 'select', id: selectId, 'data-testid': 'map-iteration', 'data-map': id, 'aria-label': `Iteration of ${name}`,
      onChange: () => this.onChange(id, select.value === '' ? null : Number(select.value)),
      // Options are not rebuilt under a focused select (see refresh); catch up when it lets go.
      onBlur: () => refresh(control),
    });
    const input = h('input', {
      class: 'input iteration-index', type: 'number', min: 0, step: 1, inputmode: 'numeric', placeholder: 'Index',
      'data-testid': 'map-iteration-index', 'data-map': id, 'aria-label': `Iteration index of ${name}`, hidden: true,
      onChange: () => {
        const index = Number(input.value);
        const valid = input.value !== '' && Number.isInteger(index) && index >= 0 && index < (control.iterations?.total || 0);
        if (valid || input.value === '') input.removeAttribute('aria-invalid');
        else input.setAttribute('aria-invalid', 'true');
        if (valid) this.onChange(id, index);
        else if (input.value === '') this.onChange(id, null);
      },
    });
    const summary = h('span', { class: 'muted iteration-summary' });
    const control = {
      id, select, input, summary, signature: null, shownIndex: undefined,
      el: h('div', { class: 'iteration-control', 'data-map': id },
        h('label', { class: 'toolbar-label', for: selectId }, `Iteration of ${name}`), select, input, summary),
    };
    return control;
  }
}

/** Brings one control in line with its Map's counts and the current selection. */
function refresh(control) {
  const { select, input, summary, iterations, index } = control;
  const total = iterations?.total || 0;
  const failed = iterations?.failedIndexes || [];
  const large = total > LIST_LIMIT;
  const signature = `${total}|${failed.join(',')}|${index ?? ''}`;
  if (signature !== control.signature && document.activeElement !== select) {
    control.signature = signature;
    select.replaceChildren(buildOptions(total, failed, index));
  }
  const value = index == null ? '' : String(index);
  if (select.value !== value && [...select.options].some((o) => o.value === value)) select.value = value;
  input.hidden = !large;
  input.max = String(Math.max(0, total - 1));
  // Only when the selection changes, so a refresh never overwrites what someone is typing.
  if (control.shownIndex !== index) {
    control.shownIndex = index;
    input.value = value;
    input.removeAttribute('aria-invalid');
  }
  summary.textContent = large ? `${total} iterations: ${failed.length ? 'failed ones listed, ' : ''}type any index` : '';
}

/** "All iterations", the failed ones first, then the rest in order (all of them unless the Map is large). */
function buildOptions(total, failed, index) {
  const fragment = document.createDocumentFragment();
  fragment.append(h('option', { value: '' }, 'All iterations'));
  const listed = new Set();
  for (const i of failed) {
    if (listed.has(i)) continue;
    listed.add(i);
    fragment.append(h('option', { value: String(i), 'data-failed': 'true' }, `#${i} ✕ failed`));
  }
  const all = total <= LIST_LIMIT;
  if (all) {
    for (let i = 0; i < total; i++) {
      if (!listed.has(i)) fragment.append(h('option', { value: String(i) }, `#${i}`));
    }
  }
  // A typed index (or one from a link) that is not listed still needs an option to show as chosen.
  if (index != null && !listed.has(index) && !(all && index < total)) {
    fragment.append(h('option', { value: String(index) }, `#${index}`));
  }
  return fragment;
}
