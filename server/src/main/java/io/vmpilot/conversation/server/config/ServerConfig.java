package io.vmpilot.conversation.server.config;

import io.vmpilot.conversation.server.auth.TenantTokens;
import io.vmpilot.conversation.server.grpc.RequestLimits;
import io.vmpilot.conversation.server.store.sqlite.Durability;
import io.vmpilot.conversation.server.store.sqlite.SqliteSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;

/**
 * The server's whole configuration, resolved from flags, environment and config file.
 *
 * @param databaseEnabled true for the SQLite backend, false for the in-memory one (VMPilot's
 *     {@code [database] enabled})
 * @param authEnabled whether calls need a bearer token (else every call acts for the tenant "default")
 * @param tokens the known tokens (hashed) and their tenants
 * @param tls the TLS files, {@link TlsFiles#NONE} for plaintext
 * @param maxConversationsPerTenant the most conversations one tenant may have
 * @param httpPort the port of the HTTP/JSON API and web viewer, empty when they are off
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
    Path configFile,
    boolean authEnabled,
    TenantTokens tokens,
    TlsFiles tls,
    long maxConversationsPerTenant,
    OptionalInt httpPort) {

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
