package io.vmpilot.conversation.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tables of issue 25: this server's W1 against its peers (etcd, pgbench, the Python stores), the server's own
 * CPU per W1 turn with the cores pinned, and a turn after a pause against one back to back.
 */
final class PeerReport {
  private PeerReport() {}

  /** The rows of the peer table among {@code medians}: this server's W1 rows, then the peers' rows. */
  static List<Result> peerRows(List<Result> medians) {
    List<Result> rows = new ArrayList<>();
    for (Result r : medians) {
      boolean server = r.workload().equals("W1") || r.workload().equals("W1-1rpc");
      boolean peer = PostgresTarget.serverWorkload(r.workload()) != null || r.workload().equals("W1-etcd")
          || r.workload().startsWith("grow-");
      if (server || peer) {
        rows.add(r);
      }
    }
    return rows;
  }

  /** One line of the peer table. */
  static String peerLine(Result r) {
    Double client = r.machine() == null ? null : r.machine().clientCpuMsPerOp();
    Double server = r.serverCpuMsPerOp();
    if (r.databaseCpuMsPerOp() != null && server != null) {
      server += r.databaseCpuMsPerOp();
    }
    String system = r.workload().startsWith("grow-") ? r.backend() + " @" + r.workload().substring(5) + " msgs"
        : r.workload().equals("W1") ? "server " + Result.backendLabel(r.backend(), r.durability())
        : r.workload().equals("W1-1rpc") ? "server 1rpc " + Result.backendLabel(r.backend(), r.durability())
        : PostgresTarget.serverWorkload(r.workload()) != null ? pgbenchLabel(r)
        : r.workload().substring(3);
    return String.format(Locale.ROOT, "%-24s %4d %9.0f %8s %8s %10s %10s %11s", system, r.clients(),
        r.opsPerSecond(), dash(r.p50Ms(), "%.2f"), dash(r.p99Ms(), "%.2f"), dash(server, "%.3f"),
        dash(client, "%.3f"), dash(r.diskBytesPerOp() == null ? null : r.diskBytesPerOp() / 1024, "%.1f"));
  }

  /**
   * "pgbench", "pgbench 1rpc", "pgbench pool", "pgbench/noindex": the server's SQL per W1 or W1-1rpc turn, with the
   * benchmark's clients or the server's pool as connections, per variant.
   */
  private static String pgbenchLabel(Result r) {
    String d = r.durability();
    int slash = d.indexOf('/');
    return "pgbench" + (r.workload().equals("W1-pgbench") ? "" : " 1rpc") + (d.startsWith("pool") ? " pool" : "")
        + (slash < 0 ? "" : d.substring(slash));
  }

  static void printPeers(List<Result> medians) {
    List<Result> rows = peerRows(medians);
    if (rows.stream().allMatch(r -> r.workload().equals("W1") || r.workload().equals("W1-1rpc"))) {
      // No peer ran: the targets this run can judge still get their lines (scripts/bench-peers' W4 run).
      List<String> targets = targetLines(medians);
      if (!targets.isEmpty()) {
        targets.forEach(System.out::println);
        System.out.println();
      }
      return;
    }
    String header = String.format("%-24s %4s %9s %8s %8s %10s %10s %11s", "system", "cl.", "turns/s", "p50 ms",
        "p99 ms", "srv CPU ms", "cli CPU ms", "KB wr./turn");
    System.out.println("Peers (server side's CPU per turn: the server plus its database; Python stores in-process):");
    System.out.println(header);
    System.out.println("-".repeat(header.length()));
    rows.forEach(r -> System.out.println(peerLine(r)));
    targetLines(medians).forEach(System.out::println);
    System.out.println();
  }

  /**
   * Issue 25's targets that this table judges: SQLite {@code full} turns in one call per second over etcd's puts
   * (at least 1.5x), LangGraph's cost per turn at its largest size over the server's (at least 100x, CPU and
   * bytes written), and what a W4 turn on SQLite {@code full} costs on a 10,000-message conversation against one
   * on a 10-message conversation (at most 1.1x; by p50, by turns/s and by the server's CPU per turn).
   */
  static List<String> targetLines(List<Result> medians) {
    Result turn = find(medians, "W1-1rpc", "sqlite", "full");
    Result etcd = find(medians, "W1-etcd", null, null);
    List<String> lines = new ArrayList<>();
    if (turn != null && etcd != null && etcd.opsPerSecond() > 0) {
      lines.add(String.format(Locale.ROOT, "Target: SQLite full turns in one call / etcd puts: %.0f / %.0f = %.2fx"
          + " (at least 1.5x)", turn.opsPerSecond(), etcd.opsPerSecond(), turn.opsPerSecond() / etcd.opsPerSecond()));
    }
    Result graph = null;
    for (Result r : medians) {
      if (r.workload().startsWith("grow-") && r.backend().equals("langgraph")
          && (graph == null || sizeOf(r) > sizeOf(graph))) {
        graph = r;
      }
    }
    if (turn != null && graph != null && turn.serverCpuMsPerOp() != null && graph.serverCpuMsPerOp() != null
        && turn.diskBytesPerOp() != null && graph.diskBytesPerOp() != null && turn.serverCpuMsPerOp() > 0
        && turn.diskBytesPerOp() > 0) {
      lines.add(String.format(Locale.ROOT, "Target: LangGraph at %d messages / SQLite full turn in one call: CPU"
          + " %.0fx, bytes written %.0fx (at least 100x)", sizeOf(graph),
          graph.serverCpuMsPerOp() / turn.serverCpuMsPerOp(), graph.diskBytesPerOp() / turn.diskBytesPerOp()));
    }
    String growth = w4Line(find(medians, "W4-10", "sqlite", "full"), find(medians, "W4-10000", "sqlite", "full"));
    if (growth != null) {
      lines.add(growth);
    }
    return lines;
  }

