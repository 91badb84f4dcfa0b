package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Percentage.withPercentage;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vmpilot.conversation.bench.Benchmark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Keeps the benchmark working: a very short run of every workload against SQLite must finish by itself and write
 * a row per workload with operations and store counters. (The figures themselves are not judged here.)
 */
class BenchmarkSmokeIT {
  @TempDir
  Path dir;

  @Test
  void aShortRunOfEveryWorkloadWritesItsTable() throws Exception {
    Path json = dir.resolve("bench.json");
    int exit = new CommandLine(new Benchmark()).execute("--backends", "sqlite", "--durability", "full",
        "--clients", "4", "--duration", "500ms", "--warmup", "0s", "--server-warmup", "0s",
        "--json", json.toString());
    assertThat(exit).isZero();

    JsonArray rows = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("results");
    Map<String, JsonObject> byWorkload = new HashMap<>();
    rows.forEach(r -> byWorkload.put(r.getAsJsonObject().get("workload").getAsString(), r.getAsJsonObject()));
    assertThat(byWorkload).containsKeys("W1", "W1-1rpc", "W2", "W3-get-all", "W3-newest-20", "W4-10", "W4-1000", "W4-10000",
        "W5");
    byWorkload.forEach((name, row) -> assertThat(row.get("ops").getAsLong()).as(name).isPositive());
    assertThat(byWorkload.get("W1").get("writesPerSync").getAsDouble()).isPositive();
    // W1-1rpc sends W1's counters in its Append: the same message bytes written, in one request instead of two.
    assertThat(byWorkload.get("W1-1rpc").get("bytesWrittenPerOp").getAsDouble())
        .isCloseTo(byWorkload.get("W1").get("bytesWrittenPerOp").getAsDouble(), withPercentage(10));
    assertThat(byWorkload.get("W1-1rpc").get("requestBytesPerOp").getAsDouble())
        .isLessThan(byWorkload.get("W1").get("requestBytesPerOp").getAsDouble());
    JsonObject diskSync = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("machine")
        .getAsJsonObject("diskSync");
    assertThat(diskSync.get("directory").getAsString()).isEqualTo(System.getProperty("java.io.tmpdir"));
    assertThat(diskSync.get("p50Ms").getAsDouble()).isPositive();
  }

  /**
   * W6 (issue 23): at 1,000 and 20,000 existing conversations, a row per size and backend on a server of its own,
   * seeded the backend's way (SQLite's file before the server starts, PostgreSQL's tables, the memory backend
   * through the server), with the creations timed, the bystander's Appends apart, and the line comparing sizes.
   */
  @Test
  void creationsAtScaleSeedEachBackendAndReportTheBystander() throws Exception {
    Path json = dir.resolve("w6.json");
    int[] exit = new int[1];
    String output = printedBy(() -> exit[0] = new CommandLine(new Benchmark()).execute("--workloads", "W6",
        "--scale-sizes", "1000,20000", "--backends", "memory,sqlite,postgres", "--durability", "full",
        "--postgres-servers", "1", "--duration", "1s", "--warmup", "0s", "--server-warmup", "0s", "--json",
        json.toString()));
    assertThat(exit[0]).isZero();

    Map<String, JsonObject> rows = new HashMap<>();
    JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("results").forEach(r -> rows.put(
        r.getAsJsonObject().get("workload").getAsString() + " " + r.getAsJsonObject().get("backend").getAsString(),
        r.getAsJsonObject()));
    assertThat(rows).containsOnlyKeys("W6-1k memory", "W6-20k memory", "W6-1k sqlite", "W6-20k sqlite",
        "W6-1k postgres", "W6-20k postgres");
    Map<String, String> seeding = Map.of("memory", "Saves through the server", "sqlite", "JDBC into the file",
        "postgres", "generate_series into the tables");
    rows.forEach((name, row) -> {
      assertThat(row.get("errors").getAsLong()).as("%s: %s", name, row.get("firstError")).isZero();
      assertThat(row.get("ops").getAsLong()).as(name).isPositive();
      assertThat(row.get("clients").getAsInt()).as("8 creators and the bystander").isEqualTo(9);
      assertThat(row.get("serverCpuMsPerOp").getAsDouble()).as(name).isPositive();
      assertThat(row.get("bystanderAppendsPerSecond").getAsDouble()).as(name).isPositive();
      assertThat(row.get("bystanderP99Ms").getAsDouble()).as(name)
          .isGreaterThanOrEqualTo(row.get("bystanderP50Ms").getAsDouble()).isPositive();
      String size = name.startsWith("W6-1k") ? "1,000" : "20,000";
      assertThat(row.get("note").getAsString()).as(name).startsWith(size + " existing (seeded by "
          + seeding.get(row.get("backend").getAsString()) + " in ");
    });
    assertThat(output).containsPattern("W6 sqlite/full: W6-20k vs W6-1k: creations/s \\d+ vs \\d+ \\([\\d.]+x\\),"
        + " creation p50 [\\d.]+ vs [\\d.]+ ms \\([\\d.]+x\\), bystander Append p50 [\\d.]+ vs [\\d.]+ ms, server CPU"
        + " per creation [\\d.]+ vs [\\d.]+ ms")
        .contains("W6 memory: W6-20k vs W6-1k").contains("W6 postgres/1srv: W6-20k vs W6-1k");
  }

