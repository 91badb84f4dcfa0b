// The list of conversations: newest first, a page at a time, filtered by metadata (on the server) and by
// thread id (within what is loaded; Enter opens the exact id typed). With a search query (route #/s/QUERY?filter)
// it shows the messages that match instead, a page at a time, in the conversations the metadata filter keeps.

import * as api from './api.js';
import { el, append, clear } from './dom.js';
import * as fmt from './format.js';

const PAGE_SIZE = 50;
const HITS_PAGE_SIZE = 20;
// Metadata shown in the list, when a conversation has them (VMPilot's own keys first).
const SHOWN_METADATA = ['title', 'project_root', 'initial_request', 'current_issue'];

/** The metadata filter of a route's query: [[key, value], ...]. */
function filterOf(params) {
  return [...params.entries()].filter(([k]) => k !== '');
}

/** The route of the list with this metadata filter and, when not empty, this search query. */
function hashFor(filter, query) {
  const q = new URLSearchParams();
  for (const [k, v] of filter) q.append(k, v);
  return `#/${query ? `s/${encodeURIComponent(query)}` : ''}${q.toString() ? `?${q}` : ''}`;
}

export async function showList(main, params, { navigate, onError }, { query = '' } = {}) {
  const filter = filterOf(params);
  const state = { pageToken: '', loaded: [] };

  const searchInput = el('input', { id: 'search-query', type: 'search', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Words in the messages', 'aria-describedby': 'search-hint', value: query });
  const searchForm = el('form', { class: 'search', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    navigate(hashFor(filter, searchInput.value.trim()));
  } },
  el('div', { class: 'field' }, el('label', { for: 'search-query' }, 'Search messages'), searchInput,
    el('small', { id: 'search-hint' }, 'Every word, as text, in the messages of the conversations the metadata filters keep.')),
  el('div', { class: 'field field-button' }, el('button', { type: 'submit' }, 'Search'),
    query ? el('button', { type: 'button', class: 'clear-search', onclick: () => navigate(hashFor(filter, '')) },
      'Clear search') : null));

  const threadInput = el('input', { id: 'thread-filter', type: 'search', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Type to filter, Enter to open this id', 'aria-describedby': 'thread-hint' });
  const keyInput = el('input', { id: 'filter-key', autocomplete: 'off', spellcheck: 'false', placeholder: 'project_root' });
  const valueInput = el('input', { id: 'filter-value', autocomplete: 'off', spellcheck: 'false', placeholder: '/src/app' });
  const rows = el('tbody');
  const status = el('p', { class: 'list-status', role: 'status' });
  const more = el('button', { type: 'button', class: 'more', hidden: true, onclick: () => loadPage() }, 'Load more');

  const applyFilter = (next) => navigate(hashFor(next, query));

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
  if (query) {
    append(main, [el('h1', {}, 'Conversations'), searchForm, form, filter.length ? chips : null]);
    await showHits(main, { query, filter, onError });
    return;
  }
  append(main, [el('h1', {}, 'Conversations'), searchForm, form, filter.length ? chips : null,
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

/** The search hits, a page at a time; each opens its conversation at the message (#/c/THREAD?at=POSITION). */
async function showHits(main, { query, filter, onError }) {
  const state = { pageToken: '', count: 0 };
  const hits = el('ol', { class: 'hits', 'aria-label': `Messages matching ${query}` });
  const status = el('p', { class: 'list-status', role: 'status' });
  const more = el('button', { type: 'button', class: 'more', hidden: true, onclick: () => loadPage() }, 'More hits');
  append(main, [hits, status, more]);

  function hit(h) {
    const position = Number(h.position || 0);
    // The snippet is message text: it goes in as a text node, whatever it holds.
    return el('li', { class: 'hit', dataset: { threadId: h.threadId, position: String(position) } },
      el('a', { href: `#/c/${encodeURIComponent(h.threadId)}?at=${position}`, class: 'row-link hit-link' },
        el('span', { class: 'thread-id' }, h.threadId), ' ', el('span', { class: 'pos' }, `#${position + 1}`)),
      el('p', { class: 'snippet' }, h.snippet || ''));
  }

  async function loadPage() {
    more.disabled = true;
    status.textContent = 'Searching…';
    try {
      const { data } = await api.search({ query, pageSize: HITS_PAGE_SIZE, pageToken: state.pageToken, filter });
      const results = data.results || [];
      hits.append(...results.map(hit));
      state.count += results.length;
      state.pageToken = data.nextPageToken || '';
      more.hidden = !state.pageToken;
      status.textContent = state.count === 0 ? `No message matches “${query}”.`
        : `${state.count} matching message${state.count === 1 ? '' : 's'} loaded${state.pageToken ? '; more on the server' : ''}.`;
    } catch (e) {
      status.textContent = '';
      more.hidden = true;
      onError(e);
    } finally {
      more.disabled = false;
    }
  }

  await loadPage();
}
