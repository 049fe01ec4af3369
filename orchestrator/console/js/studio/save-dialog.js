// The save dialog: what changed (a line diff of the saved and the new definition text), plus a
// name and role for a new state machine and a version description when publishing.

import { ROLE_ARN } from '../api.js';
import { h } from '../dom.js';
import { compactDiff, lineDiff } from './diff.js';

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * Asks to confirm a save. Resolves with {name, roleArn, versionDescription} or null (cancelled).
 * @param {{before: string, after: string, creating: boolean, publish: boolean, name?: string}} options
 */
export function confirmSave({ before, after, creating, publish, name: suggested }) {
  return new Promise((resolve) => {
    const lines = before === after ? [] : compactDiff(lineDiff(before, after));
    const added = lines.filter((l) => l.op === '+').length;
    const removed = lines.filter((l) => l.op === '-').length;
    const name = h('input', { class: 'input', id: 'save-name', 'data-testid': 'save-name', value: suggested || '', autocomplete: 'off' });
    const role = h('input', { class: 'input', id: 'save-role', 'data-testid': 'save-role', value: ROLE_ARN, autocomplete: 'off' });
    const description = h('input', { class: 'input', id: 'save-version-description', 'data-testid': 'save-version-description', autocomplete: 'off' });
    const nameError = h('div', { class: 'field-error', hidden: true, 'data-testid': 'save-name-error', role: 'alert' });
    const confirm = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'confirm-save' }, publish ? 'Save and publish' : 'Save');
    const dialog = h('dialog', { class: 'dialog dialog-wide', 'data-testid': 'save-dialog', 'aria-labelledby': 'save-title' },
      h('form', {
        method: 'dialog',
        onSubmit: (event) => {
          event.preventDefault();
          if (creating && !NAME_PATTERN.test(name.value.trim())) {
            nameError.textContent = 'Use 1–80 letters, digits, hyphens or underscores.';
            nameError.hidden = false;
            name.focus();
            return;
          }
          finish({ name: name.value.trim(), roleArn: role.value.trim() || ROLE_ARN, versionDescription: description.value.trim() || undefined });
        },
      },
      h('h2', { id: 'save-title' }, creating ? 'Create the state machine' : publish ? 'Save and publish' : 'Save changes'),
      creating ? h('div', { class: 'field' }, h('label', { for: 'save-name' }, 'Name'), name, nameError) : null,
      creating ? h('div', { class: 'field' }, h('label', { for: 'save-role' }, 'IAM role ARN'), role) : null,
      publish ? h('div', { class: 'field' }, h('label', { for: 'save-version-description' }, 'Version description (optional)'), description) : null,
      h('h3', { class: 'pane-title' }, 'Changes'),
      lines.length
        ? h('div', {},
          h('p', { class: 'muted', 'data-testid': 'save-diff-summary' }, `${added} added, ${removed} removed`),
          h('pre', { class: 'diff', 'data-testid': 'save-diff' }, lines.map((l) => h('div', {
            class: `diff-line diff-${{ '+': 'add', '-': 'remove', ' ': 'same', '…': 'gap' }[l.op]}`, 'data-op': l.op,
          }, `${l.op === '…' ? '⋯' : l.op} ${l.text}`))))
        : h('p', { class: 'muted', 'data-testid': 'save-diff-empty' }, 'No changes: the definition is the saved one, byte for byte.'),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn btn-link', 'data-testid': 'cancel-save', onClick: () => finish(null) }, 'Cancel'),
        confirm)));
    let done = false;
    function finish(value) {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    dialog.addEventListener('cancel', () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
    (creating ? name : confirm).focus();
  });
}
