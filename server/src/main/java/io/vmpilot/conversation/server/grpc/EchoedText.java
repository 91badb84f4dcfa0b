package io.vmpilot.conversation.server.grpc;

/**
 * Text from a request that an error repeats back (a map key in a field path), made safe to repeat: at most
 * {@link #MAX_CODE_POINTS} code points with the full length said after it, and control characters escaped. Without
 * this a 10 MB key made a 28 MB trailer, which clients cannot even read.
 */
final class EchoedText {
  static final int MAX_CODE_POINTS = 64;

  private EchoedText() {}

  static String of(String text) {
    int length = text.codePointCount(0, text.length());
    String kept = length <= MAX_CODE_POINTS ? text : text.substring(0, text.offsetByCodePoints(0, MAX_CODE_POINTS));
    StringBuilder out = new StringBuilder(kept.length() + 32);
    kept.codePoints().forEach(c -> {
      if (Character.isISOControl(c)) {
        out.append(String.format("\\u%04x", c));
      } else {
        out.appendCodePoint(c);
      }
    });
    if (length > MAX_CODE_POINTS) {
      out.append("...(").append(length).append(" characters)");
    }
    return out.toString();
  }
}
