package io.vmpilot.conversation.server.grpc;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks that a text is exactly one well-formed JSON object (RFC 8259) no deeper than a limit, without building
 * a tree: the text itself is what gets stored, so only its validity matters here.
 */
final class JsonObjectValidator {
  private final int maxDepth;

  JsonObjectValidator(int maxDepth) {
    this.maxDepth = maxDepth;
  }

  /** The reason the text is rejected, or empty when it is a valid JSON object. */
  Optional<String> problem(String json) {
    JsonReader reader = new JsonReader(new StringReader(json));
    reader.setStrictness(Strictness.STRICT);
    // Skipping a name, string or number checks it as strictly as reading it (escapes, number syntax) without
    // building a String of it, which was ~45% of a write's CPU on the gRPC threads. Only the check for raw
    // control characters inside strings comes with reading alone, so text holding any (pretty-printed JSON) is
    // read; compact JSON, the usual case, is skipped.
    boolean read = containsControlCharacter(json);
    try {
      if (reader.peek() != JsonToken.BEGIN_OBJECT) {
        return Optional.of("must be a JSON object, not " + describe(reader.peek()));
      }
      int depth = 0;
      while (true) {
        switch (reader.peek()) {
          case BEGIN_OBJECT -> {
            if (++depth > maxDepth) {
              return Optional.of("JSON nesting is deeper than " + maxDepth);
            }
            reader.beginObject();
          }
          case BEGIN_ARRAY -> {
            if (++depth > maxDepth) {
              return Optional.of("JSON nesting is deeper than " + maxDepth);
            }
            reader.beginArray();
          }
          case END_OBJECT -> {
            depth--;
            reader.endObject();
          }
          case END_ARRAY -> {
            depth--;
            reader.endArray();
          }
          case NAME -> {
            if (read) {
              reader.nextName();
            } else {
              reader.skipValue(); // only the name, not the value after it
            }
          }
          case STRING, NUMBER -> {
            if (read) {
              reader.nextString();
            } else {
              reader.skipValue();
            }
          }
          case BOOLEAN -> reader.nextBoolean();
          case NULL -> reader.nextNull();
          case END_DOCUMENT -> {
            return Optional.empty();
          }
        }
        if (depth == 0 && reader.peek() != JsonToken.END_DOCUMENT) {
          return Optional.of("must be a single JSON object; found more after its end");
        }
      }
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      return Optional.of("is not well-formed JSON" + where(e.getMessage()));
    }
  }

  private static boolean containsControlCharacter(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) < 0x20) {
        return true;
      }
    }
    return false;
  }

  private static final Pattern POSITION = Pattern.compile("line (\\d+) column (\\d+)");

  /**
   * " at line L column C" from a Gson message; the rest of Gson's text talks about its own API (lenient
   * mode, troubleshooting links), which means nothing to a client in another language.
   */
  private static String where(String gsonMessage) {
    Matcher m = POSITION.matcher(gsonMessage == null ? "" : gsonMessage);
    return m.find() ? " at line " + m.group(1) + " column " + m.group(2) : "";
  }

  private static String describe(JsonToken token) {
    return switch (token) {
      case BEGIN_ARRAY -> "an array";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      case END_DOCUMENT -> "empty text";
      default -> token.toString();
    };
  }
}
