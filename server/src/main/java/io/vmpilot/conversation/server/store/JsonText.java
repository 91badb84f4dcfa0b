package io.vmpilot.conversation.server.store;

import com.google.common.base.Utf8;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A stored message's JSON text, held in the form its store has it: a {@code String} (the memory backend keeps what
 * it was given) or the UTF-8 bytes read from a file (SQLite). Held as bytes, a Get can send them on as they are:
 * decoding them into a String only for protobuf to scan and encode it again cost a Get of 1,000 messages about a
 * quarter of its CPU (docs/benchmark.md). Immutable; two are equal when their texts are, whatever form each is held
 * in.
 */
public final class JsonText {
  private final String text;
  private final byte[] utf8;

  private JsonText(String text, byte[] utf8) {
    this.text = text;
    this.utf8 = utf8;
  }

  public static JsonText of(String text) {
    return new JsonText(Objects.requireNonNull(text, "text"), null);
  }

  /** The text whose UTF-8 encoding is {@code utf8}, which is taken as it is: the caller must not change it. */
  public static JsonText ofUtf8(byte[] utf8) {
    return new JsonText(null, Objects.requireNonNull(utf8, "utf8"));
  }

  /** The text as a String (decoded on each call when held as bytes). */
  public String text() {
    return text != null ? text : new String(utf8, StandardCharsets.UTF_8);
  }

  /**
   * The UTF-8 bytes themselves when held as bytes (encoded anew when held as a String), not a copy: for a caller
   * that hands them on unchanged, as a Get's response does ({@code UnsafeByteOperations.unsafeWrap}). Whoever
   * calls this must never write to the array; a copy was one more array the size of the history per Get.
   */
  public byte[] unsafeUtf8Array() {
    return text != null ? text.getBytes(StandardCharsets.UTF_8) : utf8;
  }

  /** The size of the text in UTF-8, which is what history limits count. */
  public long utf8Length() {
    return text != null ? Utf8.encodedLength(text) : utf8.length;
  }

  /** Whether this is {@code other}, character for character. */
  public boolean sameText(String other) {
    return text != null ? text.equals(other) : Arrays.equals(utf8, other.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof JsonText that)) {
      return false;
    }
    if (utf8 != null && that.utf8 != null) {
      return Arrays.equals(utf8, that.utf8);
    }
    return text != null ? that.sameText(text) : sameText(that.text);
  }

  @Override
  public int hashCode() {
    return text().hashCode();
  }

  /** The text itself, so that assertions and logs show what was stored. */
  @Override
  public String toString() {
    return text();
  }
}
