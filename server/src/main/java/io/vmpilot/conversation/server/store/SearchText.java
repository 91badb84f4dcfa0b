package io.vmpilot.conversation.server.store;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What search sees of a message: the text of its JSON string values (keys, numbers and punctuation are not
 * text), cut into words the way SQLite FTS5's {@code unicode61} tokenizer cuts them, so that every backend finds
 * the same messages: a word is a run of letters, digits and private-use characters (Unicode categories L*, N*,
 * Co), lower-cased; everything else separates words. {@code get_user_name} is the three words get, user, name;
 * a tool call's arguments, a JSON string holding JSON, are text like any other.
 */
public final class SearchText {
  /** Words of one message that the PostgreSQL index keeps (a tsvector holds at most 1 MB). */
  public static final int MAX_INDEXED_WORDS = 100_000;
  private static final int SNIPPET_WORDS_BEFORE = 6;
  private static final int SNIPPET_WORDS_AFTER = 18;
  private static final int MAX_SNIPPET_CHARS = 320;

  private SearchText() {}

  /** The message's string values, in order, separated by newlines; empty for JSON that does not parse. */
  public static String of(String json) {
    StringBuilder text = new StringBuilder();
    try (JsonReader r = new JsonReader(new StringReader(json))) {
      r.setLenient(true); // only what the validator accepted is stored; leniency merely avoids failing on old rows
      r.setNestingLimit(Integer.MAX_VALUE); // the validator's depth limit applies, not Gson's default of 255
      collect(r, text);
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      return text.toString();
    }
    return text.toString();
  }

  /**
   * The deepest nesting SQLite's JSON functions parse (its JSON_MAX_DEPTH): {@code json_valid} is false for deeper
   * JSON, so SQLite's own indexing ({@code json_tree}) gives such a message no words.
   */
  public static final int SQLITE_MAX_DEPTH = 1000;

  /**
   * What the SQLite index's SQL ({@code group_concat} of {@code json_tree}'s text values, V9) makes of the message,
   * computed in Java: {@link #of}, but null where {@code json_valid} is false (not strict JSON, or nested deeper
   * than {@link #SQLITE_MAX_DEPTH}), so that the words do not depend on which of the two indexed a message.
   */
  public static String sqliteText(String json) {
    StringBuilder text = new StringBuilder();
    try (JsonReader r = new JsonReader(new StringReader(json))) {
      r.setNestingLimit(Integer.MAX_VALUE);
      if (collect(r, text, SQLITE_MAX_DEPTH) && r.peek() == JsonToken.END_DOCUMENT) {
        return text.isEmpty() ? null : text.toString();
      }
      return null;
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      return null;
    }
  }

  private static void collect(JsonReader r, StringBuilder text) throws IOException {
    collect(r, text, Integer.MAX_VALUE);
  }

  /** Appends the string values of one JSON value; false (stopping there) where it nests deeper than maxDepth. */
  private static boolean collect(JsonReader r, StringBuilder text, int maxDepth) throws IOException {
    int depth = 0;
    do {
      JsonToken t = r.peek();
      switch (t) {
        case BEGIN_OBJECT -> {
          r.beginObject();
          if (++depth > maxDepth) {
            return false;
          }
        }
        case END_OBJECT -> {
          r.endObject();
          depth--;
        }
        case BEGIN_ARRAY -> {
          r.beginArray();
          if (++depth > maxDepth) {
            return false;
          }
        }
        case END_ARRAY -> {
          r.endArray();
          depth--;
        }
        case NAME -> r.nextName();
        case STRING -> {
          if (!text.isEmpty()) {
            text.append('\n');
          }
          text.append(r.nextString());
        }
        case NUMBER, BOOLEAN, NULL -> r.skipValue();
        case END_DOCUMENT -> {
          return true;
        }
      }
    } while (depth > 0);
    return true;
  }

  /** Whether a code point is part of a word (unicode61's default token characters). */
  public static boolean isWordChar(int cp) {
    if (cp < 128) {
      return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    }
    return switch (Character.getType(cp)) {
      case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
          Character.MODIFIER_LETTER, Character.OTHER_LETTER, Character.DECIMAL_DIGIT_NUMBER,
          Character.LETTER_NUMBER, Character.OTHER_NUMBER, Character.PRIVATE_USE -> true;
      default -> false;
    };
  }

  /** Receives the words of a text one by one; returns false to stop. */
  @FunctionalInterface
  public interface WordSink {
    boolean word(String word);
  }

