// A state machine's published versions and aliases: publish the current definition as a new
// version, and see where each alias routes. `onChange` hears of every version or alias list
// read, so the start form can offer them as targets.

import { sfn } from '../api.js';
import { announce, errorAlert, formatDate, h, spinner } from '../dom.js';

/** "3" for `…:stateMachine:orders:3`, the alias name for an alias ARN. */
export function qualifierOf(arn) {
  return arn ? arn.split(':').slice(7).join(':') : '';
}

export class VersionsPanel {
  constructor(machineArn, { onChange = () => {} } = {}) {
    this.arn = machineArn;
    this.onChange = onChange;
    this.seq = 0;
    this.description = h('input', {
      class: 'input', id: 'version-description', 'data-testid': 'version-description', maxlength: 256,
      'aria-label': 'Version description', placeholder: 'What changed (optional)', autocomplete: 'off',
    });
    this.publishButton = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'publish-version' }, 'Publish version');
    this.message = h('div', { class: 'form-message', 'aria-live': 'polite' });
    this.versions = h('tbody', { 'data-testid': 'versions' });
    this.aliases = h('tbody', { 'data-testid': 'aliases' });
    this.status = h('div', { class: 'table-message' });
    this.el = h('div', { class: 'versions' },
      h('form', { class: 'toolbar', onSubmit: (event) => { event.preventDefault(); this.publish(); }, novalidate: true },
        h('label', { class: 'toolbar-label', for: 'version-description' }, 'Description'), this.description, this.publishButton),
      this.message,
      h('h3', { class: 'section-title' }, 'Versions'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, ['Version', 'Published', 'Description'].map((c) => h('th', { scope: 'col' }, c)))),
          this.versions)),
      h('h3', { class: 'section-title' }, 'Aliases'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, ['Alias', 'Routes to', 'Description', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))),
          this.aliases)),
      this.status);
  }

  async load() {
    const seq = ++this.seq;
    this.status.replaceChildren(spinner('Loading versions and aliases'));
    try {
      const [versions, aliases] = await Promise.all([
        allPages('ListStateMachineVersions', { stateMachineArn: this.arn }, 'stateMachineVersions'),
        allPages('ListStateMachineAliases', { stateMachineArn: this.arn }, 'stateMachineAliases'),
      ]);
      // The list gives ARNs and dates; descriptions and routes need one describe each.
      const [described, routed] = await Promise.all([
        Promise.all(versions.map((v) => sfn('DescribeStateMachine', { stateMachineArn: v.stateMachineVersionArn }))),
        Promise.all(aliases.map((a) => sfn('DescribeStateMachineAlias', { stateMachineAliasArn: a.stateMachineAliasArn }))),
      ]);
      if (seq !== this.seq) return;
      this.render(versions.map((v, i) => ({ ...v, description: described[i].description })), routed);
      this.onChange({ versions, aliases: routed });
    } catch (error) {
      if (seq === this.seq) this.status.replaceChildren(errorAlert(error, 'Could not list versions and aliases'));
    }
  }

  render(versions, aliases) {
    this.status.replaceChildren();
    this.versions.replaceChildren(...versions.map((v) => h('tr', { 'data-version-arn': v.stateMachineVersionArn },
      h('td', {}, h('code', {}, qualifierOf(v.stateMachineVersionArn))),
      h('td', { class: 'nowrap' }, formatDate(v.creationDate)),
      h('td', {}, v.description || '–'))));
    this.aliases.replaceChildren(...aliases.map((a) => h('tr', { 'data-alias-arn': a.stateMachineAliasArn },
      h('td', {}, h('code', {}, a.name)),
      h('td', {}, (a.routingConfiguration || [])
        .map((route) => `version ${qualifierOf(route.stateMachineVersionArn)}: ${route.weight}%`).join(', ')),
      h('td', {}, a.description || '–'),
      h('td', { class: 'nowrap' }, formatDate(a.updateDate)))));
    if (!versions.length) {
      this.status.replaceChildren(h('div', { class: 'empty-state' }, 'No versions yet. Publishing one keeps the current definition as it is, to start or route an alias to.'));
    }
  }

  async publish() {
    this.publishButton.disabled = true;
    this.message.replaceChildren();
    try {
      const body = { stateMachineArn: this.arn };
      if (this.description.value.trim()) body.description = this.description.value.trim();
      const { stateMachineVersionArn } = await sfn('PublishStateMachineVersion', body);
      this.description.value = '';
      const text = `Version ${qualifierOf(stateMachineVersionArn)} holds the current definition.`;
      this.message.replaceChildren(h('div', { class: 'alert alert-success', role: 'status' }, text));
      announce(text);
      await this.load();
    } catch (error) {
      this.message.replaceChildren(errorAlert(error, 'Could not publish'));
    } finally {
      this.publishButton.disabled = false;
    }
  }

  destroy() {
    this.seq++;
  }
}

async function allPages(operation, body, member) {
  const items = [];
  let nextToken;
  do {
    const page = await sfn(operation, nextToken ? { ...body, nextToken } : body);
    items.push(...(page[member] || []));
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}
