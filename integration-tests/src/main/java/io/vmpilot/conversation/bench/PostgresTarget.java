package io.vmpilot.conversation.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Issue 19's target: W1 (and W1-1rpc) through one server on PostgreSQL over pgbench running the server's SQL and
 * values per turn on the same cluster in the same round ({@link PgbenchTurn}), at least 0.8x; with PostgreSQL's CPU
 * per turn under each, which says whether the two sides gave PostgreSQL the same work.
 */
final class PostgresTarget {
  static final double TARGET = 0.8;

  private PostgresTarget() {}

  /**
   * One line per pgbench row among {@code medians} whose server row ran too: the medians' ratio, each round's (from
   * {@code all}), and PostgreSQL's CPU per turn on each side.
   */
  static List<String> lines(List<Result> all, List<Result> medians) {
    List<String> lines = new ArrayList<>();
    for (Result sql : medians) {
      String workload = serverWorkload(sql.workload());
      if (workload == null) {
        continue;
      }
      int slash = sql.durability().indexOf('/');
      String suffix = slash < 0 ? "" : sql.durability().substring(slash);
      String connections = sql.durability().startsWith("pool")
          ? " on " + sql.clients() + " connections (the server's pool)" : "";
      Result server = find(medians, workload, "1srv" + suffix, null);
      if (server == null || sql.opsPerSecond() <= 0) {
        continue;
      }
      StringBuilder rounds = new StringBuilder();
      for (Result r : all) {
        if (r.workload().equals(sql.workload()) && r.durability().equals(sql.durability())) {
          Result s = find(all, workload, "1srv" + suffix, r.round());
          if (s != null && r.opsPerSecond() > 0) {
            rounds.append(String.format(Locale.ROOT, " %.2fx", s.opsPerSecond() / r.opsPerSecond()));
          }
        }
      }
      lines.add(String.format(Locale.ROOT, "Target (issue 19): %s%s through one server on PostgreSQL / pgbench with"
          + " the same SQL%s: %.0f / %.0f turns/s = %.2fx (at least %.1fx; by round:%s); PostgreSQL CPU per turn %s ms"
          + " under the server (which adds %s ms), %s ms under pgbench (which adds %s ms)", workload, suffix, connections,
          server.opsPerSecond(), sql.opsPerSecond(), server.opsPerSecond() / sql.opsPerSecond(), TARGET, rounds,
          ms(server.databaseCpuMsPerOp()), ms(server.serverCpuMsPerOp()), ms(sql.serverCpuMsPerOp()),
          ms(sql.machine() == null ? null : sql.machine().clientCpuMsPerOp())));
    }
    return lines;
  }

  /** W1 for W1-pgbench, W1-1rpc for W1-1rpc-pgbench, null for any other row. */
  static String serverWorkload(String pgbenchRow) {
    for (PgbenchTurn.Script script : PgbenchTurn.Script.values()) {
      if (script.row().equals(pgbenchRow)) {
        return script.workload;
      }
    }
    return null;
  }

  private static Result find(List<Result> rows, String workload, String durability, Integer round) {
    for (Result r : rows) {
      if (r.workload().equals(workload) && r.backend().equals("postgres") && r.durability().equals(durability)
          && (round == null || r.round() == round)) {
        return r;
      }
    }
    return null;
  }

  private static String ms(Double value) {
    return value == null || value.isNaN() ? "-" : String.format(Locale.ROOT, "%.3f", value);
  }
}
