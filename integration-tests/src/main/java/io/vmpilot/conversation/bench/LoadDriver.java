package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.bench.ServerUnderTest.StoreCounters;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Drives one server: warms it up, then measures workloads on it one after the other, each into a {@link Result}
 * labelled with the round, backend and durability given here.
 */
final class LoadDriver {
  /** How long each step of the server warm-up runs turns, then reads (shorter if the whole warm-up is). */
  private static final Duration WARM_UP_STEP = Duration.ofSeconds(5);
  /** The share of one CPU under which the server's JIT compiler counts as done with the workloads' code. */
  private static final double JIT_QUIET_SHARE = 0.05;
  /** Setups write whole conversations (W4 pre-fills 10,000 messages each): they get their own deadline. */
  private static final long SETUP_DEADLINE_MINUTES = 10;
  /** The server refreshes its store counters at most every 500 ms; a reading waits this long to be current. */
  private static final long COUNTER_REFRESH_MILLIS = 600;

  private final ServerUnderTest server;
  private final ConversationServiceBlockingStub[] stubs;
  private final int round;
  private final String backend;
  private final String durability;

  /** {@code stubs}: one per client, for the workload with the most clients. */
  LoadDriver(ServerUnderTest server, ConversationServiceBlockingStub[] stubs, int round, String backend,
      String durability) {
    this.server = server;
    this.stubs = stubs;
    this.round = round;
    this.backend = backend;
    this.durability = durability;
  }

  /**
   * A fresh JVM runs interpreted, then compiles what is hot. On two cores the compiler competes with the load for
   * CPU and can still be at it long after a fixed warm-up (measured: a C2 compiler thread took a quarter of the
   * machine during SQLite's W1, 10 s after the start, and far less during the memory backend's), so a fixed
   * warm-up favours the backend with less code to compile. This runs W1 turns and W3 reads in steps for at least
   * {@code least} and then, when the server's process id is known, on until its compiler threads used less than
   * {@link #JIT_QUIET_SHARE} of one CPU in a step, for at most {@code most}. The turns' conversations are cleared
   * after each step, so that the memory backend's heap does not fill up with warm-up data.
   */
  void warmUp(Workloads workloads, Duration least, Duration most) throws InterruptedException {
    String label = "server warm-up (" + Result.backendLabel(backend, durability) + ")";
    // As many clients as the workloads use: with fewer, W1 (the first workload) still ran at half the speed the
    // same turn reached minutes later (memory backend, 2 cores).
    AgentTurn turns = workloads.warmUpTurns();
    Workload reads = workloads.warmUpReads();
    reads.setup(setupStub());
    Long compilerBefore = server.compilerCpuMillis();
    boolean untilQuiet = compilerBefore != null && most.compareTo(least) > 0;
    System.out.printf("%s: W1 turns and W3 reads for %d s%s%n", label, least.toSeconds(), untilQuiet
        ? String.format(Locale.ROOT, ", then on until the JIT compiler is quiet (at most %d s)", most.toSeconds())
        : "");
    Duration halfStep = (least.compareTo(WARM_UP_STEP) < 0 ? least : WARM_UP_STEP).dividedBy(2);
    long start = System.nanoTime();
    long stepStart = start;
    while (true) {
      ClosedLoop.run(label + " turns", turns, stubs, halfStep, Long.MAX_VALUE, null);
      turns.clear(stubs[0]);
      ClosedLoop.run(label + " reads", reads, stubs, halfStep, Long.MAX_VALUE, null);
      Long compilerAfter = server.compilerCpuMillis();
      long stepEnd = System.nanoTime();
      Duration elapsed = Duration.ofNanos(stepEnd - start);
      Double compilerShare = compilerBefore == null || compilerAfter == null ? null
          : (compilerAfter - compilerBefore) / ((stepEnd - stepStart) / 1e6);
      compilerBefore = compilerAfter; // one step's end is the next one's start
      stepStart = stepEnd;
      if (compilerShare != null) {
        System.out.printf(Locale.ROOT, "%s: %d s, JIT compiler threads at %.0f%% of a CPU in the last step%n", label,
            elapsed.toSeconds(), 100 * compilerShare);
      }
      boolean quiet = !untilQuiet || compilerShare == null || compilerShare < JIT_QUIET_SHARE;
      if (elapsed.compareTo(least) >= 0 && (quiet || elapsed.compareTo(most) >= 0)) {
        return;
      }
    }
  }

