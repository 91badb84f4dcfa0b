package io.vmpilot.conversation.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A process and its descendants (a PostgreSQL cluster: the postmaster and its backends; etcd; one server), read
 * from Linux's {@code /proc}: their CPU and the bytes they caused to be written, for a peer's or a database's side
 * of a measured phase. The root's figures include the children it has reaped, so that backends that came and went
 * within the phase are counted; children alive at both ends are counted by themselves.
 */
final class ProcessTree {
  private ProcessTree() {}

  /** CPU so far in ms, and bytes written so far (null where unknown, e.g. another user's process without root). */
  record Sample(long cpuMillis, Long writeBytes) {
    /** What was used from {@code before} to this sample; null figures where either is unknown. */
    Double cpuMillisSince(Sample before) {
      return before == null ? null : (double) (cpuMillis - before.cpuMillis);
    }

    Double writeBytesSince(Sample before) {
      return before == null || before.writeBytes == null || writeBytes == null ? null
          : (double) (writeBytes - before.writeBytes);
    }
  }

  /** The tree's figures now, or null when {@code root} is unknown or gone (or this is not Linux). */
  static Sample sample(Long root) {
    if (root == null) {
      return null;
    }
    try {
      long cpu = ProcStat.cpuMillisWithChildren(Files.readString(proc(root, "stat")));
      Long bytes = writeBytes(root);
      for (long child : descendants(root)) {
        try {
          cpu += ProcStat.cpuMillis(Files.readString(proc(child, "stat")));
          Long b = writeBytes(child);
          bytes = bytes == null || b == null ? null : bytes + b;
        } catch (IOException gone) {
          // Ended meanwhile: its figures reach the root when the root reaps it.
        }
      }
      return new Sample(cpu, bytes);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The process ids of {@code root}'s descendants (children, grandchildren, ...), found through their parents. */
  static List<Long> descendants(long root) throws IOException {
    List<long[]> parents = new ArrayList<>(); // {pid, ppid}
    try (var entries = Files.list(Path.of("/proc"))) {
      for (Path p : entries.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          parents.add(new long[] {Long.parseLong(name), ProcStat.parentPid(Files.readString(p.resolve("stat")))});
        } catch (IOException | RuntimeException gone) {
          // Ended while listing.
        }
      }
    }
    List<Long> found = new ArrayList<>();
    List<Long> frontier = new ArrayList<>(List.of(root));
    while (!frontier.isEmpty()) {
      List<Long> next = new ArrayList<>();
      for (long[] pp : parents) {
        if (frontier.contains(pp[1])) {
          next.add(pp[0]);
        }
      }
      found.addAll(next);
      frontier = next;
    }
    return found;
  }

  private static Long writeBytes(long pid) {
    try {
      return ProcStat.writeBytes(Files.readString(proc(pid, "io")));
    } catch (IOException | RuntimeException unreadable) {
      return null;
    }
  }

  private static Path proc(long pid, String file) {
    return Path.of("/proc", Long.toString(pid), file);
  }
}
