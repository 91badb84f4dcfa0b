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
      return withoutWords(read(resource), searchIndex);
    }
  }

  private static String read(String resource) throws IOException {
    try (InputStream in = PgbenchTurn.class.getClassLoader().getResourceAsStream(resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Without the search index (the server's {@code --search-index false}) the words are NULL, as the server sends. */
  private static String withoutWords(String text, boolean searchIndex) {
    return searchIndex ? text : text.replace("CAST(:user_words AS tsvector)", "CAST(NULL AS tsvector)")
        .replace("CAST(:assistant_words AS tsvector)", "CAST(NULL AS tsvector)");
  }

  /**
   * A variant of W1-1rpc's turn for issue 19's batching question (docs/benchmark.md, "Does batching several
   * requests per transaction pay on PostgreSQL?"): {@code turnsPerTransaction} turns of as many conversations of
   * the one tenant per transaction ({@code bench/pgbench-w1-1rpc-batch-turn.sql}), or, with {@code ownTenants},
   * W1-1rpc's own script with every client in a tenant of its own (no version counter shared).
   */
  record Batching(int turnsPerTransaction, boolean ownTenants) {
    /** W1-1rpc's script as it is: one turn per transaction, all clients in tenant {@link #TENANT}. */
    static final Batching NONE = new Batching(1, false);
    static final Batching OWN_TENANTS = new Batching(1, true);
    private static final String TEMPLATE = "bench/pgbench-w1-1rpc-batch-turn.sql";

    Batching {
      if (turnsPerTransaction < 1) {
        throw new IllegalArgumentException("turns per transaction must be at least 1: " + turnsPerTransaction);
      }
    }

    /** The row's workload name: W1-1rpc-pgbench-batch4, W1-1rpc-pgbench-tenants. */
    String row() {
      return Script.ONE_CALL.row() + (ownTenants ? "-tenants" : "-batch" + turnsPerTransaction);
    }

    String resource() {
      return ownTenants ? Script.ONE_CALL.resource : TEMPLATE;
    }

    /** The script: the template with K's lists, or W1-1rpc's script with the client's own tenant. */
    String text(boolean searchIndex) throws IOException {
      if (ownTenants) {
        return "\\set own_tenant :tenant_base + :client_id\n"
            + Script.ONE_CALL.text(searchIndex).replace(":tenant", ":own_tenant");
      }
      int k = turnsPerTransaction;
      StringBuilder sets = new StringBuilder();
      List<String> threads = new ArrayList<>();
      List<String> cids = new ArrayList<>();
      List<String> batch = new ArrayList<>();
      List<String> messages = new ArrayList<>();
      for (int j = 0; j < k; j++) {
        sets.append(String.format(Locale.ROOT, "\\set t%d :client_id * %d + %d%n\\set c%d :first_cid + :t%d%n", j, k, j,
            j, j));
        threads.add(":t" + j);
        cids.add(":c" + j);
        batch.add(String.format(Locale.ROOT, "(%d, CAST(:t%d AS text), CAST(:c%d AS bigint))", j, j, j));
        messages.add(String.format(Locale.ROOT, "(:c%d, :n, :n, :user_json, now(), CAST(:user_words AS tsvector)),"
            + "\n  (:c%d, :n1, :n1, :assistant_json, now(), CAST(:assistant_words AS tsvector))", j, j));
      }
      String text = read(TEMPLATE).replace("@SETS@", sets.toString().strip())
          .replace("@THREADS@", String.join(", ", threads)).replace("@CIDS@", String.join(", ", cids))
          .replace("@BATCH@", String.join(", ", batch)).replace("@MESSAGES@", String.join(",\n  ", messages))
          .replace("@K@", Integer.toString(k));
      return withoutWords(text, searchIndex);
    }
  }

  /** Client c's tenant in {@link Batching#OWN_TENANTS}: this number plus c, as text. */
  static final long TENANT_BASE = 900_000_000L;

  /**
   * pgbench's figures: turns (its transactions times the turns in each) per second and the transactions' mean
   * latency; and, null where unknown, PostgreSQL's CPU and the bytes it caused to be written, pgbench's own CPU,
   * and PostgreSQL's WAL activity ({@code pg_stat_wal}), over the measured run; {@code stored}: for a
   * {@link Batching} run, what the database holds afterwards, as checked ({@link #checkStored}).
   */
  record Outcome(long turns, long transactions, double seconds, double turnsPerSecond, double latencyAverageMs,
      Double databaseCpuMs, Double diskBytes, Double clientCpuMs, Wal wal, String stored) {
    Long walSyncs() {
      return wal == null ? null : wal.syncs();
    }

    /** "WAL 12.3 KB per turn, 0.40 full-page images", or "" when unknown. */
    String walPerTurn() {
      return wal == null || turns == 0 ? "" : String.format(Locale.ROOT, "WAL %.1f KB per turn (%.2f full-page"
          + " images), %d WAL writes", wal.bytes() / 1000.0 / turns, (double) wal.fullPageImages() / turns,
          wal.writes());
    }
  }

  /**
   * PostgreSQL's WAL counters ({@code pg_stat_wal}, PostgreSQL 14 on), or their difference over a run: flushes,
   * writes, bytes, and full-page images (whole 8 KiB pages logged at their first change after a checkpoint).
   */
  record Wal(long syncs, long writes, long bytes, long fullPageImages) {
    Wal since(Wal before) {
      return new Wal(syncs - before.syncs, writes - before.writes, bytes - before.bytes,
          fullPageImages - before.fullPageImages);
    }
  }

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
    return run(script.text(searchIndex), Batching.NONE, false, values, clients, warmup, length);
  }

  /** As {@link #run(Script, ...)} for a batching variant, then checks what it stored ({@link #checkStored}). */
  Outcome run(Batching batching, boolean searchIndex, PgbenchValues values, int clients, Duration warmup,
      Duration length) throws IOException, InterruptedException {
    return run(batching.text(searchIndex), batching, true, values, clients, warmup, length);
  }

  private Outcome run(String text, Batching layout, boolean check, PgbenchValues values, int clients,
      Duration warmup, Duration length) throws IOException, InterruptedException {
    Path file = Files.createTempFile("pgbench-turn", ".sql");
    try {
      Files.writeString(file, text);
      // The postgres user runs pgbench (as root the fixture switches to it): it must read the script.
      file.toFile().setReadable(true, false);
      if (warmup.toSeconds() > 0) {
        newConversations(clients, layout);
        pgbench(file, values, clients, warmup);
      }
      newConversations(clients, layout);
      long lastEntry = Long.parseLong(postgres.psql(database, "SELECT coalesce(max(entry_id), 0) FROM change_log")
          .strip());
      Wal walBefore = wal();
      Long postmaster = postmasterPid();
      ProcessTree.Sample before = ProcessTree.sample(postmaster);
      long clientBefore = reapedChildrenCpuMillis();
      String output = pgbench(file, values, clients, length);
      long clientCpu = reapedChildrenCpuMillis() - clientBefore;
      awaitBackendsGone();
      ProcessTree.Sample after = ProcessTree.sample(postmaster);
      Wal walAfter = wal();
      long transactions = count(output);
      int k = layout.turnsPerTransaction();
      String stored = check ? checkStored(layout, transactions, lastEntry) : null;
      return new Outcome(transactions * k, transactions, length.toMillis() / 1000.0, figure(TPS, output) * k,
          figure(LATENCY, output), after == null ? null : after.cpuMillisSince(before),
          after == null ? null : after.writeBytesSince(before), clientCpu < 0 ? null : (double) clientCpu,
          walBefore == null || walAfter == null ? null : walAfter.since(walBefore), stored);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** PostgreSQL's WAL counters so far, or null where unknown. */
  private Wal wal() {
    try {
      String[] f = postgres.psql(database, "SELECT wal_sync || ' ' || wal_write || ' ' || wal_bytes || ' ' ||"
          + " wal_fpi FROM pg_stat_wal").strip().split(" ");
      return new Wal(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * Checks that a batching run stored exactly its turns, K to a transaction: as many change log entries (after
   * {@code lastEntry}) as pgbench's transactions times K, each tenant's versions contiguous, two messages per
   * entry, and each client's K conversations at one message count (every transaction wrote all of them). Returns
   * what it found; throws when any of it is not so, since the row would then measure another amount of work.
   */
  private String checkStored(Batching layout, long transactions, long lastEntry) {
    int k = layout.turnsPerTransaction();
    String[] f = postgres.psql(database, "SELECT (SELECT count(*) FROM change_log WHERE entry_id > " + lastEntry
        + ") || ' ' || (SELECT count(*) FROM (SELECT tenant FROM change_log WHERE entry_id > " + lastEntry
        + " GROUP BY tenant HAVING max(version) - min(version) + 1 <> count(*)) g) || ' ' || (SELECT count(*) FROM"
        + " messages WHERE conversation_id >= " + FIRST_CID + ") || ' ' || (SELECT coalesce(sum(message_count), 0)"
        + " FROM conversations WHERE conversation_id >= " + FIRST_CID + ") || ' ' || (SELECT count(*) FROM (SELECT"
        + " (conversation_id - " + FIRST_CID + ") / " + k + " AS client FROM conversations WHERE conversation_id >= "
        + FIRST_CID + " GROUP BY 1 HAVING min(message_count) <> max(message_count)) u)").strip().split(" ");
    long entries = Long.parseLong(f[0]);
    long gapped = Long.parseLong(f[1]);
    long messages = Long.parseLong(f[2]);
    long counted = Long.parseLong(f[3]);
    long uneven = Long.parseLong(f[4]);
    String found = String.format(Locale.ROOT, "%d change log entries in %d commits, %d tenant(s) with versions not"
        + " contiguous, %d messages (rows' counts: %d), %d client(s) with conversations at different counts",
        entries, transactions, gapped, messages, counted, uneven);
    if (entries != transactions * k || gapped != 0 || messages != 2 * entries || counted != messages
        || uneven != 0) {
      throw new IllegalStateException(layout.row() + " did not store " + k + " turn(s) per transaction: " + found);
    }
    return found;
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

  /**
   * Replaces pgbench's conversations (and their messages) by new empty ones, untimed: K per client in tenant
   * {@link #TENANT} (thread ids from 0, conversation_id {@link #FIRST_CID} + thread id), or, with own tenants, one
   * per client in tenant {@link #TENANT_BASE} + client id.
   */
  private void newConversations(int clients, Batching layout) {
    int conversations = clients * layout.turnsPerTransaction();
    String tenant = layout.ownTenants() ? "(" + TENANT_BASE + " + i)::text" : "'" + TENANT + "'";
    postgres.psql(database, "DELETE FROM conversations WHERE tenant = '" + TENANT + "' OR conversation_id >= "
        + FIRST_CID + "; INSERT INTO tenants (tenant, conversations) VALUES ('" + TENANT + "', 0) ON CONFLICT (tenant)"
        + " DO UPDATE SET conversations = 0;"
        + (layout.ownTenants() ? " INSERT INTO tenants (tenant, conversations) SELECT (" + TENANT_BASE
            + " + i)::text, 0 FROM generate_series(0, " + (clients - 1) + ") AS i ON CONFLICT (tenant) DO NOTHING;"
            : "")
        + " INSERT INTO conversations (conversation_id, tenant, thread_id, version, create_time, update_time,"
        + " message_count, history_bytes) OVERRIDING SYSTEM VALUE SELECT " + FIRST_CID + " + i, " + tenant + ","
        + " i::text, 0, now(), now(), 0, 0 FROM generate_series(0, " + (conversations - 1) + ") AS i;"
        + " UPDATE tenants t SET conversations = (SELECT count(*) FROM conversations c WHERE c.tenant = t.tenant)"
        + " WHERE t.tenant = '" + TENANT + "' OR t.tenant LIKE '" + TENANT_BASE / 1000 + "%'");
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
        "-D", "tenant=" + TENANT, "-D", "tenant_base=" + TENANT_BASE, "-D", "first_cid=" + FIRST_CID, "-D", "n=0", "-D", "hb=0",
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
    return row(round, script.row(), durability, clients, o, String.format(Locale.ROOT,
        "pgbench, the server's SQL per %s turn; mean latency %.2f ms; %s", script.workload, o.latencyAverageMs(),
        o.walPerTurn()));
  }

  /** The row of a batching variant: turns per WAL sync as writesPerSync, the check of what it stored in the note. */
  static Result row(int round, Batching batching, String durability, int clients, Outcome o) {
    return row(round, batching.row(), durability, clients, o, String.format(Locale.ROOT,
        "pgbench, W1-1rpc's SQL, %s; mean latency %.2f ms per transaction; %s; stored: %s",
        batching.ownTenants() ? "1 turn per transaction, each client in a tenant of its own"
            : batching.turnsPerTransaction() + " turn(s) of one tenant per transaction", o.latencyAverageMs(),
        o.walPerTurn(), o.stored()));
  }

  private static Result row(int round, String workload, String durability, int clients, Outcome o, String note) {
    Double perTurn = o.turns() == 0 ? null : 1.0 / o.turns();
    Double turnsPerSync = o.walSyncs() == null || o.walSyncs() == 0 ? null : (double) o.turns() / o.walSyncs();
    return new Result(round, workload, "postgres", durability, clients, o.turns(), o.seconds(), o.turnsPerSecond(),
        Double.NaN, Double.NaN, Double.NaN, null, times(o.databaseCpuMs(), perTurn), turnsPerSync, null, null, 0, 0,
        null, note, new MachineCpu.Use(null, null, times(o.clientCpuMs(), perTurn)), times(o.diskBytes(), perTurn),
        null);
  }
}
