// Example Node client of the VMPilot conversation store.
//
//   node client.js ADDRESS                    save, append, get, list, conflict, clear
//   node client.js retry ADDRESS METRICS_URL  retries: a busy server waited out, a limit not retried
//
// Loads proto/ at run time with @grpc/proto-loader (no generated code). Does save, append, get,
// list, a version conflict and clear, printing one line per step; exits non-zero on failure.
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const ROOT = path.resolve(__dirname, '../../..');
const INCLUDE_DIRS = [path.join(ROOT, 'proto'), path.join(ROOT, 'third_party/googleapis')];

const definition = protoLoader.loadSync('vmpilot/conversation/v1/conversation_service.proto', {
  includeDirs: INCLUDE_DIRS,
  keepCase: true, // field names as in the .proto: thread_id, cache_info, ...
  longs: Number, // int64 as JS numbers (versions and counts are far below 2^53)
  defaults: true,
});
const { ConversationService } = grpc.loadPackageDefinition(definition).vmpilot.conversation.v1;

// google.rpc.Status and ErrorInfo, to read the error details the server sends in the
// grpc-status-details-bin trailer.
const rpcTypes = new protobuf.Root();
rpcTypes.resolvePath = (_origin, target) =>
  INCLUDE_DIRS.map((dir) => path.join(dir, target)).find((file) => fs.existsSync(file)) ?? target;
rpcTypes.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
const Status = rpcTypes.lookupType('google.rpc.Status');
const ErrorInfo = rpcTypes.lookupType('google.rpc.ErrorInfo');

function errorInfo(err) {
  const [bin] = err.metadata?.get('grpc-status-details-bin') ?? [];
  assert.ok(bin, `no status details in ${err}`);
  const detail = Status.decode(bin).details.find(
    (any) => any.type_url === 'type.googleapis.com/google.rpc.ErrorInfo');
  assert.ok(detail, `no ErrorInfo in ${err}`);
  return ErrorInfo.decode(detail.value);
}

// Promise wrapper: await call(store.Save, request).
const call = (method, request) =>
  new Promise((resolve, reject) =>
    method.call(store, request, { deadline: Date.now() + 30_000 }, (err, response) =>
      (err ? reject(err) : resolve(response))));

let store;

