package io.vmpilot.conversation.server.config;

import io.vmpilot.conversation.server.auth.TenantTokens;
import io.vmpilot.conversation.server.grpc.ConnectionLimits;
import io.vmpilot.conversation.server.grpc.RequestLimits;
import io.vmpilot.conversation.server.grpc.WatchSettings;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.postgres.PostgresSettings;
import io.vmpilot.conversation.server.store.sqlite.Durability;
import io.vmpilot.conversation.server.store.sqlite.SqliteSettings;
import io.vmpilot.conversation.server.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * Every setting of the server. Each option can also be set by the environment variable and the config file
 * entry its {@code descriptionKey} names (see {@link Setting}); a flag wins over the environment, which wins
 * over the file, which wins over the default shown here.
 */
@Command(
    name = "conversation-server",
    mixinStandardHelpOptions = true,
    version = "VMPilot conversation store 0.1.0",
    sortOptions = false,
    usageHelpWidth = 110,
    description = "Serves AI agents' conversation state over gRPC (service vmpilot.conversation.v1.ConversationService).",
    footer = {
        "",
        "Each option can also be set in the config file as [section] key and in the environment as",
        "VMPILOT_SECTION_KEY, e.g. --database-path is [database] path and VMPILOT_DATABASE_PATH.",
        "Precedence: command-line flag, then environment, then config file, then the default shown."})
public final class ServerOptions {
  // Injected by picocli: tells where each value came from, for the messages about bad ones.
  @Spec
  CommandSpec spec;

  @Option(names = "--config", paramLabel = "PATH",
      description = "Config file in VMPilot's config.ini format (default: ./config.ini when it exists).")
  Path config;

  @Option(names = "--bind", descriptionKey = "server.bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
      description = "Address to listen on; 0.0.0.0 for every interface. Default: ${DEFAULT-VALUE}.")
  String bind;

  @Option(names = "--port", descriptionKey = "server.port", defaultValue = "50051", paramLabel = "PORT",
      description = "Port to listen on; 0 picks a free one (printed at start-up). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--database-enabled", descriptionKey = "database.enabled", arity = "1", defaultValue = "true",
      paramLabel = "BOOL",
      description = "true: keep conversations in the --database-backend (SQLite unless named); false: in memory only "
          + "(lost on restart). Default: ${DEFAULT-VALUE}.")
  boolean databaseEnabled;

  @Mixin
  DatabaseBackendOptions databaseBackend = new DatabaseBackendOptions();

  @Option(names = "--database-path", descriptionKey = "database.path", paramLabel = "PATH",
      defaultValue = "./data/conversations.db",
      description = "SQLite file; '~' is expanded and missing directories are created. Default: ${DEFAULT-VALUE}.")
  String databasePath;

  @Option(names = "--database-durability", descriptionKey = "database.durability", paramLabel = "LEVEL",
      defaultValue = "full",
      description = "full: an acknowledged write survives power loss; normal: it survives a server crash. "
          + "Default: ${DEFAULT-VALUE}.")
  String durability;

  @Option(names = "--database-disk-reserve-bytes", descriptionKey = "database.disk_reserve_bytes",
      defaultValue = "67108864", paramLabel = "BYTES",
      description = "SQLite: space kept in a file beside the database (<path>.reserve) and given up when a Clear "
          + "meets a full disk, so that deleting can free space; written again once there is room. While the "
          + "filesystem has no room for it, health is NOT_SERVING. 0 keeps none. Default: ${DEFAULT-VALUE} (64 MiB).")
  long diskReserveBytes;

  // The server writes a backup with its own permissions, and any caller it accepts may ask for one: confining the
  // copies keeps a caller from choosing where on the machine every tenant's conversations land.
  @Option(names = "--backup-directory", descriptionKey = "backup.directory", paramLabel = "DIR",
      description = "SQLite: the only directory (with its subdirectories) Backup may write a copy into; a target"
          + " elsewhere, also through a symbolic link, is refused (PERMISSION_DENIED, BACKUP_OUTSIDE_DIRECTORY)."
          + " Default: the database file's directory.")
  String backupDirectory;

