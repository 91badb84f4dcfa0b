package io.vmpilot.conversation.it;

import java.util.List;

/**
 * Messages that a store which re-encodes JSON would change: unicode and its escapes, big integers, 10.0 vs 10,
 * odd spacing, key order, nested content blocks, tool calls whose arguments are JSON text. All must come back
 * byte for byte.
 */
final class TrickyMessages {
  private TrickyMessages() {}

  static final List<String> ALL = List.of(
      "{\"role\":\"system\",\"content\":\"You are VMPilot. Ünïcödé ✓ 日本語 🚀\"}",
      "{\"role\": \"user\",   \"content\": [ {\"type\": \"text\", \"text\": \"caf\\u00e9 \\ud83d\\ude80 \\\"quoted\\\"\\n\","
          + " \"cache_control\": {\"type\": \"ephemeral\"}} ] }",
      "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
          + "\"function\":{\"name\":\"shell\",\"arguments\":\"{\\\"command\\\": \\\"ls -la\\\", \\\"timeout\\\": 10}\"}}]}",
      "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"total 0\\n\"}",
      "{\"z\":1,\"a\":2,\"big\":9007199254740993,\"float\":10.0,\"int\":10,\"exp\":1e400,\"neg\":-0.0}",
      "{\n  \"type\": \"human\",\n  \"data\": {\"content\": \"LangChain dict\", \"additional_kwargs\": {}}\n}\n",
      "{\"deep\":{\"a\":[1,[2,[3,{\"b\":[true,false,null]}]]]},\"empty\":{},\"emptyArray\":[]}");
}
