package io.vmpilot.conversation.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The Python stores agent developers use instead, as peers: LangGraph's SqliteSaver ("langgraph") and LangChain's
 * SQLChatMessageHistory ("langchain"), from PyPI (integration-tests/peers/python/requirements.txt, installed into
 * .tools/venv by scripts/install-tools), driven by {@code bench/peer_stores.py}: one conversation grown by agent
 * turns, measured at the given sizes. The store runs inside the driver's process, so its CPU is the server side's
 * and there is no separate client side. Rows "grow-N": N messages in the conversation when the turns began.
 */
final class PeerPython {
  static final String SCRIPT = "bench/peer_stores.py";
  static final List<String> STORES = List.of("langgraph", "langchain");
  /** The driver's exit code when the store's package cannot be imported. */
  private static final int CANNOT_IMPORT = 3;

  private PeerPython() {}

  /** Why the Python peers cannot run here, or null. */
  static String unavailable() {
    return Files.isExecutable(python()) ? null : python() + " not found (scripts/install-tools makes it)";
  }

  /** The rows of the driver's output lines ({@code #} lines are information and are left out). */
  static List<Result> parse(int round, String output) {
    List<Result> rows = new ArrayList<>();
    for (String line : output.split("\n")) {
      line = line.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      String store = o.get("store").getAsString();
      long turns = o.get("turns").getAsLong();
      Double bytes = o.get("bytesWrittenPerTurn").isJsonNull() ? null : o.get("bytesWrittenPerTurn").getAsDouble();
      rows.add(new Result(round, "grow-" + o.get("messages").getAsLong(), store, durability(store), 1, turns,
          o.get("seconds").getAsDouble(), o.get("turnsPerSecond").getAsDouble(), o.get("p50Ms").getAsDouble(),
          o.get("p99Ms").getAsDouble(), Double.NaN, null, o.get("cpuMsPerTurn").getAsDouble(), null, null, null, 0,
          0, null, description(store), null, bytes, null));
    }
    return rows;
  }

  /** What a store's durability is in this driver. */
  private static String durability(String store) {
    return store.equals("langgraph") ? "sync" : "full";
  }

  private static String description(String store) {
    return store.equals("langgraph") ? "LangGraph SqliteSaver, one-node graph, in-process (CPU: the whole process)"
        : "LangChain SQLChatMessageHistory on SQLite, in-process (CPU: the whole process)";
  }

  /**
   * Runs {@code store}'s driver at {@code sizes} (messages) with {@code turns} measured turns each; returns its
   * rows, or none (with a printed line saying why) when the store's package cannot be imported.
   */
  static List<Result> run(int round, String store, List<Integer> sizes, int turns) throws Exception {
    Path dir = Files.createTempDirectory("bench-" + store);
    try {
      Path script = dir.resolve("peer_stores.py");
      try (InputStream in = PeerPython.class.getClassLoader().getResourceAsStream(SCRIPT)) {
        Files.write(script, in.readAllBytes());
      }
      String at = sizes.stream().map(String::valueOf).collect(Collectors.joining(","));
      System.out.printf("grow %s: one conversation, %d turns measured at %s messages%n", store, turns, at);
      Process p = new ProcessBuilder(python().toString(), script.toString(), "--store", store, "--dir",
          dir.toString(), "--at", at, "--turns", Integer.toString(turns)).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException(store + " driver did not finish:\n" + output);
      }
      if (p.exitValue() == CANNOT_IMPORT) {
        System.out.printf("bench: peer %s skipped: %s%n", store, output.strip());
        return List.of();
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(store + " driver failed:\n" + output);
      }
      output.lines().filter(l -> l.startsWith("#")).forEach(l -> System.out.println("grow " + store + ": " + l));
      List<Result> rows = parse(round, output);
      for (Result r : rows) {
        System.out.printf(Locale.ROOT, "%s %s: %.0f turns/s, p50 %.2f ms, p99 %.2f ms, CPU %.2f ms and %s KB"
            + " written per turn%n", r.workload(), store, r.opsPerSecond(), r.p50Ms(), r.p99Ms(),
            r.serverCpuMsPerOp(), r.diskBytesPerOp() == null ? "?" : String.format(Locale.ROOT, "%.1f",
            r.diskBytesPerOp() / 1024));
      }
      return rows;
    } finally {
      Benchmark.deleteTree(dir);
    }
  }

  private static Path python() {
    return Tools.tool("venv/bin/python");
  }
}
