package io.vmpilot.conversation.server.store;

import io.vmpilot.conversation.server.threads.DaemonThreads;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Deletes conversations past their own expire time (set by a write), and those not updated for longer than their
 * tenant's max_idle ({@code [retention] tenant_max_idle}, else {@code [retention] max_idle}) when one is set, in
 * batches of {@link #BATCH},
 * each its own short transaction ({@link ConversationStore#sweepIdle}: on SQLite one task of the writer among the
 * others, on PostgreSQL rows locked with {@code SKIP LOCKED} so several servers sweep at once). Runs every
 * {@link #interval}, batch after batch until none is left, and logs one line per sweep that deleted anything.
 * Readers do not wait for it: {@link ExpiringReads} hides an expired conversation from the moment it expires.
 */
public final class RetentionSweeper implements AutoCloseable {
  static final int BATCH = 100;
  private static final Logger LOG = Logger.getLogger(RetentionSweeper.class.getName());

  private final ConversationStore store;
  private final Retention retention;
  private final Clock clock;
  private final int batch;
  private final AtomicLong deleted = new AtomicLong();
  private final AtomicLong sweeps = new AtomicLong();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      DaemonThreads.named("retention-sweeper"));

  RetentionSweeper(ConversationStore store, Retention retention, Clock clock, int batch) {
    this.store = store;
    this.retention = retention;
    this.clock = clock;
    this.batch = batch;
  }

  /** Starts sweeping {@code store} of expired conversations and of those idle for longer than their max_idle. */
  public static RetentionSweeper start(ConversationStore store, Retention retention) {
    RetentionSweeper sweeper = new RetentionSweeper(store, retention, Clock.systemUTC(), BATCH);
    long every = interval(shortestMaxIdle(retention)).toMillis();
    sweeper.timer.scheduleWithFixedDelay(sweeper::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
    return sweeper;
  }

  /** A sweeper that sweeps only when {@link #sweepNow} is called (tests). */
  public static RetentionSweeper unscheduled(ConversationStore store, Duration maxIdle, Clock clock, int batch) {
    return unscheduled(store, Retention.maxIdle(maxIdle), clock, batch);
  }

  /** A sweeper of {@code retention} that sweeps only when {@link #sweepNow} is called (tests). */
  public static RetentionSweeper unscheduled(ConversationStore store, Retention retention, Clock clock, int batch) {
    return new RetentionSweeper(store, retention, clock, batch);
  }

  /** The shortest max_idle of any tenant (the server-wide one or a tenant's own), if any: what paces the sweep. */
  static Optional<Duration> shortestMaxIdle(Retention retention) {
    return Stream.concat(Stream.of(retention.maxIdle()), retention.maxIdlePerTenant().values().stream())
        .flatMap(Optional::stream).min(Comparator.naturalOrder());
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

  /**
   * Sweeps until no expired conversation (by its expire time or its tenant's max_idle) is left; returns how many
   * went. Each tenant with its own max_idle is swept with its own cutoff, then every other tenant with the
   * server-wide one.
   */
  public long sweepNow() {
    Instant now = clock.instant();
    long expired = inBatches(() -> store.sweepExpired(batch).size());
    long idle = 0;
    StringBuilder cutoffs = new StringBuilder();
    for (Map.Entry<String, Optional<Duration>> own : new TreeMap<>(retention.maxIdlePerTenant()).entrySet()) {
      if (own.getValue().isPresent()) {
        Instant cutoff = now.minus(own.getValue().get());
        long n = inBatches(() -> store.sweepIdle(cutoff, TenantScope.only(own.getKey()), batch).size());
        idle += n;
        describe(cutoffs, n, "tenant " + own.getKey(), own.getValue().get(), cutoff);
      }
    }
    if (retention.maxIdle().isPresent()) {
      Instant cutoff = now.minus(retention.maxIdle().get());
      TenantScope others = TenantScope.allExcept(retention.maxIdlePerTenant().keySet());
      long n = inBatches(() -> store.sweepIdle(cutoff, others, batch).size());
      idle += n;
      describe(cutoffs, n, retention.maxIdlePerTenant().isEmpty() ? "every tenant" : "the other tenants",
          retention.maxIdle().get(), cutoff);
    }
    sweeps.incrementAndGet();
    if (expired + idle > 0) {
      LOG.info("retention: deleted " + expired + " conversations past their expire time and " + idle
          + (cutoffs.length() == 0 ? " idle" : " idle (" + cutoffs + ")") + " in batches of at most "
          + batch);
    }
    return expired + idle;
  }

  /** Adds "N of WHOSE not updated since ..." to the sweep's log line, when N is not 0. */
  private static void describe(StringBuilder out, long n, String whose, Duration maxIdle, Instant cutoff) {
    if (n == 0) {
      return;
    }
    out.append(out.length() == 0 ? "" : "; ").append(n).append(" of ").append(whose).append(" not updated since ")
        .append(cutoff).append(" (max_idle ").append(maxIdle).append(')');
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
