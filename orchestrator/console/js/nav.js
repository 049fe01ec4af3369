// Navigation helpers shared by the router and the pages: breadcrumbs and the hash route's query.

import { h, replace } from './dom.js';

/** Pages call this with [{label, href?}]; the last crumb is the current page. */
export function setBreadcrumbs(items) {
  const list = h('ol', {}, items.map((item, i) => h('li', {},
    i < items.length - 1 && item.href
      ? h('a', { href: item.href }, item.label)
      : h('span', { 'aria-current': 'page' }, item.label))));
  replace(document.getElementById('breadcrumbs'), list);
  document.title = `${items[items.length - 1]?.label || 'Home'} | stepwasm console`;
}

/** The current route's query (after `?` in the hash), e.g. the selected tab. */
export function routeQuery() {
  const hash = location.hash.slice(1);
  const at = hash.indexOf('?');
  return new URLSearchParams(at >= 0 ? hash.slice(at + 1) : '');
}

/** Updates the hash query without re-rendering the page (replaceState fires no hashchange). */
export function setRouteQuery(key, value) {
  const hash = location.hash.slice(1) || '/';
  const at = hash.indexOf('?');
  const path = at >= 0 ? hash.slice(0, at) : hash;
  const query = routeQuery();
  if (value == null) query.delete(key);
  else query.set(key, value);
  const text = query.toString();
  history.replaceState(history.state, '', `#${path}${text ? `?${text}` : ''}`);
}

let leaveGuard = null;

/**
 * While a page has work that leaving would lose, `guard()` returns the question to ask first
 * (another route, a reload, closing the tab); `null` when nothing would be lost. Pages clear it
 * on cleanup.
 */
export function setLeaveGuard(guard) {
  leaveGuard = guard;
}

/** The question to ask before leaving the page, or null. */
export function leaveQuestion() {
  return leaveGuard?.() || null;
}

/** Goes to another route (a hash such as routes.execution(arn)). */
export function navigate(hash) {
  location.hash = hash;
}
