// The viewer in a real browser (Debian's Chromium), against the real server without authentication.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { env, launch, openPage, ready, unique, screenshot, save, api } from './harness.mjs';

const BASE = env('VIEWER_URL');
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The conversation of an agent that read a file and answered, OpenAI-style as VMPilot keeps it. */
function agentTurn() {
  return [
    { role: 'system', content: 'You are a coding agent.' },
    { role: 'user', content: [{ type: 'text', text: 'What does main.py print?', cache_control: { type: 'ephemeral' } }] },
    { role: 'assistant', content: 'Let me look.', tool_calls: [{ id: 'call_read_1', type: 'function',
      function: { name: 'read_file', arguments: '{"path":"/src/app/main.py","max_lines":50}' } }] },
    { role: 'tool', tool_call_id: 'call_read_1', content: 'print("hello from main")' },
    { role: 'assistant', content: 'It prints “hello from main”.' },
  ];
}

async function viewerErrors(page, problems) {
  const violations = await page.evaluate(() => window.__violations);
  return [...problems, ...violations.map((v) => `CSP violation: ${v}`)];
}

test('the list shows conversations newest first, filters by metadata and thread id, and pages', async () => {
  const project = unique('/src/project');
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(unique(`list-${i}`));
    await save(BASE, ids[i], [{ role: 'user', content: `conversation ${i}` }], { metadata: { project_root: project, title: `Task ${i}` } });
  }
  await save(BASE, unique('elsewhere'), [{ role: 'user', content: 'other project' }], { metadata: { project_root: '/other' } });

  const { context, page, problems } = await openPage(browser, BASE);
  await ready(page);
  assert.equal(await page.textContent('#auth-state'), 'Authentication off');
  await page.fill('#filter-key', 'project_root');
  await page.fill('#filter-value', project);
  await page.click('button:has-text("Add filter")');
  await page.waitForFunction((p) => decodeURIComponent(location.hash).includes(p), project);
  await ready(page);
  const shown = await page.$$eval('.conversations tbody tr', (rows) => rows.map((r) => r.dataset.threadId));
  assert.deepEqual(shown, [ids[2], ids[1], ids[0]], 'newest first, only the filtered project');
  assert.match(await page.textContent('.chips'), /project_root = /);
  const row = await page.textContent(`.conversations tr[data-thread-id="${ids[1]}"]`);
  assert.match(row, /Task 1/);
  assert.match(row, /\b1\b/);
  await screenshot(page, 'list-filtered');

  await page.fill('#thread-filter', ids[1].slice(-10));
  assert.deepEqual(await page.$$eval('.conversations tbody tr', (rows) => rows.map((r) => r.dataset.threadId)), [ids[1]]);
  await page.fill('#thread-filter', ids[0]);
  await page.press('#thread-filter', 'Enter');
  await page.waitForSelector('.conv-head h1');
  assert.equal(await page.textContent('.conv-head h1'), ids[0], 'Enter opens the exact thread id');

  await page.goBack();
  await ready(page);
  await page.click('.chip-remove');
  await page.waitForFunction(() => location.hash === '#/');
  await ready(page);
  assert.equal(await page.locator('.chips').count(), 0, 'the filter is gone');
  assert.deepEqual(await viewerErrors(page, problems), []);
  await context.close();
});

test('the list loads the next page on demand', async () => {
  const run = unique('paging');
  for (let i = 0; i < 53; i++) await save(BASE, `${run}-${String(i).padStart(2, '0')}`, [{ role: 'user', content: 'x' }], { metadata: { run } });
  const { context, page } = await openPage(browser, `${BASE}#/?run=${encodeURIComponent(run)}`);
  await ready(page);
  assert.equal(await page.locator('.conversations tbody tr').count(), 50);
  assert.match(await page.textContent('.list-status'), /50 conversations loaded; more on the server/);
  await page.click('button.more');
  await page.waitForFunction(() => document.querySelectorAll('.conversations tbody tr').length === 53);
  assert.equal(await page.isHidden('button.more'), true);
  const last = await page.$$eval('.conversations tbody tr', (rows) => rows.at(-1).dataset.threadId);
  assert.equal(last, `${run}-00`, 'the oldest last');
  await context.close();
});

