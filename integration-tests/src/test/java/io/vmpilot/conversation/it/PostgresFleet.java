package io.vmpilot.conversation.it;

import io.vmpilot.conversation.testing.postgres.ThrowawayPostgres;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Several real server processes on one real PostgreSQL database, as operators run them: each started with the
 * same {@code --database-backend postgres --database-url ...} and nothing else in common. Closing stops the servers,
 * then the cluster.
 */
final class PostgresFleet implements AutoCloseable {
  private static final String DATABASE = "conversations";
  private final ThrowawayPostgres postgres;
  private final List<ServerProcess> servers = new ArrayList<>();
  private final List<String> extraArgs;

  private PostgresFleet(ThrowawayPostgres postgres, List<String> extraArgs) {
    this.postgres = postgres;
    this.extraArgs = extraArgs;
  }

  /** A new cluster with a database, and {@code count} servers on it, each started with {@code extraArgs}. */
  static PostgresFleet start(int count, String... extraArgs) throws IOException {
    ThrowawayPostgres postgres = ThrowawayPostgres.launch();
    PostgresFleet fleet = new PostgresFleet(postgres, List.of(extraArgs));
    try {
      postgres.createDatabase(DATABASE);
      for (int i = 0; i < count; i++) {
        fleet.servers.add(fleet.startServer());
      }
      return fleet;
    } catch (IOException | RuntimeException e) {
      fleet.close();
      throw e;
    }
  }

  /** Another server on the same database, on a port of its own. */
  ServerProcess startServer() throws IOException {
    return startServer(List.of());
  }

  /**
   * Stops server {@code i} (SIGTERM, graceful) and starts a new one on the same port, as a rolling restart does
   * behind a fixed address; returns the old one's exit code.
   */
  int restartOnSamePort(int i) throws IOException, InterruptedException {
    int port = servers.get(i).port();
    int exitCode = servers.get(i).stop();
    servers.set(i, startServer(List.of("--port", Integer.toString(port))));
    return exitCode;
  }

  private ServerProcess startServer(List<String> more) throws IOException {
    List<String> args = new ArrayList<>(List.of("--database-backend", "postgres", "--database-url",
        postgres.url(DATABASE), "--database-pool-size", "4"));
    args.addAll(extraArgs);
    args.addAll(more);
    return ServerProcess.launch(List.of(), Rpc.FAST_START_JVM, args, null, Map.of());
  }

  ThrowawayPostgres postgres() {
    return postgres;
  }

  ServerProcess server(int i) {
    return servers.get(i);
  }

  /** Puts {@code replacement} in place {@code i} (after that server was stopped or killed). */
  void replace(int i, ServerProcess replacement) {
    servers.set(i, replacement);
  }

  int size() {
    return servers.size();
  }

  /** SQL on the servers' database, through psql. */
  String psql(String sql) {
    return postgres.psql(DATABASE, sql);
  }

  @Override
  public void close() {
    for (ServerProcess s : servers) {
      try {
        s.kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    postgres.close();
  }
}
