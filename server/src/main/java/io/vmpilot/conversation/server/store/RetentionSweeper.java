package io.vmpilot.conversation.server.store;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Deletes conversations past their own expire time (set by a write), and those not updated for longer than
 * {@code [retention] max_idle} when it is set, in batches of {@link #BATCH},
 * each its own short transaction ({@link ConversationStore#sweepIdle}: on SQLite one task of the writer among the
 * others, on PostgreSQL rows locked with {@code SKIP LOCKED} so several servers sweep at once). Runs every
 * {@link #interval}, batch after batch until none is left, and logs one line per sweep that deleted anything.
 * Readers do not wait for it: {@link ExpiringReads} hides an expired conversation from the moment it expires.
 */
public final class RetentionSweeper implements AutoCloseable {
  static final int BATCH = 100;
  private static final Logger LOG = Logger.getLogger(RetentionSweeper.class.getName());

  private final ConversationStore store;
  private final Optional<Duration> maxIdle;
  private final Clock clock;
  private final int batch;
  private final AtomicLong deleted = new AtomicLong();
  private final AtomicLong sweeps = new AtomicLong();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "retention-sweeper");
    t.setDaemon(true);
    return t;
  });

  RetentionSweeper(ConversationStore store, Optional<Duration> maxIdle, Clock clock, int batch) {
    this.store = store;
    this.maxIdle = maxIdle;
    this.clock = clock;
    this.batch = batch;
  }

  /** Starts sweeping {@code store} of expired conversations and of those idle for longer than {@code maxIdle}. */
  public static RetentionSweeper start(ConversationStore store, Optional<Duration> maxIdle) {
    RetentionSweeper sweeper = new RetentionSweeper(store, maxIdle, Clock.systemUTC(), BATCH);
    long every = interval(maxIdle).toMillis();
    sweeper.timer.scheduleWithFixedDelay(sweeper::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
    return sweeper;
  }

  /** A sweeper that sweeps only when {@link #sweepNow} is called (tests). */
  public static RetentionSweeper unscheduled(ConversationStore store, Duration maxIdle, Clock clock, int batch) {
    return new RetentionSweeper(store, Optional.of(maxIdle), clock, batch);
  }

  /**
   * A tenth of max_idle, between 100 ms and one minute: the sweep deletes a conversation at most ~10% after it
   * expired (readers stop seeing it at once anyway), and a short max_idle in a test is swept promptly. Without
   * max_idle, once a minute: a conversation past its own expire time is gone for readers and writers already, so
   * the sweep only gives its space back.
   */
  static Duration interval(Optional<Duration> maxIdle) {
    return Duration.ofMillis(Math.max(100, Math.min(60_000, maxIdle.map(Duration::toMillis).orElse(600_000L) / 10)));
  }

  /** Sweeps until no expired conversation (by its expire time or max_idle) is left; returns how many went. */
  public long sweepNow() {
    long expired = inBatches(() -> store.sweepExpired(batch).size());
    long idle = 0;
    Instant cutoff = null;
    if (maxIdle.isPresent()) {
      Instant idleCutoff = clock.instant().minus(maxIdle.get());
      cutoff = idleCutoff;
      idle = inBatches(() -> store.sweepIdle(idleCutoff, batch).size());
    }
    sweeps.incrementAndGet();
    if (expired + idle > 0) {
      LOG.info("retention: deleted " + expired + " conversations past their expire time and " + idle
          + (cutoff == null ? " idle (no max_idle)" : " not updated since " + cutoff + " (max_idle " + maxIdle.get()
          + ")") + " in batches of at most " + batch);
    }
    return expired + idle;
  }

  /** Runs batches until one deletes fewer than a whole batch; returns how many went. */
  private long inBatches(IntSupplier oneBatch) {
    long total = 0;
    int n;
    do {
      n = oneBatch.getAsInt();
      total += n;
      deleted.addAndGet(n);
    } while (n == batch && !timer.isShutdown());
    return total;
  }

  /** Conversations this sweeper has deleted since it started (a metric). */
  public long deleted() {
    return deleted.get();
  }

  /** Sweeps finished since it started (a metric). */
  public long sweeps() {
    return sweeps.get();
  }

  private void sweepQuietly() {
    try {
      sweepNow();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "retention: sweep failed (will try again): " + e.getMessage(), e);
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
