package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.SearchText;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The search column's values as PostgreSQL text literals, built here from {@link SearchText}'s words so that
 * PostgreSQL finds exactly the words the other backends find (its own parser would not cut them the same way).
 * Words hold only letters, digits and private-use characters, so none needs quoting beyond the quotes themselves.
 */
final class TsVectors {
  /** PostgreSQL keeps positions up to 16,383 (larger ones become 16,383). */
  private static final int MAX_POSITION = 16_383;
  /** Positions one lexeme may have in a tsvector. */
  private static final int MAX_POSITIONS_PER_WORD = 255;
  /** A lexeme may have at most 2,047 bytes; longer words are not indexed. */
  private static final int MAX_WORD_BYTES = 2_000;
  /** A tsvector is at most 1 MB; stop well before (lexemes, plus 2 bytes per position and some per lexeme). */
  private static final long MAX_VECTOR_BYTES = 800_000;

  private TsVectors() {}

  /** The tsvector of a message: its words with their positions (1-based). */
  static String of(String json) {
    List<String> words = SearchText.words(SearchText.of(json));
    Map<String, StringBuilder> positions = new LinkedHashMap<>();
    Map<String, Integer> counts = new LinkedHashMap<>();
    long bytes = 0;
    int limit = Math.min(words.size(), SearchText.MAX_INDEXED_WORDS);
    for (int i = 0; i < limit; i++) {
      String w = words.get(i);
      int wordBytes = w.getBytes(StandardCharsets.UTF_8).length;
      if (wordBytes > MAX_WORD_BYTES) {
        continue;
      }
      StringBuilder p = positions.get(w);
      if (p == null) {
        bytes += wordBytes + 8L;
        if (bytes > MAX_VECTOR_BYTES) {
          break;
        }
        p = new StringBuilder();
        positions.put(w, p);
        counts.put(w, 0);
      }
      int n = counts.get(w);
      if (n < MAX_POSITIONS_PER_WORD) {
        p.append(n == 0 ? "" : ",").append(Math.min(i + 1, MAX_POSITION));
        counts.put(w, n + 1);
        bytes += 2;
      }
    }
    StringBuilder vector = new StringBuilder();
    positions.forEach((w, p) -> vector.append(vector.isEmpty() ? "" : " ").append(quoted(w)).append(':').append(p));
    return vector.toString();
  }

  /** The tsquery of a search: each phrase's words joined by "followed by", the phrases by "and". */
  static String query(List<List<String>> phrases) {
    StringBuilder q = new StringBuilder();
    for (List<String> phrase : phrases) {
      q.append(q.isEmpty() ? "" : " & ").append('(');
      for (int i = 0; i < phrase.size(); i++) {
        q.append(i == 0 ? "" : " <-> ").append(quoted(phrase.get(i)));
      }
      q.append(')');
    }
    return q.toString();
  }

  private static String quoted(String word) {
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'";
  }
}
