package io.vmpilot.conversation.testing.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real PostgreSQL cluster made for one test (or benchmark) run and removed by {@link #close()}: {@code initdb}
 * into a temporary directory, then {@code postgres} on a free port of 127.0.0.1 with its socket in that directory,
 * {@code fsync} and {@code synchronous_commit} on (as in production: a test of durability on a cluster that does
 * not sync would prove nothing), trust authentication for the superuser {@code postgres}.
 *
 * <p>As root, every PostgreSQL program runs as the {@code postgres} user (PostgreSQL refuses root), the directory
 * belonging to that user. Several clusters run side by side, each on its own port. The cluster can be stopped as
 * by a crash ({@link #stopImmediately()}) and started again on the same port and data ({@link #start()}), which is
 * what the fault tests do to the servers in front of it.
 */
public final class ThrowawayPostgres implements AutoCloseable {
  /** The superuser initdb creates; trusted on 127.0.0.1 without a password. */
  public static final String SUPERUSER = "postgres";
  private static final Duration PROGRAM_TIMEOUT = Duration.ofSeconds(120);
  private static final int PORT_ATTEMPTS = 5;

  private final PostgresBinaries binaries;
  private final Path root;
  private final Path dataDirectory;
  private final Path socketDirectory;
  private final Path logFile;
  private final Thread stopAtExit;
  private int port;
  private boolean running;

  private ThrowawayPostgres(PostgresBinaries binaries, Path root) {
    this.binaries = binaries;
    this.root = root;
    this.dataDirectory = root.resolve("data");
    this.socketDirectory = root.resolve("socket");
    this.logFile = root.resolve("postgres.log");
    // A test JVM that exits without closing (killed test run) must not leave a postgres behind.
    this.stopAtExit = new Thread(this::stopAtExit, "stop-throwaway-postgres");
  }

  /** A new cluster with the default settings, running. */
  public static ThrowawayPostgres launch() {
    return launch(Map.of());
  }

  /**
   * A new cluster, running, with {@code settings} added to its postgresql.conf (e.g. {@code max_connections}).
   * Fails with a message naming scripts/install-postgres when PostgreSQL is not installed.
   */
  public static ThrowawayPostgres launch(Map<String, String> settings) {
    PostgresBinaries binaries = PostgresBinaries.find();
    Path root;
    try {
      root = Files.createTempDirectory("vmpilot-postgres-");
      Files.createDirectories(root.resolve("socket"));
      if (Command.runningAsRoot()) {
        giveToPostgresUser(root);
        giveToPostgresUser(root.resolve("socket"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a directory for a PostgreSQL cluster: " + e.getMessage(), e);
    }
    ThrowawayPostgres cluster = new ThrowawayPostgres(binaries, root);
    try {
      cluster.initdb(settings);
      cluster.startOnAFreePort();
      Runtime.getRuntime().addShutdownHook(cluster.stopAtExit);
      return cluster;
    } catch (RuntimeException e) {
      cluster.removeFiles();
      throw e;
    }
  }

  private static void giveToPostgresUser(Path path) throws IOException {
    UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
    UserPrincipal user = users.lookupPrincipalByName(Command.POSTGRES_USER);
    GroupPrincipal group = users.lookupPrincipalByGroupName(Command.POSTGRES_USER);
    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
    view.setOwner(user);
    view.setGroup(group);
  }

  private void initdb(Map<String, String> settings) {
    Command.runChecked(PROGRAM_TIMEOUT, List.of(binaries.program("initdb").toString(),
        "-D", dataDirectory.toString(), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"));
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("listen_addresses", "'127.0.0.1'");
    conf.put("unix_socket_directories", "'" + socketDirectory + "'");
    conf.put("fsync", "on");
    conf.put("synchronous_commit", "on");
    conf.put("full_page_writes", "on");
    conf.put("max_connections", "200");
    conf.putAll(settings);
    StringBuilder lines = new StringBuilder("\n# Set by ThrowawayPostgres\n");
    conf.forEach((name, value) -> lines.append(name).append(" = ").append(value).append('\n'));
    // The port goes on pg_ctl's command line (-o -p), so that a retry on another port needs no edit of the file.
    Path postgresqlConf = dataDirectory.resolve("postgresql.conf");
    // As root, the file belongs to postgres but root may still append to it.
    try {
      Files.writeString(postgresqlConf, lines.toString(), StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + postgresqlConf + ": " + e.getMessage(), e);
    }
  }

  /** A port is free when picked but may be taken before postgres binds it: then another is tried. */
  private void startOnAFreePort() {
    IllegalStateException last = null;
    for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      port = freePort();
      try {
        start();
        return;
      } catch (IllegalStateException e) {
        if (!log().contains("could not bind")) {
          throw e;
        }
        last = e;
      }
    }
    throw last;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port: " + e.getMessage(), e);
    }
  }

  /**
   * Starts the cluster (again, after {@link #stop()} or {@link #stopImmediately()}), on the port it had, and waits
   * until it accepts connections (after a crash that includes its recovery).
   */
  public synchronized void start() {
    if (running) {
      return;
    }
    Command.Outcome outcome = Command.run(PROGRAM_TIMEOUT, List.of(binaries.program("pg_ctl").toString(),
        "-D", dataDirectory.toString(), "-l", logFile.toString(), "-w", "-t", "60", "-o", "-p " + port, "start"));
    if (outcome.exitCode() != 0) {
      throw new IllegalStateException("pg_ctl start failed (" + outcome.exitCode() + "): " + outcome.output()
          + "\nserver log:\n" + log());
    }
    running = true;
  }

  /** A clean stop (pg_ctl -m fast): sessions are ended, everything is flushed. */
  public synchronized void stop() {
    pgCtlStop("fast");
  }

  /**
   * Stops as by a crash or power cut of the database (pg_ctl -m immediate): no checkpoint, clients' connections
   * break at once; the next {@link #start()} recovers from the WAL.
   */
  public synchronized void stopImmediately() {
    pgCtlStop("immediate");
  }

  private void pgCtlStop(String mode) {
    if (!running) {
      return;
    }
    Command.runChecked(PROGRAM_TIMEOUT, List.of(binaries.program("pg_ctl").toString(),
        "-D", dataDirectory.toString(), "-m", mode, "-w", "-t", "60", "stop"));
    running = false;
  }

  public synchronized boolean isRunning() {
    return running;
  }

  public String host() {
    return "127.0.0.1";
  }

  public int port() {
    return port;
  }

  public PostgresBinaries binaries() {
    return binaries;
  }

  /** The database's address as libpq and psql take it: {@code postgresql://postgres@127.0.0.1:PORT/DATABASE}. */
  public String url(String database) {
    return "postgresql://" + SUPERUSER + "@" + host() + ":" + port + "/" + database;
  }

  /** The same address as the JDBC driver takes it (user not included). */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://" + host() + ":" + port + "/" + database;
  }

  /** Creates an empty database (from template0, owned by the superuser). */
  public void createDatabase(String name) {
    psql("postgres", "CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\" TEMPLATE template0");
  }

  /**
   * Runs {@code sql} with psql in {@code database} and returns what it printed, unaligned and without headers
   * ({@code -At}): one line per row, columns separated by {@code |}. Fails on the first SQL error.
   */
  public String psql(String database, String sql) {
    return Command.runChecked(PROGRAM_TIMEOUT, List.of(binaries.program("psql").toString(),
        "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", host(), "-p", Integer.toString(port), "-U", SUPERUSER,
        "-d", database, "-c", sql)).strip();
  }

  /** Extra arguments naming this cluster for PostgreSQL's own client programs (psql, pgbench): host, port, user. */
  public List<String> connectionArguments() {
    return new ArrayList<>(List.of("-h", host(), "-p", Integer.toString(port), "-U", SUPERUSER));
  }

  /** What the server wrote to its log so far. */
  public String log() {
    try {
      return Files.isRegularFile(logFile) ? Files.readString(logFile, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "[log unreadable: " + e + "]";
    }
  }

  /** Stops the cluster at once (its data is thrown away anyway) and removes its directory. */
  @Override
  public synchronized void close() {
    try {
      stopImmediately();
    } finally {
      removeFiles();
      try {
        Runtime.getRuntime().removeShutdownHook(stopAtExit);
      } catch (IllegalStateException | IllegalArgumentException e) {
        // Already exiting, or the hook was never added: nothing to remove.
      }
    }
  }

  private void stopAtExit() {
    try {
      stopImmediately();
    } catch (RuntimeException e) {
      // The JVM is exiting; the cluster's directory is in the temporary directory.
    }
    removeFiles();
  }

  private void removeFiles() {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A leftover temporary directory is no reason to fail a test.
    }
  }
}
