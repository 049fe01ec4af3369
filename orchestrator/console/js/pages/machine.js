// A state machine: summary and start form, then tabs Graph | Definition | Executions.

import { consoleApi, routes, sfn } from '../api.js';
import { announce, errorAlert, formatDate, h, keyValues, spinner } from '../dom.js';
import { DefinitionEditor } from '../components/editor.js';
import { ExecutionsTable } from '../components/executions-table.js';
import { setJson } from '../components/json-view.js';
import { startForm } from '../components/start-form.js';
import { tabs } from '../components/tabs.js';
import { VersionsPanel, qualifierOf } from '../components/versions.js';
import { GraphView } from '../graph/view.js';
import { routeQuery, setBreadcrumbs, setRouteQuery } from '../nav.js';

function nameFromArn(arn) {
  return arn.split(':').pop();
}

/** Finds a state's ASL object by name anywhere in a parsed definition (names are unique). */
function findState(definition, name) {
  const states = definition?.States;
  if (!states || typeof states !== 'object') return null;
  if (states[name]) return states[name];
  for (const state of Object.values(states)) {
    const nested = [...(state?.Branches || []), state?.ItemProcessor, state?.Iterator].filter(Boolean);
    for (const child of nested) {
      const found = findState(child, name);
      if (found) return found;
    }
  }
  return null;
}

