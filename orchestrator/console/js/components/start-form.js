// "Start execution": an input JSON checked as you type (the button stays disabled while it does
// not parse) and an optional name; on success the page goes to the new execution.

import { sfn, routes } from '../api.js';
import { announce, errorAlert, h } from '../dom.js';
import { navigate } from '../nav.js';

/** The parse error of `text` as a sentence, or '' when it is valid JSON. */
export function jsonError(text) {
  try {
    JSON.parse(text);
    return '';
  } catch (error) {
    return `Input is not valid JSON: ${error.message}`;
  }
}

/**
 * `target`, if given, is a <select> of ARNs (the machine, its versions, its aliases) shown above
 * the input: the execution starts on the one selected.
 */
export function startForm(stateMachineArn, { initialInput = '{}', target = null } = {}) {
  const input = h('textarea', {
    class: 'code-editor code-editor-small', id: 'start-input', 'data-testid': 'start-input',
    'aria-label': 'Execution input (JSON)', 'aria-describedby': 'start-input-error',
    spellcheck: 'false', rows: 8, onInput: check,
  });
  input.value = initialInput;
  const inputError = h('div', {
    class: 'field-error', id: 'start-input-error', 'data-testid': 'start-input-error', role: 'alert', hidden: true,
  });
  const name = h('input', {
    class: 'input', id: 'start-name', 'data-testid': 'start-name', 'aria-label': 'Execution name',
    placeholder: 'Generated when empty', autocomplete: 'off', maxlength: 80,
  });
  const button = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'start-execution' }, 'Start execution');
  const message = h('div', { class: 'form-message' });

  function check() {
    const error = jsonError(input.value);
    inputError.textContent = error;
    inputError.hidden = !error;
    input.setAttribute('aria-invalid', String(Boolean(error)));
    button.disabled = Boolean(error);
    return !error;
  }

  async function submit(event) {
    event.preventDefault();
    if (!check()) return;
    button.disabled = true;
    button.textContent = 'Starting…';
    message.replaceChildren();
    try {
      const body = { stateMachineArn: target?.value || stateMachineArn, input: input.value };
      if (name.value.trim()) body.name = name.value.trim();
      const result = await sfn('StartExecution', body);
      announce('Execution started');
      navigate(routes.execution(result.executionArn));
    } catch (error) {
      message.replaceChildren(errorAlert(error, 'Could not start the execution'));
      button.textContent = 'Start execution';
      check();
    }
  }

  check();
  return h('form', { class: 'start-form', 'data-testid': 'start-form', onSubmit: submit, novalidate: true },
    target && h('div', { class: 'field' }, h('label', { for: target.id }, 'Run'), target),
    h('div', { class: 'field' },
      h('label', { for: 'start-input' }, 'Input'),
      h('div', { class: 'field-hint' }, 'JSON passed to the first state.'),
      input,
      inputError),
    h('div', { class: 'field' },
      h('label', { for: 'start-name' }, 'Name ', h('span', { class: 'optional' }, '(optional)')),
      name),
    message,
    h('div', { class: 'form-actions' }, button));
}
