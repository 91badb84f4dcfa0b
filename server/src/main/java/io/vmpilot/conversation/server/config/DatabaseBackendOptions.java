package io.vmpilot.conversation.server.config;

import io.vmpilot.conversation.server.store.postgres.PostgresSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Option;

/**
 * The choice of backend and the PostgreSQL backend's settings, mixed into {@link ServerOptions}. The password has no
 * flag, so that it never appears in a process list or a shell history: it comes from the environment variable
 * {@value #PASSWORD_VARIABLE} or from the file {@code --database-password-file} names.
 */
public final class DatabaseBackendOptions {
  public static final String PASSWORD_VARIABLE = "VMPILOT_DATABASE_PASSWORD";

  @Option(names = "--database-backend", descriptionKey = "database.backend", paramLabel = "NAME",
      description = "sqlite, memory or postgres. Default: sqlite, or memory when --database-enabled is false.")
  String backend;

  @Option(names = "--database-url", descriptionKey = "database.url", paramLabel = "URL",
      description = "PostgreSQL database, as psql takes it: postgresql://USER@HOST:PORT/DATABASE (several "
          + "HOST:PORT separated by commas; ?sslmode=verify-full etc.), or a jdbc:postgresql: URL.")
  String url;

  @Option(names = "--database-user", descriptionKey = "database.user", paramLabel = "NAME",
      description = "PostgreSQL user; overrides the URL's. Default: the URL's, else the OS user.")
  String user;

  @Option(names = "--database-password-file", descriptionKey = "database.password_file", paramLabel = "PATH",
      description = "File holding the PostgreSQL password (one line). The password can also come from the "
          + "environment variable " + PASSWORD_VARIABLE + ", which wins. Never logged.")
  String passwordFile;

  @Option(names = "--database-pool-size", descriptionKey = "database.pool_size", defaultValue = "10",
      paramLabel = "N", description = "PostgreSQL connections this server opens at most. Default: ${DEFAULT-VALUE}.")
  int poolSize;

  @Option(names = "--database-connect-timeout-ms", descriptionKey = "database.connect_timeout_ms",
      defaultValue = "5000", paramLabel = "MS", description = "How long connecting to PostgreSQL, or waiting for a "
          + "free connection, may take before the call fails with UNAVAILABLE. Default: ${DEFAULT-VALUE}.")
  long connectTimeoutMillis;

  @Option(names = "--database-statement-timeout-ms", descriptionKey = "database.statement_timeout_ms",
      defaultValue = "30000", paramLabel = "MS", description = "How long one PostgreSQL statement may run (or "
          + "wait for a conversation's lock). Default: ${DEFAULT-VALUE}.")
  long statementTimeoutMillis;

  /** The backend named, else what the seed's {@code [database] enabled} means (false: memory). */
  StoreBackend backend(boolean databaseEnabled, Function<String, SettingOrigin> origins) {
    if (backend == null || backend.isBlank()) {
      return databaseEnabled ? StoreBackend.SQLITE : StoreBackend.MEMORY;
    }
    StoreBackend named = StoreBackend.parse(backend, origins.apply("--database-backend"));
    if (!databaseEnabled && named != StoreBackend.MEMORY) {
      throw new IllegalArgumentException("[database] enabled = false means the memory backend, but backend = "
          + named.configName() + ": remove one of the two");
    }
    return named;
  }

  /** The PostgreSQL settings; {@code origins} names where an option's value came from, for the messages. */
  PostgresSettings postgres(Map<String, String> environment, long maxHistoryBytes, long maxConversationsPerTenant,
      Function<String, SettingOrigin> origins) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("backend = postgres needs --database-url ([database] url), e.g. "
          + "postgresql://conversations@db.example.com:5432/conversations");
    }
    if (poolSize < 1) {
      throw new IllegalArgumentException(origins.apply("--database-pool-size")
          .describe(" must be positive, not " + poolSize));
    }
    if (connectTimeoutMillis < 250) {
      throw new IllegalArgumentException(origins.apply("--database-connect-timeout-ms")
          .describe(" must be at least 250, not " + connectTimeoutMillis));
    }
    if (statementTimeoutMillis < 1) {
      throw new IllegalArgumentException(origins.apply("--database-statement-timeout-ms")
          .describe(" must be positive, not " + statementTimeoutMillis));
    }
    return new PostgresSettings(url.strip(), blank(user) ? Optional.empty() : Optional.of(user.strip()),
        password(environment), poolSize, Duration.ofMillis(connectTimeoutMillis),
        Duration.ofMillis(statementTimeoutMillis), maxHistoryBytes, maxConversationsPerTenant);
  }

  private Optional<String> password(Map<String, String> environment) {
    String fromEnvironment = environment.get(PASSWORD_VARIABLE);
    if (fromEnvironment != null) {
      return Optional.of(fromEnvironment);
    }
    if (blank(passwordFile)) {
      return Optional.empty();
    }
    Path file = ServerOptions.expandHome(passwordFile.strip());
    try {
      String content = Files.readString(file, StandardCharsets.UTF_8);
      // One line; the line break an editor or `echo` adds is not part of the password.
      return Optional.of(content.endsWith("\r\n") ? content.substring(0, content.length() - 2)
          : content.endsWith("\n") ? content.substring(0, content.length() - 1) : content);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the database password file " + file + ": " + e.getMessage());
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
