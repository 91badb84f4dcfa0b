package io.vmpilot.conversation.bench;

/** The one reading of Linux's {@code /proc/<pid>/stat} and {@code /proc/<pid>/task/<tid>/stat} the benchmark makes. */
final class ProcStat {
  private ProcStat() {}

  /** User + system CPU of a stat line, in ms (clock ticks of 10 ms, USER_HZ = 100). */
  static long cpuMillis(String stat) {
    // The command name in parentheses may hold spaces; the fields counted here come after it.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
  }
}