test('a conversation shows messages by role, tool calls with pretty arguments beside their results', async () => {
  const id = unique('agent');
  await save(BASE, id, agentTurn(), { metadata: { project_root: '/src/app', title: 'Read main.py' },
    cacheInfo: { input_tokens: 1200, cache_read_input_tokens: 1024 } });
  const { context, page, problems } = await openPage(browser, `${BASE}#/c/${encodeURIComponent(id)}`);
  await page.waitForSelector('.messages > li');
  const roles = await page.$$eval('.messages > li', (lis) => lis.map((li) => li.dataset.role));
  assert.deepEqual(roles, ['system', 'user', 'assistant', 'tool', 'assistant']);
  assert.equal(await page.textContent('.messages > li:nth-child(2) .text'), 'cache: ephemeralWhat does main.py print?');

  const call = page.locator('.tool-call[data-call-id="call_read_1"]');
  assert.equal(await call.locator('.tc-name').textContent(), 'read_file');
  assert.equal(await call.locator('pre.args').textContent(), '{\n  "path": "/src/app/main.py",\n  "max_lines": 50\n}');
  assert.equal(await call.locator('button.link').textContent(), 'Result in #4 ↓');
  await call.locator('summary').click();
  assert.equal(await call.locator('.result-preview').textContent(), 'print("hello from main")');
  const result = page.locator('.messages > li[data-role="tool"]');
  assert.match(await result.locator('.tr-head').textContent(), /Result of\s*read_file\s*call_read_1/);
  await result.locator('button.link').click();
  assert.equal(await page.evaluate(() => document.activeElement.dataset.position), '2', 'the link goes to the call');

  const head = await page.textContent('.conv-head');
  for (const expected of ['Read main.py', '/src/app', 'input_tokens', '1,200', 'cache_read_input_tokens', '1,024', 'Version']) {
    assert.ok(head.includes(expected), `header shows ${expected}: ${head}`);
  }
  await page.evaluate(() => { document.activeElement.blur(); window.scrollTo(0, 0); });
  await screenshot(page, 'conversation');
  assert.deepEqual(await viewerErrors(page, problems), []);
  await context.close();
});

