package io.vmpilot.conversation.server.config;

import io.vmpilot.conversation.server.auth.TenantTokens;
import io.vmpilot.conversation.server.grpc.ConnectionLimits;
import io.vmpilot.conversation.server.grpc.RequestLimits;
import io.vmpilot.conversation.server.grpc.WatchSettings;
import io.vmpilot.conversation.server.store.Retention;
import io.vmpilot.conversation.server.store.postgres.PostgresSettings;
import io.vmpilot.conversation.server.store.sqlite.Durability;
import io.vmpilot.conversation.server.store.sqlite.SqliteSettings;
import io.vmpilot.conversation.server.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The server's whole configuration, resolved from flags, environment and config file.
 *
 * @param databaseEnabled false for the in-memory backend (VMPilot's {@code [database] enabled}), true for the others
 * @param authEnabled whether calls need a bearer token (else every call acts for the tenant "default")
 * @param tokens the known tokens (hashed) and their tenants
 * @param tls the TLS files, {@link TlsFiles#NONE} for plaintext
 * @param maxConversationsPerTenant the most conversations one tenant may have
 * @param backend where conversations are kept
 * @param postgres the PostgreSQL backend's settings; null unless that is the backend
 * @param metricsBindAddress where the metrics endpoint listens (loopback by default: it needs no token)
 * @param httpPort the port of the HTTP/JSON API and web viewer, empty when they are off
 * @param maxInFlightBytes the budget of bytes of large requests and responses in flight; 0 for the default derived
 *     from the JVM's memory ({@link io.vmpilot.conversation.server.grpc.InFlightBudget#forThisJvm()})
 * @param memoryMaxBytes the memory backend's budget for what it holds ({@code [memory] max_bytes}); 0 for the
 *     default, half the heap
 * @param connections what one client connection may hold
 * @param watch the change log's retention and how far a watcher may fall behind ({@code [watch]})
 * @param retentionMaxIdle how long a conversation may go without an update before it expires ({@code [retention]
 *     max_idle}); empty when conversations never expire
 * @param retentionTenantMaxIdle tenants with their own max_idle ({@code [retention] tenant_max_idle}), winning over
 *     {@code retentionMaxIdle}; empty for a tenant whose conversations never expire by idleness
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
    String metricsBindAddress,
    Path configFile,
    boolean authEnabled,
    TenantTokens tokens,
    TlsFiles tls,
    long maxConversationsPerTenant,
    StoreBackend backend,
    PostgresSettings postgres,
    OptionalInt httpPort,
    long maxInFlightBytes,
    long memoryMaxBytes,
    ConnectionLimits connections,
    WatchSettings watch,
    Optional<Duration> retentionMaxIdle,
    Map<String, Optional<Duration>> retentionTenantMaxIdle) {

  public ServerConfig {
    retentionTenantMaxIdle = Map.copyOf(retentionTenantMaxIdle);
  }

  /** When conversations expire by idleness, each tenant by its own max_idle or else the server-wide one. */
  public Retention retention() {
    return new Retention(retentionMaxIdle, retentionTenantMaxIdle);
  }

  public String backendName() {
    return backend.configName();
  }

  public Path databasePath() {
    return sqlite.path();
  }

  public Durability durability() {
    return sqlite.durability();
  }
}
