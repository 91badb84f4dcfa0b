// The viewer against the real server with authentication on: the token prompt, a wrong token, the token kept
// for the tab only, and tenants.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, launch, openPage, ready, unique, screenshot, save } from './harness.mjs';

const BASE = env('VIEWER_AUTH_URL');
const TOKEN = env('VIEWER_TOKEN');
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the page asks for a token, refuses a wrong one, and keeps the right one for this tab only', async () => {
  const id = unique('tenant-thread');
  await save(BASE, id, [{ role: 'user', content: 'only for alice' }], { metadata: { project_root: '/alice' }, token: TOKEN });

  const { context, page, problems } = await openPage(browser, BASE);
  await page.waitForSelector('#token-dialog[open]');
  assert.equal(await page.textContent('#auth-state'), 'Token needed');
  assert.equal(await page.locator('.conversations tbody tr').count(), 0, 'nothing is shown without a token');
  await screenshot(page, 'auth-prompt');

  await page.fill('#token-input', 'not-the-token');
  await page.press('#token-input', 'Enter');
  await page.waitForSelector('#token-error:not([hidden])');
  assert.equal(await page.textContent('#token-error'), 'That token was not accepted. Check it and try again.');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');

  await page.fill('#token-input', TOKEN);
  await page.click('#token-form button[type="submit"]');
  await ready(page);
  await page.waitForSelector(`.conversations tr[data-thread-id="${id}"]`);
  assert.equal(await page.textContent('#auth-state'), 'Signed in with a token (this tab)');
  assert.ok(!page.url().includes(TOKEN), 'never in the URL');
  assert.deepEqual(await context.cookies(), [], 'never in a cookie');
  assert.equal(await page.evaluate(() => localStorage.length === 0 || !Object.values(localStorage).includes(
    sessionStorage.getItem('vmpilot-conversation-store.token'))), true, 'not in localStorage');

  await page.reload();
  await ready(page);
  assert.equal(await page.isVisible('#token-dialog'), false, 'kept across a reload of the same tab');
  await page.click(`.conversations tr[data-thread-id="${id}"] a`);
  await page.waitForSelector('.messages > li');
  assert.equal(await page.textContent('.messages .text'), 'only for alice');

  const otherTab = await context.newPage();
  await otherTab.goto(BASE);
  await otherTab.waitForSelector('#token-dialog[open]');
  await otherTab.close();

  await page.click('#forget-token');
  await page.waitForSelector('#token-dialog[open]');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
  await context.close();
});
