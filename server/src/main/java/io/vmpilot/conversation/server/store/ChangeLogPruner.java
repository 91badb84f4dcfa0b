package io.vmpilot.conversation.server.store;

import io.vmpilot.conversation.server.threads.DaemonThreads;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Deletes change-log entries older than the retention window, in batches of {@link #BATCH} entries, each its own
 * short transaction (on SQLite, one task of the writer among the others), so that pruning never holds writers
 * long. Runs every {@link #interval}, and one batch after another until nothing older is left.
 */
public final class ChangeLogPruner implements AutoCloseable {
  static final int BATCH = 500;
  private static final Logger LOG = Logger.getLogger(ChangeLogPruner.class.getName());

  private final ChangeFeed feed;
  private final Duration retention;
  private final Clock clock;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      DaemonThreads.named("change-log-pruner"));

  private ChangeLogPruner(ChangeFeed feed, Duration retention, Clock clock) {
    this.feed = feed;
    this.retention = retention;
    this.clock = clock;
  }

  /** Starts pruning {@code feed} of entries older than {@code retention}. */
  public static ChangeLogPruner start(ChangeFeed feed, Duration retention) {
    ChangeLogPruner pruner = new ChangeLogPruner(feed, retention, Clock.systemUTC());
    long every = interval(retention).toMillis();
    pruner.timer.scheduleWithFixedDelay(pruner::pruneQuietly, every, every, TimeUnit.MILLISECONDS);
    return pruner;
  }

  /** A pruner that only prunes when {@link #pruneNow} is called (tests). */
  static ChangeLogPruner unscheduled(ChangeFeed feed, Duration retention, Clock clock) {
    return new ChangeLogPruner(feed, retention, clock);
  }

  /** A tenth of the retention, between one second and one minute: entries outlive it by at most ~10%. */
  static Duration interval(Duration retention) {
    long millis = Math.max(1_000, Math.min(60_000, retention.toMillis() / 10));
    return Duration.ofMillis(millis);
  }

  /** Prunes until nothing older than the window is left; returns how many entries went. */
  public long pruneNow() {
    long total = 0;
    int deleted;
    do {
      deleted = feed.prune(clock.instant().minus(retention), BATCH);
      total += deleted;
    } while (deleted == BATCH && !timer.isShutdown());
    return total;
  }

  private void pruneQuietly() {
    try {
      long deleted = pruneNow();
      if (deleted > 0) {
        LOG.info("change log: pruned " + deleted + " entries older than " + retention);
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "change log: pruning failed (will try again): " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try {
      timer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
