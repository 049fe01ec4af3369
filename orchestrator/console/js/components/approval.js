// Cards for states that wait for a person (a task token in the progress projection): approve
// with SendTaskSuccess or reject with SendTaskFailure.

import { sfn } from '../api.js';
import { announce, errorAlert, h, s } from '../dom.js';
import { jsonError } from './start-form.js';

const DEFAULT_OUTPUT = '{"approved": true, "approvedBy": "console"}';

export class ApprovalCards {
  constructor({ onSent } = {}) {
    this.onSent = onSent;
    this.cards = new Map(); // `${stateId}\n${token}` -> card element
    this.el = h('div', { class: 'approvals', 'data-testid': 'approvals' });
  }

  /** Shows one card per state whose progress has a task token; keeps typed text across updates. */
  update(progress, nameOf) {
    const wanted = new Map();
    for (const [id, state] of Object.entries(progress?.states || {})) {
      if (state.taskToken) wanted.set(`${id}\n${state.taskToken}`, { id, token: state.taskToken });
    }
    for (const [key, card] of this.cards) {
      if (!wanted.has(key)) {
        card.remove();
        this.cards.delete(key);
      }
    }
    for (const [key, { id, token }] of wanted) {
      if (this.cards.has(key)) continue;
      const card = this.card(id, token, nameOf(id));
      this.cards.set(key, card);
      this.el.append(card);
      announce(`${nameOf(id)} is waiting for a person`);
    }
  }

  card(stateId, taskToken, name) {
    const uid = `approval-${this.cards.size}-${Math.random().toString(36).slice(2, 8)}`;
    const output = h('textarea', {
      class: 'code-editor code-editor-small', id: `${uid}-output`, 'data-testid': 'approval-output',
      rows: 3, spellcheck: 'false', onInput: check,
    });
    output.value = DEFAULT_OUTPUT;
    const outputError = h('div', { class: 'field-error', 'data-testid': 'approval-output-error', role: 'alert', hidden: true });
    const error = h('input', { class: 'input', id: `${uid}-error`, 'data-testid': 'reject-error', value: 'ApprovalRejected' });
    const cause = h('input', { class: 'input', id: `${uid}-cause`, 'data-testid': 'reject-cause', value: 'Rejected in the console' });
    const approve = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'approve', onClick: () => send('approve') }, 'Approve');
    const reject = h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'reject', onClick: () => send('reject') }, 'Reject');
    const message = h('div', { class: 'form-message', 'aria-live': 'polite' });

    function check() {
      const problem = jsonError(output.value).replace('Input', 'Output');
      outputError.textContent = problem;
      outputError.hidden = !problem;
      approve.disabled = Boolean(problem);
      return !problem;
    }

    const send = async (action) => {
      if (action === 'approve' && !check()) return;
      approve.disabled = true;
      reject.disabled = true;
      message.replaceChildren(h('span', { class: 'muted' }, 'Sending…'));
      try {
        if (action === 'approve') await sfn('SendTaskSuccess', { taskToken, output: output.value });
        else await sfn('SendTaskFailure', { taskToken, error: error.value, cause: cause.value });
        const text = action === 'approve' ? `${name} approved` : `${name} rejected`;
        message.replaceChildren(h('span', { class: 'text-success', 'data-testid': 'approval-sent' }, `${text}; the execution continues.`));
        announce(text);
        this.onSent?.(stateId);
      } catch (err) {
        message.replaceChildren(errorAlert(err, 'Could not send the answer'));
        reject.disabled = false;
        check();
      }
    };

    return h('section', { class: 'card approval', 'data-testid': 'approval', 'data-state': stateId, 'aria-label': `${name} is waiting for a person` },
      h('div', { class: 'approval-head' },
        personIcon(),
        h('div', {},
          h('h2', {}, `${name} is waiting for a person`),
          h('p', { class: 'muted' }, 'Approve to send the output below to the waiting state, or reject to fail it with an error.'))),
      h('div', { class: 'approval-body' },
        h('div', { class: 'field approval-approve' },
          h('label', { for: `${uid}-output` }, 'Output (JSON)'),
          output, outputError,
          h('div', { class: 'form-actions' }, approve)),
        h('div', { class: 'approval-reject' },
          h('div', { class: 'field' }, h('label', { for: `${uid}-error` }, 'Error'), error),
          h('div', { class: 'field' }, h('label', { for: `${uid}-cause` }, 'Cause'), cause),
          h('div', { class: 'form-actions' }, reject))),
      message);
  }
}

function personIcon() {
  return s('svg', { class: 'approval-icon', viewBox: '0 0 24 24', width: 32, height: 32, 'aria-hidden': 'true' },
    s('circle', { cx: 12, cy: 12, r: 12 }),
    s('circle', { cx: 12, cy: 9, r: 3.6, fill: '#fff' }),
    s('path', { d: 'M5.5 19.5c.8-3.6 3.4-5.6 6.5-5.6s5.7 2 6.5 5.6z', fill: '#fff' }));
}