  /** The words of {@code text}, lower-cased, in order. */
  public static List<String> words(String text) {
    List<String> words = new ArrayList<>();
    eachWord(text, words::add);
    return words;
  }

  /**
   * Hands each word of {@code text}, lower-cased, to {@code sink}, in order, until it returns false: what
   * {@link #words} returns, without the list (the PostgreSQL backend cuts every message it writes).
   */
  public static void eachWord(String text, WordSink sink) {
    eachSpan(text, (start, end) -> sink.word(text.substring(start, end).toLowerCase(Locale.ROOT)));
  }

  private interface SpanSink {
    boolean span(int start, int end);
  }

  /** Start and end (char indexes) of each word of {@code text}. */
  private static List<int[]> spans(String text) {
    List<int[]> spans = new ArrayList<>();
    eachSpan(text, (start, end) -> spans.add(new int[] {start, end}));
    return spans;
  }

  /** The one place words are cut: each maximal run of word characters, until {@code sink} returns false. */
  private static void eachSpan(String text, SpanSink sink) {
    int start = -1;
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      boolean word = isWordChar(cp);
      if (word && start < 0) {
        start = i;
      } else if (!word && start >= 0) {
        if (!sink.span(start, i)) {
          return;
        }
        start = -1;
      }
      i += Character.charCount(cp);
    }
    if (start >= 0) {
      sink.span(start, text.length());
    }
  }

  /**
   * The query's phrases: each whitespace-separated part of {@code query} is one phrase of its words (so
   * {@code src/main.py} finds those three words in a row); parts without a word are dropped.
   */
  public static List<List<String>> phrases(String query) {
    List<List<String>> phrases = new ArrayList<>();
    for (String part : query.strip().split("\\s+")) {
      List<String> words = words(part);
      if (!words.isEmpty()) {
        phrases.add(words);
      }
    }
    return phrases;
  }

  /** How many times the phrases occur in {@code words} (0 when any one of them is missing). */
  public static int occurrences(List<String> words, List<List<String>> phrases) {
    int total = 0;
    for (List<String> phrase : phrases) {
      int n = 0;
      for (int i = 0; i + phrase.size() <= words.size(); i++) {
        if (matchesAt(words, i, phrase)) {
          n++;
        }
      }
      if (n == 0) {
        return 0;
      }
      total += n;
    }
    return total;
  }

  private static boolean matchesAt(List<String> words, int i, List<String> phrase) {
    for (int j = 0; j < phrase.size(); j++) {
      if (!words.get(i + j).equals(phrase.get(j))) {
        return false;
      }
    }
    return true;
  }

  /**
   * A few words of the message's text around the first place one of the phrases occurs, white space collapsed,
   * with "…" where text was left out.
   */
  public static String snippet(String json, List<List<String>> phrases) {
    String text = of(json);
    List<int[]> spans = spans(text);
    List<String> words = new ArrayList<>(spans.size());
    for (int[] s : spans) {
      words.add(text.substring(s[0], s[1]).toLowerCase(Locale.ROOT));
    }
    int hit = 0;
    search:
    for (int i = 0; i < words.size(); i++) {
      for (List<String> phrase : phrases) {
        if (i + phrase.size() <= words.size() && matchesAt(words, i, phrase)) {
          hit = i;
          break search;
        }
      }
    }
    if (spans.isEmpty()) {
      return "";
    }
    int first = Math.max(0, hit - SNIPPET_WORDS_BEFORE);
    int last = Math.min(spans.size() - 1, hit + SNIPPET_WORDS_AFTER);
    int from = first == 0 ? 0 : spans.get(first)[0];
    int to = last == spans.size() - 1 ? text.length() : spans.get(last)[1];
    if (to - from > MAX_SNIPPET_CHARS) { // a very long word (base64, a minified line): keep a window of it
      from = Math.max(from, spans.get(hit)[0] - MAX_SNIPPET_CHARS / 5);
      to = Math.min(to, from + MAX_SNIPPET_CHARS);
      from += Character.isLowSurrogate(text.charAt(from)) ? 1 : 0;
      to -= Character.isHighSurrogate(text.charAt(to - 1)) ? 1 : 0;
    }
    String snippet = text.substring(from, to).replaceAll("\\s+", " ").strip();
    return (from > 0 ? "…" : "") + snippet + (to < text.length() ? "…" : "");
  }
}
