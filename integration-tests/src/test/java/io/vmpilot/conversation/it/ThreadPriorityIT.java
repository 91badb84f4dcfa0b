package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.vmpilot.conversation.bench.ProcStat;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The large calls' threads ({@code grpc-large}: where a history over 64 KiB is read, built and serialised) run
 * at a lower OS priority (nice 10) under {@code scripts/server-jvm.options}, so that beside a flood of large Gets the
 * small calls get the CPU first (docs/guarantees.md), and every other thread at the OS's normal one, even as root,
 * where the JVM would otherwise raise its JIT's and collector's threads. Read from the server process's own threads
 * ({@code /proc/PID/task/TID/stat}), after a Get of a 200 KB history has started a large call's thread.
 */
class ThreadPriorityIT {
  private static final Path OPTIONS = ExternalCommand.repoRoot().resolve("scripts/server-jvm.options");
  private static final String BIG_MESSAGE = "{\"role\":\"user\",\"content\":\"" + "x".repeat(200_000) + "\"}";

  @TempDir
  Path dir;

  @BeforeAll
  static void linuxThreadsAreReadable() {
    assumeThat(Path.of("/proc/self/task")).as("Linux's /proc").isDirectory();
  }

  @Test
  void withTheServersJvmOptionsLargeCallsRunAtTheirNiceAndEverythingElseAtNice0() throws Exception {
    int largeNice = largeCallsNice();
    try (ServerProcess server = ServerProcess.launch(List.of(), List.of("@" + OPTIONS),
        List.of("--database-path", dir.resolve("options.db").toString()), null, Map.of())) {
      Map<String, Set<Integer>> nice = niceAfterALargeGet(server);
      assertThat(nice).containsKeys("grpc-large", "grpc-call", "grpc-network", "sqlite-writer", "C2 CompilerThre");
      assertThat(nice).as("each kind of thread's nice values").allSatisfy((kind, values) ->
          assertThat(values).as(kind).containsExactly(kind.equals("grpc-large") ? largeNice : 0));
    }
  }

  /**
   * PostgreSQL's writes run on a pool whose threads start as writes come; the first write here is a large Save,
   * submitted from a {@code grpc-large} thread, and the write thread it starts must not take that thread's priority
   * (before, it did, and kept serving every tenant's writes at nice 10). Nor may the connection pools' own threads.
   */
  @Test
  void onPostgresTheWriteThreadsALargeSaveStartsKeepTheNormalPriority() throws Exception {
    int largeNice = largeCallsNice();
    try (ThrowawayPostgres postgres = ThrowawayPostgres.launch()) {
      postgres.createDatabase("conversations");
      try (ServerProcess server = ServerProcess.launch(List.of(), List.of("@" + OPTIONS),
          List.of("--database-backend", "postgres", "--database-url", postgres.url("conversations")), null,
          Map.of())) {
        Map<String, Set<Integer>> nice = niceAfterALargeGet(server);
        assertThat(nice).containsKeys("grpc-large", "postgres-write");
        assertThat(nice).as("each kind of thread's nice values").allSatisfy((kind, values) ->
            assertThat(values).as(kind).containsExactly(kind.equals("grpc-large") ? largeNice : 0));
      }
    }
  }

  @Test
  void withoutThemEveryThreadKeepsTheNormalPriority() throws Exception {
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("plain.db"))) {
      Map<String, Set<Integer>> nice = niceAfterALargeGet(server);
      assertThat(nice).containsKey("grpc-large");
      assertThat(nice).as("each kind of thread's nice values").allSatisfy((kind, values) ->
          assertThat(values).as(kind).containsExactly(0));
    }
  }

  /** The nice the options file gives Java's minimum priority, the large calls' threads'. */
  private static int largeCallsNice() throws IOException {
    Matcher configured = Pattern.compile("-XX:JavaPriority1_To_OSPriority=(\\d+)").matcher(Files.readString(OPTIONS));
    assertThat(configured.find()).as("the options file sets Java's minimum priority's nice").isTrue();
    int largeNice = Integer.parseInt(configured.group(1));
    assertThat(largeNice).as("the large calls' nice").isPositive();
    return largeNice;
  }

  /**
   * Saves and reads back a 200 KB history, then gives each kind of thread (its name without its number) the nice
   * values its threads have.
   */
  private static Map<String, Set<Integer>> niceAfterALargeGet(ServerProcess server) throws Exception {
    try (ConversationClient client = ConversationClient.connect(server.target())) {
      client.save("big", List.of(BIG_MESSAGE, "{\"role\":\"assistant\",\"content\":\"ok\"}"));
      assertThat(client.get("big")).hasValueSatisfying(c -> assertThat(c.getHistoryBytes()).isGreaterThan(200_000));
      client.append("small", List.of("{\"role\":\"user\",\"content\":\"hi\"}"));
    }
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(server.pid()), "task"))) {
      return tasks.map(ThreadPriorityIT::kindAndNice).filter(e -> e != null)
          .collect(Collectors.groupingBy(Map.Entry::getKey, TreeMap::new,
              Collectors.mapping(Map.Entry::getValue, Collectors.toSet())));
    }
  }

  /** A thread's kind (its name without its number) and nice value, or null for a thread that ended meanwhile. */
  private static Map.Entry<String, Integer> kindAndNice(Path task) {
    String stat;
    try {
      stat = Files.readString(task.resolve("stat"));
    } catch (IOException gone) {
      return null;
    }
    return Map.entry(ProcStat.name(stat).replaceAll("[-#:]?[0-9-]*$", ""), ProcStat.nice(stat));
  }
}