  /** scripts/bench-ghz: a short round against each backend, a row each, and the ratio of their Appends/s. */
  @Test
  void benchGhzRunsTheReadmesGhzCommandAgainstBothBackends() throws Exception {
    ExternalCommand r = ExternalCommand.run(3, "env", "GHZ_WARMUP=1s", "scripts/bench-ghz", "1", "1s");
    assertThat(r.exitCode()).as(r.output()).isZero();
    String row = " round 1: +(\\d+) Appends/s +p50 +[\\d.]+ ms +p99 +[\\d.]+ ms +CPU per call: server \\d+\\.\\d{3} ms,"
        + " ghz \\d+\\.\\d{3} ms";
    long memory = firstNumber(r.output(), "memory " + row);
    long sqlite = firstNumber(r.output(), "sqlite " + row);
    assertThat(memory).isPositive();
    assertThat(sqlite).isPositive();
    Matcher ratio = Pattern.compile("ghz Append, medians of 1 round\\(s\\): memory (\\d+), sqlite/full (\\d+)"
        + " Appends/s: (\\d+\\.\\d\\d)x").matcher(r.output());
    assertThat(ratio.find()).as(r.output()).isTrue();
    assertThat(Long.parseLong(ratio.group(1))).isEqualTo(memory);
    assertThat(Long.parseLong(ratio.group(2))).isEqualTo(sqlite);
    assertThat(Double.parseDouble(ratio.group(3))).isCloseTo((double) sqlite / memory, within(0.006));
  }

  /**
   * scripts/bench-peers, short (as documented for CI): the peer table with this server's W1 rows and each peer's
   * (or a line saying why a peer was skipped), the pause lines, the pinned-core table and W4's target line; the
   * Python stores' growth past 10 messages is skipped with a printed line.
   */
  @Test
  void benchPeersPrintsThePeerTableThePausesAndThePinnedCoreTable() throws Exception {
    ExternalCommand r = ExternalCommand.run(5, Map.of("BENCH_PEERS_SHORT", "1", "SKIP_BUILD", "1",
        "BENCH_PEERS_JSON_DIR", dir.toString()), "scripts/bench-peers");
    String out = r.output();
    assertThat(r.exitCode()).as(out).isZero();
    assertThat(out).contains("the Python stores' growth to 1,000 and 2,000 messages is skipped")
        .containsPattern("server sqlite/full +4 +\\d+ ")
        .containsPattern("server postgres/1srv +4 +\\d+ ")
        .containsPattern("Pause sqlite/full c=1: back to back p50 [\\d.]+ ms, p99 [\\d.]+ ms; after 100ms: p50"
            + " [\\d.]+ ms \\([\\d.]+x\\), p99 [\\d.]+ ms; after 1s: p50")
        .contains("Pinned cores (server side on core 0, load generator on core 1): server CPU per W1 turn")
        .containsPattern("  sqlite/normal +\\d+ turns/s  server [\\d.]+ ms  [\\d.]+ x memory")
        .containsPattern("  postgres/1srv +\\d+ turns/s  server [\\d.]+ ms \\+ PostgreSQL [\\d.]+ ms")
        .containsPattern("Target: W4 SQLite full, a turn at 10,000 messages / at 10: p50 [\\d.]+ / [\\d.]+ ms ="
            + " [\\d.]+x, turns/s \\d+ / \\d+ = [\\d.]+x dearer, server CPU per turn [\\d.]+ / [\\d.]+ ms = [\\d.]+x"
            + " \\(at most 1.1x\\)");
    assertThat(dir.resolve("bench-w4.json")).exists();
    for (String peer : List.of("etcd", "langgraph", "langchain")) {
      String row = peer.equals("etcd") ? "etcd +4 +\\d+ " : peer + " @10 msgs +1 +\\d+ ";
      assertThat(Pattern.compile(row).matcher(out).find() || out.contains("bench: peer " + peer + " skipped: "))
          .as("%s: a row or a skip line in%n%s", peer, out).isTrue();
    }
    assertThat(out).containsPattern("pgbench +4 +\\d+ ");
  }

