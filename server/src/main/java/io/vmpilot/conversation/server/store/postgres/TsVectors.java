package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.SearchText;
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

  /** One word of a message: where it occurs, and whether it is left out (too long). */
  private static final class Lexeme {
    final boolean tooLong;
    final StringBuilder positions = new StringBuilder();
    int count;

    Lexeme(boolean tooLong) {
      this.tooLong = tooLong;
    }
  }

  /**
   * The tsvector of a message: its words with their positions (1-based). Runs for every message written, so it
   * makes one pass over the words and measures each distinct word once.
   */
  static String of(String json) {
    Map<String, Lexeme> lexemes = new LinkedHashMap<>();
    long[] bytes = {0};
    int[] index = {0};
    SearchText.eachWord(SearchText.of(json), w -> {
      int position = ++index[0];
      if (position > SearchText.MAX_INDEXED_WORDS) {
        return false;
      }
      Lexeme lexeme = lexemes.get(w);
      if (lexeme == null) {
        int wordBytes = utf8Length(w);
        if (wordBytes > MAX_WORD_BYTES) {
          lexemes.put(w, new Lexeme(true));
          return true;
        }
        bytes[0] += wordBytes + 8L;
        if (bytes[0] > MAX_VECTOR_BYTES) {
          return false;
        }
        lexeme = new Lexeme(false);
        lexemes.put(w, lexeme);
      } else if (lexeme.tooLong) {
        return true;
      }
      if (lexeme.count < MAX_POSITIONS_PER_WORD) {
        lexeme.positions.append(lexeme.count == 0 ? "" : ",").append(Math.min(position, MAX_POSITION));
        lexeme.count++;
        bytes[0] += 2;
      }
      return true;
    });
    StringBuilder vector = new StringBuilder();
    lexemes.forEach((w, l) -> {
      if (!l.tooLong) {
        vector.append(vector.isEmpty() ? "" : " ").append(quoted(w)).append(':').append(l.positions);
      }
    });
    return vector.toString();
  }

  private static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch < 0x80) {
        n++;
      } else if (ch < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
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