  @Option(names = "--database-busy-timeout-ms", descriptionKey = "database.busy_timeout_ms", defaultValue = "5000",
      paramLabel = "MS", description = "How long to wait for a lock held by another process. Default: ${DEFAULT-VALUE}.")
  int busyTimeoutMillis;

  @Option(names = "--database-read-connections", descriptionKey = "database.read_connections", defaultValue = "4",
      paramLabel = "N", description = "Connections serving reads in parallel. Default: ${DEFAULT-VALUE}.")
  int readConnections;

  @Option(names = "--database-max-batch", descriptionKey = "database.max_batch", defaultValue = "256",
      paramLabel = "N", description = "Most writes committed together in one transaction. Default: ${DEFAULT-VALUE}.")
  int maxBatch;

  @Option(names = "--max-history-bytes", descriptionKey = "limits.max_history_bytes", defaultValue = "33554432",
      paramLabel = "BYTES", description = "Largest history of one conversation (UTF-8 bytes of its messages' JSON). "
          + "Default: ${DEFAULT-VALUE} (32 MiB).")
  long maxHistoryBytes;

  @Option(names = "--max-message-bytes", descriptionKey = "limits.max_message_bytes", defaultValue = "8388608",
      paramLabel = "BYTES", description = "Largest single message. Default: ${DEFAULT-VALUE} (8 MiB).")
  long maxMessageBytes;

  @Option(names = "--max-messages-per-request", descriptionKey = "limits.max_messages_per_request",
      defaultValue = "10000", paramLabel = "N",
      description = "Most messages in one Save or Append. Default: ${DEFAULT-VALUE}.")
  int maxMessagesPerRequest;

  @Option(names = "--max-json-depth", descriptionKey = "limits.max_json_depth", defaultValue = "64", paramLabel = "N",
      description = "Deepest nesting of objects and arrays in a message. Default: ${DEFAULT-VALUE}.")
  int maxJsonDepth;

  @Option(names = "--max-map-entries", descriptionKey = "limits.max_map_entries", defaultValue = "256",
      paramLabel = "N", description = "Most entries in cache_info, metadata or a filter. Default: ${DEFAULT-VALUE}.")
  int maxMapEntries;

  @Option(names = "--max-metadata-value-bytes", descriptionKey = "limits.max_metadata_value_bytes",
      defaultValue = "65536", paramLabel = "BYTES",
      description = "Largest metadata value. Default: ${DEFAULT-VALUE} (64 KiB).")
  int maxMetadataValueBytes;

  @Option(names = "--max-conversations-per-tenant", descriptionKey = "limits.max_conversations_per_tenant",
      defaultValue = "1000000", paramLabel = "N",
      description = "Most conversations one tenant may have; creating one more fails with RESOURCE_EXHAUSTED "
          + "(reason TENANT_CONVERSATION_LIMIT). Default: ${DEFAULT-VALUE}.")
  long maxConversationsPerTenant;

  @Option(names = "--max-inbound-message-bytes", descriptionKey = "server.max_inbound_message_bytes",
      defaultValue = "67108864", paramLabel = "BYTES",
      description = "Largest request gRPC accepts; bigger ones get RESOURCE_EXHAUSTED. "
          + "Default: ${DEFAULT-VALUE} (64 MiB, room for a 32 MiB history).")
  int maxInboundMessageBytes;

  @Option(names = "--max-in-flight-bytes", descriptionKey = "limits.max_in_flight_bytes", defaultValue = "0",
      paramLabel = "BYTES", description = "Bytes of large requests and responses (over 64 KiB each) the server holds "
          + "at once, all clients together; a response that does not fit waits up to 2 s, then it (or a request) "
          + "gets RESOURCE_EXHAUSTED (reason IN_FLIGHT_LIMIT). 0: a quarter of the smaller of the JVM's heap and "
          + "direct memory (-Xmx, -XX:MaxDirectMemorySize). Default: ${DEFAULT-VALUE}.")
  long maxInFlightBytes;