  private static long firstNumber(String output, String regex) {
    Matcher m = Pattern.compile(regex).matcher(output);
    assertThat(m.find()).as("%s in:%n%s", regex, output).isTrue();
    return Long.parseLong(m.group(1));
  }

  /**
   * PostgreSQL: W1 through one and two servers on a throwaway cluster, then pgbench with the same SQL per turn on
   * the same cluster (which also checks that the pgbench script still fits the schema), and the ratio.
   */
  @Test
  void postgresRowsWithOneAndTwoServersAndThePgbenchComparison() throws Exception {
    JsonObject[] run = new JsonObject[1];
    String output = printedBy(() -> run[0] = shortW1Run("--backends", "postgres", "--postgres-servers", "1,2"));
    Map<String, JsonObject> rows = new HashMap<>();
    run[0].getAsJsonArray("results").forEach(r -> rows.put(r.getAsJsonObject().get("workload").getAsString() + " "
        + r.getAsJsonObject().get("durability").getAsString(), r.getAsJsonObject()));
    assertThat(rows).containsOnlyKeys("W1 1srv", "W1 2srv", "W1-pgbench sql");
    rows.forEach((name, row) -> {
      assertThat(row.get("ops").getAsLong()).as(name).isPositive();
      assertThat(row.get("errors").getAsLong()).as(name).isZero();
    });
    assertThat(rows.get("W1 2srv").get("writesPerSync").getAsDouble()).as("counters of both servers").isPositive();
    assertThat(output).containsPattern("W1 through one server on PostgreSQL / pgbench with the same SQL: \\d+ / \\d+"
        + " turns/s = [\\d.]+x");
  }

