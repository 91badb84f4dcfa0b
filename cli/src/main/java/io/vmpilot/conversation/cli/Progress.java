package io.vmpilot.conversation.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of a long operation on stderr: on a terminal a bar redrawn in place (count, total when known, rate),
 * otherwise a plain line (no carriage return, no escape sequence) that a log keeps readably, every
 * {@value #PLAIN_EVERY_COUNT} conversations or every 2 s, whichever comes first: the count gives a fast run lines a
 * reader can follow, the time gives a slow run a sign of life. Then a summary line. Export, import and
 * import-vmpilot all report through this class.
 */
final class Progress {
  private static final long TERMINAL_REDRAW_NANOS = 100_000_000L;
  private static final long PLAIN_EVERY_NANOS = 2_000_000_000L;
  static final long PLAIN_EVERY_COUNT = 1000;
  private static final int BAR_WIDTH = 30;

  private final PrintStream err;
  private final boolean terminal;
  private final String what;
  private final long start = System.nanoTime();
  private long total;
  private long done;
  private long lastShown;
  private boolean drawn;

  /**
   * @param what the verb, e.g. "exported"
   * @param total how many there will be, or 0 when unknown
   */
  Progress(PrintStream err, boolean terminal, String what, long total) {
    this.err = err;
    this.terminal = terminal;
    this.what = what;
    this.total = total;
    this.lastShown = start;
  }

  /**
   * Whether to draw a bar: when a terminal is attached (System.console()), unless CONVCTL_PROGRESS says "bar" or
   * "plain".
   */
  static boolean stderrIsTerminal() {
    String forced = System.getenv("CONVCTL_PROGRESS");
    if ("bar".equals(forced)) {
      return true;
    }
    if ("plain".equals(forced)) {
      return false;
    }
    java.io.Console console = System.console();
    if (console == null) {
      return false;
    }
    // Java 22+ may hand out a Console when nothing is a terminal; it then says so through isTerminal().
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true; // Java 17-21: a Console exists only when stdin and stdout are a terminal
    }
  }

  void step() {
    done++;
    long now = System.nanoTime();
    boolean due = terminal ? now - lastShown >= TERMINAL_REDRAW_NANOS
        : done % PLAIN_EVERY_COUNT == 0 || now - lastShown >= PLAIN_EVERY_NANOS;
    if (due) {
      lastShown = now;
      show(now);
    }
  }

  long done() {
    return done;
  }

  private double rate(long now) {
    double seconds = Math.max(1e-9, (now - start) / 1e9);
    return done / seconds;
  }

  private void show(long now) {
    if (terminal) {
      StringBuilder line = new StringBuilder("\r");
      if (total > 0) {
        int filled = (int) Math.min(BAR_WIDTH, done * BAR_WIDTH / total);
        line.append('[').append("#".repeat(filled)).append("-".repeat(BAR_WIDTH - filled)).append("] ")
            .append(String.format(Locale.ROOT, "%3d%% ", Math.min(100, done * 100 / total)));
      }
      line.append(what).append(' ').append(done).append(total > 0 ? "/" + total : "").append(" conversations, ")
          .append(String.format(Locale.ROOT, "%.1f/s", rate(now))).append("   ");
      err.print(line);
      drawn = true;
    } else {
      err.println(String.format(Locale.ROOT, "%s %d%s conversations (%.1f/s)", what, done,
          total > 0 ? " of " + total : "", rate(now)));
    }
    err.flush();
  }

  /** Ends the bar (if drawn) and prints {@code summary}. */
  void finish(String summary) {
    long now = System.nanoTime();
    if (terminal) {
      show(now);
      err.println();
    } else if (drawn) {
      err.println();
    }
    err.println(summary + String.format(Locale.ROOT, " in %.1f s", (now - start) / 1e9));
    err.flush();
  }
}
