package io.vmpilot.conversation.bench;

/**
 * The readings of Linux's {@code /proc/<pid>/stat}, {@code /proc/<pid>/task/<tid>/stat} and {@code /proc/<pid>/io}
 * the benchmark (and ThreadPriorityIT) make.
 */
public final class ProcStat {
  private ProcStat() {}

  /** User + system CPU of a stat line, in ms (clock ticks of 10 ms, USER_HZ = 100). */
  static long cpuMillis(String stat) {
    String[] f = fieldsAfterName(stat);
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
  }

  /**
   * User + system CPU of a stat line and of the children the process has waited for (cutime, cstime), in ms: a
   * program run and reaped by the process is counted here once it ended.
   */
  static long cpuMillisWithChildren(String stat) {
    String[] f = fieldsAfterName(stat);
    return (Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14])) * 10;
  }

  /** The command name of a stat line: a thread's name (at most 15 bytes), between the first '(' and the last ')'. */
  public static String name(String stat) {
    return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  }

  /** The nice value of a stat line (19 the lowest priority, 0 the normal one). */
  public static int nice(String stat) {
    return Integer.parseInt(fieldsAfterName(stat)[16]);
  }

  /** The parent's process id in a stat line. */
  static long parentPid(String stat) {
    return Long.parseLong(fieldsAfterName(stat)[1]);
  }

  /**
   * {@code write_bytes} of a {@code /proc/<pid>/io} text: the bytes the process caused to be sent to storage
   * (counted when it dirtied the pages; its reaped children's included), or null when the line is missing.
   */
  static Long writeBytes(String io) {
    for (String line : io.split("\n")) {
      if (line.startsWith("write_bytes:")) {
        return Long.parseLong(line.substring("write_bytes:".length()).strip());
      }
    }
    return null;
  }

  private static String[] fieldsAfterName(String stat) {
    // The command name in parentheses may hold spaces; the fields counted here come after it (state is f[0]).
    return stat.substring(stat.lastIndexOf(')') + 2).strip().split(" ");
  }
}
