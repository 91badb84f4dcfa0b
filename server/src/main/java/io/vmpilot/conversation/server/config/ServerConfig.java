package io.vmpilot.conversation.server.config;

import io.vmpilot.conversation.server.grpc.RequestLimits;
import io.vmpilot.conversation.server.store.sqlite.Durability;
import io.vmpilot.conversation.server.store.sqlite.SqliteSettings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The server's whole configuration, resolved from flags, environment and config file.
 *
 * @param databaseEnabled true for the SQLite backend, false for the in-memory one (VMPilot's
 *     {@code [database] enabled})
 */
public record ServerConfig(
    String bindAddress,
    int port,
    boolean databaseEnabled,
    SqliteSettings sqlite,
    long maxHistoryBytes,
    int maxInboundMessageBytes,
    RequestLimits requestLimits,
    int executorThreads,
    Duration shutdownGrace,
    boolean metricsEnabled,
    int metricsPort,
    Path configFile) {

  public String backendName() {
    return databaseEnabled ? "sqlite" : "memory";
  }

  public Path databasePath() {
    return sqlite.path();
  }

  public Durability durability() {
    return sqlite.durability();
  }
}
