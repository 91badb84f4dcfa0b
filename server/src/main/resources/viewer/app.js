// The viewer's entry point: the route in the URL's fragment (#/ the list, #/s/QUERY search hits, #/c/THREAD a
// conversation, #/c/THREAD?at=POSITION one opened at that message), the token
// prompt, the theme, dialogs and keyboard shortcuts.

import * as api from './api.js';
import { el, toast } from './dom.js';
import { showList } from './list-view.js';
import { showConversation } from './conversation-view.js';

const main = document.getElementById('main');
const authBadge = document.getElementById('auth-state');
const forget = document.getElementById('forget-token');

// ---------------------------------------------------------------- theme: the system's, or the one chosen here
const THEME_KEY = 'vmpilot-conversation-store.theme';
function applyTheme(theme) {
  const dark = theme ? theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  document.getElementById('theme').setAttribute('aria-pressed', String(dark));
}
applyTheme(localStorage.getItem(THEME_KEY));
document.getElementById('theme').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME_KEY, next);
  applyTheme(next);
});

// ---------------------------------------------------------------- authentication
let authOn = null;

function showAuth() {
  if (authOn === false) {
    authBadge.textContent = 'Authentication off';
    authBadge.title = 'This server takes no token: anyone who can reach this port can read and delete conversations.';
    authBadge.dataset.state = 'off';
  } else if (authOn === true) {
    authBadge.textContent = api.token() ? 'Signed in with a token (this tab)' : 'Token needed';
    authBadge.title = 'The token is kept for this tab only (sessionStorage), never in a URL or cookie.';
    authBadge.dataset.state = 'on';
  }
  forget.hidden = !api.token();
}

forget.addEventListener('click', () => {
  api.setToken(null);
  showAuth();
  route();
});

const tokenDialog = document.getElementById('token-dialog');
const tokenInput = document.getElementById('token-input');
const tokenError = document.getElementById('token-error');
let tokenWaiter = null;

function askForToken(message) {
  tokenError.textContent = message || '';
  tokenError.hidden = !message;
  tokenInput.value = '';
  if (!tokenDialog.open) tokenDialog.showModal();
  tokenInput.focus();
  return new Promise((resolve) => { tokenWaiter = resolve; });
}

document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = tokenInput.value.trim();
  if (!value) return;
  api.setToken(value);
  tokenDialog.close();
  tokenWaiter?.(true);
});
tokenDialog.addEventListener('cancel', (e) => e.preventDefault());

// ---------------------------------------------------------------- delete confirmation
const confirmDialog = document.getElementById('confirm-dialog');
function confirmDelete(threadId, conversation) {
  document.getElementById('confirm-thread').textContent = threadId;
  document.getElementById('confirm-count').textContent = `${Number(conversation.messageCount).toLocaleString('en-US')} messages`;
  confirmDialog.showModal();
  document.getElementById('confirm-cancel').focus();
  return new Promise((resolve) => {
    const done = (answer) => () => {
      confirmDialog.close();
      resolve(answer);
    };
    document.getElementById('confirm-cancel').onclick = done(false);
    document.getElementById('confirm-delete').onclick = done(true);
    confirmDialog.oncancel = done(false);
  });
}

// ---------------------------------------------------------------- errors
function onError(e, { notFoundText } = {}) {
  if (e instanceof api.ApiError && e.httpStatus === 401) {
    authOn = true;
    const wrong = e.reason === 'INVALID_TOKEN';
    if (wrong) api.setToken(null);
    showAuth();
    askForToken(wrong ? 'That token was not accepted. Check it and try again.' : '').then(() => {
      showAuth();
      route();
    });
    return;
  }
  const box = el('div', { class: 'error-box', role: 'alert' });
  if (e instanceof api.ApiError) {
    box.append(el('h2', {}, e.httpStatus === 404 && notFoundText ? notFoundText : `Error ${e.httpStatus}${e.reason ? ` · ${e.reason}` : ''}`),
      el('p', {}, e.message));
    for (const v of e.violations) box.append(el('p', { class: 'violation' }, el('code', {}, v.field), ` ${v.description}`));
  } else {
    box.append(el('h2', {}, 'The server could not be reached'), el('p', {}, String(e.message || e)));
  }
  main.append(box);
}

// ---------------------------------------------------------------- routing
function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function route() {
  const hash = location.hash || '#/';
  const context = { navigate, onError, confirmDelete };
  // The viewer's links encode thread ids and queries, so the first literal '?' starts the route's parameters.
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
  if (path.startsWith('#/c/')) {
    const at = params.get('at');
    await showConversation(main, decoded(path.slice(4)), context,
      { at: at !== null && /^\d+$/.test(at) ? Number(at) : undefined });
  } else {
    document.title = 'Conversations · VMPilot conversation store';
    await showList(main, params, context, { query: path.startsWith('#/s/') ? decoded(path.slice(4)) : '' });
  }
  main.dataset.ready = 'true';
  showAuth();
}

/** Whether authentication is on: a call without a token that is refused says so. */
async function probe() {
  if (api.token()) {
    authOn = true;
    return;
  }
  try {
    await api.list({ pageSize: 1 });
    authOn = false;
  } catch (e) {
    if (e instanceof api.ApiError && e.httpStatus === 401) authOn = true;
  }
}

window.addEventListener('hashchange', () => {
  main.dataset.ready = 'false';
  route();
});

// ---------------------------------------------------------------- keyboard
const helpDialog = document.getElementById('help-dialog');
document.getElementById('help-button').addEventListener('click', () => helpDialog.showModal());
document.getElementById('help-close').addEventListener('click', () => helpDialog.close());

function items() {
  return [...main.querySelectorAll('.conversations .row-link, .hits .row-link, .messages > li')];
}

function current() {
  const a = document.activeElement;
  return a?.closest('.messages > li') || (a?.classList.contains('row-link') ? a : null);
}

function move(step) {
  const all = items();
  if (all.length === 0) return;
  const at = all.indexOf(current());
  const next = all[at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step))];
  next.focus();
  next.scrollIntoView({ block: 'nearest' });
}

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
  const typing = e.target.closest('input, textarea, select');
  if (typing) {
    if (e.key === 'Escape') e.target.blur();
    return;
  }
  const focused = current();
  const message = focused?.closest('.messages > li');
  switch (e.key) {
    case 'j': case 'ArrowDown': move(1); break;
    case 'k': case 'ArrowUp': move(-1); break;
    case '/': document.getElementById('thread-filter')?.focus(); break;
    case 's': document.getElementById('search-query')?.focus(); break;
    case 'u': case 'Escape': if (location.hash.startsWith('#/c/')) navigate('#/'); else return; break;
    case 'o': main.querySelector('button.older:not([hidden])')?.click(); break;
    case 'r': if (message) message.querySelector('.raw-toggle').click(); else return; break;
    case 'c': if (message) [...message.querySelectorAll('.msg-head button')].find((b) => b.textContent === 'Copy')?.click(); else return; break;
    case '?': helpDialog.showModal(); break;
    default: return;
  }
  e.preventDefault();
});

await probe();
showAuth();
if (authOn && !api.token()) {
  await askForToken('');
  showAuth();
}
route();
