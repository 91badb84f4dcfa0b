package io.vmpilot.conversation.server.threads;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Daemon threads with a name and a priority that are set, never inherited.
 *
 * <p>Why: Java gives a new thread its creator's priority, and a pool starts its threads from whichever thread
 * first submits to it. The large calls' threads ({@code grpc-large}) run at Java's minimum priority (nice 10 under
 * {@code scripts/server-jvm.options}), so a pool first used by a large call (PostgreSQL's write threads, behind a
 * large Save) kept a thread at nice 10 that then served every tenant's writes.
 */
public final class DaemonThreads implements ThreadFactory {
  private final String prefix;
  private final boolean numbered;
  private final int priority;
  private final AtomicInteger made = new AtomicInteger();

  private DaemonThreads(String prefix, boolean numbered, int priority) {
    if (priority < Thread.MIN_PRIORITY || priority > Thread.MAX_PRIORITY) {
      throw new IllegalArgumentException("not a thread priority: " + priority);
    }
    this.prefix = prefix;
    this.numbered = numbered;
    this.priority = priority;
  }

  /** Threads named {@code prefix-1}, {@code prefix-2}, ... at the normal priority. */
  public static DaemonThreads numbered(String prefix) {
    return numbered(prefix, Thread.NORM_PRIORITY);
  }

  /** Threads named {@code prefix-1}, {@code prefix-2}, ... at {@code priority}. */
  public static DaemonThreads numbered(String prefix, int priority) {
    return new DaemonThreads(prefix, true, priority);
  }

  /** Threads all named {@code name} at the normal priority, for a pool of one thread. */
  public static DaemonThreads named(String name) {
    return new DaemonThreads(name, false, Thread.NORM_PRIORITY);
  }

  @Override
  public Thread newThread(Runnable task) {
    Thread t = new Thread(task, numbered ? prefix + "-" + made.incrementAndGet() : prefix);
    t.setDaemon(true);
    t.setPriority(priority);
    return t;
  }
}