async function main(address) {
  store = new ConversationService(address, grpc.credentials.createInsecure());
  const thread = `node-example-${process.pid}-${Date.now()}`;
  const system = '{"role":"system","content":"You are a helpful assistant."}';
  const user = '{"role":"user","content":"Hello from Node \\u00e9 🚀"}';
  const assistant = '{"role":"assistant","content":"Hi!","n":9007199254740993}';

  // Save: creates the conversation with its whole history.
  const saved = await call(store.Save, {
    thread_id: thread,
    messages: [{ json: system }, { json: user }],
    cache_info: { input_tokens: 10 },
    metadata: { run: thread },
  });
  assert.ok(saved.created && saved.message_count === 2 && saved.version > 0, JSON.stringify(saved));
  console.log(`save ok: version=${saved.version} messages=${saved.message_count}`);

  // Append: adds one message; the id makes a retry harmless.
  const appended = await call(store.Append, { thread_id: thread, messages: [{ id: 'm3', json: assistant }] });
  assert.ok(appended.appended_count === 1 && appended.message_count === 3, JSON.stringify(appended));
  console.log(`append ok: version=${appended.version} messages=${appended.message_count}`);

  // Get: messages come back verbatim.
  const { conversation } = await call(store.Get, { thread_id: thread });
  assert.deepEqual(conversation.messages.map((m) => m.json), [system, user, assistant]);
  assert.equal(conversation.messages[2].id, 'm3');
  assert.equal(conversation.version, appended.version);
  assert.deepEqual({ ...conversation.cache_info }, { input_tokens: 10 });
  console.log(`get ok: version=${conversation.version} messages=${conversation.messages.length} ` +
    `cache_info=${JSON.stringify(conversation.cache_info)}`);

  // List, filtered by metadata.
  const listed = await call(store.List, { metadata_filter: { run: thread } });
  assert.deepEqual(listed.conversations.map((c) => c.thread_id), [thread]);
  assert.equal(listed.conversations[0].message_count, 3);
  console.log(`list ok: ${thread} has ${listed.conversations[0].message_count} messages`);

  // Version conflict: a Save based on the stale version fails with ABORTED and an ErrorInfo
  // saying why and what the current version is.
  const conflict = await call(store.Save, {
    thread_id: thread, messages: [{ json: system }], expected_version: saved.version,
  }).then(() => assert.fail('stale Save succeeded'), (err) => err);
  assert.equal(conflict.code, grpc.status.ABORTED, String(conflict));
  const info = errorInfo(conflict);
  assert.equal(info.reason, 'VERSION_MISMATCH');
  assert.equal(info.domain, 'conversation.vmpilot.io');
  assert.equal(info.metadata.current_version, String(appended.version));
  console.log(`conflict ok: ABORTED ${info.reason} current_version=${info.metadata.current_version}`);

  // Clear: deletes it; Get then says NOT_FOUND; clearing again is no error.
  assert.equal((await call(store.Clear, { thread_id: thread })).deleted, true);
  const missing = await call(store.Get, { thread_id: thread }).then(
    () => assert.fail('Get after Clear succeeded'), (err) => err);
  assert.equal(missing.code, grpc.status.NOT_FOUND, String(missing));
  assert.equal((await call(store.Clear, { thread_id: thread })).deleted, false);
  console.log('clear ok: deleted, then NOT_FOUND');
  store.close();
  console.log('node client: all steps passed');
}

// The retry policy a Node service would give its channel to this server: UNAVAILABLE with backoff, and
// RESOURCE_EXHAUSTED, which the server answers with grpc-retry-pushback-ms: a delay when it is busy (grpc-js
// waits that long), -1 when asking again cannot pass (grpc-js does not retry).
const RETRY_SERVICE_CONFIG = JSON.stringify({
  methodConfig: [{
    name: [{ service: 'vmpilot.conversation.v1.ConversationService' }],
    retryPolicy: {
      maxAttempts: 5, initialBackoff: '0.1s', maxBackoff: '2s', backoffMultiplier: 2,
      retryableStatusCodes: ['UNAVAILABLE', 'RESOURCE_EXHAUSTED'],
    },
  }],
});

