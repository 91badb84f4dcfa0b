// The list of conversations: newest first, a page at a time, filtered by metadata (on the server) and by
// thread id (within what is loaded; Enter opens the exact id typed).

import * as api from './api.js';
import { el, append, clear } from './dom.js';
import * as fmt from './format.js';

const PAGE_SIZE = 50;
// Metadata shown in the list, when a conversation has them (VMPilot's own keys first).
const SHOWN_METADATA = ['title', 'project_root', 'initial_request', 'current_issue'];

/** The metadata filter of a route's query: [[key, value], ...]. */
function filterOf(params) {
  return [...params.entries()].filter(([k]) => k !== '');
}

export async function showList(main, params, { navigate, onError }) {
  const filter = filterOf(params);
  const state = { pageToken: '', loaded: [] };

  const threadInput = el('input', { id: 'thread-filter', type: 'search', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Type to filter, Enter to open this id', 'aria-describedby': 'thread-hint' });
  const keyInput = el('input', { id: 'filter-key', autocomplete: 'off', spellcheck: 'false', placeholder: 'project_root' });
  const valueInput = el('input', { id: 'filter-value', autocomplete: 'off', spellcheck: 'false', placeholder: '/src/app' });
  const rows = el('tbody');
  const status = el('p', { class: 'list-status', role: 'status' });
  const more = el('button', { type: 'button', class: 'more', hidden: true, onclick: () => loadPage() }, 'Load more');

  const applyFilter = (next) => {
    const q = new URLSearchParams();
    for (const [k, v] of next) q.append(k, v);
    navigate(`#/${q.toString() ? `?${q}` : ''}`);
  };

  const chips = el('ul', { class: 'chips', 'aria-label': 'Active metadata filters' },
    filter.map(([k, v], i) => el('li', { class: 'chip' },
      el('span', { class: 'chip-key' }, k), ' = ', el('span', { class: 'chip-value' }, v),
      el('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove filter ${k}`,
        onclick: () => applyFilter(filter.filter((_, j) => j !== i)) }, '×'))));

  const form = el('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    const key = keyInput.value.trim();
    if (key) applyFilter([...filter, [key, valueInput.value]]);
  } },
  el('div', { class: 'field' }, el('label', { for: 'thread-filter' }, 'Thread id'), threadInput,
    el('small', { id: 'thread-hint' }, 'Filters the loaded rows; Enter opens the thread with exactly this id.')),
  el('div', { class: 'field' }, el('label', { for: 'filter-key' }, 'Metadata key'), keyInput),
  el('div', { class: 'field' }, el('label', { for: 'filter-value' }, 'equals'), valueInput),
  el('div', { class: 'field field-button' }, el('button', { type: 'submit' }, 'Add filter')));

  threadInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      e.stopPropagation();
      if (threadInput.value !== '') navigate(`#/c/${encodeURIComponent(threadInput.value)}`);
    }
  });
  threadInput.addEventListener('input', () => renderRows());

  const table = el('table', { class: 'conversations' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'Thread'), el('th', { scope: 'col', class: 'num' }, 'Messages'),
      el('th', { scope: 'col', class: 'num' }, 'Size'), el('th', { scope: 'col' }, 'Updated'),
      el('th', { scope: 'col' }, 'Created'), el('th', { scope: 'col' }, 'Metadata'))),
    rows);

  clear(main);
  append(main, [el('h1', {}, 'Conversations'), form, filter.length ? chips : null,
    el('div', { class: 'table-wrap' }, table), status, more]);

  function renderRows() {
    const needle = threadInput.value;
    const shown = state.loaded.filter((c) => c.threadId.includes(needle));
    rows.replaceChildren(...shown.map(row));
    const n = state.loaded.length;
    status.textContent = n === 0 ? (filter.length ? 'No conversation has this metadata.' : 'No conversations yet.')
      : `${shown.length === n ? n : `${shown.length} of ${n}`} conversation${n === 1 ? '' : 's'} loaded`
        + `${state.pageToken ? '; more on the server' : ''}.`;
  }

  function row(c) {
    const meta = Object.entries(c.metadata || {});
    meta.sort(([a], [b]) => (SHOWN_METADATA.indexOf(a) + 1 || 99) - (SHOWN_METADATA.indexOf(b) + 1 || 99));
    return el('tr', { dataset: { threadId: c.threadId } },
      el('td', { class: 'thread', 'data-label': 'Thread' },
        el('a', { href: `#/c/${encodeURIComponent(c.threadId)}`, class: 'row-link' }, c.threadId)),
      el('td', { class: 'num', 'data-label': 'Messages' }, fmt.count(c.messageCount)),
      el('td', { class: 'num', 'data-label': 'Size' }, fmt.bytes(c.historyBytes)),
      el('td', { 'data-label': 'Updated' }, el('time', { datetime: c.updateTime, title: fmt.time(c.updateTime) },
        fmt.ago(c.updateTime))),
      el('td', { 'data-label': 'Created' }, el('time', { datetime: c.createTime }, fmt.time(c.createTime))),
      el('td', { class: 'meta', 'data-label': 'Metadata' }, meta.slice(0, 3).map(([k, v]) =>
        el('span', { class: 'meta-pair', title: `${k} = ${v}` }, el('span', { class: 'meta-key' }, k), ' ',
          el('span', { class: 'meta-value' }, v.length > 80 ? `${v.slice(0, 80)}…` : v))),
      meta.length > 3 ? el('span', { class: 'meta-more' }, `+${meta.length - 3}`) : null));
  }

  async function loadPage() {
    more.disabled = true;
    status.textContent = 'Loading…';
    try {
      const { data } = await api.list({ pageSize: PAGE_SIZE, pageToken: state.pageToken, filter });
      state.loaded.push(...data.conversations);
      state.pageToken = data.nextPageToken;
      more.hidden = !state.pageToken;
      renderRows();
    } catch (e) {
      status.textContent = '';
      onError(e);
    } finally {
      more.disabled = false;
    }
  }

  await loadPage();
}