  /**
   * Sets {@code w} up, runs it unmeasured for {@code warm}, then measured for {@code length} (or {@code maxOps}
   * ops), reading the server's counters, CPU and memory around the measured phase.
   */
  Result measure(Workload w, Duration length, Duration warm, long maxOps) throws InterruptedException {
    String label = w.name + " " + Result.backendLabel(backend, durability) + " c=" + w.clients;
    System.out.printf("%s: setting up%n", label);
    w.setup(setupStub());
    server.resetPeakRss();
    if (!warm.isZero()) {
      System.out.printf("%s: warming up for %d ms%n", label, warm.toMillis());
      ClosedLoop.run(label + " warm-up", w, stubs, warm, Long.MAX_VALUE, null);
    }
    w.startMeasuring();
    Thread.sleep(COUNTER_REFRESH_MILLIS);
    StoreCounters before = server.storeCounters();
    Long cpuBefore = server.cpuMillis();
    ProcessTree.Sample sideBefore = server.serverSide();
    ProcessTree.Sample databaseBefore = server.database();
    MachineCpu.Sample machineBefore = MachineCpu.sample();
    Histogram histogram = ClosedLoop.latencyHistogram();
    ClosedLoop.Outcome outcome = ClosedLoop.run(label, w, stubs, length, maxOps, histogram);
    MachineCpu.Sample machineAfter = MachineCpu.sample();
    Long cpuAfter = server.cpuMillis();
    ProcessTree.Sample sideAfter = server.serverSide();
    ProcessTree.Sample databaseAfter = server.database();
    Thread.sleep(COUNTER_REFRESH_MILLIS);
    StoreCounters after = server.storeCounters();
    w.finish();
    Long rss = server.peakRssKb();

    long ops = histogram.getTotalCount();
    double seconds = outcome.nanos() / 1e9;
    Double writesPerSync = null;
    Double bytesPerOp = null;
    if (before != null && after != null && ops > 0) {
      long writes = after.writes() - before.writes();
      long syncs = after.syncs() - before.syncs();
      writesPerSync = syncs > 0 ? (double) writes / syncs : null;
      // Bytes written only mean something for a store that writes (and for workloads that write).
      bytesPerOp = backend.equals("memory") || writes == 0 ? null : (double) (after.bytes() - before.bytes()) / ops;
    }
    Double requestBytesPerOp = ops > 0 && w.requestBytes.sum() > 0 ? (double) w.requestBytes.sum() / ops : null;
    Double cpuPerOp = cpuBefore == null || cpuAfter == null || ops == 0 ? null : (double) (cpuAfter - cpuBefore) / ops;
    Double diskBytes = sideAfter == null || ops == 0 ? null : sideAfter.writeBytesSince(sideBefore);
    Double databaseCpu = databaseAfter == null || ops == 0 ? null : databaseAfter.cpuMillisSince(databaseBefore);
    Result r = new Result(round, w.name, backend, durability, w.clients, ops, seconds, ops / seconds,
        histogram.getValueAtPercentile(50) / 1e6, histogram.getValueAtPercentile(99) / 1e6,
        histogram.getMaxValue() / 1e6, rss, cpuPerOp, writesPerSync, bytesPerOp, requestBytesPerOp, w.retries.sum(),
        outcome.errors(), outcome.firstError(), w.note, MachineCpu.between(machineBefore, machineAfter, ops),
        diskBytes == null ? null : diskBytes / ops, databaseCpu == null ? null : databaseCpu / ops);
    r = w.complete(r);
    System.out.printf(Locale.ROOT, "%s: %d ops in %.1f s = %.0f ops/s, p50 %.2f ms, p99 %.2f ms%s%s%n", label, ops,
        seconds, r.opsPerSecond(), r.p50Ms(), r.p99Ms(),
        writesPerSync == null ? "" : String.format(Locale.ROOT, ", %.1f writes/sync", writesPerSync),
        outcome.errors() == 0 ? "" : ", " + outcome.errors() + " errors (first: " + outcome.firstError() + ")");
    return r;
  }

  private ConversationServiceBlockingStub setupStub() {
    return stubs[0].withDeadlineAfter(SETUP_DEADLINE_MINUTES, TimeUnit.MINUTES);
  }
}
