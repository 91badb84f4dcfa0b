package io.vmpilot.conversation.server.store;

import com.google.common.base.Utf8;
import java.util.Objects;

/**
 * A message to be stored: an optional client id ("" for none) and its JSON text, kept verbatim.
 *
 * <p>A class, not a record, for the one field that is not a component: its search text, worked out once on first
 * use. The SQLite backend asks for it on the request thread before handing the write to its one writer, so that
 * the writer (which every write waits for) does not parse the JSON again to index it.
 */
public final class NewMessage {
  private final String id;
  private final String json;
  private final long utf8Bytes;
  private static final Object NO_TEXT = new Object();
  /**
   * Null until worked out, then the text or {@link #NO_TEXT}: one field, so that a thread that reads it without a
   * happens-before edge (the write queue gives one) sees either nothing, and works it out again, or a whole String.
   */
  private Object searchText;

  /** @param utf8Bytes the size of {@code json} in UTF-8, which is what history limits count */
  public NewMessage(String id, String json, long utf8Bytes) {
    this.id = Objects.requireNonNull(id, "id");
    this.json = Objects.requireNonNull(json, "json");
    this.utf8Bytes = utf8Bytes;
  }

  public NewMessage(String id, String json) {
    this(id, json, Utf8.encodedLength(json));
  }

  public String id() {
    return id;
  }

  public String json() {
    return json;
  }

  public long utf8Bytes() {
    return utf8Bytes;
  }

  public boolean hasId() {
    return !id.isEmpty();
  }

  /**
   * {@link SearchText#sqliteText} of the JSON: the text search indexes, or null for JSON that SQLite's JSON functions
   * would not take. Computed on the first call and kept.
   */
  public String searchText() {
    Object known = searchText;
    if (known == null) {
      String text = SearchText.sqliteText(json);
      known = text == null ? NO_TEXT : text;
      searchText = known;
    }
    return known == NO_TEXT ? null : (String) known;
  }

  /** True when {@code stored} is this very message: same id and byte-identical JSON. */
  public boolean sameAs(StoredMessage stored) {
    return id.equals(stored.id()) && stored.json().sameText(json);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NewMessage m && utf8Bytes == m.utf8Bytes && id.equals(m.id) && json.equals(m.json);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, json, utf8Bytes);
  }

  @Override
  public String toString() {
    return "NewMessage[id=" + id + ", json=" + json + ", utf8Bytes=" + utf8Bytes + "]";
  }
}