  /**
   * --pgbench-batch: a row per K and the own-tenants row, each with turns, and each run's database holding exactly
   * K turns per commit (the benchmark checks what it stored after each run and fails otherwise; the row's note says
   * what it counted, checked again here).
   */
  @Test
  void pgbenchBatchRowsStoreKTurnsPerTransaction() throws Exception {
    Path json = dir.resolve("batch.json");
    int[] exit = new int[1];
    String output = printedBy(() -> {
      exit[0] = new CommandLine(new Benchmark()).execute("--workloads", "W1-1rpc", "--backends",
          "postgres", "--postgres-servers", "1", "--pgbench-batch", "1,2,4", "--clients", "2", "--duration", "300ms",
          "--warmup", "0s", "--server-warmup", "0s", "--json", json.toString());
      return null;
    });
    assertThat(exit[0]).as(output).isZero();
    Map<String, JsonObject> rows = new HashMap<>();
    JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("results").forEach(r -> rows.put(
        r.getAsJsonObject().get("workload").getAsString() + " " + r.getAsJsonObject().get("durability").getAsString(),
        r.getAsJsonObject()));
    assertThat(rows).containsKeys("W1-1rpc-pgbench-batch1 sql", "W1-1rpc-pgbench-batch2 sql",
        "W1-1rpc-pgbench-batch4 sql", "W1-1rpc-pgbench-tenants sql");
    Pattern stored = Pattern.compile("stored: (\\d+) change log entries in (\\d+) commits");
    for (int k : new int[] {1, 2, 4}) {
      JsonObject row = rows.get("W1-1rpc-pgbench-batch" + k + " sql");
      long turns = row.get("ops").getAsLong();
      assertThat(turns).as("K=" + k).isPositive();
      Matcher m = stored.matcher(row.get("note").getAsString());
      assertThat(m.find()).as(row.get("note").getAsString()).isTrue();
      assertThat(Long.parseLong(m.group(1))).as("change log entries, K=" + k).isEqualTo(turns)
          .isEqualTo(k * Long.parseLong(m.group(2)));
      assertThat(row.get("writesPerSync").getAsDouble()).as("turns per WAL sync, K=" + k).isPositive();
      Matcher wal = Pattern.compile("WAL ([\\d.]+) KB per turn \\(([\\d.]+) full-page images\\)")
          .matcher(row.get("note").getAsString());
      assertThat(wal.find()).as(row.get("note").getAsString()).isTrue();
      assertThat(Double.parseDouble(wal.group(1))).as("WAL per turn holds at least the two ~2 KB messages, K=" + k)
          .isGreaterThan(4.0);
    }
    JsonObject tenants = rows.get("W1-1rpc-pgbench-tenants sql");
    assertThat(tenants.get("ops").getAsLong()).isPositive();
    assertThat(tenants.get("note").getAsString()).contains("stored: " + tenants.get("ops").getAsLong()
        + " change log entries in " + tenants.get("ops").getAsLong() + " commits");
    assertThat(output).containsPattern("W1-1rpc-pgbench-batch4 postgres/sql c=2: \\d+ turns \\(\\d+ transactions\\)"
        + " in [\\d.]+ s = \\d+ turns/s, mean latency [\\d.]+ ms per transaction, [\\d.]+ WAL syncs per turn");
  }

  /** --variant: a row per configuration, watchers that really received the writes, the server argument applied. */
  @Test
  void variantsMeasureTheSameServerInEachConfiguration() throws Exception {
    JsonObject[] run = new JsonObject[1];
    String output = printedBy(() -> run[0] = shortW1Run("--backends", "sqlite", "--durability", "normal",
        "--variant", "base", "--variant", "noindex:--search-index=false", "--variant", "watched:watchers=1"));
    List<String> rows = new ArrayList<>();
    run[0].getAsJsonArray("results").forEach(r -> {
      rows.add(r.getAsJsonObject().get("durability").getAsString());
      assertThat(r.getAsJsonObject().get("ops").getAsLong()).isPositive();
      assertThat(r.getAsJsonObject().get("errors").getAsLong()).isZero();
    });
    assertThat(rows).containsExactlyInAnyOrder("normal", "normal/noindex", "normal/watched");
    assertThat(output).contains("variant noindex [--search-index=false]");
    Matcher events = Pattern.compile("bench: 1 watcher\\(s\\) received (\\d+) events").matcher(output);
    assertThat(events.find()).as(output).isTrue();
    assertThat(Long.parseLong(events.group(1))).isPositive();
  }

  @Test
  void turnsWithoutMessageIdsRunAndAreRecordedAsSuch() throws Exception {
    JsonObject doc = shortW1Run("--backends", "sqlite", "--durability", "normal", "--message-ids", "false");
    assertThat(doc.getAsJsonObject("settings").get("messageIds").getAsBoolean()).isFalse();
    JsonObject w1 = doc.getAsJsonArray("results").get(0).getAsJsonObject();
    assertThat(w1.get("workload").getAsString()).isEqualTo("W1");
    assertThat(w1.get("ops").getAsLong()).isPositive();
    assertThat(w1.get("errors").getAsLong()).isZero();
    JsonObject machine = w1.getAsJsonObject("machine");
    assertThat(machine.get("idlePercent").getAsDouble()).isBetween(0.0, 100.0);
    assertThat(machine.get("stealPercent").getAsDouble()).isBetween(0.0, 100.0);
    // Present and not negative; not "positive": the kernel counts a process's CPU in 10 ms ticks, and a 300 ms run
    // on a busy machine can end with the clients' share under one tick (CI saw 0.0). MachineCpuTest checks that a
    // busy phase really shows.
    assertThat(machine.get("clientCpuMsPerOp").getAsDouble()).isNotNegative();
  }

