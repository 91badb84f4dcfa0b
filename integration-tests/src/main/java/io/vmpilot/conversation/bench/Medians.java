package io.vmpilot.conversation.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** Picks, for each workload and backend, the round whose ops/s is the median, so one lucky run decides nothing. */
final class Medians {
  private Medians() {}

  /**
   * One row per workload, backend and durability, in first-run order: the median round by ops/s (the lower middle
   * one for an even count), noted with the range of all rounds when there was more than one.
   */
  static List<Result> of(List<Result> all) {
    Map<String, List<Result>> byRow = new LinkedHashMap<>();
    for (Result r : all) {
      byRow.computeIfAbsent(r.workload() + "|" + r.backend() + "|" + r.durability(), k -> new ArrayList<>()).add(r);
    }
    List<Result> medians = new ArrayList<>();
    for (List<Result> rounds : byRow.values()) {
      List<Result> sorted = new ArrayList<>(rounds);
      sorted.sort(Comparator.comparingDouble(Result::opsPerSecond));
      Result m = sorted.get((sorted.size() - 1) / 2);
      if (sorted.size() > 1) {
        String range = String.format(Locale.ROOT, "median of %d rounds (%.0f-%.0f ops/s)", sorted.size(),
            sorted.get(0).opsPerSecond(), sorted.get(sorted.size() - 1).opsPerSecond());
        m = m.withNote(m.note().isEmpty() ? range : m.note() + "; " + range);
      }
      medians.add(m);
    }
    return medians;
  }

  /**
   * {@code workload}'s ops/s with SQLite durability=full over its ops/s with the memory backend, among the rows of
   * {@code round} (any round when null), or null when either is missing.
   */
  static Double ratio(List<Result> rows, Integer round, String workload) {
    Pair ops = memoryAndSqliteFull(rows, round, workload, Result::opsPerSecond);
    return ops == null || ops.memory() == 0 ? null : ops.sqlite() / ops.memory();
  }

  /**
   * What one op of {@code workload} costs the whole machine in CPU (the server's and the benchmark's own, in ms)
   * with the memory backend and with SQLite durability=full, and the best ratio of their ops/s that the machine's
   * cores allow, reached only if none of them ever sat idle: memory's cost over SQLite's.
   */
  record CpuBound(double memoryMsPerOp, double sqliteMsPerOp, double bestRatio) {}

  /** The CPU bound of {@code workload} among {@code rows}, or null when a CPU figure of either backend is unknown. */
  static CpuBound cpuBound(List<Result> rows, String workload) {
    Pair cost = memoryAndSqliteFull(rows, null, workload, r -> r.serverCpuMsPerOp() == null || r.machine() == null
        || r.machine().clientCpuMsPerOp() == null ? null : r.serverCpuMsPerOp() + r.machine().clientCpuMsPerOp());
    return cost == null || cost.sqlite() == 0 ? null
        : new CpuBound(cost.memory(), cost.sqlite(), cost.memory() / cost.sqlite());
  }

  /** A figure of the memory backend's row and of SQLite durability=full's. */
  private record Pair(double memory, double sqlite) {}

  /**
   * {@code value} of {@code workload}'s memory row and SQLite durability=full row among {@code rows} of {@code round}
   * (any round when null), or null when either row or its value is missing.
   */
  private static Pair memoryAndSqliteFull(List<Result> rows, Integer round, String workload,
      Function<Result, Double> value) {
    Double memory = null;
    Double sqlite = null;
    for (Result r : rows) {
      if (!r.workload().equals(workload) || (round != null && r.round() != round)) {
        continue;
      }
      if (r.backend().equals("sqlite") && r.durability().equals("full")) {
        sqlite = value.apply(r);
      } else if (r.backend().equals("memory")) {
        memory = value.apply(r);
      }
    }
    return memory == null || sqlite == null ? null : new Pair(memory, sqlite);
  }

  /**
   * What a turn on a long conversation costs against one on a short conversation (issue 4's W4 target: at most
   * 1.3x), by p50 latency and by ops/s, for each backend and durability that ran both rows.
   */
  record Growth(String backend, String durability, double p50Ratio, double opsRatio) {}

  static List<Growth> growth(List<Result> rows, String shortRow, String longRow) {
    Map<String, Result> shorts = new LinkedHashMap<>();
    Map<String, Result> longs = new LinkedHashMap<>();
    for (Result r : rows) {
      String key = r.backend() + "|" + r.durability();
      if (r.workload().equals(shortRow)) {
        shorts.put(key, r);
      } else if (r.workload().equals(longRow)) {
        longs.put(key, r);
      }
    }
    List<Growth> growth = new ArrayList<>();
    shorts.forEach((key, s) -> {
      Result l = longs.get(key);
      if (l != null && s.p50Ms() > 0 && l.opsPerSecond() > 0) {
        growth.add(new Growth(s.backend(), s.durability(), l.p50Ms() / s.p50Ms(), s.opsPerSecond() / l.opsPerSecond()));
      }
    });
    return growth;
  }
}