export function machinePage(main, arn) {
  const name = nameFromArn(arn);
  setBreadcrumbs([{ label: 'stepwasm', href: '#/' }, { label: 'State machines', href: '#/' }, { label: name }]);
  const cleanups = [];
  let alive = true;
  cleanups.push(() => { alive = false; });

  const root = h('div', { class: 'container' }, spinner('Loading state machine'));
  main.append(root);

  (async () => {
    let machine;
    try {
      machine = await sfn('DescribeStateMachine', { stateMachineArn: arn });
    } catch (error) {
      if (alive) root.replaceChildren(h('h1', {}, name), errorAlert(error, 'Could not load the state machine'));
      return;
    }
    if (!alive) return;
    let saved = machine.definition;

    // Graph tab: the saved definition, with the selected state's ASL beside it.
    const graphView = new GraphView({ label: `${machine.name} graph`, onSelect: (id) => showState(id) });
    cleanups.push(() => graphView.destroy());
    const stateJson = h('pre', { class: 'json', 'data-testid': 'state-definition' });
    const statePane = h('aside', { class: 'side-panel', hidden: true },
      h('div', { class: 'details-head' },
        h('h2', { class: 'details-title', 'data-testid': 'selected-state' }),
        h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Close', onClick: () => { graphView.select(null); showState(null); } }, '×')),
      stateJson);
    function showState(id) {
      statePane.hidden = !id;
      if (!id) return;
      const stateName = graphView.states.get(id)?.meta.state.name || id;
      statePane.querySelector('h2').textContent = stateName;
      let parsed = null;
      try { parsed = JSON.parse(saved); } catch { /* the saved definition is valid JSON */ }
      setJson(stateJson, findState(parsed, stateName));
    }
    const graphError = h('div');
    const loadGraph = async () => {
      try {
        await graphView.setGraph(await consoleApi.stateMachineGraph(arn));
        graphError.replaceChildren();
      } catch (error) {
        if (alive) graphError.replaceChildren(errorAlert(error, 'Could not draw the graph'));
      }
    };

    // Definition tab.
    const save = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'save-definition', disabled: true, onClick: onSave }, 'Save');
    const reset = h('button', { type: 'button', class: 'btn', 'data-testid': 'reset-definition', onClick: () => editor.setValue(pretty(saved)) }, 'Revert');
    const saveMessage = h('div', { class: 'form-message', 'data-testid': 'save-message', 'aria-live': 'polite' });
    const dirty = h('span', { class: 'muted', hidden: true }, 'Unsaved changes');
    const editor = new DefinitionEditor({
      initial: pretty(saved),
      onValidity: (valid) => { save.disabled = !valid; },
      onInput: () => { dirty.hidden = editor.value === pretty(saved); saveMessage.replaceChildren(); },
    });
    cleanups.push(() => editor.destroy());
    async function onSave() {
      save.disabled = true;
      save.textContent = 'Saving…';
      saveMessage.replaceChildren();
      try {
        const definition = editor.value;
        await sfn('UpdateStateMachine', { stateMachineArn: arn, definition });
        saved = definition;
        dirty.hidden = true;
        saveMessage.replaceChildren(h('div', { class: 'alert alert-success', role: 'status' }, 'Saved. New executions use this definition.'));
        announce('Definition saved');
        loadGraph();
      } catch (error) {
        saveMessage.replaceChildren(errorAlert(error, 'Could not save'));
      } finally {
        save.textContent = 'Save';
        save.disabled = !editor.valid;
      }
    }

    const executions = new ExecutionsTable(arn);
    cleanups.push(() => executions.destroy());

    // What "Start execution" runs: the latest definition, a version, or an alias.
    const target = h('select', { class: 'select', id: 'start-target', 'data-testid': 'start-target' });
    function offerTargets({ versions: published, aliases }) {
      const chosen = target.value;
      target.replaceChildren(
        h('option', { value: arn }, 'Latest definition'),
        ...published.map((v) => h('option', { value: v.stateMachineVersionArn }, `Version ${qualifierOf(v.stateMachineVersionArn)}`)),
        ...aliases.map((a) => h('option', { value: a.stateMachineAliasArn }, `Alias ${a.name}`)));
      target.value = [...target.options].some((option) => option.value === chosen) ? chosen : arn;
      // Only a machine with versions has a choice to offer.
      target.closest('.field')?.toggleAttribute('hidden', target.options.length < 2);
    }
    const versions = new VersionsPanel(arn, { onChange: offerTargets });
    cleanups.push(() => versions.destroy());

    const view = tabs([
      { id: 'graph', label: 'Graph', panel: h('div', { class: 'graph-layout' }, h('div', { class: 'graph-main' }, graphError, graphView.el), statePane) },
      {
        id: 'definition', label: 'Definition', panel: h('div', {},
          editor.el,
          saveMessage,
          h('div', { class: 'form-actions form-actions-start' }, save, reset, dirty)),
      },
      { id: 'executions', label: 'Executions', panel: executions.el },
      { id: 'versions', label: 'Versions and aliases', panel: versions.el },
    ], { selected: routeQuery().get('tab') || 'graph', onChange: (id) => setRouteQuery('tab', id), label: 'State machine views' });

    root.replaceChildren(
      h('div', { class: 'page-header' },
        h('div', {},
          h('h1', {}, machine.name),
          h('div', { class: 'page-sub' }, h('span', { class: 'type-tag' }, machine.type || 'STANDARD'), h('span', { class: 'arn' }, arn))),
        h('div', { class: 'actions' },
          h('a', { class: 'btn', href: routes.studio(arn), 'data-testid': 'open-studio' }, 'Edit in Workflow Studio'),
          h('button', { type: 'button', class: 'btn', 'data-testid': 'edit-definition', onClick: () => view.select('definition') }, 'Edit definition'))),
      h('div', { class: 'machine-top' },
        h('section', { class: 'card' },
          h('h2', { class: 'card-title' }, 'Details'),
          keyValues([
            ['ARN', h('span', { class: 'arn' }, arn)],
            ['Type', machine.type || 'STANDARD'],
            ['Status', machine.status || 'ACTIVE'],
            ['Created', formatDate(machine.creationDate)],
            ['IAM role', h('span', { class: 'arn' }, machine.roleArn || '–')],
            machine.revisionId && ['Revision', h('code', {}, machine.revisionId)],
          ])),
        h('section', { class: 'card', 'aria-labelledby': 'start-title' },
          h('h2', { class: 'card-title', id: 'start-title' }, 'Start execution'),
          startForm(arn, { target }))),
      h('section', { class: 'card card-tabs' }, view.el));

    offerTargets({ versions: [], aliases: [] });
    loadGraph();
    executions.load();
    versions.load();
  })();

  return () => cleanups.forEach((fn) => fn());
}

function pretty(definition) {
  try {
    return JSON.stringify(JSON.parse(definition), null, 2);
  } catch {
    return definition;
  }
}
