package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Runs a workload in a closed loop: each client on a thread of its own sends its next op as soon as the last one
 * is answered, as agents do, until the time is up or the op limit is reached.
 */
final class ClosedLoop {
  /** Deadline of one op; it also bounds how long a phase can outlast its time. */
  static final Duration OP_DEADLINE = Duration.ofSeconds(60);
  /** Failed ops after which a phase gives up: something is badly wrong, and spinning would only hide it. */
  private static final int MAX_ERRORS = 1000;
  private static final long PROGRESS_EVERY_NANOS = TimeUnit.SECONDS.toNanos(2);

  /** How long the phase ran, and its failed ops. */
  record Outcome(long nanos, long errors, String firstError) {}

  private ClosedLoop() {}

  /** A histogram for op latencies in nanoseconds, up to two minutes. */
  static Histogram latencyHistogram() {
    return new Histogram(TimeUnit.MINUTES.toNanos(2), 3);
  }

  /**
   * Runs {@code w} with its clients, client {@code c} on {@code stubs[c]}, until {@code length} has passed or
   * {@code opLimit} ops are done, recording each op's latency into {@code histogram} (when given). Prints progress
   * every 2 s.
   */
  static Outcome run(String label, Workload w, ConversationServiceBlockingStub[] stubs, Duration length,
      long opLimit, Histogram histogram) throws InterruptedException {
    long start = System.nanoTime();
    long end = start + length.toNanos();
    LongAdder done = new LongAdder();
    LongAdder errors = new LongAdder();
    AtomicReference<String> firstError = new AtomicReference<>();
    long perClient = Math.max(1, opLimit / w.clients);
    // One histogram per client, merged at the end: recording into a shared one would make the clients contend.
    Histogram[] histograms = new Histogram[w.clients];
    CountDownLatch finished = new CountDownLatch(w.clients);
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < w.clients; c++) {
      int client = c;
      Histogram h = histogram == null || !w.timed(c) ? null : latencyHistogram();
      histograms[c] = h;
      Thread t = new Thread(() -> {
        try {
          ConversationServiceBlockingStub stub = stubs[client];
          long pauseNanos = w.pause.toNanos();
          for (long n = 0; n < perClient && System.nanoTime() < end; n++) {
            if (pauseNanos > 0) {
              // The think time of the pause workload (not a synchronisation): untimed, before each op.
              Thread.sleep(pauseNanos / 1_000_000, (int) (pauseNanos % 1_000_000));
            }
            long t0 = System.nanoTime();
            try {
              w.op(client, stub.withDeadlineAfter(OP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
            } catch (RuntimeException e) {
              errors.increment();
              firstError.compareAndSet(null, e.toString());
              if (errors.sum() > MAX_ERRORS) {
                return;
              }
              continue;
            }
            long took = System.nanoTime() - t0;
            if (h != null) {
              h.recordValue(Math.min(took, h.getHighestTrackableValue()));
            }
            if (w.timed(client)) {
              done.increment();
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          finished.countDown();
        }
      }, "bench-client-" + c);
      t.setDaemon(true);
      threads.add(t);
    }
    threads.forEach(Thread::start);
    long lastPrint = start;
    while (!finished.await(200, TimeUnit.MILLISECONDS)) {
      long now = System.nanoTime();
      if (now - lastPrint >= PROGRESS_EVERY_NANOS) {
        lastPrint = now;
        double s = (now - start) / 1e9;
        System.out.printf(Locale.ROOT, "  %s: %.0f s, %d ops (%.0f ops/s)%s%n", label, s, done.sum(),
            done.sum() / s, errors.sum() == 0 ? "" : ", " + errors.sum() + " errors");
      }
    }
    long nanos = System.nanoTime() - start;
    if (histogram != null) {
      for (Histogram h : histograms) {
        if (h != null) {
          histogram.add(h);
        }
      }
    }
    return new Outcome(nanos, errors.sum(), firstError.get());
  }
}
