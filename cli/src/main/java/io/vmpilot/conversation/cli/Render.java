package io.vmpilot.conversation.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Timestamp;
import io.vmpilot.conversation.v1.Message;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * Messages for people: by role, content as text, tool calls with their arguments pretty-printed. Understands
 * OpenAI-style chat messages and LangChain dicts ({"type", "data"}); anything else is shown as indented JSON.
 * Only for reading: the exact stored text is what {@code show -o json} prints.
 */
final class Render {
  private static final com.google.gson.Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping()
      .create();

  private Render() {}

  static String time(Timestamp t) {
    return t.getSeconds() == 0 && t.getNanos() == 0 ? "-" : Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toString();
  }

  static String counters(Map<String, Long> counters) {
    if (counters.isEmpty()) {
      return "-";
    }
    StringBuilder s = new StringBuilder();
    new TreeMap<>(counters).forEach((k, v) -> s.append(s.length() == 0 ? "" : "  ").append(k).append('=').append(v));
    return s.toString();
  }

  /** key=value pairs, sorted; cut at {@code width} characters when width > 0. */
  static String metadata(Map<String, String> metadata, int width) {
    if (metadata.isEmpty()) {
      return "-";
    }
    StringBuilder s = new StringBuilder();
    new TreeMap<>(metadata).forEach((k, v) -> s.append(s.length() == 0 ? "" : "  ").append(k).append('=')
        .append(v.replace("\n", "\\n")));
    return width > 0 && s.length() > width ? s.substring(0, width - 1) + "…" : s.toString();
  }

  static String message(Message m) {
    StringBuilder out = new StringBuilder();
    JsonElement parsed;
    try {
      parsed = JsonParser.parseString(m.getJson());
    } catch (RuntimeException e) {
      parsed = null;
    }
    JsonObject o = parsed != null && parsed.isJsonObject() ? parsed.getAsJsonObject() : null;
    String role = "message";
    JsonElement content = null;
    JsonElement toolCalls = null;
    String toolCallId = null;
    if (o != null && o.has("role")) {
      role = text(o.get("role"));
      content = o.get("content");
      toolCalls = o.get("tool_calls");
      toolCallId = o.has("tool_call_id") ? text(o.get("tool_call_id")) : null;
    } else if (o != null && o.has("type") && o.has("data") && o.get("data").isJsonObject()) {
      role = text(o.get("type"));
      JsonObject data = o.getAsJsonObject("data");
      content = data.get("content");
      toolCalls = data.get("tool_calls");
      toolCallId = data.has("tool_call_id") ? text(data.get("tool_call_id")) : null;
    }
    out.append('#').append(m.getPosition()).append(' ').append(role);
    if (!m.getId().isEmpty()) {
      out.append("  id=").append(m.getId());
    }
    if (toolCallId != null) {
      out.append("  tool_call_id=").append(toolCallId);
    }
    out.append("  ").append(time(m.getCreateTime())).append('\n');
    if (o == null || (content == null && toolCalls == null && !o.has("role") && !o.has("data"))) {
      indent(out, parsed != null ? PRETTY.toJson(parsed) : m.getJson());
      return out.toString();
    }
    if (content != null && !content.isJsonNull()) {
      if (content.isJsonPrimitive()) {
        indent(out, content.getAsString());
      } else if (content.isJsonArray()) {
        for (JsonElement block : content.getAsJsonArray()) {
          if (block.isJsonObject() && block.getAsJsonObject().has("text")) {
            JsonObject b = block.getAsJsonObject();
            indent(out, text(b.get("text")) + (b.has("cache_control") ? "   [cache_control "
                + b.get("cache_control") + "]" : ""));
          } else {
            indent(out, PRETTY.toJson(block));
          }
        }
      } else {
        indent(out, PRETTY.toJson(content));
      }
    }
    if (toolCalls != null && toolCalls.isJsonArray()) {
      for (JsonElement call : toolCalls.getAsJsonArray()) {
        out.append(toolCall(call));
      }
    }
    return out.toString();
  }

  private static String toolCall(JsonElement call) {
    StringBuilder out = new StringBuilder();
    if (!call.isJsonObject()) {
      indent(out, "tool call " + call);
      return out.toString();
    }
    JsonObject c = call.getAsJsonObject();
    JsonObject function = c.has("function") && c.get("function").isJsonObject() ? c.getAsJsonObject("function") : c;
    String name = function.has("name") ? text(function.get("name")) : "?";
    String id = c.has("id") ? " (" + text(c.get("id")) + ")" : "";
    indent(out, "tool call " + name + id + ":");
    JsonElement args = function.has("arguments") ? function.get("arguments") : function.get("args");
    if (args != null) {
      String shown;
      if (args.isJsonPrimitive()) {
        try {
          shown = PRETTY.toJson(JsonParser.parseString(args.getAsString()));
        } catch (RuntimeException e) {
          shown = args.getAsString();
        }
      } else {
        shown = PRETTY.toJson(args);
      }
      for (String line : shown.split("\n", -1)) {
        out.append("      ").append(line).append('\n');
      }
    }
    return out.toString();
  }

  private static String text(JsonElement e) {
    return e.isJsonPrimitive() ? e.getAsString() : e.toString();
  }

  private static void indent(StringBuilder out, String text) {
    for (String line : text.split("\n", -1)) {
      out.append("    ").append(line).append('\n');
    }
  }
}