// The sum of the samples of `name` whose labels include `labels`, in the server's Prometheus scrape.
async function metric(url, name, labels = {}) {
  const scrape = await (await fetch(url)).text();
  let total = 0;
  for (const [, sampleName, sampleLabels, value] of scrape.matchAll(/^(\w+)(\{[^}]*\})? (\S+)$/gm)) {
    const found = Object.fromEntries([...(sampleLabels ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (sampleName === name && Object.entries(labels).every(([k, v]) => found[k] === v)) {
      total += Number(value);
    }
  }
  return total;
}

async function awaitMetric(url, name, wanted) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await metric(url, name);
    if (wanted(value)) return;
    assert.ok(Date.now() < deadline, `${name} stayed at ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // a poll interval: the loop checks the metric
  }
}

// A raw HTTP/2 connection that asks for a Get of `thread` and never reads the answer.
function stalledGet(address, thread) {
  const colon = address.lastIndexOf(':');
  const socket = net.connect(Number(address.slice(colon + 1)), address.slice(0, colon));
  socket.on('error', () => {}); // closed by this side at the end
  const frame = (type, flags, stream, payload) => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    return Buffer.concat([head, payload]);
  };
  // HPACK literals without indexing or Huffman coding; every name and value here is under 127 bytes.
  const block = Buffer.concat([[':method', 'POST'], [':scheme', 'http'],
    [':path', '/vmpilot.conversation.v1.ConversationService/Get'], [':authority', address],
    ['content-type', 'application/grpc'], ['te', 'trailers']].map(([k, v]) =>
    Buffer.concat([Buffer.from([0, k.length]), Buffer.from(k), Buffer.from([v.length]), Buffer.from(v)])));
  // GetRequest{thread_id (field 1) = thread}, a thread id under 128 bytes.
  const body = Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(thread)]), Buffer.from(thread)]);
  const message = Buffer.alloc(5);
  message.writeUInt32BE(body.length, 1);
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(4, 0, 0, Buffer.alloc(0)),
    frame(1, 0x4, 1, block), frame(0, 0x1, 1, Buffer.concat([message, body]))]));
  return socket;
}

// Against a server with a 4 MiB in-flight budget and a 4,000,000-byte history limit: a Get refused while a
// stalled reader holds the budget is served once the reader goes; an Append over the history limit is answered
// after one attempt.
async function retries(address, metricsUrl) {
  store = new ConversationService(address, grpc.credentials.createInsecure(),
    { 'grpc.enable_retries': 1, 'grpc.service_config': RETRY_SERVICE_CONFIG });
  const prefix = `node-retry-${process.pid}-${Date.now()}`;
  const big = `{"s":"${'x'.repeat(3_000_000)}"}`;
  await call(store.Save, { thread_id: `${prefix}-big`, messages: [{ json: big }] });
  const stall = stalledGet(address, `${prefix}-big`);
  await awaitMetric(metricsUrl, 'conversation_in_flight_bytes', (v) => v >= 3_000_000);
  const refusals = await metric(metricsUrl, 'conversation_in_flight_refusals_total');
  let ended = false;
  const get = call(store.Get, { thread_id: `${prefix}-big` }).finally(() => { ended = true; });
  // The first attempt is refused (the stalled reader holds the room)...
  await awaitMetric(metricsUrl, 'conversation_in_flight_refusals_total', (v) => v > refusals);
  assert.equal(ended, false, 'the Get ended while the server had no room');
  // ...and once the reader is gone, a later attempt gets the whole answer.
  stall.destroy();
  const { conversation } = await get;
  assert.equal(conversation.messages[0].json, big);
  const refused = await metric(metricsUrl, 'conversation_in_flight_refusals_total') - refusals;
  console.log(`busy ok: the Get was served after ${refused} refusal(s)`);

  const long = `{"s":"${'x'.repeat(3_990_000)}"}`;
  await call(store.Save, { thread_id: `${prefix}-long`, messages: [{ json: long }] });
  const refusedAppends = { method: 'Append', statusCode: 'RESOURCE_EXHAUSTED' };
  const before = await metric(metricsUrl, 'grpc_server_processing_duration_seconds_count', refusedAppends);
  // A small request (grpc-js keeps only requests under 256 KiB to retry them) over the history limit.
  const limit = await call(store.Append, {
    thread_id: `${prefix}-long`, messages: [{ json: `{"s":"${'x'.repeat(20_000)}"}` }],
  }).then(() => assert.fail('an Append over the history limit succeeded'), (err) => err);
  assert.equal(limit.code, grpc.status.RESOURCE_EXHAUSTED, String(limit));
  const attempts = await metric(metricsUrl, 'grpc_server_processing_duration_seconds_count', refusedAppends) - before;
  console.log(`limit ok: ${errorInfo(limit).reason} after ${attempts} attempt(s)`);
  store.close();
}

const args = process.argv.slice(2);
const run = args.length === 1 ? main(args[0])
  : args.length === 3 && args[0] === 'retry' ? retries(args[1], args[2])
    : (console.error('usage: node client.js ADDRESS | node client.js retry ADDRESS METRICS_URL'), process.exit(2));
run.catch((err) => {
  console.error(`FAIL: ${err.stack ?? err}`);
  process.exit(1);
});
