// Reads a stored message, whatever its shape, into one model the viewer renders. Pure functions, no DOM:
// tested with node (integration-tests/viewer/unit/messages.test.mjs).
//
// Shapes understood (VMPilot has used the first two; the others are what agents commonly keep):
//  - OpenAI chat: {role, content: string | [blocks], tool_calls: [{id, function: {name, arguments}}], tool_call_id}
//  - LangChain messages_to_dict: {type: "human"|"ai"|"system"|"tool", data: {content, tool_calls, tool_call_id}}
//  - LangChain dumpd: {lc: 1, type: "constructor", id: [..., "AIMessage"], kwargs: {content, tool_calls, ...}}
//  - Anthropic content blocks: {type: "text"|"tool_use"|"tool_result"|"thinking"|"image", ...}
// Anything else is shown as its JSON.

const LANGCHAIN_TYPES = {
  human: 'user', HumanMessage: 'user', HumanMessageChunk: 'user',
  ai: 'assistant', AIMessage: 'assistant', AIMessageChunk: 'assistant',
  system: 'system', SystemMessage: 'system', SystemMessageChunk: 'system',
  tool: 'tool', ToolMessage: 'tool', ToolMessageChunk: 'tool',
  function: 'tool', FunctionMessage: 'tool', FunctionMessageChunk: 'tool',
  chat: 'other', ChatMessage: 'other', ChatMessageChunk: 'other',
};
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/** A pretty-printed JSON text of `value`, or `value` itself when it is a string that is not JSON. */
export function prettyJson(value) {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function roleOf(role) {
  if (typeof role !== 'string') return 'other';
  const r = role.toLowerCase();
  if (ROLES.has(r)) return r;
  if (r === 'developer') return 'system';
  if (r === 'human') return 'user';
  if (r === 'ai' || r === 'model') return 'assistant';
  if (r === 'function') return 'tool';
  return 'other';
}

/** Content (a string, a list of blocks, or anything else) as blocks. */
function contentBlocks(content) {
  if (content === undefined || content === null || content === '') return [];
  if (typeof content === 'string') return [{ kind: 'text', text: content }];
  if (!Array.isArray(content)) return [{ kind: 'json', text: prettyJson(content) }];
  return content.map(contentBlock);
}

function contentBlock(block) {
  if (typeof block === 'string') return { kind: 'text', text: block };
  if (!isObject(block)) return { kind: 'json', text: prettyJson(block) };
  const cached = isObject(block.cache_control) ? block.cache_control.type || 'cache' : null;
  switch (block.type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return { kind: 'text', text: String(block.text ?? ''), cached };
    case 'thinking':
    case 'reasoning':
      return { kind: 'thinking', text: String(block.thinking ?? block.text ?? block.reasoning ?? ''), cached };
    case 'redacted_thinking':
      return { kind: 'thinking', text: '(redacted)', cached };
    case 'tool_use':
      return { kind: 'tool_call', id: String(block.id ?? ''), name: String(block.name ?? ''),
        args: prettyJson(block.input ?? {}), cached };
    case 'tool_result':
      return { kind: 'tool_result', toolCallId: String(block.tool_use_id ?? ''), isError: block.is_error === true,
        blocks: contentBlocks(block.content), cached };
    case 'image':
    case 'image_url':
    case 'input_image':
      return { kind: 'image', text: describeImage(block), cached };
    default:
      return { kind: 'json', text: prettyJson(block), cached };
  }
}

function describeImage(block) {
  const url = isObject(block.image_url) ? block.image_url.url : block.image_url;
  const data = isObject(block.source) ? block.source.data : typeof url === 'string' ? url : '';
  const type = isObject(block.source) ? block.source.media_type : '';
  const size = typeof data === 'string' ? data.length : 0;
  return `image${type ? ' ' + type : ''}${size ? `, ${size} characters of data` : ''}`;
}

/** OpenAI-style tool_calls, or LangChain's [{name, args, id}], as tool_call blocks. */
function toolCallBlocks(calls) {
  if (!Array.isArray(calls)) return [];
  return calls.filter(isObject).map((c) => {
    const fn = isObject(c.function) ? c.function : null;
    return {
      kind: 'tool_call',
      id: String(c.id ?? ''),
      name: String(fn ? fn.name ?? '' : c.name ?? ''),
      args: prettyJson(fn ? fn.arguments ?? '' : c.args ?? c.arguments ?? {}),
    };
  });
}

/** The fields of a LangChain message (either serialization), else null. */
function langchain(m) {
  if (m.lc === 1 && m.type === 'constructor' && Array.isArray(m.id) && isObject(m.kwargs)) {
    const cls = String(m.id[m.id.length - 1]);
    if (cls in LANGCHAIN_TYPES) return { type: cls, fields: m.kwargs, format: 'langchain' };
  }
  if (typeof m.type === 'string' && m.type in LANGCHAIN_TYPES && isObject(m.data) && !('role' in m)) {
    return { type: m.type, fields: m.data, format: 'langchain' };
  }
  return null;
}

/**
 * The model of one stored message (its `json` text): {role, label, format, name, blocks, toolCallId, parsed, error}.
 * `role` is one of system, user, assistant, tool, other; `label` is what the message itself calls its role.
 */
export function readMessage(jsonText) {
  let m;
  try {
    m = JSON.parse(jsonText);
  } catch (e) {
    return { role: 'other', label: 'unreadable', format: 'unknown', blocks: [{ kind: 'json', text: jsonText }],
      error: String(e.message) };
  }
  if (!isObject(m)) {
    return { role: 'other', label: 'json', format: 'unknown', blocks: [{ kind: 'json', text: prettyJson(m) }] };
  }
  const lc = langchain(m);
  if (lc) {
    const f = lc.fields;
    const blocks = contentBlocks(f.content);
    const calls = Array.isArray(f.tool_calls) && f.tool_calls.length ? f.tool_calls
      : isObject(f.additional_kwargs) ? f.additional_kwargs.tool_calls : undefined;
    blocks.push(...toolCallBlocks(calls).filter((c) => !blocks.some((b) => b.kind === 'tool_call' && b.id === c.id)));
    const role = f.role && LANGCHAIN_TYPES[lc.type] === 'other' ? roleOf(f.role) : LANGCHAIN_TYPES[lc.type];
    return { role, label: lc.type, format: lc.format, name: stringOrUndefined(f.name), blocks,
      toolCallId: stringOrUndefined(f.tool_call_id), status: stringOrUndefined(f.status) };
  }
  if ('role' in m || 'content' in m) {
    const blocks = contentBlocks(m.content);
    blocks.push(...toolCallBlocks(m.tool_calls));
    if (isObject(m.function_call)) {
      blocks.push(...toolCallBlocks([{ id: '', function: m.function_call }]));
    }
    return { role: roleOf(m.role), label: String(m.role ?? 'message'), format: 'chat',
      name: stringOrUndefined(m.name), blocks, toolCallId: stringOrUndefined(m.tool_call_id) };
  }
  return { role: 'other', label: 'json', format: 'unknown', blocks: [{ kind: 'json', text: prettyJson(m) }] };
}

function stringOrUndefined(v) {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Which message answers which tool call: for the messages given (each {position, model}), a map from call id to
 * {callPosition, name, resultPosition, isError}. A result is an OpenAI/LangChain tool message (toolCallId) or an
 * Anthropic tool_result block.
 */
export function pairToolCalls(messages) {
  const pairs = new Map();
  const entry = (id) => {
    if (!pairs.has(id)) pairs.set(id, {});
    return pairs.get(id);
  };
  for (const { position, model } of messages) {
    for (const b of model.blocks) {
      if (b.kind === 'tool_call' && b.id) Object.assign(entry(b.id), { callPosition: position, name: b.name });
      if (b.kind === 'tool_result' && b.toolCallId) {
        Object.assign(entry(b.toolCallId), { resultPosition: position, isError: b.isError });
      }
    }
    if (model.role === 'tool' && model.toolCallId) {
      Object.assign(entry(model.toolCallId), { resultPosition: position, isError: model.status === 'error' });
    }
  }
  return pairs;
}

/** The text of a result, for a short preview beside its call. */
export function resultText(model) {
  const texts = [];
  const walk = (blocks) => {
    for (const b of blocks) {
      if (b.kind === 'tool_result') walk(b.blocks);
      else if (b.text) texts.push(b.text);
    }
  };
  walk(model.blocks);
  return texts.join('\n');
}
