// Hash router. Each page is `mount(main, params) -> cleanup`; the cleanup closes the page's
// timers and event streams when the user navigates away.

import { h } from './dom.js';
import { leaveQuestion, setBreadcrumbs } from './nav.js';
import { createPage, machinesPage } from './pages/machines.js';
import { machinePage } from './pages/machine.js';
import { executionPage } from './pages/execution.js';
import { studioPage } from './pages/studio.js';
import { needsSignIn, signInPage } from './pages/sign-in.js';

const ROUTES = [
  [/^\/?$/, machinesPage],
  [/^\/create$/, createPage],
  [/^\/state-machines\/([^/]+)$/, machinePage],
  [/^\/executions\/([^/]+)$/, executionPage],
  [/^\/studio$/, studioPage],
  [/^\/studio\/([^/]+)$/, studioPage],
];

const main = document.getElementById('main');
let cleanup = null;

let renders = 0;

async function render() {
  cleanup?.();
  cleanup = null;
  const turn = ++renders;
  const hash = location.hash.slice(1) || '/';
  const [path, query] = hash.split('?');
  main.replaceChildren();
  const signIn = path === '/sign-in' || await needsSignIn();
  // Another navigation came while the session was being checked: it renders instead.
  if (turn !== renders) return;
  if (signIn) {
    cleanup = signInPage(main, path === '/sign-in' ? query : '');
    return;
  }
  for (const [pattern, page] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    let params;
    try {
      params = match.slice(1).map(decodeURIComponent);
    } catch {
      break;
    }
    cleanup = page(main, ...params) || null;
    return;
  }
  setBreadcrumbs([{ label: 'stepwasm', href: '#/' }, { label: 'Not found' }]);
  main.append(h('div', { class: 'container' },
    h('h1', {}, 'Page not found'),
    h('p', {}, 'There is nothing at this address. ', h('a', { href: '#/' }, 'Go to the state machines.'))));
}

// Hash links would change the route; the skip link moves focus instead.
document.querySelector('[data-skip]')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', (event) => {
  const question = leaveQuestion();
  if (question && !window.confirm(question)) {
    // Staying: put the address back without another hashchange.
    history.replaceState(history.state, '', event.oldURL);
    return;
  }
  render();
  window.scrollTo(0, 0);
});
window.addEventListener('beforeunload', (event) => {
  if (leaveQuestion()) event.preventDefault();
});
render();
