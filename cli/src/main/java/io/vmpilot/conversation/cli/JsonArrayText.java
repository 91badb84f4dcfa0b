package io.vmpilot.conversation.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits the text of a JSON array into the texts of its elements, each exactly as written (numbers, escapes, key
 * order, inner white space): VMPilot keeps a conversation's messages as one JSON array, and each message must
 * reach the store verbatim, which parsing and printing again would not give.
 */
final class JsonArrayText {
  private JsonArrayText() {}

  /** The elements of {@code text}; throws {@link IllegalArgumentException} saying what is wrong. */
  static List<String> elements(String text) {
    int i = skipSpace(text, 0);
    if (i >= text.length() || text.charAt(i) != '[') {
      throw new IllegalArgumentException("is not a JSON array");
    }
    List<String> elements = new ArrayList<>();
    i = skipSpace(text, i + 1);
    if (i < text.length() && text.charAt(i) == ']') {
      return end(text, i + 1, elements);
    }
    while (true) {
      int start = i;
      i = skipValue(text, i);
      elements.add(text.substring(start, i));
      i = skipSpace(text, i);
      if (i >= text.length()) {
        throw new IllegalArgumentException("ends before its closing ]");
      }
      char c = text.charAt(i);
      if (c == ']') {
        return end(text, i + 1, elements);
      }
      if (c != ',') {
        throw new IllegalArgumentException("has '" + c + "' at offset " + i + " where , or ] belongs");
      }
      i = skipSpace(text, i + 1);
    }
  }

  private static List<String> end(String text, int i, List<String> elements) {
    if (skipSpace(text, i) != text.length()) {
      throw new IllegalArgumentException("has text after its closing ]");
    }
    return elements;
  }

  /** The offset after the value starting at {@code i} (structure only; the store checks each element fully). */
  private static int skipValue(String text, int i) {
    int depth = 0;
    boolean inString = false;
    for (int j = i; j < text.length(); j++) {
      char c = text.charAt(j);
      if (inString) {
        if (c == '\\') {
          j++;
        } else if (c == '"') {
          inString = false;
          if (depth == 0) {
            return j + 1;
          }
        }
        continue;
      }
      switch (c) {
        case '"' -> inString = true;
        case '{', '[' -> depth++;
        case '}', ']' -> {
          if (depth == 0) {
            return j; // the end of a scalar, at the array's ]
          }
          if (--depth == 0) {
            return j + 1;
          }
        }
        case ',' -> {
          if (depth == 0) {
            return j;
          }
        }
        case ' ', '\t', '\n', '\r' -> {
          if (depth == 0) {
            return j;
          }
        }
        default -> { }
      }
    }
    if (inString || depth > 0) {
      throw new IllegalArgumentException("ends inside an element");
    }
    return text.length();
  }

  private static int skipSpace(String text, int i) {
    while (i < text.length() && " \t\n\r".indexOf(text.charAt(i)) >= 0) {
      i++;
    }
    return i;
  }
}
