// Signing in: a server with access keys lets the console in with one of them (the access key
// id and its secret), or with the sign-in link `stepwasm serve` prints. The server keeps the
// session in an HttpOnly cookie; the secret never stays in the page.

import { ApiError } from '../api.js';
import { errorAlert, h } from '../dom.js';
import { navigate, setBreadcrumbs } from '../nav.js';

async function post(body) {
  const response = await fetch('/console/api/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const reply = await response.json().catch(() => ({}));
    throw new ApiError(String(reply.__type || '').split('#').pop() || `HTTP ${response.status}`,
      'That access key and secret are not ones this server accepts.', response.status);
  }
}

/** Whether the console must sign in before it shows anything. */
export async function needsSignIn() {
  try {
    const response = await fetch('/console/api/session');
    const session = await response.json();
    return Boolean(session.required && !session.signedIn);
  } catch {
    return false;
  }
}

export function signInPage(main, query) {
  setBreadcrumbs([{ label: 'stepwasm', href: '#/' }, { label: 'Sign in' }]);
  const token = new URLSearchParams(query || '').get('token');
  const message = h('div', { class: 'form-message', 'aria-live': 'polite' });
  if (token) {
    // The link's token is a session already: trade it for the cookie and drop it from the address.
    post({ token }).then(() => navigate('#/'), (error) => message.replaceChildren(errorAlert(error, 'This sign-in link is not valid or has expired')));
  }
  const id = h('input', { id: 'access-key-id', name: 'accessKeyId', autocomplete: 'username', required: true, 'data-testid': 'sign-in-key' });
  const secret = h('input', { id: 'secret-access-key', name: 'secretAccessKey', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'sign-in-secret' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'sign-in-submit' }, 'Sign in');
  const form = h('form', {
    class: 'field-narrow',
    onSubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      message.replaceChildren();
      try {
        await post({ accessKeyId: id.value.trim(), secretAccessKey: secret.value });
        secret.value = '';
        navigate('#/');
      } catch (error) {
        message.replaceChildren(errorAlert(error, 'Could not sign in'));
        secret.select();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'access-key-id' }, 'Access key ID'), id),
  h('div', { class: 'field' }, h('label', { for: 'secret-access-key' }, 'Secret access key'), secret),
  h('div', { class: 'form-actions form-actions-start' }, submit),
  message);
  main.append(h('div', { class: 'container' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'This server accepts requests signed with its access keys. Sign in with one, or open the sign-in link the server printed when it started.'),
    form));
  if (!token) id.focus();
  return null;
}
