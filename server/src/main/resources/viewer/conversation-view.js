// One conversation: its facts, metadata and cache counters, and its messages in order, rendered by role, with
// tool calls beside their results. It opens with the newest messages; older ones come a page at a time.

import * as api from './api.js';
import { el, append, clear, toast } from './dom.js';
import * as fmt from './format.js';
import { readMessage, pairToolCalls, resultText } from './messages.js';

const PAGE = 100;
const ROLE_LABELS = { system: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool', other: 'Message' };

/** `at`: a position to open at (a search hit): loaded from there on, scrolled to, focused and marked. */
export async function showConversation(main, threadId, { navigate, onError, confirmDelete }, { at } = {}) {
  clear(main);
  main.append(el('p', { class: 'list-status', role: 'status' }, 'Loading…'));
  let conversation;
  try {
    ({ data: { conversation } } = await api.get(threadId, at === undefined ? { maxMessages: PAGE } : { startPosition: at }));
  } catch (e) {
    clear(main);
    main.append(el('nav', { class: 'crumbs' }, el('a', { href: '#/' }, '← Conversations')));
    onError(e, { notFoundText: `There is no conversation with thread id “${threadId}”.` });
    return;
  }
  document.title = `${threadId} · Conversations`;

  // Every loaded message, by position, with its model; `oldest` is the first position loaded.
  const loaded = new Map();
  let oldest = Number(conversation.messageCount);
  let rawEverywhere = false;
  const list = el('ol', { class: 'messages', 'aria-label': 'Messages, oldest first' });
  const olderButton = el('button', { type: 'button', class: 'older', onclick: () => loadOlder() });
  const olderStatus = el('span', { class: 'older-status', role: 'status' });

  const rawToggle = el('button', { type: 'button', class: 'toggle', 'aria-pressed': 'false', onclick: () => {
    rawEverywhere = !rawEverywhere;
    rawToggle.setAttribute('aria-pressed', String(rawEverywhere));
    for (const li of list.children) showRaw(li, rawEverywhere);
  } }, 'Raw JSON for all');

  const head = el('header', { class: 'conv-head' },
    el('nav', { class: 'crumbs' }, el('a', { href: '#/' }, '← Conversations')),
    el('h1', { class: 'thread-id' }, threadId),
    el('div', { class: 'actions' },
      rawToggle,
      el('button', { type: 'button', onclick: () => download() }, 'Download JSON'),
      el('button', { type: 'button', class: 'danger', onclick: () => remove() }, 'Delete…')),
    el('dl', { class: 'facts' },
      fact('Messages', fmt.count(conversation.messageCount)),
      fact('Size', fmt.bytes(conversation.historyBytes)),
      fact('Version', conversation.version),
      fact('Created', fmt.time(conversation.createTime)),
      fact('Updated', fmt.time(conversation.updateTime))),
    el('div', { class: 'tables' },
      keyValues('Metadata', conversation.metadata, 'No metadata'),
      keyValues('Cache counters', conversation.cacheInfo, 'No cache counters', fmt.count)));

  clear(main);
  append(main, [head, el('div', { class: 'older-bar' }, olderButton, olderStatus), list]);
  addMessages(conversation.messages);
  const target = at === undefined ? null : document.getElementById(`m-${at}`);
  if (target) {
    target.scrollIntoView({ block: 'center' });
    target.focus({ preventScroll: true });
  } else {
    list.lastElementChild?.scrollIntoView({ block: 'end' });
  }

  function fact(name, value) {
    return el('div', {}, el('dt', {}, name), el('dd', {}, String(value)));
  }

  function keyValues(title, map, emptyText, show = String) {
    const entries = Object.entries(map || {}).sort(([a], [b]) => a.localeCompare(b));
    return el('section', { class: 'kv' }, el('h2', {}, title),
      entries.length === 0 ? el('p', { class: 'muted' }, emptyText)
        : el('table', {}, el('tbody', {}, entries.map(([k, v]) =>
          el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, show(v)))))));
  }

  function addMessages(messages) {
    const fresh = messages.filter((m) => !loaded.has(Number(m.position)));
    for (const m of fresh) loaded.set(Number(m.position), { message: m, model: readMessage(m.json) });
    const positions = [...loaded.keys()].sort((a, b) => a - b);
    oldest = positions.length ? positions[0] : Number(conversation.messageCount);
    const pairs = pairToolCalls(positions.map((p) => ({ position: p, model: loaded.get(p).model })));
    // Older pages come before what is shown; re-render all so every call finds its result and vice versa.
    list.replaceChildren(...positions.map((p) => messageItem(p, loaded.get(p), pairs)));
    if (rawEverywhere) for (const li of list.children) showRaw(li, true);
    olderButton.hidden = oldest === 0;
    olderButton.textContent = `Load ${Math.min(PAGE, oldest)} older messages`;
    olderStatus.textContent = `Showing messages ${fmt.count(oldest + 1)}–${fmt.count(positions.length ? positions[positions.length - 1] + 1 : 0)}`
      + ` of ${fmt.count(conversation.messageCount)}.`;
  }

  async function loadOlder() {
    olderButton.disabled = true;
    const firstShown = list.firstElementChild;
    try {
      // Get returns everything from startPosition on; only the page before `oldest` is new.
      const start = Math.max(0, oldest - PAGE);
      const { data } = await api.get(threadId, { startPosition: start });
      const before = oldest;
      addMessages(data.conversation.messages.filter((m) => Number(m.position) < before));
      const anchor = firstShown && list.querySelector(`[data-position="${firstShown.dataset.position}"]`);
      const focusTarget = anchor?.previousElementSibling || list.firstElementChild;
      anchor?.scrollIntoView({ block: 'start' });
      focusTarget?.focus({ preventScroll: true });
    } catch (e) {
      onError(e);
    } finally {
      olderButton.disabled = false;
    }
  }

  function messageItem(position, { message, model }, pairs) {
    const li = el('li', { class: `msg role-${model.role}${position === at ? ' hit' : ''}`, tabindex: '-1', id: `m-${position}`,
      dataset: { position: String(position), role: model.role } });
    const rawButton = el('button', { type: 'button', class: 'small toggle raw-toggle', 'aria-pressed': 'false',
      onclick: () => showRaw(li, rawButton.getAttribute('aria-pressed') !== 'true') }, 'Raw JSON');
    const header = el('header', { class: 'msg-head' },
      el('span', { class: 'role' }, ROLE_LABELS[model.role]),
      model.label.toLowerCase() !== model.role ? el('span', { class: 'label' }, model.label) : null,
      model.name ? el('span', { class: 'name' }, model.name) : null,
      el('span', { class: 'pos' }, `#${position + 1}`),
      message.id ? el('span', { class: 'msg-id', title: 'message id' }, message.id) : null,
      el('time', { datetime: message.createTime, title: message.createTime }, fmt.time(message.createTime)),
      model.format === 'langchain' ? el('span', { class: 'format' }, 'LangChain') : null,
      el('span', { class: 'spacer' }),
      rawButton,
      el('button', { type: 'button', class: 'small', onclick: () => copy(message.json, position) }, 'Copy'));
    const body = el('div', { class: 'msg-body' });
    if (model.role === 'tool' && model.toolCallId) body.append(resultOf(model.toolCallId, pairs));
    if (model.error) body.append(el('p', { class: 'warn' }, `Not readable as JSON (${model.error}); its text:`));
    for (const block of model.blocks) body.append(renderBlock(block, pairs));
    if (model.blocks.length === 0) body.append(el('p', { class: 'muted' }, '(no content)'));
    const raw = el('pre', { class: 'raw', hidden: true, 'aria-label': 'Stored JSON, exactly' });
    raw.textContent = message.json;
    li.append(header, body, raw);
    return li;
  }

  function renderBlock(block, pairs) {
    const cached = block.cached ? el('span', { class: 'cached', title: 'cache_control' }, `cache: ${block.cached}`) : null;
    switch (block.kind) {
      case 'text':
        return el('div', { class: 'text' }, cached, block.text);
      case 'thinking':
        return el('details', { class: 'thinking' }, el('summary', {}, 'Thinking'), el('div', { class: 'text' }, block.text));
      case 'image':
        return el('p', { class: 'muted' }, `[${block.text}]`);
      case 'tool_call':
        return toolCall(block, pairs, cached);
      case 'tool_result':
        return el('div', { class: `tool-result${block.isError ? ' error' : ''}` }, resultOf(block.toolCallId, pairs),
          block.blocks.map((b) => renderBlock(b, pairs)), cached);
      default:
        return el('pre', { class: 'json' }, block.text);
    }
  }

  function toolCall(block, pairs, cached) {
    const pair = pairs.get(block.id) || {};
    const result = pair.resultPosition !== undefined ? loaded.get(pair.resultPosition) : null;
    const preview = result ? resultText(result.model) : '';
    return el('div', { class: 'tool-call', dataset: { callId: block.id } },
      el('div', { class: 'tc-head' },
        el('span', { class: 'tc-label' }, 'Tool call'),
        el('span', { class: 'tc-name' }, block.name || '(unnamed)'),
        block.id ? el('code', { class: 'tc-id' }, block.id) : null,
        el('span', { class: 'spacer' }),
        result ? goTo(pair.resultPosition, `Result in #${pair.resultPosition + 1}${pair.isError ? ' (error)' : ''} ↓`)
          : el('span', { class: 'muted pending' }, 'no result yet'),
        cached),
      el('pre', { class: 'args', 'aria-label': 'Arguments' }, block.args),
      result ? el('details', { class: 'tc-result' }, el('summary', {}, 'Result'),
        el('pre', { class: 'result-preview' }, preview.length > 4000 ? `${preview.slice(0, 4000)}…` : preview)) : null);
  }

  function resultOf(callId, pairs) {
    const pair = pairs.get(callId) || {};
    return el('div', { class: 'tr-head' },
      el('span', { class: 'tc-label' }, 'Result of'),
      el('span', { class: 'tc-name' }, pair.name || 'a call'),
      el('code', { class: 'tc-id' }, callId),
      el('span', { class: 'spacer' }),
      pair.callPosition !== undefined ? goTo(pair.callPosition, `↑ Call in #${pair.callPosition + 1}`)
        : el('span', { class: 'muted' }, 'call in an older message'));
  }

  function goTo(position, text) {
    return el('button', { type: 'button', class: 'link', onclick: () => {
      const target = document.getElementById(`m-${position}`);
      target?.scrollIntoView({ block: 'center' });
      target?.focus({ preventScroll: true });
    } }, text);
  }

  function showRaw(li, on) {
    const button = li.querySelector('.raw-toggle');
    button.setAttribute('aria-pressed', String(on));
    li.querySelector('.raw').hidden = !on;
    li.querySelector('.msg-body').hidden = on;
  }

  async function copy(text, position) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Without the clipboard API (a page not served from localhost or https), copy through a selection.
      const area = el('textarea', { class: 'offscreen', readonly: true });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    toast(`Copied message #${position + 1}`);
  }

  async function download() {
    try {
      const { text } = await api.get(threadId);
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const a = el('a', { href: url, download: `${threadId.replace(/[^A-Za-z0-9._-]+/g, '_')}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      onError(e);
    }
  }

  async function remove() {
    const ok = await confirmDelete(threadId, conversation);
    if (!ok) return;
    try {
      const { data } = await api.clear(threadId, conversation.version);
      toast(data.deleted ? `Deleted ${threadId}` : `${threadId} was already gone`);
      navigate('#/');
    } catch (e) {
      if (e.reason === 'VERSION_MISMATCH') {
        toast('The conversation changed since it was opened; nothing was deleted. Reload to see it.', 'error');
      } else {
        onError(e);
      }
    }
  }
}