  /** The W4 target's line, or null without both rows (or with a zero figure to divide by). */
  private static String w4Line(Result small, Result large) {
    if (small == null || large == null || small.p50Ms() <= 0 || large.opsPerSecond() <= 0) {
      return null;
    }
    String cpu = small.serverCpuMsPerOp() == null || large.serverCpuMsPerOp() == null || small.serverCpuMsPerOp() <= 0
        ? "" : String.format(Locale.ROOT, ", server CPU per turn %.3f / %.3f ms = %.2fx", large.serverCpuMsPerOp(),
            small.serverCpuMsPerOp(), large.serverCpuMsPerOp() / small.serverCpuMsPerOp());
    return String.format(Locale.ROOT, "Target: W4 SQLite full, a turn at 10,000 messages / at 10: p50 %.2f / %.2f ms"
        + " = %.2fx, turns/s %.0f / %.0f = %.2fx dearer%s (at most 1.1x)", large.p50Ms(), small.p50Ms(),
        large.p50Ms() / small.p50Ms(), large.opsPerSecond(), small.opsPerSecond(),
        small.opsPerSecond() / large.opsPerSecond(), cpu);
  }

  private static int sizeOf(Result grow) {
    return Integer.parseInt(grow.workload().substring("grow-".length()));
  }

  private static Result find(List<Result> rows, String workload, String backend, String durability) {
    for (Result r : rows) {
      if (r.workload().equals(workload) && (backend == null || r.backend().equals(backend))
          && (durability == null || r.durability().equals(durability))) {
        return r;
      }
    }
    return null;
  }

  /** The server's CPU per W1 turn for each backend, and its ratio to the memory backend's. */
  static void printPinned(List<Result> medians) {
    Double memory = null;
    for (Result r : medians) {
      if (r.workload().equals("W1") && r.backend().equals("memory")) {
        memory = r.serverCpuMsPerOp();
      }
    }
    System.out.println("Pinned cores (server side on core 0, load generator on core 1): server CPU per W1 turn");
    for (Result r : medians) {
      if (!r.workload().equals("W1")) {
        continue;
      }
      Double cpu = r.serverCpuMsPerOp();
      Double idle = r.machine() == null ? null : r.machine().idlePercent();
      System.out.println(String.format(Locale.ROOT, "  %-16s %9.0f turns/s  server %s ms%s  %s x memory  idle %s%%",
          Result.backendLabel(r.backend(), r.durability()), r.opsPerSecond(), dash(cpu, "%.3f"),
          r.databaseCpuMsPerOp() == null ? "" : String.format(Locale.ROOT, " + PostgreSQL %.3f ms",
              r.databaseCpuMsPerOp()),
          cpu == null || memory == null || memory == 0 ? "-" : String.format(Locale.ROOT, "%.2f", cpu / memory),
          dash(idle, "%.0f")));
    }
    System.out.println();
  }

  /** A turn after each pause against the back-to-back turns, per backend (p50 and p99, and the p50 ratio). */
  static void printPauses(List<Result> medians) {
    for (Result b2b : medians) {
      if (!b2b.workload().equals("W1-b2b")) {
        continue;
      }
      String label = Result.backendLabel(b2b.backend(), b2b.durability());
      System.out.printf(Locale.ROOT, "Pause %s c=%d: back to back p50 %.2f ms, p99 %.2f ms", label, b2b.clients(),
          b2b.p50Ms(), b2b.p99Ms());
      for (Result p : medians) {
        if (p.workload().startsWith("W1-pause-") && p.backend().equals(b2b.backend())
            && p.durability().equals(b2b.durability())) {
          System.out.printf(Locale.ROOT, "; after %s: p50 %.2f ms (%.2fx), p99 %.2f ms",
              p.workload().substring("W1-pause-".length()), p.p50Ms(), p.p50Ms() / b2b.p50Ms(), p.p99Ms());
        }
      }
      System.out.println();
    }
  }

  private static String dash(Double value, String format) {
    return value == null || value.isNaN() ? "-" : String.format(Locale.ROOT, format, value);
  }
}
