package io.vmpilot.conversation.server.store;

/** Counts UTF-8 bytes without encoding, since limits are in bytes and messages arrive as Java strings. */
public final class Utf8 {
  private Utf8() {}

  public static long encodedLength(CharSequence text) {
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