  @Test
  void roundsAlternateTheBackendsAndTheTableShowsEachRowsMedianRound() throws Exception {
    JsonObject[] run = new JsonObject[1];
    String output = printedBy(() -> run[0] = shortW1Run("--backends", "memory,sqlite", "--durability", "full",
        "--rounds", "2"));
    JsonObject doc = run[0];
    assertThat(output).containsPattern("W1 sqlite/full vs memory: [\\d.]+x \\(medians\\), by round: [\\d.]+x [\\d.]+x")
        .containsPattern("W1 CPU per turn, server and benchmark: memory [\\d.]+ ms, sqlite/full [\\d.]+ ms: at most"
            + " [\\d.]+x with no core idle");
    JsonArray rounds = doc.getAsJsonArray("rounds");
    assertThat(rounds).hasSize(4);
    assertThat(rounds.asList()).extracting(r -> r.getAsJsonObject().get("round").getAsInt() + " "
        + r.getAsJsonObject().get("backend").getAsString())
        .containsExactly("1 memory", "1 sqlite", "2 memory", "2 sqlite");
    JsonArray results = doc.getAsJsonArray("results");
    assertThat(results).hasSize(2);
    results.forEach(r -> assertThat(r.getAsJsonObject().get("note").getAsString()).startsWith("median of 2 rounds"));
  }

  @Test
  void theHotThreadMovesOnToANewConversationBeforeItsHistoryGetsLarge() throws Exception {
    Path json = dir.resolve("w5.json");
    int exit = new CommandLine(new Benchmark()).execute("--workloads", "W5", "--backends", "sqlite",
        "--durability", "normal", "--duration", "1s", "--warmup", "0s", "--server-warmup", "0s",
        "--w5-messages-per-conversation", "10", "--json", json.toString());
    assertThat(exit).isZero();

    JsonObject w5 = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("results").get(0)
        .getAsJsonObject();
    assertThat(w5.get("errors").getAsLong()).isZero();
    long ops = w5.get("ops").getAsLong();
    Matcher note = Pattern.compile("[\\d.]+ retries per op, (\\d+) conversation\\(s\\)").matcher(
        w5.get("note").getAsString());
    assertThat(note.matches()).as(w5.get("note").getAsString()).isTrue();
    // 2 messages an op: a new conversation after 5 appends, plus at most one late append of each of the 16 clients
    // that had started on the previous one.
    assertThat(Integer.parseInt(note.group(1))).isGreaterThan(1).isGreaterThanOrEqualTo((int) (ops / 21));
  }

  @Test
  void agentTurnsMoveOnToANewConversationBeforeTheServersHistoryLimit() throws Exception {
    // Room for 14 of the ~2 KB messages: without moving on, each client's 8th turn would be refused. (No server
    // warm-up: its reads need a 1,000-message conversation.)
    Path json = dir.resolve("w1-limit.json");
    int exit = new CommandLine(new Benchmark()).execute("--workloads", "W1", "--backends", "memory", "--clients", "2",
        "--duration", "1s", "--warmup", "1s", "--server-warmup", "0s", "--w1-messages-per-conversation", "10",
        "--server-arg=--max-history-bytes=30000", "--json", json.toString());
    assertThat(exit).isZero();

    JsonObject doc = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    JsonObject w1 = doc.getAsJsonArray("results").get(0).getAsJsonObject();
    assertThat(w1.get("errors").getAsLong()).as(String.valueOf(w1.get("firstError"))).isZero();
    long ops = w1.get("ops").getAsLong();
    Matcher note = Pattern.compile("(\\d+) conversations of up to 10 msgs").matcher(w1.get("note").getAsString());
    assertThat(note.matches()).as(w1.get("note").getAsString()).isTrue();
    // Five turns a conversation (more in all: the count includes the warm-up's).
    assertThat(Long.parseLong(note.group(1))).isGreaterThanOrEqualTo(Math.max(3, (ops + 4) / 5));
    assertThat(doc.getAsJsonObject("settings").get("w1MessagesPerConversation").getAsInt()).isEqualTo(10);
  }