test('Anthropic content blocks and LangChain messages are rendered by role too', async () => {
  const id = unique('shapes');
  await save(BASE, id, [
    { type: 'system', data: { content: 'LangChain system prompt' } },
    { type: 'human', data: { content: 'list the files' } },
    { lc: 1, type: 'constructor', id: ['langchain', 'schema', 'messages', 'AIMessage'],
      kwargs: { content: '', tool_calls: [{ name: 'ls', args: { dir: '/src' }, id: 'lc_call_1', type: 'tool_call' }] } },
    { type: 'tool', data: { content: 'a.py b.py', tool_call_id: 'lc_call_1', name: 'ls' } },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 'two files' },
      { type: 'tool_use', id: 'toolu_7', name: 'read_file', input: { path: 'a.py' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_7', content: 'x = 1' }] },
  ]);
  const { context, page } = await openPage(browser, `${BASE}#/c/${encodeURIComponent(id)}`);
  await page.waitForSelector('.messages > li');
  assert.deepEqual(await page.$$eval('.messages > li', (lis) => lis.map((li) => li.dataset.role)),
    ['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
  assert.equal(await page.locator('.messages .format').count(), 4, 'the LangChain ones are marked');
  assert.equal(await page.textContent('.tool-call[data-call-id="lc_call_1"] pre.args'), '{\n  "dir": "/src"\n}');
  assert.equal(await page.textContent('.tool-call[data-call-id="lc_call_1"] button.link'), 'Result in #4 ↓');
  assert.equal(await page.textContent('.tool-call[data-call-id="toolu_7"] button.link'), 'Result in #6 ↓');
  assert.match(await page.textContent('.messages > li:nth-child(6) .tool-result'), /Result of\s*read_file\s*toolu_7.*x = 1/s);
  await context.close();
});

test('the raw JSON toggle shows the stored bytes exactly; Copy copies them; Download gives the conversation', async () => {
  const id = unique('raw');
  const exact = '{"role":"user",  "content" : "caf\\u00e9 \\"quoted\\" 10.0",\n  "n": 9007199254740993, "z":1,"a":2.50}';
  await save(BASE, id, [exact, { role: 'assistant', content: 'ok' }]);
  const { context, page } = await openPage(browser, `${BASE}#/c/${encodeURIComponent(id)}`);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.waitForSelector('.messages > li');
  const first = page.locator('.messages > li').first();
  assert.equal(await first.locator('pre.raw').isHidden(), true);
  await first.locator('.raw-toggle').click();
  assert.equal(await first.locator('.raw-toggle').getAttribute('aria-pressed'), 'true');
  assert.equal(await first.locator('pre.raw').textContent(), exact);
  assert.equal(await first.locator('.msg-body').isHidden(), true);
  await screenshot(page, 'raw-json');

  await first.locator('button:has-text("Copy")').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), exact);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Download JSON")')]);
  const file = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(file.conversation.threadId, id);
  assert.deepEqual(file.conversation.messages.map((m) => m.json), [exact, '{"role":"assistant","content":"ok"}']);
  await context.close();
});

test('delete asks first; Cancel keeps the conversation, Delete removes it', async () => {
  const id = unique('delete');
  await save(BASE, id, agentTurn());
  const { context, page } = await openPage(browser, `${BASE}#/c/${encodeURIComponent(id)}`);
  await page.waitForSelector('.messages > li');
  await page.click('button:has-text("Delete…")');
  assert.equal(await page.isVisible('#confirm-dialog'), true);
  assert.equal(await page.textContent('#confirm-thread'), id);
  assert.equal(await page.textContent('#confirm-count'), '5 messages');
  await screenshot(page, 'delete-confirmation');
  await page.click('#confirm-cancel');
  assert.equal((await api(BASE, 'GET', `/v1/conversations/${encodeURIComponent(id)}`)).status, 200);

  await page.click('button:has-text("Delete…")');
  await page.click('#confirm-delete');
  await page.waitForFunction(() => location.hash === '#/');
  await ready(page);
  assert.match(await page.textContent('#toast'), /Deleted/);
  const gone = await api(BASE, 'GET', `/v1/conversations/${encodeURIComponent(id)}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.details[0].reason, 'CONVERSATION_NOT_FOUND');
  await context.close();
});

test('messages holding scripts, HTML and markdown render as inert text', async () => {
  const payloads = [
    '<script>window.__xss = "script"</script>',
    '<img src=x onerror="window.__xss = \'img\'">',
    '"><svg onload="window.__xss = \'svg\'"></svg>',
    '<iframe src="javascript:window.parent.__xss = \'iframe\'"></iframe>',
    '[click me](javascript:window.__xss="markdown") **bold** `code`',
    '<a href="javascript:window.__xss=1">link</a><style>body{display:none}</style>',
    '{{constructor.constructor("window.__xss=1")()}} ${window.__xss=1}',
  ];
  const id = `xss <img src=x onerror="window.__xss='thread'"> ${unique('t')}`;
  const metaValue = `<img src=x onerror="window.__xss='meta'"> ${id}`;
  await save(BASE, id, [
    ...payloads.map((p) => ({ role: 'user', content: p })),
    { role: 'assistant', content: payloads[1], tool_calls: [{ id: '<b>id</b>', type: 'function',
      function: { name: '<img src=x onerror="window.__xss=\'name\'">', arguments: JSON.stringify({ html: payloads[0] }) } }] },
    { role: 'tool', tool_call_id: '<b>id</b>', content: payloads[2] },
    '{"role":"<script>window.__xss=\\"role\\"</script>","content":[{"type":"<img src=x onerror=alert(1)>"}]}',
  ], { metadata: { '<script>k</script>': metaValue } });

  const { context, page, problems } = await openPage(browser, `${BASE}#/c/${encodeURIComponent(id)}`);
  await page.waitForSelector('.messages > li');
  const texts = await page.$$eval('.messages .text', (nodes) => nodes.map((n) => n.textContent));
  for (const p of payloads) assert.ok(texts.includes(p), `shown as text: ${p}`);
  assert.equal(await page.textContent('.conv-head h1'), id);
  assert.equal(await page.textContent('.tool-call .tc-name'), '<img src=x onerror="window.__xss=\'name\'">');
  assert.equal(await page.locator('main img, main script, main iframe, main svg, main style, main a[href^="javascript"]').count(), 0);
  await page.locator('.messages > li').last().locator('.raw-toggle').click();

  await page.goto(`${BASE}#/?${new URLSearchParams({ '<script>k</script>': metaValue })}`);
  await ready(page);
  assert.equal(await page.locator('.conversations tbody tr').count(), 1);
  assert.equal(await page.locator('main img, main script, main iframe').count(), 0);
  await screenshot(page, 'xss-list');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(await viewerErrors(page, problems), []);
  await context.close();
});

test('a 10,000-message conversation opens with its newest messages and loads older ones on demand', async () => {
  const id = unique('long');
  const messages = [];
  for (let i = 0; i < 10000; i++) {
    messages.push(i % 2 === 0 ? { role: 'user', content: `question ${i}` }
      : { role: 'assistant', content: `answer ${i} ${'lorem ipsum '.repeat(8)}` });
  }
  await save(BASE, id, messages);
  const { context, page, problems } = await openPage(browser, BASE);
  await ready(page);
  const started = Date.now();
  await page.goto(`${BASE}#/c/${encodeURIComponent(id)}`);
  await page.waitForSelector('.messages > li');
  console.log(`10,000-message conversation: newest page shown ${Date.now() - started} ms after navigation`);
  assert.equal(await page.locator('.messages > li').count(), 100);
  assert.match(await page.textContent('.older-status'), /Showing messages 9,901–10,000 of 10,000/);
  assert.equal(await page.textContent('.messages > li:last-child .text'), 'answer 9999 ' + 'lorem ipsum '.repeat(8));

  const loadStarted = Date.now();
  await page.click('button.older');
  await page.waitForFunction(() => document.querySelectorAll('.messages > li').length === 200);
  console.log(`10,000-message conversation: 100 older messages shown ${Date.now() - loadStarted} ms after the click`);
  assert.equal(await page.getAttribute('.messages > li:first-child', 'data-position'), '9800');
  assert.equal(await page.textContent('.messages > li:first-child .text'), 'question 9800');
  await page.keyboard.press('o');
  await page.waitForFunction(() => document.querySelectorAll('.messages > li').length === 300);
  await screenshot(page, 'long-conversation');
  assert.deepEqual(await viewerErrors(page, problems), []);
  await context.close();
});

test('keyboard: j/k move, Enter opens, r shows the raw JSON, u goes back', async () => {
  const id = unique('keys');
  await save(BASE, id, agentTurn(), { metadata: { keys: id } });
  const { context, page } = await openPage(browser, `${BASE}#/?keys=${encodeURIComponent(id)}`);
  await ready(page);
  await page.keyboard.press('j');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), id);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.messages > li');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.position), '1');
  await page.keyboard.press('r');
  assert.equal(await page.locator('.messages > li:nth-child(2) pre.raw').isVisible(), true);
  await page.keyboard.press('k');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.position), '0');
  await page.keyboard.press('u');
  await page.waitForFunction(() => location.hash === '#/');
  await page.keyboard.press('?');
  assert.equal(await page.isVisible('#help-dialog'), true);
  await context.close();
});

