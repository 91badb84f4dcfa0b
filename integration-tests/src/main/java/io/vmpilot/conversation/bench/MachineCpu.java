package io.vmpilot.conversation.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's CPU over a measured phase, read from Linux's {@code /proc}: how much of it sat idle (the load left
 * cores unused: the workload waits more than it computes), how much the hypervisor took for other guests (steal: a
 * run on a shared virtual machine to be taken with care), and what the benchmark's own process, the clients, used.
 */
final class MachineCpu {
  private MachineCpu() {}

  /** The counters at one moment; null fields where unknown. */
  record Sample(long[] machineTicks, Long clientMillis) {}

  /**
   * Over a phase: percentages of all cores' time, and the benchmark process's CPU per op in ms (null when
   * unknown).
   */
  record Use(Double idlePercent, Double stealPercent, Double clientCpuMsPerOp) {
    static final Use UNKNOWN = new Use(null, null, null);
  }

  static Sample sample() {
    long[] ticks = null;
    try {
      String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0); // "cpu  user nice system idle iowait ..."
      String[] f = cpu.trim().split("\\s+");
      ticks = new long[f.length - 1];
      for (int i = 1; i < f.length; i++) {
        ticks[i - 1] = Long.parseLong(f[i]);
      }
    } catch (IOException | RuntimeException notLinux) {
      // Unknown: the columns show "-".
    }
    Long self = null;
    try {
      self = ProcStat.cpuMillis(Files.readString(Path.of("/proc/self/stat")));
    } catch (IOException | RuntimeException notLinux) {
      // Unknown as well.
    }
    return new Sample(ticks, self);
  }

  /** What happened between {@code before} and {@code after}, over {@code ops} operations. */
  static Use between(Sample before, Sample after, long ops) {
    Double idle = null;
    Double steal = null;
    long[] a = before.machineTicks();
    long[] b = after.machineTicks();
    if (a != null && b != null && a.length == b.length && a.length >= 8) {
      long total = 0;
      // Guest time is already counted in user and nice: the first eight fields are the whole.
      for (int i = 0; i < 8; i++) {
        total += b[i] - a[i];
      }
      if (total > 0) {
        idle = 100.0 * ((b[3] - a[3]) + (b[4] - a[4])) / total; // idle and iowait
        steal = 100.0 * (b[7] - a[7]) / total;
      }
    }
    Double client = before.clientMillis() == null || after.clientMillis() == null || ops == 0 ? null
        : (double) (after.clientMillis() - before.clientMillis()) / ops;
    return new Use(idle, steal, client);
  }
}
