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
 * What PostgreSQL itself does for W1's SQL: pgbench runs {@code bench/pgbench-w1-turn.sql} (the statements the
 * server sends for one agent turn) with the same number of clients against the same cluster, in the same run, so
 * that W1 through the server can be set against it (issue 19's target: at least 0.8x).
 */
final class PgbenchTurn {
  static final String SCRIPT = "bench/pgbench-w1-turn.sql";
  private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
  private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");

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

  /** Runs the turn script unmeasured for {@code warmup}, then measured for {@code length}, with {@code clients}. */
  Outcome run(int clients, Duration warmup, Duration length) throws IOException, InterruptedException {
    postgres.psql(database, "INSERT INTO tenants (tenant, conversations) VALUES ('default', 0)"
        + " ON CONFLICT DO NOTHING; INSERT INTO conversations (tenant, thread_id, version, create_time, update_time,"
        + " message_count, history_bytes) SELECT 'default', 'pgbench-' || i, 0, now(), now(),"
        + " 0, 0 FROM generate_series(0, " + (clients - 1) + ") AS i ON CONFLICT DO NOTHING");
    Path script = Files.createTempFile("pgbench-w1-turn", ".sql");
    try (InputStream in = PgbenchTurn.class.getClassLoader().getResourceAsStream(SCRIPT)) {
      Files.write(script, in.readAllBytes());
      // The postgres user runs pgbench (as root the fixture switches to it): it must read the script.
      script.toFile().setReadable(true, false);
      if (warmup.toSeconds() > 0) {
        pgbench(script, clients, warmup);
      }
      Long postmaster = postmasterPid();
      ProcessTree.Sample before = ProcessTree.sample(postmaster);
      long clientBefore = reapedChildrenCpuMillis();
      String output = pgbench(script, clients, length);
      long clientCpu = reapedChildrenCpuMillis() - clientBefore;
      awaitBackendsGone();
      ProcessTree.Sample after = ProcessTree.sample(postmaster);
      return new Outcome(count(output), length.toMillis() / 1000.0, figure(TPS, output), figure(LATENCY, output),
          after == null ? null : after.cpuMillisSince(before), after == null ? null : after.writeBytesSince(before),
          clientCpu < 0 ? null : (double) clientCpu);
    } finally {
      Files.deleteIfExists(script);
    }
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

  private String pgbench(Path script, int clients, Duration length) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      command.addAll(List.of("runuser", "-u", ThrowawayPostgres.SUPERUSER, "--"));
    }
    command.add(postgres.binaries().program("pgbench").toString());
    command.addAll(postgres.connectionArguments());
    String user = SyntheticMessages.userMessage(0);
    String assistant = SyntheticMessages.assistantMessage(1);
    command.addAll(List.of("-n", "-M", "prepared", "-c", Integer.toString(clients),
        "-j", Integer.toString(Math.min(clients, Runtime.getRuntime().availableProcessors())),
        "-T", Long.toString(Math.max(1, length.toSeconds())), "-f", script.toString(),
        "-D", "user_message=" + user, "-D", "assistant_message=" + assistant, database));
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

  /** The table row for pgbench's run (its latency is a mean: pgbench gives no percentiles). */
  static Result row(int round, int clients, Outcome o) {
    Double perTurn = o.turns() == 0 ? null : 1.0 / o.turns();
    return new Result(round, "W1-pgbench", "postgres", "sql", clients, o.turns(), o.seconds(), o.turnsPerSecond(),
        Double.NaN, Double.NaN, Double.NaN, null, times(o.databaseCpuMs(), perTurn), null, null, null, 0, 0, null,
        String.format(Locale.ROOT, "pgbench, the same SQL per turn; mean latency %.2f ms", o.latencyAverageMs()),
        new MachineCpu.Use(null, null, times(o.clientCpuMs(), perTurn)), times(o.diskBytes(), perTurn), null);
  }
}
