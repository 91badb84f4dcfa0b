package io.vmpilot.conversation.server.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.vmpilot.conversation.server.threads.DaemonThreads;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The two pools of connections to the database, set up for the store: one for writes (READ COMMITTED, row locks),
 * one for reads (read-only REPEATABLE READ snapshots, set once per connection rather than per read). Both have
 * timeouts on connecting, on every statement and on every network read, and TCP keep-alive. Opening migrates the
 * schema (Flyway takes a PostgreSQL advisory lock while it migrates, so servers starting together migrate once).
 */
final class PostgresDataSource implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PostgresDataSource.class.getName());
  /** A statement's reply may take its statement timeout plus this before the connection is given up as dead. */
  private static final long SOCKET_TIMEOUT_MARGIN_SECONDS = 10;
  /** How long start-up keeps trying to reach the database: six connect timeouts (30 s by default). */
  static long startupWaitMillis(PostgresSettings settings) {
    return 6 * settings.connectTimeout().toMillis();
  }

  final HikariDataSource writers;
  final HikariDataSource readers;

  private PostgresDataSource(HikariDataSource writers, HikariDataSource readers) {
    this.writers = writers;
    this.readers = readers;
  }

  static PostgresDataSource open(PostgresSettings settings) {
    HikariDataSource writers = null;
    try {
      writers = new HikariDataSource(config(settings, "postgres-writers"));
      checkEncoding(writers);
      migrate(writers, settings);
      HikariConfig readers = config(settings, "postgres-readers");
      readers.setReadOnly(true);
      readers.setTransactionIsolation("TRANSACTION_REPEATABLE_READ");
      return new PostgresDataSource(writers, new HikariDataSource(readers));
    } catch (RuntimeException | SQLException e) {
      if (writers != null) {
        writers.close();
      }
      throw new IllegalStateException("cannot open the PostgreSQL database " + settings.displayUrl() + ": "
          + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    readers.close();
    writers.close();
  }

  static HikariConfig config(PostgresSettings settings, String poolName) {
    PostgresUrl url = PostgresUrl.parse(settings.url());
    HikariConfig config = new HikariConfig();
    config.setPoolName(poolName);
    config.setThreadFactory(DaemonThreads.numbered(poolName + "-pool"));
    config.setDriverClassName("org.postgresql.Driver");
    config.setJdbcUrl(url.jdbcUrl());
    Properties driver = new Properties();
    driver.putAll(url.properties());
    long statementMillis = settings.statementTimeout().toMillis();
    long connectSeconds = Math.max(1, ceilSeconds(settings.connectTimeout().toMillis()));
    driver.putIfAbsent("connectTimeout", Long.toString(connectSeconds));
    driver.putIfAbsent("loginTimeout", Long.toString(connectSeconds));
    // A database that vanishes without closing the connection (a cut network, a frozen host) would otherwise keep
    // a call waiting forever.
    driver.putIfAbsent("socketTimeout", Long.toString(ceilSeconds(statementMillis) + SOCKET_TIMEOUT_MARGIN_SECONDS));
    driver.putIfAbsent("tcpKeepAlive", "true");
    driver.putIfAbsent("ApplicationName", "vmpilot-conversation-server");
    // Statements are prepared on the server after their first use; the few this store runs stay prepared.
    driver.putIfAbsent("prepareThreshold", "1");
    // Session settings sent with the connection's start-up packet (libpq's "options"), added to any the URL has,
    // so that they hold whatever the database's defaults are. The idle-in-transaction limit ends a transaction
    // whose server froze while holding a conversation's lock. (A SET in Hikari's connectionInitSql would run in a
    // transaction that the pool rolls back, undoing it.)
    String sessionOptions = "-c statement_timeout=" + statementMillis
        + " -c idle_in_transaction_session_timeout=" + Math.max(statementMillis, 60_000);
    String urlOptions = driver.getProperty("options");
    driver.setProperty("options", urlOptions == null ? sessionOptions : urlOptions + " " + sessionOptions);
    config.setDataSourceProperties(driver);
    settings.user().or(url::user).ifPresent(config::setUsername);
    settings.password().or(url::password).ifPresent(config::setPassword);
    config.setMaximumPoolSize(settings.poolSize());
    config.setMinimumIdle(settings.poolSize());
    config.setConnectionTimeout(settings.connectTimeout().toMillis());
    config.setValidationTimeout(Math.min(settings.connectTimeout().toMillis(), 5000));
    config.setAutoCommit(false);
    config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    // At start-up, wait a while for a database that is starting too (or busy), then fail, rather than serve
    // NOT_SERVING from the first call.
    config.setInitializationFailTimeout(startupWaitMillis(settings));
    return config;
  }

  private static long ceilSeconds(long millis) {
    return (millis + 999) / 1000;
  }

  /** Messages are stored as text byte for byte only in a UTF8 database (SQL_ASCII would not check, others fail). */
  private static void checkEncoding(HikariDataSource pool) throws SQLException {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW server_encoding")) {
      rs.next();
      String encoding = rs.getString(1);
      c.rollback();
      if (!encoding.equalsIgnoreCase("UTF8")) {
        throw new IllegalStateException("the database's encoding is " + encoding + "; create it with"
            + " ENCODING 'UTF8' (messages are stored as UTF-8 text, byte for byte)");
      }
    }
  }

  private static void migrate(HikariDataSource pool, PostgresSettings settings) {
    Flyway flyway = Flyway.configure()
        .dataSource(pool)
        .locations("classpath:db/migration/postgres")
        .load();
    if (flyway.info().pending().length == 0) {
      return;
    }
    long start = System.nanoTime();
    MigrateResult result = flyway.migrate();
    LOG.info("database " + settings.displayUrl() + ": schema at version " + result.targetSchemaVersion + " after "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
  }
}
