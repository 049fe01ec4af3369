// The home page (state machines list) and the "Create state machine" page.

import { ROLE_ARN, routes, sfn } from '../api.js';
import { announce, errorAlert, formatDate, h, spinner } from '../dom.js';
import { DefinitionEditor } from '../components/editor.js';
import { navigate, setBreadcrumbs } from '../nav.js';

const PAGE = 50;

export function machinesPage(main) {
  setBreadcrumbs([{ label: 'stepwasm', href: '#/' }, { label: 'State machines' }]);
  const tbody = h('tbody');
  const message = h('div', { class: 'table-message' }, spinner('Loading state machines'));
  const count = h('span', { class: 'counter' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true, 'data-testid': 'machines-load-more', onClick: () => load(true) }, 'Load more');
  let nextToken = null;
  let items = [];
  let alive = true;

  async function load(append = false) {
    more.disabled = true;
    try {
      const body = { maxResults: PAGE };
      if (append && nextToken) body.nextToken = nextToken;
      const result = await sfn('ListStateMachines', body);
      if (!alive) return;
      items = append ? items.concat(result.stateMachines || []) : result.stateMachines || [];
      nextToken = result.nextToken || null;
      render();
    } catch (error) {
      if (alive) message.replaceChildren(errorAlert(error, 'Could not list state machines'));
    } finally {
      more.disabled = false;
    }
  }

  function render() {
    count.textContent = `(${items.length}${nextToken ? '+' : ''})`;
    tbody.replaceChildren(...items.map((m) => h('tr', { 'data-state-machine-arn': m.stateMachineArn },
      h('td', {}, h('a', { href: routes.machine(m.stateMachineArn) }, m.name)),
      h('td', {}, h('span', { class: 'type-tag' }, m.type || 'STANDARD')),
      h('td', { class: 'arn' }, m.stateMachineArn),
      h('td', { class: 'nowrap' }, formatDate(m.creationDate)))));
    message.replaceChildren(items.length ? '' : h('div', { class: 'empty-state' },
      h('p', {}, 'No state machines yet.'),
      h('a', { class: 'btn btn-primary', href: '#/create' }, 'Create state machine')));
    more.hidden = !nextToken;
  }

  main.append(h('div', { class: 'container' },
    h('div', { class: 'page-header' },
      h('h1', {}, 'State machines ', count),
      h('div', { class: 'actions' },
        h('a', { class: 'btn', href: routes.studio(), 'data-testid': 'create-in-studio' }, 'Create in Workflow Studio'),
        h('a', { class: 'btn btn-primary', href: '#/create', 'data-testid': 'create-state-machine' }, 'Create state machine'))),
    h('section', { class: 'card card-flush' },
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table', 'data-testid': 'state-machines' },
          h('thead', {}, h('tr', {}, ['Name', 'Type', 'ARN', 'Creation date'].map((c) => h('th', { scope: 'col' }, c)))),
          tbody)),
      message,
      h('div', { class: 'table-footer' }, more))));
  load();
  return () => { alive = false; };
}

const TEMPLATE = JSON.stringify({
  Comment: 'A new state machine',
  StartAt: 'Hello',
  States: {
    Hello: { Type: 'Pass', Result: { greeting: 'Hello from stepwasm' }, Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
}, null, 2);

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

export function createPage(main) {
  setBreadcrumbs([{ label: 'stepwasm', href: '#/' }, { label: 'State machines', href: '#/' }, { label: 'Create state machine' }]);
  const name = h('input', {
    class: 'input', id: 'create-name', 'data-testid': 'create-name', 'aria-label': 'State machine name',
    autocomplete: 'off', maxlength: 80, placeholder: 'my-state-machine', onInput: update,
  });
  const nameError = h('div', { class: 'field-error', role: 'alert', hidden: true, 'data-testid': 'create-name-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'create-submit', disabled: true }, 'Create state machine');
  const message = h('div', { class: 'form-message' });
  const editor = new DefinitionEditor({ initial: TEMPLATE, onValidity: update });

  function nameProblem() {
    const value = name.value.trim();
    if (!value) return 'Enter a name.';
    return NAME_PATTERN.test(value) ? '' : 'Use 1–80 letters, digits, hyphens or underscores.';
  }

  function update() {
    const problem = name.value ? nameProblem() : '';
    nameError.textContent = problem;
    nameError.hidden = !problem;
    submit.disabled = Boolean(nameProblem()) || !editor.valid;
  }

  async function create(event) {
    event.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    message.replaceChildren();
    try {
      const result = await sfn('CreateStateMachine', {
        name: name.value.trim(), definition: editor.value, roleArn: ROLE_ARN, type: 'STANDARD',
      });
      announce('State machine created');
      navigate(routes.machine(result.stateMachineArn));
    } catch (error) {
      message.replaceChildren(errorAlert(error, 'Could not create the state machine'));
      update();
    }
  }

  main.append(h('div', { class: 'container' },
    h('div', { class: 'page-header' }, h('h1', {}, 'Create state machine'),
      h('div', { class: 'actions' }, h('a', { class: 'btn', href: routes.studio(), 'data-testid': 'create-in-studio' }, 'Create in Workflow Studio'))),
    h('form', { class: 'card', onSubmit: create, novalidate: true },
      h('div', { class: 'field field-narrow' },
        h('label', { for: 'create-name' }, 'Name'),
        h('div', { class: 'field-hint' }, 'Letters, digits, hyphens and underscores. The type is STANDARD.'),
        name, nameError),
      h('h2', { class: 'section-title' }, 'Definition'),
      editor.el,
      message,
      h('div', { class: 'form-actions' },
        h('a', { class: 'btn btn-link', href: '#/' }, 'Cancel'),
        submit))));
  name.focus();
  return () => editor.destroy();
}
