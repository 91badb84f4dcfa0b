// Example Node client of the VMPilot conversation store.
//
//   node client.js ADDRESS
//
// Loads proto/ at run time with @grpc/proto-loader (no generated code). Does save, append, get,
// list, a version conflict and clear, printing one line per step; exits non-zero on failure.
'use strict';

const fs = require('node:fs');
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

if (process.argv.length !== 3) {
  console.error('usage: node client.js ADDRESS');
  process.exit(2);
}
main(process.argv[2]).catch((err) => {
  console.error(`FAIL: ${err.stack ?? err}`);
  process.exit(1);
});