  @Option(names = "--memory-max-bytes", descriptionKey = "memory.max_bytes", defaultValue = "0",
      paramLabel = "BYTES", description = "Memory backend: about how much it may hold (conversations and change log,"
          + " estimated heap bytes); a write that would hold more gets RESOURCE_EXHAUSTED (reason STORAGE_FULL), while"
          + " Clear and writes that hold less still work. 0: half the JVM's heap (-Xmx). Default: ${DEFAULT-VALUE}.")
  long memoryMaxBytes;

  @Option(names = "--max-concurrent-calls-per-connection", descriptionKey = "server.max_concurrent_calls_per_connection",
      defaultValue = "128", paramLabel = "N",
      description = "Calls one connection may have open at once; more wait for one to end. Default: ${DEFAULT-VALUE}.")
  int maxConcurrentCallsPerConnection;

  @Option(names = "--flow-control-window-bytes", descriptionKey = "server.flow_control_window_bytes",
      defaultValue = "1048576", paramLabel = "BYTES",
      description = "HTTP/2 flow-control window of each call and connection: what a client may send ahead of the "
          + "server reading it. Default: ${DEFAULT-VALUE} (1 MiB).")
  int flowControlWindowBytes;

  @Option(names = "--network-threads", descriptionKey = "server.network_threads", defaultValue = "0",
      paramLabel = "N", description = "Network threads (Netty event loops) the gRPC port's connections are spread"
          + " over, one thread per connection: a connection moving large messages holds up the others on its thread."
          + " 0: 16, or twice the processors where that is more. Default: ${DEFAULT-VALUE}.")
  int networkThreads;

  @Option(names = "--max-connection-idle-seconds", descriptionKey = "server.max_connection_idle_seconds",
      defaultValue = "900", paramLabel = "S",
      description = "Close a connection (gracefully, GOAWAY) after this long without a call; 0: never. "
          + "Default: ${DEFAULT-VALUE}.")
  long maxConnectionIdleSeconds;

  @Option(names = "--max-connection-age-seconds", descriptionKey = "server.max_connection_age_seconds",
      defaultValue = "3600", paramLabel = "S",
      description = "Close a connection (gracefully, GOAWAY; clients reconnect) once it is this old; 0: never. "
          + "Default: ${DEFAULT-VALUE}.")
  long maxConnectionAgeSeconds;

  @Option(names = "--max-connection-age-grace-seconds", descriptionKey = "server.max_connection_age_grace_seconds",
      defaultValue = "60", paramLabel = "S",
      description = "How long the calls of a connection closed for its age may still take before it is cut. "
          + "Default: ${DEFAULT-VALUE}.")
  long maxConnectionAgeGraceSeconds;

  @Option(names = "--permit-keepalive-time-seconds", descriptionKey = "server.permit_keepalive_time_seconds",
      defaultValue = "30", paramLabel = "S",
      description = "Shortest interval between a client's keepalive pings; a client pinging more often is "
          + "disconnected (GOAWAY ENHANCE_YOUR_CALM). Default: ${DEFAULT-VALUE}.")
  long permitKeepAliveTimeSeconds;

  @Option(names = "--max-call-seconds", descriptionKey = "server.max_call_seconds", defaultValue = "120",
      paramLabel = "S", description = "Longest a call may take, sending its response included: calls without a "
          + "deadline get this one, later deadlines are shortened to it (DEADLINE_EXCEEDED). Bounds how long a client "
          + "that does not read its response holds it in memory. Default: ${DEFAULT-VALUE}.")
  long maxCallSeconds;

  @Option(names = "--tls-cert", descriptionKey = "server.tls_cert", paramLabel = "PEM",
      description = "Serve TLS with this certificate chain (PEM, server certificate first). Default: plaintext.")
  String tlsCert;

  @Option(names = "--tls-key", descriptionKey = "server.tls_key", paramLabel = "PEM",
      description = "The private key of --tls-cert (PEM, unencrypted PKCS#8: -----BEGIN PRIVATE KEY-----).")
  String tlsKey;

