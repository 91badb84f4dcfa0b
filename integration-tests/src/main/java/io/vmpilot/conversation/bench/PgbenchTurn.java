package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What PostgreSQL itself does for a W1 turn's SQL: pgbench runs {@link Script#W1} (the statements and values the
 * server sends for an Append and an UpdateCache, see docs/benchmark.md) or {@link Script#ONE_CALL} (W1-1rpc's one
 * Append carrying the counters) against the same cluster, in the same round, with as many connections as the
 * benchmark has clients or as the server's pool, so that the server's W1 can be set against it (issue 19's target:
 * at least 0.8x, {@link PostgresTarget}).
 */
final class PgbenchTurn {
  /** The tenant pgbench's conversations are in (its own versions, apart from the server's tenant). */
  static final String TENANT = "pgbench";
  /** pgbench's client c has conversation_id FIRST_CID + c (far above the ids PostgreSQL hands the server). */
  static final long FIRST_CID = 1_000_000_000_000L;
  private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
  private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");

  /** A turn's script, with the workload whose SQL it sends. */
  enum Script {
    W1("W1", "bench/pgbench-w1-turn.sql"),
    ONE_CALL("W1-1rpc", "bench/pgbench-w1-1rpc-turn.sql");

    final String workload;
    final String resource;

    Script(String workload, String resource) {
      this.workload = workload;
      this.resource = resource;
    }

    /** The row's workload name: W1-pgbench, W1-1rpc-pgbench. */
    String row() {
      return workload + "-pgbench";
    }

    /**
     * The script's text; without the search index (the server's {@code --search-index false}), its words are
     * NULL, as the server then sends them.
     */
    String text(boolean searchIndex) throws IOException {
      try (InputStream in = PgbenchTurn.class.getClassLoader().getResourceAsStream(resource)) {
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        return searchIndex ? text : text.replace("CAST(:user_words AS tsvector)", "CAST(NULL AS tsvector)")
            .replace("CAST(:assistant_words AS tsvector)", "CAST(NULL AS tsvector)");
      }
    }
  }

  /**
   * pgbench's figures: turns per second and their mean latency; and, null where unknown, PostgreSQL's CPU and the
   * bytes it caused to be written, and pgbench's own CPU, over the measured run.
   */
  record Outcome(long turns, double seconds, double turnsPerSecond, double latencyAverageMs, Double databaseCpuMs,
      Double diskBytes, Double clientCpuMs) {}

  private final ThrowawayPostgres postgres;
  private final String database;

  PgbenchTurn(ThrowawayPostgres postgres, String database) {
    this.postgres = postgres;
    this.database = database;
  }

  /**
   * Runs {@code script} unmeasured for {@code warmup}, then measured for {@code length}, with {@code clients}, each
   * run on new empty conversations (as the server's W1 starts on new ones).
   */
  Outcome run(Script script, boolean searchIndex, PgbenchValues values, int clients, Duration warmup,
      Duration length) throws IOException, InterruptedException {
    Path file = Files.createTempFile("pgbench-turn", ".sql");
    try {
      Files.writeString(file, script.text(searchIndex));
      // The postgres user runs pgbench (as root the fixture switches to it): it must read the script.
      file.toFile().setReadable(true, false);
      if (warmup.toSeconds() > 0) {
        newConversations(clients);
        pgbench(file, values, clients, warmup);
      }
      newConversations(clients);
      Long postmaster = postmasterPid();
      ProcessTree.Sample before = ProcessTree.sample(postmaster);
      long clientBefore = reapedChildrenCpuMillis();
      String output = pgbench(file, values, clients, length);
      long clientCpu = reapedChildrenCpuMillis() - clientBefore;
      awaitBackendsGone();
      ProcessTree.Sample after = ProcessTree.sample(postmaster);
      return new Outcome(count(output), length.toMillis() / 1000.0, figure(TPS, output), figure(LATENCY, output),
          after == null ? null : after.cpuMillisSince(before), after == null ? null : after.writeBytesSince(before),
          clientCpu < 0 ? null : (double) clientCpu);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** The server's default {@code --database-pool-size}. */
  static final int DEFAULT_POOL_SIZE = 10;

  /**
   * Whether a server with {@code args} writes search words: unless the last {@code --search-index} among them says
   * false.
   */
  static boolean searchIndex(List<String> args) {
    return !"false".equalsIgnoreCase(lastValue(args, "--search-index", "true"));
  }

  /** The connections a server with {@code args} writes through ({@code --database-pool-size}). */
  static int poolSize(List<String> args) {
    return Integer.parseInt(lastValue(args, "--database-pool-size", Integer.toString(DEFAULT_POOL_SIZE)));
  }

  /** The last value of {@code option} among {@code args} (as {@code --name=value} or {@code --name value}). */
  private static String lastValue(List<String> args, String option, String otherwise) {
    String value = otherwise;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i).strip();
      if (a.startsWith(option + "=")) {
        value = a.substring(option.length() + 1).strip();
      } else if (a.equals(option) && i + 1 < args.size()) {
        value = args.get(++i).strip();
      }
    }
    return value;
  }

