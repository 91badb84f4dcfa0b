package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The parsing of what the peers' programs and Linux's /proc print, and the peer table's lines. */
class PeersTest {
  private static final String STAT = "4242 (post gres: x) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 3 30 10 1 0"
      + " 100 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";

  @Test
  void statLinesGiveCpuWithAndWithoutReapedChildrenTheParentTheNiceAndTheName() {
    assertThat(ProcStat.cpuMillis(STAT)).isEqualTo(2800);
    assertThat(ProcStat.cpuMillisWithChildren(STAT)).isEqualTo(2900);
    assertThat(ProcStat.parentPid(STAT)).isEqualTo(17);
    assertThat(ProcStat.nice(STAT)).isEqualTo(10);
    assertThat(ProcStat.name(STAT)).isEqualTo("post gres: x");
  }

  @Test
  void ioTextGivesWriteBytesOrNullWithoutTheLine() {
    String io = "rchar: 100\nwchar: 200\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 250187776\n"
        + "cancelled_write_bytes: 0\n";
    assertThat(ProcStat.writeBytes(io)).isEqualTo(250187776L);
    assertThat(ProcStat.writeBytes("rchar: 1\n")).isNull();
  }

  @Test
  void processTreeSamplesOfThisJvmGrowAndDifferencesAreNullWhereUnknown() {
    ProcessTree.Sample self = ProcessTree.sample(ProcessHandle.current().pid());
    assertThat(self).isNotNull();
    assertThat(self.cpuMillis()).isPositive();
    assertThat(ProcessTree.sample(null)).isNull();
    assertThat(new ProcessTree.Sample(50, 900L).writeBytesSince(new ProcessTree.Sample(20, 100L))).isEqualTo(800.0);
    assertThat(new ProcessTree.Sample(50, 900L).cpuMillisSince(new ProcessTree.Sample(20, 100L))).isEqualTo(30.0);
    assertThat(new ProcessTree.Sample(50, null).writeBytesSince(new ProcessTree.Sample(20, 100L))).isNull();
    assertThat(new ProcessTree.Sample(50, 1L).cpuMillisSince(null)).isNull();
  }

