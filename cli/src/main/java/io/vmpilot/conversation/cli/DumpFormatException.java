package io.vmpilot.conversation.cli;

/** A dump file is not what docs/dump-format.md describes; says which line and what is wrong with it. */
final class DumpFormatException extends RuntimeException {
  private final long line;

  DumpFormatException(long line, String problem) {
    super("line " + line + " " + problem);
    this.line = line;
  }

  long line() {
    return line;
  }
}