  @Option(names = "--tls-client-ca", descriptionKey = "server.tls_client_ca", paramLabel = "PEM",
      description = "Require client certificates signed by these CA certificates (mutual TLS). Needs --tls-cert. "
          + "Default: none, clients need no certificate.")
  String tlsClientCa;

  @Option(names = "--auth-enabled", descriptionKey = "auth.enabled", arity = "1", defaultValue = "false",
      paramLabel = "BOOL",
      description = "true: every call but health checks needs 'authorization: Bearer <token>' and acts for the "
          + "token's tenant; false: no authentication, one tenant ('default'). Default: ${DEFAULT-VALUE}.")
  boolean authEnabled;

  @Option(names = "--auth-tokens-file", descriptionKey = "auth.tokens_file", paramLabel = "PATH",
      description = "Tokens file: one 'TENANT sha256:HEX' line per token ('#' starts a comment). Tokens can also "
          + "come from the environment variable VMPILOT_AUTH_TOKENS='tenant=token,tenant2=token2'.")
  String authTokensFile;

  @Option(names = "--hash-token", paramLabel = "TENANT",
      description = "Read a token from standard input, print its tokens-file line 'TENANT sha256:HEX' and exit.")
  String hashTokenTenant;

  // 16, not one per client: writes of up to 64 KiB are validated on the network threads and wait for their group
  // commit without holding a thread, so the pool only runs reads and larger writes. On 2 cores, W1 with SQLite ran
  // ~25% faster with 16 threads than with 64 when every call went through the pool (docs/benchmark.md).
  @Option(names = "--executor-threads", descriptionKey = "server.executor_threads", defaultValue = "16",
      paramLabel = "N", description = "Threads running reads (writes of up to 64 KiB are handled on the network"
          + " threads, and none waits for the disk on a thread). Gets of a history over 64 KiB and larger writes run"
          + " on a second pool of a quarter as many (at least 2), so that small reads never queue behind them."
          + " Default: ${DEFAULT-VALUE}.")
  int executorThreads;

  @Option(names = "--shutdown-grace-seconds", descriptionKey = "server.shutdown_grace_seconds", defaultValue = "30",
      paramLabel = "S", description = "On SIGTERM, how long in-flight calls may take to finish. Default: ${DEFAULT-VALUE}.")
  int shutdownGraceSeconds;

  @Option(names = "--metrics-enabled", descriptionKey = "metrics.enabled", arity = "1", defaultValue = "false",
      paramLabel = "BOOL", description = "Serve Prometheus metrics at http://METRICS_BIND:METRICS_PORT/metrics. "
          + "Default: ${DEFAULT-VALUE}.")
  boolean metricsEnabled;

  // The endpoint asks for no token and shows store-wide figures (every tenant's conversations and writes), so it
  // listens on loopback unless the operator says otherwise, whatever --bind is.
  @Option(names = "--metrics-bind", descriptionKey = "metrics.bind", paramLabel = "ADDRESS",
      defaultValue = "127.0.0.1", description = "Address of the metrics endpoint. It needs no token and shows "
          + "store-wide totals of every tenant: keep it on loopback or a network only the operator's scrapers "
          + "reach. Default: ${DEFAULT-VALUE} (not --bind).")
  String metricsBind;