  /** Replaces pgbench's conversations (and their messages) by {@code clients} empty ones, untimed. */
  private void newConversations(int clients) {
    postgres.psql(database, "INSERT INTO tenants (tenant, conversations) VALUES ('" + TENANT + "', 0)"
        + " ON CONFLICT DO NOTHING; DELETE FROM conversations WHERE tenant = '" + TENANT + "';"
        + " INSERT INTO conversations (conversation_id, tenant, thread_id, version, create_time, update_time,"
        + " message_count, history_bytes) OVERRIDING SYSTEM VALUE SELECT " + FIRST_CID + " + i, '" + TENANT + "',"
        + " i::text, 0, now(), now(), 0, 0 FROM generate_series(0, " + (clients - 1) + ") AS i;"
        + " UPDATE tenants SET conversations = " + clients + " WHERE tenant = '" + TENANT + "'");
  }

  /** The postmaster's process id (the parent of the checkpointer), or null when it cannot be read. */
  Long postmasterPid() {
    try {
      String checkpointer = postgres.psql(database, "SELECT pid FROM pg_stat_activity WHERE backend_type ="
          + " 'checkpointer'");
      return ProcStat.parentPid(Files.readString(Path.of("/proc", checkpointer.strip(), "stat")));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Waits (at most 10 s) until pgbench's backends have ended, so that the postmaster has reaped them and their CPU
   * and writes are in its figures.
   */
  private void awaitBackendsGone() throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end && !postgres.psql(database, "SELECT count(*) FROM pg_stat_activity WHERE"
        + " backend_type = 'client backend' AND pid <> pg_backend_pid()").strip().equals("0")) {
      Thread.sleep(20);
    }
  }

  /** CPU of the programs this JVM has run and waited for (pgbench, through runuser), in ms; -1 when unknown. */
  private static long reapedChildrenCpuMillis() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      return ProcStat.cpuMillisWithChildren(stat) - ProcStat.cpuMillis(stat);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private String pgbench(Path script, PgbenchValues values, int clients, Duration length)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      command.addAll(List.of("runuser", "-u", ThrowawayPostgres.SUPERUSER, "--"));
    }
    command.add(postgres.binaries().program("pgbench").toString());
    command.addAll(postgres.connectionArguments());
    command.addAll(List.of("-n", "-M", "prepared", "-c", Integer.toString(clients),
        "-j", Integer.toString(Math.min(clients, Runtime.getRuntime().availableProcessors())),
        "-T", Long.toString(Math.max(1, length.toSeconds())), "-f", script.toString(),
        "-D", "tenant=" + TENANT, "-D", "first_cid=" + FIRST_CID, "-D", "n=0", "-D", "hb=0",
        "-D", "cache_names={input_tokens,output_tokens,cache_read_input_tokens}", "-D", "cache_values={1700,300,650}",
        "-D", "no_messages=\\x"));
    command.addAll(values.defines());
    command.add(database);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).directory(Path.of("/tmp").toFile()).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(length.toSeconds() + 120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException("pgbench failed:\n" + output);
    }
    return output;
  }

  private static Double times(Double a, Double b) {
    return a == null || b == null ? null : a * b;
  }

  private static long count(String output) {
    Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(output);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private static double figure(Pattern pattern, String output) {
    Matcher m = pattern.matcher(output);
    if (!m.find()) {
      throw new UncheckedIOException(new IOException("pgbench printed no " + pattern + ":\n" + output));
    }
    return Double.parseDouble(m.group(1));
  }

  /** The table row for pgbench's run of {@code script} (its latency is a mean: pgbench gives no percentiles). */
  static Result row(int round, Script script, String durability, int clients, Outcome o) {
    Double perTurn = o.turns() == 0 ? null : 1.0 / o.turns();
    return new Result(round, script.row(), "postgres", durability, clients, o.turns(), o.seconds(),
        o.turnsPerSecond(), Double.NaN, Double.NaN, Double.NaN, null, times(o.databaseCpuMs(), perTurn), null, null,
        null, 0, 0, null,
        String.format(Locale.ROOT, "pgbench, the server's SQL per %s turn; mean latency %.2f ms", script.workload,
            o.latencyAverageMs()),
        new MachineCpu.Use(null, null, times(o.clientCpuMs(), perTurn)), times(o.diskBytes(), perTurn), null);
  }
}