  @Test
  void theDatabaseGoesWhereItIsToldAndIsDeletedAfterwards() throws Exception {
    Path databases = dir.resolve("databases-here");
    JsonObject[] doc = new JsonObject[1];
    String output = printedBy(() -> doc[0] = shortW1Run("--backends", "sqlite", "--durability", "normal",
        "--database-dir", databases.toString()));
    assertThat(output).containsPattern("backend=sqlite durability=normal, database " + Pattern.quote(
        databases.toString()) + "/conversation-bench\\d+/bench\\.db");
    assertThat(doc[0].getAsJsonArray("results").get(0).getAsJsonObject().get("ops").getAsLong()).isPositive();
    assertThat(doc[0].getAsJsonObject("settings").get("databaseDir").getAsString()).isEqualTo(databases.toString());
    try (var left = Files.list(databases)) {
      assertThat(left).as("the server's directory is deleted after its run").isEmpty();
    }
  }

  private static final Pattern STEP = Pattern.compile(".*: \\d+ s, JIT compiler threads at (\\d+)% of a CPU.*");

  @Test
  void theServerWarmUpGoesOnWhileTheCompilerIsBusyAndNoLongerThanItsMaximum() throws Exception {
    Path json = dir.resolve("warm.json");
    int[] exit = new int[1];
    String output = printedBy(() -> exit[0] = new CommandLine(new Benchmark()).execute("--workloads", "W1",
        "--backends", "memory", "--clients", "2", "--duration", "300ms", "--warmup", "0s", "--server-warmup", "1s",
        "--server-warmup-max", "2s", "--json", json.toString()));
    assertThat(exit[0]).isZero();
    assertThat(output).contains("then on until the JIT compiler is quiet (at most 2 s)");
    // Steps of 1 s: one at least; a second only if the compiler was busy in the first; never a third (at most 2 s).
    List<Integer> shares = output.lines().map(STEP::matcher).filter(Matcher::matches)
        .map(m -> Integer.parseInt(m.group(1))).toList();
    assertThat(shares).hasSizeBetween(1, 2);
    // The share is printed rounded: at "5%" it may have been just under or over the 5% threshold.
    if (shares.get(0) != 5) {
      assertThat(shares.size()).as("steps after a first one at %d%% of a CPU", shares.get(0))
          .isEqualTo(shares.get(0) > 5 ? 2 : 1);
    }
    JsonObject settings = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("settings");
    assertThat(settings.get("serverWarmupMax").getAsString()).isEqualTo("2s");
    assertThat(JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("machine")
        .has("diskSync")).as("no disk probe without a SQLite server").isFalse();
  }

  /** What a benchmark run prints: {@code run} with standard output caught (and passed on for the test's log). */
  private static String printedBy(Callable<?> run) throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      run.call();
    } finally {
      System.setOut(stdout);
    }
    String output = printed.toString(StandardCharsets.UTF_8);
    stdout.print(output);
    return output;
  }

  /** A very short W1 run with {@code options} on top; checks that it succeeded and returns its JSON. */
  private JsonObject shortW1Run(String... options) throws Exception {
    Path json = Files.createTempFile(dir, "bench", ".json");
    List<String> args = new ArrayList<>(List.of("--workloads", "W1", "--clients", "2", "--duration", "300ms",
        "--warmup", "0s", "--server-warmup", "0s", "--json", json.toString()));
    args.addAll(List.of(options));
    assertThat(new CommandLine(new Benchmark()).execute(args.toArray(String[]::new))).isZero();
    return JsonParser.parseString(Files.readString(json)).getAsJsonObject();
  }
}