  @Option(names = "--metrics-port", descriptionKey = "metrics.port", defaultValue = "9464", paramLabel = "PORT",
      description = "Port of the metrics endpoint; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int metricsPort;

  @Option(names = "--http-port", descriptionKey = "http.port", paramLabel = "PORT",
      description = "Also serve the API as HTTP/JSON and the web viewer at http://BIND:PORT/ (https with TLS), with "
          + "the same bind address, TLS, authentication and limits; 0 picks a free one. Default: off.")
  Integer httpPort;

  @Option(names = "--watch-log-retention", descriptionKey = "watch.log_retention", defaultValue = "24h",
      paramLabel = "DURATION", description = "How long the change log keeps each change: a watcher away for longer"
          + " cannot resume (OUT_OF_RANGE) and must read again. A number with s, m, h or d (e.g. 90m, 7d)."
          + " Default: ${DEFAULT-VALUE}.")
  String watchLogRetention;

  @Option(names = "--watch-max-lag-events", descriptionKey = "watch.max_lag_events", defaultValue = "10000",
      paramLabel = "N", description = "A watcher that falls more than N changes behind the newest is cut off"
          + " (RESOURCE_EXHAUSTED, WATCHER_TOO_SLOW). Default: ${DEFAULT-VALUE}.")
  int watchMaxLagEvents;

  @Option(names = "--retention-max-idle", descriptionKey = "retention.max_idle", paramLabel = "DURATION",
      description = "Delete conversations not updated for this long: readers stop seeing one the moment it expires, a"
          + " background sweep deletes it (in batches, each logged to Watch as CLEARED). A number with s, m, h or d"
          + " (e.g. 30d, 12h). Default: off.")
  String retentionMaxIdle;

  // The tenants are named where their tokens are ([auth] tokens_file, VMPILOT_AUTH_TOKENS), so their own retention
  // is a list of tenant=duration pairs, like VMPILOT_AUTH_TOKENS, rather than one section per tenant.
  @Option(names = "--retention-tenant-max-idle", descriptionKey = "retention.tenant_max_idle",
      paramLabel = "TENANT=DURATION,...", description = "Tenants with their own max_idle, which wins over"
          + " --retention-max-idle for their conversations: 'alice=7d,bob=12h'; 'off' keeps a tenant's"
          + " conversations however long they stay idle ('bob=off'). Each tenant must have a token when"
          + " authentication is on, and be 'default' when it is off. Default: none.")
  String retentionTenantMaxIdle;

  // Indexing is most of what storing a message costs the SQLite writer (docs/benchmark.md), so a server whose
  // users never search can do without it.
  @Option(names = "--search-index", descriptionKey = "search.index", arity = "1", defaultValue = "true",
      paramLabel = "BOOL", description = "Keep a full-text index of message text for Search (SQLite and PostgreSQL;"
          + " the memory backend has none and scans). false: messages are stored without it and Search is refused"
          + " (FAILED_PRECONDITION, SEARCH_INDEX_OFF); turning it on again indexes the stored messages when the"
          + " server starts (progress logged). Set it alike on every server of one PostgreSQL database."
          + " Default: ${DEFAULT-VALUE}.")
  boolean searchIndex;

  /** The tenant given to {@code --hash-token}, or null when the server should run. */
  public String hashTokenTenant() {
    return hashTokenTenant;
  }

  /** Checks the values and builds the configuration, with tokens from this process's environment. */
  public ServerConfig toConfig(Path configFile) {
    return toConfig(configFile, System.getenv());
  }

  /** Checks the values and builds the configuration; {@code environment} may hold the tokens variable. */
  public ServerConfig toConfig(Path configFile, Map<String, String> environment) {
    requirePositive("--executor-threads", executorThreads);
    requirePositive("--max-inbound-message-bytes", maxInboundMessageBytes);
    requirePositive("--max-history-bytes", maxHistoryBytes);
    if (diskReserveBytes < 0) {
      throw new IllegalArgumentException("--database-disk-reserve-bytes must be 0 or more, not " + diskReserveBytes);
    }
    requirePositive("--max-message-bytes", maxMessageBytes);
    requirePositive("--max-messages-per-request", maxMessagesPerRequest);
    requirePositive("--max-json-depth", maxJsonDepth);
    requirePositive("--database-read-connections", readConnections);
    requirePositive("--database-max-batch", maxBatch);
    requirePositive("--max-conversations-per-tenant", maxConversationsPerTenant);
    requireNotNegative("--max-in-flight-bytes", maxInFlightBytes);
    requireNotNegative("--memory-max-bytes", memoryMaxBytes);
    requirePositive("--max-concurrent-calls-per-connection", maxConcurrentCallsPerConnection);
    if (flowControlWindowBytes < 65535) {
      throw new IllegalArgumentException("--flow-control-window-bytes must be at least 65535 (HTTP/2's initial window), "
          + "not " + flowControlWindowBytes);
    }
    requireNotNegative("--network-threads", networkThreads);
    requireNotNegative("--max-connection-idle-seconds", maxConnectionIdleSeconds);
    requireNotNegative("--max-connection-age-seconds", maxConnectionAgeSeconds);
    requireNotNegative("--max-connection-age-grace-seconds", maxConnectionAgeGraceSeconds);
    requireNotNegative("--permit-keepalive-time-seconds", permitKeepAliveTimeSeconds);
    requirePositive("--max-call-seconds", maxCallSeconds);
    requirePort("--port", port);
    requirePort("--metrics-port", metricsPort);
    if (httpPort != null) {
      requirePort("--http-port", httpPort);
    }
    SqliteSettings sqlite = new SqliteSettings(expandHome(databasePath), parseDurability(durability),
        busyTimeoutMillis, readConnections, maxBatch, maxHistoryBytes, maxConversationsPerTenant, diskReserveBytes)
        .withSearchIndex(searchIndex)
        .withBackupDirectory(blank(backupDirectory) ? null : expandHome(backupDirectory.strip()));
    TlsFiles tls = tlsFiles();
    TenantTokens tokens = TenantTokens.load(blank(authTokensFile) ? null : expandHome(authTokensFile.strip()),
        environment.get(TenantTokens.ENVIRONMENT_VARIABLE));
    if (authEnabled && tokens.isEmpty()) {
      throw new IllegalArgumentException("authentication is on ([auth] enabled = true) but no token is configured: "
          + "set [auth] tokens_file or " + TenantTokens.ENVIRONMENT_VARIABLE);
    }
    RequestLimits limits = new RequestLimits(maxMessagesPerRequest, maxMessageBytes, maxJsonDepth, maxMapEntries,
        maxMetadataValueBytes);
    StoreBackend backend = databaseBackend.backend(databaseEnabled, this::origin);
    PostgresSettings postgres = backend == StoreBackend.POSTGRES
        ? databaseBackend.postgres(environment, maxHistoryBytes, maxConversationsPerTenant, this::origin)
            .withSearchIndex(searchIndex) : null;
    return new ServerConfig(bind, port, backend != StoreBackend.MEMORY, sqlite, maxHistoryBytes,
        maxInboundMessageBytes, limits, executorThreads, Duration.ofSeconds(shutdownGraceSeconds), metricsEnabled,
        metricsPort, metricsBind.strip(), configFile, authEnabled, tokens, tls, maxConversationsPerTenant, backend, postgres,
        httpPort == null ? OptionalInt.empty() : OptionalInt.of(httpPort), maxInFlightBytes, memoryMaxBytes,
        new ConnectionLimits(maxConcurrentCallsPerConnection, flowControlWindowBytes,
            Duration.ofSeconds(maxConnectionIdleSeconds), Duration.ofSeconds(maxConnectionAgeSeconds),
            Duration.ofSeconds(maxConnectionAgeGraceSeconds), Duration.ofSeconds(permitKeepAliveTimeSeconds),
            Duration.ofSeconds(maxCallSeconds),
            networkThreads == 0 ? ConnectionLimits.defaultNetworkThreads() : networkThreads), watchSettings(),
        blank(retentionMaxIdle) ? Optional.empty()
            : Optional.of(parseDuration("--retention-max-idle", retentionMaxIdle)),
        tenantMaxIdle(authEnabled ? tokens.tenants() : java.util.Set.of(ThreadKey.DEFAULT_TENANT)));
  }

  /**
   * The tenants' own max_idle ({@code --retention-tenant-max-idle}): {@code tenant=duration} pairs separated by
   * commas, {@code off} for none. A tenant no call can act for ({@code known} are those that can) is refused: a
   * misspelt name would otherwise leave the tenant under the server-wide max_idle without a word.
   */
  private Map<String, Optional<Duration>> tenantMaxIdle(java.util.Set<String> known) {
    String option = "--retention-tenant-max-idle";
    Map<String, Optional<Duration>> perTenant = new java.util.TreeMap<>();
    if (blank(retentionTenantMaxIdle)) {
      return perTenant;
    }
    for (String pair : retentionTenantMaxIdle.split(",", -1)) {
      int eq = pair.indexOf('=');
      String tenant = eq < 0 ? pair.strip() : pair.substring(0, eq).strip();
      if (eq < 0 || !TenantTokens.isTenantName(tenant)) {
        throw new IllegalArgumentException(origin(option).describe(" must be tenant=duration pairs separated by"
            + " commas (e.g. alice=7d,bob=off), not '" + retentionTenantMaxIdle + "'"));
      }
      if (!known.contains(tenant)) {
        throw new IllegalArgumentException(origin(option).describe(" names the tenant '" + tenant + "', which no"
            + " call acts for (" + (authEnabled ? "tenants with a token: " + String.join(", ", known)
                : "authentication is off, so every call acts for 'default'") + ")"));
      }
      String value = pair.substring(eq + 1).strip();
      Optional<Duration> maxIdle = value.equalsIgnoreCase("off") ? Optional.empty()
          : Optional.of(parseDuration(option + " (tenant " + tenant + ")", value));
      if (perTenant.put(tenant, maxIdle) != null) {
        throw new IllegalArgumentException(origin(option).describe(" names the tenant '" + tenant + "' twice"));
      }
    }
    return perTenant;
  }

  private WatchSettings watchSettings() {
    requirePositive("--watch-max-lag-events", watchMaxLagEvents);
    return new WatchSettings(parseDuration("--watch-log-retention", watchLogRetention), watchMaxLagEvents);
  }

  /** A positive whole number followed by s, m, h or d, e.g. {@code 30s}, {@code 12h}, {@code 7d}. */
  static Duration parseDuration(String option, String text) {
    String t = text.strip();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,9})([smhd])").matcher(t);
    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
      throw new IllegalArgumentException(option + " must be a positive number followed by s, m, h or d (e.g. 24h),"
          + " not '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  private TlsFiles tlsFiles() {
    boolean cert = !blank(tlsCert);
    boolean key = !blank(tlsKey);
    boolean clientCa = !blank(tlsClientCa);
    if (cert != key) {
      throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key ([server] tls_cert and tls_key)");
    }
    if (clientCa && !cert) {
      throw new IllegalArgumentException("--tls-client-ca ([server] tls_client_ca) needs --tls-cert and --tls-key");
    }
    if (!cert) {
      return TlsFiles.NONE;
    }
    return new TlsFiles(expandHome(tlsCert.strip()), expandHome(tlsKey.strip()),
        clientCa ? expandHome(tlsClientCa.strip()) : null);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  /**
   * Where {@code option}'s value came from: the flag when given (or when the value is the default), else the
   * environment variable or the config file's line that set it.
   */
  SettingOrigin origin(String option) {
    SettingOrigin flag = SettingOrigin.flag(option);
    if (spec == null || !(spec.defaultValueProvider() instanceof SettingSource source)) {
      return flag;
    }
    OptionSpec optionSpec = spec.findOption(option);
    ParseResult parsed = spec.commandLine().getParseResult();
    if (optionSpec == null || (parsed != null && parsed.hasMatchedOption(optionSpec))) {
      return flag;
    }
    return source.origin(optionSpec).orElse(flag);
  }

  private void requirePositive(String option, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(origin(option).describe(" must be positive, not " + value));
    }
  }

  private static void requireNotNegative(String option, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(option + " must not be negative, not " + value);
    }
  }

  private void requirePort(String option, int value) {
    if (value < 0 || value > 65535) {
      throw new IllegalArgumentException(origin(option).describe(" must be between 0 and 65535, not " + value));
    }
  }

  private Durability parseDurability(String value) {
    try {
      return Durability.valueOf(value.strip().toUpperCase());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(origin("--database-durability")
          .describe(" must be 'full' or 'normal', not '" + value + "'"));
    }
  }

  static Path expandHome(String path) {
    if (path.equals("~") || path.startsWith("~/")) {
      return Path.of(System.getProperty("user.home") + path.substring(1));
    }
    return Path.of(path);
  }
}
