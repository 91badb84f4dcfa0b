// The viewer's reading of message shapes (messages.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readMessage, pairToolCalls, prettyJson, resultText } from '../../../server/src/main/resources/viewer/messages.js';

test('OpenAI chat messages: roles, text, tool calls with parsed arguments, tool results', () => {
  const call = readMessage(JSON.stringify({ role: 'assistant', content: null, tool_calls: [
    { id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"/a.py"}' } }] }));
  assert.equal(call.role, 'assistant');
  assert.deepEqual(call.blocks, [{ kind: 'tool_call', id: 'call_1', name: 'read_file', args: '{\n  "path": "/a.py"\n}' }]);
  const result = readMessage('{"role":"tool","tool_call_id":"call_1","content":"print(1)"}');
  assert.equal(result.role, 'tool');
  assert.equal(result.toolCallId, 'call_1');
  assert.equal(resultText(result), 'print(1)');
  const pairs = pairToolCalls([{ position: 2, model: call }, { position: 3, model: result }]);
  assert.deepEqual(pairs.get('call_1'), { callPosition: 2, name: 'read_file', resultPosition: 3, isError: false });
});

test('content blocks: text with cache_control, Anthropic tool_use and tool_result, images, thinking', () => {
  const m = readMessage(JSON.stringify({ role: 'user', content: [
    { type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } },
    { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'done' }], is_error: true },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] }));
  assert.deepEqual(m.blocks[0], { kind: 'text', text: 'hi', cached: 'ephemeral' });
  assert.equal(m.blocks[1].kind, 'tool_result');
  assert.equal(m.blocks[1].isError, true);
  assert.equal(m.blocks[2].text, 'image image/png, 4 characters of data');
  const a = readMessage(JSON.stringify({ role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm' },
    { type: 'tool_use', id: 'toolu_1', name: 'ls', input: { dir: '/' } }] }));
  assert.equal(a.blocks[0].kind, 'thinking');
  assert.equal(a.blocks[1].args, '{\n  "dir": "/"\n}');
  assert.equal(pairToolCalls([{ position: 0, model: a }, { position: 1, model: m }]).get('toolu_1').resultPosition, 1);
});

test('LangChain messages_to_dict and dumpd forms', () => {
  const human = readMessage('{"type":"human","data":{"content":"hello","additional_kwargs":{}}}');
  assert.equal(human.role, 'user');
  assert.equal(human.format, 'langchain');
  assert.equal(human.label, 'human');
  const ai = readMessage(JSON.stringify({ lc: 1, type: 'constructor', id: ['langchain', 'schema', 'messages', 'AIMessage'],
    kwargs: { content: '', tool_calls: [{ name: 'search', args: { q: 'x' }, id: 'c9', type: 'tool_call' }] } }));
  assert.equal(ai.role, 'assistant');
  assert.deepEqual(ai.blocks, [{ kind: 'tool_call', id: 'c9', name: 'search', args: '{\n  "q": "x"\n}' }]);
  const tool = readMessage('{"type":"tool","data":{"content":"found","tool_call_id":"c9","name":"search"}}');
  assert.equal(tool.role, 'tool');
  assert.equal(tool.toolCallId, 'c9');
});

test('anything else is shown as JSON, unreadable text as itself', () => {
  assert.deepEqual(readMessage('{"event":"x"}').blocks, [{ kind: 'json', text: '{\n  "event": "x"\n}' }]);
  const bad = readMessage('{not json');
  assert.equal(bad.blocks[0].text, '{not json');
  assert.ok(bad.error);
  assert.equal(prettyJson('not json'), 'not json');
});
