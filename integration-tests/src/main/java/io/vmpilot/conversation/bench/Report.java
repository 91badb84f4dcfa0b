package io.vmpilot.conversation.bench;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** What a run prints and writes: the table, the figures issue 4's targets are judged by, and the JSON. */
final class Report {
  private Report() {}

  static void printTable(List<Result> rows) {
    String header = String.format("%-13s %-8s %-6s %4s %8s %8s %8s %8s %8s %11s %9s %5s %6s  %s", "workload",
        "backend", "durab.", "cl.", "ops/s", "p50 ms", "p99 ms", "RSS MiB", "CPU ms/op", "writes/sync", "KB wr./op",
        "idle%", "steal%", "notes");
    System.out.println();
    System.out.println(header);
    System.out.println("-".repeat(header.length() + 20));
    for (Result r : rows) {
      String notes = r.note();
      if (r.errors() > 0) {
        notes = (notes.isEmpty() ? "" : notes + "; ") + r.errors() + " errors: " + r.firstError();
      }
      MachineCpu.Use machine = r.machine() == null ? MachineCpu.Use.UNKNOWN : r.machine();
      System.out.println(String.format(Locale.ROOT,
          "%-13s %-8s %-6s %4d %8.0f %8.2f %8.2f %8s %8s %11s %9s %5s %6s  %s",
          r.workload(), r.backend(), r.durability(), r.clients(), r.opsPerSecond(), r.p50Ms(), r.p99Ms(),
          orDash(r.peakRssKb() == null ? null : r.peakRssKb() / 1024.0, "%.0f"),
          orDash(r.serverCpuMsPerOp(), "%.2f"),
          orDash(r.writesPerSync(), "%.1f"),
          orDash(r.bytesWrittenPerOp() == null ? null : r.bytesWrittenPerOp() / 1024, "%.1f"),
          orDash(machine.idlePercent(), "%.0f"),
          orDash(machine.stealPercent(), "%.0f"),
          notes));
    }
    System.out.println();
  }

  private static String orDash(Double value, String format) {
    return value == null ? "-" : String.format(Locale.ROOT, format, value);
  }

  /**
   * The figures issue 4's targets are judged by: W1 with SQLite durability=full over W1 with the memory backend,
   * of the medians and of each round (whose backends ran minutes apart), and the most the machine's CPU allows it
   * to be; and W4's growth, a turn on a 10,000-message conversation against one on a 10-message conversation.
   */
  static void printTargets(List<Result> all, List<Result> medians, int rounds) {
    List<Double> perRound = new ArrayList<>();
    for (int r = 1; r <= rounds; r++) {
      Double ratio = Medians.ratio(all, r, "W1");
      if (ratio != null) {
        perRound.add(ratio);
      }
    }
    Double median = Medians.ratio(medians, null, "W1");
    if (median != null) {
      System.out.printf(Locale.ROOT, "W1 sqlite/full vs memory: %.2fx (medians)%s%n%n", median,
          rounds == 1 ? "" : ", by round: " + perRound.stream().map(x -> String.format(Locale.ROOT, "%.2fx", x))
              .collect(Collectors.joining(" ")));
    }
    Medians.CpuBound bound = Medians.cpuBound(medians, "W1");
    if (bound != null) {
      System.out.printf(Locale.ROOT, "W1 CPU per turn, server and benchmark: memory %.3f ms, sqlite/full %.3f ms: at"
          + " most %.2fx with no core idle%n%n", bound.memoryMsPerOp(), bound.sqliteMsPerOp(), bound.bestRatio());
    }
    for (Medians.Growth g : Medians.growth(medians, "W4-10", "W4-10000")) {
      System.out.printf(Locale.ROOT, "W4 %s: a turn on 10,000 messages costs %.2fx (p50) and %.2fx (ops/s) one on"
          + " 10%s%n", Result.backendLabel(g.backend(), g.durability()), g.p50Ratio(), g.opsRatio(),
          rounds == 1 ? "" : " (medians)");
    }
    scaleLines(medians).forEach(System.out::println);
  }

  /**
   * W6's question (issue 23): does creating a conversation cost more when the tenant has many? For each backend, its
   * last W6 row (the largest size, by --scale-sizes' order) against its first: creations/s, creation p50, the
   * bystander's Append p50 and the server's CPU per creation.
   */
  static List<String> scaleLines(List<Result> medians) {
    Map<String, List<Result>> byBackend = new LinkedHashMap<>();
    for (Result r : medians) {
      if (r.workload().startsWith("W6-")) {
        byBackend.computeIfAbsent(Result.backendLabel(r.backend(), r.durability()), k -> new ArrayList<>()).add(r);
      }
    }
    List<String> lines = new ArrayList<>();
    byBackend.forEach((label, rows) -> {
      if (rows.size() < 2) {
        return;
      }
      Result small = rows.get(0);
      Result large = rows.get(rows.size() - 1);
      lines.add(String.format(Locale.ROOT, "W6 %s: %s vs %s: creations/s %.0f vs %.0f (%.2fx), creation p50 %.2f vs"
          + " %.2f ms (%.2fx), bystander Append p50 %s vs %s ms, server CPU per creation %s vs %s ms", label,
          large.workload(), small.workload(), large.opsPerSecond(), small.opsPerSecond(),
          small.opsPerSecond() == 0 ? Double.NaN : large.opsPerSecond() / small.opsPerSecond(), large.p50Ms(),
          small.p50Ms(), small.p50Ms() == 0 ? Double.NaN : large.p50Ms() / small.p50Ms(),
          orDash(large.bystanderP50Ms(), "%.2f"), orDash(small.bystanderP50Ms(), "%.2f"),
          orDash(large.serverCpuMsPerOp(), "%.3f"), orDash(small.serverCpuMsPerOp(), "%.3f")));
    });
    return lines;
  }

  /**
   * Writes the run as JSON: the machine (with the disk's sync latency where it was measured, else null), the
   * {@code settings}, "results" (one row per workload and backend, the median round) and "rounds" (every round's
   * rows).
   */
  static void writeJson(Path json, DiskSyncProbe.Latency diskSync, Map<String, Object> settings,
      List<Result> medians, List<Result> all) throws IOException {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("time", Instant.now().toString());
    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("cpus", Runtime.getRuntime().availableProcessors());
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    machine.put("java", System.getProperty("java.version"));
    machine.put("diskSync", diskSync);
    doc.put("machine", machine);
    doc.put("settings", settings);
    doc.put("results", medians);
    doc.put("rounds", all);
    Files.writeString(json, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create()
        .toJson(doc) + "\n");
    System.out.println("bench: results written to " + json.toAbsolutePath());
  }
}