test('dark theme, phone width, and an unknown thread', async () => {
  const id = unique('phone');
  await save(BASE, id, agentTurn(), { metadata: { project_root: '/src/app', title: 'On a phone' } });
  const { context, page } = await openPage(browser, `${BASE}#/c/${encodeURIComponent(id)}`,
    { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  await page.waitForSelector('.messages > li');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at 390 px (${overflow} px too wide)`);
  await screenshot(page, 'phone-conversation-dark');
  await page.click('#theme');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
  await page.goto(`${BASE}#/`);
  await ready(page);
  await screenshot(page, 'phone-list');

  await page.goto(`${BASE}#/c/${encodeURIComponent('no-such-thread-' + id)}`);
  await page.waitForSelector('.error-box');
  assert.match(await page.textContent('.error-box'), /There is no conversation with thread id/);
  await context.close();
});

test('search: hits of a word in message text (none for a JSON key), paged, inert snippets, a hit opens at its message', async () => {
  const word = unique('w').replace('-', '');
  const keyWord = unique('k').replace('-', '');
  const many = unique('m').replace('-', '');
  const id = unique('search');
  const pagedId = unique('search-paged');
  const xss = `<img src=x onerror="window.__xss='snippet'"> ${word} <script>window.__xss='script'</script>`;
  await save(BASE, id, [
    { role: 'system', content: 'You are a coding agent.' },
    { role: 'user', content: `Please look at ${word} in main.py`, [keyWord]: 'the key is not text' },
    { role: 'assistant', content: xss },
    { role: 'assistant', content: 'done' },
  ]);
  await save(BASE, pagedId, Array.from({ length: 23 }, (_, i) => ({ role: 'user', content: `${many} number ${i}` })));

  const { context, page, problems } = await openPage(browser, BASE);
  await ready(page);
  await page.focus('body');
  await page.keyboard.press('s');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search-query', 's focuses the search box');
  await page.keyboard.type(word);
  await page.keyboard.press('Enter');
  await page.waitForFunction((w) => location.hash === `#/s/${w}`, word);
  await ready(page);
  const hits = await page.$$eval('.hits > li', (lis) => lis.map((li) => [li.dataset.threadId, li.dataset.position]));
  assert.deepEqual(hits.sort(), [[id, '1'], [id, '2']], 'the two messages holding the word, nothing else');
  const xssHit = page.locator('.hits > li[data-position="2"]');
  // Six words before the match: the snippet starts inside the img tag.
  assert.equal(await xssHit.locator('.snippet').textContent(),
    `…src=x onerror="window.__xss='snippet'"> ${word} <script>window.__xss='script'</script>`, 'the markup as text');
  assert.equal(await page.locator('main img, main script, .snippet *').count(), 0, 'no element from the snippet');
  assert.match(await xssHit.locator('.hit-link').textContent(), /#3$/);
  assert.match(await page.textContent('.list-status'), /^2 matching messages loaded\.$/);
  assert.equal(await page.isHidden('button.more'), true);
  await screenshot(page, 'search-hits');

  await page.fill('#search-query', keyWord);
  await page.click('form.search button[type="submit"]');
  await page.waitForFunction((w) => location.hash === `#/s/${w}`, keyWord);
  await ready(page);
  assert.equal(await page.locator('.hits > li').count(), 0, 'a JSON key is not text');
  assert.equal(await page.textContent('.list-status'), `No message matches “${keyWord}”.`);

  await page.fill('#search-query', '!!! ...');
  await page.press('#search-query', 'Enter');
  await page.waitForSelector('.error-box');
  assert.match(await page.textContent('.error-box h2'), /Error 400/);

  await page.fill('#search-query', many);
  await page.press('#search-query', 'Enter');
  await page.waitForFunction((w) => location.hash === `#/s/${w}`, many);
  await ready(page);
  assert.equal(await page.locator('.hits > li').count(), 20, 'the first page');
  assert.match(await page.textContent('.list-status'), /20 matching messages loaded; more on the server/);
  await page.click('button.more');
  await page.waitForFunction(() => document.querySelectorAll('.hits > li').length === 23);
  assert.equal(await page.isHidden('button.more'), true);
  const positions = await page.$$eval('.hits > li', (lis) => lis.map((li) => Number(li.dataset.position)));
  assert.equal(new Set(positions).size, 23, 'the next page brings the others, no repeats');

  for (const back of [encodeURIComponent('!!! ...'), keyWord, word]) {
    await page.goBack();
    await page.waitForFunction((w) => location.hash === `#/s/${w}`, back);
  }
  await ready(page);
  await page.focus('.hits > li[data-position="2"] .hit-link');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.messages > li');
  assert.equal(await page.textContent('.conv-head h1'), id);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.position), '2', 'opened at the hit');
  assert.equal(await page.getAttribute('.messages > li.hit', 'data-position'), '2', 'the hit is marked');
  assert.equal(await page.locator('main img, main script').count(), 0);
  await page.click('.crumbs a');
  await ready(page);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // The refused query is logged by Chromium as a failed resource (twice: once more on going back); nothing else may be.
  assert.deepEqual(await viewerErrors(page, problems.filter((p) => !/status of 400/.test(p))), []);
  await context.close();
});