  @Test
  void etcdLoadsLastLineIsItsOutcome() {
    PeerEtcd.Outcome o = PeerEtcd.parse("some warning\n{\"puts\":23998,\"seconds\":3.0,\"putsPerSecond\":7999.3,"
        + "\"p50Ms\":6.324,\"p99Ms\":30.097,\"errors\":0,\"firstError\":\"\",\"clientCpuMs\":1260.4}\n");
    assertThat(o.puts()).isEqualTo(23998);
    assertThat(o.putsPerSecond()).isEqualTo(7999.3);
    assertThat(o.p99Ms()).isEqualTo(30.097);
    assertThat(o.clientCpuMs()).isEqualTo(1260.4);
    assertThatThrownBy(() -> PeerEtcd.parse("etcd-load: cannot connect")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void pythonDriverLinesBecomeGrowRowsAndInformationLinesAreLeftOut() {
    List<Result> rows = PeerPython.parse(1, "# {\"store\": \"langgraph\", \"pragmas\": {}}\n"
        + "{\"store\": \"langgraph\", \"messages\": 10, \"turns\": 20, \"seconds\": 0.5, \"turnsPerSecond\": 40.0,"
        + " \"p50Ms\": 17.2, \"p99Ms\": 72.0, \"cpuMsPerTurn\": 5.7, \"bytesWrittenPerTurn\": 446873.6}\n"
        + "{\"store\": \"langgraph\", \"messages\": 2000, \"turns\": 20, \"seconds\": 1.0, \"turnsPerSecond\": 20.0,"
        + " \"p50Ms\": 37.0, \"p99Ms\": 90.0, \"cpuMsPerTurn\": 30.0, \"bytesWrittenPerTurn\": null}\n");
    assertThat(rows).extracting(Result::workload).containsExactly("grow-10", "grow-2000");
    Result first = rows.get(0);
    assertThat(first.backend()).isEqualTo("langgraph");
    assertThat(first.durability()).isEqualTo("sync");
    assertThat(first.clients()).isEqualTo(1);
    assertThat(first.ops()).isEqualTo(20);
    assertThat(first.serverCpuMsPerOp()).isEqualTo(5.7);
    assertThat(first.diskBytesPerOp()).isCloseTo(446873.6, within(0.01));
    assertThat(rows.get(1).diskBytesPerOp()).isNull();
  }

  @Test
  void peerLinesNameTheSystemAndAddTheDatabasesCpuToTheServers() {
    Result postgres = new Result(1, "W1", "postgres", "1srv", 64, 1000, 1.0, 3000, 20.0, 40.0, 50.0, null, 0.2,
        null, null, null, 0, 0, null, "", new MachineCpu.Use(5.0, 0.0, 0.1), 8192.0, 0.3);
    assertThat(PeerReport.peerLine(postgres)).startsWith("server postgres/1srv").contains(" 3000 ")
        .contains(" 0.500 ").contains(" 0.100 ").endsWith(" 8.0");
    Result etcd = new Result(1, "W1-etcd", "etcd", "fsync", 64, 1000, 1.0, 9000, 6.0, 30.0, Double.NaN, null, 0.1,
        null, null, 4096.0, 0, 0, null, "", new MachineCpu.Use(5.0, 0.0, 0.05), null, null);
    assertThat(PeerReport.peerLine(etcd)).startsWith("etcd ").endsWith(" -");
    Result grow = new Result(1, "grow-2000", "langgraph", "sync", 1, 20, 1.0, 20, 37.0, 90.0, Double.NaN, null,
        30.0, null, null, null, 0, 0, null, "", null, 8.65e6, null);
    assertThat(PeerReport.peerLine(grow)).startsWith("langgraph @2000 msgs");
    assertThat(PeerReport.peerRows(List.of(postgres, etcd, grow,
        new Result(1, "W3-get-all", "memory", "-", 64, 1, 1, 1, 1, 1, 1, null, null, null, null, null, 0, 0, null, "",
            null, null, null)))).containsExactly(postgres, etcd, grow);
  }

  @Test
  void theTargetsCompareTheOneCallTurnWithEtcdAndLangGraph() {
    Result turn = new Result(1, "W1-1rpc", "sqlite", "full", 64, 1000, 1.0, 15000, 3.0, 20.0, 30.0, null, 0.2,
        null, null, null, 0, 0, null, "", null, 10240.0, null);
    Result etcd = new Result(1, "W1-etcd", "etcd", "fsync", 64, 1000, 1.0, 10000, 6.0, 30.0, Double.NaN, null, 0.1,
        null, null, 4096.0, 0, 0, null, "", null, null, null);
    Result small = new Result(1, "grow-10", "langgraph", "sync", 1, 20, 1.0, 500, 2.0, 3.0, Double.NaN, null,
        1.0, null, null, null, 0, 0, null, "", null, 20480.0, null);
    Result large = new Result(1, "grow-2000", "langgraph", "sync", 1, 20, 1.0, 20, 37.0, 90.0, Double.NaN, null,
        30.0, null, null, null, 0, 0, null, "", null, 8.65e6, null);
    assertThat(PeerReport.targetLines(List.of(turn, etcd, small, large))).containsExactly(
        "Target: SQLite full turns in one call / etcd puts: 15000 / 10000 = 1.50x (at least 1.5x)",
        "Target: LangGraph at 2000 messages / SQLite full turn in one call: CPU 150x, bytes written 845x"
            + " (at least 100x)");
    assertThat(PeerReport.peerLine(turn)).startsWith("server 1rpc sqlite/full");
    assertThat(PeerReport.targetLines(List.of(etcd, large))).isEmpty();
  }

  @Test
  void theW4TargetComparesSqliteFullTurnsAtTenThousandMessagesWithTurnsAtTen() {
    Result shortOne = w4("W4-10", "sqlite", "full", 5000, 10.0, 0.20);
    Result longOne = w4("W4-10000", "sqlite", "full", 4000, 12.0, 0.25);
    // Another backend's and another durability's rows are not the target's.
    Result memory = w4("W4-10000", "memory", "-", 100, 500.0, 9.0);
    Result normal = w4("W4-10", "sqlite", "normal", 100, 500.0, 9.0);
    assertThat(PeerReport.targetLines(List.of(memory, normal, shortOne, longOne))).containsExactly(
        "Target: W4 SQLite full, a turn at 10,000 messages / at 10: p50 12.00 / 10.00 ms = 1.20x, turns/s 4000 / 5000"
            + " = 1.25x dearer, server CPU per turn 0.250 / 0.200 ms = 1.25x (at most 1.1x)");
    // Without the server's CPU (a --target without a process id), the rest of the line stays.
    assertThat(PeerReport.targetLines(List.of(shortOne, w4("W4-10000", "sqlite", "full", 4000, 12.0, null))))
        .containsExactly("Target: W4 SQLite full, a turn at 10,000 messages / at 10: p50 12.00 / 10.00 ms = 1.20x,"
            + " turns/s 4000 / 5000 = 1.25x dearer (at most 1.1x)");
    assertThat(PeerReport.targetLines(List.of(shortOne, memory))).isEmpty();
  }

  private static Result w4(String workload, String backend, String durability, double turnsPerSecond, double p50,
      Double cpu) {
    return new Result(1, workload, backend, durability, 64, 1000, 1.0, turnsPerSecond, p50, 3 * p50, 4 * p50, null,
        cpu, null, null, null, 0, 0, null, "", null, null, null);
  }

  private static Result row(int round, String workload, String durability, int clients, double turnsPerSecond,
      Double cpu, Double databaseCpu, Double clientCpu) {
    return new Result(round, workload, "postgres", durability, clients, 1000, 1.0, turnsPerSecond, 1.0, 2.0, 3.0,
        null, cpu, null, null, null, 0, 0, null, "", new MachineCpu.Use(5.0, 0.0, clientCpu), null, databaseCpu);
  }

  @Test
  void issue19sTargetSetsEachServerRowAgainstPgbenchsOfTheSameVariantMedianAndRounds() {
    Result w1 = row(2, "W1", "1srv", 64, 400, 1.5, 1.2, 0.3);
    Result sql = row(2, "W1-pgbench", "sql", 64, 200, 1.1, null, 0.2);
    Result pool = row(1, "W1-pgbench", "pool", 10, 500, 1.0, null, 0.2);
    Result oneCall = row(1, "W1-1rpc", "1srv/noindex", 64, 300, 1.0, 0.9, 0.2);
    Result oneCallSql = row(1, "W1-1rpc-pgbench", "sql/noindex", 64, 600, 0.8, null, 0.1);
    List<Result> all = List.of(row(1, "W1", "1srv", 64, 300, 1.5, 1.2, 0.3), row(1, "W1-pgbench", "sql", 64, 100,
        1.1, null, 0.2), pool, oneCall, oneCallSql, w1, sql, row(2, "W1-pgbench", "pool", 10, 500, 1.0, null, 0.2));
    assertThat(PostgresTarget.lines(all, List.of(w1, sql, pool, oneCall, oneCallSql))).containsExactly(
        "Target (issue 19): W1 through one server on PostgreSQL / pgbench with the same SQL: 400 / 200 turns/s ="
            + " 2.00x (at least 0.8x; by round: 3.00x 2.00x); PostgreSQL CPU per turn 1.200 ms under the server"
            + " (which adds 1.500 ms), 1.100 ms under pgbench (which adds 0.200 ms)",
        "Target (issue 19): W1 through one server on PostgreSQL / pgbench with the same SQL on 10 connections (the"
            + " server's pool): 400 / 500 turns/s = 0.80x (at least 0.8x; by round: 0.60x 0.80x); PostgreSQL CPU"
            + " per turn 1.200 ms under the server (which adds 1.500 ms), 1.000 ms under pgbench (which adds 0.200"
            + " ms)",
        "Target (issue 19): W1-1rpc/noindex through one server on PostgreSQL / pgbench with the same SQL: 300 / 600"
            + " turns/s = 0.50x (at least 0.8x; by round: 0.50x); PostgreSQL CPU per turn 0.900 ms under the server"
            + " (which adds 1.000 ms), 0.800 ms under pgbench (which adds 0.100 ms)");
    assertThat(PeerReport.peerRows(List.of(w1, sql, pool, oneCallSql))).containsExactly(w1, sql, pool, oneCallSql);
    assertThat(PeerReport.peerLine(sql)).startsWith("pgbench  ");
    assertThat(PeerReport.peerLine(pool)).startsWith("pgbench pool  ");
    assertThat(PeerReport.peerLine(oneCallSql)).startsWith("pgbench 1rpc/noindex  ");
    assertThat(PostgresTarget.lines(all, List.of(sql, pool))).as("no server row, no line").isEmpty();
  }

  @Test
  void pgbenchFollowsTheServersSearchIndexAndPoolSizeAndLeavesTheWordsOutWithoutTheIndex() throws Exception {
    assertThat(PgbenchTurn.searchIndex(List.of())).isTrue();
    assertThat(PgbenchTurn.searchIndex(List.of("--search-index=false"))).isFalse();
    assertThat(PgbenchTurn.searchIndex(List.of("--search-index", "false", "--search-index=true"))).isTrue();
    assertThat(PgbenchTurn.poolSize(List.of())).isEqualTo(PgbenchTurn.DEFAULT_POOL_SIZE);
    assertThat(PgbenchTurn.poolSize(List.of("--database-pool-size", "32"))).isEqualTo(32);
    for (PgbenchTurn.Script script : PgbenchTurn.Script.values()) {
      assertThat(script.text(true)).contains("CAST(:user_words AS tsvector)", "CAST(:assistant_words AS tsvector)");
      assertThat(script.text(false)).doesNotContain("CAST(:user_words", "CAST(:assistant_words")
          .contains("CAST(NULL AS tsvector)");
    }
  }
}
