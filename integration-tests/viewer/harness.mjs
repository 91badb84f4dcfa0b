// What the viewer's browser tests share: Debian's Chromium through playwright-core, the server's HTTP/JSON API
// for seeding, thread ids of their own, and screenshots kept as test artifacts.
//
// Environment (ViewerBrowserIT sets it): VIEWER_URL (a server without authentication), VIEWER_AUTH_URL and
// VIEWER_TOKEN (a server with it), VIEWER_ARTIFACTS (where screenshots go).

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run these tests through ViewerBrowserIT (./mvnw verify)`);
  return value;
}

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A page of a fresh context that records CSP violations and page errors, and fails on neither by itself. */
export async function openPage(browser, url, { viewport = { width: 1280, height: 860 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  if (url) await page.goto(url);
  return { context, page, problems };
}

/** Waits until the current view has rendered (app.js sets data-ready on <main>). */
export async function ready(page) {
  await page.waitForSelector('main[data-ready="true"]');
}

export function unique(prefix) {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

const artifacts = process.env.VIEWER_ARTIFACTS || 'target/viewer-artifacts';
mkdirSync(artifacts, { recursive: true });

export async function screenshot(page, name, options = {}) {
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, ...options });
  return path;
}

/** A call of the HTTP/JSON API; returns {status, body}. */
export async function api(base, method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(new URL(path, base), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Saves a conversation (messages as JS values or exact JSON texts); fails unless the server says 200. */
export async function save(base, threadId, messages, { metadata = {}, cacheInfo = {}, token } = {}) {
  const r = await api(base, 'POST', `/v1/conversations/${encodeURIComponent(threadId)}:save`, {
    messages: messages.map((m) => ({ json: typeof m === 'string' ? m : JSON.stringify(m) })),
    metadata, cacheInfo,
  }, token);
  if (r.status !== 200) throw new Error(`save ${threadId}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
