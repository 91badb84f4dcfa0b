package io.vmpilot.conversation.server.store.postgres;

import io.vmpilot.conversation.server.store.Retention;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How the PostgreSQL backend connects and what it allows.
 *
 * @param url the database, as {@link PostgresUrl} reads it (may hold a user and, discouraged, a password)
 * @param user the user to connect as; empty for the URL's, else the driver's default (the OS user)
 * @param password the password; empty for the URL's, else none (trust or certificate authentication)
 * @param poolSize connections this server keeps open at most (each server has its own pool)
 * @param connectTimeout how long opening a connection, or waiting for a free one, may take
 * @param statementTimeout how long one statement may run (or wait for a row lock) before it is cancelled
 * @param maxHistoryBytes the largest history a conversation may hold, in UTF-8 bytes of message JSON
 * @param maxConversationsPerTenant the most conversations one tenant may have; creating one more fails
 * @param searchIndex whether messages get the search words that Search reads (the {@code search} column and its
 *     index, V7); without them Search is refused
 * @param retention when a conversation has expired, so that a write treats it as absent
 */
public record PostgresSettings(
    String url,
    Optional<String> user,
    Optional<String> password,
    int poolSize,
    Duration connectTimeout,
    Duration statementTimeout,
    long maxHistoryBytes,
    long maxConversationsPerTenant,
    boolean searchIndex,
    Retention retention) {

  /** Settings with the search index, under which no conversation expires by idleness. */
  public PostgresSettings(String url, Optional<String> user, Optional<String> password, int poolSize,
      Duration connectTimeout, Duration statementTimeout, long maxHistoryBytes, long maxConversationsPerTenant) {
    this(url, user, password, poolSize, connectTimeout, statementTimeout, maxHistoryBytes, maxConversationsPerTenant,
        true, Retention.NONE);
  }

  /** The same settings, with the search index kept or not. */
  public PostgresSettings withSearchIndex(boolean kept) {
    return new PostgresSettings(url, user, password, poolSize, connectTimeout, statementTimeout, maxHistoryBytes,
        maxConversationsPerTenant, kept, retention);
  }

  /** These settings with another retention. */
  public PostgresSettings withRetention(Retention other) {
    return new PostgresSettings(url, user, password, poolSize, connectTimeout, statementTimeout, maxHistoryBytes,
        maxConversationsPerTenant, searchIndex, other);
  }

  public PostgresSettings {
    Objects.requireNonNull(retention, "retention");
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    if (poolSize < 1 || connectTimeout.isNegative() || connectTimeout.isZero() || statementTimeout.isNegative()
        || statementTimeout.isZero() || maxHistoryBytes < 1 || maxConversationsPerTenant < 1) {
      throw new IllegalArgumentException("invalid PostgreSQL settings");
    }
    PostgresUrl.parse(url); // fails now, with the reason, rather than at the first connection
  }

  /** Settings with the defaults for a test or a single server: a pool of 10, 5 s to connect, 30 s per statement. */
  public static PostgresSettings of(String url, long maxHistoryBytes, long maxConversationsPerTenant) {
    return new PostgresSettings(url, Optional.empty(), Optional.empty(), 10, Duration.ofSeconds(5),
        Duration.ofSeconds(30), maxHistoryBytes, maxConversationsPerTenant);
  }

  /** The URL as it may be logged. */
  public String displayUrl() {
    return PostgresUrl.redacted(url);
  }

  /** Without the password, so that no log or exception message ever shows it. */
  @Override
  public String toString() {
    return "PostgresSettings[url=" + displayUrl() + ", user=" + user.orElse("(from url)") + ", password="
        + (password.isPresent() ? "***" : "(none)") + ", poolSize=" + poolSize + ", connectTimeout="
        + connectTimeout + ", statementTimeout=" + statementTimeout + ", maxHistoryBytes=" + maxHistoryBytes
        + ", maxConversationsPerTenant=" + maxConversationsPerTenant + ", searchIndex=" + searchIndex + "]";
  }
}
