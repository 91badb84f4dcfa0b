package io.vmpilot.conversation.server.grpc;

import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Filter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Keeps the log from being flooded through the transport: grpc-java's Netty transport logs a WARNING with a stack
 * trace (~5 KB) for every malformed request (a garbage {@code grpc-timeout}, a frame ending mid-message, ...), and
 * it does so before authentication, so anyone who can connect could write megabytes of log per second.
 *
 * <p>Installed as a filter on the root logger's handlers, it rewrites each record of the transport's loggers (grpc's
 * Netty transport and Netty itself, as shaded into grpc-java) that carries an exception into one line without the
 * stack trace, lets at most {@link #LINES_PER_WINDOW} such lines through per {@link #WINDOW_NANOS}, says how many it
 * held back, and counts every one ({@link #count()}, exported as a metric). Other records pass untouched.
 */
public final class TransportWarnings implements Filter {
  static final String[] TRANSPORT_LOGGERS = {"io.grpc.netty.shaded.io.grpc.netty.", "io.grpc.netty.shaded.io.netty."};
  static final int LINES_PER_WINDOW = 10;
  static final long WINDOW_NANOS = 10_000_000_000L;
  private static final int MAX_DETAIL_CHARS = 200;

  private final AtomicLong count = new AtomicLong();
  private long windowStart = Long.MIN_VALUE;
  private int linesInWindow;
  private long heldBack;

  /** Installs one instance on every handler of the root logger (the console's); returns it. */
  public static TransportWarnings install() {
    TransportWarnings warnings = new TransportWarnings();
    for (Handler handler : Logger.getLogger("").getHandlers()) {
      Filter previous = handler.getFilter();
      handler.setFilter(previous == null ? warnings : r -> warnings.isLoggable(r) && previous.isLoggable(r));
    }
    return warnings;
  }

  /** Transport records with an exception seen so far, printed or held back. */
  public long count() {
    return count.get();
  }

  @Override
  public boolean isLoggable(LogRecord record) {
    if (record.getThrown() == null || !fromTransport(record.getLoggerName())) {
      return true;
    }
    count.incrementAndGet();
    long held;
    synchronized (this) {
      long now = System.nanoTime();
      if (windowStart == Long.MIN_VALUE || now - windowStart >= WINDOW_NANOS) {
        windowStart = now;
        linesInWindow = 0;
      }
      if (linesInWindow >= LINES_PER_WINDOW) {
        heldBack++;
        return false;
      }
      linesInWindow++;
      held = heldBack;
      heldBack = 0;
    }
    String line = condensed(record, held);
    record.setParameters(null);
    record.setMessage(line);
    record.setThrown(null);
    if (record.getLevel().intValue() > Level.WARNING.intValue()) {
      record.setLevel(Level.WARNING);
    }
    return true;
  }

  private static boolean fromTransport(String loggerName) {
    if (loggerName == null) {
      return false;
    }
    for (String prefix : TRANSPORT_LOGGERS) {
      if (loggerName.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private static String condensed(LogRecord record, long heldBack) {
    Throwable root = record.getThrown();
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String detail = root.getClass().getSimpleName() + ": " + root.getMessage();
    if (detail.length() > MAX_DETAIL_CHARS) {
      detail = detail.substring(0, MAX_DETAIL_CHARS) + "... (" + detail.length() + " characters)";
    }
    detail = detail.replace('\n', ' ').replace('\r', ' ');
    return "transport: " + new SimpleFormatter().formatMessage(record) + " (" + detail + ")"
        + (heldBack > 0 ? " [" + heldBack + " similar lines held back]" : "")
        + " [at most " + LINES_PER_WINDOW + " such lines per " + WINDOW_NANOS / 1_000_000_000L
        + " s; all counted in conversation_transport_warnings_total]";
  }
}
