// The server's HTTP/JSON API (the proto's google.api.http routes), with the bearer token of this tab.
//
// The token lives in sessionStorage: this tab only, gone when it closes, never in a URL or a cookie (so no other
// site's request ever carries it). Requests name no credentials, so the browser adds none of its own.

const TOKEN_KEY = 'vmpilot-conversation-store.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** A google.rpc.Status answered by the server, with its HTTP status and the details' useful parts. */
export class ApiError extends Error {
  constructor(httpStatus, status) {
    super(status.message || `HTTP ${httpStatus}`);
    this.httpStatus = httpStatus;
    this.code = status.code;
    this.status = status;
    const details = Array.isArray(status.details) ? status.details : [];
    const info = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo') || {};
    const bad = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest') || {};
    this.reason = info.reason || '';
    this.metadata = info.metadata || {};
    this.violations = bad.fieldViolations || [];
  }
}

async function call(method, path, { query, body } = {}) {
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const qs = query ? query.toString() : '';
  const response = await fetch(path + (qs ? `?${qs}` : ''), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit', cache: 'no-store', redirect: 'error',
  });
  const text = await response.text();
  if (!response.ok) {
    let status;
    try {
      status = JSON.parse(text);
    } catch {
      status = { code: 2, message: text.slice(0, 500) || response.statusText };
    }
    throw new ApiError(response.status, status);
  }
  return { data: JSON.parse(text), text };
}

function threadPath(threadId) {
  return `/v1/conversations/${encodeURIComponent(threadId)}`;
}

/** One page of summaries, newest first. `filter` is [[key, value], ...]. */
export function list({ pageSize = 50, pageToken = '', filter = [] } = {}) {
  const q = new URLSearchParams();
  q.set('pageSize', String(pageSize));
  if (pageToken) q.set('pageToken', pageToken);
  for (const [k, v] of filter) q.append(`metadataFilter[${k}]`, v);
  return call('GET', '/v1/conversations', { query: q });
}

/** One page of full-text search hits (threadId, position, snippet, score) in the conversations matching `filter`. */
export function search({ query, pageSize = 20, pageToken = '', filter = [] }) {
  const q = new URLSearchParams();
  q.set('query', query);
  q.set('pageSize', String(pageSize));
  if (pageToken) q.set('pageToken', pageToken);
  for (const [k, v] of filter) q.append(`metadataFilter[${k}]`, v);
  return call('GET', '/v1/conversations:search', { query: q });
}

/** The conversation with the newest `maxMessages` messages, or those from `startPosition` on (0 = all). */
export function get(threadId, { maxMessages = 0, startPosition = 0 } = {}) {
  const q = new URLSearchParams();
  if (maxMessages) q.set('maxMessages', String(maxMessages));
  if (startPosition) q.set('startPosition', String(startPosition));
  return call('GET', threadPath(threadId), { query: q });
}

/** Deletes the conversation if it is still at `expectedVersion`. */
export function clear(threadId, expectedVersion) {
  const q = new URLSearchParams();
  if (expectedVersion !== undefined) q.set('expectedVersion', String(expectedVersion));
  return call('DELETE', threadPath(threadId), { query: q });
}
