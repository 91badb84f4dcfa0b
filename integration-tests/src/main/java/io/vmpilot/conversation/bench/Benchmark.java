package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.it.FileTrees;
import io.vmpilot.conversation.it.ServerProcess;
import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Load generator for the conversation store (issue 4): runs the workloads W1..W5 ({@link Workloads}) with C
 * concurrent clients over real sockets (and W6, {@link CreationAtScale}, on a seeded server per size), each for a
 * fixed time after a warm-up, and prints a table (also written as JSON).
 *
 * <p>Without {@code --target} it starts the server jar itself, once per backend/durability combination and round,
 * with a temporary SQLite file and the metrics endpoint on, so that it can read the store's write/sync/byte
 * counters and the server's peak RSS. Each server is then driven by a {@link LoadDriver}.
 *
 * <p>Every client is one thread with a blocking stub; clients share a few channels (HTTP/2 connections).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
    description = "Benchmarks the conversation store over gRPC (see docs/benchmark.md).")
public final class Benchmark implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--target", paramLabel = "HOST:PORT",
      description = "Benchmark a running server instead of starting one (its backend is then reported as 'target').")
  String target;

  @Option(names = "--metrics-url", paramLabel = "URL",
      description = "With --target: the server's Prometheus endpoint, for writes/sync and bytes/op.")
  String metricsUrl;

  @Option(names = "--server-pid", paramLabel = "PID",
      description = "With --target: the server's process id, for its peak RSS (same machine only).")
  Long serverPid;

  @Option(names = "--duration", defaultValue = "10s", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Measured time per workload, e.g. 10s, 500ms, 1m. Default: ${DEFAULT-VALUE}.")
  Duration duration;

  @Option(names = "--warmup", defaultValue = "2s", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Unmeasured warm-up per workload (JIT, connections). Default: ${DEFAULT-VALUE}.")
  Duration warmup;

  @Option(names = "--server-warmup", defaultValue = "20s", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Once per server, before the first workload: W1 turns and W3 reads, in steps of 5 s, for at "
          + "least this long, to get the server's JIT compiler past its start. Default: ${DEFAULT-VALUE}.")
  Duration serverWarmup;

  @Option(names = "--server-warmup-max", defaultValue = "120s", paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "When the server's process id is known (a server the benchmark starts, or --server-pid): go on "
          + "warming up past --server-warmup until the server's JIT compiler threads used less than 5%% of one CPU "
          + "in a step, for at most this long in all. Default: ${DEFAULT-VALUE}.")
  Duration serverWarmupMax;

  @Option(names = "--clients", defaultValue = "64", paramLabel = "C",
      description = "Concurrent clients (W5 always uses 16). Default: ${DEFAULT-VALUE}.")
  int clients;

  @Option(names = "--channels", defaultValue = "4", paramLabel = "N",
      description = "gRPC channels (TCP connections) the clients share. Default: ${DEFAULT-VALUE}.")
  int channels;

  @Option(names = "--w1-messages-per-conversation", defaultValue = "12000", paramLabel = "N",
      description = "W1's clients go on in a new conversation of their own at this many messages (~2 KB each), so"
          + " that few clients on a fast server stay under its history limit (32 MiB by default); W4's conversations"
          + " grow all run, their length being what W4 measures. 0: never. Default: ${DEFAULT-VALUE}.")
  int w1MessagesPerConversation;

  @Option(names = "--w5-messages-per-conversation", defaultValue = "4000", paramLabel = "N",
      description = "W5 moves on to a new conversation after this many messages (~2 KB each), so that it stays under"
          + " the server's history limit (32 MiB by default). Default: ${DEFAULT-VALUE}.")
  int w5MessagesPerConversation;

  @Option(names = "--workloads", defaultValue = "W1,W1-1rpc,W2,W3,W4,W5", split = ",", paramLabel = "W",
      description = "Workloads to run, e.g. W1,W4 (W1-1rpc: W1's turn as one Append carrying the counters; W6:"
          + " creations at --scale-sizes, on servers of their own). Default: ${DEFAULT-VALUE}.")
  List<String> workloads;

  @Option(names = "--scale-sizes", defaultValue = "10000,1000000", split = ",", paramLabel = "N",
      description = "W6: conversations the tenant already has, one row and one new server (and database) per size"
          + " (W6-10k, W6-1M). Default: ${DEFAULT-VALUE}.")
  List<Integer> scaleSizes;

  @Option(names = "--backends", defaultValue = "memory,sqlite,postgres", split = ",", paramLabel = "B",
      description = "Backends to start (ignored with --target); postgres starts a throwaway PostgreSQL cluster of its"
          + " own (scripts/install-postgres) for each server count. Default: ${DEFAULT-VALUE}.")
  List<String> backends;

  @Option(names = "--postgres-servers", defaultValue = "1,2", split = ",", paramLabel = "N",
      description = "How many servers share the PostgreSQL database, one set of rows each (durability column"
          + " '1srv', '2srv'); the clients are spread over them. Default: ${DEFAULT-VALUE}.")
  List<Integer> postgresServers;

  @Option(names = "--pgbench", arity = "1", defaultValue = "true", paramLabel = "BOOLEAN",
      description = "After W1 and W1-1rpc through one server on PostgreSQL, run pgbench with the server's SQL and"
          + " values per turn, the same clients and duration on the same cluster (rows W1-pgbench, W1-1rpc-pgbench;"
          + " one per variant, words NULL with --search-index=false), and print the server's ratio to it."
          + " Default: ${DEFAULT-VALUE}.")
  boolean pgbench;

  @Option(names = "--pgbench-batch", split = ",", paramLabel = "K",
      description = "With pgbench and W1-1rpc: also run W1-1rpc's SQL with K turns of K conversations of the one"
          + " tenant per transaction, for each K (rows W1-1rpc-pgbench-batchK), and with one turn per transaction but"
          + " every client in a tenant of its own (row W1-1rpc-pgbench-tenants), all on the server's pool size of"
          + " connections (at most --clients): does batching requests per transaction pay? Default: none.")
  List<Integer> pgbenchBatch = new ArrayList<>();

  @Option(names = "--durability", defaultValue = "full,normal", split = ",", paramLabel = "D",
      description = "SQLite durability levels (ignored for memory and with --target). Default: ${DEFAULT-VALUE}.")
  List<String> durabilities;

  @Option(names = "--json", defaultValue = "bench-results.json", paramLabel = "PATH",
      description = "Where to write the results as JSON. Default: ${DEFAULT-VALUE}.")
  Path json;

  @Option(names = "--server-jvm-opts", paramLabel = "OPTS",
      defaultValue = "${env:BENCH_SERVER_JVM_OPTS:-@scripts/server-jvm.options}",
      description = "JVM options of the server the benchmark starts; @FILE reads a java argument file (relative to"
          + " the repository). Default: ${DEFAULT-VALUE}, as scripts/run-server.")
  String serverJvmOpts;

  /** {@link #serverJvmOpts} with its argument files read. */
  private List<String> serverJvm;

  // The memory backend's store is its heap, and the workloads store more than run-server's 1 GB: W4-10000's 64
  // conversations of 10,000 messages hold ~1.3 GB alone, and W1 at 20,000 turns/s adds ~0.8 GB in 10 s. With 1 GB
  // it slowed as the heap filled (GC) and then failed (OutOfMemoryError), measuring the heap, not the backend.
  @Option(names = "--memory-server-heap", paramLabel = "SIZE", defaultValue = "4g",
      description = "The memory backend's -Xmx, in place of the one in --server-jvm-opts: its conversations live in"
          + " the heap. Default: ${DEFAULT-VALUE}.")
  String memoryServerHeap;

  @Option(names = "--max-ops", defaultValue = "5000000", paramLabel = "N",
      description = "Stop a workload's measured phase after this many operations. Default: ${DEFAULT-VALUE}.")
  long maxOps;

  @Option(names = "--message-ids", arity = "1", defaultValue = "true", paramLabel = "BOOLEAN",
      description = "Give each turn's messages a client id, as a client that retries safely does (the server then"
          + " also indexes them). false measures clients that send none, like VMPilot. Default: ${DEFAULT-VALUE}.")
  boolean messageIds;

  @Option(names = "--server-arg", paramLabel = "ARG",
      description = "Extra argument for the server the benchmark starts (repeatable), e.g. --server-arg=--executor-threads=32.")
  List<String> serverArgs = new ArrayList<>();

  @Option(names = "--variant", paramLabel = "LABEL[:ITEM,...]",
      description = "Measure each server also in this configuration, in every round right after the others"
          + " (repeatable; base = as configured). An item is a server argument or watchers=N (tenant-wide Watch"
          + " streams drained while measuring), e.g. --variant base --variant noindex:--search-index=false"
          + " --variant watched:watchers=4, or another build: --variant old:jar=/tmp/old/conversation-server.jar."
          + " The results' durability column gets /LABEL.")
  List<String> variantSpecs = new ArrayList<>();

  @Option(names = "--database-dir", paramLabel = "DIR",
      description = "Where the SQLite servers the benchmark starts keep their file (a new directory in DIR for each,"
          + " deleted afterwards). Default: the system's temporary directory. A RAM file system (/dev/shm) measures"
          + " SQLite without a disk.")
  Path databaseDir;

  @Option(names = "--rounds", defaultValue = "1", paramLabel = "N",
      description = "Run every backend N times, alternating (memory, sqlite, memory, ...), and report each row's"
          + " median round by ops/s (default: ${DEFAULT-VALUE}). On a shared or small machine one run can be 25%%"
          + " off; alternating rounds expose the backends to the same noise.")
  int rounds = 1;

  @Option(names = "--peers", split = ",", paramLabel = "P",
      description = "Peers to run after the backends in each round (docs/benchmark.md, \"Peers\"): etcd (a put of"
          + " the turn's bytes, same clients), langgraph, langchain (the Python stores, one conversation grown to"
          + " --peer-sizes; first round only). A peer that cannot be installed or started is skipped with a line"
          + " saying why. Default: none.")
  List<String> peers = new ArrayList<>();

  @Option(names = "--peer-sizes", defaultValue = "10,1000,2000", split = ",", paramLabel = "N",
      description = "Conversation sizes (messages) at which the Python peers' turns are measured."
          + " Default: ${DEFAULT-VALUE}.")
  List<Integer> peerSizes;

  @Option(names = "--peer-turns", defaultValue = "50", paramLabel = "N",
      description = "Turns the Python peers measure at each size. Default: ${DEFAULT-VALUE}.")
  int peerTurns;

  @Option(names = "--pin-cores", arity = "0..1", defaultValue = "false", fallbackValue = "true", paramLabel = "BOOLEAN",
      description = "Pin the server side (server, PostgreSQL, etcd) to core 0 and the load generator (this JVM,"
          + " pgbench, etcd-load) to core 1 with taskset, and print the server's CPU per W1 turn per backend."
          + " Default: ${DEFAULT-VALUE}.")
  boolean pinCores;

  @Option(names = "--pauses", split = ",", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "The pause workload on every server: --pause-clients clients run --pause-turns turns back to"
          + " back (W1-b2b), then pausing each of these before every turn (W1-pause-...). Default: none.")
  List<Duration> pauses = new ArrayList<>();

  @Option(names = "--pause-clients", defaultValue = "1", paramLabel = "C",
      description = "Clients of the pause workload. Default: ${DEFAULT-VALUE}.")
  int pauseClients;

  @Option(names = "--pause-turns", defaultValue = "10", paramLabel = "N",
      description = "Turns each pause workload client measures per row. Default: ${DEFAULT-VALUE}.")
  int pauseTurns;

  /** The workload that runs on servers of its own, one per size ({@link #runScale}). */
  private static final String SCALE = "W6";

  private final List<Result> results = new ArrayList<>();
  private List<ServerVariant> variants = List.of(ServerVariant.BASE);
  /** The values pgbench binds, computed with the server jar's code on first use. */
  private PgbenchValues values;
  private final String runId = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);

  public static void main(String[] args) {
    // Later options win, so that a script's defaults can be overridden by the arguments passed to it (scripts/bench-peers).
    System.exit(new CommandLine(new Benchmark()).setCaseInsensitiveEnumValuesAllowed(true)
        .setOverwrittenOptionsAllowed(true).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    List<String> selected = workloads.stream().map(w -> w.strip().toUpperCase(Locale.ROOT)).toList();
    for (String w : selected) {
      if (!Workloads.NAMES.contains(w)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "unknown workload " + w);
      }
    }
    if (rounds < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--rounds must be at least 1");
    }
    if (pgbenchBatch.stream().anyMatch(k -> k < 1)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--pgbench-batch: every K must be at least 1");
    }
    try {
      variants = variantSpecs.isEmpty() ? List.of(ServerVariant.BASE)
          : variantSpecs.stream().map(ServerVariant::parse).toList();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--variant: " + e.getMessage());
    }
    if (scaleSizes.stream().anyMatch(n -> n < 0)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--scale-sizes must be 0 or more");
    }
    if (w1MessagesPerConversation < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--w1-messages-per-conversation must be 0 (one conversation per client) or more");
    }
    try {
      serverJvm = JvmOptions.parse(serverJvmOpts, Tools.repoRoot());
    } catch (IOException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--server-jvm-opts: cannot read " + e.getMessage());
    }
    System.out.printf("bench: %s, clients=%d, channels=%d, duration=%s (+%s warm-up) per workload, %s%n",
        String.join(",", selected), clients, channels, DurationConverter.format(duration),
        DurationConverter.format(warmup),
        target != null ? "target " + target : "server JVM options: " + String.join(" ", serverJvm));
    if (pinCores) {
      String why = CorePinning.unavailable();
      if (why != null) {
        System.out.println("bench: --pin-cores ignored: " + why);
        pinCores = false;
      } else {
        CorePinning.pinSelf();
        System.out.printf("bench: cores pinned: server side on core %d, load generator on core %d%n",
            CorePinning.SERVER_CORE, CorePinning.LOAD_CORE);
      }
    }
    DiskSyncProbe.Latency diskSync = probeDisk();
    for (int round = 1; round <= rounds; round++) {
      if (rounds > 1) {
        System.out.printf("%nbench: round %d of %d%n", round, rounds);
      }
      runRound(round, selected);
    }
    List<Result> medians = Medians.of(results);
    Report.printTable(medians);
    Report.printTargets(results, medians, rounds);
    PostgresTarget.lines(results, medians).forEach(System.out::println);
    PeerReport.printPeers(medians);
    if (pinCores) {
      PeerReport.printPinned(medians);
    }
    PeerReport.printPauses(medians);
    Report.writeJson(json, diskSync, settings(), medians, results);
    return 0;
  }

  /**
   * The sync latency of the disk the SQLite servers will use, measured before any server starts; null with
   * {@code --target} (its disk is not known here) or without a SQLite backend.
   */
  private DiskSyncProbe.Latency probeDisk() throws IOException {
    if (target != null || backends.stream().noneMatch(b -> b.strip().equalsIgnoreCase("sqlite"))) {
      return null;
    }
    Path dir = databaseParent();
    DiskSyncProbe.Latency latency = DiskSyncProbe.measure(dir);
    System.out.printf(Locale.ROOT, "bench: disk sync in %s (%d pages of 4 KiB, fdatasync, %d times): p50 %.2f ms,"
        + " p99 %.2f ms, max %.2f ms%n", dir, DiskSyncProbe.PAGES, DiskSyncProbe.SYNCS, latency.p50Ms(),
        latency.p99Ms(), latency.maxMs());
    return latency;
  }

  /** Where the SQLite servers' directories go: {@code --database-dir} (created if need be) or the temporary one. */
  private Path databaseParent() throws IOException {
    return databaseDir == null ? Path.of(System.getProperty("java.io.tmpdir")) : Files.createDirectories(databaseDir);
  }

  /** Every backend (or the target) once, then the peers. */
  private void runRound(int round, List<String> selected) throws Exception {
    if (target != null) {
      if (selected.contains(SCALE)) {
        System.out.println("bench: W6 skipped with --target: it seeds a new database of its own for each size");
      }
      runAll(new ServerUnderTest(target, metricsUrl, serverPid), round, "target", "-", ordinary(selected), 0);
      return;
    }
    runBackends(round, selected);
    runPeers(round);
  }

  /** The peers of {@code --peers}; each one that cannot run here is skipped with a printed line. */
  private void runPeers(int round) throws Exception {
    for (String peer : peers) {
      peer = peer.strip().toLowerCase(Locale.ROOT);
      if (peer.equals("etcd")) {
        String why = PeerEtcd.unavailable();
        if (why != null) {
          System.out.println("bench: peer etcd skipped: " + why);
          continue;
        }
        System.out.println();
        results.add(PeerEtcd.run(round, clients, warmup, duration, pinCores));
      } else if (PeerPython.STORES.contains(peer)) {
        String why = PeerPython.unavailable();
        if (why != null) {
          System.out.println("bench: peer " + peer + " skipped: " + why);
        } else if (round > 1) {
          System.out.println("bench: peer " + peer + " runs in the first round only (its growth is slow)");
        } else {
          System.out.println();
          results.addAll(PeerPython.run(round, peer, peerSizes, peerTurns));
        }
      } else {
        throw new CommandLine.ParameterException(spec.commandLine(), "unknown peer " + peer
            + " (etcd, langgraph, langchain; pgbench runs with the postgres backend)");
      }
    }
  }

  private void runBackends(int round, List<String> selected) throws Exception {
    for (String backend : backends) {
      backend = backend.strip().toLowerCase(Locale.ROOT);
      if (backend.equals("postgres")) {
        for (int servers : postgresServers) {
          for (ServerVariant variant : variants) {
            runPostgres(round, servers, selected, variant);
          }
        }
        continue;
      }
      List<String> levels = backend.equals("memory") ? List.of("-") : durabilities;
      for (String level : levels) {
        String durability = level.strip().toLowerCase(Locale.ROOT);
        for (ServerVariant variant : variants) {
          if (!ordinary(selected).isEmpty()) {
            Path dir = Files.createTempDirectory(databaseParent(), "conversation-bench");
            try (ServerProcess process = startServer(backend, durability, dir.resolve("bench.db"), variant,
                List.of())) {
              runAll(new ServerUnderTest(process.target(), process.metricsUrl(), process.pid()), round, backend,
                  variant.qualify(durability), ordinary(selected), variant.watchers());
            } finally {
              deleteTree(dir);
            }
          }
          if (selected.contains(SCALE)) {
            for (int existing : scaleSizes) {
              runScale(round, backend, durability, variant, existing);
            }
          }
        }
      }
    }
  }

  /** The selected workloads that run on the backend's shared server: all but W6. */
  private static List<String> ordinary(List<String> selected) {
    return selected.stream().filter(w -> !w.equals(SCALE)).toList();
  }

  /**
   * W6 at one size on a server of its own: a new SQLite file with {@code existing} conversations put in before the
   * server starts (memory: saved through the server by the workload's setup), the per-tenant limit raised above
   * them.
   */
  private void runScale(int round, String backend, String durability, ServerVariant variant, int existing)
      throws Exception {
    Path dir = Files.createTempDirectory(databaseParent(), "conversation-bench-scale");
    try {
      Path db = dir.resolve("bench.db");
      String seeded = null;
      if (backend.equals("sqlite")) {
        System.out.printf("%nbench: W6: %,d conversations into a new SQLite file (the schema from a server started"
            + " and stopped first)%n", existing);
        try (ServerProcess schema = ServerProcess.startSqlite(db)) {
          schema.stop();
        }
        seeded = ScaleSeeding.sqlite(db, existing);
      }
      try (ServerProcess process = startServer(backend, durability, db, variant, scaleLimit(existing))) {
        runScaleRow(new ServerUnderTest(process.target(), process.metricsUrl(), process.pid()), round, backend,
            variant.qualify(durability), new CreationAtScale(runId, existing, seeded), variant.watchers());
      }
    } finally {
      deleteTree(dir);
    }
  }

  /** The per-tenant limit W6's servers run with: well above what they hold and create. */
  private static List<String> scaleLimit(int existing) {
    return List.of("--max-conversations-per-tenant", Long.toString(Math.max(1_000_000L, existing + 2_000_000L)));
  }

  /**
   * Measures one W6 row on {@code server} after the server warm-up (W1 turns and W3 reads, as for the other
   * workloads): without it the first size ran on a JIT still compiling and looked dearer than the next.
   */
  private void runScaleRow(ServerUnderTest server, int round, String backend, String durability,
      CreationAtScale row, int watchers) throws InterruptedException {
    withDriver(server, round, backend, durability, watchers, (driver, catalogue) -> {
      if (!serverWarmup.isZero()) {
        driver.warmUp(catalogue, serverWarmup, serverWarmupMax);
      }
      results.add(driver.measure(row, duration, warmup, maxOps));
    });
  }

  /**
   * The workloads through {@code servers} servers on one new PostgreSQL cluster (fsync and synchronous_commit on),
   * then, with one server, pgbench's run of the same SQL on it.
   */
  private void runPostgres(int round, int servers, List<String> selected, ServerVariant variant) throws Exception {
    if (servers < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--postgres-servers must be at least 1");
    }
    String label = servers + "srv";
    System.out.printf("%nbench: starting a PostgreSQL cluster and %d server(s) on it%n", servers);
    try (ThrowawayPostgres postgres = ThrowawayPostgres.launch(Map.of("max_connections", "300"))) {
      if (!ordinary(selected).isEmpty()) {
        postgres.createDatabase("bench");
        List<ServerProcess> processes = startPostgresServers(postgres, "bench", servers, variant, List.of());
        try {
          runAll(postgresUnderTest(postgres, "bench", processes), round, "postgres", variant.qualify(label),
              ordinary(selected), variant.watchers());
        } finally {
          for (ServerProcess p : processes) {
            p.close();
          }
        }
      }
      if (selected.contains(SCALE)) {
        for (int existing : scaleSizes) {
          // A database of its own per size; its servers keep no state, so the rows go in while they run.
          String database = "scale" + existing;
          postgres.createDatabase(database);
          List<ServerProcess> processes = startPostgresServers(postgres, database, servers, variant,
              scaleLimit(existing));
          try {
            System.out.printf("%nbench: W6: %,d conversations into PostgreSQL's tables%n", existing);
            String seeded = ScaleSeeding.postgres(postgres, database, existing);
            runScaleRow(postgresUnderTest(postgres, database, processes), round, "postgres", variant.qualify(label),
                new CreationAtScale(runId, existing, seeded), variant.watchers());
          } finally {
            for (ServerProcess p : processes) {
              p.close();
            }
          }
        }
      }
      if (pgbench && servers == 1 && variant.watchers() == 0) {
        runPgbench(round, postgres, selected, variant);
      }
    }
  }

  /** {@code servers} servers on {@code database}, started one after the other (the first migrates the schema). */
  private List<ServerProcess> startPostgresServers(ThrowawayPostgres postgres, String database, int servers,
      ServerVariant variant, List<String> extraArgs) throws Exception {
    List<String> args = new ArrayList<>(List.of("--metrics-enabled", "true", "--metrics-port", "0",
        "--database-backend", "postgres", "--database-url", postgres.url(database)));
    args.addAll(serverArgs);
    args.addAll(variant.serverArgs());
    args.addAll(extraArgs);
    List<ServerProcess> processes = new ArrayList<>();
    try {
      for (int i = 0; i < servers; i++) {
        processes.add(ServerProcess.launch(jarOf(variant), serverPrefix(), serverJvm, args, null, Map.of()));
      }
    } catch (Exception | Error e) {
      for (ServerProcess p : processes) {
        p.close();
      }
      throw e;
    }
    return processes;
  }

  /** The servers on PostgreSQL, with the cluster's processes as their database (pinned with --pin-cores). */
  private ServerUnderTest postgresUnderTest(ThrowawayPostgres postgres, String database,
      List<ServerProcess> processes) throws IOException, InterruptedException {
    Long postmaster = new PgbenchTurn(postgres, database).postmasterPid();
    if (pinCores && postmaster != null) {
      CorePinning.pinTreeToServerCore(postmaster);
    }
    ServerUnderTest server = new ServerUnderTest(processes.stream().map(ServerProcess::target).toList(),
        processes.stream().map(ServerProcess::metricsUrl).toList(),
        processes.stream().map(ServerProcess::pid).toList());
    server.databasePid(postmaster);
    return server;
  }

  /**
   * pgbench on the cluster the server just used, with the server's SQL and values per turn, for W1 and W1-1rpc
   * (those selected), the search words as the server's configuration writes them (none with
   * {@code --search-index false}): with as many connections as the benchmark has clients (durability {@code sql}),
   * and, when the server's pool is smaller, with as many as the server writes through (durability {@code pool}),
   * where PostgreSQL meets the concurrency the server gives it.
   */
  private void runPgbench(int round, ThrowawayPostgres postgres, List<String> selected, ServerVariant variant)
      throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(serverArgs);
    args.addAll(variant.serverArgs());
    boolean searchIndex = PgbenchTurn.searchIndex(args);
    int pool = PgbenchTurn.poolSize(args);
    for (PgbenchTurn.Script script : PgbenchTurn.Script.values()) {
      if (!selected.contains(script.workload.toUpperCase(Locale.ROOT))) {
        continue;
      }
      if (values == null) {
        values = PgbenchValues.ofFirstTurn();
      }
      runPgbench(round, postgres, script, searchIndex, clients, variant.qualify("sql"));
      if (pool < clients) {
        runPgbench(round, postgres, script, searchIndex, pool, variant.qualify("pool"));
      }
      if (script == PgbenchTurn.Script.ONE_CALL && !pgbenchBatch.isEmpty()) {
        List<PgbenchTurn.Batching> batchings = new ArrayList<>();
        pgbenchBatch.forEach(k -> batchings.add(new PgbenchTurn.Batching(k, false)));
        batchings.add(PgbenchTurn.Batching.OWN_TENANTS);
        System.out.println("bench: batching on " + postgres.psql("bench", "SELECT version()").strip());
        for (PgbenchTurn.Batching batching : batchings) {
          runPgbench(round, postgres, batching, searchIndex, Math.min(pool, clients),
              variant.qualify(pool < clients ? "pool" : "sql"));
        }
      }
    }
  }

  private void runPgbench(int round, ThrowawayPostgres postgres, PgbenchTurn.Batching batching,
      boolean searchIndex, int connections, String durability) throws IOException, InterruptedException {
    System.out.printf("%s postgres/%s c=%d: pgbench, W1-1rpc's SQL (%s, search words %s), %s warm-up%n",
        batching.row(), durability, connections, batching.resource(), searchIndex ? "on" : "NULL",
        DurationConverter.format(warmup));
    PgbenchTurn.Outcome o = new PgbenchTurn(postgres, "bench").run(batching, searchIndex, values, connections,
        warmup, duration);
    System.out.printf(Locale.ROOT, "%s postgres/%s c=%d: %d turns (%d transactions) in %.1f s = %.0f turns/s, mean"
        + " latency %.2f ms per transaction, %s WAL syncs per turn (%s turns per sync), PostgreSQL CPU %s ms per"
        + " turn; %s; stored %s%n", batching.row(), durability, connections, o.turns(), o.transactions(), o.seconds(),
        o.turnsPerSecond(), o.latencyAverageMs(), o.walSyncs() == null || o.turns() == 0 ? "-"
            : String.format(Locale.ROOT, "%.3f", (double) o.walSyncs() / o.turns()),
        o.walSyncs() == null || o.walSyncs() == 0 ? "-"
            : String.format(Locale.ROOT, "%.2f", (double) o.turns() / o.walSyncs()),
        o.databaseCpuMs() == null || o.turns() == 0 ? "-"
            : String.format(Locale.ROOT, "%.3f", o.databaseCpuMs() / o.turns()), o.walPerTurn(), o.stored());
    results.add(PgbenchTurn.row(round, batching, durability, connections, o));
  }

  private void runPgbench(int round, ThrowawayPostgres postgres, PgbenchTurn.Script script, boolean searchIndex,
      int connections, String durability) throws IOException, InterruptedException {
    System.out.printf("%s postgres/%s c=%d: pgbench with the server's SQL per %s turn (%s, search words %s), %s"
        + " warm-up%n", script.row(), durability, connections, script.workload, script.resource,
        searchIndex ? "on" : "NULL", DurationConverter.format(warmup));
    PgbenchTurn.Outcome o = new PgbenchTurn(postgres, "bench").run(script, searchIndex, values, connections, warmup,
        duration);
    System.out.printf(Locale.ROOT, "%s postgres/%s c=%d: %d turns in %.1f s = %.0f turns/s, mean latency %.2f ms,"
        + " PostgreSQL CPU %s ms per turn; %s%n", script.row(), durability, connections, o.turns(), o.seconds(),
        o.turnsPerSecond(), o.latencyAverageMs(), o.databaseCpuMs() == null || o.turns() == 0 ? "-"
            : String.format(Locale.ROOT, "%.3f", o.databaseCpuMs() / o.turns()), o.walPerTurn());
    results.add(PgbenchTurn.row(round, script, durability, connections, o));
  }

  /** What the server's command starts with: taskset onto the server's core with --pin-cores, else nothing. */
  private List<String> serverPrefix() {
    return pinCores ? CorePinning.serverPrefix() : List.of();
  }

  private ServerProcess startServer(String backend, String durability, Path database, ServerVariant variant,
      List<String> extraArgs) throws Exception {
    List<String> args = new ArrayList<>(List.of("--metrics-enabled", "true", "--metrics-port", "0"));
    switch (backend) {
      case "memory" -> args.addAll(List.of("--database-enabled", "false"));
      case "sqlite" -> args.addAll(List.of("--database-path", database.toString(),
          "--database-durability", durability));
      default -> throw new CommandLine.ParameterException(spec.commandLine(), "unknown backend " + backend);
    }
    args.addAll(serverArgs);
    args.addAll(variant.serverArgs());
    args.addAll(extraArgs);
    List<String> jvm = new ArrayList<>(serverJvm);
    if (backend.equals("memory")) {
      jvm.removeIf(o -> o.startsWith("-Xmx"));
      jvm.add("-Xmx" + memoryServerHeap);
    }
    System.out.printf("%nbench: starting the server: backend=%s durability=%s%s%s%n", backend, durability,
        backend.equals("sqlite") ? ", database " + database : "",
        variant.label().isEmpty() ? "" : ", variant " + variant.label() + " " + variant.serverArgs()
            + (variant.jar() == null ? "" : " " + variant.jar()));
    return ServerProcess.launch(jarOf(variant), serverPrefix(), jvm, args, null, Map.of());
  }

  private static Path jarOf(ServerVariant variant) {
    return variant.jar() != null ? variant.jar() : ServerProcess.serverJar();
  }

  /** Warms {@code server} up, then measures each selected workload on it. */
  private void runAll(ServerUnderTest server, int round, String backend, String durability, List<String> selected,
      int watchers) throws InterruptedException {
    withDriver(server, round, backend, durability, watchers, (driver, catalogue) -> {
      if (!serverWarmup.isZero()) {
        driver.warmUp(catalogue, serverWarmup, serverWarmupMax);
      }
      for (String w : selected) {
        for (Workload workload : catalogue.named(w)) {
          results.add(driver.measure(workload, duration, warmup, maxOps));
        }
      }
    }, catalogue -> pauses.isEmpty() ? List.of() : catalogue.paused(pauseClients, pauses));
  }

  /** What runs on a {@link LoadDriver} of one server. */
  private interface DriverTask {
    void run(LoadDriver driver, Workloads catalogue) throws InterruptedException;
  }

  private void withDriver(ServerUnderTest server, int round, String backend, String durability, int watchers,
      DriverTask task) throws InterruptedException {
    withDriver(server, round, backend, durability, watchers, task, catalogue -> List.of());
  }

  /**
   * Connects the clients to {@code server} (with {@code watchers} tenant-wide Watch streams following every write
   * from the start), runs {@code task}, then measures {@code pausedRows} (the pause workload) with no watchers.
   */
  private void withDriver(ServerUnderTest server, int round, String backend, String durability, int watchers,
      DriverTask task, Function<Workloads, List<Workload>> pausedRows)
      throws InterruptedException {
    Workloads catalogue = new Workloads(runId, new SyntheticMessages(messageIds), clients, w1MessagesPerConversation,
        w5MessagesPerConversation);
    int needed = Math.max(Math.max(clients, Workloads.HOT_THREAD_CLIENTS), pauseClients);
    List<ConversationClient> pool = new ArrayList<>();
    for (int i = 0; i < Math.max(Math.max(1, channels), server.targets.size()); i++) {
      // No client deadline: every op gets its own (ClosedLoop.OP_DEADLINE), every setup a longer one. With several
      // servers, the channels (and so the clients) are spread over them.
      pool.add(ConversationClient.builder(server.targets.get(i % server.targets.size())).maxAttempts(1).build());
    }
    try {
      ConversationServiceBlockingStub[] stubs = new ConversationServiceBlockingStub[needed];
      for (int c = 0; c < needed; c++) {
        stubs[c] = pool.get(c % pool.size()).stub().withDeadline(null);
      }
      LoadDriver driver = new LoadDriver(server, stubs, round, backend, durability);
      // From the start, so that the watchers follow every write as they would in production (never a catch-up).
      try (TenantWatchers watching = new TenantWatchers(pool.get(0), watchers)) {
        task.run(driver, catalogue);
        if (watchers > 0) {
          System.out.printf("bench: %d watcher(s) received %d events (%d resumed after being cut off)%n", watchers,
              watching.events(), watching.resumes());
        }
      }
      for (Workload workload : pausedRows.apply(catalogue)) {
        // A fixed number of turns: with a 5 s pause, a duration would give only a handful.
        Duration bound = workload.pause.plusSeconds(60).multipliedBy(pauseTurns);
        results.add(driver.measure(workload, bound, Duration.ZERO, (long) pauseTurns * pauseClients));
      }
    } finally {
      for (ConversationClient client : pool) {
        client.close();
      }
    }
  }

  /** The options a run's figures depend on, for its JSON. */
  private Map<String, Object> settings() {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("target", target);
    settings.put("duration", DurationConverter.format(duration));
    settings.put("warmup", DurationConverter.format(warmup));
    settings.put("serverWarmup", DurationConverter.format(serverWarmup));
    settings.put("serverWarmupMax", DurationConverter.format(serverWarmupMax));
    settings.put("clients", clients);
    settings.put("channels", channels);
    settings.put("messageIds", messageIds);
    settings.put("w1MessagesPerConversation", w1MessagesPerConversation);
    settings.put("w5MessagesPerConversation", w5MessagesPerConversation);
    settings.put("serverJvmOpts", target == null ? String.join(" ", serverJvm) : null);
    settings.put("serverArgs", serverArgs);
    settings.put("databaseDir", databaseDir == null ? null : databaseDir.toString());
    settings.put("rounds", rounds);
    settings.put("postgresServers", postgresServers);
    settings.put("pgbench", pgbench);
    settings.put("pgbenchBatch", pgbenchBatch);
    settings.put("variants", variantSpecs);
    settings.put("peers", peers);
    settings.put("peerSizes", peerSizes);
    settings.put("peerTurns", peerTurns);
    settings.put("pinCores", pinCores);
    settings.put("pauses", pauses.stream().map(DurationConverter::format).toList());
    settings.put("pauseClients", pauseClients);
    settings.put("pauseTurns", pauseTurns);
    settings.put("scaleSizes", scaleSizes);
    return settings;
  }

  static void deleteTree(Path dir) {
    try {
      FileTrees.delete(dir);
    } catch (IOException e) {
      System.out.println("bench: could not delete " + dir + ": " + e);
    }
  }
}
