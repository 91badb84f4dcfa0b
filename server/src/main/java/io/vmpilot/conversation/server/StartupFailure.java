package io.vmpilot.conversation.server;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Why the server could not start, and the exit code that says so to a supervisor or a script (documented in
 * docs/operations.md). 0 is a clean stop and 1 anything unforeseen (an uncaught exception, the JVM's own code).
 *
 * <p>A failure is one line: what could not be done and the causes' messages. The stack trace is logged only at
 * {@code FINE}, for the developer who asks for it: at start-up the operator's question is which setting, file or
 * port is wrong, and 30 lines of frames used to bury the answer ("Address already in use") at their end.
 */
enum StartupFailure {
  /** A flag, environment variable or config file line is wrong or names something unusable (a TLS file). */
  CONFIGURATION(2),
  /** The store cannot be opened: an unreadable or foreign database file, a lock held, PostgreSQL unreachable. */
  STORAGE(3),
  /** A port cannot be listened on: in use, or an address this host does not have. */
  NETWORK(4);

  private final int exitCode;

  StartupFailure(int exitCode) {
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }

  /** Logs {@code message} as one SEVERE line and {@code cause}'s stack trace at FINE; returns the exit code. */
  int report(Logger log, String message, Throwable cause) {
    log.severe(oneLine(message));
    log.log(Level.FINE, "start-up failed", cause);
    return exitCode;
  }

  /**
   * The first lines of the messages of {@code e} and of its causes, each once, joined by ": " (wrappers often carry
   * no more than "failed to bind"; the cause says why).
   */
  static String describe(Throwable e) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      // The first line of each: drivers add tables of details below it (Flyway's "SQL State : ..."), which the
      // FINE stack trace keeps.
      String message = t.getMessage() == null || t.getMessage().isBlank() ? t.getClass().getSimpleName()
          : t.getMessage().strip().lines().findFirst().orElseThrow().strip();
      if (text.indexOf(message) >= 0) {
        continue;
      }
      if (text.length() > 0) {
        text.append(": ");
      }
      text.append(message);
    }
    return text.toString();
  }

  /** Whether {@code e} or one of its causes is a socket's failure (a port in use, an address not this host's). */
  static boolean isSocketFailure(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof java.net.SocketException) {
        return true;
      }
    }
    return false;
  }

  /** {@code message} on one line: its line breaks (a driver's multi-line message) become spaces. */
  static String oneLine(String message) {
    return message == null ? "" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
  }
}
